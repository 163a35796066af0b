/*
 * sw-a32: zImage header, entry, vectors, PSCI, and everything the set/way
 * steps do in assembly: the identity map on, the set/way walks (one
 * routine each, so nothing is stored between the clean and the caches
 * going off), the counting vCPU, the function copied into the payload.
 *
 * A32 throughout. Entry as any zImage (Documentation/arch/arm/booting.rst):
 * SVC mode, A/I/F masked, MMU and D-cache off, r0 = 0, r1 = ~0, r2 = DTB.
 * Position independent: data is reached PC-relatively (adr_l), never
 * through an absolute address.
 */
#include "layout.h"

    .syntax unified
    .arch   armv7-a
    .arch_extension virt            /* HVC */
    .arm

#define MODE_FIQ 0x11
#define MODE_IRQ 0x12
#define MODE_SVC 0x13
#define MODE_ABT 0x17
#define MODE_UND 0x1b

#define SCTLR_M   (1 << 0)
#define SCTLR_C   (1 << 2)
#define SCTLR_I   (1 << 12)
#define SCTLR_V   (1 << 13)
#define SCTLR_WXN (1 << 19)
#define SCTLR_UWXN (1 << 20)
#define SCTLR_TRE (1 << 28)
#define SCTLR_AFE (1 << 29)
#define SCTLR_TE  (1 << 30)

#define SW_TIMED_OUT 0x80000000

/* \reg = the run-time address of \sym (an offset literal plus PC). */
.macro adr_l reg, sym
    ldr     \reg, .Ladr_lit\@
.Ladr_pc\@:
    add     \reg, pc
    b       .Ladr_end\@
    .balign 4
.Ladr_lit\@:
    .word   \sym - (.Ladr_pc\@ + 8)
.Ladr_end\@:
.endm

.macro func name
    .globl  \name
    .type   \name, %function
\name:
.endm

    .section .head, "ax"
    .globl  _start
_start:
    .rept   8
    mov     r0, r0
    .endr
    b       sw_entry                /* 0x20 */
    .word   0x016f2818              /* 0x24: zImage magic */
    .word   0                       /* 0x28: start: linked at 0, runs anywhere */
    .word   _image_size             /* 0x2c: end, relative to start */
    .word   0x04030201              /* 0x30: little-endian */

    .balign 4
sw_entry:
    mrs     r3, cpsr                /* entry state, before anything changes it */
    mrc     p15, 0, r4, c1, c0, 0   /* SCTLR */
    adr_l   r12, sw_entry_state
    stm     r12, {r0-r4}            /* struct a32_entry_state (a32.c) */
    cpsid   aif
    adr_l   r0, sw_stack
    add     r0, r0, #STACK_SIZE
    sub     r1, r0, #(STACK_SIZE - EXC_STACK_SIZE)
    cps     #MODE_ABT
    mov     sp, r1
    cps     #MODE_UND
    mov     sp, r1
    cps     #MODE_IRQ
    mov     sp, r1
    cps     #MODE_FIQ
    mov     sp, r1
    cps     #MODE_SVC
    mov     sp, r0
    adr_l   r1, sw_vectors
    mcr     p15, 0, r1, c12, c0, 0  /* VBAR */
    mrc     p15, 0, r1, c1, c0, 0
    bic     r2, r1, #SCTLR_V
    bic     r2, r2, #SCTLR_TE
    cmp     r1, r2
    beq     1f
    mcr     p15, 0, r2, c1, c0, 0   /* only when needed: setwise may trap it (TVM) */
1:  isb
    bl      sw_main
2:  wfi
    b       2b

    .text

/* long sw_psci(fn, a1, a2, a3): SMCCC HVC #0. */
func sw_psci
    push    {r4-r7, lr}
    hvc     #0
    pop     {r4-r7, pc}

func sw_wfi
    dsb
    wfi
    bx      lr

/*
 * void sw_mmu_on(ulong table): short-descriptor translation through TTBR0
 * for all 4 GiB (TTBCR = 0), table walks non-cacheable (TTBR0 attribute
 * bits 0), every domain a client, then SCTLR.M|C|I with TRE and AFE clear
 * (TEX/C/B and AP[2:0] mean what the table says) and WXN clear (the code
 * runs from writable RAM).
 */
func sw_mmu_on
    mov     r1, #0
    mcr     p15, 0, r1, c2, c0, 2   /* TTBCR */
    mcr     p15, 0, r0, c2, c0, 0   /* TTBR0 */
    movw    r1, #0x5555
    movt    r1, #0x5555
    mcr     p15, 0, r1, c3, c0, 0   /* DACR: all client */
    isb
    mov     r1, #0
    mcr     p15, 0, r1, c8, c7, 0   /* TLBIALL */
    mcr     p15, 0, r1, c7, c5, 0   /* ICIALLU */
    mcr     p15, 0, r1, c7, c5, 6   /* BPIALL */
    dsb
    isb
    mrc     p15, 0, r1, c1, c0, 0
    bic     r1, r1, #(SCTLR_TRE | SCTLR_AFE)
    bic     r1, r1, #(SCTLR_WXN | SCTLR_UWXN)
    orr     r1, r1, #(SCTLR_M | SCTLR_C)
    orr     r1, r1, #SCTLR_I
    mcr     p15, 0, r1, c1, c0, 0   /* SCTLR */
    isb
    bx      lr

/*
 * The set/way walk: ulong name(ulong ccidx, uint64_t deadline), with
 * r0 = ccidx, r2:r3 = deadline (AAPCS puts a 64-bit argument in an even
 * register pair). Linux's v7_flush_dcache_all order: levels from L1 up,
 * sets from the highest down, ways from the highest down within a set; the
 * operand is  way << clz(ways - 1) | set << log2(line bytes) | level << 1.
 * With one way, clz gives 32 and an A32 register shift by 32 gives 0.
 *
 *   crm  c14: DCCISW, c6: DCISW
 *   all  1: every level whose CLIDR Ctype has a data cache, below LoC;
 *        0: L1 only (v7_invalidate_l1)
 *   off  1: then SCTLR.M|C|I off and TLB, I-cache, branch predictor
 *        invalidated (the decompressor's cache_off)
 *
 * Registers: r0 count, r1 ccidx, r4 CLIDR, r5 level limit, r6 level,
 * r7 way shift, r8 level << 1, r9 set, r10 set shift, r11 ways - 1, r3
 * way, r12:lr deadline. No stores after the push: on hardware a store
 * between the clean and the caches going off would be lost.
 */
.macro sw_walk name, crm, all, off
func \name
    push    {r4-r11, lr}
    mov     r12, r2
    mov     lr, r3
    mov     r1, r0
    mov     r0, #0
    mrc     p15, 1, r4, c0, c0, 1   /* CLIDR */
.if \all
    ubfx    r5, r4, #24, #3         /* LoC */
.else
    mov     r5, #1
.endif
    mov     r6, #0
1:  cmp     r6, r5
    bhs     9f
    add     r7, r6, r6, lsl #1
    lsr     r8, r4, r7
    and     r8, r8, #7              /* Ctype of this level */
    cmp     r8, #2
    blo     8f                      /* none, or instruction only */
    lsl     r8, r6, #1
    mcr     p15, 2, r8, c0, c0, 0   /* CSSELR: data/unified side of this level */
    isb
    mrc     p15, 1, r9, c0, c0, 0   /* CCSIDR */
    and     r10, r9, #7
    add     r10, r10, #4            /* log2(line bytes) */
    cmp     r1, #0
    bne     2f
    ubfx    r11, r9, #3, #10        /* Associativity */
    ubfx    r9, r9, #13, #15        /* NumSets */
    b       3f
2:  ubfx    r11, r9, #3, #21        /* FEAT_CCIDX: Associativity */
    mrc     p15, 1, r9, c0, c0, 2   /* CCSIDR2 */
    ubfx    r9, r9, #0, #24         /* NumSets */
3:  clz     r7, r11
4:  mov     r3, r11
5:  lsl     r2, r3, r7
    orr     r2, r2, r8
    orr     r2, r2, r9, lsl r10
    mcr     p15, 0, r2, c7, \crm, 2 /* DC(C)ISW */
    add     r0, r0, #1
    subs    r3, r3, #1
    bge     5b
    mrrc    p15, 1, r2, r3, c14     /* CNTVCT */
    subs    r2, r2, r12
    sbcs    r3, r3, lr
    bhs     7f                      /* now >= deadline */
    subs    r9, r9, #1
    bge     4b
8:  add     r6, r6, #1
    b       1b
7:  orr     r0, r0, #SW_TIMED_OUT
9:  mov     r2, #0
    mcr     p15, 2, r2, c0, c0, 0   /* CSSELR back to L1 data */
    dsb
    isb
.if \off
    mrc     p15, 0, r2, c1, c0, 0
    bic     r2, r2, #(SCTLR_M | SCTLR_C)
    bic     r2, r2, #SCTLR_I
    mcr     p15, 0, r2, c1, c0, 0   /* SCTLR: MMU and caches off */
    isb
    mov     r2, #0
    mcr     p15, 0, r2, c8, c7, 0   /* TLBIALL */
    mcr     p15, 0, r2, c7, c5, 0   /* ICIALLU */
    mcr     p15, 0, r2, c7, c5, 6   /* BPIALL */
    dsb
    isb
.endif
    pop     {r4-r11, pc}
.endm

    sw_walk sw_cisw_all, c14, 1, 0
    sw_walk sw_cisw_all_off, c14, 1, 1
    sw_walk sw_isw_l1, c6, 0, 0

/*
 * The counting vCPU (PSCI CPU_ON entry, SVC mode, MMU and caches off,
 * r0 = context_id). No stack: it adds one to sw_shared.count 1000 times,
 * then (except in the native builds, where nothing would wake it) waits
 * once with WFI, which setwise traps and returns from, so the vCPU always
 * comes back to EL2 within a bounded time. When vCPU 0 sets
 * sw_shared.stop it sets sw_shared.stopped and calls CPU_OFF.
 */
func sw_counter_entry
    adr_l   r1, sw_shared
    str     r0, [r1, #8]            /* context */
1:  movw    r3, #1000
2:  ldr     r2, [r1]
    add     r2, r2, #1
    str     r2, [r1]                /* count */
    subs    r3, r3, #1
    bne     2b
    ldr     r2, [r1, #4]            /* stop */
    cmp     r2, #0
    bne     3f
#ifndef GUEST_NATIVE
    /* A trap that returns at once (PSCI_VERSION): the counting vCPU exits
       to setwise every 1000 counts, as a busy guest does, without waiting
       (a WFI would block it: nothing here raises an interrupt). */
    dsb
    mov     r4, r1
    movw    r0, #0
    movt    r0, #0x8400
    hvc     #0
    mov     r1, r4
#endif
    b       1b
3:  mov     r2, #1
    str     r2, [r1, #12]           /* stopped */
    dsb
    movw    r0, #0x0002
    movt    r0, #0x8400             /* PSCI CPU_OFF */
    hvc     #0
4:  wfi
    b       4b

/* shutdown-in-batch's vCPU 1 (setway.h): r0 = context_id, unused. */
func sw_stopper_entry
    adr_l   r1, sw_shared
1:  ldr     r2, [r1, #4]            /* stop: armed */
    cmp     r2, #0
    beq     1b
    ldr     r3, [r1, #16]           /* stop_at, low word */
    ldr     r5, [r1, #20]           /* high word */
2:  mrrc    p15, 1, r6, r7, c14     /* CNTVCT */
    cmp     r7, r5
    blo     2b
    bhi     3f
    cmp     r6, r3
    blo     2b
3:  movw    r0, #0x0008
    movt    r0, #0x8400             /* PSCI SYSTEM_OFF */
    hvc     #0
4:  wfi
    b       4b

/* ulong sw_stopper_entry_addr(void) */
func sw_stopper_entry_addr
    adr_l   r0, sw_stopper_entry
    bx      lr

/* ulong sw_counter_entry_addr(void) */
func sw_counter_entry_addr
    adr_l   r0, sw_counter_entry
    bx      lr

/* What the decompressor step copies into the payload and calls: A32,
   position independent, returns SW_JUMP_MAGIC (setway.h). */
    .balign 4
func sw_jump_fn
    movw    r0, #0x5eed
    movt    r0, #0x0c0d
    bx      lr
    .globl  sw_jump_fn_end
sw_jump_fn_end:

/*
 * Vectors: anything taken is unexpected. The handler gets the kind, SPSR
 * and LR and does not return (a32.c prints FAIL and powers off).
 */
.macro exception kind
    push    {r0-r3, r12, lr}
    mov     r0, #\kind
    mrs     r1, spsr
    mov     r2, lr
    bl      sw_exception
1:  b       1b
.endm

    .balign 32
sw_vectors:
    b       vec_reset
    b       vec_undef
    b       vec_svc
    b       vec_pabt
    b       vec_dabt
    b       vec_hyp
    b       vec_irq
    b       vec_fiq

vec_reset:  exception 0
vec_undef:  exception 1
vec_svc:    exception 2
vec_pabt:   exception 3
vec_dabt:   exception 4
vec_hyp:    exception 5
vec_irq:    exception 6
vec_fiq:    exception 7

    .section .stacks, "aw", %nobits
    .balign 16
sw_stack:
    .space  STACK_SIZE
