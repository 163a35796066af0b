// mm/page_table: the generic two-phase walker, first over the host fake
// descriptor format (arch/fake/pte_format.hpp, deliberately unlike ARM), then
// over the real EL2 stage-1 format with raw descriptors checked bit by bit
// against DDI 0487 D8.3 ("Translation table descriptor formats").
//
// Expected descriptors are built here by hand from each format's bit layout;
// tables are walked here with their own index arithmetic (4 KiB granule:
// index = VA[47:39], [38:30], [29:21], [20:12] at levels 0..3, DDI 0487
// D8.2), never with the walker's helpers.
#include "mm/page_table.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "arch/arm64/pte_format.hpp"
#include "arch/fake/pte_format.hpp"
#include "table_test_doubles.hpp"

namespace setwise {

// Readable statuses in failure messages.
void PrintTo(Status s, std::ostream* os) { *os << status_name(s); }

namespace {

using arch::fake::FakeAttr;
using arch::fake::FakePteFormat;
using arm64::MemType;
using arm64::Stage1Attr;
using arm64::Stage1El2Format;

static_assert(mm::TableFormat<FakePteFormat>);
static_assert(mm::TableFormat<Stage1El2Format>);

using test_doubles::ArenaMemory;

constexpr u64 index_at(u64 va, unsigned level) { return (va >> (12 + 9 * (3 - level))) & 0x1ff; }

// ---------------------------------------------------------------------------
// The fake format, decoded by hand: V = bit 63, T = bit 62, attr = [55:48],
// frame number = [39:0].

constexpr u64 kFakeV = u64{1} << 63;
constexpr u64 kFakeT = u64{1} << 62;
constexpr u64 kFakeFrameMask = (u64{1} << 40) - 1;

constexpr u64 fake_leaf(u64 pa, u8 attr) { return kFakeV | (u64{attr} << 48) | (pa >> 12); }

// The raw descriptor at `level` for `va`, or nullopt when a table on the way
// is missing.
std::optional<u64> fake_raw(ArenaMemory& mem, Pa root, u64 va, unsigned level) {
    u64* t = mem.table(root);
    for (unsigned l = 0; l < level; ++l) {
        const u64 d = t[index_at(va, l)];
        if ((d & kFakeV) == 0 || (d & kFakeT) == 0) return std::nullopt;
        t = mem.table(Pa((d & kFakeFrameMask) << 12));
    }
    return t[index_at(va, level)];
}

// Leaves anywhere in the arena. In the fake format a valid entry without T
// is a leaf at any level, so no level bookkeeping is needed.
usize fake_leaf_count(const ArenaMemory& mem) {
    usize n = 0;
    for (u64 p : mem.pages()) {
        const u64* t = reinterpret_cast<const u64*>(p);
        for (unsigned i = 0; i < 512; ++i)
            if ((t[i] & kFakeV) != 0 && (t[i] & kFakeT) == 0) ++n;
    }
    return n;
}

using FakeTable = mm::PageTable<FakePteFormat>;

constexpr FakeAttr kA{0x5a};
constexpr FakeAttr kB{0xa5};

FakeTable make_fake(ArenaMemory& mem) {
    Result<FakeTable> r = FakeTable::create(mem);
    EXPECT_TRUE(r.ok());
    return r.value();
}

// Expect `va` to be mapped by a leaf at `level` to `pa` with attribute `attr`,
// both through lookup() and in the raw descriptor.
void expect_fake_leaf(ArenaMemory& mem, const FakeTable& pt, u64 va, u64 pa, unsigned level, u8 attr) {
    SCOPED_TRACE(testing::Message() << "va " << std::hex << va);
    Result<FakeTable::Leaf> leaf = pt.lookup(Va(va));
    ASSERT_TRUE(leaf.ok()) << status_name(leaf.status());
    EXPECT_EQ(leaf.value().pa, Pa(pa));
    EXPECT_EQ(leaf.value().level, level);
    EXPECT_EQ(leaf.value().attr.bits, attr);
    const u64 size = u64{1} << (12 + 9 * (3 - level));
    std::optional<u64> raw = fake_raw(mem, pt.root(), va, level);
    ASSERT_TRUE(raw.has_value());
    EXPECT_EQ(*raw, fake_leaf(pa & ~(size - 1), attr)) << std::hex << *raw;
}

TEST(FakePteFormat, EncodingIsNotArm) {
    // The fake's own layout (its header comment); if this drifted, the rest
    // of this file would check the wrong thing.
    EXPECT_EQ(FakePteFormat::make_leaf(Pa(0x8000'1000), 3, kA), 0x805a'0000'0008'0001ull);
    EXPECT_EQ(FakePteFormat::make_table(Pa(0x1234'5000)), 0xc000'0000'0001'2345ull);
    EXPECT_EQ(FakePteFormat::output_address(0x805a'0000'0008'0001ull), Pa(0x8000'1000));
    EXPECT_FALSE(FakePteFormat::is_table(FakePteFormat::make_leaf(Pa(0x1000), 3, kA), 3));
    EXPECT_FALSE(FakePteFormat::is_valid(0x3)); // ARM's "valid table" bits mean nothing here
    EXPECT_FALSE(FakePteFormat::block_allowed(0));
    EXPECT_FALSE(FakePteFormat::block_allowed(3));
}

TEST(PageTableFake, CreateAllocatesARootOrFails) {
    ArenaMemory none(0);
    EXPECT_EQ(FakeTable::create(none).status(), Status::no_memory);

    ArenaMemory mem(1);
    Result<FakeTable> r = FakeTable::create(mem);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(mem.used(), 1u);
    EXPECT_EQ(r.value().root().raw(), mem.pages()[0]);
    EXPECT_EQ(r.value().lookup(Va(0)).status(), Status::not_found);
}

TEST(PageTableFake, MapsOnePage) {
    ArenaMemory mem(16);
    FakeTable pt = make_fake(mem);
    ASSERT_TRUE(pt.map(Va(0x4000'1000), Pa(0x8000'1000), kPageSize, kA).ok());
    // root + level 1 + level 2 + level 3.
    EXPECT_EQ(mem.used(), 4u);
    EXPECT_EQ(fake_leaf_count(mem), 1u);
    expect_fake_leaf(mem, pt, 0x4000'1000, 0x8000'1000, 3, kA.bits);

    // The path is made of fake table descriptors pointing at arena pages.
    for (unsigned level = 0; level < 3; ++level) {
        std::optional<u64> d = fake_raw(mem, pt.root(), 0x4000'1000, level);
        ASSERT_TRUE(d.has_value());
        EXPECT_EQ(*d & ~kFakeFrameMask, kFakeV | kFakeT) << "level " << level;
        EXPECT_TRUE(mem.owns((*d & kFakeFrameMask) << 12));
    }
}

TEST(PageTableFake, LookupAddsTheOffsetWithinTheLeaf) {
    ArenaMemory mem(16);
    FakeTable pt = make_fake(mem);
    ASSERT_TRUE(pt.map(Va(0x4000'1000), Pa(0x8000'1000), kPageSize, kA).ok());
    Result<FakeTable::Leaf> leaf = pt.lookup(Va(0x4000'1abc));
    ASSERT_TRUE(leaf.ok());
    EXPECT_EQ(leaf.value().pa, Pa(0x8000'1abc));
    leaf = pt.lookup(Va(0x4000'1fff));
    ASSERT_TRUE(leaf.ok());
    EXPECT_EQ(leaf.value().pa, Pa(0x8000'1fff));
}

TEST(PageTableFake, UnmappedIsNotFound) {
    ArenaMemory mem(16);
    FakeTable pt = make_fake(mem);
    ASSERT_TRUE(pt.map(Va(0x4000'1000), Pa(0x8000'1000), kPageSize, kA).ok());
    // Neighbours in the same level-3 table, and in tables never made.
    EXPECT_EQ(pt.lookup(Va(0x4000'0fff)).status(), Status::not_found);
    EXPECT_EQ(pt.lookup(Va(0x4000'2000)).status(), Status::not_found);
    EXPECT_EQ(pt.lookup(Va(0x4020'0000)).status(), Status::not_found);
    EXPECT_EQ(pt.lookup(Va(0x8000'0000)).status(), Status::not_found);
    EXPECT_EQ(pt.lookup(Va(0x80'0000'0000)).status(), Status::not_found); // another level-0 entry
}

TEST(PageTableFake, TwoMiBBlockWhenBothAddressesAreAligned) {
    ArenaMemory mem(16);
    FakeTable pt = make_fake(mem);
    ASSERT_TRUE(pt.map(Va(0x4020'0000), Pa(0x8020'0000), 2 * kMiB, kA).ok());
    EXPECT_EQ(mem.used(), 3u); // root, level 1, level 2: no level-3 table
    EXPECT_EQ(fake_leaf_count(mem), 1u);
    expect_fake_leaf(mem, pt, 0x4020'0000, 0x8020'0000, 2, kA.bits);
    expect_fake_leaf(mem, pt, 0x4030'1234, 0x8030'1234, 2, kA.bits);
    expect_fake_leaf(mem, pt, 0x403f'ffff, 0x803f'ffff, 2, kA.bits);
    EXPECT_EQ(pt.lookup(Va(0x4040'0000)).status(), Status::not_found);
}

TEST(PageTableFake, PagesWhenOnlyOneAddressIsBlockAligned) {
    ArenaMemory mem(16);
    FakeTable pt = make_fake(mem);
    // Input 2 MiB aligned, output only 4 KiB aligned: no block can express it.
    ASSERT_TRUE(pt.map(Va(0x4020'0000), Pa(0x8020'1000), 2 * kMiB, kA).ok());
    EXPECT_EQ(fake_leaf_count(mem), 512u);
    expect_fake_leaf(mem, pt, 0x4020'0000, 0x8020'1000, 3, kA.bits);
    expect_fake_leaf(mem, pt, 0x403f'f000, 0x8040'0000, 3, kA.bits);
}

TEST(PageTableFake, OneGiBBlock) {
    ArenaMemory mem(16);
    FakeTable pt = make_fake(mem);
    ASSERT_TRUE(pt.map(Va(0x4000'0000), Pa(0xc000'0000), kGiB, kB).ok());
    EXPECT_EQ(mem.used(), 2u); // root and level 1
    EXPECT_EQ(fake_leaf_count(mem), 1u);
    expect_fake_leaf(mem, pt, 0x4000'0000, 0xc000'0000, 1, kB.bits);
    expect_fake_leaf(mem, pt, 0x5234'5678, 0xd234'5678, 1, kB.bits);
    EXPECT_EQ(pt.lookup(Va(0x8000'0000)).status(), Status::not_found);
    EXPECT_EQ(pt.lookup(Va(0x3fff'ffff)).status(), Status::not_found);
}

TEST(PageTableFake, NoLeafAtLevelZero) {
    // 512 GiB, aligned to 512 GiB: level 0 cannot hold a leaf, so 512 level-1 blocks.
    ArenaMemory mem(16);
    FakeTable pt = make_fake(mem);
    ASSERT_TRUE(pt.map(Va(0), Pa(0x80'0000'0000), 512 * kGiB, kA).ok());
    EXPECT_EQ(mem.used(), 2u);
    EXPECT_EQ(fake_leaf_count(mem), 512u);
    expect_fake_leaf(mem, pt, 0, 0x80'0000'0000, 1, kA.bits);
    expect_fake_leaf(mem, pt, 0x7f'c000'0005, 0xff'c000'0005, 1, kA.bits);
    std::optional<u64> root_entry = fake_raw(mem, pt.root(), 0, 0);
    ASSERT_TRUE(root_entry.has_value());
    EXPECT_EQ(*root_entry & ~kFakeFrameMask, kFakeV | kFakeT);
}

TEST(PageTableFake, MixedRangePagesThenBlocksThenPages) {
    // [0x401fe000, 0x40603000): two pages up to the 2 MiB boundary, two
    // 2 MiB blocks, three pages of tail. The output is offset by 4 GiB, so
    // it has the same alignment as the input.
    ArenaMemory mem(16);
    FakeTable pt = make_fake(mem);
    constexpr u64 kIn = 0x401f'e000;
    constexpr u64 kOff = 0x1'0000'0000;
    constexpr u64 kSize = 0x4060'3000 - kIn;
    ASSERT_TRUE(pt.map(Va(kIn), Pa(kIn + kOff), kSize, kA).ok());
    EXPECT_EQ(fake_leaf_count(mem), 7u);
    for (u64 va : {0x401f'e000ull, 0x401f'f000ull, 0x4060'0000ull, 0x4060'1000ull, 0x4060'2000ull})
        expect_fake_leaf(mem, pt, va, va + kOff, 3, kA.bits);
    for (u64 va : {0x4020'0000ull, 0x4040'0000ull, 0x405f'f000ull})
        expect_fake_leaf(mem, pt, va, va + kOff, 2, kA.bits);
    EXPECT_EQ(pt.lookup(Va(0x401f'd000)).status(), Status::not_found);
    EXPECT_EQ(pt.lookup(Va(0x4060'3000)).status(), Status::not_found);
    // Two level-3 tables (head and tail), one level-2, one level-1, root.
    EXPECT_EQ(mem.used(), 5u);
}

TEST(PageTableFake, MixedRangeBlocksAcrossGiBs) {
    // [0x3fe00000, 0x80200000): a 2 MiB block, a 1 GiB block, a 2 MiB block.
    ArenaMemory mem(16);
    FakeTable pt = make_fake(mem);
    constexpr u64 kOff = 0x1'0000'0000;
    ASSERT_TRUE(pt.map(Va(0x3fe0'0000), Pa(0x3fe0'0000 + kOff), 0x8020'0000 - 0x3fe0'0000, kB).ok());
    EXPECT_EQ(fake_leaf_count(mem), 3u);
    expect_fake_leaf(mem, pt, 0x3fe0'0000, 0x3fe0'0000 + kOff, 2, kB.bits);
    expect_fake_leaf(mem, pt, 0x4000'0000, 0x4000'0000 + kOff, 1, kB.bits);
    expect_fake_leaf(mem, pt, 0x7fff'f000, 0x7fff'f000 + kOff, 1, kB.bits);
    expect_fake_leaf(mem, pt, 0x8000'0000, 0x8000'0000 + kOff, 2, kB.bits);
    EXPECT_EQ(pt.lookup(Va(0x8020'0000)).status(), Status::not_found);
    EXPECT_EQ(mem.used(), 4u); // root, level 1, two level-2 tables
}

TEST(PageTableFake, IdenticalRemapIsIdempotent) {
    ArenaMemory mem(16);
    FakeTable pt = make_fake(mem);
    constexpr u64 kIn = 0x401f'e000;
    constexpr u64 kSize = 0x4060'3000 - kIn;
    ASSERT_TRUE(pt.map(Va(kIn), Pa(kIn + 0x1'0000'0000), kSize, kA).ok());
    const usize pages = mem.used();
    const std::optional<u64> before = fake_raw(mem, pt.root(), 0x4020'0000, 2);
    EXPECT_TRUE(pt.map(Va(kIn), Pa(kIn + 0x1'0000'0000), kSize, kA).ok());
    EXPECT_EQ(mem.used(), pages);
    EXPECT_EQ(fake_leaf_count(mem), 7u);
    EXPECT_EQ(fake_raw(mem, pt.root(), 0x4020'0000, 2), before);
    // A sub-range of what is mapped, with the same leaves, is also fine.
    EXPECT_TRUE(pt.map(Va(0x401f'f000), Pa(0x401f'f000 + 0x1'0000'0000), kPageSize, kA).ok());
}

TEST(PageTableFake, ExtendingARangeKeepsTheIdenticalPart) {
    ArenaMemory mem(16);
    FakeTable pt = make_fake(mem);
    ASSERT_TRUE(pt.map(Va(0x4000'0000), Pa(0x8000'0000), 2 * kPageSize, kA).ok());
    ASSERT_TRUE(pt.map(Va(0x4000'0000), Pa(0x8000'0000), 4 * kPageSize, kA).ok());
    EXPECT_EQ(fake_leaf_count(mem), 4u);
    expect_fake_leaf(mem, pt, 0x4000'3000, 0x8000'3000, 3, kA.bits);
}

TEST(PageTableFake, ConflictingPageIsRefusedAndUnchanged) {
    ArenaMemory mem(16);
    FakeTable pt = make_fake(mem);
    ASSERT_TRUE(pt.map(Va(0x4000'1000), Pa(0x8000'1000), kPageSize, kA).ok());
    const std::optional<u64> before = fake_raw(mem, pt.root(), 0x4000'1000, 3);
    // Other output address; same output, other attributes.
    EXPECT_EQ(pt.map(Va(0x4000'1000), Pa(0x9000'1000), kPageSize, kA).status(), Status::exists);
    EXPECT_EQ(pt.map(Va(0x4000'1000), Pa(0x8000'1000), kPageSize, kB).status(), Status::exists);
    EXPECT_EQ(fake_raw(mem, pt.root(), 0x4000'1000, 3), before);
    expect_fake_leaf(mem, pt, 0x4000'1000, 0x8000'1000, 3, kA.bits);
    EXPECT_EQ(fake_leaf_count(mem), 1u);
}

TEST(PageTableFake, ConflictAtTheEndWritesNoLeafAtAll) {
    // The last page of the range is mapped elsewhere: the whole map is
    // refused in prepare, so the free pages before it stay unmapped.
    ArenaMemory mem(16);
    FakeTable pt = make_fake(mem);
    ASSERT_TRUE(pt.map(Va(0x4000'3000), Pa(0x9900'3000), kPageSize, kB).ok());
    EXPECT_EQ(pt.map(Va(0x4000'0000), Pa(0x8000'0000), 4 * kPageSize, kA).status(), Status::exists);
    EXPECT_EQ(fake_leaf_count(mem), 1u);
    for (u64 va : {0x4000'0000ull, 0x4000'1000ull, 0x4000'2000ull})
        EXPECT_EQ(pt.lookup(Va(va)).status(), Status::not_found) << std::hex << va;
    expect_fake_leaf(mem, pt, 0x4000'3000, 0x9900'3000, 3, kB.bits);
}

TEST(PageTableFake, BlockOverATableIsRefused) {
    ArenaMemory mem(16);
    FakeTable pt = make_fake(mem);
    ASSERT_TRUE(pt.map(Va(0x4020'1000), Pa(0x8020'1000), kPageSize, kA).ok());
    // Same translation as the page, but a 2 MiB block needs the slot the
    // level-3 table occupies.
    EXPECT_EQ(pt.map(Va(0x4020'0000), Pa(0x8020'0000), 2 * kMiB, kA).status(), Status::exists);
    EXPECT_EQ(fake_leaf_count(mem), 1u);
    expect_fake_leaf(mem, pt, 0x4020'1000, 0x8020'1000, 3, kA.bits);
    EXPECT_EQ(pt.lookup(Va(0x4020'0000)).status(), Status::not_found);
}

TEST(PageTableFake, PageUnderABlockIsRefused) {
    ArenaMemory mem(16);
    FakeTable pt = make_fake(mem);
    ASSERT_TRUE(pt.map(Va(0x4020'0000), Pa(0x8020'0000), 2 * kMiB, kA).ok());
    const usize pages = mem.used();
    EXPECT_EQ(pt.map(Va(0x4020'1000), Pa(0x9020'1000), kPageSize, kA).status(), Status::exists);
    EXPECT_EQ(mem.used(), pages); // the block was not split
    expect_fake_leaf(mem, pt, 0x4020'1000, 0x8020'1000, 2, kA.bits);
}

TEST(PageTableFake, UnalignedIsInvalidArgument) {
    ArenaMemory mem(16);
    FakeTable pt = make_fake(mem);
    EXPECT_EQ(pt.map(Va(0x4000'0800), Pa(0x8000'0000), kPageSize, kA).status(), Status::invalid_argument);
    EXPECT_EQ(pt.map(Va(0x4000'0000), Pa(0x8000'0800), kPageSize, kA).status(), Status::invalid_argument);
    EXPECT_EQ(pt.map(Va(0x4000'0000), Pa(0x8000'0000), 0x800, kA).status(), Status::invalid_argument);
    EXPECT_EQ(pt.map(Va(0x4000'0000), Pa(0x8000'0000), kPageSize + 1, kA).status(), Status::invalid_argument);
    EXPECT_EQ(pt.map(Va(0x4000'0000), Pa(0x8000'0000), 0, kA).status(), Status::invalid_argument);
    EXPECT_EQ(pt.prepare(Va(0x4000'0001), Pa(0x8000'0000), kPageSize, kA).status(), Status::invalid_argument);
    EXPECT_EQ(mem.used(), 1u); // nothing but the root
    EXPECT_EQ(fake_leaf_count(mem), 0u);
}

TEST(PageTableFake, PrepareWritesNoLeafCommitWritesThem) {
    ArenaMemory mem(16);
    FakeTable pt = make_fake(mem);
    ASSERT_TRUE(pt.prepare(Va(0x401f'f000), Pa(0x801f'f000), 0x20'1000, kA).ok());
    EXPECT_EQ(mem.used(), 4u);
    EXPECT_EQ(fake_leaf_count(mem), 0u);
    EXPECT_EQ(pt.lookup(Va(0x401f'f000)).status(), Status::not_found);
    pt.commit(Va(0x401f'f000), Pa(0x801f'f000), 0x20'1000, kA);
    EXPECT_EQ(mem.used(), 4u); // commit allocates nothing
    EXPECT_EQ(fake_leaf_count(mem), 2u);
    expect_fake_leaf(mem, pt, 0x401f'f000, 0x801f'f000, 3, kA.bits);
    expect_fake_leaf(mem, pt, 0x4020'0000, 0x8020'0000, 2, kA.bits);
}

TEST(PageTableFake, ExhaustionInPrepareLeavesOnlyEmptyTables) {
    // Two pages straddling the 1 GiB boundary need root, level 1, and a
    // level-2 and a level-3 table on each side: six pages. Four run out
    // at the second level-2 table.
    ArenaMemory mem(4);
    FakeTable pt = make_fake(mem);
    EXPECT_EQ(pt.map(Va(0x3fff'f000), Pa(0x7fff'f000), 2 * kPageSize, kA).status(), Status::no_memory);
    EXPECT_GE(mem.refused(), 1u);
    EXPECT_EQ(fake_leaf_count(mem), 0u);
    EXPECT_EQ(pt.lookup(Va(0x3fff'f000)).status(), Status::not_found);
    EXPECT_EQ(pt.lookup(Va(0x4000'0000)).status(), Status::not_found);
    // Every valid entry left behind is a table descriptor into the arena.
    for (u64 p : mem.pages()) {
        const u64* t = reinterpret_cast<const u64*>(p);
        for (unsigned i = 0; i < 512; ++i) {
            if ((t[i] & kFakeV) == 0) continue;
            EXPECT_EQ(t[i] & ~kFakeFrameMask, kFakeV | kFakeT);
            EXPECT_TRUE(mem.owns((t[i] & kFakeFrameMask) << 12));
        }
    }

    // With memory, the same map succeeds and reuses the tables already there.
    mem.set_budget(6);
    ASSERT_TRUE(pt.map(Va(0x3fff'f000), Pa(0x7fff'f000), 2 * kPageSize, kA).ok());
    EXPECT_EQ(mem.used(), 6u);
    expect_fake_leaf(mem, pt, 0x3fff'f000, 0x7fff'f000, 3, kA.bits);
    expect_fake_leaf(mem, pt, 0x4000'0000, 0x8000'0000, 3, kA.bits);
}

TEST(PageTableFake, InputBeyondTheTableIsRefused) {
    // The root table at level 0 resolves VA[47:39]: the input space is
    // 48 bits (DDI 0487 D8.2; TCR_EL2.T0SZ = 16). An input at or beyond 2^48
    // has no entry of its own; it must not silently alias VA & (2^48 - 1).
    ArenaMemory mem(16);
    FakeTable pt = make_fake(mem);
    ASSERT_TRUE(pt.map(Va(0), Pa(0x8000'0000), kPageSize, kA).ok());
    EXPECT_EQ(pt.lookup(Va(u64{1} << 48)).status(), Status::not_found);

    // 2^48 + 4 KiB would alias the free slot of VA 0x1000.
    EXPECT_FALSE(pt.map(Va((u64{1} << 48) + kPageSize), Pa(0x9000'1000), kPageSize, kB).ok());
    EXPECT_EQ(pt.lookup(Va(kPageSize)).status(), Status::not_found);

    // A range that starts inside and runs past the top.
    ArenaMemory mem2(16);
    FakeTable pt2 = make_fake(mem2);
    EXPECT_FALSE(pt2.map(Va((u64{1} << 48) - kPageSize), Pa(0x9000'0000), 2 * kPageSize, kB).ok());
    EXPECT_EQ(pt2.lookup(Va(0)).status(), Status::not_found);
    EXPECT_EQ(fake_leaf_count(mem2), 0u);
}

// ---------------------------------------------------------------------------
// Geometry: concatenated root tables (DDI 0487 D8.2, "Concatenated
// translation tables"). A root at level L resolves 9 bits above bit
// 12 + 9 * (3 - L); each input bit beyond doubles the root tables.

TEST(TableGeometry, RootTablesAndValidity) {
    EXPECT_EQ((mm::TableGeometry{1, 39}.root_tables()), 1u);
    EXPECT_EQ((mm::TableGeometry{1, 40}.root_tables()), 2u);
    EXPECT_EQ((mm::TableGeometry{1, 42}.root_tables()), 8u);
    EXPECT_EQ((mm::TableGeometry{1, 43}.root_tables()), 16u);
    EXPECT_EQ((mm::TableGeometry{1, 32}.root_tables()), 1u);
    EXPECT_EQ((mm::TableGeometry{0, 48}.root_tables()), 1u);
    EXPECT_EQ((mm::TableGeometry{2, 34}.root_tables()), 16u);

    EXPECT_TRUE((mm::TableGeometry{0, 48}.valid()));
    EXPECT_TRUE((mm::TableGeometry{1, 43}.valid()));
    EXPECT_TRUE((mm::TableGeometry{1, 31}.valid()));
    EXPECT_FALSE((mm::TableGeometry{1, 44}.valid())); // 32 root tables
    EXPECT_FALSE((mm::TableGeometry{1, 30}.valid())); // not even one level-1 entry's worth
    EXPECT_FALSE((mm::TableGeometry{0, 49}.valid()));
    EXPECT_FALSE((mm::TableGeometry{2, 35}.valid()));
    EXPECT_FALSE((mm::TableGeometry{3, 20}.valid()));
}

// A TableMemory that only knows single pages, to check the base class's
// defaults: concatenation unsupported, frees page by page (to nowhere).
class SinglePageMemory final : public mm::TableMemory {
public:
    Result<Pa> allocate_table() override {
        ++allocations_;
        return Pa(reinterpret_cast<u64>(page_));
    }
    u64* table(Pa) override { return page_; }
    usize allocations_ = 0;

private:
    alignas(4096) u64 page_[512]{};
};

TEST(TableMemory, DefaultsServeSinglePagesOnly) {
    SinglePageMemory mem;
    EXPECT_EQ(FakeTable::create(mem, mm::TableGeometry{1, 40}).status(), Status::unsupported);
    EXPECT_EQ(mem.allocations_, 0u);
    Result<FakeTable> one = FakeTable::create(mem, mm::TableGeometry{1, 39});
    ASSERT_TRUE(one.ok());
    EXPECT_EQ(mem.allocations_, 1u);
    EXPECT_EQ(one.value().table_pages(), 1u);
    // The default free keeps the page: destroying does not crash or call back.
    one.value().destroy();
    EXPECT_EQ(one.value().root(), Pa(0));
    EXPECT_EQ(one.value().table_pages(), 0u);
}

TEST(TableMemory, DefaultFreeTablesFreesEachPage) {
    class Recording final : public mm::TableMemory {
    public:
        Result<Pa> allocate_table() override { return Status::no_memory; }
        u64* table(Pa) override { return nullptr; }
        void free_table(Pa pa) override { freed.push_back(pa.raw()); }
        std::vector<u64> freed;
    } mem;
    mm::TableMemory& base = mem;
    base.free_tables(Pa(0x10'0000), 4);
    EXPECT_EQ(mem.freed, (std::vector<u64>{0x10'0000, 0x10'1000, 0x10'2000, 0x10'3000}));
}

// The raw descriptor at `level` for `va` under a root at `start` that may be
// concatenated: the bits above the root level's nine select the root page.
std::optional<u64> fake_raw_in(ArenaMemory& mem, Pa root, unsigned start, u64 va, unsigned level) {
    const unsigned root_shift = 12 + 9 * (3 - start) + 9;
    u64* t = mem.table(Pa(root.raw() + ((va >> root_shift) << 12)));
    for (unsigned l = start; l < level; ++l) {
        const u64 d = t[index_at(va, l)];
        if ((d & kFakeV) == 0 || (d & kFakeT) == 0) return std::nullopt;
        t = mem.table(Pa((d & kFakeFrameMask) << 12));
    }
    return t[index_at(va, level)];
}

TEST(PageTableConcatenated, CreateAllocatesAlignedContiguousRoots) {
    ArenaMemory mem(16);
    Result<FakeTable> r = FakeTable::create(mem, mm::TableGeometry{1, 40});
    ASSERT_TRUE(r.ok());
    const FakeTable& pt = r.value();
    EXPECT_EQ(mem.used(), 2u);
    EXPECT_EQ(pt.table_pages(), 2u);
    EXPECT_EQ(pt.root().raw() % (2 * kPageSize), 0u);
    EXPECT_EQ(mem.pages()[0], pt.root().raw());
    EXPECT_EQ(mem.pages()[1], pt.root().raw() + kPageSize);
    EXPECT_EQ(pt.input_limit(), u64{1} << 40);
}

TEST(PageTableConcatenated, InvalidGeometryAllocatesNothing) {
    ArenaMemory mem(16);
    EXPECT_EQ(FakeTable::create(mem, mm::TableGeometry{1, 44}).status(), Status::invalid_argument);
    EXPECT_EQ(FakeTable::create(mem, mm::TableGeometry{3, 21}).status(), Status::invalid_argument);
    EXPECT_EQ(mem.used(), 0u);
    ArenaMemory small(1);
    EXPECT_EQ(FakeTable::create(small, mm::TableGeometry{1, 40}).status(), Status::no_memory);
}

TEST(PageTableConcatenated, SecondRootTableHoldsTheUpperHalf) {
    // 40 bits at level 1: IPA[39] picks the root table, IPA[38:30] the entry.
    ArenaMemory mem(16);
    Result<FakeTable> r = FakeTable::create(mem, mm::TableGeometry{1, 40});
    ASSERT_TRUE(r.ok());
    FakeTable pt = r.value();
    ASSERT_TRUE(pt.map(Va(0x80'0000'0000), Pa(0x1'0000'0000), kGiB, kA).ok());
    ASSERT_TRUE(pt.map(Va(0x7f'c000'0000), Pa(0x2'0000'0000), kGiB, kB).ok());
    EXPECT_EQ(mem.used(), 2u); // level-1 blocks in the roots themselves
    const u64* t0 = reinterpret_cast<const u64*>(pt.root().raw());
    const u64* t1 = reinterpret_cast<const u64*>(pt.root().raw() + kPageSize);
    EXPECT_EQ(t1[0], fake_leaf(0x1'0000'0000, kA.bits));
    EXPECT_EQ(t0[511], fake_leaf(0x2'0000'0000, kB.bits));
    EXPECT_EQ(t0[0], 0u); // 0x80_0000_0000 must not alias IPA 0
    EXPECT_EQ(t1[511], 0u);

    Result<FakeTable::Leaf> leaf = pt.lookup(Va(0x80'1234'5678));
    ASSERT_TRUE(leaf.ok());
    EXPECT_EQ(leaf.value().pa, Pa(0x1'1234'5678));
    EXPECT_EQ(leaf.value().level, 1u);
    EXPECT_EQ(pt.lookup(Va(0)).status(), Status::not_found);

    // 2^40 is beyond the input.
    EXPECT_EQ(pt.map(Va(0x100'0000'0000), Pa(0), kPageSize, kA).status(), Status::out_of_range);
    EXPECT_EQ(pt.map(Va(0xff'ffff'f000), Pa(0), 2 * kPageSize, kA).status(), Status::out_of_range);
    EXPECT_EQ(pt.lookup(Va(0x100'0000'0000)).status(), Status::not_found);
}

TEST(PageTableConcatenated, PagesUnderTheSecondRoot) {
    ArenaMemory mem(16);
    Result<FakeTable> r = FakeTable::create(mem, mm::TableGeometry{1, 40});
    ASSERT_TRUE(r.ok());
    FakeTable pt = r.value();
    ASSERT_TRUE(pt.map(Va(0x80'4020'1000), Pa(0x9000'1000), kPageSize, kA).ok());
    EXPECT_EQ(mem.used(), 4u);
    // Root table 1, entry 1 (IPA[38:30] = 1) -> level 2 entry 1 -> level 3 entry 1.
    const u64* t1 = reinterpret_cast<const u64*>(pt.root().raw() + kPageSize);
    EXPECT_EQ(t1[1] & ~kFakeFrameMask, kFakeV | kFakeT);
    EXPECT_EQ(fake_raw_in(mem, pt.root(), 1, 0x80'4020'1000, 3), fake_leaf(0x9000'1000, kA.bits));
    EXPECT_EQ(pt.lookup(Va(0x4020'1000)).status(), Status::not_found);
}

TEST(PageTableConcatenated, EightRootTables) {
    ArenaMemory mem(16);
    Result<FakeTable> r = FakeTable::create(mem, mm::TableGeometry{1, 42});
    ASSERT_TRUE(r.ok());
    FakeTable pt = r.value();
    EXPECT_EQ(mem.used(), 8u);
    EXPECT_EQ(pt.root().raw() % (8 * kPageSize), 0u);
    // The last GiB: root table 7 (IPA[41:39] = 0b111), entry 511.
    ASSERT_TRUE(pt.map(Va(0x3ff'c000'0000), Pa(0x4000'0000), kGiB, kB).ok());
    const u64* t7 = reinterpret_cast<const u64*>(pt.root().raw() + 7 * kPageSize);
    EXPECT_EQ(t7[511], fake_leaf(0x4000'0000, kB.bits));
    EXPECT_EQ(fake_leaf_count(mem), 1u);
}

TEST(PageTableFake, TopLeafLevelForcesSmallerLeaves) {
    ArenaMemory mem(16);
    FakeTable pt = make_fake(mem);
    ASSERT_TRUE(pt.map(Va(0x4020'0000), Pa(0x8020'0000), 2 * kMiB, kA, /*top_leaf_level=*/3).ok());
    EXPECT_EQ(fake_leaf_count(mem), 512u);
    expect_fake_leaf(mem, pt, 0x4020'0000, 0x8020'0000, 3, kA.bits);
    expect_fake_leaf(mem, pt, 0x403f'f000, 0x803f'f000, 3, kA.bits);

    ArenaMemory mem2(16);
    FakeTable pt2 = make_fake(mem2);
    ASSERT_TRUE(pt2.map(Va(0x4000'0000), Pa(0x8000'0000), kGiB, kA, /*top_leaf_level=*/2).ok());
    EXPECT_EQ(fake_leaf_count(mem2), 512u);
    expect_fake_leaf(mem2, pt2, 0x4000'0000, 0x8000'0000, 2, kA.bits);
    // Idempotence holds per granule: the same map with pages is refused
    // (a block is in the way), the same map with blocks again is fine.
    EXPECT_TRUE(pt2.map(Va(0x4000'0000), Pa(0x8000'0000), kGiB, kA, 2).ok());
    EXPECT_EQ(pt2.map(Va(0x4000'0000), Pa(0x8000'0000), kPageSize, kA, 3).status(), Status::exists);
}

TEST(PageTableFake, TablePagesCountsWhatTheWalkerHolds) {
    ArenaMemory mem(16);
    FakeTable pt = make_fake(mem);
    EXPECT_EQ(pt.table_pages(), 1u);
    ASSERT_TRUE(pt.map(Va(0x401f'e000), Pa(0x801f'e000), 0x4060'3000 - 0x401f'e000, kA).ok());
    EXPECT_EQ(pt.table_pages(), mem.used());
    EXPECT_EQ(pt.table_pages(), 5u);
}

// ---------------------------------------------------------------------------
// unmap: splits, break-before-make, freeing. The invalidation callback
// records what it is asked and what the entry reads at that moment.

struct Inval {
    u64 base;
    unsigned level;
    std::optional<u64> raw; // the entry when the callback ran
    bool operator==(const Inval&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Inval& i) {
    os << "{" << std::hex << i.base << ", level " << std::dec << i.level << ", raw ";
    if (i.raw) os << std::hex << *i.raw << std::dec;
    else os << "-";
    return os << "}";
}

template <typename Table>
auto recorder(ArenaMemory& mem, const Table& pt, std::vector<Inval>& out) {
    return [&mem, &pt, &out](typename Table::Input base, unsigned level) {
        out.push_back(Inval{base.raw(), level, fake_raw_in(mem, pt.root(), pt.geometry().start_level, base.raw(), level)});
    };
}

TEST(PageTableUnmap, WholeBlockAndTheTablesLeftEmpty) {
    ArenaMemory mem(16);
    FakeTable pt = make_fake(mem);
    ASSERT_TRUE(pt.map(Va(0x4020'0000), Pa(0x8020'0000), 2 * kMiB, kA).ok());
    ASSERT_EQ(mem.used(), 3u);
    std::vector<Inval> inv;
    ASSERT_TRUE(pt.unmap(Va(0x4020'0000), 2 * kMiB, recorder(mem, pt, inv)).ok());
    // The block, then the level-2 table (linked from level 1), then the
    // level-1 table (linked from the root): each entry invalid when its
    // invalidation is asked for.
    EXPECT_EQ(inv, (std::vector<Inval>{{0x4020'0000, 2, 0}, {0x4000'0000, 1, 0}, {0, 0, 0}}));
    EXPECT_EQ(mem.used(), 1u);
    EXPECT_EQ(mem.frees(), 2u);
    EXPECT_EQ(pt.table_pages(), 1u);
    EXPECT_EQ(pt.lookup(Va(0x4020'0000)).status(), Status::not_found);
    EXPECT_EQ(fake_raw(mem, pt.root(), 0x4020'0000, 0), 0u);
    // The table is usable again.
    ASSERT_TRUE(pt.map(Va(0x4020'0000), Pa(0x9020'0000), 2 * kMiB, kB).ok());
    expect_fake_leaf(mem, pt, 0x4020'0000, 0x9020'0000, 2, kB.bits);
}

TEST(PageTableUnmap, PageInsideABlockSplitsItBreakBeforeMake) {
    ArenaMemory mem(16);
    FakeTable pt = make_fake(mem);
    ASSERT_TRUE(pt.map(Va(0x4020'0000), Pa(0x8020'0000), 2 * kMiB, kA).ok());
    std::vector<Inval> inv;
    ASSERT_TRUE(pt.unmap(Va(0x4030'0000), kPageSize, recorder(mem, pt, inv)).ok());
    // Break: the block reads invalid when its invalidation is asked for;
    // make: it is a table afterwards. Then the page itself.
    ASSERT_EQ(inv.size(), 2u);
    EXPECT_EQ(inv[0], (Inval{0x4020'0000, 2, 0}));
    EXPECT_EQ(inv[1], (Inval{0x4030'0000, 3, 0}));
    std::optional<u64> l2 = fake_raw(mem, pt.root(), 0x4020'0000, 2);
    ASSERT_TRUE(l2.has_value());
    EXPECT_EQ(*l2 & ~kFakeFrameMask, kFakeV | kFakeT);
    EXPECT_EQ((*l2 & kFakeFrameMask) << 12, mem.pages().back());

    EXPECT_EQ(mem.used(), 4u);
    EXPECT_EQ(pt.table_pages(), 4u);
    EXPECT_EQ(fake_leaf_count(mem), 511u);
    expect_fake_leaf(mem, pt, 0x4020'0000, 0x8020'0000, 3, kA.bits);
    expect_fake_leaf(mem, pt, 0x402f'f000, 0x802f'f000, 3, kA.bits);
    expect_fake_leaf(mem, pt, 0x4030'1000, 0x8030'1000, 3, kA.bits);
    expect_fake_leaf(mem, pt, 0x403f'f000, 0x803f'f000, 3, kA.bits);
    EXPECT_EQ(pt.lookup(Va(0x4030'0000)).status(), Status::not_found);
    EXPECT_EQ(pt.lookup(Va(0x4030'0fff)).status(), Status::not_found);
}

TEST(PageTableUnmap, PageInsideAGiBBlockSplitsTwice) {
    ArenaMemory mem(16);
    FakeTable pt = make_fake(mem);
    ASSERT_TRUE(pt.map(Va(0x4000'0000), Pa(0xc000'0000), kGiB, kB).ok());
    std::vector<Inval> inv;
    ASSERT_TRUE(pt.unmap(Va(0x4000'1000), kPageSize, recorder(mem, pt, inv)).ok());
    EXPECT_EQ(inv, (std::vector<Inval>{{0x4000'0000, 1, 0}, {0x4000'0000, 2, 0}, {0x4000'1000, 3, 0}}));
    EXPECT_EQ(mem.used(), 4u); // root, level 1, the two split tables
    EXPECT_EQ(fake_leaf_count(mem), 511u + 511u);
    expect_fake_leaf(mem, pt, 0x4000'0000, 0xc000'0000, 3, kB.bits);
    expect_fake_leaf(mem, pt, 0x4000'2000, 0xc000'2000, 3, kB.bits);
    expect_fake_leaf(mem, pt, 0x401f'f000, 0xc01f'f000, 3, kB.bits);
    expect_fake_leaf(mem, pt, 0x4020'0000, 0xc020'0000, 2, kB.bits);
    expect_fake_leaf(mem, pt, 0x7fe0'0000, 0xffe0'0000, 2, kB.bits);
    EXPECT_EQ(pt.lookup(Va(0x4000'1000)).status(), Status::not_found);
}

TEST(PageTableUnmap, RangeCuttingTwoBlocksSplitsBothEdges) {
    ArenaMemory mem(16);
    FakeTable pt = make_fake(mem);
    ASSERT_TRUE(pt.map(Va(0x4020'0000), Pa(0x8020'0000), 4 * kMiB, kA).ok());
    std::vector<Inval> inv;
    ASSERT_TRUE(pt.unmap(Va(0x4030'0000), 2 * kMiB, recorder(mem, pt, inv)).ok());
    // Two splits, then 256 + 256 pages.
    ASSERT_EQ(inv.size(), 2u + 512u);
    EXPECT_EQ(inv[0], (Inval{0x4020'0000, 2, 0}));
    EXPECT_EQ(inv[1], (Inval{0x4040'0000, 2, 0}));
    EXPECT_EQ(inv[2], (Inval{0x4030'0000, 3, 0}));
    EXPECT_EQ(inv.back(), (Inval{0x404f'f000, 3, 0}));
    EXPECT_EQ(mem.used(), 5u);
    EXPECT_EQ(fake_leaf_count(mem), 512u);
    expect_fake_leaf(mem, pt, 0x402f'f000, 0x802f'f000, 3, kA.bits);
    expect_fake_leaf(mem, pt, 0x4050'0000, 0x8050'0000, 3, kA.bits);
    EXPECT_EQ(pt.lookup(Va(0x4030'0000)).status(), Status::not_found);
    EXPECT_EQ(pt.lookup(Va(0x4040'0000)).status(), Status::not_found);
    EXPECT_EQ(pt.lookup(Va(0x404f'f000)).status(), Status::not_found);
}

TEST(PageTableUnmap, RangeSpanningTablesFreesThemAndKeepsTheRest) {
    ArenaMemory mem(16);
    FakeTable pt = make_fake(mem);
    // Four pages across the 1 GiB boundary: root, level 1, two level-2 and
    // two level-3 tables. And a block in a third GiB, under the same level 1.
    ASSERT_TRUE(pt.map(Va(0x3fff'e000), Pa(0x7fff'e000), 4 * kPageSize, kA).ok());
    ASSERT_TRUE(pt.map(Va(0x8000'0000), Pa(0x1'8000'0000), 2 * kMiB, kB).ok());
    ASSERT_EQ(mem.used(), 7u);
    std::vector<Inval> inv;
    ASSERT_TRUE(pt.unmap(Va(0x3fff'e000), 4 * kPageSize, recorder(mem, pt, inv)).ok());
    EXPECT_EQ(inv, (std::vector<Inval>{{0x3fff'e000, 3, 0},
                                        {0x3fff'f000, 3, 0},
                                        {0x3fe0'0000, 2, 0},
                                        {0x0000'0000, 1, 0},
                                        {0x4000'0000, 3, 0},
                                        {0x4000'1000, 3, 0},
                                        {0x4000'0000, 2, 0},
                                        {0x4000'0000, 1, 0}}));
    EXPECT_EQ(mem.used(), 3u); // root, level 1, the block's level 2
    EXPECT_EQ(mem.frees(), 4u);
    EXPECT_EQ(pt.table_pages(), 3u);
    expect_fake_leaf(mem, pt, 0x8000'0000, 0x1'8000'0000, 2, kB.bits);
    EXPECT_EQ(fake_leaf_count(mem), 1u);
}

TEST(PageTableUnmap, NothingMappedNeedsNoMaintenance) {
    ArenaMemory mem(16);
    FakeTable pt = make_fake(mem);
    std::vector<Inval> inv;
    ASSERT_TRUE(pt.unmap(Va(0x4000'0000), kGiB, recorder(mem, pt, inv)).ok());
    EXPECT_TRUE(inv.empty());
    // A hole between two pages of one table: nothing to invalidate, and the
    // table, not empty, stays.
    ASSERT_TRUE(pt.map(Va(0x4000'0000), Pa(0x8000'0000), kPageSize, kA).ok());
    ASSERT_TRUE(pt.map(Va(0x4000'2000), Pa(0x8000'2000), kPageSize, kA).ok());
    const usize pages = mem.used();
    ASSERT_TRUE(pt.unmap(Va(0x4000'1000), kPageSize, recorder(mem, pt, inv)).ok());
    EXPECT_TRUE(inv.empty());
    EXPECT_EQ(mem.used(), pages);
    expect_fake_leaf(mem, pt, 0x4000'0000, 0x8000'0000, 3, kA.bits);
    expect_fake_leaf(mem, pt, 0x4000'2000, 0x8000'2000, 3, kA.bits);
}

TEST(PageTableUnmap, BadArgumentsChangeNothing) {
    ArenaMemory mem(16);
    FakeTable pt = make_fake(mem);
    ASSERT_TRUE(pt.map(Va(0x4000'0000), Pa(0x8000'0000), 2 * kMiB, kA).ok());
    std::vector<Inval> inv;
    EXPECT_EQ(pt.unmap(Va(0x4000'0800), kPageSize, recorder(mem, pt, inv)).status(), Status::invalid_argument);
    EXPECT_EQ(pt.unmap(Va(0x4000'0000), 0x800, recorder(mem, pt, inv)).status(), Status::invalid_argument);
    EXPECT_EQ(pt.unmap(Va(0x4000'0000), 0, recorder(mem, pt, inv)).status(), Status::invalid_argument);
    EXPECT_EQ(pt.unmap(Va(u64{1} << 48), kPageSize, recorder(mem, pt, inv)).status(), Status::out_of_range);
    EXPECT_EQ(pt.unmap(Va((u64{1} << 48) - kPageSize), 2 * kPageSize, recorder(mem, pt, inv)).status(),
              Status::out_of_range);
    EXPECT_TRUE(inv.empty());
    EXPECT_EQ(mem.used(), 3u);
    expect_fake_leaf(mem, pt, 0x4000'0000, 0x8000'0000, 2, kA.bits);
}

TEST(PageTableUnmap, ExhaustionBeforeASplitChangesNothing) {
    ArenaMemory mem(3);
    FakeTable pt = make_fake(mem);
    ASSERT_TRUE(pt.map(Va(0x4000'0000), Pa(0xc000'0000), kGiB, kB).ok());
    ASSERT_EQ(mem.used(), 2u);
    const std::optional<u64> before = fake_raw(mem, pt.root(), 0x4000'0000, 1);
    // A page inside the GiB block needs two split tables; only one is left.
    std::vector<Inval> inv;
    EXPECT_EQ(pt.unmap(Va(0x4000'1000), kPageSize, recorder(mem, pt, inv)).status(), Status::no_memory);
    EXPECT_TRUE(inv.empty());
    EXPECT_EQ(mem.used(), 2u);
    EXPECT_EQ(mem.frees(), 1u); // the one it got went back
    EXPECT_EQ(pt.table_pages(), 2u);
    EXPECT_EQ(fake_raw(mem, pt.root(), 0x4000'0000, 1), before);
    expect_fake_leaf(mem, pt, 0x4000'1000, 0xc000'1000, 1, kB.bits);

    mem.set_budget(4);
    ASSERT_TRUE(pt.unmap(Va(0x4000'1000), kPageSize, recorder(mem, pt, inv)).ok());
    EXPECT_EQ(pt.lookup(Va(0x4000'1000)).status(), Status::not_found);
    EXPECT_EQ(pt.table_pages(), 4u);
}

TEST(PageTableUnmap, AcrossConcatenatedRootTables) {
    ArenaMemory mem(16);
    Result<FakeTable> r = FakeTable::create(mem, mm::TableGeometry{1, 40});
    ASSERT_TRUE(r.ok());
    FakeTable pt = r.value();
    ASSERT_TRUE(pt.map(Va(0x7f'ffff'f000), Pa(0x5000'0000), 2 * kPageSize, kA).ok());
    ASSERT_EQ(mem.used(), 6u); // two roots, a level 2 and a level 3 under each
    EXPECT_EQ(fake_raw_in(mem, pt.root(), 1, 0x80'0000'0000, 3), fake_leaf(0x5000'1000, kA.bits));
    std::vector<Inval> inv;
    ASSERT_TRUE(pt.unmap(Va(0x7f'ffff'f000), 2 * kPageSize, recorder(mem, pt, inv)).ok());
    EXPECT_EQ(inv, (std::vector<Inval>{{0x7f'ffff'f000, 3, 0},
                                        {0x7f'ffe0'0000, 2, 0},
                                        {0x7f'c000'0000, 1, 0},
                                        {0x80'0000'0000, 3, 0},
                                        {0x80'0000'0000, 2, 0},
                                        {0x80'0000'0000, 1, 0}}));
    EXPECT_EQ(mem.used(), 2u);
    EXPECT_EQ(pt.table_pages(), 2u);
}

TEST(PageTableUnmap, WholeTablePerLeafInvalidation) {
    // Unmapping a whole 2 MiB of pages invalidates each page (an IPA-based
    // invalidation of the table entry would leave the other pages' TLB
    // entries alive) and then the table entry.
    ArenaMemory mem(16);
    FakeTable pt = make_fake(mem);
    ASSERT_TRUE(pt.map(Va(0x4020'0000), Pa(0x8020'1000), 2 * kMiB, kA).ok()); // pages: output misaligned
    ASSERT_TRUE(pt.map(Va(0x4000'0000), Pa(0x8000'0000), kPageSize, kA).ok()); // keeps level 2 alive
    std::vector<Inval> inv;
    ASSERT_TRUE(pt.unmap(Va(0x4020'0000), 2 * kMiB, recorder(mem, pt, inv)).ok());
    ASSERT_EQ(inv.size(), 513u);
    for (unsigned i = 0; i < 512; ++i) EXPECT_EQ(inv[i], (Inval{0x4020'0000 + i * kPageSize, 3, 0}));
    EXPECT_EQ(inv[512], (Inval{0x4020'0000, 2, 0}));
    EXPECT_EQ(fake_leaf_count(mem), 1u);
}

// ---------------------------------------------------------------------------
// Visitors.

TEST(PageTableVisit, ForEachLeafInAddressOrder) {
    ArenaMemory mem(16);
    FakeTable pt = make_fake(mem);
    ASSERT_TRUE(pt.map(Va(0x8000'0000), Pa(0x1'4000'0000), kGiB, kB).ok());
    ASSERT_TRUE(pt.map(Va(0x4020'0000), Pa(0x8020'0000), 2 * kMiB, kA).ok());
    ASSERT_TRUE(pt.map(Va(0x4000'1000), Pa(0x9000'1000), kPageSize, kA).ok());
    struct Seen {
        u64 base, pa;
        unsigned level;
        u8 attr;
        bool operator==(const Seen&) const = default;
    };
    std::vector<Seen> seen;
    auto collect = [&seen](Va base, const FakeTable::Leaf& l) {
        seen.push_back(Seen{base.raw(), l.pa.raw(), l.level, l.attr.bits});
        return true;
    };
    EXPECT_TRUE(pt.for_each_leaf(VaRange{Va(0), 4 * kGiB}, collect));
    EXPECT_EQ(seen, (std::vector<Seen>{{0x4000'1000, 0x9000'1000, 3, kA.bits},
                                       {0x4020'0000, 0x8020'0000, 2, kA.bits},
                                       {0x8000'0000, 0x1'4000'0000, 1, kB.bits}}));

    // A range inside a block reports the block whole; ranges clip.
    seen.clear();
    EXPECT_TRUE(pt.for_each_leaf(VaRange{Va(0x4030'0000), kPageSize}, collect));
    EXPECT_EQ(seen, (std::vector<Seen>{{0x4020'0000, 0x8020'0000, 2, kA.bits}}));
    seen.clear();
    EXPECT_TRUE(pt.for_each_leaf(VaRange{Va(0x4000'2000), 0x4000'0000}, collect));
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].base, 0x4020'0000u);
    seen.clear();
    EXPECT_TRUE(pt.for_each_leaf(VaRange{Va(0), 0x4000'1000}, collect));
    EXPECT_TRUE(seen.empty());

    // Stopping.
    usize calls = 0;
    EXPECT_FALSE(pt.for_each_leaf(VaRange{Va(0), 4 * kGiB}, [&calls](Va, const FakeTable::Leaf&) {
        ++calls;
        return false;
    }));
    EXPECT_EQ(calls, 1u);
}

TEST(PageTableVisit, ForEachLeafOverConcatenatedRoots) {
    ArenaMemory mem(16);
    Result<FakeTable> r = FakeTable::create(mem, mm::TableGeometry{1, 40});
    ASSERT_TRUE(r.ok());
    FakeTable pt = r.value();
    ASSERT_TRUE(pt.map(Va(0x7f'c000'0000), Pa(0x4000'0000), 2 * kGiB, kA).ok());
    std::vector<u64> bases;
    EXPECT_TRUE(pt.for_each_leaf(VaRange{Va(0), u64{1} << 41}, [&bases](Va base, const FakeTable::Leaf& l) {
        bases.push_back(base.raw());
        EXPECT_EQ(l.level, 1u);
        return true;
    }));
    EXPECT_EQ(bases, (std::vector<u64>{0x7f'c000'0000, 0x80'0000'0000}));
}

TEST(PageTableVisit, ForEachEntrySeesEveryLevelAndCanSkip) {
    ArenaMemory mem(16);
    FakeTable pt = make_fake(mem);
    ASSERT_TRUE(pt.map(Va(0x4000'1000), Pa(0x9000'1000), kPageSize, kA).ok());
    ASSERT_TRUE(pt.map(Va(0x4020'0000), Pa(0x8020'0000), 2 * kMiB, kA).ok());
    struct Seen {
        u64 base;
        unsigned level;
        bool table;
        bool operator==(const Seen&) const = default;
    };
    std::vector<Seen> seen;
    EXPECT_TRUE(pt.for_each_entry(VaRange{Va(0), 4 * kGiB}, [&seen](FakeTable::EntryRef& e) {
        seen.push_back(Seen{e.base().raw(), e.level(), (e.raw() & kFakeT) != 0});
        return mm::Visit::descend;
    }));
    EXPECT_EQ(seen, (std::vector<Seen>{{0, 0, true},
                                       {0x4000'0000, 1, true},
                                       {0x4000'0000, 2, true},
                                       {0x4000'1000, 3, false},
                                       {0x4020'0000, 2, false}}));

    seen.clear();
    EXPECT_TRUE(pt.for_each_entry(VaRange{Va(0), 4 * kGiB}, [&seen](FakeTable::EntryRef& e) {
        seen.push_back(Seen{e.base().raw(), e.level(), (e.raw() & kFakeT) != 0});
        return e.level() == 1 ? mm::Visit::skip : mm::Visit::descend;
    }));
    EXPECT_EQ(seen, (std::vector<Seen>{{0, 0, true}, {0x4000'0000, 1, true}}));

    usize calls = 0;
    EXPECT_FALSE(pt.for_each_entry(VaRange{Va(0), 4 * kGiB}, [&calls](FakeTable::EntryRef&) {
        ++calls;
        return mm::Visit::stop;
    }));
    EXPECT_EQ(calls, 1u);
}

TEST(PageTableVisit, ForEachEntryReachesASubtreeHiddenByItsValidBit) {
    // What access tracking does: clear only the valid bit of a table entry.
    // Translation stops there; for_each_entry still walks below it;
    // for_each_leaf does not.
    ArenaMemory mem(16);
    FakeTable pt = make_fake(mem);
    ASSERT_TRUE(pt.map(Va(0x4000'1000), Pa(0x9000'1000), kPageSize, kA).ok());
    ASSERT_TRUE(pt.for_each_entry(VaRange{Va(0x4000'0000), kGiB}, [](FakeTable::EntryRef& e) {
        if (e.level() == 2) e.write(e.raw() & ~kFakeV);
        return mm::Visit::descend;
    }));
    EXPECT_EQ(pt.lookup(Va(0x4000'1000)).status(), Status::not_found);
    usize leaves = 0;
    EXPECT_TRUE(pt.for_each_leaf(VaRange{Va(0), 4 * kGiB}, [&leaves](Va, const FakeTable::Leaf&) {
        ++leaves;
        return true;
    }));
    EXPECT_EQ(leaves, 0u);
    std::vector<unsigned> levels;
    EXPECT_TRUE(pt.for_each_entry(VaRange{Va(0), 4 * kGiB}, [&levels](FakeTable::EntryRef& e) {
        levels.push_back(e.level());
        return mm::Visit::descend;
    }));
    EXPECT_EQ(levels, (std::vector<unsigned>{0, 1, 2, 3}));
    // Mapping under a hidden table is refused rather than silently hidden.
    EXPECT_EQ(pt.map(Va(0x4000'2000), Pa(0x9000'2000), kPageSize, kA).status(), Status::exists);
}

TEST(PageTableVisit, ForEachEntryWriteIsSeenByLookup) {
    ArenaMemory mem(16);
    FakeTable pt = make_fake(mem);
    ASSERT_TRUE(pt.map(Va(0x4000'0000), Pa(0x8000'0000), 2 * kPageSize, kA).ok());
    ASSERT_TRUE(pt.for_each_entry(VaRange{Va(0x4000'1000), kPageSize}, [](FakeTable::EntryRef& e) {
        if (e.level() == 3) {
            EXPECT_EQ(e.base(), Va(0x4000'1000));
            EXPECT_EQ(e.size(), kPageSize);
            e.write(FakePteFormat::invalid());
        }
        return mm::Visit::descend;
    }));
    expect_fake_leaf(mem, pt, 0x4000'0000, 0x8000'0000, 3, kA.bits);
    EXPECT_EQ(pt.lookup(Va(0x4000'1000)).status(), Status::not_found);
}

TEST(PageTableDestroy, FreesEveryPage) {
    ArenaMemory mem(32);
    Result<FakeTable> r = FakeTable::create(mem, mm::TableGeometry{1, 40});
    ASSERT_TRUE(r.ok());
    FakeTable pt = r.value();
    ASSERT_TRUE(pt.map(Va(0x7f'ffff'f000), Pa(0x5000'0000), 2 * kPageSize, kA).ok());
    ASSERT_TRUE(pt.map(Va(0x4000'0000), Pa(0x4000'0000), kGiB, kA).ok());
    ASSERT_TRUE(pt.map(Va(0x8000'0000), Pa(0x8000'1000), 4 * kMiB, kA).ok());
    ASSERT_GT(mem.used(), 6u);
    EXPECT_EQ(pt.table_pages(), mem.used());
    pt.destroy();
    EXPECT_EQ(mem.used(), 0u);
    EXPECT_EQ(pt.table_pages(), 0u);
    EXPECT_EQ(pt.root(), Pa(0));
}

// ---------------------------------------------------------------------------
// The optional hooks: hidden descriptors (HidingFormat) and table summaries
// (SummarizingFormat), over the fake encoding plus two software bits of its
// own, again unlike stage 2's (V bit 0, tracked bit 58, type [56:55]):
//   H = bit 61: hidden (V clear, everything else kept)
//   N = bit 60, in a table: a leaf whose attribute has bit 7 set is below.

constexpr u64 kFakeH = u64{1} << 61;
constexpr u64 kFakeN = u64{1} << 60;

struct HidingFakeFormat : FakePteFormat {
    static constexpr bool is_hidden(u64 d) { return (d & kFakeV) == 0 && (d & kFakeH) != 0; }
    static constexpr u64 hide(u64 d) { return (d & ~kFakeV) | kFakeH; }
    static constexpr u64 reveal(u64 d) { return (d & ~kFakeH) | kFakeV; }
    static constexpr u64 note_leaf(u64 t, FakeAttr a) { return (a.bits & 0x80) != 0 ? t | kFakeN : t; }
};

static_assert(mm::HidingFormat<HidingFakeFormat>);
static_assert(mm::SummarizingFormat<HidingFakeFormat>);
static_assert(!mm::HidingFormat<FakePteFormat>);
static_assert(!mm::SummarizingFormat<FakePteFormat>);
static_assert(!mm::HidingFormat<Stage1El2Format>);

using HidingTable = mm::PageTable<HidingFakeFormat>;

constexpr FakeAttr kNoted{0x85};

HidingTable make_hiding(ArenaMemory& mem) {
    Result<HidingTable> r = HidingTable::create(mem);
    EXPECT_TRUE(r.ok());
    return r.value();
}

// The raw descriptor at `level` for `va`, through valid and hidden tables
// alike (T set, and V or H), or nullopt when a table on the way is missing.
std::optional<u64> hiding_raw(ArenaMemory& mem, Pa root, u64 va, unsigned level) {
    u64* t = mem.table(root);
    for (unsigned l = 0; l < level; ++l) {
        const u64 d = t[index_at(va, l)];
        if ((d & kFakeT) == 0 || (d & (kFakeV | kFakeH)) == 0) return std::nullopt;
        t = mem.table(Pa((d & kFakeFrameMask) << 12));
    }
    return t[index_at(va, level)];
}

// Hides the entry at `level` for `va` by hand: V cleared, H set.
void hide_at(ArenaMemory& mem, Pa root, u64 va, unsigned level) {
    u64* t = mem.table(root);
    for (unsigned l = 0; l < level; ++l) t = mem.table(Pa((t[index_at(va, l)] & kFakeFrameMask) << 12));
    u64& d = t[index_at(va, level)];
    ASSERT_NE(d, 0u);
    d = (d & ~kFakeV) | kFakeH;
}

TEST(PageTableHiding, LookupSeesThroughHiddenEntries) {
    ArenaMemory mem(16);
    HidingTable pt = make_hiding(mem);
    ASSERT_TRUE(pt.map(Va(0x4000'1000), Pa(0x9000'1000), 2 * kPageSize, kA).ok());
    ASSERT_TRUE(pt.map(Va(0x4020'0000), Pa(0x8020'0000), 2 * kMiB, kA).ok());
    ASSERT_TRUE(pt.map(Va(0x8000'0000), Pa(0x1'0000'0000), 2 * kMiB, kA).ok());
    hide_at(mem, pt.root(), 0x4000'0000, 2); // the level-3 table of the pages
    hide_at(mem, pt.root(), 0x4020'0000, 2); // the block
    Result<HidingTable::Leaf> page = pt.lookup(Va(0x4000'2abc));
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(page.value().pa, Pa(0x9000'2abc));
    EXPECT_EQ(page.value().level, 3u);
    EXPECT_EQ(page.value().attr, kA);
    EXPECT_TRUE(page.value().hidden);
    Result<HidingTable::Leaf> block = pt.lookup(Va(0x4030'0000));
    ASSERT_TRUE(block.ok());
    EXPECT_EQ(block.value().pa, Pa(0x8030'0000));
    EXPECT_EQ(block.value().level, 2u);
    EXPECT_TRUE(block.value().hidden);
    Result<HidingTable::Leaf> plain = pt.lookup(Va(0x8000'0000));
    ASSERT_TRUE(plain.ok());
    EXPECT_FALSE(plain.value().hidden);
    EXPECT_EQ(pt.lookup(Va(0x4000'3000)).status(), Status::not_found);
    // for_each_leaf reports what the hardware would translate: not the
    // hidden ones.
    std::vector<u64> bases;
    EXPECT_TRUE(pt.for_each_leaf(VaRange{Va(0), 4 * kGiB}, [&bases](Va base, const HidingTable::Leaf& l) {
        bases.push_back(base.raw());
        EXPECT_FALSE(l.hidden);
        return true;
    }));
    EXPECT_EQ(bases, (std::vector<u64>{0x8000'0000}));
}

TEST(PageTableHiding, MapWalksThroughAHiddenTableAndKeepsIdenticalHiddenLeaves) {
    ArenaMemory mem(16);
    HidingTable pt = make_hiding(mem);
    ASSERT_TRUE(pt.map(Va(0x4000'1000), Pa(0x9000'1000), kPageSize, kA).ok());
    hide_at(mem, pt.root(), 0x4000'0000, 2);
    hide_at(mem, pt.root(), 0x4000'1000, 3);
    const usize pages = mem.used();
    // A new page under the hidden table: mapped there, valid; the table
    // stays hidden.
    ASSERT_TRUE(pt.map(Va(0x4000'2000), Pa(0x9000'2000), kPageSize, kA).ok());
    EXPECT_EQ(mem.used(), pages);
    EXPECT_EQ(hiding_raw(mem, pt.root(), 0x4000'2000, 3), fake_leaf(0x9000'2000, kA.bits));
    std::optional<u64> l2 = hiding_raw(mem, pt.root(), 0x4000'0000, 2);
    ASSERT_TRUE(l2.has_value());
    EXPECT_EQ(*l2 & (kFakeV | kFakeH | kFakeT), kFakeH | kFakeT);
    // The same translation over the hidden page: accepted, left hidden.
    const u64 hidden_page = (fake_leaf(0x9000'1000, kA.bits) & ~kFakeV) | kFakeH;
    ASSERT_EQ(hiding_raw(mem, pt.root(), 0x4000'1000, 3), hidden_page);
    EXPECT_TRUE(pt.map(Va(0x4000'1000), Pa(0x9000'1000), kPageSize, kA).ok());
    EXPECT_EQ(hiding_raw(mem, pt.root(), 0x4000'1000, 3), hidden_page);
    // Anything else over it is in the way.
    EXPECT_EQ(pt.map(Va(0x4000'1000), Pa(0x9000'5000), kPageSize, kA).status(), Status::exists);
    EXPECT_EQ(pt.map(Va(0x4000'1000), Pa(0x9000'1000), kPageSize, kB).status(), Status::exists);
    EXPECT_EQ(hiding_raw(mem, pt.root(), 0x4000'1000, 3), hidden_page);
    // A hidden block is in the way of a page inside it, as a valid one is.
    ASSERT_TRUE(pt.map(Va(0x4020'0000), Pa(0x8020'0000), 2 * kMiB, kA).ok());
    hide_at(mem, pt.root(), 0x4020'0000, 2);
    EXPECT_EQ(pt.map(Va(0x4020'1000), Pa(0x8020'1000), kPageSize, kA).status(), Status::exists);
    EXPECT_TRUE(pt.map(Va(0x4020'0000), Pa(0x8020'0000), 2 * kMiB, kA).ok());
    EXPECT_EQ(hiding_raw(mem, pt.root(), 0x4020'0000, 2),
              (fake_leaf(0x8020'0000, kA.bits) & ~kFakeV) | kFakeH);
}

TEST(PageTableHiding, UnmapSplitsAHiddenBlockIntoAHiddenTableWithoutInvalidation) {
    ArenaMemory mem(16);
    HidingTable pt = make_hiding(mem);
    ASSERT_TRUE(pt.map(Va(0x4020'0000), Pa(0x8020'0000), 2 * kMiB, kA).ok());
    hide_at(mem, pt.root(), 0x4020'0000, 2);
    std::vector<std::pair<u64, unsigned>> inv;
    auto record = [&inv](Va base, unsigned level) { inv.emplace_back(base.raw(), level); };
    ASSERT_TRUE(pt.unmap(Va(0x4030'0000), kPageSize, record).ok());
    // Neither the hidden block nor the valid page below the hidden table
    // can be in a TLB.
    EXPECT_TRUE(inv.empty()) << inv.size();
    std::optional<u64> l2 = hiding_raw(mem, pt.root(), 0x4020'0000, 2);
    ASSERT_TRUE(l2.has_value());
    EXPECT_EQ(*l2 & ~kFakeFrameMask, kFakeH | kFakeT);
    EXPECT_TRUE(mem.owns((*l2 & kFakeFrameMask) << 12));
    EXPECT_EQ(hiding_raw(mem, pt.root(), 0x4020'0000, 3), fake_leaf(0x8020'0000, kA.bits));
    EXPECT_EQ(hiding_raw(mem, pt.root(), 0x4030'0000, 3), 0u);
    EXPECT_EQ(hiding_raw(mem, pt.root(), 0x4030'1000, 3), fake_leaf(0x8030'1000, kA.bits));
    Result<HidingTable::Leaf> leaf = pt.lookup(Va(0x4030'1000));
    ASSERT_TRUE(leaf.ok());
    EXPECT_TRUE(leaf.value().hidden);
    EXPECT_EQ(leaf.value().level, 3u);
    EXPECT_EQ(pt.lookup(Va(0x4030'0000)).status(), Status::not_found);

    // Unmapping all of it frees the hidden table with no invalidation; the
    // valid neighbour page, and the valid tables above both, left empty,
    // get theirs.
    ASSERT_TRUE(pt.map(Va(0x4040'0000), Pa(0x8040'0000), kPageSize, kA).ok());
    ASSERT_EQ(mem.used(), 5u);
    ASSERT_TRUE(pt.unmap(Va(0x4020'0000), 2 * kMiB + kPageSize, record).ok());
    EXPECT_EQ(inv, (std::vector<std::pair<u64, unsigned>>{
                       {0x4040'0000, 3}, {0x4040'0000, 2}, {0x4000'0000, 1}, {0, 0}}));
    EXPECT_EQ(mem.used(), 1u);
    EXPECT_EQ(pt.lookup(Va(0x4030'1000)).status(), Status::not_found);
}

TEST(PageTableHiding, UnmapBelowAHiddenTableInvalidatesNothing) {
    ArenaMemory mem(16);
    HidingTable pt = make_hiding(mem);
    ASSERT_TRUE(pt.map(Va(0x4000'0000), Pa(0x9000'0000), 4 * kPageSize, kA).ok());
    ASSERT_TRUE(pt.map(Va(0x4060'0000), Pa(0x8060'0000), 2 * kMiB, kA).ok());
    hide_at(mem, pt.root(), 0x4000'0000, 1); // the level-2 table over both
    std::vector<std::pair<u64, unsigned>> inv;
    auto record = [&inv](Va base, unsigned level) { inv.emplace_back(base.raw(), level); };
    // A valid block below the hidden table is split with no break.
    ASSERT_TRUE(pt.unmap(Va(0x4060'0000), kPageSize, record).ok());
    ASSERT_TRUE(pt.unmap(Va(0x4000'1000), 2 * kPageSize, record).ok());
    EXPECT_TRUE(inv.empty()) << inv.size();
    std::optional<u64> split = hiding_raw(mem, pt.root(), 0x4060'0000, 2);
    ASSERT_TRUE(split.has_value());
    EXPECT_EQ(*split & ~kFakeFrameMask, kFakeV | kFakeT); // it was valid: a valid table
    EXPECT_EQ(hiding_raw(mem, pt.root(), 0x4060'1000, 3), fake_leaf(0x8060'1000, kA.bits));
    EXPECT_EQ(hiding_raw(mem, pt.root(), 0x4000'0000, 3), fake_leaf(0x9000'0000, kA.bits));
    EXPECT_EQ(hiding_raw(mem, pt.root(), 0x4000'1000, 3), 0u);
    EXPECT_EQ(hiding_raw(mem, pt.root(), 0x4000'3000, 3), fake_leaf(0x9000'3000, kA.bits));
}

TEST(PageTableHiding, TablesOnTheWayNoteTheirLeaves) {
    ArenaMemory mem(16);
    HidingTable pt = make_hiding(mem);
    ASSERT_TRUE(pt.map(Va(0x4000'0000), Pa(0x9000'0000), kPageSize, kA).ok());
    for (unsigned l = 0; l < 3; ++l) {
        std::optional<u64> d = hiding_raw(mem, pt.root(), 0x4000'0000, l);
        ASSERT_TRUE(d.has_value());
        EXPECT_EQ(*d & kFakeN, 0u) << "level " << l;
    }
    // A noted leaf in the same level-3 table marks every table above it.
    ASSERT_TRUE(pt.map(Va(0x4000'1000), Pa(0x0900'0000), kPageSize, kNoted).ok());
    for (unsigned l = 0; l < 3; ++l) {
        std::optional<u64> d = hiding_raw(mem, pt.root(), 0x4000'1000, l);
        ASSERT_TRUE(d.has_value());
        EXPECT_EQ(*d & ~kFakeFrameMask, kFakeV | kFakeT | kFakeN) << "level " << l;
    }
    // Through a hidden table too, which stays hidden.
    ASSERT_TRUE(pt.map(Va(0x8000'0000), Pa(0x9100'0000), kPageSize, kA).ok());
    hide_at(mem, pt.root(), 0x8000'0000, 2);
    ASSERT_TRUE(pt.map(Va(0x8000'1000), Pa(0x0910'0000), kPageSize, kNoted).ok());
    std::optional<u64> l2 = hiding_raw(mem, pt.root(), 0x8000'0000, 2);
    ASSERT_TRUE(l2.has_value());
    EXPECT_EQ(*l2 & ~kFakeFrameMask, kFakeH | kFakeT | kFakeN);
    // A split noted block gives a noted table. Unmapping keeps notes.
    ASSERT_TRUE(pt.map(Va(0xc000'0000), Pa(0x0a00'0000), 2 * kMiB, kNoted).ok());
    ASSERT_TRUE(pt.unmap(Va(0xc000'0000), kPageSize, [](Va, unsigned) {}).ok());
    std::optional<u64> split = hiding_raw(mem, pt.root(), 0xc000'0000, 2);
    ASSERT_TRUE(split.has_value());
    EXPECT_EQ(*split & ~kFakeFrameMask, kFakeV | kFakeT | kFakeN);
    ASSERT_TRUE(pt.unmap(Va(0x4000'1000), kPageSize, [](Va, unsigned) {}).ok());
    std::optional<u64> kept = hiding_raw(mem, pt.root(), 0x4000'0000, 2);
    ASSERT_TRUE(kept.has_value());
    EXPECT_NE(*kept & kFakeN, 0u);
}

TEST(PageTableVisit, ForEachEntryAfterRunsPostOrder) {
    ArenaMemory mem(16);
    FakeTable pt = make_fake(mem);
    ASSERT_TRUE(pt.map(Va(0x4000'1000), Pa(0x9000'1000), kPageSize, kA).ok());
    ASSERT_TRUE(pt.map(Va(0x4020'0000), Pa(0x8020'0000), 2 * kMiB, kA).ok());
    ASSERT_TRUE(pt.map(Va(0x8000'0000), Pa(0x9100'0000), kPageSize, kA).ok());
    std::vector<std::string> seen;
    auto name = [](const char* what, FakeTable::EntryRef& e) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%s %llx/%u", what, static_cast<unsigned long long>(e.base().raw()), e.level());
        return std::string(buf);
    };
    auto pre = [&](FakeTable::EntryRef& e) {
        seen.push_back(name("pre", e));
        // Not into the second GiB's level-2 table.
        return e.base().raw() == 0x8000'0000 && e.level() == 2 ? mm::Visit::skip : mm::Visit::descend;
    };
    auto post = [&](FakeTable::EntryRef& e) { seen.push_back(name("post", e)); };
    EXPECT_TRUE(pt.for_each_entry(VaRange{Va(0), 4 * kGiB}, pre, post));
    EXPECT_EQ(seen, (std::vector<std::string>{"pre 0/0", "pre 40000000/1", "pre 40000000/2", "pre 40001000/3",
                                              "post 40000000/2", "pre 40200000/2", "post 40000000/1",
                                              "pre 80000000/1", "pre 80000000/2", "post 80000000/1", "post 0/0"}));

    // Stopped: no post for the tables around the stop.
    seen.clear();
    auto stop_at_page = [&](FakeTable::EntryRef& e) {
        seen.push_back(name("pre", e));
        return e.level() == 3 ? mm::Visit::stop : mm::Visit::descend;
    };
    EXPECT_FALSE(pt.for_each_entry(VaRange{Va(0), 4 * kGiB}, stop_at_page, post));
    EXPECT_EQ(seen, (std::vector<std::string>{"pre 0/0", "pre 40000000/1", "pre 40000000/2", "pre 40001000/3"}));

    // A range inside a table: post still comes once its part is walked, and
    // `after` may rewrite the entry.
    seen.clear();
    auto descend = [&](FakeTable::EntryRef& e) {
        seen.push_back(name("pre", e));
        return mm::Visit::descend;
    };
    auto mark = [&](FakeTable::EntryRef& e) {
        seen.push_back(name("post", e));
        if (e.level() == 2) e.write(e.raw() | (u64{1} << 56));
    };
    EXPECT_TRUE(pt.for_each_entry(VaRange{Va(0x4000'1000), kPageSize}, descend, mark));
    EXPECT_EQ(seen, (std::vector<std::string>{"pre 0/0", "pre 40000000/1", "pre 40000000/2", "pre 40001000/3",
                                              "post 40000000/2", "post 40000000/1", "post 0/0"}));
    std::optional<u64> l2 = fake_raw(mem, pt.root(), 0x4000'0000, 2);
    ASSERT_TRUE(l2.has_value());
    EXPECT_NE(*l2 & (u64{1} << 56), 0u);
}

// ---------------------------------------------------------------------------
// The real EL2 stage-1 format (arch/arm64/pte_format.hpp; DDI 0487 D8.3):
//   [0] valid, [1] table (levels 0-2) / page (level 3), [4:2] AttrIndx,
//   [7:6] AP[2:1] (0b10 = read-only at EL2), [9:8] SH, [10] AF,
//   [47:12] output address, [54] XN.

constexpr u64 kArmOa = 0x0000'ffff'ffff'f000ull;
constexpr u64 kArmXn = u64{1} << 54;
constexpr u64 kArmAf = u64{1} << 10;
constexpr u64 kArmShInner = u64{3} << 8;
constexpr u64 kArmApRo = u64{2} << 6;
constexpr u64 kArmAttrDevice = u64{1} << 2; // MAIR index 1, Device-nGnRE

using ArmTable = mm::PageTable<Stage1El2Format>;

constexpr Stage1Attr kRwData{MemType::normal, true, false};
constexpr Stage1Attr kRoCode{MemType::normal, false, true};
constexpr Stage1Attr kRoData{MemType::normal, false, false};
constexpr Stage1Attr kDevice{MemType::device, true, false};

std::optional<u64> arm_raw(ArenaMemory& mem, Pa root, u64 va, unsigned level) {
    u64* t = mem.table(root);
    for (unsigned l = 0; l < level; ++l) {
        const u64 d = t[index_at(va, l)];
        if ((d & 3) != 3) return std::nullopt;
        t = mem.table(Pa(d & kArmOa));
    }
    return t[index_at(va, level)];
}

usize arm_leaf_count(ArenaMemory& mem, u64 table_pa, unsigned level) {
    const u64* t = mem.table(Pa(table_pa));
    usize n = 0;
    for (unsigned i = 0; i < 512; ++i) {
        const u64 d = t[i];
        if ((d & 1) == 0) continue;
        if (level < 3 && (d & 2) != 0)
            n += arm_leaf_count(mem, d & kArmOa, level + 1);
        else
            ++n;
    }
    return n;
}

ArmTable make_arm(ArenaMemory& mem) {
    Result<ArmTable> r = ArmTable::create(mem);
    EXPECT_TRUE(r.ok());
    return r.value();
}

TEST(PageTableStage1, NormalRwXnBlockDescriptor) {
    ArenaMemory mem(16);
    ArmTable pt = make_arm(mem);
    ASSERT_TRUE(pt.map(Va(0x4000'0000), Pa(0x4000'0000), 2 * kMiB, kRwData).ok());
    // Block: bits[1:0] = 0b01, AttrIndx 0 (Normal WB), SH = inner, AF, XN.
    const u64 expected = 0x4000'0000ull | kArmXn | kArmAf | kArmShInner | 0x1;
    EXPECT_EQ(expected, 0x0040'0000'4000'0701ull);
    std::optional<u64> raw = arm_raw(mem, pt.root(), 0x4000'0000, 2);
    ASSERT_TRUE(raw.has_value());
    EXPECT_EQ(*raw, expected) << std::hex << *raw;

    Result<ArmTable::Leaf> leaf = pt.lookup(Va(0x4012'3456));
    ASSERT_TRUE(leaf.ok());
    EXPECT_EQ(leaf.value().level, 2u);
    EXPECT_EQ(leaf.value().pa, Pa(0x4012'3456));
    EXPECT_EQ(leaf.value().attr, kRwData);
}

TEST(PageTableStage1, TableDescriptorsPointAtTheNextTable) {
    ArenaMemory mem(16);
    ArmTable pt = make_arm(mem);
    ASSERT_TRUE(pt.map(Va(0x4000'0000), Pa(0x4000'0000), kPageSize, kRwData).ok());
    ASSERT_EQ(mem.used(), 4u);
    // Table descriptor: bits[1:0] = 0b11, next-level table address in
    // [47:12], nothing else set (no hierarchical attributes).
    for (unsigned level = 0; level < 3; ++level) {
        std::optional<u64> d = arm_raw(mem, pt.root(), 0x4000'0000, level);
        ASSERT_TRUE(d.has_value());
        EXPECT_EQ(*d, mem.pages()[level + 1] | 0x3) << "level " << level << std::hex << " " << *d;
    }
}

TEST(PageTableStage1, ReadOnlyExecutablePageDescriptor) {
    ArenaMemory mem(16);
    ArmTable pt = make_arm(mem);
    ASSERT_TRUE(pt.map(Va(0x4020'0000), Pa(0x4020'0000), kPageSize, kRoCode).ok());
    // Page: bits[1:0] = 0b11, AP[2:1] = 0b10 (read-only), SH inner, AF, no XN.
    std::optional<u64> raw = arm_raw(mem, pt.root(), 0x4020'0000, 3);
    ASSERT_TRUE(raw.has_value());
    EXPECT_EQ(*raw, 0x0000'0000'4020'0783ull) << std::hex << *raw;
    EXPECT_EQ(*raw, 0x4020'0000ull | kArmAf | kArmShInner | kArmApRo | 0x3);
    Result<ArmTable::Leaf> leaf = pt.lookup(Va(0x4020'0010));
    ASSERT_TRUE(leaf.ok());
    EXPECT_EQ(leaf.value().level, 3u);
    EXPECT_EQ(leaf.value().attr, kRoCode);
}

TEST(PageTableStage1, ReadOnlyDataPageIsXn) {
    ArenaMemory mem(16);
    ArmTable pt = make_arm(mem);
    ASSERT_TRUE(pt.map(Va(0x4030'0000), Pa(0x4030'0000), kPageSize, kRoData).ok());
    std::optional<u64> raw = arm_raw(mem, pt.root(), 0x4030'0000, 3);
    ASSERT_TRUE(raw.has_value());
    EXPECT_EQ(*raw, 0x0040'0000'4030'0783ull) << std::hex << *raw;
}

TEST(PageTableStage1, DevicePageDescriptor) {
    ArenaMemory mem(16);
    ArmTable pt = make_arm(mem);
    ASSERT_TRUE(pt.map(Va(0x0900'0000), Pa(0x0900'0000), kPageSize, kDevice).ok());
    // Page, AttrIndx 1 (Device-nGnRE), AF, XN; read/write.
    std::optional<u64> raw = arm_raw(mem, pt.root(), 0x0900'0000, 3);
    ASSERT_TRUE(raw.has_value());
    EXPECT_EQ(*raw & 0x3, 0x3u);
    EXPECT_EQ((*raw >> 2) & 0x7, 1u);
    EXPECT_EQ(*raw, 0x0900'0000ull | kArmXn | kArmAf | kArmAttrDevice | 0x3) << std::hex << *raw;
    EXPECT_EQ(*raw, 0x0040'0000'0900'0407ull);
    Result<ArmTable::Leaf> leaf = pt.lookup(Va(0x0900'0018));
    ASSERT_TRUE(leaf.ok());
    EXPECT_EQ(leaf.value().attr, kDevice);
}

TEST(PageTableStage1, DeviceIsNeverExecutable) {
    // Speculative instruction fetch from Device memory is what XN on
    // device mappings prevents (DDI 0487 B2.7.2); asking for it is ignored.
    ArenaMemory mem(16);
    ArmTable pt = make_arm(mem);
    ASSERT_TRUE(pt.map(Va(0x0900'0000), Pa(0x0900'0000), kPageSize, Stage1Attr{MemType::device, true, true}).ok());
    std::optional<u64> raw = arm_raw(mem, pt.root(), 0x0900'0000, 3);
    ASSERT_TRUE(raw.has_value());
    EXPECT_NE(*raw & kArmXn, 0u);
}

TEST(PageTableStage1, OneGiBBlockAndHighOutputAddress) {
    ArenaMemory mem(16);
    ArmTable pt = make_arm(mem);
    ASSERT_TRUE(pt.map(Va(0x8000'0000), Pa(0x8000'0000), kGiB, kRwData).ok());
    std::optional<u64> raw = arm_raw(mem, pt.root(), 0x8000'0000, 1);
    ASSERT_TRUE(raw.has_value());
    EXPECT_EQ(*raw, 0x0040'0000'8000'0701ull) << std::hex << *raw;

    // The top of a 48-bit output space: OA[47:12] all ones.
    ASSERT_TRUE(pt.map(Va(0x1000), Pa(0xffff'ffff'f000), kPageSize, kRwData).ok());
    raw = arm_raw(mem, pt.root(), 0x1000, 3);
    ASSERT_TRUE(raw.has_value());
    EXPECT_EQ(*raw, 0x0040'ffff'ffff'f703ull) << std::hex << *raw;
    Result<ArmTable::Leaf> leaf = pt.lookup(Va(0x1abc));
    ASSERT_TRUE(leaf.ok());
    EXPECT_EQ(leaf.value().pa, Pa(0xffff'ffff'fabc));
}

TEST(PageTableStage1, MixedRangeLevels) {
    ArenaMemory mem(16);
    ArmTable pt = make_arm(mem);
    ASSERT_TRUE(pt.map(Va(0x401f'f000), Pa(0x401f'f000), 0x4040'1000 - 0x401f'f000, kRwData).ok());
    EXPECT_EQ(arm_leaf_count(mem, pt.root().raw(), 0), 3u);
    std::optional<u64> head = arm_raw(mem, pt.root(), 0x401f'f000, 3);
    std::optional<u64> block = arm_raw(mem, pt.root(), 0x4020'0000, 2);
    std::optional<u64> tail = arm_raw(mem, pt.root(), 0x4040'0000, 3);
    ASSERT_TRUE(head && block && tail);
    EXPECT_EQ(*head, 0x0040'0000'401f'f703ull);
    EXPECT_EQ(*block, 0x0040'0000'4020'0701ull);
    EXPECT_EQ(*tail, 0x0040'0000'4040'0703ull);
}

TEST(PageTableStage1, ConflictingAttributesAreRefused) {
    ArenaMemory mem(16);
    ArmTable pt = make_arm(mem);
    ASSERT_TRUE(pt.map(Va(0x4000'0000), Pa(0x4000'0000), kPageSize, kRwData).ok());
    EXPECT_EQ(pt.map(Va(0x4000'0000), Pa(0x4000'0000), kPageSize, kRoCode).status(), Status::exists);
    EXPECT_TRUE(pt.map(Va(0x4000'0000), Pa(0x4000'0000), kPageSize, kRwData).ok());
    std::optional<u64> raw = arm_raw(mem, pt.root(), 0x4000'0000, 3);
    ASSERT_TRUE(raw.has_value());
    EXPECT_EQ(*raw, 0x0040'0000'4000'0703ull);
}

TEST(PageTableStage1, ExhaustionWritesNoLeaf) {
    ArenaMemory mem(4);
    ArmTable pt = make_arm(mem);
    EXPECT_EQ(pt.map(Va(0x3fff'f000), Pa(0x3fff'f000), 2 * kPageSize, kRwData).status(), Status::no_memory);
    EXPECT_EQ(arm_leaf_count(mem, pt.root().raw(), 0), 0u);
    EXPECT_EQ(pt.lookup(Va(0x3fff'f000)).status(), Status::not_found);
    EXPECT_EQ(pt.lookup(Va(0x4000'0000)).status(), Status::not_found);
}

TEST(PageTableStage1, SplitKeepsEveryDescriptorBitExact) {
    // A Normal RW XN 2 MiB block becomes a level-3 table of pages that say
    // the same (page: bits[1:0] = 0b11 instead of the block's 0b01).
    ArenaMemory mem(16);
    ArmTable pt = make_arm(mem);
    ASSERT_TRUE(pt.map(Va(0x4000'0000), Pa(0x4000'0000), 2 * kMiB, kRwData).ok());
    std::vector<std::pair<u64, unsigned>> inv;
    ASSERT_TRUE(pt.unmap(Va(0x4000'1000), kPageSize, [&](Va base, unsigned level) {
                      inv.emplace_back(base.raw(), level);
                      // Break before make: the block is invalid now.
                      std::optional<u64> d = arm_raw(mem, pt.root(), base.raw(), level);
                      EXPECT_EQ(d, 0u);
                  }).ok());
    EXPECT_EQ(inv, (std::vector<std::pair<u64, unsigned>>{{0x4000'0000, 2}, {0x4000'1000, 3}}));
    std::optional<u64> l2 = arm_raw(mem, pt.root(), 0x4000'0000, 2);
    ASSERT_TRUE(l2.has_value());
    EXPECT_EQ(*l2, mem.pages().back() | 0x3);
    EXPECT_EQ(arm_raw(mem, pt.root(), 0x4000'0000, 3), 0x0040'0000'4000'0703ull);
    EXPECT_EQ(arm_raw(mem, pt.root(), 0x4000'1000, 3), 0u);
    EXPECT_EQ(arm_raw(mem, pt.root(), 0x4000'2000, 3), 0x0040'0000'4000'2703ull);
    EXPECT_EQ(arm_raw(mem, pt.root(), 0x401f'f000, 3), 0x0040'0000'401f'f703ull);
    EXPECT_EQ(arm_leaf_count(mem, pt.root().raw(), 0), 511u);
}

} // namespace
} // namespace setwise
