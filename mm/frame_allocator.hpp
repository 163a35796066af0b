// The physical frame allocator: every 4 KiB frame of host RAM the hypervisor
// hands out (guest RAM, page-table pages, heap pages) comes from here.
//
// Bookkeeping
//   One bitmap per RAM range ("zone"), one bit per frame, 1 = free. 4 GiB of
//   RAM costs 128 KiB. Searches go 64 frames per step and skip words that
//   hold no free frame. The bitmaps and the allocator object itself live in
//   one run of frames carved from the top of free RAM by create(), which then
//   marks that run reserved like any excluded range, so no static buffer has
//   to be sized for the largest machine and the boot code only has to pass
//   what the device tree says.
//
//   +-------------------------- metadata run (whole frames) ---------+
//   | FrameAllocator | zone 0 bitmap | zone 1 bitmap | ... | slack   |
//   +----------------------------------------------------------------+
//
// Policy
//   Exact first fit by address: allocate() returns the lowest run that
//   satisfies the request. A hint records the lowest frame that may be free,
//   so single-frame allocation normally costs one word. First fit keeps
//   single frames (page tables, heap) packed low and leaves high RAM in whole
//   2 MiB-aligned blocks for guests, who map them with stage-2 blocks; an
//   aligned request succeeds whenever a free aligned run exists.
//
// Reserved frames
//   Excluded ranges (image, DTB, modules, reserved-memory, memreserve) are
//   rounded outwards to whole frames, merged and clipped to RAM; with the
//   metadata run they form reserved(). Reserved frames are never free and
//   free() refuses them, so a stray free cannot hand the hypervisor's own
//   image to a guest.
//
// Locking
//   Every public operation except the immutable accessors (ram(),
//   reserved(), metadata()) takes the allocator's SpinLock. It is a leaf
//   lock: nothing else is taken while it is held.
#pragma once

#include <cstdint>
#include <span>

#include "setwise/result.hpp"
#include "setwise/spinlock.hpp"
#include "setwise/types.hpp"

namespace setwise::mm {

// Turns a physical address into a pointer the hypervisor can dereference.
// On the target all RAM is mapped at VA == PA (identity()); host tests map a
// buffer that stands for RAM. A plain function pointer plus context rather
// than a template, so that non-template code (the allocator, the heap) can
// hold one. `bytes` is how much will be accessed from `pa` on; a mapping
// returns nullptr when it cannot provide all of it.
class PhysToVirt {
public:
    using Fn = void* (*)(const void* context, Pa pa, u64 bytes);

    constexpr PhysToVirt(Fn fn, const void* context) : fn_(fn), context_(context) {}

    // VA == PA: the hypervisor's map of RAM on the target.
    static PhysToVirt identity();

    // Adapts any callable `void*(Pa, u64)`. Refers to `f`, which must outlive
    // every copy of the result.
    template <typename F>
    static PhysToVirt of(const F& f) {
        return PhysToVirt(
            [](const void* c, Pa pa, u64 bytes) -> void* { return (*static_cast<const F*>(c))(pa, bytes); },
            &f);
    }

    void* operator()(Pa pa, u64 bytes) const { return fn_(context_, pa, bytes); }

private:
    Fn fn_;
    const void* context_;
};

class FrameAllocator {
public:
    static constexpr usize kMaxRamRanges = 16;
    static constexpr usize kMaxExcludedRanges = 64;
    // Pieces of reserved RAM: clipping a + b disjoint intervals against each
    // other yields at most a + b - 1 pieces, plus the metadata run.
    static constexpr usize kMaxReserved = kMaxExcludedRanges + kMaxRamRanges;

    // Builds the allocator for `ram` minus `excluded`.
    //
    // `ram`: up to kMaxRamRanges ranges in any order; edges not on a frame
    // boundary are trimmed inwards, ranges that touch are merged (a run may
    // then cross the boundary), empty ones ignored. `excluded`: up to
    // kMaxExcludedRanges ranges, rounded outwards to whole frames; they may
    // overlap each other and lie partly or wholly outside RAM.
    //
    // The metadata run takes the top of the highest free gap that holds it.
    // `phys_to_virt` is asked once, for the whole run; the pointer it gives
    // must stay valid for the allocator's life, which is spent inside that
    // run (the returned object is there; nothing destroys it).
    //
    // Fails with invalid_argument (no usable RAM, RAM ranges that overlap or
    // reach beyond the 52-bit physical address space, a metadata pointer the
    // mapping cannot provide or that is not 64-byte aligned), unsupported
    // (too many ranges) or no_memory (no free run holds the metadata).
    static Result<FrameAllocator*> create(std::span<const PaRange> ram, std::span<const PaRange> excluded,
                                          PhysToVirt phys_to_virt);

    FrameAllocator(const FrameAllocator&) = delete;
    FrameAllocator& operator=(const FrameAllocator&) = delete;

    // The lowest run of `frames` free frames whose first frame number is a
    // multiple of `align_frames` (a power of two; 512 gives a 2 MiB block).
    // Runs never cross a hole between RAM ranges. invalid_argument for zero
    // frames or a bad alignment, no_memory when no such run is free.
    Result<Pa> allocate(u64 frames, u64 align_frames = 1);

    // Returns [pa, pa + frames * 4 KiB) to the free pool. Any run of
    // allocated frames may be freed, not only a whole earlier allocation.
    // A failure means the caller has a bug: the allocator refuses the whole
    // request, changes nothing, and says why:
    //   invalid_argument  pa not frame-aligned, or frames == 0
    //   out_of_range      the run is not inside one RAM range, or touches a
    //                     reserved frame (excluded at boot, or the metadata)
    //   not_found         some frame of the run is already free (double free)
    // Callers in paths that cannot fail treat a non-ok result as an internal
    // bug (core panics); the allocator itself never crashes on it.
    Result<void> free(Pa pa, u64 frames);

    u64 free_frames() const;
    // Frames this allocator manages: RAM minus reserved frames. Constant;
    // free_frames() + frames allocated == total_frames().
    u64 total_frames() const { return total_frames_; }

    // Length in frames of the longest free run that starts on a multiple of
    // `align_frames` (a power of two; 0 for an invalid one). Scans every
    // bitmap: for reporting, not for allocation decisions.
    u64 largest_free_run(u64 align_frames = 1) const;

    // The free frames at or after `from` (rounded up to a frame), as one
    // maximal run: iterate the free pool for the boot log with
    //   for (auto r = fa.next_free_run(Pa{0}); r; r = fa.next_free_run(r.value().end()))
    // Each call takes the lock once, so the walk is not a snapshot if other
    // CPUs allocate meanwhile. not_found after the last run.
    Result<PaRange> next_free_run(Pa from) const;

    // Immutable after create(): RAM as managed (trimmed, merged, sorted), the
    // reserved pieces of it (sorted, disjoint, the metadata run included),
    // and the metadata run.
    std::span<const PaRange> ram() const { return {ram_, zone_count_}; }
    std::span<const PaRange> reserved() const { return {reserved_, reserved_count_}; }
    PaRange metadata() const { return metadata_; }

private:
    // One RAM range: frames [first, first + frames), bit i of `bits` for
    // frame first + i. Bits past the end of the last word stay 0 (not free)
    // so word scans never see them.
    struct Zone {
        u64 first = 0;
        u64 frames = 0;
        u64 free = 0;
        u64* bits = nullptr;
    };

    struct Position {
        usize zone = 0;
        u64 index = 0;
    };

    FrameAllocator() = default;

    static constexpr u64 kNone = ~u64{0};
    static u64 next_free(const Zone& z, u64 from);
    static u64 next_used(const Zone& z, u64 from, u64 limit);
    static u64 find_run(const Zone& z, u64 from, u64 frames, u64 align);
    static void set_free(Zone& z, u64 index, u64 frames, bool free);

    // Locks held: lock_.
    bool touches_reserved(u64 first, u64 frames) const;
    void tighten_hint();

    mutable SpinLock lock_;
    Zone zones_[kMaxRamRanges];
    PaRange ram_[kMaxRamRanges];
    usize zone_count_ = 0;
    PaRange reserved_[kMaxReserved];
    usize reserved_count_ = 0;
    PaRange metadata_{};
    u64 total_frames_ = 0;
    u64 free_frames_ = 0;
    // Lowest position that may be free: every frame of an earlier zone, and
    // of hint_.zone below hint_.index, is allocated or reserved.
    Position hint_{};
};

} // namespace setwise::mm
