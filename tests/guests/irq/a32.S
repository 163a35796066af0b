/*
 * irq-a32: zImage header, entry (primary and CPU_ON), exception vectors
 * with an IRQ path, PSCI.
 *
 * A32 throughout. Entry as any zImage (Documentation/arch/arm/booting.rst):
 * SVC mode, A/I/F masked, MMU and D-cache off, r0 = 0, r1 = ~0, r2 = DTB.
 * Position independent: data is reached PC-relatively (adr_l), never
 * through an absolute address.
 */
#include "irq.h"

    .syntax unified
    .arch   armv7-a
    .arch_extension virt            /* HVC */
    .arch_extension sec             /* SMC */
    .arm

#define MODE_FIQ 0x11
#define MODE_IRQ 0x12
#define MODE_SVC 0x13
#define MODE_ABT 0x17
#define MODE_UND 0x1b

#define SCTLR_V   (1 << 13)
#define SCTLR_TE  (1 << 30)

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
    b       irq_primary_entry       /* 0x20 */
    .word   0x016f2818              /* 0x24: zImage magic */
    .word   0                       /* 0x28: start: linked at 0, runs anywhere */
    .word   _image_size             /* 0x2c: end, relative to start */
    .word   0x04030201              /* 0x30: little-endian */

    .balign 4
irq_primary_entry:
    mrs     r3, cpsr                /* entry state, before anything changes it */
    mrc     p15, 0, r4, c1, c0, 0   /* SCTLR */
    adr_l   r12, irq_entry_state
    stm     r12, {r0-r4}            /* struct a32_entry_state (a32.c) */
    cpsid   aif
    mov     r0, #0                  /* logical vCPU 0 */
    bl      irq_setup_cpu
    bl      irq_main
1:  wfi
    b       1b

    .text

/*
 * irq_setup_cpu(r0 = logical index): the stacks of that vCPU's block (SVC
 * from the top, abt/und/irq/fiq the lowest IRQ_EXC_STACK bytes), TPIDRPRW =
 * the index, VBAR, SCTLR.V and TE clear. Returns in SVC mode. Clobbers
 * r0-r3.
 */
    .type   irq_setup_cpu, %function
irq_setup_cpu:
    mcr     p15, 0, r0, c13, c0, 4  /* TPIDRPRW */
    adr_l   r1, irq_stacks
    add     r1, r1, r0, lsl #IRQ_STACK_SHIFT   /* block base */
    add     r2, r1, #IRQ_EXC_STACK
    add     r3, r1, #IRQ_STACK_SIZE
    cps     #MODE_ABT
    mov     sp, r2
    cps     #MODE_UND
    mov     sp, r2
    cps     #MODE_IRQ
    mov     sp, r2
    cps     #MODE_FIQ
    mov     sp, r2
    cps     #MODE_SVC
    mov     sp, r3
    adr_l   r1, irq_vectors
    mcr     p15, 0, r1, c12, c0, 0  /* VBAR */
    mrc     p15, 0, r1, c1, c0, 0
    bic     r2, r1, #SCTLR_V
    bic     r2, r2, #SCTLR_TE
    cmp     r1, r2
    beq     1f
    mcr     p15, 0, r2, c1, c0, 0   /* only when needed: setwise may trap it (TVM) */
1:  isb
    bx      lr

/* PSCI CPU_ON entry: SVC mode, r0 = context_id = IRQ_CONTEXT_BASE | index. */
    .type   irq_secondary_entry, %function
irq_secondary_entry:
    mov     r4, r0
    mrs     r5, cpsr
    mrc     p15, 0, r6, c1, c0, 0   /* SCTLR */
    cpsid   aif
    and     r0, r4, #(IRQ_MAX_CPUS - 1)
    bl      irq_setup_cpu
    mov     r0, r4
    mov     r1, r5
    mov     r2, r6
    bl      irq_secondary_main
1:  wfi
    b       1b

/* ulong irq_secondary_entry_addr(void): A32, bit 0 clear. */
func irq_secondary_entry_addr
    adr_l   r0, irq_secondary_entry
    bic     r0, r0, #1
    bx      lr

/* long irq_psci(fn, a1, a2, a3): SMCCC HVC #0; r4-r7 kept whatever the
   SMCCC version says about them. */
func irq_psci
    push    {r4-r7, lr}
    hvc     #0
    pop     {r4-r7, pc}

/* long irq_smc(fn, a1, a2, a3): SMCCC SMC #0 (setwise traps it). */
func irq_smc
    push    {r4-r7, lr}
    smc     #0
    pop     {r4-r7, pc}

/* long irq_hvc1(void): HVC #1, which is not an SMCCC call. */
func irq_hvc1
    push    {r4-r7, lr}
    mov     r0, #0
    hvc     #1
    pop     {r4-r7, pc}

func irq_wfi
    dsb
    wfi
    bx      lr

/*
 * Vectors. IRQ (VBAR + 0x18, IRQ mode, on this vCPU's IRQ stack): the AAPCS
 * caller-saved registers, LR_irq and SPSR_irq saved, irq_handle(), back
 * with SUBS PC, LR, #4 (CPSR = SPSR). IRQs stay masked throughout (CPSR.I
 * is set on entry): no nesting. Anything else is unexpected:
 * irq_exception(kind, SPSR, LR) prints FAIL and powers off.
 */
.macro exception kind
    push    {r0-r3, r12, lr}
    mov     r0, #\kind
    mrs     r1, spsr
    mov     r2, lr
    bl      irq_exception
1:  b       1b
.endm

    .balign 32
irq_vectors:
    b       vec_reset
    b       vec_undef
    b       vec_svc
    b       vec_pabt
    b       vec_dabt
    b       vec_hyp
    b       vec_irq
    b       vec_fiq

/*
 * Undefined instruction, prefetch and data abort (ARM state only: the
 * faulting instruction is LR - back): irq_sync_a32(kind, its address)
 * returns where to resume, or 0 if nothing expected it. Resumed with
 * MOVS PC, LR (CPSR = SPSR).
 */
.macro recoverable kind, back
    push    {r0-r3, r12, lr}
    mov     r0, #\kind
    sub     r1, lr, #\back
    bl      irq_sync_a32
    cmp     r0, #0
    beq     1f
    str     r0, [sp, #20]           /* the saved LR: where to resume */
    pop     {r0-r3, r12, lr}
    movs    pc, lr
1:  pop     {r0-r3, r12, lr}
    exception \kind
.endm

vec_reset:  exception 0
vec_undef:  recoverable 1, 4
vec_svc:    exception 2
vec_pabt:   recoverable 3, 4
vec_dabt:   recoverable 4, 8
vec_hyp:    exception 5
vec_fiq:    exception 7

/*
 * irq_exec_probe(r0 = addr): branches to addr (ARM state) with LR = the
 * instruction after the BLX; the hostile mode's prefetch-abort handling
 * resumes there (irq_recover). Returns normally.
 */
func irq_exec_probe
    push    {r4, lr}
    adr_l   r1, irq_recover
    adr     r2, 1f
    str     r2, [r1]
    bic     r0, r0, #1
    blx     r0
1:  pop     {r4, pc}

vec_irq:
    push    {r0-r3, r12, lr}        /* 24 bytes */
    mrs     r0, spsr
    push    {r0, r1}                /* SPSR and a pad word: 8-byte aligned for AAPCS */
    bl      irq_handle
    pop     {r0, r1}
    msr     spsr_cxsf, r0
    pop     {r0-r3, r12, lr}
    subs    pc, lr, #4              /* exception return to the interrupted instruction */

    .section .stacks, "aw", %nobits
    .balign 16
irq_stacks:
    .space  IRQ_STACK_SIZE * IRQ_MAX_CPUS
