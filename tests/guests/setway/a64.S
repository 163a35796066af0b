/*
 * sw-a64: arm64 Image header, entry, vectors, PSCI, and everything the
 * set/way steps do in assembly: the identity map on, the set/way walks (one
 * routine each, so nothing is stored between the clean and the caches
 * going off), the counting vCPU, the function copied into the payload.
 *
 * Entry (Documentation/arch/arm64/booting.rst): EL1h, MMU off, DAIF
 * masked, x0 = DTB. Loaded at any 2 MiB boundary + text_offset (0): data is
 * reached with ADRP/ADD only.
 */
#include "layout.h"

#define SCTLR_M   (1 << 0)
#define SCTLR_C   (1 << 2)
#define SCTLR_I   (1 << 12)
#define SCTLR_WXN (1 << 19)

    .section .head, "ax"
    .globl  _start
_start:
    b       sw_entry                /* code0 */
    .long   0                       /* code1 */
    .quad   0                       /* text_offset */
    .quad   _image_size             /* image_size: file, zero tail included */
    .quad   0xa                     /* flags: LE, 4 KiB pages, anywhere in RAM */
    .quad   0, 0, 0                 /* res2..res4 */
    .ascii  "ARM\x64"               /* magic, offset 0x38 */
    .long   0                       /* res5: no PE/COFF header */

sw_entry:
    mrs     x9, CurrentEL           /* entry state, before anything changes it */
    mrs     x10, SPSel
    mrs     x11, DAIF
    mrs     x12, SCTLR_EL1
    adrp    x13, sw_entry_state
    add     x13, x13, :lo12:sw_entry_state
    stp     x0, x1, [x13]           /* struct a64_entry_state (a64.c) */
    stp     x2, x3, [x13, #16]
    stp     x9, x10, [x13, #32]
    stp     x11, x12, [x13, #48]
    msr     DAIFSet, #0xf
    msr     SPSel, #1
    adrp    x0, sw_stack
    add     x0, x0, :lo12:sw_stack
    add     sp, x0, #STACK_SIZE
    adrp    x1, sw_vectors
    add     x1, x1, :lo12:sw_vectors
    msr     VBAR_EL1, x1
    isb
    bl      sw_main
1:  wfi
    b       1b

    .text

.macro func name
    .globl  \name
    .type   \name, %function
\name:
.endm

/* long sw_psci(fn, a1, a2, a3): SMCCC HVC #0. */
func sw_psci
    hvc     #0
    ret

func sw_wfi
    dsb     sy
    wfi
    ret

/*
 * void sw_mmu_on(ulong table): a 4 KiB-granule identity map of 4 GiB
 * through TTBR0_EL1 (T0SZ = 32: the walk starts at level 1, four 1 GiB
 * blocks, see a64.c), walks non-cacheable, TTBR1 walks disabled (EPD1),
 * 32-bit output addresses (IPS 0). MAIR_EL1: Attr0 = 0xff Normal
 * write-back non-transient read/write-allocate, Attr1 = 0x04 Device-nGnRE.
 * Then SCTLR_EL1.M|C|I, with WXN clear (the code runs from writable RAM).
 */
#define TCR_T0SZ_32  32
#define TCR_EPD1     (1 << 23)
#define TCR_T1SZ_32  (32 << 16)
#define TCR_TG1_4K   (2 << 30)

func sw_mmu_on
    mov     x1, #0x04ff
    msr     MAIR_EL1, x1
    mov     x1, #(TCR_T0SZ_32 & 0xffff)
    movk    x1, #((TCR_T1SZ_32 | TCR_EPD1 | TCR_TG1_4K) >> 16), lsl #16
    msr     TCR_EL1, x1
    msr     TTBR0_EL1, x0
    isb
    tlbi    vmalle1
    ic      iallu
    dsb     sy
    isb
    mrs     x1, SCTLR_EL1
    bic     x1, x1, #SCTLR_WXN
    orr     x1, x1, #SCTLR_M
    orr     x1, x1, #SCTLR_C
    orr     x1, x1, #SCTLR_I
    msr     SCTLR_EL1, x1
    isb
    ret

/*
 * The set/way walk: ulong name(ulong ccidx, uint64_t deadline). The order
 * of Linux's v7_flush_dcache_all: levels from L1 up, sets from the highest
 * down, ways from the highest down within a set; the operand is
 * way << clz32(ways - 1) | set << log2(line bytes) | level << 1 (with one
 * way the way is 0 and its shift does not matter).
 *
 *   op   cisw or isw
 *   all  1: every level whose CLIDR Ctype has a data cache, below LoC;
 *        0: L1 only
 *   off  1: then SCTLR_EL1.M|C|I off, I-cache and TLB invalidated
 *
 * Only x0-x16 are used, no stack, no stores.
 */
.macro sw_walk name, op, all, off
func \name
    mov     x9, x1                  /* deadline */
    mov     x16, x0                 /* ccidx */
    mov     x0, #0                  /* operations issued */
    mrs     x1, CLIDR_EL1
.if \all
    ubfx    x2, x1, #24, #3         /* LoC */
.else
    mov     x2, #1
.endif
    mov     x3, #0                  /* level */
1:  cmp     x3, x2
    b.hs    9f
    add     x4, x3, x3, lsl #1
    lsr     x5, x1, x4
    and     x5, x5, #7              /* Ctype of this level */
    cmp     x5, #2
    b.lo    8f                      /* none, or instruction only */
    lsl     x6, x3, #1
    msr     CSSELR_EL1, x6          /* data/unified side of this level */
    isb
    mrs     x7, CCSIDR_EL1
    and     x8, x7, #7
    add     x8, x8, #4              /* log2(line bytes) */
    cbnz    x16, 2f
    ubfx    x10, x7, #3, #10        /* Associativity */
    ubfx    x12, x7, #13, #15       /* NumSets */
    b       3f
2:  ubfx    x10, x7, #3, #21        /* FEAT_CCIDX layout */
    ubfx    x12, x7, #32, #24
3:  clz     w11, w10
4:  mov     x13, x10                /* way */
5:  lsl     x14, x13, x11
    orr     x14, x14, x6
    lsl     x15, x12, x8
    orr     x14, x14, x15
    dc      \op, x14
    add     x0, x0, #1
    subs    x13, x13, #1
    b.ge    5b
    mrs     x15, CNTVCT_EL0
    cmp     x15, x9
    b.hs    7f                      /* now >= deadline */
    subs    x12, x12, #1
    b.ge    4b
8:  add     x3, x3, #1
    b       1b
7:  orr     x0, x0, #0x80000000     /* SW_TIMED_OUT */
9:  msr     CSSELR_EL1, xzr
    dsb     sy
    isb
.if \off
    mrs     x1, SCTLR_EL1
    bic     x1, x1, #SCTLR_M
    bic     x1, x1, #SCTLR_C
    bic     x1, x1, #SCTLR_I
    msr     SCTLR_EL1, x1           /* MMU and caches off */
    isb
    ic      iallu
    tlbi    vmalle1
    dsb     sy
    isb
.endif
    ret
.endm

    sw_walk sw_cisw_all, cisw, 1, 0
    sw_walk sw_cisw_all_off, cisw, 1, 1
    sw_walk sw_isw_l1, isw, 0, 0

/*
 * The counting vCPU (PSCI CPU_ON entry, EL1h, MMU and caches off,
 * x0 = context_id). No stack: it adds one to sw_shared.count 1000 times,
 * then (except in the native builds, where nothing would wake it) waits
 * once with WFI, which setwise traps and returns from, so the vCPU always
 * comes back to EL2 within a bounded time. When vCPU 0 sets
 * sw_shared.stop it sets sw_shared.stopped and calls CPU_OFF.
 */
func sw_counter_entry
    adrp    x1, sw_shared
    add     x1, x1, :lo12:sw_shared
    str     w0, [x1, #8]            /* context */
1:  mov     w3, #1000
2:  ldr     w2, [x1]
    add     w2, w2, #1
    str     w2, [x1]                /* count */
    subs    w3, w3, #1
    b.ne    2b
    ldr     w2, [x1, #4]            /* stop */
    cbnz    w2, 3f
#ifndef GUEST_NATIVE
    /* A trap that returns at once (PSCI_VERSION): the counting vCPU exits
       to setwise every 1000 counts, as a busy guest does, without waiting
       (a WFI would block it: nothing here raises an interrupt). */
    dsb     sy
    mov     x19, x1
    mov     w0, #0x84000000
    hvc     #0
    mov     x1, x19
#endif
    b       1b
3:  mov     w2, #1
    str     w2, [x1, #12]           /* stopped */
    dsb     sy
    mov     w0, #0x0002
    movk    w0, #0x8400, lsl #16    /* PSCI CPU_OFF */
    hvc     #0
4:  wfi
    b       4b

/* shutdown-in-batch's vCPU 1 (setway.h): x0 = context_id, unused. */
func sw_stopper_entry
    adrp    x1, sw_shared
    add     x1, x1, :lo12:sw_shared
1:  ldr     w2, [x1, #4]            /* stop: armed */
    cbz     w2, 1b
    ldr     x3, [x1, #16]           /* stop_at */
2:  mrs     x4, CNTVCT_EL0
    cmp     x4, x3
    b.lo    2b
    mov     w0, #0x0008
    movk    w0, #0x8400, lsl #16    /* PSCI SYSTEM_OFF */
    hvc     #0
3:  wfi
    b       3b

/* ulong sw_stopper_entry_addr(void) */
func sw_stopper_entry_addr
    adrp    x0, sw_stopper_entry
    add     x0, x0, :lo12:sw_stopper_entry
    ret

/* ulong sw_counter_entry_addr(void) */
func sw_counter_entry_addr
    adrp    x0, sw_counter_entry
    add     x0, x0, :lo12:sw_counter_entry
    ret

/* What the decompressor step copies into the payload and calls: position
   independent, returns SW_JUMP_MAGIC (setway.h). */
    .balign 4
func sw_jump_fn
    mov     w0, #0x5eed
    movk    w0, #0x0c0d, lsl #16
    ret
    .globl  sw_jump_fn_end
sw_jump_fn_end:

/*
 * Vectors (DDI 0487 D1.10.2): anything taken is unexpected.
 * sw_exception(slot, ESR_EL1, ELR_EL1, FAR_EL1, SPSR_EL1) does not return.
 */
    .balign 2048
sw_vectors:
    .irp    slot, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
    .balign 128
    mov     x0, #\slot
    mrs     x1, ESR_EL1
    mrs     x2, ELR_EL1
    mrs     x3, FAR_EL1
    mrs     x4, SPSR_EL1
    bl      sw_exception
    b       .
    .endr

    .section .stacks, "aw", %nobits
    .balign 16
sw_stack:
    .space  STACK_SIZE
