#include "vcpu/inject.hpp"

namespace setwise::vcpu {

namespace {

// PSTATE / CPSR bits (DDI 0487 C5.2.18 SPSR_EL2).
constexpr u64 kF = u64{1} << 6;
constexpr u64 kI = u64{1} << 7;
constexpr u64 kA = u64{1} << 8;
constexpr u64 kD = u64{1} << 9;
constexpr u64 kT = u64{1} << 5;
constexpr u64 kE = u64{1} << 9; // AArch32 CPSR.E shares bit 9 with AArch64 D
constexpr u64 kIt10Mask = u64{0x3f} << 10;
constexpr u64 kIt25Mask = u64{0x3} << 25;
constexpr u64 kModeMask = 0x1f;

// ESR_ELx encodings (D19.2.41).
constexpr u64 kEcUnknown = 0x00;
constexpr u64 kEcIabtLower = 0x20;
constexpr u64 kEcIabtSame = 0x21;
constexpr u64 kEcDabtLower = 0x24;
constexpr u64 kEcDabtSame = 0x25;
constexpr u64 kEsrIl = u64{1} << 25;
constexpr u64 kFscSyncExternal = 0x10; // synchronous external abort, not on a walk
constexpr u64 kIssWnR = u64{1} << 6;

// AArch32 SCTLR bits.
constexpr u64 kSctlrV = u64{1} << 13;
constexpr u64 kSctlrEe = u64{1} << 25;
constexpr u64 kSctlrTe = u64{1} << 30;
constexpr u64 kTtbcrEae = u64{1} << 31;

// AArch32 fault status: synchronous external abort, not on a translation
// table walk. Short-descriptor FS = 0b01000 (FS[4] in bit 10, FS[3:0] in
// 3:0); long-descriptor (LPAE bit 9 set) STATUS = 0b010000.
constexpr u32 kFsrShortExternal = 0x008;
constexpr u32 kFsrLongExternal = (1u << 9) | 0x10;
constexpr u32 kFsrWnR = 1u << 11;

} // namespace

InjectOutput inject_aarch64(const InjectInput& in) {
    InjectOutput out;
    const u64 from_mode = in.pstate & 0xf; // M[3:0]: EL and SP selection
    const bool from_aarch32 = (in.pstate & 0x10) != 0;
    const bool from_el1 = !from_aarch32 && (from_mode >> 2) == 1;
    u64 offset = 0x400; // lower EL, AArch64
    if (from_aarch32) {
        offset = 0x600;
    } else if (from_el1) {
        offset = (from_mode & 1) != 0 ? 0x200 : 0x000;
    }

    u64 ec = kEcUnknown;
    u64 iss = 0;
    switch (in.kind) {
    case InjectKind::undefined: ec = kEcUnknown; break;
    case InjectKind::data_abort:
        ec = from_el1 ? kEcDabtSame : kEcDabtLower;
        iss = kFscSyncExternal | (in.write ? kIssWnR : 0);
        break;
    case InjectKind::prefetch_abort:
        ec = from_el1 ? kEcIabtSame : kEcIabtLower;
        iss = kFscSyncExternal;
        break;
    }
    out.esr_el1 = (ec << 26) | ((in.il32 || in.kind != InjectKind::undefined) ? kEsrIl : 0) | iss;
    out.far_el1 = in.kind == InjectKind::undefined ? 0 : in.fault_address;
    out.elr_el1 = in.pc;
    out.spsr_el1 = in.pstate;
    out.pc = in.vbar + offset;
    out.pstate = 0x5 | kD | kA | kI | kF; // EL1h, all masked
    return out;
}

InjectOutput inject_aarch32(const InjectInput& in) {
    InjectOutput out;
    const bool thumb = (in.pstate & kT) != 0;
    u64 lr_offset = 0;
    u64 vector = 0;
    u32 mode = kModeUnd;
    switch (in.kind) {
    case InjectKind::undefined:
        mode = kModeUnd;
        lr_offset = thumb ? 2 : 4;
        vector = 0x04;
        break;
    case InjectKind::prefetch_abort:
        mode = kModeAbt;
        lr_offset = 4;
        vector = 0x0c;
        break;
    case InjectKind::data_abort:
        mode = kModeAbt;
        lr_offset = 8;
        vector = 0x10;
        break;
    }
    out.spsr_mode = mode;
    out.spsr_value = in.pstate & 0xffff'ffff;
    // LR_und is X22, LR_abt is X20 ("Mapping of AArch32 registers to AArch64").
    out.lr_x = mode == kModeUnd ? 22 : 20;
    out.lr_value = (in.pc + lr_offset) & 0xffff'ffff;

    u64 cpsr = in.pstate & ~(kModeMask | kT | kE | kIt10Mask | kIt25Mask);
    cpsr |= u64{mode} | 0x10 /* M[4]: AArch32 */ | kI;
    if (in.kind != InjectKind::undefined) cpsr |= kA;
    if ((in.sctlr & kSctlrTe) != 0) cpsr |= kT;
    if ((in.sctlr & kSctlrEe) != 0) cpsr |= kE;
    out.pstate = cpsr;

    const u64 base = (in.sctlr & kSctlrV) != 0 ? 0xffff'0000 : (in.vbar & 0xffff'ffe0);
    out.pc = base + vector;

    if (in.kind != InjectKind::undefined) {
        const bool lpae = (in.ttbcr & kTtbcrEae) != 0;
        u32 fsr = lpae ? kFsrLongExternal : kFsrShortExternal;
        if (in.kind == InjectKind::data_abort && in.write) fsr |= kFsrWnR;
        out.fsr = fsr;
        out.far = static_cast<u32>(in.fault_address);
        out.set_dfsr = in.kind == InjectKind::data_abort;
        out.set_ifsr = in.kind == InjectKind::prefetch_abort;
    }
    return out;
}

bool in_vector_table(bool aarch32, u64 vbar, u64 sctlr, u64 address) {
    if (!aarch32) {
        const u64 base = vbar & ~u64{0x7ff}; // VBAR_EL1[10:0] are RES0
        return address - base < 0x800;
    }
    const u64 base = (sctlr & kSctlrV) != 0 ? 0xffff'0000 : (vbar & 0xffff'ffe0);
    return (address & 0xffff'ffff) - base < 0x20 && address <= 0xffff'ffff;
}

} // namespace setwise::vcpu
