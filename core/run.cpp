#include "core/run.hpp"

#include "arch/arm64/sysreg.hpp"
#include "core/interrupts.hpp"
#include "core/log.hpp"
#include "core/percpu.hpp"
#include "vcpu/domain.hpp"
#include "vcpu/trap.hpp"
#include "vcpu/trap_config.hpp"

extern "C" [[noreturn]] void guest_enter(setwise::arm64::ExceptionFrame* frame);
extern "C" [[noreturn]] void run_on_fresh_stack(setwise::u64 stack_top, void (*fn)(setwise::u64), setwise::u64 arg);

namespace setwise::core {

using arm64::ExceptionFrame;
using vcpu::Domain;
using vcpu::Vcpu;
using vcpu::VcpuState;

namespace {

void (*g_console_poll)() = nullptr;

// PSTATE a vCPU starts with (DDI 0487 C5.2.18): AArch64 EL1h, or AArch32
// SVC (M[4] = 1); D, A, I and F masked.
constexpr u64 kPstateEl1h = 0x3c5;
constexpr u64 kPstateSvc = 0x1d3;
constexpr u64 kPstateThumb = u64{1} << 5;

// VMPIDR_EL2 bit 31 is RES1 (MPIDR_EL1 layout).
constexpr u64 kMpidrRes1 = u64{1} << 31;

[[noreturn]] void loop_entry(u64) { cpu_loop(); }

// Program this CPU's EL2 controls for `v`'s domain, load its EL1 state and
// enter it. Its frame sits just below the stack top, where its traps land.
[[noreturn]] void enter(Vcpu& v) {
    PerCpu& me = *this_cpu();
    Domain& d = v.domain();
    me.current = &v;
    d.vcpus_on_cpus.fetch_add(1, std::memory_order_acq_rel);

    SW_WRITE_SYSREG(vtcr_el2, d.vtcr);
    SW_WRITE_SYSREG(vttbr_el2, d.vttbr);
    SW_WRITE_SYSREG(hcr_el2, v.hcr);
    SW_WRITE_SYSREG(vmpidr_el2, v.mpidr() | kMpidrRes1);
    SW_WRITE_SYSREG(vpidr_el2, arm64::read_midr().raw());
    SW_WRITE_SYSREG(cptr_el2, vcpu::kCptrEl2Guest);
    SW_WRITE_SYSREG(cntvoff_el2, 0);
    SW_WRITE_SYSREG(mdcr_el2, 0);
    arm64::el1_context_load(v.el1);
    arm64::isb();

    auto* frame = reinterpret_cast<ExceptionFrame*>(me.stack_top - sizeof(ExceptionFrame));
    *frame = ExceptionFrame{};
    const vcpu::VcpuEntry& e = v.entry;
    if (v.aarch32()) {
        if (e.boot) {
            // Linux arch/arm boot protocol: r0 = 0, r1 = machine type ~0 (DT), r2 = DTB.
            frame->x[0] = 0;
            frame->x[1] = 0xffff'ffff;
            frame->x[2] = e.dtb;
        } else {
            frame->x[0] = e.context & 0xffff'ffff;
        }
        frame->spsr = kPstateSvc | (e.thumb ? kPstateThumb : 0);
    } else {
        frame->x[0] = e.boot ? e.dtb : e.context;
        frame->spsr = kPstateEl1h;
    }
    frame->elr = e.pc;
    guest_enter(frame);
}

} // namespace

void set_console_poll(void (*poll)()) { g_console_poll = poll; }

vcpu::Vcpu* current_vcpu() {
    PerCpu* me = this_cpu();
    return me == nullptr ? nullptr : me->current;
}

void assign_vcpu(u32 pcpu, Vcpu* v) {
    v->pcpu = pcpu;
    cpu(pcpu).assigned.store(v, std::memory_order_release);
}

u32 free_cpu_count() {
    u32 n = 0;
    for (u32 i = 1; i < kMaxHostCpus; ++i) {
        if (cpu(i).state.load(std::memory_order_acquire) == CpuState::online &&
            cpu(i).assigned.load(std::memory_order_acquire) == nullptr)
            ++n;
    }
    return n;
}

u32 pick_free_cpu(u64 mask) {
    for (u32 i = 1; i < kMaxHostCpus; ++i) {
        if ((mask & (u64{1} << i)) == 0) continue;
        if (cpu(i).state.load(std::memory_order_acquire) == CpuState::online &&
            cpu(i).assigned.load(std::memory_order_acquire) == nullptr)
            return i;
    }
    return ~0u;
}

void kick(const Vcpu&) {
    // Every waiting CPU wakes; the one the vCPU is pinned to finds it.
    arm64::dsb_ish();
    arm64::sev();
}

void cpu_loop() {
    PerCpu& me = *this_cpu();
    me.current = nullptr;
    SW_WRITE_SYSREG(cnthctl_el2, vcpu::kCnthctlEl2);
    arm64::isb();
    for (;;) {
        (void)drain_interrupts();
        if (me.index == 0 && g_console_poll != nullptr) g_console_poll();
        Vcpu* v = me.assigned.load(std::memory_order_acquire);
        if (v != nullptr && v->domain().state.load(std::memory_order_acquire) == vcpu::DomainState::running) {
            VcpuState expected = VcpuState::on_pending;
            if (v->state.compare_exchange_strong(expected, VcpuState::running, std::memory_order_acq_rel))
                enter(*v);
        }
        arm64::wfe();
    }
}

void guest_exception(ExceptionFrame& frame, arm64::VectorKind kind) {
    PerCpu& me = *this_cpu();
    Vcpu* v = me.current;
    if (v == nullptr) {
        log::error("CPU{}: exception from a lower EL with no vCPU entered", me.index);
        return;
    }
    // A physical IRQ while the guest ran (HCR_EL2.IMO): handle it here, or
    // it stays pending and traps again at once.
    if (kind == arm64::VectorKind::lower64_irq || kind == arm64::VectorKind::lower32_irq) (void)drain_interrupts();
    if (vcpu::handle_exception(*v, frame, kind) == vcpu::TrapOutcome::resume) return;

    // The vCPU leaves this CPU: its state was set by the handler.
    me.current = nullptr;
    Domain& d = v->domain();
    if (d.vcpus_on_cpus.fetch_sub(1, std::memory_order_acq_rel) == 1 &&
        d.state.load(std::memory_order_acquire) == vcpu::DomainState::shutting_down &&
        d.on_all_stopped != nullptr) {
        d.on_all_stopped(d);
    }
    run_on_fresh_stack(me.stack_top, loop_entry, 0);
}

} // namespace setwise::core
