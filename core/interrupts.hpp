// The physical interrupt controller as setwise uses it: the GIC the device
// tree describes (arch/arm64/gic.hpp) is set up on every CPU at boot. EL2
// runs with interrupts masked; they are taken by polling -- in each CPU's
// idle loop after WFI, between chunks of a set/way flush, and when one
// arrives while a guest runs (HCR_EL2.IMO makes that an exit). setwise owns
// SGIs (kicks between CPUs), the EL2 timer, the virtual timer's PPI (which
// it forwards to the vCPU on the CPU) and the maintenance interrupt.
#pragma once

#include "arch/arm64/gic.hpp"
#include "core/machine.hpp"
#include "mm/hyp_map.hpp"
#include "vcpu/guest_layout.hpp"

namespace setwise::core {

// SGIs setwise sends itself (kSgiKick: core/sched.hpp).
inline constexpr u32 kSgiSelftest = 1; // selftest=ipi: "report in"

// PPIs setwise takes: the EL2 physical timer and the virtual timer (QEMU
// virt's wiring, vcpu/guest_layout.hpp; the host DT says the same).
inline constexpr u32 kHypTimerIntid = 16 + guest::kTimerPpiHyp;          // 26
inline constexpr u32 kVirtualTimerIntid = 16 + guest::kTimerPpiVirtual;  // 27

// Boot CPU, before the secondaries start: find, map and initialise the GIC
// and this CPU's interface. An error leaves setwise without interrupts
// (logged): nothing depends on them yet.
Status interrupts_init(const MachineInfo& m, mm::HypMap& map, u64 boot_mpidr);
// Each secondary, before it reports online.
void interrupts_init_cpu(u32 index, u64 mpidr);
arm64::Gic* gic();

// On each CPU as its loop starts: the PPIs above and the maintenance one.
void interrupts_enable_cpu(u32 index);

// Acknowledge and handle everything pending on this CPU (idle loop, or an
// IRQ taken from a guest). Returns how many were handled.
u32 drain_interrupts();

// selftest=ipi: the boot CPU sends kSgiSelftest to every online CPU.
void ipi_selftest();

} // namespace setwise::core
