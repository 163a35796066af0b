// VMSAv8-64 stage-1 descriptors for the EL2 translation regime (E2H == 0),
// 4 KiB granule, 48-bit input (DDI 0487 D8.3, "Translation table descriptor
// formats"):
//
//   63  54 53  48 47            12 11 10 9 8 7 6 5 4  2 1 0
//   | XN |  0   |  output address | nG|AF|SH |AP |NS|Attr|T|V|
//
// V=1,T=1 at levels 0-2 is a table; at level 3 a page. V=1,T=0 at levels 1-2
// is a block. AttrIndx selects a MAIR_EL2 field (the indices below).
#pragma once

#include "arch/arm64/registers.hpp"

namespace setwise::arm64 {

enum class MemType : u8 { normal, device };

struct Stage1Attr {
    MemType type = MemType::normal;
    bool writable = true;
    bool executable = false;
    constexpr bool operator==(const Stage1Attr&) const = default;
};

// MAIR_EL2 indices setwise programs (see mair_el2() below).
inline constexpr unsigned kMairNormal = 0;
inline constexpr unsigned kMairDevice = 1;    // Device-nGnRE
inline constexpr unsigned kMairDeviceStrict = 2; // Device-nGnRnE
inline constexpr unsigned kMairNormalNc = 3;

constexpr MairEl2 mair_el2() {
    return MairEl2{}
        .with_attr(kMairNormal, MairEl2::kNormalWriteBack)
        .with_attr(kMairDevice, MairEl2::kDeviceNgnre)
        .with_attr(kMairDeviceStrict, MairEl2::kDeviceNgnrne)
        .with_attr(kMairNormalNc, MairEl2::kNormalNonCacheable);
}

struct Stage1El2Format {
    using Input = Va;
    using Attr = Stage1Attr;

    static constexpr unsigned kStartLevel = 0;
    static constexpr unsigned kInputBits = 48; // TCR_EL2.T0SZ = 16

    using valid = Bit1<0>;
    using table_or_page = Bit1<1>;
    using attr_indx = Field<4, 2>;
    using ap = Field<7, 6>;  // AP[2:1]; 0b00 RW, 0b10 RO at EL2
    using sh = Field<9, 8>;  // 3 = inner shareable
    using af = Bit1<10>;
    using oa = Field<47, 12>;
    using xn = Bit1<54>;

    static constexpr bool block_allowed(unsigned level) { return level == 1 || level == 2; }
    static constexpr bool is_valid(u64 d) { return valid::get(d) != 0; }
    static constexpr bool is_table(u64 d, unsigned level) { return level < 3 && table_or_page::get(d) != 0; }
    static constexpr u64 invalid() { return 0; }
    static constexpr u64 make_table(Pa pa) { return oa::set(valid::set(table_or_page::set(0, 1), 1), pa.raw() >> 12); }
    static constexpr u64 make_leaf(Pa pa, unsigned level, Attr attr) {
        u64 d = valid::set(0, 1);
        d = table_or_page::set(d, level == 3 ? 1 : 0);
        d = oa::set(d, pa.raw() >> 12);
        d = af::set(d, 1); // no access-flag faults at EL2
        d = attr_indx::set(d, attr.type == MemType::normal ? kMairNormal : kMairDevice);
        d = sh::set(d, attr.type == MemType::normal ? 3 : 0);
        d = ap::set(d, attr.writable ? 0 : 2);
        d = xn::set(d, attr.executable && attr.type == MemType::normal ? 0 : 1);
        return d;
    }
    static constexpr Pa output_address(u64 d) { return Pa(oa::get(d) << 12); }
    static constexpr Attr leaf_attr(u64 d) {
        return Attr{attr_indx::get(d) == kMairNormal ? MemType::normal : MemType::device, ap::get(d) == 0,
                    xn::get(d) == 0};
    }
};

// TCR_EL2 for the table above: 48-bit VA, 4 KiB granule, walks inner/outer
// write-back cacheable and inner shareable, PS from the CPU's PARange.
constexpr TcrEl2 tcr_el2(u64 parange) {
    return TcrEl2(TcrEl2::kRes1)
        .with<TcrEl2::t0sz>(64 - Stage1El2Format::kInputBits)
        .with<TcrEl2::irgn0>(1)
        .with<TcrEl2::orgn0>(1)
        .with<TcrEl2::sh0>(3)
        .with<TcrEl2::tg0>(0)
        .with<TcrEl2::ps>(parange > 5 ? 5 : parange); // 52-bit output needs FEAT_LPA descriptors
}

} // namespace setwise::arm64
