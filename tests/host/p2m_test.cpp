// p2m: the stage-2 descriptor format, the per-domain P2m over the 40-bit
// guest geometry (level-1 start, two concatenated root tables), its TLB
// maintenance through the fake arch seam, the VMID allocator, and table
// pages from the frame allocator.
//
// Expected descriptors are computed here by hand from DDI 0487 D8.3 and
// D8.5 (stage-2 block and page descriptors, FEAT_S2FWB disabled):
//   [0] valid, [1] table (levels 0-2) / page (level 3), [5:2] MemAttr
//   (0b1111 Normal inner/outer write-back, 0b0001 Device-nGnRE), [7:6] S2AP
//   ([6] read, [7] write), [9:8] SH (0b11 inner shareable), [10] AF,
//   [47:12] output address, [54] XN, [58:55] software: 0b0001 RAM, 0b0010
//   device (setwise's choice, p2m/stage2_format.hpp).
// So RAM RWX = 0x0080_0000_0000_07fd | OA for a block, ...07ff for a page;
// device RW XN = 0x0140_0000_0000_04c7 | OA for a page.
// Tables are walked here with their own index arithmetic: IPA[39] picks the
// root table, IPA[38:30], [29:21], [20:12] index levels 1..3.
#include "p2m/p2m.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "arch/fake/cpu.hpp"
#include "table_test_doubles.hpp"

namespace setwise {

void PrintTo(Status s, std::ostream* os) { *os << status_name(s); }

namespace p2m {
namespace {

using arch::fake::CpuLog;
using arch::fake::CpuOp;
using arch::fake::CpuRecord;
using test_doubles::ArenaMemory;
using test_doubles::LogScope;


constexpr u64 kOa = 0x0000'ffff'ffff'f000ull;
constexpr u64 index_at(u64 ipa, unsigned level) { return (ipa >> (12 + 9 * (3 - level))) & 0x1ff; }

// The raw descriptor at `level` for `ipa` under a 40-bit, level-1 root, or
// nullopt when a table on the way is missing.
std::optional<u64> s2_raw(ArenaMemory& mem, Pa root, u64 ipa, unsigned level) {
    u64* t = mem.table(Pa(root.raw() + ((ipa >> 39) << 12)));
    for (unsigned l = 1; l < level; ++l) {
        const u64 d = t[index_at(ipa, l)];
        if ((d & 3) != 3) return std::nullopt;
        t = mem.table(Pa(d & kOa));
    }
    return t[index_at(ipa, level)];
}

usize s2_leaves(ArenaMemory& mem, u64 table, unsigned level) {
    const u64* t = mem.table(Pa(table));
    usize n = 0;
    for (unsigned i = 0; i < 512; ++i) {
        const u64 d = t[i];
        if ((d & 1) == 0) continue;
        if (level < 3 && (d & 2) != 0)
            n += s2_leaves(mem, d & kOa, level + 1);
        else
            ++n;
    }
    return n;
}

usize s2_leaf_count(ArenaMemory& mem, const P2m& p2m) {
    const u64 root = p2m.vttbr() & kOa;
    return s2_leaves(mem, root, 1) + s2_leaves(mem, root + kPageSize, 1);
}

Stage2Geometry geometry40() {
    Result<Stage2Geometry> g = stage2_geometry(2, 40); // PARange 2: 40-bit PA
    EXPECT_TRUE(g.ok());
    return g.value();
}

P2m make_p2m(ArenaMemory& mem, u16 vmid = 5) {
    Result<P2m> r = P2m::create(mem, vmid, geometry40());
    EXPECT_TRUE(r.ok()) << status_name(r.status());
    return r.ok() ? std::move(r).value() : P2m{};
}

Pa root_of(const P2m& p) { return Pa(p.vttbr() & kOa); }

void expect_translation(const P2m& p, u64 ipa, u64 pa, MappingType type, unsigned level) {
    SCOPED_TRACE(testing::Message() << "ipa " << std::hex << ipa);
    Result<Translation> t = p.translate(Ipa(ipa));
    ASSERT_TRUE(t.ok()) << status_name(t.status());
    EXPECT_EQ(t.value().pa, Pa(pa));
    EXPECT_EQ(t.value().type, type);
    EXPECT_EQ(t.value().level, level);
}

// ------------------------------------------------------------------ format

static_assert(mm::TableFormat<Stage2Format>);

constexpr Stage2Attr kRam{MappingType::ram, true, true, true};
constexpr Stage2Attr kDev{MappingType::device, true, true, false};

TEST(Stage2Format, RamDescriptors) {
    // Page: V|T = 0x3, MemAttr 0b1111 << 2 = 0x3c, S2AP 0b11 << 6 = 0xc0,
    // SH 0b11 << 8 = 0x300, AF 0x400: 0x7ff; SW 0b0001 << 55; XN clear.
    EXPECT_EQ(Stage2Format::make_leaf(Pa(0x4020'0000), 3, kRam), 0x0080'0000'4020'07ffull);
    // Blocks: bits[1:0] = 0b01.
    EXPECT_EQ(Stage2Format::make_leaf(Pa(0x4020'0000), 2, kRam), 0x0080'0000'4020'07fdull);
    EXPECT_EQ(Stage2Format::make_leaf(Pa(0x4000'0000), 1, kRam), 0x0080'0000'4000'07fdull);
    // The top of a 48-bit output.
    EXPECT_EQ(Stage2Format::make_leaf(Pa(0xffff'ffff'f000), 3, kRam), 0x0080'ffff'ffff'f7ffull);
}

TEST(Stage2Format, DeviceDescriptors) {
    // Page: V|T 0x3, MemAttr 0b0001 << 2 = 0x4, S2AP RW 0xc0, SH 0, AF 0x400:
    // 0x4c7; XN 1 << 54 and SW 0b0010 << 55 = 1 << 56: 0x0140 in the top half.
    EXPECT_EQ(Stage2Format::make_leaf(Pa(0x0900'0000), 3, kDev), 0x0140'0000'0900'04c7ull);
    EXPECT_EQ(Stage2Format::make_leaf(Pa(0x0800'0000), 2, kDev), 0x0140'0000'0800'04c5ull);
    // Executable device memory is never made.
    EXPECT_EQ(Stage2Format::make_leaf(Pa(0x0900'0000), 3, Stage2Attr{MappingType::device, true, true, true}),
              0x0140'0000'0900'04c7ull);
}

TEST(Stage2Format, PermissionEncodings) {
    // Read-only, not executable RAM: S2AP 0b01 (0x40), XN: 0x00c0... | 0x77f.
    EXPECT_EQ(Stage2Format::make_leaf(Pa(0x1000), 3, Stage2Attr{MappingType::ram, true, false, false}),
              0x00c0'0000'0000'177full);
    // Write-only: S2AP 0b10 (0x80): 0x7bf.
    EXPECT_EQ(Stage2Format::make_leaf(Pa(0x1000), 3, Stage2Attr{MappingType::ram, false, true, true}),
              0x0080'0000'0000'17bfull);
    // No access: S2AP 0b00: 0x73f.
    EXPECT_EQ(Stage2Format::make_leaf(Pa(0x1000), 3, Stage2Attr{MappingType::ram, false, false, true}),
              0x0080'0000'0000'173full);
}

TEST(Stage2Format, TablesAndDecoding) {
    EXPECT_EQ(Stage2Format::make_table(Pa(0x1234'5000)), 0x1234'5003ull);
    EXPECT_TRUE(Stage2Format::is_table(0x1234'5003ull, 2));
    EXPECT_FALSE(Stage2Format::is_table(0x0080'0000'4020'07ffull, 3)); // a page
    EXPECT_FALSE(Stage2Format::is_table(0x0080'0000'4020'07fdull, 2)); // a block
    EXPECT_FALSE(Stage2Format::is_valid(0x0080'0000'4020'07fe));
    EXPECT_EQ(Stage2Format::output_address(0x0140'0000'0900'04c7ull), Pa(0x0900'0000));
    EXPECT_EQ(Stage2Format::output_address(0x00c0'ffff'ffff'f77full), Pa(0xffff'ffff'f000));
    EXPECT_EQ(Stage2Format::leaf_attr(0x0140'0000'0900'04c7ull), kDev);
    EXPECT_EQ(Stage2Format::leaf_attr(0x0080'0000'4020'07ffull), kRam);
    EXPECT_EQ(Stage2Format::leaf_attr(0x00c0'0000'0000'177full), (Stage2Attr{MappingType::ram, true, false, false}));
    // Every attribute survives a re-encoding (what a block split relies on).
    for (int bits = 0; bits < 16; ++bits) {
        const Stage2Attr a{(bits & 8) ? MappingType::device : MappingType::ram, (bits & 1) != 0, (bits & 2) != 0,
                           (bits & 4) != 0};
        for (unsigned level = 1; level <= 3; ++level) {
            const u64 d = Stage2Format::make_leaf(Pa(0x8000'0000), level, a);
            EXPECT_EQ(Stage2Format::make_leaf(Stage2Format::output_address(d), level, Stage2Format::leaf_attr(d)), d);
        }
    }
}

TEST(Stage2Format, DefaultGeometryIsTheGuests) {
    // 40-bit IPA at level 1: two root tables, as VTCR_EL2 for guests says.
    const Stage2Geometry g = geometry40();
    EXPECT_EQ(Stage2Format::kStartLevel, g.start_level);
    EXPECT_EQ(Stage2Format::kInputBits, g.ipa_bits);
    EXPECT_EQ(P2m::Table::kDefaultGeometry.root_tables(), g.root_tables);
}

// ----------------------------------------------------------------- VTTBR

TEST(VttbrEl2, Layout) {
    // VMID [55:48], BADDR [47:1], CnP [0] (DDI 0487 D19.2, VTTBR_EL2).
    const VttbrEl2 v = VttbrEl2{}.with<VttbrEl2::vmid>(0xab).with<VttbrEl2::baddr>(0x12'3456'7000ull >> 1);
    EXPECT_EQ(v.raw(), 0x00ab'0012'3456'7000ull);
    EXPECT_EQ(VttbrEl2{}.with<VttbrEl2::vmid>(0x1ff).raw(), 0x00ff'0000'0000'0000ull); // 8 bits only
    EXPECT_EQ(VttbrEl2{}.with<VttbrEl2::cnp>(1).raw(), 1ull);
}

// ------------------------------------------------------------------- P2m

TEST(P2mCreate, RefusesBadVmidsAndGeometries) {
    ArenaMemory mem(16);
    EXPECT_EQ(P2m::create(mem, 0, geometry40()).status(), Status::invalid_argument);
    EXPECT_EQ(P2m::create(mem, 256, geometry40()).status(), Status::invalid_argument);
    Stage2Geometry bad = geometry40();
    bad.root_tables = 1; // 40 bits at level 1 need two
    EXPECT_EQ(P2m::create(mem, 1, bad).status(), Status::invalid_argument);
    bad = geometry40();
    bad.ipa_bits = 44; // 32 level-1 tables
    bad.root_tables = 32;
    EXPECT_EQ(P2m::create(mem, 1, bad).status(), Status::invalid_argument);
    EXPECT_EQ(mem.used(), 0u);

    ArenaMemory one(1);
    EXPECT_EQ(P2m::create(one, 1, geometry40()).status(), Status::no_memory);
}

TEST(P2mCreate, VttbrVtcrAndRoots) {
    ArenaMemory mem(16);
    P2m p = make_p2m(mem, 5);
    ASSERT_TRUE(p.live());
    EXPECT_EQ(p.vmid(), 5u);
    EXPECT_EQ(p.vtcr().raw(), 0x8002'3558ull); // p2m/vtcr: 40-bit IPA, PARange 2
    EXPECT_EQ(mem.used(), 2u);
    EXPECT_EQ(p.table_pages(), 2u);
    const u64 root = p.vttbr() & kOa;
    EXPECT_TRUE(mem.owns(root));
    EXPECT_TRUE(mem.owns(root + kPageSize));
    EXPECT_EQ(root % (2 * kPageSize), 0u); // BADDR aligned to both root tables
    EXPECT_EQ(p.vttbr(), (u64{5} << 48) | root);
    EXPECT_EQ(p.vttbr() & 1, 0u); // CnP
    // The largest VMID.
    P2m q = make_p2m(mem, 255);
    EXPECT_EQ(q.vttbr() >> 48, 0xffu);
}

TEST(P2mCreate, MoveLeavesTheSourceEmpty) {
    ArenaMemory mem(16);
    P2m a = make_p2m(mem);
    ASSERT_TRUE(a.map_ram(Ipa(0x4000'0000), Pa(0x4000'0000), kGiB).ok());
    const u64 vttbr = a.vttbr();
    P2m b = std::move(a);
    EXPECT_FALSE(a.live());
    EXPECT_EQ(a.table_pages(), 0u);
    EXPECT_EQ(a.translate(Ipa(0x4000'0000)).status(), Status::not_found);
    EXPECT_EQ(a.map_ram(Ipa(0), Pa(0), kPageSize).status(), Status::invalid_argument);
    EXPECT_TRUE(b.live());
    EXPECT_EQ(b.vttbr(), vttbr);
    expect_translation(b, 0x4000'0000, 0x4000'0000, MappingType::ram, 1);
}

TEST(P2mMap, GiBBlocksInBothRootTables) {
    ArenaMemory mem(16);
    P2m p = make_p2m(mem);
    ASSERT_TRUE(p.map_ram(Ipa(0x4000'0000), Pa(0x4000'0000), kGiB).ok());
    ASSERT_TRUE(p.map_ram(Ipa(0x80'0000'0000), Pa(0x1'0000'0000), kGiB).ok());
    EXPECT_EQ(p.table_pages(), 2u); // level-1 blocks sit in the roots
    const u64* t0 = mem.table(root_of(p));
    const u64* t1 = mem.table(root_of(p) + kPageSize);
    EXPECT_EQ(t0[1], 0x0080'0000'4000'07fdull);
    // IPA 0x80_0000_0000: IPA[39] = 1 -> second root table, entry 0.
    EXPECT_EQ(t1[0], 0x0080'0001'0000'07fdull);
    EXPECT_EQ(t0[0], 0u);
    expect_translation(p, 0x80'0000'1234, 0x1'0000'1234, MappingType::ram, 1);
    expect_translation(p, 0x7fff'ffff, 0x7fff'ffff, MappingType::ram, 1);
    EXPECT_EQ(p.translate(Ipa(0)).status(), Status::not_found);
    EXPECT_EQ(p.translate(Ipa(0x80'4000'0000)).status(), Status::not_found);
}

TEST(P2mMap, BlockSelectionFollowsAlignment) {
    ArenaMemory mem(64);
    P2m p = make_p2m(mem);
    // PA only 2 MiB aligned: 2 MiB blocks.
    ASSERT_TRUE(p.map_ram(Ipa(0x4000'0000), Pa(0x8020'0000), kGiB).ok());
    expect_translation(p, 0x4000'0000, 0x8020'0000, MappingType::ram, 2);
    expect_translation(p, 0x7fff'f000, 0xc01f'f000, MappingType::ram, 2);
    EXPECT_EQ(s2_raw(mem, root_of(p), 0x4000'0000, 2), 0x0080'0000'8020'07fdull);
    // PA only 4 KiB aligned: pages.
    ASSERT_TRUE(p.map_ram(Ipa(0x1'0000'0000), Pa(0x9000'1000), 2 * kMiB).ok());
    expect_translation(p, 0x1'0000'0000, 0x9000'1000, MappingType::ram, 3);
    EXPECT_EQ(s2_raw(mem, root_of(p), 0x1'0000'0000, 3), 0x0080'0000'9000'17ffull);
    EXPECT_EQ(s2_raw(mem, root_of(p), 0x1'001f'f000, 3), 0x0080'0000'9020'07ffull);
    // Both aligned, mixed: two pages, a GiB, a 2 MiB block.
    ASSERT_TRUE(p.map_ram(Ipa(0x2'3fff'e000), Pa(0x2'3fff'e000), 0x2'8020'0000 - 0x2'3fff'e000).ok());
    expect_translation(p, 0x2'3fff'e000, 0x2'3fff'e000, MappingType::ram, 3);
    expect_translation(p, 0x2'4000'0000, 0x2'4000'0000, MappingType::ram, 1);
    expect_translation(p, 0x2'8000'0000, 0x2'8000'0000, MappingType::ram, 2);
    EXPECT_EQ(p.translate(Ipa(0x2'8020'0000)).status(), Status::not_found);
    EXPECT_EQ(p.table_pages(), mem.used());
}

TEST(P2mMap, ForcedPages) {
    ArenaMemory mem(16);
    P2m p = make_p2m(mem);
    ASSERT_TRUE(p.map_ram(Ipa(0x4000'0000), Pa(0x4000'0000), 2 * kMiB, Granule::page).ok());
    EXPECT_EQ(s2_leaf_count(mem, p), 512u);
    expect_translation(p, 0x4000'0000, 0x4000'0000, MappingType::ram, 3);
    expect_translation(p, 0x401f'f000, 0x401f'f000, MappingType::ram, 3);
    EXPECT_EQ(s2_raw(mem, root_of(p), 0x4000'0000, 3), 0x0080'0000'4000'07ffull);
    EXPECT_EQ(s2_raw(mem, root_of(p), 0x401f'f000, 3), 0x0080'0000'401f'f7ffull);
    EXPECT_EQ(p.table_pages(), 4u); // two roots, a level 2, a level 3
}

TEST(P2mMap, Device) {
    ArenaMemory mem(16);
    P2m p = make_p2m(mem);
    ASSERT_TRUE(p.map_device(Ipa(0x0900'0000), Pa(0x0900'0000), kPageSize).ok());
    EXPECT_EQ(s2_raw(mem, root_of(p), 0x0900'0000, 3), 0x0140'0000'0900'04c7ull);
    expect_translation(p, 0x0900'0018, 0x0900'0018, MappingType::device, 3);
    // A 2 MiB aligned device region gets a block too.
    ASSERT_TRUE(p.map_device(Ipa(0x0820'0000), Pa(0x1'0820'0000), 2 * kMiB).ok());
    EXPECT_EQ(s2_raw(mem, root_of(p), 0x0820'0000, 2), 0x0140'0001'0820'04c5ull);
    expect_translation(p, 0x0830'0000, 0x1'0830'0000, MappingType::device, 2);
}

TEST(P2mMap, ConflictsAndErrors) {
    ArenaMemory mem(16);
    P2m p = make_p2m(mem);
    ASSERT_TRUE(p.map_ram(Ipa(0x4000'0000), Pa(0x4000'0000), 2 * kMiB).ok());
    EXPECT_TRUE(p.map_ram(Ipa(0x4000'0000), Pa(0x4000'0000), 2 * kMiB).ok()); // same again
    EXPECT_EQ(p.map_device(Ipa(0x4000'0000), Pa(0x4000'0000), 2 * kMiB).status(), Status::exists);
    EXPECT_EQ(p.map_ram(Ipa(0x4000'0000), Pa(0x5000'0000), 2 * kMiB).status(), Status::exists);
    EXPECT_EQ(p.map_ram(Ipa(0x4000'1000), Pa(0x4000'1000), kPageSize, Granule::page).status(), Status::exists);
    EXPECT_EQ(p.map_ram(Ipa(0x4000'0800), Pa(0x4000'0000), kPageSize).status(), Status::invalid_argument);
    EXPECT_EQ(p.map_ram(Ipa(0x5000'0000), Pa(0x4000'0000), 0).status(), Status::invalid_argument);
    EXPECT_EQ(p.map_ram(Ipa(0x100'0000'0000), Pa(0), kPageSize).status(), Status::out_of_range);
    EXPECT_EQ(p.map_device(Ipa(0xff'ffff'f000), Pa(0), 2 * kPageSize).status(), Status::out_of_range);
    EXPECT_EQ(p.translate(Ipa(0x100'0000'0000)).status(), Status::not_found);
    expect_translation(p, 0x4000'0000, 0x4000'0000, MappingType::ram, 2);
    EXPECT_EQ(s2_raw(mem, root_of(p), 0x4000'0000, 2), 0x0080'0000'4000'07fdull);
}

TEST(P2mMap, ExhaustionInPrepareWritesNoLeaf) {
    // A page needs a level-2 and a level-3 table; only one is left.
    ArenaMemory mem(3);
    P2m p = make_p2m(mem);
    EXPECT_EQ(p.map_ram(Ipa(0x4000'0000), Pa(0x4000'0000), kPageSize).status(), Status::no_memory);
    EXPECT_EQ(p.translate(Ipa(0x4000'0000)).status(), Status::not_found);
    EXPECT_EQ(s2_leaf_count(mem, p), 0u);
    // What is left is one empty level-2 table linked from root table 0.
    const u64* t0 = mem.table(root_of(p));
    EXPECT_EQ(t0[1] & 3, 3u);
    const u64* l2 = mem.table(Pa(t0[1] & kOa));
    EXPECT_TRUE(std::all_of(l2, l2 + 512, [](u64 d) { return d == 0; }));
    EXPECT_EQ(p.table_pages(), 3u);

    mem.set_budget(4);
    ASSERT_TRUE(p.map_ram(Ipa(0x4000'0000), Pa(0x4000'0000), kPageSize).ok());
    expect_translation(p, 0x4000'0000, 0x4000'0000, MappingType::ram, 3);
}

TEST(P2mUnmap, WholeBlockInvalidatesAndFreesTheTable) {
    ArenaMemory mem(16);
    LogScope log;
    P2m p = make_p2m(mem, 7);
    ASSERT_TRUE(p.map_ram(Ipa(0x4020'0000), Pa(0x8020'0000), 2 * kMiB).ok());
    // Mapping invalid entries needs no TLB maintenance, only the barrier
    // that makes them visible to walks.
    EXPECT_TRUE(log.stage2().empty());
    ASSERT_EQ(log.log().count(), 1u);
    EXPECT_EQ(log.log().at(0).op, CpuOp::page_table_sync);
    ASSERT_EQ(p.table_pages(), 3u);
    log.log().clear();
    ASSERT_TRUE(p.unmap(Ipa(0x4020'0000), 2 * kMiB).ok());
    ASSERT_EQ(log.log().count(), 3u);
    EXPECT_EQ(log.log().at(2).op, CpuOp::page_table_sync); // after the invalidations
    const std::vector<CpuRecord> r = log.stage2();
    ASSERT_EQ(r.size(), 2u);
    // The block, then the level-2 table's entry in root table 0.
    EXPECT_EQ(r[0].op, CpuOp::stage2_tlb_invalidate_ipa);
    EXPECT_EQ(r[0].vttbr, p.vttbr());
    EXPECT_EQ(r[0].vttbr >> 48, 7u);
    EXPECT_EQ(r[0].ipa, Ipa(0x4020'0000));
    EXPECT_EQ(r[0].level, 2u);
    EXPECT_EQ(r[1].op, CpuOp::stage2_tlb_invalidate_ipa);
    EXPECT_EQ(r[1].ipa, Ipa(0x4000'0000));
    EXPECT_EQ(r[1].level, 1u);
    EXPECT_EQ(p.table_pages(), 2u);
    EXPECT_EQ(mem.used(), 2u);
    EXPECT_EQ(mem.table(root_of(p))[1], 0u);
    EXPECT_EQ(p.translate(Ipa(0x4020'0000)).status(), Status::not_found);
}

TEST(P2mUnmap, PageInsideABlockBreakBeforeMake) {
    ArenaMemory mem(16);
    LogScope log;
    P2m p = make_p2m(mem);
    ASSERT_TRUE(p.map_ram(Ipa(0x4020'0000), Pa(0x8020'0000), 2 * kMiB).ok());
    // At each invalidation, what does the entry it names hold?
    std::vector<std::optional<u64>> at_tlbi;
    log.observe([&](const CpuRecord& r) {
        if (r.op == CpuOp::stage2_tlb_invalidate_ipa) at_tlbi.push_back(s2_raw(mem, root_of(p), r.ipa.raw(), r.level));
    });
    ASSERT_TRUE(p.unmap(Ipa(0x4030'0000), kPageSize).ok());
    const std::vector<CpuRecord> r = log.stage2();
    ASSERT_EQ(r.size(), 2u);
    // Break: the block is invalid when the TLBs are told; make: a table
    // after; then the page.
    EXPECT_EQ(r[0].ipa, Ipa(0x4020'0000));
    EXPECT_EQ(r[0].level, 2u);
    EXPECT_EQ(r[1].ipa, Ipa(0x4030'0000));
    EXPECT_EQ(r[1].level, 3u);
    ASSERT_EQ(at_tlbi.size(), 2u);
    EXPECT_EQ(at_tlbi[0], 0u);
    EXPECT_EQ(at_tlbi[1], 0u);
    std::optional<u64> l2 = s2_raw(mem, root_of(p), 0x4020'0000, 2);
    ASSERT_TRUE(l2.has_value());
    EXPECT_EQ(*l2 & ~kOa, 0x3u);
    EXPECT_TRUE(mem.owns(*l2 & kOa));
    // The split pages say what the block said.
    EXPECT_EQ(s2_raw(mem, root_of(p), 0x4020'0000, 3), 0x0080'0000'8020'07ffull);
    EXPECT_EQ(s2_raw(mem, root_of(p), 0x4030'1000, 3), 0x0080'0000'8030'17ffull);
    EXPECT_EQ(s2_raw(mem, root_of(p), 0x4030'0000, 3), 0u);
    EXPECT_EQ(s2_leaf_count(mem, p), 511u);
    expect_translation(p, 0x402f'f000, 0x802f'f000, MappingType::ram, 3);
    EXPECT_EQ(p.translate(Ipa(0x4030'0000)).status(), Status::not_found);
    EXPECT_EQ(p.table_pages(), 4u);
}

TEST(P2mUnmap, PageInsideAGiBBlockOfTheSecondRoot) {
    ArenaMemory mem(16);
    LogScope log;
    P2m p = make_p2m(mem);
    ASSERT_TRUE(p.map_ram(Ipa(0x80'4000'0000), Pa(0x4000'0000), kGiB).ok());
    ASSERT_TRUE(p.unmap(Ipa(0x80'5000'0000), kPageSize).ok());
    const std::vector<CpuRecord> r = log.stage2();
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(r[0].ipa, Ipa(0x80'4000'0000));
    EXPECT_EQ(r[0].level, 1u);
    EXPECT_EQ(r[1].ipa, Ipa(0x80'5000'0000));
    EXPECT_EQ(r[1].level, 2u);
    EXPECT_EQ(r[2].ipa, Ipa(0x80'5000'0000));
    EXPECT_EQ(r[2].level, 3u);
    expect_translation(p, 0x80'4000'0000, 0x4000'0000, MappingType::ram, 2);
    expect_translation(p, 0x80'5000'1000, 0x5000'1000, MappingType::ram, 3);
    EXPECT_EQ(p.translate(Ipa(0x80'5000'0000)).status(), Status::not_found);
    EXPECT_EQ(s2_leaf_count(mem, p), 511u + 511u);
    // Root table 1, entry 1 is now a table.
    EXPECT_EQ(mem.table(root_of(p) + kPageSize)[1] & 3, 3u);
}

TEST(P2mUnmap, RangeSpanningTablesAndRootTables) {
    ArenaMemory mem(16);
    LogScope log;
    P2m p = make_p2m(mem);
    ASSERT_TRUE(p.map_ram(Ipa(0x7f'ffff'e000), Pa(0x4000'0000), 4 * kPageSize, Granule::page).ok());
    ASSERT_EQ(p.table_pages(), 6u);
    ASSERT_TRUE(p.unmap(Ipa(0x7f'ffff'e000), 4 * kPageSize).ok());
    const std::vector<CpuRecord> r = log.stage2();
    const std::vector<std::pair<u64, unsigned>> expected = {
        {0x7f'ffff'e000, 3}, {0x7f'ffff'f000, 3}, {0x7f'ffe0'0000, 2}, {0x7f'c000'0000, 1},
        {0x80'0000'0000, 3}, {0x80'0000'1000, 3}, {0x80'0000'0000, 2}, {0x80'0000'0000, 1}};
    ASSERT_EQ(r.size(), expected.size());
    for (usize i = 0; i < r.size(); ++i) {
        EXPECT_EQ(r[i].op, CpuOp::stage2_tlb_invalidate_ipa);
        EXPECT_EQ(r[i].ipa, Ipa(expected[i].first)) << i;
        EXPECT_EQ(r[i].level, expected[i].second) << i;
    }
    EXPECT_EQ(p.table_pages(), 2u);
    EXPECT_EQ(mem.used(), 2u);
    EXPECT_EQ(s2_leaf_count(mem, p), 0u);
}

TEST(P2mUnmap, ExhaustionBeforeTheSplitChangesNothing) {
    ArenaMemory mem(3);
    LogScope log;
    P2m p = make_p2m(mem);
    ASSERT_TRUE(p.map_ram(Ipa(0x4000'0000), Pa(0x4000'0000), kGiB).ok());
    EXPECT_EQ(p.unmap(Ipa(0x4000'1000), kPageSize).status(), Status::no_memory);
    EXPECT_TRUE(log.stage2().empty());
    EXPECT_EQ(mem.table(root_of(p))[1], 0x0080'0000'4000'07fdull);
    EXPECT_EQ(mem.used(), 2u);
    expect_translation(p, 0x4000'1000, 0x4000'1000, MappingType::ram, 1);
    EXPECT_EQ(p.unmap(Ipa(0x4000'0800), kPageSize).status(), Status::invalid_argument);
    EXPECT_EQ(p.unmap(Ipa(0xff'ffff'f000), 2 * kPageSize).status(), Status::out_of_range);
}

TEST(P2mDestroy, InvalidatesTheVmidThenFreesEverything) {
    ArenaMemory mem(64);
    LogScope log;
    P2m p = make_p2m(mem, 9);
    ASSERT_TRUE(p.map_ram(Ipa(0x4000'0000), Pa(0x4000'0000), 0x4060'3000 - 0x4000'0000).ok());
    ASSERT_TRUE(p.map_ram(Ipa(0x80'0000'0000), Pa(0x1'0000'1000), 8 * kPageSize, Granule::page).ok());
    ASSERT_TRUE(p.map_device(Ipa(0x0900'0000), Pa(0x0900'0000), kPageSize).ok());
    const usize before = mem.used();
    ASSERT_EQ(p.table_pages(), before);
    const u64 vttbr = p.vttbr();
    std::optional<usize> used_at_tlbi;
    log.observe([&](const CpuRecord& r) {
        if (r.op == CpuOp::stage2_tlb_invalidate_vmid) used_at_tlbi = mem.used();
    });
    p.destroy();
    const std::vector<CpuRecord> r = log.stage2();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].op, CpuOp::stage2_tlb_invalidate_vmid);
    EXPECT_EQ(r[0].vttbr, vttbr);
    EXPECT_EQ(used_at_tlbi, before); // nothing freed before the TLBs forgot it
    EXPECT_EQ(mem.used(), 0u);
    EXPECT_EQ(p.table_pages(), 0u);
    EXPECT_FALSE(p.live());
    EXPECT_EQ(p.map_ram(Ipa(0x4000'0000), Pa(0x4000'0000), kPageSize).status(), Status::invalid_argument);
    EXPECT_EQ(p.unmap(Ipa(0x4000'0000), kPageSize).status(), Status::invalid_argument);
    EXPECT_EQ(p.translate(Ipa(0x4000'0000)).status(), Status::not_found);
    p.destroy(); // harmless, and no second invalidation
    EXPECT_EQ(log.stage2().size(), 1u);
}

// ------------------------------------------------------------------ VMIDs

TEST(VmidAllocator, HandsOutOneToTwoFiftyFiveThenRunsOut) {
    VmidAllocator vmids;
    EXPECT_EQ(vmids.in_use(), 0u);
    for (u16 v = 1; v <= 255; ++v) {
        Result<u16> r = vmids.allocate();
        ASSERT_TRUE(r.ok()) << v;
        EXPECT_EQ(r.value(), v);
    }
    EXPECT_EQ(vmids.in_use(), 255u);
    EXPECT_EQ(vmids.allocate().status(), Status::no_memory);
}

TEST(VmidAllocator, ReusesFreedVmids) {
    VmidAllocator vmids;
    for (int i = 0; i < 255; ++i) ASSERT_TRUE(vmids.allocate().ok());
    ASSERT_TRUE(vmids.free(200).ok());
    ASSERT_TRUE(vmids.free(7).ok());
    EXPECT_EQ(vmids.in_use(), 253u);
    EXPECT_EQ(vmids.allocate().value_or(0), 7u); // lowest first
    EXPECT_EQ(vmids.allocate().value_or(0), 200u);
    EXPECT_EQ(vmids.allocate().status(), Status::no_memory);
}

TEST(VmidAllocator, RefusesBadFrees) {
    VmidAllocator vmids;
    EXPECT_EQ(vmids.free(0).status(), Status::invalid_argument); // the hypervisor's
    EXPECT_EQ(vmids.free(256).status(), Status::invalid_argument);
    EXPECT_EQ(vmids.free(3).status(), Status::not_found);
    ASSERT_EQ(vmids.allocate().value_or(0), 1u);
    ASSERT_TRUE(vmids.free(1).ok());
    EXPECT_EQ(vmids.free(1).status(), Status::not_found); // twice
    EXPECT_EQ(vmids.in_use(), 0u);
}

// ------------------------------------------------- frames as table pages

// Host memory standing in for the physical window [base, base + size).
class FakeRam {
public:
    FakeRam(u64 base, u64 size) : base_(base), size_(size) {
        void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        EXPECT_NE(p, MAP_FAILED);
        mem_ = static_cast<u8*>(p);
    }
    ~FakeRam() { munmap(mem_, size_); }
    FakeRam(const FakeRam&) = delete;
    FakeRam& operator=(const FakeRam&) = delete;
    void* map(Pa pa, u64 bytes) const {
        if (pa.raw() < base_ || pa.raw() - base_ > size_ || bytes > size_ - (pa.raw() - base_)) return nullptr;
        return mem_ + (pa.raw() - base_);
    }
    mm::PhysToVirt phys_to_virt() const {
        return mm::PhysToVirt(
            [](const void* c, Pa pa, u64 bytes) { return static_cast<const FakeRam*>(c)->map(pa, bytes); }, this);
    }

private:
    u64 base_;
    u64 size_;
    u8* mem_ = nullptr;
};

constexpr u64 kRamBase = 0x4000'0000;
constexpr u64 kRamSize = 64 * kMiB;

mm::FrameAllocator* make_frames(const FakeRam& ram) {
    const PaRange banks[] = {{Pa(kRamBase), kRamSize}};
    Result<mm::FrameAllocator*> r = mm::FrameAllocator::create(banks, {}, ram.phys_to_virt());
    EXPECT_TRUE(r.ok());
    return r.ok() ? r.value() : nullptr;
}

TEST(FrameTableMemory, AlignedZeroedRunsAndFrees) {
    FakeRam ram(kRamBase, kRamSize);
    mm::FrameAllocator* frames = make_frames(ram);
    ASSERT_NE(frames, nullptr);
    const u64 free0 = frames->free_frames();
    FrameTableMemory mem(*frames, ram.phys_to_virt());
    // Dirty a frame first, so zeroing is observable: take one, scribble,
    // give it back; first fit hands it out again.
    Result<Pa> scratch = frames->allocate(2, 2);
    ASSERT_TRUE(scratch.ok());
    std::memset(ram.map(scratch.value(), 2 * kPageSize), 0xa5, 2 * kPageSize);
    ASSERT_TRUE(frames->free(scratch.value(), 2).ok());

    Result<Pa> two = mem.allocate_tables(2);
    ASSERT_TRUE(two.ok());
    EXPECT_EQ(two.value(), scratch.value());
    EXPECT_EQ(two.value().raw() % (2 * kPageSize), 0u);
    const u64* t = mem.table(two.value());
    EXPECT_TRUE(std::all_of(t, t + 1024, [](u64 d) { return d == 0; }));
    EXPECT_EQ(mem.pages_held(), 2u);
    Result<Pa> eight = mem.allocate_tables(8);
    ASSERT_TRUE(eight.ok());
    EXPECT_EQ(eight.value().raw() % (8 * kPageSize), 0u);
    EXPECT_EQ(mem.pages_held(), 10u);
    EXPECT_EQ(mem.allocate_tables(3).status(), Status::invalid_argument);
    EXPECT_EQ(mem.allocate_tables(0).status(), Status::invalid_argument);
    EXPECT_EQ(mem.allocate_tables(32).status(), Status::invalid_argument);

    mem.free_tables(two.value(), 2);
    mem.free_tables(eight.value(), 8);
    EXPECT_EQ(mem.pages_held(), 0u);
    EXPECT_EQ(frames->free_frames(), free0);
    EXPECT_EQ(mem.refused_frees(), 0u);
    mem.free_table(two.value()); // a double free is refused and counted
    EXPECT_EQ(mem.refused_frees(), 1u);
    EXPECT_EQ(frames->free_frames(), free0);
}

TEST(FrameTableMemory, AP2mGivesBackEveryFrame) {
    FakeRam ram(kRamBase, kRamSize);
    mm::FrameAllocator* frames = make_frames(ram);
    ASSERT_NE(frames, nullptr);
    const u64 free0 = frames->free_frames();
    FrameTableMemory mem(*frames, ram.phys_to_virt());
    Result<P2m> r = P2m::create(mem, 1, geometry40());
    ASSERT_TRUE(r.ok());
    P2m p = std::move(r).value();
    EXPECT_EQ(p.vttbr() & kOa, kRamBase); // first fit, 8 KiB aligned
    ASSERT_TRUE(p.map_ram(Ipa(0x4000'0000), Pa(0x8000'0000), 4 * kMiB, Granule::page).ok());
    ASSERT_TRUE(p.map_ram(Ipa(0x80'0000'0000), Pa(0x1'0000'0000), kGiB).ok());
    expect_translation(p, 0x4012'3456, 0x8012'3456, MappingType::ram, 3);
    EXPECT_EQ(mem.pages_held(), p.table_pages());
    EXPECT_EQ(frames->free_frames(), free0 - p.table_pages());
    ASSERT_TRUE(p.unmap(Ipa(0x4000'0000), 2 * kMiB).ok());
    EXPECT_EQ(mem.pages_held(), p.table_pages());
    p.destroy();
    EXPECT_EQ(mem.pages_held(), 0u);
    EXPECT_EQ(mem.refused_frees(), 0u);
    EXPECT_EQ(frames->free_frames(), free0);
}

} // namespace
} // namespace p2m
} // namespace setwise
