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
// no lock).
//
// TLB maintenance: map() only fills invalid entries, which no TLB caches
// (DDI 0487 D8.13), so it needs none; it ends with arch::page_table_sync()
// so the new entries are visible to every walker when it returns (a vCPU
// that faulted on them meanwhile finds them valid under the lock and
// retries). unmap() invalidates each removed entry by IPA (arch::
// stage2_tlb_invalidate_ipa, which includes the VMID's stage-1 entries)
// and ends with the same sync; destroy() invalidates the whole VMID before
// it frees anything.
#pragma once

#include <atomic>

#include "arch/arm64/registers.hpp"
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
    // for pages. Remapping the same translation is harmless; anything else
    // in the way is `exists`. Fails with nothing mapped (tables it made may
    // stay, empty): invalid_argument, out_of_range (beyond the IPA size),
    // exists, no_memory.
    Result<void> map_ram(Ipa ipa, Pa pa, u64 size, Granule granule = Granule::largest);
    // A passed-through device: Device-nGnRE, read/write, never executable.
    // Same rules and errors as map_ram.
    Result<void> map_device(Ipa ipa, Pa pa, u64 size);
    // Removes [ipa, ipa + size), splitting blocks at its edges, with TLB
    // invalidation by IPA for every entry removed and tables left empty
    // freed. Unmapped parts are fine. Fails having changed nothing:
    // invalid_argument, out_of_range, no_memory (tables for the splits).
    Result<void> unmap(Ipa ipa, u64 size);

    // not_found when the IPA is not mapped (or beyond the IPA size).
    Result<Translation> translate(Ipa ipa) const;

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

    mutable SpinLock lock_;
    Table table_;
    u64 vttbr_ = 0;
    arm64::VtcrEl2 vtcr_{};
    u16 vmid_ = 0;
    bool live_ = false;
};

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
