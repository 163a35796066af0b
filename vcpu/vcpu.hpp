// A virtual CPU: its identity, its run state, and everything saved while it
// is not on a physical CPU. In this issue every vCPU is pinned to a physical
// CPU of its own (core/run.cpp), so its EL1 registers stay live on that CPU
// and the context is loaded once at each start.
#pragma once

#include <atomic>

#include "arch/arm64/el1_context.hpp"
#include "setwise/types.hpp"

namespace setwise::vcpu {

class Domain;

enum class VcpuState : u8 {
    off,        // never started, or CPU_OFF
    on_pending, // CPU_ON accepted; its physical CPU will enter it
    running,    // on its physical CPU
    stopped,    // its domain is shutting down and it has left the CPU
};

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
    // HCR_EL2 for this vCPU: the domain's trap configuration plus TVM while
    // set/way emulation watches for the guest's cache toggles.
    u64 hcr = 0;
    u64 csselr = 0;             // the CSSELR the guest wrote (HCR_EL2.TID2)

private:
    Domain* domain_;
    u32 id_;
    u64 mpidr_;
    bool aarch32_;
};

} // namespace setwise::vcpu
