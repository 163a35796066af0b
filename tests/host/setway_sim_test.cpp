// The proof that no dirty line survives a set/way batch: seeded random runs
// of the simulated machine in cache_sim.hpp (per-vCPU caches, TLBs, memory)
// driven by the real P2m (tables, tracking, fault resolution) and the real
// batch runner (cache::run_batch) on the host fake of the arch seam.
//
// The checks themselves are described at the top of cache_sim.hpp. Here:
//  - the random runs, which must report no violation, and must have
//    exercised what they claim to (concurrent accesses, accesses made while
//    the flush holds the lock, pages left for the next batch, toggles);
//  - directed scenarios whose expected clean sets are written out by hand,
//    so the checker is not the only judge;
//  - negative controls: deliberately broken flushes (a dropped clean every
//    7th leaf; Xen's clean-then-hide order; hiding everything again after
//    the walk; never re-hiding) and a broken machine (TLB invalidations
//    lost), each of which the checker must catch.
#include "cache_sim.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

namespace setwise::sim {
namespace {

// A P2m lock held across between_chunks or the observer would hang a run on
// its spinlock: report which seed, instead of a silent ctest timeout.
class Watchdog {
public:
    explicit Watchdog(int seconds) : limit_(seconds) {
        thread_ = std::thread([this] {
            u64 last = ~u64{0};
            int still = 0;
            while (!done_.load()) {
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
                const u64 now = progress_.load();
                still = now == last ? still + 1 : 0;
                last = now;
                if (still > limit_ * 10) {
                    std::fprintf(stderr, "setway_sim_test: no progress for %d s in seed %llu (a lock held across "
                                 "a callback?)\n", limit_, static_cast<unsigned long long>(seed_.load()));
                    std::abort();
                }
            }
        });
    }
    ~Watchdog() {
        done_.store(true);
        thread_.join();
    }
    void at(u64 seed) {
        seed_.store(seed);
        progress_.fetch_add(1);
    }

private:
    int limit_;
    std::atomic<bool> done_{false};
    std::atomic<u64> progress_{0};
    std::atomic<u64> seed_{0};
    std::thread thread_;
};

// Runs `runs` random programs from `first_seed`, with configurations drawn
// from the seed, adjusted by `tweak`.
struct Campaign {
    Report report;
    SimFigures figures;
    double seconds = 0;
};

template <typename Tweak>
Campaign campaign(u64 first_seed, unsigned runs, Tweak&& tweak) {
    Campaign c;
    Watchdog dog(30);
    const auto t0 = std::chrono::steady_clock::now();
    for (u64 seed = first_seed; seed < first_seed + runs; ++seed) {
        dog.at(seed);
        std::mt19937_64 rng(seed * 0x9e3779b97f4a7c15ull);
        auto pick = [&](u64 lo, u64 hi) { return std::uniform_int_distribution<u64>(lo, hi)(rng); };
        static constexpr u64 kChunks[] = {4 * kKiB, 16 * kKiB, 64 * kKiB, 256 * kKiB, 2 * kMiB, 0};
        static constexpr unsigned kLines[] = {8, 32, 96};
        SimConfig cfg;
        cfg.seed = seed;
        cfg.tracking = pick(0, 3) != 0;
        cfg.lazy = cfg.tracking && pick(0, 2) == 0;
        cfg.granule = pick(0, 1) == 0 ? p2m::Granule::page : p2m::Granule::largest;
        cfg.chunk_bytes = kChunks[pick(0, 5)];
        cfg.vcpus = static_cast<unsigned>(pick(2, 4));
        cfg.cache_lines = kLines[pick(0, 2)];
        cfg.tlb_entries = static_cast<unsigned>(pick(1, 8));
        cfg.walk_entries = static_cast<unsigned>(pick(0, 4));
        cfg.steps = 120;
        tweak(cfg);
        auto sim = std::make_unique<CacheSim>(cfg);
        sim->run_random();
        c.report.merge(sim->report());
        c.figures.merge(sim->figures());
    }
    c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return c;
}

// ------------------------------------------------------------ the proof

TEST(SetWaySim, RandomRunsLeaveNoDirtyLineBehind) {
    constexpr unsigned kRuns = 3000;
    const Campaign c = campaign(1, kRuns, [](SimConfig&) {});
    EXPECT_EQ(c.report.total(), 0u) << c.report.describe();

    // The runs did what they claim to: otherwise "no violation" proves little.
    const SimFigures& f = c.figures;
    EXPECT_EQ(f.runs, kRuns);
    EXPECT_GT(f.batches, 10u * kRuns);
    EXPECT_GT(f.quiet_batches, kRuns);
    EXPECT_GT(f.dirty_at_batch_start, 10u * kRuns);  // batches had dirty lines to clean
    EXPECT_GT(f.faults, 10u * kRuns);                // tracking faults went through resolve_fault
    EXPECT_GT(f.concurrent_accesses, 10u * kRuns);   // other vCPUs ran between chunks
    EXPECT_GT(f.locked_accesses, kRuns);             // ... and at the flush's maintenance operations
    EXPECT_GT(f.blocked_accesses, 0u);               // ... some of which had to wait for the lock
    EXPECT_GT(f.carried_pages, 0u);                  // pages left for the next batch (check 5 had work)
    EXPECT_GT(f.toggles, kRuns / 2);
    EXPECT_GT(f.uncached_accesses, kRuns);
    EXPECT_GT(f.unmapped_probes, kRuns);
    EXPECT_GT(f.dirty_evictions, 0u);
    EXPECT_GT(f.tlb_hits, 0u);

    std::printf("setway_sim: %llu runs, %llu accesses (%llu writes, %llu uncached, %llu by other vCPUs between "
                "chunks, %llu at the flush's maintenance operations of which %llu waited for the lock), %llu "
                "tracking faults, %llu unmapped probes\n",
                ull(f.runs), ull(f.accesses), ull(f.writes),
                ull(f.uncached_accesses), ull(f.concurrent_accesses),
                ull(f.locked_accesses), ull(f.blocked_accesses),
                ull(f.faults), ull(f.unmapped_probes));
    std::printf("setway_sim: %llu batches (%llu quiet, %llu cache toggles), %llu pages cleaned in %llu "
                "clean calls, %llu dirty lines at batch starts, %llu pages carried to the next batch, %llu "
                "dirty evictions, %.1f s\n",
                ull(f.batches), ull(f.quiet_batches), ull(f.toggles),
                ull(f.pages_cleaned), ull(f.clean_calls),
                ull(f.dirty_at_batch_start), ull(f.carried_pages),
                ull(f.dirty_evictions), c.seconds);
}

// ------------------------------------------------------------ directed

// 2 MiB at a 2 MiB-aligned PA (one block with Granule::largest), then 64
// pages at a PA that is not (pages whatever the granule).
Layout fixed_layout() {
    Layout l;
    l.ram = {Piece{kRamIpa, 0x8'0020'0000, kBlockSize}, Piece{kRamIpa + kBlockSize, 0x8'4000'3000, 64 * kPageSize}};
    return l;
}

SimConfig directed(bool tracking, p2m::Granule granule, u64 chunk) {
    SimConfig cfg;
    cfg.vcpus = 3;
    cfg.cache_lines = 64;
    cfg.tracking = tracking;
    cfg.granule = granule;
    cfg.chunk_bytes = chunk;
    cfg.layout = fixed_layout();
    return cfg;
}

std::vector<u64> sorted(std::vector<u64> v) {
    std::sort(v.begin(), v.end());
    return v;
}

std::vector<u64> pages(u64 base, u64 n) {
    std::vector<u64> v;
    for (u64 i = 0; i < n; ++i) v.push_back(base + i * kPageSize);
    return v;
}

TEST(SetWaySim, PageGranuleCleansExactlyTheAccessedPages) {
    CacheSim sim(directed(true, p2m::Granule::page, 16 * kKiB));
    const u64 a = kRamIpa + 5 * kPageSize, b = kRamIpa + 300 * kPageSize, c = kRamIpa + kBlockSize + 7 * kPageSize;
    sim.access(0, a + 64, true);
    sim.access(1, b, false);
    sim.access(2, c + 128, true);
    sim.access(1, a, false);
    EXPECT_EQ(sim.lines_held(0, true) + sim.lines_held(2, true), 2u);

    sim.batch(1, false);
    EXPECT_EQ(sorted(sim.last_cleaned()), (std::vector<u64>{a, b, c}));
    EXPECT_EQ(sim.last_result().pages_cleaned, 3u);
    for (unsigned v = 0; v < 3; ++v) EXPECT_EQ(sim.lines_held(v, false), 0u) << "vCPU " << v;

    sim.batch(0, false); // nothing touched since
    EXPECT_TRUE(sim.last_cleaned().empty());

    sim.access(2, b + 64, true);
    sim.batch(2, false);
    EXPECT_EQ(sim.last_cleaned(), (std::vector<u64>{b}));
    EXPECT_EQ(sim.report().total(), 0u) << sim.report().describe();
}

TEST(SetWaySim, BlockGranuleCleansWholeBlocks) {
    CacheSim sim(directed(true, p2m::Granule::largest, 64 * kKiB));
    const u64 in_block = kRamIpa + 77 * kPageSize, page = kRamIpa + kBlockSize + 3 * kPageSize;
    sim.access(0, in_block, true);
    sim.access(1, page, true);
    sim.batch(2, false);
    std::vector<u64> want = pages(kRamIpa, kBlockSize / kPageSize);
    want.push_back(page);
    EXPECT_EQ(sorted(sim.last_cleaned()), want);
    sim.batch(2, false);
    EXPECT_TRUE(sim.last_cleaned().empty());
    EXPECT_EQ(sim.report().total(), 0u) << sim.report().describe();
}

// Tracking armed by the first batch (an AArch64 domain): it hides all of
// RAM, then cleans all of it; the next batch is tracked and cleans only
// what was touched since. (The random runs cover accesses during it.)
TEST(SetWaySim, LazyArmingCleansAllOnceThenTracks) {
    SimConfig cfg = directed(true, p2m::Granule::page, 16 * kKiB);
    cfg.lazy = true;
    CacheSim sim(cfg);
    sim.access(0, kRamIpa + 9 * kPageSize, true);
    sim.batch(1, false);
    EXPECT_EQ(sorted(sim.last_cleaned()), sim.ram_pages());
    const u64 page = kRamIpa + kBlockSize + 5 * kPageSize;
    sim.access(2, page, true);
    sim.batch(1, false);
    EXPECT_EQ(sorted(sim.last_cleaned()), (std::vector<u64>{page}));
    EXPECT_EQ(sim.report().total(), 0u) << sim.report().describe();
}

TEST(SetWaySim, TrackingOffCleansAllRamOnce) {
    for (p2m::Granule g : {p2m::Granule::page, p2m::Granule::largest}) {
        CacheSim sim(directed(false, g, 16 * kKiB));
        sim.access(0, kRamIpa + 9 * kPageSize, true);
        for (int round = 0; round < 2; ++round) {
            sim.batch(1, false);
            EXPECT_EQ(sorted(sim.last_cleaned()), sim.ram_pages());
            EXPECT_EQ(sim.last_result().bytes_cleaned, sim.ram_pages().size() * kPageSize);
            // 16 KiB chunks, the 2 MiB block too (cut into 128 pieces), each
            // leaf counted once: sw-flush-chunk bounds every chunk.
            EXPECT_EQ(sim.last_result().chunks, sim.ram_pages().size() * kPageSize / (16 * kKiB));
            EXPECT_EQ(sim.last_result().leaves_cleaned,
                      g == p2m::Granule::page ? sim.ram_pages().size() : u64{1} + 64);
        }
        EXPECT_EQ(sim.ram_pages().size(), kBlockSize / kPageSize + 64);
        EXPECT_EQ(sim.report().total(), 0u) << sim.report().describe();
    }
}

// The SMP window: vCPU 1 writes a page the walk has already cleaned. The
// batch does not clean it again; the next batch must.
TEST(SetWaySim, WriteBehindTheWalkIsCleanedByTheNextBatch) {
    CacheSim sim(directed(true, p2m::Granule::page, 4 * kKiB));
    const u64 first = kRamIpa, later = kRamIpa + 40 * kPageSize;
    sim.access(1, first, true);
    sim.access(1, later, true);
    int calls = 0;
    sim.batch(0, false, [&] {
        if (calls++ == 0) sim.access(1, first + 64, true); // after the first chunk: `first` is behind the walk
    });
    EXPECT_GT(calls, 0);
    EXPECT_EQ(sorted(sim.last_cleaned()), (std::vector<u64>{first, later}));
    EXPECT_EQ(sim.uncovered_pages(), (std::set<u64>{first}));
    EXPECT_EQ(sim.lines_held(1, true), 1u);

    sim.batch(2, false);
    EXPECT_EQ(sim.last_cleaned(), (std::vector<u64>{first}));
    EXPECT_EQ(sim.lines_held(1, false), 0u);
    EXPECT_EQ(sim.report().total(), 0u) << sim.report().describe();
}

// ------------------------------------------------------------ negative controls

void print_caught(const char* what, unsigned runs, const Campaign& c) {
    std::printf("setway_sim negative control, %s: %u runs, %.1f s, caught %s\n", what, runs, c.seconds,
                c.report.counts().c_str());
}

TEST(SetWaySim, CheckerCatchesAFlushThatSkipsEverySeventhLeaf) {
    const Campaign c = campaign(100'000, 60, [](SimConfig& cfg) { cfg.flush = FlushKind::skip_every_7th; });
    print_caught("every 7th leaf's clean dropped", 60, c);
    EXPECT_GT(c.report.count(Violation::dirty_survived), 0u) << c.report.describe();
    EXPECT_GT(c.report.count(Violation::memory_stale), 0u) << c.report.describe();
    EXPECT_GT(c.report.count(Violation::uncovered_access), 0u) << c.report.describe();
    EXPECT_GT(c.report.count(Violation::clean_not_all_ram), 0u) << c.report.describe(); // the tracking-off runs
}

TEST(SetWaySim, CheckerCatchesXensCleanThenHideOrder) {
    const Campaign c = campaign(200'000, 100, [](SimConfig& cfg) {
        cfg.flush = FlushKind::clean_then_hide;
        cfg.tracking = true;
    });
    print_caught("Xen's order (clean, then hide)", 100, c);
    EXPECT_GT(c.report.count(Violation::dirty_survived), 0u) << c.report.describe();
    EXPECT_GT(c.report.count(Violation::uncovered_access), 0u) << c.report.describe();
    EXPECT_GT(c.report.count(Violation::quiet_not_clean), 0u) << c.report.describe();
}

// The walk done right, then everything hidden again at its end, as
// design.md (step 5), docs/set-way.md and cache/setway.hpp describe it:
// pages revealed behind the cursor during the walk are hidden dirty.
TEST(SetWaySim, CheckerCatchesRehidingEverythingAtTheEnd) {
    const Campaign c = campaign(500'000, 100, [](SimConfig& cfg) {
        cfg.flush = FlushKind::rehide_at_end;
        cfg.tracking = true;
    });
    print_caught("run_batch, then track_all", 100, c);
    EXPECT_GT(c.report.count(Violation::dirty_survived), 0u) << c.report.describe();
    EXPECT_GT(c.report.count(Violation::uncovered_access), 0u) << c.report.describe();
}

TEST(SetWaySim, CheckerCatchesXensOrderInTheDirectedWindow) {
    SimConfig cfg = directed(true, p2m::Granule::page, 4 * kKiB);
    cfg.flush = FlushKind::clean_then_hide;
    CacheSim sim(cfg);
    const u64 first = kRamIpa, later = kRamIpa + 40 * kPageSize;
    sim.access(1, first, true);
    sim.access(1, later, true);
    int calls = 0;
    sim.batch(0, false, [&] {
        if (calls++ == 0) sim.access(1, first + 64, true);
    });
    sim.batch(2, false);
    EXPECT_TRUE(sim.last_cleaned().empty()); // the write behind the walk is lost
    EXPECT_GT(sim.report().count(Violation::dirty_survived), 0u) << sim.report().describe();
    EXPECT_GT(sim.report().count(Violation::quiet_not_clean), 0u) << sim.report().describe();
}

TEST(SetWaySim, CheckerCatchesCleansThatAreNeverRehidden) {
    const Campaign c = campaign(300'000, 20, [](SimConfig& cfg) {
        cfg.flush = FlushKind::never_hide;
        cfg.tracking = true;
    });
    print_caught("tracking-off runner on a tracked P2m", 20, c);
    EXPECT_GT(c.report.count(Violation::spurious_clean), 0u) << c.report.describe();
}

TEST(SetWaySim, CheckerCatchesLostTlbInvalidations) {
    const Campaign c = campaign(400'000, 100, [](SimConfig& cfg) {
        cfg.drop_tlbi = true;
        cfg.tracking = true;
        cfg.tlb_entries = 16;
    });
    print_caught("stage-2 TLB invalidations lost", 100, c);
    EXPECT_GT(c.report.count(Violation::uncovered_access), 0u) << c.report.describe();
}

} // namespace
} // namespace setwise::sim
