/*
 * AArch32 test guest: zImage header, entry, exception vectors, PSCI.
 *
 * Built twice: GUEST_THUMB=0 (everything A32) and GUEST_THUMB=1 (the entry
 * at offset 0 is A32, as in every zImage, and switches to T32 with BX as
 * arch/arm/boot/compressed/head.S does for CONFIG_THUMB2_KERNEL; from there
 * on everything, vectors included, is T32 and SCTLR.TE is set).
 *
 * Entry (Linux Documentation/arch/arm/booting.rst): SVC mode, A/I/F masked,
 * MMU and D-cache off, r0 = 0, r1 = ~0 (no machine type: DT boot),
 * r2 = DTB address. Loaded anywhere (2 MiB aligned under setwise): no
 * absolute address is used, adr_l reaches data PC-relatively.
 */
#include "layout.h"

    .syntax unified
    .arch   armv7-a
    .arch_extension virt            /* HVC */

#if GUEST_THUMB
#define PC_BIAS 4                   /* T32 reads PC as the instruction + 4 */
#define BW b.w                      /* 4-byte branch: vector slots */
#else
#define PC_BIAS 8
#define BW b
#endif

#define MODE_FIQ 0x11
#define MODE_IRQ 0x12
#define MODE_SVC 0x13
#define MODE_ABT 0x17
#define MODE_UND 0x1b

#define SCTLR_V  (1 << 13)          /* high vectors */
#define SCTLR_TE (1 << 30)          /* exceptions taken in T32 */

/* \reg = the run-time address of \sym (an offset literal plus PC). */
.macro adr_l reg, sym
    ldr     \reg, .Ladr_lit\@
.Ladr_pc\@:
    add     \reg, pc
    b       .Ladr_end\@
    .balign 4
.Ladr_lit\@:
    .word   \sym - (.Ladr_pc\@ + PC_BIAS)
.Ladr_end\@:
.endm

/* The ISA of everything after the header, after each section switch. */
.macro isa
#if GUEST_THUMB
    .thumb
#else
    .arm
#endif
.endm

/* A code label other sections (and C) branch to: typed, and marked T32 in
   the Thumb build so the linker never turns a BL into an ISA-switching BLX. */
.macro func name
    .type   \name, %function
#if GUEST_THUMB
    .thumb_func
#endif
\name:
.endm

    .section .head, "ax"
    .arm
    .globl  _start
_start:
#if GUEST_THUMB
    .rept   6
    mov     r0, r0
    .endr
    adr     r12, thumb_entry        /* 0x18 */
    orr     r12, r12, #1            /* 0x1c */
    bx      r12                     /* 0x20: to T32 */
#else
    .rept   8
    mov     r0, r0
    .endr
    b       arm_entry               /* 0x20 */
#endif
    .word   0x016f2818              /* 0x24: zImage magic */
    .word   0                       /* 0x28: start: linked at 0, runs anywhere */
    .word   _image_size             /* 0x2c: end, relative to start */
    .word   0x04030201              /* 0x30: little-endian */

    isa
    .balign 4
#if GUEST_THUMB
    func    thumb_entry
#else
    func    arm_entry
#endif
    mrs     r3, cpsr                /* entry state, before anything changes it */
    mrc     p15, 0, r4, c1, c0, 0   /* SCTLR */
    adr_l   r12, entry_state
    stm     r12, {r0-r4}            /* struct a32_entry_state */
    cpsid   aif
    adr_l   r0, cpu0_stack
    add     r0, r0, #STACK_SIZE
    bl      setup_cpu
    bl      guest_main
    b       halt

/*
 * setup_cpu(r0 = top of this vCPU's stack block): the mode stacks, VBAR,
 * SCTLR.V/TE. Returns in SVC mode. Clobbers r0-r2.
 */
    .text
    isa
    func    setup_cpu
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
    adr_l   r1, vectors
    bic     r1, r1, #0x1f           /* VBAR[4:0] are RES0 (and never a T bit) */
    mcr     p15, 0, r1, c12, c0, 0  /* VBAR */
    mrc     p15, 0, r1, c1, c0, 0   /* SCTLR */
    bic     r2, r1, #SCTLR_V
#if GUEST_THUMB
    orr     r2, r2, #SCTLR_TE
#else
    bic     r2, r2, #SCTLR_TE
#endif
    cmp     r1, r2
    beq     1f
    mcr     p15, 0, r2, c1, c0, 0   /* only when needed: setwise may trap it (TVM) */
1:  isb
    bx      lr

/* PSCI CPU_ON entry: SVC mode, r0 = context_id. */
    .globl  secondary_entry
    func    secondary_entry
    mov     r4, r0
    mrs     r5, cpsr
    mrc     p15, 0, r6, c1, c0, 0   /* SCTLR */
    cpsid   aif
    adr_l   r0, cpu1_stack
    add     r0, r0, #STACK_SIZE
    bl      setup_cpu
    mov     r0, r4
    mov     r1, r5
    mov     r2, r6
    bl      secondary_main
    func    halt
    wfi
    b       halt

/* ulong arch_secondary_entry(void): the CPU_ON entry point, bit 0 = T32. */
    .globl  arch_secondary_entry
    func    arch_secondary_entry
    adr_l   r0, secondary_entry
#if GUEST_THUMB
    orr     r0, r0, #1
#else
    bic     r0, r0, #1
#endif
    bx      lr

/* ulong arch_image_start(void): the header's run-time address (A32 code,
   so no T bit whatever this build is). */
    .globl  arch_image_start
    func    arch_image_start
    adr_l   r0, _start
    bx      lr

/* long arch_psci(fn, a1, a2, a3): SMCCC HVC #0; r4-r7 kept whatever the
   SMCCC version below says about them. */
    .globl  arch_psci
    func    arch_psci
    push    {r4-r7, lr}
    hvc     #0
    pop     {r4-r7, pc}

/* uint32_t arch_probe_load(addr, sentinel). The T32 build uses the 16-bit
   LDR, so the abort handler's instruction-length decode is exercised. */
    .globl  arch_probe_load
    func    arch_probe_load
    mov     r2, r0
    mov     r0, r1
    ldr     r0, [r2]
    bx      lr

    .globl  arch_wfi
    func    arch_wfi
    dsb
    wfi
    bx      lr

/*
 * Vectors. Each handler saves the AAPCS caller-saved registers on the mode's
 * stack and calls arch_exception(kind, SPSR, LR), which returns where to
 * resume (only a data abort during the probe returns at all).
 */
.macro exception kind
    push    {r0-r3, r12, lr}
    mov     r0, #\kind
    mrs     r1, spsr
    mov     r2, lr
    bl      arch_exception
    mov     lr, r0
    pop     {r0-r3, r12}
    add     sp, sp, #4
    subs    pc, lr, #0              /* exception return: CPSR = SPSR */
.endm

    .balign 32
vectors:
    BW      vec_reset
    BW      vec_undef
    BW      vec_svc
    BW      vec_pabt
    BW      vec_dabt
    BW      vec_hyp
    BW      vec_irq
    BW      vec_fiq

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
cpu0_stack:
    .space  STACK_SIZE
cpu1_stack:
    .space  STACK_SIZE
