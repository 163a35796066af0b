// A vCPU's EL1 (and EL0) system-register state, AArch64 and AArch32 views,
// and its FP/SIMD registers: what must be saved when a vCPU leaves a CPU and
// loaded when it comes back. Register names as DDI 0487 gives them; the
// AArch32 registers are reached through their AArch64 views (SCTLR ->
// SCTLR_EL1, DFSR -> ESR_EL1, DFAR/IFAR -> FAR_EL1, TTBCR -> TCR_EL1,
// PRRR/NMRR -> MAIR_EL1, ...) except the four that only AArch32 has here:
// SPSR_abt/und/irq/fiq, DACR32_EL2, IFSR32_EL2, FPEXC32_EL2.
#pragma once

#include <cstddef>
#include <type_traits>

#include "setwise/types.hpp"

namespace setwise::arm64 {

struct alignas(16) FpState {
    u64 q[64]; // q0..q31, 128 bits each
    u64 fpsr;
    u64 fpcr;
};
static_assert(offsetof(FpState, fpsr) == 16 * 32, "fpsimd.S stores FPSR/FPCR after q31");

struct El1Context {
    u64 sctlr_el1, cpacr_el1, ttbr0_el1, ttbr1_el1, tcr_el1;
    u64 esr_el1, afsr0_el1, afsr1_el1, far_el1, mair_el1, amair_el1;
    u64 vbar_el1, contextidr_el1, tpidr_el0, tpidrro_el0, tpidr_el1;
    u64 sp_el0, sp_el1, elr_el1, spsr_el1, par_el1, cntkctl_el1, csselr_el1;
    u64 cntv_ctl_el0, cntv_cval_el0;
    // AArch32-only state (kept for every vCPU: cheap, and an AArch64 guest
    // may run AArch32 EL0).
    u64 spsr_abt, spsr_und, spsr_irq, spsr_fiq;
    u64 dacr32_el2, ifsr32_el2, fpexc32_el2;
    FpState fp;
};
static_assert(std::is_standard_layout_v<El1Context>);

// SCTLR_EL1 at reset as setwise presents it: MMU and caches off. AArch64:
// the RES1 bits of DDI 0487 D19.2.118 (bits 29, 28, 23, 22, 20, 11).
// AArch32 SCTLR: RES1 bits 23, 22, plus the v7 defaults QEMU and Xen give
// a new vCPU (CP15BEN, and bits 6:3 set as the ARMv7 reset value has them).
inline constexpr u64 kSctlrEl1Reset64 = 0x30d0'0800;
inline constexpr u64 kSctlrReset32 = 0x00c5'0078;

// Target only: move the state between the registers and memory.
void el1_context_save(El1Context& c);
void el1_context_load(const El1Context& c);

} // namespace setwise::arm64

extern "C" void fpsimd_save(setwise::arm64::FpState* s);
extern "C" void fpsimd_load(const setwise::arm64::FpState* s);
