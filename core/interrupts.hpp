// The physical interrupt controller as setwise uses it today: the GIC the
// device tree describes (arch/arm64/gic.hpp) is set up on every CPU at
// boot, and interrupts are taken by polling in each CPU's idle loop (and
// drained when one arrives while a guest runs). Only SGIs are enabled yet:
// the interrupts issue adds the timer, the maintenance interrupt and
// delivery to guests through list registers.
#pragma once

#include "arch/arm64/gic.hpp"
#include "core/machine.hpp"
#include "mm/hyp_map.hpp"

namespace setwise::core {

// SGIs setwise sends itself.
inline constexpr u32 kSgiSelftest = 1; // selftest=ipi: "report in"

// Boot CPU, before the secondaries start: find, map and initialise the GIC
// and this CPU's interface. An error leaves setwise without interrupts
// (logged): nothing depends on them yet.
Status interrupts_init(const MachineInfo& m, mm::HypMap& map, u64 boot_mpidr);
// Each secondary, before it reports online.
void interrupts_init_cpu(u32 index, u64 mpidr);
arm64::Gic* gic();

// Acknowledge and handle everything pending on this CPU (idle loop, or an
// IRQ taken from a guest). Returns how many were handled.
u32 drain_interrupts();

// selftest=ipi: the boot CPU sends kSgiSelftest to every online CPU.
void ipi_selftest();

} // namespace setwise::core
