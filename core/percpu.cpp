#include "core/percpu.hpp"

#if defined(SETWISE_TARGET_ARM64)
#include "arch/arm64/sysreg.hpp"
#endif

namespace setwise::core {

namespace {
PerCpu g_cpus[kMaxHostCpus];
#if !defined(SETWISE_TARGET_ARM64)
thread_local PerCpu* t_this_cpu = nullptr;
#endif
} // namespace

PerCpu& cpu(u32 index) { return g_cpus[index]; }

#if defined(SETWISE_TARGET_ARM64)
// TPIDR_EL2 is reset to an UNKNOWN value: boot code writes 0 to it before
// any C++ asks (boot/early.cpp).
PerCpu* this_cpu() { return reinterpret_cast<PerCpu*>(SW_READ_SYSREG(tpidr_el2)); }
void set_this_cpu(PerCpu& pc) { SW_WRITE_SYSREG(tpidr_el2, reinterpret_cast<u64>(&pc)); }
#else
PerCpu* this_cpu() { return t_this_cpu; }
void set_this_cpu(PerCpu& pc) { t_this_cpu = &pc; }
#endif

u32 this_cpu_index() {
    const PerCpu* pc = this_cpu();
    return pc == nullptr ? 0 : pc->index;
}

} // namespace setwise::core
