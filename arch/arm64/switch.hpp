// The saved state of an EL2 thread that switched away (arch/arm64/switch.S):
// the AAPCS64 callee-saved registers and SP. Each vCPU runs on a stack of
// its own as such a thread; core/sched.hpp decides who runs.
#pragma once

#include <cstddef>
#include <type_traits>

#include "setwise/types.hpp"

namespace setwise::arm64 {

struct SwitchContext {
    u64 x19_x28[10];
    u64 fp;
    u64 lr;
    u64 sp;
};
static_assert(std::is_standard_layout_v<SwitchContext>);
static_assert(offsetof(SwitchContext, fp) == 80 && offsetof(SwitchContext, sp) == 96, "switch.S offsets");

} // namespace setwise::arm64

extern "C" void switch_context(setwise::arm64::SwitchContext* from, const setwise::arm64::SwitchContext* to);
extern "C" void switch_thread_start();

namespace setwise::arm64 {

// A context whose first resumption calls fn(arg) on the stack ending at
// stack_top (16-byte aligned); fn must not return.
inline SwitchContext switch_context_init(u64 stack_top, void (*fn)(u64), u64 arg) {
    SwitchContext c{};
    c.x19_x28[0] = reinterpret_cast<u64>(fn);
    c.x19_x28[1] = arg;
    c.lr = reinterpret_cast<u64>(&switch_thread_start);
    c.sp = stack_top;
    return c;
}

} // namespace setwise::arm64
