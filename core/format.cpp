// The formatting loop and the conversions behind core/format.hpp.
//
// Everything here writes through Sink::write in pieces: literal runs of the
// format string, padding in small chunks, one converted number. The largest
// local is the 72-byte digit buffer, enough for a 64-bit value in binary with
// sign and "0b" prefix (1 + 2 + 64 = 67).
#include "core/format.hpp"

namespace setwise::fmt {

namespace {

using namespace std::string_view_literals;

// Constant views, so no length is computed at run time (no strlen).
constexpr std::string_view kInvalid = "{?}";
constexpr std::string_view kTrue = "true";
constexpr std::string_view kFalse = "false";
constexpr std::string_view kNull = "(null)";

// [from, to) of s. std::string_view::substr and find are avoided: they may
// call std::__throw_out_of_range_fmt and memchr, which the freestanding
// image does not provide. Precondition: from <= to <= s.size().
constexpr std::string_view slice(std::string_view s, usize from, usize to) {
    return std::string_view(s.data() + from, to - from);
}

constexpr bool is_align(char c) { return c == '<' || c == '>' || c == '^'; }

constexpr Align align_of(char c) {
    switch (c) {
    case '<': return Align::left;
    case '>': return Align::right;
    default: return Align::center;
    }
}

constexpr bool is_known_type(char c) {
    switch (c) {
    case 'd': case 'x': case 'X': case 'b': case 'o': case 'c': case 's': case 'p':
        return true;
    default:
        return false;
    }
}

constexpr bool is_integer_type(char c) {
    return c == 'd' || c == 'x' || c == 'X' || c == 'b' || c == 'o';
}

// Skips empty pieces, so a sink never sees a zero-length write from here.
void put(Sink& out, std::string_view s) {
    if (!s.empty()) out.write(s);
}

void write_fill(Sink& out, char fill, usize count) {
    char chunk[16];
    for (char& c : chunk) c = fill;
    while (count > 0) {
        usize n = count < sizeof chunk ? count : sizeof chunk;
        out.write(std::string_view(chunk, n));
        count -= n;
    }
}

// What write_number may be asked to print.
enum class NumberKind : u8 {
    integer, // d x X b o, c when the value fits a byte; default d
    address, // d x X b o p; default p
};

// Sign, base prefix and digits of one value, padded per spec. Precondition:
// spec.type is already resolved (never 0) and valid for the kind.
void write_digits(Sink& out, const Spec& spec, u64 magnitude, bool negative) {
    char buf[72];
    usize pos = sizeof buf;

    u64 base = 10;
    const char* digits = "0123456789abcdef";
    std::string_view prefix;
    switch (spec.type) {
    case 'x':
        base = 16;
        if (spec.alt) prefix = "0x"sv;
        break;
    case 'X':
        base = 16;
        digits = "0123456789ABCDEF";
        if (spec.alt) prefix = "0X"sv;
        break;
    case 'p':
        base = 16;
        prefix = "0x"sv;
        break;
    case 'b':
        base = 2;
        if (spec.alt) prefix = "0b"sv;
        break;
    case 'o':
        base = 8;
        // As std::format: the octal prefix is a leading zero, and zero
        // itself already has one.
        if (spec.alt && magnitude != 0) prefix = "0"sv;
        break;
    default:
        break;
    }

    u64 v = magnitude;
    do {
        buf[--pos] = digits[v % base];
        v /= base;
    } while (v != 0);
    const usize digits_at = pos;
    for (usize i = prefix.size(); i > 0; --i) buf[--pos] = prefix[i - 1];
    if (negative) buf[--pos] = '-';

    const std::string_view whole(buf + pos, sizeof buf - pos);
    if (spec.zero && spec.width > whole.size()) {
        put(out, std::string_view(buf + pos, digits_at - pos));
        write_fill(out, '0', spec.width - whole.size());
        put(out, std::string_view(buf + digits_at, sizeof buf - digits_at));
        return;
    }
    write_padded(out, spec, whole, Align::right);
}

void write_number(Sink& out, const Spec& spec, u64 magnitude, bool negative, NumberKind kind) {
    Spec s = spec;
    if (s.type == 0) s.type = kind == NumberKind::address ? 'p' : 'd';

    if (s.type == 'c' && kind == NumberKind::integer) {
        // Any value that is some char's code: -128..255.
        if (s.alt || s.zero || (negative ? magnitude > 128 : magnitude > 255)) {
            write_invalid(out);
            return;
        }
        const char c = static_cast<char>(negative ? 256 - magnitude : magnitude);
        write_padded(out, s, std::string_view(&c, 1), Align::left);
        return;
    }
    if (!is_integer_type(s.type) && !(s.type == 'p' && kind == NumberKind::address)) {
        write_invalid(out);
        return;
    }
    write_digits(out, s, magnitude, negative);
}

// Text presentation shared by strings, characters and bool: only fill,
// align and width apply.
void write_text(Sink& out, const Spec& spec, std::string_view text) {
    if ((spec.type != 0 && spec.type != 's') || spec.alt || spec.zero) {
        write_invalid(out);
        return;
    }
    write_padded(out, spec, text, Align::left);
}

usize bounded_length(const char* s, usize capacity) {
    usize n = 0;
    while (n < capacity && s[n] != '\0') ++n;
    return n;
}

void format_arg(Sink& out, const Spec& spec, const detail::Arg& a) {
    using Kind = detail::Arg::Kind;
    switch (a.kind) {
    case Kind::sint: format_signed(out, spec, a.sint); return;
    case Kind::uint: format_unsigned(out, spec, a.uint); return;
    case Kind::character: format_char(out, spec, a.character); return;
    case Kind::boolean: format_bool(out, spec, a.boolean); return;
    case Kind::cstring: format_cstring(out, spec, a.cstring); return;
    case Kind::string: format_string(out, spec, std::string_view(a.text.data, a.text.size)); return;
    case Kind::char_array:
        format_string(out, spec, std::string_view(a.text.data, bounded_length(a.text.data, a.text.size)));
        return;
    case Kind::pointer: format_address(out, spec, a.uint); return;
    case Kind::custom: a.custom.fn(out, spec, a.custom.object); return;
    }
    write_invalid(out);
}

} // namespace

BufferSink::BufferSink(char* buf, usize size) : buf_(buf), size_(size) {
    if (size_ > 0) buf_[0] = '\0';
}

void BufferSink::write(std::string_view s) {
    if (s.empty()) return;
    // One byte is always kept for the terminating NUL.
    const usize room = size_ > 0 ? size_ - 1 - len_ : 0;
    usize n = s.size();
    if (n > room) {
        n = room;
        truncated_ = true;
    }
    for (usize i = 0; i < n; ++i) buf_[len_ + i] = s[i];
    len_ += n;
    if (size_ > 0) buf_[len_] = '\0';
}

std::string_view BufferSink::view() const { return std::string_view(buf_, len_); }

bool BufferSink::truncated() const { return truncated_; }

Result<Spec> parse_spec(std::string_view text) {
    Spec spec;
    usize i = 0;
    const usize n = text.size();

    if (n >= 2 && is_align(text[1])) {
        // std::format forbids braces as fill; the placeholder scan relies on
        // it (a '}' always ends the placeholder).
        if (text[0] == '{' || text[0] == '}') return Status::invalid_argument;
        spec.fill = text[0];
        spec.align = align_of(text[1]);
        i = 2;
    } else if (n >= 1 && is_align(text[0])) {
        spec.align = align_of(text[0]);
        i = 1;
    }
    if (i < n && text[i] == '#') {
        spec.alt = true;
        ++i;
    }
    if (i < n && text[i] == '0') {
        // As std::format: '0' with an explicit alignment is ignored.
        spec.zero = spec.align == Align::none;
        ++i;
    }
    u32 width = 0;
    while (i < n && text[i] >= '0' && text[i] <= '9') {
        width = width * 10 + static_cast<u32>(text[i] - '0');
        if (width > kMaxWidth) return Status::out_of_range;
        ++i;
    }
    spec.width = static_cast<u16>(width);
    if (i < n) {
        if (!is_known_type(text[i])) return Status::invalid_argument;
        spec.type = text[i];
        ++i;
    }
    if (i != n) return Status::invalid_argument;
    return spec;
}

void write_invalid(Sink& out) { out.write(kInvalid); }

void write_padded(Sink& out, const Spec& spec, std::string_view text, Align default_align) {
    if (spec.width <= text.size()) {
        put(out, text);
        return;
    }
    const usize pad = spec.width - text.size();
    const Align align = spec.align == Align::none ? default_align : spec.align;
    usize before = 0;
    switch (align) {
    case Align::left: before = 0; break;
    case Align::none:
    case Align::right: before = pad; break;
    case Align::center: before = pad / 2; break;
    }
    write_fill(out, spec.fill, before);
    put(out, text);
    write_fill(out, spec.fill, pad - before);
}

void format_signed(Sink& out, const Spec& spec, i64 v) {
    // Two's complement negation in u64 is defined for INT64_MIN too.
    const bool negative = v < 0;
    const u64 magnitude = negative ? ~static_cast<u64>(v) + 1 : static_cast<u64>(v);
    write_number(out, spec, magnitude, negative, NumberKind::integer);
}

void format_unsigned(Sink& out, const Spec& spec, u64 v) {
    write_number(out, spec, v, false, NumberKind::integer);
}

void format_char(Sink& out, const Spec& spec, char c) {
    if (is_integer_type(spec.type)) {
        // The code unit, not its sign-extended value: 'char' is signed on
        // the host and unsigned on AArch64, and the output must not differ
        // (std::format does the same since P2909).
        format_unsigned(out, spec, static_cast<unsigned char>(c));
        return;
    }
    if (spec.type != 0 && spec.type != 'c') {
        write_invalid(out);
        return;
    }
    Spec s = spec;
    s.type = 0;
    write_text(out, s, std::string_view(&c, 1));
}

void format_bool(Sink& out, const Spec& spec, bool b) {
    if (is_integer_type(spec.type)) {
        format_unsigned(out, spec, b ? 1 : 0);
        return;
    }
    write_text(out, spec, b ? kTrue : kFalse);
}

void format_string(Sink& out, const Spec& spec, std::string_view s) { write_text(out, spec, s); }

void format_cstring(Sink& out, const Spec& spec, const char* s) {
    if (spec.type == 'p') {
        format_address(out, spec, reinterpret_cast<std::uintptr_t>(s));
        return;
    }
    if (s == nullptr) {
        write_text(out, spec, kNull);
        return;
    }
    write_text(out, spec, detail::c_string_view(s));
}

void format_address(Sink& out, const Spec& spec, u64 raw) {
    write_number(out, spec, raw, false, NumberKind::address);
}

namespace detail {

std::string_view c_string_view(const char* s) {
    usize n = 0;
    while (s[n] != '\0') ++n;
    return std::string_view(s, n);
}

void vformat(Sink& out, std::string_view pattern, const Arg* args, usize count) {
    const usize n = pattern.size();
    usize next_arg = 0;
    usize literal = 0; // start of the literal run not yet written
    usize i = 0;
    while (i < n) {
        const char c = pattern[i];
        if (c != '{' && c != '}') {
            ++i;
            continue;
        }
        if (i + 1 < n && pattern[i + 1] == c) {
            // "{{" or "}}": write the run including one brace, skip the other.
            put(out, slice(pattern, literal, i + 1));
            i += 2;
            literal = i;
            continue;
        }
        if (c == '}') {
            ++i; // a lone '}' stays in the literal run
            continue;
        }

        put(out, slice(pattern, literal, i));
        usize close = i + 1;
        while (close < n && pattern[close] != '}') ++close;
        if (close == n) {
            write_invalid(out);
            return;
        }
        const std::string_view field = slice(pattern, i + 1, close);
        const Arg* arg = next_arg < count ? &args[next_arg] : nullptr;
        ++next_arg;

        Spec spec;
        bool valid = true;
        if (!field.empty()) {
            if (field[0] == ':') {
                Result<Spec> parsed = parse_spec(slice(field, 1, field.size()));
                valid = parsed.ok();
                if (valid) spec = parsed.value();
            } else {
                valid = false; // positional or named arguments
            }
        }
        if (valid && arg != nullptr) {
            format_arg(out, spec, *arg);
        } else {
            write_invalid(out);
        }
        i = close + 1;
        literal = i;
    }
    put(out, slice(pattern, literal, n));
}

} // namespace detail

} // namespace setwise::fmt
