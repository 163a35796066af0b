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

} // namespace setwise::arch
