// GICv2 driver (ARM IHI 0048B.b): distributor, CPU interface, and the
// virtual interface control block (GICH) the vGIC will program.
#pragma once

#include <array>
#include <atomic>

#include "arch/arm64/gic.hpp"

namespace setwise::arm64 {

class GicV2 final : public Gic {
public:
    struct Config {
        // GICC is at least 8 KiB (GICC_DIR is at 0x1000): EOImode 1.
        bool split_eoi = true;
        u32 maintenance_intid = 25;
        std::optional<PaRange> gicv{};
    };

    // `gich` may be null (no virtualization extensions described).
    GicV2(GicRegisters& gicd, GicRegisters& gicc, GicRegisters* gich, GicCpu& cpu, const Config& config)
        : gicd_(&gicd), gicc_(&gicc), gich_(gich), cpu_(&cpu), config_(config) {}

    unsigned version() const override { return 2; }
    [[nodiscard]] Status init_distributor(u64 boot_mpidr) override;
    [[nodiscard]] Status init_cpu(u32 cpu_index, u64 mpidr) override;
    [[nodiscard]] Status enable_ppi(u32 cpu_index, u32 intid, u8 priority) override;
    [[nodiscard]] Status send_sgi(u32 sgi, u64 target_mpidr) override;
    GicIrq acknowledge() override;
    void end_of_interrupt(GicIrq irq) override;
    u32 list_registers() const override;
    u32 maintenance_intid() const override { return config_.maintenance_intid; }
    std::optional<PaRange> virtual_cpu_interface() const override { return config_.gicv; }

    // EOImode 0 (Config::split_eoi false): priority_drop() is the whole
    // EOI and deactivate() does nothing (see gic_v2.cpp).
    void priority_drop(GicIrq irq) override;
    // For an SGI, `intid` must carry the source CPU in [12:10] as
    // GicIrq::iar does (IHI 0048B, GICC_DIR).
    void deactivate(u32 intid) override;
    // `cpu_index` is only range-checked: GICD_[IS|IC]ACTIVER0 is banked,
    // so this must run on that CPU.
    bool ppi_active(u32 cpu_index, u32 intid) override;
    void set_ppi_active(u32 cpu_index, u32 intid, bool active) override;

    // Without GICH: reads 0, writes do nothing. read_lr/write_lr also
    // ignore i >= the list registers init_cpu() found.
    u64 read_lr(u32 i) override;
    void write_lr(u32 i, u64 raw) override;
    u32 read_vif_hcr() override;
    void write_vif_hcr(u32 hcr) override;
    void save_virtual_cpu(VirtualCpuState& out) override;
    void restore_virtual_cpu(const VirtualCpuState& in) override;
    u32 virtual_priority_bits() const override { return kGichPriorityBits; }

    // GICH_LRn.Priority holds the top 5 bits of a virtual priority (IHI 0048B).
    static constexpr u32 kGichPriorityBits = 5;

    // The CPU interface mask init_cpu() learned for the CPU with this
    // MPIDR, 0 if none (not initialised, or a uniprocessor GIC whose
    // GICD_ITARGETSR0 reads as zero).
    u8 cpu_interface_mask(u64 mpidr) const;

private:
    // The interface mask read from the reading CPU's banked GICD_ITARGETSR0.
    u8 read_own_interface_mask();

    GicRegisters* gicd_;
    GicRegisters* gicc_;
    GicRegisters* gich_;
    GicCpu* cpu_;
    Config config_;
    // Per CPU index: valid bit 63, interface mask in [55:48], MPIDR
    // affinity in [39:32] and [23:0]. Written by the CPU itself in
    // init_cpu(), read by any CPU in send_sgi().
    std::array<std::atomic<u64>, kGicMaxCpus> targets_{};
    // GICH_VTR.ListRegs + 1 as init_cpu() read it (0 before, or without
    // GICH), assumed the same on every CPU.
    std::atomic<u32> list_regs_{0};
};

} // namespace setwise::arm64
