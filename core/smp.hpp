// Secondary CPUs: every CPU the DT lists is started through PSCI CPU_ON
// (the conduit from /psci), enters at boot/head.S secondary_entry with its
// index as context, turns its MMU on with the boot CPU's map and reports in.
#pragma once

#include "core/machine.hpp"

namespace setwise::core {

struct SmpReport {
    u32 listed = 0;  // CPUs the DT lists (the boot CPU included)
    u32 online = 0;  // CPUs running setwise now
};

// The boot CPU's per-CPU slot (index 0) and this CPU's TPIDR_EL2.
void smp_init_boot_cpu();

// Precondition: smp_init_boot_cpu(). maxcpus 0 means all.
SmpReport smp_bring_up(const MachineInfo& m, u32 maxcpus);

} // namespace setwise::core
