// Compiled to assembly only; tools/gen-asm-offsets turns the "->" markers
// into arch/arm64 asm_offsets.h for the .S files.
#include <cstddef>

#include "arch/arm64/frame.hpp"

#define SW_DEFINE(sym, val) asm volatile("\n.ascii \"->" #sym " %0\"" ::"i"(val))

using setwise::arm64::ExceptionFrame;
using setwise::arm64::MmuConfig;

void sw_asm_offsets() {
    SW_DEFINE(FRAME_SIZE, sizeof(ExceptionFrame));
    SW_DEFINE(FRAME_X0, offsetof(ExceptionFrame, x));
    SW_DEFINE(FRAME_SP, offsetof(ExceptionFrame, sp));
    SW_DEFINE(FRAME_ELR, offsetof(ExceptionFrame, elr));
    SW_DEFINE(FRAME_SPSR, offsetof(ExceptionFrame, spsr));
    SW_DEFINE(FRAME_ESR, offsetof(ExceptionFrame, esr));
    SW_DEFINE(FRAME_FAR, offsetof(ExceptionFrame, far));
    SW_DEFINE(MMU_MAIR, offsetof(MmuConfig, mair));
    SW_DEFINE(MMU_TCR, offsetof(MmuConfig, tcr));
    SW_DEFINE(MMU_TTBR, offsetof(MmuConfig, ttbr));
    SW_DEFINE(MMU_SCTLR, offsetof(MmuConfig, sctlr));
}
