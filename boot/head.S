/*
 * Entry at EL2 behind the arm64 Linux Image header.
 *
 * Boot protocol (Linux Documentation/arch/arm64/booting.rst, which QEMU
 * -kernel and U-Boot booti follow): x0 = physical address of the DTB,
 * x1..x3 = 0, MMU off, D-cache off or cleaned, entered at EL2 (or EL1),
 * image at a 2 MiB boundary + text_offset.
 *
 * Before any C++ runs: the image relocates itself (R_AARCH64_RELATIVE only,
 * it is a static PIE linked at 0), clears BSS and takes CPU 0's stack. All of
 * it is PC-relative, so it works wherever the image was put.
 */
#include "boot/boot_defs.h"
#include "asm_offsets.h"

    .section .text.head, "ax"
    .globl _start
_start:
    /* Image header (booting.rst, "Call the kernel image"). */
    b       primary_entry           /* code0 */
    .long   0                       /* code1 */
    .quad   0                       /* text_offset */
    /* image_size: what must be free, BSS included. Two 32-bit halves of
     * absolute link-time symbols: a .quad would need a dynamic relocation
     * in this PIE, and the loader reads the header before we relocate. */
    .long   _image_size_lo32
    .long   _image_size_hi32
    .quad   0xa                     /* flags: LE, 4 KiB pages, anywhere 2 MiB-aligned (bit 3) */
    .quad   0                       /* res2 */
    .quad   0                       /* res3 */
    .quad   0                       /* res4 */
    .long   0x644d5241              /* magic "ARM\x64" */
    .long   0                       /* res5 (no PE/COFF header) */

    .section .text.boot, "ax"
primary_entry:
    mov     x19, x0                 /* DTB */
    msr     daifset, #0xf

    adr     x20, _start_image       /* where we run */

    /* Apply R_AARCH64_RELATIVE relocations: *(base + r_offset) = base + r_addend. */
    adr     x9, __rela_start
    adr     x10, __rela_end
1:  cmp     x9, x10
    b.hs    2f
    ldp     x11, x12, [x9], #16     /* r_offset, r_info */
    ldr     x13, [x9], #8           /* r_addend */
    cmp     x12, #R_AARCH64_RELATIVE
    b.ne    1b                      /* nothing else is emitted for a static PIE */
    add     x13, x13, x20
    str     x13, [x20, x11]
    b       1b
2:
    /* Clear BSS. */
    adr     x9, __bss_start
    adr     x10, __bss_end
3:  cmp     x9, x10
    b.hs    4f
    stp     xzr, xzr, [x9], #16
    b       3b
4:
    /* CPU 0's stack. */
    adr     x9, boot_stacks
    add     x9, x9, #BOOT_STACK_SIZE
    mov     sp, x9

    mrs     x9, CurrentEL
    lsr     x9, x9, #2
    and     x9, x9, #3
    cmp     x9, #2
    b.ne    wrong_el

    adr     x9, el2_vectors
    msr     vbar_el2, x9
    isb

    mov     x0, x19                 /* DTB */
    mov     x1, x20                 /* load address */
    bl      boot_primary            /* does not return */
    b       halt_cpu

wrong_el:
    mov     x0, x19
    mov     x1, x20
    mov     x2, x9                  /* the EL we were entered at */
    bl      boot_wrong_el           /* does not return */
    b       halt_cpu

/*
 * Secondary CPUs, started by PSCI CPU_ON with context_id = CPU index.
 * Entered at EL2 (PSCI: the caller's EL), MMU off. The boot CPU published
 * the translation registers in secondary_mmu_config and cleaned them to
 * the point of coherency, so they can be read with the MMU off.
 */
    .globl secondary_entry
secondary_entry:
    msr     daifset, #0xf
    mov     x19, x0                 /* CPU index */

    /* Stack: boot_stacks + (index + 1) * BOOT_STACK_SIZE. */
    adr     x9, boot_stacks
    mov     x10, #BOOT_STACK_SIZE
    madd    x9, x19, x10, x9
    add     x9, x9, x10
    mov     sp, x9

    adr     x9, el2_vectors
    msr     vbar_el2, x9

    adr     x9, secondary_mmu_config
    ldr     x0, [x9, #MMU_MAIR]
    ldr     x1, [x9, #MMU_TCR]
    ldr     x2, [x9, #MMU_TTBR]
    ldr     x3, [x9, #MMU_SCTLR]
    bl      mmu_enable_el2

    mov     x0, x19
    bl      boot_secondary          /* does not return */
    b       halt_cpu

    .globl halt_cpu
halt_cpu:
    msr     daifset, #0xf
5:  wfe
    b       5b

    .bss
    .balign 16
    .globl boot_stacks
boot_stacks:
    .space  BOOT_STACK_SIZE * MAX_CPUS
