// PSCI for guests: the Power State Coordination Interface 1.1 (ARM DEN
// 0022D) and the SMCCC 1.1 architecture calls (ARM DEN 0028) a guest makes
// with HVC or SMC, answered by the hypervisor.
//
// handle_psci() is portable and pure with respect to the machine: it reads
// the domain through PsciContext, asks the context to start a vCPU for
// CPU_ON, and returns what the caller must do with the calling vCPU. The
// trap handler applies the outcome in one place:
//
//   ESR EC 0x16/0x12 (HVC) or 0x17/0x13 (SMC, HCR_EL2.TSC)
//     -> handle_psci(w0, x1, x2, x3, ctx)
//     -> x0 = outcome.x0; ELR past the SMC (an HVC's ELR already is)
//     -> act on outcome.action
//
// Supported (PSCI_FEATURES answers 0 for exactly these):
//   PSCI_VERSION (1.1), CPU_SUSPEND 32/64, CPU_OFF, CPU_ON 32/64,
//   AFFINITY_INFO 32/64, MIGRATE_INFO_TYPE (2: no Trusted OS to migrate),
//   SYSTEM_OFF, SYSTEM_RESET, PSCI_FEATURES, and SMCCC_VERSION (1.1) with
//   SMCCC_ARCH_FEATURES (mandatory from SMCCC 1.1).
// The rest (MIGRATE, MIGRATE_INFO_UP_CPU, SYSTEM_SUSPEND, SYSTEM_RESET2,
// CPU_FREEZE, the statistics, MEM_PROTECT...) are optional in PSCI 1.1 and
// answer NOT_SUPPORTED, as does any other function ID (SMCCC "Unknown
// Function" is the same -1).
//
// Calling conventions (SMCCC): bit 30 of the function ID selects SMC64.
// For an SMC32 ID only bits [31:0] of each argument count, whoever calls;
// an AArch32 caller cannot make SMC64 calls, so their IDs answer
// NOT_SUPPORTED to it (and PSCI_FEATURES reports them so). For SMC32 calls
// only w0 of the result is significant; x0 holds it sign-extended.
#pragma once

#include <span>

#include "arch/arm64/psci.hpp"
#include "setwise/result.hpp"
#include "setwise/types.hpp"

namespace setwise::vcpu {

using PsciRet = arm64::psci::Ret; // return codes, DEN 0022D table 5.2

// Function IDs: DEN 0022D table 5.1 (PSCI) and DEN 0028 (SMCCC arch calls).
namespace psci_fn {
inline constexpr u32 kSmcccVersion = 0x8000'0000;
inline constexpr u32 kSmcccArchFeatures = 0x8000'0001;
inline constexpr u32 kVersion = 0x8400'0000;
inline constexpr u32 kCpuSuspend32 = 0x8400'0001;
inline constexpr u32 kCpuSuspend64 = 0xc400'0001;
inline constexpr u32 kCpuOff = 0x8400'0002;
inline constexpr u32 kCpuOn32 = 0x8400'0003;
inline constexpr u32 kCpuOn64 = 0xc400'0003;
inline constexpr u32 kAffinityInfo32 = 0x8400'0004;
inline constexpr u32 kAffinityInfo64 = 0xc400'0004;
inline constexpr u32 kMigrate32 = 0x8400'0005;
inline constexpr u32 kMigrate64 = 0xc400'0005;
inline constexpr u32 kMigrateInfoType = 0x8400'0006;
inline constexpr u32 kMigrateInfoUpCpu32 = 0x8400'0007;
inline constexpr u32 kMigrateInfoUpCpu64 = 0xc400'0007;
inline constexpr u32 kSystemOff = 0x8400'0008;
inline constexpr u32 kSystemReset = 0x8400'0009;
inline constexpr u32 kFeatures = 0x8400'000a;
inline constexpr u32 kSystemSuspend32 = 0x8400'000e;
inline constexpr u32 kSystemSuspend64 = 0xc400'000e;
inline constexpr u32 kSystemReset2_32 = 0x8400'0012;
inline constexpr u32 kSystemReset2_64 = 0xc400'0012;

inline constexpr u32 kSmc64Bit = 1u << 30; // SMCCC: SMC64/HVC64 calling convention
} // namespace psci_fn

inline constexpr i64 kPsciVersion11 = 0x0001'0001;  // 1.1: major [31:16], minor [15:0]
inline constexpr i64 kSmcccVersion11 = 0x0001'0001; // 1.1, same layout
inline constexpr i64 kMigrateInfoTypeNoTos = 2;    // Trusted OS not present or needs no migration

// A vCPU's power state as AFFINITY_INFO reports it (DEN 0022D 5.7.2).
enum class VcpuPower : u8 {
    on = 0,
    off = 1,
    on_pending = 2, // CPU_ON accepted, the vCPU has not started yet
};

// The domain as PSCI sees it, implemented by the vCPU code.
//
// Locking: the domain's vCPU power-state lock is held across the whole
// handle_psci() call, so the states read here cannot change between the
// checks and cpu_on() (two vCPUs racing to CPU_ON the same target see
// SUCCESS once and ON_PENDING or ALREADY_ON after).
class PsciContext {
public:
    virtual usize vcpu_count() const = 0;
    // The MPIDR the guest reads for vCPU `index` (< vcpu_count()); only the
    // affinity fields Aff3..Aff0 are compared with a PSCI target.
    virtual u64 vcpu_mpidr(usize index) const = 0;
    virtual VcpuPower vcpu_power(usize index) const = 0;
    // The calling vCPU is in AArch32 state (SPSR_EL2.M[4]).
    virtual bool caller_is_aarch32() const = 0;
    // The domain's RAM: a CPU_ON entry point must lie inside one range.
    virtual std::span<const IpaRange> guest_ram() const = 0;
    // Start vCPU `target` (currently off) at `entry` with x0/r0 =
    // context_id, in the caller's execution state at EL1, T32 when thumb,
    // MMU and caches off (the initial state DEN 0022D gives CPU_ON); it is
    // on_pending until it runs. A failure reaches the guest as
    // INTERNAL_FAILURE.
    virtual Result<void> cpu_on(usize target, Ipa entry, u64 context_id, bool thumb) = 0;

protected:
    ~PsciContext() = default;
};

// What the caller does with the calling vCPU after writing x0.
enum class PsciAction : u8 {
    resume,       // return to the guest after the call
    suspend,      // CPU_SUSPEND, emulated as standby: block as for WFI, then resume
    cpu_off,      // CPU_OFF succeeded: the calling vCPU stops; the call never returns
    system_off,   // shut the domain down
    system_reset, // reset the domain
};

struct PsciOutcome {
    i64 x0 = 0;
    PsciAction action = PsciAction::resume;
    constexpr bool operator==(const PsciOutcome&) const = default;
};

// One guest PSCI / SMCCC call: w0 = function_id, x1..x3 = a1..a3.
// Never fails: every guest input maps to a PSCI return code.
PsciOutcome handle_psci(u32 function_id, u64 a1, u64 a2, u64 a3, PsciContext& ctx);

} // namespace setwise::vcpu
