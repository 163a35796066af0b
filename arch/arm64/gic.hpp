// The physical interrupt controller: one Gic per machine, GICv2 (gic_v2.hpp)
// or GICv3 (gic_v3.hpp), chosen from the device tree by make_gic().
//
// Life cycle, all at EL2:
//
//   boot CPU      make_gic(description, mapper, gic_cpu())
//                 gic.init_distributor(boot MPIDR)
//                 gic.init_cpu(0, boot MPIDR)
//   each CPU      gic.init_cpu(index, its MPIDR)       on that CPU itself
//   then          send_sgi() to any CPU that has run init_cpu();
//                 acknowledge() / end_of_interrupt() on the CPU that took
//                 the interrupt.
//
// Every SGI is enabled by init_cpu(); PPIs are enabled one by one
// (enable_ppi); SPIs are left disabled. Interrupts are signalled as IRQ.
//
// End of interrupt uses the split mode (EOImode 1: the EOI write drops the
// running priority, a separate DIR write deactivates), as KVM and Xen do:
// a physical interrupt forwarded to a guest through a hardware list register
// (GICH_LR.HW / ICH_LR<n>_EL2.HW) must have its priority dropped by setwise
// but be deactivated by the guest's own EOI. end_of_interrupt() does both
// writes. The only exception is a GICv2 CPU interface described with less
// than the 8 KiB that hold GICC_DIR: it runs in EOImode 0.
//
// The code here and in gic_v2.cpp / gic_v3.cpp is portable and host-tested
// (tests/host/gic_driver_test.cpp): registers are reached through
// GicRegisters (MMIO, a fake register file on the host) and GicCpu (the
// system registers and barriers, gic_sysreg.cpp on the target, a recording
// fake on the host). Nothing here depends on mm/ or core/: the caller maps
// the register blocks (DeviceMapper) and describes the GIC (GicDescription).
#pragma once

#include <optional>
#include <span>

#include "arch/arm64/gic_regs.hpp"
#include "setwise/mmio.hpp"
#include "setwise/result.hpp"

namespace setwise::arm64 {

// Priorities: lower is more urgent; a CPU interface signals an interrupt
// only if its priority is numerically below the priority mask. Every
// implementation keeps at least the top 4 bits, where these two differ.
inline constexpr u8 kGicDefaultPriority = 0xa0; // SGIs and SPIs: below the mask
inline constexpr u8 kGicPriorityMask = 0xf0;    // ICC_PMR_EL1 / GICC_PMR
inline constexpr u32 kGicMaxCpus = 64;          // cpu_index < this
inline constexpr usize kGicMaxRedistributorRegions = 8;
// Polls of a register-write-pending or WAKER bit before giving up with
// Status::timeout. Each poll is an MMIO read (about 1 us under QEMU TCG,
// less on hardware): well over the few microseconds hardware needs.
inline constexpr u32 kGicPollLimit = 1'000'000;

// 32-bit (and byte) access to one GIC register block at byte offsets.
// Target: MmioGicRegisters over a Device mapping; host: a fake.
class GicRegisters {
public:
    virtual u32 read32(u64 offset) = 0;
    virtual void write32(u64 offset, u32 v) = 0;
    // Only for the byte-accessible registers (IPRIORITYR, ITARGETSR).
    virtual void write8(u64 offset, u8 v) = 0;

    template <typename Reg>
    u32 read(Reg r) { return read32(static_cast<u64>(r)); }
    template <typename Reg>
    void write(Reg r, u32 v) { write32(static_cast<u64>(r), v); }

protected:
    ~GicRegisters() = default;
};

// A register block the hypervisor mapped (VA of its first byte).
class MmioGicRegisters final : public GicRegisters {
public:
    constexpr MmioGicRegisters() = default;
    explicit MmioGicRegisters(Va base) : block_(base) {}
    u32 read32(u64 offset) override { return block_.read32(offset); }
    void write32(u64 offset, u32 v) override { block_.write32(offset, v); }
    void write8(u64 offset, u8 v) override { block_.write8(offset, v); }

private:
    MmioBlock block_;
};

// The instructions the drivers execute on the current CPU: GICv3 system
// registers (GicSysreg) and barriers. gic_cpu() is the real one.
class GicCpu {
public:
    // Precondition for ICC_* other than ICC_SRE_EL2: ICC_SRE_EL2.SRE = 1
    // on this CPU (GicV3::init_cpu). Reading a write-only register or
    // writing a read-only one is not done by the drivers.
    virtual u64 read(GicSysreg r) = 0;
    virtual void write(GicSysreg r, u64 v) = 0;
    virtual void isb() = 0;
    // Before sending an SGI: this CPU's earlier stores are visible to the
    // target when it takes the interrupt.
    virtual void dsb_ishst() = 0;
    // After an acknowledge: the IAR read has completed before the handler's
    // memory accesses.
    virtual void dsb_sy() = 0;
    // Between two polls of a register the GIC updates by itself (YIELD).
    virtual void relax() = 0;

protected:
    ~GicCpu() = default;
};

// Target only (gic_sysreg.cpp): this machine's CPU, any CPU (the object has
// no per-CPU state).
GicCpu& gic_cpu();

// Maps a register block for the hypervisor, Device-nGnRE, and returns its
// VA. The boot passes a wrapper around mm::HypMap::map_device (VA == PA).
class DeviceMapper {
public:
    virtual Result<Va> map_device(PaRange regs) = 0;

protected:
    ~DeviceMapper() = default;
};

// What the device tree says about the GIC (core::MachineInfo::gic).
struct GicDescription {
    unsigned version = 0; // 2 or 3
    // The node's `reg` ranges, in order. v3: distributor, then
    // `redistributor_regions` redistributor regions, then GICC, GICH, GICV
    // if present. v2: distributor, CPU interface, then GICH and GICV if
    // present (virtualization extensions).
    std::span<const PaRange> regs{};
    u32 redistributor_regions = 1; // v3 `#redistributor-regions`
    u64 redistributor_stride = 0;  // v3 `redistributor-stride`, 0: from GICR_TYPER
    // The maintenance interrupt: the node's `interrupts` PPI + 16. PPI 9
    // (INTID 25) is what QEMU virt and SBSA systems use.
    u32 maintenance_intid = 25;
};

// An acknowledged interrupt. `iar` is what end_of_interrupt() writes back:
// on GICv2 an SGI's IAR carries the sending CPU interface in [12:10], and
// the EOI must name it again (IHI 0048B, GICC_EOIR).
struct GicIrq {
    u32 intid = kSpuriousIntid;
    u32 iar = kSpuriousIntid;
    constexpr bool spurious() const { return is_special_intid(intid); }
};

class Gic {
public:
    virtual unsigned version() const = 0;

    // On the boot CPU, before any init_cpu(). Disables the distributor,
    // puts every SPI in the group setwise owns (Group 1 on v3; see
    // gic_v2.cpp for v2), disabled, inactive, level-triggered, default
    // priority, targeted at the boot CPU; then enables the distributor
    // (v3: with affinity routing). Errors: timeout (v3 GICD_CTLR.RWP stuck).
    [[nodiscard]] virtual Status init_distributor(u64 boot_mpidr) = 0;

    // On CPU `cpu_index` itself, once, after init_distributor(). v3: finds
    // this CPU's redistributor by GICR_TYPER affinity and wakes it. Both:
    // SGIs enabled at the default priority, PPIs disabled, the CPU
    // interface enabled with the priority mask and EOImode 1.
    // Errors: out_of_range (cpu_index), not_found (no redistributor with
    // this affinity), timeout (redistributor does not wake, RWP stuck),
    // unsupported (v3: the system register interface cannot be enabled).
    [[nodiscard]] virtual Status init_cpu(u32 cpu_index, u64 mpidr) = 0;

    // On CPU `cpu_index` itself, after its init_cpu(): PPI `intid` (16..31)
    // at `priority`, enabled. Errors: invalid_argument, out_of_range.
    [[nodiscard]] virtual Status enable_ppi(u32 cpu_index, u32 intid, u8 priority) = 0;

    // SGI `sgi` (0..15) to the CPU with MPIDR `target_mpidr`, which must
    // have run init_cpu(); this CPU's earlier stores are visible to it.
    // Errors: invalid_argument (sgi), not_found (v2: target unknown),
    // unsupported (v3: Aff0 > 15 without range selector support).
    [[nodiscard]] virtual Status send_sgi(u32 sgi, u64 target_mpidr) = 0;

    // The highest priority pending interrupt, now active; spurious() if none.
    virtual GicIrq acknowledge() = 0;
    // Priority drop and deactivation of an acknowledged interrupt, on the
    // CPU that acknowledged it. A spurious one is ignored.
    virtual void end_of_interrupt(GicIrq irq) = 0;

    // Virtual interface: list registers per CPU (0 without one) and the
    // maintenance interrupt; the GICv2 virtual CPU interface (GICV) that a
    // guest's GICC is mapped to, if described.
    virtual u32 list_registers() const = 0;
    virtual u32 maintenance_intid() const = 0;
    virtual std::optional<PaRange> virtual_cpu_interface() const = 0;

    // ---- Forwarding a physical interrupt to a guest (EOImode 1) ----------
    // The priority drop alone (ICC_EOIR1_EL1 / GICC_EOIR): the interrupt
    // stays active until a HW-linked list register's deactivation, or
    // deactivate(), ends it. A spurious one is ignored.
    virtual void priority_drop(GicIrq irq) = 0;
    // Deactivation alone (ICC_DIR_EL1 / GICC_DIR) of an interrupt whose
    // priority was dropped. On the CPU that acknowledged it (PPIs, SGIs).
    virtual void deactivate(u32 intid) = 0;
    // Active state of PPI `intid` (16..31) of this CPU, `cpu_index`:
    // GICR_ISACTIVER0 / ICACTIVER0 (v3), the banked GICD_ISACTIVER0 /
    // ICACTIVER0 (v2). Saved and restored per vCPU for the HW-linked
    // virtual timer, as KVM does. Out-of-range arguments: false / ignored.
    virtual bool ppi_active(u32 cpu_index, u32 intid) = 0;
    virtual void set_ppi_active(u32 cpu_index, u32 intid, bool active) = 0;

    // ---- The virtual CPU interface of this CPU --------------------------
    // GICv3: ICH_*_EL2 system registers; GICv2: the GICH block (each CPU
    // sees its own at the same address). Only with list_registers() > 0.
    // List register `i` (< list_registers()) raw: ICH_LR<i>_EL2, or
    // GICH_LR<i> zero-extended (encoders in vcpu/vgic_lr.hpp).
    virtual u64 read_lr(u32 i) = 0;
    virtual void write_lr(u32 i, u64 raw) = 0;
    // ICH_HCR_EL2 / GICH_HCR, which share the fields setwise uses: En [0],
    // UIE [1], LRENPIE [2], NPIE [3], EOIcount [31:27].
    virtual u32 read_vif_hcr() = 0;
    virtual void write_vif_hcr(u32 hcr) = 0;
    // What a vCPU's guest has set in its virtual CPU interface, saved when
    // it leaves a CPU and restored when it comes back: ICH_VMCR_EL2 /
    // GICH_VMCR, and the active priorities (v3: ICH_AP0R<n>_EL2 and
    // ICH_AP1R<n>_EL2 for the n the implemented priority bits need; v2:
    // GICH_APR in apr1[0]).
    struct VirtualCpuState {
        u64 vmcr = 0;
        u32 apr0[4] = {};
        u32 apr1[4] = {};
    };
    virtual void save_virtual_cpu(VirtualCpuState& out) = 0;
    virtual void restore_virtual_cpu(const VirtualCpuState& in) = 0;
    // Priority bits of the virtual CPU interface: ICH_VTR_EL2.PRIbits + 1
    // (v3), 5 (v2: the GICH_LR priority field).
    virtual u32 virtual_priority_bits() const = 0;

protected:
    ~Gic() = default;
};

// The GIC `desc` describes, its register blocks mapped through `mapper`
// (GICV is not mapped: it is for guests). One per machine: a second call
// replaces the first. Errors: unsupported (version), invalid_argument
// (missing or too small register ranges), and any error of the mapper.
Result<Gic*> make_gic(const GicDescription& desc, DeviceMapper& mapper, GicCpu& cpu);

} // namespace setwise::arm64
