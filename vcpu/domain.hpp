// A domain (guest): its memory, its vCPUs, its devices and its life cycle.
// Built by core/domain_builder.cpp from a dom0less configuration; the trap
// handlers (vcpu/trap.cpp) reach everything a guest can touch through it.
//
// Life cycle:
//
//   building --start--> running --SYSTEM_OFF/RESET, crash--> shutting_down
//                          ^                                     |
//                          +------ reset: images reloaded -------+ (all vCPUs off the CPUs)
//                                                                v
//                                                              dead (memory returned)
//
// A vCPU notices `shutting_down` at its next trap and leaves its CPU; the
// last one out calls the owner's `on_all_stopped` (core), which frees the
// domain or restarts it.
#pragma once

#include <atomic>

#include "cache/setway.hpp"
#include "setwise/spinlock.hpp"
#include "setwise/types.hpp"
#include "vcpu/vcpu.hpp"
#include "vcpu/vgic_state.hpp"

namespace setwise::p2m {
class P2m;
}

namespace setwise::vcpu {

class Vpl011;
class VgicState;
class VgicDist;
class VgicRedist;

enum class DomainState : u8 { building, running, shutting_down, dead };
enum class ShutdownReason : u8 { none, poweroff, reboot, crash };

const char* shutdown_reason_name(ShutdownReason r);

class Domain {
public:
    static constexpr u32 kMaxVcpus = 16;
    static constexpr usize kNameCapacity = 32;

    Domain() = default;
    Domain(const Domain&) = delete;
    Domain& operator=(const Domain&) = delete;

    char name[kNameCapacity]{};
    u32 id = 0;
    bool aarch32 = false;

    // Stage 2.
    u16 vmid = 0;
    u64 vttbr = 0;
    u64 vtcr = 0;
    p2m::P2m* p2m = nullptr;
    IpaRange ram{};

    // vCPUs (heap objects owned by the domain).
    u32 nr_vcpus = 0;
    Vcpu* vcpus[kMaxVcpus]{};

    // Devices. `device_lock` serialises guest accesses to them across vCPUs.
    Vpl011* uart = nullptr;
    SpinLock device_lock;
    // The virtual GIC (vcpu/vgic_state.hpp and its front ends; the
    // redistributors only on GICv3), and the physical GIC whose virtual CPU
    // interface the vCPUs use.
    VgicState* vgic = nullptr;
    VgicDist* vgic_dist = nullptr;
    VgicRedist* vgic_redist = nullptr;
    arm64::Gic* gic = nullptr;
    // Makes the vCPUs in the mask look at their interrupts again: wakes
    // them from WFI, or makes them exit so their list registers are filled
    // (core/sched.cpp sets it).
    void (*kick)(Domain& d, VcpuMask mask) = nullptr;
    void kick_vcpus(VcpuMask mask) {
        if (mask != 0 && kick != nullptr) kick(*this, mask);
    }
    // The same, leaving out `self`: the vCPU doing the work refills its own
    // list registers on its way back to the guest anyway.
    void kick_others(const Vcpu& self, VcpuMask mask) { kick_vcpus(mask & ~(VcpuMask{1} << self.id())); }
    // CNTVOFF_EL2: the guest's virtual counter starts near 0 at its build.
    u64 cntvoff = 0;
    // The vCPU that last ran on each physical CPU (vcpu_load: another one
    // of this domain coming there first flushes that CPU's TLBs for the
    // VMID), and how often that happened.
    static constexpr u32 kMaxHostCpus = 16; // core::kMaxHostCpus (checked there)
    Vcpu* last_ran[kMaxHostCpus]{};
    u64 local_flushes = 0;
    // Held across each PSCI call, so vCPU power states checked by the call
    // cannot change before it acts on them (vcpu/psci.hpp).
    SpinLock power_lock;

    std::atomic<DomainState> state{DomainState::building};
    std::atomic<ShutdownReason> reason{ShutdownReason::none};
    std::atomic<u32> vcpus_on_cpus{0}; // vCPUs currently entered on a CPU

    // Set/way emulation (cache/setway.hpp): how this domain's batches run,
    // whether guests see the minimal cache geometry, and its figures.
    cache::FlushConfig flush{};
    bool minimal_geometry = true;
    cache::BatchLock batch_lock;
    cache::Figures figures;

    // Counters for the figures and the log.
    std::atomic<u64> mmio_accesses{0};
    std::atomic<u64> injected_aborts{0};
    // Reboots so far (PSCI SYSTEM_RESET): the first few are logged, then
    // one in kRebootLogEvery, so a guest rebooting in a loop cannot flood.
    u64 reboots = 0;
    static constexpr u64 kRebootLogFirst = 3;
    static constexpr u64 kRebootLogEvery = 100;
    bool log_reboot() const { return reboots < kRebootLogFirst || reboots % kRebootLogEvery == 0; }
    std::atomic<u64> injected_undefs{0};
    std::atomic<u64> psci_calls{0};

    // The owner (core) is told when the last vCPU has left its CPU after a
    // shutdown began.
    void (*on_all_stopped)(Domain&) = nullptr;

    // Begins shutting the domain down (first reason wins). True when this
    // call began it.
    bool begin_shutdown(ShutdownReason r);

    Vcpu* vcpu_by_mpidr(u64 mpidr) const;
    bool ram_contains(Ipa ipa, u64 size = 1) const;
};

} // namespace setwise::vcpu
