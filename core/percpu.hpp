// Per-CPU data, reached only through this_cpu(): TPIDR_EL2 on the target, a
// thread-local on the host (tests run "CPUs" as threads).
#pragma once

#include <atomic>

#include "arch/arm64/switch.hpp"
#include "core/run_queue.hpp"
#include "setwise/spinlock.hpp"
#include "setwise/types.hpp"

namespace setwise::vcpu {
class Vcpu;
class Domain;
}

namespace setwise::core {

inline constexpr u32 kMaxHostCpus = 16; // boot/boot_defs.h MAX_CPUS

enum class CpuState : u8 { absent, starting, online, failed };

struct PerCpu {
    u32 index = 0;       // setwise's CPU number, 0 = the boot CPU
    u64 mpidr = 0;       // affinity as the DT's /cpus node gives it
    std::atomic<CpuState> state{CpuState::absent};
    u64 stack_top = 0;   // where a fresh run of this CPU's loop starts
    // Scheduling (core/sched.cpp). `current` is the vCPU whose state is in
    // this CPU's registers (nullptr: the idle loop runs); only this CPU
    // reads or writes it. The run queue and its lock are shared: domains
    // are placed and removed from other CPUs.
    vcpu::Vcpu* current = nullptr;
    SpinLock rq_lock;
    RunQueue<vcpu::Vcpu, 16> rq;
    std::atomic<u32> placed{0};          // vCPUs in rq, for placement
    arm64::SwitchContext idle_ctx{};     // the idle loop while a vCPU runs
    std::atomic<bool> need_resched{false};
    u64 slice_end = 0;                   // counter value the current vCPU's slice ends at (0: none)
    vcpu::Domain* deferred_stop = nullptr; // its last vCPU left: finish after the switch
    u64 switches = 0;
};

PerCpu& cpu(u32 index);          // precondition: index < kMaxHostCpus
PerCpu* this_cpu();              // nullptr before set_this_cpu()
void set_this_cpu(PerCpu& pc);
u32 this_cpu_index();            // 0 before set_this_cpu()

} // namespace setwise::core
