/*
 * The set/way test guests (sw-a32, sw-a64): the interface between the test
 * sequence (main.c) and each ISA (a32.S/a32.c, a64.S/a64.c). The steps and
 * their markers: tests/guests/README.md, "The set/way guests".
 *
 * From tests/guests/common these guests use only console.c (con_line,
 * con_fail), fdt.c (fdt_magic, fdt_find_cpus), guest.h's types and PSCI
 * IDs, layout.h, guest.ld and check-image.cmake, all unchanged. Their own
 * symbols carry an sw_ prefix so they never meet the other guests' names.
 */
#ifndef SETWAY_H
#define SETWAY_H

#include "guest.h"

#pragma GCC visibility push(hidden)

/* The payload the "decompressor" writes, cleans and jumps into. */
#define SW_PAGE             4096ul
#define SW_PAYLOAD_PAGES    64ul
#define SW_PAYLOAD_BYTES    (SW_PAYLOAD_PAGES * SW_PAGE)
#define SW_RAM_BASE         0x40000000ul
#define SW_JUMP_MAGIC       0x0c0d5eedul   /* what the copied function returns */

/* Step 5. */
#define SW_WINDOWS          20u      /* sampling windows of back-to-back batches */
#define SW_COUNTER_CONTEXT  0x5e7c0de2ul   /* CPU_ON context_id for the counting vCPU */

/*
 * A clean-all with more operations than this is refused (the geometry step
 * fails and the set/way steps are skipped): 30 times QEMU Cortex-A57's
 * 33,280, and more than any real cache hierarchy up to LoC has lines.
 */
#define SW_MAX_OPS          (1ul << 20)
/* Bit 31 of what a set/way walk returns: it stopped at its deadline. */
#define SW_TIMED_OUT        0x80000000ul
#define SW_OPS_MASK         0x7ffffffful

#define SW_MAX_LEVELS       7

/* SCTLR (AArch32) / SCTLR_EL1 bits the guests turn on and off. */
#define SW_SCTLR_M          (1ul << 0)
#define SW_SCTLR_C          (1ul << 2)
#define SW_SCTLR_I          (1ul << 12)

/* One data or unified cache level, as CCSIDR describes it. */
struct sw_level {
    ulong level;      /* 1-based, as printed */
    ulong sets;
    ulong ways;
};

struct sw_geometry {
    ulong clidr;
    ulong loc;
    ulong ccidx;      /* CCSIDR has the FEAT_CCIDX layout */
    unsigned count;   /* data/unified levels below LoC */
    struct sw_level lv[SW_MAX_LEVELS];
    ulong ops;        /* set/way operations of one clean-all (every level below LoC) */
    ulong l1_ops;     /* set/way operations of one L1 pass (v7_invalidate_l1) */
    int usable;       /* the set/way steps may run */
};

/*
 * The words vCPU 0 and the counting vCPU share, alone in their page: vCPU 0
 * runs with its caches on during the batches and the counting vCPU never
 * does, so no line vCPU 0 writes with its caches on may hold them (a
 * clean of that line would write a stale count back). The layout is
 * repeated in a32.S and a64.S.
 */
struct sw_shared {
    volatile uint32_t count;      /* +0: incremented by the counting vCPU */
    volatile uint32_t stop;       /* +4: set by vCPU 0 when the step is over */
    volatile uint32_t context;    /* +8: the context_id it was started with */
    volatile uint32_t stopped;    /* +12: set by the counting vCPU just before CPU_OFF */
    volatile uint64_t stop_at;    /* +16: shutdown-in-batch: CNTVCT at which vCPU 1 powers off */
    uint8_t pad[4096 - 24];
};
extern struct sw_shared sw_shared;

/* ---- main.c ---- */
void sw_main(void) __attribute__((noreturn));
void sw_halt(void) __attribute__((noreturn));

/* ---- a32.c / a64.c ---- */
extern const char sw_isa[];                 /* "arm", "a64" */
/* Prints the start line and any entry-state FAIL; returns the DTB address. */
ulong sw_entry_report(void);
ulong sw_read_clidr(void);
/* Whether CCSIDR has the FEAT_CCIDX layout (ID_MMFR4 / ID_AA64MMFR2 CCIDX). */
ulong sw_read_ccidx(void);
/* Sets and ways of cache level `level` (0 = L1), data or unified side. */
void sw_read_ccsidr(unsigned level, ulong ccidx, ulong *sets, ulong *ways);
ulong sw_read_sctlr(void);
ulong sw_mpidr_affinity(void);
uint64_t sw_counter(void);                  /* CNTVCT */
uint32_t sw_counter_freq(void);             /* CNTFRQ */
void sw_dsb(void);
/* Builds the identity map in buf (size bytes, any alignment); returns the
   table base for sw_mmu_on, or 0 if buf is too small. */
ulong sw_build_tables(uint8_t *buf, ulong size);
extern const ulong sw_psci_cpu_on;          /* the SMC32 or SMC64 CPU_ON ID */

/* ---- a32.S / a64.S ---- */
long sw_psci(ulong fn, ulong a1, ulong a2, ulong a3);
void sw_wfi(void);
/* Identity map on: table base, memory attributes, then SCTLR M|C|I. */
void sw_mmu_on(ulong table);
/*
 * The set/way walks, written the way Linux's v7_flush_dcache_all and
 * v7_invalidate_l1 are: CLIDR and CCSIDR read in the loop, one operation
 * per set and way, highest way first. Each returns how many operations it
 * issued, with SW_TIMED_OUT set if CNTVCT passed `deadline` (checked once
 * per set) and the walk stopped there. None stores to memory.
 *
 *   sw_cisw_all:      DC CISW, every data/unified level below LoC, DSB.
 *   sw_cisw_all_off:  the same, then SCTLR M|C|I off, TLB, I-cache and
 *                     branch predictor invalidated: the decompressor's exit.
 *   sw_isw_l1:        DC ISW over L1 only.
 */
ulong sw_cisw_all(ulong ccidx, uint64_t deadline);
ulong sw_cisw_all_off(ulong ccidx, uint64_t deadline);
ulong sw_isw_l1(ulong ccidx, uint64_t deadline);
/* The counting vCPU's CPU_ON entry point (assembly, no stack): it adds
   one to sw_shared.count in a loop, with a WFI every 1000 (none in the
   native builds), until sw_shared.stop; then CPU_OFF. */
ulong sw_counter_entry_addr(void);
/* shutdown-in-batch: where vCPU 1 starts; it waits for stop != 0, then for
   CNTVCT >= stop_at, then calls PSCI SYSTEM_OFF. */
ulong sw_stopper_entry_addr(void);
/* A position-independent function returning SW_JUMP_MAGIC, as words to copy. */
extern const uint32_t sw_jump_fn[];
extern const uint32_t sw_jump_fn_end[];

#endif
