// core/fdt_writer: blobs read back through the reader (core/fdt) with every
// property type, nesting, memory reservations and header fields; the exact
// bytes of a small blob against the §5 layout worked out by hand; string
// deduplication; every buffer size short of the blob failing with
// no_memory and no byte written outside the buffer; every misuse an error.
// Section numbers: Devicetree Specification v0.4.
#include "core/fdt_writer.hpp"
#include "core/fdt.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace setwise::fdt {
namespace {

using namespace std::string_view_literals;

constexpr u8 kGuard = 0xa5;
constexpr usize kGuardSize = 64;

// A buffer with guard bytes on both sides, to see writes outside it.
class GuardedBuffer {
public:
    explicit GuardedBuffer(usize size) : storage_(size + 2 * kGuardSize, kGuard) {}
    std::span<u8> span() { return std::span<u8>(storage_.data() + kGuardSize, storage_.size() - 2 * kGuardSize); }
    bool guards_intact() const {
        for (usize i = 0; i < kGuardSize; ++i) {
            if (storage_[i] != kGuard || storage_[storage_.size() - 1 - i] != kGuard) return false;
        }
        return true;
    }

private:
    std::vector<u8> storage_;
};

std::vector<u8> be32(u32 v) {
    return {static_cast<u8>(v >> 24), static_cast<u8>(v >> 16), static_cast<u8>(v >> 8), static_cast<u8>(v)};
}

void append(std::vector<u8>& out, const std::vector<u8>& more) {
    out.insert(out.end(), more.begin(), more.end());
}

Blob open_ok(std::span<const u8> bytes) {
    auto blob = Blob::open(bytes);
    EXPECT_TRUE(blob.ok()) << status_name(blob.status());
    return blob.ok() ? blob.value() : Blob{};
}

std::vector<u8> bytes_of(std::string_view s) {
    return std::vector<u8>(s.begin(), s.end());
}

std::vector<u8> value_of(const Blob& blob, Node node, std::string_view name) {
    auto p = blob.property(node, name);
    EXPECT_TRUE(p.ok()) << name;
    if (!p) return {};
    return std::vector<u8>(p.value().value.begin(), p.value().value.end());
}

// ---- Layout -------------------------------------------------------------

// / { a = <0x11223344>; };  with one reservation, boot CPU 3, by hand:
//   header 40 | rsv {0x1000, 0x2000} {0, 0} = 32 | structure:
//   BEGIN_NODE "" (4 + 4) | PROP len 4 nameoff 0 (12) + value (4) |
//   END_NODE (4) | END (4) = 32 | strings "a\0" (2)  -> totalsize 106
TEST(FdtWriter, SmallBlobMatchesTheSpecLayoutByteForByte) {
    std::array<u8, 256> buffer{};
    Writer w(buffer, 3);
    w.add_memreserve(0x1000, 0x2000);
    w.begin_node("");
    w.property_u32("a", 0x11223344);
    w.end_node();
    auto blob = w.finish();
    ASSERT_TRUE(blob.ok()) << status_name(blob.status());

    std::vector<u8> expected;
    for (u32 v : {0xd00dfeedu, 106u, 72u, 104u, 40u, 17u, 16u, 3u, 2u, 32u}) append(expected, be32(v));
    for (u32 v : {0u, 0x1000u, 0u, 0x2000u, 0u, 0u, 0u, 0u}) append(expected, be32(v));
    for (u32 v : {1u, 0u, 3u, 4u, 0u, 0x11223344u, 2u, 9u}) append(expected, be32(v));
    expected.push_back('a');
    expected.push_back(0);
    EXPECT_EQ(std::vector<u8>(blob.value().begin(), blob.value().end()), expected);
}

TEST(FdtWriter, HeaderFieldsAreVersion17WithTheBootCpu) {
    std::array<u8, 512> buffer{};
    Writer w(buffer, 0x103);
    w.begin_node("");
    w.property_string("model", "m");
    w.end_node();
    auto bytes = w.finish();
    ASSERT_TRUE(bytes.ok());
    const Blob blob = open_ok(bytes.value());
    const Header& h = blob.header();
    EXPECT_EQ(h.magic, 0xd00dfeedu);
    EXPECT_EQ(h.version, 17u);
    EXPECT_EQ(h.last_comp_version, 16u);
    EXPECT_EQ(h.boot_cpuid_phys, 0x103u);
    EXPECT_EQ(h.totalsize, bytes.value().size());
    // §5.1 order: header, reservations (8-aligned), structure, strings.
    EXPECT_EQ(h.off_mem_rsvmap, 40u);
    EXPECT_EQ(h.off_dt_struct, 56u); // just the terminating reservation
    EXPECT_EQ(h.off_dt_strings, h.off_dt_struct + h.size_dt_struct);
    EXPECT_EQ(h.totalsize, h.off_dt_strings + h.size_dt_strings);
    EXPECT_EQ(h.size_dt_strings, 6u); // "model\0"
}

// ---- Round trips --------------------------------------------------------

TEST(FdtWriter, EveryPropertyTypeReadsBack) {
    std::array<u8, 2048> buffer{};
    Writer w(buffer);
    w.begin_node("");
    w.property_u32("#address-cells", 2);
    w.property_u32("#size-cells", 1);
    w.property_u64("u64-value", 0x0102030405060708);
    w.property_cells("cells", {1, 0xffffffff, 0x80000000});
    w.property_cells("no-cells", std::span<const u32>());
    w.property_string("str", "hello");
    w.property_string("empty-str", "");
    w.property_string_list("list", {"one", "", "three"});
    const std::array<std::string_view, 2> list2{"x,y", "z"};
    w.property_string_list("list2", list2);
    w.property_empty("flag");
    const std::array<u8, 5> raw{9, 8, 7, 6, 5};
    w.property("raw", raw);
    w.begin_node("dev@1000");
    w.property_reg(2, 1, {{0x1'0000'1000, 0x100}, {0x2000, 0x10}});
    w.property_u32("#address-cells", 1);
    w.property_u32("#size-cells", 0);
    w.begin_node("leaf@7");
    w.property_reg(1, 0, {{7, 0}});
    w.end_node();
    w.end_node();
    w.begin_node("big@0");
    w.property_u32("#address-cells", 2);
    w.property_u32("#size-cells", 2);
    w.begin_node("x@ffffffff00000000");
    w.property_reg(2, 2, {{0xffff'ffff'0000'0000, 0x1'0000'0000}});
    w.end_node();
    w.end_node();
    w.end_node();
    auto bytes = w.finish();
    ASSERT_TRUE(bytes.ok()) << status_name(bytes.status());
    const Blob blob = open_ok(bytes.value());
    const Node root = blob.root();

    EXPECT_EQ(blob.property(root, "#address-cells").value().as_u32().value(), 2u);
    EXPECT_EQ(blob.property(root, "u64-value").value().as_u64().value(), 0x0102030405060708u);
    EXPECT_EQ(value_of(blob, root, "u64-value"), (std::vector<u8>{1, 2, 3, 4, 5, 6, 7, 8}));
    EXPECT_EQ(value_of(blob, root, "cells"),
              (std::vector<u8>{0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0x80, 0, 0, 0}));
    EXPECT_TRUE(value_of(blob, root, "no-cells").empty());
    EXPECT_EQ(value_of(blob, root, "str"), bytes_of("hello\0"sv));
    EXPECT_EQ(value_of(blob, root, "empty-str"), (std::vector<u8>{0}));
    EXPECT_EQ(value_of(blob, root, "list"), bytes_of("one\0\0three\0"sv));
    EXPECT_EQ(value_of(blob, root, "list2"), bytes_of("x,y\0z\0"sv));
    EXPECT_TRUE(blob.has_property(root, "flag"));
    EXPECT_TRUE(value_of(blob, root, "flag").empty());
    EXPECT_EQ(value_of(blob, root, "raw"), (std::vector<u8>{9, 8, 7, 6, 5}));

    const Node dev = blob.find_path("/dev@1000").value();
    const RegList regs = blob.reg(dev).value();
    ASSERT_EQ(regs.size(), 2u);
    EXPECT_EQ(regs[0], (Region{0x1'0000'1000, 0x100}));
    EXPECT_EQ(regs[1], (Region{0x2000, 0x10}));
    const RegList leaf = blob.reg(blob.find_path("/dev@1000/leaf@7").value()).value();
    ASSERT_EQ(leaf.size(), 1u);
    EXPECT_EQ(leaf[0], (Region{7, 0}));
    const RegList big = blob.reg(blob.find_path("/big@0/x@ffffffff00000000").value()).value();
    ASSERT_EQ(big.size(), 1u);
    EXPECT_EQ(big[0], (Region{0xffff'ffff'0000'0000, 0x1'0000'0000}));
}

TEST(FdtWriter, PropertyOrderAndPaddingAreKept) {
    std::array<u8, 512> buffer{};
    Writer w(buffer);
    w.begin_node("");
    w.property("p1", std::array<u8, 1>{1});
    w.property("p2", std::array<u8, 2>{2, 2});
    w.property("p3", std::array<u8, 3>{3, 3, 3});
    w.property_u32("p4", 4);
    w.end_node();
    auto bytes = w.finish();
    ASSERT_TRUE(bytes.ok());
    const Blob blob = open_ok(bytes.value());
    std::vector<std::string> names;
    std::vector<usize> sizes;
    ASSERT_TRUE(blob.for_each_property(blob.root(), [&](const Property& p) {
                        names.emplace_back(p.name);
                        sizes.push_back(p.size());
                    }).ok());
    EXPECT_EQ(names, (std::vector<std::string>{"p1", "p2", "p3", "p4"}));
    EXPECT_EQ(sizes, (std::vector<usize>{1, 2, 3, 4}));
    // Each value padded to 4 bytes (§5.4.1): 4 properties of 12 + 4 bytes,
    // the root's begin (8) and end (4), FDT_END (4).
    EXPECT_EQ(blob.header().size_dt_struct, 4u * 16 + 8 + 4 + 4);
}

TEST(FdtWriter, NestedNodesKeepTheirShapeAndOrder) {
    std::array<u8, 1024> buffer{};
    Writer w(buffer);
    w.begin_node("");
    w.begin_node("a");
    w.begin_node("b@1");
    w.begin_node("c");
    w.property_u32("deep", 42);
    w.end_node();
    w.end_node();
    w.begin_node("b@2");
    w.end_node();
    w.end_node();
    w.begin_node("z");
    w.end_node();
    w.end_node();
    auto bytes = w.finish();
    ASSERT_TRUE(bytes.ok());
    const Blob blob = open_ok(bytes.value());

    std::vector<std::pair<std::string, u32>> seen;
    ASSERT_TRUE(blob.for_each_node([&](Node n, u32 depth) {
                        seen.emplace_back(std::string(blob.node_name(n).value()), depth);
                    }).ok());
    const std::vector<std::pair<std::string, u32>> expected{
        {"", 1}, {"a", 2}, {"b@1", 3}, {"c", 4}, {"b@2", 3}, {"z", 2}};
    EXPECT_EQ(seen, expected);
    const Node c = blob.find_path("/a/b@1/c").value();
    EXPECT_EQ(blob.property(c, "deep").value().as_u32().value(), 42u);
    EXPECT_EQ(blob.parent_of(c).value(), blob.find_path("/a/b@1").value());
}

TEST(FdtWriter, MaximumDepthIsAcceptedAndOneMoreIsOutOfRange) {
    std::vector<u8> buffer(4096);
    Writer w(buffer);
    w.begin_node("");
    for (u32 i = 1; i < kMaxDepth; ++i) w.begin_node("n");
    for (u32 i = 0; i < kMaxDepth; ++i) w.end_node();
    auto bytes = w.finish();
    ASSERT_TRUE(bytes.ok()) << status_name(bytes.status());
    const Blob blob = open_ok(bytes.value());
    u32 deepest = 0;
    ASSERT_TRUE(blob.for_each_node([&](Node, u32 depth) { deepest = depth > deepest ? depth : deepest; }).ok());
    EXPECT_EQ(deepest, kMaxDepth);

    Writer deeper(buffer);
    deeper.begin_node("");
    for (u32 i = 1; i <= kMaxDepth; ++i) deeper.begin_node("n");
    EXPECT_EQ(deeper.status(), Status::out_of_range);
    for (u32 i = 0; i <= kMaxDepth; ++i) deeper.end_node();
    EXPECT_EQ(deeper.finish().status(), Status::out_of_range);
}

TEST(FdtWriter, MemoryReservationsReadBackInOrder) {
    std::array<u8, 512> buffer{};
    Writer w(buffer);
    w.add_memreserve(0x4800'0000, 0x10'0000);
    w.add_memreserve(0xffff'ffff'ffff'f000, 0x1000);
    w.add_memreserve(0, 0x1000); // address 0 is fine, only {0, 0} ends the list
    w.begin_node("");
    w.end_node();
    auto bytes = w.finish();
    ASSERT_TRUE(bytes.ok());
    const Blob blob = open_ok(bytes.value());
    std::vector<Region> seen;
    ASSERT_TRUE(blob.for_each_memreserve([&](Region r) { seen.push_back(r); }).ok());
    const std::vector<Region> expected{
        {0x4800'0000, 0x10'0000}, {0xffff'ffff'ffff'f000, 0x1000}, {0, 0x1000}};
    EXPECT_EQ(seen, expected);
    EXPECT_EQ(blob.header().off_dt_struct, 40u + 4 * 16);
}

TEST(FdtWriter, WritesIntoAnUnalignedBuffer) {
    std::array<u8, 513> storage{};
    Writer w(std::span<u8>(storage).subspan(1));
    w.begin_node("");
    w.property_u64("x", 0x1122334455667788);
    w.end_node();
    auto bytes = w.finish();
    ASSERT_TRUE(bytes.ok());
    EXPECT_EQ(bytes.value().data(), storage.data() + 1);
    const Blob blob = open_ok(bytes.value());
    EXPECT_EQ(blob.property(blob.root(), "x").value().as_u64().value(), 0x1122334455667788u);
}

// ---- String deduplication ----------------------------------------------

TEST(FdtWriter, RepeatedPropertyNamesAreStoredOnce) {
    std::array<u8, 1024> buffer{};
    Writer w(buffer);
    w.begin_node("");
    w.property_string("compatible", "r");
    w.begin_node("a");
    w.property_string("compatible", "x");
    w.end_node();
    w.begin_node("b");
    w.property_string("compatible", "y");
    w.property_u32("reg", 1);
    w.end_node();
    w.end_node();
    auto bytes = w.finish();
    ASSERT_TRUE(bytes.ok());
    const Blob blob = open_ok(bytes.value());
    // "compatible\0" (11) + "reg\0" (4), instead of 3 × 11 + 4.
    EXPECT_EQ(blob.header().size_dt_strings, 15u);
    EXPECT_EQ(blob.strings_block().size(), 15u);
    EXPECT_TRUE(blob.property(blob.find_path("/b").value(), "compatible").value().contains_string("y"));
    EXPECT_EQ(blob.property(blob.find_path("/b").value(), "reg").value().as_u32().value(), 1u);
}

TEST(FdtWriter, ANameThatEndsAStoredNameReusesItsTail) {
    std::array<u8, 512> buffer{};
    Writer w(buffer);
    w.begin_node("");
    w.property_u32("linux,phandle", 7);
    w.property_u32("phandle", 7);
    w.end_node();
    auto bytes = w.finish();
    ASSERT_TRUE(bytes.ok());
    const Blob blob = open_ok(bytes.value());
    EXPECT_EQ(blob.header().size_dt_strings, 14u); // "linux,phandle\0" only
    std::vector<std::string> names;
    ASSERT_TRUE(blob.for_each_property(blob.root(), [&](const Property& p) { names.emplace_back(p.name); }).ok());
    EXPECT_EQ(names, (std::vector<std::string>{"linux,phandle", "phandle"}));
    EXPECT_EQ(blob.find_by_phandle(7).value(), blob.root());
}

// ---- Running out of buffer ----------------------------------------------

// A tree touching every kind of write; its size by hand (§5):
//   header 40 + reservations 2 × 16                                  =  72
//   structure: root begin 4 + 4; model "m" 12 + 4; #size-cells 12 + 4;
//   "child@1" begin 4 + 8; reg (2, 1) one entry 12 + 12; list "ab\0c\0"
//   12 + 8; big u64 12 + 8; flag 12; size-cells 12 + 4; two ends 4 + 4;
//   FDT_END 4                                                        = 156
//   strings: "model" 6, "#size-cells" 12, "reg" 4, "list" 5, "big" 4,
//   "flag" 5; "size-cells" is the tail of "#size-cells", free        =  36
constexpr usize kSampleSize = 72 + 156 + 36;

void write_sample(Writer& w) {
    w.add_memreserve(0x8000'0000, 0x1000);
    w.begin_node("");
    w.property_string("model", "m");
    w.property_u32("#size-cells", 1);
    w.begin_node("child@1");
    w.property_reg(2, 1, {{0x1'0000'0000, 0x1000}});
    w.property_string_list("list", {"ab", "c"});
    w.property_u64("big", 1);
    w.property_empty("flag");
    w.property_u32("size-cells", 0);
    w.end_node();
    w.end_node();
}

TEST(FdtWriter, SampleTreeHasTheSizeWorkedOutByHand) {
    GuardedBuffer buffer(1024);
    Writer w(buffer.span());
    write_sample(w);
    auto bytes = w.finish();
    ASSERT_TRUE(bytes.ok());
    EXPECT_EQ(bytes.value().size(), kSampleSize);
    EXPECT_TRUE(buffer.guards_intact());
}

TEST(FdtWriter, EveryBufferSizeShortOfTheBlobIsNoMemoryAndStaysInBounds) {
    GuardedBuffer reference_buffer(kSampleSize);
    Writer reference(reference_buffer.span());
    write_sample(reference);
    auto expected = reference.finish();
    ASSERT_TRUE(expected.ok()) << "a buffer of exactly totalsize bytes must do";
    const std::vector<u8> expected_bytes(expected.value().begin(), expected.value().end());

    for (usize size = 0; size < kSampleSize; ++size) {
        GuardedBuffer buffer(size);
        Writer w(buffer.span());
        write_sample(w);
        EXPECT_EQ(w.finish().status(), Status::no_memory) << "buffer size " << size;
        EXPECT_TRUE(buffer.guards_intact()) << "buffer size " << size;
    }
    // More room changes nothing in the blob.
    GuardedBuffer roomy(kSampleSize + 100);
    Writer w(roomy.span());
    write_sample(w);
    auto bytes = w.finish();
    ASSERT_TRUE(bytes.ok());
    EXPECT_EQ(std::vector<u8>(bytes.value().begin(), bytes.value().end()), expected_bytes);
    EXPECT_TRUE(roomy.guards_intact());
}

TEST(FdtWriter, AValueLargerThanTheBufferIsNoMemory) {
    GuardedBuffer buffer(256);
    Writer w(buffer.span());
    w.begin_node("");
    std::vector<u8> huge(1000, 1);
    w.property("huge", huge);
    w.end_node();
    EXPECT_EQ(w.finish().status(), Status::no_memory);
    EXPECT_TRUE(buffer.guards_intact());
}

// ---- Misuse -------------------------------------------------------------

template <typename F>
Status misuse(F&& f) {
    std::array<u8, 1024> buffer{};
    Writer w(buffer);
    f(w);
    return w.finish().status();
}

TEST(FdtWriter, UnbalancedNodesAreInvalid) {
    EXPECT_EQ(misuse([](Writer&) {}), Status::invalid_argument); // no root at all
    EXPECT_EQ(misuse([](Writer& w) { w.begin_node(""); }), Status::invalid_argument);
    EXPECT_EQ(misuse([](Writer& w) {
                  w.begin_node("");
                  w.begin_node("a");
                  w.end_node();
              }),
              Status::invalid_argument);
    EXPECT_EQ(misuse([](Writer& w) { w.end_node(); }), Status::invalid_argument);
    EXPECT_EQ(misuse([](Writer& w) {
                  w.begin_node("");
                  w.end_node();
                  w.end_node();
              }),
              Status::invalid_argument);
}

TEST(FdtWriter, ASecondRootOrANamedRootIsInvalid) {
    EXPECT_EQ(misuse([](Writer& w) {
                  w.begin_node("");
                  w.end_node();
                  w.begin_node("");
                  w.end_node();
              }),
              Status::invalid_argument);
    EXPECT_EQ(misuse([](Writer& w) {
                  w.begin_node("root");
                  w.end_node();
              }),
              Status::invalid_argument);
}

TEST(FdtWriter, PropertiesOutsideANodeOrAfterASubnodeAreInvalid) {
    EXPECT_EQ(misuse([](Writer& w) { w.property_u32("a", 1); }), Status::invalid_argument);
    EXPECT_EQ(misuse([](Writer& w) {
                  w.begin_node("");
                  w.begin_node("child");
                  w.end_node();
                  w.property_u32("late", 1);
                  w.end_node();
              }),
              Status::invalid_argument);
    EXPECT_EQ(misuse([](Writer& w) {
                  w.begin_node("");
                  w.end_node();
                  w.property_empty("after-root");
              }),
              Status::invalid_argument);
}

TEST(FdtWriter, MemoryReservationsOnlyBeforeTheRootAndNeverAllZero) {
    EXPECT_EQ(misuse([](Writer& w) {
                  w.begin_node("");
                  w.add_memreserve(0x1000, 0x1000);
                  w.end_node();
              }),
              Status::invalid_argument);
    EXPECT_EQ(misuse([](Writer& w) {
                  w.add_memreserve(0, 0);
                  w.begin_node("");
                  w.end_node();
              }),
              Status::invalid_argument);
}

TEST(FdtWriter, NamesOutsideTheSpecCharacterSetsAreInvalid) {
    for (std::string_view bad : {""sv, "a/b"sv, "a@b@c"sv, "@1"sv, "sp ace"sv, "nul\0x"sv, "q?"sv, "#x"sv}) {
        EXPECT_EQ(misuse([&](Writer& w) {
                      w.begin_node("");
                      w.begin_node(bad);
                      w.end_node();
                      w.end_node();
                  }),
                  Status::invalid_argument)
            << "node name '" << bad << "'";
    }
    for (std::string_view bad : {""sv, "a b"sv, "a@b"sv, "a/b"sv, "nul\0x"sv}) {
        EXPECT_EQ(misuse([&](Writer& w) {
                      w.begin_node("");
                      w.property_empty(bad);
                      w.end_node();
                  }),
                  Status::invalid_argument)
            << "property name '" << bad << "'";
    }
    // Table 2.1 / 2.2 characters that are allowed.
    EXPECT_EQ(misuse([](Writer& w) {
                  w.begin_node("");
                  w.property_empty("#a-b,c.d_e+f?");
                  w.begin_node("Node-1,x.y_z+w@AbC,1.2_3+4-5");
                  w.end_node();
                  w.end_node();
              }),
              Status::ok);
}

TEST(FdtWriter, StringsHoldingNulAreInvalid) {
    EXPECT_EQ(misuse([](Writer& w) {
                  w.begin_node("");
                  w.property_string("s", "a\0b"sv);
                  w.end_node();
              }),
              Status::invalid_argument);
    EXPECT_EQ(misuse([](Writer& w) {
                  w.begin_node("");
                  w.property_string_list("s", {"ok", "a\0b"sv});
                  w.end_node();
              }),
              Status::invalid_argument);
}

TEST(FdtWriter, DuplicatePropertiesAndSiblingsExist) {
    EXPECT_EQ(misuse([](Writer& w) {
                  w.begin_node("");
                  w.property_u32("a", 1);
                  w.property_u32("b", 1);
                  w.property_u32("a", 2);
                  w.end_node();
              }),
              Status::exists);
    EXPECT_EQ(misuse([](Writer& w) {
                  w.begin_node("");
                  w.begin_node("x@1");
                  w.begin_node("y");
                  w.end_node();
                  w.end_node();
                  w.begin_node("x@1");
                  w.end_node();
                  w.end_node();
              }),
              Status::exists);
    // The same name under different parents, and a property named like a
    // node, are fine.
    EXPECT_EQ(misuse([](Writer& w) {
                  w.begin_node("");
                  w.property_u32("x", 1);
                  w.begin_node("x");
                  w.begin_node("y");
                  w.end_node();
                  w.end_node();
                  w.begin_node("z");
                  w.begin_node("y");
                  w.end_node();
                  w.end_node();
                  w.end_node();
              }),
              Status::ok);
}

TEST(FdtWriter, RegValuesThatDoNotFitTheirCellsAreInvalid) {
    auto reg = [](u32 ac, u32 sc, u64 address, u64 size) {
        return misuse([&](Writer& w) {
            w.begin_node("");
            w.property_reg(ac, sc, {{address, size}});
            w.end_node();
        });
    };
    EXPECT_EQ(reg(1, 1, 0x1'0000'0000, 1), Status::invalid_argument);
    EXPECT_EQ(reg(1, 1, 1, 0x1'0000'0000), Status::invalid_argument);
    EXPECT_EQ(reg(1, 0, 1, 1), Status::invalid_argument);
    EXPECT_EQ(reg(0, 1, 0, 1), Status::invalid_argument);
    EXPECT_EQ(reg(3, 1, 0, 1), Status::invalid_argument);
    EXPECT_EQ(reg(2, 3, 0, 1), Status::invalid_argument);
    EXPECT_EQ(reg(1, 1, 0xffff'ffff, 0xffff'ffff), Status::ok);
    EXPECT_EQ(reg(2, 2, ~u64{0}, ~u64{0}), Status::ok);
}

TEST(FdtWriter, TheFirstErrorSticks) {
    GuardedBuffer buffer(128);
    Writer w(buffer.span());
    w.begin_node("");
    w.end_node();
    w.end_node(); // invalid_argument first
    EXPECT_EQ(w.status(), Status::invalid_argument);
    std::vector<u8> huge(1000, 0);
    w.property("huge", huge); // would be no_memory on its own
    EXPECT_EQ(w.finish().status(), Status::invalid_argument);
    EXPECT_TRUE(buffer.guards_intact());
}

TEST(FdtWriter, FinishTwiceGivesTheSameBlobAndLaterCallsAreInvalid) {
    std::array<u8, 256> buffer{};
    Writer w(buffer);
    w.begin_node("");
    w.end_node();
    auto first = w.finish();
    ASSERT_TRUE(first.ok());
    auto second = w.finish();
    ASSERT_TRUE(second.ok());
    EXPECT_EQ(first.value().data(), second.value().data());
    EXPECT_EQ(first.value().size(), second.value().size());
    w.property_u32("late", 1);
    EXPECT_EQ(w.finish().status(), Status::invalid_argument);
}

TEST(FdtWriter, ABufferSmallerThanAHeaderIsNoMemory) {
    GuardedBuffer buffer(kHeaderSize - 1);
    Writer w(buffer.span());
    w.begin_node("");
    w.end_node();
    EXPECT_EQ(w.finish().status(), Status::no_memory);
    EXPECT_TRUE(buffer.guards_intact());
}

} // namespace
} // namespace setwise::fdt
