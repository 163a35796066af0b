// Condition codes of trapped AArch32 instructions, and the Thumb IT state.
//
// An AArch32 instruction that traps to EL2 may be conditional, and the
// architecture allows a core to trap it even when its condition fails (DDI
// 0487, ESR_ELx ISS description of CV/COND: "a conditional instruction that
// fails its condition code check" may or may not be trapped, IMPLEMENTATION
// DEFINED). A trapped instruction whose condition fails must be retired
// without effect -- PC and IT state advanced, nothing emulated -- exactly as
// the hardware would have done. Hence trapped_instruction_passes() before
// any emulation, and advance_it_state() whenever a trapped T32 instruction
// is retired, whether it was emulated or skipped.
//
// The SPSR here is SPSR_EL2 for an exception taken from AArch32 (DDI 0487,
// SPSR_EL2 "When exception taken from AArch32 state"):
//
//   31 30 29 28 27 26:25    ... 15:10    ... 5  4   3:0
//    N  Z  C  V  Q IT[1:0]  ... IT[7:2]  ... T  M[4] M[3:0]
//
// M[4] (nRW) is 1 for AArch32. The IT field is split; ITSTATE is
//   IT[7:5] base condition (cond<3:1> of the IT instruction)
//   IT[4:0] cond<0> of the current instruction followed by the mask;
//           IT[3:0] == 0 means "not in an IT block" (InITBlock()).
// Condition of the current instruction: IT[7:4].
#pragma once

#include "setwise/bits.hpp"
#include "setwise/types.hpp"

namespace setwise::arm32 {

// The architectural encoding, DDI 0487 "Condition codes" table (AArch32
// "Conditional execution"); the value is the 4-bit cond field.
enum class Cond : u8 {
    eq = 0x0, // Z == 1
    ne = 0x1, // Z == 0
    cs = 0x2, // C == 1 (HS)
    cc = 0x3, // C == 0 (LO)
    mi = 0x4, // N == 1
    pl = 0x5, // N == 0
    vs = 0x6, // V == 1
    vc = 0x7, // V == 0
    hi = 0x8, // C == 1 && Z == 0
    ls = 0x9, // !(C == 1 && Z == 0)
    ge = 0xa, // N == V
    lt = 0xb, // N != V
    gt = 0xc, // Z == 0 && N == V
    le = 0xd, // !(Z == 0 && N == V)
    al = 0xe, // always
    nv = 0xf, // always as well: see condition_holds()
};

// The AArch32 view of SPSR_EL2, fields as DDI 0487 prints them.
class Spsr32 : public Register<Spsr32, u32> {
public:
    using Register::Register;
    using n = Bit1<31>;
    using z = Bit1<30>;
    using c = Bit1<29>;
    using v = Bit1<28>;
    using it_1_0 = Field<26, 25>;
    using it_7_2 = Field<15, 10>;
    using t = Bit1<5>;  // T32 (Thumb) state
    using m_4 = Bit1<4>; // nRW: 1 = exception taken from AArch32
};

// CV and COND, at the same place in every ISS that has them (EC 0x01 WFx,
// 0x03/0x04/0x05/0x06/0x0C coprocessor accesses, 0x07 and 0x08 FP/ID
// accesses, 0x13 SMC): bits [24:20] of both the ISS and of ESR_EL2, so
// either may be given.
class ConditionalIss : public Register<ConditionalIss, u32> {
public:
    using Register::Register;
    using cv = Bit1<24>;         // COND is valid
    using cond = Field<23, 20>;  // condition of the trapped instruction
};

// ConditionHolds() of DDI 0487 (shared pseudocode) over the N, Z, C, V flags
// in bits [31:28] of spsr; the other bits are ignored. cond 0b1111 holds
// like AL, as that pseudocode says (KVM and Xen tables treat it as never;
// the ISS never reports it -- an unconditional instruction reports 0b1110 --
// so the difference is unobservable for traps).
bool condition_holds(Cond c, u32 spsr);

// ITSTATE (IT[7:0]) of an AArch32 SPSR, and spsr with it replaced.
constexpr u8 it_state(u32 spsr) {
    const Spsr32 r(spsr);
    return static_cast<u8>((r.get<Spsr32::it_7_2>() << 2) | r.get<Spsr32::it_1_0>());
}

constexpr u32 with_it_state(u32 spsr, u8 it) {
    return Spsr32(spsr).with<Spsr32::it_7_2>(it >> 2u).with<Spsr32::it_1_0>(it & 3u).raw();
}

// True when spsr is from AArch32 T32 state inside an IT block (InITBlock()).
constexpr bool in_it_block(u32 spsr) {
    const Spsr32 r(spsr);
    return r.test<Spsr32::m_4>() && r.test<Spsr32::t>() && (it_state(spsr) & 0xfu) != 0;
}

// Whether the trapped AArch32 instruction described by iss (the ISS, or the
// whole ESR_EL2: only bits [24:20] are read) passes its condition check
// with the guest's flags and IT state in spsr. The rule, from the ISS
// description of CV and COND in DDI 0487:
//   - CV == 1: COND is the condition; test it. (A core may report 0b1110
//     for an instruction it knows passes; that tests as AL.)
//   - CV == 0: allowed only for T32 instructions; the condition is the IT
//     block's, IT[7:4], when the instruction is in one; outside an IT block
//     a T32 instruction is unconditional.
//   - CV == 0 from A32 state (an A32 trap always sets CV): not
//     architectural; treated as unconditional rather than trusted to panic.
// Precondition: the EC is one whose ISS has CV/COND.
bool trapped_instruction_passes(u32 iss, u32 spsr);

// The SPSR after one T32 instruction in an IT block retires (ITAdvance()
// in DDI 0487 pseudocode): the mask IT[4:0] shifts left by one, and the
// state clears after the last instruction (IT[2:0] == 0). A trapped
// instruction that is skipped for failing its condition retires too, so it
// advances the state the same way. Returns spsr unchanged when it is not
// in an IT block (A32 state, AArch64 state -- whose bits 26:25 and 15:10
// mean other things -- or T32 outside a block).
u32 advance_it_state(u32 spsr);

} // namespace setwise::arm32
