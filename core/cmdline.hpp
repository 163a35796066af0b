// The hypervisor command line: Xen's syntax, tokenized without a heap.
//
// The text is /chosen/bootargs of the boot DTB (QEMU -append, U-Boot
// bootargs). Tokens are separated by whitespace; each is `name=value`,
// a bare `name` or `no-name`. A `--` token ends the hypervisor's part; what
// follows is not ours and is ignored (Xen hands it to dom0; setwise has no
// dom0). A value may be wrapped in double quotes to carry whitespace:
// `name="a b"`. Quotes anywhere else in a token are a flaw of that token.
//
// This file knows nothing of which options exist; core/options.hpp does.
// It also holds the value parsers (boolean, integer, size) so that their
// grammar is in one place and testable on its own. docs/command-line.md is
// the user's description of the same grammar; keep both in step.
//
// Everything here works on std::string_view over the caller's text: no
// copies, no allocation, any byte value (NUL included) is an ordinary
// character, never a terminator.
#pragma once

#include <optional>
#include <string_view>

#include "setwise/result.hpp"
#include "setwise/types.hpp"

namespace setwise::core {

// std::string_view::substr reports a bad position by throwing, and there is
// no exception runtime: these clamp instead.
constexpr std::string_view head(std::string_view s, usize n) {
    return {s.data(), n < s.size() ? n : s.size()};
}
constexpr std::string_view tail_from(std::string_view s, usize pos) {
    const usize p = pos < s.size() ? pos : s.size();
    return {s.data() + p, s.size() - p};
}
constexpr std::string_view slice(std::string_view s, usize pos, usize n) { return head(tail_from(s, pos), n); }

// Space, tab, newline, carriage return, vertical tab, form feed: what a
// bootloader or a DT source file may leave between tokens.
constexpr bool is_cmdline_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// Option names compare with '-' and '_' equal, as in Xen: `sw_tracking` is
// `sw-tracking`. Everything else is compared exactly (case-sensitive).
constexpr bool option_names_equal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (usize i = 0; i < a.size(); ++i) {
        const char x = a[i];
        const char y = b[i];
        const bool dashes = (x == '-' || x == '_') && (y == '-' || y == '_');
        if (x != y && !dashes) return false;
    }
    return true;
}

// What is wrong with a token's shape, before any option is looked up.
// A flawed token is reported once and otherwise ignored.
enum class TokenFlaw : u8 {
    none,
    unterminated_quote, // an opening '"' without its closing one; the token
                        // then runs to the end of the command line
    stray_quote,        // a '"' in the name, or not wrapping the whole value
};

struct CmdlineToken {
    std::string_view text;  // the whole token as written, quotes included
    std::string_view name;  // before the first '='; the whole token if none
    std::string_view value; // after the first '=', without wrapping quotes
    bool has_value = false; // an '=' was present (the value may be empty)
    TokenFlaw flaw = TokenFlaw::none;
};

// Splits a command line into tokens, in order, stopping at `--`.
//
//   CmdlineTokenizer t(bootargs);
//   while (auto tok = t.next()) { ... }
//
// Contract: the views in a token point into the text given to the
// constructor and live as long as it does. A token is never empty.
class CmdlineTokenizer {
public:
    constexpr explicit CmdlineTokenizer(std::string_view cmdline) : rest_(cmdline) {}

    // The next token, or nullopt at the end of the text or at `--`.
    std::optional<CmdlineToken> next();

    // After next() returned nullopt because of `--`: the text after that
    // token, leading whitespace skipped. Empty otherwise.
    constexpr std::string_view remainder() const { return remainder_; }
    constexpr bool terminated() const { return terminated_; }

private:
    std::string_view rest_;
    std::string_view remainder_;
    bool terminated_ = false;
};

// Value grammar. Each returns Status::invalid_argument for text that is not
// of the kind at all and Status::out_of_range for a number that does not fit
// in 64 bits; range checks against an option's limits are the caller's.

// on|off, yes|no, true|false, enable|disable, 1|0. Lower case only: the
// spellings Xen documents, nothing that needs case folding.
Result<bool> parse_bool(std::string_view text);

// Decimal, or hexadecimal after 0x/0X. No sign, no octal: a leading zero is
// still decimal ("010" is ten), unlike C's strtoul with base 0.
Result<u64> parse_uint(std::string_view text);

// An integer as parse_uint, then an optional binary multiplier K, M, G or T
// (either case; 2^10 .. 2^40), then an optional B or b for "bytes".
// For a hexadecimal number B and b are digits, so "0x10B" is 0x10b:
// write "0x10" or "16B".
Result<u64> parse_size(std::string_view text);

} // namespace setwise::core
