// core/format: the format-string grammar, every supported argument type,
// the run-time mismatch policy ("{?}") and BufferSink's bounds.
#include "core/format.hpp"

#include <gtest/gtest.h>

#include <climits>
#include <cstdint>
#include <cstdio>
#include <string>

namespace setwise {
namespace {

enum class Colour : u8 { red, green };

constexpr std::string_view colour_name(Colour c) {
    switch (c) {
    case Colour::red: return "red";
    case Colour::green: return "green";
    }
    return "?";
}

struct Pair {
    int a;
    int b;
};

enum Plain { plain_zero };

} // namespace

template <>
struct fmt::Formatter<Colour> {
    static void format(fmt::Sink& out, const fmt::Spec& spec, const Colour& c) {
        fmt::format_string(out, spec, colour_name(c));
    }
};

// A Formatter that formats through format_to again (nesting).
template <>
struct fmt::Formatter<Pair> {
    static void format(fmt::Sink& out, const fmt::Spec&, const Pair& p) {
        fmt::format_to(out, "({}, {})", p.a, p.b);
    }
};

namespace {

using fmt::format;

template <typename... Args>
std::string F(std::string_view pattern, const Args&... args) {
    char buf[512];
    std::string_view s = format(buf, sizeof buf, pattern, args...);
    EXPECT_EQ(s.data(), buf);
    EXPECT_EQ(buf[s.size()], '\0') << "not NUL-terminated after the text";
    return std::string(s);
}

// Records each write, to check the pieces a sink is given.
class RecordingSink final : public fmt::Sink {
public:
    void write(std::string_view s) override {
        ++writes;
        if (s.empty()) ++empty_writes;
        text.append(s);
    }
    std::string text;
    int writes = 0;
    int empty_writes = 0;
};

// --- format string grammar ---------------------------------------------------

TEST(Format, LiteralsAndEscapes) {
    EXPECT_EQ(F(""), "");
    EXPECT_EQ(F("plain text"), "plain text");
    EXPECT_EQ(F("{{}}"), "{}");
    EXPECT_EQ(F("a{{b}}c"), "a{b}c");
    EXPECT_EQ(F("{{{}}}", 7), "{7}");
    EXPECT_EQ(F("}}{{"), "}{");
}

TEST(Format, LoneClosingBraceIsLiteral) {
    EXPECT_EQ(F("a}b"), "a}b");
    EXPECT_EQ(F("}"), "}");
    EXPECT_EQ(F("{} }", 1), "1 }");
}

TEST(Format, ArgumentsInOrder) {
    EXPECT_EQ(F("{}-{}-{}", 1, 2, 3), "1-2-3");
    EXPECT_EQ(F("{}{}", "ab", "cd"), "abcd");
    EXPECT_EQ(F("{:}", 5), "5"); // empty spec after ':'
}

TEST(Format, NoEmptyWrites) {
    RecordingSink sink;
    fmt::format_to(sink, "{}{}{{x}}{}{:05}{:<3}{:>3}", 1, 2, "", 7, "", std::string_view());
    EXPECT_EQ(sink.text, "12{x}00007      ");
    EXPECT_EQ(sink.empty_writes, 0);
}

// --- integers ----------------------------------------------------------------

TEST(Format, IntegerTypes) {
    EXPECT_EQ(F("{}", 0), "0");
    EXPECT_EQ(F("{}", -1), "-1");
    EXPECT_EQ(F("{}", INT8_MIN), "-128");
    EXPECT_EQ(F("{}", static_cast<i64>(INT16_MIN)), "-32768");
    EXPECT_EQ(F("{}", INT32_MIN), "-2147483648");
    EXPECT_EQ(F("{}", INT64_MIN), "-9223372036854775808");
    EXPECT_EQ(F("{}", INT64_MAX), "9223372036854775807");
    EXPECT_EQ(F("{}", UINT64_MAX), "18446744073709551615");
    EXPECT_EQ(F("{}", static_cast<short>(-300)), "-300");
    EXPECT_EQ(F("{}", static_cast<unsigned short>(65535)), "65535");
    EXPECT_EQ(F("{}", 42L), "42");
    EXPECT_EQ(F("{}", 42ULL), "42");
    EXPECT_EQ(F("{}", usize{7}), "7");
}

TEST(Format, ByteTypesAreNumbers) {
    // u8 is unsigned char: a number, never a raw byte on the console.
    EXPECT_EQ(F("{}", u8{3}), "3");
    EXPECT_EQ(F("{}", u8{255}), "255");
    EXPECT_EQ(F("{}", static_cast<signed char>(-5)), "-5");
    EXPECT_EQ(F("{:x}", u8{0xab}), "ab");
}

TEST(Format, IntegerPresentations) {
    EXPECT_EQ(F("{:d}", 255), "255");
    EXPECT_EQ(F("{:x}", 255), "ff");
    EXPECT_EQ(F("{:X}", 255), "FF");
    EXPECT_EQ(F("{:b}", 5), "101");
    EXPECT_EQ(F("{:o}", 8), "10");
    EXPECT_EQ(F("{:#x}", 255), "0xff");
    EXPECT_EQ(F("{:#X}", 255), "0XFF");
    EXPECT_EQ(F("{:#b}", 5), "0b101");
    EXPECT_EQ(F("{:#o}", 8), "010");
    EXPECT_EQ(F("{:#o}", 0), "0");
    EXPECT_EQ(F("{:#d}", 12), "12");
    EXPECT_EQ(F("{:x}", -255), "-ff");
    EXPECT_EQ(F("{:#x}", -255), "-0xff");
    EXPECT_EQ(F("{:x}", UINT64_MAX), "ffffffffffffffff");
    EXPECT_EQ(F("{:#b}", UINT64_MAX), "0b" + std::string(64, '1'));
    EXPECT_EQ(F("{:#b}", INT64_MIN), "-0b1" + std::string(63, '0'));
    EXPECT_EQ(F("{:o}", UINT64_MAX), "1777777777777777777777");
}

TEST(Format, IntegerAsCharacter) {
    EXPECT_EQ(F("{:c}", 65), "A");
    EXPECT_EQ(F("{:c}", u8{'z'}), "z");
    EXPECT_EQ(F("{:3c}", 65), "A  ");
    EXPECT_EQ(F("{:c}", 255), "\xff");
    EXPECT_EQ(F("{:c}", -128), "\x80");
    EXPECT_EQ(F("{:c}", 256), "{?}");
    EXPECT_EQ(F("{:c}", -129), "{?}");
    EXPECT_EQ(F("{:#c}", 65), "{?}");
    EXPECT_EQ(F("{:05c}", 65), "{?}");
}

TEST(Format, WidthAlignFill) {
    EXPECT_EQ(F("{:5}", 42), "   42");
    EXPECT_EQ(F("{:<5}", 42), "42   ");
    EXPECT_EQ(F("{:>5}", 42), "   42");
    EXPECT_EQ(F("{:^5}", 42), " 42  ");
    EXPECT_EQ(F("{:*^6}", 42), "**42**");
    EXPECT_EQ(F("{:*^7}", "abc"), "**abc**");
    EXPECT_EQ(F("{:*^6}", "abc"), "*abc**");
    EXPECT_EQ(F("{:_<4}", 'x'), "x___");
    EXPECT_EQ(F("{:0>5}", 42), "00042"); // '0' as a fill character
    EXPECT_EQ(F("{:1}", 12345), "12345"); // width never truncates
    EXPECT_EQ(F("{:>4x}", 255), "  ff");
    EXPECT_EQ(F("{:-<8}|", ""), "--------|");
}

TEST(Format, ZeroPadding) {
    EXPECT_EQ(F("{:05}", 42), "00042");
    EXPECT_EQ(F("{:05}", -42), "-0042");
    EXPECT_EQ(F("{:08x}", 0xbeef), "0000beef");
    EXPECT_EQ(F("{:#010x}", 0x1234), "0x00001234");
    EXPECT_EQ(F("{:#06x}", -1), "-0x001");
    EXPECT_EQ(F("{:#010b}", 5), "0b00000101");
    EXPECT_EQ(F("{:02}", 12345), "12345");
    // As std::format, an explicit alignment turns '0' off.
    EXPECT_EQ(F("{:>05}", 42), "   42");
    EXPECT_EQ(F("{:<05}", 42), "42   ");
}

TEST(Format, WideFieldsPadInChunks) {
    RecordingSink sink;
    fmt::format_to(sink, "{:256}", 1);
    EXPECT_EQ(sink.text, std::string(255, ' ') + "1");
    EXPECT_GT(sink.writes, 2);
    EXPECT_EQ(F("{:0256x}", 1), std::string(255, '0') + "1");
}

// --- characters, bool, text ----------------------------------------------------

TEST(Format, Characters) {
    EXPECT_EQ(F("{}", 'A'), "A");
    EXPECT_EQ(F("{:c}", 'A'), "A");
    EXPECT_EQ(F("{:d}", 'A'), "65");
    EXPECT_EQ(F("{:x}", 'A'), "41");
    EXPECT_EQ(F("{:#04x}", 'A'), "0x41");
    // The code unit, the same whether char is signed (host) or not (AArch64).
    EXPECT_EQ(F("{:d}", static_cast<char>(0xc3)), "195");
    EXPECT_EQ(F("{:>3}", 'A'), "  A");
    EXPECT_EQ(F("{:s}", 'A'), "{?}");
    EXPECT_EQ(F("{:p}", 'A'), "{?}");
    EXPECT_EQ(F("{:03}", 'A'), "{?}");
}

TEST(Format, Bool) {
    EXPECT_EQ(F("{}", true), "true");
    EXPECT_EQ(F("{}", false), "false");
    EXPECT_EQ(F("{:s}", true), "true");
    EXPECT_EQ(F("{:d}", true), "1");
    EXPECT_EQ(F("{:x}", false), "0");
    EXPECT_EQ(F("{:>6}", true), "  true");
    EXPECT_EQ(F("{:6}", true), "true  ");
    EXPECT_EQ(F("{:c}", true), "{?}");
    EXPECT_EQ(F("{:p}", true), "{?}");
    EXPECT_EQ(F("{:06}", true), "{?}");
}

TEST(Format, CStrings) {
    const char* s = "hello";
    char mutable_buf[] = "mut";
    char* m = mutable_buf;
    const char* null = nullptr;
    EXPECT_EQ(F("{}", s), "hello");
    EXPECT_EQ(F("{}", m), "mut");
    EXPECT_EQ(F("{:s}", s), "hello");
    EXPECT_EQ(F("{:8}|", s), "hello   |");
    EXPECT_EQ(F("{:>8}", s), "   hello");
    EXPECT_EQ(F("{}", null), "(null)");
    EXPECT_EQ(F("{:>8}", null), "  (null)");
    EXPECT_EQ(F("{:p}", null), "0x0");
    EXPECT_EQ(F("{:p}", s), F("{}", static_cast<const void*>(s)));
    EXPECT_EQ(F("{:x}", s), "{?}");
    EXPECT_EQ(F("{:08}", s), "{?}");
    EXPECT_EQ(F("{:#}", s), "{?}");
    EXPECT_EQ(F("{:c}", s), "{?}");
}

TEST(Format, StringViews) {
    std::string_view whole = "abcdef";
    std::string_view middle = whole.substr(1, 3); // not NUL-terminated
    EXPECT_EQ(F("{}", middle), "bcd");
    EXPECT_EQ(F("[{:5}]", middle), "[bcd  ]");
    EXPECT_EQ(F("[{}]", std::string_view()), "[]");
    std::string_view with_nul("a\0b", 3);
    EXPECT_EQ(F("{}", with_nul), std::string("a\0b", 3));
    EXPECT_EQ(F("{:d}", middle), "{?}");
    EXPECT_EQ(F("{:p}", middle), "{?}");
}

TEST(Format, CharArrays) {
    EXPECT_EQ(F("{}", "literal"), "literal");
    char name[16] = "vcpu0";
    EXPECT_EQ(F("[{}]", name), "[vcpu0]"); // stops at the first NUL
    char full[3] = {'a', 'b', 'c'};         // no NUL: bounded by the array
    EXPECT_EQ(F("[{}]", full), "[abc]");
    const char cname[] = "const";
    EXPECT_EQ(F("{:>6}", cname), " const");
}

// --- pointers, addresses, frames, Status --------------------------------------

TEST(Format, Pointers) {
    int x = 0;
    const auto raw = reinterpret_cast<std::uintptr_t>(&x);
    char expect[32];
    std::snprintf(expect, sizeof expect, "0x%llx", static_cast<unsigned long long>(raw));
    EXPECT_EQ(F("{}", &x), expect);
    EXPECT_EQ(F("{:p}", &x), expect);
    EXPECT_EQ(F("{}", static_cast<const void*>(&x)), expect);
    EXPECT_EQ(F("{}", nullptr), "0x0");
    EXPECT_EQ(F("{}", static_cast<int*>(nullptr)), "0x0");
    EXPECT_EQ(F("{:018p}", reinterpret_cast<void*>(0x1234)), "0x0000000000001234");
    EXPECT_EQ(F("{:x}", reinterpret_cast<void*>(0xabc)), "abc");
    EXPECT_EQ(F("{:s}", &x), "{?}");
    EXPECT_EQ(F("{:c}", &x), "{?}");
    const u8 bytes[1] = {0};
    EXPECT_EQ(F("{}", static_cast<const u8*>(bytes))[0], '0'); // a pointer, not text
}

TEST(Format, Addresses) {
    EXPECT_EQ(F("{}", Pa(0x40085000)), "0x40085000");
    EXPECT_EQ(F("{}", Ipa(0)), "0x0");
    EXPECT_EQ(F("{}", Va(UINT64_MAX)), "0xffffffffffffffff");
    EXPECT_EQ(F("{:018}", Pa(0x40085000)), "0x0000000040085000");
    EXPECT_EQ(F("{:#018x}", Ipa(0x40085000)), "0x0000000040085000");
    EXPECT_EQ(F("{:016x}", Ipa(0x40085000)), "0000000040085000");
    EXPECT_EQ(F("{:X}", Va(0xabc)), "ABC");
    EXPECT_EQ(F("{:d}", Pa(4096)), "4096");
    EXPECT_EQ(F("{:>12}|", Pa(0x1000)), "      0x1000|");
    EXPECT_EQ(F("{:<12}|", Pa(0x1000)), "0x1000      |");
    EXPECT_EQ(F("{:s}", Pa(0x1000)), "{?}");
    EXPECT_EQ(F("{:c}", Pa(0x41)), "{?}");
}

TEST(Format, FrameNumbers) {
    EXPECT_EQ(F("{}", Pfn::of(Pa(0x40085000))), "0x40085");
    EXPECT_EQ(F("{}", Gfn(7)), "0x7");
    EXPECT_EQ(F("{:d}", Gfn(4096)), "4096");
    EXPECT_EQ(F("{:08x}", Pfn(0x40085)), "00040085");
}

TEST(Format, Status) {
    EXPECT_EQ(F("{}", Status::ok), "ok");
    EXPECT_EQ(F("{}", Status::no_memory), "out of memory");
    EXPECT_EQ(F("[{:>10}]", Status::busy), "[      busy]");
    EXPECT_EQ(F("{:d}", Status::ok), "{?}");
}

// --- user types --------------------------------------------------------------

TEST(Format, ScopedEnumThroughFormatter) {
    EXPECT_EQ(F("{}", Colour::green), "green");
    EXPECT_EQ(F("{:>5}|{:<5}|", Colour::red, Colour::red), "  red|red  |");
    EXPECT_EQ(F("{:x}", Colour::red), "{?}");
}

TEST(Format, NestedFormatter) {
    EXPECT_EQ(F("p={} q={}", Pair{1, -2}, Pair{3, 4}), "p=(1, -2) q=(3, 4)");
}

TEST(Format, BuiltinFormattersCompose) {
    char buf[32];
    fmt::BufferSink sink(buf, sizeof buf);
    fmt::Spec spec;
    spec.type = 'x';
    fmt::Formatter<u32>::format(sink, spec, 0xbeefu);
    fmt::Formatter<bool>::format(sink, fmt::Spec{}, true);
    fmt::Formatter<Pa>::format(sink, fmt::Spec{}, Pa(0x10));
    EXPECT_EQ(sink.view(), "beeftrue0x10");
}

// What compiles: enums without a Formatter, floating point and wide
// characters are rejected at compile time, not printed as something else.
template <typename T>
constexpr bool formats = requires(fmt::Sink& s, const T& v) { fmt::format_to(s, "{}", v); };
static_assert(formats<int> && formats<u8> && formats<char> && formats<bool>);
static_assert(formats<const char*> && formats<std::string_view> && formats<char[4]>);
static_assert(formats<void*> && formats<std::nullptr_t> && formats<Pa> && formats<Gfn>);
static_assert(formats<Status> && formats<Colour> && formats<const volatile int>);
static_assert(!formats<Plain>);
static_assert(!formats<double>);
static_assert(!formats<float>);
static_assert(!formats<char16_t>);
static_assert(!formats<wchar_t>);
static_assert(!formats<int[4]>);
static_assert(!formats<std::string>);
static_assert(!formats<Result<int>>);

// --- run-time mismatches --------------------------------------------------------

TEST(FormatErrors, TooFewArguments) {
    EXPECT_EQ(F("{}"), "{?}");
    EXPECT_EQ(F("{} {} {}", 1), "1 {?} {?}");
    EXPECT_EQ(F("a{:x}b", 255, 1), "affb");
}

TEST(FormatErrors, TooManyArgumentsIgnored) {
    EXPECT_EQ(F("x", 1, 2), "x");
    EXPECT_EQ(F("{}", 1, "two", Pa(3)), "1");
}

TEST(FormatErrors, MalformedSpecs) {
    for (const char* bad : {"{:q}", "{0}", "{1:x}", "{name}", "{:+d}", "{: d}", "{:-}", "{:.3}",
                            "{:5.2}", "{:xx}", "{:#0#x}", "{:<<<}", "{:{}", "{:L}",
                            "{:B}", "{:257}", "{:99999999999999999999}"}) {
        EXPECT_EQ(F(bad, 1), "{?}") << bad;
    }
}

TEST(FormatErrors, MalformedSpecConsumesItsArgument) {
    EXPECT_EQ(F("{:q} {}", 1, 2), "{?} 2");
    EXPECT_EQ(F("{0} {}", 1, 2), "{?} 2");
}

TEST(FormatErrors, NestedBraceInsideSpec) {
    // The placeholder ends at the first '}'; what follows is literal.
    EXPECT_EQ(F("{:{}}x", 1, 2), "{?}}x");
}

TEST(FormatErrors, BraceCannotBeFill) {
    // As in std::format a '}' cannot be a fill: it ends the placeholder.
    EXPECT_EQ(F("{:}<5}", 1), "1<5}");
}

TEST(FormatErrors, UnterminatedPlaceholderStops) {
    EXPECT_EQ(F("ab{", 1), "ab{?}");
    EXPECT_EQ(F("ab{:x", 1), "ab{?}");
    EXPECT_EQ(F("ab{:x {}", 1, 2), "ab{?}"); // '{' is not a spec character
}

TEST(FormatErrors, WidthLimit) {
    EXPECT_EQ(F("{:256}", 1).size(), 256u);
    EXPECT_EQ(F("{:257}", 1), "{?}");
}

// --- parse_spec ------------------------------------------------------------------

TEST(ParseSpec, Fields) {
    auto r = fmt::parse_spec("*^#010x");
    ASSERT_TRUE(r.ok());
    const fmt::Spec s = r.value();
    EXPECT_EQ(s.fill, '*');
    EXPECT_EQ(s.align, fmt::Align::center);
    EXPECT_TRUE(s.alt);
    EXPECT_FALSE(s.zero); // ignored with an explicit alignment
    EXPECT_EQ(s.width, 10);
    EXPECT_EQ(s.type, 'x');

    auto z = fmt::parse_spec("#08b");
    ASSERT_TRUE(z.ok());
    EXPECT_TRUE(z.value().zero);
    EXPECT_EQ(z.value().align, fmt::Align::none);
    EXPECT_EQ(z.value().width, 8);
    EXPECT_EQ(z.value().type, 'b');

    auto empty = fmt::parse_spec("");
    ASSERT_TRUE(empty.ok());
    EXPECT_EQ(empty.value(), fmt::Spec{});

    auto align_only = fmt::parse_spec("<");
    ASSERT_TRUE(align_only.ok());
    EXPECT_EQ(align_only.value().align, fmt::Align::left);
    EXPECT_EQ(align_only.value().fill, ' ');

    auto fill_is_align_char = fmt::parse_spec("<>");
    ASSERT_TRUE(fill_is_align_char.ok());
    EXPECT_EQ(fill_is_align_char.value().fill, '<');
    EXPECT_EQ(fill_is_align_char.value().align, fmt::Align::right);
}

TEST(ParseSpec, Errors) {
    EXPECT_EQ(fmt::parse_spec("q").status(), Status::invalid_argument);
    EXPECT_EQ(fmt::parse_spec("{<").status(), Status::invalid_argument);
    EXPECT_EQ(fmt::parse_spec("}>").status(), Status::invalid_argument);
    EXPECT_EQ(fmt::parse_spec("5x5").status(), Status::invalid_argument);
    EXPECT_EQ(fmt::parse_spec("0#x").status(), Status::invalid_argument); // order is fixed
    EXPECT_EQ(fmt::parse_spec("256").status(), Status::ok);
    EXPECT_EQ(fmt::parse_spec("257").status(), Status::out_of_range);
    EXPECT_EQ(fmt::parse_spec("4294967296").status(), Status::out_of_range); // no u32 wrap
}

// --- BufferSink ------------------------------------------------------------------

TEST(BufferSink, ExactFitIsNotTruncated) {
    char buf[4];
    fmt::BufferSink sink(buf, sizeof buf);
    sink.write("abc");
    EXPECT_EQ(sink.view(), "abc");
    EXPECT_EQ(buf[3], '\0');
    EXPECT_FALSE(sink.truncated());
    sink.write("");
    EXPECT_FALSE(sink.truncated());
    sink.write("d");
    EXPECT_TRUE(sink.truncated());
    EXPECT_EQ(sink.view(), "abc");
}

TEST(BufferSink, TruncatesAndTerminates) {
    char buf[8];
    for (char& c : buf) c = 'X';
    fmt::BufferSink sink(buf, sizeof buf);
    EXPECT_EQ(buf[0], '\0'); // terminated before anything is written
    EXPECT_EQ(sink.view(), "");
    sink.write("0123");
    sink.write("4567");
    EXPECT_EQ(sink.view(), "0123456");
    EXPECT_EQ(buf[7], '\0');
    EXPECT_TRUE(sink.truncated());
}

TEST(BufferSink, SizeOneHoldsOnlyTheTerminator) {
    char buf[2] = {'X', 'Y'};
    fmt::BufferSink sink(buf, 1);
    sink.write("a");
    EXPECT_EQ(sink.view(), "");
    EXPECT_EQ(buf[0], '\0');
    EXPECT_EQ(buf[1], 'Y');
    EXPECT_TRUE(sink.truncated());
}

TEST(BufferSink, SizeZeroNeverTouchesTheBuffer) {
    char guard = 'G';
    fmt::BufferSink sink(&guard, 0);
    sink.write("abc");
    EXPECT_EQ(guard, 'G');
    EXPECT_EQ(sink.view(), "");
    EXPECT_TRUE(sink.truncated());

    fmt::BufferSink null_sink(nullptr, 0);
    null_sink.write("abc");
    EXPECT_TRUE(null_sink.truncated());
    EXPECT_EQ(fmt::format(nullptr, 0, "{}", 12345), "");
}

TEST(BufferSink, FormatReturnsTheBufferText) {
    char buf[6];
    std::string_view s = format(buf, sizeof buf, "{}-{}", 123, 456);
    EXPECT_EQ(s, "123-4");
    EXPECT_EQ(s.data(), buf);
    EXPECT_EQ(buf[5], '\0');
}

TEST(BufferSink, TruncationInsidePadding) {
    char buf[5];
    EXPECT_EQ(format(buf, sizeof buf, "{:>10}", 1), "    ");
    EXPECT_EQ(format(buf, sizeof buf, "{:010}", -1), "-000");
}

} // namespace
} // namespace setwise
