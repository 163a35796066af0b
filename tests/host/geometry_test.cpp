// cache/geometry: CLIDR/CCSIDR decoding and the number of set/way
// operations a guest's clean-all loop issues. Figures from hardware-facts.md
// (QEMU 7.2); CCSIDR values built by hand from the layout without FEAT_CCIDX
// (DDI 0487 D19.2.25): LineSize [2:0] = log2(bytes) - 4, Associativity
// [12:3] = ways - 1, NumSets [27:13] = sets - 1. CLIDR (D19.2.27): Ctype<n>
// at [3n-1:3n-3], LoC [26:24].
#include "cache/geometry.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace setwise::cache {
namespace {

using arm64::CcsidrEl1;
using arm64::ClidrEl1;

constexpr u64 ccsidr(u64 sets, u64 ways, u64 line_log2) {
    return ((sets - 1) << 13) | ((ways - 1) << 3) | (line_log2 - 4);
}

static_assert(ccsidr(256, 2, 6) == 0x1f'e00a);   // QEMU cortex-a57 L1D without the [31:28] flags
static_assert(ccsidr(2048, 16, 6) == 0xff'e07a); // QEMU cortex-a57 L2

// A fake CSSELR/CCSIDR pair: the CCSIDR per level, and which levels were asked.
struct CcsidrTable {
    std::map<unsigned, u64> by_level;
    std::vector<unsigned> asked;
    CcsidrEl1 operator()(unsigned level) {
        asked.push_back(level);
        auto it = by_level.find(level);
        if (it == by_level.end()) {
            ADD_FAILURE() << "CCSIDR asked for level " << level << " which has no data cache";
            return CcsidrEl1(0);
        }
        return CcsidrEl1(it->second);
    }
};

constexpr u64 kClidrQemu = 0x0a20'0023; // L1 I+D, L2 unified, LoC 2 (hardware-facts)

TEST(Geometry, CortexA57) {
    // QEMU's own CCSIDRs, with the WT/WB/RA/WA flags in [31:28].
    CcsidrTable t{{{1, 0x701f'e00a}, {2, 0x70ff'e07a}}, {}};
    const Geometry g = decode_geometry(ClidrEl1(kClidrQemu), t);
    ASSERT_EQ(g.count, 2u);
    EXPECT_EQ(g.loc, 2u);
    EXPECT_EQ(g.levels[0].level, 1u);
    EXPECT_EQ(g.levels[0].type, CacheType::separate);
    EXPECT_EQ(g.levels[0].line_bytes, 64u);
    EXPECT_EQ(g.levels[0].sets, 256u);
    EXPECT_EQ(g.levels[0].ways, 2u);
    EXPECT_EQ(g.levels[0].size_bytes(), 32 * kKiB);
    EXPECT_EQ(g.levels[1].level, 2u);
    EXPECT_EQ(g.levels[1].type, CacheType::unified);
    EXPECT_EQ(g.levels[1].sets, 2048u);
    EXPECT_EQ(g.levels[1].ways, 16u);
    EXPECT_EQ(g.levels[1].size_bytes(), 2 * kMiB);
    // hardware-facts: 256*2 + 2048*16 = 33,280 S/W ops per clean-all.
    EXPECT_EQ(g.set_way_ops_clean_all(), 33'280u);
    EXPECT_EQ(t.asked, (std::vector<unsigned>{1, 2}));
}

TEST(Geometry, CortexA53) {
    // 128 sets x 4 ways L1D, 1024 x 16 L2 (hardware-facts): 512 + 16,384.
    CcsidrTable t{{{1, ccsidr(128, 4, 6)}, {2, ccsidr(1024, 16, 6)}}, {}};
    const Geometry g = decode_geometry(ClidrEl1(kClidrQemu), t);
    EXPECT_EQ(g.levels[0].ways, 4u);
    EXPECT_EQ(g.levels[0].sets, 128u);
    EXPECT_EQ(g.levels[1].size_bytes(), 1 * kMiB);
    EXPECT_EQ(g.set_way_ops_clean_all(), 16'896u);
}

TEST(Geometry, CortexA72) {
    // 256 sets x 2 ways L1D, 1024 x 16 L2 (hardware-facts).
    CcsidrTable t{{{1, ccsidr(256, 2, 6)}, {2, ccsidr(1024, 16, 6)}}, {}};
    const Geometry g = decode_geometry(ClidrEl1(kClidrQemu), t);
    EXPECT_EQ(g.set_way_ops_clean_all(), 16'896u);
}

TEST(Geometry, LineSizes) {
    CcsidrTable t{{{1, ccsidr(64, 4, 5)}, {2, ccsidr(512, 8, 7)}}, {}};
    const Geometry g = decode_geometry(ClidrEl1(kClidrQemu), t);
    EXPECT_EQ(g.levels[0].line_bytes, 32u);
    EXPECT_EQ(g.levels[1].line_bytes, 128u);
    EXPECT_EQ(g.levels[1].size_bytes(), 512u * 8 * 128);
}

TEST(Geometry, LevelOfCoherenceLimitsTheCount) {
    // Three levels: L1 I+D, L2 and L3 unified (Ctype3 = 4 at [8:6]).
    CcsidrTable t{{{1, ccsidr(256, 2, 6)}, {2, ccsidr(1024, 16, 6)}, {3, ccsidr(4096, 16, 6)}}, {}};
    const u64 three_levels = 0x123; // Ctype1 3, Ctype2 4, Ctype3 4
    const u64 l1 = 512, l2 = 16'384, l3 = 65'536;
    for (u64 loc = 0; loc <= 3; ++loc) {
        const Geometry g = decode_geometry(ClidrEl1(three_levels | (loc << 24)), t);
        EXPECT_EQ(g.count, 3u);
        EXPECT_EQ(g.loc, loc);
        const u64 expected = (loc >= 1 ? l1 : 0) + (loc >= 2 ? l2 : 0) + (loc >= 3 ? l3 : 0);
        EXPECT_EQ(g.set_way_ops_clean_all(), expected) << "LoC " << loc;
    }
    // LoC beyond the last cache: everything counts.
    EXPECT_EQ(decode_geometry(ClidrEl1(three_levels | (u64{7} << 24)), t).set_way_ops_clean_all(), l1 + l2 + l3);
}

TEST(Geometry, NoCaches) {
    CcsidrTable t;
    const Geometry g = decode_geometry(ClidrEl1(0), t);
    EXPECT_EQ(g.count, 0u);
    EXPECT_EQ(g.set_way_ops_clean_all(), 0u);
    EXPECT_TRUE(t.asked.empty());
    // LoC set but no cache described: still nothing to walk.
    EXPECT_EQ(decode_geometry(ClidrEl1(u64{2} << 24), t).set_way_ops_clean_all(), 0u);
}

TEST(Geometry, InstructionOnlyLevelIsNotWalked) {
    // Ctype1 = 1 (I only), Ctype2 = 4, LoC 2: only L2 counts, and no CCSIDR
    // is read for the instruction-only level.
    CcsidrTable t{{{2, ccsidr(1024, 16, 6)}}, {}};
    const Geometry g = decode_geometry(ClidrEl1((u64{2} << 24) | 0x21), t);
    ASSERT_EQ(g.count, 2u);
    EXPECT_EQ(g.levels[0].type, CacheType::instruction);
    EXPECT_EQ(g.set_way_ops_clean_all(), 16'384u);
    EXPECT_EQ(t.asked, (std::vector<unsigned>{2}));
}

TEST(Geometry, DataOnlyLevelCounts) {
    // Ctype1 = 2 (D only), LoC 1.
    CcsidrTable t{{{1, ccsidr(128, 4, 6)}}, {}};
    const Geometry g = decode_geometry(ClidrEl1((u64{1} << 24) | 0x2), t);
    ASSERT_EQ(g.count, 1u);
    EXPECT_EQ(g.levels[0].type, CacheType::data);
    EXPECT_EQ(g.set_way_ops_clean_all(), 512u);
}

TEST(Geometry, StopsAtTheFirstGapOrReservedType) {
    // Ctype1 3, Ctype2 0, Ctype3 4: "no cache" at level 2 ends the hierarchy.
    CcsidrTable t{{{1, ccsidr(256, 2, 6)}, {3, ccsidr(1024, 16, 6)}}, {}};
    Geometry g = decode_geometry(ClidrEl1((u64{3} << 24) | 0x103), t);
    EXPECT_EQ(g.count, 1u);
    EXPECT_EQ(g.set_way_ops_clean_all(), 512u);
    // Ctype2 = 5 is reserved.
    g = decode_geometry(ClidrEl1((u64{3} << 24) | 0x2b), t);
    EXPECT_EQ(g.count, 1u);
}

TEST(Geometry, SevenLevels) {
    // Every level unified (Ctype 4 in all seven fields), LoC 7.
    CcsidrTable t;
    u64 clidr = u64{7} << 24;
    for (unsigned level = 1; level <= 7; ++level) {
        clidr |= u64{4} << (3 * (level - 1));
        t.by_level[level] = ccsidr(level, 1, 6); // `level` sets, direct mapped
    }
    const Geometry g = decode_geometry(ClidrEl1(clidr), t);
    EXPECT_EQ(g.count, 7u);
    EXPECT_EQ(g.levels[6].level, 7u);
    EXPECT_EQ(g.set_way_ops_clean_all(), 1u + 2 + 3 + 4 + 5 + 6 + 7);
}

TEST(Geometry, CacheTypeNames) {
    EXPECT_EQ(std::string(cache_type_name(CacheType::none)), "none");
    EXPECT_EQ(std::string(cache_type_name(CacheType::instruction)), "I");
    EXPECT_EQ(std::string(cache_type_name(CacheType::data)), "D");
    EXPECT_EQ(std::string(cache_type_name(CacheType::separate)), "I+D");
    EXPECT_EQ(std::string(cache_type_name(CacheType::unified)), "unified");
}

} // namespace
} // namespace setwise::cache
