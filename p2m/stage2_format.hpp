// VMSAv8-64 stage-2 descriptors, 4 KiB granule, 48-bit output (DDI 0487
// D8.3, "Translation table descriptor formats"; memory attributes D8.5,
// "Stage 2 memory type and Cacheability attributes when FEAT_S2FWB is
// disabled"):
//
//   63  59 58 57 56 55 54 53 52 51 48 47            12 11 10 9  8 7   6 5     2 1 0
//   |  0  |TR| 0| type|XN| 0| 0|  0  | output address |0 |AF| SH | S2AP | MemAttr|T|V|
//
// V=1,T=1 at levels 0-2 is a table (next-level address in [47:12]; the
// hierarchical attribute bits [63:59] are RES0 at stage 2); at level 3 a
// page. V=1,T=0 at levels 1-2 is a block. Leaves:
//
//   MemAttr[5:2]  with HCR_EL2.FWB == 0: [3:2] outer, [1:0] inner for Normal
//                 (0b11 write-back), or [3:2] = 0b00 for Device:
//                 0b1111 Normal inner/outer write-back, 0b0001 Device-nGnRE.
//                 Combined with the guest's stage-1 type, the more
//                 restrictive wins, so Device here cannot be undone by it.
//   S2AP[7:6]     [6] read, [7] write: 0b11 RW, 0b01 RO, 0b10 WO.
//   SH[9:8]       0b11 inner shareable for Normal; ignored for Device
//                 (always Outer Shareable), written 0.
//   AF[10]        set: setwise takes no access-flag faults (no FEAT_HAFDBS).
//   XN[54]        XN[1]: no execution at EL1 or EL0. XN[0] (bit 53) means
//                 something only with FEAT_XNX and stays 0.
//
// Software bits [58:55]: reserved for software in a block or page, IGNORED
// in a table descriptor, and every bit but V is IGNORED in an invalid
// descriptor (D8.3), so the hardware never reads them:
//
//   type[56:55]   in a leaf, the mapping's type (MappingType): 0b01 RAM,
//                 0b10 device. In a table, 0b10 when some leaf below it is
//                 a device (set as device leaves are mapped, never cleared:
//                 conservative), else 0b00.
//   TR[58]        "mapped, tracked": set only with V clear (access tracking,
//                 below).
//
// Access tracking (the set/way issue; the walk and the proofs are in
// p2m/p2m.hpp). An entry is in one of three states:
//
//                map                   hide: V=0, TR=1, the rest kept
//   unmapped  --------->   valid   ------------------------------>  tracked
//   (all 0)   <---------   (V=1)   <------------------------------  (V=0, TR=1)
//      ^        unmap                 reveal: V=1, TR=0                 |
//      |                                                                |
//      +------------------------------- unmap --------------------------+
//
//   hide    track_all (a domain's build is complete); a flush unit or a
//           flush close (p2m/p2m.hpp); resolve_fault, on the children of a
//           tracked table it is about to reveal
//   reveal  resolve_fault, on the path to the faulting IPA
//
// A tracked entry still maps what it mapped: a tracked table still points
// at its table, whose entries keep their own states; a tracked leaf keeps
// its output address and attributes. The hardware sees a translation fault
// (V=0) and caches nothing for it (DDI 0487 D8.13, "Translation Lookaside
// Buffers (TLBs)": only valid translations are held); software (lookup,
// map, unmap, the flush walk) sees it as mapped. Only RAM is ever hidden: a
// device leaf, and a table marked as holding one, stay valid. TR is never
// set together with V.
//
// Nothing outside this file knows these bit positions.
#pragma once

#include "setwise/bits.hpp"
#include "setwise/types.hpp"

namespace setwise::p2m {

// What a guest-physical range is backed by.
enum class MappingType : u8 {
    ram,    // host RAM given to the guest: Normal write-back
    device, // a host device passed through: Device-nGnRE, never executable
};

struct Stage2Attr {
    MappingType type = MappingType::ram;
    bool readable = true;
    bool writable = true;
    bool executable = true;
    constexpr bool operator==(const Stage2Attr&) const = default;
};

struct Stage2Format {
    using Input = Ipa;
    using Attr = Stage2Attr;

    // The default geometry: setwise's 40-bit guest IPA starts at level 1
    // with two concatenated root tables. P2m always passes the geometry
    // VTCR_EL2 was computed with (p2m/vtcr.hpp).
    static constexpr unsigned kStartLevel = 1;
    static constexpr unsigned kInputBits = 40;

    using valid = Bit1<0>;
    using table_or_page = Bit1<1>;
    using mem_attr = Field<5, 2>;
    using s2ap = Field<7, 6>;
    using sh = Field<9, 8>;
    using af = Bit1<10>;
    using oa = Field<47, 12>;
    using xn = Bit1<54>; // XN[1]
    using sw_type = Field<56, 55>;
    using tracked = Bit1<58>;

    static constexpr u64 kMemAttrNormalWb = 0b1111;
    static constexpr u64 kMemAttrDeviceNgnre = 0b0001;
    static constexpr u64 kShInner = 0b11;
    static constexpr u64 kS2apRead = 0b01;
    static constexpr u64 kS2apWrite = 0b10;
    static constexpr u64 kSwRam = 0b0001;
    static constexpr u64 kSwDevice = 0b0010;

    static constexpr bool block_allowed(unsigned level) { return level == 1 || level == 2; }
    static constexpr bool is_valid(u64 d) { return valid::get(d) != 0; }
    static constexpr bool is_table(u64 d, unsigned level) { return level < 3 && table_or_page::get(d) != 0; }
    static constexpr u64 invalid() { return 0; }
    static constexpr u64 make_table(Pa pa) { return oa::set(valid::set(table_or_page::set(0, 1), 1), pa.raw() >> 12); }
    static constexpr u64 make_leaf(Pa pa, unsigned level, Attr attr) {
        const bool ram = attr.type == MappingType::ram;
        u64 d = valid::set(0, 1);
        d = table_or_page::set(d, level == 3 ? 1 : 0);
        d = oa::set(d, pa.raw() >> 12);
        d = mem_attr::set(d, ram ? kMemAttrNormalWb : kMemAttrDeviceNgnre);
        d = s2ap::set(d, (attr.readable ? kS2apRead : 0) | (attr.writable ? kS2apWrite : 0));
        d = sh::set(d, ram ? kShInner : 0);
        d = af::set(d, 1);
        // Instruction fetch from Device memory may be speculative: never
        // allow it (DDI 0487 B2.7.2).
        d = xn::set(d, attr.executable && ram ? 0 : 1);
        d = sw_type::set(d, ram ? kSwRam : kSwDevice);
        return d;
    }
    static constexpr Pa output_address(u64 d) { return Pa(oa::get(d) << 12); }
    static constexpr Attr leaf_attr(u64 d) {
        const u64 ap = s2ap::get(d);
        return Attr{sw_type::get(d) == kSwDevice ? MappingType::device : MappingType::ram, (ap & kS2apRead) != 0,
                    (ap & kS2apWrite) != 0, xn::get(d) == 0};
    }

    // Hiding (mm::HidingFormat): the "tracked" state above.
    static constexpr bool is_hidden(u64 d) { return valid::get(d) == 0 && tracked::get(d) != 0; }
    static constexpr u64 hide(u64 d) { return tracked::set(valid::set(d, 0), 1); }
    static constexpr u64 reveal(u64 d) { return tracked::set(valid::set(d, 1), 0); }

    // Table summaries (mm::SummarizingFormat): a table above a device leaf
    // says so, so access tracking leaves it valid and looks inside instead.
    static constexpr u64 note_leaf(u64 table, Attr leaf) {
        return leaf.type == MappingType::device ? sw_type::set(table, kSwDevice) : table;
    }
    // For a table descriptor (valid or tracked): some leaf below is a device.
    static constexpr bool holds_device(u64 table) { return sw_type::get(table) == kSwDevice; }
    // For a leaf descriptor (valid or tracked): guest RAM.
    static constexpr bool is_ram(u64 leaf) { return sw_type::get(leaf) == kSwRam; }
};

} // namespace setwise::p2m
