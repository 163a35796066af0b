// arch/arm64/gic*: the GICv2 and GICv3 drivers against a fake register
// file (plain memory, every access journaled, read hooks for the bits
// hardware changes by itself) and a recording fake of the system registers.
//
// Expected offsets and values are written out from the specifications, not
// taken from the code under test: ARM IHI 0048B.b (GICv2) register maps and
// descriptions of chapters 4 and 5; ARM IHI 0069H (GICv3) register maps and
// descriptions of chapter 12, and its system register encodings.
#include "arch/arm64/gic.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "arch/arm64/gic_regs.hpp"
#include "arch/arm64/gic_v2.hpp"
#include "arch/arm64/gic_v3.hpp"

namespace setwise::arm64 {
namespace {

// ---------------------------------------------------------------------------
// Fakes

enum class Kind { read32, write32, write8, sysreg_read, sysreg_write, isb, dsb_ishst, dsb_sy };

struct Event {
    Kind kind;
    const void* who; // the fake block or CPU
    u64 where;       // byte offset, or GicSysreg
    u64 value;
};

struct Journal {
    std::vector<Event> events;
};

// A register block: words of plain memory. A read hook may replace what a
// read returns (and change the stored value), as hardware-owned bits do.
class FakeRegs final : public GicRegisters {
public:
    FakeRegs(Journal& j, u64 size) : journal_(j), mem_(size / 4, 0) {}

    u32 read32(u64 offset) override {
        EXPECT_EQ(offset % 4, 0u);
        EXPECT_LT(offset / 4, mem_.size());
        if (offset / 4 >= mem_.size()) return 0;
        // The hook runs first: a bit it clears reads as clear on this read.
        std::optional<u32> o;
        if (on_read) o = on_read(offset, mem_[offset / 4]);
        const u32 v = o ? *o : mem_[offset / 4];
        journal_.events.push_back({Kind::read32, this, offset, v});
        return v;
    }
    void write32(u64 offset, u32 v) override {
        EXPECT_EQ(offset % 4, 0u);
        ASSERT_LT(offset / 4, mem_.size());
        journal_.events.push_back({Kind::write32, this, offset, v});
        mem_[offset / 4] = v;
    }
    void write8(u64 offset, u8 v) override {
        ASSERT_LT(offset / 4, mem_.size());
        journal_.events.push_back({Kind::write8, this, offset, v});
        const unsigned sh = static_cast<unsigned>(offset % 4) * 8;
        mem_[offset / 4] = (mem_[offset / 4] & ~(0xffu << sh)) | (u32{v} << sh);
    }

    u32& at(u64 offset) { return mem_[offset / 4]; }
    std::function<std::optional<u32>(u64 offset, u32& stored)> on_read;

private:
    Journal& journal_;
    std::vector<u32> mem_;
};

class FakeCpu final : public GicCpu {
public:
    explicit FakeCpu(Journal& j) : journal_(j) {}

    u64 read(GicSysreg r) override {
        const u64 v = regs[r];
        journal_.events.push_back({Kind::sysreg_read, this, static_cast<u64>(r), v});
        return v;
    }
    void write(GicSysreg r, u64 v) override {
        journal_.events.push_back({Kind::sysreg_write, this, static_cast<u64>(r), v});
        // ICC_SRE_EL2.SRE is RAO/WI or RAZ/WI where only one interface exists.
        if (r == GicSysreg::icc_sre_el2 && !sre_sticks) v &= ~u64{1};
        regs[r] = v;
    }
    void isb() override { journal_.events.push_back({Kind::isb, this, 0, 0}); }
    void dsb_ishst() override { journal_.events.push_back({Kind::dsb_ishst, this, 0, 0}); }
    void dsb_sy() override { journal_.events.push_back({Kind::dsb_sy, this, 0, 0}); }
    void relax() override {}

    std::map<GicSysreg, u64> regs;
    bool sre_sticks = true;

private:
    Journal& journal_;
};

using Access = std::pair<u64, u64>; // offset (or sysreg), value

// Writes (32-bit and byte) to one block, in order.
std::vector<Access> writes_to(const Journal& j, const void* who) {
    std::vector<Access> out;
    for (const Event& e : j.events) {
        if (e.who == who && (e.kind == Kind::write32 || e.kind == Kind::write8)) out.push_back({e.where, e.value});
    }
    return out;
}
std::vector<Access> byte_writes_to(const Journal& j, const void* who) {
    std::vector<Access> out;
    for (const Event& e : j.events) {
        if (e.who == who && e.kind == Kind::write8) out.push_back({e.where, e.value});
    }
    return out;
}
// Index in the journal of the first event matching, or -1.
long find_event(const Journal& j, Kind k, const void* who, u64 where, long from = 0) {
    for (usize i = static_cast<usize>(from); i < j.events.size(); ++i) {
        const Event& e = j.events[i];
        if (e.kind == k && e.who == who && e.where == where) return static_cast<long>(i);
    }
    return -1;
}
long count_reads(const Journal& j, const void* who, u64 where) {
    long n = 0;
    for (const Event& e : j.events) n += e.kind == Kind::read32 && e.who == who && e.where == where;
    return n;
}
u64 sr(GicSysreg r) { return static_cast<u64>(r); }
// System register writes of one CPU, in order; and reads.
std::vector<Access> sysreg_writes(const Journal& j, const void* cpu) {
    std::vector<Access> out;
    for (const Event& e : j.events) {
        if (e.who == cpu && e.kind == Kind::sysreg_write) out.push_back({e.where, e.value});
    }
    return out;
}
std::vector<u64> sysreg_reads(const Journal& j, const void* cpu) {
    std::vector<u64> out;
    for (const Event& e : j.events) {
        if (e.who == cpu && e.kind == Kind::sysreg_read) out.push_back(e.where);
    }
    return out;
}

// MPIDR_EL1 with bit 31 (RES1) set, as the hardware reads it.
constexpr u64 mpidr(u64 aff3, u64 aff2, u64 aff1, u64 aff0) {
    return (aff3 << 32) | (u64{1} << 31) | (aff2 << 16) | (aff1 << 8) | aff0;
}

// ---------------------------------------------------------------------------
// Layouts

TEST(GicRegs, DistributorOffsetsOfIntids) {
    // IHI 0048B / IHI 0069H distributor register maps.
    EXPECT_EQ(intid_offset(GicdReg::igroupr, 32, 1), 0x084u);
    EXPECT_EQ(intid_offset(GicdReg::isenabler, 95, 1), 0x108u);
    EXPECT_EQ(intid_offset(GicdReg::icfgr, 47, 2), 0xc08u);
    EXPECT_EQ(intid_offset(GicdReg::icfgr, 48, 2), 0xc0cu);
    EXPECT_EQ(intid_offset(GicdReg::ipriorityr, 1019, 8), 0x7f8u);
    EXPECT_EQ(intid_byte(GicdReg::ipriorityr, 27), 0x41bu);
    EXPECT_EQ(intid_offset(GicdReg::irouter, 32, 64), 0x6100u);
    EXPECT_EQ(intid_offset(GicdReg::irouter, 1019, 64), 0x7fd8u);
}

TEST(GicRegs, TyperLinesAreCappedAt1020) {
    EXPECT_EQ(GicdTyper(0x0).intid_lines(), 32u);
    EXPECT_EQ(GicdTyper(0xfc02).intid_lines(), 96u); // other fields ignored
    EXPECT_EQ(GicdTyper(0x1f).intid_lines(), 1020u);
    EXPECT_TRUE(GicdTyper(u32{1} << 26).test<GicdTyper::rss>());
}

TEST(GicRegs, GichListRegister) {
    // IHI 0048B GICH_LRn: HW [31], Grp1 [30], State [29:28], Priority [27:23],
    // PhysicalID [19:10], VirtualID [9:0].
    const GichLr lr = GichLr{}
                          .with<GichLr::hw>(1)
                          .with<GichLr::state>(static_cast<u64>(GicLrState::pending))
                          .with<GichLr::priority>(0xa0 >> 3)
                          .with<GichLr::physical_id>(27)
                          .with<GichLr::virtual_id>(27);
    EXPECT_EQ(lr.raw(), 0x9a00'6c1bu);
    EXPECT_EQ(GichLr(0x4000'0000).get<GichLr::grp1>(), 1u);
    EXPECT_EQ(GichLr(0x0008'0000).get<GichLr::eoi>(), 1u);
    EXPECT_EQ(GichVtr(0x9000'0003).get<GichVtr::list_regs>(), 3u);
    EXPECT_EQ(GichVtr(0x9000'0003).get<GichVtr::pri_bits>(), 4u);
}

TEST(GicRegs, IchListRegisterAndControls) {
    // IHI 0069H ICH_LR<n>_EL2: State [63:62], HW [61], Group [60], Priority [55:48],
    // pINTID [44:32], vINTID [31:0].
    const IchLrEl2 lr = IchLrEl2{}
                            .with<IchLrEl2::state>(static_cast<u64>(GicLrState::pending))
                            .with<IchLrEl2::hw>(1)
                            .with<IchLrEl2::group>(1)
                            .with<IchLrEl2::priority>(0xa0)
                            .with<IchLrEl2::pintid>(27)
                            .with<IchLrEl2::vintid>(27);
    EXPECT_EQ(lr.raw(), 0x70a0'001b'0000'001bull);
    EXPECT_EQ(IchVmcrEl2{}.with<IchVmcrEl2::vpmr>(0xf0).with<IchVmcrEl2::veng1>(1).raw(), 0xf000'0002u);
    EXPECT_EQ(IchHcrEl2{}.with<IchHcrEl2::en>(1).with<IchHcrEl2::uie>(1).raw(), 0x3u);
    EXPECT_EQ(IchHcrEl2(0xf800'0000).get<IchHcrEl2::eoi_count>(), 31u);
    EXPECT_EQ(IchMisrEl2(0x2).test<IchMisrEl2::u>(), true);
    EXPECT_EQ(IchVtrEl2(0x9000'0023).get<IchVtrEl2::list_regs>(), 3u); // ListRegs is [4:0]
    // EOI [41] (HW = 0 only, inside the pINTID field); PRIbits [31:29], PREbits [28:26].
    EXPECT_EQ(IchLrEl2{}.with<IchLrEl2::eoi>(1).raw(), 0x0000'0200'0000'0000ull);
    EXPECT_EQ(IchVtrEl2(0xd000'0000).get<IchVtrEl2::pri_bits>(), 6u);
    EXPECT_EQ(IchVtrEl2(0xd000'0000).get<IchVtrEl2::pre_bits>(), 4u);
}

TEST(GicRegs, RedistributorTyperAndAffinity) {
    const GicrTyper t(0x0102'0304'0000'0f10ull);
    EXPECT_TRUE(t.test<GicrTyper::last>());
    EXPECT_FALSE(t.test<GicrTyper::vlpis>());
    EXPECT_EQ(t.get<GicrTyper::processor_number>(), 0xfu);
    EXPECT_EQ(t.get<GicrTyper::affinity_value>(), 0x0102'0304u);
    EXPECT_EQ(gicr_affinity_of(mpidr(1, 2, 3, 4)), 0x0102'0304u);
    EXPECT_EQ(gicr_affinity_of(0x8000'0000), 0u); // RES1 bit 31 is not affinity
}

TEST(GicRegs, IrouterDropsMpidrBit31) {
    // IHI 0069H GICD_IROUTER<n>: Aff3 [39:32], Interrupt_Routing_Mode [31], Aff2..Aff0 [23:0].
    EXPECT_EQ(GicdIrouter::to_cpu(mpidr(1, 2, 3, 4)).raw(), 0x01'0002'0304ull);
    EXPECT_FALSE(GicdIrouter::to_cpu(mpidr(0, 0, 0, 0)).test<GicdIrouter::interrupt_routing_mode>());
}

TEST(GicRegs, Sgi1rEncoding) {
    // IHI 0069H ICC_SGI1R_EL1: Aff3 [55:48], RS [47:44], IRM [40], Aff2 [39:32],
    // INTID [27:24], Aff1 [23:16], TargetList [15:0].
    EXPECT_EQ(IccSgi1rEl1::to_cpu(9, mpidr(0x12, 0x34, 0x56, 0x07)).raw(), 0x0012'0034'0956'0080ull);
    EXPECT_EQ(IccSgi1rEl1::to_cpu(0, mpidr(0, 0, 0, 0x13)).raw(), 0x0000'1000'0000'0008ull);
    EXPECT_EQ(IccSgi1rEl1::to_cpu(15, mpidr(0, 0, 0, 0)).raw(), 0x0000'0000'0f00'0001ull);
    EXPECT_FALSE(IccSgi1rEl1::to_cpu(1, mpidr(0, 0, 1, 0)).test<IccSgi1rEl1::irm>());
}

TEST(GicRegs, CpuInterfaceControls) {
    EXPECT_EQ(IccSreEl2{}.with<IccSreEl2::sre>(1).with<IccSreEl2::enable>(1).raw(), 0x9u);
    EXPECT_EQ(IccCtlrEl1{}.with<IccCtlrEl1::eoimode>(1).raw(), 0x2u);
    EXPECT_TRUE(IccCtlrEl1(0x4'0000).test<IccCtlrEl1::rss>());
    EXPECT_EQ(GiccCtlr{}.with<GiccCtlr::enable_grp0>(1).with<GiccCtlr::eoimode_s>(1).raw(), 0x201u);
    EXPECT_EQ(GicdSgir{}.with<GicdSgir::cpu_target_list>(0x80).with<GicdSgir::sgi_intid>(3).raw(), 0x0080'0003u);
    EXPECT_EQ(GicdSgir{}.with<GicdSgir::target_list_filter>(GicdSgir::kFilterSelf).raw(), 0x0200'0000u);
    EXPECT_EQ(GiccIar(0x0c05).get<GiccIar::cpuid>(), 3u);
    EXPECT_EQ(GicrWaker(0x6).get<GicrWaker::children_asleep>(), 1u);
    EXPECT_EQ(GicrCtlr(0x8).get<GicrCtlr::rwp>(), 1u);
}

TEST(GicRegs, SystemRegisterEncodings) {
    // IHI 0069H / DDI 0487 encodings of ICC_* and ICH_*: op0, op1, CRn, CRm, op2.
    struct Row {
        GicSysreg reg;
        SysregEncoding enc;
    };
    const Row rows[] = {
        {GicSysreg::icc_pmr_el1, {3, 0, 4, 6, 0}},      {GicSysreg::icc_iar1_el1, {3, 0, 12, 12, 0}},
        {GicSysreg::icc_eoir1_el1, {3, 0, 12, 12, 1}},  {GicSysreg::icc_dir_el1, {3, 0, 12, 11, 1}},
        {GicSysreg::icc_sgi1r_el1, {3, 0, 12, 11, 5}},  {GicSysreg::icc_bpr1_el1, {3, 0, 12, 12, 3}},
        {GicSysreg::icc_ctlr_el1, {3, 0, 12, 12, 4}},   {GicSysreg::icc_sre_el1, {3, 0, 12, 12, 5}},
        {GicSysreg::icc_igrpen1_el1, {3, 0, 12, 12, 7}}, {GicSysreg::icc_sre_el2, {3, 4, 12, 9, 5}},
        {GicSysreg::ich_ap0r0_el2, {3, 4, 12, 8, 0}},   {GicSysreg::ich_ap0r3_el2, {3, 4, 12, 8, 3}},
        {GicSysreg::ich_ap1r0_el2, {3, 4, 12, 9, 0}},   {GicSysreg::ich_ap1r3_el2, {3, 4, 12, 9, 3}},
        {GicSysreg::ich_hcr_el2, {3, 4, 12, 11, 0}},    {GicSysreg::ich_vtr_el2, {3, 4, 12, 11, 1}},
        {GicSysreg::ich_misr_el2, {3, 4, 12, 11, 2}},   {GicSysreg::ich_eisr_el2, {3, 4, 12, 11, 3}},
        {GicSysreg::ich_elrsr_el2, {3, 4, 12, 11, 5}},  {GicSysreg::ich_vmcr_el2, {3, 4, 12, 11, 7}},
        {GicSysreg::ich_lr0_el2, {3, 4, 12, 12, 0}},    {GicSysreg::ich_lr7_el2, {3, 4, 12, 12, 7}},
        {GicSysreg::ich_lr8_el2, {3, 4, 12, 13, 0}},    {GicSysreg::ich_lr15_el2, {3, 4, 12, 13, 7}},
    };
    for (const Row& r : rows) {
        EXPECT_EQ(sysreg_encoding(r.reg), r.enc) << "GicSysreg " << static_cast<int>(r.reg);
    }
    // ICH_LR<n>_EL2: CRm 12 for n = 0..7, 13 for 8..15, op2 = n % 8.
    for (unsigned n = 0; n < kIchMaxListRegs; ++n) {
        const SysregEncoding want{3, 4, 12, static_cast<u8>(12 + n / 8), static_cast<u8>(n % 8)};
        EXPECT_EQ(sysreg_encoding(ich_lr(n)), want) << "ICH_LR" << n;
    }
    // ICH_AP0R<n>_EL2: CRm 8, ICH_AP1R<n>_EL2: CRm 9, op2 = n.
    for (unsigned n = 0; n < kIchMaxApRegs; ++n) {
        EXPECT_EQ(sysreg_encoding(ich_ap0r(n)), (SysregEncoding{3, 4, 12, 8, static_cast<u8>(n)})) << "ICH_AP0R" << n;
        EXPECT_EQ(sysreg_encoding(ich_ap1r(n)), (SysregEncoding{3, 4, 12, 9, static_cast<u8>(n)})) << "ICH_AP1R" << n;
    }
}

// ---------------------------------------------------------------------------
// GICv2

constexpr u64 kV2DistSize = 0x1000;
constexpr u64 kV2CpuSize = 0x2000;

struct V2 {
    Journal j;
    FakeRegs gicd{j, kV2DistSize};
    FakeRegs gicc{j, kV2CpuSize};
    FakeRegs gich{j, 0x1000};
    FakeCpu cpu{j};
    std::unique_ptr<GicV2> gic;

    explicit V2(bool split = true, bool with_gich = true) {
        GicV2::Config c;
        c.split_eoi = split;
        gic = std::make_unique<GicV2>(gicd, gicc, with_gich ? &gich : nullptr, cpu, c);
    }
};

TEST(GicV2, DistributorInitSequence) {
    V2 t;
    t.gicd.at(0x004) = 0x2;         // GICD_TYPER.ITLinesNumber = 2: INTIDs 0..95
    t.gicd.at(0x800) = 0x0404'0404; // this CPU is interface 2
    ASSERT_EQ(t.gic->init_distributor(mpidr(0, 0, 0, 0)), Status::ok);

    std::vector<Access> want = {{0x000, 0}}; // GICD_CTLR: off first
    for (u64 n : {1, 2}) {                    // SPIs 32..95: words 1 and 2
        want.push_back({0x080 + 4 * n, 0});              // IGROUPR: Group 0 (see gic_v2.cpp)
        want.push_back({0x180 + 4 * n, 0xffff'ffff});    // ICENABLER
        want.push_back({0x380 + 4 * n, 0xffff'ffff});    // ICACTIVER
    }
    for (u64 n = 2; n < 6; ++n) want.push_back({0xc00 + 4 * n, 0}); // ICFGR: level
    for (u64 n = 8; n < 24; ++n) {
        want.push_back({0x400 + 4 * n, 0xa0a0'a0a0}); // IPRIORITYR
        want.push_back({0x800 + 4 * n, 0x0404'0404}); // ITARGETSR: the boot CPU
    }
    want.push_back({0x000, 0x1}); // GICD_CTLR.Enable
    EXPECT_EQ(writes_to(t.j, &t.gicd), want);
    EXPECT_TRUE(writes_to(t.j, &t.gicc).empty());
}

TEST(GicV2, DistributorInitStopsAtInterrupt1019) {
    V2 t;
    t.gicd.at(0x004) = 0x1f; // 1024 lines claimed, 1020 exist
    ASSERT_EQ(t.gic->init_distributor(0), Status::ok);
    const std::vector<Access> w = writes_to(t.j, &t.gicd);
    bool last_priority = false;
    for (const Access& a : w) {
        EXPECT_FALSE(a.first >= 0x7fc && a.first < 0x800) << "IPRIORITYR of INTIDs 1020..1023";
        EXPECT_FALSE(a.first >= 0xbfc && a.first < 0xc00) << "ITARGETSR of INTIDs 1020..1023";
        last_priority |= a.first == 0x7f8;
    }
    EXPECT_TRUE(last_priority);
}

TEST(GicV2, CpuInitBanksAndInterface) {
    V2 t;
    t.gicd.at(0x800) = 0x0202'0202; // interface 1
    t.gicc.at(0x000) = 0x1e4;       // firmware: bypass disables + AckCtl
    ASSERT_EQ(t.gic->init_cpu(1, mpidr(0, 0, 0, 1)), Status::ok);

    std::vector<Access> want = {
        {0x080, 0},           // IGROUPR0
        {0x380, 0xffff'ffff}, // ICACTIVER0
        {0x180, 0xffff'0000}, // ICENABLER0: PPIs off
    };
    for (u64 n = 0; n < 8; ++n) want.push_back({0x400 + 4 * n, 0xa0a0'a0a0});
    want.push_back({0x100, 0x0000'ffff}); // ISENABLER0: SGIs on
    EXPECT_EQ(writes_to(t.j, &t.gicd), want);
    // GICC_PMR, then GICC_CTLR: bypass bits kept, AckCtl dropped,
    // EnableGrp0 (bit 0) and EOImodeS (bit 9).
    EXPECT_EQ(writes_to(t.j, &t.gicc), (std::vector<Access>{{0x004, 0xf0}, {0x000, 0x3e1}}));
    EXPECT_EQ(t.gic->cpu_interface_mask(mpidr(0, 0, 0, 1)), 0x02);
}

TEST(GicV2, CpuInitWithoutDirUsesEoiMode0) {
    V2 t(/*split=*/false);
    t.gicd.at(0x800) = 0x0101'0101;
    ASSERT_EQ(t.gic->init_cpu(0, mpidr(0, 0, 0, 0)), Status::ok);
    EXPECT_EQ(t.gicc.at(0x000), 0x1u);
}

TEST(GicV2, SgiTargetsTheInterfaceLearnedOnEachCpu) {
    V2 t;
    struct Cpu {
        u32 index;
        u64 mpidr;
        u32 itargetsr0; // as that CPU reads it
    };
    const Cpu cpus[] = {{0, mpidr(0, 0, 0, 0), 0x0101'0101},
                        {1, mpidr(0, 0, 0, 1), 0x0202'0202},
                        {2, mpidr(0, 0, 1, 0), 0x8080'8080}};
    for (const Cpu& c : cpus) {
        t.gicd.at(0x800) = c.itargetsr0;
        ASSERT_EQ(t.gic->init_cpu(c.index, c.mpidr), Status::ok);
    }
    t.j.events.clear();

    ASSERT_EQ(t.gic->send_sgi(1, mpidr(0, 0, 0, 1)), Status::ok);
    ASSERT_EQ(t.gic->send_sgi(15, mpidr(0, 0, 1, 0)), Status::ok);
    ASSERT_EQ(t.gic->send_sgi(0, 0x0), Status::ok); // MPIDR bit 31 is not affinity
    // IHI 0048B GICD_SGIR: TargetListFilter [25:24] = 0, CPUTargetList [23:16], SGIINTID [3:0].
    EXPECT_EQ(writes_to(t.j, &t.gicd),
              (std::vector<Access>{{0xf00, 0x0002'0001}, {0xf00, 0x0080'000f}, {0xf00, 0x0001'0000}}));
    // The barrier comes before the SGI write.
    const long dsb = find_event(t.j, Kind::dsb_ishst, &t.cpu, 0);
    const long sgir = find_event(t.j, Kind::write32, &t.gicd, 0xf00);
    ASSERT_GE(dsb, 0);
    EXPECT_LT(dsb, sgir);
}

TEST(GicV2, SgiToUnknownCpuOrBadNumberIsRefused) {
    V2 t;
    t.gicd.at(0x800) = 0x0101'0101;
    ASSERT_EQ(t.gic->init_cpu(0, mpidr(0, 0, 0, 0)), Status::ok);
    t.j.events.clear();
    EXPECT_EQ(t.gic->send_sgi(1, mpidr(0, 0, 0, 3)), Status::not_found);
    EXPECT_EQ(t.gic->send_sgi(16, mpidr(0, 0, 0, 0)), Status::invalid_argument);
    EXPECT_TRUE(writes_to(t.j, &t.gicd).empty());
}

TEST(GicV2, UniprocessorItargetsrZeroGivesNoTarget) {
    V2 t;
    t.gicd.at(0x800) = 0;
    ASSERT_EQ(t.gic->init_cpu(0, mpidr(0, 0, 0, 0)), Status::ok);
    EXPECT_EQ(t.gic->cpu_interface_mask(mpidr(0, 0, 0, 0)), 0);
    EXPECT_EQ(t.gic->send_sgi(1, mpidr(0, 0, 0, 0)), Status::not_found);
}

TEST(GicV2, ProbeUsesAnyByteOfItargetsr0) {
    V2 t;
    t.gicd.at(0x800) = 0x0000'1000; // only byte 1 (INTID 1) reads the mask
    ASSERT_EQ(t.gic->init_cpu(5, mpidr(0, 0, 0, 5)), Status::ok);
    EXPECT_EQ(t.gic->cpu_interface_mask(mpidr(0, 0, 0, 5)), 0x10);
    EXPECT_EQ(t.gic->init_cpu(kGicMaxCpus, mpidr(0, 0, 0, 6)), Status::out_of_range);
}

TEST(GicV2, AcknowledgeAndSplitEoiEchoTheSgiSource) {
    V2 t;
    t.gicc.at(0x00c) = 0x0c05; // SGI 5 from CPU interface 3
    const GicIrq irq = t.gic->acknowledge();
    EXPECT_EQ(irq.intid, 5u);
    EXPECT_FALSE(irq.spurious());
    t.gic->end_of_interrupt(irq);
    // GICC_EOIR then GICC_DIR (second page), both with the CPUID.
    EXPECT_EQ(writes_to(t.j, &t.gicc), (std::vector<Access>{{0x010, 0x0c05}, {0x1000, 0x0c05}}));
    EXPECT_GE(find_event(t.j, Kind::dsb_sy, &t.cpu, 0), 0);
}

TEST(GicV2, EoiMode0WritesNoDir) {
    V2 t(/*split=*/false);
    t.gicc.at(0x00c) = 30;
    t.gic->end_of_interrupt(t.gic->acknowledge());
    EXPECT_EQ(writes_to(t.j, &t.gicc), (std::vector<Access>{{0x010, 30}}));
}

TEST(GicV2, SpuriousIsNotEnded) {
    V2 t;
    for (u32 iar : {1023u, 1022u}) {
        t.gicc.at(0x00c) = iar;
        const GicIrq irq = t.gic->acknowledge();
        EXPECT_TRUE(irq.spurious());
        t.gic->end_of_interrupt(irq);
    }
    EXPECT_TRUE(writes_to(t.j, &t.gicc).empty());
}

TEST(GicV2, EnablePpi) {
    V2 t;
    ASSERT_EQ(t.gic->enable_ppi(0, 27, 0x80), Status::ok);
    EXPECT_EQ(byte_writes_to(t.j, &t.gicd), (std::vector<Access>{{0x41b, 0x80}}));
    EXPECT_EQ(writes_to(t.j, &t.gicd), (std::vector<Access>{{0x41b, 0x80}, {0x100, 0x0800'0000}}));
    EXPECT_EQ(t.gic->enable_ppi(0, 15, 0x80), Status::invalid_argument);
    EXPECT_EQ(t.gic->enable_ppi(0, 32, 0x80), Status::invalid_argument);
}

TEST(GicV2, ListRegistersFromGichVtr) {
    V2 t;
    t.gich.at(0x004) = 0x9000'0003;
    EXPECT_EQ(t.gic->list_registers(), 4u);
    t.gich.at(0x004) = 0x9000'003f; // ListRegs is [5:0] on v2
    EXPECT_EQ(t.gic->list_registers(), 64u);
    V2 none(true, /*with_gich=*/false);
    EXPECT_EQ(none.gic->list_registers(), 0u);
}

// A V2 whose CPU 0 has run init_cpu() with 4 list registers (GICH_VTR
// 0x90000003: PRIbits 4, PREbits 4, ListRegs 3), journal cleared.
struct V2Ready : V2 {
    explicit V2Ready(bool split = true, bool with_gich = true) : V2(split, with_gich) {
        gicd.at(0x800) = 0x0101'0101;
        gich.at(0x004) = 0x9000'0003;
        EXPECT_EQ(gic->init_cpu(0, mpidr(0, 0, 0, 0)), Status::ok);
        j.events.clear();
    }
};

TEST(GicV2, CpuInitDisablesAndEmptiesTheVirtualInterface) {
    V2 t;
    t.gicd.at(0x800) = 0x0101'0101;
    t.gich.at(0x004) = 0x9000'0003; // 4 list registers
    t.gich.at(0x000) = 0x0000'0001; // left over: GICH_HCR.En
    for (u64 n = 0; n < 5; ++n) t.gich.at(0x100 + 4 * n) = 0x9a00'6c1b; // and HW = 1 entries
    ASSERT_EQ(t.gic->init_cpu(0, mpidr(0, 0, 0, 0)), Status::ok);
    // GICH_HCR = 0, then GICH_LR0..3 = 0; GICH_LR4 is not a list register.
    EXPECT_EQ(writes_to(t.j, &t.gich),
              (std::vector<Access>{{0x000, 0}, {0x100, 0}, {0x104, 0}, {0x108, 0}, {0x10c, 0}}));
    EXPECT_EQ(t.gich.at(0x110), 0x9a00'6c1bu);
}

TEST(GicV2, PriorityDropAloneThenDeactivate) {
    V2 t;
    t.gicc.at(0x00c) = 0x0c05; // SGI 5 from CPU interface 3
    const GicIrq irq = t.gic->acknowledge();
    t.gic->priority_drop(irq);
    // GICC_EOIR only, with the CPUID: the interrupt stays active.
    EXPECT_EQ(writes_to(t.j, &t.gicc), (std::vector<Access>{{0x010, 0x0c05}}));
    t.j.events.clear();
    t.gic->deactivate(irq.iar); // GICC_DIR, second 4 KiB page, CPUID again
    t.gic->deactivate(27);
    EXPECT_EQ(writes_to(t.j, &t.gicc), (std::vector<Access>{{0x1000, 0x0c05}, {0x1000, 27}}));
}

TEST(GicV2, SpuriousIsNeitherDroppedNorDeactivated) {
    V2 t;
    t.gic->priority_drop(GicIrq{1023, 1023});
    t.gic->priority_drop(GicIrq{1020, 1020});
    t.gic->deactivate(1023);
    t.gic->deactivate(0x0c00 | 1022); // CPUID bits do not make it an interrupt
    EXPECT_TRUE(t.j.events.empty());
}

TEST(GicV2, EoiMode0PriorityDropIsTheWholeEoiAndDeactivateNothing) {
    // A 4 KiB GICC has no GICC_DIR: EOImode 0.
    V2 t(/*split=*/false);
    t.gic->priority_drop(GicIrq{30, 30});
    t.gic->deactivate(30);
    EXPECT_EQ(writes_to(t.j, &t.gicc), (std::vector<Access>{{0x010, 30}}));
    for (const Event& e : t.j.events) EXPECT_NE(e.where, 0x1000u) << "GICC_DIR touched in EOImode 0";
}

TEST(GicV2, PpiActiveStateInTheBankedDistributorRegisters) {
    V2 t;
    t.gicd.at(0x300) = 0x0800'0000; // GICD_ISACTIVER0: INTID 27 active
    EXPECT_TRUE(t.gic->ppi_active(0, 27));
    EXPECT_FALSE(t.gic->ppi_active(0, 26));
    EXPECT_EQ(count_reads(t.j, &t.gicd, 0x300), 2);
    t.gic->set_ppi_active(0, 27, false); // GICD_ICACTIVER0
    t.gic->set_ppi_active(3, 30, true);  // GICD_ISACTIVER0
    t.gic->set_ppi_active(0, 16, true);
    EXPECT_EQ(writes_to(t.j, &t.gicd),
              (std::vector<Access>{{0x380, 0x0800'0000}, {0x300, 0x4000'0000}, {0x300, 0x0001'0000}}));
}

TEST(GicV2, PpiActiveOutOfRangeIsFalseAndIgnored) {
    V2 t;
    t.gicd.at(0x300) = 0xffff'ffff;
    t.gicd.at(0x304) = 0xffff'ffff;
    EXPECT_FALSE(t.gic->ppi_active(0, 15)); // an SGI
    EXPECT_FALSE(t.gic->ppi_active(0, 32)); // an SPI
    EXPECT_FALSE(t.gic->ppi_active(kGicMaxCpus, 27));
    t.gic->set_ppi_active(0, 15, true);
    t.gic->set_ppi_active(0, 32, false);
    t.gic->set_ppi_active(kGicMaxCpus, 27, true);
    EXPECT_TRUE(t.j.events.empty());
}

TEST(GicV2, ListRegistersInGich) {
    V2Ready t;
    // GICH_LRn at 0x100 + 4n; the u64 is a zero-extended GICH_LR.
    t.gic->write_lr(0, 0x9a00'6c1b);
    t.gic->write_lr(3, 0x1000'001e);
    t.gic->write_lr(4, 0x1000'001f); // beyond GICH_VTR.ListRegs: ignored
    EXPECT_EQ(writes_to(t.j, &t.gich), (std::vector<Access>{{0x100, 0x9a00'6c1b}, {0x10c, 0x1000'001e}}));
    t.gich.at(0x108) = 0xa000'0020;
    t.gich.at(0x110) = 0xffff'ffff;
    t.j.events.clear();
    EXPECT_EQ(t.gic->read_lr(2), 0xa000'0020u);
    EXPECT_EQ(t.gic->read_lr(4), 0u);
    EXPECT_EQ(count_reads(t.j, &t.gich, 0x108), 1);
    EXPECT_EQ(count_reads(t.j, &t.gich, 0x110), 0);
}

TEST(GicV2, HypervisorControlIsGichHcr) {
    V2Ready t;
    t.gic->write_vif_hcr(0x0000'000b); // En | UIE | NPIE
    EXPECT_EQ(writes_to(t.j, &t.gich), (std::vector<Access>{{0x000, 0xb}}));
    t.gich.at(0x000) = 0x1800'0001; // EOIcount 3, En
    EXPECT_EQ(t.gic->read_vif_hcr(), 0x1800'0001u);
}

TEST(GicV2, VirtualCpuStateIsGichVmcrAndGichApr) {
    V2Ready t;
    t.gich.at(0x008) = 0xf04c'0201; // GICH_VMCR
    t.gich.at(0x0f0) = 0x8000'0001; // GICH_APR
    Gic::VirtualCpuState s;
    for (u32& a : s.apr0) a = 0xdead;
    for (u32& a : s.apr1) a = 0xdead;
    t.gic->save_virtual_cpu(s);
    EXPECT_EQ(s.vmcr, 0xf04c'0201u);
    EXPECT_EQ(s.apr1[0], 0x8000'0001u);
    for (unsigned n = 0; n < 4; ++n) EXPECT_EQ(s.apr0[n], 0u) << n;
    for (unsigned n = 1; n < 4; ++n) EXPECT_EQ(s.apr1[n], 0u) << n;
    EXPECT_TRUE(writes_to(t.j, &t.gich).empty());

    Gic::VirtualCpuState in;
    in.vmcr = 0x7800'0003;
    in.apr1[0] = 0x4;
    in.apr0[0] = 0x99; // no GICH register for it
    in.apr1[1] = 0x99;
    t.gic->restore_virtual_cpu(in);
    EXPECT_EQ(writes_to(t.j, &t.gich), (std::vector<Access>{{0x008, 0x7800'0003}, {0x0f0, 0x4}}));
    EXPECT_EQ(t.gic->virtual_priority_bits(), 5u);
}

TEST(GicV2, WithoutGichTheVirtualInterfaceReadsZero) {
    V2Ready t(/*split=*/true, /*with_gich=*/false);
    EXPECT_EQ(t.gic->list_registers(), 0u);
    EXPECT_EQ(t.gic->read_lr(0), 0u);
    EXPECT_EQ(t.gic->read_vif_hcr(), 0u);
    t.gic->write_lr(0, 0x9a00'6c1b);
    t.gic->write_vif_hcr(1);
    Gic::VirtualCpuState s;
    s.vmcr = 0xdead;
    s.apr1[0] = 0xdead;
    t.gic->save_virtual_cpu(s);
    EXPECT_EQ(s.vmcr, 0u);
    EXPECT_EQ(s.apr1[0], 0u);
    t.gic->restore_virtual_cpu(Gic::VirtualCpuState{0xf000'0001, {}, {1, 0, 0, 0}});
    EXPECT_TRUE(t.j.events.empty()) << "no register touched";
    EXPECT_TRUE(writes_to(t.j, &t.gich).empty());
    EXPECT_EQ(t.gich.at(0x000), 0u);
    EXPECT_EQ(t.gic->virtual_priority_bits(), 5u); // the GICH_LR field, GICH or not
}

// ---------------------------------------------------------------------------
// GICv3

constexpr u64 kV3DistSize = 0x1'0000;
constexpr u32 kArchRev3 = 0x3b; // GICR_PIDR2 / GICD_PIDR2, ArchRev [7:4] = 3
constexpr u32 kTyperLast = 1u << 4;
constexpr u32 kTyperVlpis = 1u << 1;

// A redistributor region of `frames` 128 KiB frames.
struct Region {
    explicit Region(Journal& j, u64 frames, u64 stride = 0x2'0000) : regs(j, frames * stride) {
        regs.at(0xffe8) = kArchRev3;
    }
    // GICR_TYPER of the frame at `rd_base`: flags in the low half, affinity in the high.
    void frame(u64 rd_base, u32 affinity, u32 flags = 0) {
        regs.at(rd_base + 0x8) = flags;
        regs.at(rd_base + 0xc) = affinity;
    }
    FakeRegs regs;
};

struct V3 {
    Journal j;
    FakeRegs gicd{j, kV3DistSize};
    FakeCpu cpu{j};
    std::vector<std::unique_ptr<Region>> regions;
    std::unique_ptr<GicV3> gic;
    GicV3::Config config;

    V3() { config.poll_limit = 100; }
    Region& add_region(u64 frames, u64 stride = 0x2'0000) {
        regions.push_back(std::make_unique<Region>(j, frames, stride));
        return *regions.back();
    }
    GicV3& make() {
        std::vector<GicV3::Region> rs;
        for (auto& r : regions) rs.push_back({&r->regs, static_cast<u64>(0)});
        for (usize i = 0; i < regions.size(); ++i) rs[i].size = sizes[i];
        gic = std::make_unique<GicV3>(gicd, rs, cpu, config);
        return *gic;
    }
    std::vector<u64> sizes;
};

// The four-frame region of the brief: Last on the fourth, and a fifth frame
// after it that matches 0.0.0.5 but must never be looked at.
struct FourCpus : V3 {
    Region* r;
    FourCpus() {
        r = &add_region(5);
        sizes.push_back(5 * 0x2'0000);
        r->frame(0x0'0000, 0x0000'0000);
        r->frame(0x2'0000, 0x0000'0001);
        r->frame(0x4'0000, 0x0000'0100);
        r->frame(0x6'0000, 0x0102'0304, kTyperLast);
        r->frame(0x8'0000, 0x0000'0005);
        make();
    }
};

TEST(GicV3, DistributorInitSequence) {
    V3 t;
    t.gicd.at(0x004) = 0x1; // ITLinesNumber = 1: INTIDs 0..63
    int busy = 3;           // GICD_CTLR.RWP reads 1 three times after the disable
    t.gicd.on_read = [&](u64 off, u32& stored) -> std::optional<u32> {
        if (off == 0x000 && busy > 0) {
            --busy;
            return stored | 0x8000'0000u;
        }
        return std::nullopt;
    };
    GicV3& gic = t.make();
    const u64 boot = mpidr(1, 2, 3, 4);
    ASSERT_EQ(gic.init_distributor(boot), Status::ok);

    std::vector<Access> want = {{0x000, 0}};
    want.push_back({0x084, 0xffff'ffff}); // IGROUPR1: Group 1
    want.push_back({0x184, 0xffff'ffff}); // ICENABLER1
    want.push_back({0x384, 0xffff'ffff}); // ICACTIVER1
    want.push_back({0xc08, 0});           // ICFGR2, ICFGR3: level
    want.push_back({0xc0c, 0});
    for (u64 n = 8; n < 16; ++n) want.push_back({0x400 + 4 * n, 0xa0a0'a0a0});
    want.push_back({0x000, 0x12}); // EnableGrp1(A) [1] | ARE(_NS) [4]
    for (u64 intid = 32; intid < 64; ++intid) {
        want.push_back({0x6000 + 8 * intid, 0x0002'0304}); // Aff2.Aff1.Aff0, IRM = 0
        want.push_back({0x6000 + 8 * intid + 4, 0x01});    // Aff3
    }
    EXPECT_EQ(writes_to(t.j, &t.gicd), want);

    // Nothing was reconfigured before the disable had completed: three busy
    // reads and one clear read of GICD_CTLR between the two.
    const long off = find_event(t.j, Kind::write32, &t.gicd, 0x000);
    const long first_config = find_event(t.j, Kind::write32, &t.gicd, 0x084);
    long ctlr_reads = 0;
    for (long i = off; i < first_config; ++i) {
        const Event& e = t.j.events[static_cast<usize>(i)];
        ctlr_reads += e.kind == Kind::read32 && e.where == 0x000;
    }
    EXPECT_EQ(ctlr_reads, 4);
    // And IROUTER was written only once ARE was on.
    const long enable = find_event(t.j, Kind::write32, &t.gicd, 0x000, off + 1);
    EXPECT_LT(enable, find_event(t.j, Kind::write32, &t.gicd, 0x6100));
}

TEST(GicV3, DistributorRwpStuckTimesOut) {
    V3 t;
    t.gicd.at(0x004) = 0x1;
    t.gicd.on_read = [](u64 off, u32& stored) -> std::optional<u32> {
        if (off == 0x000) return stored | 0x8000'0000u;
        return std::nullopt;
    };
    GicV3& gic = t.make();
    EXPECT_EQ(gic.init_distributor(0), Status::timeout);
    EXPECT_EQ(count_reads(t.j, &t.gicd, 0x000), 100); // the poll limit
    EXPECT_EQ(writes_to(t.j, &t.gicd), (std::vector<Access>{{0x000, 0}}));
}

TEST(GicV3, DistributorRoutesUpToInterrupt1019) {
    V3 t;
    t.gicd.at(0x004) = 0x1f;
    GicV3& gic = t.make();
    ASSERT_EQ(gic.init_distributor(0), Status::ok);
    const std::vector<Access> w = writes_to(t.j, &t.gicd);
    ASSERT_FALSE(w.empty());
    EXPECT_EQ(w.back().first, 0x7fdcu); // high half of GICD_IROUTER1019
    EXPECT_EQ(find_event(t.j, Kind::write32, &t.gicd, 0x7fe0), -1);
}

TEST(GicV3, FindsRedistributorByAffinity) {
    FourCpus t;
    struct Case {
        u64 mpidr;
        u64 rd_base;
    };
    for (const Case& c : {Case{mpidr(0, 0, 0, 0), 0x0'0000}, Case{mpidr(0, 0, 0, 1), 0x2'0000},
                          Case{mpidr(0, 0, 1, 0), 0x4'0000}, Case{mpidr(1, 2, 3, 4), 0x6'0000}}) {
        const Result<GicV3::Frame> f = t.gic->find_redistributor(c.mpidr);
        ASSERT_TRUE(f.ok()) << std::hex << c.mpidr;
        EXPECT_EQ(f.value().region, 0u);
        EXPECT_EQ(f.value().offset, c.rd_base);
    }
}

TEST(GicV3, DiscoveryStopsAtLast) {
    FourCpus t;
    t.j.events.clear();
    EXPECT_EQ(t.gic->find_redistributor(mpidr(0, 0, 0, 5)).status(), Status::not_found);
    for (const Event& e : t.j.events) EXPECT_LT(e.where, 0x8'0000u) << "read beyond the Last frame";
    EXPECT_EQ(t.gic->init_cpu(4, mpidr(0, 0, 0, 5)), Status::not_found);
}

TEST(GicV3, DiscoveryStopsAtTheRegionEndWithoutLast) {
    V3 t;
    Region& r = t.add_region(2);
    t.sizes.push_back(2 * 0x2'0000);
    r.frame(0x0'0000, 0x0);
    r.frame(0x2'0000, 0x1); // no Last: the region ends here anyway
    GicV3& gic = t.make();
    EXPECT_EQ(gic.find_redistributor(mpidr(0, 0, 0, 2)).status(), Status::not_found);
    EXPECT_EQ(gic.find_redistributor(mpidr(0, 0, 0, 1)).value().offset, 0x2'0000u);
}

TEST(GicV3, VlpisFramesAre256KiBApart) {
    V3 t;
    Region& r = t.add_region(2, 0x4'0000);
    t.sizes.push_back(2 * 0x4'0000);
    r.frame(0x0'0000, 0x0, kTyperVlpis);
    r.frame(0x4'0000, 0x1, kTyperVlpis | kTyperLast);
    r.frame(0x2'0000, 0x1); // decoy where a 128 KiB stride would look
    GicV3& gic = t.make();
    const Result<GicV3::Frame> f = gic.find_redistributor(mpidr(0, 0, 0, 1));
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f.value().offset, 0x4'0000u);
}

TEST(GicV3, DtStrideOverridesTyper) {
    V3 t;
    Region& r = t.add_region(2, 0x4'0000);
    t.sizes.push_back(2 * 0x4'0000);
    r.frame(0x0'0000, 0x0);
    r.frame(0x4'0000, 0x1, kTyperLast);
    r.frame(0x2'0000, 0x1); // decoy
    t.config.redistributor_stride = 0x4'0000;
    GicV3& gic = t.make();
    EXPECT_EQ(gic.find_redistributor(mpidr(0, 0, 0, 1)).value().offset, 0x4'0000u);
}

TEST(GicV3, SecondRegionAndForeignRegionSkipped) {
    V3 t;
    Region& a = t.add_region(1);
    a.frame(0, 0x0, kTyperLast);
    Region& bad = t.add_region(1);
    bad.regs.at(0xffe8) = 0x2b; // ArchRev 2: not a GICv3 redistributor region
    bad.frame(0, 0x7, kTyperLast);
    Region& b = t.add_region(2);
    b.frame(0x0'0000, 0x6);
    b.frame(0x2'0000, 0x7, kTyperLast);
    t.sizes = {0x2'0000, 0x2'0000, 0x4'0000};
    GicV3& gic = t.make();
    const Result<GicV3::Frame> f = gic.find_redistributor(mpidr(0, 0, 0, 7));
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f.value().region, 2u);
    EXPECT_EQ(f.value().offset, 0x2'0000u);
}

TEST(GicV3, CpuInitWakesConfiguresAndEnablesTheInterface) {
    FourCpus t;
    FakeRegs& rd = t.r->regs;
    rd.at(0x6'0014) = 0x6; // WAKER: ProcessorSleep | ChildrenAsleep (reset state)
    int polls_after_wake = 0;
    rd.on_read = [&](u64 off, u32& stored) -> std::optional<u32> {
        // ChildrenAsleep clears on the fifth read after ProcessorSleep did.
        if (off == 0x6'0014 && (stored & 0x2) == 0 && ++polls_after_wake == 5) stored &= ~0x4u;
        return std::nullopt;
    };
    t.cpu.regs[GicSysreg::icc_ctlr_el1] = 0x400; // PRIbits = 4, EOImode 0
    t.cpu.regs[GicSysreg::ich_vtr_el2] = 0x9000'0003; // 4 list registers
    for (unsigned n = 0; n < 5; ++n) t.cpu.regs[ich_lr(n)] = 0xb0a0'001b'0000'001bull; // stale HW = 1
    t.cpu.regs[GicSysreg::ich_hcr_el2] = 0x1;                                          // and En
    t.j.events.clear();
    ASSERT_EQ(t.gic->init_cpu(3, mpidr(1, 2, 3, 4)), Status::ok);

    // GICR_WAKER (RD_base 0x60000 + 0x14): ProcessorSleep cleared; then the
    // SGI_base frame (RD_base + 64 KiB).
    std::vector<Access> want = {
        {0x6'0014, 0x4},
        {0x7'0080, 0xffff'ffff}, // GICR_IGROUPR0: Group 1
        {0x7'0380, 0xffff'ffff}, // GICR_ICACTIVER0
        {0x7'0180, 0xffff'0000}, // GICR_ICENABLER0: PPIs off
    };
    for (u64 n = 0; n < 8; ++n) want.push_back({0x7'0400 + 4 * n, 0xa0a0'a0a0});
    want.push_back({0x7'0100, 0x0000'ffff}); // GICR_ISENABLER0: SGIs on
    EXPECT_EQ(writes_to(t.j, &rd), want);
    EXPECT_EQ(polls_after_wake, 5);
    // Configuration only once awake.
    long last_waker = -1;
    for (usize i = 0; i < t.j.events.size(); ++i) {
        if (t.j.events[i].where == 0x6'0014) last_waker = static_cast<long>(i);
    }
    EXPECT_LT(last_waker, find_event(t.j, Kind::write32, &rd, 0x7'0080));
    // The disable of PPIs completed (GICR_CTLR.RWP read) before going on.
    const long icenabler = find_event(t.j, Kind::write32, &rd, 0x7'0180);
    const long rwp = find_event(t.j, Kind::read32, &rd, 0x6'0000, icenabler);
    EXPECT_GT(rwp, icenabler);
    EXPECT_LT(rwp, find_event(t.j, Kind::write32, &rd, 0x7'0400));

    EXPECT_EQ(sysreg_writes(t.j, &t.cpu), (std::vector<Access>{
                                                {sr(GicSysreg::icc_sre_el2), 0x9},     // SRE | Enable
                                                {sr(GicSysreg::icc_pmr_el1), 0xf0},    // priority mask
                                                {sr(GicSysreg::icc_ctlr_el1), 0x402},  // EOImode 1, the rest kept
                                                {sr(GicSysreg::icc_igrpen1_el1), 0x1}, // Group 1 on
                                                {sr(GicSysreg::ich_hcr_el2), 0},       // virtual interface off
                                                {sr(GicSysreg::ich_lr0_el2), 0},       // and empty:
                                                {sr(GicSysreg::ich_lr1_el2), 0},       // ListRegs + 1 = 4
                                                {sr(GicSysreg::ich_lr2_el2), 0},
                                                {sr(GicSysreg::ich_lr3_el2), 0},
                                            }));
    // An ISB makes SRE take effect before the first ICC_*_EL1 or ICH_* access.
    const long sre = find_event(t.j, Kind::sysreg_write, &t.cpu, sr(GicSysreg::icc_sre_el2));
    const long isb = find_event(t.j, Kind::isb, &t.cpu, 0, sre);
    EXPECT_LT(isb, find_event(t.j, Kind::sysreg_write, &t.cpu, sr(GicSysreg::icc_pmr_el1)));
    EXPECT_LT(isb, find_event(t.j, Kind::sysreg_read, &t.cpu, sr(GicSysreg::ich_vtr_el2)));
    // And one after the last write.
    EXPECT_EQ(t.j.events.back().kind, Kind::isb);
}

TEST(GicV3, CpuInitSetsSreEnableKeepingTheBypassBits) {
    FourCpus t;
    t.cpu.regs[GicSysreg::icc_sre_el2] = 0x6; // DIB | DFB, as firmware left them
    ASSERT_EQ(t.gic->init_cpu(0, mpidr(0, 0, 0, 0)), Status::ok);
    // ICC_SRE_EL2: SRE [0] for EL2, Enable [3] so that EL1 may access ICC_SRE_EL1.
    EXPECT_EQ(t.cpu.regs[GicSysreg::icc_sre_el2], 0xfu);
}

TEST(GicV3, CpuInitClearsAtMost16ListRegisters) {
    FourCpus t;
    t.cpu.regs[GicSysreg::ich_vtr_el2] = 0x9000'001f; // ListRegs is 5 bits; ICH_LR<n>_EL2 stop at 15
    ASSERT_EQ(t.gic->init_cpu(0, mpidr(0, 0, 0, 0)), Status::ok);
    std::vector<u64> lrs;
    for (const Access& a : sysreg_writes(t.j, &t.cpu)) {
        if (a.first >= sr(GicSysreg::ich_lr0_el2) && a.first <= sr(GicSysreg::ich_lr15_el2)) lrs.push_back(a.first);
    }
    ASSERT_EQ(lrs.size(), 16u);
    EXPECT_EQ(lrs.back(), sr(GicSysreg::ich_lr15_el2));
    t.j.events.clear();
    t.gic->write_lr(15, 0x5);
    t.gic->write_lr(16, 0x5);
    EXPECT_EQ(sysreg_writes(t.j, &t.cpu), (std::vector<Access>{{sr(GicSysreg::ich_lr15_el2), 0x5}}));
}

TEST(GicV3, RedistributorThatNeverWakesTimesOut) {
    FourCpus t;
    FakeRegs& rd = t.r->regs;
    rd.at(0x2'0014) = 0x6; // ChildrenAsleep stays set
    t.j.events.clear();
    EXPECT_EQ(t.gic->init_cpu(1, mpidr(0, 0, 0, 1)), Status::timeout);
    EXPECT_EQ(count_reads(t.j, &rd, 0x2'0014), 1 + 100); // the read before the write, then the polls
    EXPECT_EQ(writes_to(t.j, &rd), (std::vector<Access>{{0x2'0014, 0x4}}));
    for (const Event& e : t.j.events) EXPECT_NE(e.who, &t.cpu) << "CPU interface touched";
    EXPECT_EQ(t.gic->enable_ppi(1, 27, 0x80), Status::out_of_range); // not initialised
}

TEST(GicV3, SystemRegisterInterfaceMissingIsUnsupported) {
    FourCpus t;
    t.cpu.sre_sticks = false;
    EXPECT_EQ(t.gic->init_cpu(0, mpidr(0, 0, 0, 0)), Status::unsupported);
    EXPECT_EQ(find_event(t.j, Kind::sysreg_write, &t.cpu, sr(GicSysreg::icc_igrpen1_el1)), -1);
    // ICH_* are UNDEFINED at EL2 without SRE: not touched.
    EXPECT_EQ(find_event(t.j, Kind::sysreg_read, &t.cpu, sr(GicSysreg::ich_vtr_el2)), -1);
    EXPECT_EQ(find_event(t.j, Kind::sysreg_write, &t.cpu, sr(GicSysreg::ich_hcr_el2)), -1);
    EXPECT_EQ(t.gic->read_lr(0), 0u);
    t.gic->write_lr(0, 1);
    EXPECT_EQ(find_event(t.j, Kind::sysreg_write, &t.cpu, sr(GicSysreg::ich_lr0_el2)), -1);
}

TEST(GicV3, SendSgiWritesSgi1rBetweenBarriers) {
    FourCpus t;
    t.j.events.clear();
    ASSERT_EQ(t.gic->send_sgi(9, mpidr(0x12, 0x34, 0x56, 0x07)), Status::ok);
    ASSERT_EQ(t.j.events.size(), 3u);
    EXPECT_EQ(t.j.events[0].kind, Kind::dsb_ishst);
    EXPECT_EQ(t.j.events[1].kind, Kind::sysreg_write);
    EXPECT_EQ(t.j.events[1].where, sr(GicSysreg::icc_sgi1r_el1));
    EXPECT_EQ(t.j.events[1].value, 0x0012'0034'0956'0080ull);
    EXPECT_EQ(t.j.events[2].kind, Kind::isb);
    EXPECT_EQ(t.gic->send_sgi(16, 0), Status::invalid_argument);
}

TEST(GicV3, SgiToAff0Above15NeedsRangeSelectors) {
    FourCpus t;
    // Without GICD_TYPER.RSS (init_distributor read it as 0): refused.
    ASSERT_EQ(t.gic->init_distributor(0), Status::ok);
    EXPECT_EQ(t.gic->send_sgi(0, mpidr(0, 0, 0, 0x13)), Status::unsupported);

    FourCpus u;
    u.gicd.at(0x004) = u32{1} << 26;                 // GICD_TYPER.RSS
    u.cpu.regs[GicSysreg::icc_ctlr_el1] = u64{1} << 18; // ICC_CTLR_EL1.RSS
    ASSERT_EQ(u.gic->init_distributor(0), Status::ok);
    ASSERT_EQ(u.gic->init_cpu(0, mpidr(0, 0, 0, 0)), Status::ok);
    u.j.events.clear();
    ASSERT_EQ(u.gic->send_sgi(0, mpidr(0, 0, 0, 0x13)), Status::ok);
    EXPECT_EQ(u.j.events[1].value, 0x0000'1000'0000'0008ull); // RS = 1, TargetList bit 3

    FourCpus v; // the distributor has RSS, one CPU interface does not
    v.gicd.at(0x004) = u32{1} << 26;
    ASSERT_EQ(v.gic->init_distributor(0), Status::ok);
    ASSERT_EQ(v.gic->init_cpu(0, mpidr(0, 0, 0, 0)), Status::ok);
    EXPECT_EQ(v.gic->send_sgi(0, mpidr(0, 0, 0, 0x13)), Status::unsupported);
}

TEST(GicV3, AcknowledgeAndSplitEoi) {
    FourCpus t;
    t.cpu.regs[GicSysreg::icc_iar1_el1] = 27;
    t.j.events.clear();
    const GicIrq irq = t.gic->acknowledge();
    EXPECT_EQ(irq.intid, 27u);
    t.gic->end_of_interrupt(irq);
    std::vector<std::pair<Kind, u64>> seq;
    for (const Event& e : t.j.events) seq.push_back({e.kind, e.kind == Kind::sysreg_write ? e.value : e.where});
    EXPECT_EQ(seq, (std::vector<std::pair<Kind, u64>>{{Kind::sysreg_read, sr(GicSysreg::icc_iar1_el1)},
                                                       {Kind::dsb_sy, 0},
                                                       {Kind::sysreg_write, 27},
                                                       {Kind::isb, 0},
                                                       {Kind::sysreg_write, 27},
                                                       {Kind::isb, 0}}));
    EXPECT_EQ(t.j.events[2].where, sr(GicSysreg::icc_eoir1_el1));
    EXPECT_EQ(t.j.events[4].where, sr(GicSysreg::icc_dir_el1));
}

TEST(GicV3, SpuriousIsNotEnded) {
    FourCpus t;
    t.cpu.regs[GicSysreg::icc_iar1_el1] = 1023;
    const GicIrq irq = t.gic->acknowledge();
    EXPECT_TRUE(irq.spurious());
    t.j.events.clear();
    t.gic->end_of_interrupt(irq);
    EXPECT_TRUE(t.j.events.empty());
}

TEST(GicV3, EnablePpiOnTheCpusOwnRedistributor) {
    FourCpus t;
    ASSERT_EQ(t.gic->init_cpu(3, mpidr(1, 2, 3, 4)), Status::ok);
    t.j.events.clear();
    ASSERT_EQ(t.gic->enable_ppi(3, 30, 0x40), Status::ok);
    EXPECT_EQ(byte_writes_to(t.j, &t.r->regs), (std::vector<Access>{{0x7'041e, 0x40}}));
    EXPECT_EQ(writes_to(t.j, &t.r->regs), (std::vector<Access>{{0x7'041e, 0x40}, {0x7'0100, 0x4000'0000}}));
    EXPECT_EQ(t.gic->enable_ppi(3, 31 + 1, 0x40), Status::invalid_argument);
    EXPECT_EQ(t.gic->enable_ppi(0, 30, 0x40), Status::out_of_range); // CPU 0 not initialised
}

// FourCpus with CPU 3 (RD_base 0x60000, SGI_base 0x70000) initialised,
// ICH_VTR_EL2 = `vtr`, journal cleared.
struct V3Ready : FourCpus {
    explicit V3Ready(u64 vtr = 0x9000'0003) {
        cpu.regs[GicSysreg::ich_vtr_el2] = vtr;
        EXPECT_EQ(gic->init_cpu(3, mpidr(1, 2, 3, 4)), Status::ok);
        j.events.clear();
    }
};

TEST(GicV3, PriorityDropAloneThenDeactivate) {
    V3Ready t;
    t.gic->priority_drop(GicIrq{27, 27});
    std::vector<std::pair<Kind, u64>> seq;
    for (const Event& e : t.j.events) seq.push_back({e.kind, e.where});
    // ICC_EOIR1_EL1 only (EOImode 1): the interrupt stays active.
    EXPECT_EQ(seq, (std::vector<std::pair<Kind, u64>>{{Kind::sysreg_write, sr(GicSysreg::icc_eoir1_el1)},
                                                       {Kind::isb, 0}}));
    EXPECT_EQ(t.j.events[0].value, 27u);
    t.j.events.clear();
    t.gic->deactivate(27);
    ASSERT_EQ(t.j.events.size(), 2u);
    EXPECT_EQ(t.j.events[0].kind, Kind::sysreg_write);
    EXPECT_EQ(t.j.events[0].where, sr(GicSysreg::icc_dir_el1));
    EXPECT_EQ(t.j.events[0].value, 27u);
    EXPECT_EQ(t.j.events[1].kind, Kind::isb);
}

TEST(GicV3, SpuriousIsNeitherDroppedNorDeactivated) {
    V3Ready t;
    t.gic->priority_drop(GicIrq{1023, 1023});
    t.gic->priority_drop(GicIrq{1021, 1021});
    t.gic->deactivate(1023);
    EXPECT_TRUE(t.j.events.empty());
}

TEST(GicV3, PpiActiveStateInTheCpusOwnRedistributor) {
    V3Ready t;
    FakeRegs& rd = t.r->regs;
    rd.at(0x7'0300) = 0x0800'0000; // GICR_ISACTIVER0 of CPU 3: INTID 27 active
    rd.at(0x1'0300) = 0xffff'ffff; // CPU 0's: must not be looked at
    EXPECT_TRUE(t.gic->ppi_active(3, 27));
    EXPECT_FALSE(t.gic->ppi_active(3, 26));
    EXPECT_EQ(count_reads(t.j, &rd, 0x7'0300), 2);
    t.gic->set_ppi_active(3, 27, false); // GICR_ICACTIVER0
    t.gic->set_ppi_active(3, 31, true);  // GICR_ISACTIVER0
    EXPECT_EQ(writes_to(t.j, &rd), (std::vector<Access>{{0x7'0380, 0x0800'0000}, {0x7'0300, 0x8000'0000}}));
}

TEST(GicV3, PpiActiveOutOfRangeIsFalseAndIgnored) {
    V3Ready t;
    FakeRegs& rd = t.r->regs;
    rd.at(0x7'0300) = 0xffff'ffff;
    rd.at(0x1'0300) = 0xffff'ffff;
    EXPECT_FALSE(t.gic->ppi_active(3, 15)); // an SGI
    EXPECT_FALSE(t.gic->ppi_active(3, 32)); // an SPI
    EXPECT_FALSE(t.gic->ppi_active(0, 27)); // CPU 0 has not run init_cpu
    EXPECT_FALSE(t.gic->ppi_active(kGicMaxCpus, 27));
    t.gic->set_ppi_active(3, 15, true);
    t.gic->set_ppi_active(3, 32, false);
    t.gic->set_ppi_active(0, 27, true);
    t.gic->set_ppi_active(kGicMaxCpus, 27, true);
    EXPECT_TRUE(t.j.events.empty());
}

TEST(GicV3, ListRegistersAreIchLrEl2) {
    V3Ready t; // 4 list registers
    t.gic->write_lr(0, 0x70a0'001b'0000'001bull);
    t.gic->write_lr(3, 0x50a0'0000'0000'0040ull);
    t.gic->write_lr(4, 0x1); // beyond ICH_VTR_EL2.ListRegs: UNDEFINED, not done
    EXPECT_EQ(sysreg_writes(t.j, &t.cpu), (std::vector<Access>{{sr(GicSysreg::ich_lr0_el2), 0x70a0'001b'0000'001bull},
                                                               {sr(GicSysreg::ich_lr3_el2), 0x50a0'0000'0000'0040ull}}));
    t.cpu.regs[GicSysreg::ich_lr2_el2] = 0x9000'0000'0000'0021ull;
    t.cpu.regs[GicSysreg::ich_lr4_el2] = 0x1;
    t.j.events.clear();
    EXPECT_EQ(t.gic->read_lr(2), 0x9000'0000'0000'0021ull);
    EXPECT_EQ(t.gic->read_lr(4), 0u);
    EXPECT_EQ(sysreg_reads(t.j, &t.cpu), (std::vector<u64>{sr(GicSysreg::ich_lr2_el2)}));
}

TEST(GicV3, HypervisorControlIsIchHcrEl2) {
    V3Ready t;
    t.gic->write_vif_hcr(0x0000'000b); // En | UIE | NPIE
    EXPECT_EQ(sysreg_writes(t.j, &t.cpu), (std::vector<Access>{{sr(GicSysreg::ich_hcr_el2), 0xb}}));
    t.cpu.regs[GicSysreg::ich_hcr_el2] = 0x1800'0001; // EOIcount 3, En
    EXPECT_EQ(t.gic->read_vif_hcr(), 0x1800'0001u);
}

TEST(GicV3, ActivePriorityRegistersFollowPreemptionBits) {
    // ICH_VTR_EL2: PRIbits [31:29], PREbits [28:26]; registers per group =
    // 1, 2, 4 for 5, 6, 7 bits of preemption (IHI 0069H, ICH_AP0R<n>_EL2).
    struct Case {
        u64 vtr;
        u32 regs;
        u32 priority_bits;
    };
    for (const Case c : {Case{0x9000'0003, 1, 5},   // 5 and 5 (QEMU)
                         Case{0xb400'0003, 2, 6},   // 6 and 6
                         Case{0xd800'0003, 4, 7},   // 7 and 7
                         Case{0xd000'0003, 1, 7},   // 7 priority, 5 preemption: PREbits decides
                         Case{0xd400'0003, 2, 7}}) { // 7 priority, 6 preemption
        SCOPED_TRACE(c.vtr);
        V3Ready t(c.vtr);
        EXPECT_EQ(t.gic->virtual_priority_bits(), c.priority_bits);
        t.cpu.regs[GicSysreg::ich_vmcr_el2] = 0xf000'0002;
        for (unsigned n = 0; n < 4; ++n) {
            t.cpu.regs[ich_ap0r(n)] = 0xa0 + n;
            t.cpu.regs[ich_ap1r(n)] = 0xb0 + n;
        }
        Gic::VirtualCpuState s;
        for (u32& a : s.apr0) a = 0xdead;
        for (u32& a : s.apr1) a = 0xdead;
        t.gic->save_virtual_cpu(s);
        EXPECT_EQ(s.vmcr, 0xf000'0002u);
        for (unsigned n = 0; n < 4; ++n) {
            EXPECT_EQ(s.apr0[n], n < c.regs ? 0xa0 + n : 0u) << "apr0 " << n;
            EXPECT_EQ(s.apr1[n], n < c.regs ? 0xb0 + n : 0u) << "apr1 " << n;
        }
        std::vector<u64> reads = sysreg_reads(t.j, &t.cpu);
        std::sort(reads.begin(), reads.end());
        std::vector<u64> want_reads = {sr(GicSysreg::ich_vmcr_el2)};
        for (unsigned n = 0; n < c.regs; ++n) {
            want_reads.push_back(sr(ich_ap0r(n)));
            want_reads.push_back(sr(ich_ap1r(n)));
        }
        std::sort(want_reads.begin(), want_reads.end());
        EXPECT_EQ(reads, want_reads);
        EXPECT_TRUE(sysreg_writes(t.j, &t.cpu).empty());

        t.j.events.clear();
        Gic::VirtualCpuState in;
        in.vmcr = 0x7800'0003;
        for (unsigned n = 0; n < 4; ++n) {
            in.apr0[n] = 0x100 + n;
            in.apr1[n] = 0x200 + n;
        }
        t.gic->restore_virtual_cpu(in);
        std::vector<Access> writes = sysreg_writes(t.j, &t.cpu);
        std::sort(writes.begin(), writes.end());
        std::vector<Access> want = {{sr(GicSysreg::ich_vmcr_el2), 0x7800'0003}};
        for (unsigned n = 0; n < c.regs; ++n) {
            want.push_back({sr(ich_ap0r(n)), 0x100 + n});
            want.push_back({sr(ich_ap1r(n)), 0x200 + n});
        }
        std::sort(want.begin(), want.end());
        EXPECT_EQ(writes, want);
    }
}

TEST(GicV3, VirtualPriorityBitsAreCachedAtCpuInit) {
    FourCpus t;
    EXPECT_EQ(t.gic->virtual_priority_bits(), 0u); // ICH_VTR_EL2 not read yet
    t.cpu.regs[GicSysreg::ich_vtr_el2] = 0x9000'0003;
    ASSERT_EQ(t.gic->init_cpu(0, mpidr(0, 0, 0, 0)), Status::ok);
    t.j.events.clear();
    EXPECT_EQ(t.gic->virtual_priority_bits(), 5u);
    t.cpu.regs[GicSysreg::ich_vtr_el2] = 0xd800'0003;
    EXPECT_EQ(t.gic->virtual_priority_bits(), 5u);
    EXPECT_TRUE(t.j.events.empty()); // no system register access
}

TEST(GicV3, ListRegistersFromIchVtr) {
    FourCpus t;
    t.cpu.regs[GicSysreg::ich_vtr_el2] = 0x9000'0023; // bit 5 is not ListRegs on v3
    EXPECT_EQ(t.gic->list_registers(), 4u);
    t.cpu.regs[GicSysreg::ich_vtr_el2] = 0x9000'000f;
    EXPECT_EQ(t.gic->list_registers(), 16u);
}

// ---------------------------------------------------------------------------
// make_gic

class FakeMapper final : public DeviceMapper {
public:
    Result<Va> map_device(PaRange r) override {
        mapped.push_back(r);
        if (fail_at == mapped.size()) return Status::no_memory;
        buffers.push_back(std::make_unique<u32[]>(r.size / 4));
        for (u64 i = 0; i < r.size / 4; ++i) buffers.back()[i] = 0;
        return Va(reinterpret_cast<u64>(buffers.back().get()));
    }
    u32* block(usize i) { return buffers[i].get(); }
    std::vector<PaRange> mapped;
    std::vector<std::unique_ptr<u32[]>> buffers;
    usize fail_at = 0; // 1-based call that fails, 0 = none
};

const PaRange kQemuV2[] = {
    {Pa(0x0800'0000), 0x1'0000}, // GICD
    {Pa(0x0801'0000), 0x1'0000}, // GICC
    {Pa(0x0803'0000), 0x1'0000}, // GICH
    {Pa(0x0804'0000), 0x1'0000}, // GICV
};

TEST(MakeGic, VersionDecides) {
    Journal j;
    FakeCpu cpu(j);
    FakeMapper m;
    GicDescription d;
    d.regs = kQemuV2;
    d.version = 4;
    EXPECT_EQ(make_gic(d, m, cpu).status(), Status::unsupported);
    d.version = 0;
    EXPECT_EQ(make_gic(d, m, cpu).status(), Status::unsupported);
    EXPECT_TRUE(m.mapped.empty());
}

TEST(MakeGic, V2MapsDistributorCpuInterfaceAndGichButNotGicv) {
    Journal j;
    FakeCpu cpu(j);
    FakeMapper m;
    GicDescription d;
    d.version = 2;
    d.regs = kQemuV2;
    const Result<Gic*> g = make_gic(d, m, cpu);
    ASSERT_TRUE(g.ok());
    EXPECT_EQ(g.value()->version(), 2u);
    EXPECT_EQ(m.mapped, (std::vector<PaRange>{kQemuV2[0], kQemuV2[1], kQemuV2[2]}));
    ASSERT_TRUE(g.value()->virtual_cpu_interface().has_value());
    EXPECT_EQ(*g.value()->virtual_cpu_interface(), kQemuV2[3]);
    EXPECT_EQ(g.value()->maintenance_intid(), 25u);

    m.block(2)[0x004 / 4] = 0x9000'0003; // GICH_VTR in the mapped GICH
    EXPECT_EQ(g.value()->list_registers(), 4u);
    // 64 KiB GICC holds GICC_DIR: EOImode 1 in GICC_CTLR.
    m.block(0)[0x800 / 4] = 0x0101'0101;
    m.block(2)[0x10c / 4] = 0x9a00'6c1b; // stale GICH_LR3
    m.block(2)[0x000 / 4] = 0x1;         // and GICH_HCR.En
    ASSERT_EQ(g.value()->init_cpu(0, mpidr(0, 0, 0, 0)), Status::ok);
    EXPECT_EQ(m.block(1)[0], 0x201u);
    EXPECT_EQ(m.block(2)[0x10c / 4], 0u);
    EXPECT_EQ(m.block(2)[0x000 / 4], 0u);
    // The virtual interface is the third range.
    g.value()->write_lr(2, 0x1000'001e);
    EXPECT_EQ(m.block(2)[0x108 / 4], 0x1000'001eu);
    g.value()->priority_drop(GicIrq{27, 27});
    g.value()->deactivate(27);
    EXPECT_EQ(m.block(1)[0x010 / 4], 27u);  // GICC_EOIR
    EXPECT_EQ(m.block(1)[0x1000 / 4], 27u); // GICC_DIR
}

TEST(MakeGic, V2SmallCpuInterfaceMeansEoiMode0) {
    Journal j;
    FakeCpu cpu(j);
    FakeMapper m;
    const PaRange regs[] = {{Pa(0x2c00'1000), 0x1000}, {Pa(0x2c00'2000), 0x1000}};
    GicDescription d;
    d.version = 2;
    d.regs = regs;
    const Result<Gic*> g = make_gic(d, m, cpu);
    ASSERT_TRUE(g.ok());
    EXPECT_EQ(m.mapped.size(), 2u);
    EXPECT_EQ(g.value()->list_registers(), 0u); // no GICH described
    EXPECT_FALSE(g.value()->virtual_cpu_interface().has_value());
    m.block(0)[0x800 / 4] = 0x0101'0101;
    ASSERT_EQ(g.value()->init_cpu(0, mpidr(0, 0, 0, 0)), Status::ok);
    EXPECT_EQ(m.block(1)[0], 0x1u);
}

TEST(MakeGic, V2MissingOrTinyRangesAreRefused) {
    Journal j;
    FakeCpu cpu(j);
    FakeMapper m;
    GicDescription d;
    d.version = 2;
    d.regs = std::span<const PaRange>(kQemuV2, 1);
    EXPECT_EQ(make_gic(d, m, cpu).status(), Status::invalid_argument);
    const PaRange tiny[] = {{Pa(0x0800'0000), 0x1000}, {Pa(0x0801'0000), 0x800}};
    d.regs = tiny;
    EXPECT_EQ(make_gic(d, m, cpu).status(), Status::invalid_argument);
    EXPECT_TRUE(m.mapped.empty());
}

TEST(MakeGic, V3MapsDistributorAndEveryRedistributorRegion) {
    Journal j;
    FakeCpu cpu(j);
    FakeMapper m;
    const PaRange regs[] = {
        {Pa(0x0800'0000), 0x1'0000}, // GICD
        {Pa(0x080a'0000), 0x4'0000}, // GICR region 0: two CPUs
        {Pa(0x0900'0000), 0x2'0000}, // GICR region 1: one CPU
        {Pa(0x0801'0000), 0x2000},   // GICC
        {Pa(0x0803'0000), 0x2000},   // GICH
        {Pa(0x0804'0000), 0x2000},   // GICV
    };
    GicDescription d;
    d.version = 3;
    d.regs = regs;
    d.redistributor_regions = 2;
    d.maintenance_intid = 26;
    const Result<Gic*> g = make_gic(d, m, cpu);
    ASSERT_TRUE(g.ok());
    EXPECT_EQ(g.value()->version(), 3u);
    EXPECT_EQ(m.mapped, (std::vector<PaRange>{regs[0], regs[1], regs[2]}));
    EXPECT_EQ(g.value()->virtual_cpu_interface(), std::optional<PaRange>(regs[5]));
    EXPECT_EQ(g.value()->maintenance_intid(), 26u);

    // The CPU in region 1 is found there (PIDR2 and TYPER in the buffers).
    m.block(1)[0xffe8 / 4] = kArchRev3;
    m.block(1)[0x2'000c / 4] = 0x0000'0001;
    m.block(1)[0x2'0008 / 4] = kTyperLast;
    m.block(2)[0xffe8 / 4] = kArchRev3;
    m.block(2)[0x000c / 4] = 0x0000'0100;
    m.block(2)[0x0008 / 4] = kTyperLast;
    ASSERT_EQ(g.value()->init_cpu(2, mpidr(0, 0, 1, 0)), Status::ok);
    EXPECT_EQ(m.block(2)[0x1'0100 / 4], 0x0000'ffffu); // its GICR_ISENABLER0
}

TEST(MakeGic, V3RegionCountMustMatchTheRanges) {
    Journal j;
    FakeCpu cpu(j);
    FakeMapper m;
    const PaRange regs[] = {{Pa(0x0800'0000), 0x1'0000}, {Pa(0x080a'0000), 0xf6'0000}};
    GicDescription d;
    d.version = 3;
    d.regs = regs;
    d.redistributor_regions = 2;
    EXPECT_EQ(make_gic(d, m, cpu).status(), Status::invalid_argument);
    d.redistributor_regions = 0;
    EXPECT_EQ(make_gic(d, m, cpu).status(), Status::invalid_argument);
    const PaRange small_gicr[] = {{Pa(0x0800'0000), 0x1'0000}, {Pa(0x080a'0000), 0x1'0000}};
    d.regs = small_gicr;
    d.redistributor_regions = 1;
    EXPECT_EQ(make_gic(d, m, cpu).status(), Status::invalid_argument);
    EXPECT_TRUE(m.mapped.empty());
}

TEST(MakeGic, MapperErrorsPropagate) {
    Journal j;
    FakeCpu cpu(j);
    FakeMapper m;
    m.fail_at = 2;
    GicDescription d;
    d.version = 2;
    d.regs = kQemuV2;
    EXPECT_EQ(make_gic(d, m, cpu).status(), Status::no_memory);
}

} // namespace
} // namespace setwise::arm64
