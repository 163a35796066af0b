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
};

struct CpuRecord {
    CpuOp op;
    Va va;
    u64 size;
};

// A bounded log; a test owns one and installs it with set_log.
class CpuLog {
public:
    static constexpr usize kCapacity = 4096;
    void record(CpuOp op, Va va, u64 size) {
        if (count_ < kCapacity) records_[count_] = {op, va, size};
        ++count_;
    }
    usize count() const { return count_; }
    const CpuRecord& at(usize i) const { return records_[i]; }
    void clear() { count_ = 0; }

private:
    CpuRecord records_[kCapacity]{};
    usize count_ = 0;
};

// Installs `log` for this thread; returns the previous one.
CpuLog* set_log(CpuLog* log);
// The fake counter advances by one per read, from this value.
void set_counter(u64 v);

} // namespace setwise::arch::fake
