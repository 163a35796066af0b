#include "core/domain_config.hpp"

#include "core/format.hpp"

namespace setwise::core {

namespace {

using fdt::Blob;
using fdt::Node;
using fdt::Property;
using fdt::str_eq;

// Text from the blob, printed safely: bytes that are not printable ASCII
// as \xNN (a console must not receive raw control characters), at most
// kLimit characters of output before "...".
struct Escaped {
    static constexpr usize kLimit = 48;
    std::string_view text;
};

} // namespace
} // namespace setwise::core

namespace setwise::fmt {

template <>
struct Formatter<core::Escaped> {
    static void format(Sink& out, const Spec&, const core::Escaped& e) {
        static constexpr char kHex[] = "0123456789abcdef";
        usize shown = 0;
        for (char c : e.text) {
            const auto b = static_cast<u8>(c);
            const bool printable = b >= 0x20 && b < 0x7f;
            const usize width = printable ? 1 : 4;
            if (shown + width > core::Escaped::kLimit) {
                out.write("...");
                return;
            }
            if (printable) {
                out.write(std::string_view(&c, 1));
            } else {
                const char esc[4] = {'\\', 'x', kHex[b >> 4], kHex[b & 0xf]};
                out.write(std::string_view(esc, 4));
            }
            shown += width;
        }
    }
};

} // namespace setwise::fmt

namespace setwise::core {

namespace detail {

struct DomainListAccess {
    static DomainConfig& slot(DomainList& l, usize i) { return l.items_[i]; }
    static void set_size(DomainList& l, usize n) { l.count_ = n; }
};

} // namespace detail

namespace {

using Access = detail::DomainListAccess;

constexpr u64 kib_rounded_up(u64 bytes) { return bytes / kKiB + (bytes % kKiB != 0 ? 1 : 0); }

// The node a message is about: a domain (or /chosen module), or one of
// its children.
struct Subject {
    std::string_view domain;
    std::string_view child; // "" for the domain node itself
};

// Builds each DomainDiagnostic and hands it to the sink; counts errors so
// callers can tell whether a domain is still good.
class Reporter {
public:
    explicit Reporter(DomainDiagnosticSink& sink) : sink_(sink) {}

    template <typename... A>
    void error(const Subject& s, std::string_view property, std::string_view pattern, const A&... args) {
        ++errors_;
        emit(DiagnosticSeverity::error, s, property, pattern, args...);
    }

    template <typename... A>
    void warning(const Subject& s, std::string_view property, std::string_view pattern, const A&... args) {
        emit(DiagnosticSeverity::warning, s, property, pattern, args...);
    }

    usize errors() const { return errors_; }

private:
    template <typename... A>
    void emit(DiagnosticSeverity severity, const Subject& s, std::string_view property, std::string_view pattern,
              const A&... args) {
        DomainDiagnostic d;
        d.severity = severity;
        d.domain = s.domain;
        d.node = s.child.empty() ? s.domain : s.child;
        d.property = property;
        fmt::BufferSink out(d.message_buf.data(), d.message_buf.size());
        fmt::format_to(out, "{}", Escaped{s.domain});
        if (!s.child.empty()) fmt::format_to(out, "/{}", Escaped{s.child});
        if (!property.empty()) fmt::format_to(out, ": property '{}'", Escaped{property});
        out.write(": ");
        fmt::format_to(out, pattern, args...);
        d.message_len = out.view().size();
        if (out.truncated()) {
            // A cut is visible: the text ends in "...".
            for (usize i = d.message_len - 3; i < d.message_len; ++i) d.message_buf[i] = '.';
        }
        sink_.report(d);
    }

    DomainDiagnosticSink& sink_;
    usize errors_ = 0;
};

// A half-open range for messages: [0x4a000000, 0x4b000000).
struct Span {
    PaRange r;
};

} // namespace
} // namespace setwise::core

namespace setwise::fmt {

template <>
struct Formatter<core::Span> {
    static void format(Sink& out, const Spec&, const core::Span& s) {
        format_to(out, "[{}, {})", s.r.base, s.r.base + s.r.size);
    }
};

} // namespace setwise::fmt

namespace setwise::core {

namespace {

// Xen dom0less properties that ask for something setwise does not do. A
// DT written for Xen may carry them; each is a warning, not an error, so
// the guest still starts without it. Others Xen knows (nr_spis,
// max_grant_frames, ...) tune Xen internals and are ignored silently, as is
// any property setwise does not know.
constexpr std::string_view kXenUnsupported[] = {
    "direct-map",     // guest RAM at the host's addresses
    "xen,static-mem", // guest RAM at given host addresses
    "domain-cpupool", // Xen cpupools
    "passthrough",    // device assignment
    "xen,enhanced",   // Xen PV interfaces (xenstore, grants, event channels)
    "llc-colors",     // cache colouring
    "sve",            // SVE for the guest
    "capabilities",   // Xen control/hardware domain
};

constexpr std::string_view kSetwisePrefix = "setwise,";
constexpr std::string_view kSwTrackingProperty = "setwise,sw-tracking";

enum class ModuleRole : u8 { none, generic, kernel, ramdisk, device_tree };

ModuleRole module_role(const Blob& blob, Node n) {
    auto compatible = blob.property(n, "compatible");
    if (!compatible) return ModuleRole::none;
    const Property& c = compatible.value();
    // Most specific first, as core/machine.cpp classifies them.
    if (c.contains_string("multiboot,kernel")) return ModuleRole::kernel;
    if (c.contains_string("multiboot,ramdisk")) return ModuleRole::ramdisk;
    if (c.contains_string("multiboot,device-tree")) return ModuleRole::device_tree;
    if (c.contains_string("multiboot,module")) return ModuleRole::generic;
    return ModuleRole::none;
}

// Compatible strings of boot modules Xen reads directly from /chosen
// (its dom0), the legacy Xen 4.4 ones included.
bool is_chosen_module(const Blob& blob, Node n) {
    auto compatible = blob.property(n, "compatible");
    if (!compatible) return false;
    for (std::string_view s : {"multiboot,module", "multiboot,kernel", "multiboot,ramdisk", "xen,multiboot-module",
                               "xen,linux-zimage", "xen,linux-initrd"}) {
        if (compatible.value().contains_string(s)) return true;
    }
    return false;
}

bool is_space(char c) { return c == ' ' || c == '\t'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A cpu list: numbers and inclusive ranges separated by commas ("0-3,5"),
// spaces and tabs allowed around each; numbers are decimal.
struct CpuListError {
    enum class Kind : u8 { none, syntax, backwards, missing_cpu } kind = Kind::none;
    u64 a = 0; // backwards: the range; missing_cpu: the first CPU named that is not below the limit
    u64 b = 0;
};

class CpuListParser {
public:
    explicit CpuListParser(std::string_view text) : text_(text) {}

    // Sets in `mask` the bit of every CPU named. Precondition: limit <= 64.
    CpuListError parse(u32 limit, u64& mask) {
        mask = 0;
        for (;;) {
            u64 first = 0;
            if (!number(first)) return {CpuListError::Kind::syntax};
            u64 last = first;
            skip_space();
            if (peek() == '-') {
                ++pos_;
                if (!number(last)) return {CpuListError::Kind::syntax};
                skip_space();
            }
            if (last < first) return {CpuListError::Kind::backwards, first, last};
            if (last >= limit) return {CpuListError::Kind::missing_cpu, first > limit ? first : limit};
            for (u64 cpu = first; cpu <= last; ++cpu) mask |= u64{1} << cpu;
            if (pos_ == text_.size()) return {};
            if (peek() != ',') return {CpuListError::Kind::syntax};
            ++pos_;
        }
    }

private:
    char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
    void skip_space() {
        while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
    }
    // Stops growing past 2^32 instead of wrapping: such a CPU is missing
    // either way.
    bool number(u64& v) {
        skip_space();
        if (pos_ == text_.size() || !is_digit(text_[pos_])) return false;
        v = 0;
        while (pos_ < text_.size() && is_digit(text_[pos_])) {
            if (v < (u64{1} << 32)) v = v * 10 + static_cast<u64>(text_[pos_] - '0');
            ++pos_;
        }
        return true;
    }

    std::string_view text_;
    usize pos_ = 0;
};

struct Normalised {
    u64 host_ram_bytes;
    u32 host_cpus;
    u32 max_vcpus;
    u64 all_cpus;
    std::span<const PaRange> in_use;
};

Normalised normalise(const DomainLimits& l) {
    Normalised n{};
    n.host_ram_bytes = l.host_ram_bytes;
    n.host_cpus = l.host_cpus < kMaxAffinityCpus ? l.host_cpus : kMaxAffinityCpus;
    n.max_vcpus = l.max_vcpus < kMaxVcpus ? l.max_vcpus : kMaxVcpus;
    n.all_cpus = n.host_cpus == 64 ? ~u64{0} : (u64{1} << n.host_cpus) - 1;
    n.in_use = l.in_use;
    return n;
}

class DomainParser {
public:
    DomainParser(const Blob& blob, const MachineInfo& machine, const Normalised& limits, Reporter& report)
        : blob_(blob), machine_(machine), limits_(limits), report_(report) {}

    // Fills d from the domain node; `good` when no error was reported.
    // Fails only if the blob's structure cannot be walked.
    Status parse(Node node, std::string_view name, DomainConfig& d, bool& good) {
        const usize errors_before = report_.errors();
        d = DomainConfig{};
        d.name = name;
        d.node = node;
        self_ = Subject{name, {}};
        node_ = node;

        // Both read, so each is reported.
        const bool address_ok = read_cells("#address-cells", 2, address_cells_);
        const bool size_ok = read_cells("#size-cells", 1, size_cells_);
        cells_ok_ = address_ok && size_ok;

        std::optional<Property> memory;
        std::optional<Property> cpus;
        std::optional<Property> bootargs;
        SW_TRY_VOID(blob_.for_each_property(node, [&](const Property& p) {
            if (str_eq(p.name, "memory")) {
                memory = p;
            } else if (str_eq(p.name, "cpus")) {
                cpus = p;
            } else if (str_eq(p.name, "vpl011")) {
                // Xen reads presence only; ImageBuilder writes <1>.
                d.vpl011 = true;
            } else if (str_eq(p.name, "bootargs")) {
                bootargs = p;
            } else if (fdt::str_starts_with(p.name, kSetwisePrefix)) {
                setwise_property(p, d);
            } else {
                for (std::string_view x : kXenUnsupported) {
                    if (str_eq(p.name, x)) {
                        report_.warning(self_, p.name, "a Xen feature setwise does not provide: ignored");
                    }
                }
            }
        }));

        parse_memory(memory, d);
        parse_cpus(cpus, d);

        std::string_view domain_bootargs;
        if (bootargs) {
            auto s = bootargs->as_string();
            if (s) {
                domain_bootargs = s.value();
            } else {
                report_.error(self_, "bootargs", "not a NUL-terminated string");
            }
        }

        kernel_node_ = Node{};
        ramdisk_node_ = Node{};
        device_tree_node_ = Node{};
        vcpus_seen_ = 0;
        bool kernel_bootargs = false;
        auto child = [&](Node c) -> Status {
            const std::string_view child_name = SW_TRY(blob_.node_name(c));
            const Subject at{name, child_name};
            if (blob_.is_compatible(c, "xen,vcpu")) {
                parse_vcpu(c, at, d);
                return Status::ok;
            }
            switch (module_role(blob_, c)) {
            case ModuleRole::none:
                break;
            case ModuleRole::generic:
                report_.warning(at, "compatible",
                                "a module that is none of multiboot,kernel, multiboot,ramdisk and "
                                "multiboot,device-tree: ignored");
                break;
            case ModuleRole::kernel:
                if (first_of_kind(kernel_node_, c, at, "kernel")) {
                    if (auto m = module(c, at)) d.kernel = *m;
                    kernel_bootargs = module_bootargs(c, at, d.bootargs);
                }
                break;
            case ModuleRole::ramdisk:
                if (first_of_kind(ramdisk_node_, c, at, "ramdisk")) d.ramdisk = module(c, at);
                break;
            case ModuleRole::device_tree:
                if (first_of_kind(device_tree_node_, c, at, "device tree")) {
                    d.device_tree = module(c, at);
                    report_.warning(at, "compatible",
                                    "partial device trees are not merged into the guest's yet: recorded, not used");
                }
                break;
            }
            return Status::ok;
        };
        SW_TRY_VOID(blob_.for_each_child(node, child));

        if (!kernel_node_.valid()) {
            report_.error(self_, "", "no kernel module (a child with compatible \"multiboot,kernel\")");
        }
        if (!kernel_bootargs) d.bootargs = domain_bootargs;
        for (u32 i = 0; i < d.vcpus && i < kMaxVcpus; ++i) {
            if (d.affinity[i] == 0) d.affinity[i] = limits_.all_cpus;
        }
        good = report_.errors() == errors_before;
        return Status::ok;
    }

private:
    // #address-cells (1..2) and #size-cells (1..2) of the domain node, which
    // its modules' `reg` use; absent means the DT defaults 2 and 1.
    bool read_cells(std::string_view property, u32 fallback, u32& out) {
        out = fallback;
        auto p = blob_.property(node_, property);
        if (p.status() == Status::not_found) return true;
        if (!p) return false;
        auto v = p.value().as_u32();
        if (!v) {
            report_.error(self_, property, "expected one cell, got {} bytes", p.value().size());
            return false;
        }
        if (v.value() < 1 || v.value() > 2) {
            report_.error(self_, property, "{} cells: setwise reads 1 or 2 (32- or 64-bit values)", v.value());
            return false;
        }
        out = v.value();
        return true;
    }

    void setwise_property(const Property& p, DomainConfig& d) {
        if (!str_eq(p.name, kSwTrackingProperty)) {
            report_.warning(self_, p.name, "unknown setwise property: ignored");
            return;
        }
        auto s = p.as_string();
        if (s && str_eq(s.value(), "on")) {
            d.sw_tracking = SwTrackingOverride::on;
        } else if (s && str_eq(s.value(), "off")) {
            d.sw_tracking = SwTrackingOverride::off;
        } else if (s) {
            report_.error(self_, p.name, "expected \"on\" or \"off\", got \"{}\"", Escaped{s.value()});
        } else {
            report_.error(self_, p.name, "expected the string \"on\" or \"off\"");
        }
    }

    void parse_memory(const std::optional<Property>& p, DomainConfig& d) {
        if (!p) {
            report_.error(self_, "memory", "missing (the guest's RAM in KiB)");
            return;
        }
        auto kib_r = p->as_uint();
        if (!kib_r) {
            report_.error(self_, "memory", "expected 1 or 2 cells (a KiB count), got {} bytes", p->size());
            return;
        }
        const u64 kib = kib_r.value();
        if (kib == 0) {
            report_.error(self_, "memory", "0 KiB: a domain needs RAM");
            return;
        }
        // Whole KiB first, so nothing below can overflow.
        const u64 host_kib = limits_.host_ram_bytes / kKiB;
        if (kib > host_kib) {
            report_.error(self_, "memory", "{} KiB exceeds the host's {} KiB of RAM", kib, host_kib);
            return;
        }
        if (kib > kMaxGuestRamBytes / kKiB) {
            report_.error(self_, "memory", "{} KiB exceeds the {} KiB a guest's address space holds", kib,
                          kMaxGuestRamBytes / kKiB);
            return;
        }
        const u64 bytes = align_up(kib * kKiB, kGuestRamGranule);
        if (bytes > limits_.host_ram_bytes) {
            report_.error(self_, "memory", "{} KiB, rounded up to whole pages, exceeds the host's {} KiB of RAM", kib,
                          host_kib);
            return;
        }
        if (bytes != kib * kKiB) {
            report_.warning(self_, "memory", "{} KiB is not a multiple of 4 KiB: rounded up to {} KiB", kib,
                            bytes / kKiB);
        }
        d.memory_bytes = bytes;
    }

    void parse_cpus(const std::optional<Property>& p, DomainConfig& d) {
        if (!p) {
            report_.error(self_, "cpus", "missing (the number of vCPUs)");
            return;
        }
        auto n = p->as_u32();
        if (!n) {
            report_.error(self_, "cpus", "expected one cell, got {} bytes", p->size());
            return;
        }
        if (n.value() == 0) {
            report_.error(self_, "cpus", "0 vCPUs: a domain needs at least one");
            return;
        }
        if (n.value() > limits_.max_vcpus) {
            report_.error(self_, "cpus", "{} vCPUs exceeds the limit of {} per domain", n.value(), limits_.max_vcpus);
            return;
        }
        if (n.value() > limits_.host_cpus) {
            report_.warning(self_, "cpus", "{} vCPUs on {} usable host CPUs: vCPUs will share them", n.value(),
                            limits_.host_cpus);
        }
        d.vcpus = n.value();
    }

    // True for the first module of its kind; a second one is an error.
    bool first_of_kind(Node& first, Node child, const Subject& at, const char* kind) {
        if (!first.valid()) {
            first = child;
            return true;
        }
        auto first_name = blob_.node_name(first);
        report_.error(at, "compatible", "a second {} module (the first is {})", kind,
                      Escaped{first_name.value_or(std::string_view("?"))});
        return false;
    }

    // The module's first `reg` range, checked on its own: not empty, not
    // wrapping, inside one RAM bank, clear of limits.in_use. Overlaps
    // between modules are checked once every domain is read.
    std::optional<DomainModule> module(Node child, const Subject& at) {
        auto p = blob_.property(child, "reg");
        if (p.status() == Status::not_found) {
            report_.error(at, "reg", "missing (where the bootloader put the module)");
            return std::nullopt;
        }
        if (!p || !cells_ok_) return std::nullopt; // the cells were reported on the domain
        const Property& reg = p.value();
        const usize entry = (usize{address_cells_} + size_cells_) * 4;
        if (reg.size() == 0 || reg.size() % entry != 0) {
            report_.error(at, "reg", "expected (address, size) entries of {}+{} cells, got {} bytes", address_cells_,
                          size_cells_, reg.size());
            return std::nullopt;
        }
        if (reg.size() > entry) {
            report_.warning(at, "reg", "{} ranges: only the first is used", reg.size() / entry);
        }
        const u64 base = reg.cells(0, address_cells_).value_or(0);
        const u64 size = reg.cells(address_cells_, size_cells_).value_or(0);
        const PaRange range{Pa(base), size};
        if (size == 0) {
            report_.error(at, "reg", "empty module at {}", Pa(base));
            return std::nullopt;
        }
        if (base + size < base) {
            report_.error(at, "reg", "{} + {:#x} wraps past the end of the address space", Pa(base), size);
            return std::nullopt;
        }
        bool in_ram = false;
        for (const PaRange& bank : machine_.ram) {
            if (bank.contains(range)) in_ram = true;
        }
        if (!in_ram) {
            report_.error(at, "reg", "{} is outside every host RAM bank", Span{range});
            return std::nullopt;
        }
        for (const PaRange& used : limits_.in_use) {
            if (used.overlaps(range)) {
                report_.error(at, "reg", "{} overlaps {}, which setwise itself uses", Span{range}, Span{used});
                return std::nullopt;
            }
        }
        return DomainModule{range, child, at.child};
    }

    // The kernel module's bootargs into `out`; true if it has one.
    bool module_bootargs(Node child, const Subject& at, std::string_view& out) {
        auto p = blob_.property(child, "bootargs");
        if (!p) return false;
        auto s = p.value().as_string();
        if (!s) {
            report_.error(at, "bootargs", "not a NUL-terminated string");
            return false;
        }
        out = s.value();
        return true;
    }

    // A compatible = "xen,vcpu" child: `id` (required) and `hard-affinity`
    // (optional). Checked only when the domain's `cpus` is valid: without
    // it no id can be judged, and `cpus` has been reported.
    void parse_vcpu(Node child, const Subject& at, DomainConfig& d) {
        if (d.vcpus == 0) return;
        auto id_p = blob_.property(child, "id");
        if (!id_p) {
            report_.error(at, "id", "missing (the vCPU's index)");
            return;
        }
        auto id = id_p.value().as_u32();
        if (!id) {
            report_.error(at, "id", "expected one cell, got {} bytes", id_p.value().size());
            return;
        }
        if (id.value() >= d.vcpus) {
            report_.error(at, "id", "vCPU {} does not exist: the domain has {} (0-{})", id.value(), d.vcpus,
                          d.vcpus - 1);
            return;
        }
        const u32 vcpu = id.value();
        if ((vcpus_seen_ >> vcpu) & 1) {
            report_.error(at, "id", "vCPU {} is configured by an earlier node", vcpu);
            return;
        }
        vcpus_seen_ |= u64{1} << vcpu;

        auto aff_p = blob_.property(child, "hard-affinity");
        if (aff_p.status() == Status::not_found) return;
        auto text = aff_p ? aff_p.value().as_string() : Result<std::string_view>(aff_p.status());
        if (!text) {
            report_.error(at, "hard-affinity", "not a NUL-terminated string");
            return;
        }
        u64 mask = 0;
        const CpuListError e = CpuListParser(text.value()).parse(limits_.host_cpus, mask);
        switch (e.kind) {
        case CpuListError::Kind::none:
            break;
        case CpuListError::Kind::syntax:
            report_.error(at, "hard-affinity", "\"{}\" is not a list of host CPUs such as \"0-3,5\"",
                          Escaped{text.value()});
            return;
        case CpuListError::Kind::backwards:
            report_.error(at, "hard-affinity", "range {}-{} runs backwards", e.a, e.b);
            return;
        case CpuListError::Kind::missing_cpu:
            if (limits_.host_cpus == 0) {
                report_.error(at, "hard-affinity", "names host CPU {}, but no host CPU is usable", e.a);
            } else {
                report_.error(at, "hard-affinity", "names host CPU {}, but the host has {} usable (0-{})", e.a,
                              limits_.host_cpus, limits_.host_cpus - 1);
            }
            return;
        }
        d.affinity[vcpu] = mask;
    }

    const Blob& blob_;
    const MachineInfo& machine_;
    const Normalised& limits_;
    Reporter& report_;
    Subject self_{};
    Node node_{};
    bool cells_ok_ = true;
    u32 address_cells_ = 2;
    u32 size_cells_ = 1;
    Node kernel_node_{};
    Node ramdisk_node_{};
    Node device_tree_node_{};
    u64 vcpus_seen_ = 0;
};

} // namespace

DomainLimits domain_limits(const MachineInfo& machine, const Options& options) {
    DomainLimits l;
    for (const PaRange& bank : machine.ram) l.host_ram_bytes += bank.size;
    const usize cpus = machine.cpus.size();
    l.host_cpus = static_cast<u32>(options.maxcpus != 0 && options.maxcpus < cpus ? options.maxcpus : cpus);
    l.max_vcpus = kDefaultMaxVcpus;
    return l;
}

const DomainConfig* DomainList::find(std::string_view name) const {
    for (const DomainConfig& d : *this) {
        if (str_eq(d.name, name)) return &d;
    }
    return nullptr;
}

Status parse_domains(const Blob& blob, const MachineInfo& machine, const DomainLimits& limits,
                     DomainDiagnosticSink& sink, DomainList& out) {
    Access::set_size(out, 0);
    auto chosen = blob.find_child(blob.root(), "chosen");
    if (chosen.status() == Status::not_found) return Status::ok;
    if (!chosen) return chosen.status();

    const Normalised lim = normalise(limits);
    Reporter report(sink);
    DomainParser parser(blob, machine, lim, report);
    std::array<bool, kMaxDomains> good{};
    usize count = 0;

    auto visit = [&](Node n) -> Status {
        const std::string_view name = SW_TRY(blob.node_name(n));
        if (!blob.is_compatible(n, "xen,domain")) {
            if (is_chosen_module(blob, n)) {
                report.warning(Subject{name, {}}, "compatible",
                               "a boot module directly in /chosen (a Xen dom0 module): setwise has no dom0; ignored");
            }
            return Status::ok;
        }
        if (count == kMaxDomains) {
            report.error(Subject{name, {}}, "", "more than {} domains: left out", kMaxDomains);
            return Status::ok;
        }
        for (usize i = 0; i < count; ++i) {
            if (str_eq(Access::slot(out, i).name, name)) {
                report.error(Subject{name, {}}, "", "another domain has the same name: left out");
                return Status::ok;
            }
        }
        DomainConfig& d = Access::slot(out, count);
        bool ok = false;
        const Status s = parser.parse(n, name, d, ok);
        if (s != Status::ok) return s;
        good[count] = ok;
        ++count;
        return Status::ok;
    };
    SW_TRY_VOID(blob.for_each_child(chosen.value(), visit));

    // Overlaps, each module against: the modules before it in its own
    // domain, every module of every other domain (good or not: the
    // bootloader loaded them all), and the boot modules directly in
    // /chosen. The initrd (linux,initrd-*) is not a setwise input and is
    // skipped: U-Boot writes a stale one when booted without it. A module
    // is reported once, for the first overlap found; a pair within one
    // domain is reported on the later module, a pair across domains on
    // both (neither domain's module can be trusted).
    std::array<bool, kMaxDomains> overlapping{};
    for (usize i = 0; i < count; ++i) {
        const DomainConfig& d = Access::slot(out, i);
        const DomainModule* mine[3] = {d.kernel.node.valid() ? &d.kernel : nullptr,
                                       d.ramdisk ? &*d.ramdisk : nullptr,
                                       d.device_tree ? &*d.device_tree : nullptr};
        for (usize a = 0; a < 3; ++a) {
            if (mine[a] == nullptr) continue;
            const DomainModule& m = *mine[a];
            const Subject at{d.name, m.name};
            bool found = false;
            for (usize b = 0; b < a && !found; ++b) {
                if (mine[b] != nullptr && mine[b]->range.overlaps(m.range)) {
                    report.error(at, "reg", "{} overlaps {} {}", Span{m.range}, Escaped{mine[b]->name},
                                 Span{mine[b]->range});
                    found = true;
                }
            }
            for (usize j = 0; j < count && !found; ++j) {
                if (j == i) continue;
                const DomainConfig& o = Access::slot(out, j);
                const DomainModule* theirs[3] = {o.kernel.node.valid() ? &o.kernel : nullptr,
                                                 o.ramdisk ? &*o.ramdisk : nullptr,
                                                 o.device_tree ? &*o.device_tree : nullptr};
                for (const DomainModule* t : theirs) {
                    if (t != nullptr && !found && t->range.overlaps(m.range)) {
                        report.error(at, "reg", "{} overlaps {}/{} {}", Span{m.range}, Escaped{o.name},
                                     Escaped{t->name}, Span{t->range});
                        found = true;
                    }
                }
            }
            for (const BootModule& bm : machine.modules) {
                if (found) break;
                if (bm.domain.valid() || bm.kind == ModuleKind::initrd) continue;
                if (bm.range.overlaps(m.range)) {
                    auto other = blob.node_name(bm.node);
                    report.error(at, "reg", "{} overlaps the /chosen module {} {}", Span{m.range},
                                 Escaped{other.value_or(std::string_view("?"))}, Span{bm.range});
                    found = true;
                }
            }
            if (found) overlapping[i] = true;
        }
    }

    // RAM for all: in /chosen order, each good domain against what the good
    // ones before it left.
    u64 left = lim.host_ram_bytes;
    usize kept = 0;
    for (usize i = 0; i < count; ++i) {
        if (!good[i] || overlapping[i]) continue;
        const DomainConfig& d = Access::slot(out, i);
        if (d.memory_bytes > left) {
            report.error(Subject{d.name, {}}, "memory",
                         "{} KiB exceeds the {} KiB of host RAM left by the domains before it",
                         d.memory_bytes / kKiB, left / kKiB);
            continue;
        }
        left -= d.memory_bytes;
        if (kept != i) Access::slot(out, kept) = d;
        ++kept;
    }
    Access::set_size(out, kept);
    return Status::ok;
}

void identify_kernels(DomainList& domains, HostMemoryReader read, DomainDiagnosticSink& sink) {
    Reporter report(sink);
    usize kept = 0;
    for (usize i = 0; i < domains.size(); ++i) {
        DomainConfig& d = Access::slot(domains, i);
        const Subject at{d.name, d.kernel.name};
        const std::span<const u8> bytes = read(d.kernel.range);
        if (bytes.size() != d.kernel.range.size) {
            report.error(at, "reg", "cannot read the kernel at {}", Span{d.kernel.range});
            continue;
        }
        auto image = detect_kernel(bytes);
        if (!image) {
            const Status st = image.status();
            if (st == Status::unsupported) {
                report.error(at, "reg", "a big-endian kernel: not supported");
            } else if (st == Status::truncated) {
                report.error(at, "reg", "a zImage whose header claims more than the module's {} bytes",
                             d.kernel.range.size);
            } else if (st == Status::invalid_argument) {
                report.error(at, "reg",
                             "a kernel header with impossible values (zImage end not above start, or arm64 "
                             "text_offset of 2 MiB or more)");
            } else {
                report.error(at, "reg", "unrecognised kernel: neither an arm64 Image nor an ARM zImage");
            }
            continue;
        }
        const KernelImage& k = image.value();
        // Kernel (as loaded, BSS included as far as the header says) and
        // ramdisk must at least fit side by side; where exactly they go is
        // the domain builder's choice.
        const u64 ramdisk = d.ramdisk ? d.ramdisk->range.size : 0;
        const u64 kernel = k.aarch32() ? k.memory_size : k.memory_size + k.text_offset;
        const bool fits = kernel >= k.memory_size && kernel <= d.memory_bytes && ramdisk <= d.memory_bytes - kernel;
        if (!fits) {
            report.error(Subject{d.name, {}}, "memory", "{} KiB cannot hold the {} ({} KiB) and the ramdisk ({} KiB)",
                         d.memory_bytes / kKiB, k.kind_name(), kib_rounded_up(k.memory_size), kib_rounded_up(ramdisk));
            continue;
        }
        d.kernel_image = k;
        if (kept != i) Access::slot(domains, kept) = d;
        ++kept;
    }
    Access::set_size(domains, kept);
}

} // namespace setwise::core
