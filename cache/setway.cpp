#include "cache/setway.hpp"

#include "arch/cpu.hpp"

namespace setwise::cache {

namespace {
void store_max(std::atomic<u64>& a, u64 v) {
    u64 cur = a.load(std::memory_order_relaxed);
    while (v > cur && !a.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {}
}
} // namespace

u64 ticks_to_us(u64 ticks) {
    const u64 hz = arch::counter_frequency();
    return hz == 0 ? 0 : ticks * 1'000'000 / hz;
}

const char* setway_kind_name(SetWayKind k) {
    switch (k) {
    case SetWayKind::invalidate: return "DC ISW";
    case SetWayKind::clean: return "DC CSW";
    case SetWayKind::clean_invalidate: return "DC CISW";
    }
    return "?";
}

void Figures::count_trap(SetWayKind k) {
    switch (k) {
    case SetWayKind::invalidate: traps_isw.fetch_add(1, std::memory_order_relaxed); break;
    case SetWayKind::clean: traps_csw.fetch_add(1, std::memory_order_relaxed); break;
    case SetWayKind::clean_invalidate: traps_cisw.fetch_add(1, std::memory_order_relaxed); break;
    }
}

void Figures::add_batch(const BatchResult& r) {
    batches.fetch_add(1, std::memory_order_relaxed);
    pages_cleaned.fetch_add(r.pages_cleaned, std::memory_order_relaxed);
    bytes_cleaned.fetch_add(r.bytes_cleaned, std::memory_order_relaxed);
    subtrees_skipped.fetch_add(r.subtrees_skipped, std::memory_order_relaxed);
    chunks.fetch_add(r.chunks, std::memory_order_relaxed);
    batch_ticks_total.fetch_add(r.ticks, std::memory_order_relaxed);
    last_batch_pages.store(r.pages_cleaned, std::memory_order_relaxed);
    store_max(longest_chunk_ticks, r.longest_chunk_ticks);
    store_max(batch_ticks_max, r.ticks);
}

u64 minimal_ccsidr(u64 host_ccsidr) {
    // Keep LineSize (and any bits above NumSets), one way, one set.
    const arm64::CcsidrEl1 host(host_ccsidr);
    return arm64::CcsidrEl1(host_ccsidr)
        .with<arm64::CcsidrEl1::associativity>(0)
        .with<arm64::CcsidrEl1::num_sets>(0)
        .with<arm64::CcsidrEl1::line_size>(host.get<arm64::CcsidrEl1::line_size>())
        .raw();
}

} // namespace setwise::cache
