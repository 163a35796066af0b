#include "core/smp.hpp"

#include "arch/arm64/psci.hpp"
#include "arch/arm64/sysreg.hpp"
#include "arch/cpu.hpp"
#include "core/log.hpp"
#include "core/percpu.hpp"
#include "core/start.hpp"

#include "boot/boot_defs.h"
#include "core/sched.hpp"
#include "core/interrupts.hpp"

extern "C" char secondary_entry[];
extern "C" char boot_stacks[];

namespace setwise::core {

namespace psci = arm64::psci;

namespace {

// How long a CPU may take to report in after CPU_ON succeeded.
constexpr u64 kBringUpTimeoutMs = 1000;

const char* psci_method_name(PsciMethod m) {
    switch (m) {
    case PsciMethod::none: return "none";
    case PsciMethod::smc: return "smc";
    case PsciMethod::hvc: return "hvc";
    }
    return "?";
}

bool wait_online(const PerCpu& pc) {
    const u64 start = arch::counter();
    const u64 limit = arch::counter_frequency() / 1000 * kBringUpTimeoutMs;
    while (pc.state.load(std::memory_order_acquire) != CpuState::online) {
        if (arch::counter() - start > limit) return false;
        cpu_relax();
    }
    return true;
}

} // namespace

namespace {
u64 stack_top_of(u32 index) { return reinterpret_cast<u64>(boot_stacks) + (u64{index} + 1) * BOOT_STACK_SIZE; }
} // namespace

void smp_init_boot_cpu() {
    PerCpu& boot = cpu(0);
    boot.index = 0;
    boot.stack_top = stack_top_of(0);
    boot.mpidr = arm64::read_mpidr().affinity();
    boot.state.store(CpuState::online, std::memory_order_release);
    set_this_cpu(boot);
}

SmpReport smp_bring_up(const MachineInfo& m, u32 maxcpus) {
    SmpReport report;
    report.listed = static_cast<u32>(m.cpus.size());
    report.online = 1;
    if (m.cpus.size() <= 1) return report;

    const u32 limit = maxcpus == 0 || maxcpus > kMaxHostCpus ? kMaxHostCpus : maxcpus;
    if (m.psci.method != PsciMethod::smc) {
        // At EL2 an HVC is taken by setwise itself: firmware is only reachable by SMC.
        log::error("cannot start secondary CPUs: PSCI conduit is '{}', setwise at EL2 needs 'smc'",
                   psci_method_name(m.psci.method));
        return report;
    }
    const u64 cpu_on = m.psci.version == PsciVersion::v0_1 && m.psci.cpu_on ? *m.psci.cpu_on : psci::kCpuOn64;
    const u64 entry = reinterpret_cast<u64>(secondary_entry); // VA == PA

    u32 next = 1;
    for (const Cpu& c : m.cpus) {
        if (c.mpidr == cpu(0).mpidr) continue;
        if (next >= limit) {
            log::info("CPU with MPIDR {:#x} not started (maxcpus={})", c.mpidr, limit);
            continue;
        }
        if (!c.enable_method.empty() && c.enable_method != "psci") {
            log::warning("CPU with MPIDR {:#x}: enable-method '{}' is not supported", c.mpidr, c.enable_method);
            continue;
        }
        PerCpu& pc = cpu(next);
        pc.index = next;
        pc.mpidr = c.mpidr;
        pc.stack_top = stack_top_of(next);
        pc.state.store(CpuState::starting, std::memory_order_release);
        const i64 r = psci::call(psci::Conduit::smc, cpu_on, c.mpidr, entry, next);
        if (r != 0) {
            log::error("CPU{} (MPIDR {:#x}): PSCI CPU_ON failed: {}", next, c.mpidr, psci::ret_name(r));
            pc.state.store(CpuState::failed, std::memory_order_release);
            continue;
        }
        if (!wait_online(pc)) {
            // It may still come up late: its slot and stack stay its own.
            log::error("CPU{} (MPIDR {:#x}) did not report in within {} ms", next, c.mpidr, kBringUpTimeoutMs);
            pc.state.store(CpuState::failed, std::memory_order_release);
            ++next;
            continue;
        }
        ++report.online;
        ++next;
    }
    return report;
}

void secondary_start(u32 index) {
    PerCpu& me = cpu(index);
    interrupts_init_cpu(index, me.mpidr);
    log::info("CPU{} online (MPIDR {:#x})", index, me.mpidr);
    me.state.store(CpuState::online, std::memory_order_release);
    cpu_loop();
}

} // namespace setwise::core
