// The machine description from the boot DTB. Bindings cited: Devicetree
// Specification v0.4 (§), Linux Documentation/devicetree/bindings (arm/psci,
// interrupt-controller/arm,gic*, timer/arm,arch_timer, reserved-memory) and
// Xen's docs/misc/arm/device-tree/booting.txt (dom0less modules).
#include "core/machine.hpp"

namespace setwise::core {

namespace {

using fdt::Blob;
using fdt::Node;
using fdt::Property;
using fdt::Region;
using fdt::str_eq;

// A range that ends past 2^64 - 1 is not memory anyone has.
Result<PaRange> to_pa_range(Region r) {
    if (r.size != 0 && r.size - 1 > ~u64{0} - r.address) return Status::out_of_range;
    return PaRange{Pa(r.address), r.size};
}

// A device's reg entry as a CPU physical range.
Result<PaRange> physical_range(const Blob& blob, Node node, Region r) {
    const Region cpu = SW_TRY(blob.translate(node, r));
    return to_pa_range(cpu);
}

// An optional <u32> property into `out`: left alone if absent,
// invalid_argument if it has the wrong size.
Status read_optional_u32(const Blob& blob, Node node, std::string_view name, std::optional<u32>& out) {
    auto p = blob.property(node, name);
    if (p.status() == Status::not_found) return Status::ok;
    if (!p) return p.status();
    const u32 v = SW_TRY(p.value().as_u32());
    out = v;
    return Status::ok;
}

// A <string> property compared with `expected`; false if absent or malformed.
bool string_is(const Blob& blob, Node node, std::string_view name, std::string_view expected) {
    auto p = blob.property(node, name);
    if (!p) return false;
    auto s = p.value().as_string();
    return s && str_eq(s.value(), expected);
}

// §3.4: memory nodes are children of the root, found by device_type (the
// name is only conventionally "memory@..."). Nested nodes are not scanned,
// as in Linux: a device_type there is not a statement about system RAM.
Status collect_ram(const Blob& blob, MachineInfo& out) {
    auto visit = [&](Node n) -> Status {
        if (!string_is(blob, n, "device_type", "memory") || !blob.is_available(n)) return Status::ok;
        auto regs = blob.reg(n);
        if (regs.status() == Status::not_found) return Status::ok; // describes no RAM
        if (!regs) return regs.status();
        for (Region r : regs.value()) {
            if (r.size == 0) continue;
            out.ram.push(SW_TRY(physical_range(blob, n, r)));
        }
        return Status::ok;
    };
    return blob.for_each_child(blob.root(), visit).status();
}

// §5.3 memory reservation block and §3.5.4 /reserved-memory children.
Status collect_reserved(const Blob& blob, MachineInfo& out) {
    auto memreserve = [&](Region r) -> Status {
        if (r.size == 0) return Status::ok;
        const PaRange range = SW_TRY(to_pa_range(r));
        if (!out.reserved.push(ReservedRegion{range, ReservedSource::memreserve, false, Node{}})) {
            return Status::out_of_range;
        }
        return Status::ok;
    };
    SW_TRY_VOID(blob.for_each_memreserve(memreserve));

    auto parent = blob.find_child(blob.root(), "reserved-memory");
    if (parent.status() == Status::not_found) return Status::ok;
    if (!parent) return parent.status();

    auto child = [&](Node n) -> Status {
        if (string_is(blob, n, "status", "disabled")) return Status::ok;
        auto regs = blob.reg(n);
        if (regs.status() == Status::not_found) return Status::ok; // dynamic (`size`) region
        if (!regs) return regs.status();
        const bool no_map = blob.has_property(n, "no-map");
        for (Region r : regs.value()) {
            if (r.size == 0) continue;
            const PaRange range = SW_TRY(physical_range(blob, n, r));
            if (!out.reserved.push(ReservedRegion{range, ReservedSource::reserved_memory, no_map, n})) {
                return Status::out_of_range;
            }
        }
        return Status::ok;
    };
    return blob.for_each_child(parent.value(), child).status();
}

// /chosen/stdout-path (§3.6): "path-or-alias[:options]". Returns whether a
// console is described; an error means one is described but unusable.
Result<bool> describe_console(const Blob& blob, Node chosen, ConsoleNode& c) {
    auto p = blob.property(chosen, "stdout-path");
    if (p.status() == Status::not_found) p = blob.property(chosen, "linux,stdout-path");
    if (p.status() == Status::not_found) return false;
    if (!p) return p.status();
    const std::string_view value = SW_TRY(p.value().as_string());

    const usize colon = fdt::str_find(value, ':');
    if (colon == std::string_view::npos) {
        c.path = value;
    } else {
        c.path = std::string_view(value.data(), colon);
        c.options = std::string_view(value.data() + colon + 1, value.size() - colon - 1);
    }
    c.node = SW_TRY(blob.resolve(c.path));

    auto compatible = blob.property(c.node, "compatible");
    if (compatible) {
        if (!compatible.value().strings().valid()) return Status::invalid_argument;
        c.compatible = compatible.value().strings();
    } else if (compatible.status() != Status::not_found) {
        return compatible.status();
    }

    auto regs = blob.reg(c.node);
    if (regs && !regs.value().empty()) {
        c.reg = SW_TRY(physical_range(blob, c.node, regs.value()[0]));
    } else if (!regs && regs.status() != Status::not_found) {
        return regs.status();
    }

    // 8250-style register layout (bindings/serial/8250.yaml).
    std::optional<u32> shift;
    std::optional<u32> width;
    SW_TRY_VOID(Result<void>(read_optional_u32(blob, c.node, "reg-shift", shift)));
    SW_TRY_VOID(Result<void>(read_optional_u32(blob, c.node, "reg-io-width", width)));
    SW_TRY_VOID(Result<void>(read_optional_u32(blob, c.node, "clock-frequency", c.clock_frequency)));
    c.reg_shift = shift.value_or(0);
    c.reg_io_width = width.value_or(1);
    return true;
}

// The most specific multiboot kind a compatible list names, if any.
std::optional<ModuleKind> module_kind(const Property& compatible) {
    if (compatible.contains_string("multiboot,kernel")) return ModuleKind::kernel;
    if (compatible.contains_string("multiboot,ramdisk")) return ModuleKind::ramdisk;
    if (compatible.contains_string("multiboot,device-tree")) return ModuleKind::device_tree;
    if (compatible.contains_string("multiboot,module")) return ModuleKind::module;
    return std::nullopt;
}

// A module's `reg` is a physical address in /chosen's (or its domain
// node's) cells; /chosen has no `ranges`, so no translation applies.
Status add_module(const Blob& blob, Node node, Node domain, ModuleKind kind, MachineInfo& out) {
    auto regs = blob.reg(node);
    if (regs.status() == Status::not_found || (regs && regs.value().empty())) return Status::invalid_argument;
    if (!regs) return regs.status();
    const PaRange range = SW_TRY(to_pa_range(regs.value()[0]));
    if (!out.modules.push(BootModule{range, kind, node, domain})) return Status::out_of_range;
    return Status::ok;
}

// Xen booting.txt: module nodes directly under /chosen (dom0) and under
// each compatible = "xen,domain" child (dom0less guests).
Status collect_modules(const Blob& blob, Node chosen, MachineInfo& out) {
    Node domain;
    auto module = [&](Node n) -> Status {
        auto compatible = blob.property(n, "compatible");
        if (compatible.status() == Status::not_found) return Status::ok;
        if (!compatible) return compatible.status();
        const std::optional<ModuleKind> kind = module_kind(compatible.value());
        if (!kind) return Status::ok;
        return add_module(blob, n, domain, *kind, out);
    };
    auto top = [&](Node n) -> Status {
        if (!blob.is_compatible(n, "xen,domain")) return module(n);
        domain = n;
        const Status s = blob.for_each_child(n, module).status();
        domain = Node{};
        return s;
    };
    SW_TRY_VOID(blob.for_each_child(chosen, top));

    // linux,initrd-start/-end (§3.6 leaves them to Linux's
    // chosen binding): 32- or 64-bit, end exclusive.
    auto start = blob.property(chosen, "linux,initrd-start");
    auto end = blob.property(chosen, "linux,initrd-end");
    const bool has_start = start.ok();
    const bool has_end = end.ok();
    if (!has_start && start.status() != Status::not_found) return start.status();
    if (!has_end && end.status() != Status::not_found) return end.status();
    if (!has_start && !has_end) return Status::ok;
    // Half a description: the memory may be in use but its size is unknown.
    if (has_start != has_end) return Status::invalid_argument;
    const u64 first = SW_TRY(start.value().as_uint());
    const u64 last = SW_TRY(end.value().as_uint());
    if (last < first) return Status::invalid_argument;
    if (last == first) return Status::ok;
    if (!out.modules.push(BootModule{PaRange{Pa(first), last - first}, ModuleKind::initrd, chosen, Node{}})) {
        return Status::out_of_range;
    }
    return Status::ok;
}

Status collect_chosen(const Blob& blob, MachineInfo& out) {
    auto chosen = blob.find_child(blob.root(), "chosen");
    if (chosen.status() == Status::not_found) return Status::ok;
    if (!chosen) return chosen.status();
    const Node node = chosen.value();

    auto bootargs = blob.property(node, "bootargs");
    if (bootargs) {
        out.bootargs = SW_TRY(bootargs.value().as_string());
    } else if (bootargs.status() != Status::not_found) {
        return bootargs.status();
    }

    ConsoleNode console;
    auto has_console = describe_console(blob, node, console);
    out.console_status = has_console.status();
    if (has_console && has_console.value()) out.console = console;

    return collect_modules(blob, node, out);
}

// §3.7/§3.8: /cpus children with device_type = "cpu"; `reg` is the MPIDR
// affinity in /cpus's #address-cells (1 or 2).
Status collect_cpus(const Blob& blob, MachineInfo& out) {
    auto cpus = blob.find_child(blob.root(), "cpus");
    if (cpus.status() == Status::not_found) return Status::ok;
    if (!cpus) return cpus.status();

    auto visit = [&](Node n) -> Status {
        if (!string_is(blob, n, "device_type", "cpu") || !blob.is_available(n)) return Status::ok;
        auto regs = blob.reg(n);
        if (regs.status() == Status::not_found || (regs && regs.value().empty())) return Status::invalid_argument;
        if (!regs) return regs.status();
        Cpu cpu;
        cpu.mpidr = regs.value()[0].address;
        cpu.node = n;
        auto method = blob.property(n, "enable-method");
        if (method) {
            cpu.enable_method = SW_TRY(method.value().as_string());
        } else if (method.status() != Status::not_found) {
            return method.status();
        }
        out.cpus.push(cpu);
        return Status::ok;
    };
    return blob.for_each_child(cpus.value(), visit).status();
}

struct GicCompatible {
    std::string_view compatible;
    GicVersion version;
};

// bindings/interrupt-controller/arm,gic.yaml and arm,gic-v3.yaml.
constexpr std::array<GicCompatible, 7> kGicCompatibles{{
    {"arm,gic-v3", GicVersion::v3},
    {"arm,gic-400", GicVersion::v2},
    {"arm,cortex-a15-gic", GicVersion::v2},
    {"arm,cortex-a7-gic", GicVersion::v2},
    {"arm,cortex-a9-gic", GicVersion::v2},
    {"arm,arm11mp-gic", GicVersion::v2},
    {"arm,gic-v2", GicVersion::v2},
}};

// The first available interrupt controller with a GIC compatible, matched
// in the node's own order of preference.
Status describe_gic(const Blob& blob, Gic& gic) {
    auto visit = [&](Node n, u32) -> bool {
        if (!blob.has_property(n, "interrupt-controller") || !blob.is_available(n)) return true;
        auto compatible = blob.property(n, "compatible");
        if (!compatible) return true;
        for (std::string_view c : compatible.value().strings()) {
            for (const GicCompatible& g : kGicCompatibles) {
                if (!str_eq(c, g.compatible)) continue;
                gic.version = g.version;
                gic.compatible = c;
                gic.node = n;
                return false;
            }
        }
        return true;
    };
    SW_TRY_VOID(blob.for_each_node(visit));
    if (gic.version == GicVersion::none) return Status::ok;

    const fdt::RegList regs = SW_TRY(blob.reg(gic.node));
    for (Region r : regs) gic.regs.push(SW_TRY(physical_range(blob, gic.node, r)));

    usize needed = 2; // v2: distributor and CPU interface
    if (gic.version == GicVersion::v3) {
        std::optional<u32> rdist;
        SW_TRY_VOID(Result<void>(read_optional_u32(blob, gic.node, "#redistributor-regions", rdist)));
        gic.redistributor_regions = rdist.value_or(1);
        if (gic.redistributor_regions == 0) return Status::invalid_argument;
        auto stride = blob.property(gic.node, "redistributor-stride");
        if (stride) {
            gic.redistributor_stride = SW_TRY(stride.value().as_uint());
        } else if (stride.status() != Status::not_found) {
            return stride.status();
        }
        needed = usize{1} + gic.redistributor_regions;
    }
    if (regs.size() < needed) return Status::invalid_argument;
    return Status::ok;
}

// bindings/timer/arm,arch_timer.yaml.
Status describe_timer(const Blob& blob, Timer& timer) {
    auto visit = [&](Node n, u32) -> bool {
        if (!blob.is_available(n)) return true;
        if (!blob.is_compatible(n, "arm,armv8-timer") && !blob.is_compatible(n, "arm,armv7-timer")) return true;
        timer.present = true;
        timer.node = n;
        return false;
    };
    SW_TRY_VOID(blob.for_each_node(visit));
    if (!timer.present) return Status::ok;

    auto interrupts = blob.property(timer.node, "interrupts");
    if (interrupts) {
        const Property& p = interrupts.value();
        if (p.size() % 4 != 0) return Status::invalid_argument;
        for (usize i = 0; i < p.cell_count(); ++i) {
            timer.interrupts.push(static_cast<u32>(SW_TRY(p.cells(i, 1))));
        }
    } else if (interrupts.status() != Status::not_found) {
        return interrupts.status();
    }
    return read_optional_u32(blob, timer.node, "clock-frequency", timer.clock_frequency);
}

// bindings/arm/psci.yaml: the newest version the node claims wins.
Status describe_psci(const Blob& blob, Psci& psci) {
    struct Candidate {
        std::string_view compatible;
        PsciVersion version;
    };
    constexpr std::array<Candidate, 3> kCandidates{{
        {"arm,psci-1.0", PsciVersion::v1_0},
        {"arm,psci-0.2", PsciVersion::v0_2},
        {"arm,psci", PsciVersion::v0_1},
    }};
    for (const Candidate& c : kCandidates) {
        auto visit = [&](Node n) -> bool {
            if (!blob.is_available(n)) return true;
            psci.node = n;
            psci.version = c.version;
            return false;
        };
        SW_TRY_VOID(blob.for_each_compatible(c.compatible, visit));
        if (psci.version != PsciVersion::none) break;
    }
    if (psci.version == PsciVersion::none) return Status::ok;

    // `method` is required: without it there is no way to call firmware.
    auto method = blob.property(psci.node, "method");
    if (method.status() == Status::not_found) return Status::invalid_argument;
    if (!method) return method.status();
    const std::string_view m = SW_TRY(method.value().as_string());
    if (str_eq(m, "smc")) {
        psci.method = PsciMethod::smc;
    } else if (str_eq(m, "hvc")) {
        psci.method = PsciMethod::hvc;
    } else {
        return Status::invalid_argument;
    }
    // 0.1 has no standard function ids; 0.2 and later use the fixed ones
    // of the PSCI specification (DEN0022) and the property is legacy.
    if (psci.version == PsciVersion::v0_1) return read_optional_u32(blob, psci.node, "cpu_on", psci.cpu_on);
    return Status::ok;
}

} // namespace

Status describe_machine(const fdt::Blob& blob, MachineInfo& out) {
    out.ram.clear();
    out.reserved.clear();
    out.modules.clear();
    out.cpus.clear();
    out.boot_cpuid = blob.header().boot_cpuid_phys;
    out.bootargs = {};
    out.console.reset();
    out.console_status = Status::ok;
    out.gic = Gic{};
    out.timer = Timer{};
    out.psci = Psci{};

    Status s = collect_ram(blob, out);
    if (s == Status::ok) s = collect_reserved(blob, out);
    if (s == Status::ok) s = collect_chosen(blob, out);
    if (s == Status::ok) s = collect_cpus(blob, out);
    if (s == Status::ok) s = describe_gic(blob, out.gic);
    if (s == Status::ok) s = describe_timer(blob, out.timer);
    if (s == Status::ok) s = describe_psci(blob, out.psci);
    return s;
}

Result<MachineInfo> describe_machine(const fdt::Blob& blob) {
    MachineInfo info;
    const Status s = describe_machine(blob, info);
    if (s != Status::ok) return s;
    return info;
}

} // namespace setwise::core
