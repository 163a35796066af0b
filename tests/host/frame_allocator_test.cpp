// FrameAllocator: construction from RAM and exclusions, first-fit aligned
// allocation, refused frees, reporting, and a randomized comparison against
// a std::set of free frames.
#include "mm/frame_allocator.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <random>
#include <set>
#include <thread>
#include <vector>

namespace setwise::mm {
namespace {

constexpr u64 kBase = 0x4000'0000;
constexpr u64 kFrame = kPageSize;

// Host memory standing in for the physical window [base, base + size).
// Reserved with MAP_NORESERVE, so a 4 GiB "machine" only costs the pages the
// allocator actually touches (its metadata).
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
        if (pa.raw() < base_ || pa.raw() - base_ > size_ || bytes > size_ - (pa.raw() - base_)) {
            ++misses_;
            return nullptr;
        }
        return mem_ + (pa.raw() - base_);
    }
    PhysToVirt phys_to_virt() const {
        return PhysToVirt(
            [](const void* c, Pa pa, u64 bytes) { return static_cast<const FakeRam*>(c)->map(pa, bytes); }, this);
    }
    u64 misses() const { return misses_; }

private:
    u64 base_;
    u64 size_;
    u8* mem_ = nullptr;
    mutable u64 misses_ = 0;
};

PaRange range(u64 base, u64 size) { return {Pa(base), size}; }

FrameAllocator* make(const FakeRam& ram_window, std::vector<PaRange> ram, std::vector<PaRange> excluded = {}) {
    Result<FrameAllocator*> r = FrameAllocator::create(ram, excluded, ram_window.phys_to_virt());
    EXPECT_TRUE(r.ok()) << status_name(r.status());
    return r.ok() ? r.value() : nullptr;
}

std::vector<PaRange> free_runs(const FrameAllocator& fa) {
    std::vector<PaRange> runs;
    for (auto r = fa.next_free_run(Pa(0)); r; r = fa.next_free_run(r.value().end())) runs.push_back(r.value());
    return runs;
}

bool inside_any(u64 pa, const std::vector<PaRange>& ranges) {
    for (const PaRange& r : ranges) {
        if (r.contains(Pa(pa))) return true;
    }
    return false;
}

// ---------------------------------------------------------------- create

TEST(FrameAllocatorCreate, SingleRangeHasMetadataAtTheTop) {
    FakeRam window(kBase, 16 * kMiB);
    FrameAllocator* fa = make(window, {range(kBase, 16 * kMiB)});
    ASSERT_NE(fa, nullptr);

    const PaRange meta = fa->metadata();
    EXPECT_EQ(meta.end(), Pa(kBase + 16 * kMiB));
    EXPECT_TRUE(meta.base.is_aligned(kFrame));
    EXPECT_GE(meta.size, sizeof(FrameAllocator) + 4096 / 8);
    EXPECT_EQ(reinterpret_cast<u8*>(fa), static_cast<u8*>(window.map(meta.base, meta.size)));

    const u64 meta_frames = meta.size / kFrame;
    EXPECT_EQ(fa->total_frames(), 4096 - meta_frames);
    EXPECT_EQ(fa->free_frames(), fa->total_frames());
    ASSERT_EQ(fa->ram().size(), 1u);
    EXPECT_EQ(fa->ram()[0], range(kBase, 16 * kMiB));
    ASSERT_EQ(fa->reserved().size(), 1u);
    EXPECT_EQ(fa->reserved()[0], meta);
    EXPECT_EQ(free_runs(*fa), (std::vector<PaRange>{range(kBase, 16 * kMiB - meta.size)}));
    EXPECT_EQ(window.misses(), 0u);
}

TEST(FrameAllocatorCreate, TrimsUnalignedEdgesInwards) {
    FakeRam window(kBase, 32 * kMiB);
    // [base+0x123, base+8MiB-0x10): whole frames from base+0x1000 to base+8MiB-0x1000.
    // The second range holds no whole frame and disappears.
    FrameAllocator* fa = make(window, {range(kBase + 0x123, 8 * kMiB - 0x123 - 0x10),
                                       range(kBase + 16 * kMiB + 0x800, 0x1000)});
    ASSERT_NE(fa, nullptr);
    ASSERT_EQ(fa->ram().size(), 1u);
    EXPECT_EQ(fa->ram()[0], range(kBase + 0x1000, 8 * kMiB - 0x2000));
    EXPECT_EQ(fa->total_frames() + fa->metadata().size / kFrame, 2048u - 2);
    const auto runs = free_runs(*fa);
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(runs[0].base, Pa(kBase + 0x1000));
}

TEST(FrameAllocatorCreate, SortsRangesMergesTouchingOnesAndKeepsHoles) {
    FakeRam window(kBase, 0x1100'0000);
    const PaRange a = range(kBase, 4 * kMiB);
    const PaRange b = range(kBase + 4 * kMiB, 4 * kMiB); // touches a
    const PaRange c = range(kBase + 0x1000'0000, 8 * kMiB);
    FrameAllocator* fa = make(window, {c, b, a});
    ASSERT_NE(fa, nullptr);
    ASSERT_EQ(fa->ram().size(), 2u);
    EXPECT_EQ(fa->ram()[0], range(kBase, 8 * kMiB));
    EXPECT_EQ(fa->ram()[1], c);
    EXPECT_TRUE(c.contains(fa->metadata()));

    // A run may cross the boundary of the merged banks...
    Result<Pa> low = fa->allocate(2048);
    ASSERT_TRUE(low.ok());
    EXPECT_EQ(low.value(), Pa(kBase));
    // ...but never the hole: c alone is short of 2048 free frames by its metadata.
    EXPECT_EQ(fa->allocate(2048).status(), Status::no_memory);
    Result<Pa> high = fa->allocate(2048 - fa->metadata().size / kFrame);
    ASSERT_TRUE(high.ok());
    EXPECT_EQ(high.value(), c.base);
    EXPECT_EQ(fa->free_frames(), 0u);
}

TEST(FrameAllocatorCreate, RejectsMalformedRam) {
    FakeRam window(kBase, 16 * kMiB);
    auto status = [&](std::vector<PaRange> ram, std::vector<PaRange> excluded = {}) {
        return FrameAllocator::create(ram, excluded, window.phys_to_virt()).status();
    };
    EXPECT_EQ(status({}), Status::invalid_argument);
    EXPECT_EQ(status({range(kBase, 0)}), Status::invalid_argument);
    EXPECT_EQ(status({range(kBase + 0x10, 0xff0)}), Status::invalid_argument); // no whole frame
    EXPECT_EQ(status({range(kBase, 8 * kMiB), range(kBase + 4 * kMiB, 8 * kMiB)}), Status::invalid_argument);
    EXPECT_EQ(status({range(0xffff'ffff'ffff'f000, 0x2000)}), Status::invalid_argument); // wraps
    EXPECT_EQ(status({range(u64{1} << 52, kMiB)}), Status::invalid_argument);         // beyond 52-bit PA
    EXPECT_EQ(status(std::vector<PaRange>(17, range(kBase, kMiB))), Status::unsupported);
    EXPECT_EQ(status({range(kBase, kMiB)}, std::vector<PaRange>(65, range(kBase, kFrame))), Status::unsupported);
}

TEST(FrameAllocatorCreate, ExclusionsOverlappingEachOtherTheEdgesAndOutsideRam) {
    FakeRam window(kBase, 16 * kMiB);
    const u64 end = kBase + 16 * kMiB;
    const std::vector<PaRange> excluded = {
        range(kBase - 0x3000, 0x5000),          // straddles the start: frames 0, 1
        range(kBase + 0x10'0010, 0x2000),       // unaligned: frames 0x100..0x102
        range(kBase + 0x10'1000, 0x4000),       // overlaps the previous: up to 0x104
        range(0x1000'0000, kMiB),               // wholly outside RAM
        range(end - 0x1000, 0x10000),           // straddles the end: the last frame
        range(kBase + 0x20'0000, 0),            // empty: ignored
        range(kBase + 0x30'0000, 0x1000),       // inside, exactly one frame
        range(kBase + 0x30'0000, 0x1000),       // the same again
    };
    FrameAllocator* fa = make(window, {range(kBase, 16 * kMiB)}, excluded);
    ASSERT_NE(fa, nullptr);

    const PaRange meta = fa->metadata();
    const u64 meta_frames = meta.size / kFrame;
    // The metadata goes right below the excluded last frame, and merges with it.
    EXPECT_EQ(meta.end(), Pa(end - 0x1000));
    const std::vector<PaRange> expect_reserved = {
        range(kBase, 0x2000),
        range(kBase + 0x10'0000, 0x5000),
        range(kBase + 0x30'0000, 0x1000),
        range(meta.base.raw(), meta.size + 0x1000),
    };
    EXPECT_EQ(std::vector<PaRange>(fa->reserved().begin(), fa->reserved().end()), expect_reserved);
    EXPECT_EQ(fa->total_frames(), 4096 - 2 - 5 - 1 - 1 - meta_frames);

    // Every frame can be allocated once, none of them reserved.
    std::set<u64> seen;
    for (;;) {
        Result<Pa> r = fa->allocate(1);
        if (!r) {
            EXPECT_EQ(r.status(), Status::no_memory);
            break;
        }
        EXPECT_FALSE(inside_any(r.value().raw(), expect_reserved)) << std::hex << r.value().raw();
        EXPECT_TRUE(seen.insert(r.value().raw()).second);
    }
    EXPECT_EQ(seen.size(), fa->total_frames());
    EXPECT_EQ(fa->free_frames(), 0u);
}

TEST(FrameAllocatorCreate, MetadataAvoidsExclusionsAndFallsBackToALowerBank) {
    // The high bank is excluded except for one-frame gaps, too small for the
    // metadata, which must then land at the top of the low bank.
    const u64 high = kBase + 0x1000'0000;
    FakeRam window(kBase, 0x1000'0000 + 256 * kMiB);
    std::vector<PaRange> excluded;
    for (u64 i = 0; i < 32; ++i) excluded.push_back(range(high + i * 8 * kMiB, 8 * kMiB - kFrame));
    FrameAllocator* fa = make(window, {range(high, 256 * kMiB), range(kBase, 4 * kMiB)}, excluded);
    ASSERT_NE(fa, nullptr);
    EXPECT_GT(fa->metadata().size, kFrame); // 64 Ki frames of bitmap need two frames at least
    EXPECT_EQ(fa->metadata().end(), Pa(kBase + 4 * kMiB));
    EXPECT_EQ(fa->total_frames(), 32 + 1024 - fa->metadata().size / kFrame);
}

TEST(FrameAllocatorCreate, FailsWithoutRoomForMetadata) {
    FakeRam window(kBase, 16 * kMiB);
    EXPECT_EQ(FrameAllocator::create(std::vector{range(kBase, 16 * kMiB)}, std::vector{range(kBase - 1, 17 * kMiB)},
                                     window.phys_to_virt())
                  .status(),
              Status::no_memory);
}

TEST(FrameAllocatorCreate, FailsWhenTheMappingCannotProvideMetadata) {
    FakeRam window(kBase, 1 * kMiB); // RAM is 16 MiB; its top is not mapped
    EXPECT_EQ(FrameAllocator::create(std::vector{range(kBase, 16 * kMiB)}, {}, window.phys_to_virt()).status(),
              Status::invalid_argument);
    EXPECT_EQ(window.misses(), 1u);
}

TEST(FrameAllocatorCreate, AdaptsACallableMapping) {
    FakeRam window(kBase, 16 * kMiB);
    u64 calls = 0;
    auto map = [&](Pa pa, u64 bytes) {
        ++calls;
        return window.map(pa, bytes);
    };
    auto r = FrameAllocator::create(std::vector{range(kBase, 16 * kMiB)}, {}, PhysToVirt::of(map));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(calls, 1u);
}

// -------------------------------------------------------------- allocate

class FrameAllocatorTest : public ::testing::Test {
protected:
    // 32 MiB, 8192 frames, the last ones hold the metadata.
    FakeRam window_{kBase, 32 * kMiB};
    FrameAllocator* fa_ = make(window_, {range(kBase, 32 * kMiB)});
};

TEST_F(FrameAllocatorTest, FirstFitFromTheBottom) {
    EXPECT_EQ(fa_->allocate(1).value_or(Pa(0)), Pa(kBase));
    EXPECT_EQ(fa_->allocate(3).value_or(Pa(0)), Pa(kBase + 0x1000));
    EXPECT_EQ(fa_->allocate(1).value_or(Pa(0)), Pa(kBase + 0x4000));
    EXPECT_EQ(fa_->free_frames(), fa_->total_frames() - 5);
}

TEST_F(FrameAllocatorTest, FreedFramesAreReusedLowestFirst) {
    std::vector<Pa> got;
    for (int i = 0; i < 100; ++i) got.push_back(fa_->allocate(1).value());
    ASSERT_TRUE(fa_->free(got[70], 1).ok());
    ASSERT_TRUE(fa_->free(got[20], 1).ok());
    EXPECT_EQ(fa_->allocate(1).value_or(Pa(0)), got[20]);
    EXPECT_EQ(fa_->allocate(1).value_or(Pa(0)), got[70]);
    EXPECT_EQ(fa_->allocate(1).value_or(Pa(0)), Pa(kBase + 100 * kFrame));
}

TEST_F(FrameAllocatorTest, RejectsInvalidRequests) {
    EXPECT_EQ(fa_->allocate(0).status(), Status::invalid_argument);
    EXPECT_EQ(fa_->allocate(1, 0).status(), Status::invalid_argument);
    EXPECT_EQ(fa_->allocate(1, 3).status(), Status::invalid_argument);
    EXPECT_EQ(fa_->allocate(1, 768).status(), Status::invalid_argument);
    EXPECT_EQ(fa_->allocate(~u64{0}).status(), Status::no_memory);
    EXPECT_EQ(fa_->allocate(1, u64{1} << 63).status(), Status::no_memory);
    EXPECT_EQ(fa_->free_frames(), fa_->total_frames());
}

TEST_F(FrameAllocatorTest, ExhaustionThenRecovery) {
    const u64 total = fa_->total_frames();
    Result<Pa> all = fa_->allocate(total);
    ASSERT_TRUE(all.ok());
    EXPECT_EQ(all.value(), Pa(kBase));
    EXPECT_EQ(fa_->free_frames(), 0u);
    EXPECT_EQ(fa_->allocate(1).status(), Status::no_memory);
    EXPECT_EQ(fa_->largest_free_run(1), 0u);
    EXPECT_EQ(fa_->next_free_run(Pa(0)).status(), Status::not_found);

    ASSERT_TRUE(fa_->free(Pa(kBase + 77 * kFrame), 2).ok());
    EXPECT_EQ(fa_->allocate(3).status(), Status::no_memory);
    EXPECT_EQ(fa_->allocate(2).value_or(Pa(0)), Pa(kBase + 77 * kFrame));
    EXPECT_EQ(fa_->allocate(1).status(), Status::no_memory);
}

TEST_F(FrameAllocatorTest, AlignedRunsAreAligned) {
    ASSERT_TRUE(fa_->allocate(1).ok()); // kBase is 1 GiB aligned; shift the hint off it
    for (u64 align : {2u, 4u, 16u, 64u, 256u, 512u, 1024u}) {
        Result<Pa> r = fa_->allocate(5, align);
        ASSERT_TRUE(r.ok()) << align;
        EXPECT_TRUE(r.value().is_aligned(align * kFrame)) << align;
    }
}

// Every 2 MiB block is broken by one allocated frame except one, and there is
// a long unaligned free run: only the unbroken block satisfies a 2 MiB request.
TEST_F(FrameAllocatorTest, FindsTheOnly2MiBBlockAmongFragmentation) {
    const u64 total = fa_->total_frames();
    ASSERT_TRUE(fa_->allocate(total).ok());
    const u64 blocks = total / 512; // whole blocks below the metadata
    ASSERT_GE(blocks, 15u);
    const u64 clean = 12;
    auto free_all_but = [&](u64 block, u64 keep) {
        const u64 base = kBase + block * 2 * kMiB;
        if (keep > 0) {
            ASSERT_TRUE(fa_->free(Pa(base), keep).ok());
        }
        if (keep < 511) {
            ASSERT_TRUE(fa_->free(Pa(base + (keep + 1) * kFrame), 511 - keep).ok());
        }
    };
    for (u64 b = 0; b < blocks; ++b) {
        if (b == clean) {
            ASSERT_TRUE(fa_->free(Pa(kBase + b * 2 * kMiB), 512).ok());
        } else if (b == 5) {
            // Frames 5:101 .. 6:398 free: 810 frames, no aligned block.
            ASSERT_TRUE(fa_->free(Pa(kBase + b * 2 * kMiB + 101 * kFrame), 810).ok());
        } else if (b == clean - 1) {
            free_all_but(b, 511); // the clean block's neighbours keep it a 512-frame run
        } else if (b == clean + 1) {
            free_all_but(b, 0);
        } else if (b != 6) {
            free_all_but(b, (b * 37) % 512); // runs across block edges stay below 810
        }
    }
    EXPECT_EQ(fa_->largest_free_run(512), 512u);
    EXPECT_EQ(fa_->largest_free_run(1), 810u);

    Result<Pa> block = fa_->allocate(512, 512);
    ASSERT_TRUE(block.ok());
    EXPECT_EQ(block.value(), Pa(kBase + clean * 2 * kMiB));
    EXPECT_EQ(fa_->allocate(512, 512).status(), Status::no_memory);
    EXPECT_EQ(fa_->largest_free_run(512), 511u); // block 11 up to its kept last frame

    // The unaligned run still serves an unaligned request that only it can hold.
    Result<Pa> unaligned = fa_->allocate(800);
    ASSERT_TRUE(unaligned.ok());
    EXPECT_EQ(unaligned.value(), Pa(kBase + 5 * 2 * kMiB + 101 * kFrame));
}

// --------------------------------------------------------------- free

TEST_F(FrameAllocatorTest, RefusedFreesChangeNothing) {
    const Pa a = fa_->allocate(4).value();
    const u64 free_before = fa_->free_frames();
    const auto runs_before = free_runs(*fa_);
    auto unchanged = [&] {
        EXPECT_EQ(fa_->free_frames(), free_before);
        EXPECT_EQ(free_runs(*fa_), runs_before);
    };

    EXPECT_EQ(fa_->free(a + 0x10, 1).status(), Status::invalid_argument);
    EXPECT_EQ(fa_->free(a, 0).status(), Status::invalid_argument);
    EXPECT_EQ(fa_->free(Pa(kBase + 0x10'0000), 1).status(), Status::not_found); // never allocated
    EXPECT_EQ(fa_->free(a, 5).status(), Status::not_found);                     // one frame too many
    EXPECT_EQ(fa_->free(Pa(kBase - kFrame), 2).status(), Status::out_of_range); // starts below RAM
    EXPECT_EQ(fa_->free(Pa(0x1'0000'0000), 1).status(), Status::out_of_range);  // above RAM
    EXPECT_EQ(fa_->free(a, ~u64{0}).status(), Status::out_of_range);
    EXPECT_EQ(fa_->free(fa_->metadata().base, 1).status(), Status::out_of_range);
    EXPECT_EQ(fa_->free(Pa(0xffff'ffff'ffff'f000), 1).status(), Status::out_of_range);
    unchanged();

    ASSERT_TRUE(fa_->free(a + 2 * kFrame, 1).ok());
    // Freeing the whole run again hits the frame already free: nothing moves.
    EXPECT_EQ(fa_->free(a, 4).status(), Status::not_found);
    EXPECT_EQ(fa_->free_frames(), free_before + 1);
    EXPECT_EQ(fa_->free(a + 2 * kFrame, 1).status(), Status::not_found); // plain double free
    ASSERT_TRUE(fa_->free(a, 2).ok());
    ASSERT_TRUE(fa_->free(a + 3 * kFrame, 1).ok());
    EXPECT_EQ(fa_->free_frames(), fa_->total_frames());
}

TEST(FrameAllocatorFree, RefusesReservedFramesAndHoles) {
    FakeRam window(kBase, 64 * kMiB);
    const PaRange image = range(kBase + 0x20'0000, 0x12'3456);
    FrameAllocator* fa = make(window, {range(kBase, 16 * kMiB), range(kBase + 32 * kMiB, 16 * kMiB)}, {image});
    ASSERT_NE(fa, nullptr);
    const u64 before = fa->free_frames();
    EXPECT_EQ(fa->free(image.base, 1).status(), Status::out_of_range);
    // The frame holding the image's last byte.
    EXPECT_EQ(fa->free(image.base.align_down(kFrame) + 0x12'3000, 1).status(), Status::out_of_range);
    // A run ending inside the image, starting on allocated frames below it.
    const Pa low = fa->allocate(512).value();
    EXPECT_EQ(low, Pa(kBase));
    EXPECT_EQ(fa->free(image.base - kFrame, 2).status(), Status::out_of_range);
    // The hole between the banks, and a run crossing it.
    EXPECT_EQ(fa->free(Pa(kBase + 20 * kMiB), 1).status(), Status::out_of_range);
    EXPECT_EQ(fa->free(Pa(kBase + 16 * kMiB - kFrame), 2).status(), Status::out_of_range);
    EXPECT_EQ(fa->free_frames(), before - 512);
    EXPECT_TRUE(fa->free(low, 512).ok());
    EXPECT_EQ(fa->free_frames(), before);
}

// ------------------------------------------------------------- reporting

TEST_F(FrameAllocatorTest, ReportsFreeRunsAndLargestRuns) {
    const u64 total = fa_->total_frames();
    ASSERT_TRUE(fa_->allocate(total).ok());
    ASSERT_TRUE(fa_->free(Pa(kBase + 3 * kFrame), 10).ok());      // frames 3..12
    ASSERT_TRUE(fa_->free(Pa(kBase + 500 * kFrame), 600).ok());   // 500..1099
    ASSERT_TRUE(fa_->free(Pa(kBase + 2000 * kFrame), 1).ok());    // 2000
    EXPECT_EQ(free_runs(*fa_), (std::vector<PaRange>{range(kBase + 3 * kFrame, 10 * kFrame),
                                                      range(kBase + 500 * kFrame, 600 * kFrame),
                                                      range(kBase + 2000 * kFrame, kFrame)}));
    EXPECT_EQ(fa_->largest_free_run(1), 600u);
    EXPECT_EQ(fa_->largest_free_run(8), 596u);   // from 504
    EXPECT_EQ(fa_->largest_free_run(512), 588u); // from 512
    EXPECT_EQ(fa_->largest_free_run(1024), 76u); // from 1024
    EXPECT_EQ(fa_->largest_free_run(4096), 0u);
    EXPECT_EQ(fa_->largest_free_run(3), 0u); // not a power of two

    // Iteration from the middle of a run starts at `from`, rounded up to a frame.
    Result<PaRange> mid = fa_->next_free_run(Pa(kBase + 600 * kFrame + 1));
    ASSERT_TRUE(mid.ok());
    EXPECT_EQ(mid.value(), range(kBase + 601 * kFrame, 499 * kFrame));
    EXPECT_EQ(fa_->next_free_run(Pa(kBase + 2001 * kFrame)).status(), Status::not_found);
    EXPECT_EQ(fa_->next_free_run(Pa(~u64{0})).status(), Status::not_found);
}

// -------------------------------------------------- randomized vs. model

// Absolute frame numbers of everything free, in order.
using Model = std::set<u64>;

// The allocator promises exact first fit: the lowest aligned run of free frames.
u64 model_first_fit(const Model& m, u64 frames, u64 align) {
    u64 run_start = 0, prev = 0;
    bool in_run = false;
    auto check = [&](u64 end) -> u64 {
        u64 c = align_up(run_start, align);
        return c < end && end - c >= frames ? c : ~u64{0};
    };
    for (u64 f : m) {
        if (!in_run || f != prev + 1) {
            if (in_run) {
                if (u64 c = check(prev + 1); c != ~u64{0}) return c;
            }
            run_start = f;
            in_run = true;
        }
        prev = f;
    }
    return in_run ? check(prev + 1) : ~u64{0};
}

std::vector<PaRange> model_runs(const Model& m) {
    std::vector<PaRange> runs;
    for (u64 f : m) {
        if (!runs.empty() && runs.back().end() == Pa(f * kFrame)) {
            runs.back().size += kFrame;
        } else {
            runs.push_back(range(f * kFrame, kFrame));
        }
    }
    return runs;
}

u64 model_largest(const Model& m, u64 align) {
    u64 best = 0;
    for (const PaRange& r : model_runs(m)) {
        u64 s = align_up(r.base.raw() / kFrame, align), e = r.end().raw() / kFrame;
        if (s < e) best = std::max(best, e - s);
    }
    return best;
}

// What free() must answer, from the model and the allocator's fixed layout,
// in the order the contract lists the checks.
Status model_free_status(const Model& m, const FrameAllocator& fa, u64 first, u64 frames) {
    bool in_one_bank = false;
    for (const PaRange& r : fa.ram()) {
        if (r.contains(range(first * kFrame, frames * kFrame))) in_one_bank = true;
    }
    if (!in_one_bank) return Status::out_of_range;
    for (const PaRange& r : fa.reserved()) {
        if (r.overlaps(range(first * kFrame, frames * kFrame))) return Status::out_of_range;
    }
    for (u64 f = first; f < first + frames; ++f) {
        if (m.count(f) != 0) return Status::not_found;
    }
    return Status::ok;
}

class FrameAllocatorStress : public ::testing::TestWithParam<u32> {};

TEST_P(FrameAllocatorStress, MatchesASetOfFreeFrames) {
    // Three banks with holes (one bank ends off a 2 MiB boundary), and
    // exclusions inside, across and outside them.
    const std::vector<PaRange> ram = {range(kBase + 0x0100'0000, 6 * kMiB + 0x5000), range(kBase, 10 * kMiB + 0x800),
                                      range(kBase + 0x0200'0000, 8 * kMiB)};
    const std::vector<PaRange> excluded = {range(kBase + 0x3'0000, 0x1'2000),
                                           range(kBase + 0x0100'0000 - 0x3000, 0x9000),
                                           range(kBase + 0x0200'4000, 0x800), range(0x1000, 0x1000)};
    FakeRam window(kBase, 0x0300'0000);
    FrameAllocator* fa = make(window, ram, excluded);
    ASSERT_NE(fa, nullptr);

    Model model;
    for (auto r = fa->next_free_run(Pa(0)); r; r = fa->next_free_run(r.value().end())) {
        for (u64 f = r.value().base.raw() / kFrame; f < r.value().end().raw() / kFrame; ++f) model.insert(f);
    }
    ASSERT_EQ(model.size(), fa->total_frames());
    // The model's initial state must agree with the inputs, not only with the allocator.
    for (u64 f : model) {
        ASSERT_TRUE(inside_any(f * kFrame, ram)) << f;
        ASSERT_FALSE(inside_any(f * kFrame, excluded)) << f;
        ASSERT_FALSE(fa->metadata().contains(Pa(f * kFrame))) << f;
    }

    struct Live {
        u64 first;
        u64 frames;
    };
    std::vector<Live> live;
    std::mt19937_64 rng(GetParam());
    auto pick = [&](u64 n) { return std::uniform_int_distribution<u64>(0, n - 1)(rng); };
    const u64 aligns[] = {1, 1, 1, 1, 2, 8, 64, 512};
    u64 allocs = 0, failures = 0, frees = 0, refused = 0;

    for (int op = 0; op < 6000; ++op) {
        const u64 kind = pick(100);
        if (kind < 55 || live.empty()) {
            const u64 size_kind = pick(10);
            const u64 frames = size_kind < 6 ? 1 : size_kind < 9 ? 1 + pick(16) : 64 + pick(600);
            const u64 align = aligns[pick(std::size(aligns))];
            const u64 expect = model_first_fit(model, frames, align);
            Result<Pa> r = fa->allocate(frames, align);
            if (expect == ~u64{0}) {
                ASSERT_EQ(r.status(), Status::no_memory) << "op " << op;
                ++failures;
                continue;
            }
            ASSERT_TRUE(r.ok()) << "op " << op << " frames " << frames << " align " << align;
            ASSERT_EQ(r.value().raw() / kFrame, expect) << "op " << op;
            for (u64 f = expect; f < expect + frames; ++f) ASSERT_EQ(model.erase(f), 1u);
            live.push_back({expect, frames});
            ++allocs;
        } else if (kind < 90) {
            // Free a live run, or a piece of it (the allocator does not track
            // allocations, any allocated run may be freed).
            const usize i = pick(live.size());
            Live l = live[i];
            live.erase(live.begin() + static_cast<std::ptrdiff_t>(i));
            u64 first = l.first, frames = l.frames;
            if (frames > 2 && pick(3) == 0) {
                first = l.first + 1 + pick(frames - 2);
                frames = 1 + pick(l.first + l.frames - first);
                live.push_back({l.first, first - l.first});
                const u64 end = l.first + l.frames;
                if (first + frames < end) live.push_back({first + frames, end - first - frames});
            }
            ASSERT_TRUE(fa->free(Pa(first * kFrame), frames).ok()) << "op " << op;
            for (u64 f = first; f < first + frames; ++f) ASSERT_TRUE(model.insert(f).second);
            ++frees;
        } else {
            // A bad free must be refused and change nothing.
            const u64 before = fa->free_frames();
            u64 first = 0, frames = 1;
            const u64 which = pick(4);
            if (which == 0 && !model.empty()) {
                first = *std::next(model.begin(), static_cast<std::ptrdiff_t>(pick(model.size()))); // double free
            } else if (which == 1 && !live.empty()) {
                const Live& l = live[pick(live.size())]; // one frame too many
                first = l.first;
                frames = l.frames + 1;
            } else if (which == 2) {
                first = fa->reserved()[pick(fa->reserved().size())].base.raw() / kFrame;
            } else {
                first = (kBase + 10 * kMiB + pick(6 * kMiB - 0x3000)) / kFrame; // the hole after bank 0
            }
            const Status expect = model_free_status(model, *fa, first, frames);
            if (expect == Status::ok) continue; // the extra frame happened to be allocated too
            ASSERT_EQ(fa->free(Pa(first * kFrame), frames).status(), expect)
                << "op " << op << std::hex << " frame " << first << " frames " << frames;
            ASSERT_EQ(fa->free_frames(), before);
            ++refused;
        }

        if (op % 250 == 0) {
            ASSERT_EQ(fa->free_frames(), model.size());
            ASSERT_EQ(free_runs(*fa), model_runs(model));
            for (u64 align : {1u, 8u, 512u}) {
                ASSERT_EQ(fa->largest_free_run(align), model_largest(model, align)) << align;
            }
        }
    }
    ASSERT_EQ(free_runs(*fa), model_runs(model));
    // Every branch ran, or this test proved less than it claims.
    EXPECT_GT(allocs, 1000u);
    EXPECT_GT(failures, 10u);
    EXPECT_GT(frees, 1000u);
    EXPECT_GT(refused, 200u);

    for (const Live& l : live) ASSERT_TRUE(fa->free(Pa(l.first * kFrame), l.frames).ok());
    EXPECT_EQ(fa->free_frames(), fa->total_frames());
    EXPECT_EQ(window.misses(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Seeds, FrameAllocatorStress, ::testing::Values(1u, 2u, 3u, 0xdecafu, 20261121u));

// -------------------------------------------------------------- scale

// A 4 GiB machine: 1 Mi frames, 128 KiB of bitmap. Every single-frame
// allocation must be the next frame up; then a 2 MiB block freed in the
// middle must be found by an aligned request.
TEST(FrameAllocatorScale, FourGiBOfSingleFrames) {
    const u64 base = 0x8000'0000;
    FakeRam window(base, 4 * kGiB);
    FrameAllocator* fa = make(window, {range(base, 4 * kGiB)});
    ASSERT_NE(fa, nullptr);
    EXPECT_EQ(fa->total_frames() + fa->metadata().size / kFrame, u64{1} << 20);
    EXPECT_GE(fa->metadata().size, 128 * kKiB);

    const u64 total = fa->total_frames();
    for (u64 i = 0; i < total; ++i) {
        Result<Pa> r = fa->allocate(1);
        ASSERT_TRUE(r.ok()) << i;
        ASSERT_EQ(r.value(), Pa(base + i * kFrame));
    }
    EXPECT_EQ(fa->allocate(1).status(), Status::no_memory);

    const Pa lone = Pa(base + 100 * kFrame);
    const Pa block = Pa(base + 1 * kGiB + 6 * kMiB);
    const Pa near_miss = block - 2 * kMiB + kFrame; // 510 frames ending one frame below the block
    ASSERT_TRUE(fa->free(lone, 1).ok());
    ASSERT_TRUE(fa->free(near_miss, 510).ok());
    ASSERT_TRUE(fa->free(block, 5).ok());
    ASSERT_TRUE(fa->free(block + 5 * kFrame, 507).ok());
    EXPECT_EQ(fa->largest_free_run(512), 512u);
    EXPECT_EQ(fa->allocate(512, 512).value_or(Pa(0)), block);
    EXPECT_EQ(fa->free_frames(), 511u);
    EXPECT_EQ(fa->allocate(1).value_or(Pa(0)), lone);
    EXPECT_EQ(fa->allocate(510).value_or(Pa(0)), near_miss);
    EXPECT_EQ(fa->free_frames(), 0u);
    EXPECT_EQ(window.misses(), 0u);
}

// ------------------------------------------------------------ concurrency

TEST(FrameAllocatorConcurrency, ThreadsNeverGetTheSameFrame) {
    FakeRam window(kBase, 16 * kMiB);
    FrameAllocator* fa = make(window, {range(kBase, 16 * kMiB)});
    ASSERT_NE(fa, nullptr);
    const u64 total = fa->total_frames();
    std::vector<std::atomic<int>> owner(4096);
    std::atomic<u64> collisions{0};

    auto worker = [&](int id, u32 seed) {
        std::mt19937 rng(seed);
        std::vector<std::pair<Pa, u64>> mine;
        for (int i = 0; i < 3000; ++i) {
            if (mine.size() < 40 && rng() % 3 != 0) {
                const u64 n = 1 + rng() % 4;
                Result<Pa> r = fa->allocate(n, rng() % 8 == 0 ? 8 : 1);
                if (!r) continue;
                for (u64 f = 0; f < n; ++f) {
                    int expect = 0;
                    auto& slot = owner[(r.value().raw() - kBase) / kFrame + f];
                    if (!slot.compare_exchange_strong(expect, id)) ++collisions;
                }
                mine.push_back({r.value(), n});
            } else if (!mine.empty()) {
                auto [pa, n] = mine.back();
                mine.pop_back();
                for (u64 f = 0; f < n; ++f) owner[(pa.raw() - kBase) / kFrame + f].store(0);
                if (!fa->free(pa, n).ok()) ++collisions;
            }
        }
        for (auto [pa, n] : mine) {
            for (u64 f = 0; f < n; ++f) owner[(pa.raw() - kBase) / kFrame + f].store(0);
            if (!fa->free(pa, n).ok()) ++collisions;
        }
    };
    std::vector<std::thread> threads;
    for (int t = 1; t <= 4; ++t) threads.emplace_back(worker, t, 1000u + static_cast<u32>(t));
    for (auto& t : threads) t.join();
    EXPECT_EQ(collisions.load(), 0u);
    EXPECT_EQ(fa->free_frames(), total);
}

} // namespace
} // namespace setwise::mm
