// Set/way emulation: what setwise does instead of a guest's DC ISW/CSW/CISW.
//
// Set/way operations act on one CPU's caches, by cache geometry, without
// broadcast; for a vCPU that moves between CPUs and shares them with other
// guests they mean nothing (DDI 0487, "Performing cache maintenance
// instructions": set/way operations are for power-down and boot only). So
// setwise traps them (HCR_EL2.TSW) and, once per guest loop, cleans and
// invalidates by VA to the point of coherency the guest memory that could
// hold what the guest meant: with access tracking, only the pages it has
// touched since the last batch (p2m/p2m.hpp flush_step); without, all of it.
//
//   guest S/W op --trap--> policy: first op while not armed? --yes--> batch,
//                                  arm TVM (see the cache toggles)
//                          the rest of the loop retires without work
//   guest SCTLR write (trapped by TVM) --caches on<->off--> batch
//                          caches on --> TVM disarmed
//
// The batch runs on the way back to the guest, in chunks of at most
// `sw-flush-chunk` bytes; between chunks the P2m lock is released (another
// vCPU's tracking fault goes through) and `between_chunks` runs (the
// scheduler's yield point once it exists). The vCPU resumes only when the
// batch is complete. docs/set-way.md has the full story and the comparison
// with Xen and KVM.
#pragma once

#include <atomic>

#include "cache/geometry.hpp"
#include "p2m/p2m.hpp"
#include "setwise/spinlock.hpp"

namespace setwise::cache {

enum class SetWayKind : u8 { invalidate, clean, clean_invalidate };

const char* setway_kind_name(SetWayKind k);

// Generic-timer ticks (CNTPCT, as the figures count them) in microseconds.
u64 ticks_to_us(u64 ticks);

// What one batch did.
struct BatchResult {
    u64 bytes_cleaned = 0;
    u64 pages_cleaned = 0;     // bytes_cleaned / 4 KiB
    u64 leaves_cleaned = 0;
    u64 subtrees_skipped = 0;
    u64 chunks = 0;
    u64 longest_chunk_ticks = 0;
    u64 ticks = 0;
};

// Per-domain figures (the `s` key, the domain's end, the tests' marker).
struct Figures {
    std::atomic<u64> traps_isw{0};
    std::atomic<u64> traps_csw{0};
    std::atomic<u64> traps_cisw{0};
    std::atomic<u64> batches{0};
    std::atomic<u64> toggles{0};          // cache on<->off transitions seen through TVM
    std::atomic<u64> tvm_traps{0};
    std::atomic<u64> id_traps{0};         // CCSIDR/CLIDR/CSSELR/CTR (TID2)
    std::atomic<u64> pages_cleaned{0};
    std::atomic<u64> bytes_cleaned{0};
    std::atomic<u64> subtrees_skipped{0};
    std::atomic<u64> chunks{0};
    std::atomic<u64> longest_chunk_ticks{0};
    std::atomic<u64> batch_ticks_total{0};
    std::atomic<u64> batch_ticks_max{0};
    std::atomic<u64> last_batch_pages{0};

    void count_trap(SetWayKind k);
    void add_batch(const BatchResult& r);
};

struct FlushConfig {
    bool tracking = true;        // sw-tracking (per domain)
    u64 chunk_bytes = 256 * 1024; // sw-flush-chunk; 0 = unbounded
    // Tracking on but not started yet (an AArch64 domain before its first
    // set/way operation: a guest that never issues one -- 64-bit Linux --
    // never pays a tracking fault). The batch then hides all of RAM first
    // (P2m::track_all, whose TLB invalidation completes), and only then
    // cleans every RAM leaf: a write made before the hide is cleaned by
    // this batch, one made after it faults and is tracked for the next.
    // The caller sets `armed` once the batch returns.
    bool armed = true;
};

// One whole batch over `p2m`, whose RAM is `ram`. Tracking on: the tracked
// walk (P2m::flush_step), which hides each unit as it cleans it; pages a
// vCPU revealed behind the cursor stay valid for the next batch (nothing is
// re-hidden wholesale at the end: that would lose them).
// Tracking off, or on but not armed (then after P2m::track_all): every RAM
// leaf of [ram.base, ram.end()). Each leaf is
// cleaned and invalidated by VA through the hypervisor's map of RAM
// (mm::va_of), then the I-cache is invalidated: a guest may execute what it
// wrote. `between_chunks` is called after each chunk, with no lock held.
template <typename Between>
BatchResult run_batch(p2m::P2m& p2m, IpaRange ram, const FlushConfig& config, Between&& between_chunks);

// The guest-visible cache geometry with `sw-geometry=minimal`: the host's
// CLIDR (same levels, LoC, LoUU, LoUIS) and, per level, a CCSIDR of one set
// and one way with the host's line size, so a clean-all loop is one S/W
// operation per level (KVM does the same since Linux 5.1).
u64 minimal_ccsidr(u64 host_ccsidr);

// Serialises batches of one domain: a vCPU that wants a batch while
// another's runs waits for it, then runs its own (the other's walk may have
// passed pages this vCPU dirtied before its own S/W loop).
// One batch at a time per domain. A vCPU waiting for another's batch must
// not just spin: the holder may be preempted between chunks on this very
// CPU (core/sched.cpp), so lock() takes what to do between attempts -- the
// scheduler's yield.
class BatchLock {
public:
    class [[nodiscard]] Held {
    public:
        explicit Held(BatchLock& l) : lock_(l) {}
        ~Held() { lock_.busy_.store(false, std::memory_order_release); }
        Held(const Held&) = delete;
        Held& operator=(const Held&) = delete;

    private:
        BatchLock& lock_;
    };

    template <typename Wait>
    Held lock(Wait&& wait) {
        while (busy_.exchange(true, std::memory_order_acquire)) wait();
        return Held(*this);
    }
    Held lock() {
        return lock([] { cpu_relax(); });
    }
    // Whether a batch holds it now (a snapshot, for the log).
    bool busy() const { return busy_.load(std::memory_order_acquire); }

private:
    std::atomic<bool> busy_{false};
};

} // namespace setwise::cache

#include "cache/setway_impl.hpp"
