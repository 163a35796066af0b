// The AArch32 banked-register view. See regs32.hpp for the mapping and its
// source.
#include "arch/arm32/regs32.hpp"

#include "arch/arm32/condition.hpp"

namespace setwise::arm32 {

namespace {

constexpr u32 kModeMask = 0x1f;
constexpr u32 kM4 = 1u << 4;
constexpr u32 kT = 1u << 5;

bool is_mode(u32 m) {
    switch (m) {
    case 0x10: case 0x11: case 0x12: case 0x13: case 0x16:
    case 0x17: case 0x1a: case 0x1b: case 0x1f:
        return true;
    default:
        return false;
    }
}

} // namespace

Result<Mode> mode_of(u32 spsr) {
    const u32 m = spsr & kModeMask;
    if ((m & kM4) == 0 || !is_mode(m)) return Status::invalid_argument;
    return static_cast<Mode>(m);
}

bool is_thumb(u32 spsr) { return (spsr & kM4) != 0 && (spsr & kT) != 0; }

Result<unsigned> aarch32_reg_index(unsigned r, Mode mode) {
    if (!is_mode(static_cast<u32>(mode))) return Status::invalid_argument;
    if (r > 14) return Status::out_of_range;
    if (r < 8) return r;
    if (r < 13) return mode == Mode::fiq ? r + 16 : r; // R8_fiq..R12_fiq are X24..X28
    const bool sp = r == 13;
    switch (mode) {
    case Mode::usr:
    case Mode::sys: return sp ? 13u : 14u;
    case Mode::hyp: return sp ? 15u : 14u;
    case Mode::irq: return sp ? 17u : 16u;
    case Mode::svc: return sp ? 19u : 18u;
    case Mode::abt: return sp ? 21u : 20u;
    case Mode::und: return sp ? 23u : 22u;
    case Mode::fiq: return sp ? 29u : 30u;
    case Mode::mon: return Status::unsupported;
    }
    return Status::invalid_argument;
}

Result<unsigned> aarch32_reg_index(unsigned r, u32 mode) {
    if (mode > kModeMask) return Status::invalid_argument;
    return aarch32_reg_index(r, static_cast<Mode>(mode));
}

Result<u32> read_reg32(std::span<const u64, 31> x, unsigned r, u32 mode) {
    const unsigned i = SW_TRY(aarch32_reg_index(r, mode));
    return static_cast<u32>(x[i]);
}

Result<void> write_reg32(std::span<u64, 31> x, unsigned r, u32 mode, u32 value) {
    const unsigned i = SW_TRY(aarch32_reg_index(r, mode));
    x[i] = value;
    return {};
}

Retired retire_instruction(u64 elr, u64 spsr, bool il) {
    const u64 step = il ? 4 : 2;
    if ((spsr & kM4) == 0) return {elr + step, spsr};
    const u64 high = spsr & ~u64{0xffffffff};
    const u32 low = advance_it_state(static_cast<u32>(spsr));
    return {(elr + step) & 0xffffffffu, high | low};
}

} // namespace setwise::arm32
