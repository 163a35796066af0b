// Flattened device tree writer. See fdt_writer.hpp for the contract;
// section numbers refer to the Devicetree Specification v0.4.
#include "core/fdt_writer.hpp"

namespace setwise::fdt {

namespace {

// Structure block tokens (§5.4.1) as stored.
constexpr u32 kBeginNode = static_cast<u32>(TokenKind::begin_node);
constexpr u32 kEndNode = static_cast<u32>(TokenKind::end_node);
constexpr u32 kProp = static_cast<u32>(TokenKind::prop);
constexpr u32 kEnd = static_cast<u32>(TokenKind::end);

constexpr usize kReserveEntrySize = 16; // {u64 address, u64 size} (§5.3)
constexpr usize kPropHeaderSize = 12;   // token, len, nameoff (§5.4.1)

// Every header field is a u32 offset or size.
constexpr usize kMaxBlobSize = 0xffff'ffff;

constexpr bool is_alnum(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// §2.2.1 table 2.1, for both the node-name and the unit-address.
constexpr bool is_node_char(char c) {
    return is_alnum(c) || c == ',' || c == '.' || c == '_' || c == '+' || c == '-';
}

// §2.2.4.1 table 2.2.
constexpr bool is_property_char(char c) {
    return is_alnum(c) || c == ',' || c == '.' || c == '_' || c == '+' || c == '?' || c == '#' || c == '-';
}

// "node-name" or "node-name@unit-address", node-name not empty (§2.2.1).
// An empty unit address ("uart@") is allowed: dtc passes it through too.
bool valid_node_name(std::string_view name) {
    if (name.empty() || name[0] == '@') return false;
    bool seen_at = false;
    for (char c : name) {
        if (c == '@') {
            if (seen_at) return false;
            seen_at = true;
        } else if (!is_node_char(c)) {
            return false;
        }
    }
    return true;
}

bool valid_property_name(std::string_view name) {
    if (name.empty()) return false;
    for (char c : name) {
        if (!is_property_char(c)) return false;
    }
    return true;
}

bool has_nul(std::string_view s) {
    return str_find(s, '\0') != std::string_view::npos;
}

constexpr usize pad4_size(usize n) {
    return (n + 3) & ~usize{3};
}

} // namespace

Writer::Writer(std::span<u8> buffer, u32 boot_cpuid_phys)
    : buffer_(buffer),
      capacity_(buffer.size() < kMaxBlobSize ? buffer.size() : kMaxBlobSize),
      boot_cpuid_phys_(boot_cpuid_phys) {
    // The header is filled in by finish(); the memory reservation block
    // starts right after it, 8-byte aligned (§5.3).
    if (capacity_ < kHeaderSize) {
        fail(Status::no_memory);
        return;
    }
    end_ = kHeaderSize;
}

// ---- Raw output ---------------------------------------------------------

bool Writer::reserve(usize n) {
    if (error_ != Status::ok) return false;
    const usize limit = capacity_ - strings_size_;
    if (n > limit - end_) {
        fail(Status::no_memory);
        return false;
    }
    return true;
}

void Writer::put32(u32 v) {
    put8(static_cast<u8>(v >> 24));
    put8(static_cast<u8>(v >> 16));
    put8(static_cast<u8>(v >> 8));
    put8(static_cast<u8>(v));
}

void Writer::put64(u64 v) {
    put32(static_cast<u32>(v >> 32));
    put32(static_cast<u32>(v));
}

void Writer::pad4() {
    while (end_ % 4 != 0) put8(0);
}

u32 Writer::read32(usize offset) const {
    return u32{buffer_[offset]} << 24 | u32{buffer_[offset + 1]} << 16 | u32{buffer_[offset + 2]} << 8 |
           u32{buffer_[offset + 3]};
}

void Writer::write32_at(usize offset, u32 v) {
    buffer_[offset] = static_cast<u8>(v >> 24);
    buffer_[offset + 1] = static_cast<u8>(v >> 16);
    buffer_[offset + 2] = static_cast<u8>(v >> 8);
    buffer_[offset + 3] = static_cast<u8>(v);
}

// ---- Own structure block ------------------------------------------------

usize Writer::next_token(usize offset) const {
    switch (read32(offset)) {
    case kBeginNode: {
        usize len = 0;
        while (buffer_[offset + 4 + len] != 0) ++len;
        return offset + 4 + pad4_size(len + 1);
    }
    case kProp:
        return offset + kPropHeaderSize + pad4_size(read32(offset + 4));
    default:
        return offset + 4;
    }
}

std::string_view Writer::pending_string(u32 distance) const {
    const usize start = capacity_ - distance;
    usize len = 0;
    while (buffer_[start + len] != 0) ++len;
    return std::string_view(reinterpret_cast<const char*>(buffer_.data() + start), len);
}

// The children of the innermost open node so far: everything from its
// begin token to end_ belongs to its subtree, children at nesting 0.
bool Writer::has_sibling(std::string_view name) const {
    const usize parent = open_[depth_ - 1];
    usize nesting = 0;
    for (usize off = next_token(parent); off < end_; off = next_token(off)) {
        switch (read32(off)) {
        case kBeginNode:
            if (nesting == 0) {
                const char* text = reinterpret_cast<const char*>(buffer_.data() + off + 4);
                usize len = 0;
                while (text[len] != 0) ++len;
                if (str_eq(std::string_view(text, len), name)) return true;
            }
            ++nesting;
            break;
        case kEndNode:
            --nesting;
            break;
        default:
            break;
        }
    }
    return false;
}

// Properties allowed means the open node has no child yet, so its
// properties are exactly the tokens from its begin token to end_.
bool Writer::has_property(std::string_view name) const {
    for (usize off = next_token(open_[depth_ - 1]); off < end_; off = next_token(off)) {
        if (str_eq(pending_string(read32(off + 8)), name)) return true;
    }
    return false;
}

u32 Writer::intern(std::string_view name) {
    // Any position where name + NUL already stands will do, including the
    // tail of a longer string: the reader reads from the offset to the NUL.
    const usize first = capacity_ - strings_size_;
    const usize need = name.size() + 1;
    for (usize pos = first; capacity_ - pos >= need; ++pos) {
        if (buffer_[pos + name.size()] != 0) continue;
        bool same = true;
        for (usize i = 0; i < name.size() && same; ++i) same = buffer_[pos + i] == static_cast<u8>(name[i]);
        if (same) return static_cast<u32>(capacity_ - pos);
    }
    const usize limit = capacity_ - strings_size_;
    if (need > limit - end_) {
        fail(Status::no_memory);
        return 0;
    }
    strings_size_ += need;
    const usize start = capacity_ - strings_size_;
    for (usize i = 0; i < name.size(); ++i) buffer_[start + i] = static_cast<u8>(name[i]);
    buffer_[start + name.size()] = 0;
    return static_cast<u32>(strings_size_);
}

// ---- Memory reservation block -------------------------------------------

void Writer::add_memreserve(u64 address, u64 size) {
    if (!usable() || phase_ != Phase::memreserve || (address == 0 && size == 0)) {
        fail(Status::invalid_argument);
        return;
    }
    // Room for this entry and the terminating one begin_node("") adds.
    if (!reserve(2 * kReserveEntrySize)) return;
    put64(address);
    put64(size);
}

// ---- Structure block ----------------------------------------------------

void Writer::begin_node(std::string_view name) {
    if (!usable()) {
        fail(Status::invalid_argument);
        return;
    }
    switch (phase_) {
    case Phase::memreserve:
        if (!name.empty()) {
            fail(Status::invalid_argument);
            return;
        }
        if (!reserve(kReserveEntrySize)) return;
        put64(0);
        put64(0);
        struct_start_ = end_;
        phase_ = Phase::structure;
        break;
    case Phase::structure:
        if (!valid_node_name(name)) {
            fail(Status::invalid_argument);
            return;
        }
        if (depth_ >= kMaxDepth) {
            fail(Status::out_of_range);
            return;
        }
        if (has_sibling(name)) {
            fail(Status::exists);
            return;
        }
        break;
    case Phase::closed:   // a second root
    case Phase::finished: // excluded by usable()
        fail(Status::invalid_argument);
        return;
    }
    if (name.size() > capacity_ || !reserve(4 + pad4_size(name.size() + 1))) {
        fail(Status::no_memory);
        return;
    }
    open_[depth_++] = end_;
    put32(kBeginNode);
    for (char c : name) put8(static_cast<u8>(c));
    put8(0);
    pad4();
    properties_allowed_ = true;
}

void Writer::end_node() {
    if (!usable() || phase_ != Phase::structure || depth_ == 0) {
        fail(Status::invalid_argument);
        return;
    }
    if (!reserve(4)) return;
    put32(kEndNode);
    --depth_;
    // The parent now has a child: no more properties for it (§5.4.2).
    properties_allowed_ = false;
    if (depth_ == 0) phase_ = Phase::closed;
}

bool Writer::begin_property(std::string_view name, usize len) {
    if (!usable() || phase_ != Phase::structure || !properties_allowed_ || !valid_property_name(name)) {
        fail(Status::invalid_argument);
        return false;
    }
    if (has_property(name)) {
        fail(Status::exists);
        return false;
    }
    // A value larger than the buffer cannot fit; checking first keeps the
    // sums below from wrapping.
    if (len > capacity_ || name.size() > capacity_) {
        fail(Status::no_memory);
        return false;
    }
    const u32 nameoff = intern(name);
    if (nameoff == 0) return false;
    if (!reserve(kPropHeaderSize + pad4_size(len))) return false;
    put32(kProp);
    put32(static_cast<u32>(len));
    // A distance from the end of the buffer until finish() knows where the
    // strings block starts.
    put32(nameoff);
    return true;
}

void Writer::property(std::string_view name, std::span<const u8> value) {
    if (!begin_property(name, value.size())) return;
    for (u8 b : value) put8(b);
    pad4();
}

void Writer::property_empty(std::string_view name) {
    begin_property(name, 0);
}

void Writer::property_u32(std::string_view name, u32 value) {
    if (!begin_property(name, 4)) return;
    put32(value);
}

void Writer::property_u64(std::string_view name, u64 value) {
    if (!begin_property(name, 8)) return;
    put64(value);
}

void Writer::property_cells(std::string_view name, std::span<const u32> cells) {
    if (!usable()) {
        fail(Status::invalid_argument);
        return;
    }
    if (cells.size() > capacity_ / 4) {
        fail(Status::no_memory);
        return;
    }
    if (!begin_property(name, cells.size() * 4)) return;
    for (u32 c : cells) put32(c);
}

void Writer::property_cells(std::string_view name, std::initializer_list<u32> cells) {
    property_cells(name, std::span<const u32>(cells.begin(), cells.size()));
}

void Writer::property_string(std::string_view name, std::string_view value) {
    const std::string_view one[] = {value};
    property_string_list(name, one);
}

void Writer::property_string_list(std::string_view name, std::span<const std::string_view> values) {
    if (!usable()) {
        fail(Status::invalid_argument);
        return;
    }
    usize len = 0;
    for (std::string_view s : values) {
        if (has_nul(s)) {
            fail(Status::invalid_argument);
            return;
        }
        if (s.size() >= capacity_ - len) {
            fail(Status::no_memory);
            return;
        }
        len += s.size() + 1;
    }
    if (!begin_property(name, len)) return;
    for (std::string_view s : values) {
        for (char c : s) put8(static_cast<u8>(c));
        put8(0);
    }
    pad4();
}

void Writer::property_string_list(std::string_view name, std::initializer_list<std::string_view> values) {
    property_string_list(name, std::span<const std::string_view>(values.begin(), values.size()));
}

void Writer::property_reg(u32 address_cells, u32 size_cells, std::span<const std::pair<u64, u64>> entries) {
    if (!usable() || address_cells < 1 || address_cells > 2 || size_cells > 2) {
        fail(Status::invalid_argument);
        return;
    }
    const usize entry_bytes = (usize{address_cells} + size_cells) * 4;
    for (const auto& [address, size] : entries) {
        if ((address_cells == 1 && address > 0xffff'ffff) || (size_cells == 1 && size > 0xffff'ffff) ||
            (size_cells == 0 && size != 0)) {
            fail(Status::invalid_argument);
            return;
        }
    }
    if (entries.size() > capacity_ / entry_bytes) {
        fail(Status::no_memory);
        return;
    }
    if (!begin_property("reg", entries.size() * entry_bytes)) return;
    for (const auto& [address, size] : entries) {
        if (address_cells == 2) put64(address);
        else put32(static_cast<u32>(address));
        if (size_cells == 2) put64(size);
        else if (size_cells == 1) put32(static_cast<u32>(size));
    }
}

void Writer::property_reg(u32 address_cells, u32 size_cells, std::initializer_list<std::pair<u64, u64>> entries) {
    property_reg(address_cells, size_cells,
                 std::span<const std::pair<u64, u64>>(entries.begin(), entries.size()));
}

// ---- Finishing ----------------------------------------------------------

Result<std::span<const u8>> Writer::finish() {
    if (phase_ == Phase::finished) {
        if (error_ != Status::ok) return error_;
        return std::span<const u8>(buffer_.data(), total_size_);
    }
    if (error_ != Status::ok) return error_;
    if (phase_ != Phase::closed) {
        fail(Status::invalid_argument);
        return error_;
    }
    if (!reserve(4)) return error_;
    put32(kEnd);

    // Name offsets become offsets into the strings block (§5.5), which
    // starts strings_size_ bytes before the end: a string `d` bytes before
    // the end lies at strings_size_ - d.
    const u32 strings_size = static_cast<u32>(strings_size_);
    for (usize off = struct_start_; off < end_; off = next_token(off)) {
        if (read32(off) == kProp) write32_at(off + 8, strings_size - read32(off + 8));
    }
    // Down to right after the structure block; the ranges may overlap and
    // the destination is lower, so a forward copy is safe.
    const usize from = capacity_ - strings_size_;
    for (usize i = 0; i < strings_size_; ++i) buffer_[end_ + i] = buffer_[from + i];

    // §5.2 table 5.1. Offsets and sizes fit: capacity_ < 4 GiB.
    total_size_ = end_ + strings_size_;
    write32_at(0, kMagic);
    write32_at(4, static_cast<u32>(total_size_));
    write32_at(8, static_cast<u32>(struct_start_));
    write32_at(12, static_cast<u32>(end_));
    write32_at(16, static_cast<u32>(kHeaderSize));
    write32_at(20, kWriterVersion);
    write32_at(24, kWriterLastCompVersion);
    write32_at(28, boot_cpuid_phys_);
    write32_at(32, strings_size);
    write32_at(36, static_cast<u32>(end_ - struct_start_));
    phase_ = Phase::finished;
    return std::span<const u8>(buffer_.data(), total_size_);
}

} // namespace setwise::fdt
