// core/console_mux: guests' output on the console (raw with one domain,
// whole prefixed lines with several), the idle flush of partial lines, the
// input focus and its Ctrl-a switch, domains leaving, and output from
// several CPUs (host threads with their own PerCpu) at once.
//
// What the console writes is checked byte for byte as the UART receives it,
// so every '\n' the multiplexer writes shows up as "\r\n".
#include "core/console_mux.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/log.hpp"
#include "core/percpu.hpp"

namespace setwise::core {
namespace {

using namespace std::chrono_literals;
using namespace std::string_literals;
using namespace std::string_view_literals;

class RecordingUart final : public Uart {
public:
    void init() override {}
    void put(char c) override {
        std::lock_guard<std::mutex> g(m_);
        out_ += c;
    }
    bool get(char&) override { return false; }
    void flush() override {}

    std::string out() {
        std::lock_guard<std::mutex> g(m_);
        return out_;
    }
    // What arrived since the last take().
    std::string take() {
        std::lock_guard<std::mutex> g(m_);
        std::string s = out_.substr(taken_);
        taken_ = out_.size();
        return s;
    }

private:
    std::mutex m_;
    std::string out_;
    usize taken_ = 0;
};

class RecordingSink final : public InputSink {
public:
    void input(char c) override { got += c; }
    std::string got;
};

// Runs f on its own thread; a hang (a deadlock in the code under test) ends
// the whole test binary with a failure instead of blocking forever.
template <typename F>
void run_or_die(F f, std::chrono::milliseconds limit = 20000ms) {
    std::packaged_task<void()> task(f);
    std::future<void> done = task.get_future();
    std::thread t(std::move(task));
    if (done.wait_for(limit) != std::future_status::ready) {
        std::fprintf(stderr, "FATAL: timed out (deadlock?)\n");
        std::_Exit(1);
    }
    t.join();
}

std::string announce(std::string_view name) {
    return "(setwise) console input to "s + std::string(name) + " (Ctrl-a three times to switch)\r\n";
}

class ConsoleMuxTest : public ::testing::Test {
protected:
    ConsoleMuxTest() {
        console.attach(&uart);
        console.enable_locking();
    }

    SourceId add(std::string_view name, InputSink* sink = nullptr) {
        Result<SourceId> r = mux.register_domain(name, sink);
        EXPECT_TRUE(r.ok()) << name << ": " << status_name(r.status());
        return r.value_or(SourceId());
    }

    void press(std::string_view keys) {
        for (char c : keys) mux.input(c);
    }

    RecordingUart uart;
    Console console;
    ConsoleMux mux{console};
};

// ---------------------------------------------------------------------------
// Registration

TEST_F(ConsoleMuxTest, NamesAreValidated) {
    EXPECT_EQ(mux.register_domain("", nullptr).status(), Status::invalid_argument);
    EXPECT_EQ(mux.register_domain("dom U", nullptr).status(), Status::invalid_argument);
    EXPECT_EQ(mux.register_domain("dom\x01", nullptr).status(), Status::invalid_argument);
    EXPECT_EQ(mux.register_domain("d\xc3\xa9", nullptr).status(), Status::invalid_argument);
    EXPECT_EQ(mux.register_domain(std::string(ConsoleMux::kMaxNameBytes + 1, 'x'), nullptr).status(),
              Status::out_of_range);
    EXPECT_EQ(mux.register_domain("setwise", nullptr).status(), Status::exists);

    const std::string longest(ConsoleMux::kMaxNameBytes, 'y');
    EXPECT_TRUE(mux.register_domain(longest, nullptr).ok());
    EXPECT_TRUE(mux.register_domain("domU1@0,x+y.z_w-v", nullptr).ok());
    EXPECT_EQ(mux.register_domain("domU1@0,x+y.z_w-v", nullptr).status(), Status::exists);
    EXPECT_EQ(uart.out(), "");
}

TEST_F(ConsoleMuxTest, AtMostMaxSources) {
    std::vector<SourceId> ids;
    for (usize i = 0; i < ConsoleMux::kMaxSources; ++i) {
        ids.push_back(add("d" + std::to_string(i)));
        EXPECT_TRUE(ids.back().valid());
    }
    EXPECT_EQ(mux.register_domain("extra", nullptr).status(), Status::no_memory);
    // A freed slot takes a new domain.
    mux.unregister(ids[3]);
    const SourceId again = add("extra");
    EXPECT_TRUE(again.valid());
    EXPECT_EQ(mux.register_domain("more", nullptr).status(), Status::no_memory);
}

TEST_F(ConsoleMuxTest, StaleAndDefaultIdsAreIgnored) {
    const SourceId a = add("a");
    mux.unregister(a);
    const SourceId b = add("b"); // reuses a's slot
    EXPECT_NE(a, b);
    mux.output(a, "from a\n");
    mux.output(SourceId(), "from nobody\n");
    mux.unregister(a); // must not remove b
    mux.unregister(SourceId());
    mux.output(b, "b\n");
    EXPECT_EQ(uart.out(), "b\r\n");
}

// ---------------------------------------------------------------------------
// One domain: raw

TEST_F(ConsoleMuxTest, SingleDomainIsRaw) {
    const SourceId a = add("a");
    mux.output(a, "Booting Linux\r\n");
    mux.output(a, "# ");
    // Bytes go out as they come: no prefix, no wait for the end of the line.
    EXPECT_EQ(uart.take(), "Booting Linux\r\n# ");
    mux.output(a, 'l');
    mux.output(a, 's');
    EXPECT_EQ(uart.take(), "ls");
    // A terminal needs its escape sequences and control bytes unchanged.
    mux.output(a, "\x1b[1;32mok\x1b[0m\x07\x08\x7f\t|\xc3\xa9");
    EXPECT_EQ(uart.take(), "\x1b[1;32mok\x1b[0m\x07\x08\x7f\t|\xc3\xa9");
}

TEST_F(ConsoleMuxTest, RawCarriageReturnPolicy) {
    const SourceId a = add("a");
    // "\r\n" from the guest is one "\r\n" on the wire, not "\r\r\n"; so is a
    // bare "\n" (the console adds the '\r').
    mux.output(a, "one\r\ntwo\n");
    EXPECT_EQ(uart.take(), "one\r\ntwo\r\n");
    // Split across calls.
    mux.output(a, "three\r");
    EXPECT_EQ(uart.take(), "three"); // the '\r' waits for the next byte
    mux.output(a, '\n');
    EXPECT_EQ(uart.take(), "\r\n");
    // Any other '\r' reaches the terminal (progress lines, line editing).
    mux.output(a, "10%\r20%\r\r\n");
    EXPECT_EQ(uart.take(), "10%\r20%\r\r\n");
}

TEST_F(ConsoleMuxTest, RawHeldCarriageReturnGoesOutWhenIdle) {
    mux.set_idle_flush_ticks(10);
    const SourceId a = add("a");
    mux.output(a, "50%\r");
    mux.flush_idle(100);
    mux.flush_idle(109);
    EXPECT_EQ(uart.take(), "50%");
    mux.flush_idle(110);
    EXPECT_EQ(uart.take(), "\r");
    // Already written: the next byte does not repeat it.
    mux.output(a, "60%");
    EXPECT_EQ(uart.take(), "60%");
}

// ---------------------------------------------------------------------------
// Several domains: prefixed lines

TEST_F(ConsoleMuxTest, InterleavedBytesMakeWholePrefixedLines) {
    const SourceId a = add("domA");
    const SourceId b = add("domB");
    mux.output(a, 'h');
    mux.output(b, "wo");
    mux.output(a, "el");
    mux.output(b, 'r');
    EXPECT_EQ(uart.take(), ""); // nothing until a line is complete
    mux.output(a, "lo\r\n");
    mux.output(b, "ld\nsecond");
    mux.output(b, " line\n");
    EXPECT_EQ(uart.take(), "(domA) hello\r\n(domB) world\r\n(domB) second line\r\n");
    // An empty line is a line.
    mux.output(a, '\n');
    EXPECT_EQ(uart.take(), "(domA) \r\n");
}

TEST_F(ConsoleMuxTest, PrefixedModeHidesControlBytes) {
    const SourceId a = add("a");
    add("b");
    mux.output(a, "\x07\x08x\ty\x1b[0mz\x7f\x01\xc3\xa9\r|\n");
    // '\r' dropped, TAB and ESC kept, other C0 and DEL shown as '.', UTF-8 kept.
    EXPECT_EQ(uart.take(), "(a) ..x\ty\x1b[0mz..\xc3\xa9|\r\n");
}

TEST_F(ConsoleMuxTest, LongLinesGoOutInPrefixedPieces) {
    const SourceId a = add("a");
    add("b");
    constexpr usize n = ConsoleMux::kLineBytes;
    std::string line;
    for (usize i = 0; i < 2 * n + 5; ++i) line += static_cast<char>('a' + i % 26);
    mux.output(a, line + "\n");
    const std::string want = "(a) " + line.substr(0, n) + "\r\n" + "(a) " + line.substr(n, n) + "\r\n" +
                             "(a) " + line.substr(2 * n) + "\r\n";
    EXPECT_EQ(uart.take(), want);

    // Exactly one buffer's worth: one line, no empty one after it.
    const std::string exact(n, 'x');
    mux.output(a, exact);
    EXPECT_EQ(uart.take(), "");
    mux.output(a, "\r\n");
    EXPECT_EQ(uart.take(), "(a) " + exact + "\r\n");
}

TEST_F(ConsoleMuxTest, PartialLineWaitsForTheIdleTime) {
    mux.set_idle_flush_ticks(100);
    const SourceId a = add("a");
    const SourceId b = add("b");
    mux.output(a, "# ");
    mux.output(b, "done\n");
    EXPECT_EQ(uart.take(), "(b) done\r\n");

    mux.flush_idle(1000); // first sight of a's bytes
    mux.flush_idle(1099);
    EXPECT_EQ(uart.take(), "");
    mux.flush_idle(1100);
    EXPECT_EQ(uart.take(), "(a) # \r\n");
    mux.flush_idle(5000); // nothing left to flush
    EXPECT_EQ(uart.take(), "");

    // A new byte restarts the wait, from the first poll that sees it.
    mux.output(a, "l");
    mux.flush_idle(5050);
    mux.output(a, "s");
    mux.flush_idle(5150); // "l" alone would go out now
    mux.flush_idle(5249);
    EXPECT_EQ(uart.take(), "");
    mux.flush_idle(5250);
    EXPECT_EQ(uart.take(), "(a) ls\r\n");

    // A clock that goes backwards does not flush.
    mux.output(a, "x");
    mux.flush_idle(9000);
    mux.flush_idle(10);
    EXPECT_EQ(uart.take(), "");
}

TEST_F(ConsoleMuxTest, SecondDomainStartsPrefixedModeOnAFreshLine) {
    const SourceId a = add("a");
    mux.output(a, "# ");
    EXPECT_EQ(uart.take(), "# ");
    const SourceId b = add("b");
    EXPECT_EQ(uart.take(), "\r\n"); // a's prompt ended before prefixed lines start
    mux.output(a, "x\n");
    mux.output(b, "y\n");
    EXPECT_EQ(uart.take(), "(a) x\r\n(b) y\r\n");
}

TEST_F(ConsoleMuxTest, BackToOneDomainTheSurvivorStaysPrefixed) {
    const SourceId a = add("a");
    const SourceId b = add("b");
    mux.output(a, "# ");
    mux.output(b, "bye");
    mux.unregister(b);
    // b's partial line flushed with its prefix; a's stays buffered.
    EXPECT_EQ(uart.take(), "(b) bye\r\n");
    mux.output(a, "ls\r\n");
    EXPECT_EQ(uart.take(), "(a) # ls\r\n");
}

TEST_F(ConsoleMuxTest, UnregisterFlushesThePartialLine) {
    const SourceId a = add("a");
    const SourceId b = add("b");
    add("c");
    mux.output(a, "half");
    mux.unregister(a);
    EXPECT_EQ(uart.take(), "(a) half\r\n");
    // Still prefixed with two left.
    mux.output(b, "z\n");
    EXPECT_EQ(uart.take(), "(b) z\r\n");
}

// ---------------------------------------------------------------------------
// Input focus

TEST_F(ConsoleMuxTest, FocusStartsAtTheHypervisorWithoutDomains) {
    RecordingSink hv;
    mux.set_hypervisor_input(&hv);
    mux.start_focus();
    EXPECT_EQ(uart.take(), announce("setwise"));
    EXPECT_FALSE(mux.focused().valid());
    EXPECT_EQ(mux.focus_name().view(), "setwise");
    press("s");
    EXPECT_EQ(hv.got, "s");
    // With no domain, the switch comes back to the hypervisor, announced.
    press("\x01\x01\x01");
    EXPECT_EQ(uart.take(), announce("setwise"));
    EXPECT_EQ(hv.got, "s");
}

TEST_F(ConsoleMuxTest, FocusCyclesInRegistrationOrder) {
    RecordingSink hv, sa, sb;
    mux.set_hypervisor_input(&hv);
    const SourceId a = add("first", &sa);
    const SourceId b = add("second", &sb);
    // Before start_focus() input is the hypervisor's.
    press("h");
    EXPECT_EQ(hv.got, "h");

    mux.start_focus();
    EXPECT_EQ(uart.take(), announce("first"));
    EXPECT_EQ(mux.focused(), a);
    press("1");
    press("\x01\x01\x01");
    EXPECT_EQ(uart.take(), announce("second"));
    EXPECT_EQ(mux.focused(), b);
    EXPECT_EQ(mux.focus_name().view(), "second");
    press("2");
    press("\x01\x01\x01");
    EXPECT_EQ(uart.take(), announce("setwise"));
    EXPECT_FALSE(mux.focused().valid());
    press("3");
    press("\x01\x01\x01");
    EXPECT_EQ(uart.take(), announce("first"));
    press("4");

    EXPECT_EQ(sa.got, "14");
    EXPECT_EQ(sb.got, "2");
    EXPECT_EQ(hv.got, "h3");
}

TEST_F(ConsoleMuxTest, OneOrTwoCtrlAReachTheGuest) {
    RecordingSink sa, sb;
    add("a", &sa);
    add("b", &sb);
    mux.start_focus();
    uart.take();
    press("\x01x");
    EXPECT_EQ(sa.got, "\x01x");
    press("\x01\x01y");
    EXPECT_EQ(sa.got, "\x01x\x01\x01y");
    // Held until the next byte shows they are not a switch.
    press("\x01\x01");
    EXPECT_EQ(sa.got, "\x01x\x01\x01y");
    press("z");
    EXPECT_EQ(sa.got, "\x01x\x01\x01y\x01\x01z");
    // Four: a switch, then one Ctrl-a for the new focus.
    press("\x01\x01\x01\x01q");
    EXPECT_EQ(uart.take(), announce("b"));
    EXPECT_EQ(sb.got, "\x01q");
    EXPECT_EQ(sa.got, "\x01x\x01\x01y\x01\x01z");
    EXPECT_EQ(uart.take(), "");
}

TEST_F(ConsoleMuxTest, InputWithoutASinkIsDropped) {
    RecordingSink sb;
    add("a", nullptr);
    add("b", &sb);
    mux.start_focus();
    press("lost");
    press("\x01\x01\x01kept");
    EXPECT_EQ(sb.got, "kept");
}

TEST_F(ConsoleMuxTest, AnnouncementStartsOnAFreshLine) {
    const SourceId a = add("a");
    mux.output(a, "# ");
    mux.start_focus();
    EXPECT_EQ(uart.take(), "# \r\n" + announce("a"));
    // Back on a line boundary: no extra newline.
    press("\x01\x01\x01");
    EXPECT_EQ(uart.take(), announce("setwise"));
}

TEST_F(ConsoleMuxTest, UnregisteringTheFocusMovesItOn) {
    RecordingSink sa, sb, sc, hv;
    mux.set_hypervisor_input(&hv);
    const SourceId a = add("a", &sa);
    const SourceId b = add("b", &sb);
    const SourceId c = add("c", &sc);
    mux.start_focus();
    press("\x01\x01\x01"); // to b
    EXPECT_EQ(uart.take(), announce("a") + announce("b"));

    // Not the focus: nothing announced, the focus stays.
    mux.unregister(a);
    EXPECT_EQ(uart.take(), "");
    EXPECT_EQ(mux.focused(), b);

    // The focus: on to the next in registration order.
    press("\x01"); // a half-typed switch is forgotten with the focus
    mux.unregister(b);
    EXPECT_EQ(uart.take(), announce("c"));
    EXPECT_EQ(mux.focused(), c);
    press("\x01\x01k");
    EXPECT_EQ(sc.got, "\x01\x01k");

    // The last one: back to the hypervisor.
    mux.unregister(c);
    EXPECT_EQ(uart.take(), announce("setwise"));
    EXPECT_FALSE(mux.focused().valid());
    press("h");
    EXPECT_EQ(hv.got, "h");
    EXPECT_EQ(sa.got, "");
    EXPECT_EQ(sb.got, "");
}

TEST_F(ConsoleMuxTest, UnregisterBeforeStartFocusAnnouncesNothing) {
    const SourceId a = add("a");
    add("b");
    mux.unregister(a);
    EXPECT_EQ(uart.out(), "");
    mux.start_focus();
    EXPECT_EQ(uart.take(), announce("b"));
}

// ---------------------------------------------------------------------------
// Several CPUs at once

TEST_F(ConsoleMuxTest, ConcurrentOutputNeverSplitsALine) {
    constexpr int kThreads = 4;
    constexpr int kLines = 300;
    std::vector<SourceId> ids;
    for (int t = 0; t < kThreads; ++t) ids.push_back(add("cpu" + std::to_string(t)));

    auto body = [&](int t) {
        cpu(static_cast<u32>(t + 1)).index = static_cast<u32>(t + 1);
        set_this_cpu(cpu(static_cast<u32>(t + 1)));
        for (int i = 0; i < kLines; ++i) {
            const std::string line = "line " + std::to_string(i) + " of " + std::to_string(t) + " " +
                                     std::string(static_cast<usize>(i % 40), static_cast<char>('a' + t)) + "\r\n";
            // Byte by byte, as a virtual UART's data register delivers it,
            // and every third line in one call.
            if (i % 3 == 0) {
                mux.output(ids[static_cast<usize>(t)], line);
            } else {
                for (char c : line) mux.output(ids[static_cast<usize>(t)], c);
            }
        }
    };
    // The hypervisor's own lines compete for the console too.
    auto hypervisor = [&] {
        cpu(kThreads + 1).index = kThreads + 1;
        set_this_cpu(cpu(kThreads + 1));
        for (int i = 0; i < kLines; ++i) {
            Console::Hold hold(console);
            console.write("(setwise) ");
            console.write("tick\n");
        }
    };
    run_or_die([&] {
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t) threads.emplace_back(body, t);
        threads.emplace_back(hypervisor);
        for (auto& th : threads) th.join();
    });

    const std::string all = uart.out();
    int next[kThreads] = {};
    int ticks = 0;
    usize pos = 0;
    while (pos < all.size()) {
        const usize end = all.find("\r\n", pos);
        ASSERT_NE(end, std::string::npos) << "unterminated output at " << pos;
        const std::string line = all.substr(pos, end - pos);
        pos = end + 2;
        if (line == "(setwise) tick") {
            ++ticks;
            continue;
        }
        int t = -1;
        for (int k = 0; k < kThreads; ++k) {
            if (line.rfind("(cpu" + std::to_string(k) + ") ", 0) == 0) t = k;
        }
        ASSERT_GE(t, 0) << "unexpected line: " << line;
        const int i = next[t]++;
        const std::string want = "(cpu" + std::to_string(t) + ") line " + std::to_string(i) + " of " +
                                 std::to_string(t) + " " +
                                 std::string(static_cast<usize>(i % 40), static_cast<char>('a' + t));
        ASSERT_EQ(line, want);
    }
    EXPECT_EQ(ticks, kLines);
    for (int t = 0; t < kThreads; ++t) EXPECT_EQ(next[t], kLines) << "cpu" << t;
}

// Another CPU writing to the console while a prefixed line is half out
// must wait for the whole line. The UART stops after each prefix until the
// other CPU is spinning on the console lock, so that a line written as
// several unheld console writes would let it in.
class PausingUart final : public Uart {
public:
    void init() override {}
    void put(char c) override {
        {
            std::lock_guard<std::mutex> g(m_);
            out_ += c;
        }
        if (c == ' ' && prev_ == ')' && armed_.exchange(false)) {
            go_ = true;
            while (!other_writing_) std::this_thread::yield();
            std::this_thread::sleep_for(1ms); // it is in the lock's wait loop now
            other_writing_ = false;
        }
        prev_ = c;
    }
    bool get(char&) override { return false; }
    void flush() override {}

    void arm() { armed_ = true; }
    usize size() {
        std::lock_guard<std::mutex> g(m_);
        return out_.size();
    }
    std::string out() {
        std::lock_guard<std::mutex> g(m_);
        return out_;
    }

    std::atomic<bool> go_{false};
    std::atomic<bool> other_writing_{false};
    std::atomic<bool> done_{false};

private:
    std::mutex m_;
    std::string out_;
    char prev_ = 0;
    std::atomic<bool> armed_{false};
};

TEST(ConsoleMuxLines, APrefixedLineIsOneConsoleHold) {
    // The writer usually wins the lock back between two unheld writes (its
    // core holds the cache line), so one round would rarely show the fault;
    // many rounds make it likely. The correct code passes every time.
    constexpr int kRounds = 300;
    PausingUart uart;
    Console console;
    console.attach(&uart);
    console.enable_locking();
    ConsoleMux mux(console);
    const SourceId a = mux.register_domain("a", nullptr).value_or(SourceId());
    ASSERT_TRUE(mux.register_domain("b", nullptr).ok());

    run_or_die([&] {
        std::thread other([&] {
            cpu(11).index = 11;
            set_this_cpu(cpu(11));
            for (int i = 0; i < kRounds; ++i) {
                while (!uart.go_) std::this_thread::yield();
                uart.go_ = false;
                uart.other_writing_ = true;
                console.write("X\n");
            }
        });
        cpu(10).index = 10;
        set_this_cpu(cpu(10));
        for (int i = 0; i < kRounds; ++i) {
            uart.arm();
            mux.output(a, "whole line\n");
            // Wait for X before the next round.
            while (uart.size() < static_cast<usize>(i + 1) * (sizeof("(a) whole line\r\nX\r\n") - 1))
                std::this_thread::yield();
        }
        other.join();
    });
    std::string want;
    for (int i = 0; i < kRounds; ++i) want += "(a) whole line\r\nX\r\n";
    EXPECT_EQ(uart.out(), want);
}

TEST_F(ConsoleMuxTest, ConcurrentRegistrationAndOutput) {
    // Domains come and go on one CPU while another writes: every line that
    // reaches the console is whole, and nothing deadlocks.
    const SourceId steady = add("steady");
    std::atomic<bool> stop{false};
    run_or_die([&] {
        std::thread writer([&] {
            cpu(7).index = 7;
            set_this_cpu(cpu(7));
            while (!stop) {
                mux.output(steady, "steady line\n");
                std::this_thread::yield(); // the console lock is not fair: let churn in
            }
        });
        std::thread churn([&] {
            cpu(8).index = 8;
            set_this_cpu(cpu(8));
            for (int i = 0; i < 200; ++i) {
                const SourceId x = add("x");
                mux.output(x, "partial");
                mux.unregister(x);
            }
            stop = true;
        });
        churn.join();
        writer.join();
    });
    // steady is raw until x first appears, prefixed from then on. Either
    // way the text is whole lines, and x's 200 partial lines were all
    // flushed.
    const std::string all = uart.out();
    int partials = 0;
    usize pos = 0;
    while (pos < all.size()) {
        const usize end = all.find("\r\n", pos);
        ASSERT_NE(end, std::string::npos);
        const std::string line = all.substr(pos, end - pos);
        pos = end + 2;
        if (line == "(x) partial") {
            ++partials;
        } else {
            ASSERT_TRUE(line == "steady line" || line == "(steady) steady line") << line;
        }
    }
    EXPECT_EQ(partials, 200);
}

// ---------------------------------------------------------------------------
// Rate limit
//
// A clock of 1000 ticks a second that the test sets, 100 bytes a second,
// 1000 at once: a muted source resumes at 100 tokens, one second after its
// bucket ran dry.

std::atomic<u64> g_now{0};
u64 test_clock() { return g_now.load(); }

constexpr u64 kFreq = 1000;
constexpr u64 kRate = 100;
constexpr u64 kBurst = 1000;

std::string dropped_line(std::string_view name, u64 n) {
    return "(setwise) warning: "s + std::string(name) + ": " + std::to_string(n) +
           " bytes of console output dropped (rate limit)\r\n";
}

// The counts of every drop report for `name` in `out`.
std::vector<u64> drop_reports(const std::string& out, std::string_view name) {
    std::vector<u64> counts;
    const std::string head = "(setwise) warning: "s + std::string(name) + ": ";
    for (usize pos = out.find(head); pos != std::string::npos; pos = out.find(head, pos + 1)) {
        const usize end = out.find(" bytes of console output dropped (rate limit)\r\n", pos);
        if (end == std::string::npos) break;
        counts.push_back(std::stoull(out.substr(pos + head.size(), end - pos - head.size())));
    }
    return counts;
}

class ConsoleMuxRateTest : public ConsoleMuxTest {
protected:
    ConsoleMuxRateTest() {
        g_now = 0;
        mux.set_rate_limit(kRate, kBurst, &test_clock, kFreq);
    }
    void at(u64 ticks) { g_now = ticks; }
    // Uses up `n` of a's tokens in lines of at most 100 bytes (shorter than
    // a prefixed piece), and forgets what the console got.
    void spend(SourceId id, u64 n) {
        while (n > 0) {
            const u64 line = std::min<u64>(n, 100);
            mux.output(id, std::string(line - 1, '-') + "\n");
            n -= line;
        }
        uart.take();
    }
};

TEST_F(ConsoleMuxRateTest, RawModeDropsAfterTheBurstAndReportsWhenItResumes) {
    const SourceId a = add("a");
    const std::string burst(kBurst, 'a');
    mux.output(a, burst);
    EXPECT_EQ(uart.take(), burst);
    mux.output(a, "bcd");
    mux.output(a, 'e');
    EXPECT_EQ(uart.take(), "");
    // Half a second: 50 tokens, under the resume level; still muted.
    at(500);
    mux.output(a, "fg");
    EXPECT_EQ(uart.take(), "");
    // A second after the bucket ran dry: the report (on a line of its own,
    // the guest's line having been left open), then the new bytes.
    at(1000);
    mux.output(a, "xyz");
    EXPECT_EQ(uart.take(), "\r\n" + dropped_line("a", 6) + "xyz");
    // Once only.
    mux.output(a, "\n");
    EXPECT_EQ(uart.take(), "\r\n");
}

TEST_F(ConsoleMuxRateTest, ByteByByteCountsEachByte) {
    const SourceId a = add("a");
    for (u64 i = 0; i < kBurst + 25; ++i) mux.output(a, 'q');
    EXPECT_EQ(uart.take(), std::string(kBurst, 'q'));
    at(1000);
    mux.output(a, '!');
    EXPECT_EQ(uart.take(), "\r\n" + dropped_line("a", 25) + "!");
}

TEST_F(ConsoleMuxRateTest, AStringIsCutWhereTheBucketRunsDry) {
    const SourceId a = add("a");
    mux.output(a, std::string(kBurst - 3, '.') + "\n");
    uart.take();
    mux.output(a, "abcdef");
    EXPECT_EQ(uart.take(), "ab"); // two tokens were left
    at(1000);
    mux.output(a, "z");
    EXPECT_EQ(uart.take(), "\r\n" + dropped_line("a", 4) + "z");
}

TEST_F(ConsoleMuxRateTest, RawHeldCarriageReturnEndsWithTheLine) {
    const SourceId a = add("a");
    spend(a, kBurst - 4);
    mux.output(a, "50%\r60%");
    EXPECT_EQ(uart.take(), "50%");
    at(1000);
    mux.output(a, "\n");
    // The held '\r' is not written after the report: the report ended the
    // line, and the guest's '\n' is its own.
    EXPECT_EQ(uart.take(), "\r\n" + dropped_line("a", 3) + "\r\n");
}

TEST_F(ConsoleMuxRateTest, PrefixedReportNeverSplitsALine) {
    const SourceId a = add("a");
    const SourceId b = add("b");
    spend(a, kBurst - 7);
    mux.output(a, "partial flooding");     // 7 tokens: "partial", then muted
    mux.output(b, "b's line\n");           // b has its own bucket
    mux.output(a, std::string(500, 'x')); // dropped
    EXPECT_EQ(uart.take(), "(b) b's line\r\n");
    at(1000);
    mux.output(a, "after\n");
    // a's partial line goes out whole before the report, and what a writes
    // after the gap starts a line of its own.
    EXPECT_EQ(uart.take(), "(a) partial\r\n" + dropped_line("a", 9 + 500) + "(a) after\r\n");
    mux.output(b, "more\n");
    EXPECT_EQ(uart.take(), "(b) more\r\n");
}

TEST_F(ConsoleMuxRateTest, FlushIdleReportsAQuietSource) {
    mux.set_idle_flush_ticks(100);
    const SourceId a = add("a");
    add("b");
    spend(a, kBurst - 4);
    mux.output(a, "partXX"); // "part" in, two dropped
    EXPECT_EQ(uart.take(), "");
    // The partial line is not held back by the mute: it goes out after the
    // idle time; the report once the bucket allows, a second after it ran
    // dry.
    at(50);
    mux.flush_idle(50);
    at(150);
    mux.flush_idle(150);
    EXPECT_EQ(uart.take(), "(a) part\r\n");
    at(999);
    mux.flush_idle(999);
    EXPECT_EQ(uart.take(), "");
    at(1000);
    mux.flush_idle(1000);
    EXPECT_EQ(uart.take(), dropped_line("a", 2));
    at(5000);
    mux.flush_idle(5000);
    EXPECT_EQ(uart.take(), "");
    // Unmuted: a's next byte is not dropped.
    mux.output(a, "ok\n");
    EXPECT_EQ(uart.take(), "(a) ok\r\n");
}

TEST_F(ConsoleMuxRateTest, UnregisterReportsPendingDrops) {
    const SourceId a = add("a");
    const SourceId b = add("b");
    spend(a, kBurst - 4);
    mux.output(a, "half and more");
    mux.unregister(a);
    EXPECT_EQ(uart.take(), "(a) half\r\n" + dropped_line("a", 9));
    // Nothing pending: nothing reported.
    mux.output(b, "fine\n");
    mux.unregister(b);
    EXPECT_EQ(uart.take(), "(b) fine\r\n");
}

TEST_F(ConsoleMuxRateTest, UnregisterReportsPendingDropsRaw) {
    const SourceId a = add("a");
    mux.output(a, std::string(kBurst, '-') + "lost");
    uart.take();
    mux.unregister(a);
    EXPECT_EQ(uart.take(), "\r\n" + dropped_line("a", 4));
}

TEST_F(ConsoleMuxRateTest, UnderTheRateNothingIsDropped) {
    // Raw and prefixed: the whole burst at once, then exactly the rate for
    // a minute (10 bytes every 100 ms), then 90% of it for another.
    for (bool prefixed : {false, true}) {
        SCOPED_TRACE(prefixed ? "prefixed" : "raw");
        ConsoleMux m(console);
        m.set_rate_limit(kRate, kBurst, &test_clock, kFreq);
        at(0);
        const SourceId a = m.register_domain("a", nullptr).value_or(SourceId());
        SourceId other;
        if (prefixed) other = m.register_domain("other", nullptr).value_or(SourceId());
        uart.take();
        std::string sent = std::string(kBurst - 1, 'B') + "\n";
        m.output(a, sent);
        u64 t = 0;
        for (int i = 0; i < 600; ++i) {
            at(t += 100);
            const std::string chunk = "0123456" + std::to_string(i % 10) + "\r\n";
            sent += chunk;
            m.output(a, chunk);
        }
        for (int i = 0; i < 600; ++i) {
            at(t += 100);
            const std::string chunk = "abcd" + std::to_string(i % 10) + "\r\n";
            m.output(a, chunk);
            sent += chunk;
            if (i % 10 == 9) m.flush_idle(t);
        }
        m.unregister(a);
        m.unregister(other);
        const std::string out = uart.take();
        EXPECT_EQ(out.find("dropped"), std::string::npos);
        // Every byte arrived: count the lines.
        usize lines = 0;
        for (usize p = out.find("\r\n"); p != std::string::npos; p = out.find("\r\n", p + 1)) ++lines;
        EXPECT_EQ(lines, (prefixed ? 7u : 1u) + 1200u); // the burst line is 7 pieces prefixed
        EXPECT_NE(out.find("01234569\r\n"), std::string::npos);
        EXPECT_NE(out.find("abcd9\r\n"), std::string::npos);
    }
}

TEST_F(ConsoleMuxRateTest, AFloodIsBoundedAndEveryByteAccountedFor) {
    // 10 times the rate for 10 s: ten 10-byte lines every 100 ms, in
    // prefixed mode. Tokens come in tens (10 per 100 ms, a burst and a
    // resume level that are multiples of 10), so only whole lines go out.
    const SourceId a = add("a");
    add("b");
    std::string ten;
    for (int i = 0; i < 10; ++i) ten += "flood....\n";
    u64 sent = 0;
    for (u64 t = 0; t < 10'000; t += 100) {
        at(t);
        mux.output(a, ten);
        sent += ten.size();
        mux.flush_idle(t);
    }
    mux.unregister(a);
    const std::string out = uart.take();
    const std::vector<u64> reports = drop_reports(out, "a");
    usize flood_lines = 0;
    for (usize p = out.find("(a) flood....\r\n"); p != std::string::npos; p = out.find("(a) flood....\r\n", p + 1))
        ++flood_lines;
    u64 dropped = 0;
    usize report_bytes = 0;
    for (u64 n : reports) {
        dropped += n;
        report_bytes += dropped_line("a", n).size();
    }
    // What went out and what was reported dropped is all that was sent.
    EXPECT_EQ(flood_lines * 10 + dropped, sent);
    // The burst, then at most the rate: 100 bytes a second.
    EXPECT_LE(flood_lines * 10, kBurst + 10 * kRate);
    EXPECT_GE(flood_lines * 10, kBurst + 8 * kRate);
    // At most one report a second, and the last one at unregister.
    EXPECT_GE(reports.size(), 8u);
    EXPECT_LE(reports.size(), 11u);
    // Nothing else reached the console.
    EXPECT_EQ(out.size(), flood_lines * 15 + report_bytes);
}

TEST_F(ConsoleMuxRateTest, OtherSourcesAreNotLimitedByAFlood) {
    const SourceId hostile = add("hostile");
    const SourceId victim = add("victim");
    std::string want;
    for (u64 t = 0; t < 5000; t += 100) {
        at(t);
        mux.output(hostile, std::string(200, 'h') + "\n");
        mux.output(victim, "tick " + std::to_string(t) + "\n");
        want += "tick " + std::to_string(t) + "\n";
    }
    const std::string out = uart.take();
    std::string got;
    for (usize p = out.find("(victim) "); p != std::string::npos; p = out.find("(victim) ", p + 1)) {
        const usize end = out.find("\r\n", p);
        got += out.substr(p + 9, end - p - 9) + "\n";
    }
    EXPECT_EQ(got, want);
    EXPECT_FALSE(drop_reports(out, "hostile").empty());
    EXPECT_TRUE(drop_reports(out, "victim").empty());
}

TEST_F(ConsoleMuxRateTest, UnlimitedByDefaultAndWhenTurnedOff) {
    ConsoleMux fresh(console);
    const SourceId x = fresh.register_domain("x", nullptr).value_or(SourceId());
    fresh.output(x, std::string(100 * kBurst, 'u'));
    EXPECT_EQ(uart.take().size(), 100 * kBurst);
    fresh.unregister(x);

    // Turned off with drops pending: they are reported at the next byte,
    // which goes out.
    const SourceId a = add("a");
    mux.output(a, std::string(kBurst + 5, 'v'));
    uart.take();
    mux.set_rate_limit(0, kBurst, &test_clock, kFreq);
    mux.output(a, std::string(10 * kBurst, 'w'));
    EXPECT_EQ(uart.take(), "\r\n" + dropped_line("a", 5) + std::string(10 * kBurst, 'w'));
    // A null clock is no limit either.
    mux.set_rate_limit(kRate, kBurst, nullptr, kFreq);
    mux.output(a, std::string(10 * kBurst, 'n'));
    EXPECT_EQ(uart.take(), std::string(10 * kBurst, 'n'));
}

TEST_F(ConsoleMuxRateTest, SetRateLimitAppliesToRegisteredSources) {
    ConsoleMux m(console);
    const SourceId a = m.register_domain("a", nullptr).value_or(SourceId());
    m.output(a, std::string(5 * kBurst, '1')); // no limit yet
    EXPECT_EQ(uart.take().size(), 5 * kBurst);
    m.set_rate_limit(kRate, kBurst, &test_clock, kFreq);
    m.output(a, std::string(kBurst + 1, '2'));
    EXPECT_EQ(uart.take(), std::string(kBurst, '2'));
    m.unregister(a);
    EXPECT_EQ(uart.take(), "\r\n" + dropped_line("a", 1));
}

TEST_F(ConsoleMuxRateTest, AReRegisteredNameStartsWithAFullBucket) {
    const SourceId a = add("a");
    mux.output(a, std::string(kBurst + 1, 'x') + "\n");
    mux.unregister(a);
    uart.take();
    const SourceId again = add("a");
    mux.output(again, std::string(kBurst, 'y'));
    EXPECT_EQ(uart.take(), std::string(kBurst, 'y'));
}

TEST_F(ConsoleMuxRateTest, ReportFollowsTheLogThreshold) {
    const SourceId a = add("a");
    const log::Level saved = log::threshold();
    log::set_threshold(log::Level::error);
    mux.output(a, std::string(kBurst + 3, 'x'));
    uart.take();
    at(1000);
    mux.output(a, "y");
    log::set_threshold(saved);
    EXPECT_EQ(uart.take(), "y");
    // The count was consumed: no late report.
    mux.unregister(a);
    EXPECT_EQ(uart.take(), "");
}

TEST_F(ConsoleMuxRateTest, ClockGoingBackwardsGrantsNothingExtra) {
    const SourceId a = add("a");
    at(1'000'000);
    mux.output(a, std::string(kBurst, 'x'));
    uart.take();
    at(5); // backwards: no refill, and no huge unsigned gap either
    mux.output(a, "lost");
    // Time counts again from the earlier value: 45 ticks, 4 tokens.
    at(50);
    mux.output(a, "lost");
    EXPECT_EQ(uart.take(), "");
    at(1005);
    mux.output(a, "back");
    EXPECT_EQ(uart.take(), "\r\n" + dropped_line("a", 8) + "back");
}

TEST_F(ConsoleMuxRateTest, ConcurrentFloodsKeepLinesWhole) {
    // Four CPUs flood their sources while a fifth moves the clock and
    // polls: every console line is a whole report or a piece of one guest
    // line (cut where the bucket ran dry or resumed, or by the idle flush),
    // never two things mixed; each source both dropped and resumed.
    constexpr int kThreads = 4;
    constexpr u64 kUntil = 5000; // ticks: five seconds of the test clock
    const std::string line = "0123456789abcdefghijklmnopqrstuvwxyz";
    std::vector<SourceId> ids;
    for (int t = 0; t < kThreads; ++t) ids.push_back(add("cpu" + std::to_string(t)));
    std::atomic<int> running{kThreads};
    std::vector<u64> sent(kThreads);
    run_or_die([&] {
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&, t] {
                cpu(static_cast<u32>(t + 1)).index = static_cast<u32>(t + 1);
                set_this_cpu(cpu(static_cast<u32>(t + 1)));
                for (int i = 0; g_now < kUntil; ++i) {
                    sent[static_cast<usize>(t)] += line.size() + 1;
                    if (i % 2 == 0) {
                        mux.output(ids[static_cast<usize>(t)], line + "\n");
                    } else {
                        for (char c : line + "\n") mux.output(ids[static_cast<usize>(t)], c);
                    }
                }
                --running;
            });
        }
        threads.emplace_back([&] {
            cpu(kThreads + 1).index = kThreads + 1;
            set_this_cpu(cpu(kThreads + 1));
            while (running > 0) {
                if (g_now < kUntil) g_now += 10;
                mux.flush_idle(g_now);
                std::this_thread::sleep_for(20us); // let the writers spend what the clock gave

            }
        });
        for (auto& th : threads) th.join();
    });
    for (const SourceId id : ids) mux.unregister(id);

    const std::string all = uart.out();
    std::vector<u64> out_bytes(kThreads), dropped(kThreads), reports(kThreads);
    usize pos = 0;
    while (pos < all.size()) {
        const usize end = all.find("\r\n", pos);
        ASSERT_NE(end, std::string::npos);
        const std::string l = all.substr(pos, end - pos);
        pos = end + 2;
        bool known = false;
        for (int t = 0; t < kThreads; ++t) {
            const std::string name = "cpu" + std::to_string(t);
            const std::string head = "(" + name + ") ";
            if (l.rfind(head, 0) == 0) {
                const std::string text = l.substr(head.size());
                ASSERT_NE(line.find(text), std::string::npos) << l;
                out_bytes[t] += text.size();
                known = true;
            }
            const std::vector<u64> r = drop_reports(l + "\r\n", name);
            if (!r.empty() && l.rfind("(setwise) warning: " + name + ": ", 0) == 0) {
                ASSERT_EQ(dropped_line(name, r[0]), l + "\r\n");
                dropped[t] += r[0];
                ++reports[t];
                known = true;
            }
        }
        ASSERT_TRUE(known) << "unexpected line: " << l;
    }
    for (int t = 0; t < kThreads; ++t) {
        EXPECT_GT(dropped[t], 0u) << t;
        // A report when it resumed, one at unregister at least; the burst
        // (less its newlines) and a second's worth, at most the burst and
        // five seconds' worth.
        EXPECT_GE(reports[t], 2u) << t;
        EXPECT_GE(out_bytes[t], kBurst - kBurst / line.size() - 1 + kRate - kRate / line.size() - 1) << t;
        EXPECT_LE(out_bytes[t], kBurst + 5 * kRate) << t;
        EXPECT_LE(out_bytes[t] + dropped[t], sent[t]) << t;
    }
}

// ---------------------------------------------------------------------------
// The hypervisor's instance

TEST(ConsoleMuxGlobal, WritesToTheHypervisorConsole) {
    RecordingUart u;
    console().attach(&u);
    ConsoleMux& m = console_mux();
    Result<SourceId> a = m.register_domain("guest", nullptr);
    ASSERT_TRUE(a.ok());
    m.output(a.value(), "hi\r\n");
    m.unregister(a.value());
    console().attach(nullptr);
    EXPECT_EQ(u.out(), "hi\r\n");
}

} // namespace
} // namespace setwise::core
