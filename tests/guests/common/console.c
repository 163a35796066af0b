/*
 * Console on the PL011 (ARM DDI 0183): output polls FR.TXFF and writes DR,
 * input polls FR.RXFE and reads DR. The UART is not programmed, except
 * LCR_H.FEN by con_rx_fifo_on: setwise's vPL011 and QEMU's PL011 both
 * transmit as they come and receive whatever CR says, and a real boot
 * loader leaves the UART enabled.
 */
#include "guest.h"

#define UART_DR 0x00
#define UART_FR 0x18
#define UART_LCR_H 0x2c
#define UART_LCR_H_FEN (1u << 4)
#define UART_FR_TXFF (1u << 5)
#define UART_FR_RXFE (1u << 4)

unsigned g_failures;

static void uart_putc(char c)
{
    volatile uint32_t *fr = (volatile uint32_t *)(GUEST_UART_BASE + UART_FR);
    volatile uint32_t *dr = (volatile uint32_t *)(GUEST_UART_BASE + UART_DR);
    /* Bounded: a UART that never drains must not hang the guest silently. */
    for (unsigned i = 0; i < 1000000 && (*fr & UART_FR_TXFF); i++) {
    }
    *dr = (uint8_t)c;
}

void con_rx_fifo_on(void)
{
    volatile uint32_t *lcr_h = (volatile uint32_t *)(GUEST_UART_BASE + UART_LCR_H);
    uint32_t v = *lcr_h;
    if (!(v & UART_LCR_H_FEN)) {
        *lcr_h = v | UART_LCR_H_FEN;
    }
}

int con_getc(void)
{
    volatile uint32_t *fr = (volatile uint32_t *)(GUEST_UART_BASE + UART_FR);
    volatile uint32_t *dr = (volatile uint32_t *)(GUEST_UART_BASE + UART_DR);
    if (*fr & UART_FR_RXFE) {
        return -1;
    }
    return (int)(*dr & 0xff); /* bits 11:8 are the byte's error flags */
}

static void put_str(const char *s)
{
    for (unsigned i = 0; s[i] && i < 256; i++) {
        uart_putc(s[i]);
    }
}

static void put_hex(ulong v, unsigned min_digits)
{
    char buf[2 * sizeof(ulong)];
    unsigned n = 0;
    do {
        unsigned d = (unsigned)(v & 0xf);
        buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v >>= 4;
    } while (v && n < sizeof buf);
    while (n < min_digits && n < sizeof buf) {
        buf[n++] = '0';
    }
    put_str("0x");
    while (n) {
        uart_putc(buf[--n]);
    }
}

static void put_dec(ulong v)
{
    /* No division: ARMv7-A has no UDIV and libgcc is not linked. */
    static const ulong powers[] = {1000000000ul, 100000000ul, 10000000ul, 1000000ul, 100000ul,
                                   10000ul,      1000ul,      100ul,      10ul,      1ul};
    int started = 0;
    if (v > 0xfffffffful) {
        put_hex(v, 0);
        return;
    }
    for (unsigned i = 0; i < sizeof powers / sizeof powers[0]; i++) {
        char d = '0';
        while (v >= powers[i]) {
            v -= powers[i];
            d++;
        }
        if (d != '0' || started || powers[i] == 1) {
            uart_putc(d);
            started = 1;
        }
    }
}

static void vline(const char *prefix, const char *fmt, va_list ap)
{
    put_str("GUEST " GUEST_NAME ": ");
    put_str(prefix);
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            uart_putc(*p);
            continue;
        }
        unsigned width = 0;
        if (p[1] == '8') {
            width = 8;
            p++;
        }
        switch (*++p) {
        case 's':
            put_str(va_arg(ap, const char *));
            break;
        case 'x':
            put_hex(va_arg(ap, ulong), width);
            break;
        case 'u':
            put_dec(va_arg(ap, ulong));
            break;
        case '\0':
            p--;
            break;
        default:
            uart_putc(*p);
            break;
        }
    }
    put_str("\r\n");
}

void con_line(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline("", fmt, ap);
    va_end(ap);
}

void con_fail(const char *fmt, ...)
{
    va_list ap;
    g_failures++;
    va_start(ap, fmt);
    vline("FAIL ", fmt, ap);
    va_end(ap);
}
