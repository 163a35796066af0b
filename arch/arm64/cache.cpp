// By-VA cache maintenance and EL2 TLB invalidation (DDI 0487 D7.5.9, D8.13).
#include "arch/cpu.hpp"
#include "arch/arm64/sysreg.hpp"

namespace setwise::arch {

namespace {

u64 dline() { return arm64::read_ctr().dcache_line_bytes(); }

// One loop for every DC-by-VA flavour; the instruction is the template's.
template <typename Op>
void dcache_by_va(Va va, u64 size, Op op) {
    if (size == 0) return;
    const u64 line = dline();
    u64 a = align_down(va.raw(), line);
    const u64 end = va.raw() + size;
    for (; a < end; a += line) op(a);
    arm64::dsb_sy();
}

} // namespace

void dcache_clean(Va va, u64 size) {
    dcache_by_va(va, size, [](u64 a) { asm volatile("dc cvac, %0" ::"r"(a) : "memory"); });
}

void dcache_clean_invalidate(Va va, u64 size) {
    dcache_by_va(va, size, [](u64 a) { asm volatile("dc civac, %0" ::"r"(a) : "memory"); });
}

void dcache_invalidate(Va va, u64 size) {
    dcache_by_va(va, size, [](u64 a) { asm volatile("dc ivac, %0" ::"r"(a) : "memory"); });
}

void icache_invalidate_all() {
    asm volatile("ic ialluis" ::: "memory");
    arm64::dsb_ish();
    arm64::isb();
}

void tlb_invalidate_el2_all() {
    arm64::dsb_ishst();
    asm volatile("tlbi alle2is" ::: "memory");
    arm64::dsb_ish();
    arm64::isb();
}

} // namespace setwise::arch
