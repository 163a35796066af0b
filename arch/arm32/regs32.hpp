// The AArch32 view of a guest's saved AArch64 registers, and retiring a
// trapped instruction.
//
// When EL2 is AArch64, an AArch32 EL1/EL0 keeps every banked register in a
// fixed X register (DDI 0487 "Mapping of the general-purpose registers
// between the Execution states", D1.10.1.1 in M.a):
//
//   r0-r7    x0-x7 in every mode
//   r8-r12   x8-x12, except FIQ mode: x24-x28 (R8_fiq..R12_fiq)
//   r13/r14  usr, sys  x13 / x14
//            hyp       x15 (SP_hyp) / x14 (Hyp mode has no banked LR)
//            irq       x17 / x16
//            svc       x19 / x18
//            abt       x21 / x20
//            und       x23 / x22
//            fiq       x29 / x30
//            mon       not mapped (SP_mon and LR_mon exist only with an
//                      AArch32 EL3)
//   r15      the PC: ELR_EL2, not an X register
//
// Use this only for register numbers taken from an instruction encoding or
// from a calling convention. Register numbers in an ESR ISS (SRT, Rt, Rt2)
// are already the AArch64 view: index x[] with them directly.
//
// Only bits [31:0] of an X register hold the AArch32 register; on an
// exception from AArch32 the upper half is either zero or stale (CONSTRAINED
// UNPREDICTABLE, D1.10.1.4), so reads truncate and writes zero-extend.
#pragma once

#include <span>

#include "setwise/result.hpp"
#include "setwise/types.hpp"

namespace setwise::arm32 {

// PSTATE.M[4:0] of an AArch32 SPSR (DDI 0487, "AArch32 PE modes").
enum class Mode : u8 {
    usr = 0x10,
    fiq = 0x11,
    irq = 0x12,
    svc = 0x13,
    mon = 0x16,
    abt = 0x17,
    hyp = 0x1a,
    und = 0x1b,
    sys = 0x1f,
};

// The mode of an AArch32 SPSR. Status::invalid_argument for an SPSR from
// AArch64 (M[4] == 0) or a reserved M[4:0] encoding.
Result<Mode> mode_of(u32 spsr);

// True for an SPSR from AArch32 in T32 state (M[4] and T both set).
bool is_thumb(u32 spsr);

// The index (0..30) of the X register holding AArch32 register r in mode.
// mode is the 5-bit M[4:0] value (0x10..0x1f). Fails with
//   invalid_argument  mode is not an AArch32 mode encoding;
//   out_of_range      r > 14 (r15 is the PC, ELR_EL2);
//   unsupported       r13/r14 in Monitor mode, which have no mapping.
Result<unsigned> aarch32_reg_index(unsigned r, u32 mode);
Result<unsigned> aarch32_reg_index(unsigned r, Mode mode);

// Read / write AArch32 register r of mode in a saved register file
// (ExceptionFrame::x). Errors as aarch32_reg_index.
Result<u32> read_reg32(std::span<const u64, 31> x, unsigned r, u32 mode);
Result<void> write_reg32(std::span<u64, 31> x, unsigned r, u32 mode, u32 value);

// ELR_EL2 and SPSR_EL2 after a trapped instruction is retired (emulated,
// or skipped because it failed its condition check).
struct Retired {
    u64 elr = 0;
    u64 spsr = 0;
};

// The PC moves past the instruction: 4 bytes when ESR_EL2.IL is 1, else 2
// (a 16-bit T32 instruction). From AArch32 the PC wraps at 32 bits and, in
// T32 state inside an IT block, the IT state advances (ITAdvance(), see
// condition.hpp). From AArch64 (SPSR.M[4] == 0; IL is always 1 there) only
// the PC moves. The SPSR bits above 31 are kept.
Retired retire_instruction(u64 elr, u64 spsr, bool il);

} // namespace setwise::arm32
