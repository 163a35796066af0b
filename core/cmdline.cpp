#include "core/cmdline.hpp"

#include <limits>

namespace setwise::core {

namespace {

constexpr bool contains_quote(std::string_view s) {
    return s.find('"') != std::string_view::npos;
}

// Classifies the value part of a token and strips wrapping quotes.
// `open_at_end` says the scan ended inside a quoted run.
constexpr TokenFlaw unquote_value(std::string_view raw, bool open_at_end, std::string_view& value) {
    value = raw;
    if (!contains_quote(raw)) return TokenFlaw::none;
    if (raw.front() != '"') return open_at_end ? TokenFlaw::unterminated_quote : TokenFlaw::stray_quote;
    if (open_at_end) {
        value = tail_from(raw, 1);
        return TokenFlaw::unterminated_quote;
    }
    // Opened at the front and closed: the closing quote must be the last
    // character, with no other quote between.
    const usize close = raw.find('"', 1);
    if (close != raw.size() - 1) return TokenFlaw::stray_quote;
    value = slice(raw, 1, raw.size() - 2);
    return TokenFlaw::none;
}

constexpr int digit_value(char c, u64 base) {
    int d = -1;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    return d >= 0 && static_cast<u64>(d) < base ? d : -1;
}

// Parses the longest run of digits at the front of `text`. On success
// `used` is how many characters the number took (prefix included).
Result<u64> parse_number_prefix(std::string_view text, usize& used) {
    u64 base = 10;
    usize i = 0;
    if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        base = 16;
        i = 2;
    }
    const usize first_digit = i;
    u64 v = 0;
    bool overflow = false;
    for (; i < text.size(); ++i) {
        const int d = digit_value(text[i], base);
        if (d < 0) break;
        const u64 du = static_cast<u64>(d);
        if (v > (std::numeric_limits<u64>::max() - du) / base) overflow = true;
        else v = v * base + du;
    }
    if (i == first_digit) return Status::invalid_argument;
    used = i;
    if (overflow) return Status::out_of_range;
    return v;
}

} // namespace

std::optional<CmdlineToken> CmdlineTokenizer::next() {
    usize start = 0;
    while (start < rest_.size() && is_cmdline_space(rest_[start])) ++start;
    if (start == rest_.size()) {
        rest_ = {};
        return std::nullopt;
    }

    // A quote toggles quoting wherever it is, so a misplaced one cannot
    // split a token in two and be reported twice.
    bool quoted = false;
    usize end = start;
    for (; end < rest_.size(); ++end) {
        const char c = rest_[end];
        if (c == '"') quoted = !quoted;
        else if (!quoted && is_cmdline_space(c)) break;
    }

    CmdlineToken tok;
    tok.text = slice(rest_, start, end - start);
    rest_ = tail_from(rest_, end);

    if (tok.text == "--") {
        usize r = 0;
        while (r < rest_.size() && is_cmdline_space(rest_[r])) ++r;
        remainder_ = tail_from(rest_, r);
        rest_ = {};
        terminated_ = true;
        return std::nullopt;
    }

    const usize eq = tok.text.find('=');
    tok.name = head(tok.text, eq);
    if (eq != std::string_view::npos) {
        tok.has_value = true;
        tok.flaw = unquote_value(tail_from(tok.text, eq + 1), quoted, tok.value);
    }
    if (contains_quote(tok.name)) {
        tok.flaw = quoted ? TokenFlaw::unterminated_quote : TokenFlaw::stray_quote;
    }
    return tok;
}

Result<bool> parse_bool(std::string_view text) {
    constexpr std::string_view kTrue[] = {"on", "yes", "true", "enable", "1"};
    constexpr std::string_view kFalse[] = {"off", "no", "false", "disable", "0"};
    for (std::string_view t : kTrue)
        if (text == t) return true;
    for (std::string_view f : kFalse)
        if (text == f) return false;
    return Status::invalid_argument;
}

Result<u64> parse_uint(std::string_view text) {
    usize used = 0;
    const Result<u64> v = parse_number_prefix(text, used);
    // Overflow is only overflow if the text is a number throughout;
    // "99999999999999999999x" is not a number at all.
    if (!v && v.status() == Status::invalid_argument) return v;
    if (used != text.size()) return Status::invalid_argument;
    return v;
}

Result<u64> parse_size(std::string_view text) {
    usize used = 0;
    const Result<u64> n = parse_number_prefix(text, used);
    if (!n && n.status() == Status::invalid_argument) return n;

    std::string_view suffix = tail_from(text, used);
    unsigned shift = 0;
    if (!suffix.empty()) {
        switch (suffix.front()) {
        case 'K': case 'k': shift = 10; break;
        case 'M': case 'm': shift = 20; break;
        case 'G': case 'g': shift = 30; break;
        case 'T': case 't': shift = 40; break;
        default: break;
        }
        if (shift != 0) suffix.remove_prefix(1);
    }
    if (!suffix.empty() && (suffix.front() == 'B' || suffix.front() == 'b')) suffix.remove_prefix(1);
    if (!suffix.empty()) return Status::invalid_argument;
    if (!n) return n;

    const u64 v = n.value();
    if (shift != 0 && v > (std::numeric_limits<u64>::max() >> shift)) return Status::out_of_range;
    return v << shift;
}

} // namespace setwise::core
