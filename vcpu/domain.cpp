#include "vcpu/domain.hpp"

namespace setwise::vcpu {

const char* shutdown_reason_name(ShutdownReason r) {
    switch (r) {
    case ShutdownReason::none: return "none";
    case ShutdownReason::poweroff: return "power off";
    case ShutdownReason::reboot: return "reboot";
    case ShutdownReason::crash: return "crash";
    }
    return "?";
}

bool Domain::begin_shutdown(ShutdownReason r) {
    DomainState expected = DomainState::running;
    if (!state.compare_exchange_strong(expected, DomainState::shutting_down, std::memory_order_acq_rel))
        return false;
    reason.store(r, std::memory_order_release);
    // Blocked vCPUs wake and running ones exit, to notice and leave.
    kick_vcpus(nr_vcpus >= 32 ? ~VcpuMask{0} : (VcpuMask{1} << nr_vcpus) - 1);
    return true;
}

Vcpu* Domain::vcpu_by_mpidr(u64 mpidr) const {
    for (u32 i = 0; i < nr_vcpus; ++i) {
        if (vcpus[i] != nullptr && vcpus[i]->mpidr() == mpidr) return vcpus[i];
    }
    return nullptr;
}

bool Domain::ram_contains(Ipa ipa, u64 size) const {
    return size != 0 && ram.contains(IpaRange{ipa, size});
}

} // namespace setwise::vcpu
