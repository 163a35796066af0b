// Flattened device tree writer (Devicetree Specification v0.4, chapter 5):
// builds a DTB front to back in a caller-provided buffer, the way a guest's
// tree is generated. No allocation, no libc; bytes are stored one at a time
// in big-endian order, so the buffer may have any alignment (a consumer may
// still want one: Linux expects its DTB 8-byte aligned).
//
//   fdt::Writer w(buffer);
//   w.add_memreserve(0x4800'0000, 0x10'0000);   // all before the root
//   w.begin_node("");                            // the root
//   w.property_u32("#address-cells", 2);
//   w.begin_node("chosen");
//   w.property_string("bootargs", "console=ttyAMA0");
//   w.end_node();
//   w.end_node();
//   std::span<const u8> dtb = SW_TRY(w.finish());
//
// Errors are sticky, as in libfdt's sequential-write mode: the first one is
// kept, every later call does nothing, and finish() reports it. So a builder
// makes all its calls and checks once. Nothing is ever written outside the
// buffer, whatever the calls.
//
//   no_memory        the blob does not fit in the buffer (or in 4 GiB, the
//                    limit of the header's 32-bit fields)
//   invalid_argument a name that §2.2.1 (nodes) or §2.2.4.1 (properties)
//                    does not allow; a root not named ""; a second root; a
//                    property outside a node or after the node's first
//                    subnode (§5.4.2); end_node() with no node open; a
//                    memory reservation after the root was begun, or an
//                    all-zero one (it would end the list, §5.3); a `reg`
//                    entry that does not fit its cells; a string holding a
//                    NUL; finish() with no root or nodes still open; any
//                    call after finish()
//   exists           a second property of the same name in a node, or a
//                    second sibling node of the same name
//   out_of_range     nesting deeper than fdt::kMaxDepth (the reader's limit)
//
// Buffer layout while writing (the strings block grows down from the end,
// then finish() moves it behind the structure block and rewrites the name
// offsets):
//
//   0        40                                                   capacity
//   | header | memreserve | structure ->   free   <- strings |
//
// and the finished blob (§5.1 order, as dtc writes it):
//
//   | header | memreserve | structure | strings |   totalsize = sum
//
// Property names are deduplicated: a name already in the strings block,
// whole or as the tail of a longer name ("phandle" inside
// "linux,phandle"), is referenced rather than stored again.
#pragma once

#include <array>
#include <initializer_list>
#include <span>
#include <string_view>
#include <utility>

#include "core/fdt.hpp"
#include "setwise/result.hpp"
#include "setwise/types.hpp"

namespace setwise::fdt {

// The header this writer emits (§5.2): version 17, readable by version 16
// readers, the same as dtc.
inline constexpr u32 kWriterVersion = 17;
inline constexpr u32 kWriterLastCompVersion = 16;

class Writer {
public:
    // `buffer` must outlive the Writer and the span finish() returns.
    // `boot_cpuid_phys` goes to the header (§5.2): the `reg` of the CPU
    // that boots.
    explicit Writer(std::span<u8> buffer, u32 boot_cpuid_phys = 0);
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;

    // A memory reservation entry (§5.3). Only before begin_node("").
    void add_memreserve(u64 address, u64 size);

    // Opens a node. The first is the root and must be named ""; every other
    // node is a child of the innermost open one, named "node-name" or
    // "node-name@unit-address" from the characters of §2.2.1 table 2.1.
    void begin_node(std::string_view name);
    void end_node();

    // A property of the innermost open node, before any of its subnodes.
    // Names use the characters of §2.2.4.1 table 2.2.
    void property(std::string_view name, std::span<const u8> value);
    void property_empty(std::string_view name);              // a boolean
    void property_u32(std::string_view name, u32 value);     // <u32>
    void property_u64(std::string_view name, u64 value);     // <u64>: two cells, high first
    void property_cells(std::string_view name, std::span<const u32> cells);
    void property_cells(std::string_view name, std::initializer_list<u32> cells);
    // <string>: `value` plus the terminating NUL; `value` may not hold a NUL.
    void property_string(std::string_view name, std::string_view value);
    // <stringlist>: each string NUL-terminated, back to back.
    void property_string_list(std::string_view name, std::span<const std::string_view> values);
    void property_string_list(std::string_view name, std::initializer_list<std::string_view> values);
    // `reg` (§2.3.6): (address, size) pairs in the parent's #address-cells
    // (1 or 2) and #size-cells (0, 1 or 2). A value that does not fit its
    // cells is invalid_argument, never truncated; with 0 size cells every
    // size must be 0.
    void property_reg(u32 address_cells, u32 size_cells, std::span<const std::pair<u64, u64>> entries);
    void property_reg(u32 address_cells, u32 size_cells, std::initializer_list<std::pair<u64, u64>> entries);

    // Closes the structure block and lays out the blob at the start of the
    // buffer. Returns the blob (exactly totalsize bytes) or the first
    // error. Calling it again returns the same blob, unless some other call
    // came in between: that one is invalid_argument, and so is every
    // finish() after it.
    Result<std::span<const u8>> finish();

    // The first error so far (ok if none).
    Status status() const { return error_; }

private:
    enum class Phase : u8 { memreserve, structure, closed, finished };

    void fail(Status s) {
        if (error_ == Status::ok) error_ = s;
    }
    bool usable() const { return error_ == Status::ok && phase_ != Phase::finished; }
    // Makes room for `n` more structure bytes at end_; false (and the
    // sticky no_memory) if they do not fit before the strings block.
    bool reserve(usize n);
    void put8(u8 v) { buffer_[end_++] = v; }
    void put32(u32 v);
    void put64(u64 v);
    void pad4();
    // Common checks and the FDT_PROP header of a property whose value is
    // `len` bytes; false if the property must not be written.
    bool begin_property(std::string_view name, usize len);
    // Offset, counted back from the end of the buffer, of `name` + NUL in
    // the strings block, adding it if absent. 0 on failure (no string
    // starts at the very end, so 0 is never a valid distance).
    u32 intern(std::string_view name);
    bool has_sibling(std::string_view name) const;
    bool has_property(std::string_view name) const;
    // The text of a pending name offset (a distance from the end).
    std::string_view pending_string(u32 distance) const;
    // Offset of the token after the one at `offset`, in a structure block
    // this writer wrote.
    usize next_token(usize offset) const;
    u32 read32(usize offset) const;
    void write32_at(usize offset, u32 v);

    std::span<u8> buffer_;
    usize capacity_ = 0;     // min(buffer size, 4 GiB - 1)
    usize struct_start_ = 0; // set when the root begins
    usize end_ = 0;          // end of what is written below the strings
    usize strings_size_ = 0; // bytes of strings at the top of the buffer
    std::array<usize, kMaxDepth> open_{}; // FDT_BEGIN_NODE offsets of open nodes
    u32 depth_ = 0;
    bool properties_allowed_ = false;
    Phase phase_ = Phase::memreserve;
    Status error_ = Status::ok;
    u32 boot_cpuid_phys_ = 0;
    usize total_size_ = 0; // set by finish()
};

} // namespace setwise::fdt
