/*
 * irq-a32: CP15 accessors (counters, virtual and physical timers, GICv3
 * CPU interface, CPSR.I, TPIDRPRW), the entry-state report and the exception report.
 */
#include "irq.h"

#define CPSR_MODE(x) ((x) & 0x1fu)
#define CPSR_AIF     0x1c0u
#define MODE_SVC     0x13u
#define SCTLR_M      (1u << 0)
#define SCTLR_C      (1u << 2)

const char irq_isa[] = "arm";
const ulong irq_psci_cpu_on = PSCI_CPU_ON_32;

/* Written by a32.S at entry (stm r12, {r0-r4}). */
struct a32_entry_state {
    uint32_t r0, r1, r2, cpsr, sctlr;
} irq_entry_state;

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

ulong irq_entry_report(void)
{
    const struct a32_entry_state *e = &irq_entry_state;
    uint32_t mode = CPSR_MODE(e->cpsr);
    ulong el = mode == 0x10 ? 0 : mode == 0x1a ? 2 : mode == 0x16 ? 3 : 1;
    con_line("start el=%u mode=%s isa=%s", el, mode_name(mode), irq_isa);
    if (mode != MODE_SVC || (e->cpsr & CPSR_AIF) != CPSR_AIF) {
        con_fail("entry: cpsr=%8x (want SVC mode, A, I, F masked)", (ulong)e->cpsr);
    }
    if (e->r0 != 0 || e->r1 != 0xffffffffu) {
        con_fail("entry: r0=%8x r1=%8x (want 0, ~0)", (ulong)e->r0, (ulong)e->r1);
    }
    if (e->sctlr & (SCTLR_M | SCTLR_C)) {
        con_fail("entry: sctlr=%8x (want MMU and D-cache off)", (ulong)e->sctlr);
    }
    return e->r2;
}

int irq_secondary_state_ok(ulong state, ulong sctlr)
{
    return CPSR_MODE(state) == MODE_SVC && (state & CPSR_AIF) == CPSR_AIF && !(state & (1u << 5)) &&
           !(sctlr & SCTLR_M);
}

ulong irq_mpidr_affinity(void)
{
    uint32_t v;
    __asm__ volatile("mrc p15, 0, %0, c0, c0, 5" : "=r"(v));
    return v & 0x00ffffffu;
}

ulong irq_cpu(void)
{
    uint32_t v;
    __asm__ volatile("mrc p15, 0, %0, c13, c0, 4" : "=r"(v)); /* TPIDRPRW */
    return v & (IRQ_MAX_CPUS - 1);
}

uint64_t irq_counter(void)
{
    uint64_t v;
    __asm__ volatile("isb\n\tmrrc p15, 1, %Q0, %R0, c14" : "=r"(v)::"memory"); /* CNTVCT */
    return v;
}

uint32_t irq_counter_freq(void)
{
    uint32_t v;
    __asm__ volatile("mrc p15, 0, %0, c14, c0, 0" : "=r"(v)); /* CNTFRQ */
    return v;
}

void irq_dsb(void)
{
    __asm__ volatile("dsb" ::: "memory");
}

void irq_enable(void)
{
    __asm__ volatile("cpsie i\n\tisb" ::: "memory");
}

void irq_disable(void)
{
    __asm__ volatile("cpsid i\n\tisb" ::: "memory");
}

void irq_vtimer_set_cval(uint64_t cval)
{
    __asm__ volatile("mcrr p15, 3, %Q0, %R0, c14\n\tisb" ::"r"(cval) : "memory"); /* CNTV_CVAL */
}

void irq_vtimer_arm(uint64_t cval)
{
    __asm__ volatile("mcrr p15, 3, %Q0, %R0, c14\n\t" /* CNTV_CVAL */
                     "mcr p15, 0, %1, c14, c3, 1\n\t" /* CNTV_CTL = ENABLE */
                     "isb" ::"r"(cval),
                     "r"(1u)
                     : "memory");
}

void irq_vtimer_off(void)
{
    __asm__ volatile("mcr p15, 0, %0, c14, c3, 1\n\tisb" ::"r"(0u) : "memory");
}

ulong irq_vtimer_ctl(void)
{
    uint32_t v;
    __asm__ volatile("mrc p15, 0, %0, c14, c3, 1" : "=r"(v));
    return v;
}

/* The PL1 physical timer (ptimer mode) and its counter. */
uint64_t irq_pcounter(void)
{
    uint64_t v;
    __asm__ volatile("isb\n\tmrrc p15, 0, %Q0, %R0, c14" : "=r"(v)::"memory"); /* CNTPCT */
    return v;
}

void irq_ptimer_set_ctl(ulong ctl)
{
    __asm__ volatile("mcr p15, 0, %0, c14, c2, 1\n\tisb" ::"r"(ctl) : "memory"); /* CNTP_CTL */
}

ulong irq_ptimer_ctl(void)
{
    uint32_t v;
    __asm__ volatile("isb\n\tmrc p15, 0, %0, c14, c2, 1" : "=r"(v)::"memory"); /* CNTP_CTL */
    return v;
}

void irq_ptimer_set_cval(uint64_t cval)
{
    __asm__ volatile("mcrr p15, 2, %Q0, %R0, c14\n\tisb" ::"r"(cval) : "memory"); /* CNTP_CVAL */
}

uint64_t irq_ptimer_cval(void)
{
    uint64_t v;
    __asm__ volatile("isb\n\tmrrc p15, 2, %Q0, %R0, c14" : "=r"(v)::"memory"); /* CNTP_CVAL */
    return v;
}

void irq_ptimer_set_tval(int32_t tval)
{
    __asm__ volatile("isb\n\tmcr p15, 0, %0, c14, c2, 0\n\tisb" ::"r"(tval) : "memory"); /* CNTP_TVAL */
}

int32_t irq_ptimer_tval(void)
{
    int32_t v;
    __asm__ volatile("isb\n\tmrc p15, 0, %0, c14, c2, 0" : "=r"(v)::"memory"); /* CNTP_TVAL */
    return v;
}

/* GICv3 CPU interface, AArch32 encodings (DDI 0487, ICC_* registers). */
void irq_icc_init(void)
{
    uint32_t sre;
    __asm__ volatile("mrc p15, 0, %0, c12, c12, 5" : "=r"(sre));                            /* ICC_SRE */
    __asm__ volatile("mcr p15, 0, %0, c12, c12, 5\n\tisb" ::"r"(sre | 1u) : "memory");    /* ICC_SRE */
    __asm__ volatile("mcr p15, 0, %0, c4, c6, 0" ::"r"(0xffu) : "memory");                /* ICC_PMR */
    __asm__ volatile("mcr p15, 0, %0, c12, c12, 7\n\tisb" ::"r"(1u) : "memory");          /* ICC_IGRPEN1 */
}

ulong irq_icc_sre(void)
{
    uint32_t v;
    __asm__ volatile("mrc p15, 0, %0, c12, c12, 5" : "=r"(v));
    return v;
}

uint32_t irq_icc_iar1(void)
{
    uint32_t v;
    __asm__ volatile("mrc p15, 0, %0, c12, c12, 0" : "=r"(v)::"memory"); /* ICC_IAR1 */
    return v;
}

void irq_icc_eoir1(uint32_t v)
{
    __asm__ volatile("mcr p15, 0, %0, c12, c12, 1\n\tisb" ::"r"(v) : "memory"); /* ICC_EOIR1 */
}

void irq_icc_sgi1r(uint64_t v)
{
    __asm__ volatile("dsb\n\tmcrr p15, 0, %Q0, %R0, c12\n\tisb" ::"r"(v) : "memory"); /* ICC_SGI1R */
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

void irq_exception(uint32_t kind, uint32_t spsr, uint32_t lr) __attribute__((noreturn));
void irq_exception(uint32_t kind, uint32_t spsr, uint32_t lr)
{
    uint32_t fsr = 0, far = 0;
    if (kind == 3) {
        __asm__ volatile("mrc p15, 0, %0, c5, c0, 1" : "=r"(fsr)); /* IFSR */
        __asm__ volatile("mrc p15, 0, %0, c6, c0, 2" : "=r"(far)); /* IFAR */
    } else if (kind == 4) {
        __asm__ volatile("mrc p15, 0, %0, c5, c0, 0" : "=r"(fsr)); /* DFSR */
        __asm__ volatile("mrc p15, 0, %0, c6, c0, 0" : "=r"(far)); /* DFAR */
    }
    con_fail("unexpected exception %s lr=%8x spsr=%8x fsr=%8x far=%8x on vcpu %u", kind_name(kind), (ulong)lr,
             (ulong)spsr, (ulong)fsr, (ulong)far, irq_cpu());
    irq_halt();
}

volatile uint32_t irq_stale_spsr; /* how often irq_sync_a32 put SPSR right */

/*
 * From a32.S's undefined-instruction and abort vectors. The hostile mode
 * provokes its faults in SVC mode with A, I and F masked, so the SPSR of
 * the mode taking them must say so. An abort setwise injects arrives under
 * QEMU 7.2 with a stale SPSR (tests/guests/README.md, "QEMU 7.2 and the
 * AArch32 abort step"): counted, and the architectural value put back so
 * that the exception return is legal. On hardware this never runs.
 */
ulong irq_sync_a32(uint32_t kind, ulong pc)
{
    uint32_t fsr = 0, far = 0, spsr;
    if (kind == IRQ_FAULT_PABT) {
        __asm__ volatile("mrc p15, 0, %0, c5, c0, 1" : "=r"(fsr)); /* IFSR */
        __asm__ volatile("mrc p15, 0, %0, c6, c0, 2" : "=r"(far)); /* IFAR */
    } else if (kind == IRQ_FAULT_DABT) {
        __asm__ volatile("mrc p15, 0, %0, c5, c0, 0" : "=r"(fsr)); /* DFSR */
        __asm__ volatile("mrc p15, 0, %0, c6, c0, 0" : "=r"(far)); /* DFAR */
    }
    ulong resume = hostile_fault(kind, fsr, pc, far);
    __asm__ volatile("mrs %0, spsr" : "=r"(spsr));
    if (resume && (spsr & 0x1f) != 0x13) {
        irq_stale_spsr++;
        __asm__ volatile("msr spsr_cxsf, %0" ::"r"(0x1d3u));
    }
    return resume;
}
