// The EL1 physical timer a guest sees (CNTP_CTL, CNTP_CVAL, CNTP_TVAL),
// emulated: with CNTHCTL_EL2.EL1PCEN clear every guest access traps
// (vcpu/trap.cpp), and the timer's interrupt (PPI 14, INTID 30) is raised
// in the vGIC when its condition holds. The physical counter itself
// (CNTPCT) stays readable (EL1PCTEN set) and has no offset.
//
// Why emulated: the hardware's EL1 physical timer is one per physical CPU,
// shared by every vCPU that runs there and not switched with them; KVM
// emulates it the same way (its "ptimer"). Guests that use the virtual
// timer -- Linux does -- never trap here.
//
// Register semantics (DDI 0487 D11.2.4, "The timer control registers"):
//   CTL   ENABLE [0] and IMASK [1] read back as written; ISTATUS [2] is
//         read-only: ENABLE and CNTPCT >= CVAL.
//   CVAL  64 bits, read back as written.
//   TVAL  reads (CVAL - CNTPCT)[31:0]; a write sets CVAL to CNTPCT plus
//         the value sign-extended from 32 bits.
// The interrupt line is ENABLE && !IMASK && ISTATUS.
//
// Portable: the caller passes the counter value (host-tested in
// tests/host/ptimer_test.cpp).
#pragma once

#include "setwise/types.hpp"

namespace setwise::vcpu {

struct PhysTimer {
    static constexpr u64 kEnable = 1;
    static constexpr u64 kImask = 2;
    static constexpr u64 kIstatus = 4;

    u64 ctl = 0;  // ENABLE and IMASK only
    u64 cval = 0;
    bool raised = false; // the line as last given to the vGIC

    bool fired(u64 now) const { return (ctl & kEnable) != 0 && now >= cval; }
    u64 read_ctl(u64 now) const { return ctl | (fired(now) ? kIstatus : 0); }
    u64 read_tval(u64 now) const { return (cval - now) & 0xffff'ffff; }
    void write_ctl(u64 value) { ctl = value & (kEnable | kImask); }
    void write_cval(u64 value) { cval = value; }
    void write_tval(u64 now, u64 value) {
        const u64 low = value & 0xffff'ffff;
        const u64 sext = (low ^ 0x8000'0000) - 0x8000'0000; // sign-extend bit 31
        cval = now + sext;
    }
    // The interrupt output.
    bool line(u64 now) const { return fired(now) && (ctl & kImask) == 0; }
    // When the line will rise (counter value), ~0 if never (disabled or
    // masked); in the past if it is already high.
    u64 deadline() const { return (ctl & (kEnable | kImask)) == kEnable ? cval : ~u64{0}; }
};

} // namespace setwise::vcpu
