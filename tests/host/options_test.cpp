// The option table, parsing into Options, warnings, and banner text
// (core/options.hpp).
#include "core/options.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace setwise::core {
namespace {

struct Recorded {
    OptionWarningKind kind;
    std::string option;
    std::string value;
    std::string message;
};

class RecordingSink final : public WarningSink {
public:
    void warn(const OptionWarning& w) override {
        // The contract every sink may rely on.
        EXPECT_LT(w.message_len, OptionWarning::kMessageCapacity);
        EXPECT_EQ(w.message_buf[w.message_len], '\0');
        EXPECT_EQ(std::strlen(w.c_str()), w.message_len);
        EXPECT_EQ(w.message().size(), w.message_len);
        for (char c : w.message()) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << w.c_str();
        got.push_back({w.kind, std::string(w.option), std::string(w.value), std::string(w.message())});
    }

    std::vector<Recorded> got;
};

struct Parsed {
    Options opts;
    std::vector<Recorded> warnings;
};

Parsed parse(std::string_view line) {
    RecordingSink sink;
    Options opts{};
    const usize n = apply_options(line, opts, sink);
    EXPECT_EQ(n, sink.got.size());
    return {opts, std::move(sink.got)};
}

bool same(const Options& a, const Options& b) {
    return a.loglvl == b.loglvl && a.sw_tracking == b.sw_tracking && a.maxcpus == b.maxcpus &&
           a.console_rate == b.console_rate && a.console_burst == b.console_burst;
}

// ---------------------------------------------------------------------------
// The table

TEST(OptionTable, DefaultsComeFromTheStruct) {
    const Options d{};
    EXPECT_EQ(d.loglvl, LogThreshold::info);
    EXPECT_TRUE(d.sw_tracking);
    EXPECT_EQ(d.maxcpus, 0u);
    for (const OptionDesc& opt : option_table()) {
        SCOPED_TRACE(opt.name);
        EXPECT_EQ(opt.default_raw, opt.load(d));
        EXPECT_FALSE(opt.help.empty());
    }
}

TEST(OptionTable, DeclaresExactlyTheseOptions) {
    ASSERT_EQ(option_table().size(), 10u);
    const OptionDesc* loglvl = find_option("loglvl");
    ASSERT_NE(loglvl, nullptr);
    EXPECT_EQ(loglvl->kind, OptionKind::enumeration);
    EXPECT_EQ(loglvl->choices.size(), 6u);

    const OptionDesc* tracking = find_option("sw-tracking");
    ASSERT_NE(tracking, nullptr);
    EXPECT_EQ(tracking->kind, OptionKind::boolean);

    const OptionDesc* maxcpus = find_option("maxcpus");
    ASSERT_NE(maxcpus, nullptr);
    EXPECT_EQ(maxcpus->kind, OptionKind::uint);
    EXPECT_EQ(maxcpus->min, 1u);
    EXPECT_EQ(maxcpus->max, 64u);
    EXPECT_EQ(maxcpus->zero_text, "all");

    const OptionDesc* slice = find_option("sched-slice");
    ASSERT_NE(slice, nullptr);
    EXPECT_EQ(slice->kind, OptionKind::uint);
    EXPECT_EQ(slice->min, 100u);
    EXPECT_EQ(slice->max, 1'000'000u);

    const OptionDesc* rate = find_option("console-rate");
    ASSERT_NE(rate, nullptr);
    EXPECT_EQ(rate->kind, OptionKind::size);
    EXPECT_EQ(rate->min, 128u);
    EXPECT_EQ(rate->max, u64{1} << 30);
    EXPECT_EQ(rate->zero_text, "unlimited");

    const OptionDesc* burst = find_option("console-burst");
    ASSERT_NE(burst, nullptr);
    EXPECT_EQ(burst->kind, OptionKind::size);
    EXPECT_EQ(burst->min, 256u);
    EXPECT_EQ(burst->max, u64{1} << 30);
    EXPECT_EQ(burst->zero_text, "");

    const OptionDesc* selftest = find_option("selftest");
    ASSERT_NE(selftest, nullptr);
    EXPECT_EQ(selftest->kind, OptionKind::enumeration);
    ASSERT_EQ(selftest->choices.size(), 3u);
    EXPECT_EQ(selftest->choices[0], "none");
    EXPECT_EQ(selftest->choices[1], "el2-fault");
}

TEST(OptionTable, FindTreatsDashAndUnderscoreAlike) {
    EXPECT_EQ(find_option("sw_tracking"), find_option("sw-tracking"));
    EXPECT_EQ(find_option("sw-tracking"), &option_table()[1]);
    EXPECT_EQ(find_option("swtracking"), nullptr);
    EXPECT_EQ(find_option("LOGLVL"), nullptr);
    EXPECT_EQ(find_option(""), nullptr);
}

// Each option has its own section in the user documentation.
TEST(OptionTable, EveryOptionIsDocumented) {
    // SETWISE_TEST_DATA is <source>/tests/host/data, which need not exist:
    // strip it lexically rather than through "..".
    std::string root = SETWISE_TEST_DATA;
    const std::string tail = "/tests/host/data";
    ASSERT_EQ(root.substr(root.size() - tail.size()), tail);
    root.resize(root.size() - tail.size());
    std::ifstream f(root + "/docs/command-line.md");
    ASSERT_TRUE(f.is_open()) << "docs/command-line.md not found";
    std::stringstream ss;
    ss << f.rdbuf();
    const std::string doc = ss.str();
    for (const OptionDesc& opt : option_table()) {
        const std::string heading = "### `" + std::string(opt.name) + "`";
        EXPECT_NE(doc.find(heading), std::string::npos) << "missing " << heading;
    }
}

// ---------------------------------------------------------------------------
// Good input

TEST(ParseOptions, EmptyLineKeepsDefaults) {
    for (std::string_view s : {"", " ", "\t\n", "--", "-- foo=bar"}) {
        const Parsed p = parse(s);
        EXPECT_TRUE(same(p.opts, Options{}));
        EXPECT_TRUE(p.warnings.empty());
    }
}

TEST(ParseOptions, SetsEachKind) {
    const Parsed p = parse("loglvl=debug sw-tracking=off maxcpus=4");
    EXPECT_TRUE(p.warnings.empty());
    EXPECT_EQ(p.opts.loglvl, LogThreshold::debug);
    EXPECT_FALSE(p.opts.sw_tracking);
    EXPECT_EQ(p.opts.maxcpus, 4u);
}

TEST(ParseOptions, EveryLogThreshold) {
    const LogThreshold want[] = {LogThreshold::none, LogThreshold::error, LogThreshold::warning,
                                 LogThreshold::info, LogThreshold::debug, LogThreshold::all};
    for (usize i = 0; i < kLogThresholdNames.size(); ++i) {
        const Parsed p = parse("loglvl=" + std::string(kLogThresholdNames[i]));
        EXPECT_TRUE(p.warnings.empty());
        EXPECT_EQ(p.opts.loglvl, want[i]);
    }
}

TEST(ParseOptions, EveryBooleanSpelling) {
    for (std::string_view t : {"on", "yes", "true", "enable", "1"}) {
        Options opts{};
        opts.sw_tracking = false;
        RecordingSink sink;
        apply_options("sw-tracking=" + std::string(t), opts, sink);
        EXPECT_TRUE(sink.got.empty());
        EXPECT_TRUE(opts.sw_tracking) << t;
    }
    for (std::string_view f : {"off", "no", "false", "disable", "0"}) {
        const Parsed p = parse("sw-tracking=" + std::string(f));
        EXPECT_TRUE(p.warnings.empty());
        EXPECT_FALSE(p.opts.sw_tracking) << f;
    }
}

TEST(ParseOptions, BareNameIsTrueNoPrefixIsFalse) {
    EXPECT_FALSE(parse("no-sw-tracking").opts.sw_tracking);
    EXPECT_FALSE(parse("no_sw_tracking").opts.sw_tracking);
    EXPECT_FALSE(parse("no-sw_tracking").opts.sw_tracking);
    EXPECT_TRUE(parse("no-sw-tracking sw-tracking").opts.sw_tracking);
    EXPECT_TRUE(parse("no-sw-tracking").warnings.empty());

    Options opts{};
    opts.sw_tracking = false;
    RecordingSink sink;
    apply_options("sw-tracking", opts, sink);
    EXPECT_TRUE(sink.got.empty());
    EXPECT_TRUE(opts.sw_tracking);
}

TEST(ParseOptions, DashAndUnderscoreInNames) {
    const Parsed p = parse("sw_tracking=off");
    EXPECT_TRUE(p.warnings.empty());
    EXPECT_FALSE(p.opts.sw_tracking);
    // Only in names: values are compared exactly.
    EXPECT_EQ(parse("sw-tracking=o_n").warnings.size(), 1u);
}

TEST(ParseOptions, LastOneWins) {
    const Parsed p = parse("maxcpus=2 loglvl=all maxcpus=8 loglvl=error sw-tracking=off sw_tracking=on");
    EXPECT_TRUE(p.warnings.empty());
    EXPECT_EQ(p.opts.maxcpus, 8u);
    EXPECT_EQ(p.opts.loglvl, LogThreshold::error);
    EXPECT_TRUE(p.opts.sw_tracking);
}

TEST(ParseOptions, HexIntegers) {
    EXPECT_EQ(parse("maxcpus=0x10").opts.maxcpus, 16u);
    EXPECT_EQ(parse("maxcpus=0X40").opts.maxcpus, 64u);
}

TEST(ParseOptions, MaxcpusAllIsTheDefault) {
    const Parsed p = parse("maxcpus=4 maxcpus=all");
    EXPECT_TRUE(p.warnings.empty());
    EXPECT_EQ(p.opts.maxcpus, 0u);
}

TEST(ParseOptions, RangeBoundsAreInclusive) {
    EXPECT_EQ(parse("maxcpus=1").opts.maxcpus, 1u);
    EXPECT_EQ(parse("maxcpus=64").opts.maxcpus, 64u);
    EXPECT_TRUE(parse("maxcpus=1 maxcpus=64").warnings.empty());
}

TEST(ParseOptions, QuotedValue) {
    const Parsed p = parse("loglvl=\"debug\" maxcpus=\"3\"");
    EXPECT_TRUE(p.warnings.empty());
    EXPECT_EQ(p.opts.loglvl, LogThreshold::debug);
    EXPECT_EQ(p.opts.maxcpus, 3u);
}

TEST(ParseOptions, DoubleDashEndsOptions) {
    const Parsed p = parse("maxcpus=2 -- maxcpus=5 garbage no-such=thing");
    EXPECT_TRUE(p.warnings.empty());
    EXPECT_EQ(p.opts.maxcpus, 2u);
}

TEST(ParseOptions, ParseOptionsStartsFromDefaults) {
    RecordingSink sink;
    const Options o = parse_options("loglvl=none", sink);
    EXPECT_EQ(o.loglvl, LogThreshold::none);
    EXPECT_TRUE(o.sw_tracking);
    EXPECT_EQ(o.maxcpus, 0u);
    EXPECT_TRUE(sink.got.empty());
}

// ---------------------------------------------------------------------------
// Bad input: one warning per bad token, the option untouched

struct BadCase {
    std::string_view line;
    OptionWarningKind kind;
    std::string_view option;
    std::string_view value;
    std::string_view message;
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << '"' << c.line << '"'; }

class BadToken : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadToken, OneWarningAndDefaultsKept) {
    const BadCase& c = GetParam();
    const Parsed p = parse(c.line);
    ASSERT_EQ(p.warnings.size(), 1u);
    EXPECT_EQ(p.warnings[0].kind, c.kind);
    EXPECT_EQ(p.warnings[0].option, c.option);
    EXPECT_EQ(p.warnings[0].value, c.value);
    EXPECT_EQ(p.warnings[0].message, c.message);
    EXPECT_TRUE(same(p.opts, Options{}));
}

using K = OptionWarningKind;
INSTANTIATE_TEST_SUITE_P(
    Warnings, BadToken,
    ::testing::Values(
        BadCase{"foo", K::unknown_option, "foo", "", "unknown option 'foo'"},
        BadCase{"foo=bar", K::unknown_option, "foo", "bar", "unknown option 'foo'"},
        BadCase{"no-foo", K::unknown_option, "no-foo", "", "unknown option 'no-foo'"},
        BadCase{"no-", K::unknown_option, "no-", "", "unknown option 'no-'"},
        BadCase{"Loglvl=info", K::unknown_option, "Loglvl", "info", "unknown option 'Loglvl'"},
        BadCase{"sw-tracking=maybe", K::invalid_value, "sw-tracking", "maybe",
                "invalid value 'maybe' for 'sw-tracking' (expected on|off)"},
        BadCase{"sw_tracking=ON", K::invalid_value, "sw-tracking", "ON",
                "invalid value 'ON' for 'sw-tracking' (expected on|off)"},
        BadCase{"sw-tracking=", K::invalid_value, "sw-tracking", "",
                "invalid value '' for 'sw-tracking' (expected on|off)"},
        BadCase{"loglvl=loud", K::invalid_value, "loglvl", "loud",
                "invalid value 'loud' for 'loglvl' (expected none|error|warning|info|debug|all)"},
        BadCase{"loglvl=INFO", K::invalid_value, "loglvl", "INFO",
                "invalid value 'INFO' for 'loglvl' (expected none|error|warning|info|debug|all)"},
        BadCase{"maxcpus=four", K::invalid_value, "maxcpus", "four",
                "invalid value 'four' for 'maxcpus' (expected an integer 1..64 or all)"},
        BadCase{"maxcpus=All", K::invalid_value, "maxcpus", "All",
                "invalid value 'All' for 'maxcpus' (expected an integer 1..64 or all)"},
        BadCase{"maxcpus=-1", K::invalid_value, "maxcpus", "-1",
                "invalid value '-1' for 'maxcpus' (expected an integer 1..64 or all)"},
        BadCase{"maxcpus=4K", K::invalid_value, "maxcpus", "4K",
                "invalid value '4K' for 'maxcpus' (expected an integer 1..64 or all)"},
        BadCase{"maxcpus=900", K::out_of_range, "maxcpus", "900", "'maxcpus=900' out of range 1..64"},
        BadCase{"maxcpus=0", K::out_of_range, "maxcpus", "0", "'maxcpus=0' out of range 1..64"},
        BadCase{"maxcpus=65", K::out_of_range, "maxcpus", "65", "'maxcpus=65' out of range 1..64"},
        BadCase{"maxcpus=0x41", K::out_of_range, "maxcpus", "0x41", "'maxcpus=0x41' out of range 1..64"},
        BadCase{"maxcpus=99999999999999999999", K::out_of_range, "maxcpus", "99999999999999999999",
                "'maxcpus=99999999999999999999' out of range 1..64"},
        BadCase{"maxcpus=0xffffffffffffffffff", K::out_of_range, "maxcpus", "0xffffffffffffffffff",
                "'maxcpus=0xffffffffffffffffff' out of range 1..64"},
        BadCase{"maxcpus", K::missing_value, "maxcpus", "", "missing value for 'maxcpus'"},
        BadCase{"loglvl", K::missing_value, "loglvl", "", "missing value for 'loglvl'"},
        BadCase{"no-maxcpus", K::negated_non_boolean, "maxcpus", "", "'no-' on non-boolean option 'maxcpus'"},
        BadCase{"no-loglvl=info", K::negated_non_boolean, "loglvl", "info",
                "'no-' on non-boolean option 'loglvl'"},
        BadCase{"no-sw-tracking=on", K::negated_with_value, "no-sw-tracking", "on",
                "'no-sw-tracking' takes no value, got 'on'"},
        BadCase{"console-rate=0", K::out_of_range, "console-rate", "0",
                "'console-rate=0' out of range 0x80..0x40000000"},
        BadCase{"console-rate=2G", K::out_of_range, "console-rate", "2G",
                "'console-rate=2G' out of range 0x80..0x40000000"},
        BadCase{"console-rate=off", K::invalid_value, "console-rate", "off",
                "invalid value 'off' for 'console-rate' (expected a size such as 4K or 0x1000 or unlimited)"},
        BadCase{"console-burst=unlimited", K::invalid_value, "console-burst", "unlimited",
                "invalid value 'unlimited' for 'console-burst' (expected a size such as 4K or 0x1000)"},
        BadCase{"console-burst=255", K::out_of_range, "console-burst", "255",
                "'console-burst=255' out of range 0x100..0x40000000"},
        BadCase{"no-console-rate", K::negated_non_boolean, "console-rate", "",
                "'no-' on non-boolean option 'console-rate'"},
        BadCase{"=on", K::missing_name, "", "=on", "missing option name in '=on'"},
        BadCase{"loglvl=\"debug", K::unterminated_quote, "loglvl", "loglvl=\"debug",
                "unterminated quote in 'loglvl=\"debug'"},
        BadCase{"loglvl=de\"bug\"", K::stray_quote, "loglvl", "loglvl=de\"bug\"",
                "misplaced quote in 'loglvl=de\"bug\"'"}));

TEST(ParseOptions, ConsoleRateAndBurst) {
    const Parsed d = parse("");
    EXPECT_EQ(d.opts.console_rate, 8u * 1024);
    EXPECT_EQ(d.opts.console_burst, 64u * 1024);
    const Parsed p = parse("console-rate=16K console_burst=1M");
    EXPECT_TRUE(p.warnings.empty());
    EXPECT_EQ(p.opts.console_rate, 16u * 1024);
    EXPECT_EQ(p.opts.console_burst, 1024u * 1024);
    const Parsed u = parse("console-rate=unlimited");
    EXPECT_TRUE(u.warnings.empty());
    EXPECT_EQ(u.opts.console_rate, 0u); // 0: no limit (core/rate_limit.hpp)
    const Parsed b = parse("console-rate=128 console-burst=256 console-rate=0x40000000 console-burst=1G");
    EXPECT_TRUE(b.warnings.empty());
    EXPECT_EQ(b.opts.console_rate, u64{1} << 30);
    EXPECT_EQ(b.opts.console_burst, u64{1} << 30);
}

TEST(ParseOptions, InvalidValueKeepsEarlierValue) {
    // A bad token is ignored as if absent: the last *valid* one wins.
    const Parsed p = parse("maxcpus=4 maxcpus=900 loglvl=debug loglvl=loud");
    EXPECT_EQ(p.warnings.size(), 2u);
    EXPECT_EQ(p.opts.maxcpus, 4u);
    EXPECT_EQ(p.opts.loglvl, LogThreshold::debug);
}

TEST(ParseOptions, ExactlyOneWarningPerBadToken) {
    const Parsed p = parse("foo loglvl=debug sw-tracking=maybe maxcpus=0 maxcpus=3 bar=\"x y\" "
                           "no-maxcpus =1 baz=\"unterminated -- maxcpus=9");
    ASSERT_EQ(p.warnings.size(), 7u);
    EXPECT_EQ(p.warnings[0].kind, K::unknown_option);
    EXPECT_EQ(p.warnings[1].kind, K::invalid_value);
    EXPECT_EQ(p.warnings[2].kind, K::out_of_range);
    EXPECT_EQ(p.warnings[3].kind, K::unknown_option);
    EXPECT_EQ(p.warnings[3].value, "x y");
    EXPECT_EQ(p.warnings[4].kind, K::negated_non_boolean);
    EXPECT_EQ(p.warnings[5].kind, K::missing_name);
    EXPECT_EQ(p.warnings[6].kind, K::unterminated_quote);
    EXPECT_EQ(p.opts.loglvl, LogThreshold::debug);
    EXPECT_EQ(p.opts.maxcpus, 3u); // not 9: the quote swallowed the "--" too
}

TEST(ParseOptions, UnterminatedQuoteSwallowsTerminator) {
    const Parsed p = parse("maxcpus=2 foo=\"a -- maxcpus=9");
    ASSERT_EQ(p.warnings.size(), 1u);
    EXPECT_EQ(p.warnings[0].kind, K::unterminated_quote);
    EXPECT_EQ(p.opts.maxcpus, 2u);
}

TEST(ParseOptions, LongAndBinaryTextIsCutAndEscaped) {
    const std::string name(5000, 'x');
    const Parsed p = parse(name + "=1");
    ASSERT_EQ(p.warnings.size(), 1u);
    EXPECT_EQ(p.warnings[0].option, name); // the view is whole...
    const std::string& m = p.warnings[0].message; // ...the message bounded
    EXPECT_LT(m.size(), OptionWarning::kMessageCapacity);
    EXPECT_EQ(m, "unknown option '" + std::string(48, 'x') + "...'");

    const Parsed b = parse(std::string("a\x01\x7f\xff\0b=1", 8));
    ASSERT_EQ(b.warnings.size(), 1u);
    EXPECT_EQ(b.warnings[0].message, "unknown option 'a\\x01\\x7f\\xff\\x00b'");

    // An escape is never split by the field limit.
    const Parsed e = parse(std::string(46, 'y') + "\x01" + "=1");
    ASSERT_EQ(e.warnings.size(), 1u);
    EXPECT_EQ(e.warnings[0].message, "unknown option '" + std::string(46, 'y') + "...'");
}

TEST(ParseOptions, WorstCaseMessagesStayBounded) {
    // Every field at its limit, all escaped.
    const std::string junk(300, '\x01');
    for (const OptionDesc& opt : option_table()) {
        const std::string n(opt.name);
        for (const std::string& line : {n + "=" + junk, "no-" + n + "=" + junk, junk + "=" + junk,
                                        n + "=99999999999999999999999", n + "=\"" + junk}) {
            RecordingSink sink; // checks bound, NUL and printable bytes
            Options o{};
            EXPECT_EQ(apply_options(line, o, sink), 1u);
            ASSERT_EQ(sink.got.size(), 1u);
            EXPECT_TRUE(same(o, Options{}));
        }
    }
}

TEST(OptionValue, OverlongTextIsCutVisibly) {
    static constexpr std::string_view kChoices[] = {"a-choice-much-longer-than-the-value-buffer"};
    OptionDesc d;
    d.kind = OptionKind::enumeration;
    d.choices = kChoices;
    const OptionValueText t = format_option_value(d, 0);
    EXPECT_EQ(t.len, OptionValueText::kCapacity - 1);
    EXPECT_EQ(t.view(), "a-choice-much-longer...");
    EXPECT_EQ(t.buf[t.len], '\0');
}

// ---------------------------------------------------------------------------
// Values outside the current table's kinds, through a local descriptor

TEST(OptionValue, SizeKind) {
    OptionDesc d;
    d.name = "chunk";
    d.kind = OptionKind::size;
    d.min = 4096;
    d.max = u64{1} << 30;
    u64 raw = 0;
    EXPECT_EQ(parse_option_value(d, "64K", raw), ValueVerdict::ok);
    EXPECT_EQ(raw, 64u * 1024);
    EXPECT_EQ(parse_option_value(d, "0x1000", raw), ValueVerdict::ok);
    EXPECT_EQ(raw, 0x1000u);
    EXPECT_EQ(parse_option_value(d, "1G", raw), ValueVerdict::ok);
    EXPECT_EQ(parse_option_value(d, "1025M", raw), ValueVerdict::out_of_range);
    EXPECT_EQ(parse_option_value(d, "4095", raw), ValueVerdict::out_of_range);
    EXPECT_EQ(parse_option_value(d, "16777216T", raw), ValueVerdict::out_of_range);
    EXPECT_EQ(parse_option_value(d, "4Q", raw), ValueVerdict::invalid);
    EXPECT_EQ(raw, u64{1} << 30); // failures leave raw alone

    EXPECT_EQ(format_option_value(d, 0x1000).view(), "0x1000");
    EXPECT_EQ(format_option_value(d, 0).view(), "0x0");
    EXPECT_EQ(format_option_value(d, ~u64{0}).view(), "0xffffffffffffffff");
    d.zero_text = "auto";
    EXPECT_EQ(format_option_value(d, 0).view(), "auto");
    EXPECT_EQ(parse_option_value(d, "auto", raw), ValueVerdict::ok);
    EXPECT_EQ(raw, 0u);
    EXPECT_EQ(parse_option_value(d, "0", raw), ValueVerdict::out_of_range);
}

TEST(OptionValue, UintFormatsDecimal) {
    OptionDesc d;
    d.kind = OptionKind::uint;
    d.max = ~u64{0};
    EXPECT_EQ(format_option_value(d, 0).view(), "0");
    EXPECT_EQ(format_option_value(d, 42).view(), "42");
    EXPECT_EQ(format_option_value(d, ~u64{0}).view(), "18446744073709551615");
    u64 raw = 7;
    EXPECT_EQ(parse_option_value(d, "0", raw), ValueVerdict::ok);
    EXPECT_EQ(raw, 0u);
}

// ---------------------------------------------------------------------------
// Banner text

std::vector<std::pair<std::string, std::string>> banner(const Options& o) {
    std::vector<std::pair<std::string, std::string>> out;
    for_each_option(o, [&](std::string_view name, std::string_view value) {
        EXPECT_EQ(value.data()[value.size()], '\0');
        out.emplace_back(std::string(name), std::string(value));
    });
    return out;
}

TEST(ForEachOption, DefaultsInTableOrder) {
    const std::vector<std::pair<std::string, std::string>> want{
        {"loglvl", "info"},         {"sw-tracking", "on"},          {"maxcpus", "all"},
        {"sw-granule", "page"},     {"sw-flush-chunk", "0x40000"},  {"sw-geometry", "minimal"},
        {"sched-slice", "10000"},   {"console-rate", "0x2000"},     {"console-burst", "0x10000"},
        {"selftest", "none"}};
    EXPECT_EQ(banner(Options{}), want);
}

TEST(ForEachOption, EffectiveValues) {
    RecordingSink sink;
    const Options o = parse_options(
        "loglvl=none no-sw-tracking maxcpus=0x20 sw-granule=block sw-flush-chunk=1M sw-geometry=native "
        "sched-slice=2500 console-rate=unlimited console-burst=1M selftest=el2-fault",
        sink);
    const std::vector<std::pair<std::string, std::string>> want{
        {"loglvl", "none"},       {"sw-tracking", "off"},          {"maxcpus", "32"},
        {"sw-granule", "block"},  {"sw-flush-chunk", "0x100000"},  {"sw-geometry", "native"},
        {"sched-slice", "2500"},  {"console-rate", "unlimited"},  {"console-burst", "0x100000"},
        {"selftest", "el2-fault"}};
    EXPECT_EQ(banner(o), want);
}

// What the banner prints, given back as a command line, is the same
// configuration, without a warning.
TEST(ForEachOption, TextRoundTrips) {
    RecordingSink sink;
    for (std::string_view line : {"", "loglvl=all sw-tracking=off maxcpus=1", "loglvl=warning maxcpus=64",
                                  "loglvl=none maxcpus=17 sw-tracking",
                                  "console-rate=unlimited console-burst=300", "console-rate=100K"}) {
        const Options o = parse_options(line, sink);
        std::string again;
        for_each_option(o, [&](std::string_view name, std::string_view value) {
            again += std::string(name) + "=" + std::string(value) + " ";
        });
        EXPECT_TRUE(same(parse_options(again, sink), o)) << again;
    }
    EXPECT_TRUE(sink.got.empty());
}

} // namespace
} // namespace setwise::core
