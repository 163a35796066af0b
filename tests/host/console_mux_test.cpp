// core/console_mux: guests' output on the console (raw with one domain,
// whole prefixed lines with several), the idle flush of partial lines, the
// input focus and its Ctrl-a switch, domains leaving, and output from
// several CPUs (host threads with their own PerCpu) at once.
//
// What the console writes is checked byte for byte as the UART receives it,
// so every '\n' the multiplexer writes shows up as "\r\n".
#include "core/console_mux.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

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
