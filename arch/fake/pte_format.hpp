// Host fake of a translation-table descriptor format, for testing the
// generic walker (mm/page_table.hpp). The encoding is deliberately unlike
// VMSAv8-64, so generic code that hard-codes an ARM bit position (bit 0 as
// valid, bit 1 as table, the output address in place at [47:12], attributes
// in the low bits) produces descriptors this format decodes wrongly, and the
// host tests fail:
//
//   63  62  61  56 55        48 47  40 39                           0
//   | V | T |  0  |    attr    |   0   |  output frame number (OA >> 12) |
//
// V=1,T=1 at levels 0-2 is a table. V=1,T=0 is a leaf: a block at levels 1
// and 2, a page at level 3 (unlike ARM, a page has T clear). Level 0 never
// holds a leaf. An invalid descriptor is 0.
#pragma once

#include "setwise/bits.hpp"
#include "setwise/types.hpp"

namespace setwise::arch::fake {

// What a fake leaf says besides its output address: an opaque byte, stored
// as it is (a test picks values that tell leaves apart).
struct FakeAttr {
    u8 bits = 0;
    constexpr bool operator==(const FakeAttr&) const = default;
};

struct FakePteFormat {
    using Input = Va;
    using Attr = FakeAttr;

    static constexpr unsigned kStartLevel = 0;
    static constexpr unsigned kInputBits = 48;

    using valid = Bit1<63>;
    using table = Bit1<62>;
    using attr = Field<55, 48>;
    using frame = Field<39, 0>; // output address >> 12

    static constexpr bool block_allowed(unsigned level) { return level == 1 || level == 2; }
    static constexpr bool is_valid(u64 d) { return valid::get(d) != 0; }
    static constexpr bool is_table(u64 d, unsigned level) { return level < 3 && table::get(d) != 0; }
    static constexpr u64 invalid() { return 0; }
    static constexpr u64 make_table(Pa pa) { return valid::mask | table::mask | frame::set(0, pa.raw() >> kPageShift); }
    static constexpr u64 make_leaf(Pa pa, unsigned /*level*/, Attr a) {
        return valid::mask | attr::set(0, a.bits) | frame::set(0, pa.raw() >> kPageShift);
    }
    static constexpr Pa output_address(u64 d) { return Pa(frame::get(d) << kPageShift); }
    static constexpr Attr leaf_attr(u64 d) { return Attr{static_cast<u8>(attr::get(d))}; }
};

} // namespace setwise::arch::fake
