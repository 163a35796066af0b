/*
 * Constants shared by the guests' C and assembly (keep it preprocessor-only).
 */
#ifndef GUEST_LAYOUT_H
#define GUEST_LAYOUT_H

/* The guest's IPA map (setwise vcpu/guest_layout.hpp = QEMU virt). */
#define GUEST_UART_BASE     0x09000000  /* PL011 */
#define GUEST_GICD_BASE     0x08000000  /* GIC distributor */
#define GUEST_GICC_BASE     0x08010000  /* GICv2 CPU interface */
#define GUEST_GICR_BASE     0x080a0000  /* GICv3 redistributors, 128 KiB each */

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

/*
 * reboot-once: the two words (magic, ~magic) at this IPA say "the reboot
 * has happened". RAM base + 8 MiB is outside everything a loader puts in
 * guest RAM of 32 MiB or more: under setwise the arm64 Image sits at the
 * RAM base (under 1 MiB), the zImage at half of RAM (RAM < 256 MiB, so at
 * 16 MiB or higher) or at 128 MiB, the DTB and initrd just below min(RAM
 * end, base + 512 MiB); bare QEMU puts a zImage at base + 64 KiB, an Image
 * at base + 2 MiB and its DTB at half of RAM or at 128 MiB. (Base + 16 MiB
 * would not do: that is where setwise puts the zImage of a 32 MiB guest.)
 * The guest still checks at run time that its image and DTB are clear of it.
 */
#define GUEST_REBOOT_MAGIC_IPA  0x40800000
#define GUEST_REBOOT_MAGIC      0x5e7b007eu

/* echo-input: the longest line kept, and how long to wait for it. */
#define GUEST_ECHO_MAX          64
#define GUEST_ECHO_SECONDS      10

#endif
