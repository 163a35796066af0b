#include "cache/geometry.hpp"

namespace setwise::cache {

u64 Geometry::set_way_ops_clean_all() const {
    u64 ops = 0;
    for (unsigned i = 0; i < count; ++i) {
        const CacheLevel& l = levels[i];
        if (l.level > loc) break;
        if (l.type == CacheType::data || l.type == CacheType::separate || l.type == CacheType::unified)
            ops += u64{l.sets} * l.ways;
    }
    return ops;
}

const char* cache_type_name(CacheType t) {
    switch (t) {
    case CacheType::none: return "none";
    case CacheType::instruction: return "I";
    case CacheType::data: return "D";
    case CacheType::separate: return "I+D";
    case CacheType::unified: return "unified";
    }
    return "?";
}

} // namespace setwise::cache
