// Flattened device tree reader. See fdt.hpp for the contract; section
// numbers refer to the Devicetree Specification v0.4.
#include "core/fdt.hpp"

namespace setwise::fdt {

namespace {

// Header field offsets (§5.2, table 5.1).
enum class HeaderField : usize {
    magic = 0,
    totalsize = 4,
    off_dt_struct = 8,
    off_dt_strings = 12,
    off_mem_rsvmap = 16,
    version = 20,
    last_comp_version = 24,
    boot_cpuid_phys = 28,
    size_dt_strings = 32,
    size_dt_struct = 36,
};

// Big-endian reads, byte by byte: the blob may be unaligned and the target
// is built with -mstrict-align. Precondition: the bytes are inside `b`.
u32 be32(std::span<const u8> b, usize off) {
    return u32{b[off]} << 24 | u32{b[off + 1]} << 16 | u32{b[off + 2]} << 8 | u32{b[off + 3]};
}

u64 be64(std::span<const u8> b, usize off) {
    return u64{be32(b, off)} << 32 | be32(b, off + 4);
}

u32 header_field(std::span<const u8> b, HeaderField f) {
    return be32(b, static_cast<usize>(f));
}

// The NUL-terminated string starting at `off`, which must end inside `b`.
Result<std::string_view> c_string(std::span<const u8> b, usize off) {
    if (off >= b.size()) return Status::out_of_range;
    for (usize i = off; i < b.size(); ++i) {
        if (b[i] == 0) return std::string_view(reinterpret_cast<const char*>(b.data() + off), i - off);
    }
    return Status::truncated;
}

// [a, a + as) and [b, b + bs) share a byte. Sizes are u32 so nothing wraps
// in u64.
bool overlaps(u64 a, u64 as, u64 b, u64 bs) {
    return as != 0 && bs != 0 && a < b + bs && b < a + as;
}

// A block [off, off + size) must lie inside the blob, after the header.
Result<void> check_block(u32 off, u64 size, usize header_size, u32 totalsize) {
    if (off > totalsize || size > totalsize - off) return Status::out_of_range;
    if (off < header_size) return Status::invalid_argument;
    return {};
}

// Reads `n` (1 or 2) cells at byte offset `off` of `v`; caller checked bounds.
u64 read_cells(std::span<const u8> v, usize off, u32 n) {
    return n == 2 ? be64(v, off) : be32(v, off);
}

} // namespace

// ---- StringList -------------------------------------------------------

bool StringList::valid() const {
    return value_.empty() || value_[value_.size() - 1] == 0;
}

std::string_view StringList::Iterator::operator*() const {
    // pos_ < size and the list ends in NUL (begin() == end() otherwise), so
    // the scan stops inside the value.
    usize len = 0;
    while (pos_ + len < value_.size() && value_[pos_ + len] != 0) ++len;
    return std::string_view(reinterpret_cast<const char*>(value_.data() + pos_), len);
}

StringList::Iterator& StringList::Iterator::operator++() {
    pos_ += (**this).size() + 1;
    if (pos_ > value_.size()) pos_ = value_.size();
    return *this;
}

usize StringList::count() const {
    usize n = 0;
    for (auto it = begin(); it != end(); ++it) ++n;
    return n;
}

bool StringList::contains(std::string_view s) const {
    for (std::string_view item : *this) {
        if (str_eq(item, s)) return true;
    }
    return false;
}

std::string_view StringList::first() const {
    return begin() == end() ? std::string_view() : *begin();
}

// ---- Property ---------------------------------------------------------

Result<u32> Property::as_u32() const {
    if (value.size() != 4) return Status::invalid_argument;
    return be32(value, 0);
}

Result<u64> Property::as_u64() const {
    if (value.size() != 8) return Status::invalid_argument;
    return be64(value, 0);
}

Result<u64> Property::as_uint() const {
    if (value.size() == 4) return u64{be32(value, 0)};
    if (value.size() == 8) return be64(value, 0);
    return Status::invalid_argument;
}

Result<std::string_view> Property::as_string() const {
    if (value.empty() || value[value.size() - 1] != 0) return Status::invalid_argument;
    return StringList(value).first();
}

Result<u64> Property::cells(usize index, u32 n) const {
    if (n != 1 && n != 2) return Status::invalid_argument;
    const usize count = cell_count();
    if (index > count || count - index < n) return Status::out_of_range;
    return read_cells(value, index * 4, n);
}

// ---- RegList ----------------------------------------------------------

Region RegList::operator[](usize i) const {
    if (i >= size()) return {};
    const usize off = i * entry_bytes();
    Region r;
    r.address = read_cells(value_, off, address_cells_);
    if (size_cells_ != 0) r.size = read_cells(value_, off + usize{address_cells_} * 4, size_cells_);
    return r;
}

// ---- Blob: opening ----------------------------------------------------

Result<Blob> Blob::open(std::span<const u8> bytes) {
    if (bytes.size() < 4) return Status::truncated;
    if (header_field(bytes, HeaderField::magic) != kMagic) return Status::bad_magic;
    if (bytes.size() < kHeaderSize) return Status::truncated;

    Blob blob;
    Header& h = blob.header_;
    h.magic = kMagic;
    h.totalsize = header_field(bytes, HeaderField::totalsize);
    h.off_dt_struct = header_field(bytes, HeaderField::off_dt_struct);
    h.off_dt_strings = header_field(bytes, HeaderField::off_dt_strings);
    h.off_mem_rsvmap = header_field(bytes, HeaderField::off_mem_rsvmap);
    h.version = header_field(bytes, HeaderField::version);
    h.last_comp_version = header_field(bytes, HeaderField::last_comp_version);
    h.boot_cpuid_phys = header_field(bytes, HeaderField::boot_cpuid_phys);
    h.size_dt_strings = header_field(bytes, HeaderField::size_dt_strings);
    h.size_dt_struct = header_field(bytes, HeaderField::size_dt_struct);

    if (h.totalsize > bytes.size()) return Status::truncated;
    // §5.2: a reader accepts any version whose last_comp_version it
    // understands; older formats (< 16) kept full paths in node names.
    if (h.version < kMinVersion || h.last_comp_version > kVersion) return Status::unsupported;
    const usize header_size = h.version >= 17 ? kHeaderSize : kHeaderSizeV16;
    if (h.totalsize < header_size) return Status::invalid_argument;

    // A version 16 header has no size_dt_struct: the structure block runs
    // to the next block or the end of the blob.
    u64 struct_size = h.size_dt_struct;
    if (h.version < 17) {
        u64 end = h.totalsize;
        if (h.off_dt_strings > h.off_dt_struct && h.off_dt_strings < end) end = h.off_dt_strings;
        if (h.off_mem_rsvmap > h.off_dt_struct && h.off_mem_rsvmap < end) end = h.off_mem_rsvmap;
        struct_size = h.off_dt_struct <= end ? end - h.off_dt_struct : 0;
        h.size_dt_struct = static_cast<u32>(struct_size);
    }

    SW_TRY_VOID(check_block(h.off_dt_struct, struct_size, header_size, h.totalsize));
    SW_TRY_VOID(check_block(h.off_dt_strings, h.size_dt_strings, header_size, h.totalsize));
    SW_TRY_VOID(check_block(h.off_mem_rsvmap, 0, header_size, h.totalsize));
    // §5.1: the memory reservation block is 8-byte aligned, the structure
    // block 4-byte aligned (offsets from the start of the blob).
    if (!is_aligned(h.off_dt_struct, 4) || !is_aligned(h.off_mem_rsvmap, 8)) return Status::invalid_argument;
    if (overlaps(h.off_dt_struct, struct_size, h.off_dt_strings, h.size_dt_strings)) {
        return Status::invalid_argument;
    }

    blob.bytes_ = bytes.first(h.totalsize);
    blob.struct_ = blob.bytes_.subspan(h.off_dt_struct, static_cast<usize>(struct_size));
    blob.strings_ = blob.bytes_.subspan(h.off_dt_strings, h.size_dt_strings);
    SW_TRY_VOID(blob.validate_memreserve(h.totalsize));
    const usize rsv = blob.memreserve_.size();
    if (overlaps(h.off_mem_rsvmap, rsv, h.off_dt_struct, struct_size) ||
        overlaps(h.off_mem_rsvmap, rsv, h.off_dt_strings, h.size_dt_strings)) {
        return Status::invalid_argument;
    }
    SW_TRY_VOID(blob.validate_structure());
    return blob;
}

// §5.3: 16-byte entries {address, size}, ended by an all-zero entry.
Result<void> Blob::validate_memreserve(usize limit) {
    const usize start = header_.off_mem_rsvmap;
    for (usize off = start; off <= limit && limit - off >= 16; off += 16) {
        if (be64(bytes_, off) == 0 && be64(bytes_, off + 8) == 0) {
            memreserve_ = bytes_.subspan(start, off + 16 - start);
            return {};
        }
    }
    return Status::truncated;
}

Region Blob::memreserve_entry(usize offset) const {
    return Region{be64(memreserve_, offset), be64(memreserve_, offset + 8)};
}

// One pass over the whole structure block (§5.4): optional NOPs, exactly
// one root node with balanced nesting no deeper than kMaxDepth, properties
// only inside a node and before its first subnode (§5.4.2), then FDT_END.
Result<void> Blob::validate_structure() {
    u32 depth = 0;
    bool seen_root = false;
    bool properties_allowed = false;
    for (u32 off = 0;;) {
        const Token t = SW_TRY(token_at(off));
        switch (t.kind) {
        case TokenKind::begin_node:
            if (depth == 0) {
                if (seen_root) return Status::invalid_argument;
                seen_root = true;
                root_offset_ = t.offset;
            }
            if (++depth > kMaxDepth) return Status::out_of_range;
            properties_allowed = true;
            break;
        case TokenKind::end_node:
            if (depth == 0) return Status::invalid_argument;
            --depth;
            properties_allowed = false;
            break;
        case TokenKind::prop:
            if (depth == 0 || !properties_allowed) return Status::invalid_argument;
            break;
        case TokenKind::nop:
            break;
        case TokenKind::end:
            if (depth != 0 || !seen_root) return Status::invalid_argument;
            return {};
        }
        off = t.next;
    }
}

// ---- Blob: tokens -----------------------------------------------------

Result<Token> Blob::token_at(u32 offset) const {
    const usize size = struct_.size();
    if (offset > size || size - offset < 4) return Status::truncated;
    // Tokens sit on 4-byte boundaries of the structure block (§5.4.1).
    if (!is_aligned(offset, 4)) return Status::invalid_argument;

    Token t;
    t.offset = offset;
    switch (be32(struct_, offset)) {
    case static_cast<u32>(TokenKind::begin_node): {
        // The unit name follows, NUL-terminated, padded to 4 bytes.
        auto name = c_string(struct_, usize{offset} + 4);
        if (!name) return Status::truncated;
        const u64 next = align_up(u64{offset} + 4 + name.value().size() + 1, 4);
        if (next > size) return Status::truncated;
        t.kind = TokenKind::begin_node;
        t.name = name.value();
        t.next = static_cast<u32>(next);
        return t;
    }
    case static_cast<u32>(TokenKind::prop): {
        // struct { u32 len; u32 nameoff; } then len bytes, padded (§5.4.1).
        if (size - offset < 12) return Status::truncated;
        const u32 len = be32(struct_, usize{offset} + 4);
        const u32 nameoff = be32(struct_, usize{offset} + 8);
        const usize value_off = usize{offset} + 12;
        if (len > size - value_off) return Status::truncated;
        const u64 next = align_up(u64{value_off} + len, 4);
        if (next > size) return Status::truncated;
        t.kind = TokenKind::prop;
        t.name = SW_TRY(c_string(strings_, nameoff));
        t.value = struct_.subspan(value_off, len);
        t.next = static_cast<u32>(next);
        return t;
    }
    case static_cast<u32>(TokenKind::end_node):
        t.kind = TokenKind::end_node;
        break;
    case static_cast<u32>(TokenKind::nop):
        t.kind = TokenKind::nop;
        break;
    case static_cast<u32>(TokenKind::end):
        t.kind = TokenKind::end;
        break;
    default:
        return Status::invalid_argument;
    }
    t.next = offset + 4;
    return t;
}

Result<Token> Blob::node_token(Node node) const {
    const Token t = SW_TRY(token_at(node.offset()));
    if (t.kind != TokenKind::begin_node) return Status::invalid_argument;
    return t;
}

// ---- Blob: lookups ----------------------------------------------------

Result<std::string_view> Blob::node_name(Node node) const {
    const Token t = SW_TRY(node_token(node));
    return t.name;
}

Result<Node> Blob::find_child(Node parent, std::string_view name) const {
    Node found;
    SW_TRY_VOID(for_each_child(parent, [&](Node child) -> bool {
        auto n = node_name(child);
        if (n && str_eq(n.value(), name)) found = child;
        return !found.valid();
    }));
    if (found.valid()) return found;
    if (str_find(name, '@') != std::string_view::npos) return Status::not_found;

    // Second chance: the name without its unit address.
    SW_TRY_VOID(for_each_child(parent, [&](Node child) -> bool {
        auto n = node_name(child);
        if (!n) return true;
        std::string_view base = n.value();
        const usize at = str_find(base, '@');
        if (at != std::string_view::npos) base = std::string_view(base.data(), at);
        if (str_eq(base, name)) found = child;
        return !found.valid();
    }));
    if (found.valid()) return found;
    return Status::not_found;
}

Result<Node> Blob::find_relative(Node start, std::string_view path) const {
    SW_TRY_VOID(node_token(start));
    Node node = start;
    usize pos = 0;
    while (pos < path.size()) {
        usize end = pos;
        while (end < path.size() && path[end] != '/') ++end;
        if (end > pos) node = SW_TRY(find_child(node, std::string_view(path.data() + pos, end - pos)));
        pos = end + 1;
    }
    return node;
}

Result<Node> Blob::find_path(std::string_view path) const {
    if (path.empty() || path[0] != '/') return Status::invalid_argument;
    return find_relative(root(), path);
}

Result<Node> Blob::alias(std::string_view name) const {
    const Node aliases = SW_TRY(find_child(root(), "aliases"));
    const Property p = SW_TRY(property(aliases, name));
    const std::string_view target = SW_TRY(p.as_string());
    // An alias names a full path, never another alias (§3.3), so resolving
    // one cannot loop.
    return find_path(target);
}

Result<Node> Blob::resolve(std::string_view path) const {
    if (path.empty()) return Status::invalid_argument;
    if (path[0] == '/') return find_path(path);
    const usize slash = str_find(path, '/');
    if (slash == std::string_view::npos) return alias(path);
    const Node base = SW_TRY(alias(std::string_view(path.data(), slash)));
    return find_relative(base, std::string_view(path.data() + slash, path.size() - slash));
}

Result<u32> Blob::ancestors(Node node, std::array<u32, kMaxDepth>& chain) const {
    SW_TRY_VOID(node_token(node));
    u32 depth = 0;
    for (u32 off = root_offset_;;) {
        const Token t = SW_TRY(token_at(off));
        switch (t.kind) {
        case TokenKind::begin_node:
            if (depth == kMaxDepth) return Status::out_of_range;
            chain[depth++] = t.offset;
            if (t.offset == node.offset()) return depth;
            break;
        case TokenKind::end_node:
            if (depth == 0) return Status::invalid_argument;
            if (--depth == 0) return Status::not_found;
            break;
        case TokenKind::prop:
        case TokenKind::nop:
            break;
        case TokenKind::end:
            return Status::not_found;
        }
        off = t.next;
    }
}

Result<Node> Blob::parent_of(Node node) const {
    std::array<u32, kMaxDepth> chain{};
    const u32 depth = SW_TRY(ancestors(node, chain));
    if (depth < 2) return Status::not_found;
    return Node(chain[depth - 2]);
}

Result<u32> Blob::depth_of(Node node) const {
    std::array<u32, kMaxDepth> chain{};
    return ancestors(node, chain);
}

Result<Property> Blob::property(Node node, std::string_view name) const {
    Property found;
    bool have = false;
    SW_TRY_VOID(for_each_property(node, [&](const Property& p) -> bool {
        if (str_eq(p.name, name)) {
            found = p;
            have = true;
        }
        return !have;
    }));
    if (!have) return Status::not_found;
    return found;
}

bool Blob::is_available(Node node) const {
    auto p = property(node, "status");
    if (p.status() == Status::not_found) return true;
    if (!p) return false;
    auto s = p.value().as_string();
    return s && (str_eq(s.value(), "okay") || str_eq(s.value(), "ok"));
}

bool Blob::is_compatible(Node node, std::string_view compatible) const {
    auto p = property(node, "compatible");
    return p && p.value().contains_string(compatible);
}

Result<u32> Blob::address_cells(Node node) const {
    auto p = property(node, "#address-cells");
    if (p.status() == Status::not_found) return 2u;
    if (!p) return p.status();
    return p.value().as_u32();
}

Result<u32> Blob::size_cells(Node node) const {
    auto p = property(node, "#size-cells");
    if (p.status() == Status::not_found) return 1u;
    if (!p) return p.status();
    return p.value().as_u32();
}

Result<RegList> Blob::reg(Node node) const {
    const Property p = SW_TRY(property(node, "reg"));
    auto parent = parent_of(node);
    if (parent.status() == Status::not_found) return Status::invalid_argument;
    if (!parent) return parent.status();
    const u32 ac = SW_TRY(address_cells(parent.value()));
    const u32 sc = SW_TRY(size_cells(parent.value()));
    // setwise handles 32- and 64-bit addresses only; 3 cells (PCI) and
    // more are refused rather than silently truncated.
    if (ac < 1 || ac > 2 || sc > 2) return Status::invalid_argument;
    const RegList list(p.value, ac, sc);
    if (p.value.size() % list.entry_bytes() != 0) return Status::invalid_argument;
    return list;
}

Result<Region> Blob::translate(Node node, Region region) const {
    std::array<u32, kMaxDepth> chain{};
    const u32 depth = SW_TRY(ancestors(node, chain));
    if (depth < 2) return Status::invalid_argument; // the root has no reg
    if (region.size != 0 && region.size - 1 > ~u64{0} - region.address) return Status::out_of_range;

    // chain[level] is a bus whose children live in its own address space,
    // mapped into its parent's (chain[level - 1]) by its `ranges`. The
    // root's children are already in the CPU's address space.
    for (u32 level = depth - 2; level >= 1; --level) {
        const Node bus(chain[level]);
        const Node up(chain[level - 1]);
        auto ranges = property(bus, "ranges");
        if (ranges.status() == Status::not_found) return Status::invalid_argument;
        if (!ranges) return ranges.status();
        const Property& r = ranges.value();
        if (r.empty()) continue; // identity mapping

        const u32 child_ac = SW_TRY(address_cells(bus));
        const u32 parent_ac = SW_TRY(address_cells(up));
        const u32 child_sc = SW_TRY(size_cells(bus));
        if (child_ac < 1 || child_ac > 2 || parent_ac < 1 || parent_ac > 2 || child_sc < 1 || child_sc > 2) {
            return Status::invalid_argument;
        }
        const u32 entry = child_ac + parent_ac + child_sc;
        if (r.cell_count() * 4 != r.size() || r.cell_count() % entry != 0) return Status::invalid_argument;

        bool mapped = false;
        for (usize i = 0; i + entry <= r.cell_count(); i += entry) {
            const u64 child_base = SW_TRY(r.cells(i, child_ac));
            const u64 parent_base = SW_TRY(r.cells(i + child_ac, parent_ac));
            const u64 len = SW_TRY(r.cells(i + child_ac + parent_ac, child_sc));
            if (region.address < child_base) continue;
            const u64 off = region.address - child_base;
            if (off > len || region.size > len - off) continue;
            if (off > ~u64{0} - parent_base) return Status::out_of_range;
            if (region.size != 0 && region.size - 1 > ~u64{0} - (parent_base + off)) return Status::out_of_range;
            region.address = parent_base + off;
            mapped = true;
            break;
        }
        if (!mapped) return Status::out_of_range;
    }
    return region;
}

Result<Node> Blob::find_compatible(std::string_view compatible) const {
    Node found;
    SW_TRY_VOID(for_each_compatible(compatible, [&](Node n) -> bool {
        found = n;
        return false;
    }));
    if (!found.valid()) return Status::not_found;
    return found;
}

Result<Node> Blob::find_by_phandle(u32 phandle) const {
    if (phandle == 0 || phandle == ~u32{0}) return Status::invalid_argument;
    Node found;
    SW_TRY_VOID(for_each_node([&](Node n, u32) -> bool {
        auto p = property(n, "phandle");
        if (p.status() == Status::not_found) p = property(n, "linux,phandle");
        if (p) {
            auto v = p.value().as_u32();
            if (v && v.value() == phandle) found = n;
        }
        return !found.valid();
    }));
    if (!found.valid()) return Status::not_found;
    return found;
}

} // namespace setwise::fdt
