#include "mm/heap.hpp"

#include <bit>

namespace setwise::mm {

namespace {

constexpr usize kBitsPerWord = 64;
constexpr usize kSlabBitmapWords = 4;
constexpr usize kRecordSize = 64;
// No request comes near this; it keeps page arithmetic far from wrapping.
constexpr usize kMaxRequest = usize{1} << 48;
constexpr u64 kHashMultiplier = 0x9e3779b97f4a7c15; // 2^64 / golden ratio

} // namespace

// What the page-lookup table maps a page to.
struct Heap::PageNode {
    enum class Kind : u8 { slab, large };

    std::uintptr_t key = 0; // address of the first page
    PageNode* bucket_next = nullptr;
    Kind kind = Kind::slab;
};

// Header at the start of a slab page. Slots at [first_offset + i * size) for
// i < capacity; bit i of `used` is set while slot i is allocated, and the
// bits from capacity up are set for good, so the first clear bit is always a
// real slot.
struct Heap::Slab : PageNode {
    Slab* prev = nullptr; // partial-list links; null while the slab is full
    Slab* next = nullptr;
    Pa pa{};
    u16 in_use = 0;
    u16 capacity = 0;
    u16 first_offset = 0;
    u16 slot_size = 0;
    u8 pool = 0;
    u64 used[kSlabBitmapWords] = {};
};

// A run of pages serving one large request.
struct Heap::Large : PageNode {
    Pa pa{};
    u64 pages = 0;
};

namespace {

constexpr usize pool_slot_size(usize pool, usize record_pool) {
    return pool == record_pool ? kRecordSize : Heap::kMinSize << pool;
}

} // namespace

PageRunSource PageRunSource::from(FrameAllocator& frames, PhysToVirt phys_to_virt) {
    return {
        [](void* c, u64 pages) { return static_cast<FrameAllocator*>(c)->allocate(pages); },
        [](void* c, Pa pa, u64 pages) { return static_cast<FrameAllocator*>(c)->free(pa, pages); },
        &frames,
        phys_to_virt,
    };
}

Heap::Heap(PageRunSource source) : source_(source) {
    static_assert((kMinSize << (kClassCount - 1)) == kMaxSmall);
    static_assert(sizeof(Large) <= kRecordSize);
    static_assert((kPageSize - align_up(sizeof(Slab), kMinSize)) / kMinSize <= kSlabBitmapWords * kBitsPerWord,
                  "the smallest class has more slots than the bitmap has bits");
}

void* Heap::allocate(usize size, usize align) {
    auto guard = lock_.lock();
    if (size == 0 || size > kMaxRequest || (align & (align - 1)) != 0 || align == 0 || align > kMaxAlign) {
        ++stats_.failed_allocations;
        return nullptr;
    }
    usize need = size > align ? size : align;
    void* p = nullptr;
    u64 bytes = 0;
    if (need <= kMaxSmall) {
        usize pool = static_cast<usize>(std::bit_width(need < kMinSize ? kMinSize - 1 : need - 1)) - 4;
        p = allocate_small(pool);
        bytes = pool_slot_size(pool, kRecordPool);
    } else {
        u64 pages = align_up(size, kPageSize) >> kPageShift;
        p = allocate_large(pages);
        bytes = pages << kPageShift;
    }
    if (p == nullptr) {
        ++stats_.failed_allocations;
        return nullptr;
    }
    ++stats_.live_allocations;
    stats_.bytes_in_use += bytes;
    return p;
}

void* Heap::allocate_small(usize pool) {
    Slab* s = partial_[pool];
    if (s == nullptr && (s = new_slab(pool)) == nullptr) return nullptr;
    usize w = 0;
    while (s->used[w] == ~u64{0}) ++w; // in_use < capacity: a clear bit exists
    usize slot = w * kBitsPerWord + static_cast<usize>(std::countr_one(s->used[w]));
    s->used[w] |= u64{1} << (slot % kBitsPerWord);
    if (s->in_use++ == 0) --empty_slabs_[pool];
    if (s->in_use == s->capacity) unlink_partial(s);
    return reinterpret_cast<void*>(s->key + s->first_offset + slot * s->slot_size);
}

void* Heap::allocate_large(u64 pages) {
    Result<Pa> pa = source_.allocate(source_.context, pages);
    if (!pa) return nullptr;
    void* va = source_.phys_to_virt(pa.value(), pages << kPageShift);
    if (va == nullptr || !is_aligned(reinterpret_cast<std::uintptr_t>(va), kPageSize)) {
        give_back(pa.value(), pages);
        return nullptr;
    }
    void* record = allocate_small(kRecordPool);
    if (record == nullptr) {
        give_back(pa.value(), pages);
        return nullptr;
    }
    auto* l = new (record) Large();
    l->key = reinterpret_cast<std::uintptr_t>(va);
    l->kind = PageNode::Kind::large;
    l->pa = pa.value();
    l->pages = pages;
    insert(l);
    stats_.large_pages += pages;
    return va;
}

Heap::Slab* Heap::new_slab(usize pool) {
    Result<Pa> pa = source_.allocate(source_.context, 1);
    if (!pa) return nullptr;
    void* va = source_.phys_to_virt(pa.value(), kPageSize);
    if (va == nullptr || !is_aligned(reinterpret_cast<std::uintptr_t>(va), kPageSize)) {
        give_back(pa.value(), 1);
        return nullptr;
    }
    auto* s = new (va) Slab();
    usize size = pool_slot_size(pool, kRecordPool);
    usize first = align_up(sizeof(Slab), size);
    usize capacity = (kPageSize - first) / size;
    s->key = reinterpret_cast<std::uintptr_t>(va);
    s->pa = pa.value();
    s->capacity = static_cast<u16>(capacity);
    s->first_offset = static_cast<u16>(first);
    s->slot_size = static_cast<u16>(size);
    s->pool = static_cast<u8>(pool);
    for (usize i = capacity; i < kSlabBitmapWords * kBitsPerWord; ++i) {
        s->used[i / kBitsPerWord] |= u64{1} << (i % kBitsPerWord);
    }
    insert(s);
    push_partial(s, true);
    ++empty_slabs_[pool];
    ++stats_.slab_pages;
    return s;
}

// Precondition: s is empty and not counted in empty_slabs_.
void Heap::release_slab(Slab* s) {
    unlink_partial(s);
    remove(s);
    Pa pa = s->pa;
    s->key = 0; // a stale copy of the header must not look live
    --stats_.slab_pages;
    give_back(pa, 1);
}

void Heap::give_back(Pa pa, u64 pages) {
    if (!source_.free(source_.context, pa, pages)) ++stats_.source_errors;
}

Result<void> Heap::free_small(Slab* s, std::uintptr_t p) {
    std::uintptr_t offset = p - s->key;
    if (offset < s->first_offset || (offset - s->first_offset) % s->slot_size != 0) return Status::invalid_argument;
    usize slot = (offset - s->first_offset) / s->slot_size;
    if (slot >= s->capacity) return Status::invalid_argument;
    u64 bit = u64{1} << (slot % kBitsPerWord);
    u64& word = s->used[slot / kBitsPerWord];
    if ((word & bit) == 0) return Status::not_found;
    word &= ~bit;
    bool was_full = s->in_use == s->capacity;
    --s->in_use;
    if (was_full) push_partial(s, false);
    if (s->in_use == 0) {
        // Keep one empty slab per pool so a class that goes up and down
        // by one object does not trade a page with the source each time.
        if (empty_slabs_[s->pool] != 0) {
            release_slab(s);
        } else {
            unlink_partial(s);
            push_partial(s, true);
            ++empty_slabs_[s->pool];
        }
    }
    return {};
}

void Heap::free(void* p) { (void)free_checked(p); }

Result<void> Heap::free_checked(void* p) {
    if (p == nullptr) return {};
    auto guard = lock_.lock();
    auto addr = reinterpret_cast<std::uintptr_t>(p);
    PageNode* n = lookup(align_down(addr, kPageSize));
    Result<void> r = Status::invalid_argument;
    u64 bytes = 0;
    if (n != nullptr && n->kind == PageNode::Kind::slab) {
        auto* s = static_cast<Slab*>(n);
        if (s->pool != kRecordPool) {
            bytes = s->slot_size;
            r = free_small(s, addr);
        }
    } else if (n != nullptr && n->kind == PageNode::Kind::large && n->key == addr) {
        auto* l = static_cast<Large*>(n);
        Pa pa = l->pa;
        u64 pages = l->pages;
        remove(l);
        auto* record_slab = static_cast<Slab*>(lookup(align_down(reinterpret_cast<std::uintptr_t>(l), kPageSize)));
        // Records are only made by allocate_large, so this cannot fail.
        (void)free_small(record_slab, reinterpret_cast<std::uintptr_t>(l));
        give_back(pa, pages);
        stats_.large_pages -= pages;
        bytes = pages << kPageShift;
        r = Result<void>();
    }
    if (!r) {
        ++stats_.bad_frees;
        return r;
    }
    --stats_.live_allocations;
    stats_.bytes_in_use -= bytes;
    return r;
}

void Heap::trim() {
    auto guard = lock_.lock();
    for (usize pool = 0; pool < kPoolCount; ++pool) {
        // Empty slabs sit at the tail of their list (see push_partial).
        while (partial_[pool] != nullptr && partial_[pool]->prev->in_use == 0) {
            release_slab(partial_[pool]->prev);
            --empty_slabs_[pool];
        }
    }
}

Heap::Stats Heap::stats() const {
    auto guard = lock_.lock();
    Stats s = stats_;
    s.pages_held = s.slab_pages + s.large_pages + s.table_pages;
    return s;
}

// The partial list is circular, head = partial_[pool]. Slabs that become
// empty go to the tail and allocation takes the head, so empty slabs always
// form the tail and are the last to be reused.
void Heap::push_partial(Slab* s, bool at_tail) {
    Slab*& head = partial_[s->pool];
    if (head == nullptr) {
        s->next = s->prev = s;
        head = s;
        return;
    }
    s->next = head;
    s->prev = head->prev;
    head->prev->next = s;
    head->prev = s;
    if (!at_tail) head = s;
}

void Heap::unlink_partial(Slab* s) {
    Slab*& head = partial_[s->pool];
    if (s->next == s) {
        head = nullptr;
    } else {
        s->prev->next = s->next;
        s->next->prev = s->prev;
        if (head == s) head = s->next;
    }
    s->next = s->prev = nullptr;
}

namespace {

u64 bucket_of(std::uintptr_t key, u64 bucket_count) {
    return ((static_cast<u64>(key) >> kPageShift) * kHashMultiplier >> 32) & (bucket_count - 1);
}

} // namespace

Heap::PageNode* Heap::lookup(std::uintptr_t key) const {
    for (PageNode* n = buckets_[bucket_of(key, bucket_count_)]; n != nullptr; n = n->bucket_next) {
        if (n->key == key) return n;
    }
    return nullptr;
}

void Heap::insert(PageNode* n) {
    if (nodes_ >= 2 * bucket_count_) grow_table();
    PageNode*& head = buckets_[bucket_of(n->key, bucket_count_)];
    n->bucket_next = head;
    head = n;
    ++nodes_;
}

void Heap::remove(PageNode* n) {
    PageNode** link = &buckets_[bucket_of(n->key, bucket_count_)];
    for (; *link != nullptr; link = &(*link)->bucket_next) {
        if (*link == n) {
            *link = n->bucket_next;
            --nodes_;
            return;
        }
    }
}

// Moves the table from the inline buckets to one page, then doubles it, in pages
// from the source. Failing to grow is harmless: chains get longer.
void Heap::grow_table() {
    u64 count = bucket_count_ == kInlineBuckets ? kPageSize / sizeof(PageNode*) : bucket_count_ * 2;
    u64 pages = count * sizeof(PageNode*) >> kPageShift;
    Result<Pa> pa = source_.allocate(source_.context, pages);
    if (!pa) return;
    void* va = source_.phys_to_virt(pa.value(), pages << kPageShift);
    if (va == nullptr || !is_aligned(reinterpret_cast<std::uintptr_t>(va), alignof(PageNode*))) {
        give_back(pa.value(), pages);
        return;
    }
    auto** table = static_cast<PageNode**>(va);
    for (u64 i = 0; i < count; ++i) table[i] = nullptr;
    for (u64 b = 0; b < bucket_count_; ++b) {
        for (PageNode* n = buckets_[b]; n != nullptr;) {
            PageNode* next = n->bucket_next;
            PageNode*& head = table[bucket_of(n->key, count)];
            n->bucket_next = head;
            head = n;
            n = next;
        }
    }
    if (buckets_ != inline_buckets_) give_back(table_pa_, stats_.table_pages);
    buckets_ = table;
    bucket_count_ = count;
    table_pa_ = pa.value();
    stats_.table_pages = pages;
}

} // namespace setwise::mm
