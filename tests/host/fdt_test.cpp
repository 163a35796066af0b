// core/fdt: the reader on well-formed blobs (lookups, property shapes, reg
// decoding, address translation) and on hostile ones (every header field
// out of bounds, every structural error, every truncation and every
// single-byte corruption of a small blob: an error or a sane tree, never a
// crash — ASan and UBSan watch).
#include "core/fdt.hpp"
#include "core/machine.hpp"
#include "fdt_builder.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace setwise::fdt {
namespace {

using testing::Builder;


// Header field offsets (§5.2).
constexpr size_t kTotalsize = 4, kOffStruct = 8, kOffStrings = 12, kOffRsvmap = 16, kVersionField = 20,
                 kLastComp = 24, kSizeStrings = 32, kSizeStruct = 36;

std::span<const u8> span_of(const std::vector<u8>& v) { return {v.data(), v.size()}; }

// A tree touching every lookup rule. Keep in sync with the tests below.
std::vector<u8> sample_blob() {
    Builder b;
    b.reserve(0x48000000, 0x1000).reserve(0x49000000, 0);
    b.boot_cpu(1);
    b.begin("")
        .cells("#address-cells", {2})
        .cells("#size-cells", {2})
        .strs("compatible", {"test,board", "test,soc"})
        .str("model", "setwise test board");
    b.begin("aliases")
        .str("serial0", "/soc/uart@1000")
        .str("soc", "/soc")
        .str("relative", "soc/uart@1000")
        .str("ghost", "/does/not/exist")
        .end();
    b.begin("chosen").str("bootargs", "console=ttyAMA0 sw-tracking=off").str("stdout-path", "serial0:115200n8").end();
    b.begin("memory@40000000").str("device_type", "memory").cells("reg", {0, 0x40000000, 0, 0x10000000}).end();
    b.begin("memory").str("device_type", "memory").cells("reg", {1, 0, 0, 0x1000}).end();
    b.begin("cpus").cells("#address-cells", {1}).cells("#size-cells", {0});
    b.begin("cpu@0").str("device_type", "cpu").cells("reg", {0}).cells("phandle", {1}).str("status", "okay").end();
    b.begin("cpu@1").str("device_type", "cpu").cells("reg", {1}).cells("linux,phandle", {2}).str("status", "disabled").end();
    b.end();
    b.begin("soc")
        .cells("#address-cells", {1})
        .cells("#size-cells", {1})
        .cells("ranges", {0x0, 0x0, 0x9000000, 0x100000})
        .strs("compatible", {"simple-bus"});
    b.begin("uart@1000")
        .strs("compatible", {"arm,pl011", "arm,primecell"})
        .cells("reg", {0x1000, 0x100})
        .cells("phandle", {0x10})
        .end();
    b.begin("ragged").cells("reg", {0x2000, 0x100, 0x3000}).end();
    b.end();
    b.begin("identity-bus").cells("#address-cells", {2}).cells("#size-cells", {2}).empty("ranges");
    b.begin("dev@100").cells("reg", {0, 0x100, 0, 0x10}).strs("compatible", {"arm,primecell"}).end();
    b.end();
    b.begin("nobus").cells("#address-cells", {1}).cells("#size-cells", {1});
    b.begin("dev@0").cells("reg", {0, 0x10}).end();
    b.end();
    b.begin("pci").cells("#address-cells", {3}).cells("#size-cells", {2});
    b.begin("dev").cells("reg", {0, 0, 0, 0, 0x10}).end();
    b.end();
    b.begin("props")
        .cells("one", {0x12345678})
        .u64p("wide", 0x1122334455667788ull)
        .empty("flag")
        .prop("unterminated", {'a', 'b'})
        .strs("list", {"first", "", "third"})
        .cells("many", {1, 2, 3, 4, 5});
    b.end();
    b.end();
    return b.build();
}

// Walks everything the reader offers. On a blob that opened, the structure
// is valid, so the walks themselves must succeed; only value-shape lookups
// may fail.
void exercise(const Blob& blob) {
    int nodes = 0;
    auto visit = [&](Node n, u32 depth) {
        ++nodes;
        auto name = blob.node_name(n);
        ASSERT_TRUE(name.ok());
        auto d = blob.depth_of(n);
        ASSERT_TRUE(d.ok());
        EXPECT_EQ(d.value(), depth);
        auto parent = blob.parent_of(n);
        EXPECT_EQ(parent.ok(), depth > 1);
        (void)blob.address_cells(n);
        (void)blob.size_cells(n);
        (void)blob.is_available(n);
        if (auto regs = blob.reg(n); regs) {
            for (Region r : regs.value()) (void)blob.translate(n, r);
        }
        auto props = blob.for_each_property(n, [&](const Property& p) {
            (void)p.as_u32();
            (void)p.as_u64();
            (void)p.as_uint();
            (void)p.as_string();
            for (std::string_view s : p.strings()) {
                (void)blob.find_compatible(s);
                (void)blob.resolve(s);
            }
            for (size_t i = 0; i < p.cell_count(); ++i) (void)p.cells(i, 2);
            if (p.name == "phandle" || p.name == "linux,phandle") {
                if (auto ph = p.as_u32(); ph) (void)blob.find_by_phandle(ph.value());
            }
        });
        EXPECT_TRUE(props.ok());
        int children = 0;
        EXPECT_TRUE(blob.for_each_child(n, [&](Node) { ++children; }).ok());
        if (name.ok() && depth == 2) {
            EXPECT_TRUE(blob.find_child(blob.root(), name.value()).ok());
        }
    };
    ASSERT_TRUE(blob.for_each_node(visit).ok());
    EXPECT_GE(nodes, 1);
    if (auto aliases = blob.find_path("/aliases"); aliases) {
        (void)blob.for_each_property(aliases.value(), [&](const Property& p) { (void)blob.alias(p.name); });
    }
    EXPECT_TRUE(blob.for_each_memreserve([](Region) {}).ok());
    core::MachineInfo info;
    (void)core::describe_machine(blob, info);
}

// ---- Well-formed blobs ------------------------------------------------

class SampleTest : public ::testing::Test {
protected:
    void SetUp() override {
        bytes_ = sample_blob();
        auto b = Blob::open(span_of(bytes_));
        ASSERT_TRUE(b.ok()) << status_name(b.status());
        blob_ = b.value();
    }
    Node path(std::string_view p) {
        auto n = blob_.find_path(p);
        EXPECT_TRUE(n.ok()) << p << ": " << status_name(n.status());
        return n.value_or(Node{});
    }
    std::string name(Node n) {
        auto s = blob_.node_name(n);
        return s ? std::string(s.value()) : std::string("<error>");
    }
    Property prop(std::string_view node, std::string_view p) {
        auto r = blob_.property(path(node), p);
        EXPECT_TRUE(r.ok()) << node << " " << p;
        return r.value_or(Property{});
    }

    std::vector<u8> bytes_;
    Blob blob_;
};

TEST_F(SampleTest, HeaderIsDecoded) {
    EXPECT_EQ(blob_.header().magic, kMagic);
    EXPECT_EQ(blob_.header().totalsize, bytes_.size());
    EXPECT_EQ(blob_.header().version, 17u);
    EXPECT_EQ(blob_.header().boot_cpuid_phys, 1u);
    EXPECT_EQ(blob_.bytes().size(), bytes_.size());
}

TEST_F(SampleTest, RootAndPaths) {
    EXPECT_EQ(name(blob_.root()), "");
    EXPECT_EQ(path("/"), blob_.root());
    EXPECT_EQ(name(path("/chosen")), "chosen");
    EXPECT_EQ(name(path("/cpus/cpu@0")), "cpu@0");
    EXPECT_EQ(name(path("/soc/uart@1000")), "uart@1000");
    EXPECT_EQ(path("//soc//uart@1000/"), path("/soc/uart@1000"));
    // Without a unit address the first child with that base name matches.
    EXPECT_EQ(name(path("/cpus/cpu")), "cpu@0");
    EXPECT_EQ(name(path("/soc/uart")), "uart@1000");
    // An exact full-name match wins over an earlier base-name match.
    EXPECT_EQ(name(path("/memory")), "memory");
    EXPECT_EQ(name(path("/memory@40000000")), "memory@40000000");
    // A component with '@' matches only exactly.
    EXPECT_EQ(blob_.find_path("/cpus/cpu@00").status(), Status::not_found);
    EXPECT_EQ(blob_.find_path("/cpus/cpu@2").status(), Status::not_found);
    EXPECT_EQ(blob_.find_path("/nope").status(), Status::not_found);
    EXPECT_EQ(blob_.find_path("/chosen/bootargs").status(), Status::not_found); // a property, not a node
    EXPECT_EQ(blob_.find_path("chosen").status(), Status::invalid_argument);
    EXPECT_EQ(blob_.find_path("").status(), Status::invalid_argument);
}

TEST_F(SampleTest, AliasesAndResolve) {
    const Node uart = path("/soc/uart@1000");
    EXPECT_EQ(blob_.alias("serial0").value_or(Node{}), uart);
    EXPECT_EQ(blob_.resolve("serial0").value_or(Node{}), uart);
    EXPECT_EQ(blob_.resolve("/soc/uart@1000").value_or(Node{}), uart);
    EXPECT_EQ(blob_.resolve("soc/uart@1000").value_or(Node{}), uart);
    EXPECT_EQ(blob_.resolve("soc/uart").value_or(Node{}), uart);
    EXPECT_EQ(blob_.alias("missing").status(), Status::not_found);
    EXPECT_EQ(blob_.alias("ghost").status(), Status::not_found);
    // An alias must hold a full path; one alias never names another.
    EXPECT_EQ(blob_.alias("relative").status(), Status::invalid_argument);
    EXPECT_EQ(blob_.resolve("").status(), Status::invalid_argument);
}

TEST_F(SampleTest, ChildrenInOrderAndEarlyStop) {
    std::vector<std::string> names;
    ASSERT_TRUE(blob_.for_each_child(blob_.root(), [&](Node n) { names.push_back(name(n)); }).ok());
    EXPECT_EQ(names, (std::vector<std::string>{"aliases", "chosen", "memory@40000000", "memory", "cpus", "soc",
                                               "identity-bus", "nobus", "pci", "props"}));

    int seen = 0;
    ASSERT_TRUE(blob_.for_each_child(blob_.root(), [&](Node) -> bool { return ++seen < 3; }).ok());
    EXPECT_EQ(seen, 3);

    seen = 0;
    auto r = blob_.for_each_child(blob_.root(), [&](Node) -> Status {
        return ++seen == 2 ? Status::busy : Status::ok;
    });
    EXPECT_EQ(r.status(), Status::busy);
    EXPECT_EQ(seen, 2);

    int leaf_children = 0;
    ASSERT_TRUE(blob_.for_each_child(path("/soc/uart@1000"), [&](Node) { ++leaf_children; }).ok());
    EXPECT_EQ(leaf_children, 0);
}

TEST_F(SampleTest, EveryNodeWithDepth) {
    std::vector<std::pair<std::string, u32>> seen;
    ASSERT_TRUE(blob_.for_each_node([&](Node n, u32 depth) { seen.emplace_back(name(n), depth); }).ok());
    ASSERT_EQ(seen.size(), 18u);
    EXPECT_EQ(seen[0], (std::pair<std::string, u32>{"", 1}));
    EXPECT_EQ(seen[6], (std::pair<std::string, u32>{"cpu@0", 3}));
    EXPECT_EQ(seen[17], (std::pair<std::string, u32>{"props", 2}));
}

TEST_F(SampleTest, PropertiesInOrder) {
    std::vector<std::string> names;
    ASSERT_TRUE(blob_.for_each_property(blob_.root(), [&](const Property& p) { names.emplace_back(p.name); }).ok());
    EXPECT_EQ(names, (std::vector<std::string>{"#address-cells", "#size-cells", "compatible", "model"}));
    // Subnodes' properties are not the node's own.
    names.clear();
    ASSERT_TRUE(blob_.for_each_property(path("/cpus"), [&](const Property& p) { names.emplace_back(p.name); }).ok());
    EXPECT_EQ(names, (std::vector<std::string>{"#address-cells", "#size-cells"}));
    EXPECT_EQ(blob_.property(blob_.root(), "nope").status(), Status::not_found);
    EXPECT_TRUE(blob_.has_property(path("/props"), "flag"));
    EXPECT_FALSE(blob_.has_property(path("/props"), "flag2"));
}

TEST_F(SampleTest, PropertyShapes) {
    const Property one = prop("/props", "one");
    EXPECT_EQ(one.as_u32().value_or(0), 0x12345678u);
    EXPECT_EQ(one.as_uint().value_or(0), 0x12345678u);
    EXPECT_EQ(one.as_u64().status(), Status::invalid_argument);

    const Property wide = prop("/props", "wide");
    EXPECT_EQ(wide.as_u64().value_or(0), 0x1122334455667788ull);
    EXPECT_EQ(wide.as_uint().value_or(0), 0x1122334455667788ull);
    EXPECT_EQ(wide.as_u32().status(), Status::invalid_argument);
    EXPECT_EQ(wide.cells(0, 1).value_or(0), 0x11223344u);
    EXPECT_EQ(wide.cells(1, 1).value_or(0), 0x55667788u);
    EXPECT_EQ(wide.cells(0, 2).value_or(0), 0x1122334455667788ull);
    EXPECT_EQ(wide.cells(1, 2).status(), Status::out_of_range);
    EXPECT_EQ(wide.cells(0, 3).status(), Status::invalid_argument);
    EXPECT_EQ(wide.cells(~size_t{0}, 1).status(), Status::out_of_range);

    const Property flag = prop("/props", "flag");
    EXPECT_TRUE(flag.empty());
    EXPECT_EQ(flag.as_string().status(), Status::invalid_argument);
    EXPECT_EQ(flag.strings().count(), 0u);
    EXPECT_TRUE(flag.strings().valid());

    EXPECT_EQ(prop("/", "model").as_string().value_or("?"), "setwise test board");

    const Property unterminated = prop("/props", "unterminated");
    EXPECT_EQ(unterminated.as_string().status(), Status::invalid_argument);
    EXPECT_FALSE(unterminated.strings().valid());
    EXPECT_EQ(unterminated.strings().count(), 0u);
    EXPECT_FALSE(unterminated.contains_string("ab"));

    const Property list = prop("/props", "list");
    std::vector<std::string> items;
    for (std::string_view s : list.strings()) items.emplace_back(s);
    EXPECT_EQ(items, (std::vector<std::string>{"first", "", "third"}));
    EXPECT_EQ(list.strings().count(), 3u);
    EXPECT_EQ(list.strings().first(), "first");
    EXPECT_EQ(list.as_string().value_or("?"), "first");
    EXPECT_TRUE(list.contains_string("third"));
    EXPECT_TRUE(list.contains_string(""));
    EXPECT_FALSE(list.contains_string("thir"));

    const Property many = prop("/props", "many");
    EXPECT_EQ(many.cell_count(), 5u);
    EXPECT_EQ(many.cells(4, 1).value_or(0), 5u);
    EXPECT_EQ(many.cells(3, 2).value_or(0), (u64{4} << 32) | 5);
    EXPECT_EQ(many.cells(5, 1).status(), Status::out_of_range);
}

TEST_F(SampleTest, ParentsAndDepth) {
    const Node uart = path("/soc/uart@1000");
    EXPECT_EQ(blob_.parent_of(uart).value_or(Node{}), path("/soc"));
    EXPECT_EQ(blob_.parent_of(path("/soc")).value_or(Node{}), blob_.root());
    EXPECT_EQ(blob_.parent_of(blob_.root()).status(), Status::not_found);
    EXPECT_EQ(blob_.depth_of(uart).value_or(0), 3u);
    EXPECT_EQ(blob_.depth_of(blob_.root()).value_or(0), 1u);
    // A default Node names nothing.
    EXPECT_FALSE(blob_.parent_of(Node{}).ok());
    EXPECT_FALSE(blob_.node_name(Node{}).ok());
    EXPECT_FALSE(blob_.for_each_child(Node{}, [](Node) {}).ok());
}

TEST_F(SampleTest, CellsDefaultsAndReg) {
    EXPECT_EQ(blob_.address_cells(path("/cpus")).value_or(0), 1u);
    EXPECT_EQ(blob_.size_cells(path("/cpus")).value_or(9), 0u);
    // §2.3.5 defaults when absent.
    EXPECT_EQ(blob_.address_cells(path("/chosen")).value_or(0), 2u);
    EXPECT_EQ(blob_.size_cells(path("/chosen")).value_or(0), 1u);

    auto mem = blob_.reg(path("/memory@40000000"));
    ASSERT_TRUE(mem.ok());
    ASSERT_EQ(mem.value().size(), 1u);
    EXPECT_EQ(mem.value()[0], (Region{0x40000000, 0x10000000}));
    EXPECT_EQ(mem.value()[1], (Region{})); // past the end: harmless zero

    auto cpu = blob_.reg(path("/cpus/cpu@1"));
    ASSERT_TRUE(cpu.ok());
    ASSERT_EQ(cpu.value().size(), 1u);
    EXPECT_EQ(cpu.value()[0], (Region{1, 0}));

    auto uart = blob_.reg(path("/soc/uart@1000"));
    ASSERT_TRUE(uart.ok());
    std::vector<Region> regions(uart.value().begin(), uart.value().end());
    EXPECT_EQ(regions, (std::vector<Region>{{0x1000, 0x100}}));

    EXPECT_EQ(blob_.reg(path("/pci/dev")).status(), Status::invalid_argument); // 3 address cells
    EXPECT_EQ(blob_.reg(path("/soc/ragged")).status(), Status::invalid_argument);
    EXPECT_EQ(blob_.reg(path("/chosen")).status(), Status::not_found);
    EXPECT_EQ(blob_.reg(blob_.root()).status(), Status::not_found);
}

TEST_F(SampleTest, TranslateThroughRanges) {
    const Node uart = path("/soc/uart@1000");
    EXPECT_EQ(blob_.translate(uart, {0x1000, 0x100}).value_or(Region{}), (Region{0x9001000, 0x100}));
    EXPECT_EQ(blob_.translate(uart, {0xff000, 0x1000}).value_or(Region{}), (Region{0x90ff000, 0x1000}));
    EXPECT_EQ(blob_.translate(uart, {0xff000, 0x1001}).status(), Status::out_of_range);
    EXPECT_EQ(blob_.translate(uart, {0x100000, 0x10}).status(), Status::out_of_range);
    const Node dev = path("/identity-bus/dev@100");
    EXPECT_EQ(blob_.translate(dev, {0x100, 0x10}).value_or(Region{}), (Region{0x100, 0x10}));
    // §2.3.8: no `ranges` means no mapping to the parent.
    EXPECT_EQ(blob_.translate(path("/nobus/dev@0"), {0, 0x10}).status(), Status::invalid_argument);
    // Root children are already CPU addresses.
    EXPECT_EQ(blob_.translate(path("/memory"), {0x100000000, 0x1000}).value_or(Region{}),
              (Region{0x100000000, 0x1000}));
    EXPECT_EQ(blob_.translate(path("/memory"), {~u64{0}, 2}).status(), Status::out_of_range);
    EXPECT_EQ(blob_.translate(blob_.root(), {0, 1}).status(), Status::invalid_argument);
}

TEST_F(SampleTest, CompatibleAndPhandle) {
    const Node uart = path("/soc/uart@1000");
    EXPECT_EQ(blob_.find_compatible("arm,pl011").value_or(Node{}), uart);
    EXPECT_EQ(blob_.find_compatible("arm,primecell").value_or(Node{}), uart); // first in document order
    EXPECT_EQ(blob_.find_compatible("arm,pl01").status(), Status::not_found);
    EXPECT_TRUE(blob_.is_compatible(blob_.root(), "test,soc"));
    std::vector<std::string> all;
    ASSERT_TRUE(blob_.for_each_compatible("arm,primecell", [&](Node n) { all.push_back(name(n)); }).ok());
    EXPECT_EQ(all, (std::vector<std::string>{"uart@1000", "dev@100"}));

    EXPECT_EQ(blob_.find_by_phandle(1).value_or(Node{}), path("/cpus/cpu@0"));
    EXPECT_EQ(blob_.find_by_phandle(2).value_or(Node{}), path("/cpus/cpu@1")); // linux,phandle
    EXPECT_EQ(blob_.find_by_phandle(0x10).value_or(Node{}), uart);
    EXPECT_EQ(blob_.find_by_phandle(3).status(), Status::not_found);
    EXPECT_EQ(blob_.find_by_phandle(0).status(), Status::invalid_argument);
    EXPECT_EQ(blob_.find_by_phandle(0xffffffff).status(), Status::invalid_argument);
}

TEST_F(SampleTest, StatusAndMemreserve) {
    EXPECT_TRUE(blob_.is_available(path("/cpus/cpu@0")));   // "okay"
    EXPECT_FALSE(blob_.is_available(path("/cpus/cpu@1")));  // "disabled"
    EXPECT_TRUE(blob_.is_available(path("/soc")));          // absent
    std::vector<Region> rsv;
    ASSERT_TRUE(blob_.for_each_memreserve([&](Region r) { rsv.push_back(r); }).ok());
    EXPECT_EQ(rsv, (std::vector<Region>{{0x48000000, 0x1000}, {0x49000000, 0}}));
}

TEST_F(SampleTest, WalkEverything) { exercise(blob_); }

TEST(FdtOpen, MinimalRoot) {
    const auto bytes = Builder().begin("").end().build();
    auto blob = Blob::open(span_of(bytes));
    ASSERT_TRUE(blob.ok());
    int children = 0, props = 0;
    EXPECT_TRUE(blob.value().for_each_child(blob.value().root(), [&](Node) { ++children; }).ok());
    EXPECT_TRUE(blob.value().for_each_property(blob.value().root(), [&](const Property&) { ++props; }).ok());
    EXPECT_EQ(children + props, 0);
    EXPECT_EQ(blob.value().find_path("/chosen").status(), Status::not_found);
    EXPECT_EQ(blob.value().alias("serial0").status(), Status::not_found);
}

TEST(FdtOpen, NopsAnywhere) {
    Builder b;
    b.nop().begin("").nop().cells("a", {1}).nop().begin("child").nop().cells("b", {2}).nop().end().nop();
    b.begin("other").end().nop().end().nop();
    const auto bytes = b.build();
    auto blob = Blob::open(span_of(bytes));
    ASSERT_TRUE(blob.ok());
    const Blob& t = blob.value();
    EXPECT_EQ(t.root().offset(), 4u);
    auto child = t.find_path("/child");
    ASSERT_TRUE(child.ok());
    EXPECT_EQ(t.property(child.value(), "b").value().as_u32().value_or(0), 2u);
    EXPECT_EQ(t.property(t.root(), "a").value().as_u32().value_or(0), 1u);
    EXPECT_TRUE(t.find_path("/other").ok());
    EXPECT_EQ(t.parent_of(child.value()).value_or(Node{}), t.root());
    exercise(t);
}

TEST(FdtOpen, UnalignedBuffer) {
    const auto bytes = sample_blob();
    for (size_t shift = 1; shift < 8; ++shift) {
        std::vector<u8> buffer(bytes.size() + shift);
        std::memcpy(buffer.data() + shift, bytes.data(), bytes.size());
        auto blob = Blob::open(std::span<const u8>(buffer.data() + shift, bytes.size()));
        ASSERT_TRUE(blob.ok()) << shift;
        auto uart = blob.value().resolve("serial0");
        ASSERT_TRUE(uart.ok());
        auto reg = blob.value().reg(uart.value());
        ASSERT_TRUE(reg.ok());
        EXPECT_EQ(reg.value()[0], (Region{0x1000, 0x100}));
        exercise(blob.value());
    }
}

TEST(FdtOpen, TrailingBytesBeyondTotalsizeAreIgnored) {
    auto bytes = sample_blob();
    const size_t total = bytes.size();
    bytes.resize(total + 100, 0xee);
    auto blob = Blob::open(span_of(bytes));
    ASSERT_TRUE(blob.ok());
    EXPECT_EQ(blob.value().bytes().size(), total);
}

TEST(FdtOpen, Version16WithoutStructSize) {
    auto bytes = sample_blob();
    Builder::put32(bytes, kVersionField, 16);
    Builder::put32(bytes, kSizeStruct, 0);
    auto blob = Blob::open(span_of(bytes));
    ASSERT_TRUE(blob.ok()) << status_name(blob.status());
    // Derived: up to the strings block.
    EXPECT_EQ(blob.value().header().size_dt_struct,
              Builder::get32(bytes, kOffStrings) - Builder::get32(bytes, kOffStruct));
    EXPECT_TRUE(blob.value().find_path("/soc/uart").ok());
    exercise(blob.value());
}

TEST(FdtOpen, NewerVersionStillCompatible) {
    auto bytes = sample_blob();
    Builder::put32(bytes, kVersionField, 18);
    Builder::put32(bytes, kLastComp, 17);
    EXPECT_TRUE(Blob::open(span_of(bytes)).ok());
}

TEST(FdtOpen, DepthLimit) {
    auto nested = [](u32 depth) {
        Builder b;
        for (u32 i = 0; i < depth; ++i) b.begin(i == 0 ? "" : "n");
        for (u32 i = 0; i < depth; ++i) b.end();
        return b.build();
    };
    const auto ok = nested(kMaxDepth);
    auto blob = Blob::open(span_of(ok));
    ASSERT_TRUE(blob.ok());
    std::string deepest = "/";
    for (u32 i = 1; i < kMaxDepth; ++i) deepest += "n/";
    auto leaf = blob.value().find_path(deepest);
    ASSERT_TRUE(leaf.ok());
    EXPECT_EQ(blob.value().depth_of(leaf.value()).value_or(0), kMaxDepth);
    EXPECT_TRUE(blob.value().parent_of(leaf.value()).ok());
    exercise(blob.value());

    const auto too_deep = nested(kMaxDepth + 1);
    EXPECT_EQ(Blob::open(span_of(too_deep)).status(), Status::out_of_range);
    // Far beyond: rejected without recursion, in one pass.
    const auto hostile = nested(100000);
    EXPECT_EQ(Blob::open(span_of(hostile)).status(), Status::out_of_range);
}

// ---- Hostile headers --------------------------------------------------

TEST(FdtHostile, TooShortOrNotADtb) {
    EXPECT_EQ(Blob::open({}).status(), Status::truncated);
    const auto bytes = sample_blob();
    EXPECT_EQ(Blob::open(span_of(bytes).first(3)).status(), Status::truncated);
    EXPECT_EQ(Blob::open(span_of(bytes).first(39)).status(), Status::truncated);
    auto bad = bytes;
    bad[0] = 0xfe;
    EXPECT_EQ(Blob::open(span_of(bad)).status(), Status::bad_magic);
    bad = bytes;
    Builder::put32(bad, 0, 0xedfe0dd0); // little-endian magic
    EXPECT_EQ(Blob::open(span_of(bad)).status(), Status::bad_magic);
}

TEST(FdtHostile, Totalsize) {
    auto bytes = sample_blob();
    Builder::put32(bytes, kTotalsize, static_cast<u32>(bytes.size() + 1));
    EXPECT_EQ(Blob::open(span_of(bytes)).status(), Status::truncated);
    Builder::put32(bytes, kTotalsize, 0xffffffff);
    EXPECT_EQ(Blob::open(span_of(bytes)).status(), Status::truncated);
    Builder::put32(bytes, kTotalsize, 39);
    EXPECT_EQ(Blob::open(span_of(bytes)).status(), Status::invalid_argument);
    // Smaller than the blocks it claims to hold.
    Builder::put32(bytes, kTotalsize, static_cast<u32>(sample_blob().size() - 1));
    EXPECT_EQ(Blob::open(span_of(bytes)).status(), Status::out_of_range);
}

TEST(FdtHostile, Versions) {
    auto bytes = sample_blob();
    Builder::put32(bytes, kVersionField, 15);
    EXPECT_EQ(Blob::open(span_of(bytes)).status(), Status::unsupported);
    Builder::put32(bytes, kVersionField, 0);
    EXPECT_EQ(Blob::open(span_of(bytes)).status(), Status::unsupported);
    Builder::put32(bytes, kVersionField, 17);
    Builder::put32(bytes, kLastComp, 18);
    EXPECT_EQ(Blob::open(span_of(bytes)).status(), Status::unsupported);
    Builder::put32(bytes, kLastComp, 0xffffffff);
    EXPECT_EQ(Blob::open(span_of(bytes)).status(), Status::unsupported);
}

TEST(FdtHostile, BlockOffsetsAndSizes) {
    const auto good = sample_blob();
    const u32 total = static_cast<u32>(good.size());
    auto with = [&](size_t field, u32 value) {
        auto b = good;
        Builder::put32(b, field, value);
        return Blob::open(span_of(b)).status();
    };
    EXPECT_EQ(with(kOffStruct, total + 4), Status::out_of_range);
    EXPECT_EQ(with(kOffStruct, 0xfffffffc), Status::out_of_range);
    EXPECT_EQ(with(kSizeStruct, total), Status::out_of_range);
    EXPECT_EQ(with(kSizeStruct, 0xffffffff), Status::out_of_range);
    EXPECT_EQ(with(kOffStrings, total + 1), Status::out_of_range);
    EXPECT_EQ(with(kSizeStrings, 0xffffffff), Status::out_of_range);
    EXPECT_EQ(with(kSizeStrings, total), Status::out_of_range);
    EXPECT_EQ(with(kOffRsvmap, total + 8), Status::out_of_range);
    // Blocks inside the header.
    EXPECT_EQ(with(kOffStruct, 0), Status::invalid_argument);
    EXPECT_EQ(with(kOffStruct, 36), Status::invalid_argument);
    EXPECT_EQ(with(kOffRsvmap, 0), Status::invalid_argument);
    EXPECT_EQ(with(kOffRsvmap, 32), Status::invalid_argument);
    EXPECT_EQ(with(kOffStrings, 4), Status::invalid_argument);
    // Misaligned blocks (§5.1).
    EXPECT_EQ(with(kOffRsvmap, 44), Status::invalid_argument);
    const u32 off_struct = Builder::get32(good, kOffStruct);
    EXPECT_EQ(with(kOffStruct, off_struct + 2), Status::invalid_argument);
    // Strings overlapping the structure block.
    EXPECT_EQ(with(kOffStrings, off_struct + 8), Status::invalid_argument);
    // Memory reservation block running into the structure block: with
    // its terminator gone the scan meets struct bytes.
    auto rsv = good;
    const u32 terminator = off_struct - 16;
    rsv[terminator + 7] = 1;
    EXPECT_FALSE(Blob::open(span_of(rsv)).ok());
    // A reservation map with no terminator before the end of the blob.
    EXPECT_EQ(with(kOffRsvmap, (total - 8) & ~7u), Status::truncated);
}

// ---- Hostile structure blocks -------------------------------------------

Status open_struct(Builder& b, bool with_end = true) {
    const auto bytes = b.build(with_end);
    return Blob::open(span_of(bytes)).status();
}

TEST(FdtHostile, Tokens) {
    {
        Builder b;
        b.begin("").word(5).end();
        EXPECT_EQ(open_struct(b), Status::invalid_argument) << "unknown token";
    }
    {
        Builder b;
        b.begin("").end();
        EXPECT_EQ(open_struct(b, false), Status::truncated) << "no FDT_END";
    }
    {
        Builder b;
        b.begin("").word(9).end();
        EXPECT_EQ(open_struct(b), Status::invalid_argument) << "FDT_END inside a node";
    }
    {
        Builder b;
        b.begin("");
        EXPECT_EQ(open_struct(b), Status::invalid_argument) << "root never closed";
    }
    {
        Builder b;
        b.begin("").end().end();
        EXPECT_EQ(open_struct(b), Status::invalid_argument) << "extra END_NODE";
    }
    {
        Builder b;
        b.cells("early", {1}).begin("").end();
        EXPECT_EQ(open_struct(b), Status::invalid_argument) << "property outside the root";
    }
    {
        Builder b;
        b.begin("").begin("child").end().cells("late", {1}).end();
        EXPECT_EQ(open_struct(b), Status::invalid_argument) << "property after a subnode (§5.4.2)";
    }
    {
        Builder b;
        b.begin("").end().begin("").end();
        EXPECT_EQ(open_struct(b), Status::invalid_argument) << "two roots";
    }
    {
        Builder b;
        EXPECT_EQ(open_struct(b), Status::invalid_argument) << "no root at all";
    }
}

TEST(FdtHostile, UnterminatedNodeName) {
    Builder b;
    b.begin("");
    // BEGIN_NODE then a name that runs to the end of the block.
    b.word(1).word(0x61616161).word(0x61616161);
    auto bytes = b.build(false);
    EXPECT_EQ(Blob::open(span_of(bytes)).status(), Status::truncated);
}

TEST(FdtHostile, StringReferences) {
    Builder b;
    b.begin("").cells("prop", {1}).end();
    auto good = b.build();
    const u32 off_struct = Builder::get32(good, kOffStruct);
    const size_t nameoff = off_struct + 8 + 8; // root: token + 4-byte name; prop: token, len, nameoff
    ASSERT_EQ(Builder::get32(good, nameoff - 8), 3u);

    auto bad = good;
    Builder::put32(bad, nameoff, 5); // exactly size_dt_strings
    EXPECT_EQ(Blob::open(span_of(bad)).status(), Status::out_of_range);
    Builder::put32(bad, nameoff, 0xffffffff);
    EXPECT_EQ(Blob::open(span_of(bad)).status(), Status::out_of_range);
    // The strings block ends before the name's NUL.
    bad = good;
    Builder::put32(bad, kSizeStrings, 4);
    EXPECT_EQ(Blob::open(span_of(bad)).status(), Status::truncated);
    // An empty strings block.
    Builder::put32(bad, kSizeStrings, 0);
    EXPECT_EQ(Blob::open(span_of(bad)).status(), Status::out_of_range);
}

TEST(FdtHostile, PropertyLengths) {
    Builder b;
    b.begin("").cells("prop", {1}).end();
    const auto good = b.build();
    const size_t len = Builder::get32(good, kOffStruct) + 8 + 4;
    ASSERT_EQ(Builder::get32(good, len), 4u);
    for (u32 huge : {0xffffffffu, 0x80000000u, 0xfffffff4u, 13u, 12u}) {
        auto bad = good;
        Builder::put32(bad, len, huge);
        EXPECT_EQ(Blob::open(span_of(bad)).status(), Status::truncated) << huge;
    }
    // A length that lands on another token boundary is syntactically fine
    // but then the stream no longer balances.
    auto bad = good;
    Builder::put32(bad, len, 8);
    EXPECT_FALSE(Blob::open(span_of(bad)).ok());
}

// Every prefix of a valid blob is an error: first as cut (header promises
// more), then with the header rewritten to fit the cut, so the structure or
// strings block itself is what ends early.
TEST(FdtHostile, EveryTruncation) {
    const auto bytes = sample_blob();
    const u32 off_struct = Builder::get32(bytes, kOffStruct);
    const u32 off_strings = Builder::get32(bytes, kOffStrings);
    for (size_t n = 0; n < bytes.size(); ++n) {
        std::vector<u8> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
        auto blob = Blob::open(span_of(cut));
        ASSERT_FALSE(blob.ok()) << "prefix " << n;

        if (n < 40) continue;
        const u32 total = static_cast<u32>(n);
        Builder::put32(cut, kTotalsize, total);
        if (total < off_strings) {
            Builder::put32(cut, kOffStrings, total);
            Builder::put32(cut, kSizeStrings, 0);
            Builder::put32(cut, kSizeStruct, total > off_struct ? total - off_struct : 0);
        } else {
            Builder::put32(cut, kSizeStrings, total - off_strings);
        }
        if (total < off_struct) Builder::put32(cut, kOffStruct, total & ~3u);
        blob = Blob::open(span_of(cut));
        ASSERT_FALSE(blob.ok()) << "rewritten prefix " << n;
    }
    EXPECT_TRUE(Blob::open(span_of(bytes)).ok());
}

// Every byte of a small blob set to every value: open may succeed or fail,
// but a blob that opens must walk cleanly.
TEST(FdtHostile, EverySingleByteCorruption) {
    Builder b;
    b.reserve(0x1000, 0x1000);
    b.begin("").cells("#address-cells", {1}).cells("#size-cells", {1});
    b.begin("aliases").str("s", "/u@10").end();
    b.begin("chosen").str("stdout-path", "s:9600").cells("linux,initrd-start", {0x100}).cells("linux,initrd-end", {0x200}).end();
    b.begin("memory").str("device_type", "memory").cells("reg", {0x1000, 0x1000}).end();
    b.begin("u@10").strs("compatible", {"arm,pl011"}).cells("reg", {0x10, 0x10}).cells("phandle", {1}).end();
    b.end();
    const auto bytes = b.build();
    ASSERT_LT(bytes.size(), 512u);
    size_t opened = 0;
    for (size_t i = 0; i < bytes.size(); ++i) {
        for (u32 v = 0; v < 256; ++v) {
            if (v == bytes[i]) continue;
            auto bad = bytes;
            bad[i] = static_cast<u8>(v);
            auto blob = Blob::open(span_of(bad));
            if (!blob) continue;
            ++opened;
            exercise(blob.value());
            if (HasFatalFailure()) FAIL() << "byte " << i << " = " << v;
        }
    }
    // Corrupting padding, property values and unused header fields keeps
    // the blob valid; most other corruptions are caught.
    std::printf("%zu-byte blob, %zu of %zu corruptions opened\n", bytes.size(), opened, bytes.size() * 255);
    EXPECT_GT(opened, 0u);
    EXPECT_LT(opened, bytes.size() * 255);
}

} // namespace
} // namespace setwise::fdt
