// arch/arm32/regs32: the AArch32 banked-register view against the table in
// DDI 0487 "Mapping of the general-purpose registers between the Execution
// states" (D1.10.1.1 in M.a), written out here per mode, the measured fact
// that SVC-mode r13/r14 live in X19/X18 (hardware-facts.md), the manual's
// own LR_abt = X20 example, and retiring trapped instructions (PC step,
// 32-bit wrap, Thumb IT state).
#include "arch/arm32/regs32.hpp"

#include <gtest/gtest.h>

#include <array>

namespace setwise::arm32 {
namespace {

struct ModeRow {
    u32 m;                 // M[4:0]
    unsigned x[15];        // X register of r0..r14; 99: not mapped
};

constexpr unsigned kNo = 99;

// The manual's table, one row per mode.
constexpr ModeRow kTable[] = {
    {0x10, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}},   // usr
    {0x1f, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}},   // sys
    {0x11, {0, 1, 2, 3, 4, 5, 6, 7, 24, 25, 26, 27, 28, 29, 30}}, // fiq
    {0x12, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 17, 16}},   // irq
    {0x13, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 19, 18}},   // svc
    {0x17, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 21, 20}},   // abt
    {0x1b, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 23, 22}},   // und
    {0x1a, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15, 14}},   // hyp: SP_hyp, LR_usr
    {0x16, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, kNo, kNo}}, // mon: SP/LR_mon unmapped
};

TEST(Regs32, MappingTable) {
    for (const ModeRow& row : kTable) {
        for (unsigned r = 0; r < 15; ++r) {
            const Result<unsigned> i = aarch32_reg_index(r, row.m);
            if (row.x[r] == kNo) {
                EXPECT_EQ(i.status(), Status::unsupported) << "mode " << std::hex << row.m << " r" << std::dec << r;
            } else {
                ASSERT_TRUE(i.ok()) << "mode " << std::hex << row.m << " r" << std::dec << r;
                EXPECT_EQ(i.value(), row.x[r]) << "mode " << std::hex << row.m << " r" << std::dec << r;
            }
        }
    }
}

TEST(Regs32, ModeOverloadAgrees) {
    for (const ModeRow& row : kTable) {
        for (unsigned r = 0; r < 15; ++r) {
            const Result<unsigned> a = aarch32_reg_index(r, row.m);
            const Result<unsigned> b = aarch32_reg_index(r, static_cast<Mode>(row.m));
            EXPECT_EQ(a.status(), b.status());
            if (a.ok() && b.ok()) {
                EXPECT_EQ(a.value(), b.value());
            }
        }
    }
}

TEST(Regs32, MeasuredSvcStackAndLink) {
    // hardware-facts: "in SVC mode r13/r14 are X19/X18".
    EXPECT_EQ(aarch32_reg_index(13, 0x13).value_or(0), 19u);
    EXPECT_EQ(aarch32_reg_index(14, 0x13).value_or(0), 18u);
}

TEST(Regs32, ManualExampleLrAbt) {
    // DDI 0487: R14 in Abort mode is reported as X20.
    EXPECT_EQ(aarch32_reg_index(14, Mode::abt).value_or(0), 20u);
}

TEST(Regs32, EveryXRegisterHasOneOwner) {
    // Across all modes, the banked registers cover X0..X30 exactly: no two
    // distinct AArch32 registers share an X register.
    std::array<int, 31> owners{};
    const auto claim = [&](u32 m, unsigned r) {
        const Result<unsigned> i = aarch32_reg_index(r, m);
        ASSERT_TRUE(i.ok());
        ++owners[i.value()];
    };
    for (unsigned r = 0; r < 15; ++r) claim(0x10, r);     // r0-r14 usr
    for (unsigned r = 8; r < 15; ++r) claim(0x11, r);     // fiq bank
    for (u32 m : {0x12u, 0x13u, 0x17u, 0x1bu}) {          // irq svc abt und
        claim(m, 13);
        claim(m, 14);
    }
    claim(0x1a, 13);                                      // SP_hyp
    for (unsigned x = 0; x < 31; ++x) EXPECT_EQ(owners[x], 1) << "x" << x;
}

TEST(Regs32, InvalidModes) {
    for (u32 m : {0x00u, 0x05u, 0x0fu, 0x14u, 0x15u, 0x18u, 0x19u, 0x1cu, 0x1du, 0x1eu, 0x30u, 0x33u, 0xffffffffu}) {
        EXPECT_EQ(aarch32_reg_index(0, m).status(), Status::invalid_argument) << std::hex << m;
    }
    EXPECT_EQ(aarch32_reg_index(0, static_cast<Mode>(0x14)).status(), Status::invalid_argument);
}

TEST(Regs32, PcAndBeyondAreNotXRegisters) {
    EXPECT_EQ(aarch32_reg_index(15, 0x13).status(), Status::out_of_range);
    EXPECT_EQ(aarch32_reg_index(16, 0x13).status(), Status::out_of_range);
    EXPECT_EQ(aarch32_reg_index(~0u, 0x10).status(), Status::out_of_range);
}

TEST(Regs32, ModeOf) {
    EXPECT_EQ(mode_of(0x600001d3).value_or(Mode::usr), Mode::svc); // Z C set, A I F masked, SVC
    EXPECT_EQ(mode_of(0x00000010).value_or(Mode::svc), Mode::usr);
    EXPECT_EQ(mode_of(0x00000031).value_or(Mode::usr), Mode::fiq); // T32 FIQ
    EXPECT_EQ(mode_of(0x0000001f).value_or(Mode::usr), Mode::sys);
    EXPECT_EQ(mode_of(0x0000001a).value_or(Mode::usr), Mode::hyp);
    EXPECT_EQ(mode_of(0x000003c5).status(), Status::invalid_argument); // AArch64 EL1h
    EXPECT_EQ(mode_of(0x00000014).status(), Status::invalid_argument); // reserved
    EXPECT_EQ(mode_of(0x0000001e).status(), Status::invalid_argument);
}

TEST(Regs32, IsThumb) {
    EXPECT_TRUE(is_thumb(0x30));          // usr, T
    EXPECT_TRUE(is_thumb(0x600001f3));    // svc, T
    EXPECT_FALSE(is_thumb(0x10));
    EXPECT_FALSE(is_thumb(0x1d3));
    EXPECT_FALSE(is_thumb(0x25));         // AArch64 (M[4] = 0): bit 5 is not T
}

TEST(Regs32, ReadAndWriteThroughTheBankedView) {
    std::array<u64, 31> x{};
    for (unsigned i = 0; i < 31; ++i) x[i] = 0xdead'beef'0000'0000ull | (0x100u + i);

    // Reads truncate: the upper half of an X register is not part of the
    // AArch32 register.
    EXPECT_EQ(read_reg32(x, 13, 0x13).value_or(0), 0x100u + 19);
    EXPECT_EQ(read_reg32(x, 14, 0x11).value_or(0), 0x100u + 30);
    EXPECT_EQ(read_reg32(x, 8, 0x11).value_or(0), 0x100u + 24);
    EXPECT_EQ(read_reg32(x, 8, 0x12).value_or(0), 0x100u + 8);
    EXPECT_EQ(read_reg32(x, 15, 0x13).status(), Status::out_of_range);
    EXPECT_EQ(read_reg32(x, 0, 0x05).status(), Status::invalid_argument);

    // Writes zero-extend and touch only the mapped register.
    ASSERT_TRUE(write_reg32(x, 14, 0x17, 0xcafef00d).ok());
    EXPECT_EQ(x[20], 0xcafef00dull);
    EXPECT_EQ(x[21], 0xdead'beef'0000'0000ull | (0x100u + 21));
    EXPECT_EQ(x[14], 0xdead'beef'0000'0000ull | (0x100u + 14));
    EXPECT_EQ(write_reg32(x, 13, 0x16, 1).status(), Status::unsupported);
    EXPECT_EQ(x[13], 0xdead'beef'0000'0000ull | (0x100u + 13));
}

// ITSTATE "ITTE EQ": firstcond 0000, mask x=T(0) y=E(1) then 1 0 -> 0110,
// so IT[7:0] = 0x06, then 0x0c, 0x18 (IT[3:0] = 1000: last), then 0. In
// the SPSR, IT[1:0] is bits 26:25 and IT[7:2] bits 15:10; 0x33 is SVC + T.
constexpr u64 kIttFirst = 0x04000433;  // IT = 0x06
constexpr u64 kIttSecond = 0x00000c33; // IT = 0x0c
constexpr u64 kIttLast = 0x00001833;   // IT = 0x18
constexpr u64 kThumbSvc = 0x00000033;  // IT = 0

TEST(RetireInstruction, ArmStepsFour) {
    const Retired r = retire_instruction(0x8000, 0x600001d3, true);
    EXPECT_EQ(r.elr, 0x8004u);
    EXPECT_EQ(r.spsr, 0x600001d3u);
}

TEST(RetireInstruction, ThumbSixteenBitStepsTwo) {
    const Retired r = retire_instruction(0x8000, kThumbSvc, false);
    EXPECT_EQ(r.elr, 0x8002u);
    EXPECT_EQ(r.spsr, kThumbSvc);
    EXPECT_EQ(retire_instruction(0x8000, kThumbSvc, true).elr, 0x8004u);
}

TEST(RetireInstruction, AArch32PcWrapsAt32Bits) {
    EXPECT_EQ(retire_instruction(0xfffffffc, 0x1d3, true).elr, 0x0u);
    EXPECT_EQ(retire_instruction(0xfffffffe, kThumbSvc, true).elr, 0x2u);
}

TEST(RetireInstruction, ItBlockAdvances) {
    Retired r = retire_instruction(0x8000, kIttFirst, false);
    EXPECT_EQ(r.spsr, kIttSecond);
    r = retire_instruction(r.elr, r.spsr, true);
    EXPECT_EQ(r.spsr, kIttLast);
    r = retire_instruction(r.elr, r.spsr, false);
    EXPECT_EQ(r.spsr, kThumbSvc);
    EXPECT_EQ(r.elr, 0x8008u);
}

TEST(RetireInstruction, AArch64OnlyMovesThePc) {
    // EL1h with bits that would be IT/T in AArch32 (26, 15:10, 5) and a
    // bit above 31 (PM, bit 32): all kept. No 32-bit wrap.
    const u64 spsr = 0x1'0400'0425ull;
    const Retired r = retire_instruction(0xffff'0000'ffff'fffcull, spsr, true);
    EXPECT_EQ(r.elr, 0xffff'0001'0000'0000ull);
    EXPECT_EQ(r.spsr, spsr);
}

TEST(RetireInstruction, UpperSpsrBitsKeptForAArch32) {
    const u64 spsr = (u64{1} << 40) | kIttFirst;
    EXPECT_EQ(retire_instruction(0x8000, spsr, false).spsr, (u64{1} << 40) | kIttSecond);
}

} // namespace
} // namespace setwise::arm32
