// ESR_ELx.EC: the exception classes of DDI 0487 (D19.2.41) for the ARMv8.x
// and v9 features setwise can meet, and the syndrome decoded once into a
// typed value. Classes for features setwise never enables for a guest
// (FEAT_SYSREG128 0x14, granule protection 0x1e, GCS 0x2d) are treated as
// unallocated: reported, never acted on. Trap dispatch switches over
// ExceptionClass with -Werror=switch-enum, so each class is a decision.
#pragma once

#include "arch/arm64/registers.hpp"

namespace setwise::arm64 {

enum class ExceptionClass : u8 {
    unknown = 0x00,
    wfx = 0x01,               // WFI/WFE (and WFIT/WFET)
    cp15_32 = 0x03,           // AArch32 MCR/MRC to coproc 0b1111
    cp15_64 = 0x04,           // AArch32 MCRR/MRRC to coproc 0b1111
    cp14_32 = 0x05,           // AArch32 MCR/MRC to coproc 0b1110
    cp14_ls = 0x06,           // AArch32 LDC/STC to coproc 0b1110
    fp_simd_access = 0x07,    // SVE, Advanced SIMD or FP access trapped by CPTR/CPACR
    cp10_id = 0x08,           // AArch32 VMRS from the ID group
    pauth = 0x09,
    ls64 = 0x0a,
    cp14_64 = 0x0c,           // AArch32 MRRC to coproc 0b1110
    branch_target = 0x0d,
    illegal_state = 0x0e,
    svc32 = 0x11,
    hvc32 = 0x12,
    smc32 = 0x13,
    svc64 = 0x15,
    hvc64 = 0x16,
    smc64 = 0x17,
    sysreg = 0x18,            // AArch64 MSR/MRS/SYS (DC by set/way among them)
    sve = 0x19,
    eret = 0x1a,
    tstart = 0x1b,
    fpac = 0x1c,
    sme = 0x1d,
    impdef_el3 = 0x1f,
    iabt_lower = 0x20,        // instruction abort from a lower EL (stage-2 faults of a guest)
    iabt_same = 0x21,
    pc_alignment = 0x22,
    dabt_lower = 0x24,        // data abort from a lower EL (stage-2 faults, MMIO)
    dabt_same = 0x25,
    sp_alignment = 0x26,
    mops = 0x27,
    fp32 = 0x28,
    fp64 = 0x2c,
    serror = 0x2f,
    breakpoint_lower = 0x30,
    breakpoint_same = 0x31,
    step_lower = 0x32,
    step_same = 0x33,
    watchpoint_lower = 0x34,
    watchpoint_same = 0x35,
    bkpt32 = 0x38,
    vector_catch32 = 0x3a,
    brk64 = 0x3c,
};

// True for the values above; ESR can carry unallocated ones, which are
// handled as `unknown` would be.
bool is_allocated(u8 ec);
const char* exception_class_name(ExceptionClass ec);

// ESR decoded once.
struct Syndrome {
    ExceptionClass ec = ExceptionClass::unknown;
    u8 raw_ec = 0;
    bool il32 = false; // the trapped instruction is 32 bits (else 16-bit Thumb)
    u32 iss = 0;

    static constexpr Syndrome decode(u64 esr) {
        const Esr e(esr);
        Syndrome s;
        s.raw_ec = static_cast<u8>(e.get<Esr::ec>());
        s.ec = static_cast<ExceptionClass>(s.raw_ec);
        s.il32 = e.test<Esr::il>();
        s.iss = static_cast<u32>(e.get<Esr::iss>());
        return s;
    }
};

} // namespace setwise::arm64
