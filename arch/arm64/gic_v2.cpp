// GICv2 (ARM IHI 0048B.b).
//
// Interrupt groups. setwise runs Non-secure. With the Security Extensions
// (real boards), the Non-secure view has one group -- Group 1, configured
// by Secure firmware, GICD_IGROUPR being RAZ/WI to Non-secure writes -- and
// its enable bits are GICD_CTLR bit 0 and GICC_CTLR bit 0, its EOI mode bit
// GICC_CTLR bit 9. Without them (QEMU virt, secure=off) there is one view
// with both groups; setwise puts every interrupt in Group 0 (IGROUPR = 0),
// whose enable bits are again bit 0 and whose EOI mode bit is again bit 9
// (EOImodeS), and which is signalled as IRQ while GICC_CTLR.FIQEn = 0.
// Writing IGROUPR = 0 and bits 0 and 9 is therefore right in both cases,
// and Group 1 without the Security Extensions (which would need AckCtl
// and EOImodeNS) is never used (IHI 0048B: GICD_CTLR, GICC_CTLR, and
// "Interrupt grouping").
#include "arch/arm64/gic_v2.hpp"

namespace setwise::arm64 {

namespace {

constexpr u64 kValid = u64{1} << 63;
constexpr unsigned kMaskShift = 48;
constexpr u64 kAffinityMask = 0xff'00ff'ffffull; // MPIDR_EL1 Aff3..Aff0

constexpr u32 replicate(u8 b) { return u32{b} * 0x0101'0101u; }

constexpr u32 kSgiEnableBits = 0x0000'ffff; // INTIDs 0..15 in [IS|IC]ENABLER0
constexpr u32 kPpiEnableBits = 0xffff'0000; // INTIDs 16..31

} // namespace

u8 GicV2::read_own_interface_mask() {
    // Each byte of GICD_ITARGETSR0..7 reads as the reading CPU's own mask
    // (IHI 0048B, GICD_ITARGETSRn); a uniprocessor implementation reads zero.
    const u32 v = gicd_->read(GicdReg::itargetsr);
    return static_cast<u8>(v | v >> 8 | v >> 16 | v >> 24);
}

// `boot_mpidr` is unused: SPIs target the CPU interface of the CPU this
// runs on (the boot CPU), by its own GICD_ITARGETSR0.
Status GicV2::init_distributor(u64) {
    // Distributor off while it is reconfigured (GICD_CTLR.Enable = 0: no
    // interrupt is forwarded to any CPU interface).
    gicd_->write(GicdReg::ctlr, 0);

    const u32 lines = GicdTyper(gicd_->read(GicdReg::typer)).intid_lines();
    // SPIs target the boot CPU (this CPU) until someone routes them.
    const u32 targets = replicate(read_own_interface_mask());
    for (u32 i = kPrivateIntids; i < lines; i += 32) {
        gicd_->write32(intid_offset(GicdReg::igroupr, i, 1), 0);
        gicd_->write32(intid_offset(GicdReg::icenabler, i, 1), ~0u);
        gicd_->write32(intid_offset(GicdReg::icactiver, i, 1), ~0u);
    }
    for (u32 i = kPrivateIntids; i < lines; i += 16)
        gicd_->write32(intid_offset(GicdReg::icfgr, i, 2), 0); // level-sensitive
    for (u32 i = kPrivateIntids; i < lines; i += 4) {
        gicd_->write32(intid_offset(GicdReg::ipriorityr, i, 8), replicate(kGicDefaultPriority));
        gicd_->write32(intid_offset(GicdReg::itargetsr, i, 8), targets);
    }
    gicd_->write(GicdReg::ctlr, static_cast<u32>(GicdCtlr{}.with<GicdCtlr::enable_grp0>(1).raw()));
    return Status::ok;
}

Status GicV2::init_cpu(u32 cpu_index, u64 mpidr) {
    if (cpu_index >= kGicMaxCpus) return Status::out_of_range;
    const u8 mask = read_own_interface_mask();

    // This CPU's banked SGIs and PPIs: setwise's group, inactive, SGIs on
    // and PPIs off, default priority. Whether SGI enable bits are
    // writable is IMPLEMENTATION DEFINED (IHI 0048B, GICD_ISENABLERn); setting them is
    // harmless where they are fixed.
    gicd_->write32(intid_offset(GicdReg::igroupr, 0, 1), 0);
    gicd_->write32(intid_offset(GicdReg::icactiver, 0, 1), ~0u);
    gicd_->write32(intid_offset(GicdReg::icenabler, 0, 1), kPpiEnableBits);
    for (u32 i = 0; i < kPrivateIntids; i += 4)
        gicd_->write32(intid_offset(GicdReg::ipriorityr, i, 8), replicate(kGicDefaultPriority));
    gicd_->write32(intid_offset(GicdReg::isenabler, 0, 1), kSgiEnableBits);

    gicc_->write(GiccReg::pmr, kGicPriorityMask);
    // Keep the bypass-disable bits firmware chose; enable our group; EOI mode.
    const GiccCtlr old(gicc_->read(GiccReg::ctlr));
    const GiccCtlr ctlr = GiccCtlr(old.raw() & GiccCtlr::kBypassMask)
                              .with<GiccCtlr::enable_grp0>(1)
                              .with<GiccCtlr::eoimode_s>(config_.split_eoi ? 1 : 0);
    gicc_->write(GiccReg::ctlr, ctlr.raw());

    // This CPU's virtual interface (GICH is banked: each CPU sees its own
    // at the same address): off and empty until a vCPU is loaded. They
    // hold what reset or an earlier user of the CPU (firmware, a kexec'ing
    // kernel) left, and a stale valid HW = 1 list register would let a
    // guest deactivate a physical interrupt (IHI 0048B, GICH_LRn).
    if (gich_ != nullptr) {
        const u32 lrs = list_registers();
        gich_->write(GichReg::hcr, 0);
        for (u32 i = 0; i < lrs; ++i) gich_->write32(static_cast<u64>(GichReg::lr) + 4 * u64{i}, 0);
        list_regs_.store(lrs, std::memory_order_relaxed);
    }

    const u64 entry = mask == 0 ? 0 : kValid | (u64{mask} << kMaskShift) | (mpidr & kAffinityMask);
    targets_[cpu_index].store(entry, std::memory_order_release);
    return Status::ok;
}

Status GicV2::enable_ppi(u32 cpu_index, u32 intid, u8 priority) {
    if (cpu_index >= kGicMaxCpus) return Status::out_of_range;
    if (intid < kSgiCount || intid >= kPrivateIntids) return Status::invalid_argument;
    gicd_->write8(intid_byte(GicdReg::ipriorityr, intid), priority);
    gicd_->write32(intid_offset(GicdReg::isenabler, intid, 1), u32{1} << intid);
    return Status::ok;
}

u8 GicV2::cpu_interface_mask(u64 mpidr) const {
    const u64 want = mpidr & kAffinityMask;
    for (const std::atomic<u64>& t : targets_) {
        const u64 e = t.load(std::memory_order_acquire);
        if ((e & kValid) != 0 && (e & kAffinityMask) == want) return static_cast<u8>(e >> kMaskShift);
    }
    return 0;
}

Status GicV2::send_sgi(u32 sgi, u64 target_mpidr) {
    if (sgi >= kSgiCount) return Status::invalid_argument;
    const u8 mask = cpu_interface_mask(target_mpidr);
    if (mask == 0) return Status::not_found;
    const GicdSgir sgir = GicdSgir{}
                              .with<GicdSgir::target_list_filter>(GicdSgir::kFilterList)
                              .with<GicdSgir::cpu_target_list>(mask)
                              .with<GicdSgir::sgi_intid>(sgi);
    cpu_->dsb_ishst();
    gicd_->write(GicdReg::sgir, sgir.raw());
    return Status::ok;
}

GicIrq GicV2::acknowledge() {
    const u32 iar = gicc_->read(GiccReg::iar);
    cpu_->dsb_sy();
    return GicIrq{static_cast<u32>(GiccIar(iar).get<GiccIar::interrupt_id>()), iar};
}

void GicV2::end_of_interrupt(GicIrq irq) {
    if (irq.spurious()) return;
    gicc_->write(GiccReg::eoir, irq.iar);
    if (config_.split_eoi) gicc_->write(GiccReg::dir, irq.iar);
}

// In EOImode 0 (a GICC described without the page that holds GICC_DIR)
// a GICC_EOIR write both drops the priority and deactivates, and GICC_DIR
// must not be written (IHI 0048B, "Priority drop and interrupt
// deactivation"): priority_drop() is then the full EOI, and deactivate()
// has nothing left to do. A caller that forwards an interrupt through a
// HW = 1 list register relies on the interrupt staying active, which
// EOImode 0 cannot give.
void GicV2::priority_drop(GicIrq irq) {
    if (irq.spurious()) return;
    gicc_->write(GiccReg::eoir, irq.iar);
}

void GicV2::deactivate(u32 intid) {
    if (!config_.split_eoi) return;
    if (is_special_intid(static_cast<u32>(GiccIar(intid).get<GiccIar::interrupt_id>()))) return;
    gicc_->write(GiccReg::dir, intid);
}

// GICD_ISACTIVER0 reads and sets, GICD_ICACTIVER0 clears the active state
// of INTIDs 0..31, banked per CPU interface (IHI 0048B, GICD_ISACTIVERn).
bool GicV2::ppi_active(u32 cpu_index, u32 intid) {
    if (cpu_index >= kGicMaxCpus || intid < kSgiCount || intid >= kPrivateIntids) return false;
    return (gicd_->read32(intid_offset(GicdReg::isactiver, intid, 1)) >> intid & 1) != 0;
}

void GicV2::set_ppi_active(u32 cpu_index, u32 intid, bool active) {
    if (cpu_index >= kGicMaxCpus || intid < kSgiCount || intid >= kPrivateIntids) return;
    gicd_->write32(intid_offset(active ? GicdReg::isactiver : GicdReg::icactiver, intid, 1), u32{1} << intid);
}

u64 GicV2::read_lr(u32 i) {
    if (gich_ == nullptr || i >= list_regs_.load(std::memory_order_relaxed)) return 0;
    return gich_->read32(static_cast<u64>(GichReg::lr) + 4 * u64{i});
}

void GicV2::write_lr(u32 i, u64 raw) {
    if (gich_ == nullptr || i >= list_regs_.load(std::memory_order_relaxed)) return;
    gich_->write32(static_cast<u64>(GichReg::lr) + 4 * u64{i}, static_cast<u32>(raw));
}

u32 GicV2::read_vif_hcr() { return gich_ == nullptr ? 0 : gich_->read(GichReg::hcr); }

void GicV2::write_vif_hcr(u32 hcr) {
    if (gich_ != nullptr) gich_->write(GichReg::hcr, hcr);
}

// GICH_VMCR is the guest's GICV_CTLR, GICV_PMR and GICV_BPR/ABPR; GICH_APR
// the active priorities of its one register (IHI 0048B, GICH_VMCR and GICH_APR).
void GicV2::save_virtual_cpu(VirtualCpuState& out) {
    out = VirtualCpuState{};
    if (gich_ == nullptr) return;
    out.vmcr = gich_->read(GichReg::vmcr);
    out.apr1[0] = gich_->read(GichReg::apr);
}

void GicV2::restore_virtual_cpu(const VirtualCpuState& in) {
    if (gich_ == nullptr) return;
    gich_->write(GichReg::vmcr, static_cast<u32>(in.vmcr));
    gich_->write(GichReg::apr, in.apr1[0]);
}

u32 GicV2::list_registers() const {
    if (gich_ == nullptr) return 0;
    return static_cast<u32>(GichVtr(gich_->read(GichReg::vtr)).get<GichVtr::list_regs>()) + 1;
}

} // namespace setwise::arm64
