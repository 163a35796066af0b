// The template part of cache/setway.hpp.
#pragma once

#include "arch/cpu.hpp"
#include "mm/hyp_map.hpp"

namespace setwise::cache {

namespace detail {
inline void clean_invalidate(Pa pa, u64 size) { arch::dcache_clean_invalidate(mm::va_of(pa), size); }
} // namespace detail

template <typename Between>
BatchResult run_batch(p2m::P2m& p2m, IpaRange ram, const FlushConfig& config, Between&& between_chunks) {
    BatchResult r;
    const u64 budget = config.chunk_bytes == 0 ? ~u64{0} : config.chunk_bytes;
    const u64 start = arch::counter();
    if (config.tracking && !config.armed) (void)p2m.track_all(); // hide first, then clean everything below
    if (config.tracking && config.armed) {
        p2m::P2m::FlushCursor cursor{};
        while (!cursor.done) {
            const u64 t0 = arch::counter();
            const p2m::P2m::FlushStep step = p2m.flush_step(cursor, budget, &detail::clean_invalidate);
            const u64 dt = arch::counter() - t0;
            r.bytes_cleaned += step.bytes_cleaned;
            r.leaves_cleaned += step.leaves_cleaned;
            r.subtrees_skipped += step.subtrees_skipped;
            ++r.chunks;
            if (dt > r.longest_chunk_ticks) r.longest_chunk_ticks = dt;
            if (!cursor.done) between_chunks();
        }
    } else {
        // Every leaf of guest RAM, in chunks of at most `budget` bytes: a
        // leaf larger than what is left of the budget (a 2 MiB block
        // against 256 KiB) is cleaned in pieces, one chunk after another.
        // Nothing is hidden here, so a piece left for the next chunk is
        // simply cleaned then.
        Ipa ipa = ram.base;
        while (ipa < ram.end()) {
            const u64 t0 = arch::counter();
            u64 chunk = 0;
            while (ipa < ram.end() && chunk < budget) {
                const Result<p2m::Translation> t = p2m.translate(ipa);
                const bool ram_leaf = t.ok() && t.value().type == p2m::MappingType::ram;
                if (!ram_leaf) {
                    // A hole, or a device passed through: nothing of the
                    // guest's memory to clean (DC CIVAC on device memory
                    // is not what a set/way flush means).
                    ipa += kPageSize;
                    continue;
                }
                const u64 leaf = u64{1} << (12 + 9 * (3 - t.value().level));
                const u64 in_leaf = leaf - (ipa.raw() & (leaf - 1));
                const u64 remaining = ram.end() - ipa;
                u64 n = in_leaf < remaining ? in_leaf : remaining;
                if (n > budget - chunk) n = budget - chunk;
                detail::clean_invalidate(t.value().pa, n);
                r.bytes_cleaned += n;
                // A leaf counts once, with the piece that finishes it.
                if (n == in_leaf || n == remaining) ++r.leaves_cleaned;
                chunk += n;
                ipa += n;
            }
            const u64 dt = arch::counter() - t0;
            ++r.chunks;
            if (dt > r.longest_chunk_ticks) r.longest_chunk_ticks = dt;
            if (ipa < ram.end()) between_chunks();
        }
    }
    arch::icache_invalidate_all();
    r.pages_cleaned = r.bytes_cleaned / kPageSize;
    r.ticks = arch::counter() - start;
    return r;
}

} // namespace setwise::cache
