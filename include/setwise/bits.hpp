// Register layouts as constexpr value types.
//
// A field is declared `Field<hi, lo>` exactly as DDI 0487 prints it, so a
// layout can be read side by side with the manual and unit-tested on the
// host. Reading or writing the hardware register (mrs/msr) is separate and
// lives in arch/arm64/sysreg.hpp. No C++ bitfields: their layout is the
// compiler's, not the architecture's.
#pragma once

#include "setwise/types.hpp"

namespace setwise {

template <unsigned Hi, unsigned Lo>
struct Field {
    static_assert(Hi >= Lo && Hi < 64, "Field<hi, lo> out of order or beyond bit 63");
    static constexpr unsigned hi = Hi;
    static constexpr unsigned lo = Lo;
    static constexpr unsigned width = Hi - Lo + 1;
    static constexpr u64 max = width == 64 ? ~u64{0} : (u64{1} << width) - 1;
    static constexpr u64 mask = max << Lo;

    static constexpr u64 get(u64 reg) { return (reg >> Lo) & max; }
    static constexpr u64 set(u64 reg, u64 v) { return (reg & ~mask) | ((v & max) << Lo); }
};

template <unsigned Bit>
using Bit1 = Field<Bit, Bit>;

// CRTP base: `HcrEl2{}.with<HcrEl2::tsw>(1).raw()`.
template <typename Derived, typename Storage = u64>
class Register {
public:
    constexpr Register() = default;
    constexpr explicit Register(Storage raw) : raw_(raw) {}

    constexpr Storage raw() const { return raw_; }

    template <typename F>
    constexpr u64 get() const {
        return F::get(raw_);
    }
    template <typename F>
    constexpr bool test() const {
        return F::get(raw_) != 0;
    }
    template <typename F>
    constexpr Derived with(u64 v) const {
        static_assert(F::hi < sizeof(Storage) * 8, "field beyond register width");
        return Derived(static_cast<Storage>(F::set(raw_, v)));
    }
    constexpr bool operator==(const Register&) const = default;

private:
    Storage raw_ = 0;
};

} // namespace setwise
