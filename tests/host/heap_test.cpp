// Heap: size classes, alignment, large runs, refused frees, page accounting
// against its source, and a randomized comparison against a map of live
// blocks whose contents must survive.
#include "mm/heap.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "mm/frame_allocator.hpp"

namespace setwise::mm {
namespace {

constexpr u64 kBase = 0x4000'0000;

class FakeRam {
public:
    FakeRam(u64 base, u64 size) : base_(base), size_(size) {
        void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        EXPECT_NE(p, MAP_FAILED);
        mem_ = static_cast<u8*>(p);
    }
    ~FakeRam() { munmap(mem_, size_); }
    FakeRam(const FakeRam&) = delete;
    FakeRam& operator=(const FakeRam&) = delete;

    void* map(Pa pa, u64 bytes) const {
        if (pa.raw() < base_ || pa.raw() - base_ > size_ || bytes > size_ - (pa.raw() - base_)) return nullptr;
        return mem_ + (pa.raw() - base_);
    }
    PhysToVirt phys_to_virt() const {
        return PhysToVirt(
            [](const void* c, Pa pa, u64 bytes) { return static_cast<const FakeRam*>(c)->map(pa, bytes); }, this);
    }

private:
    u64 base_;
    u64 size_;
    u8* mem_ = nullptr;
};

// A page source over a frame allocator that counts what the heap holds and
// can be told to fail.
struct CountingSource {
    FrameAllocator* frames = nullptr;
    PhysToVirt map;
    u64 outstanding = 0;
    u64 allocations_left = ~u64{0};
    u64 refused_returns = 0;

    PageRunSource source() {
        return {
            [](void* c, u64 pages) -> Result<Pa> {
                auto* self = static_cast<CountingSource*>(c);
                if (self->allocations_left == 0) return Status::no_memory;
                --self->allocations_left;
                Result<Pa> r = self->frames->allocate(pages);
                if (r) self->outstanding += pages;
                return r;
            },
            [](void* c, Pa pa, u64 pages) -> Result<void> {
                auto* self = static_cast<CountingSource*>(c);
                Result<void> r = self->frames->free(pa, pages);
                if (r) {
                    self->outstanding -= pages;
                } else {
                    ++self->refused_returns;
                }
                return r;
            },
            this,
            map,
        };
    }
};

class HeapTest : public ::testing::Test {
protected:
    explicit HeapTest(u64 ram_bytes = 16 * kMiB) : ram_(kBase, ram_bytes) {
        Result<FrameAllocator*> fa =
            FrameAllocator::create(std::vector{PaRange{Pa(kBase), ram_bytes}}, {}, ram_.phys_to_virt());
        EXPECT_TRUE(fa.ok());
        frames_ = fa.value();
        counting_.frames = frames_;
        initial_free_ = frames_->free_frames();
    }

    // What the heap holds must be exactly what the source handed out.
    void expect_pages_consistent() {
        const Heap::Stats s = heap_.stats();
        EXPECT_EQ(s.pages_held, counting_.outstanding);
        EXPECT_EQ(s.pages_held, s.slab_pages + s.large_pages + s.table_pages);
        EXPECT_EQ(frames_->free_frames() + counting_.outstanding, initial_free_);
        EXPECT_EQ(counting_.refused_returns, 0u);
        EXPECT_EQ(s.source_errors, 0u);
    }

    FakeRam ram_;
    FrameAllocator* frames_ = nullptr;
    CountingSource counting_{nullptr, ram_.phys_to_virt()};
    u64 initial_free_ = 0;
    Heap heap_{counting_.source()};
};

void fill(void* p, usize n, u8 seed) {
    auto* b = static_cast<u8*>(p);
    for (usize i = 0; i < n; ++i) b[i] = static_cast<u8>(seed + i * 7);
}

bool intact(const void* p, usize n, u8 seed) {
    const auto* b = static_cast<const u8*>(p);
    for (usize i = 0; i < n; ++i) {
        if (b[i] != static_cast<u8>(seed + i * 7)) return false;
    }
    return true;
}

std::uintptr_t addr(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

usize class_of(usize size) {
    usize c = Heap::kMinSize;
    while (c < size) c *= 2;
    return c;
}

// ------------------------------------------------------------ size classes

TEST_F(HeapTest, EverySizeClassIsNaturallyAlignedAndDisjoint) {
    const usize sizes[] = {1, 15, 16, 17, 31, 32, 33, 64, 65, 100, 128, 129, 256, 257, 500, 512, 513, 1000, 1024};
    for (usize size : sizes) {
        const usize cls = class_of(size);
        std::vector<void*> ptrs;
        // Enough objects for several slabs of every class.
        for (int i = 0; i < 600; ++i) {
            void* p = heap_.allocate(size, 1);
            ASSERT_NE(p, nullptr) << size;
            EXPECT_EQ(addr(p) % cls, 0u) << size;
            fill(p, size, static_cast<u8>(i));
            ptrs.push_back(p);
        }
        Heap::Stats s = heap_.stats();
        EXPECT_EQ(s.bytes_in_use, 600 * cls) << size;
        EXPECT_EQ(s.live_allocations, 600u);
        std::vector<std::uintptr_t> sorted;
        for (void* p : ptrs) sorted.push_back(addr(p));
        std::sort(sorted.begin(), sorted.end());
        for (usize i = 1; i < sorted.size(); ++i) ASSERT_GE(sorted[i] - sorted[i - 1], cls) << size;
        for (usize i = 0; i < ptrs.size(); ++i) {
            ASSERT_TRUE(intact(ptrs[i], size, static_cast<u8>(i))) << size;
            ASSERT_TRUE(heap_.free_checked(ptrs[i]).ok());
        }
        s = heap_.stats();
        EXPECT_EQ(s.bytes_in_use, 0u);
        EXPECT_EQ(s.live_allocations, 0u);
        expect_pages_consistent();
    }
    // Small objects share pages: 600 objects of 16 bytes fit in three slabs.
    heap_.trim();
    std::vector<void*> small;
    for (int i = 0; i < 600; ++i) small.push_back(heap_.allocate(16, 16));
    EXPECT_LE(heap_.stats().slab_pages, 3u);
    for (void* p : small) heap_.free(p);
}

TEST_F(HeapTest, AlignmentUpToAPage) {
    for (usize align = 1; align <= kPageSize; align *= 2) {
        for (usize size : {1u, 24u, 100u, 1000u, 3000u, 5000u, 9000u}) {
            void* p = heap_.allocate(size, align);
            ASSERT_NE(p, nullptr) << size << " " << align;
            EXPECT_EQ(addr(p) % align, 0u) << size << " " << align;
            fill(p, size, 3);
            EXPECT_TRUE(intact(p, size, 3));
            EXPECT_TRUE(heap_.free_checked(p).ok());
        }
    }
    EXPECT_EQ(heap_.stats().live_allocations, 0u);
    expect_pages_consistent();
}

TEST_F(HeapTest, InvalidRequestsReturnNullAndTakeNothing) {
    EXPECT_EQ(heap_.allocate(0), nullptr);
    EXPECT_EQ(heap_.allocate(16, 0), nullptr);
    EXPECT_EQ(heap_.allocate(16, 3), nullptr);
    EXPECT_EQ(heap_.allocate(16, 2 * kPageSize), nullptr);
    EXPECT_EQ(heap_.allocate(~usize{0}), nullptr);
    const Heap::Stats s = heap_.stats();
    EXPECT_EQ(s.failed_allocations, 5u);
    EXPECT_EQ(s.pages_held, 0u);
    EXPECT_EQ(s.live_allocations, 0u);
}

// ------------------------------------------------------------ large runs

TEST_F(HeapTest, LargeRequestsAreWholePageRunsGivenBackOnFree) {
    struct Case {
        usize size, align, pages;
    };
    const Case cases[] = {{1025, 16, 1}, {4096, 8, 1}, {4097, 16, 2}, {100000, 64, 25}, {16, 2048, 1}, {8, 4096, 1}};
    u64 pages = 0;
    std::vector<void*> ptrs;
    for (const Case& c : cases) {
        void* p = heap_.allocate(c.size, c.align);
        ASSERT_NE(p, nullptr) << c.size;
        EXPECT_EQ(addr(p) % kPageSize, 0u) << c.size;
        fill(p, c.pages * kPageSize, 9); // the whole run is usable
        pages += c.pages;
        EXPECT_EQ(heap_.stats().large_pages, pages);
        EXPECT_EQ(heap_.stats().bytes_in_use, pages * kPageSize);
        ptrs.push_back(p);
    }
    expect_pages_consistent();
    for (usize i = 0; i < ptrs.size(); ++i) {
        ASSERT_TRUE(intact(ptrs[i], cases[i].pages * kPageSize, 9));
        EXPECT_TRUE(heap_.free_checked(ptrs[i]).ok());
    }
    EXPECT_EQ(heap_.stats().large_pages, 0u);
    EXPECT_EQ(heap_.stats().bytes_in_use, 0u);
    expect_pages_consistent();
    heap_.trim();
    EXPECT_EQ(heap_.stats().pages_held, heap_.stats().table_pages);
}

TEST_F(HeapTest, ManyLargeBlocksGrowTheLookupTable) {
    std::vector<void*> ptrs;
    for (int i = 0; i < 1500; ++i) {
        void* p = heap_.allocate(2000 + static_cast<usize>(i % 3) * 4096);
        ASSERT_NE(p, nullptr) << i;
        *static_cast<int*>(p) = i;
        ptrs.push_back(p);
    }
    EXPECT_GE(heap_.stats().table_pages, 1u);
    expect_pages_consistent();
    for (int i = 0; i < 1500; ++i) {
        ASSERT_EQ(*static_cast<int*>(ptrs[static_cast<usize>(i)]), i);
        ASSERT_TRUE(heap_.free_checked(ptrs[static_cast<usize>(i)]).ok()) << i;
    }
    heap_.trim();
    EXPECT_EQ(heap_.stats().pages_held, heap_.stats().table_pages);
    expect_pages_consistent();
}

// ----------------------------------------------------------- free / reuse

TEST_F(HeapTest, FreedSlotsAndPagesAreReused) {
    void* a = heap_.allocate(48);
    void* b = heap_.allocate(48);
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    heap_.free(a);
    EXPECT_EQ(heap_.allocate(48), a);
    void* big = heap_.allocate(3 * kPageSize);
    heap_.free(big);
    EXPECT_EQ(heap_.allocate(3 * kPageSize), big); // first fit in the frame allocator
}

TEST_F(HeapTest, KeepsOneEmptySlabPerClassUntilTrimmed) {
    std::vector<void*> ptrs;
    for (int i = 0; i < 200; ++i) ptrs.push_back(heap_.allocate(64)); // 62 per slab: 4 slabs
    EXPECT_EQ(heap_.stats().slab_pages, 4u);
    for (void* p : ptrs) heap_.free(p);
    EXPECT_EQ(heap_.stats().slab_pages, 1u);
    expect_pages_consistent();
    // The cached slab serves the next allocation without asking the source.
    const u64 outstanding = counting_.outstanding;
    void* p = heap_.allocate(64);
    EXPECT_EQ(counting_.outstanding, outstanding);
    heap_.free(p);
    heap_.trim();
    EXPECT_EQ(heap_.stats().slab_pages, 0u);
    EXPECT_EQ(heap_.stats().pages_held, 0u);
    expect_pages_consistent();
}

// ------------------------------------------------------- refused frees

TEST_F(HeapTest, DoubleFreeOfASmallBlockIsReportedAndHarmless) {
    void* keep = heap_.allocate(32);
    void* p = heap_.allocate(32);
    ASSERT_TRUE(heap_.free_checked(p).ok());
    const Heap::Stats before = heap_.stats();
    EXPECT_EQ(heap_.free_checked(p).status(), Status::not_found);
    heap_.free(p);
    const Heap::Stats after = heap_.stats();
    EXPECT_EQ(after.bad_frees, before.bad_frees + 2);
    EXPECT_EQ(after.live_allocations, before.live_allocations);
    EXPECT_EQ(after.bytes_in_use, before.bytes_in_use);
    // The slot was not handed out twice.
    void* x = heap_.allocate(32);
    void* y = heap_.allocate(32);
    EXPECT_NE(x, y);
    EXPECT_NE(x, keep);
    EXPECT_NE(y, keep);
}

TEST_F(HeapTest, DoubleFreeOfALargeBlockIsReported) {
    void* p = heap_.allocate(10000);
    ASSERT_TRUE(heap_.free_checked(p).ok());
    const u64 outstanding = counting_.outstanding;
    EXPECT_EQ(heap_.free_checked(p).status(), Status::invalid_argument);
    EXPECT_EQ(counting_.outstanding, outstanding);
    EXPECT_EQ(heap_.stats().bad_frees, 1u);
    expect_pages_consistent();
}

TEST_F(HeapTest, ForeignAndInteriorPointersAreRefusedWithoutBeingRead) {
    void* small = heap_.allocate(64);
    void* large = heap_.allocate(3 * kPageSize);
    ASSERT_NE(small, nullptr);
    ASSERT_NE(large, nullptr);
    const Heap::Stats before = heap_.stats();

    // A page of RAM the heap never owned, with bytes that mimic nothing.
    const Pa other = frames_->allocate(1).value();
    void* foreign = ram_.map(other, kPageSize);
    std::fill_n(static_cast<u8*>(foreign), kPageSize, u8{0xa5});
    int on_stack = 0;

    EXPECT_EQ(heap_.free_checked(static_cast<u8*>(foreign) + 64).status(), Status::invalid_argument);
    EXPECT_EQ(heap_.free_checked(foreign).status(), Status::invalid_argument);
    EXPECT_EQ(heap_.free_checked(&on_stack).status(), Status::invalid_argument);
    EXPECT_EQ(heap_.free_checked(static_cast<u8*>(small) + 8).status(), Status::invalid_argument);
    EXPECT_EQ(heap_.free_checked(reinterpret_cast<void*>(addr(small) & ~(kPageSize - 1))).status(),
              Status::invalid_argument); // the slab header itself
    EXPECT_EQ(heap_.free_checked(static_cast<u8*>(large) + 16).status(), Status::invalid_argument);
    EXPECT_EQ(heap_.free_checked(static_cast<u8*>(large) + kPageSize).status(), Status::invalid_argument);
    EXPECT_TRUE(heap_.free_checked(nullptr).ok());

    const Heap::Stats after = heap_.stats();
    EXPECT_EQ(after.bad_frees, before.bad_frees + 7);
    EXPECT_EQ(after.live_allocations, before.live_allocations);
    EXPECT_TRUE(heap_.free_checked(small).ok());
    EXPECT_TRUE(heap_.free_checked(large).ok());
    EXPECT_TRUE(frames_->free(other, 1).ok());
    expect_pages_consistent();
}

// The record describing a large run lives in a heap slab; freeing it as if it
// were a user block would corrupt the heap. White box: a fresh heap takes the
// run first and the record slab right after it (first fit), and a record
// starts with the run's address.
TEST_F(HeapTest, TheHeapsOwnRecordsAreNotUserBlocks) {
    void* large = heap_.allocate(3 * kPageSize);
    ASSERT_NE(large, nullptr);
    ASSERT_EQ(heap_.stats().slab_pages, 1u);
    u8* record_page = static_cast<u8*>(large) + 3 * kPageSize;
    void* record = nullptr;
    for (usize off = 64; off < kPageSize; off += 64) {
        if (*reinterpret_cast<std::uintptr_t*>(record_page + off) == addr(large)) record = record_page + off;
    }
    ASSERT_NE(record, nullptr) << "layout assumption broken: fix the test";
    EXPECT_EQ(heap_.free_checked(record).status(), Status::invalid_argument);
    EXPECT_TRUE(heap_.free_checked(large).ok());
    expect_pages_consistent();
}

TEST_F(HeapTest, AnotherHeapsPointersAreForeign) {
    Heap other(counting_.source());
    void* mine = heap_.allocate(128);
    void* theirs = other.allocate(128);
    EXPECT_EQ(heap_.free_checked(theirs).status(), Status::invalid_argument);
    EXPECT_TRUE(other.free_checked(theirs).ok());
    EXPECT_TRUE(heap_.free_checked(mine).ok());
}

// ------------------------------------------------------------- exhaustion

class SmallHeapTest : public HeapTest {
protected:
    SmallHeapTest() : HeapTest(256 * kKiB) {} // 64 frames, one of them metadata
};

TEST_F(SmallHeapTest, ExhaustionReturnsNullAndRecovers) {
    std::vector<void*> ptrs;
    for (;;) {
        void* p = heap_.allocate(1000);
        if (p == nullptr) break;
        ptrs.push_back(p);
        ASSERT_LT(ptrs.size(), 1000u);
    }
    EXPECT_EQ(frames_->free_frames(), 0u);
    EXPECT_EQ(heap_.stats().failed_allocations, 1u);
    EXPECT_GE(ptrs.size(), 3 * 60u); // three 1 KiB slots per page
    EXPECT_EQ(heap_.allocate(5000), nullptr);
    expect_pages_consistent();
    for (void* p : ptrs) ASSERT_TRUE(heap_.free_checked(p).ok());
    heap_.trim();
    EXPECT_EQ(heap_.stats().pages_held, heap_.stats().table_pages);
    expect_pages_consistent();
    EXPECT_NE(heap_.allocate(5000), nullptr);
}

TEST_F(HeapTest, SourceFailureLeavesNothingBehind) {
    // The run for a large block comes first, then a slab for its record: make
    // the second request fail; the run must go back.
    counting_.allocations_left = 1;
    EXPECT_EQ(heap_.allocate(3 * kPageSize), nullptr);
    EXPECT_EQ(counting_.outstanding, 0u);
    EXPECT_EQ(heap_.stats().failed_allocations, 1u);
    counting_.allocations_left = 0;
    EXPECT_EQ(heap_.allocate(16), nullptr);
    counting_.allocations_left = ~u64{0};
    EXPECT_NE(heap_.allocate(16), nullptr);
    expect_pages_consistent();
}

TEST_F(HeapTest, UnmappablePagesAreGivenBack) {
    CountingSource unmapped{frames_, PhysToVirt([](const void*, Pa, u64) -> void* { return nullptr; }, nullptr)};
    Heap h(unmapped.source());
    EXPECT_EQ(h.allocate(16), nullptr);
    EXPECT_EQ(h.allocate(10000), nullptr);
    EXPECT_EQ(unmapped.outstanding, 0u);
    EXPECT_EQ(h.stats().pages_held, 0u);
}

// ------------------------------------------------------------ make/destroy

struct Tracked {
    static inline int alive = 0;
    u64 a;
    u32 b;
    Tracked(u64 x, u32 y) : a(x), b(y) { ++alive; }
    ~Tracked() { --alive; }
};

struct alignas(256) Aligned {
    u8 bytes[300];
};

TEST_F(HeapTest, MakeConstructsAndDestroyDestructs) {
    Tracked* t = heap_.make<Tracked>(u64{42}, u32{7});
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->a, 42u);
    EXPECT_EQ(t->b, 7u);
    EXPECT_EQ(Tracked::alive, 1);
    heap_.destroy(t);
    EXPECT_EQ(Tracked::alive, 0);
    EXPECT_EQ(heap_.stats().live_allocations, 0u);

    Aligned* a = heap_.make<Aligned>();
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(addr(a) % 256, 0u);
    heap_.destroy(a);
    heap_.destroy<Tracked>(nullptr);
    EXPECT_EQ(heap_.stats().bad_frees, 0u);

    counting_.allocations_left = 0;
    heap_.trim();
    EXPECT_EQ(heap_.make<Tracked>(u64{1}, u32{2}), nullptr);
    EXPECT_EQ(Tracked::alive, 0);
}

// ---------------------------------------------------- randomized vs. model

class HeapStress : public HeapTest, public ::testing::WithParamInterface<u32> {};

TEST_P(HeapStress, LiveBlocksNeverOverlapAndKeepTheirContents) {
    struct Block {
        usize size;
        usize charged; // what bytes_in_use counts for it
        u8 seed;
    };
    std::map<std::uintptr_t, Block> live;
    std::mt19937_64 rng(GetParam());
    auto pick = [&](u64 n) { return std::uniform_int_distribution<u64>(0, n - 1)(rng); };
    u64 bytes = 0, allocs = 0, frees = 0, double_frees = 0, large = 0;

    for (int op = 0; op < 20000; ++op) {
        if (pick(100) < 55 || live.empty()) {
            const u64 k = pick(100);
            const usize size = k < 70 ? 1 + pick(256) : k < 92 ? 257 + pick(768) : 1025 + pick(20000);
            const usize align = pick(4) == 0 ? usize{1} << pick(13) : 16;
            void* p = heap_.allocate(size, align);
            ASSERT_NE(p, nullptr) << "op " << op; // 16 MiB never runs out here
            const std::uintptr_t a = addr(p);
            ASSERT_EQ(a % align, 0u);
            // No overlap with the neighbours on either side.
            auto next = live.lower_bound(a);
            if (next != live.end()) {
                ASSERT_LE(a + size, next->first) << "op " << op;
            }
            if (next != live.begin()) {
                auto prev = std::prev(next);
                ASSERT_LE(prev->first + prev->second.size, a) << "op " << op;
            }
            const usize need = std::max(size, align);
            const usize charged = need <= Heap::kMaxSmall ? class_of(need) : align_up(size, kPageSize);
            const u8 seed = static_cast<u8>(pick(256));
            fill(p, size, seed);
            live[a] = {size, charged, seed};
            bytes += charged;
            large += need > Heap::kMaxSmall;
            ++allocs;
        } else {
            auto it = std::next(live.begin(), static_cast<std::ptrdiff_t>(pick(live.size())));
            void* p = reinterpret_cast<void*>(it->first);
            ASSERT_TRUE(intact(p, it->second.size, it->second.seed)) << "op " << op;
            bytes -= it->second.charged;
            live.erase(it);
            ASSERT_TRUE(heap_.free_checked(p).ok()) << "op " << op;
            ++frees;
            if (pick(20) == 0) {
                // Refused, whether the slot is still there or its page went back.
                const u64 bad = heap_.stats().bad_frees;
                ASSERT_FALSE(heap_.free_checked(p).ok()) << "op " << op;
                ASSERT_EQ(heap_.stats().bad_frees, bad + 1);
                ++double_frees;
            }
        }
        if (op % 500 == 0) {
            const Heap::Stats s = heap_.stats();
            ASSERT_EQ(s.live_allocations, live.size());
            ASSERT_EQ(s.bytes_in_use, bytes);
            ASSERT_EQ(s.pages_held, counting_.outstanding);
        }
    }
    EXPECT_GT(allocs, 5000u);
    EXPECT_GT(frees, 5000u);
    EXPECT_GT(double_frees, 100u);
    EXPECT_GT(large, 500u);

    for (auto& [a, b] : live) {
        ASSERT_TRUE(intact(reinterpret_cast<void*>(a), b.size, b.seed));
        ASSERT_TRUE(heap_.free_checked(reinterpret_cast<void*>(a)).ok());
    }
    heap_.trim();
    const Heap::Stats s = heap_.stats();
    EXPECT_EQ(s.live_allocations, 0u);
    EXPECT_EQ(s.bytes_in_use, 0u);
    EXPECT_EQ(s.pages_held, s.table_pages);
    expect_pages_consistent();
}

INSTANTIATE_TEST_SUITE_P(Seeds, HeapStress, ::testing::Values(1u, 7u, 0xbeefu, 20261121u));

// ------------------------------------------------------------ concurrency

TEST_F(HeapTest, ThreadsAllocateAndFreeConcurrently) {
    std::atomic<u64> corrupted{0};
    auto worker = [&](u32 seed) {
        std::mt19937 rng(seed);
        std::vector<std::pair<u8*, usize>> mine;
        for (int i = 0; i < 4000; ++i) {
            if (mine.size() < 64 && rng() % 2 == 0) {
                const usize size = rng() % 8 == 0 ? 1500 + rng() % 6000 : 1 + rng() % 600;
                auto* p = static_cast<u8*>(heap_.allocate(size));
                if (p == nullptr) continue;
                fill(p, size, static_cast<u8>(seed));
                mine.push_back({p, size});
            } else if (!mine.empty()) {
                auto [p, size] = mine[rng() % mine.size()];
                if (!intact(p, size, static_cast<u8>(seed))) ++corrupted;
                std::erase(mine, std::pair{p, size});
                heap_.free(p);
            }
        }
        for (auto [p, size] : mine) {
            if (!intact(p, size, static_cast<u8>(seed))) ++corrupted;
            heap_.free(p);
        }
    };
    std::vector<std::thread> threads;
    for (u32 t = 0; t < 4; ++t) threads.emplace_back(worker, 100 + t * 17);
    for (auto& t : threads) t.join();
    EXPECT_EQ(corrupted.load(), 0u);
    const Heap::Stats s = heap_.stats();
    EXPECT_EQ(s.live_allocations, 0u);
    EXPECT_EQ(s.bad_frees, 0u);
    expect_pages_consistent();
}

} // namespace
} // namespace setwise::mm
