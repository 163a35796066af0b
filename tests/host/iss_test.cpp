// arch/arm64/iss: the per-EC ISS decoders against ESR_EL2 values measured
// under QEMU (hardware-facts.md) and values encoded by hand from the ISS
// layouts in DDI 0487 (ESR_EL2, "ISS encoding for an exception from ...").
// Each hand-encoded ESR says which instruction and which fields it stands
// for; none is produced by the code under test.
#include "arch/arm64/iss.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <set>

#include "arch/arm32/condition.hpp"
#include "arch/arm64/exception_class.hpp"

namespace setwise::arm64 {
namespace {

u32 iss_of(u64 esr) { return Syndrome::decode(esr).iss; }

// --- Data aborts ------------------------------------------------------------

// hardware-facts: an AArch32 LDR from a page whose stage-2 level-3 entry is
// invalid. EC 0x24, ISV=1, SAS=word, SRT=2, WnR=0, DFSC=0x07.
constexpr u64 kMeasuredStage2Fault = 0x93820007;

TEST(DataAbortIss, MeasuredStage2TranslationFault) {
    const Syndrome s = Syndrome::decode(kMeasuredStage2Fault);
    ASSERT_EQ(s.ec, ExceptionClass::dabt_lower);
    const DataAbortIss iss(s.iss);
    EXPECT_TRUE(iss.test<DataAbortIss::isv>());
    EXPECT_EQ(iss.get<DataAbortIss::sas>(), 2u);
    EXPECT_EQ(iss.get<DataAbortIss::srt>(), 2u);
    EXPECT_FALSE(iss.test<DataAbortIss::wnr>());
    EXPECT_EQ(iss.get<DataAbortIss::dfsc>(), 0x07u);
    EXPECT_EQ(iss.access_bytes(), 4u);

    const DataAbort d = iss.decode();
    EXPECT_TRUE(d.isv);
    EXPECT_EQ(d.access_bytes, 4u);
    EXPECT_EQ(d.srt, 2u);
    EXPECT_FALSE(d.write);
    EXPECT_FALSE(d.sign_extend);
    EXPECT_FALSE(d.sixty_four);
    EXPECT_FALSE(d.acquire_release);
    EXPECT_FALSE(d.s1ptw);
    EXPECT_FALSE(d.cache_maintenance);
    EXPECT_FALSE(d.far_not_valid);
    EXPECT_TRUE(d.fault.is_translation());
    EXPECT_EQ(d.fault.level, 3);
    EXPECT_FALSE(d.fault.is_permission());
    EXPECT_FALSE(d.fault.is_access_flag());
    EXPECT_FALSE(d.fault.is_external_abort());
}

TEST(DataAbortIss, SixtyFourBitStore) {
    // STR x5 to a page missing at level 2: ISV, SAS=0b11, SRT=5, SF, WnR,
    // DFSC=0b000110.
    const DataAbort d = DataAbortIss(iss_of(0x93c58046)).decode();
    EXPECT_TRUE(d.isv);
    EXPECT_EQ(d.access_bytes, 8u);
    EXPECT_EQ(d.srt, 5u);
    EXPECT_TRUE(d.sixty_four);
    EXPECT_TRUE(d.write);
    EXPECT_TRUE(d.fault.is_translation());
    EXPECT_EQ(d.fault.level, 2);
}

TEST(DataAbortIss, SignExtendedHalfwordPermissionFault) {
    // LDRSH w7: ISV, SAS=0b01, SSE, SRT=7, read, permission fault level 3.
    const DataAbort d = DataAbortIss(iss_of(0x9367000f)).decode();
    EXPECT_EQ(d.access_bytes, 2u);
    EXPECT_TRUE(d.sign_extend);
    EXPECT_EQ(d.srt, 7u);
    EXPECT_FALSE(d.sixty_four);
    EXPECT_FALSE(d.write);
    EXPECT_TRUE(d.fault.is_permission());
    EXPECT_EQ(d.fault.level, 3);
}

TEST(DataAbortIss, AcquireByteAccessFlagFault) {
    // LDARB w1: ISV, SAS=byte, SRT=1, AR, access flag fault level 1.
    const DataAbort d = DataAbortIss(iss_of(0x93014009)).decode();
    EXPECT_EQ(d.access_bytes, 1u);
    EXPECT_EQ(d.srt, 1u);
    EXPECT_TRUE(d.acquire_release);
    EXPECT_TRUE(d.fault.is_access_flag());
    EXPECT_EQ(d.fault.level, 1);
}

TEST(DataAbortIss, ExternalAbortWithoutSyndrome) {
    // ISV=0, FnV, EA, DFSC=0b010000.
    const DataAbort d = DataAbortIss(iss_of(0x92000610)).decode();
    EXPECT_FALSE(d.isv);
    EXPECT_EQ(d.access_bytes, 0u);
    EXPECT_TRUE(d.far_not_valid);
    EXPECT_TRUE(d.ea);
    EXPECT_TRUE(d.fault.is_external_abort());
    EXPECT_EQ(d.fault.type, FaultType::sync_external);
    EXPECT_FALSE(d.fault.level.has_value());
}

TEST(DataAbortIss, StageTwoFaultOnStageOneWalk) {
    // ISV=0, S1PTW, WnR, translation fault level 1.
    const DataAbort d = DataAbortIss(iss_of(0x920000c5)).decode();
    EXPECT_FALSE(d.isv);
    EXPECT_TRUE(d.s1ptw);
    EXPECT_TRUE(d.write);
    EXPECT_TRUE(d.fault.is_translation());
    EXPECT_EQ(d.fault.level, 1);
}

TEST(DataAbortIss, CacheMaintenance) {
    // A DC CIVAC that faults: CM, WnR (always 1 for maintenance), permission L3.
    const DataAbort d = DataAbortIss(iss_of(0x9200014f)).decode();
    EXPECT_TRUE(d.cache_maintenance);
    EXPECT_TRUE(d.write);
    EXPECT_TRUE(d.fault.is_permission());
}

TEST(DataAbortIss, NoInstructionSyndromeWithoutIsv) {
    // ISV=0 but bits 23:14 set (FnP in bit 15, for example): the decoded
    // syndrome stays empty rather than misreport them as SAS/SRT/SF/AR.
    const u32 iss = (3u << 22) | (1u << 21) | (9u << 16) | (1u << 15) | (1u << 14) | 0x07;
    const DataAbort d = DataAbortIss(iss).decode();
    EXPECT_FALSE(d.isv);
    EXPECT_EQ(d.access_bytes, 0u);
    EXPECT_EQ(d.srt, 0u);
    EXPECT_FALSE(d.sign_extend);
    EXPECT_FALSE(d.sixty_four);
    EXPECT_FALSE(d.acquire_release);
    EXPECT_TRUE(d.fault.is_translation());
}

TEST(DataAbortIss, FieldPositions) {
    // One bit at a time, at the positions the manual gives.
    EXPECT_TRUE(DataAbortIss(1u << 24).test<DataAbortIss::isv>());
    EXPECT_EQ(DataAbortIss(3u << 22).get<DataAbortIss::sas>(), 3u);
    EXPECT_TRUE(DataAbortIss(1u << 21).test<DataAbortIss::sse>());
    EXPECT_EQ(DataAbortIss(31u << 16).get<DataAbortIss::srt>(), 31u);
    EXPECT_TRUE(DataAbortIss(1u << 15).test<DataAbortIss::sf>());
    EXPECT_TRUE(DataAbortIss(1u << 14).test<DataAbortIss::ar>());
    EXPECT_TRUE(DataAbortIss(1u << 13).test<DataAbortIss::vncr>());
    EXPECT_EQ(DataAbortIss(3u << 11).get<DataAbortIss::set>(), 3u);
    EXPECT_TRUE(DataAbortIss(1u << 10).test<DataAbortIss::fnv>());
    EXPECT_TRUE(DataAbortIss(1u << 9).test<DataAbortIss::ea>());
    EXPECT_TRUE(DataAbortIss(1u << 8).test<DataAbortIss::cm>());
    EXPECT_TRUE(DataAbortIss(1u << 7).test<DataAbortIss::s1ptw>());
    EXPECT_TRUE(DataAbortIss(1u << 6).test<DataAbortIss::wnr>());
    EXPECT_EQ(DataAbortIss(0x3fu).get<DataAbortIss::dfsc>(), 0x3fu);
    EXPECT_EQ(DataAbortIss(0u).access_bytes(), 1u);
    EXPECT_EQ(DataAbortIss(1u << 22).access_bytes(), 2u);
    EXPECT_TRUE(DataAbortIss(1u << 13).decode().vncr);
    EXPECT_EQ(DataAbortIss(2u << 11).decode().set, 2u);
}

// --- Fault status codes -------------------------------------------------------

struct FscRow {
    u8 code;
    FaultType type;
    int level; // kNone when the code names no level
};
constexpr int kNone = 99;

// The DFSC table of DDI 0487 (Data Abort ISS), every allocated code.
constexpr FscRow kDfscTable[] = {
    {0x00, FaultType::address_size, 0},  {0x01, FaultType::address_size, 1},
    {0x02, FaultType::address_size, 2},  {0x03, FaultType::address_size, 3},
    {0x04, FaultType::translation, 0},   {0x05, FaultType::translation, 1},
    {0x06, FaultType::translation, 2},   {0x07, FaultType::translation, 3},
    {0x08, FaultType::access_flag, 0},   {0x09, FaultType::access_flag, 1},
    {0x0a, FaultType::access_flag, 2},   {0x0b, FaultType::access_flag, 3},
    {0x0c, FaultType::permission, 0},    {0x0d, FaultType::permission, 1},
    {0x0e, FaultType::permission, 2},    {0x0f, FaultType::permission, 3},
    {0x10, FaultType::sync_external, kNone},
    {0x11, FaultType::tag_check, kNone},
    {0x12, FaultType::sync_external_walk, -2}, {0x13, FaultType::sync_external_walk, -1},
    {0x14, FaultType::sync_external_walk, 0},  {0x15, FaultType::sync_external_walk, 1},
    {0x16, FaultType::sync_external_walk, 2},  {0x17, FaultType::sync_external_walk, 3},
    {0x18, FaultType::parity_ecc, kNone},
    {0x1b, FaultType::parity_ecc_walk, -1},
    {0x1c, FaultType::parity_ecc_walk, 0}, {0x1d, FaultType::parity_ecc_walk, 1},
    {0x1e, FaultType::parity_ecc_walk, 2}, {0x1f, FaultType::parity_ecc_walk, 3},
    {0x21, FaultType::alignment, kNone},
    {0x22, FaultType::granule_protection_walk, -2}, {0x23, FaultType::granule_protection_walk, -1},
    {0x24, FaultType::granule_protection_walk, 0},  {0x25, FaultType::granule_protection_walk, 1},
    {0x26, FaultType::granule_protection_walk, 2},  {0x27, FaultType::granule_protection_walk, 3},
    {0x28, FaultType::granule_protection, kNone},
    {0x29, FaultType::address_size, -1},
    {0x2a, FaultType::translation, -2},
    {0x2b, FaultType::translation, -1},
    {0x2c, FaultType::address_size, -2},
    {0x30, FaultType::tlb_conflict, kNone},
    {0x31, FaultType::unsupported_atomic_update, kNone},
    {0x34, FaultType::lockdown, kNone},
    {0x35, FaultType::unsupported_exclusive_atomic, kNone},
};

// Codes the IFSC table of the Instruction Abort ISS does not have.
constexpr u8 kDataOnly[] = {0x11, 0x21, 0x34, 0x35};

const FscRow* find_row(unsigned code) {
    for (const FscRow& r : kDfscTable)
        if (r.code == code) return &r;
    return nullptr;
}

TEST(FaultStatus, EveryDfscCode) {
    int allocated = 0;
    for (unsigned code = 0; code < 64; ++code) {
        const FaultStatus f = decode_fault_status(code, FaultSource::data);
        const FscRow* row = find_row(code);
        if (row == nullptr) {
            EXPECT_EQ(f.type, FaultType::reserved) << "code " << code;
            EXPECT_FALSE(f.level.has_value()) << "code " << code;
            continue;
        }
        ++allocated;
        EXPECT_EQ(f.type, row->type) << "code " << code;
        if (row->level == kNone) {
            EXPECT_FALSE(f.level.has_value()) << "code " << code;
        } else {
            ASSERT_TRUE(f.level.has_value()) << "code " << code;
            EXPECT_EQ(*f.level, row->level) << "code " << code;
        }
    }
    EXPECT_EQ(allocated, 46);
}

TEST(FaultStatus, IfscLacksTheDataOnlyCodes) {
    for (unsigned code = 0; code < 64; ++code) {
        const FaultStatus f = decode_fault_status(code, FaultSource::instruction);
        const FscRow* row = find_row(code);
        bool data_only = false;
        for (u8 d : kDataOnly) data_only |= d == code;
        if (row == nullptr || data_only) {
            EXPECT_EQ(f.type, FaultType::reserved) << "code " << code;
        } else {
            EXPECT_EQ(f.type, row->type) << "code " << code;
        }
    }
}

TEST(FaultStatus, OnlyTheLowSixBitsCount) {
    // A caller passing a whole ISS gets the DFSC of it.
    EXPECT_TRUE(decode_fault_status(0x1820007, FaultSource::data).is_translation());
    EXPECT_EQ(decode_fault_status(0x1820007, FaultSource::data).level, 3);
}

TEST(FaultStatus, ExternalAbortClassification) {
    // The manual's "DFSC == 0b010000 || 0b01001x || 0b0101xx" group.
    for (unsigned code = 0; code < 64; ++code) {
        const bool expected = code == 0x10 || code == 0x12 || code == 0x13 || (code >= 0x14 && code <= 0x17);
        EXPECT_EQ(decode_fault_status(code, FaultSource::data).is_external_abort(), expected) << "code " << code;
    }
}

TEST(FaultStatus, NamesAreDistinct) {
    std::set<std::string> names;
    for (unsigned t = 0; t <= static_cast<unsigned>(FaultType::reserved); ++t) {
        const char* n = fault_type_name(static_cast<FaultType>(t));
        ASSERT_NE(n, nullptr);
        names.insert(n);
    }
    EXPECT_EQ(names.size(), static_cast<usize>(FaultType::reserved) + 1);
    EXPECT_STREQ(fault_type_name(FaultType::translation), "translation fault");
}

// --- Instruction aborts ---------------------------------------------------------

TEST(InstrAbortIss, TranslationFault) {
    const Syndrome s = Syndrome::decode(0x82000007);
    ASSERT_EQ(s.ec, ExceptionClass::iabt_lower);
    const InstrAbort a = InstrAbortIss(s.iss).decode();
    EXPECT_TRUE(a.fault.is_translation());
    EXPECT_EQ(a.fault.level, 3);
    EXPECT_FALSE(a.s1ptw);
    EXPECT_FALSE(a.ea);
    EXPECT_FALSE(a.far_not_valid);
}

TEST(InstrAbortIss, ExternalAbortOnWalk) {
    // S1PTW, IFSC=0b010110: external abort on a walk, level 2.
    const InstrAbort a = InstrAbortIss(iss_of(0x82000096)).decode();
    EXPECT_TRUE(a.s1ptw);
    EXPECT_EQ(a.fault.type, FaultType::sync_external_walk);
    EXPECT_EQ(a.fault.level, 2);
    EXPECT_TRUE(a.fault.is_external_abort());
}

TEST(InstrAbortIss, FieldPositions) {
    EXPECT_EQ(InstrAbortIss(3u << 11).decode().set, 3u);
    EXPECT_TRUE(InstrAbortIss(1u << 10).decode().far_not_valid);
    EXPECT_TRUE(InstrAbortIss(1u << 9).decode().ea);
    EXPECT_TRUE(InstrAbortIss(1u << 7).decode().s1ptw);
    // Alignment (0b100001) exists only for data aborts.
    EXPECT_EQ(InstrAbortIss(0x21u).fault().type, FaultType::reserved);
}

// --- System register / instruction traps ----------------------------------------

struct MeasuredSw {
    u64 esr;
    SysRegKey key;
    unsigned crm;
    unsigned rt;
};

// hardware-facts: `dc isw, x3`, `dc csw, x5`, `dc cisw, x7` with HCR_EL2.TSW.
constexpr MeasuredSw kMeasuredSw[] = {
    {0x62141c6c, sysreg::kDcIsw, 6, 3},
    {0x62141cb4, sysreg::kDcCsw, 10, 5},
    {0x62141cfc, sysreg::kDcCisw, 14, 7},
};

TEST(SysRegIss, MeasuredSetWayTraps) {
    for (const MeasuredSw& m : kMeasuredSw) {
        const Syndrome s = Syndrome::decode(m.esr);
        ASSERT_EQ(s.ec, ExceptionClass::sysreg);
        EXPECT_TRUE(s.il32);
        const SysRegIss iss(s.iss);
        EXPECT_EQ(iss.get<SysRegIss::op0>(), 1u);
        EXPECT_EQ(iss.get<SysRegIss::op1>(), 0u);
        EXPECT_EQ(iss.get<SysRegIss::crn>(), 7u);
        EXPECT_EQ(iss.get<SysRegIss::crm>(), m.crm);
        EXPECT_EQ(iss.get<SysRegIss::op2>(), 2u);
        EXPECT_EQ(iss.get<SysRegIss::rt>(), m.rt);
        EXPECT_FALSE(iss.is_read());
        EXPECT_EQ(iss.key(), m.key);

        const SysRegAccess a = iss.decode();
        EXPECT_EQ(a.key, m.key);
        EXPECT_EQ(a.op0, 1);
        EXPECT_EQ(a.op1, 0);
        EXPECT_EQ(a.crn, 7);
        EXPECT_EQ(a.crm, m.crm);
        EXPECT_EQ(a.op2, 2);
        EXPECT_EQ(a.rt, m.rt);
        EXPECT_FALSE(a.read);
    }
}

TEST(SysRegIss, KeyIgnoresRtDirectionAndEverythingAboveTheIss) {
    // The same DC ISW from x0 and x30, and as a whole ESR (EC and IL in the
    // low word): one key.
    EXPECT_EQ(SysRegIss(0x0141c0cu).key(), sysreg::kDcIsw);
    EXPECT_EQ(SysRegIss(0x0141c0cu | (30u << 5)).key(), sysreg::kDcIsw);
    EXPECT_EQ(SysRegIss(0x62141c6cu).key(), sysreg::kDcIsw);
    EXPECT_EQ(SysRegIss(0x0141c0cu | 1u).key(), sysreg::kDcIsw);
}

struct HandEncoded {
    u64 esr;
    SysRegKey key;
    unsigned rt;
    bool read;
};

// MRS/MSR instructions encoded from the ISS layout (Op0 [21:20], Op2
// [19:17], Op1 [16:14], CRn [13:10], Rt [9:5], CRm [4:1], Direction [0]).
// The CTR_EL0 read (ISS 0x32c001 without Rt) is also the value Linux's
// arm64 user-space CTR_EL0 emulation matches on.
constexpr HandEncoded kHandEncoded[] = {
    {0x6232c021, sysreg::kCtrEl0, 1, true},           // mrs x1, ctr_el0
    {0x62300400, sysreg::kSctlrEl1, 0, false},        // msr sctlr_el1, x0
    {0x623a3056, sysreg::kIccSgi1rEl1, 2, false},     // msr icc_sgi1r_el1, x2
    {0x6232f865, sysreg::kCntpCtlEl0, 3, true},       // mrs x3, cntp_ctl_el0
    {0x623243c1, sysreg::kClidrEl1, 30, true},        // mrs x30, clidr_el1
    {0x62302be4, sysreg::kMairEl1, 31, false},        // msr mair_el1, xzr
};

TEST(SysRegIss, HandEncodedAccesses) {
    for (const HandEncoded& h : kHandEncoded) {
        const Syndrome s = Syndrome::decode(h.esr);
        ASSERT_EQ(s.ec, ExceptionClass::sysreg) << std::hex << h.esr;
        const SysRegAccess a = SysRegIss(s.iss).decode();
        EXPECT_EQ(a.key, h.key) << std::hex << h.esr;
        EXPECT_EQ(a.rt, h.rt) << std::hex << h.esr;
        EXPECT_EQ(a.read, h.read) << std::hex << h.esr;
    }
}

struct NamedKey {
    const char* name;
    SysRegKey key;
    u32 expected; // the ISS of an access from x0 with Direction 0, by hand
};

// Each register's encoding as its "Accessing" section in DDI 0487 gives it
// (op0, op1, CRn, CRm, op2), placed at the ISS positions by hand.
constexpr NamedKey kNamedKeys[] = {
    {"DC ISW", sysreg::kDcIsw, 0x141c0c},           // 1, 0, c7, c6, 2
    {"DC CSW", sysreg::kDcCsw, 0x141c14},           // 1, 0, c7, c10, 2
    {"DC CISW", sysreg::kDcCisw, 0x141c1c},         // 1, 0, c7, c14, 2
    {"SCTLR_EL1", sysreg::kSctlrEl1, 0x300400},     // 3, 0, c1, c0, 0
    {"TTBR0_EL1", sysreg::kTtbr0El1, 0x300800},     // 3, 0, c2, c0, 0
    {"TTBR1_EL1", sysreg::kTtbr1El1, 0x320800},     // 3, 0, c2, c0, 1
    {"TCR_EL1", sysreg::kTcrEl1, 0x340800},         // 3, 0, c2, c0, 2
    {"AFSR0_EL1", sysreg::kAfsr0El1, 0x301402},     // 3, 0, c5, c1, 0
    {"AFSR1_EL1", sysreg::kAfsr1El1, 0x321402},     // 3, 0, c5, c1, 1
    {"ESR_EL1", sysreg::kEsrEl1, 0x301404},         // 3, 0, c5, c2, 0
    {"FAR_EL1", sysreg::kFarEl1, 0x301800},         // 3, 0, c6, c0, 0
    {"MAIR_EL1", sysreg::kMairEl1, 0x302804},       // 3, 0, c10, c2, 0
    {"AMAIR_EL1", sysreg::kAmairEl1, 0x302806},     // 3, 0, c10, c3, 0
    {"CONTEXTIDR_EL1", sysreg::kContextidrEl1, 0x323400}, // 3, 0, c13, c0, 1
    {"CCSIDR_EL1", sysreg::kCcsidrEl1, 0x304000},   // 3, 1, c0, c0, 0
    {"CLIDR_EL1", sysreg::kClidrEl1, 0x324000},     // 3, 1, c0, c0, 1
    {"CCSIDR2_EL1", sysreg::kCcsidr2El1, 0x344000}, // 3, 1, c0, c0, 2
    {"CSSELR_EL1", sysreg::kCsselrEl1, 0x308000},   // 3, 2, c0, c0, 0
    {"CTR_EL0", sysreg::kCtrEl0, 0x32c000},         // 3, 3, c0, c0, 1
    {"ICC_SGI1R_EL1", sysreg::kIccSgi1rEl1, 0x3a3016}, // 3, 0, c12, c11, 5
    {"CNTP_TVAL_EL0", sysreg::kCntpTvalEl0, 0x30f804}, // 3, 3, c14, c2, 0
    {"CNTP_CTL_EL0", sysreg::kCntpCtlEl0, 0x32f804},   // 3, 3, c14, c2, 1
    {"CNTP_CVAL_EL0", sysreg::kCntpCvalEl0, 0x34f804}, // 3, 3, c14, c2, 2
};

TEST(SysRegKey, NamedKeysMatchTheManualsEncodings) {
    std::set<u32> distinct;
    for (const NamedKey& n : kNamedKeys) {
        EXPECT_EQ(static_cast<u32>(n.key), n.expected) << n.name;
        EXPECT_EQ(SysRegIss(n.expected).key(), n.key) << n.name;
        const char* name = sysreg_name(n.key);
        ASSERT_NE(name, nullptr) << n.name;
        EXPECT_STREQ(name, n.name);
        distinct.insert(n.expected);
    }
    EXPECT_EQ(distinct.size(), std::size(kNamedKeys));
}

TEST(SysRegKey, UnnamedKeyHasNoName) {
    EXPECT_EQ(sysreg_name(sysreg_key(3, 0, 1, 0, 1)), nullptr); // ACTLR_EL1
    EXPECT_EQ(sysreg_name(SysRegKey{0}), nullptr);
}

TEST(SysRegKey, SwitchDispatch) {
    const auto classify = [](u64 esr) {
        switch (SysRegIss(Syndrome::decode(esr).iss).key()) {
        case sysreg::kDcIsw: return 1;
        case sysreg::kDcCsw: return 2;
        case sysreg::kDcCisw: return 3;
        default: return 0;
        }
    };
    EXPECT_EQ(classify(0x62141c6c), 1);
    EXPECT_EQ(classify(0x62141cb4), 2);
    EXPECT_EQ(classify(0x62141cfc), 3);
    EXPECT_EQ(classify(0x62300400), 0);
}

// --- WFx ------------------------------------------------------------------------

TEST(WfxIss, AArch64Forms) {
    // From AArch64: CV=1, COND=0b1110; TI selects the instruction.
    const Wfx wfi = WfxIss(iss_of(0x07e00000)).decode();
    EXPECT_EQ(wfi.kind, WfxKind::wfi);
    EXPECT_TRUE(wfi.cv);
    EXPECT_EQ(wfi.cond, 0xe);
    EXPECT_FALSE(wfi.rv);
    EXPECT_EQ(WfxIss(iss_of(0x07e00001)).kind(), WfxKind::wfe);

    const Wfx wfit = WfxIss(iss_of(0x07e000a6)).decode(); // wfit x5
    EXPECT_EQ(wfit.kind, WfxKind::wfit);
    EXPECT_TRUE(wfit.rv);
    EXPECT_EQ(wfit.rn, 5);
    const Wfx wfet = WfxIss(iss_of(0x07e00127)).decode(); // wfet x9
    EXPECT_EQ(wfet.kind, WfxKind::wfet);
    EXPECT_EQ(wfet.rn, 9);
}

TEST(WfxIss, AArch32Forms) {
    const Syndrome ne = Syndrome::decode(0x07100000); // A32 WFINE: CV=1, COND=NE
    ASSERT_EQ(ne.ec, ExceptionClass::wfx);
    const Wfx w = WfxIss(ne.iss).decode();
    EXPECT_EQ(w.kind, WfxKind::wfi);
    EXPECT_TRUE(w.cv);
    EXPECT_EQ(w.cond, 0x1);

    const Syndrome t16 = Syndrome::decode(0x04000001); // 16-bit T32 WFE, CV=0
    EXPECT_FALSE(t16.il32);
    const Wfx e = WfxIss(t16.iss).decode();
    EXPECT_EQ(e.kind, WfxKind::wfe);
    EXPECT_FALSE(e.cv);
}

// --- HVC / SMC ----------------------------------------------------------------------

TEST(HvcSmcIss, Immediates) {
    ASSERT_EQ(Syndrome::decode(0x5a000000).ec, ExceptionClass::hvc64);
    EXPECT_EQ(HvcIss(iss_of(0x5a000000)).immediate(), 0);
    EXPECT_EQ(HvcIss(iss_of(0x5a004711)).immediate(), 0x4711);
    ASSERT_EQ(Syndrome::decode(0x4a00ffff).ec, ExceptionClass::hvc32);
    EXPECT_EQ(HvcIss(iss_of(0x4a00ffff)).immediate(), 0xffff);
    ASSERT_EQ(Syndrome::decode(0x5e000001).ec, ExceptionClass::smc64);
    EXPECT_EQ(SmcIss(iss_of(0x5e000000)).immediate(), 0);
    EXPECT_EQ(SmcIss(iss_of(0x5e000001)).immediate(), 1);
}

TEST(Smc32Iss, MeasuredTrap) {
    // hardware-facts: an AArch32 SMC with HCR_EL2.TSC is ESR 0x4e000000.
    const Syndrome s = Syndrome::decode(0x4e000000);
    ASSERT_EQ(s.ec, ExceptionClass::smc32);
    const Smc32Iss iss(s.iss);
    EXPECT_FALSE(iss.test<Smc32Iss::cv>());
    EXPECT_FALSE(iss.test<Smc32Iss::ccknownpass>());
}

TEST(Smc32Iss, ConditionFields) {
    // SMCNE that may have failed: CCKNOWNPASS, CV, COND=NE.
    const Smc32Iss iss(iss_of(0x4f180000));
    EXPECT_TRUE(iss.test<Smc32Iss::ccknownpass>());
    EXPECT_TRUE(iss.test<Smc32Iss::cv>());
    EXPECT_EQ(iss.get<Smc32Iss::cond>(), 0x1u);
}

TEST(Smc32Iss, ConditionCheckIsTheCommonOne) {
    // What iss.hpp promises: arm32::trapped_instruction_passes() gives the
    // right answer for SMC32 syndromes.
    constexpr u32 kSvc = 0x13, kZ = 1u << 30, kT = 1u << 5;
    // CCKNOWNPASS=0 (CV, COND RES0): passed, whatever the flags.
    EXPECT_TRUE(arm32::trapped_instruction_passes(iss_of(0x4e000000), kSvc | kZ));
    EXPECT_TRUE(arm32::trapped_instruction_passes(iss_of(0x4e000000), kSvc));
    // CCKNOWNPASS=1 with COND=NE: fails with Z set, passes without.
    EXPECT_FALSE(arm32::trapped_instruction_passes(iss_of(0x4f180000), kSvc | kZ));
    EXPECT_TRUE(arm32::trapped_instruction_passes(iss_of(0x4f180000), kSvc));
    // CCKNOWNPASS=1, CV=0 from T32 in an `IT NE` block (ITSTATE 0x18:
    // firstcond NE, one instruction): the IT condition decides.
    const u32 it_ne = kSvc | kT | (0x18u >> 2 << 10);
    EXPECT_FALSE(arm32::trapped_instruction_passes(1u << 19, it_ne | kZ));
    EXPECT_TRUE(arm32::trapped_instruction_passes(1u << 19, it_ne));
}

} // namespace
} // namespace setwise::arm64
