// vcpu/vgic_dist: the emulated distributor through the decoded MMIO
// accesses a guest makes. Offsets, field positions and reset values are
// written out here from the GIC architecture specifications (GICv2: ARM IHI
// 0048B table 4-1 and section 4.3; GICv3: ARM IHI 0069H chapter 12), not
// taken from arch/arm64/gic_regs.hpp; the access sequences are those of
// Linux's irq-gic.c (gic_dist_init, gic_cpu_init) and irq-gic-v3.c
// (gic_dist_init).
#include "vcpu/vgic_dist.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace setwise::vcpu {
namespace {

// IHI 0048B table 4-1 / IHI 0069H distributor register map.
constexpr u64 CTLR = 0x000, TYPER = 0x004, IIDR = 0x008, TYPER2 = 0x00c, IGROUPR = 0x080, ISENABLER = 0x100,
              ICENABLER = 0x180, ISPENDR = 0x200, ICPENDR = 0x280, ISACTIVER = 0x300, ICACTIVER = 0x380,
              IPRIORITYR = 0x400, ITARGETSR = 0x800, ICFGR = 0xc00, IGRPMODR = 0xd00, NSACR = 0xe00,
              SGIR = 0xf00, CPENDSGIR = 0xf10, SPENDSGIR = 0xf20, IROUTER = 0x6000;
constexpr u64 V2_PIDR2 = 0xfe8, V2_CIDR0 = 0xff0, V3_PIDR2 = 0xffe8, V3_CIDR0 = 0xfff0;

VgicConfig make_config(VgicVersion version, u32 vcpus, u32 spis = 64) {
    std::vector<u64> mpidrs;
    for (u32 i = 0; i < vcpus; ++i) mpidrs.push_back(i);
    Result<VgicConfig> c = VgicConfig::create(version, mpidrs, spis);
    EXPECT_TRUE(c.ok());
    return c.value();
}

class Dist {
public:
    Dist(VgicVersion version, u32 vcpus) : state(make_config(version, vcpus)), dist(state) {}
    u32 r32(u64 off, u32 vcpu = 0) { return static_cast<u32>(dist.read(vcpu, off, 4)); }
    VcpuMask w32(u64 off, u32 v, u32 vcpu = 0) { return dist.write(vcpu, off, 4, v); }
    u8 r8(u64 off, u32 vcpu = 0) { return static_cast<u8>(dist.read(vcpu, off, 1)); }
    VcpuMask w8(u64 off, u8 v, u32 vcpu = 0) { return dist.write(vcpu, off, 1, v); }
    std::vector<u32> pending(u32 vcpu) {
        PendingIrq buf[VgicState::kMaxPendingQuery];
        const usize n = state.pending_for(vcpu, buf);
        std::vector<u32> ids;
        for (usize i = 0; i < n; ++i) ids.push_back(buf[i].intid);
        return ids;
    }

    VgicState state;
    VgicDist dist;
};

// ===== GICv2 ====================================================================

TEST(VgicDistV2, Identification) {
    Dist d(VgicVersion::v2, 2);
    // GICD_IIDR: ProductID [31:24] 0x53, Implementer [11:0] 0x43b (JEP106 ARM).
    EXPECT_EQ(d.r32(IIDR), 0x5300'043bu);
    // ICPIDR2 [7:4] ArchRev = 2 (GICv2) (IHI 0048B 4.3.18), JEDEC [3] = 1, DES_1 = 3.
    EXPECT_EQ(d.r32(V2_PIDR2), 0x2bu);
    EXPECT_EQ(d.r32(V2_CIDR0), 0x0du);
    EXPECT_EQ(d.r32(V2_CIDR0 + 4), 0xf0u);
    EXPECT_EQ(d.r32(V2_CIDR0 + 8), 0x05u);
    EXPECT_EQ(d.r32(V2_CIDR0 + 12), 0xb1u);
    EXPECT_EQ(d.r32(0xfd0), 0x04u); // PIDR4: JEP106 continuation code 4
    // GICv3 frame's ID block is not here.
    EXPECT_EQ(d.r32(V3_PIDR2), 0u);
    EXPECT_EQ(d.dist.reserved_accesses(), 1u);
    EXPECT_EQ(d.dist.bad_accesses(), 0u);
}

TEST(VgicDistV2, TyperAndCtlr) {
    Dist d(VgicVersion::v2, 2);
    // ITLinesNumber [4:0] = 2 (96 INTIDs), CPUNumber [7:5] = 1, SecurityExtn [10] = 0.
    EXPECT_EQ(d.r32(TYPER), 0x22u);
    EXPECT_EQ(d.r32(CTLR), 0u);
    d.w32(CTLR, 1);
    EXPECT_EQ(d.r32(CTLR), 1u); // EnableGrp0
    d.w32(CTLR, 0xffff'ffffu);
    EXPECT_EQ(d.r32(CTLR), 3u); // only EnableGrp0/1 exist
    // Read-only registers ignore writes, uncounted.
    d.w32(TYPER, 0);
    d.w32(IIDR, 0);
    d.w32(V2_PIDR2, 0);
    EXPECT_EQ(d.r32(TYPER), 0x22u);
    EXPECT_EQ(d.r32(IIDR), 0x5300'043bu);
    EXPECT_EQ(d.r32(V2_PIDR2), 0x2bu);
    EXPECT_EQ(d.dist.bad_accesses(), 0u);
    EXPECT_EQ(d.dist.reserved_accesses(), 0u);
}

// Linux irq-gic.c at boot on vCPU 0, then each CPU's gic_cpu_init, then a
// driver requesting SPI 1 (INTID 33) edge-triggered.
TEST(VgicDistV2, LinuxInitThenRaiseAckEoi) {
    Dist d(VgicVersion::v2, 2);
    // gic_dist_init
    d.w32(CTLR, 0);
    const u32 lines = 32 * ((d.r32(TYPER) & 0x1f) + 1);
    ASSERT_EQ(lines, 96u);
    u32 cpumask = 0;
    for (u64 i = 0; i < 32 && cpumask == 0; i += 4) { // gic_get_cpumask
        u32 m = d.r32(ITARGETSR + i);
        m |= m >> 16;
        m |= m >> 8;
        cpumask = m & 0xff;
    }
    ASSERT_EQ(cpumask, 0x01u); // vCPU 0's own interface
    const u32 targets4 = cpumask * 0x0101'0101u;
    for (u32 i = 32; i < lines; i += 4) d.w32(ITARGETSR + i, targets4);
    for (u32 i = 32; i < lines; i += 16) d.w32(ICFGR + i / 4, 0);            // level, active high
    for (u32 i = 32; i < lines; i += 4) d.w32(IPRIORITYR + i, 0xa0a0'a0a0u); // GICD_INT_DEF_PRI_X4
    for (u32 i = 32; i < lines; i += 32) {
        d.w32(ICACTIVER + i / 8, 0xffff'ffffu);
        d.w32(ICENABLER + i / 8, 0xffff'ffffu);
    }
    d.w32(CTLR, 1);
    // gic_cpu_init on each vCPU
    for (u32 v = 0; v < 2; ++v) {
        d.w32(ICACTIVER, 0xffff'ffffu, v);
        d.w32(ICENABLER, 0xffff'0000u, v); // PPIs off
        d.w32(ISENABLER, 0x0000'ffffu, v); // SGIs on
        for (u32 i = 0; i < 32; i += 4) d.w32(IPRIORITYR + i, 0xa0a0'a0a0u, v);
    }
    EXPECT_EQ(d.r32(IPRIORITYR + 32), 0xa0a0'a0a0u);
    EXPECT_EQ(d.r32(ITARGETSR + 32), 0x0101'0101u);
    EXPECT_EQ(d.r32(ISENABLER, 1), 0x0000'ffffu);
    EXPECT_EQ(d.r32(ISENABLER + 4), 0u);

    // irq_set_type(33, edge): ICFGR2 field 1, Int_config[1] = bit 3.
    d.w32(ICFGR + 8, d.r32(ICFGR + 8) | (1u << 3));
    EXPECT_EQ(d.r32(ICFGR + 8), 1u << 3);
    // enable_irq(33): ISENABLER1 bit 1.
    d.w32(ISENABLER + 4, 1u << 1);
    EXPECT_EQ(d.r32(ISENABLER + 4), 1u << 1);

    Result<VcpuMask> k = d.state.raise_edge(33, 0);
    ASSERT_TRUE(k.ok());
    EXPECT_EQ(k.value(), 0b01u);
    EXPECT_EQ(d.r32(ISPENDR + 4), 1u << 1);
    EXPECT_EQ(d.pending(0), std::vector<u32>{33});
    EXPECT_TRUE(d.pending(1).empty());
    ASSERT_TRUE(d.state.acknowledge(0, 33).ok());
    EXPECT_EQ(d.r32(ISPENDR + 4), 0u);
    EXPECT_EQ(d.r32(ISACTIVER + 4), 1u << 1);
    EXPECT_EQ(d.r32(ICACTIVER + 4), 1u << 1); // set and clear views read the same state
    ASSERT_EQ(d.state.deactivate(0, 33), Status::ok);
    EXPECT_EQ(d.r32(ISACTIVER + 4), 0u);
    EXPECT_EQ(d.dist.bad_accesses(), 0u);
    EXPECT_EQ(d.dist.reserved_accesses(), 0u);
}

TEST(VgicDistV2, EnableSetAndClear) {
    Dist d(VgicVersion::v2, 1);
    EXPECT_EQ(d.r32(ISENABLER), 0x0000'ffffu); // SGIs always enabled
    d.w32(ICENABLER, 0xffff'ffffu);
    EXPECT_EQ(d.r32(ISENABLER), 0x0000'ffffu);
    d.w32(ISENABLER + 4, 0x8000'0001u);
    d.w32(ISENABLER + 4, 0x0000'0100u); // writing 0 bits changes nothing
    EXPECT_EQ(d.r32(ISENABLER + 4), 0x8000'0101u);
    d.w32(ICENABLER + 4, 0x0000'0001u);
    EXPECT_EQ(d.r32(ICENABLER + 4), 0x8000'0100u);
}

TEST(VgicDistV2, GroupRegisterIsPlainReadWrite) {
    Dist d(VgicVersion::v2, 1);
    EXPECT_EQ(d.r32(IGROUPR + 4), 0u); // reset: Group 0
    d.w32(IGROUPR + 4, 0x1234'5678u);
    EXPECT_EQ(d.r32(IGROUPR + 4), 0x1234'5678u);
    d.w32(IGROUPR + 4, 0x0000'0001u);
    EXPECT_EQ(d.r32(IGROUPR + 4), 0x0000'0001u);
}

TEST(VgicDistV2, PendingRegistersAndSgiBitsReadOnly) {
    Dist d(VgicVersion::v2, 2);
    d.w32(CTLR, 1);
    d.w32(ISENABLER, 0xffff'ffffu, 1);
    // GICD_ISPENDR0 SGI bits are read-only in GICv2 (IHI 0048B 4.3.7):
    // SGIs are set pending with a source through GICD_SPENDSGIR.
    d.w32(ISPENDR, 0xffff'ffffu, 1);
    EXPECT_EQ(d.r32(ISPENDR, 1), 0xffff'0000u);
    EXPECT_EQ(d.r32(ISPENDR, 0), 0u); // banked
    d.w32(ICPENDR, 0xffff'ffffu, 1);
    EXPECT_EQ(d.r32(ISPENDR, 1), 0u);
    // SPIs.
    d.w32(ISPENDR + 4, 0x0000'00f0u);
    EXPECT_EQ(d.r32(ICPENDR + 4), 0x0000'00f0u);
    d.w32(ICPENDR + 4, 0x0000'0030u);
    EXPECT_EQ(d.r32(ISPENDR + 4), 0x0000'00c0u);
}

TEST(VgicDistV2, ActiveRegisters) {
    Dist d(VgicVersion::v2, 1);
    d.w32(ISACTIVER + 4, 0x0000'0005u);
    EXPECT_EQ(d.r32(ISACTIVER + 4), 0x0000'0005u);
    d.w32(ICACTIVER + 4, 0x0000'0001u);
    EXPECT_EQ(d.r32(ISACTIVER + 4), 0x0000'0004u);
    // Active (set through the distributor) on vCPU 0; deactivated there.
    EXPECT_EQ(d.state.deactivate(0, 34), Status::ok);
    EXPECT_EQ(d.r32(ISACTIVER + 4), 0u);
}

TEST(VgicDistV2, PriorityByteAndWordAccess) {
    Dist d(VgicVersion::v2, 1);
    d.w8(IPRIORITYR + 33, 0xff);
    EXPECT_EQ(d.r8(IPRIORITYR + 33), 0xf8); // 5 implemented bits, the low 3 RAZ/WI
    EXPECT_EQ(d.r32(IPRIORITYR + 32), 0x0000'f800u);
    d.w32(IPRIORITYR + 32, 0x1122'3344u);
    EXPECT_EQ(d.r32(IPRIORITYR + 32), 0x1020'3040u);
    EXPECT_EQ(d.r8(IPRIORITYR + 35), 0x10);
    EXPECT_EQ(d.dist.bad_accesses(), 0u);
}

TEST(VgicDistV2, TargetsSgiPpiReadOnlyAndSpiMasked) {
    Dist d(VgicVersion::v2, 2);
    // INTIDs 0..31: each byte reads the accessing CPU's own bit, writes ignored.
    EXPECT_EQ(d.r32(ITARGETSR, 0), 0x0101'0101u);
    EXPECT_EQ(d.r32(ITARGETSR + 28, 1), 0x0202'0202u);
    d.w32(ITARGETSR, 0xffff'ffffu, 1);
    d.w8(ITARGETSR + 27, 0xff, 1);
    EXPECT_EQ(d.r8(ITARGETSR + 27, 1), 0x02);
    // SPIs: only bits of existing CPU interfaces stick.
    d.w8(ITARGETSR + 40, 0xff);
    EXPECT_EQ(d.r8(ITARGETSR + 40), 0x03);
    d.w32(ITARGETSR + 40, 0x0402'0100u);
    EXPECT_EQ(d.r32(ITARGETSR + 40), 0x0002'0100u);
}

TEST(VgicDistV2, ConfigRegisters) {
    Dist d(VgicVersion::v2, 1);
    EXPECT_EQ(d.r32(ICFGR), 0xaaaa'aaaau); // SGIs: edge, read-only
    d.w32(ICFGR, 0);
    EXPECT_EQ(d.r32(ICFGR), 0xaaaa'aaaau);
    EXPECT_EQ(d.r32(ICFGR + 4), 0u);       // PPIs: level
    d.w32(ICFGR + 4, 0xffff'ffffu);
    EXPECT_EQ(d.r32(ICFGR + 4), 0xaaaa'aaaau); // only Int_config[1] of each field
    d.w32(ICFGR + 8, 0x0000'0008u);
    EXPECT_EQ(d.r32(ICFGR + 8), 0x0000'0008u);
}

TEST(VgicDistV2, SgirAllThreeFilters) {
    Dist d(VgicVersion::v2, 3);
    EXPECT_EQ(d.w32(SGIR, (0u << 24) | (0b010u << 16) | 4, 0), 0u); // distributor off: pending, nobody to kick
    EXPECT_EQ(d.r8(SPENDSGIR + 4, 1), 0b001);
    EXPECT_EQ(d.w32(CTLR, 1), 0b010u);
    // GICD_SGIR: TargetListFilter [25:24], CPUTargetList [23:16], SGIINTID [3:0].
    EXPECT_EQ(d.w32(SGIR, (0u << 24) | (0b110u << 16) | 5, 0), 0b110u);
    // GICD_SPENDSGIRn: byte n % 4 of word n / 4 is SGI n's source mask at the reader.
    EXPECT_EQ(d.r8(SPENDSGIR + 5, 1), 0b001);
    EXPECT_EQ(d.r8(SPENDSGIR + 5, 2), 0b001);
    EXPECT_EQ(d.r8(SPENDSGIR + 5, 0), 0);
    EXPECT_EQ(d.r32(SPENDSGIR + 4, 1), 0x0000'0101u); // SGIs 4 and 5 from vCPU 0
    EXPECT_EQ(d.w32(SGIR, (1u << 24) | 6, 1), 0b101u); // all but self
    EXPECT_EQ(d.r8(SPENDSGIR + 6, 0), 0b010);
    EXPECT_EQ(d.r8(SPENDSGIR + 6, 2), 0b010);
    EXPECT_EQ(d.r8(SPENDSGIR + 6, 1), 0);
    EXPECT_EQ(d.w32(SGIR, (2u << 24) | (0b011u << 16) | 7, 2), 0b100u); // self only
    EXPECT_EQ(d.r8(SPENDSGIR + 7, 2), 0b100);
    EXPECT_EQ(d.r8(SPENDSGIR + 7, 0), 0);
    EXPECT_EQ(d.w32(SGIR, (3u << 24) | (0b111u << 16) | 8, 0), 0u); // reserved filter
    for (u32 v = 0; v < 3; ++v) EXPECT_EQ(d.r8(SPENDSGIR + 8, v), 0);
    // Pending SGIs show in GICD_ISPENDR0 too.
    EXPECT_EQ(d.r32(ISPENDR, 0), (1u << 6));
    EXPECT_EQ(d.r32(ISPENDR, 2), (1u << 5) | (1u << 6) | (1u << 7));
    // SGIR is write-only: reads 0, uncounted.
    EXPECT_EQ(d.r32(SGIR), 0u);
    EXPECT_EQ(d.dist.bad_accesses(), 0u);
    EXPECT_EQ(d.dist.reserved_accesses(), 0u);
}

TEST(VgicDistV2, SgiPendingSetAndClearBySource) {
    Dist d(VgicVersion::v2, 3);
    d.w32(CTLR, 1);
    d.w8(SPENDSGIR + 2, 0b1111'1101, 1); // sources 0, 2 (and 3..7, which do not exist)
    EXPECT_EQ(d.r8(SPENDSGIR + 2, 1), 0b101);
    EXPECT_EQ(d.r8(CPENDSGIR + 2, 1), 0b101);
    d.w8(CPENDSGIR + 2, 0b001, 1);
    EXPECT_EQ(d.r8(SPENDSGIR + 2, 1), 0b100);
    Result<PendingIrq> a = d.state.acknowledge(1, 2);
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a.value().source, 2);
    d.w32(SPENDSGIR, 0x0403'0201u, 0); // SGIs 0..3
    EXPECT_EQ(d.r32(SPENDSGIR, 0), 0x0403'0201u & 0x0707'0707u);
    d.w32(CPENDSGIR, 0xffff'ffffu, 0);
    EXPECT_EQ(d.r32(SPENDSGIR, 0), 0u);
}

TEST(VgicDistV2, OutOfRangeInterruptsAreRazWi) {
    Dist d(VgicVersion::v2, 1); // INTIDs 0..95
    d.w32(ISENABLER + 12, 0xffff'ffffu); // INTIDs 96..127: not implemented
    d.w32(ISPENDR + 12, 0xffff'ffffu);
    d.w32(IPRIORITYR + 100, 0xffff'ffffu);
    d.w8(ITARGETSR + 100, 0x01);
    d.w32(ICFGR + 24, 0xffff'ffffu);
    EXPECT_EQ(d.r32(ISENABLER + 12), 0u);
    EXPECT_EQ(d.r32(ISPENDR + 12), 0u);
    EXPECT_EQ(d.r32(IPRIORITYR + 100), 0u);
    EXPECT_EQ(d.r8(ITARGETSR + 100), 0);
    EXPECT_EQ(d.r32(ICFGR + 24), 0u);
    EXPECT_EQ(d.r32(ISENABLER + 0x7c), 0u); // the last register of the array
    EXPECT_EQ(d.dist.bad_accesses(), 0u);
    EXPECT_EQ(d.dist.reserved_accesses(), 0u);
    // Nothing leaked into the implemented ones.
    EXPECT_EQ(d.r32(ISENABLER + 8), 0u);
    EXPECT_EQ(d.r32(ISPENDR + 8), 0u);
}

TEST(VgicDistV2, BadAndReservedAccesses) {
    Dist d(VgicVersion::v2, 2);
    d.w32(CTLR, 3);
    EXPECT_EQ(d.dist.read(0, CTLR, 2), 0u);          // halfword
    EXPECT_EQ(d.dist.read(0, CTLR + 1, 4), 0u);      // misaligned word
    EXPECT_EQ(d.dist.read(0, ISENABLER, 1), 0u);     // byte access to a word-only register
    EXPECT_EQ(d.dist.read(0, CTLR, 8), 0u);          // doubleword
    EXPECT_EQ(d.dist.read(0, 0x1'0000, 4), 0u);      // beyond the frame
    EXPECT_EQ(d.dist.read(0, ~u64{0} - 3, 4), 0u);
    EXPECT_EQ(d.dist.read(2, CTLR, 4), 0u);          // no vCPU 2
    EXPECT_EQ(d.dist.read(0, IROUTER + 0x100, 8), 0u); // GICv3 only: 8 bytes is malformed here
    d.dist.write(0, CTLR, 1, 0);
    d.dist.write(0, CTLR, 2, 0);
    d.dist.write(2, CTLR, 4, 0);
    EXPECT_EQ(d.dist.bad_accesses(), 11u);
    EXPECT_EQ(d.r32(CTLR), 3u); // the refused writes changed nothing
    EXPECT_EQ(d.dist.reserved_accesses(), 0u);
    // Well-formed accesses where GICv2 has no register.
    EXPECT_EQ(d.r32(TYPER2), 0u);
    EXPECT_EQ(d.r32(0x040), 0u);
    EXPECT_EQ(d.r32(IROUTER + 0x100), 0u);
    EXPECT_EQ(d.r32(IGRPMODR), 0u);
    d.w32(0x7fc, 0xffff'ffffu); // IPRIORITYR word 255 (INTIDs 1020..1023) is reserved
    EXPECT_EQ(d.dist.reserved_accesses(), 5u);
    EXPECT_EQ(d.dist.bad_accesses(), 11u);
    // NSACR without Security Extensions: RAZ/WI, a register nonetheless.
    d.w32(NSACR + 4, 0xffff'ffffu);
    EXPECT_EQ(d.r32(NSACR + 4), 0u);
    EXPECT_EQ(d.dist.reserved_accesses(), 5u);
}

// ===== GICv3 ====================================================================

TEST(VgicDistV3, IdentificationTyperCtlr) {
    Dist d(VgicVersion::v3, 2);
    EXPECT_EQ(d.r32(IIDR), 0x5300'043bu);
    EXPECT_EQ(d.r32(V3_PIDR2), 0x3bu); // ArchRev 3 (Linux checks [7:4] is 3 or 4)
    EXPECT_EQ(d.r32(V3_CIDR0 + 12), 0xb1u);
    // ITLinesNumber 2, IDbits [23:19] = 9, No1N [25]; CPUNumber, SecurityExtn,
    // MBIS, LPIS, ESPI all 0.
    EXPECT_EQ(d.r32(TYPER), 0x0248'0002u);
    EXPECT_EQ(d.r32(TYPER2), 0u);
    // DS = 1 layout: ARE [4] and DS [6] RAO/WI, RWP [31] 0.
    EXPECT_EQ(d.r32(CTLR), 0x50u);
    d.w32(CTLR, 0);
    EXPECT_EQ(d.r32(CTLR), 0x50u);
    d.w32(CTLR, 0x13); // Linux: ARE_NS | ENABLE_G1A | ENABLE_G1
    EXPECT_EQ(d.r32(CTLR), 0x53u);
    d.w32(CTLR, 0x8000'0000u); // RWP is read-only
    EXPECT_EQ(d.r32(CTLR), 0x50u);
    EXPECT_EQ(d.r32(V2_PIDR2), 0u); // the v2 ID block is not here
    EXPECT_EQ(d.dist.reserved_accesses(), 1u);
    EXPECT_EQ(d.dist.bad_accesses(), 0u);
}

// Linux irq-gic-v3.c gic_dist_init, then a driver's SPI 33.
TEST(VgicDistV3, LinuxInitRoutesSpisByIrouter) {
    Dist d(VgicVersion::v3, 2);
    d.w32(CTLR, 0);
    const u32 lines = 32 * ((d.r32(TYPER) & 0x1f) + 1);
    ASSERT_EQ(lines, 96u);
    for (u32 i = 32; i < lines; i += 32) d.w32(IGROUPR + i / 8, 0xffff'ffffu); // Group 1
    for (u32 i = 32; i < lines; i += 16) d.w32(ICFGR + i / 4, 0);
    for (u32 i = 32; i < lines; i += 4) d.w32(IPRIORITYR + i, 0xa0a0'a0a0u);
    for (u32 i = 32; i < lines; i += 32) {
        d.w32(ICACTIVER + i / 8, 0xffff'ffffu);
        d.w32(ICENABLER + i / 8, 0xffff'ffffu);
    }
    d.w32(CTLR, 0x13);
    for (u32 i = 32; i < lines; ++i) d.dist.write(0, IROUTER + 8 * i, 8, 0); // boot CPU: affinity 0.0.0.0

    d.w32(ISENABLER + 4, 1u << 1);
    EXPECT_EQ(d.state.raise_edge(33, 0).value(), 0b01u);
    EXPECT_EQ(d.pending(0), std::vector<u32>{33});
    // irq_set_affinity to vCPU 1 (Aff0 = 1), as 32-bit Linux writes it: low
    // word, then high word.
    EXPECT_EQ(d.dist.write(0, IROUTER + 8 * 33, 4, 0x1), 0b10u);
    d.dist.write(0, IROUTER + 8 * 33 + 4, 4, 0);
    EXPECT_EQ(d.dist.read(0, IROUTER + 8 * 33, 8), 0x1u);
    EXPECT_TRUE(d.pending(0).empty());
    EXPECT_EQ(d.pending(1), std::vector<u32>{33});
    EXPECT_EQ(d.dist.bad_accesses(), 0u);
    EXPECT_EQ(d.dist.reserved_accesses(), 0u);
}

TEST(VgicDistV3, IrouterFieldsAndHalves) {
    const u64 mpidrs[2] = {0x0, 0x7f'0000'0000ull}; // vCPU 1 at Aff3 = 0x7f
    VgicState state(VgicConfig::create(VgicVersion::v3, mpidrs).value());
    VgicDist dist(state);
    // Aff3 [39:32], IRM [31] (RAZ/WI: No1N), Aff2 [23:16], Aff1 [15:8], Aff0 [7:0];
    // bits [63:40] and [30:24] RES0.
    dist.write(0, IROUTER + 8 * 40, 8, 0xffff'ffff'ffff'ffffull);
    EXPECT_EQ(dist.read(0, IROUTER + 8 * 40, 8), 0xff'00ff'ffffull);
    EXPECT_EQ(dist.read(0, IROUTER + 8 * 40, 4), 0x00ff'ffffu);
    EXPECT_EQ(dist.read(0, IROUTER + 8 * 40 + 4, 4), 0xffu);
    dist.write(0, IROUTER + 8 * 40, 4, 0);
    EXPECT_EQ(dist.read(0, IROUTER + 8 * 40, 8), 0xff'0000'0000ull); // high half kept
    dist.write(0, IROUTER + 8 * 40 + 4, 4, 0x7f);
    EXPECT_EQ(state.inspect(40, 0).value().route, 1);
    // IROUTER<0..31> are reserved (RAZ/WI); so are those past the last SPI.
    dist.write(0, IROUTER + 8 * 5, 8, 0x1);
    EXPECT_EQ(dist.read(0, IROUTER + 8 * 5, 8), 0u);
    dist.write(0, IROUTER + 8 * 96, 8, 0x1);
    EXPECT_EQ(dist.read(0, IROUTER + 8 * 96, 8), 0u);
    // 8-byte accesses must be 8-byte aligned; bytes are never allowed.
    EXPECT_EQ(dist.read(0, IROUTER + 8 * 40 + 4, 8), 0u);
    EXPECT_EQ(dist.read(0, IROUTER + 8 * 40, 1), 0u);
    EXPECT_EQ(dist.bad_accesses(), 2u);
    EXPECT_EQ(dist.reserved_accesses(), 0u);
}

TEST(VgicDistV3, BankedAndLegacyRegistersAreRazWiWithAffinityRouting) {
    Dist d(VgicVersion::v3, 2);
    d.w32(CTLR, 0x13);
    // With ARE = 1 the SGI/PPI registers live in the redistributors.
    d.w32(ISENABLER, 0xffff'ffffu);
    d.w32(IGROUPR, 0xffff'ffffu);
    d.w32(ISPENDR, 0xffff'ffffu);
    d.w32(IPRIORITYR, 0xffff'ffffu);
    d.w8(IPRIORITYR + 27, 0xff);
    d.w32(ICFGR + 4, 0xffff'ffffu);
    EXPECT_EQ(d.r32(ISENABLER), 0u);
    EXPECT_EQ(d.r32(IGROUPR), 0u);
    EXPECT_EQ(d.r32(ISPENDR), 0u);
    EXPECT_EQ(d.r32(IPRIORITYR), 0u);
    EXPECT_EQ(d.r32(ICFGR), 0u);
    EXPECT_EQ(d.r32(ICFGR + 4), 0u);
    EXPECT_FALSE(d.state.inspect(27, 0).value().enabled);
    EXPECT_FALSE(d.state.inspect(3, 0).value().pending);
    EXPECT_EQ(d.state.inspect(27, 0).value().priority, 0);
    EXPECT_FALSE(d.state.inspect(27, 0).value().edge);
    // ITARGETSR, SGIR, CPENDSGIR / SPENDSGIR: RES0.
    d.w32(ITARGETSR + 40, 0x0101'0101u);
    EXPECT_EQ(d.r32(ITARGETSR + 40), 0u);
    EXPECT_EQ(d.r32(ITARGETSR), 0u);
    EXPECT_EQ(d.w32(SGIR, (1u << 24) | 3), 0u);
    d.w32(SPENDSGIR, 0xffff'ffffu);
    EXPECT_EQ(d.r32(SPENDSGIR), 0u);
    EXPECT_FALSE(d.state.inspect(3, 1).value().pending);
    // IGRPMODR and NSACR with DS = 1: RAZ/WI.
    d.w32(IGRPMODR + 4, 0xffff'ffffu);
    EXPECT_EQ(d.r32(IGRPMODR + 4), 0u);
    EXPECT_EQ(d.dist.bad_accesses(), 0u);
    EXPECT_EQ(d.dist.reserved_accesses(), 0u);
}

TEST(VgicDistV3, SpiRegistersWork) {
    Dist d(VgicVersion::v3, 1);
    d.w32(CTLR, 0x13);
    d.w32(IGROUPR + 4, 0x0000'000fu);
    EXPECT_EQ(d.r32(IGROUPR + 4), 0x0000'000fu);
    d.w32(ISENABLER + 8, 0x8000'0000u); // INTID 95
    d.w32(ISPENDR + 8, 0x8000'0000u);
    d.w32(IGROUPR + 8, 0x8000'0000u);
    EXPECT_EQ(d.pending(0), std::vector<u32>{95});
    d.w8(IPRIORITYR + 95, 0x48);
    EXPECT_EQ(d.r32(IPRIORITYR + 92), 0x4800'0000u);
    d.w32(ICPENDR + 8, 0x8000'0000u);
    EXPECT_TRUE(d.pending(0).empty());
}

TEST(VgicDistV3, PendingOnDisabledGroupWaits) {
    Dist d(VgicVersion::v3, 1);
    d.w32(ISENABLER + 4, 1u << 8); // INTID 40, Group 1 by default
    d.w32(ISPENDR + 4, 1u << 8);
    EXPECT_TRUE(d.pending(0).empty());
    EXPECT_EQ(d.w32(CTLR, 0x1), 0u);    // Group 0 only
    EXPECT_EQ(d.w32(CTLR, 0x2), 0b1u);  // Group 1: vCPU 0 has something now
    EXPECT_EQ(d.pending(0), std::vector<u32>{40});
}

} // namespace
} // namespace setwise::vcpu
