// libFuzzer target for core/domain_config and core/kernel_image: the input
// is a DTB whose /chosen describes domains, checked against a fixed machine
// (RAM 0x4000_0000 + 2 GiB, 4 CPUs); the same bytes serve as host memory
// for the kernel check, and as a kernel image on their own.
//
// Checks, beyond the sanitizers:
// - every diagnostic is bounded, NUL-terminated, printable ASCII, and its
//   domain/node views point into the blob;
// - every domain returned satisfies what parse_domains() promises: RAM in
//   whole pages within the host's, in total too; 1..16 vCPUs each with a
//   non-empty affinity inside the host's CPUs; non-empty modules inside RAM,
//   clear of memory in use and of each other;
// - identify_kernels() keeps only domains whose kernel it identified, and
//   that kernel and the ramdisk fit the domain's RAM;
// - detect_kernel() on the raw bytes reports a size within the input.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "core/domain_config.hpp"
#include "core/fdt.hpp"
#include "core/kernel_image.hpp"
#include "core/machine.hpp"

using namespace setwise;
using namespace setwise::core;

namespace {

constexpr u64 kRamBase = 0x4000'0000;
constexpr u64 kRamSize = 2 * kGiB;
constexpr u32 kCpus = 4;

void check(bool ok) {
    if (!ok) __builtin_trap();
}

bool inside(std::string_view part, std::span<const u8> whole) {
    if (part.empty()) return true;
    const auto b = reinterpret_cast<std::uintptr_t>(whole.data());
    const auto s = reinterpret_cast<std::uintptr_t>(part.data());
    return s >= b && s + part.size() <= b + whole.size();
}

class CheckingSink final : public DomainDiagnosticSink {
public:
    explicit CheckingSink(std::span<const u8> blob) : blob_(blob) {}

    void report(const DomainDiagnostic& d) override {
        check(d.message_len < DomainDiagnostic::kMessageCapacity);
        check(d.message_buf[d.message_len] == '\0');
        check(std::strlen(d.c_str()) == d.message_len);
        check(d.message_len > 0);
        for (usize i = 0; i < d.message_len; ++i) {
            const auto c = static_cast<u8>(d.message_buf[i]);
            check(c >= 0x20 && c < 0x7f);
        }
        check(d.severity == DiagnosticSeverity::warning || d.severity == DiagnosticSeverity::error);
        check(inside(d.domain, blob_));
        check(inside(d.node, blob_));
        if (d.severity == DiagnosticSeverity::error) ++errors;
    }

    usize errors = 0;

private:
    std::span<const u8> blob_;
};

MachineInfo& fake_machine() {
    static MachineInfo m = [] {
        MachineInfo info;
        (void)info.ram.push(PaRange{Pa(kRamBase), kRamSize});
        for (u32 i = 0; i < kCpus; ++i) (void)info.cpus.push(Cpu{i, "psci", fdt::Node{}});
        return info;
    }();
    return m;
}

// The top 2 MiB of RAM stand for the hypervisor's own image.
constexpr PaRange kInUse[] = {{Pa(kRamBase + kRamSize - 2 * kMiB), 2 * kMiB}};

void check_domains(const DomainList& list, const DomainLimits& limits) {
    check(list.size() <= kMaxDomains);
    u64 total = 0;
    const DomainModule* modules[kMaxDomains * 3];
    usize module_count = 0;
    for (const DomainConfig& d : list) {
        check(d.memory_bytes != 0 && is_aligned(d.memory_bytes, kPageSize));
        check(d.memory_bytes <= limits.host_ram_bytes);
        total += d.memory_bytes;
        check(d.vcpus >= 1 && d.vcpus <= limits.max_vcpus);
        for (u32 i = 0; i < kMaxVcpus; ++i) {
            if (i < d.vcpus) {
                check(d.affinity[i] != 0 && (d.affinity[i] & ~u64{(1u << kCpus) - 1}) == 0);
            } else {
                check(d.affinity[i] == 0);
            }
        }
        check(d.node.valid() && d.kernel.node.valid());
        modules[module_count++] = &d.kernel;
        if (d.ramdisk) modules[module_count++] = &*d.ramdisk;
        if (d.device_tree) modules[module_count++] = &*d.device_tree;
    }
    check(total <= limits.host_ram_bytes);
    for (usize i = 0; i < module_count; ++i) {
        const PaRange r = modules[i]->range;
        check(r.size != 0);
        check(PaRange{Pa(kRamBase), kRamSize}.contains(r));
        for (const PaRange& used : kInUse) check(!used.overlaps(r));
        for (usize j = 0; j < i; ++j) check(!modules[j]->range.overlaps(r));
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const u8> bytes(data, size);

    if (auto k = detect_kernel(bytes); k) {
        check(k.value().copy_size <= size);
        check(k.value().memory_size >= k.value().copy_size || k.value().aarch32());
        check(k.value().kind_name() != nullptr);
    }

    auto opened = fdt::Blob::open(bytes);
    if (!opened) return 0;
    const fdt::Blob& blob = opened.value();

    // What the boot does first; its result does not gate the domains here.
    static MachineInfo described;
    (void)describe_machine(blob, described);

    DomainLimits limits;
    limits.host_ram_bytes = kRamSize;
    limits.host_cpus = kCpus;
    limits.max_vcpus = kDefaultMaxVcpus;
    limits.in_use = kInUse;

    static DomainList list;
    CheckingSink sink(blob.bytes());
    const Status s = parse_domains(blob, fake_machine(), limits, sink, list);
    check(s == Status::ok); // an opened blob always walks
    check_domains(list, limits);

    // Host memory is the input itself, offset from the start of RAM and
    // wrapped around its length, so a kernel header inside a property can
    // be a module's contents.
    auto memory = [&](PaRange r) -> std::span<const u8> {
        if (size == 0 || r.base.raw() < kRamBase) return {};
        const u64 offset = (r.base.raw() - kRamBase) % size;
        if (r.size > size - offset) return {};
        return bytes.subspan(offset, r.size);
    };
    const usize before = list.size();
    identify_kernels(list, memory, sink);
    check(list.size() <= before);
    for (const DomainConfig& d : list) {
        check(d.kernel_image.has_value());
        const KernelImage& k = *d.kernel_image;
        const u64 ramdisk = d.ramdisk ? d.ramdisk->range.size : 0;
        const u64 need = k.memory_size + (k.aarch32() ? 0 : k.text_offset);
        check(need >= k.memory_size && need <= d.memory_bytes && ramdisk <= d.memory_bytes - need);
    }
    check_domains(list, limits);
    return 0;
}
