// Type-safe formatting for the console and the log, without a heap.
//
//   fmt::format_to(console, "p2m: {} -> {} ({})\n", ipa, pa, status);
//   char buf[64];
//   std::string_view s = fmt::format(buf, sizeof buf, "{:#010x}", esr);
//
// The format string is the std::format / fmtlib subset a kernel needs:
//
//   {}  {:spec}  {{  }}
//   spec = [[fill]align][#][0][width][type]
//   align  '<' left, '>' right, '^' centre (extra padding goes right)
//   '#'    alternate form: 0x / 0X / 0b / 0 (octal, non-zero values) prefix
//   '0'    pad with zeros after sign and prefix; ignored if align is given
//   width  minimum field width in bytes, at most kMaxWidth
//   type   d x X b o (integer), c (character), s (text), p (0x-prefixed hex)
//
// No positional arguments, no precision, no sign option, no nested {} in a
// spec, no floating point (the hypervisor does not touch FP/SIMD registers).
// Defaults follow std::format: numbers align right, text and characters left.
//
// Argument types: integers (char prints as a character, signed and unsigned
// char -- so u8 -- print as numbers, as in std::format), bool, const char*
// (nullptr prints "(null)"), std::string_view, char arrays (up to the first
// NUL), object and function pointers, nullptr, Pa/Ipa/Va and Pfn/Gfn
// (0x-prefixed hex by default; an explicit d/x/X/b/o selects plain digits),
// Status (its status_name), and any type with a Formatter specialisation.
// Anything else -- plain enums, floating point, wide characters -- does not
// compile: enums print only through a Formatter written for them.
//
// Run-time mismatches are never undefined behaviour. Each of these prints
// the marker "{?}" in place of the placeholder and formatting continues:
//   - a placeholder with no argument left (too few arguments);
//   - a spec that does not parse (unknown type, "{0}", "{:+}", "{:.3}", ...);
//     it still consumes its argument, so later placeholders stay paired with
//     the arguments their author meant;
//   - a spec the argument's type cannot honour ("{:x}" on text, "{:c}" on
//     bool, "{:s}" on an integer, '0' or '#' on text, "{:c}" on 300);
//   - an unterminated '{' (formatting stops there).
// Extra arguments are ignored. A lone '}' is printed as it is.
//
// Cost: each call site expands its arguments into a small array of tagged
// references (detail::Arg, 24 bytes each); the loop that parses the format
// string is one non-template function in format.cpp. Stack use per call is
// the argument array plus about a hundred bytes. Nothing here allocates or
// recurses; a Formatter may itself call format_to.
#pragma once

#include <concepts>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "setwise/result.hpp"
#include "setwise/types.hpp"

namespace setwise::fmt {

// Where formatted text goes. write() may be called many times per format
// call, with pieces of any length (including zero); a sink that can fail or
// fill up drops what does not fit and never reports back -- formatting is for
// diagnostics and must not itself need error handling.
class Sink {
public:
    virtual void write(std::string_view s) = 0;

protected:
    ~Sink() = default;
};

// A bounded buffer. The text is always NUL-terminated (when size > 0); what
// does not fit is dropped and recorded as truncation. A BufferSink of size 0
// never touches the buffer (it may then be nullptr).
class BufferSink final : public Sink {
public:
    BufferSink(char* buf, usize size);
    void write(std::string_view s) override;
    std::string_view view() const;
    bool truncated() const;

private:
    char* buf_;
    usize size_;
    usize len_ = 0;
    bool truncated_ = false;
};

enum class Align : u8 { none, left, right, center };

inline constexpr u16 kMaxWidth = 256;

// A parsed "{:...}". type is 0 when the spec names none.
struct Spec {
    char fill = ' ';
    Align align = Align::none;
    bool alt = false;  // '#'
    bool zero = false; // '0'; already cleared when an align was given
    u16 width = 0;
    char type = 0;

    constexpr bool operator==(const Spec&) const = default;
};

// Parses the text after the ':' of a placeholder. invalid_argument for
// anything outside the grammar above; out_of_range for a width above
// kMaxWidth.
Result<Spec> parse_spec(std::string_view text);

// Building blocks for Formatter specialisations. Each honours the fill,
// alignment and width of spec and checks its type, writing "{?}" for a spec
// it cannot honour.
void write_invalid(Sink& out); // the "{?}" marker
void write_padded(Sink& out, const Spec& spec, std::string_view text, Align default_align);
void format_signed(Sink& out, const Spec& spec, i64 v);
void format_unsigned(Sink& out, const Spec& spec, u64 v);
void format_char(Sink& out, const Spec& spec, char c);
void format_bool(Sink& out, const Spec& spec, bool b);
void format_string(Sink& out, const Spec& spec, std::string_view s);
void format_cstring(Sink& out, const Spec& spec, const char* s); // {:p} prints the pointer
// Addresses and pointers: type none or 'p' is 0x-prefixed lower-case hex;
// d/x/X/b/o print like an unsigned integer.
void format_address(Sink& out, const Spec& spec, u64 raw);

// The customisation point. Specialise in setwise::fmt:
//
//   template <> struct fmt::Formatter<cache::Op> {
//       static void format(fmt::Sink& out, const fmt::Spec& spec, const cache::Op& op) {
//           fmt::format_string(out, spec, cache::op_name(op));
//       }
//   };
//
// The primary template is left undefined, so a type without one does not
// compile. The second parameter is for enable_if-style partial
// specialisations.
template <typename T, typename = void>
struct Formatter;

namespace detail {

template <typename T>
inline constexpr bool is_integer =
    std::is_integral_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, char> &&
    !std::is_same_v<T, wchar_t> && !std::is_same_v<T, char8_t> && !std::is_same_v<T, char16_t> &&
    !std::is_same_v<T, char32_t> && sizeof(T) <= sizeof(u64);

template <typename T>
inline constexpr bool is_char_array =
    std::is_array_v<T> && std::rank_v<T> == 1 &&
    std::is_same_v<std::remove_cv_t<std::remove_extent_t<T>>, char>;

template <typename T>
inline constexpr bool is_char_pointer =
    std::is_pointer_v<T> && std::is_same_v<std::remove_cv_t<std::remove_pointer_t<T>>, char>;

template <typename T>
concept HasFormatter = requires(Sink& out, const Spec& spec, const T& v) {
    Formatter<T>::format(out, spec, v);
};

using CustomFn = void (*)(Sink&, const Spec&, const void*);

template <typename T>
void format_custom(Sink& out, const Spec& spec, const void* object) {
    Formatter<T>::format(out, spec, *static_cast<const T*>(object));
}

// One argument, type-erased. Built-in kinds carry their value; a custom
// argument refers to the caller's object, which outlives the format call
// (it is a function argument of format_to).
struct Arg {
    enum class Kind : u8 { sint, uint, character, boolean, cstring, string, char_array, pointer, custom };
    struct Text {
        const char* data;
        usize size; // for char_array: capacity; the text ends at the first NUL
    };
    struct Custom {
        const void* object;
        CustomFn fn;
    };

    Kind kind;
    union {
        i64 sint;
        u64 uint;
        char character;
        bool boolean;
        const char* cstring;
        Text text;
        Custom custom;
    };
};

template <typename T>
constexpr bool is_builtin() {
    using U = std::remove_cv_t<T>;
    return std::is_same_v<U, bool> || std::is_same_v<U, char> || is_integer<U> ||
           std::is_same_v<U, std::string_view> || is_char_array<U> || std::is_pointer_v<U> ||
           std::is_null_pointer_v<U>;
}

template <typename T>
Arg make_arg(const T& v) {
    using U = std::remove_cv_t<T>;
    Arg a{};
    if constexpr (std::is_same_v<U, bool>) {
        a.kind = Arg::Kind::boolean;
        a.boolean = v;
    } else if constexpr (std::is_same_v<U, char>) {
        a.kind = Arg::Kind::character;
        a.character = v;
    } else if constexpr (is_integer<U>) {
        if constexpr (std::is_signed_v<U>) {
            a.kind = Arg::Kind::sint;
            a.sint = v;
        } else {
            a.kind = Arg::Kind::uint;
            a.uint = v;
        }
    } else if constexpr (std::is_same_v<U, std::string_view>) {
        a.kind = Arg::Kind::string;
        a.text = {v.data(), v.size()};
    } else if constexpr (is_char_array<U>) {
        a.kind = Arg::Kind::char_array;
        a.text = {v, std::extent_v<U>};
    } else if constexpr (is_char_pointer<U>) {
        a.kind = Arg::Kind::cstring;
        a.cstring = v;
    } else if constexpr (std::is_pointer_v<U>) {
        a.kind = Arg::Kind::pointer;
        a.uint = reinterpret_cast<std::uintptr_t>(v);
    } else if constexpr (std::is_null_pointer_v<U>) {
        a.kind = Arg::Kind::pointer;
        a.uint = 0;
    } else {
        a.kind = Arg::Kind::custom;
        a.custom = {&v, &format_custom<U>};
    }
    return a;
}

// A NUL-terminated string as a view, computed by a plain loop: constructing
// a string_view from a run-time const char* calls strlen, which the image
// does not need to provide. Precondition: s != nullptr.
std::string_view c_string_view(const char* s);

// The non-template formatting loop. args may be nullptr when count is 0.
void vformat(Sink& out, std::string_view pattern, const Arg* args, usize count);

} // namespace detail

// True for every type format_to accepts.
template <typename T>
concept Formattable = detail::is_builtin<T>() || detail::HasFormatter<std::remove_cv_t<T>>;

template <typename... Args>
    requires(Formattable<Args> && ...)
void format_to(Sink& out, std::string_view pattern, const Args&... args) {
    if constexpr (sizeof...(Args) == 0) {
        detail::vformat(out, pattern, nullptr, 0);
    } else {
        const detail::Arg packed[] = {detail::make_arg(args)...};
        detail::vformat(out, pattern, packed, sizeof...(Args));
    }
}

// Formats into buf (NUL-terminated when size > 0, truncated to fit) and
// returns the text written, which lives in buf.
template <typename... Args>
    requires(Formattable<Args> && ...)
std::string_view format(char* buf, usize size, std::string_view pattern, const Args&... args) {
    BufferSink sink(buf, size);
    format_to(sink, pattern, args...);
    return sink.view();
}

// Formatters for the built-in kinds, for composing inside other Formatters
// and generic code; format_to itself handles these types without them.

template <typename T>
struct Formatter<T, std::enable_if_t<detail::is_integer<T>>> {
    static void format(Sink& out, const Spec& spec, const T& v) {
        if constexpr (std::is_signed_v<T>) {
            format_signed(out, spec, v);
        } else {
            format_unsigned(out, spec, v);
        }
    }
};

template <>
struct Formatter<bool> {
    static void format(Sink& out, const Spec& spec, const bool& v) { format_bool(out, spec, v); }
};

template <>
struct Formatter<char> {
    static void format(Sink& out, const Spec& spec, const char& v) { format_char(out, spec, v); }
};

template <>
struct Formatter<std::string_view> {
    static void format(Sink& out, const Spec& spec, const std::string_view& v) {
        format_string(out, spec, v);
    }
};

template <>
struct Formatter<const char*> {
    static void format(Sink& out, const Spec& spec, const char* const& v) {
        format_cstring(out, spec, v);
    }
};

template <typename Tag>
struct Formatter<Address<Tag>> {
    static void format(Sink& out, const Spec& spec, const Address<Tag>& a) {
        format_address(out, spec, a.raw());
    }
};

template <typename Tag, typename Addr>
struct Formatter<FrameNumber<Tag, Addr>> {
    static void format(Sink& out, const Spec& spec, const FrameNumber<Tag, Addr>& f) {
        format_address(out, spec, f.raw());
    }
};

template <>
struct Formatter<Status> {
    static void format(Sink& out, const Spec& spec, const Status& s) {
        format_string(out, spec, detail::c_string_view(status_name(s)));
    }
};

} // namespace setwise::fmt
