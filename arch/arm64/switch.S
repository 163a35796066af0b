/*
 * Switching between the EL2 threads of one CPU: its idle loop and the vCPUs
 * placed on it, each on a stack of its own (core/sched.hpp). A thread that
 * switches away is inside a C++ call (schedule()), so only what the
 * procedure call standard (AAPCS64 6.1.1) makes callee-saved needs keeping:
 * x19..x28, the frame pointer x29, the link register x30 and SP. setwise is
 * built with -mgeneral-regs-only, so no FP/SIMD register is live here (the
 * guests' are switched as part of the vCPU state).
 *
 * struct SwitchContext { u64 x19_x28[10]; u64 fp; u64 lr; u64 sp; }
 *                                  (arch/arm64/switch.hpp)
 */
    .text

/* switch_context(from, to): save this thread in *from, resume *to. */
    .globl switch_context
switch_context:
    stp     x19, x20, [x0, #0]
    stp     x21, x22, [x0, #16]
    stp     x23, x24, [x0, #32]
    stp     x25, x26, [x0, #48]
    stp     x27, x28, [x0, #64]
    stp     x29, x30, [x0, #80]
    mov     x2, sp
    str     x2, [x0, #96]
    ldp     x19, x20, [x1, #0]
    ldp     x21, x22, [x1, #16]
    ldp     x23, x24, [x1, #32]
    ldp     x25, x26, [x1, #48]
    ldp     x27, x28, [x1, #64]
    ldp     x29, x30, [x1, #80]
    ldr     x2, [x1, #96]
    mov     sp, x2
    ret

/*
 * A new thread's first "return" from switch_context lands here, with x19 =
 * its function and x20 = the argument (switch_context_init); the function
 * never returns.
 */
    .globl switch_thread_start
switch_thread_start:
    mov     x0, x20
    mov     x29, xzr
    mov     x30, xzr
    br      x19
