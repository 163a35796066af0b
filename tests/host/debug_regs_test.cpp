// Which trapped encodings are the debug and PMU registers a guest may not
// program (vcpu/debug_regs.hpp): read as zero, writes ignored.
#include "vcpu/debug_regs.hpp"

#include <gtest/gtest.h>

namespace setwise::vcpu {
namespace {

struct Enc {
    const char* name;
    unsigned op0, op1, crn, crm, op2;
};

TEST(DebugRegs, Aarch64DebugAndPmuRegistersAreClaimed) {
    const Enc claimed[] = {
        {"MDSCR_EL1", 2, 0, 0, 2, 2},     {"DBGBVR0_EL1", 2, 0, 0, 0, 4}, {"DBGBCR5_EL1", 2, 0, 0, 5, 5},
        {"DBGWVR15_EL1", 2, 0, 0, 15, 6}, {"OSLAR_EL1", 2, 0, 1, 0, 4},   {"OSLSR_EL1", 2, 0, 1, 1, 4},
        {"OSDLR_EL1", 2, 0, 1, 3, 4},     {"MDCCINT_EL1", 2, 0, 0, 2, 0}, {"DBGDTR_EL0", 2, 3, 0, 4, 0},
        {"MDRAR_EL1", 2, 0, 1, 0, 0},     {"DBGCLAIMSET_EL1", 2, 0, 7, 8, 6},
        {"PMCR_EL0", 3, 3, 9, 12, 0},     {"PMCNTENSET_EL0", 3, 3, 9, 12, 1},
        {"PMCCNTR_EL0", 3, 3, 9, 13, 0},  {"PMUSERENR_EL0", 3, 3, 9, 14, 0},
        {"PMOVSSET_EL0", 3, 3, 9, 14, 3}, {"PMINTENSET_EL1", 3, 0, 9, 14, 1},
        {"PMINTENCLR_EL1", 3, 0, 9, 14, 2}, {"PMEVCNTR0_EL0", 3, 3, 14, 8, 0},
        {"PMEVTYPER30_EL0", 3, 3, 14, 15, 6}, {"PMCCFILTR_EL0", 3, 3, 14, 15, 7},
    };
    for (const Enc& e : claimed)
        EXPECT_TRUE(is_debug_or_pmu_sysreg(e.op0, e.op1, e.crn, e.crm, e.op2)) << e.name;
}

TEST(DebugRegs, Aarch64OtherTrappedRegistersAreNot) {
    const Enc others[] = {
        {"CNTP_CTL_EL0", 3, 3, 14, 2, 1},  {"CNTP_CVAL_EL0", 3, 3, 14, 2, 2}, {"CNTV_CTL_EL0", 3, 3, 14, 3, 1},
        {"CNTKCTL_EL1", 3, 0, 14, 1, 0},   {"ACTLR_EL1", 3, 0, 1, 0, 1},      {"SCTLR_EL1", 3, 0, 1, 0, 0},
        {"CCSIDR_EL1", 3, 1, 0, 0, 0},     {"ICC_SGI1R_EL1", 3, 0, 12, 11, 5}, {"DC CISW", 1, 0, 7, 14, 2},
        {"L2CTLR_EL1 (IMPDEF)", 3, 1, 11, 0, 2}, {"S3_1_C15_C15_7 (IMPDEF)", 3, 1, 15, 15, 7},
        {"PAR_EL1", 3, 0, 7, 4, 0},        {"MAIR_EL1", 3, 0, 10, 2, 0},
    };
    for (const Enc& e : others)
        EXPECT_FALSE(is_debug_or_pmu_sysreg(e.op0, e.op1, e.crn, e.crm, e.op2)) << e.name;
}

TEST(DebugRegs, Aarch32PmuThroughCp15) {
    EXPECT_TRUE(is_pmu_cp15(0, 9, 12, 0));  // PMCR
    EXPECT_TRUE(is_pmu_cp15(0, 9, 13, 0));  // PMCCNTR
    EXPECT_TRUE(is_pmu_cp15(0, 9, 14, 0));  // PMUSERENR
    EXPECT_TRUE(is_pmu_cp15(0, 9, 14, 1));  // PMINTENSET
    EXPECT_TRUE(is_pmu_cp15(0, 14, 8, 0));  // PMEVCNTR0
    EXPECT_TRUE(is_pmu_cp15(0, 14, 15, 7)); // PMCCFILTR
    EXPECT_FALSE(is_pmu_cp15(1, 9, 0, 2));  // L2CTLR (IMPDEF, opc1 1)
    EXPECT_FALSE(is_pmu_cp15(0, 9, 1, 0));  // not a PMU register
    EXPECT_FALSE(is_pmu_cp15(0, 14, 2, 1)); // CNTP_CTL
    EXPECT_FALSE(is_pmu_cp15(0, 14, 1, 0)); // CNTKCTL
    EXPECT_FALSE(is_pmu_cp15(0, 7, 14, 2)); // DCCISW
    EXPECT_TRUE(is_pmu_cp15_64(0, 9));      // PMCCNTR, 64 bits
    EXPECT_FALSE(is_pmu_cp15_64(2, 14));    // CNTP_CVAL
    EXPECT_FALSE(is_pmu_cp15_64(0, 12));    // ICC_SGI1R
}

TEST(DebugRegs, MdcrTrapsEverythingAndKeepsTheCountersForEl1) {
    const u64 m = guest_mdcr(6);
    EXPECT_EQ(m & 0x1f, 6u);                // HPMN = PMCR_EL0.N
    EXPECT_NE(m & (u64{1} << 5), 0u);       // TPMCR
    EXPECT_NE(m & (u64{1} << 6), 0u);       // TPM
    EXPECT_NE(m & (u64{1} << 9), 0u);       // TDA
    EXPECT_NE(m & (u64{1} << 10), 0u);      // TDOSA
    EXPECT_NE(m & (u64{1} << 11), 0u);      // TDRA
    EXPECT_EQ(m & (u64{1} << 8), 0u);       // TDE clear: debug exceptions stay the guest's
    EXPECT_EQ(m & (u64{1} << 7), 0u);       // HPME clear
    EXPECT_EQ(guest_mdcr(0xff) & 0x1f, 0x1fu);
}

} // namespace
} // namespace setwise::vcpu
