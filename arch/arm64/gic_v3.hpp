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
};

} // namespace setwise::arm64
