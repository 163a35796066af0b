#include "mm/frame_allocator.hpp"

#include <bit>
#include <new>

namespace setwise::mm {

namespace {

constexpr u64 kBitsPerWord = 64;
constexpr u64 kAllOnes = ~u64{0};
// Object and bitmaps share one run; bitmaps start on a cache line.
constexpr u64 kMetadataAlign = 64;
// The highest physical address any ARMv8 CPU can have (FEAT_LPA, 52 bits).
// RAM beyond it is malformed input; below it, frame arithmetic cannot wrap.
constexpr u64 kMaxPa = (u64{1} << 52) - 1;

// Frames [first, end).
struct FrameSpan {
    u64 first = 0;
    u64 end = 0;
};

constexpr bool is_power_of_two(u64 v) { return v != 0 && (v & (v - 1)) == 0; }

constexpr u64 words_for(u64 frames) { return (frames + kBitsPerWord - 1) / kBitsPerWord; }

constexpr Pa pa_of(u64 frame) { return Pa(frame << kPageShift); }

constexpr PaRange range_of(FrameSpan s) { return {pa_of(s.first), (s.end - s.first) << kPageShift}; }

// Every frame that holds a byte of `r`. Saturates instead of wrapping, so a
// nonsensical range reaching the top of the address space still excludes
// everything it names. Precondition: !r.empty().
constexpr FrameSpan outward(PaRange r) {
    u64 base = r.base.raw();
    u64 last = r.size - 1 > kAllOnes - base ? kAllOnes : base + (r.size - 1);
    return {base >> kPageShift, (last >> kPageShift) + 1};
}

// Insertion sort by first frame: at most 64 entries, and no <algorithm>
// in a freestanding build.
void sort_by_first(FrameSpan* s, usize n) {
    for (usize i = 1; i < n; ++i) {
        FrameSpan v = s[i];
        usize j = i;
        for (; j > 0 && s[j - 1].first > v.first; --j) s[j] = s[j - 1];
        s[j] = v;
    }
}

// Precondition: sorted by first. Merges overlapping and touching spans in
// place; returns the new count.
usize merge_sorted(FrameSpan* s, usize n) {
    if (n == 0) return 0;
    usize out = 0;
    for (usize i = 1; i < n; ++i) {
        if (s[i].first <= s[out].end) {
            if (s[i].end > s[out].end) s[out].end = s[i].end;
        } else {
            s[++out] = s[i];
        }
    }
    return out + 1;
}

// The first `bits` bits from bit `lo` of a word.
constexpr u64 mask_of(u64 lo, u64 bits) {
    return (bits == kBitsPerWord ? kAllOnes : (u64{1} << bits) - 1) << lo;
}

} // namespace

PhysToVirt PhysToVirt::identity() {
    return PhysToVirt(
        [](const void*, Pa pa, u64) -> void* { return reinterpret_cast<void*>(static_cast<std::uintptr_t>(pa.raw())); },
        nullptr);
}

Result<FrameAllocator*> FrameAllocator::create(std::span<const PaRange> ram, std::span<const PaRange> excluded,
                                               PhysToVirt phys_to_virt) {
    if (ram.size() > kMaxRamRanges || excluded.size() > kMaxExcludedRanges) return Status::unsupported;

    // RAM, trimmed inwards to whole frames, sorted, touching ranges merged.
    FrameSpan zones[kMaxRamRanges];
    usize zone_count = 0;
    for (const PaRange& r : ram) {
        if (r.empty()) continue;
        u64 base = r.base.raw();
        if (base > kMaxPa || r.size - 1 > kMaxPa - base) return Status::invalid_argument;
        u64 last = base + (r.size - 1);
        u64 first = (base >> kPageShift) + (is_aligned(base, kPageSize) ? 0 : 1);
        u64 end = (last >> kPageShift) + ((last & (kPageSize - 1)) == kPageSize - 1 ? 1 : 0);
        if (first >= end) continue;
        zones[zone_count++] = {first, end};
    }
    sort_by_first(zones, zone_count);
    for (usize i = 1; i < zone_count; ++i) {
        if (zones[i].first < zones[i - 1].end) return Status::invalid_argument;
    }
    zone_count = merge_sorted(zones, zone_count);
    if (zone_count == 0) return Status::invalid_argument;

    // Exclusions, rounded outwards, merged, then clipped to RAM.
    FrameSpan merged[kMaxExcludedRanges];
    usize merged_count = 0;
    for (const PaRange& r : excluded) {
        if (!r.empty()) merged[merged_count++] = outward(r);
    }
    sort_by_first(merged, merged_count);
    merged_count = merge_sorted(merged, merged_count);

    FrameSpan reserved[kMaxReserved];
    usize reserved_count = 0;
    for (usize z = 0, e = 0; z < zone_count && e < merged_count;) {
        u64 first = zones[z].first > merged[e].first ? zones[z].first : merged[e].first;
        u64 end = zones[z].end < merged[e].end ? zones[z].end : merged[e].end;
        if (first < end) reserved[reserved_count++] = {first, end};
        if (zones[z].end < merged[e].end) {
            ++z;
        } else {
            ++e;
        }
    }

    // Metadata: the object, then one bitmap per zone.
    u64 object_bytes = align_up(sizeof(FrameAllocator), kMetadataAlign);
    u64 metadata_bytes = object_bytes;
    for (usize z = 0; z < zone_count; ++z) metadata_bytes += words_for(zones[z].end - zones[z].first) * sizeof(u64);
    u64 metadata_frames = align_up(metadata_bytes, kPageSize) >> kPageShift;

    // Highest free gap that holds it, searched downwards from the top of RAM:
    // low RAM is where loaders put images and modules, and taking the top of
    // one gap breaks at most one 2 MiB block.
    FrameSpan meta{};
    for (usize z = zone_count; z-- > 0 && meta.end == 0;) {
        u64 gap_end = zones[z].end;
        bool fits = false;
        for (usize i = reserved_count; i-- > 0;) {
            if (reserved[i].first < zones[z].first || reserved[i].first >= zones[z].end) continue;
            if (gap_end - reserved[i].end >= metadata_frames) {
                fits = true;
                break;
            }
            gap_end = reserved[i].first;
        }
        if (fits || gap_end - zones[z].first >= metadata_frames) meta = {gap_end - metadata_frames, gap_end};
    }
    if (meta.end == 0) return Status::no_memory;

    void* where = phys_to_virt(pa_of(meta.first), metadata_frames << kPageShift);
    if (where == nullptr || !is_aligned(reinterpret_cast<std::uintptr_t>(where), kMetadataAlign)) {
        return Status::invalid_argument;
    }
    auto* fa = new (where) FrameAllocator();
    u8* cursor = static_cast<u8*>(where) + object_bytes;

    // Reserved pieces with the metadata run inserted in order, merged where it touches.
    usize at = 0;
    while (at < reserved_count && reserved[at].first < meta.first) ++at;
    for (usize i = reserved_count; i > at; --i) reserved[i] = reserved[i - 1];
    reserved[at] = meta;
    reserved_count = merge_sorted(reserved, reserved_count + 1);

    fa->zone_count_ = zone_count;
    for (usize z = 0; z < zone_count; ++z) {
        Zone& zone = fa->zones_[z];
        zone.first = zones[z].first;
        zone.frames = zones[z].end - zones[z].first;
        zone.bits = reinterpret_cast<u64*>(cursor);
        u64 words = words_for(zone.frames);
        cursor += words * sizeof(u64);
        for (u64 w = 0; w < words; ++w) zone.bits[w] = kAllOnes;
        u64 tail = zone.frames % kBitsPerWord;
        if (tail != 0) zone.bits[words - 1] = mask_of(0, tail);
        zone.free = zone.frames;
        fa->ram_[z] = range_of(zones[z]);
    }
    usize z = 0;
    for (usize i = 0; i < reserved_count; ++i) {
        while (zones[z].end <= reserved[i].first) ++z;
        Zone& zone = fa->zones_[z];
        u64 frames = reserved[i].end - reserved[i].first;
        set_free(zone, reserved[i].first - zone.first, frames, false);
        zone.free -= frames;
        fa->reserved_[i] = range_of(reserved[i]);
    }
    fa->reserved_count_ = reserved_count;
    fa->metadata_ = range_of(meta);
    for (usize i = 0; i < zone_count; ++i) fa->total_frames_ += fa->zones_[i].free;
    fa->free_frames_ = fa->total_frames_;
    fa->tighten_hint();
    return fa;
}

u64 FrameAllocator::next_free(const Zone& z, u64 from) {
    if (from >= z.frames) return kNone;
    u64 words = words_for(z.frames);
    u64 w = from / kBitsPerWord;
    u64 x = z.bits[w] & (kAllOnes << (from % kBitsPerWord));
    while (x == 0) {
        if (++w == words) return kNone;
        x = z.bits[w];
    }
    return w * kBitsPerWord + static_cast<u64>(std::countr_zero(x));
}

u64 FrameAllocator::next_used(const Zone& z, u64 from, u64 limit) {
    if (from >= limit) return kNone;
    u64 w = from / kBitsPerWord;
    u64 x = ~z.bits[w] & (kAllOnes << (from % kBitsPerWord));
    while (x == 0) {
        if (++w * kBitsPerWord >= limit) return kNone;
        x = ~z.bits[w];
    }
    u64 i = w * kBitsPerWord + static_cast<u64>(std::countr_zero(x));
    return i < limit ? i : kNone;
}

// Lowest index >= from starting `frames` free frames with (first + index) a
// multiple of `align`. Each round moves past one allocated frame, so the
// whole search reads each bitmap word a bounded number of times.
u64 FrameAllocator::find_run(const Zone& z, u64 from, u64 frames, u64 align) {
    for (u64 pos = from;;) {
        u64 f = next_free(z, pos);
        if (f == kNone) return kNone;
        u64 candidate = align_up(z.first + f, align) - z.first;
        if (candidate >= z.frames || z.frames - candidate < frames) return kNone;
        u64 used = next_used(z, candidate, candidate + frames);
        if (used == kNone) return candidate;
        pos = used + 1;
    }
}

void FrameAllocator::set_free(Zone& z, u64 index, u64 frames, bool free) {
    for (u64 i = index, end = index + frames; i < end;) {
        u64 bit = i % kBitsPerWord;
        u64 count = kBitsPerWord - bit < end - i ? kBitsPerWord - bit : end - i;
        u64 mask = mask_of(bit, count);
        u64& word = z.bits[i / kBitsPerWord];
        word = free ? word | mask : word & ~mask;
        i += count;
    }
}

bool FrameAllocator::touches_reserved(u64 first, u64 frames) const {
    Pa lo = pa_of(first);
    Pa hi = pa_of(first + frames);
    // First piece ending above `lo`; pieces are sorted and disjoint.
    usize l = 0, h = reserved_count_;
    while (l < h) {
        usize mid = l + (h - l) / 2;
        if (reserved_[mid].end() <= lo) {
            l = mid + 1;
        } else {
            h = mid;
        }
    }
    return l < reserved_count_ && reserved_[l].base < hi;
}

void FrameAllocator::tighten_hint() {
    while (hint_.zone < zone_count_) {
        const Zone& z = zones_[hint_.zone];
        u64 f = z.free == 0 ? kNone : next_free(z, hint_.index);
        if (f != kNone) {
            hint_.index = f;
            return;
        }
        ++hint_.zone;
        hint_.index = 0;
    }
}

Result<Pa> FrameAllocator::allocate(u64 frames, u64 align_frames) {
    if (frames == 0 || !is_power_of_two(align_frames)) return Status::invalid_argument;
    auto guard = lock_.lock();
    if (frames > free_frames_) return Status::no_memory;
    for (usize zi = hint_.zone; zi < zone_count_; ++zi) {
        Zone& z = zones_[zi];
        if (z.free < frames) continue;
        u64 index = find_run(z, zi == hint_.zone ? hint_.index : 0, frames, align_frames);
        if (index == kNone) continue;
        set_free(z, index, frames, false);
        z.free -= frames;
        free_frames_ -= frames;
        tighten_hint();
        return pa_of(z.first + index);
    }
    return Status::no_memory;
}

Result<void> FrameAllocator::free(Pa pa, u64 frames) {
    if (frames == 0 || !pa.is_aligned(kPageSize)) return Status::invalid_argument;
    u64 first = pa.raw() >> kPageShift;
    auto guard = lock_.lock();
    usize zi = 0;
    while (zi < zone_count_ && zones_[zi].first + zones_[zi].frames <= first) ++zi;
    if (zi == zone_count_) return Status::out_of_range;
    Zone& z = zones_[zi];
    if (first < z.first || frames > z.frames - (first - z.first)) return Status::out_of_range;
    if (touches_reserved(first, frames)) return Status::out_of_range;
    u64 index = first - z.first;
    if (next_free(z, index) < index + frames) return Status::not_found;
    set_free(z, index, frames, true);
    z.free += frames;
    free_frames_ += frames;
    if (zi < hint_.zone || (zi == hint_.zone && index < hint_.index)) hint_ = {zi, index};
    return {};
}

u64 FrameAllocator::free_frames() const {
    auto guard = lock_.lock();
    return free_frames_;
}

u64 FrameAllocator::largest_free_run(u64 align_frames) const {
    if (!is_power_of_two(align_frames)) return 0;
    auto guard = lock_.lock();
    u64 best = 0;
    for (usize zi = 0; zi < zone_count_; ++zi) {
        const Zone& z = zones_[zi];
        for (u64 pos = 0;;) {
            u64 f = next_free(z, pos);
            if (f == kNone) break;
            u64 u = next_used(z, f, z.frames);
            u64 end = u == kNone ? z.frames : u;
            u64 start = align_up(z.first + f, align_frames) - z.first;
            if (start < end && end - start > best) best = end - start;
            pos = end;
        }
    }
    return best;
}

Result<PaRange> FrameAllocator::next_free_run(Pa from) const {
    if (from.raw() > kAllOnes - (kPageSize - 1)) return Status::not_found;
    u64 frame = from.align_up(kPageSize).raw() >> kPageShift;
    auto guard = lock_.lock();
    for (usize zi = 0; zi < zone_count_; ++zi) {
        const Zone& z = zones_[zi];
        if (z.first + z.frames <= frame) continue;
        u64 f = next_free(z, frame > z.first ? frame - z.first : 0);
        if (f == kNone) continue;
        u64 u = next_used(z, f, z.frames);
        u64 end = u == kNone ? z.frames : u;
        return range_of({z.first + f, z.first + end});
    }
    return Status::not_found;
}

} // namespace setwise::mm
