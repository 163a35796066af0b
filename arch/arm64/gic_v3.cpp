// GICv3 (ARM IHI 0069H).
//
// Interrupt groups. setwise runs Non-secure and uses Group 1 only, enabled
// by ICC_IGRPEN1_EL1 and signalled as IRQ. With one Security state
// (GICD_CTLR.DS = 1, QEMU virt secure=off) setwise puts every interrupt in
// Group 1 itself; with two, GICD_IGROUPR/GICR_IGROUPR0 are RAZ/WI to
// Non-secure accesses and Secure firmware has made them Non-secure Group 1.
// GICD_CTLR bit 1 (EnableGrp1, or EnableGrp1A in the Non-secure view) and
// bit 4 (ARE, or ARE_NS) mean the same in both (IHI 0069H, GICD_CTLR).
#include "arch/arm64/gic_v3.hpp"

namespace setwise::arm64 {

namespace {

constexpr u32 replicate(u8 b) { return u32{b} * 0x0101'0101u; }

constexpr u32 kSgiEnableBits = 0x0000'ffff;
constexpr u32 kPpiEnableBits = 0xffff'0000;

u64 read64(GicRegisters& r, u64 offset) {
    // 64-bit registers may be accessed as two 32-bit halves (IHI 0069H,
    // register access rules); the halves of GICR_TYPER cannot change between the reads.
    return u64{r.read32(offset)} | (u64{r.read32(offset + 4)} << 32);
}

constexpr bool arch_rev_v3_or_v4(u32 pidr2) {
    const u64 rev = GicPidr2(pidr2).get<GicPidr2::arch_rev>();
    return rev == 3 || rev == 4;
}

// ICH_AP0R<n>_EL2 and ICH_AP1R<n>_EL2 registers implemented: one bit per
// group priority of 5, 6 or 7 preemption bits, 32 per register. The
// registers beyond are UNDEFINED (IHI 0069H, ICH_AP0R<n>_EL2: n = 1 needs
// 6 bits of preemption, n = 2 and 3 need 7). Preemption bits, not priority
// bits (ICH_VTR_EL2.PREbits <= PRIbits): hardware with more priority than
// preemption bits has fewer registers than PRIbits would suggest.
constexpr u32 active_priority_registers(IchVtrEl2 vtr) {
    const u64 preemption_bits = vtr.get<IchVtrEl2::pre_bits>() + 1;
    return preemption_bits >= 7 ? 4 : preemption_bits == 6 ? 2 : 1;
}

} // namespace

GicV3::GicV3(GicRegisters& gicd, std::span<const Region> regions, GicCpu& cpu, const Config& config)
    : gicd_(&gicd), cpu_(&cpu), config_(config) {
    for (const Region& r : regions) {
        if (region_count_ == regions_.size()) break;
        regions_[region_count_++] = r;
    }
}

Status GicV3::wait_clear(GicRegisters& regs, u64 offset, u32 bits) {
    for (u32 i = 0; i < config_.poll_limit; ++i) {
        if ((regs.read32(offset) & bits) == 0) return Status::ok;
        cpu_->relax();
    }
    return Status::timeout;
}

Status GicV3::init_distributor(u64 boot_mpidr) {
    const u32 rwp = static_cast<u32>(GicdCtlr{}.with<GicdCtlr::rwp>(1).raw());
    const u64 ctlr = static_cast<u64>(GicdReg::ctlr);

    // Off first, and wait until the disable has taken effect everywhere
    // (GICD_CTLR.RWP, IHI 0069H): ARE may only change while the
    // groups are disabled.
    gicd_->write(GicdReg::ctlr, 0);
    if (const Status st = wait_clear(*gicd_, ctlr, rwp); st != Status::ok) return st;

    const GicdTyper typer(gicd_->read(GicdReg::typer));
    const u32 lines = typer.intid_lines();
    range_selector_.store(typer.test<GicdTyper::rss>(), std::memory_order_relaxed);
    for (u32 i = kPrivateIntids; i < lines; i += 32) {
        gicd_->write32(intid_offset(GicdReg::igroupr, i, 1), ~0u); // Group 1
        gicd_->write32(intid_offset(GicdReg::icenabler, i, 1), ~0u);
        gicd_->write32(intid_offset(GicdReg::icactiver, i, 1), ~0u);
    }
    for (u32 i = kPrivateIntids; i < lines; i += 16)
        gicd_->write32(intid_offset(GicdReg::icfgr, i, 2), 0); // level-sensitive
    for (u32 i = kPrivateIntids; i < lines; i += 4)
        gicd_->write32(intid_offset(GicdReg::ipriorityr, i, 8), replicate(kGicDefaultPriority));
    // The clear-enables are tracked by RWP too.
    if (const Status st = wait_clear(*gicd_, ctlr, rwp); st != Status::ok) return st;

    const GicdCtlr on = GicdCtlr{}.with<GicdCtlr::enable_grp1>(1).with<GicdCtlr::are>(1);
    gicd_->write(GicdReg::ctlr, on.raw());
    if (const Status st = wait_clear(*gicd_, ctlr, rwp); st != Status::ok) return st;

    // GICD_IROUTER only means something once ARE is set. Every SPI to the
    // boot CPU until someone routes it elsewhere.
    const u64 route = GicdIrouter::to_cpu(boot_mpidr).raw();
    for (u32 i = kPrivateIntids; i < lines; ++i) {
        const u64 off = intid_offset(GicdReg::irouter, i, 64);
        gicd_->write32(off, static_cast<u32>(route));
        gicd_->write32(off + 4, static_cast<u32>(route >> 32));
    }
    return Status::ok;
}

Result<GicV3::Frame> GicV3::find_redistributor(u64 mpidr) {
    const u32 want = gicr_affinity_of(mpidr);
    for (usize r = 0; r < region_count_; ++r) {
        GicRegisters& regs = *regions_[r].regs;
        const u64 size = regions_[r].size;
        // Like Linux, trust a region only if its first frame says GICv3/v4.
        if (size < kGicrStride || !arch_rev_v3_or_v4(regs.read32(static_cast<u64>(GicrReg::pidr2)))) continue;
        for (u64 off = 0; off + kGicrStride <= size;) {
            const GicrTyper typer(read64(regs, off + static_cast<u64>(GicrReg::typer)));
            if (typer.get<GicrTyper::affinity_value>() == want) return Frame{static_cast<u32>(r), off};
            if (typer.test<GicrTyper::last>()) break;
            off += config_.redistributor_stride != 0 ? config_.redistributor_stride
                   : typer.test<GicrTyper::vlpis>()  ? kGicrStrideVlpis
                                                     : kGicrStride;
        }
    }
    return Status::not_found;
}

Status GicV3::wake(GicRegisters& rd, u64 rd_base) {
    // IHI 0069H, GICR_WAKER: clear ProcessorSleep, then wait until the
    // redistributor reports its interfaces awake (ChildrenAsleep = 0).
    // With two Security states this register may be RAZ/WI to Non-secure
    // accesses, and firmware has woken the redistributor already.
    const u64 waker = rd_base + static_cast<u64>(GicrReg::waker);
    const GicrWaker old(rd.read32(waker));
    rd.write32(waker, old.with<GicrWaker::processor_sleep>(0).raw());
    return wait_clear(rd, waker, static_cast<u32>(GicrWaker{}.with<GicrWaker::children_asleep>(1).raw()));
}

Status GicV3::init_cpu(u32 cpu_index, u64 mpidr) {
    if (cpu_index >= kGicMaxCpus) return Status::out_of_range;
    const Frame frame = SW_TRY(find_redistributor(mpidr));
    GicRegisters& rd = *regions_[frame.region].regs;
    if (const Status st = wake(rd, frame.offset); st != Status::ok) return st;

    // This CPU's SGIs and PPIs: Group 1, inactive, PPIs off (wait for the
    // disable: GICR_CTLR.RWP), default priority, SGIs on.
    const u64 sgi = frame.offset + kGicrSgiBase;
    rd.write32(sgi + static_cast<u64>(GicrSgiReg::igroupr0), ~0u);
    rd.write32(sgi + static_cast<u64>(GicrSgiReg::icactiver0), ~0u);
    rd.write32(sgi + static_cast<u64>(GicrSgiReg::icenabler0), kPpiEnableBits);
    const u32 rwp = static_cast<u32>(GicrCtlr{}.with<GicrCtlr::rwp>(1).raw());
    if (const Status st = wait_clear(rd, frame.offset + static_cast<u64>(GicrReg::ctlr), rwp); st != Status::ok)
        return st;
    for (u32 i = 0; i < kPrivateIntids; i += 4)
        rd.write32(sgi + intid_offset(GicrSgiReg::ipriorityr, i, 8), replicate(kGicDefaultPriority));
    rd.write32(sgi + static_cast<u64>(GicrSgiReg::isenabler0), kSgiEnableBits);

    // The CPU interface. EL2 uses the system registers and lets EL1 use
    // them too (ICC_SRE_EL2.SRE and .Enable, IHI 0069H); if SRE
    // does not stick, only the memory-mapped interface exists (or EL3
    // forbids it), which setwise does not drive.
    const IccSreEl2 sre(cpu_->read(GicSysreg::icc_sre_el2));
    cpu_->write(GicSysreg::icc_sre_el2, sre.with<IccSreEl2::sre>(1).with<IccSreEl2::enable>(1).raw());
    cpu_->isb();
    if (!IccSreEl2(cpu_->read(GicSysreg::icc_sre_el2)).test<IccSreEl2::sre>()) return Status::unsupported;

    cpu_->write(GicSysreg::icc_pmr_el1, kGicPriorityMask);
    const IccCtlrEl1 ctlr(cpu_->read(GicSysreg::icc_ctlr_el1));
    cpu_->write(GicSysreg::icc_ctlr_el1, ctlr.with<IccCtlrEl1::eoimode>(1).raw());
    if (!ctlr.test<IccCtlrEl1::rss>()) range_selector_.store(false, std::memory_order_relaxed);
    cpu_->write(GicSysreg::icc_igrpen1_el1, IccIgrpen1El1{}.with<IccIgrpen1El1::enable>(1).raw());

    // The virtual CPU interface (every GICv3 CPU interface of a CPU with
    // EL2 has one): off and empty until a vCPU is loaded. ICH_HCR_EL2 and
    // the list registers hold what reset or an earlier user of the CPU
    // (firmware, a kexec'ing kernel) left, and a stale valid HW = 1 list
    // register would let a guest deactivate a physical interrupt.
    // ICH_VMCR_EL2 and ICH_AP<n>R_EL2 are left: a vCPU's
    // restore_virtual_cpu() writes them before it runs.
    const IchVtrEl2 vtr(cpu_->read(GicSysreg::ich_vtr_el2));
    const u64 lrs = vtr.get<IchVtrEl2::list_regs>() + 1;
    const u32 list_regs = static_cast<u32>(lrs > kIchMaxListRegs ? kIchMaxListRegs : lrs);
    cpu_->write(GicSysreg::ich_hcr_el2, 0);
    for (u32 i = 0; i < list_regs; ++i) cpu_->write(ich_lr(i), 0);
    list_regs_.store(list_regs, std::memory_order_relaxed);
    vpri_bits_.store(static_cast<u32>(vtr.get<IchVtrEl2::pri_bits>()) + 1, std::memory_order_relaxed);
    ap_regs_.store(active_priority_registers(vtr), std::memory_order_relaxed);
    cpu_->isb();

    cpus_[cpu_index] = CpuSlot{true, frame};
    return Status::ok;
}

Status GicV3::enable_ppi(u32 cpu_index, u32 intid, u8 priority) {
    if (cpu_index >= kGicMaxCpus || !cpus_[cpu_index].ready) return Status::out_of_range;
    if (intid < kSgiCount || intid >= kPrivateIntids) return Status::invalid_argument;
    const Frame f = cpus_[cpu_index].frame;
    GicRegisters& rd = *regions_[f.region].regs;
    const u64 sgi = f.offset + kGicrSgiBase;
    rd.write8(sgi + intid_byte(GicrSgiReg::ipriorityr, intid), priority);
    rd.write32(sgi + static_cast<u64>(GicrSgiReg::isenabler0), u32{1} << intid);
    return Status::ok;
}

Status GicV3::send_sgi(u32 sgi, u64 target_mpidr) {
    if (sgi >= kSgiCount) return Status::invalid_argument;
    if ((target_mpidr & 0xff) >= 16 && !range_selector_.load(std::memory_order_relaxed))
        return Status::unsupported;
    cpu_->dsb_ishst();
    cpu_->write(GicSysreg::icc_sgi1r_el1, IccSgi1rEl1::to_cpu(sgi, target_mpidr).raw());
    cpu_->isb();
    return Status::ok;
}

GicIrq GicV3::acknowledge() {
    const u64 iar = cpu_->read(GicSysreg::icc_iar1_el1);
    cpu_->dsb_sy();
    const u32 intid = static_cast<u32>(IccIar1El1(iar).get<IccIar1El1::intid>());
    return GicIrq{intid, intid};
}

void GicV3::end_of_interrupt(GicIrq irq) {
    if (irq.spurious()) return;
    cpu_->write(GicSysreg::icc_eoir1_el1, irq.iar);
    cpu_->isb();
    cpu_->write(GicSysreg::icc_dir_el1, irq.iar);
    cpu_->isb();
}

// ICC_* writes are not self-synchronising: the ISB makes each take effect
// before whatever follows, as in end_of_interrupt().
void GicV3::priority_drop(GicIrq irq) {
    if (irq.spurious()) return;
    // EOImode 1 (init_cpu): ICC_EOIR1_EL1 drops the running priority and
    // leaves the interrupt active (IHI 0069H, ICC_EOIR1_EL1).
    cpu_->write(GicSysreg::icc_eoir1_el1, irq.iar);
    cpu_->isb();
}

void GicV3::deactivate(u32 intid) {
    // A special INTID was never acknowledged; ICC_DIR_EL1 would ignore it.
    if (is_special_intid(intid)) return;
    cpu_->write(GicSysreg::icc_dir_el1, intid);
    cpu_->isb();
}

GicRegisters* GicV3::ppi_register(u32 cpu_index, u32 intid, GicrSgiReg reg, u64& offset) {
    if (cpu_index >= kGicMaxCpus || !cpus_[cpu_index].ready) return nullptr;
    if (intid < kSgiCount || intid >= kPrivateIntids) return nullptr;
    const Frame f = cpus_[cpu_index].frame;
    offset = f.offset + kGicrSgiBase + static_cast<u64>(reg);
    return regions_[f.region].regs;
}

// PPIs are private to a redistributor: its SGI_base frame's GICR_ISACTIVER0
// reads and sets, GICR_ICACTIVER0 clears, one bit per INTID 0..31 (IHI 0069H).
// Neither is tracked by GICR_CTLR.RWP.
bool GicV3::ppi_active(u32 cpu_index, u32 intid) {
    u64 off = 0;
    GicRegisters* rd = ppi_register(cpu_index, intid, GicrSgiReg::isactiver0, off);
    return rd != nullptr && (rd->read32(off) >> intid & 1) != 0;
}

void GicV3::set_ppi_active(u32 cpu_index, u32 intid, bool active) {
    u64 off = 0;
    GicRegisters* rd = ppi_register(cpu_index, intid, active ? GicrSgiReg::isactiver0 : GicrSgiReg::icactiver0, off);
    if (rd != nullptr) rd->write32(off, u32{1} << intid);
}

// The ICH_* accessors have no barriers: setwise touches them between a
// guest's exit and its next entry, and both the exception and the ERET are
// context synchronisation events.
u64 GicV3::read_lr(u32 i) {
    if (i >= list_regs_.load(std::memory_order_relaxed)) return 0;
    return cpu_->read(ich_lr(i));
}

void GicV3::write_lr(u32 i, u64 raw) {
    if (i >= list_regs_.load(std::memory_order_relaxed)) return;
    cpu_->write(ich_lr(i), raw);
}

u32 GicV3::read_vif_hcr() { return static_cast<u32>(cpu_->read(GicSysreg::ich_hcr_el2)); }

void GicV3::write_vif_hcr(u32 hcr) { cpu_->write(GicSysreg::ich_hcr_el2, hcr); }

void GicV3::save_virtual_cpu(VirtualCpuState& out) {
    out = VirtualCpuState{};
    out.vmcr = cpu_->read(GicSysreg::ich_vmcr_el2);
    const u32 n = ap_regs_.load(std::memory_order_relaxed);
    for (u32 i = 0; i < n; ++i) {
        out.apr0[i] = static_cast<u32>(cpu_->read(ich_ap0r(i)));
        out.apr1[i] = static_cast<u32>(cpu_->read(ich_ap1r(i)));
    }
}

void GicV3::restore_virtual_cpu(const VirtualCpuState& in) {
    cpu_->write(GicSysreg::ich_vmcr_el2, in.vmcr);
    const u32 n = ap_regs_.load(std::memory_order_relaxed);
    for (u32 i = 0; i < n; ++i) {
        cpu_->write(ich_ap0r(i), in.apr0[i]);
        cpu_->write(ich_ap1r(i), in.apr1[i]);
    }
}

u32 GicV3::list_registers() const {
    return static_cast<u32>(IchVtrEl2(cpu_->read(GicSysreg::ich_vtr_el2)).get<IchVtrEl2::list_regs>()) + 1;
}

} // namespace setwise::arm64
