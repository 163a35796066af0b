/*
 * The interrupt test guests (irq-a32, irq-a64): the interface between the
 * modes (main.c) and each ISA (a32.S/a32.c, a64.S/a64.c), and the constants
 * the assembly shares. Modes, markers and what they prove:
 * tests/guests/README.md, "The interrupt guests".
 *
 * From tests/guests/common these guests use console.c (con_line, con_fail,
 * con_getc, con_rx_fifo_on), fdt.c (fdt_magic, fdt_find_cpus,
 * fdt_chosen_bootargs, bootargs_has_word), guest.h's types and PSCI IDs,
 * layout.h, guest.ld and check-image.cmake, all unchanged. Their own symbols
 * carry an irq_ prefix.
 */
#ifndef IRQ_H
#define IRQ_H

#include "layout.h"

/* vCPUs this guest drives: the first FDT_MAX_CPUS (8) nodes of /cpus. */
#define IRQ_MAX_CPUS        8
/*
 * Per-vCPU stack block, in the image's zero-filled tail. AArch64: the whole
 * block is SP_EL1 (the IRQ handler runs on it below the interrupted frame).
 * AArch32: SVC mode from the top, the IRQ (and abt/und/fiq) stack the
 * lowest IRQ_EXC_STACK bytes.
 */
#define IRQ_STACK_SHIFT     13
#define IRQ_STACK_SIZE      (1 << IRQ_STACK_SHIFT)
#define IRQ_EXC_STACK       2048

/* CPU_ON context_id: IRQ_CONTEXT_BASE | logical vCPU index (0..7). */
#define IRQ_CONTEXT_BASE    0x1e900000

#ifndef __ASSEMBLER__

#include "guest.h"

#pragma GCC visibility push(hidden)

/* ---- main.c ---- */
void irq_main(void) __attribute__((noreturn));
void irq_secondary_main(ulong context, ulong state, ulong sctlr) __attribute__((noreturn));
/* The IRQ exception, from the vector (caller-saved registers saved). */
void irq_handle(void);
/* SYSTEM_OFF; if that returns, says so and waits. */
void irq_halt(void) __attribute__((noreturn));

/* ---- a32.c / a64.c ---- */
extern const char irq_isa[];                /* "arm", "a64" */
extern const ulong irq_psci_cpu_on;         /* the SMC32 or SMC64 CPU_ON ID */
/* Prints the start line and any entry-state FAIL; returns the DTB address. */
ulong irq_entry_report(void);
/* Whether what irq_secondary_main got is the state PSCI CPU_ON promises. */
int irq_secondary_state_ok(ulong state, ulong sctlr);
ulong irq_mpidr_affinity(void);             /* MPIDR, affinity fields only */
ulong irq_cpu(void);                         /* this vCPU's logical index (TPIDR) */
uint64_t irq_counter(void);                  /* CNTVCT */
uint32_t irq_counter_freq(void);             /* CNTFRQ */
void irq_dsb(void);
void irq_enable(void);                       /* PSTATE.I / CPSR.I clear */
void irq_disable(void);                      /* PSTATE.I / CPSR.I set */
/* Virtual timer: CVAL, then CTL = ENABLE (IMASK clear). */
void irq_vtimer_arm(uint64_t cval);
void irq_vtimer_set_cval(uint64_t cval);
void irq_vtimer_off(void);                   /* CTL = 0 */
ulong irq_vtimer_ctl(void);
/* EL1 physical timer (ptimer mode), CNTP_*: CTL, CVAL, TVAL (a signed
   32-bit TimerValue), and its counter CNTPCT. */
uint64_t irq_pcounter(void);                 /* CNTPCT */
void irq_ptimer_set_ctl(ulong ctl);
ulong irq_ptimer_ctl(void);
void irq_ptimer_set_cval(uint64_t cval);
uint64_t irq_ptimer_cval(void);
void irq_ptimer_set_tval(int32_t tval);
int32_t irq_ptimer_tval(void);
/* GICv3 CPU interface, through the system registers. */
void irq_icc_init(void);                     /* SRE = 1, PMR = 0xff, IGRPEN1 = 1 */
ulong irq_icc_sre(void);
uint32_t irq_icc_iar1(void);
void irq_icc_eoir1(uint32_t v);
void irq_icc_sgi1r(uint64_t v);

/* ---- a32.S / a64.S ---- */
long irq_psci(ulong fn, ulong a1, ulong a2, ulong a3);
void irq_wfi(void);                          /* DSB, WFI */
ulong irq_secondary_entry_addr(void);        /* the CPU_ON entry point */

/*
 * Device accesses with plain register addressing (no writeback, no pair),
 * so that a hypervisor trapping them gets a valid syndrome (ISV = 1).
 */
static inline uint32_t mmio_read32(ulong addr)
{
    uint32_t v;
#ifdef __aarch64__
    __asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"(addr) : "memory");
#else
    __asm__ volatile("ldr %0, [%1]" : "=r"(v) : "r"(addr) : "memory");
#endif
    return v;
}

static inline void mmio_write32(ulong addr, uint32_t v)
{
#ifdef __aarch64__
    __asm__ volatile("str %w0, [%1]" ::"r"(v), "r"(addr) : "memory");
#else
    __asm__ volatile("str %0, [%1]" ::"r"(v), "r"(addr) : "memory");
#endif
}

/* 64-bit registers (GICR_TYPER, GICD_IROUTER): one access on AArch64, two
   word accesses (low word first) on AArch32. */
static inline uint64_t mmio_read64(ulong addr)
{
#ifdef __aarch64__
    uint64_t v;
    __asm__ volatile("ldr %0, [%1]" : "=r"(v) : "r"(addr) : "memory");
    return v;
#else
    uint32_t lo = mmio_read32(addr);
    uint32_t hi = mmio_read32(addr + 4);
    return (uint64_t)hi << 32 | lo;
#endif
}

static inline void mmio_write64(ulong addr, uint64_t v)
{
#ifdef __aarch64__
    __asm__ volatile("str %0, [%1]" ::"r"(v), "r"(addr) : "memory");
#else
    mmio_write32(addr, (uint32_t)v);
    mmio_write32(addr + 4, (uint32_t)(v >> 32));
#endif
}

#pragma GCC visibility pop

#endif /* __ASSEMBLER__ */

#endif
