// A test-only flattened device tree builder (devicetree spec v0.4 §5, the
// layout dtc writes), shared by the reader, machine and configuration tests
// so they can make exactly the blob a case needs, malformed ones included.
#pragma once

#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/fdt.hpp"

namespace setwise::fdt::testing {

// //   header (40) | memreserve (8-aligned) | structure | strings
class Builder {
public:
    Builder& begin(std::string_view name) {
        word(1);
        for (char c : name) struct_.push_back(static_cast<u8>(c));
        struct_.push_back(0);
        pad();
        return *this;
    }
    Builder& end() { return word(2); }
    Builder& nop() { return word(4); }
    Builder& word(u32 w) {
        for (int i = 3; i >= 0; --i) struct_.push_back(static_cast<u8>(w >> (8 * i)));
        return *this;
    }
    Builder& prop(std::string_view name, const std::vector<u8>& value) {
        word(3);
        word(static_cast<u32>(value.size()));
        word(string_offset(name));
        struct_.insert(struct_.end(), value.begin(), value.end());
        pad();
        return *this;
    }
    Builder& empty(std::string_view name) { return prop(name, {}); }
    Builder& cells(std::string_view name, std::initializer_list<u32> values) {
        std::vector<u8> v;
        for (u32 c : values) append32(v, c);
        return prop(name, v);
    }
    Builder& cells(std::string_view name, const std::vector<u32>& values) {
        std::vector<u8> v;
        for (u32 c : values) append32(v, c);
        return prop(name, v);
    }
    Builder& u64p(std::string_view name, u64 value) {
        std::vector<u8> v;
        append32(v, static_cast<u32>(value >> 32));
        append32(v, static_cast<u32>(value));
        return prop(name, v);
    }
    Builder& str(std::string_view name, std::string_view s) { return strs(name, {s}); }
    Builder& strs(std::string_view name, std::initializer_list<std::string_view> list) {
        std::vector<u8> v;
        for (std::string_view s : list) {
            v.insert(v.end(), s.begin(), s.end());
            v.push_back(0);
        }
        return prop(name, v);
    }
    Builder& reserve(u64 address, u64 size) {
        reserved_.push_back({address, size});
        return *this;
    }
    Builder& boot_cpu(u32 id) {
        boot_cpuid_ = id;
        return *this;
    }

    // The blob, with FDT_END appended unless told otherwise.
    std::vector<u8> build(bool with_end = true) const {
        std::vector<u8> s = struct_;
        if (with_end) append32(s, 9);
        std::vector<u8> out(40, 0);
        const u32 off_rsv = 40;
        for (auto [a, sz] : reserved_) {
            append64(out, a);
            append64(out, sz);
        }
        append64(out, 0);
        append64(out, 0);
        const u32 off_struct = static_cast<u32>(out.size());
        out.insert(out.end(), s.begin(), s.end());
        const u32 off_strings = static_cast<u32>(out.size());
        out.insert(out.end(), strings_.begin(), strings_.end());
        put32(out, 0, fdt::kMagic);
        put32(out, 4, static_cast<u32>(out.size()));
        put32(out, 8, off_struct);
        put32(out, 12, off_strings);
        put32(out, 16, off_rsv);
        put32(out, 20, 17);
        put32(out, 24, 16);
        put32(out, 28, boot_cpuid_);
        put32(out, 32, static_cast<u32>(strings_.size()));
        put32(out, 36, static_cast<u32>(s.size()));
        return out;
    }

    static void append32(std::vector<u8>& v, u32 w) {
        for (int i = 3; i >= 0; --i) v.push_back(static_cast<u8>(w >> (8 * i)));
    }
    static void append64(std::vector<u8>& v, u64 w) {
        append32(v, static_cast<u32>(w >> 32));
        append32(v, static_cast<u32>(w));
    }
    static void put32(std::vector<u8>& v, size_t off, u32 w) {
        for (int i = 0; i < 4; ++i) v[off + i] = static_cast<u8>(w >> (8 * (3 - i)));
    }
    static u32 get32(const std::vector<u8>& v, size_t off) {
        return u32{v[off]} << 24 | u32{v[off + 1]} << 16 | u32{v[off + 2]} << 8 | v[off + 3];
    }

private:
    void pad() {
        while (struct_.size() % 4 != 0) struct_.push_back(0);
    }
    u32 string_offset(std::string_view name) {
        const std::string key(name);
        for (size_t pos = 0; pos < strings_.size(); pos += std::strlen(strings_.c_str() + pos) + 1) {
            if (key == strings_.c_str() + pos) return static_cast<u32>(pos);
        }
        const u32 off = static_cast<u32>(strings_.size());
        strings_.append(key);
        strings_.push_back('\0');
        return off;
    }

    std::vector<u8> struct_;
    std::string strings_;
    std::vector<std::pair<u64, u64>> reserved_;
    u32 boot_cpuid_ = 0;
};

} // namespace setwise::fdt::testing
