#include "core/console_mux.hpp"

#include <algorithm>
#include <utility>

#include "core/format.hpp"
#include "core/log.hpp"

namespace setwise::core {

namespace {

constinit ConsoleMux g_mux;

constexpr std::string_view kAnnounceHead = "(setwise) console input to ";
constexpr std::string_view kAnnounceTail = " (Ctrl-a three times to switch)\n";

// Names appear inside "(...)" on every line and are matched by users'
// scripts: printable ASCII without spaces, as DT node names are.
bool valid_name_byte(char c) { return c > ' ' && c <= '~'; }

// A muted source speaks again once its bucket holds a second's worth of
// output (the whole burst if that is less): see the header.
u64 resume_level(const TokenBucket& b) { return std::min(b.rate(), b.burst()); }

// Prefixed mode: a control byte could move the cursor over the prefix or
// another domain's line. TAB and ESC stay (indentation, colour).
char shown(char c) {
    const auto b = static_cast<u8>(c);
    if ((b < 0x20 && c != '\t' && c != '\x1b') || b == 0x7f) return '.';
    return c;
}

} // namespace

ConsoleMux& console_mux() { return g_mux; }

Console& ConsoleMux::out() const { return console_ != nullptr ? *console_ : core::console(); }

Result<SourceId> ConsoleMux::register_domain(std::string_view name, InputSink* sink) {
    if (name.empty()) return Status::invalid_argument;
    if (name.size() > kMaxNameBytes) return Status::out_of_range;
    for (char c : name) {
        if (!valid_name_byte(c)) return Status::invalid_argument;
    }
    if (name == kHypervisorName) return Status::exists;

    SpinLock::Guard table(table_lock_);
    for (usize i = 0; i < count_; ++i) {
        if (slots_[order_[i]].name.view() == name) return Status::exists;
    }
    if (count_ == kMaxSources) return Status::no_memory;
    u32 slot = 0;
    while (slots_[slot].active) ++slot; // count_ < kMaxSources: one is free

    if (count_ == 1) start_prefixing(slots_[order_[0]]);
    Slot& s = slots_[slot];
    {
        SpinLock::Guard held(s.lock);
        s.active = true;
        ++s.generation;
        for (usize i = 0; i < name.size(); ++i) s.name.text[i] = name[i];
        s.name.size = static_cast<u8>(name.size());
        s.sink = sink;
        s.prefixed = count_ > 0;
        s.pending_cr = false;
        s.fresh = false;
        s.quiet_since = 0;
        s.len = 0;
        s.dropped = 0;
        configure_bucket(s, table, held);
    }
    order_[count_++] = slot;
    return SourceId(slot, s.generation);
}

void ConsoleMux::unregister(SourceId id) {
    if (id.slot_ >= kMaxSources) return;
    SpinLock::Guard table(table_lock_);
    Slot& s = slots_[id.slot_];
    if (!matches(s, id)) return;
    const usize pos = position(table, id.slot_);
    {
        SpinLock::Guard held(s.lock);
        if (s.prefixed && s.len > 0) emit_line(s, held);
        if (s.dropped > 0) report_drops(s, held);
        // A held raw '\r' is dropped: the next hypervisor line starts on a
        // fresh line anyway (raw_mid_line_ stays as the last byte left it).
        s.active = false;
        s.sink = nullptr;
        s.pending_cr = false;
        s.prefixed = false;
        s.fresh = false;
        s.len = 0;
    }
    for (usize i = pos; i + 1 < count_; ++i) order_[i] = order_[i + 1];
    --count_;
    // The survivors stay prefixed, even a lone one: going raw would leave
    // its lines without the name that the earlier ones carried.
    if (focus_ == id.slot_) {
        // The source now at `pos` is the one that came after it.
        focus_ = pos < count_ ? order_[pos] : kHypervisor;
        ctrl_a_ = 0;
        if (focus_started_) announce_focus(table);
    }
}

void ConsoleMux::output(SourceId id, char c) { output(id, std::string_view(&c, 1)); }

void ConsoleMux::output(SourceId id, std::string_view text) {
    if (id.slot_ >= kMaxSources || text.empty()) return;
    Slot& s = slots_[id.slot_];
    SpinLock::Guard held(s.lock);
    if (!matches(s, id)) return;
    s.fresh = true;
    text = text.substr(0, admit(s, held, text.size()));
    if (text.empty()) return;
    if (s.prefixed) {
        for (char c : text) put_prefixed(s, held, c);
        return;
    }
    Console::Hold hold(out());
    for (char c : text) put_raw(s, held, c);
}

usize ConsoleMux::admit(Slot& s, const SpinLock::Guard& held, usize n) {
    // s.clock is set whenever the bucket is limited (configure_bucket).
    const u64 now = s.bucket.unlimited() ? 0 : s.clock();
    if (s.dropped > 0 && !try_resume(s, held, now)) {
        s.dropped = saturating_add(s.dropped, n);
        return 0;
    }
    const u64 granted = s.bucket.take(now, n);
    s.dropped = saturating_add(s.dropped, n - granted);
    return static_cast<usize>(granted);
}

bool ConsoleMux::try_resume(Slot& s, const SpinLock::Guard& held, u64 now) {
    if (s.bucket.available(now) < resume_level(s.bucket)) return false;
    report_drops(s, held);
    return true;
}

void ConsoleMux::report_drops(Slot& s, const SpinLock::Guard& held) {
    // What the guest wrote after the gap is not the rest of this line.
    if (s.prefixed && s.len > 0) emit_line(s, held);
    // A held raw '\r' goes with the line that the report ends.
    s.pending_cr = false;
    const u64 dropped = std::exchange(s.dropped, u64{0});
    if (!log::enabled(log::Level::warning)) return;
    Console& c = out();
    Console::Hold hold(c);
    break_raw_line();
    c.write(log::prefix(log::Level::warning));
    fmt::format_to(c, "{}: {} bytes of console output dropped (rate limit)\n", s.name.view(), dropped);
}

void ConsoleMux::configure_bucket(Slot& s, const SpinLock::Guard&, const SpinLock::Guard&) {
    s.clock = clock_;
    if (clock_ == nullptr) s.bucket = TokenBucket();
    else s.bucket.configure(rate_, burst_, frequency_, clock_());
}

void ConsoleMux::set_rate_limit(u64 bytes_per_second, u64 burst_bytes, Clock clock, u64 frequency) {
    SpinLock::Guard table(table_lock_);
    clock_ = clock;
    rate_ = bytes_per_second;
    burst_ = burst_bytes;
    frequency_ = frequency;
    for (Slot& s : slots_) {
        SpinLock::Guard held(s.lock);
        if (s.active) configure_bucket(s, table, held);
    }
}

void ConsoleMux::put_raw(Slot& s, const SpinLock::Guard&, char c) {
    if (s.pending_cr) {
        s.pending_cr = false;
        if (c != '\n') out().write("\r");
    }
    if (c == '\r') {
        s.pending_cr = true;
        return;
    }
    out().write(std::string_view(&c, 1));
    raw_mid_line_ = c != '\n';
}

void ConsoleMux::put_prefixed(Slot& s, const SpinLock::Guard& held, char c) {
    if (c == '\r') return;
    if (c == '\n') {
        emit_line(s, held);
        return;
    }
    // Full: this byte starts the next piece. Waiting for it (rather than
    // flushing as soon as the buffer fills) keeps a line of exactly
    // kLineBytes whole instead of following it with an empty one.
    if (s.len == kLineBytes) emit_line(s, held);
    s.line[s.len++] = c;
}

void ConsoleMux::emit_line(Slot& s, const SpinLock::Guard&) {
    for (usize i = 0; i < s.len; ++i) s.line[i] = shown(s.line[i]);
    Console& c = out();
    Console::Hold hold(c);
    break_raw_line();
    c.write("(");
    c.write(s.name.view());
    c.write(") ");
    c.write(std::string_view(s.line.data(), s.len));
    c.write("\n");
    s.len = 0;
}

void ConsoleMux::break_raw_line() {
    if (!raw_mid_line_) return;
    out().write("\n");
    raw_mid_line_ = false;
}

void ConsoleMux::start_prefixing(Slot& s) {
    SpinLock::Guard held(s.lock);
    // A held '\r' no longer matters: the line is ended here.
    s.pending_cr = false;
    s.prefixed = true;
    Console::Hold hold(out());
    break_raw_line();
}

void ConsoleMux::flush_idle(u64 now_ticks) {
    const u64 idle = idle_ticks_.load(std::memory_order_relaxed);
    for (Slot& s : slots_) {
        SpinLock::Guard held(s.lock);
        if (!s.active) continue;
        if (s.fresh) {
            s.fresh = false;
            s.quiet_since = now_ticks;
        }
        // A mute ends when the bucket allows, not only when the guest
        // writes again: a guest that flooded and went quiet is reported.
        if (s.dropped > 0) (void)try_resume(s, held, s.bucket.unlimited() ? 0 : s.clock());
        // A clock going backwards is not idleness.
        if (now_ticks < s.quiet_since || now_ticks - s.quiet_since < idle) continue;
        if (s.prefixed) {
            if (s.len > 0) emit_line(s, held);
        } else if (s.pending_cr) {
            s.pending_cr = false;
            Console::Hold hold(out());
            out().write("\r");
            raw_mid_line_ = true;
        }
    }
}

void ConsoleMux::input(char c) {
    SpinLock::Guard table(table_lock_);
    if (c == kCtrlA) {
        if (++ctrl_a_ < kSwitchPresses) return;
        ctrl_a_ = 0;
        if (focus_ == kHypervisor) {
            focus_ = count_ > 0 ? order_[0] : kHypervisor;
        } else {
            const usize next = position(table, focus_) + 1;
            focus_ = next < count_ ? order_[next] : kHypervisor;
        }
        announce_focus(table);
        return;
    }
    InputSink* sink = focus_sink(table);
    if (sink != nullptr) {
        for (u32 i = 0; i < ctrl_a_; ++i) sink->input(kCtrlA);
        sink->input(c);
    }
    ctrl_a_ = 0;
}

void ConsoleMux::set_hypervisor_input(InputSink* sink) {
    SpinLock::Guard table(table_lock_);
    hypervisor_sink_ = sink;
}

void ConsoleMux::start_focus() {
    SpinLock::Guard table(table_lock_);
    focus_ = count_ > 0 ? order_[0] : kHypervisor;
    focus_started_ = true;
    ctrl_a_ = 0;
    announce_focus(table);
}

SourceId ConsoleMux::focused() const {
    SpinLock::Guard table(table_lock_);
    if (focus_ == kHypervisor) return SourceId();
    return SourceId(focus_, slots_[focus_].generation);
}

ConsoleMux::Name ConsoleMux::focus_name() const {
    SpinLock::Guard table(table_lock_);
    if (focus_ != kHypervisor) return slots_[focus_].name;
    Name n;
    for (usize i = 0; i < kHypervisorName.size(); ++i) n.text[i] = kHypervisorName[i];
    n.size = static_cast<u8>(kHypervisorName.size());
    return n;
}

void ConsoleMux::announce_focus(const SpinLock::Guard&) {
    const std::string_view name = focus_ == kHypervisor ? kHypervisorName : slots_[focus_].name.view();
    Console& c = out();
    Console::Hold hold(c);
    break_raw_line();
    c.write(kAnnounceHead);
    c.write(name);
    c.write(kAnnounceTail);
}

InputSink* ConsoleMux::focus_sink(const SpinLock::Guard&) const {
    return focus_ == kHypervisor ? hypervisor_sink_ : slots_[focus_].sink;
}

usize ConsoleMux::position(const SpinLock::Guard&, u32 slot) const {
    usize i = 0;
    while (i < count_ && order_[i] != slot) ++i;
    return i;
}

} // namespace setwise::core
