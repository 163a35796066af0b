#include "vcpu/vgic_cpu.hpp"

#include "arch/arm32/cp15.hpp"
#include "arch/arm64/registers.hpp"
#include "arch/cpu.hpp"
#include "arch/arm64/sysreg.hpp"
#include "vcpu/debug_regs.hpp"
#include "vcpu/domain.hpp"
#include "vcpu/guest_layout.hpp"
#include "vcpu/trap_config.hpp"
#include "vcpu/vgic_dist.hpp"
#include "vcpu/vgic_lr.hpp"
#include "vcpu/vgic_redist.hpp"
#include "vcpu/vpl011.hpp"

namespace setwise::vcpu {

namespace {

// CNTV_CTL_EL0 (DDI 0487 D19.12): ENABLE [0], IMASK [1], ISTATUS [2].
constexpr u64 kCtlEnable = 1;
constexpr u64 kCtlImask = 2;
constexpr u64 kCtlIstatus = 4;

// VMPIDR_EL2 bit 31 is RES1 (MPIDR_EL1 layout).
constexpr u64 kMpidrRes1 = u64{1} << 31;

// ICH_HCR_EL2 / GICH_HCR (arm64::Gic::write_vif_hcr).
constexpr u32 kHcrEn = 1u << 0;
constexpr u32 kHcrUie = 1u << 1;
constexpr u32 kHcrLrenpie = 1u << 2;
constexpr u32 kHcrNpie = 1u << 3;
constexpr unsigned kHcrEoiCountShift = 27;

bool has_vgic(const Vcpu& v) {
    const Domain& d = v.domain();
    return d.vgic != nullptr && d.gic != nullptr && v.lrs != nullptr;
}

bool v3(const Domain& d) { return d.vgic->version() == VgicVersion::v3; }

u64 encode(const Domain& d, const LrEntry& e) { return v3(d) ? encode_ich_lr(e) : encode_gich_lr(e); }
LrEntry decode(const Domain& d, u64 raw) {
    return v3(d) ? decode_ich_lr(raw) : decode_gich_lr(static_cast<u32>(raw));
}

// The timer's output as the GIC sees it.
bool timer_line(u64 ctl) { return (ctl & (kCtlEnable | kCtlImask | kCtlIstatus)) == (kCtlEnable | kCtlIstatus); }

void set_timer_level(Vcpu& v, bool level, u32 intid = vgic::kVirtualTimerIntid) {
    Domain& d = v.domain();
    if (d.vgic == nullptr) return;
    const Result<VcpuMask> r = d.vgic->set_level(intid, v.id(), level);
    if (r.ok()) d.kick_others(v, r.value());
}

void ptimer_update(Vcpu& v) {
    v.ptimer.raised = v.ptimer.line(arch::counter());
    set_timer_level(v, v.ptimer.raised, vgic::kPhysTimerIntid);
}

} // namespace

void vgic_exit(Vcpu& v) {
    if (!has_vgic(v)) return;
    Domain& d = v.domain();
    arm64::Gic& gic = *d.gic;
    const u32 hcr = gic.read_vif_hcr();
    // Disabled while setwise runs: the maintenance interrupt it may have
    // asked for drops, and EOIcount starts again from 0.
    gic.write_vif_hcr(0);
    const usize used = v.lrs->used();
    LrEntry back[ListRegisterFile::kMaxLrs];
    for (usize i = 0; i < used; ++i) back[i] = decode(d, gic.read_lr(static_cast<u32>(i)));
    const ListRegisterFile::SyncResult r =
        v.lrs->sync(*d.vgic, std::span<const LrEntry>(back, used), hcr >> kHcrEoiCountShift);
    for (usize i = 0; i < r.hw_count; ++i) gic.deactivate(r.hw_pintids[i]);
    d.kick_vcpus(r.kick);
    set_timer_level(v, timer_line(SW_READ_SYSREG(cntv_ctl_el0)));
    ptimer_update(v);
}

void vgic_enter(Vcpu& v) {
    if (!has_vgic(v)) return;
    Domain& d = v.domain();
    arm64::Gic& gic = *d.gic;
    LrEntry lrs[ListRegisterFile::kMaxLrs];
    const usize n = v.lrs->nr_lrs();
    const ListRegisterFile::FillResult fr = v.lrs->fill(*d.vgic, std::span<LrEntry>(lrs, n));
    // Every LR: what the previous entry left valid must not survive.
    for (usize i = 0; i < n; ++i) gic.write_lr(static_cast<u32>(i), encode(d, lrs[i]));
    u32 hcr = kHcrEn;
    if (fr.underflow) hcr |= kHcrUie;
    if (fr.no_pending) hcr |= kHcrNpie;
    if (fr.eoi_count) hcr |= kHcrLrenpie;
    gic.write_vif_hcr(hcr);
}

bool vgic_has_pending(const Vcpu& v) {
    const Domain& d = v.domain();
    if (d.vgic == nullptr) return false;
    return d.vgic->highest_pending(v.id()).has_value();
}

void vtimer_fired(Vcpu& v) {
    ++v.timer_irqs;
    if (v.domain().vgic != nullptr) set_timer_level(v, true);
}

u64 timer_deadline(const Vcpu& v, bool with_virtual) {
    // A timer whose line is already up has nothing more to say until the
    // guest reprograms it (which traps, or happens while v runs).
    u64 deadline = v.ptimer.raised ? ~u64{0} : v.ptimer.deadline();
    const u64 ctl = v.el1.cntv_ctl_el0;
    if (with_virtual && (ctl & (kCtlEnable | kCtlImask | kCtlIstatus)) == kCtlEnable) {
        // Virtual count = physical count - CNTVOFF_EL2.
        const u64 cval = v.el1.cntv_cval_el0;
        const u64 off = v.domain().cntvoff;
        const u64 virt = cval > ~u64{0} - off ? ~u64{0} : cval + off;
        if (virt < deadline) deadline = virt;
    }
    return deadline;
}

void timers_expired(Vcpu& v, bool with_virtual) {
    const u64 now = arch::counter();
    if (with_virtual && (v.el1.cntv_ctl_el0 & (kCtlEnable | kCtlImask | kCtlIstatus)) == kCtlEnable) {
        const u64 off = v.domain().cntvoff;
        if (now - off >= v.el1.cntv_cval_el0) {
            // The saved ISTATUS is stale: the condition is met now.
            v.el1.cntv_ctl_el0 |= kCtlIstatus;
            set_timer_level(v, true);
        }
    }
    ptimer_update(v);
}

namespace {

enum class PtimerReg : u8 { none, tval, ctl, cval };

// One access to the emulated physical timer, whichever form named it.
bool ptimer_access(Vcpu& v, PtimerReg reg, bool read, u64* value) {
    const u64 now = arch::counter();
    PhysTimer& t = v.ptimer;
    switch (reg) {
    case PtimerReg::none: return false;
    case PtimerReg::tval:
        if (read) *value = t.read_tval(now); else t.write_tval(now, *value);
        break;
    case PtimerReg::ctl:
        if (read) *value = t.read_ctl(now); else t.write_ctl(*value);
        break;
    case PtimerReg::cval:
        if (read) *value = t.cval; else t.write_cval(*value);
        break;
    }
    ++v.ptimer_traps;
    if (!read) {
        ptimer_update(v);
        v.timer_rearm = true;
    }
    return true;
}

} // namespace

bool ptimer_sysreg(Vcpu& v, arm64::SysRegKey key, bool read, u64* value) {
    // DDI 0487 D19.12: CNTP_TVAL_EL0 (3,3,14,2,0), CNTP_CTL_EL0 (3,3,14,2,1),
    // CNTP_CVAL_EL0 (3,3,14,2,2).
    PtimerReg reg = PtimerReg::none;
    if (key == arm64::sysreg_key(3, 3, 14, 2, 0)) reg = PtimerReg::tval;
    if (key == arm64::sysreg_key(3, 3, 14, 2, 1)) reg = PtimerReg::ctl;
    if (key == arm64::sysreg_key(3, 3, 14, 2, 2)) reg = PtimerReg::cval;
    return ptimer_access(v, reg, read, value);
}

bool ptimer_cp15(Vcpu& v, u32 key, bool read, u64* value) {
    // MCR/MRC p15, 0, Rt, c14, c2, 0 (CNTP_TVAL) / 1 (CNTP_CTL).
    PtimerReg reg = PtimerReg::none;
    if (key == static_cast<u32>(arm32::cp15_key(0, 14, 2, 0))) reg = PtimerReg::tval;
    if (key == static_cast<u32>(arm32::cp15_key(0, 14, 2, 1))) reg = PtimerReg::ctl;
    return ptimer_access(v, reg, read, value);
}

bool ptimer_cp15_64(Vcpu& v, unsigned opc1, unsigned crm, bool read, u64* value) {
    // MCRR/MRRC p15, 2, Rt, Rt2, c14: CNTP_CVAL.
    return ptimer_access(v, opc1 == 2 && crm == 14 ? PtimerReg::cval : PtimerReg::none, read, value);
}

void vcpu_load(Vcpu& v) {
    Domain& d = v.domain();
    SW_WRITE_SYSREG(vtcr_el2, d.vtcr);
    SW_WRITE_SYSREG(vttbr_el2, d.vttbr);
    SW_WRITE_SYSREG(hcr_el2, v.effective_hcr());
    SW_WRITE_SYSREG(vmpidr_el2, v.mpidr() | kMpidrRes1);
    SW_WRITE_SYSREG(vpidr_el2, arm64::read_midr().raw());
    SW_WRITE_SYSREG(cptr_el2, kCptrEl2Guest);
    SW_WRITE_SYSREG(cntvoff_el2, d.cntvoff);
    SW_WRITE_SYSREG(mdcr_el2, guest_mdcr(arm64::pmu_event_counters()));
    arm64::isb();
    // Another vCPU of this domain ran on this CPU since v last did: what
    // it left in this CPU's TLBs (same VMID) v must not see. The guest
    // assumes each of its CPUs has TLBs of its own -- 32-bit Linux, for
    // one, reuses an ASID after a rollover on one CPU while another CPU
    // still runs the old owner until its own local flush. KVM does the
    // same (last_vcpu_ran). Local: only this CPU's TLBs hold such entries.
    if (v.pcpu < Domain::kMaxHostCpus) {
        Vcpu*& last = d.last_ran[v.pcpu];
        if (last != nullptr && last != &v) {
            asm volatile("tlbi vmalle1\n\tdsb nsh\n\tic iallu\n\tdsb nsh" ::: "memory");
            ++d.local_flushes;
        }
        last = &v;
    }
    arm64::el1_context_load(v.el1); // the virtual timer too: CNTVOFF is in place
    if (has_vgic(v)) {
        arm64::Gic& gic = *d.gic;
        gic.restore_virtual_cpu(v.vif);
        // The physical timer interrupt is active exactly while the guest has
        // its virtual one pending or active: it must not fire again before
        // the guest's EOI deactivates it (through the HW-linked LR).
        bool busy = false;
        if (const Result<IrqView> view = d.vgic->inspect(vgic::kVirtualTimerIntid, v.id()); view.ok())
            busy = view.value().pending || view.value().active;
        gic.set_ppi_active(v.pcpu, vgic::kVirtualTimerIntid, busy);
    }
    arm64::isb();
    v.on_cpu = true;
}

void vcpu_put(Vcpu& v) {
    Domain& d = v.domain();
    arm64::el1_context_save(v.el1);
    // The timer may have fired since v's last exit, and the write below
    // drops its line before setwise could take the interrupt: the level
    // goes to the vGIC now (the caller wakes v if it was blocking).
    set_timer_level(v, timer_line(v.el1.cntv_ctl_el0));
    // Its timer must not fire for the next vCPU.
    SW_WRITE_SYSREG(cntv_ctl_el0, 0);
    if (has_vgic(v)) d.gic->save_virtual_cpu(v.vif);
    arm64::isb();
    v.on_cpu = false;
}

bool vgic_claims(const Domain& d, Ipa ipa) {
    if (d.vgic == nullptr) return false;
    if (IpaRange{guest::kGicDistBase, guest::kGicDistSize}.contains(ipa)) return true;
    return d.vgic_redist != nullptr &&
           IpaRange{guest::kGicV3RedistBase, u64{d.nr_vcpus} * guest::kGicV3RedistStride}.contains(ipa);
}

u64 vgic_read(Vcpu& v, Ipa ipa, unsigned size) {
    Domain& d = v.domain();
    if (ipa.raw() < guest::kGicDistBase.raw() + guest::kGicDistSize)
        return d.vgic_dist->read(v.id(), ipa - guest::kGicDistBase, size);
    return d.vgic_redist->read(ipa - guest::kGicV3RedistBase, size);
}

void vgic_write(Vcpu& v, Ipa ipa, unsigned size, u64 value) {
    Domain& d = v.domain();
    VcpuMask kick = 0;
    if (ipa.raw() < guest::kGicDistBase.raw() + guest::kGicDistSize) {
        kick = d.vgic_dist->write(v.id(), ipa - guest::kGicDistBase, size, value);
    } else {
        kick = d.vgic_redist->write(ipa - guest::kGicV3RedistBase, size, value);
    }
    d.kick_others(v, kick);
}

namespace {

// ICC_SGI1R_EL1 and friends, whichever form wrote them (v3 guests only).
bool send_sgi(Vcpu& v, bool read, u64 value, SgiGroup group) {
    Domain& d = v.domain();
    if (read || d.vgic == nullptr || !v3(d)) return false;
    d.kick_others(v, d.vgic->send_sgi_v3(v.id(), Sgi1r(value), group));
    return true;
}

} // namespace

bool vgic_sgi_sysreg(Vcpu& v, arm64::SysRegKey key, bool read, u64 value) {
    // IHI 0069H 12.2: ICC_SGI1R_EL1 (3,0,12,11,5), ICC_ASGI1R_EL1
    // (3,1,12,11,6), ICC_SGI0R_EL1 (3,2,12,11,7).
    constexpr arm64::SysRegKey kSgi1r = arm64::sysreg_key(3, 0, 12, 11, 5);
    constexpr arm64::SysRegKey kAsgi1r = arm64::sysreg_key(3, 1, 12, 11, 6);
    constexpr arm64::SysRegKey kSgi0r = arm64::sysreg_key(3, 2, 12, 11, 7);
    if (key != kSgi1r && key != kAsgi1r && key != kSgi0r) return false;
    return send_sgi(v, read, value, key == kSgi1r ? SgiGroup::group1 : SgiGroup::group0);
}

bool vgic_sgi_mcrr(Vcpu& v, unsigned opc1, unsigned crm, bool read, u64 value) {
    // MCRR p15, <opc1>, Rt, Rt2, c12: opc1 0 ICC_SGI1R, 1 ICC_ASGI1R, 2 ICC_SGI0R.
    if (crm != 12 || opc1 > 2) return false;
    return send_sgi(v, read, value, opc1 == 0 ? SgiGroup::group1 : SgiGroup::group0);
}

VcpuMask uart_irq_update(Domain& d) {
    if (d.vgic == nullptr || d.uart == nullptr) return 0;
    const Result<VcpuMask> r = d.vgic->set_level(vgic::kUartIntid, 0, d.uart->irq_level());
    return r.ok() ? r.value() : 0;
}

} // namespace setwise::vcpu
