/*
 * AArch64 side of the test guests: entry-state checks, the exception
 * handler, system-register accessors.
 */
#include "guest.h"

#define DAIF_ALL      0x3c0ul       /* D, A, I, F */
#define CURRENTEL_EL1 (1ul << 2)
#define SCTLR_M       0x1ul
#define SCTLR_EE      (1ul << 25)
#define ESR_EC(esr)   (((esr) >> 26) & 0x3f)
#define EC_DABT_CUR   0x25          /* data abort taken without a change of EL */
#define DFSC_SEA      0x10          /* synchronous external abort, not on a walk */
#define VEC_CUR_SPX_SYNC 4          /* VBAR_EL1 + 0x200 */

const char arch_isa[] = "a64";
const char arch_syndrome_name[] = "esr";
const ulong arch_psci_cpu_on = PSCI_CPU_ON_64;

/* Written by head.S at entry. */
struct a64_entry_state {
    ulong x0, x1, x2, x3;
    ulong current_el, spsel, daif, sctlr;
} entry_state;

ulong arch_entry_report(void)
{
    const struct a64_entry_state *e = &entry_state;
    ulong el = (e->current_el >> 2) & 3;
    con_line("start el=%u mode=el%u%s isa=%s", el, el, e->spsel & 1 ? "h" : "t", arch_isa);
    if (el != 1 || !(e->spsel & 1)) {
        con_fail("entry: CurrentEL=%x SPSel=%x (want EL1h)", e->current_el, e->spsel);
    }
    if (e->daif != DAIF_ALL) {
        con_fail("entry: daif=%x (want D, A, I, F masked)", e->daif);
    }
    if (e->sctlr & (SCTLR_M | SCTLR_EE)) {
        con_fail("entry: sctlr_el1=%8x (want MMU off, little-endian)", e->sctlr);
    }
    if (e->x1 || e->x2 || e->x3) {
        con_fail("entry: x1=%x x2=%x x3=%x (want 0)", e->x1, e->x2, e->x3);
    }
    return e->x0;
}

int arch_secondary_state_ok(ulong state, ulong sctlr)
{
    return state == (CURRENTEL_EL1 | 1 | DAIF_ALL) && !(sctlr & (SCTLR_M | SCTLR_EE));
}

ulong arch_mpidr_affinity(void)
{
    ulong v;
    __asm__ volatile("mrs %0, MPIDR_EL1" : "=r"(v));
    return v & 0xff00fffffful; /* Aff3, Aff2..Aff0 */
}

uint64_t arch_counter(void)
{
    uint64_t v;
    __asm__ volatile("isb\n\tmrs %0, CNTVCT_EL0" : "=r"(v));
    return v;
}

uint32_t arch_counter_freq(void)
{
    uint64_t v;
    __asm__ volatile("mrs %0, CNTFRQ_EL0" : "=r"(v));
    return (uint32_t)v;
}

void arch_barrier(void)
{
    __asm__ volatile("dsb sy" ::: "memory");
}

void arch_clean_dcache_line(ulong addr)
{
    __asm__ volatile("dc cvac, %0\n\tdsb sy" ::"r"(addr) : "memory");
}

ulong arch_image_size(void)
{
    /* arm64 Image header: image_size at 0x10. */
    return *(const volatile uint64_t *)(arch_image_start() + 0x10);
}

void arch_vtimer(uint32_t ticks)
{
    if (ticks) {
        __asm__ volatile("msr CNTV_TVAL_EL0, %0" ::"r"((uint64_t)ticks));
        __asm__ volatile("msr CNTV_CTL_EL0, %0" ::"r"(1ul));
    } else {
        __asm__ volatile("msr CNTV_CTL_EL0, %0" ::"r"(0ul));
    }
    __asm__ volatile("isb");
}

ulong arch_exception(ulong slot, ulong esr, ulong elr, ulong far, ulong spsr);
ulong arch_exception(ulong slot, ulong esr, ulong elr, ulong far, ulong spsr)
{
    if (slot == VEC_CUR_SPX_SYNC && ESR_EC(esr) == EC_DABT_CUR && g_abort.armed) {
        g_abort.syndrome = esr;
        g_abort.far = far;
        g_abort.pc = elr;
        g_abort.external = (esr & 0x3f) == DFSC_SEA;
        g_abort.count++;
        return elr + 4;
    }
    con_fail("unexpected exception vector=%x esr=%8x elr=%x far=%x spsr=%x", slot * 0x80, esr, elr, far, spsr);
    guest_halt();
}
