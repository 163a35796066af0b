/*
 * irq-a64: system-register accessors (counters, virtual and physical timers,
 * GICv3 CPU interface, DAIF, TPIDR), the entry-state report and the exception report.
 */
#include "irq.h"

#define DAIF_ALL      0x3c0ul
#define CURRENTEL_EL1 (1ul << 2)
#define SCTLR_M       (1ul << 0)
#define SCTLR_C       (1ul << 2)
#define SCTLR_EE      (1ul << 25)

const char irq_isa[] = "a64";
const ulong irq_psci_cpu_on = PSCI_CPU_ON_64;

/* Written by a64.S at entry. */
struct a64_entry_state {
    ulong x0, x1, x2, x3;
    ulong current_el, spsel, daif, sctlr;
} irq_entry_state;

ulong irq_entry_report(void)
{
    const struct a64_entry_state *e = &irq_entry_state;
    ulong el = (e->current_el >> 2) & 3;
    con_line("start el=%u mode=el%u%s isa=%s", el, el, e->spsel & 1 ? "h" : "t", irq_isa);
    if (el != 1 || !(e->spsel & 1) || e->daif != DAIF_ALL) {
        con_fail("entry: CurrentEL=%x SPSel=%x DAIF=%x (want EL1h, D, A, I, F masked)", e->current_el, e->spsel,
                 e->daif);
    }
    if (e->sctlr & (SCTLR_M | SCTLR_C | SCTLR_EE)) {
        con_fail("entry: sctlr_el1=%8x (want MMU and D-cache off, little-endian)", e->sctlr);
    }
    if (e->x1 || e->x2 || e->x3) {
        con_fail("entry: x1=%x x2=%x x3=%x (want 0)", e->x1, e->x2, e->x3);
    }
    return e->x0;
}

int irq_secondary_state_ok(ulong state, ulong sctlr)
{
    return state == (CURRENTEL_EL1 | 1 | DAIF_ALL) && !(sctlr & (SCTLR_M | SCTLR_EE));
}

ulong irq_mpidr_affinity(void)
{
    ulong v;
    __asm__ volatile("mrs %0, MPIDR_EL1" : "=r"(v));
    return v & 0xff00fffffful;
}

ulong irq_cpu(void)
{
    ulong v;
    __asm__ volatile("mrs %0, TPIDR_EL1" : "=r"(v));
    return v & (IRQ_MAX_CPUS - 1);
}

uint64_t irq_counter(void)
{
    uint64_t v;
    __asm__ volatile("isb\n\tmrs %0, CNTVCT_EL0" : "=r"(v)::"memory");
    return v;
}

uint32_t irq_counter_freq(void)
{
    uint64_t v;
    __asm__ volatile("mrs %0, CNTFRQ_EL0" : "=r"(v));
    return (uint32_t)v;
}

void irq_dsb(void)
{
    __asm__ volatile("dsb sy" ::: "memory");
}

void irq_enable(void)
{
    __asm__ volatile("msr DAIFClr, #2\n\tisb" ::: "memory");
}

void irq_disable(void)
{
    __asm__ volatile("msr DAIFSet, #2\n\tisb" ::: "memory");
}

void irq_vtimer_set_cval(uint64_t cval)
{
    __asm__ volatile("msr CNTV_CVAL_EL0, %0\n\tisb" ::"r"(cval) : "memory");
}

void irq_vtimer_arm(uint64_t cval)
{
    __asm__ volatile("msr CNTV_CVAL_EL0, %0\n\t"
                     "msr CNTV_CTL_EL0, %1\n\t"
                     "isb" ::"r"(cval),
                     "r"(1ul)
                     : "memory");
}

void irq_vtimer_off(void)
{
    __asm__ volatile("msr CNTV_CTL_EL0, xzr\n\tisb" ::: "memory");
}

ulong irq_vtimer_ctl(void)
{
    ulong v;
    __asm__ volatile("mrs %0, CNTV_CTL_EL0" : "=r"(v));
    return v;
}

/* The EL1 physical timer (ptimer mode) and its counter. */
uint64_t irq_pcounter(void)
{
    uint64_t v;
    __asm__ volatile("isb\n\tmrs %0, CNTPCT_EL0" : "=r"(v)::"memory");
    return v;
}

void irq_ptimer_set_ctl(ulong ctl)
{
    __asm__ volatile("msr CNTP_CTL_EL0, %0\n\tisb" ::"r"(ctl) : "memory");
}

ulong irq_ptimer_ctl(void)
{
    ulong v;
    __asm__ volatile("isb\n\tmrs %0, CNTP_CTL_EL0" : "=r"(v)::"memory");
    return v;
}

void irq_ptimer_set_cval(uint64_t cval)
{
    __asm__ volatile("msr CNTP_CVAL_EL0, %0\n\tisb" ::"r"(cval) : "memory");
}

uint64_t irq_ptimer_cval(void)
{
    uint64_t v;
    __asm__ volatile("isb\n\tmrs %0, CNTP_CVAL_EL0" : "=r"(v)::"memory");
    return v;
}

/* TVAL is TimerValue in [31:0], the rest RES0: written zero-extended, the
   timer sign-extends it. */
void irq_ptimer_set_tval(int32_t tval)
{
    __asm__ volatile("isb\n\tmsr CNTP_TVAL_EL0, %0\n\tisb" ::"r"((ulong)(uint32_t)tval) : "memory");
}

int32_t irq_ptimer_tval(void)
{
    ulong v;
    __asm__ volatile("isb\n\tmrs %0, CNTP_TVAL_EL0" : "=r"(v)::"memory");
    return (int32_t)(uint32_t)v;
}

/* The GICv3 CPU interface registers by their encodings (DDI 0487,
   ICC_*_EL1), so no assembler GIC support is needed. */
#define ICC_SRE_EL1     "S3_0_C12_C12_5"
#define ICC_PMR_EL1     "S3_0_C4_C6_0"
#define ICC_IAR1_EL1    "S3_0_C12_C12_0"
#define ICC_EOIR1_EL1   "S3_0_C12_C12_1"
#define ICC_IGRPEN1_EL1 "S3_0_C12_C12_7"
#define ICC_SGI1R_EL1   "S3_0_C12_C11_5"

void irq_icc_init(void)
{
    ulong sre;
    __asm__ volatile("mrs %0, " ICC_SRE_EL1 : "=r"(sre));
    __asm__ volatile("msr " ICC_SRE_EL1 ", %0\n\tisb" ::"r"(sre | 1) : "memory");
    __asm__ volatile("msr " ICC_PMR_EL1 ", %0" ::"r"(0xfful) : "memory");
    __asm__ volatile("msr " ICC_IGRPEN1_EL1 ", %0\n\tisb" ::"r"(1ul) : "memory");
}

ulong irq_icc_sre(void)
{
    ulong v;
    __asm__ volatile("mrs %0, " ICC_SRE_EL1 : "=r"(v));
    return v;
}

uint32_t irq_icc_iar1(void)
{
    ulong v;
    __asm__ volatile("mrs %0, " ICC_IAR1_EL1 : "=r"(v)::"memory");
    return (uint32_t)v;
}

void irq_icc_eoir1(uint32_t v)
{
    __asm__ volatile("msr " ICC_EOIR1_EL1 ", %0\n\tisb" ::"r"((ulong)v) : "memory");
}

void irq_icc_sgi1r(uint64_t v)
{
    __asm__ volatile("dsb sy\n\tmsr " ICC_SGI1R_EL1 ", %0\n\tisb" ::"r"(v) : "memory");
}

void irq_exception(ulong slot, ulong esr, ulong elr, ulong far, ulong spsr) __attribute__((noreturn));
void irq_exception(ulong slot, ulong esr, ulong elr, ulong far, ulong spsr)
{
    con_fail("unexpected exception vector=%x esr=%8x elr=%x far=%x spsr=%x on vcpu %u", slot * 0x80, esr, elr, far,
             spsr, irq_cpu());
    irq_halt();
}

volatile uint32_t irq_stale_spsr; /* AArch32 only */

/* From a64.S's synchronous vector: the kind of fault (irq.h), or 0. */
ulong irq_sync_a64(ulong esr, ulong elr, ulong far)
{
    uint32_t kind = 0;
    switch ((esr >> 26) & 0x3f) {
    case 0x00: kind = IRQ_FAULT_UNDEF; break;   /* unknown reason */
    case 0x20:                                  /* instruction abort, lower EL */
    case 0x21: kind = IRQ_FAULT_PABT; break;    /* instruction abort, same EL */
    case 0x24:                                  /* data abort, lower EL */
    case 0x25: kind = IRQ_FAULT_DABT; break;    /* data abort, same EL */
    default: return 0;
    }
    return hostile_fault(kind, esr, elr, far);
}
