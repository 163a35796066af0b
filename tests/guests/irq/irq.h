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

/* The GIC (IHI 0048B GICv2, IHI 0069 GICv3) at the guest's IPAs. */

#define GICD_BASE           ((ulong)GUEST_GICD_BASE)
#define GICC_BASE           ((ulong)GUEST_GICC_BASE)
#define GICR_BASE           0x080a0000ul
#define GICR_STRIDE         0x20000ul   /* RD_base + SGI_base frames */
#define GICR_SGI            0x10000ul   /* SGI_base, from RD_base */
#define GICR_MAX_FRAMES     64u

#define GICD_CTLR           0x000
#define GICD_IGROUPR        0x080
#define GICD_ISENABLER      0x100
#define GICD_ICENABLER      0x180
#define GICD_IPRIORITYR     0x400
#define GICD_ITARGETSR      0x800
#define GICD_ICFGR          0xc00
#define GICD_SGIR           0xf00
#define GICD_IROUTER        0x6000
#define GICD_ICPIDR2        0x0fe8      /* GICv2 */
#define GICD_PIDR2          0xffe8      /* GICv3 */
#define GICD_CTLR_GRP0      (1u << 0)   /* GICv2: Enable (Group 0) */
#define GICD_CTLR_GRP1      (1u << 1)   /* GICv3, DS = 1: EnableGrp1 */
#define GICD_CTLR_ARE       (1u << 4)   /* GICv3, DS = 1 */
#define GICD_CTLR_RWP       (1u << 31)

#define GICC_CTLR           0x00
#define GICC_PMR            0x04
#define GICC_IAR            0x0c
#define GICC_EOIR           0x10

#define GICR_TYPER          0x08
#define GICR_TYPER_LAST     (1u << 4)
#define GICR_WAKER          0x14
#define GICR_WAKER_PS       (1u << 1)   /* ProcessorSleep */
#define GICR_WAKER_CA       (1u << 2)   /* ChildrenAsleep */
#define GICR_IGROUPR0       0x080
#define GICR_ISENABLER0     0x100
#define GICR_ICENABLER0     0x180
#define GICR_IPRIORITYR     0x400
#define GICR_ICFGR1         0xc04

#define SGI_PING            1u
#define SGI_PONG            2u
#define INTID_VTIMER        27u         /* PPI 11 */
#define INTID_PTIMER        30u         /* PPI 14, ptimer mode only */
#define INTID_UART          33u         /* SPI 1 */
#define INTID_SPURIOUS_MIN  1020u
#define PRIO                0x80u
#define PRIO4               0x80808080u
/* What every vCPU enables in its banked / redistributor registers. */
#define PRIVATE_ENABLES     ((1u << SGI_PING) | (1u << SGI_PONG) | (1u << INTID_VTIMER))

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

/* ---- main.c, for hostile.c ---- */
unsigned irq_gic_version(void);              /* 2 or 3 */
unsigned irq_vcpu_count(void);               /* logical vCPUs found in the DTB */
ulong irq_vcpu_target(unsigned k);           /* logical vCPU k's MPIDR affinity */
/* The distributor (vCPU 0 only) and this vCPU's interface set up as at
   start; 1 on success. */
int irq_gic_setup(void);
/* CPU_ON of logical vCPU k, waited for and checked (FAIL lines if not). */
void irq_start_vcpu(unsigned k);
ulong irq_ms(uint64_t ticks);                /* counter ticks to ms */

/* ---- hostile.c ---- */
/* Fault kinds: the AArch32 exception numbers. */
#define IRQ_FAULT_UNDEF     1u
#define IRQ_FAULT_PABT      3u
#define IRQ_FAULT_DABT      4u
/* Where irq_exec_probe resumes after its prefetch abort (then 0). */
extern volatile ulong irq_recover;
/* A fault the hostile mode may have provoked, from the ISA's vectors: where
   to resume, or 0 if it was not expected (the vector reports it). */
ulong hostile_fault(uint32_t kind, ulong syndrome, ulong pc, ulong far);
void hostile_main(ulong dtb) __attribute__((noreturn));
void hostile_secondary(void) __attribute__((noreturn));

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

/* AArch32: faults that arrived with a stale SPSR, put right (QEMU 7.2; a32.c).
   Always 0 on AArch64. */
extern volatile uint32_t irq_stale_spsr;
/* From the ISA's vectors (a32.S / a64.S) for hostile_fault. */
ulong irq_sync_a64(ulong esr, ulong elr, ulong far);
ulong irq_sync_a32(uint32_t kind, ulong pc);

/* ---- a32.S / a64.S ---- */
long irq_psci(ulong fn, ulong a1, ulong a2, ulong a3);
long irq_smc(ulong fn, ulong a1, ulong a2, ulong a3);   /* SMCCC by SMC #0 */
long irq_hvc1(void);                         /* HVC #1: not SMCCC; returns x0 / r0 */
/* Branches to addr; returns after the prefetch abort (see irq_recover). */
void irq_exec_probe(ulong addr);
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
