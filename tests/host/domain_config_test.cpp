// core/domain_config: dom0less domains from DTs compiled with dtc at run
// time (an ImageBuilder-style tree, the Xen binding's own example, every
// malformed case next to a good sibling domain), the kernel check through a
// fake host memory, and the messages' exact text.
#include "core/domain_config.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace setwise::core {
namespace {

using fdt::Blob;

// ---- dtc --------------------------------------------------------------

// dtc is a test dependency (tools/test installs it): its absence fails the
// test rather than skipping it. `force` keeps a tree dtc finds wrong (two
// nodes of the same name), which a hand-edited DT can still have.
std::vector<u8> compile_dts(const std::string& source, bool force = false) {
    if (std::system("command -v dtc >/dev/null 2>&1") != 0) {
        ADD_FAILURE() << "dtc not found in PATH; it is required by these tests";
        return {};
    }
    static int serial = 0;
    const std::string base =
        ::testing::TempDir() + "setwise-domain-test-" + std::to_string(::getpid()) + "-" + std::to_string(serial++);
    const std::string dts = base + ".dts";
    const std::string dtb = base + ".dtb";
    {
        std::ofstream out(dts);
        out << source;
    }
    const std::string cmd =
        std::string("dtc -q ") + (force ? "-f " : "") + "-I dts -O dtb -o '" + dtb + "' '" + dts + "' 2>/dev/null";
    const int rc = std::system(cmd.c_str());
    std::ifstream in(dtb, std::ios::binary);
    std::vector<u8> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::remove(dts.c_str());
    std::remove(dtb.c_str());
    if (rc != 0 && !force) {
        ADD_FAILURE() << "failed: " << cmd << "\n" << source;
        return {};
    }
    EXPECT_FALSE(bytes.empty()) << cmd;
    return bytes;
}

// A 1 GiB, 4-CPU machine like QEMU virt; `chosen` goes inside /chosen,
// whose cells are 2 and 2 as ImageBuilder sets them.
std::string machine_dts(const std::string& chosen) {
    return R"(/dts-v1/;
/ {
    #address-cells = <2>;
    #size-cells = <2>;
    memory@40000000 {
        device_type = "memory";
        reg = <0x0 0x40000000 0x0 0x40000000>;
    };
    cpus {
        #address-cells = <1>;
        #size-cells = <0>;
        cpu@0 { device_type = "cpu"; compatible = "arm,cortex-a57"; reg = <0>; enable-method = "psci"; };
        cpu@1 { device_type = "cpu"; compatible = "arm,cortex-a57"; reg = <1>; enable-method = "psci"; };
        cpu@2 { device_type = "cpu"; compatible = "arm,cortex-a57"; reg = <2>; enable-method = "psci"; };
        cpu@3 { device_type = "cpu"; compatible = "arm,cortex-a57"; reg = <3>; enable-method = "psci"; };
    };
    chosen {
        #address-cells = <2>;
        #size-cells = <2>;
)" + chosen + R"(
    };
};
)";
}

// ---- Running the parser ---------------------------------------------------

struct Message {
    DiagnosticSeverity severity;
    std::string domain;
    std::string node;
    std::string property;
    std::string text;
};

class Recorder final : public DomainDiagnosticSink {
public:
    void report(const DomainDiagnostic& d) override {
        // The contract every sink relies on: bounded and NUL-terminated.
        EXPECT_LT(d.message_len, DomainDiagnostic::kMessageCapacity);
        EXPECT_EQ(d.message_buf[d.message_len], '\0');
        EXPECT_EQ(std::strlen(d.c_str()), d.message_len);
        messages.push_back({d.severity, std::string(d.domain), std::string(d.node), std::string(d.property),
                            std::string(d.message())});
    }
    std::vector<Message> messages;
};

std::string dump(const std::vector<Message>& ms) {
    std::string s;
    for (const Message& m : ms) {
        s += (m.severity == DiagnosticSeverity::error ? "  error: " : "  warning: ") + m.text + "\n";
    }
    return s;
}

struct Run {
    std::vector<u8> dtb;
    std::vector<u8> machine_dtb;
    Blob blob;
    MachineInfo machine;
    DomainLimits limits;
    DomainList list;
    Recorder rec;
    Status status = Status::invalid_argument;

    std::vector<std::string> names() const {
        std::vector<std::string> v;
        for (const DomainConfig& d : list) v.emplace_back(d.name);
        return v;
    }
    const DomainConfig& get(std::string_view name) const {
        const DomainConfig* d = list.find(name);
        EXPECT_NE(d, nullptr) << name;
        static const DomainConfig none{};
        return d != nullptr ? *d : none;
    }
};

std::unique_ptr<Run> parse_dtb(std::vector<u8> dtb, const std::function<void(DomainLimits&)>& tweak = {}) {
    auto r = std::make_unique<Run>();
    r->dtb = std::move(dtb);
    auto blob = Blob::open(r->dtb);
    EXPECT_TRUE(blob.ok()) << status_name(blob.status());
    if (!blob) return r;
    r->blob = blob.value();
    // describe_machine() refuses a whole tree whose module `reg` is
    // malformed; parse_domains() is then given the machine without /chosen,
    // as it would be given any machine.
    if (describe_machine(r->blob, r->machine) != Status::ok) {
        r->machine_dtb = compile_dts(machine_dts(""));
        auto base = Blob::open(r->machine_dtb);
        EXPECT_TRUE(base.ok());
        if (base) {
            EXPECT_EQ(describe_machine(base.value(), r->machine), Status::ok);
        }
    }
    r->limits = domain_limits(r->machine, Options{});
    if (tweak) tweak(r->limits);
    r->status = parse_domains(r->blob, r->machine, r->limits, r->rec, r->list);
    return r;
}

std::unique_ptr<Run> parse(const std::string& chosen, const std::function<void(DomainLimits&)>& tweak = {}) {
    return parse_dtb(compile_dts(machine_dts(chosen)), tweak);
}

// A domain every malformed case keeps beside it: it must survive.
const char* const kGood = R"(
        good {
            compatible = "xen,domain";
            #address-cells = <2>;
            #size-cells = <2>;
            memory = <0x0 0x10000>;
            cpus = <1>;
            module@7f000000 {
                compatible = "multiboot,kernel", "multiboot,module";
                reg = <0x0 0x7f000000 0x0 0x100000>;
            };
        };
)";

// A domU with one kernel module at 0x48000000; `extra` goes into the
// domain node, `modules` replaces the kernel module when given.
std::string domain(const std::string& name, const std::string& extra, const std::string& modules = "",
                   const std::string& memory = "<0x0 0x8000>", const std::string& cpus = "<2>") {
    const std::string mods = modules.empty() ? R"(
            module@48000000 {
                compatible = "multiboot,kernel", "multiboot,module";
                reg = <0x0 0x48000000 0x0 0x200000>;
                bootargs = "console=ttyAMA0";
            };)"
                                             : modules;
    return "        " + name + " {\n            compatible = \"xen,domain\";\n            #address-cells = <2>;\n"
           "            #size-cells = <2>;\n            memory = " + memory + ";\n            cpus = " + cpus +
           ";\n" + extra + "\n" + mods + "\n        };\n";
}

// Exactly one message, an error, with these fields; `good` still returned
// and the broken domain not.
void expect_single_error(const Run& r, const std::string& dom, const std::string& node, const std::string& property,
                         const std::string& text) {
    EXPECT_EQ(r.status, Status::ok);
    ASSERT_EQ(r.rec.messages.size(), 1u) << dump(r.rec.messages);
    const Message& m = r.rec.messages[0];
    EXPECT_EQ(m.severity, DiagnosticSeverity::error);
    EXPECT_EQ(m.domain, dom);
    EXPECT_EQ(m.node, node);
    EXPECT_EQ(m.property, property);
    EXPECT_EQ(m.text, text);
    EXPECT_EQ(r.names(), std::vector<std::string>{"good"});
}

// ---- The good cases ---------------------------------------------------------

// What ImageBuilder's uboot-script-gen writes (through `fdt set` or fdtput)
// for a dom0 and two domUs: #size-cells 2, 64-bit memory, vpl011 = <1>,
// module nodes named after their address, console=ttyAMA0 on each kernel.
TEST(DomainConfig, ImageBuilderStyleTree) {
    auto r = parse(R"(
        xen,xen-bootargs = "console=dtuart dtuart=serial0 dom0_mem=1500M";
        xen,dom0-bootargs = "console=hvc0 earlycon=xen";
        dom0 {
            compatible = "xen,linux-zimage", "xen,multiboot-module";
            reg = <0x0 0x40e00000 0x0 0x1a00000>;
        };
        domU0 {
            compatible = "xen,domain";
            #address-cells = <0x2>;
            #size-cells = <0x2>;
            memory = <0 262144>;
            cpus = <2>;
            vpl011 = <0x1>;
            module0x42800000 {
                compatible = "multiboot,kernel", "multiboot,module";
                reg = <0x0 0x42800000 0x0 0x1234567>;
                bootargs = "console=ttyAMA0";
            };
            module0x43C00000 {
                compatible = "multiboot,ramdisk", "multiboot,module";
                reg = <0x0 0x43C00000 0x0 0x2a000>;
            };
        };
        domU1 {
            compatible = "xen,domain";
            #address-cells = <0x2>;
            #size-cells = <0x2>;
            memory = <0 131072>;
            cpus = <1>;
            vpl011 = <0x1>;
            module0x44000000 {
                compatible = "multiboot,kernel", "multiboot,module";
                reg = <0x0 0x44000000 0x0 0x800000>;
                bootargs = "console=ttyAMA0 rdinit=/bin/sh";
            };
            module0x44A00000 {
                compatible = "multiboot,ramdisk", "multiboot,module";
                reg = <0x0 0x44A00000 0x0 0x100000>;
            };
        };
)");
    ASSERT_EQ(r->status, Status::ok);
    // The only message: the dom0 kernel is not used.
    ASSERT_EQ(r->rec.messages.size(), 1u) << dump(r->rec.messages);
    EXPECT_EQ(r->rec.messages[0].severity, DiagnosticSeverity::warning);
    EXPECT_EQ(r->rec.messages[0].domain, "dom0");
    EXPECT_EQ(r->rec.messages[0].property, "compatible");
    EXPECT_EQ(r->rec.messages[0].text,
              "dom0: property 'compatible': a boot module directly in /chosen (a Xen dom0 module): setwise has no "
              "dom0; ignored");

    ASSERT_EQ(r->names(), (std::vector<std::string>{"domU0", "domU1"}));
    const DomainConfig& a = r->list[0];
    EXPECT_EQ(a.memory_bytes, 256 * kMiB);
    EXPECT_EQ(a.vcpus, 2u);
    EXPECT_TRUE(a.vpl011);
    EXPECT_EQ(a.kernel.range, (PaRange{Pa(0x42800000), 0x1234567}));
    EXPECT_EQ(a.kernel.name, "module0x42800000");
    EXPECT_EQ(a.bootargs, "console=ttyAMA0");
    ASSERT_TRUE(a.ramdisk.has_value());
    EXPECT_EQ(a.ramdisk->range, (PaRange{Pa(0x43c00000), 0x2a000}));
    EXPECT_EQ(a.ramdisk->name, "module0x43C00000");
    EXPECT_FALSE(a.device_tree.has_value());
    EXPECT_EQ(a.affinity[0], 0xfu);
    EXPECT_EQ(a.affinity[1], 0xfu);
    EXPECT_EQ(a.affinity[2], 0u);
    EXPECT_EQ(a.sw_tracking, SwTrackingOverride::inherit);
    EXPECT_FALSE(a.kernel_image.has_value());
    auto a_name = r->blob.node_name(a.node);
    ASSERT_TRUE(a_name.ok());
    EXPECT_EQ(a_name.value(), "domU0");

    const DomainConfig& b = r->list[1];
    EXPECT_EQ(b.memory_bytes, 128 * kMiB);
    EXPECT_EQ(b.vcpus, 1u);
    EXPECT_TRUE(b.vpl011);
    EXPECT_EQ(b.kernel.range, (PaRange{Pa(0x44000000), 0x800000}));
    EXPECT_EQ(b.bootargs, "console=ttyAMA0 rdinit=/bin/sh");
    ASSERT_TRUE(b.ramdisk.has_value());
    EXPECT_EQ(b.ramdisk->range, (PaRange{Pa(0x44a00000), 0x100000}));
    EXPECT_EQ(b.affinity[0], 0xfu);
    EXPECT_EQ(b.affinity[1], 0u);
}

// The example of Xen's booting.txt: #size-cells 1, no vpl011 on domU2.
TEST(DomainConfig, XenBindingExample) {
    auto r = parse(R"(
        domU1 {
            compatible = "xen,domain";
            #address-cells = <0x2>;
            #size-cells = <0x1>;
            memory = <0 131072>;
            cpus = <2>;
            vpl011;
            module@4a000000 {
                compatible = "multiboot,kernel", "multiboot,module";
                reg = <0x0 0x4a000000 0xffffff>;
                bootargs = "console=ttyAMA0 init=/bin/sh";
            };
            module@4b000000 {
                compatible = "multiboot,ramdisk", "multiboot,module";
                reg = <0x0 0x4b000000 0xffffff>;
            };
        };
        domU2 {
            compatible = "xen,domain";
            #address-cells = <0x2>;
            #size-cells = <0x1>;
            memory = <0 65536>;
            cpus = <1>;
            module@4c000000 {
                compatible = "multiboot,kernel", "multiboot,module";
                reg = <0x0 0x4c000000 0xffffff>;
                bootargs = "console=ttyAMA0 init=/bin/sh";
            };
            module@4d000000 {
                compatible = "multiboot,ramdisk", "multiboot,module";
                reg = <0x0 0x4d000000 0xffffff>;
            };
        };
)");
    ASSERT_EQ(r->status, Status::ok);
    EXPECT_TRUE(r->rec.messages.empty()) << dump(r->rec.messages);
    ASSERT_EQ(r->names(), (std::vector<std::string>{"domU1", "domU2"}));
    EXPECT_TRUE(r->list[0].vpl011);
    EXPECT_FALSE(r->list[1].vpl011);
    EXPECT_EQ(r->list[0].kernel.range, (PaRange{Pa(0x4a000000), 0xffffff}));
    EXPECT_EQ(r->list[1].ramdisk->range, (PaRange{Pa(0x4d000000), 0xffffff}));
    EXPECT_EQ(r->list[1].memory_bytes, 64 * kMiB);
}

TEST(DomainConfig, NoChosenOrNoDomainsIsAnEmptyList) {
    auto none = parse_dtb(compile_dts("/dts-v1/;\n/ { memory@40000000 { device_type = \"memory\"; reg = <0 "
                                      "0x40000000 0 0x1000000>; }; };\n"));
    EXPECT_EQ(none->status, Status::ok);
    EXPECT_TRUE(none->list.empty());
    EXPECT_TRUE(none->rec.messages.empty());

    auto empty = parse("        bootargs = \"loglvl=debug\";\n");
    EXPECT_EQ(empty->status, Status::ok);
    EXPECT_TRUE(empty->list.empty());
    EXPECT_TRUE(empty->rec.messages.empty());
}

TEST(DomainConfig, OneCellMemory) {
    auto r = parse(domain("d", "", "", "<0x8000>"));
    EXPECT_TRUE(r->rec.messages.empty()) << dump(r->rec.messages);
    EXPECT_EQ(r->get("d").memory_bytes, 32 * kMiB);
}

TEST(DomainConfig, MemoryNotAWholePageIsRoundedUpWithAWarning) {
    auto r = parse(domain("d", "", "", "<0x0 1023>"));
    ASSERT_EQ(r->rec.messages.size(), 1u) << dump(r->rec.messages);
    EXPECT_EQ(r->rec.messages[0].severity, DiagnosticSeverity::warning);
    EXPECT_EQ(r->rec.messages[0].property, "memory");
    EXPECT_EQ(r->rec.messages[0].text,
              "d: property 'memory': 1023 KiB is not a multiple of 4 KiB: rounded up to 1024 KiB");
    EXPECT_EQ(r->get("d").memory_bytes, 1024 * kKiB);
}

TEST(DomainConfig, BootargsOnTheKernelModuleWinOverTheDomainNode) {
    auto r = parse(domain("both", "            bootargs = \"from-domain\";") +
                   domain("node_only", "            bootargs = \"from-domain\";", R"(
            kernel {
                compatible = "multiboot,kernel", "multiboot,module";
                reg = <0x0 0x50000000 0x0 0x1000>;
            };)") +
                   domain("neither", "", R"(
            kernel {
                compatible = "multiboot,kernel", "multiboot,module";
                reg = <0x0 0x51000000 0x0 0x1000>;
            };)"));
    EXPECT_TRUE(r->rec.messages.empty()) << dump(r->rec.messages);
    EXPECT_EQ(r->get("both").bootargs, "console=ttyAMA0");
    EXPECT_EQ(r->get("node_only").bootargs, "from-domain");
    EXPECT_EQ(r->get("neither").bootargs, "");
}

TEST(DomainConfig, SwTrackingOverride) {
    auto r = parse(domain("on", "            setwise,sw-tracking = \"on\";") +
                   domain("off", "            setwise,sw-tracking = \"off\";", R"(
            k { compatible = "multiboot,kernel"; reg = <0x0 0x50000000 0x0 0x1000>; };)") +
                   domain("inherit", "", R"(
            k { compatible = "multiboot,kernel"; reg = <0x0 0x51000000 0x0 0x1000>; };)"));
    EXPECT_TRUE(r->rec.messages.empty()) << dump(r->rec.messages);
    const DomainConfig& on = r->get("on");
    const DomainConfig& off = r->get("off");
    const DomainConfig& inherit = r->get("inherit");
    EXPECT_EQ(on.sw_tracking, SwTrackingOverride::on);
    EXPECT_EQ(off.sw_tracking, SwTrackingOverride::off);
    EXPECT_EQ(inherit.sw_tracking, SwTrackingOverride::inherit);
    EXPECT_TRUE(on.sw_tracking_enabled(false));
    EXPECT_FALSE(off.sw_tracking_enabled(true));
    EXPECT_TRUE(inherit.sw_tracking_enabled(true));
    EXPECT_FALSE(inherit.sw_tracking_enabled(false));
}

TEST(DomainConfig, VcpuHardAffinity) {
    auto r = parse(domain("d", R"(
            vcpu0 { compatible = "xen,vcpu"; id = <0>; hard-affinity = "0-1,3"; };
            vcpu2 { compatible = "xen,vcpu"; id = <2>; hard-affinity = " 2 , 3 "; };
            vcpu3 { compatible = "xen,vcpu"; id = <3>; };)",
                          "", "<0x0 0x8000>", "<4>"));
    EXPECT_TRUE(r->rec.messages.empty()) << dump(r->rec.messages);
    const DomainConfig& d = r->get("d");
    EXPECT_EQ(d.vcpus, 4u);
    EXPECT_EQ(d.affinity[0], 0b1011u);
    EXPECT_EQ(d.affinity[1], 0xfu); // no node: every host CPU
    EXPECT_EQ(d.affinity[2], 0b1100u);
    EXPECT_EQ(d.affinity[3], 0xfu); // a node without hard-affinity
    EXPECT_EQ(d.affinity[4], 0u);
}

TEST(DomainConfig, PartialDeviceTreeIsRecordedWithAWarning) {
    auto r = parse(domain("d", "", R"(
            module@48000000 {
                compatible = "multiboot,kernel", "multiboot,module";
                reg = <0x0 0x48000000 0x0 0x200000>;
            };
            module@49000000 {
                compatible = "multiboot,device-tree", "multiboot,module";
                reg = <0x0 0x49000000 0x0 0x1000>;
            };)"));
    ASSERT_EQ(r->rec.messages.size(), 1u) << dump(r->rec.messages);
    EXPECT_EQ(r->rec.messages[0].severity, DiagnosticSeverity::warning);
    EXPECT_EQ(r->rec.messages[0].node, "module@49000000");
    EXPECT_EQ(r->rec.messages[0].property, "compatible");
    EXPECT_EQ(r->rec.messages[0].text,
              "d/module@49000000: property 'compatible': partial device trees are not merged into the guest's yet: "
              "recorded, not used");
    const DomainConfig& d = r->get("d");
    ASSERT_TRUE(d.device_tree.has_value());
    EXPECT_EQ(d.device_tree->range, (PaRange{Pa(0x49000000), 0x1000}));
}

TEST(DomainConfig, WarningsKeepTheDomain) {
    struct Case {
        const char* extra;
        const char* node;
        const char* property;
        const char* text;
    };
    const Case cases[] = {
        {"            setwise,colour = \"blue\";", "d", "setwise,colour",
         "d: property 'setwise,colour': unknown setwise property: ignored"},
        {"            xen,enhanced = \"enabled\";", "d", "xen,enhanced",
         "d: property 'xen,enhanced': a Xen feature setwise does not provide: ignored"},
        {"            direct-map;", "d", "direct-map",
         "d: property 'direct-map': a Xen feature setwise does not provide: ignored"},
        {"            other { compatible = \"multiboot,module\"; reg = <0x0 0x49000000 0x0 0x1000>; };", "other",
         "compatible",
         "d/other: property 'compatible': a module that is none of multiboot,kernel, multiboot,ramdisk and "
         "multiboot,device-tree: ignored"},
    };
    for (const Case& c : cases) {
        auto r = parse(domain("d", c.extra) + kGood);
        EXPECT_EQ(r->names(), (std::vector<std::string>{"d", "good"})) << c.extra;
        ASSERT_EQ(r->rec.messages.size(), 1u) << c.extra << "\n" << dump(r->rec.messages);
        EXPECT_EQ(r->rec.messages[0].severity, DiagnosticSeverity::warning);
        EXPECT_EQ(r->rec.messages[0].domain, "d");
        EXPECT_EQ(r->rec.messages[0].node, c.node);
        EXPECT_EQ(r->rec.messages[0].property, c.property);
        EXPECT_EQ(r->rec.messages[0].text, c.text);
    }
}

TEST(DomainConfig, MoreVcpusThanHostCpusIsAWarning) {
    auto r = parse(domain("d", "", "", "<0x0 0x8000>", "<6>") + kGood);
    ASSERT_EQ(r->rec.messages.size(), 1u) << dump(r->rec.messages);
    EXPECT_EQ(r->rec.messages[0].severity, DiagnosticSeverity::warning);
    EXPECT_EQ(r->rec.messages[0].text, "d: property 'cpus': 6 vCPUs on 4 usable host CPUs: vCPUs will share them");
    EXPECT_EQ(r->get("d").vcpus, 6u);
    EXPECT_EQ(r->get("d").affinity[5], 0xfu);
}

// ---- Each malformed case: one message, the sibling survives ----------------

struct BadCase {
    const char* what;
    std::string dts;
    const char* node;
    const char* property;
    const char* text;
};

TEST(DomainConfig, EachMalformedDomainGivesOneMessageAndKeepsItsSibling) {
    const std::string kernel2 = R"(
            k1 { compatible = "multiboot,kernel", "multiboot,module"; reg = <0x0 0x48000000 0x0 0x1000>; };
            k2 { compatible = "multiboot,kernel", "multiboot,module"; reg = <0x0 0x49000000 0x0 0x1000>; };)";
    const BadCase cases[] = {
        {"memory of three cells", domain("bad", "", "", "<0x0 0x0 0x8000>"), "bad", "memory",
         "bad: property 'memory': expected 1 or 2 cells (a KiB count), got 12 bytes"},
        {"memory as a string", domain("bad", "", "", "\"128M\""), "bad", "memory",
         "bad: property 'memory': expected 1 or 2 cells (a KiB count), got 5 bytes"},
        {"zero memory", domain("bad", "", "", "<0x0 0x0>"), "bad", "memory",
         "bad: property 'memory': 0 KiB: a domain needs RAM"},
        {"too much memory", domain("bad", "", "", "<0x1 0x0>"), "bad", "memory",
         "bad: property 'memory': 4294967296 KiB exceeds the host's 1048576 KiB of RAM"},
        {"zero cpus", domain("bad", "", "", "<0x0 0x8000>", "<0>"), "bad", "cpus",
         "bad: property 'cpus': 0 vCPUs: a domain needs at least one"},
        {"too many cpus", domain("bad", "", "", "<0x0 0x8000>", "<17>"), "bad", "cpus",
         "bad: property 'cpus': 17 vCPUs exceeds the limit of 16 per domain"},
        {"cpus of two cells", domain("bad", "", "", "<0x0 0x8000>", "<0 1>"), "bad", "cpus",
         "bad: property 'cpus': expected one cell, got 8 bytes"},
        {"module outside RAM", domain("bad", "", R"(
            module@10000000 { compatible = "multiboot,kernel"; reg = <0x0 0x10000000 0x0 0x1000>; };)"),
         "module@10000000", "reg",
         "bad/module@10000000: property 'reg': [0x10000000, 0x10001000) is outside every host RAM bank"},
        {"module straddling the end of RAM", domain("bad", "", R"(
            k { compatible = "multiboot,kernel"; reg = <0x0 0x7ffff000 0x0 0x2000>; };)"),
         "k", "reg", "bad/k: property 'reg': [0x7ffff000, 0x80001000) is outside every host RAM bank"},
        {"empty module", domain("bad", "", R"(
            k { compatible = "multiboot,kernel"; reg = <0x0 0x48000000 0x0 0x0>; };)"),
         "k", "reg", "bad/k: property 'reg': empty module at 0x48000000"},
        {"wrapping module", domain("bad", "", R"(
            k { compatible = "multiboot,kernel"; reg = <0xffffffff 0xfffff000 0x0 0x2000>; };)"),
         "k", "reg", "bad/k: property 'reg': 0xfffffffffffff000 + 0x2000 wraps past the end of the address space"},
        {"ragged reg", domain("bad", "", R"(
            k { compatible = "multiboot,kernel"; reg = <0x0 0x48000000 0x1000>; };)"),
         "k", "reg", "bad/k: property 'reg': expected (address, size) entries of 2+2 cells, got 12 bytes"},
        {"module without reg", domain("bad", "", R"(
            k { compatible = "multiboot,kernel"; };)"),
         "k", "reg", "bad/k: property 'reg': missing (where the bootloader put the module)"},
        {"overlapping modules", domain("bad", "", R"(
            module@48000000 { compatible = "multiboot,kernel"; reg = <0x0 0x48000000 0x0 0x1000000>; };
            module@48800000 { compatible = "multiboot,ramdisk"; reg = <0x0 0x48800000 0x0 0x1000000>; };)"),
         "module@48800000", "reg",
         "bad/module@48800000: property 'reg': [0x48800000, 0x49800000) overlaps module@48000000 "
         "[0x48000000, 0x49000000)"},
        {"missing kernel", domain("bad", "", R"(
            r { compatible = "multiboot,ramdisk", "multiboot,module"; reg = <0x0 0x48000000 0x0 0x1000>; };)"),
         "bad", "", "bad: no kernel module (a child with compatible \"multiboot,kernel\")"},
        {"two kernels", domain("bad", "", kernel2), "k2", "compatible",
         "bad/k2: property 'compatible': a second kernel module (the first is k1)"},
        {"two ramdisks", domain("bad", "", R"(
            k { compatible = "multiboot,kernel"; reg = <0x0 0x48000000 0x0 0x1000>; };
            r1 { compatible = "multiboot,ramdisk"; reg = <0x0 0x49000000 0x0 0x1000>; };
            r2 { compatible = "multiboot,ramdisk"; reg = <0x0 0x4a000000 0x0 0x1000>; };)"),
         "r2", "compatible", "bad/r2: property 'compatible': a second ramdisk module (the first is r1)"},
        {"missing memory", "        bad { compatible = \"xen,domain\"; cpus = <1>;\n"
                           "            k { compatible = \"multiboot,kernel\"; reg = <0x0 0x48000000 0x1000>; }; };\n",
         "bad", "memory", "bad: property 'memory': missing (the guest's RAM in KiB)"},
        {"missing cpus", "        bad { compatible = \"xen,domain\"; memory = <0 1024>;\n"
                         "            k { compatible = \"multiboot,kernel\"; reg = <0x0 0x48000000 0x1000>; }; };\n",
         "bad", "cpus", "bad: property 'cpus': missing (the number of vCPUs)"},
        {"three address cells", "        bad { compatible = \"xen,domain\"; #address-cells = <3>; memory = <0 1024>;\n"
                                "            cpus = <1>; k { compatible = \"multiboot,kernel\";\n"
                                "            reg = <0x0 0x0 0x48000000 0x1000>; }; };\n",
         "bad", "#address-cells",
         "bad: property '#address-cells': 3 cells: setwise reads 1 or 2 (32- or 64-bit values)"},
        {"zero size cells", "        bad { compatible = \"xen,domain\"; #size-cells = <0>; memory = <0 1024>;\n"
                            "            cpus = <1>; k { compatible = \"multiboot,kernel\";\n"
                            "            reg = <0x0 0x48000000>; }; };\n",
         "bad", "#size-cells", "bad: property '#size-cells': 0 cells: setwise reads 1 or 2 (32- or 64-bit values)"},
        {"address cells of two cells", "        bad { compatible = \"xen,domain\"; #address-cells = <0 2>;\n"
                                       "            memory = <0 1024>; cpus = <1>;\n"
                                       "            k { compatible = \"multiboot,kernel\";\n"
                                       "            reg = <0x0 0x48000000 0x1000>; }; };\n",
         "bad", "#address-cells", "bad: property '#address-cells': expected one cell, got 8 bytes"},
        {"bad hard-affinity: a CPU the host lacks", domain("bad", R"(
            vcpu1 { compatible = "xen,vcpu"; id = <1>; hard-affinity = "2-5"; };)"),
         "vcpu1", "hard-affinity",
         "bad/vcpu1: property 'hard-affinity': names host CPU 4, but the host has 4 usable (0-3)"},
        {"bad hard-affinity: syntax", domain("bad", R"(
            vcpu0 { compatible = "xen,vcpu"; id = <0>; hard-affinity = "0-3,x"; };)"),
         "vcpu0", "hard-affinity",
         "bad/vcpu0: property 'hard-affinity': \"0-3,x\" is not a list of host CPUs such as \"0-3,5\""},
        {"bad hard-affinity: trailing comma", domain("bad", R"(
            vcpu0 { compatible = "xen,vcpu"; id = <0>; hard-affinity = "1,"; };)"),
         "vcpu0", "hard-affinity",
         "bad/vcpu0: property 'hard-affinity': \"1,\" is not a list of host CPUs such as \"0-3,5\""},
        {"bad hard-affinity: empty", domain("bad", R"(
            vcpu0 { compatible = "xen,vcpu"; id = <0>; hard-affinity = ""; };)"),
         "vcpu0", "hard-affinity",
         "bad/vcpu0: property 'hard-affinity': \"\" is not a list of host CPUs such as \"0-3,5\""},
        {"bad hard-affinity: backwards", domain("bad", R"(
            vcpu0 { compatible = "xen,vcpu"; id = <0>; hard-affinity = "3-1"; };)"),
         "vcpu0", "hard-affinity", "bad/vcpu0: property 'hard-affinity': range 3-1 runs backwards"},
        {"bad hard-affinity: huge number", domain("bad", R"(
            vcpu0 { compatible = "xen,vcpu"; id = <0>; hard-affinity = "64"; };)"),
         "vcpu0", "hard-affinity",
         "bad/vcpu0: property 'hard-affinity': names host CPU 64, but the host has 4 usable (0-3)"},
        {"bad hard-affinity: not a string", domain("bad", R"(
            vcpu0 { compatible = "xen,vcpu"; id = <0>; hard-affinity = <0xf>; };)"),
         "vcpu0", "hard-affinity", "bad/vcpu0: property 'hard-affinity': not a NUL-terminated string"},
        {"vcpu id out of range", domain("bad", R"(
            vcpu2 { compatible = "xen,vcpu"; id = <2>; hard-affinity = "0"; };)"),
         "vcpu2", "id", "bad/vcpu2: property 'id': vCPU 2 does not exist: the domain has 2 (0-1)"},
        {"vcpu id twice", domain("bad", R"(
            a { compatible = "xen,vcpu"; id = <1>; hard-affinity = "0"; };
            b { compatible = "xen,vcpu"; id = <1>; hard-affinity = "1"; };)"),
         "b", "id", "bad/b: property 'id': vCPU 1 is configured by an earlier node"},
        {"vcpu without id", domain("bad", R"(
            v { compatible = "xen,vcpu"; hard-affinity = "1"; };)"),
         "v", "id", "bad/v: property 'id': missing (the vCPU's index)"},
        {"bad sw-tracking value", domain("bad", "            setwise,sw-tracking = \"maybe\";"), "bad",
         "setwise,sw-tracking", "bad: property 'setwise,sw-tracking': expected \"on\" or \"off\", got \"maybe\""},
        {"sw-tracking not a string", domain("bad", "            setwise,sw-tracking = <1>;"), "bad",
         "setwise,sw-tracking", "bad: property 'setwise,sw-tracking': expected the string \"on\" or \"off\""},
        {"domain bootargs not a string", domain("bad", "            bootargs = <1>;"), "bad", "bootargs",
         "bad: property 'bootargs': not a NUL-terminated string"},
        {"kernel bootargs not a string", domain("bad", "", R"(
            k { compatible = "multiboot,kernel"; reg = <0x0 0x48000000 0x0 0x1000>; bootargs = [61 62]; };)"),
         "k", "bootargs", "bad/k: property 'bootargs': not a NUL-terminated string"},
    };
    for (const BadCase& c : cases) {
        SCOPED_TRACE(c.what);
        auto r = parse(c.dts + kGood);
        expect_single_error(*r, "bad", c.node, c.property, c.text);
    }
}

TEST(DomainConfig, MemoryBeyondTheGuestAddressSpace) {
    // A host with 4 TiB: still no guest can have more than its 40-bit IPA
    // space holds above 1 GiB.
    auto r = parse(domain("bad", "", "", "<0x0 0x40000000>") + kGood,
                   [](DomainLimits& l) { l.host_ram_bytes = u64{4} << 40; });
    expect_single_error(*r, "bad", "bad", "memory",
                        "bad: property 'memory': 1073741824 KiB exceeds the 1072693248 KiB a guest's address space "
                        "holds");
    auto largest =
        parse(domain("d", "", "", "<0x0 0x3ff00000>"), [](DomainLimits& l) { l.host_ram_bytes = u64{4} << 40; });
    EXPECT_TRUE(largest->rec.messages.empty()) << dump(largest->rec.messages);
    EXPECT_EQ(largest->get("d").memory_bytes, kMaxGuestRamBytes);
}

TEST(DomainConfig, AHugeMemoryValueDoesNotWrap) {
    // 2^64 - 1 KiB: KiB * 1024 would wrap to a small number.
    auto r = parse(domain("bad", "", "", "<0xffffffff 0xffffffff>") + kGood);
    expect_single_error(*r, "bad", "bad", "memory",
                        "bad: property 'memory': 18446744073709551615 KiB exceeds the host's 1048576 KiB of RAM");
}

TEST(DomainConfig, ModuleOverlappingMemoryInUse) {
    const PaRange used[] = {{Pa(0x40000000), 0x200000}, {Pa(0x48100000), 0x1000}};
    auto r = parse(domain("bad", "") + kGood, [&](DomainLimits& l) { l.in_use = used; });
    expect_single_error(*r, "bad", "module@48000000", "reg",
                        "bad/module@48000000: property 'reg': [0x48000000, 0x48200000) overlaps [0x48100000, "
                        "0x48101000), which setwise itself uses");
}

TEST(DomainConfig, ModulesOverlappingAcrossDomainsFailBoth) {
    auto r = parse(domain("a", "") + domain("b", "", R"(
            module@48100000 { compatible = "multiboot,kernel"; reg = <0x0 0x48100000 0x0 0x1000>; };)") +
                   kGood);
    ASSERT_EQ(r->rec.messages.size(), 2u) << dump(r->rec.messages);
    EXPECT_EQ(r->rec.messages[0].text,
              "a/module@48000000: property 'reg': [0x48000000, 0x48200000) overlaps b/module@48100000 [0x48100000, "
              "0x48101000)");
    EXPECT_EQ(r->rec.messages[1].text,
              "b/module@48100000: property 'reg': [0x48100000, 0x48101000) overlaps a/module@48000000 [0x48000000, "
              "0x48200000)");
    EXPECT_EQ(r->names(), std::vector<std::string>{"good"});
}

TEST(DomainConfig, ModuleOverlappingAChosenModule) {
    auto r = parse(R"(
        module@48000000 {
            compatible = "multiboot,kernel", "multiboot,module";
            reg = <0x0 0x48000000 0x0 0x1000>;
        };
)" + domain("bad", "") + kGood);
    ASSERT_EQ(r->rec.messages.size(), 2u) << dump(r->rec.messages);
    EXPECT_EQ(r->rec.messages[0].severity, DiagnosticSeverity::warning);
    EXPECT_EQ(r->rec.messages[0].domain, "module@48000000");
    EXPECT_EQ(r->rec.messages[1].severity, DiagnosticSeverity::error);
    EXPECT_EQ(r->rec.messages[1].text,
              "bad/module@48000000: property 'reg': [0x48000000, 0x48200000) overlaps the /chosen module "
              "module@48000000 [0x48000000, 0x48001000)");
    EXPECT_EQ(r->names(), std::vector<std::string>{"good"});
}

TEST(DomainConfig, TheInitrdIsNotAModuleToAvoid) {
    // U-Boot writes a stale linux,initrd range when booted without one.
    auto r = parse("        linux,initrd-start = <0x0 0x48000000>;\n        linux,initrd-end = <0x0 0x49000000>;\n" +
                   domain("d", ""));
    EXPECT_TRUE(r->rec.messages.empty()) << dump(r->rec.messages);
    EXPECT_EQ(r->names(), std::vector<std::string>{"d"});
}

TEST(DomainConfig, TotalMemoryBeyondTheHostLeavesOutTheDomainThatDoesNotFit) {
    // 1 GiB of host RAM: 512 MiB + 384 MiB fit, the next 256 MiB does not,
    // 64 MiB after it still does.
    auto r = parse(domain("a", "", "", "<0x0 0x80000>") + domain("b", "", R"(
            k { compatible = "multiboot,kernel"; reg = <0x0 0x50000000 0x0 0x1000>; };)",
                                                                  "<0x0 0x60000>") +
                   domain("c", "", R"(
            k { compatible = "multiboot,kernel"; reg = <0x0 0x51000000 0x0 0x1000>; };)",
                          "<0x0 0x40000>") +
                   kGood);
    ASSERT_EQ(r->rec.messages.size(), 1u) << dump(r->rec.messages);
    EXPECT_EQ(r->rec.messages[0].domain, "c");
    EXPECT_EQ(r->rec.messages[0].property, "memory");
    EXPECT_EQ(r->rec.messages[0].text,
              "c: property 'memory': 262144 KiB exceeds the 131072 KiB of host RAM left by the domains before it");
    EXPECT_EQ(r->names(), (std::vector<std::string>{"a", "b", "good"}));
}

TEST(DomainConfig, IndependentErrorsInOneDomainAreEachReported) {
    auto r = parse(domain("bad", "            setwise,sw-tracking = \"maybe\";", R"(
            r { compatible = "multiboot,ramdisk"; reg = <0x0 0x48000000 0x0 0x1000>; };)",
                          "<0x0 0x0>", "<0>") +
                   kGood);
    std::vector<std::string> props;
    for (const Message& m : r->rec.messages) {
        EXPECT_EQ(m.severity, DiagnosticSeverity::error);
        props.push_back(m.property);
    }
    EXPECT_EQ(props, (std::vector<std::string>{"setwise,sw-tracking", "memory", "cpus", ""}));
    EXPECT_EQ(r->names(), std::vector<std::string>{"good"});
}

TEST(DomainConfig, NineDomainsReportTheNinth) {
    std::string chosen;
    for (int i = 1; i <= 9; ++i) {
        char mod[160];
        std::snprintf(mod, sizeof mod,
                      "\n            k { compatible = \"multiboot,kernel\"; reg = <0x0 0x%x 0x0 0x1000>; };",
                      0x48000000 + i * 0x100000);
        chosen += domain("domU" + std::to_string(i), "", mod, "<0x0 0x4000>", "<1>");
    }
    auto r = parse(chosen);
    ASSERT_EQ(r->rec.messages.size(), 1u) << dump(r->rec.messages);
    EXPECT_EQ(r->rec.messages[0].severity, DiagnosticSeverity::error);
    EXPECT_EQ(r->rec.messages[0].domain, "domU9");
    EXPECT_EQ(r->rec.messages[0].property, "");
    EXPECT_EQ(r->rec.messages[0].text, "domU9: more than 8 domains: left out");
    ASSERT_EQ(r->list.size(), 8u);
    for (usize i = 0; i < 8; ++i) EXPECT_EQ(r->list[i].name, "domU" + std::to_string(i + 1));
}

TEST(DomainConfig, TenDomainsReportTheNinthAndTenth) {
    std::string chosen;
    for (int i = 1; i <= 10; ++i) {
        char mod[160];
        std::snprintf(mod, sizeof mod,
                      "\n            k { compatible = \"multiboot,kernel\"; reg = <0x0 0x%x 0x0 0x1000>; };",
                      0x48000000 + i * 0x100000);
        chosen += domain("d" + std::to_string(i), "", mod, "<0x0 0x4000>", "<1>");
    }
    auto r = parse(chosen);
    ASSERT_EQ(r->rec.messages.size(), 2u) << dump(r->rec.messages);
    EXPECT_EQ(r->rec.messages[0].domain, "d9");
    EXPECT_EQ(r->rec.messages[1].domain, "d10");
    EXPECT_EQ(r->list.size(), 8u);
}

TEST(DomainConfig, DuplicateDomainName) {
    auto r = parse_dtb(compile_dts(machine_dts(domain("bad", "") + domain("bad", "", R"(
            k { compatible = "multiboot,kernel"; reg = <0x0 0x50000000 0x0 0x1000>; };)") +
                                               kGood),
                                   /*force=*/true));
    ASSERT_EQ(r->rec.messages.size(), 1u) << dump(r->rec.messages);
    EXPECT_EQ(r->rec.messages[0].text, "bad: another domain has the same name: left out");
    EXPECT_EQ(r->names(), (std::vector<std::string>{"bad", "good"}));
    EXPECT_EQ(r->list[0].kernel.range.base, Pa(0x48000000)); // the first one
}

TEST(DomainConfig, LimitsFromTheMachineAndMaxcpus) {
    auto r = parse("");
    const DomainLimits all = domain_limits(r->machine, Options{});
    EXPECT_EQ(all.host_ram_bytes, kGiB);
    EXPECT_EQ(all.host_cpus, 4u);
    EXPECT_EQ(all.max_vcpus, kDefaultMaxVcpus);
    EXPECT_TRUE(all.in_use.empty());
    Options two;
    two.maxcpus = 2;
    EXPECT_EQ(domain_limits(r->machine, two).host_cpus, 2u);
    Options many;
    many.maxcpus = 64;
    EXPECT_EQ(domain_limits(r->machine, many).host_cpus, 4u);
}

TEST(DomainConfig, MaxcpusNarrowsTheDefaultAffinityAndTheCpusAHardAffinityMayName) {
    auto r = parse(domain("d", "", "", "<0x0 0x8000>", "<1>") + domain("bad", R"(
            v { compatible = "xen,vcpu"; id = <0>; hard-affinity = "2"; };)",
                                                                      R"(
            k { compatible = "multiboot,kernel"; reg = <0x0 0x50000000 0x0 0x1000>; };)"),
                   [](DomainLimits& l) { l.host_cpus = 2; });
    ASSERT_EQ(r->rec.messages.size(), 1u) << dump(r->rec.messages);
    EXPECT_EQ(r->rec.messages[0].text,
              "bad/v: property 'hard-affinity': names host CPU 2, but the host has 2 usable (0-1)");
    EXPECT_EQ(r->names(), std::vector<std::string>{"d"});
    EXPECT_EQ(r->get("d").affinity[0], 0x3u);
}

TEST(DomainConfig, MaxVcpusIsClampedToTheStorage) {
    auto r = parse(domain("d", "", "", "<0x0 0x8000>", "<33>") + kGood,
                   [](DomainLimits& l) { l.max_vcpus = 1000; });
    ASSERT_EQ(r->rec.messages.size(), 1u) << dump(r->rec.messages);
    EXPECT_EQ(r->rec.messages[0].text, "d: property 'cpus': 33 vCPUs exceeds the limit of 32 per domain");
}

// ---- Message text ------------------------------------------------------------

TEST(DomainConfig, BlobTextInMessagesIsEscapedAndCut) {
    auto r = parse(domain("bad", "            setwise,sw-tracking = \"o\\x01n\";") + kGood);
    ASSERT_EQ(r->rec.messages.size(), 1u) << dump(r->rec.messages);
    EXPECT_EQ(r->rec.messages[0].text,
              "bad: property 'setwise,sw-tracking': expected \"on\" or \"off\", got \"o\\x01n\"");

    const std::string long_value(60, 'v');
    auto cut = parse(domain("bad", "            setwise,sw-tracking = \"" + long_value + "\";") + kGood);
    ASSERT_EQ(cut->rec.messages.size(), 1u);
    EXPECT_EQ(cut->rec.messages[0].text,
              "bad: property 'setwise,sw-tracking': expected \"on\" or \"off\", got \"" + std::string(48, 'v') +
                  "...\"");
}

TEST(DomainConfig, AMessageLongerThanItsBufferEndsInDots) {
    const std::string a(60, 'a');
    const std::string b(60, 'b');
    const std::string ka(60, 'k');
    const std::string kb(60, 'm');
    auto r = parse(domain(a, "", "\n            " + ka +
                                     " { compatible = \"multiboot,kernel\"; reg = <0x0 0x48000000 0x0 0x1000>; };") +
                   domain(b, "", "\n            " + kb +
                                     " { compatible = \"multiboot,kernel\"; reg = <0x0 0x48000000 0x0 0x1000>; };"));
    ASSERT_EQ(r->rec.messages.size(), 2u) << dump(r->rec.messages);
    for (const Message& m : r->rec.messages) {
        EXPECT_EQ(m.text.size(), DomainDiagnostic::kMessageCapacity - 1);
        EXPECT_EQ(m.text.substr(m.text.size() - 3), "...");
        EXPECT_EQ(m.domain.size(), 60u); // the views are not cut
    }
    EXPECT_TRUE(r->list.empty());
}

// ---- Kernel detection through host memory -----------------------------------

void put32(std::vector<u8>& b, usize off, u32 v) {
    for (usize i = 0; i < 4; ++i) b[off + i] = static_cast<u8>(v >> (8 * i));
}

std::vector<u8> arm64_image(usize size, u64 image_size) {
    std::vector<u8> b(size, 0);
    put32(b, 0x10, static_cast<u32>(image_size));
    put32(b, 0x18, 0xa);
    put32(b, 0x38, 0x644d5241);
    return b;
}

std::vector<u8> zimage(usize size) {
    std::vector<u8> b(size, 0);
    put32(b, 0x24, 0x016f2818);
    put32(b, 0x2c, static_cast<u32>(size));
    return b;
}

// Host memory as a map of module base address to its bytes.
struct FakeMemory {
    std::map<u64, std::vector<u8>> blobs;
    std::span<const u8> operator()(PaRange r) const {
        auto it = blobs.find(r.base.raw());
        if (it == blobs.end() || it->second.size() != r.size) return {};
        return it->second;
    }
};

std::string kernel_at(u64 base, u64 size) {
    char buf[200];
    std::snprintf(buf, sizeof buf,
                  "\n            k { compatible = \"multiboot,kernel\"; reg = <0x0 0x%llx 0x0 0x%llx>; };",
                  static_cast<unsigned long long>(base), static_cast<unsigned long long>(size));
    return buf;
}

TEST(DomainConfig, IdentifyKernels) {
    auto r = parse(domain("a64", "", kernel_at(0x48000000, 0x1000)) + domain("a32", "", kernel_at(0x49000000, 0x2000)) +
                   domain("junk", "", kernel_at(0x4a000000, 0x1000)) +
                   domain("unread", "", kernel_at(0x4b000000, 0x1000)) +
                   domain("be", "", kernel_at(0x4c000000, 0x1000)) +
                   domain("small", "", kernel_at(0x4d000000, 0x1000), "<0x0 0x400>"));
    ASSERT_EQ(r->list.size(), 6u) << dump(r->rec.messages);
    ASSERT_TRUE(r->rec.messages.empty()) << dump(r->rec.messages);

    FakeMemory mem;
    mem.blobs[0x48000000] = arm64_image(0x1000, 0x200000);
    mem.blobs[0x49000000] = zimage(0x2000);
    mem.blobs[0x4a000000] = std::vector<u8>(0x1000, 0x5a);
    auto be = zimage(0x1000);
    std::swap(be[0x24], be[0x27]);
    std::swap(be[0x25], be[0x26]);
    mem.blobs[0x4c000000] = be;
    mem.blobs[0x4d000000] = arm64_image(0x1000, 0x200000); // 2 MiB kernel, 1 MiB of RAM

    identify_kernels(r->list, mem, r->rec);
    ASSERT_EQ(r->rec.messages.size(), 4u) << dump(r->rec.messages);
    EXPECT_EQ(r->rec.messages[0].text,
              "junk/k: property 'reg': unrecognised kernel: neither an arm64 Image nor an ARM zImage");
    EXPECT_EQ(r->rec.messages[1].text, "unread/k: property 'reg': cannot read the kernel at [0x4b000000, 0x4b001000)");
    EXPECT_EQ(r->rec.messages[2].text, "be/k: property 'reg': a big-endian kernel: not supported");
    EXPECT_EQ(r->rec.messages[3].text,
              "small: property 'memory': 1024 KiB cannot hold the arm64 Image (2048 KiB) and the ramdisk (0 KiB)");
    for (const Message& m : r->rec.messages) EXPECT_EQ(m.severity, DiagnosticSeverity::error);

    ASSERT_EQ(r->names(), (std::vector<std::string>{"a64", "a32"}));
    ASSERT_TRUE(r->list[0].kernel_image.has_value());
    EXPECT_EQ(r->list[0].kernel_image->kind, KernelKind::image_arm64);
    EXPECT_EQ(r->list[0].kernel_image->memory_size, 0x200000u);
    ASSERT_TRUE(r->list[1].kernel_image.has_value());
    EXPECT_EQ(r->list[1].kernel_image->kind, KernelKind::zimage_arm32);
    EXPECT_EQ(r->list[1].kernel_image->copy_size, 0x2000u);
}

TEST(DomainConfig, IdentifyKernelsCountsTheRamdisk) {
    // 4 MiB of RAM: a 2 MiB kernel and a 2 MiB ramdisk fit exactly; one
    // page more of ramdisk does not.
    auto fits = parse(domain("d", "", kernel_at(0x48000000, 0x1000) + R"(
            r { compatible = "multiboot,ramdisk"; reg = <0x0 0x49000000 0x0 0x200000>; };)",
                             "<0x0 4096>"));
    auto over = parse(domain("d", "", kernel_at(0x48000000, 0x1000) + R"(
            r { compatible = "multiboot,ramdisk"; reg = <0x0 0x49000000 0x0 0x201000>; };)",
                             "<0x0 4096>"));
    FakeMemory mem;
    mem.blobs[0x48000000] = arm64_image(0x1000, 0x200000);
    identify_kernels(fits->list, mem, fits->rec);
    identify_kernels(over->list, mem, over->rec);
    EXPECT_TRUE(fits->rec.messages.empty()) << dump(fits->rec.messages);
    EXPECT_EQ(fits->list.size(), 1u);
    ASSERT_EQ(over->rec.messages.size(), 1u);
    EXPECT_EQ(over->rec.messages[0].text,
              "d: property 'memory': 4096 KiB cannot hold the arm64 Image (2048 KiB) and the ramdisk (2052 KiB)");
    EXPECT_TRUE(over->list.empty());
}

// A captureless lambda kept in a named reader (as the boot code does) is
// held by value: the temporary it came from may be gone.
const std::vector<u8>* g_kernel_for_plain_reader = nullptr;

TEST(DomainConfig, IdentifyKernelsThroughAStoredCapturelessReader) {
    auto r = parse(domain("d", "", kernel_at(0x48000000, 0x1000)));
    const std::vector<u8> image = zimage(0x1000);
    g_kernel_for_plain_reader = &image;
    const HostMemoryReader read = [](PaRange range) -> std::span<const u8> {
        if (range.base != Pa(0x48000000) || range.size != g_kernel_for_plain_reader->size()) return {};
        return *g_kernel_for_plain_reader;
    };
    identify_kernels(r->list, read, r->rec);
    EXPECT_TRUE(r->rec.messages.empty()) << dump(r->rec.messages);
    ASSERT_EQ(r->list.size(), 1u);
    ASSERT_TRUE(r->list[0].kernel_image.has_value());
    EXPECT_TRUE(r->list[0].kernel_image->aarch32());
    g_kernel_for_plain_reader = nullptr;
}

TEST(DomainConfig, IdentifyKernelsOnAnEmptyListDoesNothing) {
    DomainList empty;
    Recorder rec;
    int calls = 0;
    auto reader = [&](PaRange) {
        ++calls;
        return std::span<const u8>();
    };
    identify_kernels(empty, reader, rec);
    EXPECT_EQ(calls, 0);
    EXPECT_TRUE(rec.messages.empty());
}

} // namespace
} // namespace setwise::core
