// A simulated machine for the set/way proof (tests/host/setway_sim_test.cpp):
// per-vCPU data caches, TLBs and memory, driven by the real p2m::P2m
// (tables, access tracking, fault resolution) and the real batch runner
// (cache::run_batch) through the host fake of the arch seam.
//
//   vCPU v: access(ipa, read|write)
//     │
//     ├─ v's TLB (leaf entries) and walk cache (table entries), filled by
//     │  successful walks, dropped by the stage-2 TLB maintenance the p2m
//     │  issues (CpuLog observer: TLBI by IPA drops every entry whose range
//     │  holds the IPA, whatever the level; TLBI by VMID drops all)
//     ├─ miss: a stage-2 walk, as the MMU does it, over the P2m's tables
//     │  (VTTBR_EL2.BADDR, two concatenated level-1 roots, descriptor valid
//     │  and table bits, AF and S2AP on the leaf)
//     ├─ fault: the test plays the trap handler, P2m::resolve_fault(ipa),
//     │  then the access is retried. An access made while the flush code
//     │  holds the P2m lock (from the CpuLog observer) cannot take that
//     │  path: it waits ("blocked") and completes when the lock is free.
//     v
//   caches on:  v's cache, 64-byte lines, fully associative, random
//               eviction (a dirty victim is written back). Caches are
//               coherent with each other (MOESI-like: a write takes the
//               line away from every other cache, with no write-back; a
//               read miss copies another cache's line, dirty owner kept).
//   caches off: memory directly (the guest turned SCTLR.C off).
//
//   flush code ── arch::dcache_clean_invalidate(va, size) ──> observer:
//               VA == PA (mm::va_of); every vCPU's lines in the range are
//               written back if dirty and dropped: clean+invalidate by VA to
//               the PoC is broadcast to every cache.
//
// Concurrency (one host thread plays every CPU): while vCPU v's batch runs,
// other vCPUs make random accesses (a) between chunks (run_batch's
// between_chunks, no lock held: their faults go through resolve_fault) and
// (b) at the flush code's maintenance operations (the CpuLog observer, with
// the P2m lock possibly held): after a clean, and just before or just after
// a TLB invalidation takes effect. An access in (b) that needs a fault waits
// for the lock and completes at the next between_chunks or when the batch
// returns.
//
// Data is a version number per line: every write makes a new, globally
// increasing version; memory holds the version last written back (or
// written uncached). So "memory holds every write made before the batch
// began" is memory[line] >= the newest version of the line at that moment.
//
// Checks (each a Violation kind; CacheSim::report() collects them):
//  1 dirty_survived, memory_stale: after every batch, no cache holds a
//    dirty line whose version was written before the batch began, and
//    memory holds, for every line, at least the newest version it had when
//    the batch began.
//  2 uncovered_access: every access must be followed by a clean of its
//    page no later than the end of the first batch that *begins* after it
//    (an access made during batch k may wait until the end of batch k+1:
//    the walk may have passed its page). As sets of leaves: the leaves
//    accessed before the batch and not cleaned since are all cleaned.
//  3 clean_not_all_ram (tracking off): the batch cleaned every RAM page
//    exactly once and nothing else.
//  4 tracking on: clean_outside_ram (every cleaned byte is mapped RAM),
//    clean_twice (no page twice in one batch), clean_not_leaf (a clean
//    covers whole leaves as mapped: whole 2 MiB blocks with
//    Granule::largest), spurious_clean, checked at each clean (a leaf is
//    cleaned only if one of its pages was accessed after the leaf's
//    previous clean) and as sets (cleaned leaves <= leaves accessed before
//    the batch and not cleaned since + leaves accessed during it). With
//    Granule::page and 2: a batch cleans all the pages with an access
//    before it began not yet followed by a clean, and besides them only
//    pages accessed during it (those the walk had not passed yet; the
//    others are the next batch's, by 2); with nothing running during the
//    batch, exactly the accessed-and-not-cleaned pages.
//  5 quiet_not_clean: after a batch during which no vCPU ran, every access
//    ever made has been followed by a clean (so what a batch left behind
//    for the next one was picked up), and no cache holds any line.
//  + cache toggles (a vCPU turns its caches off, accesses memory uncached,
//    turns them on; both toggles are batches; other vCPUs only read
//    meanwhile, since a guest writing a line cached on one CPU and uncached
//    on another at once races itself): stale_uncached_read (an uncached
//    read sees less than what was written before the caches-off batch),
//    writeback_regressed (a write-back overwrote newer memory: a stale
//    dirty line), stale_copy_after_on (after the caches-on batch, a cached
//    copy older than the newest version).
//  + stale_cached_read (coherence), fault_unresolved, unmapped_resolved,
//    wrong_pa, tlbi_wrong_vmid, invalidate_guest_ram, bytes_mismatch
//    (BatchResult against the cleans seen), clean_outside_batch,
//    table_memory.
#pragma once

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "arch/fake/cpu.hpp"
#include "cache/setway.hpp"
#include "mm/hyp_map.hpp"
#include "mm/page_table.hpp"
#include "p2m/p2m.hpp"
#include "p2m/stage2_format.hpp"
#include "p2m/vtcr.hpp"

namespace setwise::sim {

inline constexpr u64 kLineSize = 64;

// For printf's %llu.
inline unsigned long long ull(u64 v) { return static_cast<unsigned long long>(v); }
inline constexpr u64 kBlockSize = 2 * kMiB;
inline constexpr u64 kRamIpa = 0x4000'0000;
// A passed-through device page: mapped, never RAM, never to be cleaned.
// By default in the same 1 GiB as RAM, past its end, so that tracking
// keeps a table above a device valid (Stage2Format::holds_device).
inline constexpr u64 kDeviceIpa = kRamIpa + 7 * kMiB;
inline constexpr u64 kDevicePa = 0x0900'0000;
// RAM above 512 GiB sits in the second of the two concatenated level-1
// root tables (IPA[39] selects it).
inline constexpr u64 kHighRamIpa = 0x80'4000'0000;

// One run of guest RAM: IPA -> PA, both page aligned.
struct Piece {
    u64 ipa = 0;
    u64 pa = 0;
    u64 size = 0;
};

struct Layout {
    std::vector<Piece> ram; // the first at kRamIpa; run_batch's RAM range ends with the last below kHighRamIpa
    u64 device_ipa = kDeviceIpa;
};

enum class FlushKind : u8 {
    real,            // cache::run_batch, as setwise runs it
    skip_every_7th,  // negative control: every 7th leaf's clean is dropped
    clean_then_hide, // negative control: Xen's order, clean the valid leaves, then P2m::track_all()
    never_hide,      // negative control: the tracking-off runner on a tracked P2m (cleans, never re-hides)
    rehide_at_end,   // negative control: run_batch, then P2m::track_all() ("the top level is hidden again")
};

enum class Violation : u8 {
    dirty_survived,
    memory_stale,
    uncovered_access,
    clean_not_all_ram,
    clean_outside_ram,
    clean_twice,
    clean_not_leaf,
    spurious_clean,
    quiet_not_clean,
    stale_uncached_read,
    writeback_regressed,
    stale_copy_after_on,
    stale_cached_read,
    fault_unresolved,
    unmapped_resolved,
    wrong_pa,
    tlbi_wrong_vmid,
    invalidate_guest_ram,
    bytes_mismatch,
    clean_outside_batch,
    table_memory,
    setup,
    count_,
};

inline const char* violation_name(Violation v) {
    switch (v) {
    case Violation::dirty_survived: return "dirty_survived";
    case Violation::memory_stale: return "memory_stale";
    case Violation::uncovered_access: return "uncovered_access";
    case Violation::clean_not_all_ram: return "clean_not_all_ram";
    case Violation::clean_outside_ram: return "clean_outside_ram";
    case Violation::clean_twice: return "clean_twice";
    case Violation::clean_not_leaf: return "clean_not_leaf";
    case Violation::spurious_clean: return "spurious_clean";
    case Violation::quiet_not_clean: return "quiet_not_clean";
    case Violation::stale_uncached_read: return "stale_uncached_read";
    case Violation::writeback_regressed: return "writeback_regressed";
    case Violation::stale_copy_after_on: return "stale_copy_after_on";
    case Violation::stale_cached_read: return "stale_cached_read";
    case Violation::fault_unresolved: return "fault_unresolved";
    case Violation::unmapped_resolved: return "unmapped_resolved";
    case Violation::wrong_pa: return "wrong_pa";
    case Violation::tlbi_wrong_vmid: return "tlbi_wrong_vmid";
    case Violation::invalidate_guest_ram: return "invalidate_guest_ram";
    case Violation::bytes_mismatch: return "bytes_mismatch";
    case Violation::clean_outside_batch: return "clean_outside_batch";
    case Violation::table_memory: return "table_memory";
    case Violation::setup: return "setup";
    case Violation::count_: break;
    }
    return "?";
}

// Violations of many runs: a count per kind and the first few described.
class Report {
public:
    static constexpr usize kExamples = 12;

    void note(Violation v) { ++counts_[static_cast<usize>(v)]; }
    bool wants_example() const { return examples_.size() < kExamples; }
    void example(Violation v, const std::string& what) {
        if (wants_example()) examples_.push_back(std::string(violation_name(v)) + ": " + what);
    }
    void merge(const Report& o) {
        for (usize i = 0; i < kKinds; ++i) counts_[i] += o.counts_[i];
        for (const std::string& e : o.examples_)
            if (examples_.size() < kExamples) examples_.push_back(e);
    }
    u64 count(Violation v) const { return counts_[static_cast<usize>(v)]; }
    u64 total() const {
        u64 t = 0;
        for (u64 c : counts_) t += c;
        return t;
    }
    // "kind=count ..." for every kind seen.
    std::string counts() const {
        std::string s;
        for (usize i = 0; i < kKinds; ++i)
            if (counts_[i] != 0)
                s += std::string(violation_name(static_cast<Violation>(i))) + "=" + std::to_string(counts_[i]) + " ";
        return s;
    }
    std::string describe() const {
        std::string s = counts();
        for (const std::string& e : examples_) s += "\n  " + e;
        return s;
    }

private:
    static constexpr usize kKinds = static_cast<usize>(Violation::count_);
    u64 counts_[kKinds]{};
    std::vector<std::string> examples_;
};

struct SimFigures {
    u64 runs = 0;
    u64 accesses = 0;            // completed guest accesses, every kind
    u64 writes = 0;
    u64 uncached_accesses = 0;
    u64 faults = 0;              // resolve_fault calls for RAM
    u64 unmapped_probes = 0;
    u64 concurrent_accesses = 0; // by other vCPUs while a batch ran (between chunks)
    u64 locked_accesses = 0;     // by other vCPUs at a maintenance operation of the flush code
    u64 blocked_accesses = 0;    // ... that needed a fault and waited for the lock
    u64 tlb_hits = 0;
    u64 batches = 0;
    u64 quiet_batches = 0;
    u64 toggles = 0;
    u64 pages_cleaned = 0;
    u64 clean_calls = 0;
    u64 dirty_at_batch_start = 0; // dirty lines the batches had to deal with
    u64 carried_pages = 0;        // accessed during a batch and left for the next one
    u64 dirty_evictions = 0;

    void merge(const SimFigures& o) {
        runs += o.runs;
        accesses += o.accesses;
        writes += o.writes;
        uncached_accesses += o.uncached_accesses;
        faults += o.faults;
        unmapped_probes += o.unmapped_probes;
        concurrent_accesses += o.concurrent_accesses;
        locked_accesses += o.locked_accesses;
        blocked_accesses += o.blocked_accesses;
        tlb_hits += o.tlb_hits;
        batches += o.batches;
        quiet_batches += o.quiet_batches;
        toggles += o.toggles;
        pages_cleaned += o.pages_cleaned;
        clean_calls += o.clean_calls;
        dirty_at_batch_start += o.dirty_at_batch_start;
        carried_pages += o.carried_pages;
        dirty_evictions += o.dirty_evictions;
    }
};

struct SimConfig {
    u64 seed = 1;
    unsigned vcpus = 3;
    unsigned cache_lines = 48; // per vCPU
    unsigned tlb_entries = 8;  // per vCPU, leaf translations
    unsigned walk_entries = 4; // per vCPU, table descriptors
    bool tracking = true;
    // Tracking on but armed only by the first batch (an AArch64 domain:
    // cache::FlushConfig::armed): that batch hides all, then cleans all.
    bool lazy = false;
    p2m::Granule granule = p2m::Granule::page;
    u64 chunk_bytes = 16 * kKiB;
    Layout layout;             // no RAM: a random one from the seed
    unsigned steps = 150;      // random program length
    FlushKind flush = FlushKind::real;
    // Other vCPUs access memory at the flush code's maintenance operations
    // (with the P2m lock possibly held: they cannot fault, they wait).
    bool locked_accesses = true;
    // Model fault: TLB invalidations are not applied (checks the TLB model
    // matters: a control expects violations with it).
    bool drop_tlbi = false;
};

// Table pages for the P2m: aligned_alloc'd host pages, whose addresses are
// the "physical" addresses the walker sees. Misuse is counted, not fatal.
class SimTableMemory final : public mm::TableMemory {
public:
    SimTableMemory() = default;
    ~SimTableMemory() {
        for (const auto& [base, n] : blocks_) std::free(reinterpret_cast<void*>(base));
    }
    SimTableMemory(const SimTableMemory&) = delete;
    SimTableMemory& operator=(const SimTableMemory&) = delete;

    Result<Pa> allocate_table() override { return allocate_tables(1); }
    Result<Pa> allocate_tables(unsigned n) override {
        void* p = std::aligned_alloc(n * kPageSize, n * kPageSize);
        if (p == nullptr) return Status::no_memory;
        std::memset(p, 0, n * kPageSize);
        const u64 base = reinterpret_cast<u64>(p);
        blocks_[base] = n;
        for (unsigned i = 0; i < n; ++i) pages_.insert(base + i * kPageSize);
        return Pa(base);
    }
    void free_table(Pa pa) override { free_tables(pa, 1); }
    void free_tables(Pa pa, unsigned n) override {
        auto it = blocks_.find(pa.raw());
        if (it == blocks_.end() || it->second != n) {
            ++errors_;
            return;
        }
        for (unsigned i = 0; i < n; ++i) pages_.erase(pa.raw() + i * kPageSize);
        blocks_.erase(it);
        std::free(reinterpret_cast<void*>(pa.raw()));
    }
    u64* table(Pa pa) override {
        if (pages_.count(pa.raw()) == 0) {
            ++errors_;
            std::memset(scratch_, 0, sizeof scratch_);
            return scratch_;
        }
        return reinterpret_cast<u64*>(pa.raw());
    }
    bool owns(u64 pa) const { return pages_.count(align_down(pa, kPageSize)) != 0; }
    u64 errors() const { return errors_; }

private:
    std::unordered_set<u64> pages_;
    std::map<u64, unsigned> blocks_;
    u64 errors_ = 0;
    alignas(4096) u64 scratch_[512]{};
};

// A random layout at kRamIpa: a 2 MiB run whose IPA and PA are both 2 MiB
// aligned (a block with Granule::largest), a run of pages whose PA is not
// (pages whatever the granule), and sometimes a hole (unmapped, inside the
// RAM range run_batch is given) then another run at kRamIpa + 4 MiB. With
// tracking on, the device page may sit in the hole, sharing a level-2 table
// with RAM pages, and some RAM may sit in the second root table.
inline Layout random_layout(std::mt19937_64& rng, bool tracking) {
    auto pick = [&](u64 lo, u64 hi) { return std::uniform_int_distribution<u64>(lo, hi)(rng); };
    Layout l;
    l.ram.push_back(Piece{kRamIpa, 0x8'0000'0000 + pick(0, 7) * kBlockSize, kBlockSize});
    const u64 pages = pick(16, 200); // ends below kRamIpa + 3 MiB
    l.ram.push_back(Piece{kRamIpa + kBlockSize, 0x8'4000'0000 + (2 * pick(0, 100) + 1) * kPageSize, pages * kPageSize});
    const bool third = pick(0, 1) == 1;
    if (third)
        l.ram.push_back(Piece{kRamIpa + 2 * kBlockSize, 0x8'8000'0000 + pick(0, 7) * kBlockSize,
                              pick(0, 1) == 1 ? kBlockSize : 64 * kPageSize});
    // Tracking off cleans every mapping of the RAM range, devices included
    // (run_batch does not look at the type): keep the device out of it.
    if (tracking || !third) l.device_ipa = kRamIpa + 3 * kMiB + 512 * kKiB;
    if (tracking && pick(0, 2) == 0)
        l.ram.push_back(Piece{kHighRamIpa, 0x8'c000'0000 + pick(0, 7) * kBlockSize,
                              pick(0, 1) == 1 ? kBlockSize : 32 * kPageSize});
    return l;
}

class CacheSim {
public:
    explicit CacheSim(const SimConfig& cfg) : cfg_(cfg), rng_(cfg.seed), cpus_(cfg.vcpus) {
        previous_log_ = arch::fake::set_log(&log_);
        log_.set_observer(&CacheSim::observe, this);
        setup();
    }
    ~CacheSim() {
        log_.set_observer(nullptr, nullptr);
        arch::fake::set_log(previous_log_);
        p2m_.destroy();
    }
    CacheSim(const CacheSim&) = delete;
    CacheSim& operator=(const CacheSim&) = delete;

    const Report& report() const { return report_; }
    const SimFigures& figures() const { return fig_; }
    const std::vector<u64>& ram_pages() const { return ram_pages_; }
    const std::vector<Piece>& layout() const { return layout_; }
    u64 device_ipa() const { return device_ipa_; }
    // IPA pages the last batch cleaned, in the order of the cleans.
    std::vector<u64> last_cleaned() const {
        std::vector<u64> v;
        for (const auto& [ipa, size] : cleaned_)
            for (u64 o = 0; o < size; o += kPageSize) v.push_back(ipa + o);
        return v;
    }
    const cache::BatchResult& last_result() const { return last_result_; }
    p2m::P2m& p2m() { return p2m_; }
    // Pages with an access not yet followed by a clean.
    std::set<u64> uncovered_pages() const {
        std::set<u64> s;
        for (const auto& [page, t] : uncovered_) s.insert(page);
        return s;
    }
    // Lines held by vCPU v's cache (dirty ones if `dirty_only`).
    usize lines_held(unsigned v, bool dirty_only) const {
        usize n = 0;
        for (const auto& [line, l] : cpus_[v].cache) n += (!dirty_only || l.dirty) ? 1 : 0;
        return n;
    }

    // The random program: accesses by every vCPU, set/way batches with
    // other vCPUs running between chunks and at the flush's maintenance
    // operations, cache toggles, quiet batches; a quiet batch at the end.
    void run_random() {
        fig_.runs = 1;
        if (!ready_) return;
        hot_.clear();
        for (int i = 0; i < 10; ++i) hot_.push_back(ram_pages_[pick(0, ram_pages_.size() - 1)]);
        for (unsigned step = 0; step < cfg_.steps; ++step) {
            const u64 r = pick(0, 99);
            if (r < 82) {
                random_access(static_cast<unsigned>(pick(0, cfg_.vcpus - 1)));
            } else if (r < 84) {
                probe_unmapped(static_cast<unsigned>(pick(0, cfg_.vcpus - 1)));
            } else if (r < 94) {
                batch(static_cast<unsigned>(pick(0, cfg_.vcpus - 1)), true);
                // Sometimes at once a second batch with nothing running:
                // what the first left behind must be picked up (check 5).
                if (pick(0, 3) == 0) batch(static_cast<unsigned>(pick(0, cfg_.vcpus - 1)), false);
            } else if (r < 97) {
                toggle_episode(static_cast<unsigned>(pick(0, cfg_.vcpus - 1)));
            } else {
                for (int i = 0; i < 8; ++i) random_access(static_cast<unsigned>(pick(0, cfg_.vcpus - 1)));
            }
        }
        batch(0, false);
    }

    // One guest access by vCPU v, with caches as v has them; completes any
    // accesses that waited for the P2m lock meanwhile.
    void access(unsigned v, u64 ipa, bool write) {
        do_access(v, ipa, write, false);
        drain_blocked();
    }

    // One batch, as vCPU `v` asks for it. `random_others`: other vCPUs make
    // random accesses between chunks and at the flush's maintenance
    // operations; `extra` runs between chunks too. Without either the batch
    // is quiet (nothing else runs). Then every check.
    void batch(unsigned v, bool random_others, const std::function<void()>& extra = {}) {
        begin_batch(v, random_others, random_others || static_cast<bool>(extra));
        auto between = [&] {
            drain_blocked();
            if (random_others_ && chance(p_between_)) {
                const u64 n = pick(1, 2);
                for (u64 i = 0; i < n; ++i) {
                    const unsigned u = other_vcpu(v);
                    if (u == kNone) break;
                    ++fig_.concurrent_accesses;
                    random_access(u);
                }
            }
            if (extra) extra();
        };
        const cache::BatchResult r = flush(between);
        if (!armed_) revealed_while_arming_ = leaves_of(accessed_during_);
        armed_ = true;
        drain_blocked();
        end_batch(r);
    }

private:
    static constexpr unsigned kNone = ~0u;

    struct Line {
        u64 version = 0;
        bool dirty = false;
    };
    struct TlbEntry {
        u64 base = 0;
        u64 size = 0;
        u64 pa = 0;
    };
    struct WalkEntry {
        unsigned level = 0;
        u64 base = 0;
        u64 next = 0;
    };
    struct Cpu {
        std::map<u64, Line> cache; // by line PA
        std::vector<TlbEntry> tlb;
        std::vector<WalkEntry> walks;
        bool caches_on = true;
        bool blocked = false;
    };
    struct Blocked {
        unsigned vcpu;
        u64 ipa;
        bool write;
    };
    struct Walk {
        bool ok = false;
        u64 pa = 0;
    };

    u64 pick(u64 lo, u64 hi) { return std::uniform_int_distribution<u64>(lo, hi)(rng_); }
    bool chance(double p) { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_) < p; }

    void fail(Violation v, const char* fmt, ...) __attribute__((format(printf, 3, 4))) {
        report_.note(v);
        if (!report_.wants_example()) return;
        char buf[400];
        va_list ap;
        va_start(ap, fmt);
        std::vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        char head[96];
        std::snprintf(head, sizeof head, "seed %llu batch %llu: ", static_cast<unsigned long long>(cfg_.seed),
                      static_cast<unsigned long long>(fig_.batches));
        report_.example(v, std::string(head) + buf);
    }

    // ------------------------------------------------------------ setup

    void setup() {
        // A lazily armed domain's first batch walks its one RAM range (as
        // setwise's domains have): no RAM beyond it.
        const Layout l = cfg_.layout.ram.empty() ? random_layout(rng_, cfg_.tracking && !cfg_.lazy) : cfg_.layout;
        layout_ = l.ram;
        device_ipa_ = l.device_ipa;
        Result<p2m::Stage2Geometry> g = p2m::stage2_geometry(2, 40);
        if (!g.ok()) return fail(Violation::setup, "stage2_geometry: %s", status_name(g.status()));
        Result<p2m::P2m> p = p2m::P2m::create(mem_, 1, g.value());
        if (!p.ok()) return fail(Violation::setup, "P2m::create: %s", status_name(p.status()));
        p2m_ = std::move(p.value());
        u64 end = kRamIpa;
        for (const Piece& piece : layout_) {
            const Result<void> m = p2m_.map_ram(Ipa(piece.ipa), Pa(piece.pa), piece.size, cfg_.granule);
            if (!m.ok()) return fail(Violation::setup, "map_ram: %s", status_name(m.status()));
            for (u64 o = 0; o < piece.size; o += kPageSize) ram_pages_.push_back(piece.ipa + o);
            if (piece.ipa < kHighRamIpa) end = std::max(end, piece.ipa + piece.size);
            if (mem_.owns(piece.pa) || mem_.owns(piece.pa + piece.size - 1))
                return fail(Violation::setup, "RAM PA %llx collides with a table page", ull(piece.pa));
        }
        std::sort(ram_pages_.begin(), ram_pages_.end());
        ram_ = IpaRange{Ipa(kRamIpa), end - kRamIpa};
        const Result<void> d = p2m_.map_device(Ipa(device_ipa_), Pa(kDevicePa), kPageSize);
        if (!d.ok()) return fail(Violation::setup, "map_device: %s", status_name(d.status()));
        armed_ = !cfg_.lazy;
        if (cfg_.tracking && armed_ && !track_all()) return fail(Violation::setup, "track_all failed");
        ready_ = true;
    }

    // Hides the root-level RAM entries; false if there was nothing to hide.
    bool track_all() { return p2m_.track_all() != 0; }

    // The RAM piece holding PA range [pa, pa + size), or nullptr.
    const Piece* piece_of_pa(u64 pa, u64 size) const {
        for (const Piece& p : layout_)
            if (pa >= p.pa && pa - p.pa < p.size && size <= p.size - (pa - p.pa)) return &p;
        return nullptr;
    }
    const Piece* piece_of_ipa(u64 ipa) const {
        for (const Piece& p : layout_)
            if (ipa >= p.ipa && ipa - p.ipa < p.size) return &p;
        return nullptr;
    }
    // The leaf the P2m was asked to map at `ipa` (RAM): [base, base + size).
    std::pair<u64, u64> leaf_of(u64 ipa) const {
        const Piece* p = piece_of_ipa(ipa);
        if (cfg_.granule == p2m::Granule::largest && p != nullptr && is_aligned(p->ipa | p->pa, kBlockSize)) {
            const u64 base = align_down(ipa, kBlockSize);
            if (base + kBlockSize <= p->ipa + p->size) return {base, kBlockSize};
        }
        return {align_down(ipa, kPageSize), kPageSize};
    }

    // ------------------------------------------------------------ flush

    cache::BatchResult flush(const std::function<void()>& between) {
        switch (cfg_.flush) {
        case FlushKind::real:
            return cache::run_batch(p2m_, ram_, cache::FlushConfig{cfg_.tracking, cfg_.chunk_bytes, armed_}, between);
        case FlushKind::skip_every_7th: return flush_skipping(between);
        case FlushKind::clean_then_hide: return flush_clean_then_hide(between);
        case FlushKind::never_hide:
            return cache::run_batch(p2m_, ram_, cache::FlushConfig{false, cfg_.chunk_bytes}, between);
        case FlushKind::rehide_at_end: {
            const cache::BatchResult r =
                cache::run_batch(p2m_, ram_, cache::FlushConfig{cfg_.tracking, cfg_.chunk_bytes}, between);
            (void)p2m_.track_all();
            return r;
        }
        }
        return {};
    }

    static inline u64 skip_counter_ = 0;
    static void clean_skipping(Pa pa, u64 size) {
        if (++skip_counter_ % 7 == 0) return;
        arch::dcache_clean_invalidate(mm::va_of(pa), size);
    }

    u64 budget() const { return cfg_.chunk_bytes == 0 ? ~u64{0} : cfg_.chunk_bytes; }

    // run_batch with a clean callback that drops every 7th leaf.
    cache::BatchResult flush_skipping(const std::function<void()>& between) {
        cache::BatchResult r;
        skip_counter_ = 0;
        if (walk_tracked_) {
            p2m::P2m::FlushCursor cursor{};
            while (!cursor.done) {
                const p2m::P2m::FlushStep step = p2m_.flush_step(cursor, budget(), &CacheSim::clean_skipping);
                r.bytes_cleaned += step.bytes_cleaned;
                if (!cursor.done) between();
            }
        } else {
            u64 chunk = 0;
            for (u64 ipa = ram_.base.raw(); ipa < ram_.end().raw();) {
                const Result<p2m::Translation> t = p2m_.translate(Ipa(ipa));
                if (!t.ok()) {
                    ipa += kPageSize;
                    continue;
                }
                const u64 leaf = mm::level_size(t.value().level);
                const u64 n = std::min(leaf - (ipa & (leaf - 1)), ram_.end().raw() - ipa);
                clean_skipping(t.value().pa, n);
                r.bytes_cleaned += n;
                ipa += n;
                chunk += n;
                if (chunk >= budget() && ipa < ram_.end().raw()) {
                    chunk = 0;
                    between();
                }
            }
        }
        r.bytes_cleaned = 0; // what was really cleaned is not what was claimed
        return r;
    }

    // Xen's order: clean every valid leaf (the walk reads the tables as the
    // hardware does, without the lock), then hide everything at the end.
    cache::BatchResult flush_clean_then_hide(const std::function<void()>& between) {
        cache::BatchResult r;
        u64 chunk = 0;
        for (u64 ipa = ram_.base.raw(); ipa < ram_.end().raw();) {
            unsigned level = 0;
            u64 pa = 0;
            const bool valid = table_walk(ipa, level, pa);
            const u64 size = mm::level_size(level);
            if (valid && piece_of_pa(pa, size) != nullptr) { // RAM leaves only
                arch::dcache_clean_invalidate(mm::va_of(Pa(pa)), size);
                chunk += size;
            }
            ipa = align_down(ipa, size) + size;
            if (chunk >= budget() && ipa < ram_.end().raw()) {
                chunk = 0;
                between();
            }
        }
        (void)p2m_.track_all(); // hides nothing if the root is still hidden: not a failure here
        return r;
    }

    // ------------------------------------------------------------ batches

    void begin_batch(unsigned v, bool random_others, bool concurrent) {
        // Leaves touched during the arming batch (the full walk after
        // track_all) were revealed by their fault and, cleaned by the walk
        // or not, stay valid: the next batch may clean them once more.
        if (walk_tracked_) revealed_while_arming_.clear();
        in_batch_ = true;
        // A lazily armed domain's first batch is a full walk (checked as one).
        walk_tracked_ = cfg_.tracking && armed_;
        batch_vcpu_ = v;
        random_others_ = random_others;
        concurrent_ = concurrent;
        batch_start_ = now_;
        batch_start_version_ = version_;
        before_.clear();
        cleaned_.clear();
        cleaned_bytes_ = 0;
        accessed_during_.clear();
        uncovered_at_start_ = uncovered_pages();
        // How much other vCPUs do during the batch: a few accesses between
        // chunks and a few at maintenance operations, spread over the whole
        // walk whatever the chunk size (expected counts from the layout).
        u64 bytes = ram_.size;
        if (walk_tracked_) {
            bytes = 0;
            for (u64 base : leaves_of(uncovered_at_start_)) bytes += leaf_of(base).second;
        }
        const double chunks = static_cast<double>(std::max<u64>(1, bytes / budget()));
        const double records = 2.0 * static_cast<double>(std::max<u64>(1, expected_leaves(bytes)));
        p_between_ = std::min(1.0, static_cast<double>(pick(2, 10)) / chunks);
        p_observe_ = std::min(0.25, static_cast<double>(pick(2, 10)) / records);
        for (const Cpu& c : cpus_)
            for (const auto& [line, l] : c.cache) fig_.dirty_at_batch_start += l.dirty ? 1 : 0;
        log_.clear();
    }

    void end_batch(const cache::BatchResult& r) {
        in_batch_ = false;
        last_result_ = r;
        ++fig_.batches;
        if (!concurrent_) ++fig_.quiet_batches;
        fig_.pages_cleaned += cleaned_bytes_ / kPageSize;

        // 1. Nothing written before the batch began is only in a cache.
        usize dirty_old = 0;
        std::string example;
        for (unsigned v = 0; v < cpus_.size(); ++v) {
            for (const auto& [line, l] : cpus_[v].cache) {
                if (!l.dirty || l.version > batch_start_version_) continue;
                if (dirty_old++ == 0)
                    example = "line " + hex(line) + " (ipa " + hex(ipa_of_pa(line)) + ") dirty in vCPU " +
                              std::to_string(v) + "'s cache, version " + std::to_string(l.version);
            }
        }
        if (dirty_old != 0)
            fail(Violation::dirty_survived, "%zu line(s) dirtied before the batch still dirty, e.g. %s", dirty_old,
                 example.c_str());
        usize stale = 0;
        for (const auto& [line, newest] : latest_) {
            const u64 ver = at_batch_start(line);
            if (memory(line) >= ver) continue;
            if (stale++ == 0)
                example = "line " + hex(line) + " (ipa " + hex(ipa_of_pa(line)) + ") memory version " +
                          std::to_string(memory(line)) + " < " + std::to_string(ver);
        }
        if (stale != 0)
            fail(Violation::memory_stale, "%zu line(s) not in memory after the batch, e.g. %s", stale, example.c_str());

        // 2. Every access before the batch began was followed by a clean.
        usize uncovered = 0;
        for (const auto& [page, t] : uncovered_) {
            if (t > batch_start_) continue;
            if (uncovered++ == 0) example = "page " + hex(page);
        }
        if (uncovered != 0)
            fail(Violation::uncovered_access, "%zu page(s) accessed before the batch not cleaned after, e.g. %s",
                 uncovered, example.c_str());

        // The cleans as IPA ranges, in address order: overlaps are pages
        // cleaned twice.
        std::vector<std::pair<u64, u64>> ranges = cleaned_;
        std::sort(ranges.begin(), ranges.end());
        usize overlaps = 0;
        for (usize i = 1; i < ranges.size(); ++i)
            overlaps += ranges[i].first < ranges[i - 1].first + ranges[i - 1].second ? 1 : 0;
        if (!walk_tracked_) {
            // 3. All RAM, each page once, nothing else (every range was
            // checked to lie in RAM as it was cleaned).
            if (overlaps != 0 || cleaned_bytes_ != ram_pages_.size() * kPageSize)
                fail(Violation::clean_not_all_ram, "cleaned %llu page(s) in %zu range(s), %zu overlapping; RAM has %zu",
                     ull(cleaned_bytes_ / kPageSize), ranges.size(), overlaps, ram_pages_.size());
        } else {
            // 4. No page twice; as sets of leaves, accessed before <=
            // cleaned <= accessed before + accessed during.
            if (overlaps != 0) fail(Violation::clean_twice, "%zu range(s) overlap another", overlaps);
            std::set<u64> cleaned;
            for (const auto& [ipa, size] : ranges)
                for (u64 a = ipa; a < ipa + size; a = leaf_of(a).first + leaf_of(a).second) cleaned.insert(leaf_of(a).first);
            const std::set<u64> must = leaves_of(uncovered_at_start_);
            std::set<u64> may = must;
            for (u64 p : leaves_of(accessed_during_)) may.insert(p);
            for (u64 p : revealed_while_arming_) may.insert(p);
            for (u64 p : must)
                if (cleaned.count(p) == 0) {
                    fail(Violation::uncovered_access, "leaf %s accessed before the batch not cleaned", hex(p).c_str());
                    break;
                }
            for (u64 p : cleaned)
                if (may.count(p) == 0) {
                    fail(Violation::spurious_clean, "leaf %s cleaned, not accessed since its last clean",
                         hex(p).c_str());
                    break;
                }
        }
        if (cfg_.flush == FlushKind::real &&
            (r.bytes_cleaned != cleaned_bytes_ || r.pages_cleaned != cleaned_bytes_ / kPageSize))
            fail(Violation::bytes_mismatch, "BatchResult says %llu bytes / %llu pages, %llu bytes were cleaned",
                 ull(r.bytes_cleaned), ull(r.pages_cleaned),
                 ull(cleaned_bytes_));

        // 5. A batch nobody ran during leaves nothing behind.
        if (!concurrent_) {
            usize held = 0;
            for (const Cpu& c : cpus_) held += c.cache.size();
            if (!uncovered_.empty() || held != 0)
                fail(Violation::quiet_not_clean, "after a quiet batch %zu page(s) uncleaned since their access, "
                     "%zu line(s) still cached", uncovered_.size(), held);
        } else {
            fig_.carried_pages += uncovered_.size();
        }
        if (mem_.errors() != 0) fail(Violation::table_memory, "%llu table memory misuse(s)", ull(mem_.errors()));
    }

    // Roughly how many leaves hold `bytes` of RAM with this granule.
    u64 expected_leaves(u64 bytes) const {
        return cfg_.granule == p2m::Granule::page ? bytes / kPageSize : bytes / kBlockSize + 64;
    }

    // The bases of the leaves holding `pages`.
    std::set<u64> leaves_of(const std::set<u64>& pages) const {
        std::set<u64> out;
        for (u64 p : pages) out.insert(leaf_of(p).first);
        return out;
    }

    // The newest version of `line` when the batch began.
    u64 at_batch_start(u64 line) const {
        auto it = before_.find(line);
        return it != before_.end() ? it->second : latest(line);
    }
    // A write is about to replace latest_[line]: keep what it was at the
    // batch's start.
    void overwriting(u64 line) {
        if (in_batch_) before_.try_emplace(line, latest(line));
    }

    // A vCPU turns its caches off and on again: the toggle batch, uncached
    // accesses (others only read meanwhile: a guest that writes a line
    // cached on one CPU and uncached on another at once is racing itself),
    // the batch of turning them on, then no stale copy may be left.
    void toggle_episode(unsigned v) {
        ++fig_.toggles;
        exclusive_ = v;
        batch(v, true);
        required_.clear();
        for (const auto& [line, newest] : latest_) required_[line] = at_batch_start(line);
        cpus_[v].caches_on = false;
        const u64 n = pick(4, 30);
        for (u64 i = 0; i < n; ++i) {
            if (pick(0, 9) < 7) {
                random_access(v);
            } else {
                const unsigned u = other_vcpu(v);
                if (u != kNone) random_access(u);
            }
        }
        batch(v, true);
        cpus_[v].caches_on = true;
        for (unsigned u = 0; u < cpus_.size(); ++u)
            for (const auto& [line, l] : cpus_[u].cache)
                if (l.version < latest(line)) {
                    fail(Violation::stale_copy_after_on, "vCPU %u holds line %s version %llu < %llu", u,
                         hex(line).c_str(), ull(l.version), ull(latest(line)));
                    break;
                }
        stale_ok_.clear();
        required_.clear();
        exclusive_ = kNone;
    }

    // ------------------------------------------------------------ accesses

    unsigned other_vcpu(unsigned not_this) {
        std::vector<unsigned> c;
        for (unsigned u = 0; u < cpus_.size(); ++u)
            if (u != not_this && u != active_ && !cpus_[u].blocked && !(in_batch_ && u == batch_vcpu_)) c.push_back(u);
        if (c.empty()) return kNone;
        return c[pick(0, c.size() - 1)];
    }

    u64 random_ipa() {
        const u64 page = pick(0, 9) < 7 ? hot_.empty() ? ram_pages_[0] : hot_[pick(0, hot_.size() - 1)]
                                        : ram_pages_[pick(0, ram_pages_.size() - 1)];
        const u64 line = pick(0, 9) < 7 ? pick(0, 3) : pick(0, kPageSize / kLineSize - 1);
        return page + line * kLineSize;
    }

    void random_access(unsigned v) {
        // Others only read while a vCPU has its caches off.
        const bool read_only = exclusive_ != kNone && v != exclusive_;
        const bool write = !read_only && pick(0, 1) == 1;
        do_access(v, random_ipa(), write, false);
        if (active_ == kNone) drain_blocked();
    }

    // A guest access where nothing is mapped: the walk must fault and
    // resolve_fault must not claim it (it goes to MMIO emulation or an abort).
    void probe_unmapped(unsigned v) {
        u64 ipa = 0x1000'0000 + pick(0, 255) * kPageSize;
        if (pick(0, 1) == 1) {
            const u64 in_ram = kRamIpa + pick(0, ram_.size / kPageSize - 1) * kPageSize;
            if (piece_of_ipa(in_ram) == nullptr) ipa = in_ram; // the hole
        }
        if (piece_of_ipa(ipa) != nullptr) return;
        ++fig_.unmapped_probes;
        if (translate_hw(v, ipa).ok) return fail(Violation::unmapped_resolved, "unmapped ipa %s translates", hex(ipa).c_str());
        const Result<bool> r = p2m_.resolve_fault(Ipa(ipa));
        if (r.ok() && r.value())
            fail(Violation::unmapped_resolved, "resolve_fault(%s) claims an unmapped IPA", hex(ipa).c_str());
        if (translate_hw(v, ipa).ok)
            fail(Violation::unmapped_resolved, "unmapped ipa %s translates after resolve_fault", hex(ipa).c_str());
    }

    void do_access(unsigned v, u64 ipa, bool write, bool locked) {
        const unsigned outer = active_;
        active_ = v;
        Walk w;
        for (int attempt = 0; attempt < 6 && !w.ok; ++attempt) {
            w = translate_hw(v, ipa);
            if (w.ok) break;
            if (locked) {
                // The fault handler would wait for the lock the flush holds.
                cpus_[v].blocked = true;
                blocked_.push_back(Blocked{v, ipa, write});
                ++fig_.blocked_accesses;
                active_ = outer;
                return;
            }
            ++fig_.faults;
            const Result<bool> r = p2m_.resolve_fault(Ipa(ipa));
            if (!r.ok() || !r.value()) {
                fail(Violation::fault_unresolved, "RAM ipa %s: resolve_fault gave %s", hex(ipa).c_str(),
                     r.ok() ? "false" : status_name(r.status()));
                active_ = outer;
                return;
            }
        }
        if (!w.ok) {
            fail(Violation::fault_unresolved, "ipa %s still faults after resolve_fault said it was resolved",
                 hex(ipa).c_str());
            active_ = outer;
            return;
        }
        const Piece* p = piece_of_ipa(ipa);
        if (p == nullptr || w.pa != p->pa + (ipa - p->ipa)) {
            fail(Violation::wrong_pa, "ipa %s translated to %s", hex(ipa).c_str(), hex(w.pa).c_str());
            active_ = outer;
            return;
        }
        ++fig_.accesses;
        fig_.writes += write ? 1 : 0;
        const u64 page = align_down(ipa, kPageSize);
        uncovered_.try_emplace(page, ++now_);
        if (in_batch_) accessed_during_.insert(page);
        const u64 line = align_down(w.pa, kLineSize);
        if (cpus_[v].caches_on) {
            cached_access(v, line, write);
        } else {
            uncached_access(line, write);
        }
        active_ = outer;
    }

    void drain_blocked() {
        while (!blocked_.empty()) {
            const Blocked b = blocked_.front();
            blocked_.erase(blocked_.begin());
            cpus_[b.vcpu].blocked = false;
            do_access(b.vcpu, b.ipa, b.write, false);
        }
    }

    void cached_access(unsigned v, u64 line, bool write) {
        if (write) {
            for (unsigned u = 0; u < cpus_.size(); ++u)
                if (u != v) cpus_[u].cache.erase(line);
            overwriting(line);
            const u64 ver = ++version_;
            latest_[line] = ver;
            insert(v, line, Line{ver, true});
            return;
        }
        u64 ver = 0;
        auto it = cpus_[v].cache.find(line);
        if (it != cpus_[v].cache.end()) {
            ver = it->second.version;
        } else {
            bool found = false;
            for (unsigned u = 0; u < cpus_.size() && !found; ++u) {
                auto o = cpus_[u].cache.find(line);
                if (u != v && o != cpus_[u].cache.end()) {
                    ver = o->second.version;
                    found = true;
                }
            }
            if (!found) ver = memory(line);
            insert(v, line, Line{ver, false});
        }
        if (ver != latest(line) && stale_ok_.count(line) == 0)
            fail(Violation::stale_cached_read, "vCPU %u read line %s version %llu, newest %llu", v, hex(line).c_str(),
                 ull(ver), ull(latest(line)));
    }

    void uncached_access(u64 line, bool write) {
        ++fig_.uncached_accesses;
        if (write) {
            overwriting(line);
            const u64 ver = ++version_;
            latest_[line] = ver;
            memory_[line] = ver;
            stale_ok_.insert(line); // cached copies elsewhere are now the guest's problem
            return;
        }
        auto req = required_.find(line);
        if (req != required_.end() && memory(line) < req->second)
            fail(Violation::stale_uncached_read, "caches-off read of line %s sees version %llu, %llu was written "
                 "before the toggle", hex(line).c_str(), ull(memory(line)),
                 ull(req->second));
    }

    void insert(unsigned v, u64 line, Line l) {
        auto& c = cpus_[v].cache;
        auto it = c.find(line);
        if (it != c.end()) {
            it->second = l;
            return;
        }
        if (c.size() >= cfg_.cache_lines) {
            auto victim = std::next(c.begin(), static_cast<long>(pick(0, c.size() - 1)));
            if (victim->second.dirty) {
                ++fig_.dirty_evictions;
                write_back(victim->first, victim->second.version);
            }
            c.erase(victim);
        }
        c.emplace(line, l);
    }

    void write_back(u64 line, u64 ver) {
        u64& m = memory_[line];
        if (ver < m)
            fail(Violation::writeback_regressed, "write-back of line %s version %llu over newer %llu",
                 hex(line).c_str(), ull(ver), ull(m));
        m = std::max(m, ver);
    }

    u64 memory(u64 line) const {
        auto it = memory_.find(line);
        return it == memory_.end() ? 0 : it->second;
    }
    u64 latest(u64 line) const {
        auto it = latest_.find(line);
        return it == latest_.end() ? 0 : it->second;
    }

    // ------------------------------------------------------------ MMU

    // The stage-2 walk the MMU of vCPU v makes, through its TLB and walk
    // cache. Fills them on success.
    Walk translate_hw(unsigned v, u64 ipa) {
        Cpu& c = cpus_[v];
        for (const TlbEntry& e : c.tlb)
            if (ipa - e.base < e.size) {
                ++fig_.tlb_hits;
                return Walk{true, e.pa + (ipa - e.base)};
            }
        using F = p2m::Stage2Format;
        if (ipa >> 40 != 0) return {};
        const u64 root = p2m::VttbrEl2(p2m_.vttbr()).get<p2m::VttbrEl2::baddr>() << 1;
        u64 table = root + ((ipa >> 39) << kPageShift);
        for (unsigned level = 1; level <= 3; ++level) {
            const u64 span = mm::level_size(level);
            const u64 base = align_down(ipa, span);
            if (level < 3) {
                auto cached = std::find_if(c.walks.begin(), c.walks.end(),
                                           [&](const WalkEntry& e) { return e.level == level && e.base == base; });
                if (cached != c.walks.end()) {
                    table = cached->next;
                    continue;
                }
            }
            const u64 d = mem_.table(Pa(table))[mm::level_index(ipa, level)];
            if (F::valid::get(d) == 0) return {};
            const bool table_bit = F::table_or_page::get(d) != 0;
            if (level < 3 && table_bit) {
                table = F::output_address(d).raw();
                remember(c.walks, WalkEntry{level, base, table}, cfg_.walk_entries);
                continue;
            }
            if (level == 3 && !table_bit) return {}; // reserved encoding: a translation fault
            if (F::af::get(d) == 0 || (F::s2ap::get(d) & F::kS2apRead) == 0 ||
                (F::s2ap::get(d) & F::kS2apWrite) == 0)
                return {}; // access flag or permission fault: not RAM as setwise maps it
            const u64 out = F::output_address(d).raw();
            remember(c.tlb, TlbEntry{base, span, out}, cfg_.tlb_entries);
            return Walk{true, out + (ipa - base)};
        }
        return {};
    }

    // Whether `ipa` has a valid path in the tables now (no TLB), and the
    // level where the walk stopped (its leaf, or the invalid entry).
    bool table_walk(u64 ipa, unsigned& level_out, u64& pa_out) {
        using F = p2m::Stage2Format;
        const u64 root = p2m::VttbrEl2(p2m_.vttbr()).get<p2m::VttbrEl2::baddr>() << 1;
        u64 table = root + ((ipa >> 39) << kPageShift);
        for (unsigned level = 1; level <= 3; ++level) {
            level_out = level;
            const u64 d = mem_.table(Pa(table))[mm::level_index(ipa, level)];
            if (F::valid::get(d) == 0) return false;
            if (level < 3 && F::table_or_page::get(d) != 0) {
                table = F::output_address(d).raw();
                continue;
            }
            pa_out = F::output_address(d).raw();
            return true;
        }
        return false;
    }

    template <typename E>
    void remember(std::vector<E>& v, const E& e, unsigned capacity) {
        if (capacity == 0) return;
        if (v.size() < capacity) {
            v.push_back(e);
        } else {
            v[pick(0, v.size() - 1)] = e;
        }
    }

    void tlb_invalidate(u64 ipa) {
        for (Cpu& c : cpus_) {
            std::erase_if(c.tlb, [&](const TlbEntry& e) { return ipa - e.base < e.size; });
            std::erase_if(c.walks, [&](const WalkEntry& e) { return ipa - e.base < mm::level_size(e.level); });
        }
    }

    // ------------------------------------------------------------ the seam

    static void observe(void* ctx, const arch::fake::CpuRecord& r) { static_cast<CacheSim*>(ctx)->on_record(r); }

    void on_record(const arch::fake::CpuRecord& r) {
        using arch::fake::CpuOp;
        // Another vCPU runs at this very moment, possibly while the flush
        // code holds the P2m lock: its access completes only if it needs no
        // fault (else it waits for the lock). At a TLB invalidation it may
        // come just before the invalidation completes (through what its TLB
        // still holds) or just after.
        const bool inject =
            ready_ && cfg_.locked_accesses && in_batch_ && random_others_ && !injecting_ && chance(p_observe_);
        const bool tlbi = r.op == CpuOp::stage2_tlb_invalidate_ipa || r.op == CpuOp::stage2_tlb_invalidate_vmid;
        const bool before = inject && tlbi && pick(0, 1) == 0;
        if (before) inject_access();
        switch (r.op) {
        case CpuOp::dcache_clean_invalidate: on_clean(r.va.raw(), r.size, true); break;
        case CpuOp::dcache_clean: on_clean(r.va.raw(), r.size, false); break;
        case CpuOp::dcache_invalidate:
            if (piece_of_pa(r.va.raw(), 1) != nullptr)
                fail(Violation::invalidate_guest_ram, "invalidate without clean of guest RAM at %s",
                     hex(r.va.raw()).c_str());
            break;
        case CpuOp::stage2_tlb_invalidate_ipa:
        case CpuOp::stage2_tlb_invalidate_vmid: {
            using V = p2m::VttbrEl2;
            if (V(r.vttbr).get<V::vmid>() != V(p2m_.vttbr()).get<V::vmid>()) {
                if (ready_) fail(Violation::tlbi_wrong_vmid, "TLBI for VMID %llu", ull(V(r.vttbr).get<V::vmid>()));
                break;
            }
            if (cfg_.drop_tlbi) break;
            if (r.op == CpuOp::stage2_tlb_invalidate_vmid) {
                for (Cpu& c : cpus_) {
                    c.tlb.clear();
                    c.walks.clear();
                }
            } else {
                tlb_invalidate(r.ipa.raw());
            }
            break;
        }
        case CpuOp::icache_invalidate_all:
        case CpuOp::tlb_invalidate_el2_all:
        case CpuOp::page_table_sync: break;
        }
        if (inject && !before) inject_access();
    }

    void inject_access() {
        const unsigned u = other_vcpu(kNone);
        if (u == kNone) return;
        injecting_ = true;
        ++fig_.locked_accesses;
        const bool read_only = exclusive_ != kNone && u != exclusive_;
        do_access(u, random_ipa(), !read_only && pick(0, 1) == 1, true);
        injecting_ = false;
    }

    void on_clean(u64 pa, u64 size, bool invalidate) {
        if (!in_batch_) fail(Violation::clean_outside_batch, "clean of %s outside a batch", hex(pa).c_str());
        ++fig_.clean_calls;
        // Hardware first: every cache, every line of the range.
        for (Cpu& c : cpus_) {
            for (auto it = c.cache.lower_bound(align_down(pa, kLineSize)); it != c.cache.end() && it->first < pa + size;) {
                if (it->second.dirty) write_back(it->first, it->second.version);
                it->second.dirty = false;
                it = invalidate ? c.cache.erase(it) : std::next(it);
            }
        }
        if (!is_aligned(pa | size, kPageSize) || size == 0) {
            fail(Violation::clean_outside_ram, "clean of [%s, +%llx) not whole pages", hex(pa).c_str(),
                 ull(size));
            return;
        }
        const Piece* p = piece_of_pa(pa, size);
        if (p == nullptr) {
            fail(Violation::clean_outside_ram, "clean of PA [%s, +%llx) is not guest RAM", hex(pa).c_str(),
                 ull(size));
            return;
        }
        const u64 ipa = p->ipa + (pa - p->pa);
        if (walk_tracked_) {
            // Whole leaves, each with an access since its previous clean.
            const auto first = leaf_of(ipa);
            const auto last = leaf_of(ipa + size - 1);
            if (first.first != ipa || last.first + last.second != ipa + size)
                fail(Violation::clean_not_leaf, "clean of ipa [%s, +%llx) is not whole leaves", hex(ipa).c_str(),
                     ull(size));
            for (u64 leaf = ipa; leaf < ipa + size;) {
                const auto [base, len] = leaf_of(leaf);
                bool accessed = revealed_while_arming_.count(base) != 0;
                for (u64 o = 0; o < len && !accessed; o += kPageSize) accessed = uncovered_.count(base + o) != 0;
                if (!accessed)
                    fail(Violation::spurious_clean, "leaf %s cleaned with no access since its last clean",
                         hex(base).c_str());
                leaf = base + len;
            }
        }
        if (size / kPageSize > uncovered_.size()) {
            std::erase_if(uncovered_, [&](const auto& e) { return e.first - ipa < size; });
        } else {
            for (u64 o = 0; o < size; o += kPageSize) uncovered_.erase(ipa + o);
        }
        cleaned_.emplace_back(ipa, size);
        cleaned_bytes_ += size;
    }

    u64 ipa_of_pa(u64 pa) const {
        const Piece* p = piece_of_pa(pa, 1);
        return p == nullptr ? ~u64{0} : p->ipa + (pa - p->pa);
    }
    static std::string hex(u64 v) {
        char b[24];
        std::snprintf(b, sizeof b, "%#llx", static_cast<unsigned long long>(v));
        return b;
    }

    SimConfig cfg_;
    std::mt19937_64 rng_;
    arch::fake::CpuLog log_;
    arch::fake::CpuLog* previous_log_ = nullptr;
    SimTableMemory mem_;
    p2m::P2m p2m_;
    std::vector<Piece> layout_;
    u64 device_ipa_ = kDeviceIpa;
    IpaRange ram_{};
    std::vector<u64> ram_pages_;
    std::vector<u64> hot_;
    bool ready_ = false;
    bool armed_ = true;        // tracking started (cfg_.lazy: by the first batch)
    bool walk_tracked_ = true; // this batch walks tracked (tracking on and armed)

    std::vector<Cpu> cpus_;
    std::unordered_map<u64, u64> memory_; // line -> version written back
    std::unordered_map<u64, u64> latest_; // line -> newest version written
    u64 version_ = 0;
    u64 now_ = 0;
    std::unordered_map<u64, u64> uncovered_; // IPA page -> time of its oldest access not followed by a clean
    unsigned active_ = kNone;                // vCPU whose access is in progress
    std::vector<Blocked> blocked_;
    bool injecting_ = false;

    bool in_batch_ = false;
    bool random_others_ = false; // random accesses by other vCPUs during the batch
    double p_between_ = 0;       // ... at each between_chunks call
    double p_observe_ = 0;       // ... at each maintenance operation
    bool concurrent_ = false;    // anything at all runs during the batch
    unsigned batch_vcpu_ = kNone;
    u64 batch_start_ = 0;
    u64 batch_start_version_ = 0;
    std::unordered_map<u64, u64> before_;          // line -> newest version at the batch's start, if written since
    std::vector<std::pair<u64, u64>> cleaned_;     // IPA ranges cleaned by the batch
    u64 cleaned_bytes_ = 0;
    std::set<u64> accessed_during_;
    std::set<u64> revealed_while_arming_;
    std::set<u64> uncovered_at_start_;
    cache::BatchResult last_result_{};

    unsigned exclusive_ = kNone;               // the vCPU with its caches off
    std::unordered_map<u64, u64> required_;    // what its uncached reads must see
    std::unordered_set<u64> stale_ok_;         // lines written uncached: cached copies may be stale

    Report report_;
    SimFigures fig_;
};

} // namespace setwise::sim
