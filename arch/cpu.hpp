// The instruction-level seam: what generic code asks of the CPU that is an
// instruction on arm64 (arch/arm64) and a recording fake on the host
// (arch/fake). Keep it small; everything above it is testable on the host.
#pragma once

#include "setwise/types.hpp"

namespace setwise::arch {

// Generic timer: the physical count and its frequency (CNTPCT_EL0, CNTFRQ_EL0).
u64 counter();
u64 counter_frequency();

// Data cache maintenance by VA to the point of coherency, over [va, va+size),
// at the line size CTR_EL0 gives; completes (DSB) before returning.
void dcache_clean(Va va, u64 size);
void dcache_clean_invalidate(Va va, u64 size);
// Invalidate without clean: only for memory whose cached copies must be
// dropped (written with the MMU off). Never for guest memory.
void dcache_invalidate(Va va, u64 size);
// All instruction caches to the point of unification, inner shareable.
void icache_invalidate_all();

// EL2 stage-1 TLB, this CPU's and the inner shareable domain's.
void tlb_invalidate_el2_all();

// Translation table writes before this are visible to every table walker
// of the inner shareable domain when it returns (DSB ISHST): a descriptor
// store is guaranteed to be observed by walks only after a DSB (DDI 0487
// D8.2, "Ordering of memory accesses from translation table walks").
void page_table_sync();

// Stage-2 TLB maintenance for the VMID in `vttbr` (a domain's VTTBR_EL2
// value), on every CPU of the inner shareable domain; complete on return.
// Called after a stage-2 entry was written invalid (DDI 0487 D8.13, "TLB
// maintenance requirements"; D8.14.1 break-before-make).
//
// One entry: the one translating `ipa` at `level` (the level is a hint;
// without FEAT_TTL it is not used), and, because TLBs may hold combined
// stage-1+2 entries tagged by VA, every stage-1 entry of the VMID too.
void stage2_tlb_invalidate_ipa(u64 vttbr, Ipa ipa, unsigned level);
// Every stage-1 and stage-2 entry of the VMID: before its tables are freed
// or the VMID is reused.
void stage2_tlb_invalidate_vmid(u64 vttbr);

} // namespace setwise::arch
