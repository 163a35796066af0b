// libFuzzer target: any bytes as a command line (NULs included).
//
// Checks, beyond the sanitizers:
// - every warning's message is bounded, NUL-terminated, printable ASCII,
//   and its option/value views point into the input or the option table;
// - apply_options counts exactly the warnings it delivered;
// - what for_each_option prints, given back as a command line, parses
//   without a warning to the same options (the banner is truthful);
// - the tokenizer's views stay inside the input and tokens are non-empty.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "core/cmdline.hpp"
#include "core/options.hpp"

using namespace setwise;
using namespace setwise::core;

namespace {

void check(bool ok) {
    if (!ok) __builtin_trap();
}

bool inside(std::string_view part, std::string_view whole) {
    if (part.empty()) return true;
    const std::uintptr_t b = reinterpret_cast<std::uintptr_t>(whole.data());
    const std::uintptr_t s = reinterpret_cast<std::uintptr_t>(part.data());
    return s >= b && s + part.size() <= b + whole.size();
}

bool names_an_option(std::string_view name) {
    for (const OptionDesc& opt : option_table())
        if (opt.name.data() == name.data() && opt.name.size() == name.size()) return true;
    return false;
}

class CheckingSink final : public WarningSink {
public:
    explicit CheckingSink(std::string_view input) : input_(input) {}

    void warn(const OptionWarning& w) override {
        ++count;
        check(w.message_len < OptionWarning::kMessageCapacity);
        check(w.message_len > 0);
        check(w.message_buf[w.message_len] == '\0');
        check(std::strlen(w.c_str()) == w.message_len);
        for (char c : w.message()) check(c >= 0x20 && c < 0x7f);
        check(inside(w.value, input_));
        check(inside(w.option, input_) || names_an_option(w.option));
    }

    std::size_t count = 0;

private:
    std::string_view input_;
};

class SilentSink final : public WarningSink {
public:
    void warn(const OptionWarning&) override { ++count; }
    std::size_t count = 0;
};

bool same(const Options& a, const Options& b) {
    return a.loglvl == b.loglvl && a.sw_tracking == b.sw_tracking && a.maxcpus == b.maxcpus;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);

    CmdlineTokenizer tokens(input);
    while (const auto tok = tokens.next()) {
        check(!tok->text.empty());
        check(inside(tok->text, input) && inside(tok->name, tok->text) && inside(tok->value, tok->text));
    }
    check(inside(tokens.remainder(), input));

    CheckingSink sink(input);
    Options opts{};
    const std::size_t n = apply_options(input, opts, sink);
    check(n == sink.count);

    std::string banner;
    for_each_option(opts, [&](std::string_view name, std::string_view value) {
        check(!value.empty() && value.size() < OptionValueText::kCapacity);
        check(value.data()[value.size()] == '\0');
        banner.append(name).append("=").append(value).append(" ");
    });
    SilentSink quiet;
    const Options again = parse_options(banner, quiet);
    check(quiet.count == 0);
    check(same(again, opts));
    return 0;
}
