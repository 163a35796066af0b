#include "core/banner.hpp"

#include "arch/arm64/cpu_model.hpp"
#include "arch/arm64/sysreg.hpp"
#include "arch/cpu.hpp"
#include "cache/geometry.hpp"
#include "core/log.hpp"

namespace setwise::core {

namespace {

const char* gic_name(GicVersion v) {
    switch (v) {
    case GicVersion::none: return "none";
    case GicVersion::v2: return "v2";
    case GicVersion::v3: return "v3";
    }
    return "?";
}

const char* psci_version_name(PsciVersion v) {
    switch (v) {
    case PsciVersion::none: return "none";
    case PsciVersion::v0_1: return "0.1";
    case PsciVersion::v0_2: return "0.2";
    case PsciVersion::v1_0: return "1.0";
    }
    return "?";
}

void print_caches() {
    const cache::Geometry g = cache::decode_geometry(
        arm64::read_clidr(), [](unsigned level) { return arm64::read_ccsidr(level, false); });
    Console& c = console();
    Console::Hold hold(c);
    c.write(log::prefix(log::Level::info));
    c.write("caches:");
    for (unsigned i = 0; i < g.count; ++i) {
        const cache::CacheLevel& l = g.levels[i];
        if (l.type == cache::CacheType::instruction) {
            fmt::format_to(c, " L{} I;", l.level);
            continue;
        }
        fmt::format_to(c, " L{} {} {} KiB ({} sets x {} ways x {} B);", l.level, cache::cache_type_name(l.type),
                       l.size_bytes() / kKiB, l.sets, l.ways, l.line_bytes);
    }
    fmt::format_to(c, " LoC {}; a clean-all by set/way is {} operations\n", g.loc, g.set_way_ops_clean_all());
}

} // namespace

void print_banner(const MachineInfo& m, const Options& opts, const SmpReport& smp,
                  const mm::FrameAllocator& frames) {
    const arm64::MidrEl1 midr = arm64::read_midr();
    const u64 parange = arm64::read_id_aa64mmfr0().get<arm64::IdAa64Mmfr0El1::parange>();
    log::info("CPU: {} {} r{}p{} (MIDR {:#010x}), {}-bit physical addresses", arm64::implementer_name(midr),
              arm64::part_name(midr), midr.get<arm64::MidrEl1::variant>(), midr.get<arm64::MidrEl1::revision>(),
              midr.raw(), arm64::parange_bits(parange));
    log::info("CPUs: {} of {} online", smp.online, smp.listed);

    u64 ram = 0;
    for (const PaRange& r : m.ram) ram += r.size;
    log::info("RAM: {} MiB in {} bank(s); {} MiB free after setwise, the DTB, modules and reserved memory",
              ram / kMiB, m.ram.size(), frames.free_frames() * kPageSize / kMiB);
    for (const PaRange& r : m.ram) log::info("  RAM {:#012x}-{:#012x}", r.base.raw(), r.end().raw() - 1);
    for (const ReservedRegion& r : m.reserved)
        log::info("  reserved {:#012x}-{:#012x}", r.range.base.raw(), r.range.end().raw() - 1);
    for (const BootModule& b : m.modules)
        log::info("  module {:#012x}-{:#012x}", b.range.base.raw(), b.range.end().raw() - 1);

    if (m.gic.version != GicVersion::none && !m.gic.regs.empty()) {
        log::info("GIC: {} ({}), distributor at {}", gic_name(m.gic.version), m.gic.compatible,
                  m.gic.regs[0].base);
    } else {
        log::warning("GIC: none that setwise knows is described");
    }
    log::info("timer: {} Hz", arch::counter_frequency());
    log::info("PSCI: {} via {}", psci_version_name(m.psci.version),
              m.psci.method == PsciMethod::smc ? "smc" : m.psci.method == PsciMethod::hvc ? "hvc" : "none");
    print_caches();
    // FEAT_S2FWB could make guests' cacheability moot for coherency; setwise
    // still traps set/way so its behaviour can be shown and measured.
    const u64 fwb = arm64::read_id_aa64mmfr2().get<arm64::IdAa64Mmfr2El1::fwb>();
    log::info("FEAT_S2FWB: {} (set/way operations are trapped and emulated either way)",
              fwb != 0 ? "present" : "absent");

    Console& c = console();
    Console::Hold hold(c);
    c.write(log::prefix(log::Level::info));
    c.write("options:");
    for_each_option(opts, [&](std::string_view name, std::string_view value) {
        fmt::format_to(c, " {}={}", name, value);
    });
    c.write("\n");
}

} // namespace setwise::core
