// The console multiplexer: guests' output on the hypervisor's console, and
// the console's input to whoever has the focus (Xen's model; user view in
// docs/guests.md, "Console").
//
// Output. Each domain with a virtual UART is a source. With one source its
// bytes reach the console as they come, unprefixed, so an interactive shell
// behaves as on a serial line of its own. With more than one, each source's
// output is line-buffered and every complete line goes out as one
// "(<name>) <line>\n" under Console::Hold, so lines of different domains and
// of the hypervisor never mix inside a line:
//
//   byte from a guest   one source (raw)            several (prefixed)
//   '\n'                '\n'                        ends the line
//   '\r' before '\n'    dropped                     dropped
//   other '\r'          passed (held until the      dropped
//                       next byte shows it is not
//                       "\r\n")
//   '\t', ESC           passed                      kept
//   other C0, DEL       passed                      shown as '.'
//   anything else       passed                      kept (UTF-8 intact)
//
// A '\r' right before '\n' is dropped because the console writes every '\n'
// as "\r\n" (core/console.hpp); other carriage returns matter in raw mode
// (line editing redraws with them) and would overwrite the prefix in
// prefixed mode.
//
// A line longer than kLineBytes goes out in kLineBytes pieces, each with the
// prefix. A partial line (a shell prompt) goes out, with a newline, once
// flush_idle() has seen it unchanged for the idle time; so does a '\r' raw
// mode is holding back.
//
// Switching modes when a second source registers, the console is moved to
// a fresh line if the single source's raw output left it inside one. Once
// prefixed, sources stay prefixed while any remains: when domains end, the
// survivors' lines still say whose they are.
//
// Rate limit. Each source's output passes a token bucket (core/rate_limit.hpp)
// before anything above: one token per byte the guest writes, `burst`
// tokens at most, refilled at `rate` a second (set_rate_limit(); the
// `console-rate` and `console-burst` options). A byte with no token is
// dropped and counted, and the source is then muted: it drops everything
// until its bucket has refilled to one second's worth (the rate, or the
// burst if smaller), so a guest that writes without pause alternates
// between a second's output and a second's silence instead of trickling a
// byte at a time, and gets at most one report a second. When the mute ends
// (at the next byte, or at the flush_idle() that finds the bucket refilled,
// whichever comes first) the source's partial line goes out first (prefixed
// mode; raw mode ends the console line), then one hypervisor line
//
//   (setwise) warning: <name>: <N> bytes of console output dropped (rate limit)
//
// under Console::Hold, so it never lands inside a guest's line, and the
// source's next byte starts a line of its own. A source that unregisters
// while muted reports the same way. The report is a warning: `loglvl=error`
// hides it (the count is reset all the same).
//
// Input. The focus cycles: the hypervisor, then each source in registration
// order, then the hypervisor again. Three Ctrl-a (0x01) in a row move it on
// and are swallowed; one or two Ctrl-a followed by another byte are passed
// on, then that byte, so a guest can still be sent Ctrl-a. Every switch is
// announced on the console as one hypervisor line.
//
// Locking (docs/locking.md):
//
//   table lock  ->  InputSink's own locks  ->  source lock  ->  console lock
//
// The table lock guards registration, the focus and the rate-limit
// settings; each source's lock guards its line buffer, its bucket and its
// drop count (the clock is read with it held); the console lock
// (Console::Hold) is taken last, around each console write. output() takes
// only its source's lock and the console's, so a virtual UART may call it
// holding its own lock; input() calls an InputSink with the table lock
// held, so a sink must not call back into register_domain(), unregister(),
// input(), start_focus(), set_hypervisor_input(), set_rate_limit(),
// focused() or focus_name() (output() is fine). A CPU holding Console::Hold
// must not call into the multiplexer.
#pragma once

#include <array>
#include <atomic>
#include <string_view>

#include "core/console.hpp"
#include "core/rate_limit.hpp"
#include "setwise/result.hpp"
#include "setwise/spinlock.hpp"
#include "setwise/types.hpp"

namespace setwise::core {

// Where console input for one target goes: a virtual UART's receive FIFO,
// the hypervisor's debug keys. Called on the console CPU, with the
// multiplexer's table lock held (see the lock order above); must not block.
class InputSink {
public:
    virtual void input(char c) = 0;

protected:
    ~InputSink() = default;
};

// One registration. Slot and generation: an id kept after unregister()
// (a vCPU still writing while its domain is torn down) matches nothing,
// even once the slot is reused. The default value is no source at all.
class SourceId {
public:
    constexpr SourceId() = default;
    constexpr bool valid() const { return slot_ != kNoSlot; }
    constexpr bool operator==(const SourceId&) const = default;

private:
    friend class ConsoleMux;
    static constexpr u32 kNoSlot = ~u32{0};
    constexpr SourceId(u32 slot, u32 generation) : slot_(slot), generation_(generation) {}

    u32 slot_ = kNoSlot;
    u32 generation_ = 0;
};

class ConsoleMux {
public:
    static constexpr usize kMaxSources = 8;   // core/domain_config.hpp kMaxDomains
    static constexpr usize kMaxNameBytes = 32; // a DT node name is at most 31
    static constexpr usize kLineBytes = 160;   // longer lines go out in pieces
    static constexpr char kCtrlA = '\x01';
    static constexpr u32 kSwitchPresses = 3;   // Ctrl-a presses that move the focus
    // The hypervisor's name in prefixes and announcements; no source may take it.
    static constexpr std::string_view kHypervisorName = "setwise";

    // A name, copied out so that it stays valid after the lock is dropped.
    struct Name {
        std::array<char, kMaxNameBytes> text{};
        u8 size = 0;
        std::string_view view() const { return {text.data(), size}; }
    };

    // Writes to core::console(). Constant-initialised: usable from the
    // first instruction of core::start() without a constructor having run.
    constexpr ConsoleMux() = default;
    // Writes to `console` (tests).
    constexpr explicit ConsoleMux(Console& console) : console_(&console) {}
    ConsoleMux(const ConsoleMux&) = delete;
    ConsoleMux& operator=(const ConsoleMux&) = delete;

    // A new source, in prefixed mode if another source exists. `sink` gets
    // the input while the source has the focus; nullptr drops it.
    // Fails with invalid_argument for an empty name or one with a byte
    // outside printable ASCII or a space, out_of_range for a name longer
    // than kMaxNameBytes, exists for a name in use or kHypervisorName,
    // no_memory when kMaxSources are registered. `sink` must stay valid
    // until unregister() returns.
    Result<SourceId> register_domain(std::string_view name, InputSink* sink);

    // Flushes the source's partial line (prefixed, with a newline) and
    // forgets it. If it had the focus, the focus moves to the next source in
    // registration order, else to the hypervisor, announced. An id that is
    // not registered (default, stale, unregistered twice) is ignored.
    void unregister(SourceId id);

    // Output from a source, from any CPU. Ignored for an id that is not
    // registered. The string form is one unit: raw output of it is not
    // interleaved with other console writes.
    void output(SourceId id, char c);
    void output(SourceId id, std::string_view s);

    // Flushes what has waited `idle flush ticks` without a new byte: a
    // partial line in prefixed mode, a held '\r' in raw mode. Called by the
    // console CPU's poll loop with a monotonic time (generic timer ticks);
    // the wait is measured from the first call that saw the latest byte, so
    // it is at most one poll period longer than configured. Any CPU.
    void flush_idle(u64 now_ticks);
    // Default 0: flush at the first poll that finds a partial line.
    void set_idle_flush_ticks(u64 ticks) { idle_ticks_.store(ticks, std::memory_order_relaxed); }

    // A monotonic counter (the generic timer's on the target; a test's own
    // in host tests), read with a source's lock held, so it must take no
    // lock. Its ticks are the same as flush_idle()'s `now_ticks`.
    using Clock = u64 (*)();

    // Limits each source's output to `bytes_per_second` sustained and
    // `burst_bytes` at once, with time from `clock` at `frequency` ticks a
    // second. A rate, burst or frequency of 0, or a null clock, is no limit
    // (the default). Applies to the sources already registered too: their
    // buckets start full, and drops they have not reported yet are reported
    // as usual. Any CPU; not while holding a source's lock.
    void set_rate_limit(u64 bytes_per_second, u64 burst_bytes, Clock clock, u64 frequency);

    // One byte read from the console, on the console CPU. Until
    // start_focus() the hypervisor has the focus.
    void input(char c);
    // Where the hypervisor's input goes (debug keys); nullptr drops it.
    void set_hypervisor_input(InputSink* sink);

    // Gives the focus to the first registered source, or the hypervisor if
    // there is none, and announces it. Called once, when the console CPU
    // starts reading input.
    void start_focus();
    // The source with the focus; an invalid id when it is the hypervisor.
    SourceId focused() const;
    // kHypervisorName or the focused source's name.
    Name focus_name() const;

private:
    static constexpr u32 kHypervisor = kMaxSources; // focus_ value

    struct Slot {
        SpinLock lock;
        // Written with the table lock and this slot's lock held, so either
        // one is enough to read them.
        bool active = false;
        u32 generation = 0;
        Name name;
        InputSink* sink = nullptr;
        // This slot's lock only.
        bool prefixed = false;
        bool pending_cr = false;  // raw mode: a '\r' that may precede '\n'
        bool fresh = false;       // a byte arrived since flush_idle() last looked
        u64 quiet_since = 0;      // when flush_idle() last saw a byte arrive
        u16 len = 0;
        std::array<char, kLineBytes> line{};
        TokenBucket bucket;       // unlimited until set_rate_limit()
        Clock clock = nullptr;    // non-null when the bucket is limited
        u64 dropped = 0;          // bytes dropped, not yet reported; > 0: muted
    };

    Console& out() const;
    // `s` holds the registration `id` names. Precondition: s.lock or the
    // table lock held.
    bool matches(const Slot& s, SourceId id) const { return s.active && s.generation == id.generation_; }

    // Precondition for put_raw: the console is held (Console::Hold).
    void put_raw(Slot& s, const SpinLock::Guard& slot_held, char c);
    void put_prefixed(Slot& s, const SpinLock::Guard& slot_held, char c);
    void emit_line(Slot& s, const SpinLock::Guard& slot_held);
    // How many of the `n` bytes output() was given may go out (a prefix of
    // them); the rest are counted as dropped. Ends a mute (reporting it)
    // first if the bucket allows.
    usize admit(Slot& s, const SpinLock::Guard& slot_held, usize n);
    // Ends a mute if the bucket has refilled to the resume level at `now`.
    // Precondition: s.dropped > 0.
    bool try_resume(Slot& s, const SpinLock::Guard& slot_held, u64 now);
    // The partial line, then the drop report; clears the count.
    void report_drops(Slot& s, const SpinLock::Guard& slot_held);
    // The bucket (and its clock) as the table's settings say, full.
    void configure_bucket(Slot& s, const SpinLock::Guard& table_held, const SpinLock::Guard& slot_held);
    // Starts a fresh console line if raw output left it inside one.
    // Precondition: the console is held (Console::Hold).
    void break_raw_line();

    // The lone raw source becomes prefixed (a second one is registering).
    void start_prefixing(Slot& s);
    void announce_focus(const SpinLock::Guard& table_held);
    InputSink* focus_sink(const SpinLock::Guard& table_held) const;
    usize position(const SpinLock::Guard& table_held, u32 slot) const;

    Console* console_ = nullptr; // nullptr: core::console()
    mutable SpinLock table_lock_;
    std::array<Slot, kMaxSources> slots_{}; // fields guarded as Slot says
    // Table lock.
    std::array<u32, kMaxSources> order_{}; // active slots, in registration order
    usize count_ = 0;
    u32 focus_ = kHypervisor;
    bool focus_started_ = false;
    u32 ctrl_a_ = 0; // Ctrl-a presses not yet passed on
    InputSink* hypervisor_sink_ = nullptr;
    // Table lock: the settings new sources get (each slot keeps its copy).
    Clock clock_ = nullptr;
    u64 rate_ = 0;      // bytes a second; 0: unlimited
    u64 burst_ = 0;     // bytes
    u64 frequency_ = 0; // clock_ ticks a second
    // The console lock: raw output ended inside a line.
    bool raw_mid_line_ = false;
    std::atomic<u64> idle_ticks_{0};
};

// The hypervisor's multiplexer, over core::console().
ConsoleMux& console_mux();

} // namespace setwise::core
