// PSCI 1.1 and SMCCC 1.1 for guests. The interface, the supported set and
// the calling-convention rules are in psci.hpp.
#include "vcpu/psci.hpp"

#include <optional>

#include "arch/arm64/registers.hpp"

namespace setwise::vcpu {

namespace {

using namespace psci_fn;

constexpr i64 code(PsciRet r) { return static_cast<i64>(r); }
constexpr PsciOutcome answer(i64 x0) { return {x0, PsciAction::resume}; }
constexpr PsciOutcome answer(PsciRet r) { return answer(code(r)); }

constexpr bool is_smc64(u32 function_id) { return (function_id & kSmc64Bit) != 0; }
constexpr u64 low32(u64 v) { return v & 0xffff'ffffu; }

// CPU_SUSPEND power_state in the original format, the one PSCI_FEATURES
// announces (bit 1 of its CPU_SUSPEND flags clear): StateID [15:0],
// StateType [16], PowerLevel [25:24]; every other bit must be zero.
constexpr u64 kPowerStateDefined = 0x0301'ffff;

// The functions PSCI_FEATURES reports as present to this caller.
bool implemented(u32 function_id, bool aarch32_caller) {
    if (aarch32_caller && is_smc64(function_id)) return false;
    switch (function_id) {
    case kVersion:
    case kCpuSuspend32:
    case kCpuSuspend64:
    case kCpuOff:
    case kCpuOn32:
    case kCpuOn64:
    case kAffinityInfo32:
    case kAffinityInfo64:
    case kMigrateInfoType:
    case kSystemOff:
    case kSystemReset:
    case kFeatures:
    case kSmcccVersion: // PSCI 1.0+: how a caller learns SMCCC_VERSION exists
        return true;
    default:
        return false;
    }
}

// The vCPU whose MPIDR affinity (Aff3..Aff0) equals target. Any other bit
// set in target (the "must be zero" bits of target_cpu / target_affinity)
// matches nothing, which the callers report as INVALID_PARAMETERS.
std::optional<usize> find_vcpu(const PsciContext& ctx, u64 target) {
    const usize n = ctx.vcpu_count();
    for (usize i = 0; i < n; ++i) {
        if ((ctx.vcpu_mpidr(i) & arm64::MpidrEl1::kAffinityMask) == target) return i;
    }
    return std::nullopt;
}

bool in_guest_ram(const PsciContext& ctx, Ipa ipa) {
    for (const IpaRange& r : ctx.guest_ram())
        if (r.contains(ipa)) return true;
    return false;
}

// CPU_ON checks in the order of the PSCI reference implementation (TF-A):
// the target, then the entry point, then the target's state.
PsciOutcome cpu_on(u64 target, u64 entry, u64 context_id, PsciContext& ctx) {
    const std::optional<usize> index = find_vcpu(ctx, target);
    if (!index) return answer(PsciRet::invalid_parameters);

    // An AArch32 caller selects T32 with bit 0 of the entry point, which is
    // then not part of the address (DEN 0022D, CPU_ON entry_point_address).
    bool thumb = false;
    if (ctx.caller_is_aarch32()) {
        thumb = (entry & 1u) != 0;
        entry &= ~u64{1};
    }
    if (!in_guest_ram(ctx, Ipa(entry))) return answer(PsciRet::invalid_address);

    switch (ctx.vcpu_power(*index)) {
    case VcpuPower::on: return answer(PsciRet::already_on);
    case VcpuPower::on_pending: return answer(PsciRet::on_pending);
    case VcpuPower::off: break;
    }
    if (!ctx.cpu_on(*index, Ipa(entry), context_id, thumb)) return answer(PsciRet::internal_failure);
    return answer(PsciRet::success);
}

// AFFINITY_INFO: PSCI 1.0 made levels above 0 optional; setwise has no
// clusters to report, so only lowest_affinity_level 0 is accepted.
PsciOutcome affinity_info(u64 target, u64 lowest_level, const PsciContext& ctx) {
    if (low32(lowest_level) != 0) return answer(PsciRet::invalid_parameters);
    const std::optional<usize> index = find_vcpu(ctx, target);
    if (!index) return answer(PsciRet::invalid_parameters);
    switch (ctx.vcpu_power(*index)) {
    case VcpuPower::on: return answer(0);
    case VcpuPower::off: return answer(1);
    case VcpuPower::on_pending: return answer(2);
    }
    return answer(PsciRet::internal_failure);
}

// CPU_SUSPEND is mandatory. Every state, standby or powerdown, is entered
// as standby: the vCPU blocks as for WFI and the call returns SUCCESS when
// it wakes, which the spec allows for a powerdown request (the caller
// cannot tell a shallower state from the one it asked for), and which is
// what KVM and Xen do. entry_point and context_id are therefore unused.
PsciOutcome cpu_suspend(u64 power_state) {
    if ((low32(power_state) & ~kPowerStateDefined) != 0) return answer(PsciRet::invalid_parameters);
    return {code(PsciRet::success), PsciAction::suspend};
}

} // namespace

PsciOutcome handle_psci(u32 function_id, u64 a1, u64 a2, u64 a3, PsciContext& ctx) {
    if (is_smc64(function_id)) {
        if (ctx.caller_is_aarch32()) return answer(PsciRet::not_supported);
    } else {
        a1 = low32(a1);
        a2 = low32(a2);
        a3 = low32(a3);
    }

    switch (function_id) {
    case kSmcccVersion:
        return answer(kSmcccVersion11);
    case kSmcccArchFeatures:
        // Only the two calls above exist in the Arm Architecture range: no
        // SMCCC_ARCH_WORKAROUND_n, no SMCCC_ARCH_SOC_ID.
        return answer(a1 == kSmcccVersion || a1 == kSmcccArchFeatures ? 0 : code(PsciRet::not_supported));
    case kVersion:
        return answer(kPsciVersion11);
    case kCpuSuspend32:
    case kCpuSuspend64:
        return cpu_suspend(a1);
    case kCpuOff:
        // Never DENIED: that answer is for the last core of a system whose
        // uniprocessor Trusted OS lives on it (MIGRATE_INFO_TYPE 0 or 1).
        // The last vCPU of a domain may go off; the domain then idles until
        // reset or destroyed. The guest never sees x0: the call does not
        // return.
        return {code(PsciRet::success), PsciAction::cpu_off};
    case kCpuOn32:
    case kCpuOn64:
        return cpu_on(a1, a2, a3, ctx);
    case kAffinityInfo32:
    case kAffinityInfo64:
        return affinity_info(a1, a2, ctx);
    case kMigrateInfoType:
        return answer(kMigrateInfoTypeNoTos);
    case kSystemOff:
        return {code(PsciRet::success), PsciAction::system_off};
    case kSystemReset:
        return {code(PsciRet::success), PsciAction::system_reset};
    case kFeatures:
        // 0 is also the right flags word for CPU_SUSPEND: original
        // power_state format, platform-coordinated mode only.
        return answer(implemented(static_cast<u32>(a1), ctx.caller_is_aarch32()) ? 0
                                                                                  : code(PsciRet::not_supported));
    default:
        return answer(PsciRet::not_supported);
    }
}

} // namespace setwise::vcpu
