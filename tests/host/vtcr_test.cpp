// p2m/vtcr: stage-2 geometry and VTCR_EL2. Raw values are computed by hand
// from the VTCR_EL2 layout (DDI 0487 D19.2.160): T0SZ [5:0], SL0 [7:6],
// IRGN0 [9:8], ORGN0 [11:10], SH0 [13:12], TG0 [15:14], PS [18:16], RES1
// bit 31. setwise always uses IRGN0 = ORGN0 = 1 and SH0 = 3, i.e. 0x3500.
#include "p2m/vtcr.hpp"

#include <gtest/gtest.h>

namespace setwise {

void PrintTo(Status s, std::ostream* os) { *os << status_name(s); }

namespace p2m {
namespace {

using arm64::VtcrEl2;

Stage2Geometry geometry(u64 parange, unsigned ipa_bits) {
    Result<Stage2Geometry> r = stage2_geometry(parange, ipa_bits);
    EXPECT_TRUE(r.ok()) << "parange " << parange << " ipa " << ipa_bits;
    return r.ok() ? r.value() : Stage2Geometry{};
}

TEST(Stage2Geometry, MeasuredQemuValue) {
    // hardware-facts: VTCR_EL2 = 0x80003560 for a 32-bit IPA on PARange 0.
    const Stage2Geometry g = geometry(0, 32);
    EXPECT_EQ(g.vtcr.raw(), 0x8000'3560ull);
    EXPECT_EQ(g.ipa_bits, 32u);
    EXPECT_EQ(g.start_level, 1u);
    EXPECT_EQ(g.root_tables, 1u);
}

TEST(Stage2Geometry, FortyBitsConcatenatesTwoRootTables) {
    // T0SZ 24 = 0x18, SL0 1 = 0x40, PS 2 = 0x20000: 0x80023558. A level-1
    // table covers 39 bits; 40 bits need two of them side by side.
    const Stage2Geometry g = geometry(2, 40);
    EXPECT_EQ(g.vtcr.raw(), 0x8002'3558ull);
    EXPECT_EQ(g.vtcr.get<VtcrEl2::t0sz>(), 24u);
    EXPECT_EQ(g.vtcr.get<VtcrEl2::sl0>(), 1u);
    EXPECT_EQ(g.vtcr.get<VtcrEl2::ps>(), 2u);
    EXPECT_EQ(g.start_level, 1u);
    EXPECT_EQ(g.root_tables, 2u);
}

TEST(Stage2Geometry, FortyTwoBitsUsesEightRootTables) {
    // T0SZ 22 = 0x16, SL0 1, PS 3: 0x80033556.
    const Stage2Geometry g = geometry(3, 42);
    EXPECT_EQ(g.vtcr.raw(), 0x8003'3556ull);
    EXPECT_EQ(g.start_level, 1u);
    EXPECT_EQ(g.root_tables, 8u);
}

TEST(Stage2Geometry, FortyEightBitsStartsAtLevelZero) {
    // T0SZ 16 = 0x10, SL0 2 = 0x80, PS 5 = 0x50000: 0x80053590.
    const Stage2Geometry g = geometry(5, 48);
    EXPECT_EQ(g.vtcr.raw(), 0x8005'3590ull);
    EXPECT_EQ(g.start_level, 0u);
    EXPECT_EQ(g.root_tables, 1u);
    EXPECT_EQ(g.ipa_bits, 48u);
}

TEST(Stage2Geometry, FortyFourBitsStartsAtLevelZero) {
    // T0SZ 20 = 0x14, SL0 2, PS 4: 0x80043594.
    const Stage2Geometry g = geometry(4, 44);
    EXPECT_EQ(g.vtcr.raw(), 0x8004'3594ull);
    EXPECT_EQ(g.start_level, 0u);
}

TEST(Stage2Geometry, IpaIsClampedToThePhysicalSize) {
    // A 40-bit request on a 32-bit machine gives the measured 32-bit setup.
    const Stage2Geometry g = geometry(0, 40);
    EXPECT_EQ(g.ipa_bits, 32u);
    EXPECT_EQ(g.vtcr.raw(), 0x8000'3560ull);
    // 36-bit machine: T0SZ 28 = 0x1c, PS 1: 0x8001355c.
    const Stage2Geometry h = geometry(1, 48);
    EXPECT_EQ(h.ipa_bits, 36u);
    EXPECT_EQ(h.vtcr.raw(), 0x8001'355cull);
    EXPECT_EQ(h.start_level, 1u);
    EXPECT_EQ(h.root_tables, 1u);
}

TEST(Stage2Geometry, FiftyTwoBitMachineStaysAtFortyEight) {
    // No FEAT_LPA2 tables: PS and the IPA stay at 48 bits.
    const Stage2Geometry g = geometry(6, 48);
    EXPECT_EQ(g.vtcr.raw(), 0x8005'3590ull);
    EXPECT_EQ(g.ipa_bits, 48u);
}

TEST(Stage2Geometry, InvalidInputs) {
    EXPECT_EQ(stage2_geometry(7, 40).status(), Status::invalid_argument);   // reserved PARange
    EXPECT_EQ(stage2_geometry(0xf, 40).status(), Status::invalid_argument);
    EXPECT_EQ(stage2_geometry(2, 31).status(), Status::invalid_argument);   // below 32 bits
    EXPECT_EQ(stage2_geometry(2, 0).status(), Status::invalid_argument);
    EXPECT_EQ(stage2_geometry(6, 49).status(), Status::invalid_argument);   // above 48 bits
    EXPECT_EQ(stage2_geometry(6, 52).status(), Status::invalid_argument);
}

TEST(Stage2Geometry, EveryValidCombinationIsConsistent) {
    // For every PARange and IPA size: T0SZ = 64 - IPA; SL0 names the start
    // level (4 KiB granule: 1 -> level 1, 2 -> level 0); a level-1 root
    // covers 39 bits per table and the root tables cover the IPA space
    // exactly, at most 16 of them (DDI 0487 D8.2.6, concatenated tables);
    // IPA never exceeds the physical size; PS is the PARange code (<= 5).
    const unsigned pa_bits[] = {32, 36, 40, 42, 44, 48, 52};
    for (u64 parange = 0; parange <= 6; ++parange) {
        for (unsigned want = 32; want <= 48; ++want) {
            SCOPED_TRACE(testing::Message() << "parange " << parange << " ipa " << want);
            const Stage2Geometry g = geometry(parange, want);
            const unsigned limit = pa_bits[parange] > 48 ? 48 : pa_bits[parange];
            const unsigned ipa = want < limit ? want : limit;
            EXPECT_EQ(g.ipa_bits, ipa);
            EXPECT_EQ(g.vtcr.get<VtcrEl2::t0sz>(), 64u - ipa);
            EXPECT_EQ(g.vtcr.get<VtcrEl2::ps>(), parange > 5 ? 5u : parange);
            EXPECT_EQ(g.vtcr.get<VtcrEl2::tg0>(), 0u);
            EXPECT_EQ(g.vtcr.raw() & 0x8000'3f00ull, 0x8000'3500ull);
            if (g.start_level == 1) {
                EXPECT_EQ(g.vtcr.get<VtcrEl2::sl0>(), 1u);
                const u64 covered = u64{g.root_tables} << 39;
                EXPECT_GE(covered, u64{1} << ipa);
                EXPECT_TRUE(g.root_tables == 1 || covered == (u64{1} << ipa));
                EXPECT_LE(g.root_tables, 16u);
            } else {
                EXPECT_EQ(g.start_level, 0u);
                EXPECT_EQ(g.vtcr.get<VtcrEl2::sl0>(), 2u);
                EXPECT_EQ(g.root_tables, 1u);
                EXPECT_GT(ipa, 39u); // level 0 only pays off above one level-1 table
            }
        }
    }
}

} // namespace
} // namespace p2m
} // namespace setwise
