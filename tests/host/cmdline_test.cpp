// The command-line tokenizer and the value grammar (core/cmdline.hpp).
#include "core/cmdline.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace setwise::core {
namespace {

struct Tok {
    std::string name;
    std::string value;
    bool has_value;
    TokenFlaw flaw;
    bool operator==(const Tok&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Tok& t) {
    return os << "{" << t.name << (t.has_value ? "=" : "") << t.value << " flaw "
              << static_cast<int>(t.flaw) << "}";
}

std::vector<Tok> tokenize(std::string_view s) {
    std::vector<Tok> out;
    CmdlineTokenizer t(s);
    while (auto tok = t.next()) {
        EXPECT_FALSE(tok->text.empty());
        // Every view points into the input.
        EXPECT_GE(tok->text.data(), s.data());
        EXPECT_LE(tok->text.data() + tok->text.size(), s.data() + s.size());
        out.push_back({std::string(tok->name), std::string(tok->value), tok->has_value, tok->flaw});
    }
    return out;
}

Tok flag(std::string n) { return {std::move(n), "", false, TokenFlaw::none}; }
Tok kv(std::string n, std::string v) { return {std::move(n), std::move(v), true, TokenFlaw::none}; }

TEST(CmdlineTokenizer, EmptyAndBlankGiveNoTokens) {
    EXPECT_TRUE(tokenize("").empty());
    EXPECT_TRUE(tokenize("   ").empty());
    EXPECT_TRUE(tokenize(" \t\n\r\v\f ").empty());
    EXPECT_TRUE(tokenize(std::string_view()).empty());
}

TEST(CmdlineTokenizer, SplitsOnAnyWhitespaceRun) {
    const std::vector<Tok> want{kv("a", "1"), flag("b"), kv("c", "x"), flag("d"), flag("e")};
    EXPECT_EQ(tokenize("a=1 b c=x d e"), want);
    EXPECT_EQ(tokenize("  a=1\tb   c=x\n\nd\r\ne  "), want);
    EXPECT_EQ(tokenize("\ta=1\v\fb\t\t c=x d\te"), want);
}

TEST(CmdlineTokenizer, NameValueSplitsAtFirstEquals) {
    EXPECT_EQ(tokenize("a=b=c"), std::vector<Tok>{kv("a", "b=c")});
    EXPECT_EQ(tokenize("a="), std::vector<Tok>{kv("a", "")});
    EXPECT_EQ(tokenize("=v"), std::vector<Tok>{kv("", "v")});
    EXPECT_EQ(tokenize("="), std::vector<Tok>{kv("", "")});
}

TEST(CmdlineTokenizer, TokenTextIsTheWholeToken) {
    CmdlineTokenizer t("  foo=\"a b\"  bar ");
    auto a = t.next();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->text, "foo=\"a b\"");
    EXPECT_EQ(a->value, "a b");
    auto b = t.next();
    ASSERT_TRUE(b);
    EXPECT_EQ(b->text, "bar");
    EXPECT_FALSE(t.next());
    EXPECT_FALSE(t.terminated());
}

TEST(CmdlineTokenizer, QuotedValueKeepsWhitespace) {
    EXPECT_EQ(tokenize("x=\"a b\tc\" y"), (std::vector<Tok>{kv("x", "a b\tc"), flag("y")}));
    EXPECT_EQ(tokenize("x=\"\""), std::vector<Tok>{kv("x", "")});
    EXPECT_EQ(tokenize("x=\"--\" y"), (std::vector<Tok>{kv("x", "--"), flag("y")}));
}

TEST(CmdlineTokenizer, UnterminatedQuoteSwallowsTheRest) {
    const auto toks = tokenize("a=1 x=\"b c d -- e");
    ASSERT_EQ(toks.size(), 2u);
    EXPECT_EQ(toks[0], kv("a", "1"));
    EXPECT_EQ(toks[1], (Tok{"x", "b c d -- e", true, TokenFlaw::unterminated_quote}));

    const auto bare = tokenize("x=\"");
    ASSERT_EQ(bare.size(), 1u);
    EXPECT_EQ(bare[0].flaw, TokenFlaw::unterminated_quote);

    const auto mid = tokenize("x=a\"b c");
    ASSERT_EQ(mid.size(), 1u);
    EXPECT_EQ(mid[0].flaw, TokenFlaw::unterminated_quote);

    const auto in_name = tokenize("a\"b c");
    ASSERT_EQ(in_name.size(), 1u);
    EXPECT_EQ(in_name[0].flaw, TokenFlaw::unterminated_quote);
}

TEST(CmdlineTokenizer, QuotesNotWrappingTheValueAreStray) {
    for (std::string_view s : {"x=a\"b\"", "x=\"a\"b", "x=\"a\"b\"\"", "\"x\"=1", "x\"\"", "\"\""}) {
        SCOPED_TRACE(s);
        const auto toks = tokenize(s);
        ASSERT_EQ(toks.size(), 1u);
        EXPECT_EQ(toks[0].flaw, TokenFlaw::stray_quote);
    }
    // A stray pair still quotes whitespace, so one bad token stays one token.
    const auto toks = tokenize("x=a\"b c\"d y");
    ASSERT_EQ(toks.size(), 2u);
    EXPECT_EQ(toks[0].flaw, TokenFlaw::stray_quote);
    EXPECT_EQ(toks[1], flag("y"));
}

TEST(CmdlineTokenizer, DoubleDashEndsOptions) {
    CmdlineTokenizer t("a=1 -- b=2  c");
    auto a = t.next();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->name, "a");
    EXPECT_FALSE(t.next());
    EXPECT_TRUE(t.terminated());
    EXPECT_EQ(t.remainder(), "b=2  c");
    EXPECT_FALSE(t.next()); // stays finished

    CmdlineTokenizer only("--");
    EXPECT_FALSE(only.next());
    EXPECT_TRUE(only.terminated());
    EXPECT_EQ(only.remainder(), "");

    // Only a token that is exactly "--" ends the options.
    EXPECT_EQ(tokenize("--x ---"), (std::vector<Tok>{flag("--x"), flag("---")}));
    EXPECT_EQ(tokenize("a=--"), std::vector<Tok>{kv("a", "--")});
}

TEST(CmdlineTokenizer, VeryLongTokens) {
    const std::string name(100000, 'n');
    const std::string value(200000, 'v');
    const std::string line = "a " + name + "=" + value + " b";
    const auto toks = tokenize(line);
    ASSERT_EQ(toks.size(), 3u);
    EXPECT_EQ(toks[1].name, name);
    EXPECT_EQ(toks[1].value, value);
    EXPECT_EQ(toks[2], flag("b"));
}

TEST(CmdlineTokenizer, NulIsAnOrdinaryByte) {
    const std::string line("a\0b=c\0 d", 8);
    const auto toks = tokenize(line);
    ASSERT_EQ(toks.size(), 2u);
    EXPECT_EQ(toks[0].name, std::string("a\0b", 3));
    EXPECT_EQ(toks[0].value, std::string("c\0", 2));
    EXPECT_EQ(toks[1], flag("d"));
}

TEST(OptionNames, DashAndUnderscoreAreEqual) {
    EXPECT_TRUE(option_names_equal("sw-tracking", "sw_tracking"));
    EXPECT_TRUE(option_names_equal("a_b-c", "a-b_c"));
    EXPECT_TRUE(option_names_equal("", ""));
    EXPECT_FALSE(option_names_equal("sw-tracking", "swtracking"));
    EXPECT_FALSE(option_names_equal("sw-tracking", "SW-tracking"));
    EXPECT_FALSE(option_names_equal("a-", "a"));
    EXPECT_FALSE(option_names_equal("a-", "a."));
}

TEST(ParseBool, EverySpelling) {
    for (std::string_view t : {"on", "yes", "true", "enable", "1"}) {
        SCOPED_TRACE(t);
        auto r = parse_bool(t);
        ASSERT_TRUE(r);
        EXPECT_TRUE(r.value());
    }
    for (std::string_view f : {"off", "no", "false", "disable", "0"}) {
        SCOPED_TRACE(f);
        auto r = parse_bool(f);
        ASSERT_TRUE(r);
        EXPECT_FALSE(r.value());
    }
}

TEST(ParseBool, RejectsEverythingElse) {
    for (std::string_view s : {"", "ON", "Yes", "TRUE", "maybe", "2", "00", "01", "o", "onn", " on", "on ",
                               "enabled", "disabled", "y", "n"}) {
        SCOPED_TRACE(s);
        auto r = parse_bool(s);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.status(), Status::invalid_argument);
    }
}

TEST(ParseUint, DecimalAndHex) {
    EXPECT_EQ(parse_uint("0").value(), 0u);
    EXPECT_EQ(parse_uint("7").value(), 7u);
    EXPECT_EQ(parse_uint("010").value(), 10u); // not octal
    EXPECT_EQ(parse_uint("0x10").value(), 16u);
    EXPECT_EQ(parse_uint("0X1f").value(), 31u);
    EXPECT_EQ(parse_uint("0xABCdef").value(), 0xabcdefu);
    EXPECT_EQ(parse_uint("18446744073709551615").value(), ~u64{0});
    EXPECT_EQ(parse_uint("0xffffffffffffffff").value(), ~u64{0});
    EXPECT_EQ(parse_uint("0x0000000000000000000001").value(), 1u);
}

TEST(ParseUint, RejectsMalformed) {
    for (std::string_view s : {"", "x", "0x", "0X", "-1", "+1", " 1", "1 ", "1k", "0x1g", "12a", "1_000",
                               "0b101", "1.5", "x10"}) {
        SCOPED_TRACE(s);
        auto r = parse_uint(s);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.status(), Status::invalid_argument);
    }
}

TEST(ParseUint, OverflowIsOutOfRange) {
    for (std::string_view s : {"18446744073709551616", "99999999999999999999", "0x10000000000000000",
                               "0xffffffffffffffffff"}) {
        SCOPED_TRACE(s);
        auto r = parse_uint(s);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.status(), Status::out_of_range);
    }
    // Not a number at all wins over too large.
    EXPECT_EQ(parse_uint("99999999999999999999z").status(), Status::invalid_argument);
}

TEST(ParseSize, EverySuffix) {
    EXPECT_EQ(parse_size("4096").value(), 4096u);
    EXPECT_EQ(parse_size("4096B").value(), 4096u);
    EXPECT_EQ(parse_size("4096b").value(), 4096u);
    EXPECT_EQ(parse_size("4K").value(), 4 * kKiB);
    EXPECT_EQ(parse_size("4k").value(), 4 * kKiB);
    EXPECT_EQ(parse_size("4KB").value(), 4 * kKiB);
    EXPECT_EQ(parse_size("4kb").value(), 4 * kKiB);
    EXPECT_EQ(parse_size("2M").value(), 2 * kMiB);
    EXPECT_EQ(parse_size("2m").value(), 2 * kMiB);
    EXPECT_EQ(parse_size("2MB").value(), 2 * kMiB);
    EXPECT_EQ(parse_size("3G").value(), 3 * kGiB);
    EXPECT_EQ(parse_size("3g").value(), 3 * kGiB);
    EXPECT_EQ(parse_size("3GB").value(), 3 * kGiB);
    EXPECT_EQ(parse_size("5T").value(), 5 * (kGiB << 10));
    EXPECT_EQ(parse_size("5t").value(), 5 * (kGiB << 10));
    EXPECT_EQ(parse_size("5TB").value(), 5 * (kGiB << 10));
    EXPECT_EQ(parse_size("0K").value(), 0u);
}

TEST(ParseSize, HexWithSuffix) {
    EXPECT_EQ(parse_size("0x1000").value(), 0x1000u);
    EXPECT_EQ(parse_size("0x10K").value(), 0x10u << 10);
    EXPECT_EQ(parse_size("0x10MB").value(), 0x10u << 20);
    // After hex digits, B is a digit, not the bytes suffix.
    EXPECT_EQ(parse_size("0x10B").value(), 0x10bu);
    EXPECT_EQ(parse_size("0x1b").value(), 0x1bu);
}

TEST(ParseSize, RejectsMalformed) {
    for (std::string_view s : {"", "K", "B", "KB", "0x", "0xK", "4KK", "4BK", "4KBB", "4 K", "4KiB", "4P", "4e3",
                               "-4K", "4K ", "1.5M"}) {
        SCOPED_TRACE(s);
        auto r = parse_size(s);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.status(), Status::invalid_argument);
    }
}

TEST(ParseSize, OverflowIsOutOfRange) {
    EXPECT_EQ(parse_size("16777215T").value(), u64{16777215} << 40); // largest T that fits
    EXPECT_EQ(parse_size("17179869183G").value(), u64{17179869183} << 30);
    for (std::string_view s : {"16777216T", "17179869184G", "17592186044416M", "18014398509481984K",
                               "99999999999999999999", "0xffffffffffffffffff", "0xffffffffffffffffK",
                               "18446744073709551616B"}) {
        SCOPED_TRACE(s);
        auto r = parse_size(s);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.status(), Status::out_of_range);
    }
    EXPECT_EQ(parse_size("99999999999999999999X").status(), Status::invalid_argument);
}

TEST(StringHelpers, ClampInsteadOfThrowing) {
    EXPECT_EQ(head("abc", 2), "ab");
    EXPECT_EQ(head("abc", 9), "abc");
    EXPECT_EQ(tail_from("abc", 1), "bc");
    EXPECT_EQ(tail_from("abc", 9), "");
    EXPECT_EQ(slice("abcdef", 2, 2), "cd");
    EXPECT_EQ(slice("abcdef", 4, 9), "ef");
    EXPECT_EQ(slice("abc", 7, 1), "");
}

} // namespace
} // namespace setwise::core
