// What a guest sees: the physical memory map of QEMU's `virt` machine
// (hw/arm/virt.c's memory map, read for the layout only), so a kernel
// configured for QEMU virt runs unchanged, and each guest's generated DTB
// says the same.
//
//   IPA 0x0800_0000  GIC distributor                 64 KiB
//   IPA 0x0801_0000  GICv2 CPU interface (GICV)      8 KiB (QEMU leaves 64 KiB)
//   IPA 0x080a_0000  GICv3 redistributors            128 KiB per vCPU
//   IPA 0x0900_0000  vPL011                          4 KiB, SPI 1 (INTID 33)
//   IPA 0x4000_0000  RAM                             up to the IPA size
#pragma once

#include "setwise/types.hpp"

namespace setwise::guest {

inline constexpr Ipa kGicDistBase{0x0800'0000};
inline constexpr u64 kGicDistSize = 0x1'0000;
inline constexpr Ipa kGicV2CpuBase{0x0801'0000};
inline constexpr u64 kGicV2CpuSize = 0x2000;
inline constexpr Ipa kGicV3RedistBase{0x080a'0000};
inline constexpr u64 kGicV3RedistStride = 0x2'0000; // RD_base + SGI_base frames
inline constexpr u64 kGicV3RedistRegionSize = 0xf6'0000; // room for 123 vCPUs

inline constexpr Ipa kUartBase{0x0900'0000};
inline constexpr u64 kUartSize = 0x1000;
inline constexpr u32 kUartSpi = 1; // DT `interrupts = <0 1 4>`: INTID 32 + 1

inline constexpr Ipa kRamBase{0x4000'0000};

// Generic timer PPIs as QEMU virt wires them (DT numbers; INTID = 16 + n):
// secure physical 13, non-secure physical 14, virtual 11, hypervisor 10.
inline constexpr u32 kTimerPpiSecure = 13;
inline constexpr u32 kTimerPpiNonSecure = 14;
inline constexpr u32 kTimerPpiVirtual = 11;
inline constexpr u32 kTimerPpiHyp = 10;

// The IPA size setwise gives every guest (VTCR_EL2.T0SZ = 64 - 40), as KVM
// does by default: RAM may reach 0x100_0000_0000.
inline constexpr unsigned kIpaBits = 40;

} // namespace setwise::guest
