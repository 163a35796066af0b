/*
 * sw-a64: system-register accessors, the entry-state report, the identity
 * map and the exception report.
 */
#include "setway.h"

#define DAIF_ALL   0x3c0ul
#define SCTLR_EE   (1ul << 25)

const char sw_isa[] = "a64";
const ulong sw_psci_cpu_on = PSCI_CPU_ON_64;

/* Written by a64.S at entry. */
struct a64_entry_state {
    ulong x0, x1, x2, x3;
    ulong current_el, spsel, daif, sctlr;
} sw_entry_state;

ulong sw_entry_report(void)
{
    const struct a64_entry_state *e = &sw_entry_state;
    ulong el = (e->current_el >> 2) & 3;
    con_line("start el=%u mode=el%u%s isa=%s", el, el, e->spsel & 1 ? "h" : "t", sw_isa);
    if (el != 1 || !(e->spsel & 1) || e->daif != DAIF_ALL) {
        con_fail("entry: CurrentEL=%x SPSel=%x DAIF=%x (want EL1h, D, A, I, F masked)", e->current_el, e->spsel,
                 e->daif);
    }
    if (e->sctlr & (SW_SCTLR_M | SW_SCTLR_C | SCTLR_EE)) {
        con_fail("entry: sctlr_el1=%8x (want MMU and D-cache off, little-endian)", e->sctlr);
    }
    if (e->x1 || e->x2 || e->x3) {
        con_fail("entry: x1=%x x2=%x x3=%x (want 0)", e->x1, e->x2, e->x3);
    }
    return e->x0;
}

ulong sw_read_clidr(void)
{
    ulong v;
    __asm__ volatile("mrs %0, CLIDR_EL1" : "=r"(v));
    return v;
}

/* ID_AA64MMFR2_EL1.CCIDX, bits 23:20 (DDI 0487 D19.2). */
ulong sw_read_ccidx(void)
{
    ulong v;
    __asm__ volatile("mrs %0, ID_AA64MMFR2_EL1" : "=r"(v));
    return (v >> 20) & 0xf ? 1 : 0;
}

void sw_read_ccsidr(unsigned level, ulong ccidx, ulong *sets, ulong *ways)
{
    ulong ccsidr;
    __asm__ volatile("msr CSSELR_EL1, %0\n\tisb" ::"r"((ulong)level << 1));
    __asm__ volatile("mrs %0, CCSIDR_EL1" : "=r"(ccsidr));
    if (ccidx) {
        *ways = ((ccsidr >> 3) & 0x1fffff) + 1;
        *sets = ((ccsidr >> 32) & 0xffffff) + 1;
    } else {
        *ways = ((ccsidr >> 3) & 0x3ff) + 1;
        *sets = ((ccsidr >> 13) & 0x7fff) + 1;
    }
    __asm__ volatile("msr CSSELR_EL1, xzr\n\tisb");
}

ulong sw_read_sctlr(void)
{
    ulong v;
    __asm__ volatile("mrs %0, SCTLR_EL1" : "=r"(v));
    return v;
}

ulong sw_mpidr_affinity(void)
{
    ulong v;
    __asm__ volatile("mrs %0, MPIDR_EL1" : "=r"(v));
    return v & 0xff00fffffful;
}

uint64_t sw_counter(void)
{
    uint64_t v;
    __asm__ volatile("isb\n\tmrs %0, CNTVCT_EL0" : "=r"(v));
    return v;
}

uint32_t sw_counter_freq(void)
{
    uint64_t v;
    __asm__ volatile("mrs %0, CNTFRQ_EL0" : "=r"(v));
    return (uint32_t)v;
}

void sw_dsb(void)
{
    __asm__ volatile("dsb sy" ::: "memory");
}

/*
 * Level-1 table of the 4 KiB granule with T0SZ = 32 (DDI 0487 D8.2): four
 * 1 GiB block descriptors mapping 4 GiB identically.
 *   [0, 1 GiB) (the devices): AttrIndx 1 (Device-nGnRE), PXN and UXN;
 *   [1 GiB, 4 GiB) (RAM from 0x40000000): AttrIndx 0 (Normal write-back),
 *     Inner Shareable.
 * AF set, AP[2:1] = 00 (EL1 read/write), nG clear.
 */
#define DESC_BLOCK    0x1ul
#define DESC_ATTR(i)  ((ulong)(i) << 2)
#define DESC_SH_INNER (3ul << 8)
#define DESC_AF       (1ul << 10)
#define DESC_PXN      (1ul << 53)
#define DESC_UXN      (1ul << 54)

ulong sw_build_tables(uint8_t *buf, ulong size)
{
    const ulong granule = 4096;
    ulong t = ((ulong)buf + granule - 1) & ~(granule - 1);
    if (t + granule > (ulong)buf + size) {
        return 0;
    }
    volatile uint64_t *l1 = (volatile uint64_t *)t;
    for (ulong i = 0; i < granule / 8; i++) {
        l1[i] = 0;
    }
    for (ulong i = 0; i < 4; i++) {
        ulong pa = i << 30;
        l1[i] = pa < SW_RAM_BASE ? pa | DESC_BLOCK | DESC_ATTR(1) | DESC_AF | DESC_PXN | DESC_UXN
                                 : pa | DESC_BLOCK | DESC_ATTR(0) | DESC_SH_INNER | DESC_AF;
    }
    sw_dsb();
    return t;
}

void sw_exception(ulong slot, ulong esr, ulong elr, ulong far, ulong spsr) __attribute__((noreturn));
void sw_exception(ulong slot, ulong esr, ulong elr, ulong far, ulong spsr)
{
    con_fail("unexpected exception vector=%x esr=%8x elr=%x far=%x spsr=%x sctlr=%8x", slot * 0x80, esr, elr, far,
             spsr, sw_read_sctlr());
    sw_halt();
}
