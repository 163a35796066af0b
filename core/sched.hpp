// What each physical CPU runs: its idle loop and the vCPUs placed on it,
// each an EL2 thread with a stack of its own (docs/scheduling.md).
//
// Every CPU has a run queue (core/run_queue.hpp); a domain's vCPUs are
// placed when it is built, each on the least loaded CPU of its hard
// affinity (CPU 0 last among equals), and stay there. CPU 0 also keeps the
// console: it polls the UART for input and flushes partial guest lines in
// its idle loop and, while it runs a vCPU, at every exit, with the EL2
// timer making one at least every 5 ms (idle: WFI until it fires). A vCPU
// alone on its CPU runs until it blocks (pinned: no time slice at all);
// vCPUs sharing a CPU take turns of at most `sched-slice`, round robin.
//
// When a vCPU traps, guest_exception() folds its list registers back into
// the vGIC, takes pending physical interrupts, handles the trap, and then:
//   - WFI with nothing pending: the vCPU blocks. Anything that makes an
//     interrupt pending for it kicks it (Domain::kick): it becomes runnable
//     and its CPU, if another, gets an SGI. Its virtual timer's deadline is
//     watched with the EL2 physical timer (CNTHP) while it is blocked.
//   - CPU_OFF or its domain stopping: the vCPU leaves for good (a later
//     CPU_ON or reboot starts it afresh on a new stack frame).
//   - the slice ran out, or a kick arrived: schedule() picks who runs next.
// Then the list registers are filled and the guest resumed.
//
// Locking: a CPU's `current`, `slice_end` and switch state are touched only
// by that CPU with interrupts masked (always, at EL2). Run queues take
// their CPU's rq_lock; vCPU states are atomics. Kicks use seq_cst fences
// against the WFI path so a wake-up cannot be lost between the pending
// check and blocking.
#pragma once

#include "arch/arm64/frame.hpp"
#include "setwise/result.hpp"
#include "vcpu/vcpu.hpp"

namespace setwise::vcpu {
class Domain;
}

namespace setwise::core {

// SGIs setwise sends itself (besides interrupts.hpp's selftest one).
inline constexpr u32 kSgiKick = 2; // "look at your run queue and your vCPU's interrupts"

// This CPU's idle loop: set up by SMP bring-up. Never returns.
[[noreturn]] void cpu_loop();

// At boot, before any domain: the time slice (the sched-slice option) and
// the set/way flush's preemption points.
void set_time_slice_us(u64 us);
void start_scheduler();

// Places each vCPU of `d` on a CPU of its hard affinity (bit n = CPU n),
// the least loaded first, and gives it a stack. busy if a vCPU has no
// usable CPU in its mask, no_memory without a stack.
Status place_domain(vcpu::Domain& d, const u64* affinity);
// Takes d's vCPUs off their run queues and frees their stacks. Only when
// none of them runs (all stopped, or never started).
void unplace_domain(vcpu::Domain& d);
// Forgets a vCPU's thread: the next time it runs it starts afresh (reset,
// CPU_ON after CPU_OFF).
void reset_thread(vcpu::Vcpu& v);

// Makes the vCPUs in mask look again (Domain::kick).
void kick_vcpus(vcpu::Domain& d, u32 mask);

// The vCPU whose state this CPU holds, or nullptr.
vcpu::Vcpu* current_vcpu();

// From a trap: an exception taken from a guest (vectors lower_*).
void guest_exception(arm64::ExceptionFrame& frame, arm64::VectorKind kind);

// The physical interrupts the scheduler owns, from drain_interrupts():
// the kick SGI and the EL2 timer (slice end, blocked vCPUs' deadlines).
void on_kick();
void on_hyp_timer();

// Console CPU hooks: called from CPU 0's loop.
void set_console_poll(void (*poll)());

// Figures for the `s` key and the domain's end.
struct SchedFigures {
    u64 switches = 0;
    u64 run_us = 0;
    u64 stack_used = 0; // bytes of its EL2 stack ever written (of 16 KiB)
};
SchedFigures vcpu_figures(const vcpu::Vcpu& v);

} // namespace setwise::core
