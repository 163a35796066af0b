// The debug and performance-monitor registers, which no guest programs.
//
// setwise switches neither between vCPUs: a breakpoint, watchpoint or
// MDSCR_EL1.SS one guest set would fire in whichever guest ran next on that
// CPU, and PMCR_EL0 and the event counters are one set per CPU, a channel
// between guests. So MDCR_EL2 traps them all (TDA, TDOSA, TDRA: debug;
// TPM, TPMCR: PMU) and setwise answers as Xen does for a domU without a
// virtual PMU or debug support: reads as zero, writes ignored. The guest's
// device tree has no PMU node, so Linux does not look for one; its
// hw_breakpoint and single-step code find nothing to use (docs/security.md).
//
// Pure classification of trapped encodings (host-tested); vcpu/trap.cpp
// applies it.
#pragma once

#include "setwise/types.hpp"

namespace setwise::vcpu {

// MDCR_EL2 for a guest (DDI 0487 D19.3.x): TPMCR (5), TPM (6), TDA (9),
// TDOSA (10), TDRA (11), with HPMN = `pmu_counters` (PMCR_EL0.N: every
// counter stays in the EL1 range, as at reset; with TPM set the guest
// reaches none of them anyway).
constexpr u64 guest_mdcr(u64 pmu_counters) {
    constexpr u64 kTpmcr = u64{1} << 5;
    constexpr u64 kTpm = u64{1} << 6;
    constexpr u64 kTda = u64{1} << 9;
    constexpr u64 kTdosa = u64{1} << 10;
    constexpr u64 kTdra = u64{1} << 11;
    return (pmu_counters & 0x1f) | kTpmcr | kTpm | kTda | kTdosa | kTdra;
}

// An AArch64 system register access (op0, op1, CRn, CRm, op2) that MDCR_EL2
// traps as above: op0 = 2 is the whole debug space (MDSCR_EL1, DBGB*/DBGW*,
// OSLAR/OSLSR/OSDLR, MDCCINT, the DCC, DBGCLAIM*, MDRAR); the PMU is
// PMCR_EL0 .. PMOVSSET_EL0 (op1 3, CRn 9, CRm 12-14), PMINTENSET/CLR_EL1
// and PMMIR_EL1 (op1 0, CRn 9, CRm 14), PMEVCNTR/TYPER and PMCCFILTR
// (op1 3, CRn 14, CRm 8-15). The timers share op1 3, CRn 14 with CRm 0-3.
constexpr bool is_debug_or_pmu_sysreg(unsigned op0, unsigned op1, unsigned crn, unsigned crm, unsigned op2) {
    (void)op2;
    if (op0 == 2) return true;
    if (op0 != 3) return false;
    if (crn == 9) return (op1 == 3 && crm >= 12 && crm <= 14) || (op1 == 0 && crm == 14);
    return crn == 14 && op1 == 3 && crm >= 8;
}

// The AArch32 PMU through CP15 (MCR/MRC p15, 0, Rt, CRn, CRm, opc2): CRn 9
// with CRm 12-14 (PMCR .. PMOVSSET, PMUSERENR, PMINTENSET/CLR), and CRn 14
// with CRm 8-15 (PMEVCNTR, PMEVTYPER, PMCCFILTR). IMPLEMENTATION DEFINED
// CRn 9 registers (opc1 != 0: L2CTLR and the like) are not the PMU's.
constexpr bool is_pmu_cp15(unsigned opc1, unsigned crn, unsigned crm, unsigned opc2) {
    (void)opc2;
    if (opc1 != 0) return false;
    if (crn == 9) return crm >= 12 && crm <= 14;
    return crn == 14 && crm >= 8;
}

// MCRR/MRRC p15, 0, Rt, Rt2, c9: PMCCNTR as 64 bits.
constexpr bool is_pmu_cp15_64(unsigned opc1, unsigned crm) { return opc1 == 0 && crm == 9; }

} // namespace setwise::vcpu
