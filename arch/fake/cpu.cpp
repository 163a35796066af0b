// Host fake of the arch seam. Maintenance is recorded, not executed, so
// tests can assert what generic code asked for.
#include "arch/fake/cpu.hpp"

namespace setwise {

void cpu_relax() {}

namespace arch {

namespace {
thread_local fake::CpuLog* g_log = nullptr;
thread_local u64 g_counter = 0;
} // namespace

namespace fake {
CpuLog* set_log(CpuLog* log) {
    CpuLog* old = g_log;
    g_log = log;
    return old;
}
void set_counter(u64 v) { g_counter = v; }
} // namespace fake

u64 counter() { return g_counter++; }
u64 counter_frequency() { return fake::kCounterFrequency; }

namespace {
void record(fake::CpuOp op, Va va, u64 size) {
    if (g_log != nullptr) g_log->record(op, va, size);
}
} // namespace

void dcache_clean(Va va, u64 size) { record(fake::CpuOp::dcache_clean, va, size); }
void dcache_clean_invalidate(Va va, u64 size) { record(fake::CpuOp::dcache_clean_invalidate, va, size); }
void dcache_invalidate(Va va, u64 size) { record(fake::CpuOp::dcache_invalidate, va, size); }
void icache_invalidate_all() { record(fake::CpuOp::icache_invalidate_all, Va(0), 0); }
void tlb_invalidate_el2_all() { record(fake::CpuOp::tlb_invalidate_el2_all, Va(0), 0); }

void page_table_sync() { record(fake::CpuOp::page_table_sync, Va(0), 0); }

void stage2_tlb_invalidate_ipa(u64 vttbr, Ipa ipa, unsigned level) {
    if (g_log != nullptr) g_log->record_stage2(fake::CpuOp::stage2_tlb_invalidate_ipa, vttbr, ipa, level);
}
void stage2_tlb_invalidate_vmid(u64 vttbr) {
    if (g_log != nullptr) g_log->record_stage2(fake::CpuOp::stage2_tlb_invalidate_vmid, vttbr, Ipa(0), 0);
}

} // namespace arch
} // namespace setwise
