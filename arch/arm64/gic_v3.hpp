// GICv3 driver (ARM IHI 0069H): distributor with affinity routing, one
// redistributor per CPU found by affinity, the CPU interface through the
// ICC_* system registers. No LPIs or ITS.
#pragma once

#include <array>
#include <atomic>

#include "arch/arm64/gic.hpp"

namespace setwise::arm64 {

class GicV3 final : public Gic {
public:
    // One `redistributor-regions` entry: a run of redistributor frames,
    // the last with GICR_TYPER.Last set.
    struct Region {
        GicRegisters* regs = nullptr;
        u64 size = 0;
    };
    struct Config {
        u64 redistributor_stride = 0; // 0: 128 KiB, 256 KiB if GICR_TYPER.VLPIS
        u32 maintenance_intid = 25;
        std::optional<PaRange> gicv{};
        u32 poll_limit = kGicPollLimit;
    };

    // Precondition: regions.size() <= kGicMaxRedistributorRegions.
    GicV3(GicRegisters& gicd, std::span<const Region> regions, GicCpu& cpu, const Config& config);

    unsigned version() const override { return 3; }
    [[nodiscard]] Status init_distributor(u64 boot_mpidr) override;
    [[nodiscard]] Status init_cpu(u32 cpu_index, u64 mpidr) override;
    [[nodiscard]] Status enable_ppi(u32 cpu_index, u32 intid, u8 priority) override;
    [[nodiscard]] Status send_sgi(u32 sgi, u64 target_mpidr) override;
    GicIrq acknowledge() override;
    void end_of_interrupt(GicIrq irq) override;
    u32 list_registers() const override;
    u32 maintenance_intid() const override { return config_.maintenance_intid; }
    std::optional<PaRange> virtual_cpu_interface() const override { return config_.gicv; }

    void priority_drop(GicIrq irq) override;
    void deactivate(u32 intid) override;
    bool ppi_active(u32 cpu_index, u32 intid) override;
    void set_ppi_active(u32 cpu_index, u32 intid, bool active) override;

    // read_lr/write_lr ignore i >= the list registers init_cpu() found:
    // ICH_LR<n>_EL2 beyond ICH_VTR_EL2.ListRegs is UNDEFINED.
    u64 read_lr(u32 i) override;
    void write_lr(u32 i, u64 raw) override;
    u32 read_vif_hcr() override;
    void write_vif_hcr(u32 hcr) override;
    void save_virtual_cpu(VirtualCpuState& out) override;
    void restore_virtual_cpu(const VirtualCpuState& in) override;
    // 0 until an init_cpu() has read ICH_VTR_EL2.
    u32 virtual_priority_bits() const override { return vpri_bits_.load(std::memory_order_relaxed); }

    // Where a CPU's redistributor is: region index and RD_base offset in it.
    struct Frame {
        u32 region = 0;
        u64 offset = 0;
    };
    // The redistributor whose GICR_TYPER affinity is `mpidr`'s. not_found
    // if no region has it before its Last frame (or its end).
    Result<Frame> find_redistributor(u64 mpidr);

private:
    // Polls `regs` at `offset` until (value & bits) == 0; timeout after
    // config_.poll_limit reads.
    Status wait_clear(GicRegisters& regs, u64 offset, u32 bits);
    Status wake(GicRegisters& rd, u64 rd_base);
    // The redistributor of CPU `cpu_index` and the byte offset of its
    // GICR_ISACTIVER0/ICACTIVER0-style SGI_base register `reg`, if that CPU
    // has run init_cpu() and `intid` is a PPI.
    GicRegisters* ppi_register(u32 cpu_index, u32 intid, GicrSgiReg reg, u64& offset);

    GicRegisters* gicd_;
    std::array<Region, kGicMaxRedistributorRegions> regions_{};
    usize region_count_ = 0;
    GicCpu* cpu_;
    Config config_;
    // SGIs can target Aff0 16..255: GICD_TYPER.RSS, and ICC_CTLR_EL1.RSS
    // of every CPU initialised so far.
    std::atomic<bool> range_selector_{false};
    // Per CPU index, written and read only by that CPU.
    struct CpuSlot {
        bool ready = false;
        Frame frame{};
    };
    std::array<CpuSlot, kGicMaxCpus> cpus_{};
    // From ICH_VTR_EL2, read by init_cpu() (ICH_* are UNDEFINED at EL2
    // until ICC_SRE_EL2.SRE = 1) and assumed the same on every CPU: list
    // registers, virtual priority bits, and ICH_AP0R<n>/ICH_AP1R<n>_EL2
    // registers implemented (1, 2 or 4). 0 before the first init_cpu().
    std::atomic<u32> list_regs_{0};
    std::atomic<u32> vpri_bits_{0};
    std::atomic<u32> ap_regs_{0};
};

} // namespace setwise::arm64
