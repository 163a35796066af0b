// What each physical CPU runs. CPU 0 keeps the console (it polls the UART
// for input and flushes partial guest lines) and runs no vCPU; every other
// CPU is given at most one vCPU, pinned, and enters it whenever it becomes
// runnable. Until the interrupts issue brings a scheduler, a domain's vCPUs
// need that many free CPUs.
//
// A CPU with nothing to run waits in WFE; the EL2 timer event stream
// (CNTHCTL_EL2.EVNTEN) wakes it about every millisecond, and SEV from a CPU
// that hands it work wakes it at once.
#pragma once

#include "arch/arm64/frame.hpp"
#include "vcpu/vcpu.hpp"

namespace setwise::core {

// This CPU's loop: set up by SMP bring-up, re-entered on a fresh stack each
// time a vCPU leaves the CPU. Never returns.
[[noreturn]] void cpu_loop();

// Pin `v` to physical CPU `pcpu` (which must be online and not CPU 0).
void assign_vcpu(u32 pcpu, vcpu::Vcpu* v);
// The CPUs that could take a vCPU now: online, not CPU 0, nothing assigned.
u32 free_cpu_count();
// The lowest free CPU in `mask` (bit n = CPU n), or ~0u.
u32 pick_free_cpu(u64 mask);

// Ask a vCPU's CPU to look at it again (it was made runnable).
void kick(const vcpu::Vcpu& v);

vcpu::Vcpu* current_vcpu();

// From a trap: an exception taken from a guest (vectors lower_*).
void guest_exception(arm64::ExceptionFrame& frame, arm64::VectorKind kind);

// Console CPU hooks: called from CPU 0's loop.
void set_console_poll(void (*poll)());

} // namespace setwise::core
