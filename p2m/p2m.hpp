// A domain's stage-2 translation (the p2m, "physical to machine"): guest
// IPAs to host PAs, with the attributes the guest cannot override.
//
//   guest VA --stage 1 (guest's)--> IPA --stage 2 (this)--> PA
//
// Tables use the generic walker (mm/page_table.hpp) over the stage-2
// descriptor format (p2m/stage2_format.hpp) and the geometry VTCR_EL2 was
// computed for (p2m/vtcr.hpp): for setwise's 40-bit guest IPA the walk
// starts at level 1 in two concatenated root tables.
//
// Locking: each P2m has one SpinLock. Every public operation takes it,
// lookups included (the stage-2 fault handler translates under it, so it
// never sees a half-done unmap). Table pages are allocated and freed with it
// held: it is taken before the frame allocator's lock, and nothing else is
// taken under it. TLB maintenance runs under it (broadcast TLBI and DSB,
// no lock), and so does a flush step's `clean` callback (cache maintenance
// by VA, no lock).
//
// TLB maintenance: map() only fills invalid entries, which no TLB caches
// (DDI 0487 D8.13), so it needs none; it ends with arch::page_table_sync()
// so the new entries are visible to every walker when it returns (a vCPU
// that faulted on them meanwhile finds them valid under the lock and
// retries). unmap() invalidates each removed entry by IPA (arch::
// stage2_tlb_invalidate_ipa, which includes the VMID's stage-1 entries)
// and ends with the same sync; destroy() invalidates the whole VMID before
// it frees anything.
//
// ACCESS TRACKING (sw-tracking=on; entry states in p2m/stage2_format.hpp)
//
// A set/way batch must write back what the guest may have left dirty in a
// cache, and only that. A page can be dirtied only through a stage-2
// translation, so the p2m hides RAM entries (valid bit clear, "tracked"
// bit set) and sees each first touch as a translation fault:
//
//   track_all        domain built: hide every root-level RAM entry
//   resolve_fault    a fault under a tracked entry: reveal the path to the
//                    IPA, hiding each tracked table's children before the
//                    table itself becomes valid (tracking stays
//                    hierarchical: a touch opens one path, not a subtree)
//   flush_step       the batch: visit the valid RAM entries in IPA order,
//                    skipping every tracked subtree whole; hide each one,
//                    complete its TLB invalidation, then clean what was
//                    valid below it
//
//   level 1   [ R ]                        after a fault at X under a
//              |                           tracked R: R and its path are
//   level 2   [ t | T | t ... t ]          valid (upper case), every
//                   |                      sibling on the way is tracked
//   level 3   [ t | t | X | t ... t ]      (t)
//
// A flush unit is a valid RAM entry the walk hides and cleans as a whole:
// a leaf (TLB invalidation by IPA), or a RAM-only table spanning at most
// the step's byte budget (VMID-wide invalidation: TLBI by IPA would miss
// the other pages below it, and there can be hundreds). A valid table that
// is larger, holds a device mapping, or contains the point the step
// resumed from is descended into instead, and "closed" once the walk has
// passed its end: hidden (VMID-wide invalidation, shared with the step's
// next one or made at its end) if none of its children is valid any more,
// else left valid, its valid children being pages
// touched behind the cursor that the next batch must find.
//
// Why nothing is lost. Two invariants, kept under the P2m lock:
//
//  (H) No TLB or walk cache holds a translation through a tracked entry.
//      Hiding an entry a walk could reach is always followed by its TLB
//      invalidation, completed before the lock is dropped (track_all, a
//      unit, a close -- whose invalidation may wait until the step's end:
//      no child of a closed table is valid, so nothing completes through
//      it meanwhile). resolve_fault hides children only of a tracked
//      table, which no walk reaches until it reveals that table, after a
//      DSB that publishes the hidden children first.
//  (J) Every page that may be dirty (written through stage 2 since it was
//      last cleaned) lies on a path of valid entries from the root.
//      A guest write needs a valid path (H). track_all's precondition is
//      that nothing is dirty. resolve_fault hides only what lies below a
//      tracked entry, which (J) says is clean. A close hides a table only
//      when no child is valid, so no dirty page is below it. A unit hides entry E and completes the
//      TLB invalidation, after which no CPU can write below E (H), and
//      every write made through E before it has been observed (DDI 0487
//      D8.13, "TLB maintenance instructions": a completed TLBI and DSB
//      also complete the memory accesses that used the old translation);
//      only then does it clean every valid leaf below E, which includes
//      every dirty one. So after a unit nothing below E is dirty.
//
// Claims, for a walk from FlushCursor{} to done:
//  1. Every page dirty when the walk starts is clean when it is done.
//     Its path is valid (J), and only the walk hides a valid entry whose
//     parent is valid (resolve_fault hides only below tracked entries,
//     track_all is not called during a walk), never before reaching it:
//     the cursor arrives at it with its path valid and cleans it in a unit.
//  2. A page written during the walk is cleaned by this walk or is still
//     on a valid path when it is done, so the next walk cleans it (1).
//     Ahead of the cursor it is the previous case. Behind it, it was
//     revealed by a fault after its unit; nothing hides it before the next
//     walk (closes skip a table with a valid child).
//  3. A page written while its unit runs: before the TLB invalidation
//     completes, the write is observed and then cleaned; after, the vCPU
//     faults and waits for the lock, and the page is revealed behind the
//     cursor (2).
// Cleaning first and invalidating after (Xen's p2m_set_way_flush, then
// p2m_invalidate_root) breaks 3: a write between the clean and the hiding
// is dirty in a hidden page that no later batch visits.
#pragma once

#include <atomic>

#include "arch/arm64/registers.hpp"
#include "arch/cpu.hpp"
#include "mm/frame_allocator.hpp"
#include "mm/page_table.hpp"
#include "p2m/stage2_format.hpp"
#include "p2m/vtcr.hpp"
#include "setwise/bits.hpp"
#include "setwise/result.hpp"
#include "setwise/spinlock.hpp"

namespace setwise::p2m {

// VTTBR_EL2, the stage-2 translation table base (DDI 0487 D19.2,
// "VTTBR_EL2"): with VTCR_EL2.VS == 0 the VMID is 8 bits and [63:56] are
// RES0. BADDR holds the root's address bits [47:1]; for concatenated roots
// the bits below their total size must be zero, which allocate_tables()
// alignment guarantees. CnP stays 0: TLB entries are not shared between
// CPUs that could run different vCPUs of the domain.
struct VttbrEl2 : Register<VttbrEl2> {
    using Register::Register;
    using cnp = Bit1<0>;
    using baddr = Field<47, 1>;
    using vmid = Field<55, 48>;
};

inline constexpr u16 kFirstGuestVmid = 1; // VMID 0 is the hypervisor's own (never a guest's)
inline constexpr u16 kLastVmid = 255;     // 8-bit VMIDs (VTCR_EL2.VS == 0)

// Guest VMIDs 1..255. Locking: its own SpinLock, a leaf lock.
class VmidAllocator {
public:
    VmidAllocator() { used_[0] = 1; } // VMID 0 never handed out
    VmidAllocator(const VmidAllocator&) = delete;
    VmidAllocator& operator=(const VmidAllocator&) = delete;

    // The lowest free VMID, or no_memory when all 255 are in use.
    Result<u16> allocate();
    // Precondition: the VMID's TLB entries were invalidated (P2m::destroy()
    // does it), so the next domain to get it inherits nothing.
    // invalid_argument for 0 or above 255, not_found if it is not in use.
    Result<void> free(u16 vmid);
    usize in_use() const;

private:
    mutable SpinLock lock_;
    u64 used_[4]{}; // bit v set: VMID v in use
};

// How large the leaves of a RAM mapping may be.
enum class Granule : u8 {
    largest, // 1 GiB and 2 MiB blocks wherever both addresses align
    page,    // 4 KiB pages only (sw-granule=page: tracking at page grain)
};

struct Translation {
    Pa pa;                               // the output address of the IPA asked for
    MappingType type = MappingType::ram;
    unsigned level = 0;                  // level of the leaf: 1 GiB, 2 MiB or 4 KiB
    bool tracked = false;                // a tracked entry on the way: an access faults first
};

class P2m {
public:
    using Table = mm::PageTable<Stage2Format>;

    // Allocates the root tables (geometry.root_tables of them, contiguous
    // and aligned to their total size) from `mem`, which must outlive the
    // P2m. invalid_argument for a VMID outside 1..255 or a geometry the
    // walker cannot express; otherwise what the allocation fails with.
    static Result<P2m> create(mm::TableMemory& mem, u16 vmid, const Stage2Geometry& geometry);

    P2m() = default;
    // Moves are for create() only: moving a P2m other CPUs can reach, or
    // whose lock is held, is a bug. The lock is not moved; the target's
    // stays fresh.
    P2m(P2m&& other) noexcept;
    P2m& operator=(P2m&& other) noexcept;
    P2m(const P2m&) = delete;
    P2m& operator=(const P2m&) = delete;
    // Does not free the tables: destroy() does, once no vCPU runs on them.
    ~P2m() = default;

    // Guest RAM: Normal write-back, inner shareable, read/write/execute.
    // Both addresses and the size page aligned. Blocks of 1 GiB and 2 MiB
    // wherever ipa and pa are both aligned for them, unless `granule` asks
    // for pages. Remapping the same translation is harmless (a tracked
    // entry stays tracked); anything else in the way is `exists`. New leaves
    // below a tracked table are unreachable until a fault reveals the
    // table, which hides them first: they start tracked. Fails with nothing
    // mapped (tables it made may stay, empty): invalid_argument,
    // out_of_range (beyond the IPA size), exists, no_memory.
    Result<void> map_ram(Ipa ipa, Pa pa, u64 size, Granule granule = Granule::largest);
    // A passed-through device: Device-nGnRE, read/write, never executable.
    // Same rules and errors as map_ram.
    Result<void> map_device(Ipa ipa, Pa pa, u64 size);
    // Removes [ipa, ipa + size), splitting blocks at its edges, with TLB
    // invalidation by IPA for every valid entry removed (tracked ones are in
    // no TLB) and tables left empty freed. Unmapped parts are fine. Fails
    // having changed nothing: invalid_argument, out_of_range, no_memory
    // (tables for the splits).
    Result<void> unmap(Ipa ipa, u64 size);

    // What the IPA is mapped to, tracked or not (Translation::tracked).
    // not_found when the IPA is not mapped (or beyond the IPA size).
    Result<Translation> translate(Ipa ipa) const;

    // ------------------------------------------------- access tracking
    //
    // "Tracked": an entry whose valid bit is clear but which still maps
    // what it mapped (a table or a leaf), remembered in the software bits of
    // Stage2Format. Only RAM mappings are tracked; device leaves, and tables
    // above one, stay valid. See the header comment for the walk and why
    // no write is lost.

    // Hides every valid RAM entry at the root level (and, inside a valid
    // table that holds a device mapping, the RAM entries one level down,
    // recursively), then invalidates the VMID's TLB entries once, if it
    // hid anything. Returns how many entries it hid.
    // Precondition: nothing the guest wrote through stage 2 is dirty in a
    // cache, i.e. the guest has not run since its RAM was last cleaned: a
    // domain's build is complete. Never during a flush walk (it would hide
    // dirty pages ahead of the cursor); the walk re-hides as it goes.
    u64 track_all();

    // A stage-2 translation fault at `ipa` (the handler calls this first).
    // true: a mapping covers `ipa` and the path to its leaf is valid now,
    // each tracked entry on the way revealed, a tracked table only after
    // all of its valid RAM children were hidden (and published by a DSB);
    // the guest re-executes the access. Also true if the path was already
    // valid (another vCPU resolved it first). false: nothing is mapped
    // there (MMIO emulation or an abort); tracked tables above the hole may
    // have been opened on the way, which is harmless. No TLB maintenance:
    // only valid entries are held in a TLB (DDI 0487 D8.13, "Translation
    // Lookaside Buffers (TLBs)"); it ends with arch::page_table_sync() when
    // it changed anything, so the re-executed access sees the entries.
    Result<bool> resolve_fault(Ipa ipa);

    // Where a flush walk is. Start from FlushCursor{}: the walk covers
    // [next, top of the IPA space).
    struct FlushCursor {
        Ipa next{};
        bool done = false;
    };
    // What one flush_step did.
    struct FlushStep {
        u64 bytes_cleaned = 0;    // sum of the sizes passed to `clean`
        u64 leaves_cleaned = 0;   // calls to `clean`
        u64 subtrees_skipped = 0; // tracked entries passed over whole, any level
        u64 units = 0;            // entries hidden, TLB-invalidated, then cleaned below, each as one
        u64 tables_closed = 0;    // descended tables hidden once passed, nothing valid below
    };

    // Leaf units hidden before one TLB invalidation covers them all.
    static constexpr usize kTlbBatch = 64;

    // One bounded step of the flush walk, under the P2m lock (released
    // between steps: faults of other vCPUs go through there).
    //
    // Visits, from cursor.next in IPA order, the valid RAM entries. A unit
    // (a leaf, or a valid RAM-only table spanning at most `budget_bytes`)
    // is hidden; its TLB invalidation completes (VMID-wide for a table;
    // leaves are invalidated together, up to kTlbBatch at a time, VMID-wide,
    // or by IPA when alone); only then is `clean(Pa pa, u64 size)` called
    // for each RAM leaf below it that is valid (for a table: its children's
    // valid bits still say which were touched since it was last revealed).
    // A valid table that is larger than the budget, holds a device
    // mapping, or contains cursor.next is descended into, and closed when
    // the walk leaves it (see the header comment). Tracked entries are
    // passed over whole. Before each entry, once at least one unit is done
    // and the bytes cleaned reach `budget_bytes`, the step ends with
    // cursor.next at that entry: a step cleans at most the budget plus one
    // unit, and always makes progress (budget 0: one unit per step). At the
    // top of the IPA space it sets cursor.done (cursor.next = the limit).
    // Nothing is re-hidden at the end: each entry was hidden as the walk
    // passed it, and one revealed since holds a page the next walk needs.
    //
    // `clean` is any callable void(Pa, u64); it runs with the P2m lock held
    // and must take no lock. On a P2m that is not live, or a cursor already
    // done, nothing happens and cursor.done is set.
    template <typename Clean>
    FlushStep flush_step(FlushCursor& cursor, u64 budget_bytes, Clean&& clean);

    // Since creation: entries hidden by track_all, faults that revealed a
    // path to a leaf, tracked tables whose children were hidden on a fault.
    struct TrackingCounters {
        u64 hidden = 0;
        u64 faults_resolved = 0;
        u64 tables_opened = 0;
    };
    TrackingCounters tracking_counters() const;

    // What a CPU loads to run this domain's vCPUs.
    u64 vttbr() const { return vttbr_; }
    arm64::VtcrEl2 vtcr() const { return vtcr_; }
    u16 vmid() const { return vmid_; }
    // Table pages held, root tables included; 0 after destroy().
    usize table_pages() const;
    bool live() const { return live_; }

    // Invalidates every TLB entry of the VMID, then frees every table page.
    // Precondition: no vCPU of the domain runs, or will, with this VTTBR.
    // Afterwards the P2m is empty (live() false) and its VMID may be freed.
    void destroy();

private:
    Result<void> map(Ipa ipa, Pa pa, u64 size, Stage2Attr attr, unsigned top_leaf_level);
    // The table entry at (base, level): hide its valid RAM children (leaves
    // and tables holding no device). Returns how many. Lock held.
    u64 hide_children(Ipa base, unsigned level);
    // Whether any child of the table entry at (base, level) is valid.
    bool has_valid_child(Ipa base, unsigned level);
    // clean() every valid RAM leaf below the table entry at (base, level),
    // passing over tracked entries. Lock held.
    template <typename Clean>
    void clean_below(Ipa base, unsigned level, FlushStep& step, Clean& clean);

    mutable SpinLock lock_;
    Table table_;
    u64 vttbr_ = 0;
    arm64::VtcrEl2 vtcr_{};
    u16 vmid_ = 0;
    bool live_ = false;
    TrackingCounters tracking_{};
};

// ------------------------------------------------ flush walk (template)

template <typename Clean>
void P2m::clean_below(Ipa base, unsigned level, FlushStep& step, Clean& clean) {
    using F = Stage2Format;
    (void)table_.for_each_entry(IpaRange{base, mm::level_size(level)}, [&](Table::EntryRef& e) {
        // The path down to the unit, and the unit itself (tracked now: the
        // walker enters a table whatever its valid bit).
        if (e.level() <= level) return mm::Visit::descend;
        const u64 d = e.raw();
        if (F::is_hidden(d)) {
            ++step.subtrees_skipped;
            return mm::Visit::skip;
        }
        if (!F::is_valid(d)) return mm::Visit::skip;
        if (F::is_table(d, e.level())) return mm::Visit::descend;
        if (F::is_ram(d)) {
            clean(F::output_address(d), e.size());
            ++step.leaves_cleaned;
            step.bytes_cleaned += e.size();
        }
        return mm::Visit::skip;
    });
}

template <typename Clean>
P2m::FlushStep P2m::flush_step(FlushCursor& cursor, u64 budget_bytes, Clean&& clean) {
    using F = Stage2Format;
    FlushStep step;
    const SpinLock::Guard guard(lock_);
    const u64 limit = live_ ? table_.input_limit() : 0;
    if (cursor.done || cursor.next.raw() >= limit) {
        cursor.done = true;
        return step;
    }
    const Ipa start = cursor.next;
    bool stopped = false;

    // Leaf units are hidden as the walk meets them, then invalidated
    // together -- one VMID-wide invalidation for up to kTlbBatch of them
    // (by IPA when there is one) -- and only then cleaned. Each page still
    // goes hide -> invalidation complete -> clean; the batch saves a
    // broadcast TLB invalidation per page, which dominates a batch's cost
    // while other vCPUs run (under QEMU TCG each one stops every vCPU).
    struct Hidden {
        Pa pa;
        u64 size;
        Ipa ipa;
        unsigned level;
    };
    Hidden hidden[kTlbBatch];
    usize n_hidden = 0;
    // Closed tables owe a VMID-wide invalidation. Nothing waits for it to
    // be cleaned (no child of a closed table is valid, so no access
    // completes through a stale walk of it), so it is paid by the next
    // VMID-wide invalidation of the step, or once at the step's end --
    // before the lock is dropped, as (H) requires.
    bool owed = false;
    auto settle = [&] {
        if (n_hidden == 0) return;
        if (n_hidden == 1 && !owed) {
            arch::stage2_tlb_invalidate_ipa(vttbr_, hidden[0].ipa, hidden[0].level);
        } else {
            arch::stage2_tlb_invalidate_vmid(vttbr_);
            owed = false;
        }
        for (usize i = 0; i < n_hidden; ++i) clean(hidden[i].pa, hidden[i].size);
        n_hidden = 0;
    };
    auto pay = [&] {
        settle();
        if (owed) arch::stage2_tlb_invalidate_vmid(vttbr_);
        owed = false;
    };

    auto visit = [&](Table::EntryRef& e) {
        if (step.units > 0 && step.bytes_cleaned >= budget_bytes) {
            pay();
            cursor.next = e.base();
            stopped = true;
            return mm::Visit::stop;
        }
        const u64 d = e.raw();
        if (F::is_hidden(d)) {
            ++step.subtrees_skipped;
            return mm::Visit::skip;
        }
        if (!F::is_valid(d)) return mm::Visit::skip;
        if (F::is_table(d, e.level())) {
            if (F::holds_device(d) || e.base() < start || e.size() > budget_bytes) return mm::Visit::descend;
            // A table unit: hide, then the VMID-wide invalidation (the
            // pages below it have TLB entries of their own), then clean.
            settle();
            e.write(F::hide(d));
            arch::stage2_tlb_invalidate_vmid(vttbr_); // pays what closes owe too
            owed = false;
            ++step.units;
            clean_below(e.base(), e.level(), step, clean);
            return mm::Visit::skip;
        }
        if (!F::is_ram(d)) return mm::Visit::skip;
        // A leaf unit: hidden now, invalidated and cleaned by settle().
        e.write(F::hide(d));
        hidden[n_hidden++] = Hidden{F::output_address(d), e.size(), e.base(), e.level()};
        ++step.units;
        ++step.leaves_cleaned;
        step.bytes_cleaned += e.size();
        if (n_hidden == kTlbBatch) settle();
        return mm::Visit::skip;
    };
    // A table the walk descended into, now passed: hide it unless a child
    // was revealed behind the cursor (it then stays valid, so the next walk
    // finds that child). Its children are all tracked or empty, so nothing
    // below it is dirty; the invalidation removes the walk-cache entries
    // through it (H).
    auto close = [&](Table::EntryRef& e) {
        const u64 d = e.raw();
        if (!F::is_valid(d) || !F::is_table(d, e.level()) || F::holds_device(d)) return;
        if (has_valid_child(e.base(), e.level())) return;
        settle();
        e.write(F::hide(d));
        owed = true;
        ++step.tables_closed;
    };
    (void)table_.for_each_entry(IpaRange{start, limit - start.raw()}, visit, close);
    pay();
    if (!stopped) {
        cursor.next = Ipa(limit);
        cursor.done = true;
    }
    return step;
}

// Stage-2 table pages from the frame allocator, reached through
// `phys_to_virt` (mm::PhysToVirt::identity() on the target). Table pages
// are frames like any other: a P2m's tables are freed back when it is
// destroyed. Safe to share between P2ms on several CPUs (the allocator has
// its own lock).
class FrameTableMemory final : public mm::TableMemory {
public:
    FrameTableMemory(mm::FrameAllocator& frames, mm::PhysToVirt phys_to_virt)
        : frames_(frames), phys_to_virt_(phys_to_virt) {}
    FrameTableMemory(const FrameTableMemory&) = delete;
    FrameTableMemory& operator=(const FrameTableMemory&) = delete;

    Result<Pa> allocate_table() override { return allocate_tables(1); }
    Result<Pa> allocate_tables(unsigned n) override;
    void free_table(Pa pa) override { free_tables(pa, 1); }
    void free_tables(Pa pa, unsigned n) override;
    u64* table(Pa pa) override { return static_cast<u64*>(phys_to_virt_(pa, kPageSize)); }

    // Pages handed out and not yet freed.
    u64 pages_held() const { return held_.load(std::memory_order_relaxed); }
    // Frees the frame allocator refused: each one is a bug (a table freed
    // twice, or not from here). Counted rather than fatal, since freeing
    // happens where nothing may fail; the owner reports them.
    u64 refused_frees() const { return refused_.load(std::memory_order_relaxed); }

private:
    mm::FrameAllocator& frames_;
    mm::PhysToVirt phys_to_virt_;
    std::atomic<u64> held_{0};
    std::atomic<u64> refused_{0};
};

} // namespace setwise::p2m
