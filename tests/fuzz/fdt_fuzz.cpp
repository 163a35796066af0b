// libFuzzer target for core/fdt and core/machine: open the input as a DTB
// and, if it opens, walk everything a boot or a domain builder could ask of
// it. ASan/UBSan catch out-of-bounds reads; the invariant checks catch a
// blob that opened but whose structure walks then fail (open() promises a
// valid structure).
#include "core/fdt.hpp"
#include "core/machine.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace {

using namespace setwise;
using fdt::Blob;
using fdt::Node;
using fdt::Property;
using fdt::Region;

// parent_of/depth_of/translate are O(blob) each; bound the quadratic part
// so one input stays fast.
constexpr unsigned kMaxAncestorQueries = 48;

void check(bool invariant) {
    if (!invariant) __builtin_trap();
}

void walk(const Blob& blob) {
    unsigned queries = 0;
    u64 sink = 0;
    auto visit = [&](Node n, u32 depth) {
        auto name = blob.node_name(n);
        check(name.ok());
        (void)blob.address_cells(n);
        (void)blob.size_cells(n);
        (void)blob.is_available(n);
        if (queries < kMaxAncestorQueries) {
            ++queries;
            auto d = blob.depth_of(n);
            check(d.ok() && d.value() == depth);
            check(blob.parent_of(n).ok() == (depth > 1));
            if (auto regs = blob.reg(n); regs) {
                for (Region r : regs.value()) {
                    auto t = blob.translate(n, r);
                    if (t) sink += t.value().address;
                }
            }
        }
        if (depth == 2) check(blob.find_child(blob.root(), name.value()).ok());
        auto props = blob.for_each_property(n, [&](const Property& p) {
            sink += p.as_u32().value_or(0) + p.as_u64().value_or(0) + p.as_uint().value_or(0);
            if (auto s = p.as_string(); s) sink += s.value().size();
            for (std::string_view s : p.strings()) sink += s.size();
            sink += p.strings().count();
            for (size_t i = 0; i < p.cell_count() && i < 16; ++i) sink += p.cells(i, 1).value_or(0);
            if (p.cell_count() >= 2) sink += p.cells(p.cell_count() - 2, 2).value_or(0);
            if (p.name == "phandle" || p.name == "linux,phandle") {
                if (auto ph = p.as_u32(); ph && queries < kMaxAncestorQueries) {
                    ++queries;
                    (void)blob.find_by_phandle(ph.value());
                }
            }
        });
        check(props.ok());
        check(blob.for_each_child(n, [&](Node) { ++sink; }).ok());
    };
    check(blob.for_each_node(visit).ok());

    for (std::string_view path : {"/", "/chosen", "/cpus/cpu@0", "/cpus/cpu", "/memory", "/aliases",
                                  "/reserved-memory", "//chosen//", "/soc/serial"}) {
        (void)blob.find_path(path);
    }
    if (auto aliases = blob.find_path("/aliases"); aliases) {
        (void)blob.for_each_property(aliases.value(), [&](const Property& p) {
            (void)blob.alias(p.name);
            if (auto s = p.as_string(); s) (void)blob.resolve(s.value());
        });
    }
    for (std::string_view c : {"arm,pl011", "arm,gic-v3", "arm,psci-1.0", "multiboot,module"}) {
        (void)blob.find_compatible(c);
    }
    check(blob.for_each_memreserve([&](Region r) { sink += r.size; }).ok());

    static core::MachineInfo info; // several KiB: keep it off the stack
    (void)core::describe_machine(blob, info);
    asm volatile("" : : "r"(sink));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto blob = Blob::open(std::span<const u8>(data, size));
    if (blob) walk(blob.value());

    // The same bytes at an odd address: the reader must not care.
    if (size > 0 && size <= 8192) {
        static u8 shifted[8192 + 1];
        std::memcpy(shifted + 1, data, size);
        auto again = Blob::open(std::span<const u8>(shifted + 1, size));
        check(again.ok() == blob.ok());
    }
    return 0;
}
