// vcpu/vgic_redist: the emulated GICv3 redistributors through decoded MMIO
// accesses into the whole redistributor region. Frame layout, offsets and
// field positions are written out from ARM IHI 0069H chapter 12 (the
// redistributor register map and descriptions); the sequences are those of
// Linux's irq-gic-v3.c (gic_populate_rdist, gic_enable_redist,
// gic_cpu_init).
#include "vcpu/vgic_redist.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace setwise::vcpu {
namespace {

constexpr u64 kStride = 0x20000; // RD_base + SGI_base, 64 KiB each
constexpr u64 kSgiBase = 0x10000;
// RD_base.
constexpr u64 CTLR = 0x0000, IIDR = 0x0004, TYPER = 0x0008, STATUSR = 0x0010, WAKER = 0x0014,
              SETLPIR = 0x0040, PROPBASER = 0x0070, PIDR2 = 0xffe8, CIDR3 = 0xfffc;
// SGI_base.
constexpr u64 IGROUPR0 = 0x0080, ISENABLER0 = 0x0100, ICENABLER0 = 0x0180, ISPENDR0 = 0x0200,
              ICPENDR0 = 0x0280, ISACTIVER0 = 0x0300, ICACTIVER0 = 0x0380, IPRIORITYR = 0x0400,
              ICFGR0 = 0x0c00, ICFGR1 = 0x0c04, IGRPMODR0 = 0x0d00, NSACR = 0x0e00;
// GICR_WAKER.
constexpr u32 kProcessorSleep = 1u << 1, kChildrenAsleep = 1u << 2;

u64 rd(u32 vcpu, u64 off) { return vcpu * kStride + off; }
u64 sgi(u32 vcpu, u64 off) { return vcpu * kStride + kSgiBase + off; }

class Redist {
public:
    explicit Redist(std::vector<u64> mpidrs)
        : state(VgicConfig::create(VgicVersion::v3, mpidrs).value()), redist(state) {
        const VgicState::Guard g = state.lock();
        (void)state.set_group_enables(g, 3);
    }
    u32 r32(u64 off) { return static_cast<u32>(redist.read(off, 4)); }
    VcpuMask w32(u64 off, u32 v) { return redist.write(off, 4, v); }

    VgicState state;
    VgicRedist redist;
};

TEST(VgicRedist, LocateSplitsTheRegion) {
    using L = VgicRedist::Location;
    using F = VgicRedist::Frame;
    EXPECT_EQ(VgicRedist::locate(0x0, 2), (L{0, F::rd, 0x0}));
    EXPECT_EQ(VgicRedist::locate(0xfffc, 2), (L{0, F::rd, 0xfffc}));
    EXPECT_EQ(VgicRedist::locate(0x10000, 2), (L{0, F::sgi, 0x0}));
    EXPECT_EQ(VgicRedist::locate(0x20014, 2), (L{1, F::rd, 0x14}));
    EXPECT_EQ(VgicRedist::locate(0x30080, 2), (L{1, F::sgi, 0x80}));
    EXPECT_EQ(VgicRedist::locate(0x3ffff, 2), (L{1, F::sgi, 0xffff}));
    EXPECT_EQ(VgicRedist::locate(0x40000, 2), std::nullopt);
    EXPECT_EQ(VgicRedist::locate(~u64{0}, 16), std::nullopt);
}

// Linux gic_populate_rdist: walk the frames, check PIDR2.ArchRev, read
// GICR_TYPER (64-bit, or two 32-bit halves on AArch32) until Last.
TEST(VgicRedist, TyperIdentifiesEachVcpuAndTheLastFrame) {
    // MPIDRs: Aff3 [39:32], Aff2 [23:16], Aff1 [15:8], Aff0 [7:0]; bit 31 RES1.
    Redist r({0x8000'0000ull, 0x8000'0001ull, 0x01'0002'0304ull});
    // GICR_TYPER: Affinity_Value [63:32] = Aff3.Aff2.Aff1.Aff0,
    // Processor_Number [23:8], Last [4]; PLPIS [0], VLPIS [1] 0.
    EXPECT_EQ(r.redist.read(rd(0, TYPER), 8), 0x0000'0000'0000'0000ull);
    EXPECT_EQ(r.redist.read(rd(1, TYPER), 8), 0x0000'0001'0000'0100ull);
    EXPECT_EQ(r.redist.read(rd(2, TYPER), 8), 0x0102'0304'0000'0210ull);
    EXPECT_EQ(r.r32(rd(2, TYPER)), 0x0000'0210u);
    EXPECT_EQ(r.r32(rd(2, TYPER + 4)), 0x0102'0304u);
    u32 found = 0;
    for (u32 v = 0;; ++v) {
        ASSERT_LT(v, 3u);
        ASSERT_EQ((r.r32(rd(v, PIDR2)) >> 4) & 0xf, 3u); // GICv3
        const u64 typer = r.redist.read(rd(v, TYPER), 8);
        if ((typer >> 32) == 0x0102'0304u) found = v;
        if ((typer & (1u << 4)) != 0) break;
    }
    EXPECT_EQ(found, 2u);
    EXPECT_EQ(r.redist.bad_accesses(), 0u);
}

TEST(VgicRedist, RdFrameRegisters) {
    Redist r({0, 1});
    EXPECT_EQ(r.r32(rd(1, CTLR)), 0u); // EnableLPIs RES0, RWP 0
    r.w32(rd(1, CTLR), 0xffff'ffffu);
    EXPECT_EQ(r.r32(rd(1, CTLR)), 0u);
    EXPECT_EQ(r.r32(rd(0, IIDR)), 0x5300'043bu);
    EXPECT_EQ(r.r32(rd(0, STATUSR)), 0u);
    EXPECT_EQ(r.redist.read(rd(0, PROPBASER), 8), 0u);
    r.redist.write(rd(0, PROPBASER), 8, 0x1234'0000ull);
    EXPECT_EQ(r.redist.read(rd(0, PROPBASER), 8), 0u);
    EXPECT_EQ(r.r32(rd(1, PIDR2)), 0x3bu);
    EXPECT_EQ(r.r32(rd(1, CIDR3)), 0xb1u);
    r.redist.write(rd(0, TYPER), 8, 0); // read-only
    EXPECT_EQ(r.redist.read(rd(1, TYPER), 8), 0x0000'0001'0000'0110ull);
    EXPECT_EQ(r.redist.bad_accesses(), 0u);
    EXPECT_EQ(r.redist.reserved_accesses(), 0u);
    // No LPIs: GICR_SETLPIR is not there.
    r.redist.write(rd(0, SETLPIR), 4, 1);
    EXPECT_EQ(r.redist.reserved_accesses(), 1u);
}

// Linux gic_enable_redist: clear ProcessorSleep, wait for ChildrenAsleep to
// clear; the reverse on the way down.
TEST(VgicRedist, WakerHandshake) {
    Redist r({0, 1});
    EXPECT_EQ(r.r32(rd(0, WAKER)), kProcessorSleep | kChildrenAsleep); // reset
    u32 waker = r.r32(rd(0, WAKER));
    r.w32(rd(0, WAKER), waker & ~kProcessorSleep);
    EXPECT_EQ(r.r32(rd(0, WAKER)) & kChildrenAsleep, 0u); // awake on the first poll
    EXPECT_EQ(r.r32(rd(0, WAKER)), 0u);
    EXPECT_EQ(r.r32(rd(1, WAKER)), kProcessorSleep | kChildrenAsleep); // vCPU 1's is its own
    r.w32(rd(0, WAKER), kProcessorSleep);
    EXPECT_EQ(r.r32(rd(0, WAKER)), kProcessorSleep | kChildrenAsleep);
    // ChildrenAsleep is read-only; bits 0 and 31 are RAZ/WI here.
    r.w32(rd(0, WAKER), kChildrenAsleep | 1u | (1u << 31));
    EXPECT_EQ(r.r32(rd(0, WAKER)), 0u);
}

// Linux gic_cpu_init on each vCPU, through its own SGI_base frame.
TEST(VgicRedist, LinuxCpuInitIsBankedPerVcpu) {
    Redist r({0, 1});
    for (u32 v = 0; v < 2; ++v) {
        r.w32(sgi(v, IGROUPR0), 0xffff'ffffu);   // SGIs and PPIs Group 1
        r.w32(sgi(v, ICACTIVER0), 0xffff'ffffu);
        r.w32(sgi(v, ICENABLER0), 0xffff'0000u); // PPIs off
        r.w32(sgi(v, ISENABLER0), 0x0000'ffffu); // SGIs on
        for (u64 i = 0; i < 32; i += 4) r.w32(sgi(v, IPRIORITYR + i), 0xa0a0'a0a0u);
    }
    EXPECT_EQ(r.r32(sgi(1, IGROUPR0)), 0xffff'ffffu);
    EXPECT_EQ(r.r32(sgi(1, ISENABLER0)), 0x0000'ffffu);
    EXPECT_EQ(r.r32(sgi(1, ICENABLER0)), 0x0000'ffffu);
    EXPECT_EQ(r.r32(sgi(0, IPRIORITYR + 28)), 0xa0a0'a0a0u);

    // The timer driver enables its PPI (INTID 27) on vCPU 1 only.
    r.w32(sgi(1, ISENABLER0), 1u << 27);
    EXPECT_EQ(r.r32(sgi(1, ISENABLER0)), 0x0800'ffffu);
    EXPECT_EQ(r.r32(sgi(0, ISENABLER0)), 0x0000'ffffu);
    EXPECT_EQ(r.state.set_level(27, 1, true).value(), 0b10u);
    EXPECT_EQ(r.r32(sgi(1, ISPENDR0)), 1u << 27);
    EXPECT_EQ(r.r32(sgi(0, ISPENDR0)), 0u);
    EXPECT_EQ(r.state.set_level(27, 0, true).value(), 0u); // disabled on vCPU 0
    EXPECT_EQ(r.r32(sgi(0, ISPENDR0)), 1u << 27);
    EXPECT_EQ(r.redist.bad_accesses(), 0u);
    EXPECT_EQ(r.redist.reserved_accesses(), 0u);
}

TEST(VgicRedist, PriorityBytesAndWords) {
    Redist r({0});
    r.redist.write(sgi(0, IPRIORITYR + 27), 1, 0xff);
    EXPECT_EQ(r.redist.read(sgi(0, IPRIORITYR + 27), 1), 0xf8u);
    EXPECT_EQ(r.r32(sgi(0, IPRIORITYR + 24)), 0xf800'0000u);
    // Only IPRIORITYR0-7 are here: offset 0x420 is reserved.
    r.w32(sgi(0, IPRIORITYR + 32), 0xffff'ffffu);
    EXPECT_EQ(r.r32(sgi(0, IPRIORITYR + 32)), 0u);
    EXPECT_EQ(r.redist.reserved_accesses(), 2u);
}

TEST(VgicRedist, ConfigurationRegisters) {
    Redist r({0});
    EXPECT_EQ(r.r32(sgi(0, ICFGR0)), 0xaaaa'aaaau); // SGIs edge, read-only
    r.w32(sgi(0, ICFGR0), 0);
    EXPECT_EQ(r.r32(sgi(0, ICFGR0)), 0xaaaa'aaaau);
    EXPECT_EQ(r.r32(sgi(0, ICFGR1)), 0u); // PPIs reset level
    r.w32(sgi(0, ICFGR1), 0xffff'ffffu);
    EXPECT_EQ(r.r32(sgi(0, ICFGR1)), 0xaaaa'aaaau);
    EXPECT_TRUE(r.state.inspect(31, 0).value().edge);
    r.w32(sgi(0, ICFGR1), 0);
    EXPECT_FALSE(r.state.inspect(31, 0).value().edge);
    // IGRPMODR0 and NSACR: RAZ/WI with one Security state.
    r.w32(sgi(0, IGRPMODR0), 0xffff'ffffu);
    r.w32(sgi(0, NSACR), 0xffff'ffffu);
    EXPECT_EQ(r.r32(sgi(0, IGRPMODR0)), 0u);
    EXPECT_EQ(r.r32(sgi(0, NSACR)), 0u);
}

TEST(VgicRedist, SgiPendingAndActiveAreWritableInV3) {
    Redist r({0, 1});
    r.w32(sgi(1, ISENABLER0), 0xffff'ffffu);
    r.w32(sgi(1, IGROUPR0), 0xffff'ffffu);
    // Unlike GICv2's GICD_ISPENDR0, GICR_ISPENDR0 sets SGIs pending.
    EXPECT_EQ(r.w32(sgi(1, ISPENDR0), 1u << 3), 0b10u);
    EXPECT_EQ(r.r32(sgi(1, ISPENDR0)), 1u << 3);
    r.w32(sgi(1, ICPENDR0), 1u << 3);
    EXPECT_EQ(r.r32(sgi(1, ISPENDR0)), 0u);
    // An SGI sent with ICC_SGI1R_EL1 to Aff0 = 1 shows here.
    (void)r.state.send_sgi_v3(0, Sgi1r(u64{1} << 1 | u64{9} << 24), SgiGroup::group1);
    EXPECT_EQ(r.r32(sgi(1, ISPENDR0)), 1u << 9);
    EXPECT_EQ(r.r32(sgi(0, ISPENDR0)), 0u);
    r.w32(sgi(1, ISACTIVER0), 1u << 9);
    EXPECT_EQ(r.r32(sgi(1, ICACTIVER0)), 1u << 9);
    r.w32(sgi(1, ICACTIVER0), 1u << 9);
    EXPECT_EQ(r.r32(sgi(1, ISACTIVER0)), 0u);
}

TEST(VgicRedist, BadAccesses) {
    Redist r({0, 1});
    EXPECT_EQ(r.redist.read(rd(0, WAKER), 8), 0u);         // 32-bit register, 8 bytes
    EXPECT_EQ(r.redist.read(sgi(0, ISENABLER0), 1), 0u);   // byte access to a word register
    EXPECT_EQ(r.redist.read(rd(0, TYPER + 4), 8), 0u);     // misaligned doubleword
    EXPECT_EQ(r.redist.read(rd(0, WAKER + 2), 4), 0u);     // misaligned word
    EXPECT_EQ(r.redist.read(rd(0, CTLR), 2), 0u);          // halfword
    EXPECT_EQ(r.redist.read(rd(2, WAKER), 4), 0u);         // beyond the last redistributor
    r.redist.write(rd(0, WAKER), 8, 0);
    r.redist.write(rd(2, WAKER), 4, 0);
    EXPECT_EQ(r.redist.bad_accesses(), 8u);
    EXPECT_EQ(r.r32(rd(0, WAKER)), kProcessorSleep | kChildrenAsleep); // unchanged
    EXPECT_EQ(r.redist.reserved_accesses(), 0u);
}

TEST(VgicRedist, AGicv2StateHasNoRedistributors) {
    VgicState state(VgicConfig::create(VgicVersion::v2, std::vector<u64>{0}).value());
    VgicRedist redist(state);
    EXPECT_EQ(redist.read(rd(0, TYPER), 8), 0u);
    redist.write(sgi(0, ISENABLER0), 4, 0xffff'ffffu);
    EXPECT_EQ(redist.bad_accesses(), 2u);
    EXPECT_FALSE(state.inspect(27, 0).value().enabled);
}

} // namespace
} // namespace setwise::vcpu
