// vcpu/vgic_state: the virtual GIC's interrupt state through its injection,
// query and life-cycle calls. Expected behaviour is the GIC architecture's:
// the interrupt handling state machine (IHI 0048B 3.2.4, IHI 0069H 4.1),
// edge and level pending rules (IHI 0048B 4.3.7-4.3.8), SGI generation
// (IHI 0048B 4.3.15 GICD_SGIR; IHI 0069H ICC_SGI1R_EL1), and the
// priority order (lower value first). Field positions in raw register
// values are written out here from those documents.
#include "vcpu/vgic_state.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "vcpu/vpl011.hpp"

namespace setwise::vcpu {
namespace {

constexpr u32 kSpi0 = 32;

VgicConfig make_config(VgicVersion version, u32 vcpus, u32 spis = 64) {
    std::vector<u64> mpidrs;
    for (u32 i = 0; i < vcpus; ++i) mpidrs.push_back(i); // Aff0 = index, as core/domains.cpp does
    Result<VgicConfig> c = VgicConfig::create(version, mpidrs, spis);
    EXPECT_TRUE(c.ok());
    return c.value();
}

// ICC_SGI1R_EL1, assembled from IHI 0069H's field positions.
u64 sgi1r(u32 intid, u32 aff1, u16 target_list, bool irm = false, u32 aff2 = 0, u32 aff3 = 0, u32 rs = 0) {
    return u64{target_list} | (u64{aff1} << 16) | (u64{intid} << 24) | (u64{aff2} << 32) | (u64{irm} << 40) |
           (u64{rs} << 44) | (u64{aff3} << 48);
}

// Sets up the distributor the way a guest driver would: both groups on,
// every INTID enabled and at priority `prio`, SPIs routed to vCPU 0.
void enable_all(VgicState& s, u8 prio = 0x80) {
    const VgicState::Guard g = s.lock();
    (void)s.set_group_enables(g, 3);
    for (u32 v = 0; v < s.nr_vcpus(); ++v) {
        (void)s.write_bits(g, BitReg::set_enable, v, 0, ~0u);
        for (u32 i = 0; i < 32; ++i) s.write_priority(g, v, i, prio);
    }
    for (u32 first = 32; first < s.config().nr_intids(); first += 32)
        (void)s.write_bits(g, BitReg::set_enable, 0, first, ~0u);
    for (u32 i = 32; i < s.config().nr_intids(); ++i) {
        s.write_priority(g, 0, i, prio);
        if (s.version() == VgicVersion::v2) {
            (void)s.write_targets(g, i, 0x01);
        } else {
            (void)s.write_irouter(g, i, 0);
        }
    }
}

IrqView view(const VgicState& s, u32 intid, u32 vcpu = 0) {
    Result<IrqView> v = s.inspect(intid, vcpu);
    EXPECT_TRUE(v.ok());
    return v.value();
}

std::vector<u32> pending_ids(const VgicState& s, u32 vcpu) {
    PendingIrq buf[VgicState::kMaxPendingQuery];
    const usize n = s.pending_for(vcpu, buf);
    std::vector<u32> ids;
    for (usize i = 0; i < n; ++i) ids.push_back(buf[i].intid);
    return ids;
}

// ---- Configuration ----------------------------------------------------------

TEST(VgicConfig, Validation) {
    const u64 nine[9] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
    const u64 seventeen[17] = {};
    EXPECT_EQ(VgicConfig::create(VgicVersion::v2, nine).status(), Status::invalid_argument);     // 8 CPU targets
    EXPECT_TRUE(VgicConfig::create(VgicVersion::v3, nine).ok());
    EXPECT_EQ(VgicConfig::create(VgicVersion::v3, seventeen).status(), Status::invalid_argument);
    EXPECT_EQ(VgicConfig::create(VgicVersion::v3, std::span<const u64>{}).status(), Status::invalid_argument);
    const u64 dup[2] = {0x100, 0x8000'0100}; // same affinity: bit 31 is RES1, not affinity
    EXPECT_EQ(VgicConfig::create(VgicVersion::v3, dup).status(), Status::invalid_argument);
    const u64 one[1] = {0};
    EXPECT_EQ(VgicConfig::create(VgicVersion::v2, one, 48).status(), Status::invalid_argument);  // not 32 * n
    EXPECT_EQ(VgicConfig::create(VgicVersion::v2, one, 0).status(), Status::invalid_argument);
    EXPECT_EQ(VgicConfig::create(VgicVersion::v2, one, 1024).status(), Status::invalid_argument); // > 5-bit ITLinesNumber
    EXPECT_EQ(VgicConfig::create(VgicVersion::v2, one, 64, 6).status(), Status::invalid_argument); // GICH_LR: 5 bits
    EXPECT_EQ(VgicConfig::create(VgicVersion::v3, one, 64, 3).status(), Status::invalid_argument);
    EXPECT_TRUE(VgicConfig::create(VgicVersion::v3, one, 64, 8).ok());
}

TEST(VgicConfig, Geometry) {
    const u64 one[1] = {0};
    const VgicConfig c64 = VgicConfig::create(VgicVersion::v3, one, 64).value();
    EXPECT_EQ(c64.it_lines(), 2u);   // 32 * (2 + 1) = 96 INTIDs
    EXPECT_EQ(c64.nr_intids(), 96u);
    const VgicConfig cmax = VgicConfig::create(VgicVersion::v3, one, 992).value();
    EXPECT_EQ(cmax.it_lines(), 31u);
    EXPECT_EQ(cmax.nr_intids(), 1020u); // 1020..1023 are special
    EXPECT_EQ(c64.priority_mask(), 0xf8);
    EXPECT_EQ(VgicConfig::create(VgicVersion::v3, one, 64, 4).value().priority_mask(), 0xf0);
    const u64 aff[2] = {0x8000'0000ull | 0x0102'03ull, 0x07'0000'0000ull};
    const VgicConfig c = VgicConfig::create(VgicVersion::v3, aff).value();
    EXPECT_EQ(c.affinity(0), 0x01'0203u);
    EXPECT_EQ(c.vcpu_by_affinity(0x07'0000'0000ull), std::optional<u32>(1));
    EXPECT_EQ(c.vcpu_by_affinity(0x0203u), std::nullopt);
}

// ---- Reset --------------------------------------------------------------------

TEST(VgicState, ResetValuesV2) {
    VgicState s(make_config(VgicVersion::v2, 2));
    // SGIs: edge, permanently enabled; PPIs and SPIs: level, disabled;
    // everything Group 0, priority 0.
    EXPECT_TRUE(view(s, 3, 1).edge);
    EXPECT_TRUE(view(s, 3, 1).enabled);
    EXPECT_FALSE(view(s, 27, 1).edge);
    EXPECT_FALSE(view(s, 27, 1).enabled);
    EXPECT_FALSE(view(s, 40).edge);
    EXPECT_FALSE(view(s, 40).group1);
    EXPECT_EQ(view(s, 40).targets, 0);
    EXPECT_EQ(view(s, 40).route, vgic::kNoVcpu); // no target: delivered nowhere
}

TEST(VgicState, ResetValuesV3) {
    VgicState s(make_config(VgicVersion::v3, 2));
    EXPECT_TRUE(view(s, 3, 1).edge);
    EXPECT_FALSE(view(s, 3, 1).enabled);
    EXPECT_TRUE(view(s, 40).group1);
    EXPECT_EQ(view(s, 40).irouter, 0u);
    EXPECT_EQ(view(s, 40).route, 0); // IROUTER 0.0.0.0 is vCPU 0's affinity
    const VgicState::Guard g = s.lock();
    EXPECT_TRUE(s.processor_sleep(g, 0));
    EXPECT_TRUE(s.processor_sleep(g, 1));
}

TEST(VgicState, ResetClearsGuestStateButKeepsHwLinks) {
    VgicState s(make_config(VgicVersion::v3, 1));
    enable_all(s);
    ASSERT_EQ(s.map_hw(vgic::kVirtualTimerIntid, 0, 27), Status::ok);
    ASSERT_TRUE(s.raise_edge(40, 0).ok());
    ASSERT_TRUE(s.acknowledge(0, 40).ok());
    s.reset();
    EXPECT_FALSE(view(s, 40).active);
    EXPECT_FALSE(view(s, 40).enabled);
    EXPECT_EQ(view(s, 40).priority, 0);
    EXPECT_TRUE(view(s, vgic::kVirtualTimerIntid).hw);
    EXPECT_EQ(view(s, vgic::kVirtualTimerIntid).pintid, 27u);
}

// ---- Edge and level -----------------------------------------------------------

TEST(VgicState, EdgeLatchesAndCoalesces) {
    VgicState s(make_config(VgicVersion::v3, 1));
    enable_all(s);
    {
        const VgicState::Guard g = s.lock();
        (void)s.write_config(g, 0, 32, 0xaaaa'aaaa); // INTIDs 32..47 edge
    }
    ASSERT_TRUE(s.raise_edge(40, 0).ok());
    ASSERT_TRUE(s.raise_edge(40, 0).ok()); // pending is one bit: the second edge merges
    EXPECT_EQ(pending_ids(s, 0), std::vector<u32>{40});

    Result<PendingIrq> ack = s.acknowledge(0, 40);
    ASSERT_TRUE(ack.ok());
    EXPECT_EQ(ack.value().intid, 40u);
    EXPECT_TRUE(view(s, 40).active);
    EXPECT_FALSE(view(s, 40).pending); // the ack took the latch
    EXPECT_EQ(s.acknowledge(0, 40).status(), Status::not_found);

    // A new edge while active: active and pending, not delivered until the
    // guest deactivates.
    ASSERT_TRUE(s.raise_edge(40, 0).ok());
    EXPECT_TRUE(view(s, 40).active);
    EXPECT_TRUE(view(s, 40).pending);
    EXPECT_TRUE(pending_ids(s, 0).empty());
    EXPECT_EQ(s.deactivate(0, 40), Status::ok);
    EXPECT_EQ(pending_ids(s, 0), std::vector<u32>{40});
    ASSERT_TRUE(s.acknowledge(0, 40).ok());
    EXPECT_EQ(s.deactivate(0, 40), Status::ok);
    EXPECT_TRUE(pending_ids(s, 0).empty());
    EXPECT_EQ(s.deactivate(0, 40), Status::not_found);
}

TEST(VgicState, LevelFollowsTheLine) {
    VgicState s(make_config(VgicVersion::v3, 1));
    enable_all(s); // SPIs reset level-sensitive
    ASSERT_TRUE(s.set_level(40, 0, true).ok());
    EXPECT_TRUE(view(s, 40).pending);
    ASSERT_TRUE(s.acknowledge(0, 40).ok());
    // The line is still high: active and pending (IHI 0048B 3.2.4).
    EXPECT_TRUE(view(s, 40).active);
    EXPECT_TRUE(view(s, 40).pending);
    ASSERT_TRUE(s.set_level(40, 0, false).ok()); // the handler quietened the device
    EXPECT_FALSE(view(s, 40).pending);
    EXPECT_EQ(s.deactivate(0, 40), Status::ok);
    EXPECT_TRUE(pending_ids(s, 0).empty());

    // Still high after deactivation: pending again at once.
    ASSERT_TRUE(s.set_level(40, 0, true).ok());
    ASSERT_TRUE(s.acknowledge(0, 40).ok());
    EXPECT_EQ(s.deactivate(0, 40), Status::ok);
    EXPECT_EQ(pending_ids(s, 0), std::vector<u32>{40});
}

TEST(VgicState, LevelSoftwarePendingLatchAndClear) {
    // IHI 0048B 4.3.8: for a level-sensitive interrupt, GICD_ICPENDR clears
    // the latch a GICD_ISPENDR write set, but the interrupt stays pending
    // while its line is asserted.
    VgicState s(make_config(VgicVersion::v2, 1));
    enable_all(s);
    {
        const VgicState::Guard g = s.lock();
        (void)s.write_bits(g, BitReg::set_pending, 0, 32, 1u << 8); // INTID 40
    }
    EXPECT_TRUE(view(s, 40).pending);
    {
        const VgicState::Guard g = s.lock();
        (void)s.write_bits(g, BitReg::clear_pending, 0, 32, 1u << 8);
    }
    EXPECT_FALSE(view(s, 40).pending);
    ASSERT_TRUE(s.set_level(40, 0, true).ok());
    {
        const VgicState::Guard g = s.lock();
        (void)s.write_bits(g, BitReg::clear_pending, 0, 32, 1u << 8);
    }
    EXPECT_TRUE(view(s, 40).pending);
    // Latched and then acknowledged with the line low: the ack took it.
    ASSERT_TRUE(s.set_level(40, 0, false).ok());
    {
        const VgicState::Guard g = s.lock();
        (void)s.write_bits(g, BitReg::set_pending, 0, 32, 1u << 8);
    }
    ASSERT_TRUE(s.acknowledge(0, 40).ok());
    EXPECT_FALSE(view(s, 40).pending);
}

TEST(VgicState, EdgeConfiguredLineLatchesOnRisingEdgesOnly) {
    VgicState s(make_config(VgicVersion::v3, 1));
    enable_all(s);
    {
        const VgicState::Guard g = s.lock();
        (void)s.write_config(g, 0, 32, 1u << 17); // INTID 40: field 8, Int_config[1] = bit 17
    }
    ASSERT_TRUE(view(s, 40).edge);
    ASSERT_TRUE(s.set_level(40, 0, true).ok());
    ASSERT_TRUE(s.acknowledge(0, 40).ok());
    ASSERT_EQ(s.deactivate(0, 40), Status::ok);
    ASSERT_TRUE(s.set_level(40, 0, true).ok()); // still high: no new edge
    EXPECT_TRUE(pending_ids(s, 0).empty());
    ASSERT_TRUE(s.set_level(40, 0, false).ok());
    EXPECT_TRUE(pending_ids(s, 0).empty());
    ASSERT_TRUE(s.set_level(40, 0, true).ok());
    EXPECT_EQ(pending_ids(s, 0), std::vector<u32>{40});
}

// ---- Gating ---------------------------------------------------------------------

TEST(VgicState, DisabledAndGroupDisabledInterruptsWaitPending) {
    VgicState s(make_config(VgicVersion::v3, 2));
    {
        const VgicState::Guard g = s.lock();
        (void)s.write_irouter(g, 40, 1); // vCPU 1 (Aff0 = 1)
    }
    Result<VcpuMask> k = s.raise_edge(40, 0);
    ASSERT_TRUE(k.ok());
    EXPECT_EQ(k.value(), 0u); // disabled: nobody to wake
    EXPECT_TRUE(view(s, 40).pending);
    EXPECT_TRUE(pending_ids(s, 1).empty());

    VcpuMask kick;
    {
        const VgicState::Guard g = s.lock();
        kick = s.write_bits(g, BitReg::set_enable, 0, 32, 1u << 8);
    }
    EXPECT_EQ(kick, 0u); // group 1 still off in GICD_CTLR
    EXPECT_TRUE(pending_ids(s, 1).empty());
    {
        const VgicState::Guard g = s.lock();
        kick = s.set_group_enables(g, 1); // Group 0 only
    }
    EXPECT_EQ(kick, 0u);
    {
        const VgicState::Guard g = s.lock();
        kick = s.set_group_enables(g, 2);
    }
    EXPECT_EQ(kick, 0b10u);
    EXPECT_EQ(pending_ids(s, 1), std::vector<u32>{40});
    EXPECT_TRUE(pending_ids(s, 0).empty());
}

TEST(VgicState, KicksOnlyForNewlyWaitingInterrupts) {
    VgicState s(make_config(VgicVersion::v3, 2));
    enable_all(s);
    {
        const VgicState::Guard g = s.lock();
        (void)s.write_irouter(g, 50, 1);
    }
    EXPECT_EQ(s.raise_edge(50, 0).value(), 0b10u);
    EXPECT_EQ(s.raise_edge(50, 0).value(), 0u); // already waiting
    EXPECT_EQ(s.set_level(27, 1, true).value(), 0b10u);
    EXPECT_EQ(s.set_level(27, 0, true).value(), 0b01u);
}

// ---- Priority order -----------------------------------------------------------

TEST(VgicState, PendingForIsInPriorityThenIntidOrder) {
    VgicState s(make_config(VgicVersion::v3, 1));
    enable_all(s);
    const struct {
        u32 intid;
        u8 prio;
    } irqs[] = {{40, 0xa0}, {33, 0x20}, {90, 0x20}, {27, 0xf0}, {35, 0x00}, {60, 0xa0}};
    {
        const VgicState::Guard g = s.lock();
        for (const auto& i : irqs) s.write_priority(g, 0, i.intid, i.prio);
    }
    for (const auto& i : irqs) ASSERT_TRUE(s.raise_edge(i.intid, 0).ok());
    // 0x00: 35; 0x20: 33, 90; 0xa0: 40, 60; 0xf0: 27.
    EXPECT_EQ(pending_ids(s, 0), (std::vector<u32>{35, 33, 90, 40, 60, 27}));
    EXPECT_EQ(s.highest_pending(0), (PendingIrq{35, 0x00, 0}));

    PendingIrq two[2];
    EXPECT_EQ(s.pending_for(0, two), 2u);
    EXPECT_EQ(two[1].intid, 33u);
    EXPECT_EQ(two[1].priority, 0x20);
}

TEST(VgicState, PriorityKeepsImplementedBitsOnly) {
    VgicState s(make_config(VgicVersion::v3, 1));
    const VgicState::Guard g = s.lock();
    s.write_priority(g, 0, 40, 0xff);
    EXPECT_EQ(s.read_priority(g, 0, 40), 0xf8); // 5 bits: [7:3]
    s.write_priority(g, 0, 41, 0x07);
    EXPECT_EQ(s.read_priority(g, 0, 41), 0x00);
}

// ---- PPIs are banked --------------------------------------------------------------

TEST(VgicState, PpisAreBankedPerVcpu) {
    VgicState s(make_config(VgicVersion::v3, 2));
    {
        const VgicState::Guard g = s.lock();
        (void)s.set_group_enables(g, 3);
        (void)s.write_bits(g, BitReg::set_enable, 1, 0, 1u << 27);
    }
    EXPECT_TRUE(view(s, 27, 1).enabled);
    EXPECT_FALSE(view(s, 27, 0).enabled);
    ASSERT_TRUE(s.set_level(27, 0, true).ok());
    EXPECT_TRUE(view(s, 27, 0).pending);
    EXPECT_FALSE(view(s, 27, 1).pending);
    EXPECT_TRUE(pending_ids(s, 0).empty()); // vCPU 0's timer PPI is disabled
    ASSERT_TRUE(s.set_level(27, 1, true).ok());
    EXPECT_EQ(pending_ids(s, 1), std::vector<u32>{27});
    EXPECT_EQ(s.acknowledge(0, 27).status(), Status::not_found);
    EXPECT_TRUE(s.acknowledge(1, 27).ok());
}

// ---- SPI routing ------------------------------------------------------------------

TEST(VgicState, V2TargetsPickTheLowestExistingVcpu) {
    VgicState s(make_config(VgicVersion::v2, 3));
    enable_all(s);
    const VgicState::Guard g = s.lock();
    (void)s.write_targets(g, 50, 0b1111'0110);
    EXPECT_EQ(s.read_targets(g, 1, 50), 0b110); // vCPUs 3..7 do not exist
    (void)s.write_bits(g, BitReg::set_pending, 0, 32, 1u << 18);
    EXPECT_EQ(s.lr_candidates(g, 1, {}).total, 1u);
    EXPECT_EQ(s.lr_candidates(g, 2, {}).total, 0u);
    EXPECT_EQ(s.write_targets(g, 50, 0b100), 0b100u); // re-routed: vCPU 2 to kick
    EXPECT_EQ(s.lr_candidates(g, 1, {}).total, 0u);
    EXPECT_EQ(s.lr_candidates(g, 2, {}).total, 1u);
    (void)s.write_targets(g, 50, 0);
    for (u32 v = 0; v < 3; ++v) EXPECT_EQ(s.lr_candidates(g, v, {}).total, 0u);
    // SGIs and PPIs: the reading CPU's own bit.
    EXPECT_EQ(s.read_targets(g, 2, 5), 0b100);
    EXPECT_EQ(s.read_targets(g, 0, 27), 0b001);
}

TEST(VgicState, V3IrouterRoutesByAffinity) {
    const u64 mpidrs[3] = {0x000, 0x100, 0x01'0000'0200ull}; // 0.0.0.0, 0.0.1.0, 1.0.2.0
    VgicState s(VgicConfig::create(VgicVersion::v3, mpidrs).value());
    enable_all(s);
    const VgicState::Guard g = s.lock();
    // IROUTER: Aff3 [39:32], IRM [31], Aff2 [23:16], Aff1 [15:8], Aff0 [7:0].
    EXPECT_EQ(s.write_irouter(g, 40, 0x01'0000'0200ull), 0u);
    EXPECT_EQ(s.write_bits(g, BitReg::set_pending, 0, 32, 1u << 8), 0b100u);
    EXPECT_EQ(s.lr_candidates(g, 2, {}).total, 1u);
    (void)s.write_irouter(g, 40, 0x100 | (1u << 31)); // IRM is RAZ/WI
    EXPECT_EQ(s.read_irouter(g, 40), 0x100u);
    EXPECT_EQ(s.lr_candidates(g, 1, {}).total, 1u);
    EXPECT_EQ(s.lr_candidates(g, 2, {}).total, 0u);
    (void)s.write_irouter(g, 40, 0x300); // no such vCPU: delivered nowhere, stays pending
    for (u32 v = 0; v < 3; ++v) EXPECT_EQ(s.lr_candidates(g, v, {}).total, 0u);
    EXPECT_NE(s.read_bits(g, BitReg::set_pending, 0, 32) & (1u << 8), 0u);
}

// ---- SGIs ---------------------------------------------------------------------------

TEST(VgicState, V2SgiTargetFilters) {
    VgicState s(make_config(VgicVersion::v2, 3));
    enable_all(s);
    // TargetListFilter 0: the listed CPUs (bit 7 names no vCPU here).
    EXPECT_EQ(s.send_sgi_v2(0, SgiFilter::target_list, 0b1000'0110, 5), 0b110u);
    EXPECT_EQ(view(s, 5, 1).sgi_sources, 0b001);
    EXPECT_EQ(view(s, 5, 2).sgi_sources, 0b001);
    EXPECT_EQ(view(s, 5, 0).sgi_sources, 0);
    // 1: every CPU but the requester.
    EXPECT_EQ(s.send_sgi_v2(1, SgiFilter::all_but_self, 0, 6), 0b101u);
    EXPECT_EQ(view(s, 6, 0).sgi_sources, 0b010);
    EXPECT_EQ(view(s, 6, 2).sgi_sources, 0b010);
    EXPECT_EQ(view(s, 6, 1).sgi_sources, 0);
    // 2: the requester only, whatever the list says.
    EXPECT_EQ(s.send_sgi_v2(2, SgiFilter::self, 0b011, 7), 0b100u);
    EXPECT_EQ(view(s, 7, 2).sgi_sources, 0b100);
    EXPECT_EQ(view(s, 7, 0).sgi_sources, 0);
    // Out of range: no such SGI, no such requester.
    EXPECT_EQ(s.send_sgi_v2(0, SgiFilter::target_list, 0b10, 16), 0u);
    EXPECT_EQ(s.send_sgi_v2(3, SgiFilter::target_list, 0b10, 1), 0u);
    EXPECT_EQ(view(s, 1, 1).sgi_sources, 0);
}

TEST(VgicState, V2SgiSourcesAreSeparateInterrupts) {
    VgicState s(make_config(VgicVersion::v2, 3));
    enable_all(s);
    (void)s.send_sgi_v2(2, SgiFilter::target_list, 0b001, 3);
    (void)s.send_sgi_v2(1, SgiFilter::target_list, 0b001, 3);
    (void)s.send_sgi_v2(1, SgiFilter::target_list, 0b001, 3); // merges with the pending one
    EXPECT_EQ(view(s, 3, 0).sgi_sources, 0b110);
    // Acknowledged one source at a time, lowest first (GICC_IAR.CPUID).
    Result<PendingIrq> a = s.acknowledge(0, 3);
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a.value().source, 1);
    EXPECT_EQ(view(s, 3, 0).sgi_sources, 0b100);
    EXPECT_TRUE(pending_ids(s, 0).empty()); // SGI 3 is active
    ASSERT_EQ(s.deactivate(0, 3), Status::ok);
    Result<PendingIrq> b = s.acknowledge(0, 3);
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(b.value().source, 2);
    ASSERT_EQ(s.deactivate(0, 3), Status::ok);
    EXPECT_EQ(view(s, 3, 0).sgi_sources, 0);
}

TEST(VgicState, V3SgiByAffinityAndIrm) {
    // Two clusters: Aff1 = 0 (vCPUs 0, 1), Aff1 = 1 (vCPUs 2, 3 at Aff0 0, 5).
    const u64 mpidrs[4] = {0x000, 0x001, 0x100, 0x105};
    VgicState s(VgicConfig::create(VgicVersion::v3, mpidrs).value());
    enable_all(s);
    {
        const VgicState::Guard g = s.lock();
        for (u32 v = 0; v < 4; ++v) (void)s.write_bits(g, BitReg::group, v, 0, ~0u); // Linux: Group 1
    }
    EXPECT_EQ(s.send_sgi_v3(0, Sgi1r(sgi1r(1, 1, 0b10'0001)), SgiGroup::group1), 0b1100u);
    EXPECT_TRUE(view(s, 1, 2).pending);
    EXPECT_TRUE(view(s, 1, 3).pending);
    EXPECT_FALSE(view(s, 1, 1).pending); // Aff1 = 0 cluster not addressed
    // TargetList bits with no vCPU behind them, Aff2/Aff3 that match nobody.
    EXPECT_EQ(s.send_sgi_v3(0, Sgi1r(sgi1r(2, 1, 0b0110)), SgiGroup::group1), 0u);
    EXPECT_EQ(s.send_sgi_v3(0, Sgi1r(sgi1r(2, 0, 0b1, false, 1)), SgiGroup::group1), 0u);
    EXPECT_EQ(s.send_sgi_v3(0, Sgi1r(sgi1r(2, 0, 0b1, false, 0, 1)), SgiGroup::group1), 0u);
    // RS = 1: Aff0 16..31, nobody here.
    EXPECT_EQ(s.send_sgi_v3(0, Sgi1r(sgi1r(2, 0, 0b1, false, 0, 0, 1)), SgiGroup::group1), 0u);
    // IRM = 1: everyone but the sender, TargetList ignored.
    EXPECT_EQ(s.send_sgi_v3(2, Sgi1r(sgi1r(9, 0, 0, true)), SgiGroup::group1), 0b1011u);
    EXPECT_FALSE(view(s, 9, 2).pending);
    EXPECT_TRUE(view(s, 9, 0).pending);
    EXPECT_TRUE(view(s, 9, 1).pending);
    EXPECT_TRUE(view(s, 9, 3).pending);
}

TEST(VgicState, V3SgiGroupRules) {
    VgicState s(make_config(VgicVersion::v3, 2));
    enable_all(s);
    {
        const VgicState::Guard g = s.lock();
        (void)s.write_bits(g, BitReg::group, 1, 0, 1u << 4); // SGI 4 Group 1, the rest Group 0
    }
    // ICC_SGI0R_EL1 (and ASGI1R with DS = 1): Group 0 SGIs only.
    (void)s.send_sgi_v3(0, Sgi1r(sgi1r(4, 0, 0b10)), SgiGroup::group0);
    EXPECT_FALSE(view(s, 4, 1).pending);
    (void)s.send_sgi_v3(0, Sgi1r(sgi1r(5, 0, 0b10)), SgiGroup::group0);
    EXPECT_TRUE(view(s, 5, 1).pending);
    // ICC_SGI1R_EL1: either group.
    (void)s.send_sgi_v3(0, Sgi1r(sgi1r(4, 0, 0b10)), SgiGroup::group1);
    (void)s.send_sgi_v3(0, Sgi1r(sgi1r(6, 0, 0b10)), SgiGroup::group1);
    EXPECT_TRUE(view(s, 4, 1).pending);
    EXPECT_TRUE(view(s, 6, 1).pending);
}

TEST(VgicState, Sgi1rFromMcrr) {
    // MCRR p15, 0, Rt, Rt2, c12: Rt = [31:0], Rt2 = [63:32].
    const Sgi1r v = sgi1r_from_mcrr(0x0b02'0013u, 0x0003'0104u);
    EXPECT_EQ(v.raw(), 0x0003'0104'0b02'0013ull);
    EXPECT_EQ(v.get<Sgi1r::target_list>(), 0x0013u);
    EXPECT_EQ(v.get<Sgi1r::aff1>(), 0x02u);
    EXPECT_EQ(v.get<Sgi1r::intid>(), 0xbu);
    EXPECT_EQ(v.get<Sgi1r::aff2>(), 0x04u);
    EXPECT_TRUE(v.test<Sgi1r::irm>());
    EXPECT_EQ(v.get<Sgi1r::rs>(), 0u);
    EXPECT_EQ(v.get<Sgi1r::aff3>(), 0x03u);
}

TEST(VgicState, SgiCallsOfTheOtherVersionDoNothing) {
    VgicState v2(make_config(VgicVersion::v2, 2));
    VgicState v3(make_config(VgicVersion::v3, 2));
    enable_all(v2);
    enable_all(v3);
    EXPECT_EQ(v2.send_sgi_v3(0, Sgi1r(sgi1r(1, 0, 0b10)), SgiGroup::group1), 0u);
    EXPECT_EQ(v3.send_sgi_v2(0, SgiFilter::target_list, 0b10, 1), 0u);
    EXPECT_FALSE(view(v2, 1, 1).pending);
    EXPECT_FALSE(view(v3, 1, 1).pending);
}

// ---- Out of range ---------------------------------------------------------------

TEST(VgicState, OutOfRangeInjectionsAreRefused) {
    VgicState s(make_config(VgicVersion::v3, 2, 64)); // INTIDs 0..95
    enable_all(s);
    EXPECT_EQ(s.set_level(96, 0, true).status(), Status::out_of_range);
    EXPECT_EQ(s.raise_edge(1020, 0).status(), Status::out_of_range);
    EXPECT_EQ(s.raise_edge(0xffff'ffffu, 0).status(), Status::out_of_range);
    EXPECT_EQ(s.set_level(27, 2, true).status(), Status::out_of_range); // no vCPU 2
    EXPECT_EQ(s.set_level(3, 0, true).status(), Status::out_of_range);  // SGIs have no line
    EXPECT_EQ(s.raise_edge(3, 0).status(), Status::out_of_range);
    EXPECT_TRUE(s.raise_edge(95, 7).ok()); // an SPI: the vCPU does not matter
    EXPECT_EQ(s.inspect(96, 0).status(), Status::out_of_range);
    EXPECT_EQ(s.acknowledge(2, 40).status(), Status::out_of_range);
    EXPECT_EQ(s.deactivate(0, 96), Status::out_of_range);
    PendingIrq p[4];
    EXPECT_EQ(s.pending_for(2, p), 0u);
    const VgicState::Guard g = s.lock();
    EXPECT_EQ(s.read_bits(g, BitReg::set_enable, 0, 96), 0u);
    EXPECT_EQ(s.write_bits(g, BitReg::set_pending, 0, 96, ~0u), 0u);
    EXPECT_EQ(s.read_bits(g, BitReg::set_pending, 0, 96), 0u);
    EXPECT_EQ(s.read_bits(g, BitReg::set_enable, 5, 0), 0u); // a bank that does not exist
    EXPECT_EQ(s.read_priority(g, 0, 96), 0);
    EXPECT_EQ(s.read_irouter(g, 96), 0u);
    EXPECT_EQ(s.read_irouter(g, 20), 0u);
}

TEST(VgicState, HwLinkArguments) {
    VgicState s(make_config(VgicVersion::v3, 2));
    EXPECT_EQ(s.map_hw(5, 0, 27), Status::invalid_argument);   // SGI
    EXPECT_EQ(s.map_hw(27, 0, 15), Status::invalid_argument);  // physical SGI
    EXPECT_EQ(s.map_hw(27, 0, 1020), Status::invalid_argument);
    EXPECT_EQ(s.map_hw(27, 2, 27), Status::out_of_range);
    EXPECT_EQ(s.map_hw(96, 0, 40), Status::out_of_range);
    EXPECT_EQ(s.map_hw(27, 1, 27), Status::ok);
    EXPECT_TRUE(view(s, 27, 1).hw);
    EXPECT_FALSE(view(s, 27, 0).hw);
    EXPECT_EQ(s.unmap_hw(27, 1), Status::ok);
    EXPECT_FALSE(view(s, 27, 1).hw);
}

// ---- Domains do not share interrupts ------------------------------------------------

TEST(VgicState, DomainsAreIsolated) {
    VgicState a(make_config(VgicVersion::v3, 2));
    VgicState b(make_config(VgicVersion::v3, 2));
    enable_all(a);
    enable_all(b);
    ASSERT_TRUE(a.raise_edge(40, 0).ok());
    ASSERT_TRUE(a.set_level(27, 1, true).ok());
    (void)a.send_sgi_v3(0, Sgi1r(sgi1r(1, 0, 0b10)), SgiGroup::group1);
    EXPECT_EQ(pending_ids(a, 0), std::vector<u32>{40});
    EXPECT_EQ(pending_ids(a, 1), (std::vector<u32>{1, 27}));
    EXPECT_TRUE(pending_ids(b, 0).empty());
    EXPECT_TRUE(pending_ids(b, 1).empty());
}

// ---- The vPL011's interrupt ---------------------------------------------------------

class NullSink final : public Vpl011Sink {
public:
    void put(char c) override { out.push_back(c); }
    std::string out;
};

TEST(VgicState, Vpl011RxInterruptReachesTheGuest) {
    // QEMU virt wiring: the UART is SPI 1, INTID 33, level-high.
    EXPECT_EQ(vgic::kUartIntid, 33u);
    VgicState s(make_config(VgicVersion::v3, 1));
    enable_all(s);
    NullSink sink;
    Vpl011 uart(sink);
    uart.write(0x030, 4, 0x301);   // UARTCR: UARTEN | TXE | RXE
    uart.write(0x038, 4, 1u << 4); // UARTIMSC: RXIM
    EXPECT_FALSE(uart.irq_level());
    ASSERT_TRUE(uart.rx_push('x'));
    ASSERT_TRUE(uart.irq_level());
    ASSERT_TRUE(s.set_level(vgic::kUartIntid, 0, uart.irq_level()).ok());
    EXPECT_EQ(pending_ids(s, 0), std::vector<u32>{33});
    ASSERT_TRUE(s.acknowledge(0, 33).ok());
    EXPECT_EQ(uart.read(0x000, 4), static_cast<u32>('x')); // the guest's handler drains DR
    ASSERT_TRUE(s.set_level(vgic::kUartIntid, 0, uart.irq_level()).ok());
    EXPECT_FALSE(view(s, 33).pending);
    EXPECT_EQ(s.deactivate(0, 33), Status::ok);
    EXPECT_TRUE(pending_ids(s, 0).empty());
}

} // namespace
} // namespace setwise::vcpu
