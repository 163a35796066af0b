#include "vcpu/trap.hpp"

#include "arch/arm32/condition.hpp"
#include "arch/arm32/cp15.hpp"
#include "arch/arm32/regs32.hpp" // retire_instruction
#include "arch/arm64/exception_class.hpp"
#include "arch/arm64/iss.hpp"
#include "arch/arm64/sysreg.hpp"
#include "core/log.hpp"
#include "vcpu/cache_traps.hpp"
#include "vcpu/debug_regs.hpp"
#include "vcpu/domain.hpp"
#include "vcpu/guest_frame.hpp"
#include "vcpu/guest_layout.hpp"
#include "vcpu/inject.hpp"
#include "vcpu/psci.hpp"
#include "vcpu/vgic_cpu.hpp"
#include "vcpu/vpl011.hpp"

namespace setwise::vcpu {

using arm64::ExceptionClass;
using arm64::ExceptionFrame;
using arm64::Syndrome;

namespace log = core::log;

namespace {

// How many injected faults per domain and kind are logged; the rest are
// only counted (a guest must not flood the console).
constexpr u64 kLogLimit = 3;

// A fault injected this many times in a row at the same pc, with no other
// trap between, is a loop the guest cannot leave: its handler faults the
// same way again (a stack pointer where nothing is, moving down a frame at
// each try; a handler that retries for ever). About 0.1-0.2 s of guest
// time under TCG; no guest that can still make progress takes the same
// abort ten thousand times before doing anything else.
constexpr u32 kFaultLoopLimit = 10000;

void inject(Vcpu& v, ExceptionFrame& f, InjectKind kind, const Syndrome& s) {
    InjectInput in;
    in.kind = kind;
    in.pc = f.elr;
    in.pstate = f.spsr;
    in.il32 = s.il32;
    in.fault_address = f.far;
    in.write = kind == InjectKind::data_abort && arm64::DataAbortIss(s.iss).test<arm64::DataAbortIss::wnr>();
    in.vbar = SW_READ_SYSREG(vbar_el1);
    in.sctlr = SW_READ_SYSREG(sctlr_el1);
    in.ttbcr = SW_READ_SYSREG(tcr_el1);
    if (v.aarch32()) {
        const InjectOutput out = inject_aarch32(in);
        if (out.spsr_mode == kModeAbt) {
            SW_WRITE_SYSREG(spsr_abt, out.spsr_value);
        } else {
            SW_WRITE_SYSREG(spsr_und, out.spsr_value);
        }
        f.x[out.lr_x] = out.lr_value;
        const u64 far = SW_READ_SYSREG(far_el1);
        if (out.set_dfsr) {
            // DFSR is ESR_EL1[31:0], DFAR is FAR_EL1[31:0] (the AArch32 views).
            SW_WRITE_SYSREG(esr_el1, out.fsr);
            SW_WRITE_SYSREG(far_el1, (far & ~u64{0xffff'ffff}) | out.far);
        }
        if (out.set_ifsr) {
            // IFSR is IFSR32_EL2, IFAR is FAR_EL1[63:32].
            SW_WRITE_SYSREG(ifsr32_el2, out.fsr);
            SW_WRITE_SYSREG(far_el1, (far & 0xffff'ffff) | (u64{out.far} << 32));
        }
        f.elr = out.pc;
        f.spsr = out.pstate;
    } else {
        const InjectOutput out = inject_aarch64(in);
        SW_WRITE_SYSREG(esr_el1, out.esr_el1);
        SW_WRITE_SYSREG(far_el1, out.far_el1);
        SW_WRITE_SYSREG(elr_el1, out.elr_el1);
        SW_WRITE_SYSREG(spsr_el1, out.spsr_el1);
        f.elr = out.pc;
        f.spsr = out.pstate;
    }
}

// The guest can go no further (an SError, vectors it cannot fetch, a fault
// loop): its domain is ended with one error line, printed by the vCPU that
// saw it first, and this vCPU leaves its CPU. `fmt` starts with the domain's
// name and the vCPU's number ("{}: vCPU{} ...") and ends "the domain crashed".
template <typename... A>
TrapOutcome crash(Vcpu& v, std::string_view fmt, const A&... args) {
    Domain& d = v.domain();
    if (d.begin_shutdown(ShutdownReason::crash)) log::error(fmt, d.name, v.id(), args...);
    v.state.store(VcpuState::stopped, std::memory_order_release);
    return TrapOutcome::leave;
}

// Whether this injection repeats the last one for the kFaultLoopLimit-th
// time; if so the domain is ended (one line) and the vCPU must leave.
bool fault_loop(Vcpu& v, const ExceptionFrame& f, u64 address) {
    if (v.fault_repeats != 0 && v.fault_pc == f.elr) {
        if (++v.fault_repeats < kFaultLoopLimit) return false;
        (void)crash(v,
                    "{}: vCPU{} took the same fault {} times in a row (pc {:#x}, first address {:#x}, last {:#x}): a "
                    "fault loop it cannot leave: the domain crashed",
                    kFaultLoopLimit, f.elr, v.fault_address, address);
        return true;
    }
    v.fault_pc = f.elr;
    v.fault_address = address;
    v.fault_repeats = 1;
    return false;
}

TrapOutcome inject_undef(Vcpu& v, ExceptionFrame& f, const Syndrome& s, const char* why) {
    Domain& d = v.domain();
    if (fault_loop(v, f, 0)) return TrapOutcome::leave;
    if (d.injected_undefs.fetch_add(1, std::memory_order_relaxed) < kLogLimit) {
        log::warning("{}: vCPU{} {} at pc {:#x} (ESR {:#x}): undefined instruction injected", d.name, v.id(), why,
                     f.elr, f.esr);
    }
    inject(v, f, InjectKind::undefined, s);
    return TrapOutcome::resume;
}

// An abort for an access to `address` (the fault's VA) where nothing is.
TrapOutcome inject_abort(Vcpu& v, ExceptionFrame& f, const Syndrome& s, InjectKind kind, u64 address) {
    if (fault_loop(v, f, address)) return TrapOutcome::leave;
    inject(v, f, kind, s);
    return TrapOutcome::resume;
}

// PSCI as the domain offers it (vcpu/psci.hpp).
class DomainPsci final : public PsciContext {
public:
    DomainPsci(Vcpu& caller, const ExceptionFrame& f) : caller_(caller), frame_(f), ram_(caller.domain().ram) {}
    usize vcpu_count() const override { return caller_.domain().nr_vcpus; }
    u64 vcpu_mpidr(usize i) const override { return caller_.domain().vcpus[i]->mpidr(); }
    VcpuPower vcpu_power(usize i) const override {
        switch (caller_.domain().vcpus[i]->state.load(std::memory_order_acquire)) {
        case VcpuState::off:
        case VcpuState::stopped: return VcpuPower::off;
        case VcpuState::on_pending: return VcpuPower::on_pending;
        case VcpuState::running:
        case VcpuState::blocked: return VcpuPower::on;
        }
        return VcpuPower::off;
    }
    bool caller_is_aarch32() const override { return from_aarch32(frame_); }
    std::span<const IpaRange> guest_ram() const override { return std::span<const IpaRange>(&ram_, 1); }
    Result<void> cpu_on(usize target, Ipa entry, u64 context_id, bool thumb) override {
        Vcpu& t = *caller_.domain().vcpus[target];
        t.entry = VcpuEntry{};
        t.entry.pc = entry.raw();
        t.entry.context = context_id;
        t.entry.thumb = thumb;
        t.state.store(VcpuState::on_pending, std::memory_order_release);
        caller_.domain().kick_vcpus(VcpuMask{1} << target); // its CPU may be idle
        return {};
    }

private:
    Vcpu& caller_;
    const ExceptionFrame& frame_;
    IpaRange ram_;
};

TrapOutcome psci_call(Vcpu& v, ExceptionFrame& f) {
    Domain& d = v.domain();
    d.psci_calls.fetch_add(1, std::memory_order_relaxed);
    DomainPsci ctx(v, f);
    PsciOutcome out;
    {
        SpinLock::Guard g(d.power_lock);
        out = handle_psci(static_cast<u32>(f.x[0]), f.x[1], f.x[2], f.x[3], ctx);
    }
    f.x[0] = from_aarch32(f) ? static_cast<u64>(out.x0) & 0xffff'ffff : static_cast<u64>(out.x0);
    switch (out.action) {
    case PsciAction::resume:
    case PsciAction::suspend: return TrapOutcome::resume;
    case PsciAction::cpu_off:
        v.state.store(VcpuState::off, std::memory_order_release);
        return TrapOutcome::leave;
    case PsciAction::system_off:
        if (d.begin_shutdown(ShutdownReason::poweroff)) {
            log::info("{}: PSCI SYSTEM_OFF", d.name);
            if (d.batch_lock.busy())
                log::info("{}: PSCI SYSTEM_OFF while a set/way batch runs: the batch completes, then the domain ends",
                          d.name);
        }
        v.state.store(VcpuState::stopped, std::memory_order_release);
        return TrapOutcome::leave;
    case PsciAction::system_reset:
        if (d.begin_shutdown(ShutdownReason::reboot) && d.log_reboot()) log::info("{}: PSCI SYSTEM_RESET", d.name);
        v.state.store(VcpuState::stopped, std::memory_order_release);
        return TrapOutcome::leave;
    }
    return TrapOutcome::resume;
}

// One guest access to its vPL011, under the device lock; its interrupt line
// follows (a read of DR may lower it, a write to IMSC raise it).
u64 uart_access(Vcpu& v, u64 offset, unsigned size, bool write, u64 value) {
    Domain& d = v.domain();
    VcpuMask kick = 0;
    u64 result = 0;
    {
        SpinLock::Guard g(d.device_lock);
        if (write) {
            d.uart->write(offset, size, static_cast<u32>(value));
        } else {
            result = d.uart->read(offset, size);
        }
        kick = uart_irq_update(d);
    }
    d.kick_others(v, kick);
    return result;
}

// Whether `address` is in the vCPU's exception vector table (as it stands).
bool in_vectors(const Vcpu& v, u64 address) {
    return in_vector_table(v.aarch32(), SW_READ_SYSREG(vbar_el1), SW_READ_SYSREG(sctlr_el1), address);
}

// An abort the guest cannot take: it came from its own vector table (a
// fetch there, or the vector's code accessing nothing -- a stack pointer
// at an unmapped IPA), so the injected exception would be taken there and
// fault again, for ever. The domain has crashed: ended, with one line.
TrapOutcome crash_in_vectors(Vcpu& v, const ExceptionFrame& f, Ipa ipa, bool fetch) {
    if (fetch)
        return crash(v, "{}: vCPU{} cannot take exceptions: its vector at {:#x} (IPA {}) cannot be fetched: the domain "
                        "crashed",
                     f.far, ipa);
    return crash(v,
                 "{}: vCPU{} cannot take exceptions: its vector code at pc {:#x} accesses IPA {}, where nothing is: "
                 "the domain crashed",
                 f.elr, ipa);
}

// A stage-2 data abort: MMIO to an emulated device, or an access to nothing.
TrapOutcome data_abort(Vcpu& v, ExceptionFrame& f, const Syndrome& s) {
    Domain& d = v.domain();
    const arm64::DataAbort da = arm64::DataAbortIss(s.iss).decode();
    const Ipa ipa = stage2_fault_ipa(SW_READ_SYSREG(hpfar_el2), f.far);

    // Set/way access tracking hides RAM it has seen: the first touch since
    // the last batch lands here and is let through (vcpu/cache_traps.hpp).
    if (da.fault.is_translation() && resolve_tracking_fault(v, ipa)) {
        v.fault_repeats = 0;
        return TrapOutcome::resume;
    }

    const IpaRange uart{guest::kUartBase, guest::kUartSize};
    const bool is_uart = d.uart != nullptr && uart.contains(ipa);
    if ((is_uart || vgic_claims(d, ipa)) && !da.s1ptw) {
        if (!da.isv) {
            if (d.injected_aborts.fetch_add(1, std::memory_order_relaxed) < kLogLimit)
                log::warning("{}: vCPU{} device access at IPA {} without a syndrome at pc {:#x}: abort injected",
                             d.name, v.id(), ipa, f.elr);
            return inject_abort(v, f, s, InjectKind::data_abort, f.far);
        }
        d.mmio_accesses.fetch_add(1, std::memory_order_relaxed);
        v.fault_repeats = 0;
        if (da.write) {
            const u64 value = guest_reg(f, da.srt);
            if (is_uart) {
                (void)uart_access(v, ipa - guest::kUartBase, da.access_bytes, true, value);
            } else {
                vgic_write(v, ipa, da.access_bytes, value);
            }
        } else {
            u64 value = is_uart ? uart_access(v, ipa - guest::kUartBase, da.access_bytes, false, 0)
                                : vgic_read(v, ipa, da.access_bytes);
            if (da.sign_extend && da.access_bytes < 8) {
                const unsigned bits = da.access_bytes * 8;
                const u64 sign = u64{1} << (bits - 1);
                value = (value ^ sign) - sign;
                if (!da.sixty_four) value &= 0xffff'ffff;
            }
            set_guest_reg(f, da.srt, value);
        }
        retire(f, s);
        return TrapOutcome::resume;
    }
    if (in_vectors(v, f.elr)) return crash_in_vectors(v, f, ipa, false);
    if (d.injected_aborts.fetch_add(1, std::memory_order_relaxed) < kLogLimit) {
        log::warning("{}: vCPU{} {} IPA {} (nothing there) at pc {:#x}: abort injected", d.name, v.id(),
                     da.write ? "write to" : "read from", ipa, f.elr);
    }
    return inject_abort(v, f, s, InjectKind::data_abort, f.far);
}

// ACTLR is the one trapped register (HCR_EL2.TACR) a guest may use: it
// reads back what it wrote, and the core never sees it.
TrapOutcome sysreg64(Vcpu& v, ExceptionFrame& f, const Syndrome& s) {
    if (handle_sysreg_cache_trap(v, f, s)) return TrapOutcome::resume;
    const arm64::SysRegIss iss(s.iss);
    constexpr arm64::SysRegKey kActlrEl1 = arm64::sysreg_key(3, 0, 1, 0, 1);
    const unsigned rt = static_cast<unsigned>(iss.get<arm64::SysRegIss::rt>());
    if (vgic_sgi_sysreg(v, iss.key(), iss.is_read(), guest_reg(f, rt))) {
        retire(f, s);
        return TrapOutcome::resume;
    }
    if (u64 value = guest_reg(f, rt); ptimer_sysreg(v, iss.key(), iss.is_read(), &value)) {
        if (iss.is_read()) set_guest_reg(f, rt, value);
        retire(f, s);
        return TrapOutcome::resume;
    }
    if (is_debug_or_pmu_sysreg(static_cast<unsigned>(iss.get<arm64::SysRegIss::op0>()),
                               static_cast<unsigned>(iss.get<arm64::SysRegIss::op1>()),
                               static_cast<unsigned>(iss.get<arm64::SysRegIss::crn>()),
                               static_cast<unsigned>(iss.get<arm64::SysRegIss::crm>()),
                               static_cast<unsigned>(iss.get<arm64::SysRegIss::op2>()))) {
        ++v.debug_pmu_traps;
        if (iss.is_read()) set_guest_reg(f, rt, 0); // RAZ/WI (vcpu/debug_regs.hpp)
        retire(f, s);
        return TrapOutcome::resume;
    }
    if (iss.key() == kActlrEl1) {
        if (iss.is_read()) {
            set_guest_reg(f, rt, v.actlr);
        } else {
            v.actlr = guest_reg(f, rt);
        }
        retire(f, s);
        return TrapOutcome::resume;
    }
    return inject_undef(v, f, s, arm64::sysreg_name(iss.key()));
}

TrapOutcome cp15_32(Vcpu& v, ExceptionFrame& f, const Syndrome& s) {
    if (!condition_passes(f, s)) {
        retire(f, s);
        return TrapOutcome::resume;
    }
    if (handle_cp15_cache_trap(v, f, s)) return TrapOutcome::resume;
    const arm32::Cp15Iss iss(s.iss);
    constexpr arm32::Cp15Key kActlr = arm32::cp15_key(0, 1, 0, 1);
    const unsigned rt = static_cast<unsigned>(iss.get<arm32::Cp15Iss::rt>());
    if (u64 value = guest_reg(f, rt); ptimer_cp15(v, static_cast<u32>(iss.key()), iss.is_read(), &value)) {
        if (iss.is_read()) set_guest_reg(f, rt, value & 0xffff'ffff);
        retire(f, s);
        return TrapOutcome::resume;
    }
    if (is_pmu_cp15(static_cast<unsigned>(iss.get<arm32::Cp15Iss::opc1>()),
                    static_cast<unsigned>(iss.get<arm32::Cp15Iss::crn>()),
                    static_cast<unsigned>(iss.get<arm32::Cp15Iss::crm>()),
                    static_cast<unsigned>(iss.get<arm32::Cp15Iss::opc2>()))) {
        ++v.debug_pmu_traps;
        if (iss.is_read()) set_guest_reg(f, rt, 0); // RAZ/WI (vcpu/debug_regs.hpp)
        retire(f, s);
        return TrapOutcome::resume;
    }
    if (iss.key() == kActlr) {
        if (iss.is_read()) {
            set_guest_reg(f, rt, v.actlr & 0xffff'ffff);
        } else {
            v.actlr = guest_reg(f, rt);
        }
        retire(f, s);
        return TrapOutcome::resume;
    }
    return inject_undef(v, f, s, "trapped CP15 access");
}

TrapOutcome synchronous(Vcpu& v, ExceptionFrame& f) {
    const Syndrome s = Syndrome::decode(f.esr);
    // Any trap but an abort breaks a run of identical faults (fault_loop);
    // an abort that is resolved (tracking, MMIO) breaks it below.
    if (s.ec != ExceptionClass::dabt_lower && s.ec != ExceptionClass::iabt_lower) v.fault_repeats = 0;
    switch (s.ec) {
    case ExceptionClass::wfx:
        // WFI (HCR_EL2.TWI) completes past the instruction when an
        // interrupt for the vCPU is pending; otherwise the vCPU blocks until
        // one is (core/sched.cpp). WFE traps (HCR_EL2.TWE) only while vCPUs
        // share the CPU: a spinning vCPU lets the others (perhaps the lock
        // holder) run, and resumes -- WFE may complete at any time.
        {
            const bool passes = condition_passes(f, s);
            retire(f, s);
            if (!passes) return TrapOutcome::resume;
        }
        if (arm64::WfxIss(s.iss).decode().kind != arm64::WfxKind::wfi) {
            ++v.wfe_count;
            return TrapOutcome::yield;
        }
        ++v.wfi_count;
        return vgic_has_pending(v) ? TrapOutcome::resume : TrapOutcome::wait;
    case ExceptionClass::hvc32:
    case ExceptionClass::hvc64:
        // ELR is already past an HVC. Only immediate 0 is SMCCC.
        if (arm64::HvcIss(s.iss).immediate() != 0) {
            f.x[0] = from_aarch32(f) ? 0xffff'ffffu : ~u64{0};
            return TrapOutcome::resume;
        }
        return psci_call(v, f);
    case ExceptionClass::smc32:
    case ExceptionClass::smc64: {
        // Trapped by HCR_EL2.TSC: ELR is the SMC itself (hardware-facts).
        if (!condition_passes(f, s)) {
            retire(f, s);
            return TrapOutcome::resume;
        }
        retire(f, s);
        return psci_call(v, f);
    }
    case ExceptionClass::dabt_lower: return data_abort(v, f, s);
    case ExceptionClass::iabt_lower: {
        Domain& d = v.domain();
        const Ipa ipa = stage2_fault_ipa(SW_READ_SYSREG(hpfar_el2), f.far);
        if (arm64::InstrAbortIss(s.iss).fault().is_translation() && resolve_tracking_fault(v, ipa)) {
            v.fault_repeats = 0;
            return TrapOutcome::resume;
        }
        if (in_vectors(v, f.far)) return crash_in_vectors(v, f, ipa, true);
        if (d.injected_aborts.fetch_add(1, std::memory_order_relaxed) < kLogLimit)
            log::warning("{}: vCPU{} instruction fetch from {:#x} (nothing executable there): abort injected",
                         d.name, v.id(), f.far);
        return inject_abort(v, f, s, InjectKind::prefetch_abort, f.far);
    }
    case ExceptionClass::sysreg: return sysreg64(v, f, s);
    case ExceptionClass::cp15_32: return cp15_32(v, f, s);
    case ExceptionClass::cp15_64:
        if (!condition_passes(f, s)) {
            retire(f, s);
            return TrapOutcome::resume;
        }
        if (handle_cp15_64_cache_trap(v, f, s)) return TrapOutcome::resume;
        if (const arm32::Cp15_64Access a = arm32::Cp15_64Iss(s.iss).decode();
            vgic_sgi_mcrr(v, a.opc1, a.crm, a.read, (guest_reg(f, a.rt2) << 32) | guest_reg(f, a.rt))) {
            retire(f, s);
            return TrapOutcome::resume;
        } else if (is_pmu_cp15_64(a.opc1, a.crm)) {
            ++v.debug_pmu_traps;
            if (a.read) { // RAZ/WI (vcpu/debug_regs.hpp)
                set_guest_reg(f, a.rt, 0);
                set_guest_reg(f, a.rt2, 0);
            }
            retire(f, s);
            return TrapOutcome::resume;
        } else if (u64 value = (guest_reg(f, a.rt2) << 32) | guest_reg(f, a.rt);
                   ptimer_cp15_64(v, a.opc1, a.crm, a.read, &value)) {
            if (a.read) {
                set_guest_reg(f, a.rt, value & 0xffff'ffff);
                set_guest_reg(f, a.rt2, value >> 32);
            }
            retire(f, s);
            return TrapOutcome::resume;
        }
        return inject_undef(v, f, s, "trapped CP15 64-bit access");
    case ExceptionClass::cp14_32:
    case ExceptionClass::cp14_64:
        // AArch32 debug registers (MDCR_EL2.TDA, TDOSA, TDRA): RAZ/WI, as
        // their AArch64 views (vcpu/debug_regs.hpp).
        ++v.debug_pmu_traps;
        if (condition_passes(f, s) && s.ec == ExceptionClass::cp14_32) {
            if (const arm32::Cp15Iss iss(s.iss); iss.is_read())
                set_guest_reg(f, static_cast<unsigned>(iss.get<arm32::Cp15Iss::rt>()), 0);
        } else if (condition_passes(f, s)) {
            if (const arm32::Cp15_64Access a = arm32::Cp15_64Iss(s.iss).decode(); a.read) {
                set_guest_reg(f, a.rt, 0);
                set_guest_reg(f, a.rt2, 0);
            }
        }
        retire(f, s);
        return TrapOutcome::resume;
    case ExceptionClass::cp14_ls: // LDC/STC to DBGDTRTXint/RXint: nothing to transfer
    case ExceptionClass::cp10_id:
        if (!condition_passes(f, s)) {
            retire(f, s);
            return TrapOutcome::resume;
        }
        return inject_undef(v, f, s, "trapped coprocessor access");
    // Nothing setwise enables traps these, or they are the guest's own
    // business at EL1: a lower EL sees them as undefined.
    case ExceptionClass::unknown:
    case ExceptionClass::fp_simd_access:
    case ExceptionClass::pauth:
    case ExceptionClass::ls64:
    case ExceptionClass::branch_target:
    case ExceptionClass::illegal_state:
    case ExceptionClass::svc32:
    case ExceptionClass::svc64:
    case ExceptionClass::sve:
    case ExceptionClass::eret:
    case ExceptionClass::tstart:
    case ExceptionClass::fpac:
    case ExceptionClass::sme:
    case ExceptionClass::impdef_el3:
    case ExceptionClass::iabt_same:
    case ExceptionClass::pc_alignment:
    case ExceptionClass::dabt_same:
    case ExceptionClass::sp_alignment:
    case ExceptionClass::mops:
    case ExceptionClass::fp32:
    case ExceptionClass::fp64:
    case ExceptionClass::serror:
    case ExceptionClass::breakpoint_lower:
    case ExceptionClass::breakpoint_same:
    case ExceptionClass::step_lower:
    case ExceptionClass::step_same:
    case ExceptionClass::watchpoint_lower:
    case ExceptionClass::watchpoint_same:
    case ExceptionClass::bkpt32:
    case ExceptionClass::vector_catch32:
    case ExceptionClass::brk64: break;
    }
    return inject_undef(v, f, s, arm64::exception_class_name(s.ec));
}

bool stopping(Vcpu& v) {
    if (v.domain().state.load(std::memory_order_acquire) == DomainState::running) return false;
    v.state.store(VcpuState::stopped, std::memory_order_release);
    return true;
}

} // namespace

TrapOutcome handle_exception(Vcpu& v, ExceptionFrame& f, arm64::VectorKind kind) {
    if (stopping(v)) return TrapOutcome::leave;
    TrapOutcome out = TrapOutcome::resume;
    switch (kind) {
    case arm64::VectorKind::lower64_sync:
    case arm64::VectorKind::lower32_sync: out = synchronous(v, f); break;
    case arm64::VectorKind::lower64_serror:
    case arm64::VectorKind::lower32_serror:
        return crash(v, "{}: vCPU{} SError (ESR {:#x}) at pc {:#x}: the domain crashed", f.esr, f.elr);
    case arm64::VectorKind::lower64_irq:
    case arm64::VectorKind::lower64_fiq:
    case arm64::VectorKind::lower32_irq:
    case arm64::VectorKind::lower32_fiq: break; // taken by core/sched.cpp before this call
    case arm64::VectorKind::current_sp0_sync:
    case arm64::VectorKind::current_sp0_irq:
    case arm64::VectorKind::current_sp0_fiq:
    case arm64::VectorKind::current_sp0_serror:
    case arm64::VectorKind::current_spx_sync:
    case arm64::VectorKind::current_spx_irq:
    case arm64::VectorKind::current_spx_fiq:
    case arm64::VectorKind::current_spx_serror: break; // not a guest's: core/exception.cpp handles these
    }
    if (out == TrapOutcome::resume && stopping(v)) return TrapOutcome::leave;
    return out;
}

} // namespace setwise::vcpu
