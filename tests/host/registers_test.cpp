// arch/arm64/registers.hpp and include/setwise/bits.hpp: every layout
// checked against DDI 0487 (K.a) bit positions and against register values
// measured under QEMU 7.2 (/work/shared/hardware-facts.md). Expected raw
// values are written out in hex, computed by hand from the manual's field
// positions, never by the code under test.
#include "arch/arm64/registers.hpp"

#include <gtest/gtest.h>

#include "arch/arm64/pte_format.hpp"

namespace setwise::arm64 {
namespace {

constexpr u64 bit(unsigned n) { return u64{1} << n; }

// ---------------------------------------------------------------------------
// bits.hpp

TEST(Field, GeometryAndMasks) {
    using F = Field<18, 16>;
    EXPECT_EQ(F::width, 3u);
    EXPECT_EQ(F::max, 0x7u);
    EXPECT_EQ(F::mask, 0x7'0000u);
    EXPECT_EQ((Field<63, 0>::mask), ~u64{0});
    EXPECT_EQ((Field<63, 0>::max), ~u64{0});
    EXPECT_EQ((Field<63, 63>::mask), 0x8000'0000'0000'0000ull);
    EXPECT_EQ(F::get(0xffff'ffff'fffa'ffffull), 0x2u);
}

TEST(Field, SetReplacesAndTruncates) {
    using F = Field<7, 4>;
    EXPECT_EQ(F::set(0xffff, 0x0), 0xff0fu);       // clears the old value
    EXPECT_EQ(F::set(0x0000, 0x1a), 0x00a0u);      // a value wider than the field is cut to it
    EXPECT_EQ(F::set(0x1234, 0x5), 0x1254u);       // neighbours untouched
}

TEST(Register, WithReturnsANewValue) {
    const HcrEl2 base(0x80);
    const HcrEl2 h = base.with<HcrEl2::tsw>(1);
    EXPECT_EQ(base.raw(), 0x80u);
    EXPECT_EQ(h.raw(), 0x80u | bit(22));
    EXPECT_TRUE(h.test<HcrEl2::tsw>());
    EXPECT_FALSE(h.test<HcrEl2::tvm>());
    EXPECT_EQ(h.with<HcrEl2::tsw>(0).raw(), 0x80u);
    EXPECT_EQ(h, HcrEl2(0x80u | bit(22)));
    EXPECT_FALSE(h == base);
}

// ---------------------------------------------------------------------------
// HCR_EL2 (D19.2.48)

TEST(HcrEl2, BitPositions) {
    EXPECT_EQ(HcrEl2{}.with<HcrEl2::vm>(1).raw(), bit(0));
    EXPECT_EQ(HcrEl2{}.with<HcrEl2::swio>(1).raw(), bit(1));
    EXPECT_EQ(HcrEl2{}.with<HcrEl2::ptw>(1).raw(), bit(2));
    EXPECT_EQ(HcrEl2{}.with<HcrEl2::fmo>(1).raw(), bit(3));
    EXPECT_EQ(HcrEl2{}.with<HcrEl2::imo>(1).raw(), bit(4));
    EXPECT_EQ(HcrEl2{}.with<HcrEl2::amo>(1).raw(), bit(5));
    EXPECT_EQ(HcrEl2{}.with<HcrEl2::vf>(1).raw(), bit(6));
    EXPECT_EQ(HcrEl2{}.with<HcrEl2::vi>(1).raw(), bit(7));
    EXPECT_EQ(HcrEl2{}.with<HcrEl2::vse>(1).raw(), bit(8));
    EXPECT_EQ(HcrEl2{}.with<HcrEl2::fb>(1).raw(), bit(9));
    EXPECT_EQ(HcrEl2{}.with<HcrEl2::bsu>(3).raw(), bit(10) | bit(11));
    EXPECT_EQ(HcrEl2{}.with<HcrEl2::dc>(1).raw(), bit(12));
    EXPECT_EQ(HcrEl2{}.with<HcrEl2::twi>(1).raw(), bit(13));
    EXPECT_EQ(HcrEl2{}.with<HcrEl2::twe>(1).raw(), bit(14));
    EXPECT_EQ(HcrEl2{}.with<HcrEl2::tid0>(1).raw(), bit(15));
    EXPECT_EQ(HcrEl2{}.with<HcrEl2::tid1>(1).raw(), bit(16));
    EXPECT_EQ(HcrEl2{}.with<HcrEl2::tid2>(1).raw(), bit(17));
    EXPECT_EQ(HcrEl2{}.with<HcrEl2::tid3>(1).raw(), bit(18));
    EXPECT_EQ(HcrEl2{}.with<HcrEl2::tsc>(1).raw(), bit(19));
    EXPECT_EQ(HcrEl2{}.with<HcrEl2::tidcp>(1).raw(), bit(20));
    EXPECT_EQ(HcrEl2{}.with<HcrEl2::tacr>(1).raw(), bit(21));
    EXPECT_EQ(HcrEl2{}.with<HcrEl2::tsw>(1).raw(), bit(22));
    EXPECT_EQ(HcrEl2{}.with<HcrEl2::tpcp>(1).raw(), bit(23));
    EXPECT_EQ(HcrEl2{}.with<HcrEl2::tpu>(1).raw(), bit(24));
    EXPECT_EQ(HcrEl2{}.with<HcrEl2::ttlb>(1).raw(), bit(25));
    EXPECT_EQ(HcrEl2{}.with<HcrEl2::tvm>(1).raw(), bit(26));
    EXPECT_EQ(HcrEl2{}.with<HcrEl2::tge>(1).raw(), bit(27));
    EXPECT_EQ(HcrEl2{}.with<HcrEl2::tdz>(1).raw(), bit(28));
    EXPECT_EQ(HcrEl2{}.with<HcrEl2::hcd>(1).raw(), bit(29));
    EXPECT_EQ(HcrEl2{}.with<HcrEl2::trvm>(1).raw(), bit(30));
    EXPECT_EQ(HcrEl2{}.with<HcrEl2::rw>(1).raw(), bit(31));
    EXPECT_EQ(HcrEl2{}.with<HcrEl2::cd>(1).raw(), bit(32));
    EXPECT_EQ(HcrEl2{}.with<HcrEl2::id>(1).raw(), bit(33));
    EXPECT_EQ(HcrEl2{}.with<HcrEl2::e2h>(1).raw(), bit(34));
    EXPECT_EQ(HcrEl2{}.with<HcrEl2::tlor>(1).raw(), bit(35));
    EXPECT_EQ(HcrEl2{}.with<HcrEl2::terr>(1).raw(), bit(36));
    EXPECT_EQ(HcrEl2{}.with<HcrEl2::tea>(1).raw(), bit(37));
    EXPECT_EQ(HcrEl2{}.with<HcrEl2::apk>(1).raw(), bit(40));
    EXPECT_EQ(HcrEl2{}.with<HcrEl2::api>(1).raw(), bit(41));
    EXPECT_EQ(HcrEl2{}.with<HcrEl2::fwb>(1).raw(), bit(46));
}

TEST(HcrEl2, ComposedGuestConfiguration) {
    // VM|SWIO|FMO|IMO|AMO|FB|BSU=IS|TSC|TIDCP|TSW|TVM|RW = bits 0,1,3,4,5,9,10,19,20,22,26,31.
    const HcrEl2 h = HcrEl2{}
                         .with<HcrEl2::vm>(1)
                         .with<HcrEl2::swio>(1)
                         .with<HcrEl2::fmo>(1)
                         .with<HcrEl2::imo>(1)
                         .with<HcrEl2::amo>(1)
                         .with<HcrEl2::fb>(1)
                         .with<HcrEl2::bsu>(1)
                         .with<HcrEl2::tsc>(1)
                         .with<HcrEl2::tidcp>(1)
                         .with<HcrEl2::tsw>(1)
                         .with<HcrEl2::tvm>(1)
                         .with<HcrEl2::rw>(1);
    EXPECT_EQ(h.raw(), 0x8458'063bull);
    // U-Boot leaves HCR_EL2 = 0x20 (hardware-facts): AMO only.
    EXPECT_TRUE(HcrEl2(0x20).test<HcrEl2::amo>());
    EXPECT_FALSE(HcrEl2(0x20).test<HcrEl2::vm>());
}

// ---------------------------------------------------------------------------
// SCTLR_EL2, E2H == 0 (D19.2.118)

TEST(SctlrEl2, Res1AndControlBits) {
    // RES1: 29:28, 23:22, 18, 16, 11, 5:4.
    EXPECT_EQ(SctlrEl2::kRes1, 0x30c5'0830u);
    EXPECT_EQ(SctlrEl2{}.with<SctlrEl2::m>(1).raw(), bit(0));
    EXPECT_EQ(SctlrEl2{}.with<SctlrEl2::a>(1).raw(), bit(1));
    EXPECT_EQ(SctlrEl2{}.with<SctlrEl2::c>(1).raw(), bit(2));
    EXPECT_EQ(SctlrEl2{}.with<SctlrEl2::sa>(1).raw(), bit(3));
    EXPECT_EQ(SctlrEl2{}.with<SctlrEl2::i>(1).raw(), bit(12));
    EXPECT_EQ(SctlrEl2{}.with<SctlrEl2::wxn>(1).raw(), bit(19));
    EXPECT_EQ(SctlrEl2{}.with<SctlrEl2::ee>(1).raw(), bit(25));
    // The RES1 bits are none of the control bits above.
    const u64 controls = bit(0) | bit(1) | bit(2) | bit(3) | bit(12) | bit(19) | bit(25);
    EXPECT_EQ(SctlrEl2::kRes1 & controls, 0u);
}

// ---------------------------------------------------------------------------
// TCR_EL2, E2H == 0 (D19.2.138), and tcr_el2() from pte_format.hpp

TEST(TcrEl2, FieldPositions) {
    EXPECT_EQ(TcrEl2::kRes1, bit(31) | bit(23));
    EXPECT_EQ(TcrEl2{}.with<TcrEl2::t0sz>(0x3f).raw(), 0x3fu);
    EXPECT_EQ(TcrEl2{}.with<TcrEl2::irgn0>(3).raw(), 0x300u);
    EXPECT_EQ(TcrEl2{}.with<TcrEl2::orgn0>(3).raw(), 0xc00u);
    EXPECT_EQ(TcrEl2{}.with<TcrEl2::sh0>(3).raw(), 0x3000u);
    EXPECT_EQ(TcrEl2{}.with<TcrEl2::tg0>(3).raw(), 0xc000u);
    EXPECT_EQ(TcrEl2{}.with<TcrEl2::ps>(7).raw(), 0x7'0000u);
    EXPECT_EQ(TcrEl2{}.with<TcrEl2::tbi>(1).raw(), bit(20));
}

TEST(TcrEl2, ForFortyBitPhysicalAddresses) {
    // PARange 2 (40 bits): T0SZ 16 (48-bit VA) = 0x10, IRGN0 1 = 0x100,
    // ORGN0 1 = 0x400, SH0 3 = 0x3000, TG0 0, PS 2 = 0x20000,
    // RES1 bit 23 = 0x800000 and bit 31 = 0x80000000.
    const TcrEl2 t = tcr_el2(2);
    EXPECT_EQ(t.raw(), 0x8082'3510ull);
    EXPECT_EQ(t.get<TcrEl2::t0sz>(), 16u);
    EXPECT_EQ(t.get<TcrEl2::ps>(), 2u);
}

TEST(TcrEl2, PhysicalSizeFollowsParange) {
    EXPECT_EQ(tcr_el2(0).raw(), 0x8080'3510ull);
    EXPECT_EQ(tcr_el2(5).raw(), 0x8085'3510ull);
    // 52-bit PAs need FEAT_LPA descriptors, which setwise does not build:
    // PS stays at 48 bits.
    EXPECT_EQ(tcr_el2(6).get<TcrEl2::ps>(), 5u);
}

// ---------------------------------------------------------------------------
// VTCR_EL2 (D19.2.160)

TEST(VtcrEl2, MeasuredValueFieldByField) {
    // hardware-facts: VTCR_EL2 = 0x80003560 (T0SZ=32, SL0=1, IRGN0=ORGN0=1,
    // SH0=3, TG0=0 (4K), PS=0, RES1 bit 31).
    const VtcrEl2 v = VtcrEl2(VtcrEl2::kRes1)
                          .with<VtcrEl2::t0sz>(32)
                          .with<VtcrEl2::sl0>(1)
                          .with<VtcrEl2::irgn0>(1)
                          .with<VtcrEl2::orgn0>(1)
                          .with<VtcrEl2::sh0>(3)
                          .with<VtcrEl2::tg0>(0)
                          .with<VtcrEl2::ps>(0);
    EXPECT_EQ(v.raw(), 0x8000'3560ull);

    const VtcrEl2 measured(0x8000'3560);
    EXPECT_EQ(measured.get<VtcrEl2::t0sz>(), 32u);
    EXPECT_EQ(measured.get<VtcrEl2::sl0>(), 1u);
    EXPECT_EQ(measured.get<VtcrEl2::irgn0>(), 1u);
    EXPECT_EQ(measured.get<VtcrEl2::orgn0>(), 1u);
    EXPECT_EQ(measured.get<VtcrEl2::sh0>(), 3u);
    EXPECT_EQ(measured.get<VtcrEl2::tg0>(), 0u);
    EXPECT_EQ(measured.get<VtcrEl2::ps>(), 0u);
}

TEST(VtcrEl2, OtherFieldPositions) {
    EXPECT_EQ(VtcrEl2::kRes1, bit(31));
    EXPECT_EQ(VtcrEl2{}.with<VtcrEl2::sl0>(3).raw(), 0xc0u);
    EXPECT_EQ(VtcrEl2{}.with<VtcrEl2::tg0>(3).raw(), 0xc000u);
    EXPECT_EQ(VtcrEl2{}.with<VtcrEl2::ps>(7).raw(), 0x7'0000u);
    EXPECT_EQ(VtcrEl2{}.with<VtcrEl2::vs>(1).raw(), bit(19));
    EXPECT_EQ(VtcrEl2{}.with<VtcrEl2::ha>(1).raw(), bit(21));
    EXPECT_EQ(VtcrEl2{}.with<VtcrEl2::hd>(1).raw(), bit(22));
}

// ---------------------------------------------------------------------------
// MAIR_EL2 (D19.2.83) and mair_el2()

TEST(MairEl2, SetwiseAttributes) {
    // Index 0 Normal WB RW-allocate 0xff, 1 Device-nGnRE 0x04,
    // 2 Device-nGnRnE 0x00, 3 Normal non-cacheable 0x44.
    const MairEl2 m = mair_el2();
    EXPECT_EQ(m.raw(), 0x4400'04ffull);
    EXPECT_EQ(m.attr(0), 0xff);
    EXPECT_EQ(m.attr(1), 0x04);
    EXPECT_EQ(m.attr(2), 0x00);
    EXPECT_EQ(m.attr(3), 0x44);
    // The indices the descriptors use name those attributes.
    EXPECT_EQ(m.attr(kMairNormal), 0xff);
    EXPECT_EQ(m.attr(kMairDevice), 0x04);
    EXPECT_EQ(m.attr(kMairDeviceStrict), 0x00);
    EXPECT_EQ(m.attr(kMairNormalNc), 0x44);
}

TEST(MairEl2, WithAttrReplacesOneByte) {
    const MairEl2 m = MairEl2(0x1122'3344'5566'7788ull).with_attr(7, 0xab).with_attr(2, 0x00);
    EXPECT_EQ(m.raw(), 0xab22'3344'5500'7788ull);
    EXPECT_EQ(m.attr(7), 0xab);
}

// ---------------------------------------------------------------------------
// ESR_ELx (D19.2.41) with the syndromes measured under QEMU

TEST(Esr, Aarch32Dccisw) {
    // mcr p15,0,r3,c7,c14,2: EC 0x03, IL 1; CP15 ISS (D19.2.41, EC 0x03):
    // CV[24] COND[23:20] Opc2[19:17] Opc1[16:14] CRn[13:10] Rt[9:5] CRm[4:1] Dir[0].
    const Esr e(0x0fe4'1c7c);
    EXPECT_EQ(e.get<Esr::ec>(), 0x03u);
    EXPECT_TRUE(e.test<Esr::il>());
    const u64 iss = e.get<Esr::iss>();
    EXPECT_EQ(iss, 0x1e4'1c7cu);
    EXPECT_EQ((Field<24, 24>::get(iss)), 1u);   // CV
    EXPECT_EQ((Field<23, 20>::get(iss)), 0xeu); // COND
    EXPECT_EQ((Field<19, 17>::get(iss)), 2u);   // Opc2
    EXPECT_EQ((Field<16, 14>::get(iss)), 0u);   // Opc1
    EXPECT_EQ((Field<13, 10>::get(iss)), 7u);   // CRn
    EXPECT_EQ((Field<9, 5>::get(iss)), 3u);     // Rt
    EXPECT_EQ((Field<4, 1>::get(iss)), 14u);    // CRm
    EXPECT_EQ((Field<0, 0>::get(iss)), 0u);     // Dir: write
}

TEST(Esr, Aarch32DccswAndDcisw) {
    const Esr csw(0x0fe4'1cb4);
    EXPECT_EQ(csw.get<Esr::ec>(), 0x03u);
    EXPECT_EQ((Field<9, 5>::get(csw.get<Esr::iss>())), 5u);
    EXPECT_EQ((Field<4, 1>::get(csw.get<Esr::iss>())), 10u);
    const Esr isw(0x0fe4'1cec);
    EXPECT_EQ((Field<9, 5>::get(isw.get<Esr::iss>())), 7u);
    EXPECT_EQ((Field<4, 1>::get(isw.get<Esr::iss>())), 6u);
}

TEST(Esr, Aarch64DcIsw) {
    // dc isw, x3: EC 0x18; ISS Op0[21:20] Op2[19:17] Op1[16:14] CRn[13:10] Rt[9:5] CRm[4:1] Dir[0].
    const Esr e(0x6214'1c6c);
    EXPECT_EQ(e.get<Esr::ec>(), 0x18u);
    EXPECT_TRUE(e.test<Esr::il>());
    const u64 iss = e.get<Esr::iss>();
    EXPECT_EQ(iss, 0x14'1c6cu);
    EXPECT_EQ((Field<21, 20>::get(iss)), 1u); // Op0
    EXPECT_EQ((Field<19, 17>::get(iss)), 2u); // Op2
    EXPECT_EQ((Field<16, 14>::get(iss)), 0u); // Op1
    EXPECT_EQ((Field<13, 10>::get(iss)), 7u); // CRn
    EXPECT_EQ((Field<9, 5>::get(iss)), 3u);   // Rt
    EXPECT_EQ((Field<4, 1>::get(iss)), 6u);   // CRm
    EXPECT_EQ((Field<0, 0>::get(iss)), 0u);   // Dir
}

TEST(Esr, Stage2TranslationFault) {
    // 0x93820007: EC 0x24, IL 1; data abort ISS: ISV[24]=1, SAS[23:22]=2
    // (word), SSE[21]=0, SRT[20:16]=2, SF[15]=0, WnR[6]=0, DFSC[5:0]=0x07.
    const Esr e(0x9382'0007);
    EXPECT_EQ(e.get<Esr::ec>(), 0x24u);
    EXPECT_TRUE(e.test<Esr::il>());
    const u64 iss = e.get<Esr::iss>();
    EXPECT_EQ(iss, 0x182'0007u);
    EXPECT_EQ((Field<24, 24>::get(iss)), 1u);
    EXPECT_EQ((Field<23, 22>::get(iss)), 2u);
    EXPECT_EQ((Field<21, 21>::get(iss)), 0u);
    EXPECT_EQ((Field<20, 16>::get(iss)), 2u);
    EXPECT_EQ((Field<6, 6>::get(iss)), 0u);
    EXPECT_EQ((Field<5, 0>::get(iss)), 0x07u);
}

TEST(Esr, Aarch32SmcAndHighBits) {
    const Esr smc(0x4e00'0000);
    EXPECT_EQ(smc.get<Esr::ec>(), 0x13u);
    EXPECT_TRUE(smc.test<Esr::il>());
    EXPECT_EQ(smc.get<Esr::iss>(), 0u);
    // ISS2 [36:32] sits above EC; neither leaks into the other.
    const Esr hi(0x0000'001f'0000'0000ull | 0x9382'0007);
    EXPECT_EQ(hi.get<Esr::iss2>(), 0x1fu);
    EXPECT_EQ(hi.get<Esr::ec>(), 0x24u);
    EXPECT_EQ(Esr(0x9382'0007).get<Esr::iss2>(), 0u);
    // A 16-bit trapped instruction: IL clear.
    EXPECT_FALSE(Esr(0x0de4'1c7c).test<Esr::il>());
}

// ---------------------------------------------------------------------------
// SPSR_EL2 (D19.2.130)

TEST(SpsrEl2, Fields) {
    // AArch32 SVC with A, I, F masked: M = 0b10011, bits 6-8 set.
    const SpsrEl2 svc(0x1d3);
    EXPECT_EQ(svc.get<SpsrEl2::m>(), 0x13u);
    EXPECT_TRUE(svc.test<SpsrEl2::m4>());
    EXPECT_FALSE(svc.test<SpsrEl2::t>());
    EXPECT_TRUE(svc.test<SpsrEl2::f>());
    EXPECT_TRUE(svc.test<SpsrEl2::i>());
    EXPECT_TRUE(svc.test<SpsrEl2::a>());
    EXPECT_FALSE(svc.test<SpsrEl2::d>());
    // AArch64 EL1h with DAIF masked: 0x3c5.
    const SpsrEl2 el1h(0x3c5);
    EXPECT_EQ(el1h.get<SpsrEl2::m>(), 0x5u);
    EXPECT_FALSE(el1h.test<SpsrEl2::m4>());
    EXPECT_TRUE(el1h.test<SpsrEl2::d>());
    EXPECT_EQ(SpsrEl2{}.with<SpsrEl2::t>(1).raw(), bit(5));
    EXPECT_EQ(SpsrEl2{}.with<SpsrEl2::il>(1).raw(), bit(20));
    EXPECT_EQ(SpsrEl2{}.with<SpsrEl2::ss>(1).raw(), bit(21));
    EXPECT_EQ(SpsrEl2{}.with<SpsrEl2::v>(1).raw(), bit(28));
    EXPECT_EQ(SpsrEl2{}.with<SpsrEl2::c>(1).raw(), bit(29));
    EXPECT_EQ(SpsrEl2{}.with<SpsrEl2::z>(1).raw(), bit(30));
    EXPECT_EQ(SpsrEl2{}.with<SpsrEl2::n>(1).raw(), bit(31));
}

// ---------------------------------------------------------------------------
// ID registers

TEST(MidrEl1, CortexA57) {
    // QEMU cortex-a57: 0x411fd070 = ARM, r1p0, architecture 0xf, part 0xd07.
    const MidrEl1 m(0x411f'd070);
    EXPECT_EQ(m.get<MidrEl1::implementer>(), 0x41u);
    EXPECT_EQ(m.get<MidrEl1::variant>(), 1u);
    EXPECT_EQ(m.get<MidrEl1::architecture>(), 0xfu);
    EXPECT_EQ(m.get<MidrEl1::partnum>(), 0xd07u);
    EXPECT_EQ(m.get<MidrEl1::revision>(), 0u);
    // Cortex-A53 r0p4.
    const MidrEl1 a53(0x410f'd034);
    EXPECT_EQ(a53.get<MidrEl1::partnum>(), 0xd03u);
    EXPECT_EQ(a53.get<MidrEl1::revision>(), 4u);
    EXPECT_EQ(a53.get<MidrEl1::variant>(), 0u);
}

TEST(MpidrEl1, AffinityMasksOutFlags) {
    // Aff3 0xab [39:32], RES1 bit 31, U bit 30, MT bit 24, Aff2 0x12, Aff1 0x34, Aff0 0x56.
    const MpidrEl1 m(0xab'c112'3456ull);
    EXPECT_EQ(m.get<MpidrEl1::aff0>(), 0x56u);
    EXPECT_EQ(m.get<MpidrEl1::aff1>(), 0x34u);
    EXPECT_EQ(m.get<MpidrEl1::aff2>(), 0x12u);
    EXPECT_EQ(m.get<MpidrEl1::aff3>(), 0xabu);
    EXPECT_TRUE(m.test<MpidrEl1::mt>());
    EXPECT_TRUE(m.test<MpidrEl1::u>());
    EXPECT_EQ(m.affinity(), 0xab'0012'3456ull);
    // QEMU's second CPU: MPIDR 0x80000001 -> affinity 1.
    EXPECT_EQ(MpidrEl1(0x8000'0001).affinity(), 1u);
    // Bits above Aff3 are not affinity either.
    EXPECT_EQ(MpidrEl1(0xffff'ff00'0000'0000ull).affinity(), 0u);
}

TEST(IdAa64Mmfr0El1, Fields) {
    // QEMU cortex-a57: 0x1124 -> PARange 4 (44 bits), ASIDBits 2 (16), TGran4 0 (supported).
    const IdAa64Mmfr0El1 r(0x1124);
    EXPECT_EQ(r.get<IdAa64Mmfr0El1::parange>(), 4u);
    EXPECT_EQ(r.get<IdAa64Mmfr0El1::asidbits>(), 2u);
    EXPECT_EQ(r.get<IdAa64Mmfr0El1::tgran4>(), 0u);
    EXPECT_EQ(IdAa64Mmfr0El1(0xf000'0000).get<IdAa64Mmfr0El1::tgran4>(), 0xfu);
    EXPECT_EQ(IdAa64Mmfr2El1(u64{1} << 40).get<IdAa64Mmfr2El1::fwb>(), 1u);
}

TEST(Parange, Bits) {
    // ID_AA64MMFR0_EL1.PARange encodings (D19.2.64).
    EXPECT_EQ(parange_bits(0), 32u);
    EXPECT_EQ(parange_bits(1), 36u);
    EXPECT_EQ(parange_bits(2), 40u);
    EXPECT_EQ(parange_bits(3), 42u);
    EXPECT_EQ(parange_bits(4), 44u);
    EXPECT_EQ(parange_bits(5), 48u);
    EXPECT_EQ(parange_bits(6), 52u);
    EXPECT_EQ(parange_bits(7), 0u);
    EXPECT_EQ(parange_bits(0xf), 0u);
    EXPECT_EQ(parange_bits(0x10), 0u);
}

// ---------------------------------------------------------------------------
// Cache identification

TEST(ClidrEl1, CortexA57) {
    // hardware-facts: CLIDR 0x0a200023. Ctype1 = 0b011 (separate I+D),
    // Ctype2 = 0b100 (unified), Ctype3 = 0; LoUIS [23:21] = 1, LoC [26:24] = 2,
    // LoUU [29:27] = 1.
    const ClidrEl1 c(0x0a20'0023);
    EXPECT_EQ(c.ctype(1), 3u);
    EXPECT_EQ(c.ctype(2), 4u);
    EXPECT_EQ(c.ctype(3), 0u);
    EXPECT_EQ(c.get<ClidrEl1::louis>(), 1u);
    EXPECT_EQ(c.get<ClidrEl1::loc>(), 2u);
    EXPECT_EQ(c.get<ClidrEl1::louu>(), 1u);
    // Ctype7 is bits [20:18].
    EXPECT_EQ(ClidrEl1(u64{5} << 18).ctype(7), 5u);
    EXPECT_EQ(ClidrEl1(u64{5} << 18).ctype(6), 0u);
}

TEST(CcsidrEl1, Fields) {
    // QEMU cortex-a57 L1D: 0x701fe00a = 256 sets, 2 ways, 64-byte lines
    // (NumSets [27:13] = 255, Associativity [12:3] = 1, LineSize [2:0] = 2),
    // with the WT/WB/RA/WA flags in [31:28] that are not part of NumSets.
    const CcsidrEl1 c(0x701f'e00a);
    EXPECT_EQ(c.get<CcsidrEl1::num_sets>(), 255u);
    EXPECT_EQ(c.get<CcsidrEl1::associativity>(), 1u);
    EXPECT_EQ(c.get<CcsidrEl1::line_size>(), 2u);
    const CcsidrEl1 l2(0x70ff'e07a); // 2048 sets, 16 ways, 64 B
    EXPECT_EQ(l2.get<CcsidrEl1::num_sets>(), 2047u);
    EXPECT_EQ(l2.get<CcsidrEl1::associativity>(), 15u);
}

TEST(CtrEl0, LineSizes) {
    // QEMU cortex-a57 CTR_EL0 0x8444c004: IminLine 4 and DminLine 4 words
    // (64 bytes), L1Ip 0b11 (PIPT), ERG 4, CWG 4, IDC = DIC = 0.
    const CtrEl0 c(0x8444'c004);
    EXPECT_EQ(c.dcache_line_bytes(), 64u);
    EXPECT_EQ(c.icache_line_bytes(), 64u);
    EXPECT_EQ(c.get<CtrEl0::l1ip>(), 3u);
    EXPECT_EQ(c.get<CtrEl0::erg>(), 4u);
    EXPECT_EQ(c.get<CtrEl0::cwg>(), 4u);
    EXPECT_FALSE(c.test<CtrEl0::idc>());
    EXPECT_FALSE(c.test<CtrEl0::dic>());
    // Different I and D lines: DminLine 3 (32 B), IminLine 5 (128 B); IDC and DIC set.
    const CtrEl0 d(0xb443'c005);
    EXPECT_EQ(d.dcache_line_bytes(), 32u);
    EXPECT_EQ(d.icache_line_bytes(), 128u);
    EXPECT_TRUE(d.test<CtrEl0::idc>());
    EXPECT_TRUE(d.test<CtrEl0::dic>());
}

} // namespace
} // namespace setwise::arm64
