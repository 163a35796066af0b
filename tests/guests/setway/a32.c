/*
 * sw-a32: CP15 accessors, the entry-state report, the section table and
 * the exception report.
 */
#include "setway.h"

#define CPSR_MODE(x) ((x) & 0x1fu)
#define CPSR_AIF     0x1c0u
#define MODE_SVC     0x13u

const char sw_isa[] = "arm";
const ulong sw_psci_cpu_on = PSCI_CPU_ON_32;

/* Written by a32.S at entry (stm r12, {r0-r4}). */
struct a32_entry_state {
    uint32_t r0, r1, r2, cpsr, sctlr;
} sw_entry_state;

static const char *mode_name(uint32_t mode)
{
    switch (mode) {
    case 0x10: return "usr";
    case 0x11: return "fiq";
    case 0x12: return "irq";
    case 0x13: return "svc";
    case 0x16: return "mon";
    case 0x17: return "abt";
    case 0x1a: return "hyp";
    case 0x1b: return "und";
    case 0x1f: return "sys";
    default: return "?";
    }
}

ulong sw_entry_report(void)
{
    const struct a32_entry_state *e = &sw_entry_state;
    uint32_t mode = CPSR_MODE(e->cpsr);
    ulong el = mode == 0x10 ? 0 : mode == 0x1a ? 2 : mode == 0x16 ? 3 : 1;
    con_line("start el=%u mode=%s isa=%s", el, mode_name(mode), sw_isa);
    if (mode != MODE_SVC || (e->cpsr & CPSR_AIF) != CPSR_AIF) {
        con_fail("entry: cpsr=%8x (want SVC mode, A, I, F masked)", (ulong)e->cpsr);
    }
    if (e->r0 != 0 || e->r1 != 0xffffffffu) {
        con_fail("entry: r0=%8x r1=%8x (want 0, ~0)", (ulong)e->r0, (ulong)e->r1);
    }
    if (e->sctlr & (SW_SCTLR_M | SW_SCTLR_C)) {
        con_fail("entry: sctlr=%8x (want MMU and D-cache off)", (ulong)e->sctlr);
    }
    return e->r2;
}

ulong sw_read_clidr(void)
{
    uint32_t v;
    __asm__ volatile("mrc p15, 1, %0, c0, c0, 1" : "=r"(v));
    return v;
}

/* ID_MMFR4.CCIDX, bits 27:24 (DDI 0487 G8.2). ARMv7 has no ID_MMFR4, but
   the encoding is in the ID space, which reads as zero there. */
ulong sw_read_ccidx(void)
{
    uint32_t v;
    __asm__ volatile("mrc p15, 0, %0, c0, c2, 6" : "=r"(v));
    return (v >> 24) & 0xf ? 1 : 0;
}

void sw_read_ccsidr(unsigned level, ulong ccidx, ulong *sets, ulong *ways)
{
    uint32_t ccsidr, ccsidr2 = 0;
    __asm__ volatile("mcr p15, 2, %0, c0, c0, 0\n\tisb" ::"r"((uint32_t)level << 1)); /* CSSELR */
    __asm__ volatile("mrc p15, 1, %0, c0, c0, 0" : "=r"(ccsidr));
    if (ccidx) {
        __asm__ volatile("mrc p15, 1, %0, c0, c0, 2" : "=r"(ccsidr2)); /* CCSIDR2 */
        *ways = ((ccsidr >> 3) & 0x1fffff) + 1;
        *sets = (ccsidr2 & 0xffffff) + 1;
    } else {
        *ways = ((ccsidr >> 3) & 0x3ff) + 1;
        *sets = ((ccsidr >> 13) & 0x7fff) + 1;
    }
    __asm__ volatile("mcr p15, 2, %0, c0, c0, 0\n\tisb" ::"r"(0u));
}

ulong sw_read_sctlr(void)
{
    uint32_t v;
    __asm__ volatile("mrc p15, 0, %0, c1, c0, 0" : "=r"(v));
    return v;
}

ulong sw_mpidr_affinity(void)
{
    uint32_t v;
    __asm__ volatile("mrc p15, 0, %0, c0, c0, 5" : "=r"(v));
    return v & 0x00ffffffu;
}

uint64_t sw_counter(void)
{
    uint32_t lo, hi;
    __asm__ volatile("isb\n\tmrrc p15, 1, %0, %1, c14" : "=r"(lo), "=r"(hi)); /* CNTVCT */
    return (uint64_t)hi << 32 | lo;
}

uint32_t sw_counter_freq(void)
{
    uint32_t v;
    __asm__ volatile("mrc p15, 0, %0, c14, c0, 0" : "=r"(v)); /* CNTFRQ */
    return v;
}

void sw_dsb(void)
{
    __asm__ volatile("dsb" ::: "memory");
}

/*
 * Short-descriptor first-level table (DDI 0406C B3.5.1), 4096 sections of
 * 1 MiB mapping the 4 GiB identically, as the decompressor's does:
 *   below 0x40000000 (the devices): Shareable Device (TEX 000, C 0, B 1),
 *     execute never;
 *   from 0x40000000 (RAM and what may follow it): Normal, inner and outer
 *     write-back write-allocate (TEX 001, C 1, B 1), Shareable.
 * AP[2:0] = 011 (read/write at any PL), domain 0, global.
 */
#define SECTION      0x2u
#define SECT_B       (1u << 2)
#define SECT_C       (1u << 3)
#define SECT_XN      (1u << 4)
#define SECT_AP_RW   (3u << 10)
#define SECT_TEX(x)  ((uint32_t)(x) << 12)
#define SECT_S       (1u << 16)
#define SECT_DEVICE  (SECTION | SECT_B | SECT_XN | SECT_AP_RW)
#define SECT_NORMAL  (SECTION | SECT_B | SECT_C | SECT_TEX(1) | SECT_AP_RW | SECT_S)

ulong sw_build_tables(uint8_t *buf, ulong size)
{
    const ulong table_size = 16u << 10;
    ulong t = ((ulong)buf + table_size - 1) & ~(table_size - 1);
    if (t + table_size > (ulong)buf + size) {
        return 0;
    }
    volatile uint32_t *l1 = (volatile uint32_t *)t;
    for (uint32_t i = 0; i < 4096; i++) {
        l1[i] = i << 20 | (i < (SW_RAM_BASE >> 20) ? SECT_DEVICE : SECT_NORMAL);
    }
    sw_dsb();
    return t;
}

static const char *kind_name(uint32_t kind)
{
    switch (kind) {
    case 0: return "reset";
    case 1: return "undefined";
    case 2: return "svc";
    case 3: return "prefetch-abort";
    case 4: return "data-abort";
    case 5: return "hyp-vector";
    case 6: return "irq";
    case 7: return "fiq";
    default: return "?";
    }
}

void sw_exception(uint32_t kind, uint32_t spsr, uint32_t lr) __attribute__((noreturn));
void sw_exception(uint32_t kind, uint32_t spsr, uint32_t lr)
{
    uint32_t fsr = 0, far = 0;
    if (kind == 3) {
        __asm__ volatile("mrc p15, 0, %0, c5, c0, 1" : "=r"(fsr)); /* IFSR */
        __asm__ volatile("mrc p15, 0, %0, c6, c0, 2" : "=r"(far)); /* IFAR */
    } else if (kind == 4) {
        __asm__ volatile("mrc p15, 0, %0, c5, c0, 0" : "=r"(fsr)); /* DFSR */
        __asm__ volatile("mrc p15, 0, %0, c6, c0, 0" : "=r"(far)); /* DFAR */
    }
    con_fail("unexpected exception %s lr=%8x spsr=%8x fsr=%8x far=%8x sctlr=%8x", kind_name(kind), (ulong)lr,
             (ulong)spsr, (ulong)fsr, (ulong)far, sw_read_sctlr());
    sw_halt();
}
