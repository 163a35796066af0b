/*
 * AArch64 test guest: arm64 Image header, entry, exception vectors, PSCI.
 *
 * Entry (Linux Documentation/arch/arm64/booting.rst): EL1 (EL1h), MMU off,
 * DAIF masked, x0 = DTB address, x1..x3 = 0. Loaded at any 2 MiB boundary
 * + text_offset (0): only ADRP/ADD reach data, no absolute address is used.
 */
#include "layout.h"

    .section .head, "ax"
    .globl  _start
_start:
    b       primary_entry           /* code0 */
    .long   0                       /* code1 */
    .quad   0                       /* text_offset */
    .quad   _image_size             /* image_size: file, zero tail included */
    .quad   0xa                     /* flags: LE, 4 KiB pages, anywhere in RAM */
    .quad   0, 0, 0                 /* res2..res4 */
    .ascii  "ARM\x64"               /* magic, offset 0x38 */
    .long   0                       /* res5: no PE/COFF header */

primary_entry:
    mrs     x9, CurrentEL           /* entry state, before anything changes it */
    mrs     x10, SPSel
    mrs     x11, DAIF
    mrs     x12, SCTLR_EL1
    adrp    x13, entry_state
    add     x13, x13, :lo12:entry_state
    stp     x0, x1, [x13]           /* struct a64_entry_state */
    stp     x2, x3, [x13, #16]
    stp     x9, x10, [x13, #32]
    stp     x11, x12, [x13, #48]
    msr     DAIFSet, #0xf
    adrp    x0, cpu0_stack
    add     x0, x0, :lo12:cpu0_stack
    add     x0, x0, #STACK_SIZE
    bl      setup_cpu
    bl      guest_main
    b       halt

    .text
/* setup_cpu(x0 = top of this vCPU's stack): SP_EL1 and VBAR_EL1. */
    .type   setup_cpu, %function
setup_cpu:
    msr     SPSel, #1
    mov     sp, x0
    adrp    x1, vectors
    add     x1, x1, :lo12:vectors
    msr     VBAR_EL1, x1
    isb
    ret

/* PSCI CPU_ON entry: x0 = context_id. */
    .globl  secondary_entry
    .type   secondary_entry, %function
secondary_entry:
    mov     x19, x0
    mrs     x20, CurrentEL
    mrs     x1, SPSel
    orr     x20, x20, x1
    mrs     x1, DAIF
    orr     x20, x20, x1            /* state = CurrentEL | SPSel | DAIF */
    mrs     x21, SCTLR_EL1
    msr     DAIFSet, #0xf
    adrp    x0, cpu1_stack
    add     x0, x0, :lo12:cpu1_stack
    add     x0, x0, #STACK_SIZE
    bl      setup_cpu
    mov     x0, x19
    mov     x1, x20
    mov     x2, x21
    bl      secondary_main
halt:
    wfi
    b       halt

/* ulong arch_secondary_entry(void) */
    .globl  arch_secondary_entry
    .type   arch_secondary_entry, %function
arch_secondary_entry:
    adrp    x0, secondary_entry
    add     x0, x0, :lo12:secondary_entry
    ret

/* ulong arch_image_start(void): the header's run-time address. */
    .globl  arch_image_start
    .type   arch_image_start, %function
arch_image_start:
    adrp    x0, _start
    add     x0, x0, :lo12:_start
    ret

/* long arch_psci(fn, a1, a2, a3): SMCCC HVC #0. x4..x17 may be clobbered,
   which AAPCS64 already allows a callee. */
    .globl  arch_psci
    .type   arch_psci, %function
arch_psci:
    hvc     #0
    ret

/* uint32_t arch_probe_load(addr, sentinel) */
    .globl  arch_probe_load
    .type   arch_probe_load, %function
arch_probe_load:
    mov     x2, x0
    mov     w0, w1
    ldr     w0, [x2]
    ret

    .globl  arch_wfi
    .type   arch_wfi, %function
arch_wfi:
    dsb     sy
    wfi
    ret

/*
 * Vectors (DDI 0487 D1.10.2): 16 slots of 0x80. Each saves x0/x1, puts its
 * slot number in x0 and joins exc_common, which saves the rest of the
 * caller-saved registers and calls
 *     arch_exception(slot, ESR_EL1, ELR_EL1, FAR_EL1, SPSR_EL1)
 * whose result is the ELR to return to (only a data abort during the
 * probe returns at all).
 */
#define FRAME 176

    .balign 2048
vectors:
    .irp    slot, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
    .balign 128
    sub     sp, sp, #FRAME
    stp     x0, x1, [sp]
    mov     x0, #\slot
    b       exc_common
    .endr

exc_common:
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
    mrs     x1, ESR_EL1
    mrs     x2, ELR_EL1
    mrs     x3, FAR_EL1
    mrs     x4, SPSR_EL1
    bl      arch_exception
    msr     ELR_EL1, x0
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
    ldr     x30, [sp, #160]
    add     sp, sp, #FRAME
    eret

    .section .stacks, "aw", %nobits
    .balign 16
cpu0_stack:
    .space  STACK_SIZE
cpu1_stack:
    .space  STACK_SIZE
