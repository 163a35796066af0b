// The hypervisor's options: one typed struct, one declarative table.
//
// `Options` holds the effective values; its member initializers are the
// defaults. `kOptions` describes every option once: name, kind, limits,
// help, and which member holds it. Parsing, the boot banner, help and the
// consistency checks at the bottom all walk that one table. Adding an
// option is one member in `Options` and one line in `kOptions` (and its
// section in docs/command-line.md, which a host test checks).
//
// Bad input never stops the boot: an unknown option or an invalid value
// is reported once to a WarningSink and that token is ignored, so the
// option keeps whatever it had (its default, unless an earlier token set
// it). The caller decides where warnings go; nothing here logs or
// allocates.
#pragma once

#include <array>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>

#include "core/cmdline.hpp"
#include "setwise/types.hpp"

namespace setwise::core {

// Console log threshold, least to most verbose: a message is printed when
// its level is as severe as the threshold or more. `none` prints nothing,
// `all` everything.
enum class LogThreshold : u8 { none, error, warning, info, debug, all };

// Indexed by LogThreshold.
inline constexpr std::array<std::string_view, 6> kLogThresholdNames{
    "none", "error", "warning", "info", "debug", "all"};

// `selftest=`: deliberate failures that show a diagnostic path works, for
// the QEMU tests and for bringing up a new board.
enum class SelfTest : u8 { none, el2_fault, ipi };
inline constexpr std::array<std::string_view, 3> kSelfTestNames{"none", "el2-fault", "ipi"};

// `sw-granule=`: how guest RAM is mapped while set/way tracking is on.
enum class SwGranule : u8 { page, block };
inline constexpr std::array<std::string_view, 2> kSwGranuleNames{"page", "block"};

// `sw-geometry=`: the cache geometry guests see.
enum class SwGeometry : u8 { minimal, native };
inline constexpr std::array<std::string_view, 2> kSwGeometryNames{"minimal", "native"};

struct Options {
    LogThreshold loglvl = LogThreshold::info;
    // Set/way emulation tracks the pages a guest touches through stage-2
    // valid bits and flushes only those; off flushes all guest RAM.
    bool sw_tracking = true;
    // 0: every CPU the DT lists, spelled `maxcpus=all`; a number must be
    // 1..64.
    u32 maxcpus = 0;
    SwGranule sw_granule = SwGranule::page;
    // Bytes one non-preemptible step of a set/way flush may clean; 0 means
    // unbounded (one step per batch).
    u64 sw_flush_chunk = 256 * 1024;
    SwGeometry sw_geometry = SwGeometry::minimal;
    // Longest turn, in microseconds, of a vCPU on a CPU that other runnable
    // vCPUs share (a vCPU alone on its CPU is never sliced).
    u32 sched_slice_us = 10'000;
    // Each guest console's sustained output, bytes a second; 0 means
    // unlimited (docs/consoles.md, "Rate limit").
    u64 console_rate = 8 * 1024;
    // Bytes a guest console may write at once before the rate applies.
    u64 console_burst = 64 * 1024;
    SelfTest selftest = SelfTest::none;
};

enum class OptionKind : u8 {
    boolean,     // on|off and friends; bare `name` is on, `no-name` off
    uint,        // decimal or 0x hex, within [min, max]
    size,        // uint with K/M/G/T and B suffixes, within [min, max]
    enumeration, // one of `choices`, stored as its index
};

// One option. Values travel as u64 "raw" (bool 0/1, enum index, number)
// between the parser, the table and the member; `load`/`store` convert at
// the member, so the parser is not a template.
struct OptionDesc {
    std::string_view name; // canonical spelling: lower case, '-' not '_'
    OptionKind kind = OptionKind::boolean;
    u64 min = 0;           // uint, size
    u64 max = 0;           // uint, size
    std::span<const std::string_view> choices{}; // enumeration
    // uint, size: a stored 0 is a sentinel named by this text (e.g. "all"):
    // printed as it, and set by it on the command line. The number 0 is
    // still checked against min like any other.
    std::string_view zero_text{};
    u64 default_raw = 0;   // taken from Options{}: the member initializer
    std::string_view help;
    u64 (*load)(const Options&) = nullptr;
    void (*store)(Options&, u64) = nullptr;
};

namespace detail {

template <auto Member>
using MemberType = std::remove_cvref_t<decltype(std::declval<Options&>().*Member)>;

template <auto Member>
constexpr u64 load_member(const Options& o) {
    return static_cast<u64>(o.*Member);
}

// Precondition: raw was validated against the descriptor (range, choice
// count), and the table checks below prove every valid raw fits.
template <auto Member>
constexpr void store_member(Options& o, u64 raw) {
    o.*Member = static_cast<MemberType<Member>>(raw);
}

template <auto Member>
constexpr OptionDesc describe(std::string_view name, OptionKind kind, std::string_view help) {
    OptionDesc d;
    d.name = name;
    d.kind = kind;
    d.help = help;
    d.load = &load_member<Member>;
    d.store = &store_member<Member>;
    d.default_raw = load_member<Member>(Options{});
    return d;
}

} // namespace detail

template <auto Member>
constexpr OptionDesc bool_option(std::string_view name, std::string_view help) {
    static_assert(std::is_same_v<detail::MemberType<Member>, bool>);
    return detail::describe<Member>(name, OptionKind::boolean, help);
}

template <auto Member>
constexpr OptionDesc uint_option(std::string_view name, u64 min, u64 max, std::string_view zero_text,
                                 std::string_view help) {
    static_assert(std::is_unsigned_v<detail::MemberType<Member>>);
    OptionDesc d = detail::describe<Member>(name, OptionKind::uint, help);
    d.min = min;
    d.max = max;
    d.zero_text = zero_text;
    return d;
}

template <auto Member>
constexpr OptionDesc size_option(std::string_view name, u64 min, u64 max, std::string_view zero_text,
                                 std::string_view help) {
    static_assert(std::is_unsigned_v<detail::MemberType<Member>>);
    OptionDesc d = detail::describe<Member>(name, OptionKind::size, help);
    d.min = min;
    d.max = max;
    d.zero_text = zero_text;
    return d;
}

template <auto Member>
constexpr OptionDesc enum_option(std::string_view name, std::span<const std::string_view> choices,
                                 std::string_view help) {
    static_assert(std::is_enum_v<detail::MemberType<Member>>);
    OptionDesc d = detail::describe<Member>(name, OptionKind::enumeration, help);
    d.choices = choices;
    return d;
}

// The table. Order is the banner's and the docs' order.
inline constexpr std::array kOptions{
    enum_option<&Options::loglvl>(
        "loglvl", kLogThresholdNames,
        "Console log threshold: messages at this level or more severe are printed."),
    bool_option<&Options::sw_tracking>(
        "sw-tracking",
        "Track guest pages touched between set/way batches through stage-2 valid bits and "
        "flush only those; off flushes all of a guest's RAM on each batch."),
    uint_option<&Options::maxcpus>(
        "maxcpus", 1, 64, "all",
        "Bring up at most this many physical CPUs, the boot CPU included; all (the default) "
        "brings up every CPU the DT lists."),
    enum_option<&Options::sw_granule>(
        "sw-granule", kSwGranuleNames,
        "page maps guest RAM with 4 KiB stage-2 pages while set/way tracking is on, so a touched "
        "page costs one page of cleaning; block keeps 2 MiB and 1 GiB blocks (fewer TLB misses, "
        "512 pages cleaned per touched block)."),
    size_option<&Options::sw_flush_chunk>(
        "sw-flush-chunk", 4096, u64{1} << 40, "unbounded",
        "Most bytes a set/way flush cleans before it lets other work in (a preemption point); "
        "unbounded does each batch in one step."),
    enum_option<&Options::sw_geometry>(
        "sw-geometry", kSwGeometryNames,
        "minimal traps the cache identification registers and shows guests one set and one way "
        "per level, so a clean-all loop is a few traps; native shows the real geometry."),
    uint_option<&Options::sched_slice_us>(
        "sched-slice", 100, 1'000'000, "",
        "Longest turn in microseconds of a vCPU on a physical CPU it shares with other runnable "
        "vCPUs; a vCPU alone on its CPU runs until it waits."),
    size_option<&Options::console_rate>(
        "console-rate", 128, u64{1} << 30, "unlimited",
        "Sustained output, in bytes a second, of each guest's console (vPL011) on the hypervisor "
        "console; what a guest writes beyond it and its burst is dropped and counted. unlimited "
        "turns the limit off."),
    size_option<&Options::console_burst>(
        "console-burst", 256, u64{1} << 30, "",
        "Bytes a guest's console may write at once, on top of its sustained rate (console-rate), "
        "before output is dropped; refilled at the rate."),
    enum_option<&Options::selftest>(
        "selftest", kSelfTestNames,
        "el2-fault: after boot, the boot CPU reads an unmapped address so the unexpected-"
        "exception report can be seen; that CPU then halts. ipi: after boot, the boot CPU "
        "sends an SGI to every CPU, and each reports it took it."),
};

constexpr std::span<const OptionDesc> option_table() { return kOptions; }

// The option whose canonical name equals `name` ('-' and '_' equal), or
// nullptr.
const OptionDesc* find_option(std::string_view name);

// ---------------------------------------------------------------------------
// Warnings

enum class OptionWarningKind : u8 {
    unknown_option,      // no option has this name
    invalid_value,       // the value is not of the option's kind
    out_of_range,        // a number outside the option's limits or 64 bits
    missing_value,       // bare `name` for a non-boolean
    negated_non_boolean, // `no-name` for a non-boolean
    negated_with_value,  // `no-name=value`
    missing_name,        // `=value`
    unterminated_quote,  // see TokenFlaw
    stray_quote,         // see TokenFlaw
};

// One complaint about one token. The message is self-contained, bounded
// and NUL-terminated; bytes that are not printable ASCII appear escaped as
// \xNN, and long names or values are cut with "...". `option` and `value`
// are unescaped views into the command line (or, for a known option,
// `option` is its canonical name from the table): valid as long as the
// command line text is.
struct OptionWarning {
    static constexpr usize kMessageCapacity = 192; // NUL included

    OptionWarningKind kind = OptionWarningKind::unknown_option;
    // The canonical name when the option was found (invalid_value,
    // out_of_range, missing_value, negated_non_boolean); otherwise the name
    // as written (with its "no-" for negated_with_value); empty for
    // missing_name.
    std::string_view option;
    // The value as written, without wrapping quotes; the whole token for
    // missing_name and the two quote kinds.
    std::string_view value;
    std::array<char, kMessageCapacity> message_buf{};
    usize message_len = 0;   // < kMessageCapacity; message_buf[message_len] == '\0'

    std::string_view message() const { return {message_buf.data(), message_len}; }
    const char* c_str() const { return message_buf.data(); }
};

// Where warnings go. Implemented by the caller (the log on the target, a
// recorder in tests). warn() is called synchronously, in token order, once
// per bad token.
class WarningSink {
public:
    virtual void warn(const OptionWarning& w) = 0;

protected:
    WarningSink() = default;
    WarningSink(const WarningSink&) = default;
    WarningSink& operator=(const WarningSink&) = default;
    ~WarningSink() = default; // never deleted through the interface
};

// ---------------------------------------------------------------------------
// Parsing

// Applies every valid token of `cmdline` to `opts`, in order, so the last
// occurrence of an option wins. Each bad token produces exactly one warning
// and changes nothing. Stops at `--`. Returns how many warnings were given.
usize apply_options(std::string_view cmdline, Options& opts, WarningSink& warn);

// apply_options on the defaults.
Options parse_options(std::string_view cmdline, WarningSink& warn);

// How one value text fares against one option (the `value` of
// `name=value`; no `no-`, no bare name). `raw` is written only on ok.
enum class ValueVerdict : u8 { ok, invalid, out_of_range };
ValueVerdict parse_option_value(const OptionDesc& opt, std::string_view text, u64& raw);

// ---------------------------------------------------------------------------
// Printing effective values

// A formatted value, NUL-terminated. Large enough for any u64 in hex, and
// the table checks that every choice and zero_text fits.
struct OptionValueText {
    static constexpr usize kCapacity = 24; // NUL included

    std::array<char, kCapacity> buf{};
    usize len = 0;

    std::string_view view() const { return {buf.data(), len}; }
    const char* c_str() const { return buf.data(); }
};

// The text that, given back as `name=TEXT`, sets `raw` again: "on"/"off",
// the choice's name, a decimal uint, a hex size ("0x1000"), or zero_text
// for a 0 sentinel. Precondition: raw is a value the option can hold.
OptionValueText format_option_value(const OptionDesc& opt, u64 raw);

// Calls f(std::string_view name, std::string_view value) for every option
// in table order, with its effective value in `opts`. For the boot banner.
template <typename F>
void for_each_option(const Options& opts, F&& f) {
    for (const OptionDesc& opt : kOptions) {
        const OptionValueText text = format_option_value(opt, opt.load(opts));
        f(opt.name, text.view());
    }
}

// ---------------------------------------------------------------------------
// The table proves its own consistency at compile time.

namespace detail {

constexpr bool valid_option_name(std::string_view n) {
    if (n.empty() || n.size() > 32 || n.starts_with("no-")) return false;
    for (char c : n)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    return true;
}

constexpr bool fits_value_text(std::string_view s) { return s.size() < OptionValueText::kCapacity; }

// store then load gives back the same raw: the member is wide enough.
constexpr bool round_trips(const OptionDesc& d, u64 raw) {
    Options o{};
    d.store(o, raw);
    return d.load(o) == raw;
}

constexpr bool option_is_consistent(const OptionDesc& d) {
    // load/store are not compared with nullptr (GCC 12 refuses that in a
    // constant expression); round_trips calls them, which a null could not.
    if (!valid_option_name(d.name) || d.help.empty()) return false;
    switch (d.kind) {
    case OptionKind::boolean:
        return d.default_raw <= 1 && round_trips(d, 0) && round_trips(d, 1);
    case OptionKind::uint:
    case OptionKind::size: {
        if (d.min > d.max || !round_trips(d, d.min) || !round_trips(d, d.max)) return false;
        if (!fits_value_text(d.zero_text)) return false;
        const bool sentinel = d.default_raw == 0 && !d.zero_text.empty();
        return sentinel || (d.default_raw >= d.min && d.default_raw <= d.max);
    }
    case OptionKind::enumeration: {
        if (d.choices.empty() || d.default_raw >= d.choices.size()) return false;
        if (!round_trips(d, d.choices.size() - 1)) return false;
        for (std::string_view c : d.choices)
            if (c.empty() || !fits_value_text(c)) return false;
        return true;
    }
    }
    return false;
}

constexpr bool table_is_consistent() {
    for (usize i = 0; i < kOptions.size(); ++i) {
        if (!option_is_consistent(kOptions[i])) return false;
        for (usize j = 0; j < i; ++j)
            if (option_names_equal(kOptions[i].name, kOptions[j].name)) return false;
    }
    return true;
}

static_assert(table_is_consistent(), "kOptions: bad name, limits, default, or duplicate");
static_assert(kLogThresholdNames.size() == static_cast<usize>(LogThreshold::all) + 1);

} // namespace detail

} // namespace setwise::core
