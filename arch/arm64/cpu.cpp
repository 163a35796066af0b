#include "arch/cpu.hpp"
#include "arch/arm64/sysreg.hpp"
#include "setwise/spinlock.hpp"

namespace setwise {

void cpu_relax() { asm volatile("yield" ::: "memory"); }

namespace arch {

u64 counter() {
    arm64::isb(); // CNTPCT reads may be speculated (DDI 0487 D12.1.2)
    return SW_READ_SYSREG(cntpct_el0);
}

u64 counter_frequency() { return SW_READ_SYSREG(cntfrq_el0); }

} // namespace arch
} // namespace setwise
