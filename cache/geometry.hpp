// Cache geometry as the CPU describes it (CLIDR_EL1, CCSIDR_EL1; DDI 0487
// D7.2). A guest's clean-all loop walks every set and way of every data or
// unified level below the Level of Coherence: that count is what set/way
// emulation with `sw-geometry=native` traps, and what `minimal` (set/way
// issue) cuts to one per level.
#pragma once

#include "arch/arm64/registers.hpp"

namespace setwise::cache {

enum class CacheType : u8 { none = 0, instruction = 1, data = 2, separate = 3, unified = 4 };

struct CacheLevel {
    unsigned level = 0; // 1..7
    CacheType type = CacheType::none;
    u32 line_bytes = 0; // of the data or unified cache
    u32 sets = 0;
    u32 ways = 0;
    constexpr u64 size_bytes() const { return u64{line_bytes} * sets * ways; }
};

struct Geometry {
    CacheLevel levels[7]{};
    unsigned count = 0; // levels with a cache, from level 1 with no gap
    unsigned loc = 0;   // Level of Coherence

    // Set/way operations in one clean of all data/unified levels below LoC.
    u64 set_way_ops_clean_all() const;
};

const char* cache_type_name(CacheType t);

// ccsidr_of(level) returns the CCSIDR_EL1 of the data or unified cache at
// that level (through CSSELR_EL1 on the target, a table in tests).
template <typename F>
Geometry decode_geometry(arm64::ClidrEl1 clidr, F&& ccsidr_of) {
    Geometry g;
    g.loc = static_cast<unsigned>(clidr.get<arm64::ClidrEl1::loc>());
    for (unsigned level = 1; level <= 7; ++level) {
        const unsigned ctype = clidr.ctype(level);
        if (ctype == 0 || ctype > 4) break;
        CacheLevel& l = g.levels[g.count++];
        l.level = level;
        l.type = static_cast<CacheType>(ctype);
        if (l.type != CacheType::instruction) {
            const arm64::CcsidrEl1 c = ccsidr_of(level);
            l.line_bytes = u32{16} << c.get<arm64::CcsidrEl1::line_size>();
            l.ways = static_cast<u32>(c.get<arm64::CcsidrEl1::associativity>()) + 1;
            l.sets = static_cast<u32>(c.get<arm64::CcsidrEl1::num_sets>()) + 1;
        }
    }
    return g;
}

} // namespace setwise::cache
