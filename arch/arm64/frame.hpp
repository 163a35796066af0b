// Register frames shared with assembly. Standard layout, sizes and offsets
// checked here; assembly gets the offsets from the generated
// asm_offsets.h (arch/arm64/asm_offsets.cpp), never typed by hand.
#pragma once

#include <cstddef>
#include <type_traits>

#include "setwise/types.hpp"

namespace setwise::arm64 {

// What an exception taken to EL2 saves (arch/arm64/vectors.S).
struct ExceptionFrame {
    u64 x[31];  // x0..x30
    u64 sp;     // SP at the time of the exception (SP_EL2 for EL2 exceptions)
    u64 elr;    // ELR_EL2
    u64 spsr;   // SPSR_EL2
    u64 esr;    // ESR_EL2
    u64 far;    // FAR_EL2
};
static_assert(std::is_standard_layout_v<ExceptionFrame>);
static_assert(sizeof(ExceptionFrame) % 16 == 0, "SP must stay 16-byte aligned");
static_assert(offsetof(ExceptionFrame, sp) == 31 * 8);

// The EL2 translation registers a CPU loads to turn its MMU on
// (arch/arm64/mmu.S). The boot CPU publishes one for the secondaries.
struct MmuConfig {
    u64 mair;
    u64 tcr;
    u64 ttbr;
    u64 sctlr;
};
static_assert(std::is_standard_layout_v<MmuConfig>);

// Vector offsets within VBAR_EL2 (DDI 0487 D1.3.1, table D1-5), as the
// index 0..15 that vectors.S passes along.
enum class VectorKind : u8 {
    current_sp0_sync, current_sp0_irq, current_sp0_fiq, current_sp0_serror,
    current_spx_sync, current_spx_irq, current_spx_fiq, current_spx_serror,
    lower64_sync, lower64_irq, lower64_fiq, lower64_serror,
    lower32_sync, lower32_irq, lower32_fiq, lower32_serror,
};

const char* vector_kind_name(VectorKind k);

} // namespace setwise::arm64

extern "C" void mmu_enable_el2(setwise::u64 mair, setwise::u64 tcr, setwise::u64 ttbr, setwise::u64 sctlr);
