// AArch32 condition checks for trapped instructions. See condition.hpp for
// the rules and their sources in DDI 0487.
#include "arch/arm32/condition.hpp"

namespace setwise::arm32 {

bool condition_holds(Cond c, u32 spsr) {
    const Spsr32 r(spsr);
    const bool n = r.test<Spsr32::n>();
    const bool z = r.test<Spsr32::z>();
    const bool carry = r.test<Spsr32::c>();
    const bool v = r.test<Spsr32::v>();
    const u32 cond = static_cast<u32>(c) & 0xfu;

    // ConditionHolds(): cond<3:1> selects the test, cond<0> inverts it,
    // except for 0b1111.
    bool result = true;
    switch (cond >> 1) {
    case 0: result = z; break;              // EQ / NE
    case 1: result = carry; break;          // CS / CC
    case 2: result = n; break;              // MI / PL
    case 3: result = v; break;              // VS / VC
    case 4: result = carry && !z; break;    // HI / LS
    case 5: result = n == v; break;         // GE / LT
    case 6: result = n == v && !z; break;   // GT / LE
    default: result = true; break;          // AL (and 0b1111)
    }
    if ((cond & 1u) != 0 && cond != 0xfu) result = !result;
    return result;
}

bool trapped_instruction_passes(u32 iss, u32 spsr) {
    const ConditionalIss syndrome(iss);
    if (syndrome.test<ConditionalIss::cv>()) {
        return condition_holds(static_cast<Cond>(syndrome.get<ConditionalIss::cond>()), spsr);
    }
    if (in_it_block(spsr)) {
        return condition_holds(static_cast<Cond>(it_state(spsr) >> 4), spsr);
    }
    return true;
}

u32 advance_it_state(u32 spsr) {
    if (!in_it_block(spsr)) return spsr;
    const u8 it = it_state(spsr);
    // ITAdvance(): IT[3:0] == 0b1000 marks the last instruction of the
    // block, after which the whole state clears; otherwise IT[7:5] stays and
    // IT[4:0] shifts, bringing the next instruction's cond<0> into IT[4].
    if ((it & 0x7u) == 0) return with_it_state(spsr, 0);
    const u8 next = static_cast<u8>((it & 0xe0u) | ((static_cast<u32>(it) << 1) & 0x1fu));
    return with_it_state(spsr, next);
}

} // namespace setwise::arm32
