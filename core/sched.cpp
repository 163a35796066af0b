#include "core/sched.hpp"

#include "arch/arm64/el1_context.hpp"
#include "arch/arm64/sysreg.hpp"
#include "arch/cpu.hpp"
#include "core/interrupts.hpp"
#include "core/log.hpp"
#include "core/memory.hpp"
#include "core/percpu.hpp"
#include "vcpu/cache_traps.hpp"
#include "vcpu/domain.hpp"
#include "vcpu/trap.hpp"
#include "vcpu/trap_config.hpp"
#include "vcpu/vgic_cpu.hpp"

extern "C" [[noreturn]] void guest_enter(setwise::arm64::ExceptionFrame* frame);
extern "C" [[noreturn]] void run_on_fresh_stack(setwise::u64 stack_top, void (*fn)(setwise::u64), setwise::u64 arg);

namespace setwise::core {

static_assert(vcpu::Domain::kMaxHostCpus == kMaxHostCpus, "a domain's per-CPU table covers every host CPU");

using arm64::ExceptionFrame;
using vcpu::Domain;
using vcpu::DomainState;
using vcpu::Vcpu;
using vcpu::VcpuState;

namespace {

void (*g_console_poll)() = nullptr;
u64 g_slice_ticks = 0;
u64 g_console_tick = 0; // CPU 0's console poll period while it runs a vCPU

// Each vCPU's EL2 stack: a trap frame, the handlers (a set/way batch, a
// log line) and a switch. The boot stacks are the same size.
constexpr usize kVcpuStackSize = 16 * 1024;
constexpr u8 kStackPaint = 0x5a;

// PSTATE a vCPU starts with (DDI 0487 C5.2.18): AArch64 EL1h, or AArch32
// SVC (M[4] = 1); D, A, I and F masked.
constexpr u64 kPstateEl1h = 0x3c5;
constexpr u64 kPstateSvc = 0x1d3;
constexpr u64 kPstateThumb = u64{1} << 5;

// CNTHP_CTL_EL2: ENABLE [0]; IMASK [1] clear.
constexpr u64 kHypTimerEnable = 1;

bool runnable(const Vcpu& v) {
    switch (v.state.load(std::memory_order_acquire)) {
    case VcpuState::running: return true; // also when its domain stops: it must run to leave
    case VcpuState::on_pending: return v.domain().state.load(std::memory_order_acquire) == DomainState::running;
    case VcpuState::off:
    case VcpuState::blocked:
    case VcpuState::stopped: return false;
    }
    return false;
}

void send_kick(u32 pcpu) {
    if (arm64::Gic* g = gic(); g != nullptr) (void)g->send_sgi(kSgiKick, cpu(pcpu).mpidr);
}

bool wake(Vcpu& v) {
    VcpuState expected = VcpuState::blocked;
    return v.state.compare_exchange_strong(expected, VcpuState::running, std::memory_order_seq_cst);
}

// Blocked vCPUs of this CPU whose virtual timer has fired get its
// interrupt and run again.
void check_deadlines(PerCpu& me) {
    const u64 now = arch::counter();
    Vcpu* due[RunQueue<Vcpu, 16>::kCapacity];
    usize n = 0;
    {
        SpinLock::Guard g(me.rq_lock);
        for (usize i = 0; i < me.rq.size(); ++i) {
            Vcpu* v = me.rq.at(i);
            if (v->state.load(std::memory_order_acquire) == VcpuState::blocked && vcpu::timer_deadline(*v, true) <= now)
                due[n++] = v;
        }
    }
    for (usize i = 0; i < n; ++i) {
        vcpu::timers_expired(*due[i], true);
        if (wake(*due[i])) me.need_resched.store(true, std::memory_order_relaxed);
    }
}

// The EL2 timer fires at the earliest of: the current vCPU's slice end (only
// while another vCPU waits for this CPU) and the blocked vCPUs' deadlines.
void arm_hyp_timer(PerCpu& me) {
    u64 deadline = ~u64{0};
    usize waiting = 0;
    {
        SpinLock::Guard g(me.rq_lock);
        for (usize i = 0; i < me.rq.size(); ++i) {
            const Vcpu* v = me.rq.at(i);
            if (v->state.load(std::memory_order_acquire) == VcpuState::blocked) {
                const u64 d = vcpu::timer_deadline(*v, true);
                if (d < deadline) deadline = d;
            }
        }
        waiting = me.rq.count([](const Vcpu& v) { return runnable(v); });
    }
    if (me.current != nullptr && waiting > 1 && g_slice_ticks != 0) {
        if (me.slice_end == 0) me.slice_end = arch::counter() + g_slice_ticks;
        if (me.slice_end < deadline) deadline = me.slice_end;
    } else {
        me.slice_end = 0;
    }
    // The running vCPU's emulated physical timer (its virtual one is the
    // hardware's, and fires by itself).
    if (me.current != nullptr) {
        const u64 d = vcpu::timer_deadline(*me.current, false);
        if (d < deadline) deadline = d;
    }
    // CPU 0 polls the console every console tick, idle or not.
    if (me.index == 0) {
        const u64 tick = arch::counter() + g_console_tick;
        if (tick < deadline) deadline = tick;
    }
    if (deadline == ~u64{0}) {
        SW_WRITE_SYSREG(cnthp_ctl_el2, 0);
    } else {
        SW_WRITE_SYSREG(cnthp_cval_el2, deadline);
        SW_WRITE_SYSREG(cnthp_ctl_el2, kHypTimerEnable);
    }
    arm64::isb();
}

// After every switch, on the stack of whoever runs now: what the thread
// that left could not do on its own stack.
void finish_switch() {
    PerCpu& me = *this_cpu();
    if (Domain* d = me.deferred_stop; d != nullptr) {
        me.deferred_stop = nullptr;
        if (d->on_all_stopped != nullptr) d->on_all_stopped(*d);
    }
}

void vcpu_main(u64 arg);

// A vCPU's guest frame sits at the very top of its stack (where its traps
// build theirs); its thread's C stack starts below it.
u64 thread_stack_top(const Vcpu& v) { return v.stack_top - sizeof(ExceptionFrame); }

// Picks who runs next on this CPU and switches to it. Returns when the
// caller is chosen again (at once, if it is the one picked). A runnable
// vCPU keeps the CPU until its slice ends (a slice starts when a second
// vCPU becomes runnable), unless it yields.
enum class Turn : u8 { keep_slice, yield };

void schedule(Turn turn = Turn::keep_slice) {
    PerCpu& me = *this_cpu();
    me.need_resched.store(false, std::memory_order_relaxed);
    Vcpu* prev = me.current;
    Vcpu* next = nullptr;
    const u64 now = arch::counter();
    if (turn == Turn::keep_slice && prev != nullptr && runnable(*prev) && (me.slice_end == 0 || now < me.slice_end)) {
        next = prev;
    } else {
        SpinLock::Guard g(me.rq_lock);
        next = me.rq.pick([](const Vcpu& v) { return runnable(v); });
    }
    if (next == prev) {
        if (turn == Turn::yield || (me.slice_end != 0 && now >= me.slice_end)) me.slice_end = 0; // a new turn
        arm_hyp_timer(me);
        return;
    }
    if (prev != nullptr) {
        prev->run_ticks += now - prev->run_since;
        vcpu::vcpu_put(*prev);
        // A vCPU blocking in WFI whose virtual timer fired after its last
        // look at the vGIC (block()): put raised the timer's level, and
        // nothing else would wake it -- its saved timer has fired, so no
        // deadline is armed for it any more. Found by the hostile-guest
        // tests on a loaded host: the victim slept for good.
        if (prev->state.load(std::memory_order_acquire) == VcpuState::blocked && vcpu::vgic_has_pending(*prev) &&
            wake(*prev))
            me.need_resched.store(true, std::memory_order_relaxed);
    }
    me.current = next;
    me.slice_end = 0;
    ++me.switches;
    arm64::SwitchContext* from = prev != nullptr ? &prev->ctx : &me.idle_ctx;
    const arm64::SwitchContext* to = &me.idle_ctx;
    if (next != nullptr) {
        next->run_since = now;
        ++next->switches;
        next->trap_wfe = me.placed.load(std::memory_order_relaxed) > 1;
        vcpu::vcpu_load(*next);
        if (!next->thread_live) {
            next->ctx = arm64::switch_context_init(thread_stack_top(*next), vcpu_main, reinterpret_cast<u64>(next));
            next->thread_live = true;
        }
        to = &next->ctx;
    }
    arm_hyp_timer(me);
    switch_context(from, to);
    finish_switch();
}

[[noreturn]] void start(Vcpu& v);

// The vCPU leaves for good (CPU_OFF, its domain stopping). `counted`: it
// was started (vcpus_on_cpus counts it). Runs again only as a fresh start.
[[noreturn]] void leave(Vcpu& v, bool counted) {
    PerCpu& me = *this_cpu();
    Domain& d = v.domain();
    if (counted && d.vcpus_on_cpus.fetch_sub(1, std::memory_order_acq_rel) == 1 &&
        d.state.load(std::memory_order_acquire) == DomainState::shutting_down)
        me.deferred_stop = &d; // finished on the next thread's stack: it may free this one
    v.thread_live = false;
    schedule();
    // Picked again without a switch (CPU_ON came at once): start afresh.
    finish_switch();
    run_on_fresh_stack(thread_stack_top(v), vcpu_main, reinterpret_cast<u64>(&v));
}

// PSCI CPU_ON (or the domain's boot): the vCPU starts as from reset.
[[noreturn]] void start(Vcpu& v) {
    Domain& d = v.domain();
    VcpuState expected = VcpuState::on_pending;
    if (d.state.load(std::memory_order_acquire) != DomainState::running ||
        !v.state.compare_exchange_strong(expected, VcpuState::running, std::memory_order_acq_rel))
        leave(v, false);
    d.vcpus_on_cpus.fetch_add(1, std::memory_order_acq_rel);

    v.el1 = arm64::El1Context{};
    v.ptimer = vcpu::PhysTimer{};
    v.el1.sctlr_el1 = v.aarch32() ? arm64::kSctlrReset32 : arm64::kSctlrEl1Reset64;
    arm64::el1_context_load(v.el1);
    arm64::isb();

    auto* frame = reinterpret_cast<ExceptionFrame*>(v.stack_top - sizeof(ExceptionFrame));
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
    vcpu::vgic_enter(v);
    guest_enter(frame);
}

void vcpu_main(u64 arg) {
    finish_switch();
    start(*reinterpret_cast<Vcpu*>(arg));
}

// WFI with nothing pending: block until a kick. The state is published
// before the last look at the vGIC, and kickers fence before they read it
// (kick_vcpus), so an interrupt made pending meanwhile is seen by one side.
void block(Vcpu& v) {
    v.state.store(VcpuState::blocked, std::memory_order_seq_cst);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (vcpu::vgic_has_pending(v) || v.domain().state.load(std::memory_order_acquire) != DomainState::running) {
        (void)wake(v);
        return;
    }
    schedule();
}

// Preemption points of a set/way batch (vcpu/cache_traps.hpp).
void between_chunks() {
    (void)drain_interrupts();
    if (this_cpu()->need_resched.load(std::memory_order_relaxed)) schedule();
}

void batch_wait() {
    (void)drain_interrupts();
    schedule(Turn::yield);
}

[[noreturn]] void loop() {
    PerCpu& me = *this_cpu();
    for (;;) {
        finish_switch();
        (void)drain_interrupts();
        if (me.index == 0 && g_console_poll != nullptr) g_console_poll();
        check_deadlines(me);
        usize ready = 0;
        {
            SpinLock::Guard g(me.rq_lock);
            ready = me.rq.count([](const Vcpu& v) { return runnable(v); });
        }
        if (ready != 0) {
            schedule();
            continue;
        }
        arm_hyp_timer(me);
        // A pending interrupt ends WFI even while masked at EL2 (DDI 0487
        // D1.16.2). CPU 0's console tick (arm_hyp_timer) ends it too.
        arm64::wfi();
    }
}

} // namespace

void set_console_poll(void (*poll)()) { g_console_poll = poll; }

void start_scheduler() { vcpu::set_preempt_hooks(vcpu::PreemptHooks{&between_chunks, &batch_wait}); }

void set_time_slice_us(u64 us) {
    g_slice_ticks = arch::counter_frequency() / 1'000'000 * us;
    g_console_tick = arch::counter_frequency() / 200; // 5 ms
}

Vcpu* current_vcpu() {
    PerCpu* me = this_cpu();
    return me == nullptr ? nullptr : me->current;
}

Status place_domain(Domain& d, const u64* affinity) {
    d.kick = &kick_vcpus;
    for (u32 i = 0; i < d.nr_vcpus; ++i) {
        Vcpu& v = *d.vcpus[i];
        // The least loaded CPU; among equals, CPU 0 (which also keeps the
        // console) last.
        u32 best = ~0u;
        for (u32 k = 1; k <= kMaxHostCpus; ++k) {
            const u32 c = k % kMaxHostCpus;
            if ((affinity[i] & (u64{1} << c)) == 0) continue;
            if (cpu(c).state.load(std::memory_order_acquire) != CpuState::online) continue;
            if (cpu(c).placed.load(std::memory_order_acquire) >= RunQueue<Vcpu, 16>::kCapacity) continue;
            if (best == ~0u || cpu(c).placed.load() < cpu(best).placed.load()) best = c;
        }
        if (best == ~0u) {
            log::error("{}: vCPU{} has no online CPU with room in its hard affinity {:#x}", d.name, i, affinity[i]);
            return Status::busy;
        }
        void* stack = heap().allocate(kVcpuStackSize, 16);
        if (stack == nullptr) return Status::no_memory;
        // Painted, so the figures can say how deep it was ever used.
        for (usize b = 0; b < kVcpuStackSize; ++b) static_cast<u8*>(stack)[b] = kStackPaint;
        v.stack_top = reinterpret_cast<u64>(stack) + kVcpuStackSize;
        v.thread_live = false;
        v.pcpu = best;
        PerCpu& pc = cpu(best);
        SpinLock::Guard g(pc.rq_lock);
        (void)pc.rq.add(&v);
        pc.placed.fetch_add(1, std::memory_order_acq_rel);
    }
    return Status::ok;
}

void unplace_domain(Domain& d) {
    for (u32 i = 0; i < d.nr_vcpus; ++i) {
        Vcpu* v = d.vcpus[i];
        if (v == nullptr || v->stack_top == 0) continue;
        PerCpu& pc = cpu(v->pcpu);
        {
            SpinLock::Guard g(pc.rq_lock);
            if (pc.rq.remove(v)) pc.placed.fetch_sub(1, std::memory_order_acq_rel);
        }
        heap().free(reinterpret_cast<void*>(v->stack_top - kVcpuStackSize));
        v->stack_top = 0;
        v->thread_live = false;
    }
}

void reset_thread(Vcpu& v) { v.thread_live = false; }

void kick_vcpus(Domain& d, u32 mask) {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    PerCpu& me = *this_cpu();
    for (u32 i = 0; i < d.nr_vcpus && mask != 0; ++i) {
        if ((mask & (u32{1} << i)) == 0) continue;
        mask &= ~(u32{1} << i);
        Vcpu* v = d.vcpus[i];
        if (v == nullptr) continue;
        const bool woke = wake(*v);
        const VcpuState s = v->state.load(std::memory_order_acquire);
        if (!woke && s != VcpuState::running && s != VcpuState::on_pending) continue;
        if (v->pcpu == me.index) {
            if (woke || s == VcpuState::on_pending) me.need_resched.store(true, std::memory_order_relaxed);
        } else {
            send_kick(v->pcpu);
        }
    }
}

void on_kick() { this_cpu()->need_resched.store(true, std::memory_order_relaxed); }

void on_hyp_timer() {
    PerCpu& me = *this_cpu();
    SW_WRITE_SYSREG(cnthp_ctl_el2, 0); // its level drops; arm_hyp_timer sets it again
    arm64::isb();
    check_deadlines(me);
    // Whatever it fired for (a slice end, a deadline, CPU 0's console
    // tick), schedule() decides and arms it again.
    me.need_resched.store(true, std::memory_order_relaxed);
}

void cpu_loop() {
    PerCpu& me = *this_cpu();
    me.current = nullptr;
    SW_WRITE_SYSREG(cnthctl_el2, vcpu::kCnthctlEl2);
    SW_WRITE_SYSREG(cnthp_ctl_el2, 0);
    arm64::isb();
    interrupts_enable_cpu(me.index);
    loop();
}

void guest_exception(ExceptionFrame& frame, arm64::VectorKind kind) {
    PerCpu& me = *this_cpu();
    Vcpu* v = me.current;
    if (v == nullptr) {
        log::error("CPU{}: exception from a lower EL with no vCPU entered", me.index);
        return;
    }
    vcpu::vgic_exit(*v);
    // A physical IRQ while the guest ran (HCR_EL2.IMO): take it here, or it
    // stays pending and traps again at once.
    if (kind == arm64::VectorKind::lower64_irq || kind == arm64::VectorKind::lower32_irq ||
        kind == arm64::VectorKind::lower64_fiq || kind == arm64::VectorKind::lower32_fiq)
        (void)drain_interrupts();
    switch (vcpu::handle_exception(*v, frame, kind)) {
    case vcpu::TrapOutcome::resume: break;
    case vcpu::TrapOutcome::wait: block(*v); break;
    case vcpu::TrapOutcome::yield: schedule(Turn::yield); break;
    case vcpu::TrapOutcome::leave: leave(*v, true);
    }
    if (me.index == 0 && g_console_poll != nullptr) g_console_poll();
    if (v->timer_rearm) {
        v->timer_rearm = false;
        arm_hyp_timer(me);
    }
    if (me.need_resched.load(std::memory_order_relaxed)) schedule();
    if (v->domain().state.load(std::memory_order_acquire) != DomainState::running) {
        v->state.store(VcpuState::stopped, std::memory_order_release);
        leave(*v, true);
    }
    vcpu::vgic_enter(*v);
}

SchedFigures vcpu_figures(const Vcpu& v) {
    const u64 f = arch::counter_frequency();
    SchedFigures out{v.switches, f == 0 ? 0 : v.run_ticks / (f / 1'000'000 == 0 ? 1 : f / 1'000'000), 0};
    if (v.stack_top != 0) {
        const u8* low = reinterpret_cast<const u8*>(v.stack_top - kVcpuStackSize);
        usize untouched = 0;
        while (untouched < kVcpuStackSize && low[untouched] == kStackPaint) ++untouched;
        out.stack_used = kVcpuStackSize - untouched;
    }
    return out;
}

} // namespace setwise::core
