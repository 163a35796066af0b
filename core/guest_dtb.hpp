// Each guest's generated device tree: it describes only what the guest is
// given -- its vCPUs, its RAM, the virtual GIC, the generic timer, PSCI
// through HVC, optionally the vPL011, and /chosen -- at the IPAs of
// vcpu/guest_layout.hpp (QEMU virt's map), with the nodes and properties
// QEMU's virt machine and Xen's dom0less domU trees use, so Linux's drivers
// bind unchanged. No ITS, no GICv2m, no maintenance interrupt, no
// /hypervisor node.
//
// The tree, for a 2-vCPU AArch64 guest with GICv3 and the vPL011:
//
//   / { compatible = "setwise,guest", "linux,dummy-virt"; model = "setwise guest <name>";
//       #address-cells = <2>; #size-cells = <2>; interrupt-parent = <&gic>;
//     aliases { serial0 = "/pl011@9000000"; };
//     chosen { bootargs; stdout-path = "/pl011@9000000"; linux,initrd-start/-end (u64) };
//     cpus { #address-cells = <1>; #size-cells = <0>;
//            cpu@0 { device_type = "cpu"; compatible = "arm,armv8"; reg = <0>; enable-method = "psci"; };
//            cpu@1 { ... reg = <1>; }; };
//     memory@40000000 { device_type = "memory"; reg = <bank0> [<bank1>]; };
//     psci { compatible = "arm,psci-1.0", "arm,psci-0.2", "arm,psci"; method = "hvc";
//            cpu_on = <0xc4000003>; cpu_off = <0x84000002>; };
//     intc@8000000 { compatible = "arm,gic-v3"; #interrupt-cells = <3>; #address-cells = <0>;
//                    interrupt-controller; #redistributor-regions = <1>;
//                    reg = <distributor>, <redistributors: vCPUs x 128 KiB>; phandle = <1>; };
//     timer { compatible = "arm,armv8-timer"; interrupts = <1 13 4>, <1 14 4>, <1 11 4>, <1 10 4>;
//             always-on; };
//     apb-pclk { compatible = "fixed-clock"; #clock-cells = <0>; clock-frequency = <24000000>;
//                clock-output-names = "clk24mhz"; phandle = <2>; };
//     pl011@9000000 { compatible = "arm,pl011", "arm,primecell"; reg; interrupts = <0 1 4>;
//                     clocks = <2 2>; clock-names = "uartclk", "apb_pclk"; }; };
//
// Bindings: Devicetree Specification v0.4 (§3), Linux
// Documentation/devicetree/bindings arm/cpus.yaml, arm/psci.yaml,
// interrupt-controller/arm,gic.yaml and arm,gic-v3.yaml,
// timer/arm,arch_timer.yaml, serial/pl011.yaml, clock/fixed-clock.yaml,
// chosen.yaml (dt-schema).
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "core/machine.hpp"
#include "setwise/result.hpp"
#include "setwise/types.hpp"

namespace setwise::core {

inline constexpr usize kMaxGuestVcpus = 64;
inline constexpr usize kMaxGuestRamBanks = 2;
// A GICv2 has eight CPU interfaces (GICv2 architecture specification
// IHI 0048B §1.4.1); the PPI CPU mask of its DT interrupt specifier is
// eight bits wide (arm,gic.yaml).
inline constexpr usize kMaxGuestVcpusGicV2 = 8;
inline constexpr usize kMaxDomainNameSize = 64;
// Enough for kMaxGuestVcpus vCPUs, two RAM banks, an initrd, the vPL011 and
// 4 KiB of bootargs (guest_dtb_test checks it).
inline constexpr usize kGuestDtbBufferSize = 16 * kKiB;

// The phandles the tree uses; any unique values would do.
inline constexpr u32 kGuestGicPhandle = 1;
inline constexpr u32 kGuestClockPhandle = 2;

struct GuestDtbSpec {
    // For `model` ("setwise guest <name>"): cut after kMaxDomainNameSize
    // bytes (the model is for people; a long name is no reason to fail);
    // no NUL; may be empty.
    std::string_view name;
    // One MPIDR per vCPU, vCPU 0 first; the vCPU count is the size
    // (1..kMaxGuestVcpus, at most 8 with GICv2). Full MPIDR_EL1 values or
    // bare affinities: bits [31:24] (RES1, U, MT) are ignored, Aff3 and
    // bits [63:40] must be 0 (/cpus has one address cell: MPIDR[23:0],
    // arm/cpus.yaml), and the affinities must differ.
    std::span<const u64> mpidrs;
    // An AArch32 EL1 guest: cpu compatible "arm,cortex-a15", timer also
    // "arm,armv7-timer", and PSCI 0.1 function ids of the SMC32 convention.
    bool aarch32 = false;
    // 1..kMaxGuestRamBanks non-empty, 4 KiB aligned, disjoint banks at or
    // above guest::kRamBase and below 2^guest::kIpaBits. One memory node
    // named after the first bank lists them all.
    std::span<const IpaRange> ram;
    GicVersion gic = GicVersion::none; // v2 or v3
    bool vpl011 = false;               // the virtual PL011 at guest::kUartBase
    std::string_view bootargs;         // /chosen/bootargs; omitted if empty; no NUL
    // /chosen linux,initrd-start / linux,initrd-end (end exclusive, as
    // Linux reads them); must be non-empty and inside one RAM bank.
    std::optional<IpaRange> initrd;
};

// Builds the guest's DTB into `buffer` (kGuestDtbBufferSize is enough for
// any valid spec with bootargs up to 4 KiB) and returns it: a prefix of
// `buffer`, which Linux wants 8-byte aligned in guest memory. Errors:
// invalid_argument for a spec that breaks a rule above, no_memory if the
// buffer is too small. Nothing outside `buffer` is written.
Result<std::span<const u8>> build_guest_dtb(const GuestDtbSpec& spec, std::span<u8> buffer);

// Checks a spec without building anything: ok or invalid_argument.
Status validate_guest_dtb_spec(const GuestDtbSpec& spec);

} // namespace setwise::core
