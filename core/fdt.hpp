// Flattened device tree reader (Devicetree Specification v0.4, chapter 5).
//
// A Blob is a read-only view of a DTB somewhere in memory: the boot DTB
// handed over in x0, or a guest DTB. The blob is untrusted input. Every read
// is bounds-checked against the block it belongs to, every walk is bounded by
// the size of the structure block (each token advances at least 4 bytes),
// nesting is bounded by kMaxDepth and nothing recurses. A truncated,
// corrupted or hostile blob yields an error Status, never an out-of-bounds
// read or a hang. No allocation, no libc: values are read byte by byte in
// big-endian order, so the blob may sit at any alignment (the first reads
// happen with the MMU off, where unaligned accesses fault).
//
// Blob::open() validates the header and then the whole structure block once
// (token syntax, balanced nesting, properties before subnodes, string
// references), so on a blob that opened, lookups fail only with not_found or
// because a property's value is malformed. The lookups still check every
// bound, so a Node that came from a different blob cannot read outside this
// one either.
//
//   auto blob = SW_TRY(fdt::Blob::open(bytes));
//   fdt::Node chosen = SW_TRY(blob.find_path("/chosen"));
//   auto args = SW_TRY(SW_TRY(blob.property(chosen, "bootargs")).as_string());
//
// Callbacks of the for_each_* walks may return void (visit everything), bool
// (false stops the walk, which then succeeds) or Status (anything but ok
// stops the walk, which then fails with that status).
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string_view>
#include <type_traits>

#include "setwise/result.hpp"
#include "setwise/types.hpp"

namespace setwise::fdt {

inline constexpr u32 kMagic = 0xd00dfeed;
// Version 17 is the current format (§5.2). Version 16 blobs lack
// size_dt_struct and are still accepted; any blob whose last_comp_version is
// at most 17 is readable by a version 17 reader.
inline constexpr u32 kMinVersion = 16;
inline constexpr u32 kVersion = 17;
inline constexpr usize kHeaderSize = 40;   // version 17 header (§5.2)
inline constexpr usize kHeaderSizeV16 = 36; // no size_dt_struct
// Nesting limit, root at depth 1. Real trees stay under 10; the bound keeps
// the fixed-size ancestor arrays of parent_of() and translate() small.
inline constexpr u32 kMaxDepth = 32;

// Text helpers that compile to plain loops on the freestanding target
// (std::string_view's own comparisons may call memcmp/memchr).
constexpr bool str_eq(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (usize i = 0; i < a.size(); ++i) {
        if (a[i] != b[i]) return false;
    }
    return true;
}

constexpr usize str_find(std::string_view s, char c) {
    for (usize i = 0; i < s.size(); ++i) {
        if (s[i] == c) return i;
    }
    return std::string_view::npos;
}

constexpr bool str_starts_with(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && str_eq(std::string_view(s.data(), prefix.size()), prefix);
}

// The header fields (§5.2, table 5.1), in host byte order.
struct Header {
    u32 magic = 0;
    u32 totalsize = 0;
    u32 off_dt_struct = 0;
    u32 off_dt_strings = 0;
    u32 off_mem_rsvmap = 0;
    u32 version = 0;
    u32 last_comp_version = 0;
    u32 boot_cpuid_phys = 0;
    u32 size_dt_strings = 0;
    u32 size_dt_struct = 0; // as found; for version 16 the reader derives it
};

// One (address, size) pair: a memory reservation entry (§5.3) or a decoded
// `reg` entry (§2.3.6). Raw numbers: whether an address is physical or
// guest-physical is for the caller to say.
struct Region {
    u64 address = 0;
    u64 size = 0;
    constexpr bool operator==(const Region&) const = default;
};

// A <stringlist> value (§2.2.4): NUL-terminated strings back to back. A value
// whose last byte is not NUL is malformed; it iterates as empty and
// valid() says so.
class StringList {
public:
    class Iterator {
    public:
        using value_type = std::string_view;
        using difference_type = std::ptrdiff_t;
        constexpr Iterator() = default;
        std::string_view operator*() const;
        Iterator& operator++();
        Iterator operator++(int) {
            Iterator old = *this;
            ++*this;
            return old;
        }
        constexpr bool operator==(const Iterator& o) const { return pos_ == o.pos_; }

    private:
        friend class StringList;
        constexpr Iterator(std::span<const u8> value, usize pos) : value_(value), pos_(pos) {}
        std::span<const u8> value_{};
        usize pos_ = 0;
    };

    constexpr StringList() = default;
    constexpr explicit StringList(std::span<const u8> value) : value_(value) {}

    bool valid() const;
    Iterator begin() const { return Iterator(value_, 0); }
    Iterator end() const { return Iterator(value_, valid() ? value_.size() : 0); }
    usize count() const;
    bool contains(std::string_view s) const;
    std::string_view first() const; // "" when empty or malformed
    std::span<const u8> raw() const { return value_; }

private:
    std::span<const u8> value_{};
};

// A property: its name (from the strings block) and its raw value (inside
// the structure block). The accessors check the value's shape and return
// invalid_argument if it does not fit the requested type.
struct Property {
    std::string_view name;
    std::span<const u8> value;

    usize size() const { return value.size(); }
    bool empty() const { return value.empty(); }

    Result<u32> as_u32() const;  // <u32>: exactly 4 bytes
    Result<u64> as_u64() const;  // <u64>: exactly 8 bytes
    Result<u64> as_uint() const; // 4 or 8 bytes (linux,initrd-*, clock-frequency)
    // <string>: must end with NUL; yields the text before the first NUL.
    Result<std::string_view> as_string() const;
    StringList strings() const { return StringList(value); }
    bool contains_string(std::string_view s) const { return strings().contains(s); }

    usize cell_count() const { return value.size() / 4; }
    // The value of `n` cells (1 or 2) starting at 32-bit cell `index`
    // (§2.2.4 <prop-encoded-array>). out_of_range past the end.
    Result<u64> cells(usize index, u32 n) const;
};

// The decoded `reg` of a node (§2.3.6): entries of #address-cells +
// #size-cells cells of the parent. Built only by Blob::reg(), which has
// checked the cell counts (address 1..2, size 0..2) and that the value is a
// whole number of entries.
class RegList {
public:
    class Iterator {
    public:
        using value_type = Region;
        using difference_type = std::ptrdiff_t;
        constexpr Iterator() = default;
        Region operator*() const { return (*list_)[index_]; }
        Iterator& operator++() {
            ++index_;
            return *this;
        }
        Iterator operator++(int) {
            Iterator old = *this;
            ++index_;
            return old;
        }
        constexpr bool operator==(const Iterator& o) const { return index_ == o.index_; }

    private:
        friend class RegList;
        constexpr Iterator(const RegList* list, usize index) : list_(list), index_(index) {}
        const RegList* list_ = nullptr;
        usize index_ = 0;
    };

    constexpr RegList() = default;

    usize size() const { return entry_bytes() == 0 ? 0 : value_.size() / entry_bytes(); }
    bool empty() const { return size() == 0; }
    // Precondition: i < size(); an index past the end yields {0, 0}.
    Region operator[](usize i) const;
    Iterator begin() const { return Iterator(this, 0); }
    Iterator end() const { return Iterator(this, size()); }
    u32 address_cells() const { return address_cells_; }
    u32 size_cells() const { return size_cells_; }

private:
    friend class Blob;
    constexpr RegList(std::span<const u8> value, u32 address_cells, u32 size_cells)
        : value_(value), address_cells_(address_cells), size_cells_(size_cells) {}
    usize entry_bytes() const { return (usize{address_cells_} + size_cells_) * 4; }

    std::span<const u8> value_{};
    u32 address_cells_ = 0;
    u32 size_cells_ = 0;
};

// A node: the offset of its FDT_BEGIN_NODE token in the structure block.
// Only a Blob makes them; a default Node names nothing and every lookup on
// it fails. Meaningful only with the blob it came from.
class Node {
public:
    constexpr Node() = default;
    constexpr u32 offset() const { return offset_; }
    constexpr bool valid() const { return offset_ != kNone; }
    constexpr bool operator==(const Node&) const = default;

private:
    friend class Blob;
    static constexpr u32 kNone = ~u32{0};
    constexpr explicit Node(u32 offset) : offset_(offset) {}
    u32 offset_ = kNone;
};

// Structure block tokens (§5.4.1).
enum class TokenKind : u32 {
    begin_node = 1,
    end_node = 2,
    prop = 3,
    nop = 4,
    end = 9,
};

// One decoded token. `next` is the offset of the following token, always at
// least offset + 4, so any walk terminates within the block.
struct Token {
    TokenKind kind = TokenKind::end;
    u32 offset = 0;
    u32 next = 0;
    std::string_view name;     // begin_node: unit name; prop: property name
    std::span<const u8> value; // prop only
};

namespace detail {

// Calls a walk callback and says whether the walk goes on; see the top of
// this file for the three callback shapes.
template <typename F, typename... Args>
bool step(F& f, Status& failed, const Args&... args) {
    using R = std::invoke_result_t<F&, const Args&...>;
    if constexpr (std::is_void_v<R>) {
        f(args...);
        return true;
    } else if constexpr (std::is_same_v<R, bool>) {
        return f(args...);
    } else {
        static_assert(std::is_same_v<R, Status>, "a walk callback returns void, bool or Status");
        failed = f(args...);
        return failed == Status::ok;
    }
}

} // namespace detail

class Blob {
public:
    // An empty blob with no nodes; exists so Result<Blob> can hold an error.
    constexpr Blob() = default;

    // Validates header and structure. Errors:
    //   truncated        bytes end before the header, totalsize, or a token;
    //                    a name or string is not terminated inside its block
    //   bad_magic        not a DTB
    //   unsupported      version < 16 or last_comp_version > 17
    //   out_of_range     a block lies outside totalsize; a string offset lies
    //                    outside the strings block; nesting beyond kMaxDepth
    //   invalid_argument misaligned or overlapping blocks, unknown token,
    //                    unbalanced nesting, property outside a node or after
    //                    a subnode, a second root, no FDT_END
    // `bytes` must stay valid and unchanged while the Blob is used.
    static Result<Blob> open(std::span<const u8> bytes);

    const Header& header() const { return header_; }
    std::span<const u8> bytes() const { return bytes_; } // exactly totalsize bytes
    std::span<const u8> struct_block() const { return struct_; }
    std::span<const u8> strings_block() const { return strings_; }
    Node root() const { return Node(root_offset_); }

    // Decodes the token at `offset` in the structure block (low level; the
    // walks below are built on it).
    Result<Token> token_at(u32 offset) const;

    // Lookups. A path component matches a child whose full name equals it;
    // failing that, if the component has no '@', a child whose name before
    // '@' equals it (§2.2.3: "memory" finds "memory@40000000"). Empty
    // components ("//", trailing '/') are skipped.
    Result<Node> find_path(std::string_view absolute_path) const; // must start with '/'
    Result<Node> find_relative(Node start, std::string_view relative_path) const;
    Result<Node> find_child(Node parent, std::string_view name) const;
    // /aliases/<name> (§3.3); the alias value must be an absolute path.
    Result<Node> alias(std::string_view name) const;
    // An absolute path, or an alias optionally followed by "/relative/path"
    // (what stdout-path may hold, §3.6).
    Result<Node> resolve(std::string_view path_or_alias) const;
    // O(size of the structure block). not_found for the root.
    Result<Node> parent_of(Node node) const;
    // Depth of the node, root = 1. O(size of the structure block).
    Result<u32> depth_of(Node node) const;
    // Full unit name including "@unit-address"; "" for the root.
    Result<std::string_view> node_name(Node node) const;

    // not_found if the node has no such property.
    Result<Property> property(Node node, std::string_view name) const;
    bool has_property(Node node, std::string_view name) const { return property(node, name).ok(); }
    // §2.3.4: no status, "okay" or "ok" means usable; anything else
    // ("disabled", "reserved", "fail", "fail-sss", malformed) means not.
    bool is_available(Node node) const;
    bool is_compatible(Node node, std::string_view compatible) const;

    // The node's own #address-cells / #size-cells, which describe its
    // children's `reg` (§2.3.5; not inherited, defaults 2 and 1).
    Result<u32> address_cells(Node node) const;
    Result<u32> size_cells(Node node) const;
    // The node's `reg` decoded with its parent's cell counts. not_found
    // without `reg`; invalid_argument for the root, for address cells other
    // than 1..2 or size cells other than 0..2, or a ragged value.
    Result<RegList> reg(Node node) const;
    // Maps `region` from the address space of `node`'s parent to the root's
    // (the CPU's) through every ancestor bus's `ranges` (§2.3.8): an empty
    // `ranges` is the identity; a bus without `ranges` has no mapping
    // (invalid_argument); a region not wholly inside one window is
    // out_of_range.
    Result<Region> translate(Node node, Region region) const;

    // First node in document order listing `compatible`.
    Result<Node> find_compatible(std::string_view compatible) const;
    // The node whose `phandle` (or legacy `linux,phandle`) is `phandle`
    // (§2.3.3). 0 and 0xffffffff are not phandles: invalid_argument.
    Result<Node> find_by_phandle(u32 phandle) const;

    // f(Node child), direct children in document order.
    template <typename F>
    Result<void> for_each_child(Node parent, F&& f) const {
        Token t = SW_TRY(node_token(parent));
        Status failed = Status::ok;
        u32 depth = 0;
        for (u32 off = t.next;; off = t.next) {
            t = SW_TRY(token_at(off));
            switch (t.kind) {
            case TokenKind::begin_node:
                if (depth == 0 && !detail::step(f, failed, Node(t.offset))) return failed;
                if (++depth >= kMaxDepth) return Status::out_of_range;
                break;
            case TokenKind::end_node:
                if (depth == 0) return {};
                --depth;
                break;
            case TokenKind::prop:
            case TokenKind::nop:
                break;
            case TokenKind::end:
                return Status::invalid_argument;
            }
        }
    }

    // f(const Property&), the node's own properties in order.
    template <typename F>
    Result<void> for_each_property(Node node, F&& f) const {
        Token t = SW_TRY(node_token(node));
        Status failed = Status::ok;
        for (u32 off = t.next;; off = t.next) {
            t = SW_TRY(token_at(off));
            switch (t.kind) {
            case TokenKind::prop:
                if (!detail::step(f, failed, Property{t.name, t.value})) return failed;
                break;
            case TokenKind::nop:
                break;
            // Properties precede subnodes (§5.4.2; open() enforces it).
            case TokenKind::begin_node:
            case TokenKind::end_node:
                return {};
            case TokenKind::end:
                return Status::invalid_argument;
            }
        }
    }

    // f(Node, u32 depth), every node in document order, the root at depth 1.
    template <typename F>
    Result<void> for_each_node(F&& f) const {
        Status failed = Status::ok;
        u32 depth = 0;
        for (u32 off = root_offset_;;) {
            Token t = SW_TRY(token_at(off));
            switch (t.kind) {
            case TokenKind::begin_node:
                if (++depth > kMaxDepth) return Status::out_of_range;
                if (!detail::step(f, failed, Node(t.offset), depth)) return failed;
                break;
            case TokenKind::end_node:
                if (depth == 0) return Status::invalid_argument;
                if (--depth == 0) return {};
                break;
            case TokenKind::prop:
            case TokenKind::nop:
                break;
            case TokenKind::end:
                return Status::invalid_argument;
            }
            off = t.next;
        }
    }

    // f(Node), every node whose compatible list contains `compatible`.
    template <typename F>
    Result<void> for_each_compatible(std::string_view compatible, F&& f) const {
        Status failed = Status::ok;
        SW_TRY_VOID(for_each_node([&](Node n, u32) -> bool {
            if (!is_compatible(n, compatible)) return true;
            return detail::step(f, failed, n);
        }));
        return failed;
    }

    // f(Region), the memory reservation block's entries (§5.3) without the
    // terminating {0, 0}.
    template <typename F>
    Result<void> for_each_memreserve(F&& f) const {
        Status failed = Status::ok;
        for (usize off = 0; memreserve_.size() - off >= 16; off += 16) {
            const Region r = memreserve_entry(off);
            if (r.address == 0 && r.size == 0) return {};
            if (!detail::step(f, failed, r)) return failed;
        }
        return Status::truncated;
    }

private:
    // The begin_node token of `node`; invalid_argument if it is not one.
    Result<Token> node_token(Node node) const;
    // chain[0] = root ... chain[n - 1] = node; returns n.
    Result<u32> ancestors(Node node, std::array<u32, kMaxDepth>& chain) const;
    Result<void> validate_structure();
    Result<void> validate_memreserve(usize limit);
    Region memreserve_entry(usize offset) const;

    Header header_{};
    std::span<const u8> bytes_{};
    std::span<const u8> struct_{};
    std::span<const u8> strings_{};
    std::span<const u8> memreserve_{}; // through the terminating entry
    u32 root_offset_ = ~u32{0};
};

} // namespace setwise::fdt
