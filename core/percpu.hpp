// Per-CPU data, reached only through this_cpu(): TPIDR_EL2 on the target, a
// thread-local on the host (tests run "CPUs" as threads).
#pragma once

#include <atomic>

#include "setwise/types.hpp"

namespace setwise::vcpu {
class Vcpu;
}

namespace setwise::core {

inline constexpr u32 kMaxHostCpus = 16; // boot/boot_defs.h MAX_CPUS

enum class CpuState : u8 { absent, starting, online, failed };

struct PerCpu {
    u32 index = 0;       // setwise's CPU number, 0 = the boot CPU
    u64 mpidr = 0;       // affinity as the DT's /cpus node gives it
    std::atomic<CpuState> state{CpuState::absent};
    u64 stack_top = 0;   // where a fresh run of this CPU's loop starts
    // The vCPU pinned to this CPU (core/run.cpp), and the one entered now.
    std::atomic<vcpu::Vcpu*> assigned{nullptr};
    vcpu::Vcpu* current = nullptr;
};

PerCpu& cpu(u32 index);          // precondition: index < kMaxHostCpus
PerCpu* this_cpu();              // nullptr before set_this_cpu()
void set_this_cpu(PerCpu& pc);
u32 this_cpu_index();            // 0 before set_this_cpu()

} // namespace setwise::core
