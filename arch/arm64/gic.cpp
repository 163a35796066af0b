// make_gic(): the one GIC of the machine, from its device-tree description.
#include "arch/arm64/gic.hpp"

#include <array>
#include <optional>

#include "arch/arm64/gic_v2.hpp"
#include "arch/arm64/gic_v3.hpp"

namespace setwise::arm64 {

namespace {

// Smallest blocks setwise accepts: the registers it uses must be inside.
constexpr u64 kGicdV2MinSize = 0x1000;  // GICD_ICPIDR2 at 0xfe8 (IHI 0048B)
constexpr u64 kGiccMinSize = 0x1000;    // GICC_IAR..GICC_IIDR
constexpr u64 kGiccDirSize = 0x2000;    // GICC_DIR at 0x1000 (EOImode 1)
constexpr u64 kGichMinSize = 0x200;     // GICH_HCR..GICH_LR63 (IHI 0048B)
constexpr u64 kGicdV3MinSize = 0x1'0000; // GICD_PIDR2 at 0xffe8 (IHI 0069H)

// Static storage: there is no allocator in arch/, and one GIC per machine.
std::optional<GicV2> g_v2;
std::optional<GicV3> g_v3;
MmioGicRegisters g_gicd;
MmioGicRegisters g_gicc;
MmioGicRegisters g_gich;
std::array<MmioGicRegisters, kGicMaxRedistributorRegions> g_gicr;

Result<Gic*> make_v2(const GicDescription& d, DeviceMapper& mapper, GicCpu& cpu) {
    if (d.regs.size() < 2) return Status::invalid_argument;
    const PaRange gicd = d.regs[0];
    const PaRange gicc = d.regs[1];
    if (gicd.size < kGicdV2MinSize || gicc.size < kGiccMinSize) return Status::invalid_argument;
    const bool has_gich = d.regs.size() >= 3;
    if (has_gich && d.regs[2].size < kGichMinSize) return Status::invalid_argument;

    g_gicd = MmioGicRegisters(SW_TRY(mapper.map_device(gicd)));
    g_gicc = MmioGicRegisters(SW_TRY(mapper.map_device(gicc)));
    if (has_gich) g_gich = MmioGicRegisters(SW_TRY(mapper.map_device(d.regs[2])));

    GicV2::Config config;
    config.split_eoi = gicc.size >= kGiccDirSize;
    config.maintenance_intid = d.maintenance_intid;
    if (d.regs.size() >= 4) config.gicv = d.regs[3];
    g_v2.emplace(g_gicd, g_gicc, has_gich ? &g_gich : nullptr, cpu, config);
    return static_cast<Gic*>(&*g_v2);
}

Result<Gic*> make_v3(const GicDescription& d, DeviceMapper& mapper, GicCpu& cpu) {
    const usize n = d.redistributor_regions;
    if (n == 0 || n > kGicMaxRedistributorRegions || d.regs.size() < 1 + n) return Status::invalid_argument;
    if (d.regs[0].size < kGicdV3MinSize) return Status::invalid_argument;
    for (usize i = 1; i <= n; ++i) {
        if (d.regs[i].size < kGicrStride) return Status::invalid_argument;
    }

    g_gicd = MmioGicRegisters(SW_TRY(mapper.map_device(d.regs[0])));
    std::array<GicV3::Region, kGicMaxRedistributorRegions> regions{};
    for (usize i = 0; i < n; ++i) {
        g_gicr[i] = MmioGicRegisters(SW_TRY(mapper.map_device(d.regs[1 + i])));
        regions[i] = GicV3::Region{&g_gicr[i], d.regs[1 + i].size};
    }

    GicV3::Config config;
    config.redistributor_stride = d.redistributor_stride;
    config.maintenance_intid = d.maintenance_intid;
    // Optional GICv2-compatible interfaces after the regions: GICC, GICH, GICV.
    if (d.regs.size() >= n + 4) config.gicv = d.regs[n + 3];
    g_v3.emplace(g_gicd, std::span<const GicV3::Region>(regions.data(), n), cpu, config);
    return static_cast<Gic*>(&*g_v3);
}

} // namespace

Result<Gic*> make_gic(const GicDescription& desc, DeviceMapper& mapper, GicCpu& cpu) {
    switch (desc.version) {
    case 2: return make_v2(desc, mapper, cpu);
    case 3: return make_v3(desc, mapper, cpu);
    default: return Status::unsupported;
    }
}

} // namespace setwise::arm64
