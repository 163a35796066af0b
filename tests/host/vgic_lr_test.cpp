// vcpu/vgic_lr: the list register formats against hand-encoded values
// (ICH_LR<n>_EL2: IHI 0069H 12.4.7; GICH_LR<n>: IHI 0048B 5.3.11), and
// ListRegisterFile's fill / sync rounds against a fake virtual CPU
// interface that holds raw list register values and behaves as the GIC
// architecture says a virtual CPU interface does (IHI 0069H chapter 6,
// IHI 0048B chapter 5): the guest's acknowledge takes the highest-priority
// pending LR that can preempt the running priority, its EOI (EOImode 0)
// drops the priority and deactivates the LR (and, with HW = 1, the physical
// interrupt), an EOI that matches no LR counts in EOIcount, a deactivated
// LR with the EOI bit raises a maintenance interrupt, and with UIE set so
// does having at most one valid LR.
#include "vcpu/vgic_lr.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <utility>
#include <vector>

#include "vcpu/vgic_dist.hpp"

namespace setwise::vcpu {
namespace {

constexpr u32 kSpurious = 1023;

VgicConfig make_config(VgicVersion version, u32 vcpus) {
    std::vector<u64> mpidrs;
    for (u32 i = 0; i < vcpus; ++i) mpidrs.push_back(i);
    return VgicConfig::create(version, mpidrs).value();
}

// The guest's side: everything enabled, both groups on, SPIs to vCPU 0.
void guest_enables_everything(VgicState& s) {
    const VgicState::Guard g = s.lock();
    (void)s.set_group_enables(g, 3);
    for (u32 v = 0; v < s.nr_vcpus(); ++v) (void)s.write_bits(g, BitReg::set_enable, v, 0, ~0u);
    for (u32 first = 32; first < s.config().nr_intids(); first += 32)
        (void)s.write_bits(g, BitReg::set_enable, 0, first, ~0u);
    for (u32 i = 32; i < s.config().nr_intids(); ++i)
        if (s.version() == VgicVersion::v2) (void)s.write_targets(g, i, 1);
}

void set_priority(VgicState& s, u32 vcpu, u32 intid, u8 prio) {
    const VgicState::Guard g = s.lock();
    s.write_priority(g, vcpu, intid, prio);
}

void set_edge(VgicState& s, u32 vcpu, u32 first, u32 count) {
    const VgicState::Guard g = s.lock();
    for (u32 i = first; i < first + count; ++i) {
        const u32 base = i & ~15u;
        const u32 cfg = s.read_config(g, vcpu, base) | (1u << (2 * (i - base) + 1));
        (void)s.write_config(g, vcpu, base, cfg);
    }
}

// ===== Formats ===================================================================

TEST(LrFormat, IchLrHardwareEntry) {
    LrEntry e;
    e.vintid = 27;
    e.state = LrState::pending;
    e.priority = 0xa0;
    e.group1 = true;
    e.hw = true;
    e.pintid = 27;
    // State [63:62] = 01, HW [61], Group [60], Priority [55:48] = 0xa0,
    // pINTID [44:32] = 27, vINTID [31:0] = 27.
    EXPECT_EQ(encode_ich_lr(e), 0x70a0'001b'0000'001bull);
    EXPECT_EQ(decode_ich_lr(0x70a0'001b'0000'001bull), e);
}

TEST(LrFormat, IchLrSoftwareEntryWithEoi) {
    LrEntry e;
    e.vintid = 33;
    e.state = LrState::active;
    e.priority = 0x80;
    e.eoi = true;
    // State 10, Priority 0x80, EOI [41] (HW = 0), vINTID 33.
    EXPECT_EQ(encode_ich_lr(e), 0x8080'0200'0000'0021ull);
    EXPECT_EQ(decode_ich_lr(0x8080'0200'0000'0021ull), e);
    // vINTID is 32 bits wide; pending and active is State 11.
    LrEntry big;
    big.vintid = 0x12345;
    big.state = LrState::pending_active;
    big.priority = 0x08;
    big.group1 = true;
    EXPECT_EQ(encode_ich_lr(big), 0xd008'0000'0001'2345ull);
    // HW = 0: bits [44:42] and [40:32] are RES0, not a pINTID; bit 41 clear.
    const LrEntry d = decode_ich_lr(0x4000'1dff'0000'0020ull);
    EXPECT_EQ(d.vintid, 32u);
    EXPECT_EQ(d.state, LrState::pending);
    EXPECT_FALSE(d.hw);
    EXPECT_EQ(d.pintid, 0u);
    EXPECT_FALSE(d.eoi);
    // A software entry never writes a pINTID; a hardware one never EOI.
    LrEntry sw = e;
    sw.pintid = 0x1fff;
    EXPECT_EQ(encode_ich_lr(sw), 0x8080'0200'0000'0021ull);
    LrEntry hw = e;
    hw.hw = true;
    hw.pintid = 0x1fff;
    EXPECT_EQ(encode_ich_lr(hw), 0xa080'1fff'0000'0021ull);
}

TEST(LrFormat, GichLrHardwareEntry) {
    LrEntry e;
    e.vintid = 27;
    e.state = LrState::pending;
    e.priority = 0xa0;
    e.group1 = true;
    e.hw = true;
    e.pintid = 27;
    // HW [31], Grp1 [30], State [29:28] = 01, Priority [27:23] = 0xa0 >> 3,
    // PhysicalID [19:10] = 27, VirtualID [9:0] = 27.
    EXPECT_EQ(encode_gich_lr(e), 0xda00'6c1bu);
    EXPECT_EQ(decode_gich_lr(0xda00'6c1bu), e);
}

TEST(LrFormat, GichLrSgiEntryWithSourceAndEoi) {
    LrEntry e;
    e.vintid = 5;
    e.state = LrState::pending;
    e.priority = 0x80;
    e.source = 3;
    e.eoi = true;
    // HW = 0: EOI [19], CPUID [12:10] = 3.
    EXPECT_EQ(encode_gich_lr(e), 0x1808'0c05u);
    EXPECT_EQ(decode_gich_lr(0x1808'0c05u), e);
    // Priority keeps its top 5 bits; VirtualID 10 bits.
    LrEntry p;
    p.vintid = 0x3ff;
    p.state = LrState::active;
    p.priority = 0xff;
    EXPECT_EQ(encode_gich_lr(p), 0x2f80'03ffu);
    EXPECT_EQ(decode_gich_lr(0x2f80'03ffu).priority, 0xf8);
}

TEST(LrFormat, ListRegisterCounts) {
    // ICH_VTR_EL2 / GICH_VTR: ListRegs [4:0] / [5:0] = count - 1; PRIbits [31:29].
    EXPECT_EQ(nr_list_registers(arm64::IchVtrEl2(0x9000'0003u)), 4u);
    EXPECT_EQ(nr_list_registers(arm64::IchVtrEl2(0x9000'003fu)), 32u); // [5] is not ListRegs
    EXPECT_EQ(nr_list_registers(arm64::GichVtr(0x9000'0003u)), 4u);
    EXPECT_EQ(nr_list_registers(arm64::GichVtr(0x0000'003fu)), 64u);
    EXPECT_EQ(ListRegisterFile(0, 0).nr_lrs(), 1u);
    EXPECT_EQ(ListRegisterFile(0, 64).nr_lrs(), 16u);
}

// ===== A fake virtual CPU interface ===============================================

class FakeCpuInterface {
public:
    FakeCpuInterface(VgicVersion version, usize nr) : v2_(version == VgicVersion::v2), lr_(nr, 0) {}

    // Entry: the hypervisor writes the LRs and ICH_HCR_EL2's UIE, NPIE and
    // LRENPIE.
    void load(std::span<const LrEntry> entries, const ListRegisterFile::FillResult& r) {
        for (usize i = 0; i < lr_.size(); ++i) lr_[i] = encode(entries[i]);
        uie_ = r.underflow;
        npie_ = r.no_pending;
        lrenpie_ = r.eoi_count;
        maintenance_ = false;
    }
    // Exit: the hypervisor reads them back.
    std::vector<LrEntry> readback() const {
        std::vector<LrEntry> out;
        for (u64 raw : lr_) out.push_back(decode(raw));
        return out;
    }
    u32 take_eoi_count() { return std::exchange(eoi_count_, 0); }

    struct Ack {
        u32 intid = kSpurious;
        u8 source = 0;
    };
    // ICC_IAR1_EL1 / GICV_IAR.
    Ack acknowledge() {
        int best = -1;
        for (usize i = 0; i < lr_.size(); ++i) {
            const LrEntry e = decode(lr_[i]);
            if (e.state != LrState::pending || e.priority >= running_priority()) continue;
            if (best < 0 || e.priority < decode(lr_[static_cast<usize>(best)]).priority) best = static_cast<int>(i);
        }
        if (best < 0) return {};
        LrEntry e = decode(lr_[static_cast<usize>(best)]);
        e.state = LrState::active;
        lr_[static_cast<usize>(best)] = encode(e);
        stack_.push_back({e.vintid, e.priority, e.source});
        return {e.vintid, e.source};
    }
    // ICC_EOIR1_EL1 / GICV_EOIR with EOImode 0: priority drop of the running
    // interrupt, then deactivation of the LR holding it.
    void end_of_interrupt() {
        if (stack_.empty()) return;
        const Active a = stack_.back();
        stack_.pop_back();
        for (u64& raw : lr_) {
            LrEntry e = decode(raw);
            if (e.vintid != a.intid || !lr_active(e.state) || (v2_ && !e.hw && e.source != a.source)) continue;
            e.state = e.state == LrState::pending_active ? LrState::pending : LrState::invalid;
            if (e.hw) deactivated_physical.push_back(e.pintid);
            if (e.eoi && e.state == LrState::invalid) maintenance_ = true;
            raw = encode(e);
            return;
        }
        ++eoi_count_;
    }
    // A maintenance interrupt is asserted: the guest exits. (IHI 0069H
    // ICH_MISR_EL2: EOI, U, NP, LRENP.)
    bool must_exit() const {
        if (maintenance_ || (uie_ && valid() <= 1) || (lrenpie_ && eoi_count_ != 0)) return true;
        if (!npie_) return false;
        for (u64 raw : lr_)
            if (decode(raw).state == LrState::pending) return false;
        return true;
    }
    usize valid() const {
        usize n = 0;
        for (u64 raw : lr_) n += decode(raw).state != LrState::invalid ? 1 : 0;
        return n;
    }
    usize depth() const { return stack_.size(); }
    bool is_active(u32 intid) const {
        return std::any_of(stack_.begin(), stack_.end(), [intid](const Active& a) { return a.intid == intid; });
    }

    std::vector<u32> deactivated_physical;

private:
    struct Active {
        u32 intid;
        u8 priority;
        u8 source;
    };
    u32 running_priority() const {
        u32 p = 0x100; // idle
        for (const Active& a : stack_) p = std::min<u32>(p, a.priority);
        return p;
    }
    u64 encode(const LrEntry& e) const { return v2_ ? encode_gich_lr(e) : encode_ich_lr(e); }
    LrEntry decode(u64 raw) const { return v2_ ? decode_gich_lr(static_cast<u32>(raw)) : decode_ich_lr(raw); }

    bool v2_;
    std::vector<u64> lr_;
    std::vector<Active> stack_;
    bool uie_ = false;
    bool npie_ = false;
    bool lrenpie_ = false;
    bool maintenance_ = false;
    u32 eoi_count_ = 0;
};

// One vCPU's round trip: fill, run the guest, sync.
class Harness {
public:
    Harness(VgicVersion version, u32 vcpus, usize nr_lrs, u32 vcpu = 0)
        : state(make_config(version, vcpus)), lrs(vcpu, nr_lrs), cpu(version, nr_lrs), entries(nr_lrs) {}

    ListRegisterFile::FillResult enter() {
        const ListRegisterFile::FillResult r = lrs.fill(state, entries);
        cpu.load(entries, r);
        return r;
    }
    ListRegisterFile::SyncResult exit() {
        const std::vector<LrEntry> back = cpu.readback();
        return lrs.sync(state, back, cpu.take_eoi_count());
    }
    // The guest takes and completes interrupts until it must exit or has
    // nothing left; returns the INTIDs in the order it acknowledged them.
    std::vector<u32> run_to_exit() {
        std::vector<u32> order;
        while (!cpu.must_exit()) {
            const FakeCpuInterface::Ack a = cpu.acknowledge();
            if (a.intid == kSpurious) break;
            order.push_back(a.intid);
            cpu.end_of_interrupt();
        }
        return order;
    }

    VgicState state;
    ListRegisterFile lrs;
    FakeCpuInterface cpu;
    std::vector<LrEntry> entries;
};

// ===== Fill and sync =================================================================

TEST(ListRegisterFile, OnePendingSpiRoundTrip) {
    Harness h(VgicVersion::v3, 1, 4);
    guest_enables_everything(h.state);
    set_priority(h.state, 0, 40, 0x40);
    set_edge(h.state, 0, 40, 1);
    ASSERT_TRUE(h.state.raise_edge(40, 0).ok());

    const ListRegisterFile::FillResult r = h.enter();
    EXPECT_EQ(r.used, 1u);
    EXPECT_FALSE(r.underflow);
    EXPECT_EQ(h.entries[0].vintid, 40u);
    EXPECT_EQ(h.entries[0].state, LrState::pending);
    EXPECT_EQ(h.entries[0].priority, 0x40);
    EXPECT_TRUE(h.entries[0].group1);
    EXPECT_FALSE(h.entries[0].eoi); // edge: no resampling
    for (usize i = 1; i < 4; ++i) EXPECT_EQ(h.entries[i].state, LrState::invalid);
    // Listed: still pending as the guest's registers see it, but no longer waiting.
    EXPECT_TRUE(h.state.inspect(40, 0).value().pending);
    EXPECT_TRUE(h.state.inspect(40, 0).value().listed);
    EXPECT_FALSE(h.state.highest_pending(0).has_value());
    EXPECT_EQ(h.state.acknowledge(0, 40).status(), Status::busy);

    EXPECT_EQ(h.cpu.acknowledge().intid, 40u); // the guest takes it, does not finish yet
    h.exit();
    EXPECT_TRUE(h.state.inspect(40, 0).value().active);
    EXPECT_FALSE(h.state.inspect(40, 0).value().pending);
    EXPECT_FALSE(h.state.inspect(40, 0).value().listed);

    EXPECT_EQ(h.enter().used, 1u); // active interrupts stay listed
    EXPECT_EQ(h.entries[0].state, LrState::active);
    h.cpu.end_of_interrupt();
    h.exit();
    EXPECT_FALSE(h.state.inspect(40, 0).value().active);
    EXPECT_EQ(h.enter().used, 0u);
    EXPECT_FALSE(h.lrs.in_flight());
}

TEST(ListRegisterFile, SixPendingFourLrsComeOutInPriorityOrder) {
    Harness h(VgicVersion::v3, 1, 4);
    guest_enables_everything(h.state);
    const std::pair<u32, u8> irqs[] = {{40, 0x50}, {41, 0x10}, {42, 0x30}, {43, 0x60}, {44, 0x20}, {45, 0x40}};
    set_edge(h.state, 0, 40, 6);
    for (const auto& [intid, prio] : irqs) {
        set_priority(h.state, 0, intid, prio);
        ASSERT_TRUE(h.state.raise_edge(intid, 0).ok());
    }
    // Round 1: the four highest, underflow requested for the other two.
    ListRegisterFile::FillResult r = h.enter();
    EXPECT_EQ(r.used, 4u);
    EXPECT_TRUE(r.underflow);
    std::vector<u32> listed;
    for (usize i = 0; i < 4; ++i) listed.push_back(h.entries[i].vintid);
    EXPECT_EQ(listed, (std::vector<u32>{41, 44, 42, 45}));
    // The guest exits on underflow once at most one LR is valid.
    std::vector<u32> order = h.run_to_exit();
    EXPECT_EQ(order, (std::vector<u32>{41, 44, 42}));
    EXPECT_EQ(h.cpu.valid(), 1u);
    h.exit();
    EXPECT_TRUE(h.state.inspect(45, 0).value().pending); // given back, not lost
    // Round 2: the rest fits.
    r = h.enter();
    EXPECT_EQ(r.used, 3u);
    EXPECT_FALSE(r.underflow);
    const std::vector<u32> rest = h.run_to_exit();
    order.insert(order.end(), rest.begin(), rest.end());
    h.exit();
    EXPECT_EQ(order, (std::vector<u32>{41, 44, 42, 45, 40, 43}));
    EXPECT_EQ(h.enter().used, 0u);
    for (const auto& [intid, prio] : irqs) {
        EXPECT_FALSE(h.state.inspect(intid, 0).value().pending);
        EXPECT_FALSE(h.state.inspect(intid, 0).value().active);
    }
}

TEST(ListRegisterFile, PriorityDecidesBetweenActiveAndPending) {
    Harness h(VgicVersion::v3, 1, 2);
    guest_enables_everything(h.state);
    set_edge(h.state, 0, 40, 4);
    set_priority(h.state, 0, 40, 0x80);
    set_priority(h.state, 0, 41, 0x10);
    set_priority(h.state, 0, 42, 0x00);
    set_priority(h.state, 0, 43, 0x80);
    ASSERT_TRUE(h.state.raise_edge(40, 0).ok());
    h.enter();
    ASSERT_EQ(h.cpu.acknowledge().intid, 40u); // the guest is in 40's handler
    h.exit();
    ASSERT_TRUE(h.state.raise_edge(41, 0).ok());
    ASSERT_TRUE(h.state.raise_edge(42, 0).ok());
    ListRegisterFile::FillResult r = h.enter();
    // Both pending interrupts can preempt 40: they get the two LRs, and 40,
    // active without an LR, is deactivated through EOIcount if need be.
    EXPECT_EQ(h.entries[0].vintid, 42u);
    EXPECT_EQ(h.entries[1].vintid, 41u);
    EXPECT_TRUE(r.overflow);
    EXPECT_TRUE(r.underflow);
    EXPECT_TRUE(r.eoi_count);
    EXPECT_EQ(h.run_to_exit(), std::vector<u32>{42}); // then only one LR is valid
    h.exit();
    r = h.enter();
    EXPECT_EQ(h.entries[0].vintid, 41u);
    EXPECT_EQ(h.entries[1].vintid, 40u);
    EXPECT_EQ(h.entries[1].state, LrState::active);
    EXPECT_FALSE(r.overflow);
    EXPECT_EQ(h.run_to_exit(), std::vector<u32>{41});
    h.cpu.end_of_interrupt(); // 40's handler returns
    EXPECT_EQ(h.cpu.take_eoi_count(), 0u);
    h.exit();
    EXPECT_FALSE(h.state.inspect(40, 0).value().active);

    // At equal priority the active one keeps its LR: the pending one could
    // not preempt it anyway.
    ASSERT_TRUE(h.state.raise_edge(40, 0).ok());
    h.enter();
    ASSERT_EQ(h.cpu.acknowledge().intid, 40u);
    h.exit();
    ASSERT_TRUE(h.state.raise_edge(43, 0).ok());
    ASSERT_TRUE(h.state.raise_edge(42, 0).ok());
    r = h.enter();
    EXPECT_EQ(h.entries[0].vintid, 42u);
    EXPECT_EQ(h.entries[1].vintid, 40u);
    EXPECT_FALSE(r.eoi_count);
    EXPECT_TRUE(r.underflow);
}

TEST(ListRegisterFile, OneListRegisterNeverLivelocks) {
    // UIE would fire at once with a single LR; NPIE or the EOI bit bring
    // the guest back instead.
    Harness h(VgicVersion::v3, 1, 1);
    guest_enables_everything(h.state);
    set_edge(h.state, 0, 40, 2);
    set_priority(h.state, 0, 40, 0x10);
    set_priority(h.state, 0, 41, 0x20);
    ASSERT_TRUE(h.state.raise_edge(40, 0).ok());
    ASSERT_TRUE(h.state.raise_edge(41, 0).ok());
    ListRegisterFile::FillResult r = h.enter();
    EXPECT_TRUE(r.overflow);
    EXPECT_FALSE(r.underflow);
    EXPECT_TRUE(r.no_pending);
    EXPECT_FALSE(h.cpu.must_exit());
    ASSERT_EQ(h.cpu.acknowledge().intid, 40u);
    EXPECT_TRUE(h.cpu.must_exit()); // NP
    h.exit();
    r = h.enter(); // 40 active keeps the LR (41 cannot preempt it)
    EXPECT_EQ(h.entries[0].vintid, 40u);
    EXPECT_TRUE(h.entries[0].eoi);
    EXPECT_FALSE(r.no_pending);
    EXPECT_FALSE(h.cpu.must_exit());
    h.cpu.end_of_interrupt();
    EXPECT_TRUE(h.cpu.must_exit()); // EOI maintenance
    h.exit();
    h.enter();
    EXPECT_EQ(h.run_to_exit(), std::vector<u32>{41});
}

TEST(ListRegisterFile, EdgeArrivingWhileListedIsNeitherLostNorDuplicated) {
    Harness h(VgicVersion::v3, 1, 4);
    guest_enables_everything(h.state);
    set_edge(h.state, 0, 40, 1);
    ASSERT_TRUE(h.state.raise_edge(40, 0).ok());
    h.enter();
    // A second edge while the first sits pending in the LR: the two merge
    // (pending is one bit), so the guest sees one interrupt.
    ASSERT_TRUE(h.state.raise_edge(40, 0).ok());
    h.exit();
    EXPECT_EQ(h.enter().used, 1u);
    EXPECT_EQ(h.entries[0].state, LrState::pending);
    EXPECT_EQ(h.run_to_exit(), std::vector<u32>{40});
    h.exit();
    EXPECT_EQ(h.enter().used, 0u);
    h.exit();

    // An edge after the guest acknowledged it is a new one: active and
    // pending, taken again after the EOI.
    ASSERT_TRUE(h.state.raise_edge(40, 0).ok());
    h.enter();
    ASSERT_EQ(h.cpu.acknowledge().intid, 40u);
    ASSERT_TRUE(h.state.raise_edge(40, 0).ok()); // arrives while the guest runs the handler
    h.exit();
    EXPECT_TRUE(h.state.inspect(40, 0).value().active);
    EXPECT_TRUE(h.state.inspect(40, 0).value().pending);
    h.enter();
    EXPECT_EQ(h.entries[0].state, LrState::pending_active);
    h.cpu.end_of_interrupt();
    EXPECT_EQ(h.run_to_exit(), std::vector<u32>{40});
    h.exit();
    EXPECT_FALSE(h.state.inspect(40, 0).value().pending);
    EXPECT_FALSE(h.state.inspect(40, 0).value().active);
}

TEST(ListRegisterFile, LevelInterruptsAskForEoiMaintenanceAndResample) {
    Harness h(VgicVersion::v3, 1, 4);
    guest_enables_everything(h.state);
    ASSERT_TRUE(h.state.set_level(33, 0, true).ok()); // the vPL011, level-sensitive
    h.enter();
    EXPECT_EQ(h.entries[0].vintid, 33u);
    EXPECT_TRUE(h.entries[0].eoi);
    ASSERT_EQ(h.cpu.acknowledge().intid, 33u);
    h.cpu.end_of_interrupt(); // the handler did not quieten the device
    EXPECT_TRUE(h.cpu.must_exit()); // EOI maintenance interrupt
    h.exit();
    EXPECT_EQ(h.enter().used, 1u); // the line is still high: pending again
    EXPECT_EQ(h.entries[0].state, LrState::pending);
    ASSERT_EQ(h.cpu.acknowledge().intid, 33u);
    h.exit();
    ASSERT_TRUE(h.state.set_level(33, 0, false).ok()); // the handler's MMIO drained the UART
    h.enter();
    EXPECT_EQ(h.entries[0].state, LrState::active); // not pending any more
    h.cpu.end_of_interrupt();
    h.exit();
    EXPECT_EQ(h.enter().used, 0u);
}

TEST(ListRegisterFile, LevelLineDroppingWhileListedIsNotRestored) {
    Harness h(VgicVersion::v3, 1, 4);
    guest_enables_everything(h.state);
    ASSERT_TRUE(h.state.set_level(33, 0, true).ok());
    h.enter();
    ASSERT_TRUE(h.state.set_level(33, 0, false).ok());
    h.exit(); // the guest never took it
    EXPECT_FALSE(h.state.inspect(33, 0).value().pending);
    EXPECT_EQ(h.enter().used, 0u);
}

TEST(ListRegisterFile, HardwareLinkedTimerPpi) {
    Harness h(VgicVersion::v3, 1, 4);
    guest_enables_everything(h.state);
    ASSERT_EQ(h.state.map_hw(vgic::kVirtualTimerIntid, 0, 27), Status::ok);
    ASSERT_TRUE(h.state.set_level(27, 0, true).ok());
    h.enter();
    EXPECT_EQ(h.entries[0].vintid, 27u);
    EXPECT_TRUE(h.entries[0].hw);
    EXPECT_EQ(h.entries[0].pintid, 27u);
    EXPECT_FALSE(h.entries[0].eoi);
    ASSERT_EQ(h.cpu.acknowledge().intid, 27u);
    ASSERT_TRUE(h.state.raise_edge(27, 0).ok()); // software pending on top of an active HW interrupt
    h.exit();
    h.enter();
    // Never pending and active with HW = 1.
    EXPECT_EQ(h.entries[0].state, LrState::active);
    h.cpu.end_of_interrupt();
    EXPECT_EQ(h.cpu.deactivated_physical, std::vector<u32>{27});
    h.exit();
    ASSERT_TRUE(h.state.set_level(27, 0, false).ok()); // the timer code samples the timer
    h.enter();
    EXPECT_EQ(h.entries[0].state, LrState::pending); // the software edge, still there
    EXPECT_EQ(h.run_to_exit(), std::vector<u32>{27});
    h.exit();
    EXPECT_EQ(h.enter().used, 0u);
}

TEST(ListRegisterFile, V2SgiSourcesOneAtATime) {
    Harness h(VgicVersion::v2, 3, 4);
    guest_enables_everything(h.state);
    (void)h.state.send_sgi_v2(2, SgiFilter::target_list, 0b001, 3);
    (void)h.state.send_sgi_v2(1, SgiFilter::target_list, 0b001, 3);
    ListRegisterFile::FillResult r = h.enter();
    ASSERT_EQ(r.used, 1u); // one LR per INTID
    EXPECT_EQ(h.entries[0].vintid, 3u);
    EXPECT_EQ(h.entries[0].source, 1);
    EXPECT_TRUE(h.entries[0].eoi); // source 2 waits behind it
    FakeCpuInterface::Ack a = h.cpu.acknowledge();
    EXPECT_EQ(a.intid, 3u);
    EXPECT_EQ(a.source, 1);
    h.cpu.end_of_interrupt();
    EXPECT_TRUE(h.cpu.must_exit());
    h.exit();
    r = h.enter();
    ASSERT_EQ(r.used, 1u);
    EXPECT_EQ(h.entries[0].source, 2);
    EXPECT_FALSE(h.entries[0].eoi);
    a = h.cpu.acknowledge();
    EXPECT_EQ(a.source, 2);
    // The same source again while active: active and pending, same CPUID.
    h.exit();
    (void)h.state.send_sgi_v2(2, SgiFilter::target_list, 0b001, 3);
    (void)h.state.send_sgi_v2(1, SgiFilter::target_list, 0b001, 3);
    h.enter();
    EXPECT_EQ(h.entries[0].state, LrState::pending_active);
    EXPECT_EQ(h.entries[0].source, 2);
    EXPECT_TRUE(h.entries[0].eoi); // source 1 waits
    h.cpu.end_of_interrupt();
    EXPECT_EQ(h.cpu.acknowledge().source, 2);
    h.cpu.end_of_interrupt();
    h.exit();
    h.enter();
    EXPECT_EQ(h.entries[0].source, 1);
    EXPECT_EQ(h.run_to_exit(), std::vector<u32>{3});
    h.exit();
    EXPECT_EQ(h.enter().used, 0u);
}

TEST(ListRegisterFile, DistributorClearPendingCancelsTheListedEntry) {
    Harness h(VgicVersion::v3, 1, 4);
    guest_enables_everything(h.state);
    set_edge(h.state, 0, 40, 1);
    VgicDist dist(h.state);
    ASSERT_TRUE(h.state.raise_edge(40, 0).ok());
    h.enter();
    dist.write(0, 0x280 + 4, 4, 1u << 8); // GICD_ICPENDR1, INTID 40 (another vCPU, say)
    EXPECT_FALSE(h.state.inspect(40, 0).value().pending);
    h.exit(); // the LR still said pending: not given back
    EXPECT_FALSE(h.state.inspect(40, 0).value().pending);
    EXPECT_EQ(h.enter().used, 0u);
}

TEST(ListRegisterFile, DistributorClearActiveWinsOverTheLr) {
    Harness h(VgicVersion::v3, 1, 4);
    guest_enables_everything(h.state);
    VgicDist dist(h.state);
    ASSERT_TRUE(h.state.raise_edge(40, 0).ok());
    h.enter();
    ASSERT_EQ(h.cpu.acknowledge().intid, 40u);
    h.exit();
    h.enter();
    dist.write(0, 0x380 + 4, 4, 1u << 8); // GICD_ICACTIVER1
    h.exit();                              // the LR still says active
    EXPECT_FALSE(h.state.inspect(40, 0).value().active);
    EXPECT_EQ(h.enter().used, 0u);
}

TEST(ListRegisterFile, EoiCountDeactivatesTheUnlistedActiveInterrupt) {
    // Five nested handlers, four LRs: the outermost (lowest priority) has no
    // LR, so its EOI only counts in EOIcount.
    Harness h(VgicVersion::v3, 1, 4);
    guest_enables_everything(h.state);
    ASSERT_EQ(h.state.map_hw(30, 0, 30), Status::ok);
    const std::pair<u32, u8> nest[] = {{30, 0xf0}, {40, 0xc0}, {41, 0x80}, {42, 0x40}, {43, 0x00}};
    for (const auto& [intid, prio] : nest) {
        set_priority(h.state, 0, intid, prio);
        ASSERT_TRUE(h.state.raise_edge(intid, 0).ok());
        h.enter();
        ASSERT_EQ(h.cpu.acknowledge().intid, intid);
        h.exit();
    }
    const ListRegisterFile::FillResult r = h.enter();
    EXPECT_EQ(r.used, 4u);
    EXPECT_TRUE(r.underflow);
    EXPECT_TRUE(r.eoi_count); // LRENPIE: 30 is active without an LR
    for (usize i = 0; i < 4; ++i) EXPECT_NE(h.entries[i].vintid, 30u);
    for (int i = 0; i < 5; ++i) h.cpu.end_of_interrupt();
    EXPECT_TRUE(h.cpu.deactivated_physical.empty()); // 30 was in no LR
    const ListRegisterFile::SyncResult s = h.exit();
    EXPECT_EQ(s.eois_unlisted, 1u);
    EXPECT_EQ(s.eois_unmatched, 0u);
    ASSERT_EQ(s.hw_count, 1u);
    EXPECT_EQ(s.hw_pintids[0], 30u); // the caller deactivates it physically
    for (const auto& [intid, prio] : nest) EXPECT_FALSE(h.state.inspect(intid, 0).value().active);
    EXPECT_EQ(h.enter().used, 0u);
}

TEST(ListRegisterFile, EoiCountWithNothingActiveIsCounted) {
    Harness h(VgicVersion::v3, 1, 4);
    h.enter();
    const ListRegisterFile::SyncResult s = h.lrs.sync(h.state, {}, 3);
    EXPECT_EQ(s.eois_unlisted, 0u);
    EXPECT_EQ(s.eois_unmatched, 3u);
}

TEST(ListRegisterFile, FillTwiceWithoutSyncKeepsEverything) {
    Harness h(VgicVersion::v3, 1, 4);
    guest_enables_everything(h.state);
    set_edge(h.state, 0, 40, 6);
    for (u32 i = 40; i < 46; ++i) ASSERT_TRUE(h.state.raise_edge(i, 0).ok());
    h.enter();
    const std::vector<LrEntry> first = h.entries;
    h.enter(); // the guest never ran
    EXPECT_EQ(h.entries, first);
    std::vector<u32> all;
    for (int round = 0; round < 2; ++round) {
        const std::vector<u32> got = h.run_to_exit();
        all.insert(all.end(), got.begin(), got.end());
        h.exit();
        h.enter();
    }
    EXPECT_EQ(all, (std::vector<u32>{40, 41, 42, 43, 44, 45}));
}

TEST(ListRegisterFile, ReadbackOfAnotherIntidIsTakenAsUnchanged) {
    Harness h(VgicVersion::v3, 1, 4);
    guest_enables_everything(h.state);
    ASSERT_TRUE(h.state.raise_edge(40, 0).ok());
    h.enter();
    LrEntry bogus = h.entries[0];
    bogus.vintid = 41;
    bogus.state = LrState::invalid;
    h.lrs.sync(h.state, std::vector<LrEntry>{bogus});
    EXPECT_TRUE(h.state.inspect(40, 0).value().pending);
    EXPECT_FALSE(h.state.inspect(41, 0).value().pending);
}

TEST(ListRegisterFile, ResetWhileInFlight) {
    Harness h(VgicVersion::v3, 1, 4);
    guest_enables_everything(h.state);
    ASSERT_TRUE(h.state.raise_edge(40, 0).ok());
    h.enter();
    ASSERT_EQ(h.cpu.acknowledge().intid, 40u);
    h.state.reset();
    h.exit(); // the old listing no longer applies
    EXPECT_FALSE(h.state.inspect(40, 0).value().active);
    h.lrs.reset();
    EXPECT_FALSE(h.lrs.in_flight());
}

TEST(ListRegisterFile, SpiListedOnOneVcpuIsNotOfferedToAnother) {
    VgicState state(make_config(VgicVersion::v2, 2));
    guest_enables_everything(state);
    ListRegisterFile lr0(0, 4), lr1(1, 4);
    std::vector<LrEntry> e0(4), e1(4);
    ASSERT_TRUE(state.raise_edge(40, 0).ok());
    EXPECT_EQ(lr0.fill(state, e0).used, 1u);
    {
        const VgicState::Guard g = state.lock();
        EXPECT_EQ(state.write_targets(g, 40, 0b10), 0u); // re-routed while listed: no kick
    }
    EXPECT_EQ(lr1.fill(state, e1).used, 0u);
    e0[0].state = LrState::pending; // vCPU 0 did not take it
    EXPECT_EQ(lr0.sync(state, e0).kick, 0b10u); // it waits for vCPU 1 now
    EXPECT_EQ(lr1.fill(state, e1).used, 1u);
    EXPECT_EQ(e1[0].vintid, 40u);
}

TEST(ListRegisterFile, PendingPartRoutedElsewhereWaitsForTheDeactivation) {
    VgicState state(make_config(VgicVersion::v3, 2));
    guest_enables_everything(state);
    set_edge(state, 0, 40, 1);
    ListRegisterFile lr0(0, 4), lr1(1, 4);
    std::vector<LrEntry> e0(4), e1(4);
    ASSERT_TRUE(state.raise_edge(40, 0).ok());
    lr0.fill(state, e0);
    e0[0].state = LrState::active; // vCPU 0's guest acknowledged it
    lr0.sync(state, e0);
    {
        const VgicState::Guard g = state.lock();
        (void)state.write_irouter(g, 40, 1); // now routed to vCPU 1
    }
    ASSERT_TRUE(state.raise_edge(40, 0).ok());
    EXPECT_EQ(lr1.fill(state, e1).used, 0u); // active on vCPU 0: not delivered
    lr1.sync(state, e1);
    lr0.fill(state, e0);
    EXPECT_EQ(e0[0].vintid, 40u);
    EXPECT_EQ(e0[0].state, LrState::active); // its pending part is vCPU 1's
    EXPECT_TRUE(e0[0].eoi);                  // so vCPU 0 exits when it is done
    e0[0].state = LrState::invalid;
    EXPECT_EQ(lr0.sync(state, e0).kick, 0b10u);
    EXPECT_EQ(lr1.fill(state, e1).used, 1u);
    EXPECT_EQ(e1[0].vintid, 40u);
    EXPECT_EQ(e1[0].state, LrState::pending);
}

// ===== Many rounds: nothing lost, nothing duplicated, priority order ================

// Edge SPIs 32..63 with distinct priorities (and for v2 also SGIs 0..7 from
// vCPUs 1 and 2) raised at random between rounds; the guest acknowledges
// and completes at random, nesting as the priorities allow, and exits when
// the fake interface raises a maintenance interrupt or at random. Each
// raise of an interrupt that is not already pending must be acknowledged
// exactly once, always the highest-priority one available.
void many_rounds(VgicVersion version, u32 seed, usize nr_lrs, usize min_raised) {
    const bool v2 = version == VgicVersion::v2;
    Harness h(version, v2 ? 3 : 1, nr_lrs);
    guest_enables_everything(h.state);
    set_edge(h.state, 0, 32, 32);
    std::map<u32, u8> prio;
    for (u32 i = 32; i < 64; ++i) prio[i] = static_cast<u8>(((i * 7) % 32) << 3);
    if (v2)
        for (u32 i = 0; i < 8; ++i) prio[i] = static_cast<u8>(((i * 5 + 3) % 32) << 3);
    for (const auto& [intid, p] : prio) set_priority(h.state, 0, intid, p);

    std::mt19937 rng(seed);
    using Key = std::pair<u32, u8>; // INTID, source
    std::set<Key> outstanding;       // raised, not yet acknowledged
    usize raised = 0, acked = 0;

    const auto raise_some = [&] {
        const int n = static_cast<int>(rng() % 5);
        for (int i = 0; i < n; ++i) {
            Key k;
            if (v2 && rng() % 3 == 0) {
                k = {rng() % 8, static_cast<u8>(1 + rng() % 2)};
                if (outstanding.count(k) != 0) continue;
                (void)h.state.send_sgi_v2(k.second, SgiFilter::target_list, 0b001, k.first);
            } else {
                k = {32 + rng() % 32, 0};
                if (outstanding.count(k) != 0) continue;
                ASSERT_TRUE(h.state.raise_edge(k.first, 0).ok());
            }
            outstanding.insert(k);
            ++raised;
        }
    };
    const auto take = [&](const FakeCpuInterface::Ack& a) {
        const Key k{a.intid, v2 && a.intid < 16 ? a.source : u8{0}};
        ASSERT_EQ(outstanding.count(k), 1u) << "INTID " << a.intid << " delivered twice or never raised";
        // Nothing that could have been taken instead had a higher priority.
        for (const Key& o : outstanding)
            if (!h.cpu.is_active(o.first)) ASSERT_LE(prio[a.intid], prio[o.first]);
        outstanding.erase(k);
        ++acked;
    };

    for (int round = 0; round < 300; ++round) {
        raise_some();
        const ListRegisterFile::FillResult r = h.enter();
        // Underflow is asked for exactly when something did not fit.
        std::set<u32> need;
        for (const Key& o : outstanding) need.insert(o.first);
        for (u32 i = 0; i < 64; ++i)
            if (h.cpu.is_active(i)) need.insert(i);
        EXPECT_EQ(r.overflow, need.size() > nr_lrs);
        if (need.size() > nr_lrs && nr_lrs >= 2) EXPECT_TRUE(r.underflow);
        const int steps = static_cast<int>(rng() % 8);
        for (int s = 0; s < steps && !h.cpu.must_exit(); ++s) {
            if (rng() % 2 == 0) {
                const FakeCpuInterface::Ack a = h.cpu.acknowledge();
                if (a.intid != kSpurious) take(a);
            } else {
                h.cpu.end_of_interrupt();
            }
        }
        h.exit();
    }
    // Drain: the guest completes everything.
    for (int round = 0; round < 200 && (!outstanding.empty() || h.cpu.depth() != 0); ++round) {
        h.enter();
        while (h.cpu.depth() != 0) h.cpu.end_of_interrupt();
        while (!h.cpu.must_exit()) {
            const FakeCpuInterface::Ack a = h.cpu.acknowledge();
            if (a.intid == kSpurious) break;
            take(a);
            h.cpu.end_of_interrupt();
        }
        h.exit();
    }
    EXPECT_TRUE(outstanding.empty()) << outstanding.size() << " interrupts lost";
    EXPECT_EQ(acked, raised);
    EXPECT_GT(raised, min_raised); // the run did exercise something
    EXPECT_EQ(h.enter().used, 0u);
    EXPECT_FALSE(h.state.highest_pending(0).has_value());
}

TEST(ListRegisterFile, ManyRoundsV3FourLrs) {
    for (u32 seed = 1; seed <= 20; ++seed) many_rounds(VgicVersion::v3, seed, 4, 200);
}

TEST(ListRegisterFile, ManyRoundsV2FourLrsWithSgiSources) {
    for (u32 seed = 1; seed <= 20; ++seed) many_rounds(VgicVersion::v2, seed, 4, 200);
}

TEST(ListRegisterFile, ManyRoundsOneLr) {
    for (u32 seed = 1; seed <= 5; ++seed) {
        many_rounds(VgicVersion::v3, seed, 1, 100); // one LR: fewer taken per round
        many_rounds(VgicVersion::v2, seed, 1, 100);
    }
}

} // namespace
} // namespace setwise::vcpu
