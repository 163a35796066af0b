// core/machine: the machine description from QEMU's own virt DTBs (GICv2
// and GICv3, compiled from tests/host/data with dtc at run time) and from
// built blobs covering reserved memory, consoles, dom0less modules, initrd,
// CPUs, GIC, timer and PSCI variants, capacity limits and malformed input.
#include "core/machine.hpp"

#include "core/console.hpp"
#include "fdt_builder.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace setwise::core {
namespace {

using fdt::Blob;
using fdt::Node;

using fdt::testing::Builder;


// Root with 2/2 cells, as QEMU and most arm64 boards have it; the body
// adds nodes between begin and end.
template <typename Body>
std::vector<u8> tree(Body body) {
    Builder b;
    b.begin("").cells("#address-cells", {2}).cells("#size-cells", {2});
    body(b);
    b.end();
    return b.build();
}

struct Described {
    std::vector<u8> bytes;
    Blob blob;
    MachineInfo info;
    Status status = Status::ok;
};

// Keeps the bytes alive alongside the blob and the description.
std::unique_ptr<Described> describe(std::vector<u8> bytes) {
    auto d = std::make_unique<Described>();
    d->bytes = std::move(bytes);
    auto blob = Blob::open(std::span<const u8>(d->bytes.data(), d->bytes.size()));
    EXPECT_TRUE(blob.ok()) << status_name(blob.status());
    if (!blob) {
        d->status = blob.status();
        return d;
    }
    d->blob = blob.value();
    d->status = describe_machine(d->blob, d->info);
    return d;
}

std::string name_of(const Blob& blob, Node n) {
    auto s = blob.node_name(n);
    return s ? std::string(s.value()) : std::string("<error>");
}

PaRange pa(u64 base, u64 size) { return PaRange{Pa(base), size}; }

// ---- QEMU virt, compiled from the dumped DTS ------------------------------

// dtc is a test dependency (tools/test installs it): its absence fails the
// test rather than skipping it.
std::vector<u8> compile_dts(const std::string& dts) {
    if (std::system("command -v dtc >/dev/null 2>&1") != 0) {
        ADD_FAILURE() << "dtc not found in PATH; it is required by these tests";
        return {};
    }
    const std::string out = ::testing::TempDir() + "setwise-machine-test-" + std::to_string(::getpid()) + ".dtb";
    const std::string cmd = "dtc -q -I dts -O dtb -o '" + out + "' '" + dts + "'";
    if (std::system(cmd.c_str()) != 0) {
        ADD_FAILURE() << "failed: " << cmd;
        return {};
    }
    std::ifstream in(out, std::ios::binary);
    std::vector<u8> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::remove(out.c_str());
    EXPECT_FALSE(bytes.empty()) << out;
    return bytes;
}

// What QEMU 7.2 `-M virt,virtualization=on -cpu cortex-a57 -smp 4 -m 1G`
// describes, common to both GIC versions.
void expect_qemu_virt_common(const Described& d) {
    const MachineInfo& m = d.info;
    ASSERT_EQ(m.ram.size(), 1u);
    EXPECT_EQ(m.ram[0], pa(0x40000000, kGiB));
    EXPECT_FALSE(m.ram.truncated());
    EXPECT_TRUE(m.reserved.empty());
    EXPECT_TRUE(m.modules.empty());
    EXPECT_EQ(m.bootargs, "");

    ASSERT_EQ(m.cpus.size(), 4u);
    for (u64 i = 0; i < 4; ++i) {
        EXPECT_EQ(m.cpus[i].mpidr, i);
        EXPECT_EQ(m.cpus[i].enable_method, "psci");
        EXPECT_EQ(name_of(d.blob, m.cpus[i].node), "cpu@" + std::to_string(i));
    }
    EXPECT_EQ(m.boot_cpuid, 0u);

    ASSERT_TRUE(m.console.has_value()) << status_name(m.console_status);
    const ConsoleNode& c = *m.console;
    EXPECT_EQ(c.path, "/pl011@9000000");
    EXPECT_EQ(c.options, "");
    EXPECT_EQ(name_of(d.blob, c.node), "pl011@9000000");
    EXPECT_EQ(c.compatible.first(), "arm,pl011");
    EXPECT_TRUE(c.compatible.contains("arm,primecell"));
    ASSERT_TRUE(c.reg.has_value());
    EXPECT_EQ(*c.reg, pa(0x9000000, 0x1000));
    EXPECT_EQ(c.reg_shift, 0u);
    EXPECT_EQ(c.reg_io_width, 1u);
    EXPECT_FALSE(c.clock_frequency.has_value());

    // QEMU 7.2 with virtualization=on runs PSCI in its own EL3 model and
    // says so: 1.0, conduit SMC.
    EXPECT_EQ(m.psci.version, PsciVersion::v1_0);
    EXPECT_EQ(m.psci.method, PsciMethod::smc);
    EXPECT_FALSE(m.psci.cpu_on.has_value());
    EXPECT_EQ(name_of(d.blob, m.psci.node), "psci");

    EXPECT_TRUE(m.timer.present);
    EXPECT_FALSE(m.timer.clock_frequency.has_value());
    ASSERT_EQ(m.timer.interrupts.size(), 12u);
    const u32 ppis[4] = {13, 14, 11, 10}; // secure, non-secure, virtual, hypervisor
    for (size_t i = 0; i < 4; ++i) {
        EXPECT_EQ(m.timer.interrupts[3 * i], 1u); // PPI
        EXPECT_EQ(m.timer.interrupts[3 * i + 1], ppis[i]);
        EXPECT_EQ(m.timer.interrupts[3 * i + 2] & 0xf, 4u); // level high
    }
}

TEST(MachineQemuVirt, GicV3) {
    auto d = describe(compile_dts(SETWISE_TEST_DATA "/qemu-virt-gicv3.dts"));
    ASSERT_EQ(d->status, Status::ok) << status_name(d->status);
    expect_qemu_virt_common(*d);
    const Gic& g = d->info.gic;
    EXPECT_EQ(g.version, GicVersion::v3);
    EXPECT_EQ(g.compatible, "arm,gic-v3");
    EXPECT_EQ(name_of(d->blob, g.node), "intc@8000000");
    ASSERT_EQ(g.regs.size(), 2u);
    EXPECT_EQ(g.regs[0], pa(0x8000000, 0x10000)); // GICD
    EXPECT_EQ(g.regs[1], pa(0x80a0000, 0xf60000)); // GICR, 123 frames of 128 KiB
    EXPECT_EQ(g.redistributor_regions, 1u);
    EXPECT_EQ(g.redistributor_stride, 0u);
}

TEST(MachineQemuVirt, GicV2) {
    auto d = describe(compile_dts(SETWISE_TEST_DATA "/qemu-virt-gicv2.dts"));
    ASSERT_EQ(d->status, Status::ok) << status_name(d->status);
    expect_qemu_virt_common(*d);
    const Gic& g = d->info.gic;
    EXPECT_EQ(g.version, GicVersion::v2);
    EXPECT_EQ(g.compatible, "arm,cortex-a15-gic");
    ASSERT_EQ(g.regs.size(), 4u);
    EXPECT_EQ(g.regs[0], pa(0x8000000, 0x10000)); // GICD
    EXPECT_EQ(g.regs[1], pa(0x8010000, 0x10000)); // GICC
    EXPECT_EQ(g.regs[2], pa(0x8030000, 0x10000)); // GICH
    EXPECT_EQ(g.regs[3], pa(0x8040000, 0x10000)); // GICV
    // GICv2 encodes the CPU mask in the PPI flags.
    EXPECT_EQ(d->info.timer.interrupts[2], 0xf04u);
}

TEST(MachineQemuVirt, Result) {
    auto bytes = compile_dts(SETWISE_TEST_DATA "/qemu-virt-gicv3.dts");
    auto blob = Blob::open(std::span<const u8>(bytes.data(), bytes.size()));
    ASSERT_TRUE(blob.ok());
    auto info = describe_machine(blob.value());
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info.value().cpus.size(), 4u);
}

// ---- RAM ----------------------------------------------------------------

TEST(MachineRam, EveryMemoryNodeAndRange) {
    auto d = describe(tree([](Builder& b) {
        b.begin("memory@40000000")
            .str("device_type", "memory")
            .cells("reg", {0, 0x40000000, 0, 0x20000000, 0x8, 0x80000000, 0, 0x1000, 0x9, 0, 0, 0});
        b.end();
        b.begin("sdram").str("device_type", "memory").cells("reg", {0, 0x80000000, 0, 0x1000}).end();
        b.begin("memory@1").str("device_type", "memory").str("status", "disabled").cells("reg", {0, 1, 0, 1}).end();
        b.begin("not-memory").str("device_type", "cpu").cells("reg", {0, 2, 0, 2}).end();
        b.begin("bus").begin("memory@0").str("device_type", "memory").cells("reg", {0, 0x1000}).end().end();
    }));
    ASSERT_EQ(d->status, Status::ok);
    std::vector<PaRange> ram(d->info.ram.begin(), d->info.ram.end());
    // The zero-size range is dropped; the nested and disabled nodes ignored.
    EXPECT_EQ(ram, (std::vector<PaRange>{pa(0x40000000, 0x20000000), pa(0x880000000, 0x1000),
                                         pa(0x80000000, 0x1000)}));
}

TEST(MachineRam, OverflowKeepsFirstAndCounts) {
    auto d = describe(tree([](Builder& b) {
        for (u32 i = 0; i < 20; ++i) {
            b.begin("memory@" + std::to_string(i)).str("device_type", "memory").cells("reg", {i, 0, 0, 0x1000}).end();
        }
    }));
    ASSERT_EQ(d->status, Status::ok);
    EXPECT_EQ(d->info.ram.size(), kMaxRamRanges);
    EXPECT_EQ(d->info.ram.dropped(), 4u);
    EXPECT_TRUE(d->info.ram.truncated());
    EXPECT_EQ(d->info.ram[15], pa(u64{15} << 32, 0x1000));
}

TEST(MachineRam, MalformedIsAnError) {
    auto wraps = describe(tree([](Builder& b) {
        b.begin("memory").str("device_type", "memory").cells("reg", {0xffffffff, 0xfffff000, 0, 0x2000}).end();
    }));
    EXPECT_EQ(wraps->status, Status::out_of_range);
    auto ragged = describe(tree([](Builder& b) {
        b.begin("memory").str("device_type", "memory").cells("reg", {0, 0x40000000, 0}).end();
    }));
    EXPECT_EQ(ragged->status, Status::invalid_argument);

    Builder b;
    b.begin("").cells("#address-cells", {3}).cells("#size-cells", {1});
    b.begin("memory").str("device_type", "memory").cells("reg", {0, 0, 0x40000000, 0x1000}).end();
    b.end();
    auto three = describe(b.build());
    EXPECT_EQ(three->status, Status::invalid_argument);
}

// ---- Reserved memory ----------------------------------------------------

TEST(MachineReserved, MemreserveAndReservedMemory) {
    Builder b;
    b.reserve(0x48000000, 0x10000).reserve(0x49000000, 0).reserve(0x4a000000, 0x1000);
    b.begin("").cells("#address-cells", {2}).cells("#size-cells", {2});
    b.begin("reserved-memory").cells("#address-cells", {2}).cells("#size-cells", {2}).empty("ranges");
    b.begin("secmon@5e000000").empty("no-map").cells("reg", {0, 0x5e000000, 0, 0x100000}).end();
    b.begin("fb@60000000").cells("reg", {0, 0x60000000, 0, 0x800000, 0, 0x61000000, 0, 0x1000}).end();
    b.begin("off@70000000").str("status", "disabled").cells("reg", {0, 0x70000000, 0, 0x1000}).end();
    b.begin("dma-pool").str("compatible", "shared-dma-pool").cells("size", {0, 0x400000}).empty("reusable").end();
    b.begin("odd@71000000").str("status", "reserved").cells("reg", {0, 0x71000000, 0, 0x1000}).end();
    b.end();
    b.end();
    auto d = describe(b.build());
    ASSERT_EQ(d->status, Status::ok) << status_name(d->status);
    const auto& r = d->info.reserved;
    ASSERT_EQ(r.size(), 6u);
    EXPECT_EQ(r[0].range, pa(0x48000000, 0x10000));
    EXPECT_EQ(r[0].source, ReservedSource::memreserve);
    EXPECT_FALSE(r[0].node.valid());
    EXPECT_EQ(r[1].range, pa(0x4a000000, 0x1000)); // the empty entry is skipped
    EXPECT_EQ(r[2].range, pa(0x5e000000, 0x100000));
    EXPECT_EQ(r[2].source, ReservedSource::reserved_memory);
    EXPECT_TRUE(r[2].no_map);
    EXPECT_EQ(name_of(d->blob, r[2].node), "secmon@5e000000");
    EXPECT_EQ(r[3].range, pa(0x60000000, 0x800000));
    EXPECT_FALSE(r[3].no_map);
    EXPECT_EQ(r[4].range, pa(0x61000000, 0x1000));
    // Only "disabled" releases memory; any other status still reserves.
    EXPECT_EQ(r[5].range, pa(0x71000000, 0x1000));
}

TEST(MachineReserved, OverflowIsAnError) {
    Builder b;
    for (u64 i = 0; i < 20; ++i) b.reserve(0x40000000 + i * 0x1000, 0x1000);
    b.begin("").cells("#address-cells", {2}).cells("#size-cells", {2});
    b.begin("reserved-memory").cells("#address-cells", {2}).cells("#size-cells", {2}).empty("ranges");
    for (u32 i = 0; i < 13; ++i) {
        b.begin("r@" + std::to_string(i)).cells("reg", {1, i << 12, 0, 0x1000}).end();
    }
    b.end();
    b.end();
    auto d = describe(b.build());
    EXPECT_EQ(d->status, Status::out_of_range);
}

TEST(MachineReserved, ExactlyFullIsFine) {
    Builder b;
    for (u64 i = 0; i < kMaxReserved; ++i) b.reserve(0x40000000 + i * 0x1000, 0x1000);
    b.begin("").end();
    auto d = describe(b.build());
    EXPECT_EQ(d->status, Status::ok);
    EXPECT_EQ(d->info.reserved.size(), kMaxReserved);
}

// ---- Chosen: bootargs and console ------------------------------------------

std::vector<u8> console_tree(std::string_view stdout_property, std::string_view stdout_path) {
    return tree([&](Builder& b) {
        b.begin("aliases").str("serial0", "/soc/serial@1c28000").str("serial1", "/pl011@9000000").end();
        b.begin("chosen").str("bootargs", "sw-tracking=off loglvl=all").str(stdout_property, stdout_path).end();
        b.begin("pl011@9000000").strs("compatible", {"arm,pl011", "arm,primecell"});
        b.cells("reg", {0, 0x9000000, 0, 0x1000}).end();
        b.begin("soc").cells("#address-cells", {1}).cells("#size-cells", {1});
        b.cells("ranges", {0, 0, 0x1000000, 0x2000000}).str("compatible", "simple-bus");
        b.begin("serial@1c28000")
            .strs("compatible", {"snps,dw-apb-uart"})
            .cells("reg", {0x1c28000, 0x400})
            .cells("reg-shift", {2})
            .cells("reg-io-width", {4})
            .cells("clock-frequency", {24000000})
            .end();
        b.end();
    });
}

TEST(MachineConsole, AliasWithOptionsThroughRanges) {
    auto d = describe(console_tree("stdout-path", "serial0:115200n8"));
    ASSERT_EQ(d->status, Status::ok);
    EXPECT_EQ(d->info.bootargs, "sw-tracking=off loglvl=all");
    ASSERT_TRUE(d->info.console.has_value());
    const ConsoleNode& c = *d->info.console;
    EXPECT_EQ(c.path, "serial0");
    EXPECT_EQ(c.options, "115200n8");
    EXPECT_EQ(name_of(d->blob, c.node), "serial@1c28000");
    EXPECT_EQ(c.compatible.first(), "snps,dw-apb-uart");
    ASSERT_TRUE(c.reg.has_value());
    EXPECT_EQ(*c.reg, pa(0x2c28000, 0x400)); // 0x1c28000 through soc's ranges
    EXPECT_EQ(c.reg_shift, 2u);
    EXPECT_EQ(c.reg_io_width, 4u);
    EXPECT_EQ(c.clock_frequency.value_or(0), 24000000u);
}

TEST(MachineConsole, FullPathAndLegacyProperty) {
    auto d = describe(console_tree("linux,stdout-path", "/pl011@9000000:9600"));
    ASSERT_EQ(d->status, Status::ok);
    ASSERT_TRUE(d->info.console.has_value());
    EXPECT_EQ(d->info.console->path, "/pl011@9000000");
    EXPECT_EQ(d->info.console->options, "9600");
    EXPECT_EQ(*d->info.console->reg, pa(0x9000000, 0x1000));

    auto alias = describe(console_tree("stdout-path", "serial1"));
    ASSERT_TRUE(alias->info.console.has_value());
    EXPECT_EQ(alias->info.console->options, "");
    EXPECT_EQ(name_of(alias->blob, alias->info.console->node), "pl011@9000000");

    auto unit_less = describe(console_tree("stdout-path", "/soc/serial:"));
    ASSERT_TRUE(unit_less->info.console.has_value());
    EXPECT_EQ(name_of(unit_less->blob, unit_less->info.console->node), "serial@1c28000");
    EXPECT_EQ(unit_less->info.console->options, "");
}

TEST(MachineConsole, UnresolvableIsReportedNotFatal) {
    auto d = describe(console_tree("stdout-path", "serial7:115200"));
    EXPECT_EQ(d->status, Status::ok);
    EXPECT_FALSE(d->info.console.has_value());
    EXPECT_EQ(d->info.console_status, Status::not_found);
    // The rest is still described.
    EXPECT_EQ(d->info.bootargs, "sw-tracking=off loglvl=all");

    auto none = describe(tree([](Builder& b) { b.begin("chosen").end(); }));
    EXPECT_EQ(none->status, Status::ok);
    EXPECT_FALSE(none->info.console.has_value());
    EXPECT_EQ(none->info.console_status, Status::ok);
    EXPECT_EQ(none->info.bootargs, "");

    auto no_chosen = describe(tree([](Builder&) {}));
    EXPECT_EQ(no_chosen->status, Status::ok);
    EXPECT_FALSE(no_chosen->info.console.has_value());
}

// The driver choice (core/console) for what describe_machine() read: each
// 16550 compatible, and a reg-io-width the driver refuses.
std::vector<u8> uart_tree(std::initializer_list<std::string_view> compatible, std::initializer_list<u32> reg,
                          std::optional<u32> shift, std::optional<u32> width) {
    return tree([&](Builder& b) {
        b.begin("chosen").str("stdout-path", "/soc/serial@10000000:115200n8").end();
        b.begin("soc").cells("#address-cells", {1}).cells("#size-cells", {1}).empty("ranges");
        b.begin("serial@10000000").strs("compatible", compatible).cells("reg", reg);
        if (shift) b.cells("reg-shift", {*shift});
        if (width) b.cells("reg-io-width", {*width});
        b.end().end();
    });
}

TEST(MachineConsole, Ns16550ChosenFromStdoutPath) {
    for (std::string_view compatible : {"ns16550a", "ns16550", "ns8250"}) {
        auto d = describe(uart_tree({compatible}, {0x10000000, 0x100}, std::nullopt, std::nullopt));
        ASSERT_EQ(d->status, Status::ok);
        ASSERT_TRUE(d->info.console.has_value()) << compatible;
        EXPECT_EQ(d->info.console->reg_shift, 0u);
        EXPECT_EQ(d->info.console->reg_io_width, 1u);
        const UartChoice c = choose_uart(*d->info.console);
        EXPECT_EQ(c.kind, UartKind::ns16550) << compatible << ": " << c.problem;
        EXPECT_EQ(c.ns16550.reg_shift, 0u);
        EXPECT_EQ(c.ns16550.reg_io_width, 1u);
        EXPECT_FALSE(c.ns16550.dw_apb);
    }
    // The Allwinner-style node of console_tree(), behind soc's ranges.
    auto dw = describe(console_tree("stdout-path", "serial0:115200n8"));
    ASSERT_TRUE(dw->info.console.has_value());
    const UartChoice c = choose_uart(*dw->info.console);
    ASSERT_EQ(c.kind, UartKind::ns16550) << c.problem;
    EXPECT_EQ(c.ns16550.reg_shift, 2u);
    EXPECT_EQ(c.ns16550.reg_io_width, 4u);
    EXPECT_TRUE(c.ns16550.dw_apb);
    // QEMU's PL011 stays the PL011.
    auto pl011 = describe(console_tree("stdout-path", "serial1"));
    ASSERT_TRUE(pl011->info.console.has_value());
    EXPECT_EQ(choose_uart(*pl011->info.console).kind, UartKind::pl011);
}

TEST(MachineConsole, Ns16550BadRegIoWidthIsNoConsoleNotAnError) {
    auto d = describe(uart_tree({"vendor,soc-uart", "snps,dw-apb-uart"}, {0x10000000, 0x100}, 2, 2));
    // The machine description keeps what the DT says...
    ASSERT_EQ(d->status, Status::ok);
    ASSERT_TRUE(d->info.console.has_value());
    EXPECT_EQ(d->info.console->reg_io_width, 2u);
    EXPECT_EQ(d->info.console->options, "115200n8");
    // ...and the console refuses it with a reason.
    const UartChoice c = choose_uart(*d->info.console);
    EXPECT_EQ(c.kind, UartKind::none);
    EXPECT_EQ(c.problem, "reg-io-width must be 1 or 4");

    auto narrow = describe(uart_tree({"ns16550a"}, {0x10000000, 0x100}, std::nullopt, 4));
    ASSERT_TRUE(narrow->info.console.has_value());
    EXPECT_EQ(choose_uart(*narrow->info.console).problem,
              "reg-io-width is wider than the register stride (1 << reg-shift)");

    auto small = describe(uart_tree({"snps,dw-apb-uart"}, {0x10000000, 0x20}, 2, 4));
    ASSERT_TRUE(small->info.console.has_value());
    EXPECT_EQ(choose_uart(*small->info.console).problem, "reg is too small to reach USR");

    // A malformed reg-io-width (not one cell) makes the console unusable
    // already in the machine description; the rest is described.
    auto bad = describe(tree([](Builder& b) {
        b.begin("chosen").str("stdout-path", "/serial@10000000").end();
        b.begin("serial@10000000").str("compatible", "ns16550a").cells("reg", {0, 0x10000000, 0, 0x100});
        b.prop("reg-io-width", {4}).end();
    }));
    EXPECT_EQ(bad->status, Status::ok);
    EXPECT_FALSE(bad->info.console.has_value());
    EXPECT_EQ(bad->info.console_status, Status::invalid_argument);
}

TEST(MachineConsole, MalformedBootargsIsAnError) {
    auto d = describe(tree([](Builder& b) { b.begin("chosen").prop("bootargs", {'x'}).end(); }));
    EXPECT_EQ(d->status, Status::invalid_argument);
}

// ---- Boot modules ---------------------------------------------------------

// Xen dom0less layout (docs/misc/arm/device-tree/booting.txt).
std::vector<u8> dom0less_tree() {
    return tree([](Builder& b) {
        b.begin("chosen").cells("#address-cells", {1}).cells("#size-cells", {1});
        b.cells("linux,initrd-start", {0x48000000}).cells("linux,initrd-end", {0x48100000});
        b.begin("module@42000000")
            .strs("compatible", {"multiboot,kernel", "multiboot,module"})
            .cells("reg", {0x42000000, 0x800000})
            .str("bootargs", "console=hvc0")
            .end();
        b.begin("domU1")
            .str("compatible", "xen,domain")
            .cells("#address-cells", {1})
            .cells("#size-cells", {1})
            .cells("memory", {0, 0x20000})
            .cells("cpus", {1})
            .empty("vpl011");
        b.begin("module@4a000000")
            .strs("compatible", {"multiboot,kernel", "multiboot,module"})
            .cells("reg", {0x4a000000, 0x600000})
            .end();
        b.begin("module@4b000000")
            .strs("compatible", {"multiboot,ramdisk", "multiboot,module"})
            .cells("reg", {0x4b000000, 0x200000})
            .end();
        b.begin("module@4c000000")
            .strs("compatible", {"multiboot,device-tree", "multiboot,module"})
            .cells("reg", {0x4c000000, 0x1000})
            .end();
        b.begin("module@4d000000").str("compatible", "multiboot,module").cells("reg", {0x4d000000, 0x100}).end();
        b.begin("vcpu").end(); // not a module
        b.end();
        b.begin("domU2").str("compatible", "xen,domain").cells("#address-cells", {2}).cells("#size-cells", {2});
        b.begin("module@100000000")
            .strs("compatible", {"multiboot,kernel", "multiboot,module"})
            .cells("reg", {1, 0, 0, 0x400000})
            .end();
        b.end();
        b.begin("unrelated").str("compatible", "vendor,thing").end();
        b.end();
    });
}

TEST(MachineModules, Dom0lessLayout) {
    auto d = describe(dom0less_tree());
    ASSERT_EQ(d->status, Status::ok) << status_name(d->status);
    const auto& m = d->info.modules;
    ASSERT_EQ(m.size(), 7u);
    EXPECT_EQ(m[0].range, pa(0x42000000, 0x800000));
    EXPECT_EQ(m[0].kind, ModuleKind::kernel);
    EXPECT_FALSE(m[0].domain.valid());
    EXPECT_EQ(name_of(d->blob, m[0].node), "module@42000000");

    EXPECT_EQ(m[1].range, pa(0x4a000000, 0x600000));
    EXPECT_EQ(m[1].kind, ModuleKind::kernel);
    EXPECT_EQ(name_of(d->blob, m[1].domain), "domU1");
    EXPECT_EQ(m[2].kind, ModuleKind::ramdisk);
    EXPECT_EQ(m[2].range, pa(0x4b000000, 0x200000));
    EXPECT_EQ(m[3].kind, ModuleKind::device_tree);
    EXPECT_EQ(m[4].kind, ModuleKind::module);
    EXPECT_EQ(m[4].range, pa(0x4d000000, 0x100));
    EXPECT_EQ(name_of(d->blob, m[4].domain), "domU1");

    // Cells come from the domain node, not /chosen.
    EXPECT_EQ(m[5].range, pa(0x100000000, 0x400000));
    EXPECT_EQ(name_of(d->blob, m[5].domain), "domU2");

    EXPECT_EQ(m[6].kind, ModuleKind::initrd);
    EXPECT_EQ(m[6].range, pa(0x48000000, 0x100000));
    EXPECT_EQ(name_of(d->blob, m[6].node), "chosen");
}

std::vector<u8> initrd_tree(std::initializer_list<u32> start, std::initializer_list<u32> end) {
    return tree([&](Builder& b) {
        b.begin("chosen");
        if (start.size() != 0) b.cells("linux,initrd-start", start);
        if (end.size() != 0) b.cells("linux,initrd-end", end);
        b.end();
    });
}

TEST(MachineModules, Initrd32And64Bit) {
    auto narrow = describe(initrd_tree({0x44000000}, {0x44200000}));
    ASSERT_EQ(narrow->status, Status::ok);
    ASSERT_EQ(narrow->info.modules.size(), 1u);
    EXPECT_EQ(narrow->info.modules[0].range, pa(0x44000000, 0x200000));
    EXPECT_EQ(narrow->info.modules[0].kind, ModuleKind::initrd);

    auto wide = describe(initrd_tree({0x8, 0x80000000}, {0x8, 0x80400000}));
    ASSERT_EQ(wide->status, Status::ok);
    ASSERT_EQ(wide->info.modules.size(), 1u);
    EXPECT_EQ(wide->info.modules[0].range, pa(0x880000000, 0x400000));

    auto mixed = describe(initrd_tree({0x44000000}, {0x0, 0x44001000}));
    ASSERT_EQ(mixed->status, Status::ok);
    EXPECT_EQ(mixed->info.modules[0].range, pa(0x44000000, 0x1000));

    auto empty = describe(initrd_tree({0x44000000}, {0x44000000}));
    ASSERT_EQ(empty->status, Status::ok);
    EXPECT_TRUE(empty->info.modules.empty());
}

TEST(MachineModules, InconsistentInitrdIsAnError) {
    EXPECT_EQ(describe(initrd_tree({0x44000000}, {}))->status, Status::invalid_argument);
    EXPECT_EQ(describe(initrd_tree({}, {0x44000000}))->status, Status::invalid_argument);
    EXPECT_EQ(describe(initrd_tree({0x44200000}, {0x44000000}))->status, Status::invalid_argument);
    EXPECT_EQ(describe(initrd_tree({0x1, 0x2, 0x3}, {0x44000000}))->status, Status::invalid_argument);
}

TEST(MachineModules, ModuleWithoutRegIsAnError) {
    auto d = describe(tree([](Builder& b) {
        b.begin("chosen").begin("module").str("compatible", "multiboot,kernel").end().end();
    }));
    EXPECT_EQ(d->status, Status::invalid_argument);
}

TEST(MachineModules, OverflowIsAnError) {
    auto d = describe(tree([](Builder& b) {
        b.begin("chosen").cells("#address-cells", {1}).cells("#size-cells", {1});
        for (u32 i = 0; i <= kMaxModules; ++i) {
            b.begin("module@" + std::to_string(i)).str("compatible", "multiboot,module").cells("reg", {i << 20, 0x100}).end();
        }
        b.end();
    }));
    EXPECT_EQ(d->status, Status::out_of_range);
}

// ---- CPUs -----------------------------------------------------------------

TEST(MachineCpus, TwoCellMpidrsAndStatus) {
    auto d = describe(tree([](Builder& b) {
        b.begin("cpus").cells("#address-cells", {2}).cells("#size-cells", {0});
        b.begin("cpu-map").begin("cluster0").begin("core0").cells("cpu", {1}).end().end().end();
        b.begin("cpu@0").str("device_type", "cpu").cells("reg", {0, 0}).str("enable-method", "psci").end();
        b.begin("cpu@100").str("device_type", "cpu").cells("reg", {0, 0x100}).str("status", "okay").end();
        b.begin("cpu@101").str("device_type", "cpu").cells("reg", {0, 0x101}).str("status", "disabled").end();
        b.begin("cpu@102").str("device_type", "cpu").cells("reg", {0, 0x102}).str("status", "fail").end();
        b.begin("cpu@100000000").str("device_type", "cpu").cells("reg", {1, 0}).str("enable-method", "spin-table").end();
        b.begin("l2-cache").str("compatible", "cache").end();
        b.end();
    }));
    ASSERT_EQ(d->status, Status::ok) << status_name(d->status);
    const auto& cpus = d->info.cpus;
    ASSERT_EQ(cpus.size(), 3u);
    EXPECT_EQ(cpus[0].mpidr, 0u);
    EXPECT_EQ(cpus[0].enable_method, "psci");
    EXPECT_EQ(cpus[1].mpidr, 0x100u);
    EXPECT_EQ(cpus[1].enable_method, "");
    EXPECT_EQ(cpus[2].mpidr, 0x100000000u);
    EXPECT_EQ(cpus[2].enable_method, "spin-table");
}

TEST(MachineCpus, OverflowKeepsFirst64) {
    auto d = describe(tree([](Builder& b) {
        b.begin("cpus").cells("#address-cells", {1}).cells("#size-cells", {0});
        for (u32 i = 0; i < 70; ++i) {
            b.begin("cpu@" + std::to_string(i)).str("device_type", "cpu").cells("reg", {i}).end();
        }
        b.end();
    }));
    ASSERT_EQ(d->status, Status::ok);
    EXPECT_EQ(d->info.cpus.size(), kMaxCpus);
    EXPECT_EQ(d->info.cpus.dropped(), 6u);
    EXPECT_EQ(d->info.cpus[63].mpidr, 63u);
}

TEST(MachineCpus, BadCellsAreAnError) {
    auto three = describe(tree([](Builder& b) {
        b.begin("cpus").cells("#address-cells", {3}).cells("#size-cells", {0});
        b.begin("cpu@0").str("device_type", "cpu").cells("reg", {0, 0, 0}).end();
        b.end();
    }));
    EXPECT_EQ(three->status, Status::invalid_argument);
    auto no_reg = describe(tree([](Builder& b) {
        b.begin("cpus").cells("#address-cells", {1}).cells("#size-cells", {0});
        b.begin("cpu@0").str("device_type", "cpu").end();
        b.end();
    }));
    EXPECT_EQ(no_reg->status, Status::invalid_argument);
}

// ---- GIC, timer, PSCI -------------------------------------------------------

TEST(MachineGic, V3WithSeveralRedistributorRegions) {
    auto d = describe(tree([](Builder& b) {
        b.begin("interrupt-controller@2f000000")
            .str("compatible", "arm,gic-v3")
            .empty("interrupt-controller")
            .cells("#redistributor-regions", {2})
            .u64p("redistributor-stride", 0x40000)
            .cells("reg", {0, 0x2f000000, 0, 0x10000, 0, 0x2f100000, 0, 0x100000, 0, 0x2f300000, 0, 0x100000,
                           0, 0x2c000000, 0, 0x2000, 0, 0x2c010000, 0, 0x2000, 0, 0x2c02f000, 0, 0x2000})
            .end();
    }));
    ASSERT_EQ(d->status, Status::ok) << status_name(d->status);
    const Gic& g = d->info.gic;
    EXPECT_EQ(g.version, GicVersion::v3);
    EXPECT_EQ(g.redistributor_regions, 2u);
    EXPECT_EQ(g.redistributor_stride, 0x40000u);
    ASSERT_EQ(g.regs.size(), 6u);
    EXPECT_EQ(g.regs[2], pa(0x2f300000, 0x100000));
}

TEST(MachineGic, SelectionRules) {
    auto d = describe(tree([](Builder& b) {
        // Not an interrupt controller: ignored despite the compatible.
        b.begin("fake").str("compatible", "arm,gic-v3").cells("reg", {0, 1, 0, 1, 0, 2, 0, 2}).end();
        b.begin("off").str("compatible", "arm,gic-400").empty("interrupt-controller").str("status", "disabled");
        b.cells("reg", {0, 3, 0, 3, 0, 4, 0, 4}).end();
        b.begin("other-intc").str("compatible", "vendor,intc").empty("interrupt-controller").end();
        b.begin("gic").strs("compatible", {"arm,gic-400", "arm,cortex-a15-gic"}).empty("interrupt-controller");
        b.cells("reg", {0, 0x1000, 0, 0x1000, 0, 0x2000, 0, 0x2000}).end();
    }));
    ASSERT_EQ(d->status, Status::ok);
    EXPECT_EQ(d->info.gic.version, GicVersion::v2);
    EXPECT_EQ(d->info.gic.compatible, "arm,gic-400");
    EXPECT_EQ(name_of(d->blob, d->info.gic.node), "gic");

    auto none = describe(tree([](Builder& b) {
        b.begin("other-intc").str("compatible", "vendor,intc").empty("interrupt-controller").end();
    }));
    ASSERT_EQ(none->status, Status::ok);
    EXPECT_EQ(none->info.gic.version, GicVersion::none);
    EXPECT_TRUE(none->info.gic.regs.empty());
}

TEST(MachineGic, TooFewRegionsIsAnError) {
    auto v3 = describe(tree([](Builder& b) {
        b.begin("gic").str("compatible", "arm,gic-v3").empty("interrupt-controller");
        b.cells("#redistributor-regions", {2}).cells("reg", {0, 0x1000, 0, 0x1000, 0, 0x2000, 0, 0x2000}).end();
    }));
    EXPECT_EQ(v3->status, Status::invalid_argument);
    auto v2 = describe(tree([](Builder& b) {
        b.begin("gic").str("compatible", "arm,cortex-a7-gic").empty("interrupt-controller");
        b.cells("reg", {0, 0x1000, 0, 0x1000}).end();
    }));
    EXPECT_EQ(v2->status, Status::invalid_argument);
    auto zero = describe(tree([](Builder& b) {
        b.begin("gic").str("compatible", "arm,gic-v3").empty("interrupt-controller");
        b.cells("#redistributor-regions", {0}).cells("reg", {0, 0x1000, 0, 0x1000, 0, 0x2000, 0, 0x2000}).end();
    }));
    EXPECT_EQ(zero->status, Status::invalid_argument);
}

TEST(MachineTimer, Armv7WithClockFrequencyAndExtraCells) {
    auto d = describe(tree([](Builder& b) {
        std::vector<u32> irqs;
        for (u32 i = 0; i < 15; ++i) irqs.push_back(i);
        b.begin("timer").str("compatible", "arm,armv7-timer").cells("interrupts", irqs);
        b.cells("clock-frequency", {62500000}).end();
    }));
    ASSERT_EQ(d->status, Status::ok);
    EXPECT_TRUE(d->info.timer.present);
    EXPECT_EQ(d->info.timer.clock_frequency.value_or(0), 62500000u);
    EXPECT_EQ(d->info.timer.interrupts.size(), kMaxTimerCells);
    EXPECT_EQ(d->info.timer.interrupts.dropped(), 3u);
    EXPECT_EQ(d->info.timer.interrupts[11], 11u);

    auto none = describe(tree([](Builder&) {}));
    EXPECT_FALSE(none->info.timer.present);
}

std::vector<u8> psci_tree(std::initializer_list<std::string_view> compatible, std::string_view method) {
    return tree([&](Builder& b) {
        b.begin("psci").strs("compatible", compatible);
        if (!method.empty()) b.str("method", method);
        b.cells("cpu_on", {0x95c1ba5e}).cells("cpu_off", {0x95c1ba5f}).end();
    });
}

TEST(MachinePsci, Versions) {
    auto v01 = describe(psci_tree({"arm,psci"}, "hvc"));
    ASSERT_EQ(v01->status, Status::ok);
    EXPECT_EQ(v01->info.psci.version, PsciVersion::v0_1);
    EXPECT_EQ(v01->info.psci.method, PsciMethod::hvc);
    EXPECT_EQ(v01->info.psci.cpu_on.value_or(0), 0x95c1ba5eu);

    auto v02 = describe(psci_tree({"arm,psci-0.2", "arm,psci"}, "smc"));
    ASSERT_EQ(v02->status, Status::ok);
    EXPECT_EQ(v02->info.psci.version, PsciVersion::v0_2);
    EXPECT_EQ(v02->info.psci.method, PsciMethod::smc);
    EXPECT_FALSE(v02->info.psci.cpu_on.has_value());

    auto none = describe(tree([](Builder&) {}));
    EXPECT_EQ(none->info.psci.version, PsciVersion::none);
    EXPECT_EQ(none->info.psci.method, PsciMethod::none);
}

TEST(MachinePsci, BadMethodIsAnError) {
    EXPECT_EQ(describe(psci_tree({"arm,psci-1.0"}, "svc"))->status, Status::invalid_argument);
    EXPECT_EQ(describe(psci_tree({"arm,psci-1.0"}, "smcc"))->status, Status::invalid_argument);
    EXPECT_EQ(describe(psci_tree({"arm,psci-1.0"}, ""))->status, Status::invalid_argument);
}

} // namespace
} // namespace setwise::core
