/*
 * EL2 exception vectors (DDI 0487 D1.3.1): 16 entries of 128 bytes.
 * Every entry saves the full register frame (struct ExceptionFrame, offsets
 * from asm_offsets.h) and calls el2_exception(frame, kind) with kind = the
 * entry's index (enum VectorKind). If it returns, the frame is restored
 * (ELR and SPSR from the frame, so a handler can change where to resume)
 * and the exception returns.
 */
#include "asm_offsets.h"

.macro ventry kind
    .balign 128
    sub     sp, sp, #FRAME_SIZE
    stp     x0, x1, [sp, #FRAME_X0]
    mov     x1, #\kind
    b       el2_exception_common
.endm

    .section .text.vectors, "ax"
    .balign 2048
    .globl el2_vectors
el2_vectors:
    ventry 0
    ventry 1
    ventry 2
    ventry 3
    ventry 4
    ventry 5
    ventry 6
    ventry 7
    ventry 8
    ventry 9
    ventry 10
    ventry 11
    ventry 12
    ventry 13
    ventry 14
    ventry 15

el2_exception_common:
    stp     x2, x3, [sp, #FRAME_X0 + 2 * 8]
    stp     x4, x5, [sp, #FRAME_X0 + 4 * 8]
    stp     x6, x7, [sp, #FRAME_X0 + 6 * 8]
    stp     x8, x9, [sp, #FRAME_X0 + 8 * 8]
    stp     x10, x11, [sp, #FRAME_X0 + 10 * 8]
    stp     x12, x13, [sp, #FRAME_X0 + 12 * 8]
    stp     x14, x15, [sp, #FRAME_X0 + 14 * 8]
    stp     x16, x17, [sp, #FRAME_X0 + 16 * 8]
    stp     x18, x19, [sp, #FRAME_X0 + 18 * 8]
    stp     x20, x21, [sp, #FRAME_X0 + 20 * 8]
    stp     x22, x23, [sp, #FRAME_X0 + 22 * 8]
    stp     x24, x25, [sp, #FRAME_X0 + 24 * 8]
    stp     x26, x27, [sp, #FRAME_X0 + 26 * 8]
    stp     x28, x29, [sp, #FRAME_X0 + 28 * 8]
    add     x2, sp, #FRAME_SIZE
    stp     x30, x2, [sp, #FRAME_X0 + 30 * 8]   /* x30 and the interrupted SP */
    mrs     x2, elr_el2
    mrs     x3, spsr_el2
    stp     x2, x3, [sp, #FRAME_ELR]
    mrs     x2, esr_el2
    mrs     x3, far_el2
    stp     x2, x3, [sp, #FRAME_ESR]

    mov     x0, sp
    bl      el2_exception

    .globl el2_exception_return
el2_exception_return:               /* sp = the frame to resume */
    ldp     x2, x3, [sp, #FRAME_ELR]
    msr     elr_el2, x2
    msr     spsr_el2, x3
    ldp     x2, x3, [sp, #FRAME_X0 + 2 * 8]
    ldp     x4, x5, [sp, #FRAME_X0 + 4 * 8]
    ldp     x6, x7, [sp, #FRAME_X0 + 6 * 8]
    ldp     x8, x9, [sp, #FRAME_X0 + 8 * 8]
    ldp     x10, x11, [sp, #FRAME_X0 + 10 * 8]
    ldp     x12, x13, [sp, #FRAME_X0 + 12 * 8]
    ldp     x14, x15, [sp, #FRAME_X0 + 14 * 8]
    ldp     x16, x17, [sp, #FRAME_X0 + 16 * 8]
    ldp     x18, x19, [sp, #FRAME_X0 + 18 * 8]
    ldp     x20, x21, [sp, #FRAME_X0 + 20 * 8]
    ldp     x22, x23, [sp, #FRAME_X0 + 22 * 8]
    ldp     x24, x25, [sp, #FRAME_X0 + 24 * 8]
    ldp     x26, x27, [sp, #FRAME_X0 + 26 * 8]
    ldp     x28, x29, [sp, #FRAME_X0 + 28 * 8]
    ldr     x30, [sp, #FRAME_X0 + 30 * 8]
    ldp     x0, x1, [sp, #FRAME_X0]
    add     sp, sp, #FRAME_SIZE
    eret

/*
 * guest_enter(frame): resume the context in `frame` (a vCPU's first entry,
 * or after a context switch) through the same exit path a trap takes. The
 * frame must sit just below this CPU's stack top, where the next exception
 * from the guest will build its own.
 */
    .text
    .globl guest_enter
guest_enter:
    mov     sp, x0
    b       el2_exception_return

/*
 * run_on_fresh_stack(stack_top, fn, arg): abandon everything on this CPU's
 * stack and call fn(arg) from its top; fn does not return. How a CPU whose
 * vCPU stopped goes back to its idle loop.
 */
    .globl run_on_fresh_stack
run_on_fresh_stack:
    mov     sp, x0
    mov     x0, x2
    mov     x29, xzr
    mov     x30, xzr
    br      x1
