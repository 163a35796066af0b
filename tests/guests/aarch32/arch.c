/*
 * AArch32 side of the test guests: entry-state checks, the exception
 * handler, CP15 accessors. Compiled A32 or T32 with the rest of the guest.
 */
#include "guest.h"

#define CPSR_MODE(x)  ((x) & 0x1fu)
#define CPSR_AIF      0x1c0u        /* A, I, F mask bits */
#define CPSR_E        0x200u        /* big-endian data */
#define CPSR_T        0x20u
#define MODE_USR      0x10u
#define MODE_SVC      0x13u
#define MODE_MON      0x16u
#define MODE_HYP      0x1au
#define SCTLR_M       0x1u
#define SCTLR_C       0x4u

#ifdef __thumb__
const char arch_isa[] = "thumb";
#else
const char arch_isa[] = "arm";
#endif
const char arch_syndrome_name[] = "dfsr";
const ulong arch_psci_cpu_on = PSCI_CPU_ON_32;

/* Written by head.S at entry (stm r12, {r0-r4}). */
struct a32_entry_state {
    uint32_t r0, r1, r2, cpsr, sctlr;
} entry_state;

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

static ulong mode_el(uint32_t mode)
{
    return mode == MODE_USR ? 0 : mode == MODE_HYP ? 2 : mode == MODE_MON ? 3 : 1;
}

ulong arch_entry_report(void)
{
    const struct a32_entry_state *e = &entry_state;
    uint32_t mode = CPSR_MODE(e->cpsr);
    con_line("start el=%u mode=%s isa=%s", mode_el(mode), mode_name(mode), arch_isa);
    if (mode != MODE_SVC) {
        con_fail("entry: cpsr=%8x is not SVC mode", (ulong)e->cpsr);
    }
    if ((e->cpsr & CPSR_AIF) != CPSR_AIF || (e->cpsr & CPSR_E)) {
        con_fail("entry: cpsr=%8x (want A, I, F masked, little-endian)", (ulong)e->cpsr);
    }
    if (e->r0 != 0 || e->r1 != 0xffffffffu) {
        con_fail("entry: r0=%8x r1=%8x (want 0, ~0)", (ulong)e->r0, (ulong)e->r1);
    }
    if (e->sctlr & (SCTLR_M | SCTLR_C)) {
        con_fail("entry: sctlr=%8x (want MMU and D-cache off)", (ulong)e->sctlr);
    }
    return e->r2;
}

int arch_secondary_state_ok(ulong cpsr, ulong sctlr)
{
    return CPSR_MODE(cpsr) == MODE_SVC && (cpsr & CPSR_AIF) == CPSR_AIF && !(cpsr & CPSR_E) &&
           !(sctlr & SCTLR_M);
}

ulong arch_mpidr_affinity(void)
{
    uint32_t v;
    __asm__ volatile("mrc p15, 0, %0, c0, c0, 5" : "=r"(v));
    return v & 0x00ffffffu;
}

uint64_t arch_counter(void)
{
    uint32_t lo, hi;
    __asm__ volatile("isb\n\tmrrc p15, 1, %0, %1, c14" : "=r"(lo), "=r"(hi)); /* CNTVCT */
    return (uint64_t)hi << 32 | lo;
}

uint32_t arch_counter_freq(void)
{
    uint32_t v;
    __asm__ volatile("mrc p15, 0, %0, c14, c0, 0" : "=r"(v)); /* CNTFRQ */
    return v;
}

void arch_barrier(void)
{
    __asm__ volatile("dsb" ::: "memory");
}

void arch_clean_dcache_line(ulong addr)
{
    __asm__ volatile("mcr p15, 0, %0, c7, c10, 1" ::"r"(addr) : "memory"); /* DCCMVAC */
    __asm__ volatile("dsb" ::: "memory");
}

ulong arch_image_size(void)
{
    /* zImage header: start at 0x28 (0: the image runs where it is), end at 0x2c. */
    const volatile uint32_t *header = (const volatile uint32_t *)arch_image_start();
    return header[0x2c / 4] - header[0x28 / 4];
}

void arch_vtimer(uint32_t ticks)
{
    if (ticks) {
        __asm__ volatile("mcr p15, 0, %0, c14, c3, 0" ::"r"(ticks)); /* CNTV_TVAL */
        __asm__ volatile("mcr p15, 0, %0, c14, c3, 1" ::"r"(1u));    /* CNTV_CTL.ENABLE */
    } else {
        __asm__ volatile("mcr p15, 0, %0, c14, c3, 1" ::"r"(0u));
    }
    __asm__ volatile("isb");
}

/* A switch, not a table of pointers: a pointer table would hold link-time
   addresses, and the image must not depend on where it is loaded. */
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

/* DFSR (ARM DDI 0406C B4.1.52): LPAE bit 9 says which format. A synchronous
   external abort is FS = 0b01000 (short) or STATUS = 0b010000 (long). */
static int dfsr_is_external(uint32_t dfsr)
{
    if (dfsr & (1u << 9)) {
        return (dfsr & 0x3f) == 0x10;
    }
    return ((dfsr >> 6 & 0x10) | (dfsr & 0xf)) == 0x08;
}

/* Instruction length at `pc` in T32: 32 bits if the first halfword's top
   five bits are 0b11101, 0b11110 or 0b11111 (DDI 0406C A6.1). */
static uint32_t t32_length(uint32_t pc)
{
    uint16_t hw = *(const volatile uint16_t *)pc;
    return (hw >> 11) >= 0x1d ? 4 : 2;
}

/*
 * Called from the vectors with the banked LR of the exception mode.
 * Data abort: LR = faulting instruction + 8 in both A32 and T32 (DDI 0406C
 * table B1-7). Returns the address to resume at.
 */
uint32_t arch_exception(uint32_t kind, uint32_t spsr, uint32_t lr);
uint32_t arch_exception(uint32_t kind, uint32_t spsr, uint32_t lr)
{
    if (kind == 4 && g_abort.armed) {
        uint32_t dfsr, dfar;
        __asm__ volatile("mrc p15, 0, %0, c5, c0, 0" : "=r"(dfsr));
        __asm__ volatile("mrc p15, 0, %0, c6, c0, 0" : "=r"(dfar));
        uint32_t pc = lr - 8;
        g_abort.syndrome = dfsr;
        g_abort.far = dfar;
        g_abort.pc = pc;
        g_abort.external = (uint32_t)dfsr_is_external(dfsr);
        g_abort.count++;
        /*
         * The probe runs in SVC mode, so SPSR_abt must say SVC. QEMU 7.2
         * does not reload the current SPSR when an exception return from
         * AArch64 EL2 changes the AArch32 mode (its aarch64_sync_64_to_32
         * leaves env->spsr alone), so under setwise on QEMU the abort
         * arrives with the SPSR of the mode it came from. Record it, and
         * put back what the architecture says SPSR_abt holds, so the
         * exception return below is legal. On hardware this never runs.
         */
        if ((spsr & 0x1f) != 0x13) {
            g_abort.stale_spsr = spsr ? spsr : 1;
            spsr = 0x1d3 | (spsr & CPSR_T);
#if defined(__thumb__)
            spsr |= CPSR_T;
#endif
            __asm__ volatile("msr spsr_cxsf, %0" ::"r"(spsr));
        }
        return pc + ((spsr & CPSR_T) ? t32_length(pc) : 4);
    }
    uint32_t fsr = 0, far = 0;
    if (kind == 3) {
        __asm__ volatile("mrc p15, 0, %0, c5, c0, 1" : "=r"(fsr)); /* IFSR */
        __asm__ volatile("mrc p15, 0, %0, c6, c0, 2" : "=r"(far)); /* IFAR */
    } else if (kind == 4) {
        __asm__ volatile("mrc p15, 0, %0, c5, c0, 0" : "=r"(fsr));
        __asm__ volatile("mrc p15, 0, %0, c6, c0, 0" : "=r"(far));
    }
    con_fail("unexpected exception %s lr=%8x spsr=%8x fsr=%8x far=%8x", kind_name(kind), (ulong)lr,
             (ulong)spsr, (ulong)fsr, (ulong)far);
    guest_halt();
}
