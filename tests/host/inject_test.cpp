// Injected exceptions (vcpu/inject.hpp). Expected values are worked out by
// hand from DDI 0487: D1.10 (AArch64 exception entry), D1.3.1 (vector
// offsets), D19.2.41 (ESR_ELx), G1.12 (AArch32 exception entry) and the
// AArch32 fault status encodings (G5.12, short and long descriptor).
#include "vcpu/inject.hpp"

#include <gtest/gtest.h>

using namespace setwise;
using namespace setwise::vcpu;

TEST(InjectAarch64, DataAbortFromEl1h) {
    InjectInput in;
    in.kind = InjectKind::data_abort;
    in.pc = 0x4000'1000;
    in.pstate = 0x3c5; // EL1h, DAIF masked
    in.fault_address = 0x0a00'0000;
    in.write = true;
    in.vbar = 0x4008'0000;
    const InjectOutput out = inject_aarch64(in);
    EXPECT_EQ(out.pc, 0x4008'0200u);      // current EL with SP_ELx: +0x200
    EXPECT_EQ(out.pstate, 0x3c5u);        // EL1h, D A I F set
    EXPECT_EQ(out.esr_el1, 0x9600'0050u); // EC 0x25, IL, WnR, DFSC 0x10
    EXPECT_EQ(out.far_el1, 0x0a00'0000u);
    EXPECT_EQ(out.elr_el1, 0x4000'1000u);
    EXPECT_EQ(out.spsr_el1, 0x3c5u);
}

TEST(InjectAarch64, VectorOffsetFollowsWhereItCameFrom) {
    InjectInput in;
    in.kind = InjectKind::undefined;
    in.vbar = 0x1000;
    in.pstate = 0x0; // EL0t AArch64
    EXPECT_EQ(inject_aarch64(in).pc, 0x1400u);
    in.pstate = 0x4; // EL1t
    EXPECT_EQ(inject_aarch64(in).pc, 0x1000u);
    in.pstate = 0x5; // EL1h
    EXPECT_EQ(inject_aarch64(in).pc, 0x1200u);
    in.pstate = 0x10; // EL0 AArch32 (usr)
    EXPECT_EQ(inject_aarch64(in).pc, 0x1600u);
}

TEST(InjectAarch64, UndefinedHasUnknownClassAndNoFar) {
    InjectInput in;
    in.kind = InjectKind::undefined;
    in.pstate = 0x0;
    in.fault_address = 0x1234;
    const InjectOutput out = inject_aarch64(in);
    EXPECT_EQ(out.esr_el1, 0x0200'0000u); // EC 0, IL
    EXPECT_EQ(out.far_el1, 0u);
    in.il32 = false;
    EXPECT_EQ(inject_aarch64(in).esr_el1, 0u);
}

TEST(InjectAarch64, AbortFromEl0IsLowerEl) {
    InjectInput in;
    in.kind = InjectKind::prefetch_abort;
    in.pstate = 0x0;
    EXPECT_EQ(inject_aarch64(in).esr_el1, 0x8200'0010u); // EC 0x20, IL, IFSC 0x10
    in.kind = InjectKind::data_abort;
    EXPECT_EQ(inject_aarch64(in).esr_el1, 0x9200'0010u); // EC 0x24
}

TEST(InjectAarch32, DataAbortFromSvcArm) {
    InjectInput in;
    in.kind = InjectKind::data_abort;
    in.pc = 0x4000'8000;
    in.pstate = 0x1d3; // SVC, A I F masked, ARM
    in.fault_address = 0x0a00'0000;
    in.vbar = 0x4001'0000;
    in.sctlr = 0x00c5'0078; // V = 0, TE = 0, EE = 0
    const InjectOutput out = inject_aarch32(in);
    EXPECT_EQ(out.pc, 0x4001'0010u);  // VBAR + 0x10
    EXPECT_EQ(out.pstate, 0x1d7u);    // abt, A I F
    EXPECT_EQ(out.spsr_mode, 0x17u);
    EXPECT_EQ(out.spsr_value, 0x1d3u);
    EXPECT_EQ(out.lr_x, 20u);         // LR_abt
    EXPECT_EQ(out.lr_value, 0x4000'8008u);
    EXPECT_TRUE(out.set_dfsr);
    EXPECT_FALSE(out.set_ifsr);
    EXPECT_EQ(out.fsr, 0x008u);       // short descriptor: FS = 0b01000
    EXPECT_EQ(out.far, 0x0a00'0000u);
}

TEST(InjectAarch32, UndefinedInThumbWithHighVectors) {
    InjectInput in;
    in.kind = InjectKind::undefined;
    in.pc = 0x4000'2002;
    in.pstate = 0x1f3; // SVC, Thumb, A I F
    in.sctlr = (u64{1} << 30) | (u64{1} << 13); // TE, V
    in.vbar = 0x4001'0000;
    const InjectOutput out = inject_aarch32(in);
    EXPECT_EQ(out.pc, 0xffff'0004u);
    EXPECT_EQ(out.lr_x, 22u); // LR_und
    EXPECT_EQ(out.lr_value, 0x4000'2004u);
    EXPECT_EQ(out.spsr_mode, 0x1bu);
    EXPECT_EQ(out.pstate, 0x1fbu); // und, T from SCTLR.TE
    EXPECT_FALSE(out.set_dfsr);
    EXPECT_FALSE(out.set_ifsr);
}

TEST(InjectAarch32, UndefinedLeavesAUnchangedAndClearsIt) {
    InjectInput in;
    in.kind = InjectKind::undefined;
    in.pstate = 0x13 | (u64{0x3f} << 10) | (u64{3} << 25); // SVC, IT bits set, A I F clear
    const InjectOutput out = inject_aarch32(in);
    EXPECT_EQ(out.pstate, 0x9bu); // und, I set, A not set, IT cleared
    EXPECT_EQ(out.lr_value, 4u);
}

TEST(InjectAarch32, LongDescriptorFaultStatus) {
    InjectInput in;
    in.kind = InjectKind::data_abort;
    in.pstate = 0x1d3;
    in.write = true;
    in.ttbcr = u64{1} << 31; // TTBCR.EAE
    EXPECT_EQ(inject_aarch32(in).fsr, 0xa10u); // WnR | LPAE | STATUS 0x10
    in.kind = InjectKind::prefetch_abort;
    const InjectOutput out = inject_aarch32(in);
    EXPECT_EQ(out.fsr, 0x210u);
    EXPECT_TRUE(out.set_ifsr);
    EXPECT_EQ(out.lr_value, 4u);
    EXPECT_EQ(out.pc, 0x0cu);
}

TEST(InjectAarch32, BigEndianEntryFromSctlrEe) {
    InjectInput in;
    in.kind = InjectKind::data_abort;
    in.pstate = 0x13;
    in.sctlr = u64{1} << 25;
    EXPECT_EQ(inject_aarch32(in).pstate, 0x13u - 0x13u + 0x17u + 0x80u + 0x100u + 0x200u);
}

// The vector table an injected exception would be taken at: an instruction
// abort inside it cannot be injected (vcpu/trap.cpp ends the domain).
TEST(VectorTable, Aarch64CoversTheWhole2KiBFromVbar) {
    constexpr u64 vbar = 0x4008'0800;
    EXPECT_TRUE(in_vector_table(false, vbar, 0, vbar));
    EXPECT_TRUE(in_vector_table(false, vbar, 0, vbar + 0x200));
    EXPECT_TRUE(in_vector_table(false, vbar, 0, vbar + 0x7fc));
    EXPECT_FALSE(in_vector_table(false, vbar, 0, vbar + 0x800));
    EXPECT_FALSE(in_vector_table(false, vbar, 0, vbar - 4));
    // VBAR_EL1[10:0] are RES0: a value with them set names the same table.
    EXPECT_TRUE(in_vector_table(false, vbar | 0x7ff, 0, vbar + 0x400));
    // A table at the top of the address space does not wrap round to 0.
    EXPECT_FALSE(in_vector_table(false, ~u64{0x7ff}, 0, 0x100));
    EXPECT_TRUE(in_vector_table(false, ~u64{0x7ff}, 0, ~u64{0x7ff} + 0x600));
}

TEST(VectorTable, Aarch32IsEightWordsAtVbarOrHighVectors) {
    constexpr u64 vbar = 0x4200'0020;
    EXPECT_TRUE(in_vector_table(true, vbar, 0, vbar + 0x04));  // undefined instruction
    EXPECT_TRUE(in_vector_table(true, vbar, 0, vbar + 0x1c));  // FIQ
    EXPECT_FALSE(in_vector_table(true, vbar, 0, vbar + 0x20));
    EXPECT_FALSE(in_vector_table(true, vbar, 0, vbar - 4));
    EXPECT_TRUE(in_vector_table(true, vbar | 0x1f, 0, vbar + 0x10)); // VBAR[4:0] ignored
    // SCTLR.V: the vectors are at 0xffff0000 whatever VBAR says.
    constexpr u64 v = u64{1} << 13;
    EXPECT_TRUE(in_vector_table(true, vbar, v, 0xffff'000c));
    EXPECT_FALSE(in_vector_table(true, vbar, v, vbar + 0x0c));
    // Only the 32-bit address counts: FAR bits above 31 never match.
    EXPECT_FALSE(in_vector_table(true, vbar, 0, (u64{1} << 32) + vbar + 4));
}
