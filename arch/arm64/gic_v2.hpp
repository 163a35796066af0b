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
};

} // namespace setwise::arm64
