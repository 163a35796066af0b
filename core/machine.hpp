// What the boot DTB says about the machine: RAM, memory that must not be
// handed out, boot modules, CPUs, console, GIC, timer and PSCI. Extracted
// once, early, into fixed-capacity arrays (no allocator exists yet); the
// rest of the boot reads MachineInfo and never the DTB.
//
// Capacity policy (documented per list below):
//   - ram, cpus, gic.regs, timer.interrupts keep the first N entries and
//     count the rest in dropped(): losing one only costs capacity.
//   - reserved and modules make describe_machine() fail with out_of_range
//     instead: dropping one would let the boot hand out memory in use.
//
// Every address is taken as physical: `reg` values of devices, RAM and
// reserved memory are translated through the parents' `ranges`
// (fdt::Blob::translate); module and initrd addresses in /chosen are
// physical by binding.
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string_view>

#include "core/fdt.hpp"
#include "setwise/result.hpp"
#include "setwise/types.hpp"

namespace setwise::core {

// A fixed-capacity list that records how many entries did not fit.
template <typename T, usize N>
class BoundedList {
public:
    static constexpr usize capacity = N;

    // false (and dropped() + 1) when full.
    constexpr bool push(const T& v) {
        if (count_ == N) {
            ++dropped_;
            return false;
        }
        items_[count_++] = v;
        return true;
    }
    // Forgets every entry without touching the storage (no large temporary
    // on a small boot stack).
    constexpr void clear() {
        count_ = 0;
        dropped_ = 0;
    }
    constexpr usize size() const { return count_; }
    constexpr bool empty() const { return count_ == 0; }
    constexpr usize dropped() const { return dropped_; }
    constexpr bool truncated() const { return dropped_ != 0; }
    // Precondition: i < size().
    constexpr const T& operator[](usize i) const { return items_[i]; }
    constexpr std::span<const T> items() const { return std::span<const T>(items_.data(), count_); }
    constexpr const T* begin() const { return items_.data(); }
    constexpr const T* end() const { return items_.data() + count_; }

private:
    std::array<T, N> items_{};
    usize count_ = 0;
    usize dropped_ = 0;
};

inline constexpr usize kMaxRamRanges = 16;
inline constexpr usize kMaxReserved = 32;
inline constexpr usize kMaxModules = 32;
inline constexpr usize kMaxCpus = 64;
inline constexpr usize kMaxGicRegs = 8;
inline constexpr usize kMaxTimerCells = 12; // four 3-cell GIC interrupt specifiers

enum class ReservedSource : u8 {
    memreserve,      // the blob's memory reservation block (§5.3)
    reserved_memory, // a /reserved-memory child (§3.5.4)
};

struct ReservedRegion {
    PaRange range{};
    ReservedSource source = ReservedSource::memreserve;
    bool no_map = false; // /reserved-memory `no-map`: must not be mapped at all
    fdt::Node node{};    // reserved_memory only
};

enum class ModuleKind : u8 {
    module,      // "multiboot,module" with no more specific kind
    kernel,      // "multiboot,kernel"
    ramdisk,     // "multiboot,ramdisk"
    device_tree, // "multiboot,device-tree"
    initrd,      // /chosen linux,initrd-start/-end
};

struct BootModule {
    PaRange range{};
    ModuleKind kind = ModuleKind::module;
    fdt::Node node{};   // the module node; /chosen for the initrd
    fdt::Node domain{}; // the "xen,domain" node it belongs to; invalid for
                        // direct /chosen children and the initrd
};

struct Cpu {
    u64 mpidr = 0;                  // `reg`: MPIDR_EL1 affinity fields (Aff3..Aff0)
    std::string_view enable_method; // "psci", "spin-table", or "" if absent
    fdt::Node node{};
};

struct ConsoleNode {
    fdt::Node node{};
    fdt::StringList compatible{};    // the node's full compatible list
    std::optional<PaRange> reg{};    // first `reg` range, translated
    u32 reg_shift = 0;               // `reg-shift`, default 0
    u32 reg_io_width = 1;            // `reg-io-width`, default 1
    std::optional<u32> clock_frequency{};
    std::string_view path;           // stdout-path before ':' (path or alias)
    std::string_view options;        // after ':' ("115200n8"), "" if none
};

enum class GicVersion : u8 {
    none = 0,
    v2 = 2, // GICv2 and the GICv1-era compatibles treated alike
    v3 = 3,
};

struct Gic {
    GicVersion version = GicVersion::none;
    fdt::Node node{};
    std::string_view compatible; // the compatible string that matched
    // v3: distributor, then #redistributor-regions redistributor regions,
    // then GICC/GICH/GICV if present. v2: distributor, CPU interface, then
    // GICH/GICV if present (virtualization extensions).
    BoundedList<PaRange, kMaxGicRegs> regs{};
    u32 redistributor_regions = 1; // v3 `#redistributor-regions`
    u64 redistributor_stride = 0;  // v3 `redistributor-stride`, 0 if absent
};

struct Timer {
    bool present = false;
    fdt::Node node{};
    // Raw `interrupts` cells: secure, non-secure, virtual and hypervisor
    // PPIs, in that order, each as the interrupt parent encodes it (3 cells
    // for a GIC).
    BoundedList<u32, kMaxTimerCells> interrupts{};
    std::optional<u32> clock_frequency{};
};

enum class PsciVersion : u8 { none, v0_1, v0_2, v1_0 };
enum class PsciMethod : u8 { none, smc, hvc };

struct Psci {
    PsciVersion version = PsciVersion::none;
    PsciMethod method = PsciMethod::none;
    std::optional<u32> cpu_on{}; // PSCI 0.1 only: the CPU_ON function id
    fdt::Node node{};
};

struct MachineInfo {
    // Root children with device_type = "memory" and available status, every
    // non-empty `reg` range. Overflow: first 16 kept, rest counted.
    BoundedList<PaRange, kMaxRamRanges> ram{};
    // Memory reservation block entries, then the `reg` ranges of
    // /reserved-memory children not marked status = "disabled" (any other
    // status still reserves: better lose memory than hand out memory in
    // use); empty ranges skipped. Children without `reg` (dynamic `size`
    // allocations, §3.5.2) are the OS's business and skipped.
    // Overflow: describe_machine() fails with out_of_range.
    BoundedList<ReservedRegion, kMaxReserved> reserved{};
    // Boot modules in /chosen and in its "xen,domain" children, plus the
    // initrd. Overflow: describe_machine() fails with out_of_range.
    BoundedList<BootModule, kMaxModules> modules{};
    // Available /cpus children with device_type = "cpu". Overflow: first 64
    // kept, rest counted.
    BoundedList<Cpu, kMaxCpus> cpus{};
    u32 boot_cpuid = 0; // header boot_cpuid_phys

    std::string_view bootargs; // /chosen/bootargs, "" if none
    // The stdout-path console. Absent (nullopt) if /chosen has no
    // stdout-path, or if it could not be resolved; console_status then
    // says why (ok when there simply is none) so the boot can report it
    // once it has a console.
    std::optional<ConsoleNode> console{};
    Status console_status = Status::ok;

    Gic gic{};     // version none if no supported GIC is described
    Timer timer{}; // present false if none
    Psci psci{};   // version none if none
};

// Fills `out` from the blob. Errors: invalid_argument for malformed
// properties the boot depends on (memory/cpu `reg`, module `reg`, PSCI
// method, inconsistent initrd, GIC with too few regions), out_of_range for
// an address range that wraps or a reserved/module list overflow, and any
// error of the underlying walks. `out` is partially filled on error.
// Prefer this form at boot: MachineInfo is several KiB.
[[nodiscard]] Status describe_machine(const fdt::Blob& blob, MachineInfo& out);
Result<MachineInfo> describe_machine(const fdt::Blob& blob);

} // namespace setwise::core
