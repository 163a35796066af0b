/*
 * Constants shared by the guests' C and assembly (keep it preprocessor-only).
 */
#ifndef GUEST_LAYOUT_H
#define GUEST_LAYOUT_H

/* The guest's IPA map (setwise vcpu/guest_layout.hpp = QEMU virt). */
#define GUEST_UART_BASE     0x09000000  /* PL011 */
#define GUEST_GICD_BASE     0x08000000  /* GICv2 distributor (native builds only) */
#define GUEST_GICC_BASE     0x08010000  /* GICv2 CPU interface (native builds only) */

/*
 * The unmapped IPA the abort step loads from. Under setwise nothing is
 * mapped there; natively QEMU virt has virtio-mmio at 0x0a000000, so the
 * native builds use a hole of QEMU's map instead (see README.md).
 */
#ifndef GUEST_ABORT_IPA
#define GUEST_ABORT_IPA     0x0a000000
#endif

/*
 * Per-vCPU stack block, in the image's zero-filled tail (inside the file,
 * so the loader's idea of the image size covers it). AArch32 keeps the
 * lowest EXC_STACK_SIZE bytes for the abt/und/irq/fiq modes; AArch64 uses
 * the whole block as SP_EL1.
 */
#define STACK_SIZE          8192
#define EXC_STACK_SIZE      1024

/* The value the primary passes as CPU_ON context_id. */
#define SECONDARY_CONTEXT   0x5e7c0de1

#endif
