// What the host fake of the arch seam records, for tests to inspect.
#pragma once

#include "arch/cpu.hpp"

namespace setwise::arch::fake {

inline constexpr u64 kCounterFrequency = 62'500'000; // QEMU virt's CNTFRQ

enum class CpuOp : u8 {
    dcache_clean,
    dcache_clean_invalidate,
    dcache_invalidate,
    icache_invalidate_all,
    tlb_invalidate_el2_all,
    page_table_sync,
    stage2_tlb_invalidate_ipa,
    stage2_tlb_invalidate_vmid,
};

struct CpuRecord {
    CpuOp op;
    Va va;
    u64 size;
    // Stage-2 TLB maintenance only.
    u64 vttbr = 0;
    Ipa ipa{};
    unsigned level = 0;
};

// A bounded log; a test owns one and installs it with set_log.
class CpuLog {
public:
    static constexpr usize kCapacity = 4096;
    // Called with each record as it is made, so a test can check the state
    // of the world at the moment of the operation (e.g. that a descriptor
    // is invalid when its TLB invalidation is issued).
    using Observer = void (*)(void* context, const CpuRecord& record);

    void record(CpuOp op, Va va, u64 size) { add(CpuRecord{op, va, size}); }
    void record_stage2(CpuOp op, u64 vttbr, Ipa ipa, unsigned level) {
        add(CpuRecord{op, Va(0), 0, vttbr, ipa, level});
    }
    void set_observer(Observer observer, void* context) {
        observer_ = observer;
        context_ = context;
    }
    usize count() const { return count_; }
    const CpuRecord& at(usize i) const { return records_[i]; }
    void clear() { count_ = 0; }

private:
    void add(const CpuRecord& r) {
        if (count_ < kCapacity) records_[count_] = r;
        ++count_;
        if (observer_ != nullptr) observer_(context_, r);
    }

    CpuRecord records_[kCapacity]{};
    usize count_ = 0;
    Observer observer_ = nullptr;
    void* context_ = nullptr;
};

// Installs `log` for this thread; returns the previous one.
CpuLog* set_log(CpuLog* log);
// The fake counter advances by one per read, from this value.
void set_counter(u64 v);

} // namespace setwise::arch::fake
