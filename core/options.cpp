#include "core/options.hpp"

namespace setwise::core {

namespace {

// Appends text to a fixed buffer, always leaving room for the NUL. What does
// not fit is dropped and the message ends in "..." so a cut is visible.
class MessageWriter {
public:
    MessageWriter(char* buf, usize capacity) : buf_(buf), limit_(capacity - 1) {}

    void put(std::string_view s) {
        for (char c : s) put_char(c);
    }

    // A user-supplied field between single quotes.
    void put_field(std::string_view s) {
        put_char('\'');
        put_escaped(s);
        put_char('\'');
    }

    // User-supplied text: non-printable bytes escaped as \xNN (a console
    // must not receive raw control characters), and at most kFieldLimit
    // characters of output before "...".
    void put_escaped(std::string_view s) {
        static constexpr usize kFieldLimit = 48;
        usize shown = 0;
        for (char c : s) {
            const auto b = static_cast<u8>(c);
            const bool printable = b >= 0x20 && b < 0x7f;
            const usize width = printable ? 1 : 4;
            if (shown + width > kFieldLimit) {
                put("...");
                return;
            }
            if (printable) {
                put_char(c);
            } else {
                static constexpr char kHex[] = "0123456789abcdef";
                put_char('\\');
                put_char('x');
                put_char(kHex[b >> 4]);
                put_char(kHex[b & 0xf]);
            }
            shown += width;
        }
    }

    void put_decimal(u64 v) {
        char digits[20];
        usize n = 0;
        do {
            digits[n++] = static_cast<char>('0' + v % 10);
            v /= 10;
        } while (v != 0);
        while (n != 0) put_char(digits[--n]);
    }

    void put_hex(u64 v) {
        static constexpr char kHex[] = "0123456789abcdef";
        put("0x");
        int shift = 60;
        while (shift > 0 && ((v >> shift) & 0xf) == 0) shift -= 4;
        for (; shift >= 0; shift -= 4) put_char(kHex[(v >> shift) & 0xf]);
    }

    // Terminates the text; returns its length.
    usize finish() {
        if (truncated_) {
            for (usize i = limit_ - 3; i < limit_; ++i) buf_[i] = '.';
        }
        buf_[len_] = '\0';
        return len_;
    }

private:
    void put_char(char c) {
        if (len_ < limit_) buf_[len_++] = c;
        else truncated_ = true;
    }

    char* buf_;
    usize limit_;
    usize len_ = 0;
    bool truncated_ = false;
};

void put_number(MessageWriter& w, OptionKind kind, u64 v) {
    if (kind == OptionKind::size) w.put_hex(v);
    else w.put_decimal(v);
}

void put_zero_text(MessageWriter& w, const OptionDesc& opt) {
    if (opt.zero_text.empty()) return;
    w.put(" or ");
    w.put(opt.zero_text);
}

void put_expected(MessageWriter& w, const OptionDesc& opt) {
    switch (opt.kind) {
    case OptionKind::boolean:
        w.put("on|off");
        break;
    case OptionKind::uint:
        w.put("an integer ");
        w.put_decimal(opt.min);
        w.put("..");
        w.put_decimal(opt.max);
        put_zero_text(w, opt);
        break;
    case OptionKind::size:
        w.put("a size such as 4K or 0x1000");
        put_zero_text(w, opt);
        break;
    case OptionKind::enumeration:
        for (usize i = 0; i < opt.choices.size(); ++i) {
            if (i != 0) w.put("|");
            w.put(opt.choices[i]);
        }
        break;
    }
}

// Builds the one warning for one bad token and hands it to the sink.
// `opt` is the option concerned when one was found.
void report(WarningSink& sink, OptionWarningKind kind, const OptionDesc* opt, std::string_view option,
            std::string_view value) {
    OptionWarning w;
    w.kind = kind;
    w.option = option;
    w.value = value;
    MessageWriter m(w.message_buf.data(), w.message_buf.size());
    switch (kind) {
    case OptionWarningKind::unknown_option:
        m.put("unknown option ");
        m.put_field(option);
        break;
    case OptionWarningKind::invalid_value:
        m.put("invalid value ");
        m.put_field(value);
        m.put(" for ");
        m.put_field(option);
        if (opt != nullptr) {
            m.put(" (expected ");
            put_expected(m, *opt);
            m.put(")");
        }
        break;
    case OptionWarningKind::out_of_range:
        m.put("'");
        m.put_escaped(option);
        m.put("=");
        m.put_escaped(value);
        m.put("' out of range");
        if (opt != nullptr) {
            m.put(" ");
            put_number(m, opt->kind, opt->min);
            m.put("..");
            put_number(m, opt->kind, opt->max);
        }
        break;
    case OptionWarningKind::missing_value:
        m.put("missing value for ");
        m.put_field(option);
        break;
    case OptionWarningKind::negated_non_boolean:
        m.put("'no-' on non-boolean option ");
        m.put_field(option);
        break;
    case OptionWarningKind::negated_with_value:
        m.put_field(option);
        m.put(" takes no value, got ");
        m.put_field(value);
        break;
    case OptionWarningKind::missing_name:
        m.put("missing option name in ");
        m.put_field(value);
        break;
    case OptionWarningKind::unterminated_quote:
        m.put("unterminated quote in ");
        m.put_field(value);
        break;
    case OptionWarningKind::stray_quote:
        m.put("misplaced quote in ");
        m.put_field(value);
        break;
    }
    w.message_len = m.finish();
    sink.warn(w);
}

// Applies one token to `opts`, or reports the one reason it cannot.
// Returns whether it was applied.
bool apply_token(const CmdlineToken& tok, Options& opts, WarningSink& sink) {
    switch (tok.flaw) {
    case TokenFlaw::none:
        break;
    case TokenFlaw::unterminated_quote:
        report(sink, OptionWarningKind::unterminated_quote, nullptr, tok.name, tok.text);
        return false;
    case TokenFlaw::stray_quote:
        report(sink, OptionWarningKind::stray_quote, nullptr, tok.name, tok.text);
        return false;
    }
    if (tok.name.empty()) {
        report(sink, OptionWarningKind::missing_name, nullptr, {}, tok.text);
        return false;
    }

    const OptionDesc* opt = find_option(tok.name);
    bool negated = false;
    // The table forbids names starting with "no-", so a name found as
    // written is never a negation.
    if (opt == nullptr && tok.name.size() > 3 && option_names_equal(head(tok.name, 3), "no-")) {
        opt = find_option(tail_from(tok.name, 3));
        negated = opt != nullptr;
    }
    if (opt == nullptr) {
        report(sink, OptionWarningKind::unknown_option, nullptr, tok.name, tok.value);
        return false;
    }

    if (negated) {
        if (opt->kind != OptionKind::boolean) {
            report(sink, OptionWarningKind::negated_non_boolean, opt, opt->name, tok.value);
            return false;
        }
        if (tok.has_value) {
            report(sink, OptionWarningKind::negated_with_value, opt, tok.name, tok.value);
            return false;
        }
        opt->store(opts, 0);
        return true;
    }
    if (!tok.has_value) {
        if (opt->kind != OptionKind::boolean) {
            report(sink, OptionWarningKind::missing_value, opt, opt->name, tok.value);
            return false;
        }
        opt->store(opts, 1);
        return true;
    }

    u64 raw = 0;
    switch (parse_option_value(*opt, tok.value, raw)) {
    case ValueVerdict::ok:
        opt->store(opts, raw);
        return true;
    case ValueVerdict::invalid:
        report(sink, OptionWarningKind::invalid_value, opt, opt->name, tok.value);
        return false;
    case ValueVerdict::out_of_range:
        report(sink, OptionWarningKind::out_of_range, opt, opt->name, tok.value);
        return false;
    }
    return false;
}

ValueVerdict verdict_of(Status s) {
    return s == Status::out_of_range ? ValueVerdict::out_of_range : ValueVerdict::invalid;
}

} // namespace

const OptionDesc* find_option(std::string_view name) {
    for (const OptionDesc& opt : kOptions)
        if (option_names_equal(opt.name, name)) return &opt;
    return nullptr;
}

ValueVerdict parse_option_value(const OptionDesc& opt, std::string_view text, u64& raw) {
    switch (opt.kind) {
    case OptionKind::boolean: {
        const Result<bool> b = parse_bool(text);
        if (!b) return ValueVerdict::invalid;
        raw = b.value() ? 1 : 0;
        return ValueVerdict::ok;
    }
    case OptionKind::uint:
    case OptionKind::size: {
        // The sentinel's own name sets it, so what the banner prints
        // reads back; its number (0) stays subject to the range.
        if (!opt.zero_text.empty() && text == opt.zero_text) {
            raw = 0;
            return ValueVerdict::ok;
        }
        const Result<u64> n = opt.kind == OptionKind::size ? parse_size(text) : parse_uint(text);
        if (!n) return verdict_of(n.status());
        if (n.value() < opt.min || n.value() > opt.max) return ValueVerdict::out_of_range;
        raw = n.value();
        return ValueVerdict::ok;
    }
    case OptionKind::enumeration:
        for (usize i = 0; i < opt.choices.size(); ++i) {
            if (text == opt.choices[i]) {
                raw = i;
                return ValueVerdict::ok;
            }
        }
        return ValueVerdict::invalid;
    }
    return ValueVerdict::invalid;
}

usize apply_options(std::string_view cmdline, Options& opts, WarningSink& warn) {
    usize warnings = 0;
    CmdlineTokenizer tokens(cmdline);
    while (const std::optional<CmdlineToken> tok = tokens.next()) {
        if (!apply_token(*tok, opts, warn)) ++warnings;
    }
    return warnings;
}

Options parse_options(std::string_view cmdline, WarningSink& warn) {
    Options opts{};
    (void)apply_options(cmdline, opts, warn);
    return opts;
}

OptionValueText format_option_value(const OptionDesc& opt, u64 raw) {
    OptionValueText t;
    MessageWriter w(t.buf.data(), t.buf.size());
    switch (opt.kind) {
    case OptionKind::boolean:
        w.put(raw != 0 ? "on" : "off");
        break;
    case OptionKind::uint:
    case OptionKind::size:
        if (raw == 0 && !opt.zero_text.empty()) w.put(opt.zero_text);
        else put_number(w, opt.kind, raw);
        break;
    case OptionKind::enumeration:
        w.put(raw < opt.choices.size() ? opt.choices[raw] : std::string_view("?"));
        break;
    }
    t.len = w.finish();
    return t;
}

} // namespace setwise::core
