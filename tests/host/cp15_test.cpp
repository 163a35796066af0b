// arch/arm32/cp15: MCR/MRC and MCRR/MRRC trap decoders against the set/way
// traps measured under QEMU (hardware-facts.md) and against syndromes
// encoded by hand from DDI 0487 (ESR_EL2 "ISS encoding for an exception
// from an MCR or MRC access" / "... an MCRR or MRRC access"), and the named
// register keys against each register's encoding in the manual.
#include "arch/arm32/cp15.hpp"

#include <gtest/gtest.h>

#include <iterator>
#include <set>

#include "arch/arm32/condition.hpp"
#include "arch/arm64/exception_class.hpp"

namespace setwise::arm32 {
namespace {

using arm64::ExceptionClass;
using arm64::Syndrome;

struct MeasuredSw {
    u64 esr;
    Cp15Key key;
    const char* name;
    unsigned crm;
    unsigned rt;
};

// hardware-facts: `mcr p15,0,rN,c7,cM,2` from SVC mode with HCR_EL2.TSW.
constexpr MeasuredSw kMeasured[] = {
    {0x0fe41c7c, cp15::kDccisw, "DCCISW", 14, 3},
    {0x0fe41cb4, cp15::kDccsw, "DCCSW", 10, 5},
    {0x0fe41cec, cp15::kDcisw, "DCISW", 6, 7},
};

TEST(Cp15Iss, MeasuredSetWayTraps) {
    for (const MeasuredSw& m : kMeasured) {
        const Syndrome s = Syndrome::decode(m.esr);
        ASSERT_EQ(s.ec, ExceptionClass::cp15_32) << m.name;
        EXPECT_TRUE(s.il32);
        const Cp15Iss iss(s.iss);
        EXPECT_TRUE(iss.test<Cp15Iss::cv>());
        EXPECT_EQ(iss.get<Cp15Iss::cond>(), 0xeu);
        EXPECT_EQ(iss.get<Cp15Iss::opc2>(), 2u);
        EXPECT_EQ(iss.get<Cp15Iss::opc1>(), 0u);
        EXPECT_EQ(iss.get<Cp15Iss::crn>(), 7u);
        EXPECT_EQ(iss.get<Cp15Iss::rt>(), m.rt);
        EXPECT_EQ(iss.get<Cp15Iss::crm>(), m.crm);
        EXPECT_FALSE(iss.is_read());
        EXPECT_EQ(iss.key(), m.key) << m.name;

        const Cp15Access a = iss.decode();
        EXPECT_EQ(a.key, m.key);
        EXPECT_EQ(a.opc1, 0);
        EXPECT_EQ(a.crn, 7);
        EXPECT_EQ(a.crm, m.crm);
        EXPECT_EQ(a.opc2, 2);
        EXPECT_EQ(a.rt, m.rt);
        EXPECT_FALSE(a.read);
        EXPECT_TRUE(a.cv);
        EXPECT_EQ(a.cond, 0xe);
        EXPECT_STREQ(cp15_name(a.key), m.name);
    }
}

TEST(Cp15Iss, KeyIgnoresConditionRegisterAndDirection) {
    // DCCISW from r0 with CV=0 (a T32 trap), from r12 with COND=NE, and the
    // whole ESR: one key.
    EXPECT_EQ(Cp15Iss(0x0041c1cu).key(), cp15::kDccisw);
    EXPECT_EQ(Cp15Iss(0x1141d9cu).key(), cp15::kDccisw);
    EXPECT_EQ(Cp15Iss(0x0fe41c7cu).key(), cp15::kDccisw);
    EXPECT_EQ(Cp15Iss(0x0041c1du).key(), cp15::kDccisw);
}

TEST(Cp15Iss, SctlrReadAndWrite) {
    // mrc p15,0,r0,c1,c0,0 from SVC mode: Direction 1, Rt 0.
    const Cp15Access r = Cp15Iss(Syndrome::decode(0x0fe00401).iss).decode();
    EXPECT_EQ(r.key, cp15::kSctlr);
    EXPECT_TRUE(r.read);
    EXPECT_EQ(r.rt, 0);
    // mcr p15,0,r14,c1,c0,0 from Abort mode: Rt is the AArch64 view of
    // LR_abt, X20 (DDI 0487's own example in "Mapping of the
    // general-purpose registers").
    const Cp15Access w = Cp15Iss(Syndrome::decode(0x0fe00680).iss).decode();
    EXPECT_EQ(w.key, cp15::kSctlr);
    EXPECT_FALSE(w.read);
    EXPECT_EQ(w.rt, 20);
}

TEST(Cp15Iss, ClidrWithOpc1) {
    // mrc p15,1,r2,c0,c0,1
    const Cp15Access a = Cp15Iss(Syndrome::decode(0x0fe24041).iss).decode();
    EXPECT_EQ(a.key, cp15::kClidr);
    EXPECT_EQ(a.opc1, 1);
    EXPECT_EQ(a.opc2, 1);
    EXPECT_EQ(a.rt, 2);
    EXPECT_TRUE(a.read);
}

TEST(Cp15Iss, ConditionalSetWayFollowsItsCondition) {
    // mcrne p15,0,r3,c7,c14,2: CV=1, COND=NE. Skipped with Z set.
    const Syndrome s = Syndrome::decode(0x0f141c7c);
    const Cp15Access a = Cp15Iss(s.iss).decode();
    EXPECT_EQ(a.key, cp15::kDccisw);
    EXPECT_TRUE(a.cv);
    EXPECT_EQ(a.cond, 0x1);
    constexpr u32 kSvc = 0x13, kZ = 1u << 30;
    EXPECT_FALSE(trapped_instruction_passes(s.iss, kSvc | kZ));
    EXPECT_TRUE(trapped_instruction_passes(s.iss, kSvc));
}

TEST(Cp15Iss, Cp14UsesTheSameLayout) {
    // mrc p14,0,APSR_nzcv,c0,c1,0 (DBGDSCRint): EC 0x05, Rt reported as
    // 0b11111 for R15.
    const Syndrome s = Syndrome::decode(0x17e003e3);
    ASSERT_EQ(s.ec, ExceptionClass::cp14_32);
    const Cp15Access a = Cp14Iss(s.iss).decode();
    EXPECT_EQ(a.rt, 31);
    EXPECT_EQ(a.crn, 0);
    EXPECT_EQ(a.crm, 1);
    EXPECT_TRUE(a.read);
    EXPECT_EQ(a.key, cp15_key(0, 0, 1, 0));
}

TEST(Cp15Iss, FieldPositions) {
    EXPECT_TRUE(Cp15Iss(1u << 24).test<Cp15Iss::cv>());
    EXPECT_EQ(Cp15Iss(0xfu << 20).get<Cp15Iss::cond>(), 0xfu);
    EXPECT_EQ(Cp15Iss(7u << 17).get<Cp15Iss::opc2>(), 7u);
    EXPECT_EQ(Cp15Iss(7u << 14).get<Cp15Iss::opc1>(), 7u);
    EXPECT_EQ(Cp15Iss(0xfu << 10).get<Cp15Iss::crn>(), 0xfu);
    EXPECT_EQ(Cp15Iss(0x1fu << 5).get<Cp15Iss::rt>(), 0x1fu);
    EXPECT_EQ(Cp15Iss(0xfu << 1).get<Cp15Iss::crm>(), 0xfu);
    EXPECT_TRUE(Cp15Iss(1u).is_read());
    EXPECT_EQ(Cp15Iss::kKeyMask, 0x000ffc1eu);
}

struct Hand64 {
    u64 esr;
    Cp15_64Key key;
    unsigned opc1, crm, rt, rt2;
    bool read;
};

// MCRR/MRRC encoded from the ISS layout: CV [24], COND [23:20], Opc1
// [19:16], Rt2 [14:10], Rt [9:5], CRm [4:1], Direction [0].
constexpr Hand64 kHand64[] = {
    {0x13e00c44, cp15::kTtbr0_64, 0, 2, 2, 3, false}, // mcrr p15,0,r2,r3,c2
    {0x13e10404, cp15::kTtbr1_64, 1, 2, 0, 1, false}, // mcrr p15,1,r0,r1,c2
    {0x13e00418, cp15::kIccSgi1r, 0, 12, 0, 1, false}, // mcrr p15,0,r0,r1,c12
    {0x13e2041d, cp15::kCntpCval, 2, 14, 0, 1, true},  // mrrc p15,2,r0,r1,c14
};

TEST(Cp15_64Iss, HandEncoded) {
    for (const Hand64& h : kHand64) {
        const Syndrome s = Syndrome::decode(h.esr);
        ASSERT_EQ(s.ec, ExceptionClass::cp15_64) << std::hex << h.esr;
        const Cp15_64Access a = Cp15_64Iss(s.iss).decode();
        EXPECT_EQ(a.key, h.key) << std::hex << h.esr;
        EXPECT_EQ(a.opc1, h.opc1);
        EXPECT_EQ(a.crm, h.crm);
        EXPECT_EQ(a.rt, h.rt);
        EXPECT_EQ(a.rt2, h.rt2);
        EXPECT_EQ(a.read, h.read);
        EXPECT_TRUE(a.cv);
        EXPECT_EQ(a.cond, 0xe);
    }
}

TEST(Cp15_64Iss, FieldPositions) {
    EXPECT_EQ(Cp15_64Iss(0xfu << 16).get<Cp15_64Iss::opc1>(), 0xfu);
    EXPECT_EQ(Cp15_64Iss(0x1fu << 10).get<Cp15_64Iss::rt2>(), 0x1fu);
    EXPECT_EQ(Cp15_64Iss(0x1fu << 5).get<Cp15_64Iss::rt>(), 0x1fu);
    EXPECT_EQ(Cp15_64Iss(0xfu << 1).get<Cp15_64Iss::crm>(), 0xfu);
    EXPECT_EQ(Cp15_64Iss::kKeyMask, 0x000f001eu);
    // Bit 15 is RES0 and not part of the key.
    EXPECT_EQ(Cp15_64Iss(1u << 15).key(), Cp15_64Key{0});
}

struct Named32 {
    const char* name;
    Cp15Key key;
    u32 expected; // opc2 << 17 | opc1 << 14 | CRn << 10 | CRm << 1, by hand
};

// Encodings from each register's "Accessing" section in DDI 0487 (coproc
// 0b1111, opc1, CRn, CRm, opc2).
constexpr Named32 kNamed32[] = {
    {"DCISW", cp15::kDcisw, 0x041c0c},        // 0, c7, c6, 2
    {"DCCSW", cp15::kDccsw, 0x041c14},        // 0, c7, c10, 2
    {"DCCISW", cp15::kDccisw, 0x041c1c},      // 0, c7, c14, 2
    {"SCTLR", cp15::kSctlr, 0x000400},        // 0, c1, c0, 0
    {"TTBR0", cp15::kTtbr0, 0x000800},        // 0, c2, c0, 0
    {"TTBR1", cp15::kTtbr1, 0x020800},        // 0, c2, c0, 1
    {"TTBCR", cp15::kTtbcr, 0x040800},        // 0, c2, c0, 2
    {"TTBCR2", cp15::kTtbcr2, 0x060800},      // 0, c2, c0, 3
    {"DACR", cp15::kDacr, 0x000c00},          // 0, c3, c0, 0
    {"DFSR", cp15::kDfsr, 0x001400},          // 0, c5, c0, 0
    {"IFSR", cp15::kIfsr, 0x021400},          // 0, c5, c0, 1
    {"ADFSR", cp15::kAdfsr, 0x001402},        // 0, c5, c1, 0
    {"AIFSR", cp15::kAifsr, 0x021402},        // 0, c5, c1, 1
    {"DFAR", cp15::kDfar, 0x001800},          // 0, c6, c0, 0
    {"IFAR", cp15::kIfar, 0x041800},          // 0, c6, c0, 2
    {"PRRR/MAIR0", cp15::kPrrr, 0x002804},    // 0, c10, c2, 0
    {"NMRR/MAIR1", cp15::kNmrr, 0x022804},    // 0, c10, c2, 1
    {"AMAIR0", cp15::kAmair0, 0x002806},      // 0, c10, c3, 0
    {"AMAIR1", cp15::kAmair1, 0x022806},      // 0, c10, c3, 1
    {"CONTEXTIDR", cp15::kContextidr, 0x023400}, // 0, c13, c0, 1
    {"CCSIDR", cp15::kCcsidr, 0x004000},      // 1, c0, c0, 0
    {"CLIDR", cp15::kClidr, 0x024000},        // 1, c0, c0, 1
    {"CCSIDR2", cp15::kCcsidr2, 0x044000},    // 1, c0, c0, 2
    {"CSSELR", cp15::kCsselr, 0x008000},      // 2, c0, c0, 0
    {"CTR", cp15::kCtr, 0x020000},            // 0, c0, c0, 1
    {"CNTP_TVAL", cp15::kCntpTval, 0x003804}, // 0, c14, c2, 0
    {"CNTP_CTL", cp15::kCntpCtl, 0x023804},   // 0, c14, c2, 1
};

TEST(Cp15Key, NamedKeysMatchTheManualsEncodings) {
    std::set<u32> distinct;
    for (const Named32& n : kNamed32) {
        EXPECT_EQ(static_cast<u32>(n.key), n.expected) << n.name;
        EXPECT_EQ(Cp15Iss(n.expected).key(), n.key) << n.name;
        const char* name = cp15_name(n.key);
        ASSERT_NE(name, nullptr) << n.name;
        EXPECT_STREQ(name, n.name);
        distinct.insert(n.expected);
    }
    EXPECT_EQ(distinct.size(), std::size(kNamed32));
    // With LPAE the PRRR/NMRR encodings are MAIR0/MAIR1.
    EXPECT_EQ(cp15::kMair0, cp15::kPrrr);
    EXPECT_EQ(cp15::kMair1, cp15::kNmrr);
}

struct Named64 {
    const char* name;
    Cp15_64Key key;
    u32 expected; // opc1 << 16 | CRm << 1, by hand
};

constexpr Named64 kNamed64[] = {
    {"TTBR0 (64-bit)", cp15::kTtbr0_64, 0x000004}, // opc1 0, c2
    {"TTBR1 (64-bit)", cp15::kTtbr1_64, 0x010004}, // opc1 1, c2
    {"ICC_SGI1R", cp15::kIccSgi1r, 0x000018},      // opc1 0, c12
    {"CNTP_CVAL", cp15::kCntpCval, 0x02001c},      // opc1 2, c14
};

TEST(Cp15_64Key, NamedKeysMatchTheManualsEncodings) {
    for (const Named64& n : kNamed64) {
        EXPECT_EQ(static_cast<u32>(n.key), n.expected) << n.name;
        const char* name = cp15_64_name(n.key);
        ASSERT_NE(name, nullptr) << n.name;
        EXPECT_STREQ(name, n.name);
    }
}

TEST(Cp15Key, UnnamedKeysHaveNoName) {
    EXPECT_EQ(cp15_name(cp15_key(0, 1, 0, 1)), nullptr);   // ACTLR
    EXPECT_EQ(cp15_name(cp15_key(0, 7, 5, 0)), nullptr);   // ICIALLU
    EXPECT_EQ(cp15_64_name(cp15_64_key(0, 7)), nullptr);   // PAR (64-bit)
}

TEST(Cp15Key, SwitchDispatch) {
    const auto op = [](u64 esr) {
        switch (Cp15Iss(Syndrome::decode(esr).iss).key()) {
        case cp15::kDcisw: return 1;
        case cp15::kDccsw: return 2;
        case cp15::kDccisw: return 3;
        default: return 0;
        }
    };
    EXPECT_EQ(op(0x0fe41cec), 1);
    EXPECT_EQ(op(0x0fe41cb4), 2);
    EXPECT_EQ(op(0x0fe41c7c), 3);
    EXPECT_EQ(op(0x0fe00401), 0);
}

} // namespace
} // namespace setwise::arm32
