// A trapped guest's registers as the exception frame holds them, and the
// few facts every trap handler needs about them. One place for what
// vcpu/trap.cpp and vcpu/cache_traps.cpp both do.
#pragma once

#include "arch/arm32/condition.hpp"
#include "arch/arm32/regs32.hpp"
#include "arch/arm64/exception_class.hpp"
#include "arch/arm64/frame.hpp"

namespace setwise::vcpu {

// SPSR_EL2.M[4]: the exception came from AArch32.
inline bool from_aarch32(const arm64::ExceptionFrame& f) { return (f.spsr & 0x10) != 0; }

// The register of a trapped access. ESR's SRT/Rt/Rt2 already give the
// AArch64 view of an AArch32 register (DDI 0487 D19.2.41: "the AArch64 view
// of the register"; the hardware applies the banked mapping), so the frame
// is indexed directly; AArch32 registers are 32 bits. 31 is XZR, or R15 for
// AArch32, which a trapped transfer may not use: reads 0, writes ignored.
inline u64 guest_reg(const arm64::ExceptionFrame& f, unsigned rt) {
    if (rt >= 31) return 0;
    return from_aarch32(f) ? f.x[rt] & 0xffff'ffff : f.x[rt];
}

inline void set_guest_reg(arm64::ExceptionFrame& f, unsigned rt, u64 value) {
    if (rt < 31) f.x[rt] = from_aarch32(f) ? value & 0xffff'ffff : value;
}

// Retire the trapped instruction: past it, and for Thumb the IT state on.
inline void retire(arm64::ExceptionFrame& f, const arm64::Syndrome& s) {
    if (from_aarch32(f)) {
        const arm32::Retired r = arm32::retire_instruction(f.elr, f.spsr, s.il32);
        f.elr = r.elr;
        f.spsr = r.spsr;
    } else {
        f.elr += 4;
    }
}

// AArch32 traps carry a condition; a failing one is skipped, not emulated.
inline bool condition_passes(const arm64::ExceptionFrame& f, const arm64::Syndrome& s) {
    if (!from_aarch32(f)) return true;
    return arm32::trapped_instruction_passes(s.iss, static_cast<u32>(f.spsr));
}

// The IPA of a stage-2 fault: HPFAR_EL2.FIPA holds IPA[51:12], the page
// offset is FAR's (DDI 0487 D19.2.50).
constexpr Ipa stage2_fault_ipa(u64 hpfar, u64 far) {
    return Ipa((((hpfar >> 4) & 0xff'ffff'ffffull) << 12) | (far & 0xfff));
}

} // namespace setwise::vcpu
