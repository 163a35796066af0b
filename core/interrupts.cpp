#include "core/interrupts.hpp"

#include "arch/cpu.hpp"
#include "arch/arm64/sysreg.hpp"
#include "core/log.hpp"
#include "core/percpu.hpp"
#include "core/sched.hpp"
#include "vcpu/guest_layout.hpp"
#include "vcpu/vgic_cpu.hpp"

namespace setwise::core {

namespace {

arm64::Gic* g_gic = nullptr;

// The GIC's register blocks go into the hypervisor's map at VA == PA.
class HypDeviceMapper final : public arm64::DeviceMapper {
public:
    explicit HypDeviceMapper(mm::HypMap& m) : map_(m) {}
    Result<Va> map_device(PaRange r) override {
        SW_TRY_VOID(map_.map_device(r));
        arch::page_table_sync(); // the walker must see the new entries (MMU on)
        arm64::isb();
        return mm::va_of(r.base);
    }

private:
    mm::HypMap& map_;
};

} // namespace

arm64::Gic* gic() { return g_gic; }

Status interrupts_init(const MachineInfo& m, mm::HypMap& map, u64 boot_mpidr) {
    arm64::GicDescription gd;
    gd.version = static_cast<unsigned>(m.gic.version);
    gd.regs = m.gic.regs.items();
    gd.redistributor_regions = m.gic.redistributor_regions;
    gd.redistributor_stride = m.gic.redistributor_stride;
    HypDeviceMapper mapper(map);
    Result<arm64::Gic*> g = arm64::make_gic(gd, mapper, arm64::gic_cpu());
    if (!g) {
        log::error("GIC: cannot set up the interrupt controller: {}", g.status());
        return g.status();
    }
    arm64::Gic& gic = *g.value();
    Status s = gic.init_distributor(boot_mpidr);
    if (s == Status::ok) s = gic.init_cpu(0, boot_mpidr);
    if (s != Status::ok) {
        log::error("GIC: initialisation failed: {}", s);
        return s;
    }
    g_gic = &gic;
    log::info("GIC: v{} driver ready, {} list registers, maintenance INTID {}", gic.version(),
              gic.list_registers(), gic.maintenance_intid());
    return Status::ok;
}

void interrupts_init_cpu(u32 index, u64 mpidr) {
    if (g_gic == nullptr) return;
    const Status s = g_gic->init_cpu(index, mpidr);
    if (s != Status::ok) log::error("CPU{}: GIC CPU interface: {}", index, s);
}

void interrupts_enable_cpu(u32 index) {
    if (g_gic == nullptr) return;
    // The EL2 timer (slices, blocked vCPUs' deadlines), the virtual timer
    // (forwarded to the vCPU on this CPU) and, with a virtual interface, its
    // maintenance interrupt.
    const u32 ppis[] = {kHypTimerIntid, kVirtualTimerIntid, g_gic->maintenance_intid()};
    for (const u32 intid : ppis) {
        if (intid == g_gic->maintenance_intid() && g_gic->list_registers() == 0) continue;
        const Status s = g_gic->enable_ppi(index, intid, arm64::kGicDefaultPriority);
        if (s != Status::ok) log::error("CPU{}: cannot enable PPI {}: {}", index, intid, s);
    }
}

u32 drain_interrupts() {
    if (g_gic == nullptr) return 0;
    u32 n = 0;
    // Bounded: an interrupt that keeps coming back must not wedge the CPU.
    for (; n < 64; ++n) {
        const arm64::GicIrq irq = g_gic->acknowledge();
        if (irq.spurious()) break;
        switch (irq.intid) {
        case kSgiSelftest:
            log::info("CPU{} took IPI (SGI {})", this_cpu_index(), irq.intid);
            break;
        case kSgiKick: on_kick(); break;
        case kHypTimerIntid: on_hyp_timer(); break;
        case kVirtualTimerIntid:
            if (vcpu::Vcpu* v = current_vcpu(); v != nullptr && v->on_cpu) {
                // Left active: the guest's EOI of the HW-linked virtual
                // interrupt deactivates it (vcpu/vgic_cpu.hpp).
                g_gic->priority_drop(irq);
                vcpu::vtimer_fired(*v);
                continue;
            }
            break; // no vCPU here: its timer was switched off with it
        default: break; // the maintenance interrupt: vgic_exit() did the work
        }
        g_gic->end_of_interrupt(irq);
    }
    return n;
}

void ipi_selftest() {
    if (g_gic == nullptr) return;
    for (u32 i = 0; i < kMaxHostCpus; ++i) {
        if (cpu(i).state.load(std::memory_order_acquire) != CpuState::online) continue;
        const Status s = g_gic->send_sgi(kSgiSelftest, cpu(i).mpidr);
        if (s != Status::ok) log::error("selftest: SGI to CPU{}: {}", i, s);
    }
}

} // namespace setwise::core
