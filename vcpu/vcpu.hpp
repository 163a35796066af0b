// A virtual CPU: its identity, its run state, and everything saved while it
// is not on a physical CPU. Each vCPU is an EL2 thread with a stack of its
// own, placed on one physical CPU's run queue (core/sched.hpp); its EL1
// registers, FP/SIMD, virtual timer and virtual GIC CPU interface are saved
// when another thread takes the CPU and loaded when it comes back.
#pragma once

#include <atomic>

#include "arch/arm64/el1_context.hpp"
#include "arch/arm64/gic.hpp"
#include "arch/arm64/switch.hpp"
#include "vcpu/ptimer.hpp"
#include "setwise/types.hpp"

namespace setwise::vcpu {

class Domain;

enum class VcpuState : u8 {
    off,        // never started, or CPU_OFF
    on_pending, // CPU_ON accepted; its physical CPU will start it
    running,    // runnable: in the guest, or waiting for its turn on its CPU
    blocked,    // in WFI with nothing pending; an interrupt for it wakes it
    stopped,    // its domain is shutting down and it has left the CPU
};

class ListRegisterFile;

// Where a vCPU starts (PSCI CPU_ON, or the domain's boot vCPU).
struct VcpuEntry {
    u64 pc = 0;
    u64 context = 0;   // x0 / r0 for CPU_ON; the boot vCPU gets the DTB below
    bool thumb = false;
    bool boot = false; // the domain's first vCPU: Linux boot registers
    u64 dtb = 0;       // boot vCPU: IPA of its DTB
};

class Vcpu {
public:
    Vcpu(Domain& d, u32 id, u64 mpidr, bool aarch32) : domain_(&d), id_(id), mpidr_(mpidr), aarch32_(aarch32) {}
    Vcpu(const Vcpu&) = delete;
    Vcpu& operator=(const Vcpu&) = delete;

    Domain& domain() const { return *domain_; }
    u32 id() const { return id_; }
    u64 mpidr() const { return mpidr_; }
    bool aarch32() const { return aarch32_; }

    std::atomic<VcpuState> state{VcpuState::off};
    VcpuEntry entry{};
    u32 pcpu = 0;               // the physical CPU it is pinned to
    arm64::El1Context el1{};
    u64 actlr = 0;              // the ACTLR the guest sees (HCR_EL2.TACR)
    u64 wfi_count = 0;          // WFIs taken, for the figures
    // The pc of the fault setwise last injected (and the first address of
    // the run) and how many times in a row, with no other trap between: a
    // vCPU stuck in a fault loop is ended (vcpu/trap.cpp, kFaultLoopLimit).
    u64 fault_pc = 0, fault_address = 0;
    u32 fault_repeats = 0;
    u64 wfe_count = 0;          // WFEs trapped (only while sharing a CPU)
    u64 debug_pmu_traps = 0;    // debug and PMU register accesses (read as zero)
    // HCR_EL2 for this vCPU: the domain's trap configuration plus TVM while
    // set/way emulation watches for the guest's cache toggles.
    u64 hcr = 0;
    // WFE traps too (HCR_EL2.TWE) while the vCPU shares its CPU (core/sched.cpp
    // sets it before each load): a spinning vCPU then yields.
    bool trap_wfe = false;
    u64 effective_hcr() const { return hcr | (trap_wfe ? u64{1} << 14 : 0); }
    u64 csselr = 0;             // the CSSELR the guest wrote (HCR_EL2.TID2)

    // ---- Scheduling (core/sched.cpp) ----
    arm64::SwitchContext ctx{}; // its EL2 thread while switched away
    u64 stack_top = 0;          // its EL2 stack (heap), 16-byte aligned
    bool thread_live = false;   // ctx holds a thread that switched away
    bool on_cpu = false;        // its state is in the CPU's registers now
    u64 run_ticks = 0;          // counter ticks spent on the CPU, for the figures
    u64 run_since = 0;          // counter value when it last took the CPU
    u64 switches = 0;           // times it was put on a CPU
    // ---- Virtual GIC CPU interface and timer (vcpu/vgic_cpu.hpp) ----
    ListRegisterFile* lrs = nullptr;
    arm64::Gic::VirtualCpuState vif{};
    u64 timer_irqs = 0;         // virtual timer interrupts forwarded
    PhysTimer ptimer{};         // the emulated EL1 physical timer (vcpu/ptimer.hpp)
    bool timer_rearm = false;   // the guest reprogrammed it: core re-arms the EL2 timer
    u64 ptimer_traps = 0;

private:
    Domain* domain_;
    u32 id_;
    u64 mpidr_;
    bool aarch32_;
};

} // namespace setwise::vcpu
