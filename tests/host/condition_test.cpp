// arch/arm32/condition: ConditionHolds over every condition and flag
// combination, the CV/COND rule for trapped instructions, and the Thumb IT
// state (extraction, advance) checked against IT instructions encoded by
// hand from the T32 IT encoding.
#include "arch/arm32/condition.hpp"

#include <gtest/gtest.h>

#include <string_view>

namespace setwise::arm32 {
namespace {

constexpr u32 kN = 1u << 31;
constexpr u32 kZ = 1u << 30;
constexpr u32 kC = 1u << 29;
constexpr u32 kV = 1u << 28;
constexpr u32 kT = 1u << 5;
constexpr u32 kSvc = 0x13;        // M[4:0] = 0b10011, AArch32 SVC mode
constexpr u32 kUsr = 0x10;

constexpr u32 flags(unsigned nzcv) { return static_cast<u32>(nzcv & 0xf) << 28; }

// The "Condition codes" table of DDI 0487 (AArch32 conditional execution),
// written out per mnemonic, independently of the cond<3:1>/cond<0>
// structure the implementation follows.
bool reference_holds(unsigned cond, unsigned nzcv) {
    const bool n = nzcv & 8, z = nzcv & 4, c = nzcv & 2, v = nzcv & 1;
    switch (cond) {
    case 0x0: return z;                  // EQ
    case 0x1: return !z;                 // NE
    case 0x2: return c;                  // CS/HS
    case 0x3: return !c;                 // CC/LO
    case 0x4: return n;                  // MI
    case 0x5: return !n;                 // PL
    case 0x6: return v;                  // VS
    case 0x7: return !v;                 // VC
    case 0x8: return c && !z;            // HI
    case 0x9: return !c || z;            // LS
    case 0xa: return n == v;             // GE
    case 0xb: return n != v;             // LT
    case 0xc: return !z && n == v;       // GT
    case 0xd: return z || n != v;        // LE
    case 0xe: return true;               // AL
    case 0xf: return true;               // ConditionHolds('1111') is TRUE
    }
    ADD_FAILURE() << "cond out of range";
    return false;
}

// ESR_EL2 of `mcr p15,0,r3,c7,c14,2` (DCCISW) on QEMU (hardware-facts.md):
// EC 0x03, IL 1, CV 1, COND 0xE.
constexpr u32 kDccisw = 0x0fe41c7c;
constexpr u32 kDccsw = 0x0fe41cb4;
constexpr u32 kDcisw = 0x0fe41cec;
constexpr u32 kSmc32 = 0x4e000000; // EC 0x13, ISS 0: CV 0

constexpr u32 with_cv_cond(u32 esr, bool cv, unsigned cond) {
    return (esr & ~0x01f00000u) | (cv ? 1u << 24 : 0) | (static_cast<u32>(cond) << 20);
}

// ITSTATE right after `IT<pattern> firstcond`, from the T32 IT encoding:
// mask = x y z 1 with the 1 after the last condition letter, each letter
// T -> firstcond<0>, E -> !firstcond<0>. pattern is what follows the "IT"
// (empty, "T", "E", "TE", ...).
u8 it_instruction_state(unsigned firstcond, std::string_view pattern) {
    unsigned mask = 0;
    unsigned bit = 3;
    for (char letter : pattern) {
        const unsigned b = letter == 'T' ? (firstcond & 1) : (~firstcond & 1);
        mask |= b << bit;
        --bit;
    }
    mask |= 1u << bit;
    return static_cast<u8>((firstcond << 4) | mask);
}

u32 thumb_spsr(u8 it, u32 nzcv_bits) { return with_it_state(nzcv_bits | kT | kSvc, it); }

TEST(Condition, EncodingValues) {
    EXPECT_EQ(static_cast<u8>(Cond::eq), 0x0);
    EXPECT_EQ(static_cast<u8>(Cond::ne), 0x1);
    EXPECT_EQ(static_cast<u8>(Cond::hi), 0x8);
    EXPECT_EQ(static_cast<u8>(Cond::ge), 0xa);
    EXPECT_EQ(static_cast<u8>(Cond::le), 0xd);
    EXPECT_EQ(static_cast<u8>(Cond::al), 0xe);
    EXPECT_EQ(static_cast<u8>(Cond::nv), 0xf);
}

TEST(Condition, AllConditionsAllFlags) {
    int checked = 0;
    for (unsigned cond = 0; cond < 16; ++cond) {
        for (unsigned nzcv = 0; nzcv < 16; ++nzcv) {
            EXPECT_EQ(condition_holds(static_cast<Cond>(cond), flags(nzcv)), reference_holds(cond, nzcv))
                << "cond " << cond << " nzcv " << nzcv;
            ++checked;
        }
    }
    EXPECT_EQ(checked, 256);
}

TEST(Condition, SpotChecks) {
    EXPECT_TRUE(condition_holds(Cond::eq, kZ));
    EXPECT_FALSE(condition_holds(Cond::eq, 0));
    EXPECT_TRUE(condition_holds(Cond::hi, kC));
    EXPECT_FALSE(condition_holds(Cond::hi, kC | kZ));
    EXPECT_TRUE(condition_holds(Cond::ls, kC | kZ));
    EXPECT_TRUE(condition_holds(Cond::ge, kN | kV));
    EXPECT_TRUE(condition_holds(Cond::lt, kN));
    EXPECT_FALSE(condition_holds(Cond::gt, kZ));
    EXPECT_TRUE(condition_holds(Cond::le, kV));
    EXPECT_TRUE(condition_holds(Cond::al, 0));
    EXPECT_TRUE(condition_holds(Cond::nv, 0));
}

TEST(Condition, OnlyFlagBitsMatter) {
    // Mode, T, IT, GE, Q, A/I/F bits set: the result depends on [31:28] only.
    const u32 noise = 0x0fffffffu;
    for (unsigned cond = 0; cond < 16; ++cond) {
        for (unsigned nzcv = 0; nzcv < 16; ++nzcv) {
            EXPECT_EQ(condition_holds(static_cast<Cond>(cond), flags(nzcv) | noise),
                      reference_holds(cond, nzcv));
        }
    }
}

TEST(ConditionalIss, FieldsOfObservedSyndromes) {
    for (u32 esr : {kDccisw, kDccsw, kDcisw}) {
        const ConditionalIss iss(esr);
        EXPECT_TRUE(iss.test<ConditionalIss::cv>());
        EXPECT_EQ(iss.get<ConditionalIss::cond>(), 0xeu);
    }
    EXPECT_FALSE(ConditionalIss(kSmc32).test<ConditionalIss::cv>());
}

TEST(TrappedInstruction, ObservedSetWayTrapsPassWhateverTheFlags) {
    for (u32 esr : {kDccisw, kDccsw, kDcisw}) {
        for (unsigned nzcv = 0; nzcv < 16; ++nzcv) {
            EXPECT_TRUE(trapped_instruction_passes(esr, flags(nzcv) | kSvc));
            // The ISS alone (ESR[24:0]) gives the same answer.
            EXPECT_TRUE(trapped_instruction_passes(esr & 0x01ffffffu, flags(nzcv) | kSvc));
        }
    }
}

TEST(TrappedInstruction, CvSetUsesCond) {
    for (unsigned cond = 0; cond < 16; ++cond) {
        for (unsigned nzcv = 0; nzcv < 16; ++nzcv) {
            const u32 esr = with_cv_cond(kDccisw, true, cond);
            EXPECT_EQ(trapped_instruction_passes(esr, flags(nzcv) | kSvc), reference_holds(cond, nzcv))
                << "cond " << cond << " nzcv " << nzcv;
        }
    }
    // A conditional MCR that fails: MCRNE with Z set is skipped.
    EXPECT_FALSE(trapped_instruction_passes(with_cv_cond(kDccisw, true, 0x1), kZ | kSvc));
    EXPECT_TRUE(trapped_instruction_passes(with_cv_cond(kDccisw, true, 0x1), kSvc));
}

TEST(TrappedInstruction, CvSetWinsOverItState) {
    // In an IT NE block, but the core reported CV=1 COND=EQ: COND decides.
    const u32 spsr = thumb_spsr(it_instruction_state(0x1, ""), kZ);
    EXPECT_FALSE(condition_holds(Cond::ne, spsr));
    EXPECT_TRUE(trapped_instruction_passes(with_cv_cond(kDccisw, true, 0x0), spsr));
    EXPECT_FALSE(trapped_instruction_passes(with_cv_cond(kDccisw, false, 0x0), spsr));
}

TEST(TrappedInstruction, CvClearThumbInItBlockUsesItCondition) {
    const u32 esr = with_cv_cond(kDccisw, false, 0xe); // COND is UNKNOWN with CV=0
    for (unsigned cond = 0; cond < 14; ++cond) {
        for (unsigned nzcv = 0; nzcv < 16; ++nzcv) {
            const u32 spsr = thumb_spsr(it_instruction_state(cond, ""), flags(nzcv));
            EXPECT_EQ(trapped_instruction_passes(esr, spsr), reference_holds(cond, nzcv))
                << "IT cond " << cond << " nzcv " << nzcv;
        }
    }
}

TEST(TrappedInstruction, CvClearThumbOutsideItBlockIsUnconditional) {
    const u32 esr = with_cv_cond(kDccisw, false, 0x0);
    for (unsigned nzcv = 0; nzcv < 16; ++nzcv) {
        EXPECT_TRUE(trapped_instruction_passes(esr, thumb_spsr(0, flags(nzcv))));
    }
    // IT[7:4] non-zero but IT[3:0] zero is not an IT block (InITBlock()).
    // IT[7:4] = CS with C clear would fail, but IT[3:0] == 0 is no block.
    EXPECT_FALSE(in_it_block(thumb_spsr(0x20, 0)));
    EXPECT_TRUE(trapped_instruction_passes(esr, thumb_spsr(0x20, 0)));
    EXPECT_TRUE(trapped_instruction_passes(esr, thumb_spsr(0x00, 0)));
}

TEST(TrappedInstruction, CvClearArmStateIsUnconditional) {
    // IT bits set in an A32 SPSR mean nothing: T is clear.
    const u32 spsr = with_it_state(kSvc, it_instruction_state(0x0, "")); // "EQ", Z clear
    EXPECT_TRUE(trapped_instruction_passes(with_cv_cond(kDccisw, false, 0x0), spsr));
    EXPECT_TRUE(trapped_instruction_passes(kSmc32, kUsr));
    EXPECT_TRUE(trapped_instruction_passes(kSmc32, kSvc | kN | kZ | kC | kV));
}

TEST(TrappedInstruction, CvClearFromAarch64SpsrIsUnconditional) {
    // M[4] = 0: bits 5, 15:10 and 26:25 are not T and IT there.
    const u32 el1h = 0x5;
    const u32 spsr = el1h | kT | (0x3fu << 10) | (3u << 25);
    EXPECT_FALSE(in_it_block(spsr));
    EXPECT_TRUE(trapped_instruction_passes(0, spsr));
}

TEST(ItState, FieldPositions) {
    // IT[7:2] at SPSR[15:10], IT[1:0] at SPSR[26:25].
    EXPECT_EQ(with_it_state(0, 0x06), 0x04000400u);
    EXPECT_EQ(with_it_state(0, 0x18), 0x00001800u);
    EXPECT_EQ(with_it_state(0, 0xff), 0x0600fc00u);
    EXPECT_EQ(it_state(0x0600fc00u), 0xff);
    EXPECT_EQ(it_state(0x04000400u), 0x06);
    EXPECT_EQ(it_state(~0x0600fc00u), 0x00);
    // Replacing IT leaves every other bit alone.
    EXPECT_EQ(with_it_state(0xffffffffu, 0), ~0x0600fc00u);
    for (unsigned it = 0; it < 256; ++it) {
        EXPECT_EQ(it_state(with_it_state(0xa5a5a5a5u, static_cast<u8>(it))), it);
        EXPECT_EQ(with_it_state(0xa5a5a5a5u, static_cast<u8>(it)) & ~0x0600fc00u, 0xa5a5a5a5u & ~0x0600fc00u);
    }
}

TEST(ItState, InItBlock) {
    EXPECT_TRUE(in_it_block(thumb_spsr(0x08, 0)));
    EXPECT_TRUE(in_it_block(thumb_spsr(0x01, 0)));
    EXPECT_FALSE(in_it_block(thumb_spsr(0xf0, 0)));
    EXPECT_FALSE(in_it_block(with_it_state(kSvc, 0x08))); // A32
    EXPECT_FALSE(in_it_block(with_it_state(kT | 0x5, 0x08))); // AArch64 EL1h
}

TEST(ItState, ItteEqWalk) {
    // ITTE EQ: EQ, EQ, NE, then out of the block.
    const u32 other = kSvc | kN | kC | (0xfu << 16) /* GE */ | (1u << 27) /* Q */ | (1u << 7) /* I */;
    u32 spsr = thumb_spsr(it_instruction_state(0x0, "TE"), other);
    EXPECT_EQ(it_state(spsr), 0x06);

    EXPECT_TRUE(in_it_block(spsr));
    EXPECT_EQ(it_state(spsr) >> 4, 0x0);
    spsr = advance_it_state(spsr);
    EXPECT_EQ(it_state(spsr), 0x0c);
    EXPECT_EQ(it_state(spsr) >> 4, 0x0);
    spsr = advance_it_state(spsr);
    EXPECT_EQ(it_state(spsr), 0x18);
    EXPECT_EQ(it_state(spsr) >> 4, 0x1);
    spsr = advance_it_state(spsr);
    EXPECT_EQ(it_state(spsr), 0x00);
    EXPECT_FALSE(in_it_block(spsr));
    EXPECT_EQ(spsr, other | kT); // nothing but IT changed

    // Z clear: the two EQ instructions fail, the NE one passes (CV=0 core).
    const u32 esr = with_cv_cond(kDccisw, false, 0);
    u32 s = thumb_spsr(it_instruction_state(0x0, "TE"), 0);
    EXPECT_FALSE(trapped_instruction_passes(esr, s));
    s = advance_it_state(s);
    EXPECT_FALSE(trapped_instruction_passes(esr, s));
    s = advance_it_state(s);
    EXPECT_TRUE(trapped_instruction_passes(esr, s));
}

TEST(ItState, SingleInstructionBlockClears) {
    const u32 spsr = thumb_spsr(it_instruction_state(0xb, ""), kN); // IT LT
    EXPECT_EQ(it_state(spsr), 0xb8);
    EXPECT_EQ(advance_it_state(spsr), kN | kT | kSvc);
}

TEST(ItState, EveryBlockShape) {
    // Every firstcond (AL only with T: an E after AL is UNPREDICTABLE) and
    // every then/else pattern of up to three more instructions.
    const std::string_view patterns[] = {"", "T", "E", "TT", "TE", "ET", "EE", "TTT", "TTE",
                                          "TET", "TEE", "ETT", "ETE", "EET", "EEE"};
    int blocks = 0;
    for (unsigned firstcond = 0; firstcond < 15; ++firstcond) {
        for (std::string_view p : patterns) {
            if (firstcond == 0xe && p.find('E') != std::string_view::npos) continue;
            u32 spsr = thumb_spsr(it_instruction_state(firstcond, p), kZ | kV);
            for (usize i = 0; i <= p.size(); ++i) {
                ASSERT_TRUE(in_it_block(spsr)) << firstcond << " IT" << p << " instr " << i;
                const bool then = i == 0 || p[i - 1] == 'T';
                const unsigned expect = then ? firstcond : (firstcond ^ 1u);
                EXPECT_EQ(static_cast<unsigned>(it_state(spsr) >> 4), expect)
                    << firstcond << " IT" << p << " instr " << i;
                spsr = advance_it_state(spsr);
            }
            EXPECT_FALSE(in_it_block(spsr)) << firstcond << " IT" << p;
            EXPECT_EQ(spsr, kZ | kV | kT | kSvc) << firstcond << " IT" << p;
            ++blocks;
        }
    }
    EXPECT_EQ(blocks, 14 * 15 + 4); // AL: IT, ITT, ITTT, ITTTT
}

TEST(ItState, AdvanceOutsideABlockChangesNothing) {
    EXPECT_EQ(advance_it_state(kSvc | kZ), kSvc | kZ);                   // A32
    EXPECT_EQ(advance_it_state(thumb_spsr(0, kC)), thumb_spsr(0, kC));  // T32, no block
    const u32 a32_with_it_bits = with_it_state(kSvc, 0x06);
    EXPECT_EQ(advance_it_state(a32_with_it_bits), a32_with_it_bits);
    const u32 aarch64 = 0x3c5 | (0x3fu << 10) | (3u << 25) | kT;        // BTYPE, TCO etc. set
    EXPECT_EQ(advance_it_state(aarch64), aarch64);
}

} // namespace
} // namespace setwise::arm32
