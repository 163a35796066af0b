// The guests to start, read from the boot DTB's /chosen with the Xen
// dom0less binding (Xen docs/misc/arm/device-tree/booting.txt, "Creating
// Multiple Domains directly from Xen"), so a DT that ImageBuilder or a
// U-Boot script wrote for Xen works unchanged. docs/configuration.md is the
// user's description of the same rules; keep both in step.
//
//   /chosen/<name> { compatible = "xen,domain";
//       #address-cells, #size-cells   cells of the module children's `reg`
//       memory = <hi lo> | <kib>;     guest RAM in KiB (required)
//       cpus = <n>;                   vCPUs (required)
//       vpl011;                       a virtual PL011 (presence; any value)
//       bootargs = "...";             guest command line, if the kernel
//                                     module has none
//       setwise,sw-tracking = "on" | "off";
//       <module> { compatible = "multiboot,kernel" | "multiboot,ramdisk" |
//                               "multiboot,device-tree", "multiboot,module";
//                  reg = <host physical address, size>; bootargs = "..."; };
//       <vcpu>   { compatible = "xen,vcpu"; id = <i>; hard-affinity = "0-3,5"; };
//   };
//
// Every mistake is reported once, naming the node and the property, and
// leaves out only the domain it belongs to: the others still start. Nothing
// here logs, allocates or reads guest images; parse_domains() reads only
// the DT, identify_kernels() then reads the kernel modules' headers.
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>

#include "core/fdt.hpp"
#include "core/kernel_image.hpp"
#include "core/machine.hpp"
#include "core/options.hpp"
#include "setwise/result.hpp"
#include "setwise/types.hpp"
#include "vcpu/guest_layout.hpp"

namespace setwise::core {

inline constexpr usize kMaxDomains = 8;
// Storage for per-vCPU settings; DomainLimits::max_vcpus may not exceed it.
inline constexpr u32 kMaxVcpus = 32;
inline constexpr u32 kDefaultMaxVcpus = 16;
// Affinity masks have one bit per usable host CPU, logical ids 0..63 (the
// order of /cpus, as MachineInfo::cpus keeps it).
inline constexpr u32 kMaxAffinityCpus = 64;

// Guest RAM is allocated in whole 4 KiB pages: a `memory` that is not a
// multiple of 4 KiB is rounded up, with a warning. (Not to 2 MiB: small
// test guests would pay for it, and stage 2 maps 2 MiB blocks where the
// allocation allows anyway.)
inline constexpr u64 kGuestRamGranule = kPageSize;

// The largest `memory` a guest can have: its RAM starts at IPA 1 GiB and
// ends at the top of the 40-bit IPA space (vcpu/guest_layout.hpp).
inline constexpr u64 kMaxGuestRamBytes = (u64{1} << guest::kIpaBits) - guest::kRamBase.raw();

// What the configuration is checked against.
struct DomainLimits {
    // RAM all guests together may have. The check is a necessary
    // condition, not a promise: the allocator has the last word.
    u64 host_ram_bytes = 0;
    // Usable host CPUs, logical ids 0..host_cpus-1; at most
    // kMaxAffinityCpus count.
    u32 host_cpus = 0;
    // vCPUs one domain may have, 1..kMaxVcpus (larger values are clamped).
    u32 max_vcpus = kDefaultMaxVcpus;
    // Host memory already taken (the hypervisor image, the boot DTB): a
    // module overlapping one of these is an error. May be empty.
    std::span<const PaRange> in_use{};
};

// host_ram_bytes = the sum of the RAM banks, host_cpus = the CPUs the DT
// lists, capped by `maxcpus`, max_vcpus = kDefaultMaxVcpus.
DomainLimits domain_limits(const MachineInfo& machine, const Options& options);

enum class SwTrackingOverride : u8 {
    inherit, // no setwise,sw-tracking: the command line's sw-tracking
    on,
    off,
};

// A boot module the domain uses: where the bootloader put it.
struct DomainModule {
    PaRange range{};         // host physical, inside one RAM bank, not empty
    fdt::Node node{};
    std::string_view name{}; // the module node's name
};

struct DomainConfig {
    std::string_view name{}; // the domain node's name ("domU1")
    fdt::Node node{};
    u64 memory_bytes = 0;    // `memory` KiB * 1024, rounded up to 4 KiB
    u32 vcpus = 0;
    bool vpl011 = false;
    DomainModule kernel{};
    // The kernel module's `bootargs`; failing that the domain node's; else
    // empty. Points into the blob.
    std::string_view bootargs{};
    std::optional<DomainModule> ramdisk{};
    // A partial device tree (Xen's passthrough fragment). Recorded so the
    // memory counts as used; not merged into the guest's DT yet.
    std::optional<DomainModule> device_tree{};
    // Hard affinity of vCPU i as a mask of host CPU logical ids. Entries
    // 0..vcpus-1 are non-zero (default: every usable host CPU); the rest 0.
    std::array<u64, kMaxVcpus> affinity{};
    SwTrackingOverride sw_tracking = SwTrackingOverride::inherit;
    // Filled by identify_kernels(); nullopt until then.
    std::optional<KernelImage> kernel_image{};

    constexpr bool sw_tracking_enabled(bool command_line) const {
        return sw_tracking == SwTrackingOverride::inherit ? command_line : sw_tracking == SwTrackingOverride::on;
    }
};

namespace detail {
struct DomainListAccess;
}

// The domains that passed every check, in /chosen order. A few KiB: keep it
// out of small stacks.
class DomainList {
public:
    static constexpr usize capacity = kMaxDomains;

    constexpr usize size() const { return count_; }
    constexpr bool empty() const { return count_ == 0; }
    // Precondition: i < size().
    constexpr const DomainConfig& operator[](usize i) const { return items_[i]; }
    constexpr std::span<const DomainConfig> items() const { return {items_.data(), count_}; }
    constexpr const DomainConfig* begin() const { return items_.data(); }
    constexpr const DomainConfig* end() const { return items_.data() + count_; }
    const DomainConfig* find(std::string_view name) const;

private:
    friend struct detail::DomainListAccess;
    std::array<DomainConfig, kMaxDomains> items_{};
    usize count_ = 0;
};

enum class DiagnosticSeverity : u8 {
    warning, // the domain still starts
    error,   // the domain is left out
};

// One message about the configuration. `message` is the whole line,
// self-contained, bounded and NUL-terminated, for example
//
//   domU1: property 'memory': 4294967296 KiB exceeds the host's 1048576 KiB of RAM
//   domU1/module@4a000000: property 'reg': [0x4a000000, 0x4b000000) overlaps ...
//   domU9: more than 8 domains: left out
//
// Names taken from the blob are printed with bytes that are not printable
// ASCII escaped as \xNN and cut after 48 characters with "...". The views
// are unescaped and point into the blob.
struct DomainDiagnostic {
    static constexpr usize kMessageCapacity = 224; // NUL included

    DiagnosticSeverity severity = DiagnosticSeverity::error;
    // The /chosen child the message is about: the domain node, or a boot
    // module directly in /chosen.
    std::string_view domain{};
    // The node holding `property`: the domain node itself or one of its
    // children (a module, a vCPU node).
    std::string_view node{};
    // "" when the message concerns the node as a whole (no kernel module,
    // too many domains, a duplicate name).
    std::string_view property{};
    std::array<char, kMessageCapacity> message_buf{};
    usize message_len = 0; // < kMessageCapacity; message_buf[message_len] == '\0'

    std::string_view message() const { return {message_buf.data(), message_len}; }
    const char* c_str() const { return message_buf.data(); }
};

// Where messages go: the log at boot, a recorder in tests. Called
// synchronously; the diagnostic lives only for the call.
class DomainDiagnosticSink {
public:
    virtual void report(const DomainDiagnostic& d) = 0;

protected:
    DomainDiagnosticSink() = default;
    DomainDiagnosticSink(const DomainDiagnosticSink&) = default;
    DomainDiagnosticSink& operator=(const DomainDiagnosticSink&) = default;
    ~DomainDiagnosticSink() = default; // never deleted through the interface
};

// Reads every compatible = "xen,domain" child of /chosen into `out`
// (cleared first), checks it against `machine` (RAM banks) and `limits`,
// and reports each problem once to `sink`. A domain with an error is left
// out; the others are kept. Checks, in /chosen order:
//   - per domain: required properties and their shapes, limits, modules
//     (exactly one kernel, at most one ramdisk and one device tree, each
//     non-empty, not wrapping, inside one RAM bank, not overlapping another
//     module of any domain, a boot module directly in /chosen or
//     limits.in_use; the initrd is not checked, U-Boot may leave a stale one),
//     vCPU nodes, setwise,* properties;
//   - then, over the domains still in, their total `memory` against
//     limits.host_ram_bytes: the first domain that does not fit in what the
//     ones before it left is out.
// Domains beyond kMaxDomains are each reported and left out. No /chosen or
// no domain gives an empty list. Returns an error only when the blob's
// structure cannot be walked (not for a blob that fdt::Blob::open accepted).
// `out` refers into `blob`, which must outlive it.
[[nodiscard]] Status parse_domains(const fdt::Blob& blob, const MachineInfo& machine, const DomainLimits& limits,
                                   DomainDiagnosticSink& sink, DomainList& out);

// Host memory as bytes: identity-mapped RAM on the target, buffers in
// tests. Wraps any callable `std::span<const u8>(PaRange)` that returns
// exactly the range's bytes, or an empty span when it cannot. A plain
// function or a lambda without captures is kept by value (its function
// pointer), so
//
//   const HostMemoryReader read = [](PaRange r) { ... };
//
// is safe; any other callable is referred to and must outlive the reader.
class HostMemoryReader {
public:
    using Function = std::span<const u8>(PaRange);

    template <typename F>
        requires(!std::is_same_v<F, HostMemoryReader> &&
                 std::is_invocable_r_v<std::span<const u8>, const F&, PaRange>)
    HostMemoryReader(const F& f) { // NOLINT(google-explicit-constructor): passed as a callable
        if constexpr (std::is_convertible_v<const F&, Function*>) {
            function_ = static_cast<Function*>(f);
            call_ = [](const HostMemoryReader& self, PaRange r) { return self.function_(r); };
        } else {
            object_ = &f;
            call_ = [](const HostMemoryReader& self, PaRange r) { return (*static_cast<const F*>(self.object_))(r); };
        }
    }

    std::span<const u8> operator()(PaRange r) const { return call_(*this, r); }

private:
    Function* function_ = nullptr;
    const void* object_ = nullptr;
    std::span<const u8> (*call_)(const HostMemoryReader&, PaRange) = nullptr;
};

// For each domain of `domains`, reads its kernel module through `read` and
// detects the kernel (detect_kernel). A domain whose kernel is unreadable,
// unrecognised or unsupported is reported (an error on the kernel module's
// `reg`) and removed; so is one whose kernel (its memory_size, plus
// text_offset for an arm64 Image) and ramdisk together exceed its `memory`
// (an error on the domain's `memory`). The others get kernel_image set.
void identify_kernels(DomainList& domains, HostMemoryReader read, DomainDiagnosticSink& sink);

} // namespace setwise::core
