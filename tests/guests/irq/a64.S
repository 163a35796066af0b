/*
 * irq-a64: arm64 Image header, entry (primary and CPU_ON), exception
 * vectors with an IRQ path, PSCI.
 *
 * Entry (Documentation/arch/arm64/booting.rst): EL1h, MMU off, DAIF
 * masked, x0 = DTB. Loaded at any 2 MiB boundary + text_offset (0): data is
 * reached with ADRP/ADD only.
 */
#include "irq.h"

    .section .head, "ax"
    .globl  _start
_start:
    b       irq_primary_entry       /* code0 */
    .long   0                       /* code1 */
    .quad   0                       /* text_offset */
    .quad   _image_size             /* image_size: file, zero tail included */
    .quad   0xa                     /* flags: LE, 4 KiB pages, anywhere in RAM */
    .quad   0, 0, 0                 /* res2..res4 */
    .ascii  "ARM\x64"               /* magic, offset 0x38 */
    .long   0                       /* res5: no PE/COFF header */

irq_primary_entry:
    mrs     x9, CurrentEL           /* entry state, before anything changes it */
    mrs     x10, SPSel
    mrs     x11, DAIF
    mrs     x12, SCTLR_EL1
    adrp    x13, irq_entry_state
    add     x13, x13, :lo12:irq_entry_state
    stp     x0, x1, [x13]           /* struct a64_entry_state (a64.c) */
    stp     x2, x3, [x13, #16]
    stp     x9, x10, [x13, #32]
    stp     x11, x12, [x13, #48]
    msr     DAIFSet, #0xf
    mov     x0, #0                  /* logical vCPU 0 */
    bl      irq_setup_cpu
    bl      irq_main
1:  wfi
    b       1b

    .text

.macro func name
    .globl  \name
    .type   \name, %function
\name:
.endm

/*
 * irq_setup_cpu(x0 = logical index): SP_EL1 = the top of that vCPU's stack
 * block, TPIDR_EL1 = the index, VBAR_EL1. Uses x0-x3 only, no stack.
 */
    .type   irq_setup_cpu, %function
irq_setup_cpu:
    msr     SPSel, #1
    adrp    x1, irq_stacks
    add     x1, x1, :lo12:irq_stacks
    add     x2, x0, #1
    add     x1, x1, x2, lsl #IRQ_STACK_SHIFT
    mov     sp, x1
    msr     TPIDR_EL1, x0
    adrp    x1, irq_vectors
    add     x1, x1, :lo12:irq_vectors
    msr     VBAR_EL1, x1
    isb
    ret

/* PSCI CPU_ON entry: EL1h, x0 = context_id = IRQ_CONTEXT_BASE | index. */
    .type   irq_secondary_entry, %function
irq_secondary_entry:
    mov     x19, x0
    mrs     x20, CurrentEL
    mrs     x1, SPSel
    orr     x20, x20, x1
    mrs     x1, DAIF
    orr     x20, x20, x1            /* state = CurrentEL | SPSel | DAIF */
    mrs     x21, SCTLR_EL1
    msr     DAIFSet, #0xf
    and     x0, x19, #(IRQ_MAX_CPUS - 1)
    bl      irq_setup_cpu
    mov     x0, x19
    mov     x1, x20
    mov     x2, x21
    bl      irq_secondary_main
1:  wfi
    b       1b

/* ulong irq_secondary_entry_addr(void) */
func irq_secondary_entry_addr
    adrp    x0, irq_secondary_entry
    add     x0, x0, :lo12:irq_secondary_entry
    ret

/* long irq_psci(fn, a1, a2, a3): SMCCC HVC #0. */
func irq_psci
    hvc     #0
    ret

/* long irq_smc(fn, a1, a2, a3): SMCCC SMC #0 (setwise traps it). */
func irq_smc
    smc     #0
    ret

/* long irq_hvc1(void): HVC #1, which is not an SMCCC call. */
func irq_hvc1
    mov     x0, #0
    hvc     #1
    ret

func irq_wfi
    dsb     sy
    wfi
    ret

/*
 * Vectors (DDI 0487 D1.10.2): 16 slots of 0x80. Slot 5 (VBAR + 0x280, IRQ
 * from the current EL with SP_ELx) is the IRQ path; slot 4 (synchronous,
 * same place) goes to irq_sync_a64 (a64.c), which resumes a fault the
 * hostile mode provoked; anything else, or a synchronous exception nothing
 * expected, is unexpected: irq_exception(slot, ESR_EL1, ELR_EL1, FAR_EL1,
 * SPSR_EL1) prints FAIL and powers off.
 */
    .balign 2048
irq_vectors:
    .irp    slot, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
    .balign 128
    .if     \slot == 5
    b       irq_el1_irq
    .elseif \slot == 4
    b       irq_el1_sync
    .else
    mov     x0, #\slot
    mrs     x1, ESR_EL1
    mrs     x2, ELR_EL1
    mrs     x3, FAR_EL1
    mrs     x4, SPSR_EL1
    bl      irq_exception
    b       .
    .endif
    .endr
    .balign 128                     /* what follows is outside the table's 0x800 bytes */

/* Saves / restores the AAPCS64 caller-saved registers (x0-x18, x29, x30). */
#define IRQ_FRAME 192
.macro save_caller
    sub     sp, sp, #IRQ_FRAME
    stp     x0, x1, [sp]
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x29, [sp, #144]
    str     x30, [sp, #160]
.endm
.macro restore_caller
    ldr     x30, [sp, #160]
    ldp     x0, x1, [sp]
    ldp     x2, x3, [sp, #16]
    ldp     x4, x5, [sp, #32]
    ldp     x6, x7, [sp, #48]
    ldp     x8, x9, [sp, #64]
    ldp     x10, x11, [sp, #80]
    ldp     x12, x13, [sp, #96]
    ldp     x14, x15, [sp, #112]
    ldp     x16, x17, [sp, #128]
    ldp     x18, x29, [sp, #144]
    add     sp, sp, #IRQ_FRAME
.endm

/*
 * A synchronous exception at EL1: irq_sync_a64(ESR, ELR, FAR) returns where
 * to resume (ELR_EL1 is set to it), or 0 if nothing expected it.
 */
irq_el1_sync:
    save_caller
    mrs     x0, ESR_EL1
    mrs     x1, ELR_EL1
    mrs     x2, FAR_EL1
    bl      irq_sync_a64
    cbz     x0, 1f
    msr     ELR_EL1, x0
    restore_caller
    eret
1:  mov     x0, #4
    mrs     x1, ESR_EL1
    mrs     x2, ELR_EL1
    mrs     x3, FAR_EL1
    mrs     x4, SPSR_EL1
    bl      irq_exception
    b       .

/*
 * irq_exec_probe(x0 = addr): branches to addr with x30 = the instruction
 * after the BLR; the hostile mode's prefetch-abort handling resumes there
 * (irq_recover). Returns normally.
 */
func irq_exec_probe
    stp     x29, x30, [sp, #-16]!
    adrp    x1, irq_recover
    add     x1, x1, :lo12:irq_recover
    adr     x2, 1f
    str     x2, [x1]
    blr     x0
1:  ldp     x29, x30, [sp], #16
    ret

/*
 * The IRQ: the AAPCS64 caller-saved registers (x0-x18, x29, x30) and
 * ELR/SPSR on the stack, irq_handle(), back, ERET. IRQs stay masked
 * throughout (PSTATE.I is set on exception entry): no nesting.
 */
irq_el1_irq:
    save_caller
    mrs     x0, ELR_EL1
    mrs     x1, SPSR_EL1
    stp     x0, x1, [sp, #168]
    bl      irq_handle
    ldp     x0, x1, [sp, #168]
    msr     ELR_EL1, x0
    msr     SPSR_EL1, x1
    restore_caller
    eret

    .section .stacks, "aw", %nobits
    .balign 16
irq_stacks:
    .space  IRQ_STACK_SIZE * IRQ_MAX_CPUS
