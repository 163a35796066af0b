// What GCC expects of a runtime in a freestanding image: the four memory
// functions it may emit calls to, and the failure hooks that header-only
// parts of the standard library (std::string_view, std::optional, std::span)
// reference. Those hooks mean an internal invariant broke: panic.
//
// Built with -fno-tree-loop-distribute-patterns so these loops are not
// themselves turned into calls to memset/memcpy.
#include "core/panic.hpp"

using setwise::u64;
using setwise::u8;
using setwise::usize;

extern "C" {

void* memset(void* dst, int c, usize n) {
    u8* d = static_cast<u8*>(dst);
    const u8 b = static_cast<u8>(c);
    while (n != 0 && (reinterpret_cast<u64>(d) & 7) != 0) { *d++ = b; --n; }
    u64 word = b;
    word |= word << 8;
    word |= word << 16;
    word |= word << 32;
    for (; n >= 8; n -= 8, d += 8) *reinterpret_cast<u64*>(d) = word;
    while (n-- != 0) *d++ = b;
    return dst;
}

void* memcpy(void* dst, const void* src, usize n) {
    u8* d = static_cast<u8*>(dst);
    const u8* s = static_cast<const u8*>(src);
    if (((reinterpret_cast<u64>(d) ^ reinterpret_cast<u64>(s)) & 7) == 0) {
        while (n != 0 && (reinterpret_cast<u64>(d) & 7) != 0) { *d++ = *s++; --n; }
        for (; n >= 8; n -= 8, d += 8, s += 8) *reinterpret_cast<u64*>(d) = *reinterpret_cast<const u64*>(s);
    }
    while (n-- != 0) *d++ = *s++;
    return dst;
}

void* memmove(void* dst, const void* src, usize n) {
    u8* d = static_cast<u8*>(dst);
    const u8* s = static_cast<const u8*>(src);
    if (d <= s || d >= s + n) return memcpy(dst, src, n);
    while (n-- != 0) d[n] = s[n];
    return dst;
}

int memcmp(const void* a, const void* b, usize n) {
    const u8* x = static_cast<const u8*>(a);
    const u8* y = static_cast<const u8*>(b);
    for (usize i = 0; i < n; ++i) {
        if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    }
    return 0;
}

void* memchr(const void* s, int c, usize n) {
    const u8* p = static_cast<const u8*>(s);
    for (usize i = 0; i < n; ++i) {
        if (p[i] == static_cast<u8>(c)) return const_cast<u8*>(p + i);
    }
    return nullptr;
}

usize strlen(const char* s) {
    usize n = 0;
    while (s[n] != '\0') ++n;
    return n;
}

[[noreturn]] void abort() { setwise::core::panic("abort() called"); }

[[noreturn]] void __cxa_pure_virtual() { setwise::core::panic("pure virtual function called"); }

} // extern "C"

namespace std {
[[noreturn]] void __throw_out_of_range_fmt(const char*, ...) { setwise::core::panic("std: out of range"); }
[[noreturn]] void __throw_out_of_range(const char*) { setwise::core::panic("std: out of range"); }
[[noreturn]] void __throw_length_error(const char*) { setwise::core::panic("std: length error"); }
[[noreturn]] void __throw_logic_error(const char*) { setwise::core::panic("std: logic error"); }
[[noreturn]] void __throw_bad_array_new_length() { setwise::core::panic("std: bad array new length"); }
[[noreturn]] void __throw_bad_alloc() { setwise::core::panic("std: bad alloc"); }
} // namespace std
