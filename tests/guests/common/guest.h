/*
 * The test guests' shared interface: what common/ provides to the ISA code
 * (aarch32/, aarch64/) and what each ISA provides to common/.
 *
 * Everything is hidden: with -fpie, a hidden symbol is reached PC-relatively
 * and never through a GOT, so the image runs wherever it is loaded (the
 * build links it twice at different addresses and refuses it unless both
 * binaries are identical).
 */
#ifndef GUEST_H
#define GUEST_H

#pragma GCC visibility push(hidden)

#include <stdarg.h>
#include <stdint.h>

#include "layout.h"

#ifndef GUEST_NAME
#error "GUEST_NAME must name the guest (a32-arm, a32-thumb, a64)"
#endif

typedef unsigned long ulong; /* register width: 32 or 64 bits */

/* PSCI 1.1 function IDs (DEN0022, table 5) and return codes (table 6). */
#define PSCI_VERSION        0x84000000ul
#define PSCI_CPU_OFF        0x84000002ul
#define PSCI_CPU_ON_32      0x84000003ul
#define PSCI_CPU_ON_64      0xc4000003ul
#define PSCI_SYSTEM_OFF     0x84000008ul
#define PSCI_SYSTEM_RESET   0x84000009ul
#define PSCI_BAD_FUNCTION   0x8400fffful /* in the PSCI range, never assigned */
#define PSCI_SUCCESS        0
#define PSCI_NOT_SUPPORTED  (-1)
#define PSCI_INVALID_PARAMS (-2)

/* ---- console.c: the PL011 at GUEST_UART_BASE ---- */

/*
 * Prints one line "GUEST <name>: <fmt>\r\n". Formats: %s (const char *),
 * %x (ulong, "0x" and lower-case hex, as few digits as needed), %8x (at
 * least 8 digits), %u (ulong, decimal). Every integer argument is a ulong.
 */
void con_line(const char *fmt, ...);
/* A failed check: "GUEST <name>: FAIL <fmt>", counted. */
void con_fail(const char *fmt, ...);
extern unsigned g_failures;
/* The next received byte (FR.RXFE clear: read DR), or -1 if none is waiting. */
int con_getc(void);
/*
 * Sets LCR_H.FEN, the receive FIFO (32 bytes on setwise's vPL011, 16 on
 * QEMU's PL011). Without it the receive side holds one byte, and a byte
 * that arrives before the previous one is read is lost (setwise drops it):
 * a vCPU thread descheduled for a few tens of ms on a busy host is enough.
 */
void con_rx_fifo_on(void);

/* ---- fdt.c: just enough of the flattened device tree (DTSpec 0.3 ch. 5) ---- */

#define FDT_MAGIC 0xd00dfeedu
#define FDT_MAX_CPUS 8

struct fdt_cpus {
    unsigned count;               /* nodes "cpu" / "cpu@..." directly under /cpus */
    unsigned with_reg;            /* how many of the first FDT_MAX_CPUS had a reg */
    ulong reg[FDT_MAX_CPUS];      /* low 32 bits of reg: the MPIDR affinity */
    uint8_t has_reg[FDT_MAX_CPUS];
};

/* The big-endian magic at dtb + 0. */
uint32_t fdt_magic(ulong dtb);
/* Walks the structure block; 0 on success, < 0 if the blob is malformed. */
int fdt_find_cpus(ulong dtb, struct fdt_cpus *out);
/* The header's totalsize, or 0 if the magic is wrong. */
uint32_t fdt_total_size(ulong dtb);
/* /chosen's "bootargs" property (not NUL-terminated for certain): 1 and
   *args, *len set if found; 0 if not there; < 0 if the blob is malformed. */
int fdt_chosen_bootargs(ulong dtb, const volatile uint8_t **args, uint32_t *len);
/* The first bank of the first /memory node's "reg" (two address and two
   size cells): 1 and *base, *size set if found; 0 if not; < 0 if malformed. */
int fdt_memory(ulong dtb, uint64_t *base, uint64_t *size);
/* Whether `word` is one of the blank-separated words of args[0..len)
   (only the first BOOTARGS_MAX bytes are looked at). */
#define BOOTARGS_MAX 1024u
int bootargs_has_word(const volatile uint8_t *args, uint32_t len, const char *word);

/* ---- guest.c: the test sequence ---- */

/* What the abort handler saw (written by arch_exception). */
struct abort_record {
    volatile uint32_t armed;      /* the probe is running: a data abort is expected */
    volatile uint32_t count;
    volatile uint32_t external;   /* the syndrome says synchronous external abort */
    volatile ulong far;
    volatile ulong syndrome;      /* DFSR or ESR_EL1 */
    volatile ulong pc;            /* the faulting instruction */
    volatile ulong stale_spsr;    /* AArch32: the SPSR_abt read when it did not hold the
                                     interrupted mode (QEMU 7.2, see README), else 0 */
};
extern struct abort_record g_abort;

/* What the secondary vCPU wrote before setting `online` (flag last). */
struct secondary_record {
    volatile ulong mpidr;
    volatile ulong context;
    volatile ulong state;         /* CPSR, or CurrentEL | SPSel | DAIF */
    volatile ulong sctlr;
    volatile uint32_t online;
};
extern struct secondary_record g_secondary;

/* Entered from head.S, on the vCPU's own stack, vectors installed. */
void guest_main(void) __attribute__((noreturn));
void secondary_main(ulong context, ulong state, ulong sctlr) __attribute__((noreturn));
/* SYSTEM_OFF; if that returns, says so and waits forever. */
void guest_halt(void) __attribute__((noreturn));

/* ---- aarch32/, aarch64/: the ISA ---- */

extern const char arch_isa[];            /* "arm", "thumb", "a64" */
extern const char arch_syndrome_name[];  /* "dfsr", "esr" */
extern const ulong arch_psci_cpu_on;     /* the SMC32 or SMC64 CPU_ON ID */
/* Prints the "start" line and any entry-state FAIL; returns the DTB address. */
ulong arch_entry_report(void);
/* Whether the state secondary_main recorded is what PSCI CPU_ON promises. */
int arch_secondary_state_ok(ulong state, ulong sctlr);
ulong arch_mpidr_affinity(void);         /* MPIDR with the non-affinity bits cleared */
uint64_t arch_counter(void);             /* CNTVCT */
uint32_t arch_counter_freq(void);        /* CNTFRQ */
void arch_barrier(void);                 /* DSB SY */
void arch_vtimer(uint32_t ticks);        /* ticks != 0: fire in `ticks`; 0: disable */
/* Cleans the data cache line holding addr to the point of coherency, then DSB. */
void arch_clean_dcache_line(ulong addr);
/* This image's size as its boot header gives it (zImage end word, Image
   image_size): the whole file, stacks included. */
ulong arch_image_size(void);

/* head.S */
long arch_psci(ulong fn, ulong a1, ulong a2, ulong a3);
/* Loads the word at addr into the return register, preset to `sentinel`:
   returns `sentinel` if the load aborted and the handler skipped it. */
uint32_t arch_probe_load(ulong addr, uint32_t sentinel);
void arch_wfi(void);
ulong arch_secondary_entry(void);        /* CPU_ON entry point (bit 0 = Thumb) */
ulong arch_image_start(void);            /* run-time address of the image's first byte */

#endif
