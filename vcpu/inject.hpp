// Exceptions setwise injects into a guest: what the vCPU's state becomes
// when it takes an undefined-instruction or abort exception at EL1, for both
// execution states. Pure computation over register values (host-tested);
// vcpu/trap.cpp applies the result to the live registers.
//
// AArch64 (DDI 0487 D1.10 "Exception entry"): ELR_EL1 = the preferred
// return address, SPSR_EL1 = PSTATE, ESR_EL1/FAR_EL1 describe it, PSTATE =
// EL1h with DAIF masked, PC = VBAR_EL1 + the vector offset for where it
// came from (D1.3.1: 0x000 EL1t, 0x200 EL1h, 0x400 lower AArch64, 0x600
// lower AArch32).
//
// AArch32 (DDI 0487 G1.12 "AArch32 exception entry", and the ARMv7-A
// TakeUndefInstrException/TakeDataAbortException pseudocode): SPSR_<mode> =
// CPSR, LR_<mode> = preferred return + offset (undef: +4 ARM / +2 Thumb;
// prefetch abort +4; data abort +8), CPSR.M = und/abt, I = 1, A = 1 for
// aborts, IT = 0, T = SCTLR.TE, E = SCTLR.EE, PC = vector base (VBAR, or
// 0xffff0000 with SCTLR.V) + 0x04 / 0x0c / 0x10. The fault status goes to
// DFSR/IFSR in the format TTBCR.EAE selects.
#pragma once

#include "setwise/types.hpp"

namespace setwise::vcpu {

enum class InjectKind : u8 { undefined, data_abort, prefetch_abort };

// The vCPU state that injection reads.
struct InjectInput {
    InjectKind kind = InjectKind::undefined;
    u64 pc = 0;        // the faulting instruction (ELR_EL2)
    u64 pstate = 0;    // SPSR_EL2: the guest's PSTATE/CPSR
    bool il32 = true;  // the trapped instruction was 32 bits (ESR.IL)
    u64 fault_address = 0;  // aborts: the virtual address (FAR_EL2)
    bool write = false;     // data abort: WnR
    u64 vbar = 0;      // VBAR_EL1 (AArch32: VBAR)
    u64 sctlr = 0;     // SCTLR_EL1 (AArch32: SCTLR)
    u64 ttbcr = 0;     // AArch32: TTBCR (TCR_EL1) for the DFSR/IFSR format
};

// What to write back.
struct InjectOutput {
    u64 pc = 0;        // new ELR_EL2
    u64 pstate = 0;    // new SPSR_EL2
    // AArch64
    u64 elr_el1 = 0;
    u64 spsr_el1 = 0;
    u64 esr_el1 = 0;
    u64 far_el1 = 0;
    // AArch32
    unsigned lr_x = 0;     // X register that holds LR_<mode>
    u64 lr_value = 0;
    unsigned spsr_mode = 0; // 0x17 abt or 0x1b und: which SPSR_<mode> to write
    u64 spsr_value = 0;
    bool set_dfsr = false;  // DFSR (ESR_EL1[31:0]) and DFAR (FAR_EL1[31:0])
    bool set_ifsr = false;  // IFSR (IFSR32_EL2) and IFAR (FAR_EL1[63:32])
    u32 fsr = 0;
    u32 far = 0;
};

InjectOutput inject_aarch64(const InjectInput& in);
InjectOutput inject_aarch32(const InjectInput& in);

// Whether `address` (a virtual address) lies in the vCPU's exception vector
// table: VBAR_EL1 + [0, 0x800) for AArch64; for AArch32 the eight words at
// VBAR (bits [4:0] ignored), or at 0xffff0000 with SCTLR.V (high vectors).
// An instruction abort there that setwise cannot resolve would be injected
// at that same vector and fault again for ever: the domain has crashed.
bool in_vector_table(bool aarch32, u64 vbar, u64 sctlr, u64 address);

// AArch32 modes (CPSR.M).
inline constexpr u32 kModeUsr = 0x10;
inline constexpr u32 kModeFiq = 0x11;
inline constexpr u32 kModeIrq = 0x12;
inline constexpr u32 kModeSvc = 0x13;
inline constexpr u32 kModeAbt = 0x17;
inline constexpr u32 kModeUnd = 0x1b;
inline constexpr u32 kModeSys = 0x1f;

} // namespace setwise::vcpu
