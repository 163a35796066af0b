// core/guest_dtb: each generated tree read back with the reader and the
// machine description the boot itself uses (core/machine), checked against
// the guest's memory map (QEMU virt: distributor 0x08000000, GICv2 CPU
// interface 0x08010000, GICv3 redistributors 0x080a0000 at 128 KiB per
// vCPU, PL011 0x09000000 on SPI 1) and the bindings; every spec rule; and
// dtc, an independent parser, decompiling each tree without a warning.
#include "core/guest_dtb.hpp"
#include "core/fdt.hpp"
#include "core/machine.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

namespace setwise::core {
namespace {

using namespace std::string_view_literals;
using fdt::Blob;
using fdt::Node;

constexpr std::array<u64, 4> kFourCpus{0, 1, 2, 3};
constexpr std::array<u64, 2> kTwoCpus{0, 1};
constexpr std::array<IpaRange, 1> kOneBank{{{Ipa(0x4000'0000), 0x4000'0000}}};
constexpr std::array<IpaRange, 2> kTwoBanks{{{Ipa(0x4000'0000), 0x8000'0000}, {Ipa(0x2'0000'0000), 0x4000'0000}}};

// A fully featured AArch64 guest.
GuestDtbSpec aarch64_v3() {
    GuestDtbSpec spec;
    spec.name = "linux1";
    spec.mpidrs = kFourCpus;
    spec.ram = kOneBank;
    spec.gic = GicVersion::v3;
    spec.vpl011 = true;
    spec.bootargs = "console=ttyAMA0 earlycon root=/dev/ram0";
    spec.initrd = IpaRange{Ipa(0x4800'0000), 0x12'3400};
    return spec;
}

// A plain AArch32 guest.
GuestDtbSpec aarch32_v2() {
    GuestDtbSpec spec;
    spec.name = "armhf";
    spec.mpidrs = kTwoCpus;
    spec.aarch32 = true;
    spec.ram = kOneBank;
    spec.gic = GicVersion::v2;
    return spec;
}

struct Built {
    std::vector<u8> storage = std::vector<u8>(kGuestDtbBufferSize);
    Result<std::span<const u8>> dtb = Status::invalid_argument;
    Blob blob;
    MachineInfo machine;
};

// Builds, opens and describes; fails the test on any error.
std::unique_ptr<Built> build(const GuestDtbSpec& spec) {
    auto b = std::make_unique<Built>();
    b->dtb = build_guest_dtb(spec, b->storage);
    EXPECT_TRUE(b->dtb.ok()) << status_name(b->dtb.status());
    if (!b->dtb.ok()) return b;
    auto blob = Blob::open(b->dtb.value());
    EXPECT_TRUE(blob.ok()) << status_name(blob.status());
    if (!blob.ok()) return b;
    b->blob = blob.value();
    const Status s = describe_machine(b->blob, b->machine);
    EXPECT_EQ(s, Status::ok) << status_name(s);
    return b;
}

std::vector<std::string> strings_of(const Blob& blob, Node node, std::string_view name) {
    std::vector<std::string> out;
    auto p = blob.property(node, name);
    EXPECT_TRUE(p.ok()) << name;
    if (!p) return out;
    EXPECT_TRUE(p.value().strings().valid());
    for (std::string_view s : p.value().strings()) out.emplace_back(s);
    return out;
}

std::string string_of(const Blob& blob, Node node, std::string_view name) {
    auto p = blob.property(node, name);
    EXPECT_TRUE(p.ok()) << name;
    if (!p) return {};
    auto s = p.value().as_string();
    EXPECT_TRUE(s.ok()) << name;
    return s.ok() ? std::string(s.value()) : std::string();
}

u32 u32_of(const Blob& blob, Node node, std::string_view name) {
    auto p = blob.property(node, name);
    EXPECT_TRUE(p.ok()) << name;
    if (!p) return 0;
    auto v = p.value().as_u32();
    EXPECT_TRUE(v.ok()) << name;
    return v.value_or(0);
}

std::vector<u32> cells_of(const Blob& blob, Node node, std::string_view name) {
    std::vector<u32> out;
    auto p = blob.property(node, name);
    EXPECT_TRUE(p.ok()) << name;
    if (!p) return out;
    EXPECT_EQ(p.value().size() % 4, 0u);
    for (usize i = 0; i < p.value().cell_count(); ++i) out.push_back(static_cast<u32>(p.value().cells(i, 1).value()));
    return out;
}

Node node_at(const Blob& blob, std::string_view path) {
    auto n = blob.find_path(path);
    EXPECT_TRUE(n.ok()) << path;
    return n.value_or(Node{});
}

// ---- The root -----------------------------------------------------------

TEST(GuestDtb, RootSaysWhatQemuVirtSaysAfterSetwise) {
    auto b = build(aarch64_v3());
    const Blob& blob = b->blob;
    const Node root = blob.root();
    EXPECT_EQ(strings_of(blob, root, "compatible"), (std::vector<std::string>{"setwise,guest", "linux,dummy-virt"}));
    EXPECT_EQ(string_of(blob, root, "model"), "setwise guest linux1");
    EXPECT_EQ(u32_of(blob, root, "#address-cells"), 2u);
    EXPECT_EQ(u32_of(blob, root, "#size-cells"), 2u);
    // interrupt-parent names the GIC by phandle.
    auto gic = blob.find_by_phandle(u32_of(blob, root, "interrupt-parent"));
    ASSERT_TRUE(gic.ok());
    EXPECT_EQ(gic.value(), b->machine.gic.node);
    // The boot CPU is vCPU 0.
    EXPECT_EQ(blob.header().boot_cpuid_phys, 0u);
}

TEST(GuestDtb, AnUnnamedGuestStillHasAModel) {
    GuestDtbSpec spec = aarch32_v2();
    spec.name = "";
    auto b = build(spec);
    EXPECT_EQ(string_of(b->blob, b->blob.root(), "model"), "setwise guest");
}

// ---- CPUs ---------------------------------------------------------------

TEST(GuestDtb, EveryVcpuIsAPsciCpuWithItsAffinity) {
    auto b = build(aarch64_v3());
    const MachineInfo& m = b->machine;
    ASSERT_EQ(m.cpus.size(), 4u);
    for (usize i = 0; i < 4; ++i) {
        EXPECT_EQ(m.cpus[i].mpidr, i);
        EXPECT_EQ(m.cpus[i].enable_method, "psci");
        EXPECT_EQ(strings_of(b->blob, m.cpus[i].node, "compatible"), (std::vector<std::string>{"arm,armv8"}));
    }
    EXPECT_EQ(b->blob.node_name(m.cpus[3].node).value(), "cpu@3");
    const Node cpus = node_at(b->blob, "/cpus");
    EXPECT_EQ(u32_of(b->blob, cpus, "#address-cells"), 1u);
    EXPECT_EQ(u32_of(b->blob, cpus, "#size-cells"), 0u);
}

TEST(GuestDtb, AnAArch32GuestHasCortexA15Cpus) {
    auto b = build(aarch32_v2());
    ASSERT_EQ(b->machine.cpus.size(), 2u);
    for (const Cpu& cpu : b->machine.cpus) {
        EXPECT_EQ(strings_of(b->blob, cpu.node, "compatible"), (std::vector<std::string>{"arm,cortex-a15"}));
    }
}

// KVM's layout beyond 16 vCPUs: Aff0 = index % 16, Aff1 = index / 16. The
// node's unit address follows `reg`; MPIDR_EL1 bit 31 (RES1) is dropped.
TEST(GuestDtb, CpuRegIsTheAffinityAndNamesTheNode) {
    std::array<u64, 18> mpidrs{};
    for (u64 i = 0; i < 16; ++i) mpidrs[i] = 0x8000'0000 | i;
    mpidrs[16] = 0x100;
    mpidrs[17] = 0x8001'0101; // Aff2 = 1, Aff1 = 1, Aff0 = 1
    GuestDtbSpec spec = aarch64_v3();
    spec.mpidrs = mpidrs;
    auto b = build(spec);
    ASSERT_EQ(b->machine.cpus.size(), 18u);
    EXPECT_EQ(b->machine.cpus[0].mpidr, 0u);
    EXPECT_EQ(b->machine.cpus[15].mpidr, 15u);
    EXPECT_EQ(b->machine.cpus[16].mpidr, 0x100u);
    EXPECT_EQ(b->machine.cpus[17].mpidr, 0x1'0101u);
    EXPECT_EQ(b->blob.node_name(b->machine.cpus[16].node).value(), "cpu@100");
    EXPECT_EQ(b->blob.node_name(b->machine.cpus[17].node).value(), "cpu@10101");
    // 18 redistributor frames.
    ASSERT_GE(b->machine.gic.regs.size(), 2u);
    EXPECT_EQ(b->machine.gic.regs[1], (PaRange{Pa(0x080a'0000), 18 * 0x2'0000}));
}

// ---- Memory -------------------------------------------------------------

TEST(GuestDtb, OneRamBank) {
    auto b = build(aarch64_v3());
    ASSERT_EQ(b->machine.ram.size(), 1u);
    EXPECT_EQ(b->machine.ram[0], (PaRange{Pa(0x4000'0000), 0x4000'0000}));
    const Node mem = node_at(b->blob, "/memory@40000000");
    EXPECT_EQ(string_of(b->blob, mem, "device_type"), "memory");
}

TEST(GuestDtb, TwoRamBanksInOneMemoryNode) {
    GuestDtbSpec spec = aarch64_v3();
    spec.ram = kTwoBanks;
    auto b = build(spec);
    ASSERT_EQ(b->machine.ram.size(), 2u);
    EXPECT_EQ(b->machine.ram[0], (PaRange{Pa(0x4000'0000), 0x8000'0000}));
    EXPECT_EQ(b->machine.ram[1], (PaRange{Pa(0x2'0000'0000), 0x4000'0000}));
    const fdt::RegList reg = b->blob.reg(node_at(b->blob, "/memory@40000000")).value();
    EXPECT_EQ(reg.size(), 2u);
    EXPECT_EQ(reg.address_cells(), 2u);
    EXPECT_EQ(reg.size_cells(), 2u);
}

// ---- GIC ----------------------------------------------------------------

TEST(GuestDtb, GicV3HasTheDistributorAndOneRedistributorFramePerVcpu) {
    auto b = build(aarch64_v3());
    const Gic& gic = b->machine.gic;
    EXPECT_EQ(gic.version, GicVersion::v3);
    EXPECT_EQ(gic.compatible, "arm,gic-v3");
    EXPECT_EQ(b->blob.node_name(gic.node).value(), "intc@8000000");
    ASSERT_EQ(gic.regs.size(), 2u);
    EXPECT_EQ(gic.regs[0], (PaRange{Pa(0x0800'0000), 0x1'0000}));
    EXPECT_EQ(gic.regs[1], (PaRange{Pa(0x080a'0000), 4 * 0x2'0000}));
    EXPECT_EQ(gic.redistributor_regions, 1u);
    EXPECT_EQ(gic.redistributor_stride, 0u); // the architectural stride
    EXPECT_EQ(u32_of(b->blob, gic.node, "#interrupt-cells"), 3u);
    EXPECT_TRUE(b->blob.has_property(gic.node, "interrupt-controller"));
    // No maintenance interrupt and no ITS or v2m child.
    EXPECT_FALSE(b->blob.has_property(gic.node, "interrupts"));
    usize children = 0;
    ASSERT_TRUE(b->blob.for_each_child(gic.node, [&](Node) { ++children; }).ok());
    EXPECT_EQ(children, 0u);
}

TEST(GuestDtb, GicV2HasTheDistributorAndTheCpuInterface) {
    auto b = build(aarch32_v2());
    const Gic& gic = b->machine.gic;
    EXPECT_EQ(gic.version, GicVersion::v2);
    EXPECT_EQ(gic.compatible, "arm,cortex-a15-gic");
    ASSERT_EQ(gic.regs.size(), 2u);
    EXPECT_EQ(gic.regs[0], (PaRange{Pa(0x0800'0000), 0x1'0000}));
    EXPECT_EQ(gic.regs[1], (PaRange{Pa(0x0801'0000), 0x2000}));
    EXPECT_FALSE(b->blob.has_property(gic.node, "interrupts"));
}

// ---- Timer --------------------------------------------------------------

// arm,arch_timer.yaml order: secure phys (PPI 13), non-secure phys (14),
// virtual (11), hypervisor (10); level high (4).
TEST(GuestDtb, TimerOnGicV3HasFourLevelHighPpis) {
    auto b = build(aarch64_v3());
    const Timer& t = b->machine.timer;
    ASSERT_TRUE(t.present);
    const std::vector<u32> got(t.interrupts.begin(), t.interrupts.end());
    EXPECT_EQ(got, (std::vector<u32>{1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 10, 4}));
    EXPECT_EQ(strings_of(b->blob, t.node, "compatible"), (std::vector<std::string>{"arm,armv8-timer"}));
    EXPECT_TRUE(b->blob.has_property(t.node, "always-on"));
    EXPECT_FALSE(t.clock_frequency.has_value()); // CNTFRQ_EL0 says it
}

// arm,gic.yaml: a GICv2 PPI's flags bits [15:8] are the CPU interfaces it
// reaches, one bit per CPU as QEMU sets them: 2 vCPUs -> 0x304.
TEST(GuestDtb, TimerOnGicV2MasksThePpisToTheVcpus) {
    auto b = build(aarch32_v2());
    const Timer& t = b->machine.timer;
    ASSERT_TRUE(t.present);
    const std::vector<u32> got(t.interrupts.begin(), t.interrupts.end());
    EXPECT_EQ(got, (std::vector<u32>{1, 13, 0x304, 1, 14, 0x304, 1, 11, 0x304, 1, 10, 0x304}));
    EXPECT_EQ(strings_of(b->blob, t.node, "compatible"),
              (std::vector<std::string>{"arm,armv8-timer", "arm,armv7-timer"}));
}

TEST(GuestDtb, TimerOnGicV2WithEightVcpusHasAFullMask) {
    constexpr std::array<u64, 8> eight{0, 1, 2, 3, 4, 5, 6, 7};
    GuestDtbSpec spec = aarch32_v2();
    spec.mpidrs = eight;
    auto b = build(spec);
    EXPECT_EQ(cells_of(b->blob, b->machine.timer.node, "interrupts"),
              (std::vector<u32>{1, 13, 0xff04, 1, 14, 0xff04, 1, 11, 0xff04, 1, 10, 0xff04}));
}

// ---- PSCI ---------------------------------------------------------------

TEST(GuestDtb, PsciIsVersion1ThroughHvc) {
    auto b = build(aarch64_v3());
    const Psci& psci = b->machine.psci;
    EXPECT_EQ(psci.version, PsciVersion::v1_0);
    EXPECT_EQ(psci.method, PsciMethod::hvc);
    EXPECT_EQ(strings_of(b->blob, psci.node, "compatible"),
              (std::vector<std::string>{"arm,psci-1.0", "arm,psci-0.2", "arm,psci"}));
    // PSCI 0.1 ids (DEN0022: CPU_ON SMC64 0xc4000003, CPU_OFF 0x84000002).
    EXPECT_EQ(u32_of(b->blob, psci.node, "cpu_on"), 0xc400'0003u);
    EXPECT_EQ(u32_of(b->blob, psci.node, "cpu_off"), 0x8400'0002u);
}

// An AArch32 caller can only use SMC32 ids (SMCCC): CPU_ON 0x84000003.
TEST(GuestDtb, PsciForAnAArch32GuestNamesTheSmc32CpuOn) {
    auto b = build(aarch32_v2());
    const Psci& psci = b->machine.psci;
    EXPECT_EQ(psci.method, PsciMethod::hvc);
    EXPECT_EQ(u32_of(b->blob, psci.node, "cpu_on"), 0x8400'0003u);
    EXPECT_EQ(u32_of(b->blob, psci.node, "cpu_off"), 0x8400'0002u);
}

// ---- PL011 and /chosen --------------------------------------------------

TEST(GuestDtb, StdoutPathIsThePl011WithItsClocks) {
    auto b = build(aarch64_v3());
    const Blob& blob = b->blob;
    ASSERT_TRUE(b->machine.console.has_value()) << status_name(b->machine.console_status);
    const ConsoleNode& c = *b->machine.console;
    EXPECT_EQ(c.path, "/pl011@9000000");
    ASSERT_TRUE(c.reg.has_value());
    EXPECT_EQ(*c.reg, (PaRange{Pa(0x0900'0000), 0x1000}));
    EXPECT_TRUE(c.compatible.contains("arm,pl011"));
    EXPECT_TRUE(c.compatible.contains("arm,primecell"));
    EXPECT_EQ(std::string(c.compatible.first()), "arm,pl011");
    // SPI 1, level high.
    EXPECT_EQ(cells_of(blob, c.node, "interrupts"), (std::vector<u32>{0, 1, 4}));
    EXPECT_EQ(strings_of(blob, c.node, "clock-names"), (std::vector<std::string>{"uartclk", "apb_pclk"}));
    const std::vector<u32> clocks = cells_of(blob, c.node, "clocks");
    ASSERT_EQ(clocks.size(), 2u);
    EXPECT_EQ(clocks[0], clocks[1]);
    auto clock = blob.find_by_phandle(clocks[0]);
    ASSERT_TRUE(clock.ok());
    EXPECT_EQ(blob.node_name(clock.value()).value(), "apb-pclk");
    EXPECT_EQ(strings_of(blob, clock.value(), "compatible"), (std::vector<std::string>{"fixed-clock"}));
    EXPECT_EQ(u32_of(blob, clock.value(), "#clock-cells"), 0u);
    EXPECT_EQ(u32_of(blob, clock.value(), "clock-frequency"), 24'000'000u);
    EXPECT_TRUE(blob.has_property(clock.value(), "clock-output-names"));
    // serial0 (ttyAMA0) is the same node.
    auto alias = blob.alias("serial0");
    ASSERT_TRUE(alias.ok());
    EXPECT_EQ(alias.value(), c.node);
}

TEST(GuestDtb, ChosenCarriesBootargsAndTheInitrd) {
    auto b = build(aarch64_v3());
    EXPECT_EQ(b->machine.bootargs, "console=ttyAMA0 earlycon root=/dev/ram0");
    const BootModule* initrd = nullptr;
    for (const BootModule& m : b->machine.modules) {
        if (m.kind == ModuleKind::initrd) initrd = &m;
    }
    ASSERT_NE(initrd, nullptr);
    EXPECT_EQ(initrd->range, (PaRange{Pa(0x4800'0000), 0x12'3400}));
    // 64-bit values, end exclusive.
    const Node chosen = node_at(b->blob, "/chosen");
    EXPECT_EQ(b->blob.property(chosen, "linux,initrd-start").value().as_u64().value(), 0x4800'0000u);
    EXPECT_EQ(b->blob.property(chosen, "linux,initrd-end").value().as_u64().value(), 0x4812'3400u);
}

TEST(GuestDtb, WithoutPl011BootargsOrInitrdNoneIsDescribed) {
    auto b = build(aarch32_v2());
    const Blob& blob = b->blob;
    EXPECT_FALSE(b->machine.console.has_value());
    EXPECT_EQ(b->machine.console_status, Status::ok);
    EXPECT_TRUE(b->machine.modules.empty());
    const Node chosen = node_at(blob, "/chosen");
    EXPECT_FALSE(blob.has_property(chosen, "bootargs"));
    EXPECT_FALSE(blob.has_property(chosen, "stdout-path"));
    EXPECT_FALSE(blob.has_property(chosen, "linux,initrd-start"));
    EXPECT_FALSE(blob.has_property(chosen, "linux,initrd-end"));
    EXPECT_EQ(blob.find_path("/aliases").status(), Status::not_found);
    EXPECT_EQ(blob.find_path("/apb-pclk").status(), Status::not_found);
    EXPECT_EQ(blob.find_compatible("arm,pl011").status(), Status::not_found);
}

TEST(GuestDtb, OnlyTheExpectedTopLevelNodes) {
    auto b = build(aarch64_v3());
    std::vector<std::string> names;
    ASSERT_TRUE(b->blob.for_each_child(b->blob.root(), [&](Node n) {
                           names.emplace_back(b->blob.node_name(n).value());
                       }).ok());
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"aliases", "apb-pclk", "chosen", "cpus", "intc@8000000",
                                                "memory@40000000", "pl011@9000000", "psci", "timer"}));
}

// ---- Spec validation ----------------------------------------------------

Status build_status(const GuestDtbSpec& spec) {
    std::vector<u8> buffer(kGuestDtbBufferSize);
    const Status s = build_guest_dtb(spec, buffer).status();
    EXPECT_EQ(validate_guest_dtb_spec(spec), s == Status::no_memory ? Status::ok : s);
    return s;
}

TEST(GuestDtb, VcpuCountsOutsideTheLimitsAreInvalid) {
    GuestDtbSpec spec = aarch64_v3();
    spec.mpidrs = {};
    EXPECT_EQ(build_status(spec), Status::invalid_argument);

    std::array<u64, 65> many{};
    for (u64 i = 0; i < many.size(); ++i) many[i] = (i / 16) << 8 | (i % 16);
    spec.mpidrs = std::span<const u64>(many).first(64);
    EXPECT_EQ(build_status(spec), Status::ok);
    spec.mpidrs = many;
    EXPECT_EQ(build_status(spec), Status::invalid_argument);

    GuestDtbSpec v2 = aarch32_v2();
    v2.mpidrs = std::span<const u64>(many).first(8);
    EXPECT_EQ(build_status(v2), Status::ok);
    v2.mpidrs = std::span<const u64>(many).first(9);
    EXPECT_EQ(build_status(v2), Status::invalid_argument);
}

TEST(GuestDtb, AGicIsRequired) {
    GuestDtbSpec spec = aarch64_v3();
    spec.gic = GicVersion::none;
    EXPECT_EQ(build_status(spec), Status::invalid_argument);
    spec.gic = static_cast<GicVersion>(4);
    EXPECT_EQ(build_status(spec), Status::invalid_argument);
}

TEST(GuestDtb, MpidrsMustBeDistinctAffinitiesWithoutAff3) {
    GuestDtbSpec spec = aarch64_v3();
    constexpr std::array<u64, 2> same{1, 0x8000'0001};
    spec.mpidrs = same;
    EXPECT_EQ(build_status(spec), Status::invalid_argument);
    constexpr std::array<u64, 2> aff3{0, 0x1'0000'0000};
    spec.mpidrs = aff3;
    EXPECT_EQ(build_status(spec), Status::invalid_argument);
    constexpr std::array<u64, 2> res0{0, u64{1} << 40};
    spec.mpidrs = res0;
    EXPECT_EQ(build_status(spec), Status::invalid_argument);
    constexpr std::array<u64, 2> mt_u{0xc100'0000, 0x4000'0001}; // MT, U, RES1: ignored
    spec.mpidrs = mt_u;
    EXPECT_EQ(build_status(spec), Status::ok);
}

TEST(GuestDtb, RamBanksMustBeValid) {
    GuestDtbSpec spec = aarch64_v3();
    spec.initrd.reset();
    auto with = [&](std::initializer_list<IpaRange> banks) {
        const std::vector<IpaRange> v(banks);
        spec.ram = v;
        return build_status(spec);
    };
    EXPECT_EQ(with({}), Status::invalid_argument);
    EXPECT_EQ(with({{Ipa(0x4000'0000), 0}}), Status::invalid_argument);
    EXPECT_EQ(with({{Ipa(0x4000'0800), 0x1000}}), Status::invalid_argument);       // base not 4K
    EXPECT_EQ(with({{Ipa(0x4000'0000), 0x1800}}), Status::invalid_argument);       // size not 4K
    EXPECT_EQ(with({{Ipa(0x3fff'f000), 0x2000}}), Status::invalid_argument);       // below kRamBase
    EXPECT_EQ(with({{Ipa(0xff'ffff'f000), 0x2000}}), Status::invalid_argument);    // past 2^40
    EXPECT_EQ(with({{Ipa(0xff'ffff'f000), 0x1000}}), Status::ok);                  // ends at 2^40
    EXPECT_EQ(with({{Ipa(0x4000'0000), 0x2000}, {Ipa(0x4000'1000), 0x1000}}), Status::invalid_argument);
    EXPECT_EQ(with({{Ipa(0x4000'0000), 0x1000}, {Ipa(0x5000'0000), 0x1000}, {Ipa(0x6000'0000), 0x1000}}),
              Status::invalid_argument);
    EXPECT_EQ(with({{Ipa(0x4000'0000), 0x1000}, {Ipa(0x4000'1000), 0x1000}}), Status::ok); // adjacent
}

TEST(GuestDtb, TheInitrdMustBeNonEmptyAndInsideOneBank) {
    GuestDtbSpec spec = aarch64_v3();
    spec.ram = kTwoBanks;
    spec.initrd = IpaRange{Ipa(0x4800'0000), 0};
    EXPECT_EQ(build_status(spec), Status::invalid_argument);
    spec.initrd = IpaRange{Ipa(0x1000'0000), 0x1000}; // below RAM
    EXPECT_EQ(build_status(spec), Status::invalid_argument);
    spec.initrd = IpaRange{Ipa(0xbfff'f000), 0x2000}; // runs off bank 0
    EXPECT_EQ(build_status(spec), Status::invalid_argument);
    spec.initrd = IpaRange{Ipa(0x2'3fff'f000), 0x1000}; // last page of bank 1
    EXPECT_EQ(build_status(spec), Status::ok);
}

TEST(GuestDtb, ALongNameIsCutInTheModel) {
    GuestDtbSpec spec = aarch64_v3();
    const std::string long_name = std::string(kMaxDomainNameSize, 'n') + "XYZ";
    spec.name = long_name;
    auto b = build(spec);
    EXPECT_EQ(string_of(b->blob, b->blob.root(), "model"), "setwise guest " + std::string(kMaxDomainNameSize, 'n'));
}

TEST(GuestDtb, NamesAndBootargsMustBeText) {
    GuestDtbSpec spec = aarch64_v3();
    spec.name = "a\0b"sv;
    EXPECT_EQ(build_status(spec), Status::invalid_argument);
    spec.name = "ok";
    spec.bootargs = "console=ttyAMA0\0rest"sv;
    EXPECT_EQ(build_status(spec), Status::invalid_argument);
}

// ---- Sizes --------------------------------------------------------------

TEST(GuestDtb, TheRecommendedBufferHoldsTheLargestGuest) {
    std::array<u64, kMaxGuestVcpus> mpidrs{};
    for (u64 i = 0; i < mpidrs.size(); ++i) mpidrs[i] = (i / 16) << 8 | (i % 16);
    const std::string bootargs(4096, 'x');
    const std::string name(kMaxDomainNameSize, 'n');
    GuestDtbSpec spec = aarch64_v3();
    spec.name = name;
    spec.mpidrs = mpidrs;
    spec.ram = kTwoBanks;
    spec.aarch32 = true;
    spec.bootargs = bootargs;
    auto b = build(spec);
    EXPECT_EQ(b->machine.cpus.size(), kMaxGuestVcpus);
    EXPECT_EQ(b->machine.bootargs.size(), 4096u);
}

TEST(GuestDtb, ASmallBufferIsNoMemoryAndNothingOutsideItIsWritten) {
    const GuestDtbSpec spec = aarch64_v3();
    std::vector<u8> reference(kGuestDtbBufferSize);
    auto full = build_guest_dtb(spec, reference);
    ASSERT_TRUE(full.ok());
    const usize needed = full.value().size();
    for (usize size : {usize{0}, usize{39}, usize{40}, needed / 2, needed - 1}) {
        std::vector<u8> storage(size + 128, 0x5a);
        auto r = build_guest_dtb(spec, std::span<u8>(storage).subspan(64, size));
        EXPECT_EQ(r.status(), Status::no_memory) << size;
        for (usize i = 0; i < 64; ++i) {
            ASSERT_EQ(storage[i], 0x5a) << size;
            ASSERT_EQ(storage[64 + size + i], 0x5a) << size;
        }
    }
    std::vector<u8> exact(needed);
    auto r = build_guest_dtb(spec, exact);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(std::equal(r.value().begin(), r.value().end(), full.value().begin(), full.value().end()));
}

// ---- dtc ----------------------------------------------------------------

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Decompiles with dtc (device-tree-compiler), which runs its whole check
// suite on dtb input; returns the DTS and fails on a non-zero exit or any
// warning.
std::string decompile(std::span<const u8> dtb, const std::string& tag) {
    const bool have_dtc = std::system("command -v dtc >/dev/null 2>&1") == 0;
    EXPECT_TRUE(have_dtc) << "dtc is missing: install device-tree-compiler (tools/test does)";
    if (!have_dtc) return {};
    char dir_template[] = "/tmp/guest_dtb_test.XXXXXX";
    const char* dir = mkdtemp(dir_template);
    EXPECT_NE(dir, nullptr);
    if (dir == nullptr) return {};
    const std::string base = std::string(dir) + "/" + tag;
    {
        std::ofstream out(base + ".dtb", std::ios::binary);
        out.write(reinterpret_cast<const char*>(dtb.data()), static_cast<std::streamsize>(dtb.size()));
    }
    const std::string cmd = "dtc -q -I dtb -O dts -o '" + base + ".dts' '" + base + ".dtb' 2>'" + base + ".err'";
    const int rc = std::system(cmd.c_str());
    EXPECT_EQ(rc, 0) << tag << ": " << read_file(base + ".err");
    const std::string dts = read_file(base + ".dts");
    const std::string err = read_file(base + ".err");
    EXPECT_EQ(err, "") << tag;
    // Once more without -q: every check's warning would show.
    const std::string loud = "dtc -I dtb -O dts -o /dev/null '" + base + ".dtb' 2>'" + base + ".err2'";
    EXPECT_EQ(std::system(loud.c_str()), 0) << tag;
    EXPECT_EQ(read_file(base + ".err2"), "") << tag;
    std::remove((base + ".dtb").c_str());
    std::remove((base + ".dts").c_str());
    std::remove((base + ".err").c_str());
    std::remove((base + ".err2").c_str());
    rmdir(dir);
    return dts;
}

bool contains(const std::string& text, std::string_view needle) {
    return text.find(needle) != std::string::npos;
}

TEST(GuestDtb, DtcDecompilesTheGicV3TreeWithoutWarnings) {
    auto b = build(aarch64_v3());
    ASSERT_TRUE(b->dtb.ok());
    const std::string dts = decompile(b->dtb.value(), "v3");
    EXPECT_TRUE(contains(dts, "compatible = \"arm,gic-v3\";")) << dts;
    EXPECT_TRUE(contains(dts, "method = \"hvc\";")) << dts;
    EXPECT_TRUE(contains(dts, "pl011@9000000 {")) << dts;
    EXPECT_TRUE(contains(dts, "stdout-path = \"/pl011@9000000\";")) << dts;
}

TEST(GuestDtb, DtcDecompilesTheGicV2TreeWithoutWarnings) {
    auto b = build(aarch32_v2());
    ASSERT_TRUE(b->dtb.ok());
    const std::string dts = decompile(b->dtb.value(), "v2");
    EXPECT_TRUE(contains(dts, "compatible = \"arm,cortex-a15-gic\";")) << dts;
    EXPECT_TRUE(contains(dts, "cpu@1 {")) << dts;
}

TEST(GuestDtb, DtcDecompilesTheLargestTreeWithoutWarnings) {
    std::array<u64, kMaxGuestVcpus> mpidrs{};
    for (u64 i = 0; i < mpidrs.size(); ++i) mpidrs[i] = (i / 16) << 8 | (i % 16);
    GuestDtbSpec spec = aarch64_v3();
    spec.mpidrs = mpidrs;
    spec.ram = kTwoBanks;
    auto b = build(spec);
    ASSERT_TRUE(b->dtb.ok());
    const std::string dts = decompile(b->dtb.value(), "max");
    EXPECT_TRUE(contains(dts, "cpu@30f {")) << dts;
}

} // namespace
} // namespace setwise::core
