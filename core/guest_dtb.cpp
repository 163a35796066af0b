// A guest's generated device tree. See guest_dtb.hpp for the tree and the
// bindings it follows.
#include "core/guest_dtb.hpp"

#include <array>
#include <utility>

#include "arch/arm64/registers.hpp"
#include "core/fdt_writer.hpp"
#include "core/format.hpp"
#include "vcpu/guest_layout.hpp"

namespace setwise::core {

namespace {

// The root's #address-cells / #size-cells: every device and RAM `reg`
// below is two 64-bit numbers.
constexpr u32 kRootCells = 2;

// GIC interrupt specifier (arm,gic.yaml, arm,gic-v3.yaml): <type number
// flags>, type 0 = SPI, 1 = PPI; flags bits [3:0] the trigger, 4 = level
// high; for a GICv2 PPI, bits [15:8] the mask of the CPU interfaces it is
// wired to.
constexpr u32 kIrqTypeSpi = 0;
constexpr u32 kIrqTypePpi = 1;
constexpr u32 kIrqLevelHigh = 4;
constexpr unsigned kGicV2PpiCpuMaskShift = 8;

// PSCI 0.1 has no standard function ids, so its binding carries them
// (arm/psci.yaml); 0.2 and later ignore these. The values are the PSCI
// 0.2 ids (DEN0022, function ID table): CPU_OFF exists only as SMC32,
// CPU_ON as SMC32 0x84000003 and SMC64 0xc4000003. An AArch32 caller can
// only make SMC32/HVC32 calls (SMC Calling Convention, DEN0028), so it
// gets the SMC32 one, as QEMU gives a 32-bit CPU.
constexpr u32 kPsciCpuOff = 0x8400'0002;
constexpr u32 kPsciCpuOn32 = 0x8400'0003;
constexpr u32 kPsciCpuOn64 = 0xc400'0003;

// The fixed clock QEMU virt feeds its PL011 (hw/arm/virt.c, "apb-pclk"):
// Linux's amba bus and amba-pl011 driver refuse a PL011 without clocks.
constexpr u32 kApbClockHz = 24'000'000;

// A vCPU's `reg` under /cpus with #address-cells = 1: MPIDR_EL1
// Aff2..Aff0 (arm/cpus.yaml). Aff3 is checked to be 0 by validation.
u32 cpu_reg(u64 mpidr) {
    return static_cast<u32>(arm64::MpidrEl1(mpidr).affinity());
}

constexpr u64 kIpaLimit = u64{1} << guest::kIpaBits;

bool has_nul(std::string_view s) {
    return fdt::str_find(s, '\0') != std::string_view::npos;
}

bool valid_ram_bank(const IpaRange& bank) {
    return bank.size != 0 && bank.base.is_aligned(kPageSize) && is_aligned(bank.size, kPageSize) &&
           bank.base >= guest::kRamBase && bank.base.raw() < kIpaLimit &&
           bank.size <= kIpaLimit - bank.base.raw();
}

// A node or path name into `buf`; the fixed formats below always fit.
template <usize N, typename... Args>
std::string_view name_of(std::array<char, N>& buf, std::string_view pattern, const Args&... args) {
    return fmt::format(buf.data(), buf.size(), pattern, args...);
}

void add_cpus(fdt::Writer& w, const GuestDtbSpec& spec) {
    w.begin_node("cpus");
    w.property_u32("#address-cells", 1);
    w.property_u32("#size-cells", 0);
    for (u64 mpidr : spec.mpidrs) {
        const u32 affinity = cpu_reg(mpidr);
        std::array<char, 16> name{};
        // The unit address is the first `reg` address (§2.2.1), here the
        // affinity; QEMU's cpu@<index> agrees only while Aff0 = index.
        w.begin_node(name_of(name, "cpu@{:x}", affinity));
        w.property_string("device_type", "cpu");
        w.property_string("compatible", spec.aarch32 ? "arm,cortex-a15" : "arm,armv8");
        w.property_u32("reg", affinity);
        w.property_string("enable-method", "psci");
        w.end_node();
    }
    w.end_node();
}

void add_memory(fdt::Writer& w, const GuestDtbSpec& spec) {
    std::array<char, 32> name{};
    w.begin_node(name_of(name, "memory@{:x}", spec.ram[0].base.raw()));
    w.property_string("device_type", "memory");
    std::array<std::pair<u64, u64>, kMaxGuestRamBanks> reg{};
    for (usize i = 0; i < spec.ram.size(); ++i) reg[i] = {spec.ram[i].base.raw(), spec.ram[i].size};
    w.property_reg(kRootCells, kRootCells, std::span(reg.data(), spec.ram.size()));
    w.end_node();
}

void add_psci(fdt::Writer& w, const GuestDtbSpec& spec) {
    w.begin_node("psci");
    w.property_string_list("compatible", {"arm,psci-1.0", "arm,psci-0.2", "arm,psci"});
    w.property_string("method", "hvc");
    w.property_u32("cpu_on", spec.aarch32 ? kPsciCpuOn32 : kPsciCpuOn64);
    w.property_u32("cpu_off", kPsciCpuOff);
    w.end_node();
}

void add_gic(fdt::Writer& w, const GuestDtbSpec& spec) {
    std::array<char, 32> name{};
    w.begin_node(name_of(name, "intc@{:x}", guest::kGicDistBase.raw()));
    const bool v3 = spec.gic == GicVersion::v3;
    w.property_string("compatible", v3 ? "arm,gic-v3" : "arm,cortex-a15-gic");
    w.property_u32("#interrupt-cells", 3);
    // No child nodes (no ITS, no v2m); 0 as Xen's domU GIC node says, and
    // dtc warns about an interrupt provider without #address-cells
    // (it is the parent unit-address size of an interrupt-map).
    w.property_u32("#address-cells", 0);
    w.property_empty("interrupt-controller");
    if (v3) {
        // One contiguous redistributor region, one 128 KiB RD_base +
        // SGI_base pair per vCPU (GICv3 IHI 0069 §12.10).
        w.property_u32("#redistributor-regions", 1);
        w.property_reg(kRootCells, kRootCells,
                       {{guest::kGicDistBase.raw(), guest::kGicDistSize},
                        {guest::kGicV3RedistBase.raw(), spec.mpidrs.size() * guest::kGicV3RedistStride}});
    } else {
        w.property_reg(kRootCells, kRootCells,
                       {{guest::kGicDistBase.raw(), guest::kGicDistSize},
                        {guest::kGicV2CpuBase.raw(), guest::kGicV2CpuSize}});
    }
    w.property_u32("phandle", kGuestGicPhandle);
    w.end_node();
}

void add_timer(fdt::Writer& w, const GuestDtbSpec& spec) {
    w.begin_node("timer");
    if (spec.aarch32) {
        w.property_string_list("compatible", {"arm,armv8-timer", "arm,armv7-timer"});
    } else {
        w.property_string("compatible", "arm,armv8-timer");
    }
    // A GICv2 PPI specifier names the CPU interfaces the PPI reaches
    // (bits [15:8]); QEMU sets one bit per CPU. A GICv3 specifier has no
    // such field (arm,gic-v3.yaml: the third cell is the trigger type only;
    // PPI affinity would be a fourth cell).
    u32 flags = kIrqLevelHigh;
    if (spec.gic == GicVersion::v2) {
        const u32 mask = (u32{1} << spec.mpidrs.size()) - 1;
        flags |= mask << kGicV2PpiCpuMaskShift;
    }
    // arm,arch_timer.yaml order: secure physical, non-secure physical,
    // virtual, hypervisor.
    w.property_cells("interrupts", {kIrqTypePpi, guest::kTimerPpiSecure, flags,
                                    kIrqTypePpi, guest::kTimerPpiNonSecure, flags,
                                    kIrqTypePpi, guest::kTimerPpiVirtual, flags,
                                    kIrqTypePpi, guest::kTimerPpiHyp, flags});
    w.property_empty("always-on");
    w.end_node();
}

void add_uart(fdt::Writer& w, std::string_view uart_name) {
    w.begin_node("apb-pclk");
    w.property_string("compatible", "fixed-clock");
    w.property_u32("#clock-cells", 0);
    w.property_u32("clock-frequency", kApbClockHz);
    w.property_string("clock-output-names", "clk24mhz");
    w.property_u32("phandle", kGuestClockPhandle);
    w.end_node();

    w.begin_node(uart_name);
    w.property_string_list("compatible", {"arm,pl011", "arm,primecell"});
    w.property_reg(kRootCells, kRootCells, {{guest::kUartBase.raw(), guest::kUartSize}});
    w.property_cells("interrupts", {kIrqTypeSpi, guest::kUartSpi, kIrqLevelHigh});
    // pl011.yaml: "uartclk" (the baud clock) and "apb_pclk" (the bus clock
    // the amba bus enables before probing); both the fixed clock here.
    w.property_cells("clocks", {kGuestClockPhandle, kGuestClockPhandle});
    w.property_string_list("clock-names", {"uartclk", "apb_pclk"});
    w.end_node();
}

} // namespace

Status validate_guest_dtb_spec(const GuestDtbSpec& spec) {
    if (has_nul(spec.name) || has_nul(spec.bootargs)) return Status::invalid_argument;

    const usize vcpus = spec.mpidrs.size();
    if (vcpus == 0 || vcpus > kMaxGuestVcpus) return Status::invalid_argument;
    // Also refuses a value outside the enum, which the switch would pass.
    if (spec.gic != GicVersion::v2 && spec.gic != GicVersion::v3) return Status::invalid_argument;
    switch (spec.gic) {
    case GicVersion::v2:
        if (vcpus > kMaxGuestVcpusGicV2) return Status::invalid_argument;
        break;
    case GicVersion::v3:
        if (vcpus * guest::kGicV3RedistStride > guest::kGicV3RedistRegionSize) return Status::invalid_argument;
        break;
    case GicVersion::none:
        return Status::invalid_argument;
    }
    // MPIDR_EL1 (DDI 0487 D19.2.87): bits [63:40] are RES0; RES1 (31),
    // U (30) and MT (24) are not affinity and are ignored.
    for (usize i = 0; i < vcpus; ++i) {
        const arm64::MpidrEl1 mpidr(spec.mpidrs[i]);
        if (mpidr.get<arm64::MpidrEl1::aff3>() != 0 || (mpidr.raw() >> 40) != 0) return Status::invalid_argument;
        for (usize j = 0; j < i; ++j) {
            if (cpu_reg(spec.mpidrs[j]) == cpu_reg(mpidr.raw())) return Status::invalid_argument;
        }
    }

    if (spec.ram.empty() || spec.ram.size() > kMaxGuestRamBanks) return Status::invalid_argument;
    for (usize i = 0; i < spec.ram.size(); ++i) {
        if (!valid_ram_bank(spec.ram[i])) return Status::invalid_argument;
        for (usize j = 0; j < i; ++j) {
            if (spec.ram[i].overlaps(spec.ram[j])) return Status::invalid_argument;
        }
    }

    if (spec.initrd) {
        bool inside = false;
        for (const IpaRange& bank : spec.ram) inside = inside || bank.contains(*spec.initrd);
        if (spec.initrd->empty() || !inside) return Status::invalid_argument;
    }
    return Status::ok;
}

Result<std::span<const u8>> build_guest_dtb(const GuestDtbSpec& spec, std::span<u8> buffer) {
    SW_TRY_VOID(Result<void>(validate_guest_dtb_spec(spec)));

    std::array<char, 32> uart_name{};
    const std::string_view uart = name_of(uart_name, "pl011@{:x}", guest::kUartBase.raw());
    std::array<char, 32> uart_path{};
    const std::string_view uart_abs = name_of(uart_path, "/{}", uart);
    const std::string_view name(spec.name.data(),
                                spec.name.size() < kMaxDomainNameSize ? spec.name.size() : kMaxDomainNameSize);
    std::array<char, 16 + kMaxDomainNameSize> model_buf{};
    const std::string_view model =
        name.empty() ? std::string_view("setwise guest") : name_of(model_buf, "setwise guest {}", name);

    // boot_cpuid_phys: vCPU 0 is the one the domain starts.
    fdt::Writer w(buffer, cpu_reg(spec.mpidrs[0]));
    w.begin_node("");
    w.property_string_list("compatible", {"setwise,guest", "linux,dummy-virt"});
    w.property_string("model", model);
    w.property_u32("#address-cells", kRootCells);
    w.property_u32("#size-cells", kRootCells);
    w.property_u32("interrupt-parent", kGuestGicPhandle);

    if (spec.vpl011) {
        // ttyAMA0 on Linux; §3.3 alias values are full paths.
        w.begin_node("aliases");
        w.property_string("serial0", uart_abs);
        w.end_node();
    }

    // Linux (drivers/of/fdt.c) wants /chosen even when it says nothing.
    w.begin_node("chosen");
    if (!spec.bootargs.empty()) w.property_string("bootargs", spec.bootargs);
    if (spec.vpl011) w.property_string("stdout-path", uart_abs);
    if (spec.initrd) {
        // 64-bit values: both AArch64 and AArch32 Linux read 4 or 8 bytes.
        w.property_u64("linux,initrd-start", spec.initrd->base.raw());
        w.property_u64("linux,initrd-end", spec.initrd->end().raw());
    }
    w.end_node();

    add_cpus(w, spec);
    add_memory(w, spec);
    add_psci(w, spec);
    add_gic(w, spec);
    add_timer(w, spec);
    if (spec.vpl011) add_uart(w, uart);
    w.end_node();
    return w.finish();
}

} // namespace setwise::core
