// The hypervisor heap: small objects (domains, vCPUs, descriptors) carved
// from pages of a PageRunSource, normally the frame allocator.
//
// Layout
//   Requests up to kMaxSmall bytes (after rounding up to the alignment) go to
//   power-of-two size classes 16 .. 1024. Each class owns one-page slabs
//   that start with their header; objects sit at multiples of their size, so
//   every object is aligned to its class:
//
//   +---------- one 4 KiB slab page (class 64) ----------------------+
//   | Slab header (key, links, pa, in-use bitmap) | obj 0 | obj 1 |...|
//   +----------------------------------------------------------------+
//
//   Larger requests, and any request aligned to more than 1024 bytes, get a
//   run of whole pages from the source; a small record (from the heap's own
//   64-byte class) remembers the run's address and length.
//
// Finding the size on free()
//   A hash table keyed by page address maps the first page of every slab and
//   every large run to its header or record. free() looks the pointer's page
//   up there instead of trusting memory at the pointer, so a pointer that did
//   not come from this heap is recognised without reading anything it points
//   to, and a per-slab bitmap catches a double free exactly. The table starts
//   inline and grows into pages from the source; if growing fails it keeps
//   working with longer chains.
//
// Locking
//   One SpinLock guards the heap. The page source is called with it held, so
//   the lock order is heap, then frame allocator.
//
// A Heap lives as long as the hypervisor: destroying one returns nothing to
// the source.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

#include "mm/frame_allocator.hpp"
#include "setwise/result.hpp"
#include "setwise/spinlock.hpp"
#include "setwise/types.hpp"

namespace setwise::mm {

// Where the heap gets pages: runs of contiguous 4 KiB frames, and the map
// that makes them addressable. phys_to_virt must map a page-aligned Pa to a
// page-aligned pointer (VA == PA on the target); a page it cannot map is
// given back and the allocation fails.
struct PageRunSource {
    using AllocateFn = Result<Pa> (*)(void* context, u64 pages);
    using FreeFn = Result<void> (*)(void* context, Pa pa, u64 pages);

    AllocateFn allocate;
    FreeFn free;
    void* context;
    PhysToVirt phys_to_virt;

    // Pages from `frames`; `frames` must outlive the heap.
    static PageRunSource from(FrameAllocator& frames, PhysToVirt phys_to_virt);
};

class Heap {
public:
    static constexpr usize kMinSize = 16;
    static constexpr usize kMaxSmall = 1024;
    static constexpr usize kClassCount = 7; // 16, 32, ..., 1024
    static constexpr usize kMaxAlign = kPageSize;
    static constexpr usize kDefaultAlign = alignof(std::max_align_t);

    struct Stats {
        u64 bytes_in_use = 0;       // live allocations, rounded up to their class or to whole pages
        u64 live_allocations = 0;
        u64 pages_held = 0;         // taken from the source and not given back, the sum of:
        u64 slab_pages = 0;         //   slabs, including cached empty ones
        u64 large_pages = 0;        //   runs serving large requests
        u64 table_pages = 0;        //   the page-lookup hash table
        u64 failed_allocations = 0; // allocate() returned nullptr
        u64 bad_frees = 0;          // free() refused a pointer (double free, foreign pointer)
        u64 source_errors = 0;      // the source refused pages given back: a bug outside the heap
    };

    explicit Heap(PageRunSource source);
    Heap(const Heap&) = delete;
    Heap& operator=(const Heap&) = delete;

    // `size` bytes aligned to `align` (a power of two up to kMaxAlign), or
    // nullptr when the source is exhausted or the request is invalid
    // (size 0, bad alignment). Memory is not cleared.
    void* allocate(usize size, usize align = kDefaultAlign);

    // Gives `p` back; nullptr is ignored. A pointer that is not a live
    // allocation of this heap is refused without touching heap state, counted
    // in Stats::bad_frees, and otherwise ignored. free_checked() says why:
    //   not_found         a small block that is already free (double free)
    //   invalid_argument  not the start of a live allocation of this heap: a
    //                     foreign or interior pointer, or a large block
    //                     already freed
    void free(void* p);
    Result<void> free_checked(void* p);

    // Gives every cached empty slab back to the source (each class keeps one
    // to avoid handing a page back and forth).
    void trim();

    Stats stats() const;

    // Typed helpers: construct in place / destroy and free. make() returns
    // nullptr when allocation fails (construction itself cannot fail: no
    // exceptions).
    template <typename T, typename... A>
    T* make(A&&... args) {
        static_assert(alignof(T) <= kMaxAlign, "over-aligned type");
        void* p = allocate(sizeof(T), alignof(T));
        return p == nullptr ? nullptr : new (p) T(static_cast<A&&>(args)...);
    }

    template <typename T>
    void destroy(T* p) {
        if (p == nullptr) return;
        p->~T();
        free(p);
    }

private:
    struct PageNode;
    struct Slab;
    struct Large;

    static constexpr usize kInlineBuckets = 64;
    // Slab pools: one per size class, and one for the heap's own records of
    // large runs, kept apart so that no user pointer can free a record.
    static constexpr usize kRecordPool = kClassCount;
    static constexpr usize kPoolCount = kClassCount + 1;

    // Locks held: lock_ for all of these.
    void* allocate_small(usize pool);
    void* allocate_large(u64 pages);
    Slab* new_slab(usize pool);
    void release_slab(Slab* s);
    Result<void> free_small(Slab* s, std::uintptr_t p);
    void give_back(Pa pa, u64 pages);
    void push_partial(Slab* s, bool at_tail);
    void unlink_partial(Slab* s);
    PageNode* lookup(std::uintptr_t key) const;
    void insert(PageNode* n);
    void remove(PageNode* n);
    void grow_table();

    mutable SpinLock lock_;
    PageRunSource source_;
    // Slabs with a free slot, partly used ones first, so empty ones drain.
    Slab* partial_[kPoolCount] = {};
    u64 empty_slabs_[kPoolCount] = {};
    PageNode* inline_buckets_[kInlineBuckets] = {};
    PageNode** buckets_ = inline_buckets_;
    u64 bucket_count_ = kInlineBuckets; // a power of two
    u64 nodes_ = 0;
    Pa table_pa_{};
    Stats stats_{};
};

} // namespace setwise::mm
