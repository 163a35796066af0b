// core/console and core/pl011: the console's newline translation, formatted
// output, the Hold that keeps a multi-line report together across CPUs
// (host threads with their own PerCpu), the DT compatible match and the
// choice of driver and 16550 layout for a stdout-path node, and the
// PL011 driver against a fake register file (ARM DDI 0183G, 3.2/3.3: DR at
// 0x000, FR at 0x018 with TXFF bit 5, RXFE bit 4, BUSY bit 3; CR at 0x030
// with UARTEN bit 0, TXE bit 8, RXE bit 9).
#include "core/console.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>

#include "core/machine.hpp"
#include "core/pl011.hpp"
#include "core/percpu.hpp"

namespace setwise::core {
namespace {

using namespace std::chrono_literals;
using namespace std::string_view_literals;

class RecordingUart final : public Uart {
public:
    void init() override { ++inits_; }
    void put(char c) override {
        std::lock_guard<std::mutex> g(m_);
        out_ += c;
    }
    bool get(char&) override { return false; }
    void flush() override { ++flushes_; }

    std::string out() {
        std::lock_guard<std::mutex> g(m_);
        return out_;
    }
    int flushes() const { return flushes_; }

private:
    std::mutex m_;
    std::string out_;
    int inits_ = 0;
    int flushes_ = 0;
};

// Runs f on its own thread; a hang (a deadlock in the code under test) ends
// the whole test binary with a failure instead of blocking forever.
template <typename F>
void run_or_die(F f, std::chrono::milliseconds limit = 5000ms) {
    std::packaged_task<void()> task(f);
    std::future<void> done = task.get_future();
    std::thread t(std::move(task));
    if (done.wait_for(limit) != std::future_status::ready) {
        std::fprintf(stderr, "FATAL: timed out (deadlock?)\n");
        std::_Exit(1);
    }
    t.join();
}

TEST(Console, UnattachedDropsOutput) {
    Console c;
    EXPECT_FALSE(c.attached());
    c.write("nothing\n");
    c.flush();
    RecordingUart u;
    c.attach(&u);
    EXPECT_TRUE(c.attached());
    EXPECT_EQ(u.out(), "");
}

TEST(Console, NewlineBecomesCrLf) {
    Console c;
    RecordingUart u;
    c.attach(&u);
    c.write("a\nb");
    c.write("\n\n");
    c.write("");
    c.write("end");
    EXPECT_EQ(u.out(), "a\r\nb\r\n\r\nend");
}

TEST(Console, FormatToConsole) {
    Console c;
    RecordingUart u;
    c.attach(&u);
    fmt::format_to(c, "esr {:#010x} ec {}\n", 0x9382'0007u, 0x24);
    fmt::format_to(c, "pa {}\n", Pa(0x4008'5000));
    EXPECT_EQ(u.out(), "esr 0x93820007 ec 36\r\npa 0x40085000\r\n");
}

TEST(Console, FlushReachesTheUart) {
    Console c;
    RecordingUart u;
    c.attach(&u);
    c.flush();
    EXPECT_EQ(u.flushes(), 1);
}

TEST(Console, HolderKeepsWriting) {
    Console c;
    RecordingUart u;
    c.attach(&u);
    c.enable_locking();
    run_or_die([&] {
        cpu(1).index = 1;
        set_this_cpu(cpu(1));
        Console::Hold hold(c);
        c.write("one\n");
        fmt::format_to(c, "{}\n", "two");
    });
    EXPECT_EQ(u.out(), "one\r\ntwo\r\n");
    // Released: another write goes through.
    run_or_die([&] {
        cpu(2).index = 2;
        set_this_cpu(cpu(2));
        c.write("three");
    });
    EXPECT_EQ(u.out(), "one\r\ntwo\r\nthree");
}

TEST(Console, HoldKeepsOtherCpusOut) {
    Console c;
    RecordingUart u;
    c.attach(&u);
    c.enable_locking();
    cpu(3).index = 3;
    cpu(4).index = 4;
    std::atomic<bool> held{false};
    std::atomic<bool> other_writing{false};
    std::atomic<bool> release{false};

    std::thread holder([&] {
        set_this_cpu(cpu(3));
        Console::Hold hold(c);
        c.write("first\n");
        held = true;
        while (!release) std::this_thread::yield();
        c.write("second\n");
    });
    std::thread other([&] {
        set_this_cpu(cpu(4));
        while (!held) std::this_thread::yield();
        other_writing = true;
        c.write("other\n");
    });

    while (!other_writing) std::this_thread::yield();
    std::this_thread::sleep_for(50ms); // give a broken lock the chance to let "other" through
    EXPECT_EQ(u.out(), "first\r\n");
    release = true;
    holder.join();
    other.join();
    EXPECT_EQ(u.out(), "first\r\nsecond\r\nother\r\n");
}

TEST(Console, UartKindFromCompatible) {
    // DT string lists: NUL-separated, NUL-terminated.
    EXPECT_EQ(uart_kind_for("arm,pl011\0arm,primecell\0"sv), UartKind::pl011);
    EXPECT_EQ(uart_kind_for("arm,primecell\0arm,pl011\0"sv), UartKind::pl011);
    EXPECT_EQ(uart_kind_for("arm,sbsa-uart\0"sv), UartKind::pl011);
    EXPECT_EQ(uart_kind_for("arm,pl011"sv), UartKind::pl011); // no trailing NUL
    EXPECT_EQ(uart_kind_for("ns16550b\0"sv), UartKind::none);
    EXPECT_EQ(uart_kind_for("arm,pl0111\0"sv), UartKind::none);
    EXPECT_EQ(uart_kind_for("arm,pl01\0"sv), UartKind::none);
    EXPECT_EQ(uart_kind_for("xarm,pl011\0"sv), UartKind::none);
    EXPECT_EQ(uart_kind_for(""sv), UartKind::none);
}

TEST(Console, UartKindNs16550Compatibles) {
    EXPECT_EQ(uart_kind_for("ns16550a\0"sv), UartKind::ns16550);
    EXPECT_EQ(uart_kind_for("ns16550\0"sv), UartKind::ns16550);
    EXPECT_EQ(uart_kind_for("ns8250\0"sv), UartKind::ns16550);
    EXPECT_EQ(uart_kind_for("snps,dw-apb-uart\0"sv), UartKind::ns16550);
    // SoC compatibles with the generic one as fallback.
    EXPECT_EQ(uart_kind_for("rockchip,rk3399-uart\0snps,dw-apb-uart\0"sv), UartKind::ns16550);
    EXPECT_EQ(uart_kind_for("ti,da830-uart\0ns16550a\0"sv), UartKind::ns16550);
    EXPECT_EQ(uart_kind_for("ns16550a"sv), UartKind::ns16550); // no trailing NUL
    // Near misses.
    EXPECT_EQ(uart_kind_for("ns16550a0\0"sv), UartKind::none);
    EXPECT_EQ(uart_kind_for("ns1655\0"sv), UartKind::none);
    EXPECT_EQ(uart_kind_for("ns16450\0"sv), UartKind::none);
    EXPECT_EQ(uart_kind_for("snps,dw-apb-uart-x\0"sv), UartKind::none);
    EXPECT_EQ(uart_kind_for("NS16550A\0"sv), UartKind::none);
    EXPECT_EQ(uart_kind_for("brcm,bcm2835-aux-uart\0"sv), UartKind::none);
    // A list naming both: the PL011 wins.
    EXPECT_EQ(uart_kind_for("ns16550a\0arm,pl011\0"sv), UartKind::pl011);
}

// A stdout-path node as core/machine describes it.
struct NodeSpec {
    std::string_view compatible; // NUL-separated list
    std::optional<PaRange> reg;
    u32 reg_shift = 0;
    u32 reg_io_width = 1;
};

ConsoleNode console_node(const NodeSpec& spec) {
    ConsoleNode n;
    n.compatible = fdt::StringList(
        std::span<const u8>(reinterpret_cast<const u8*>(spec.compatible.data()), spec.compatible.size()));
    n.reg = spec.reg;
    n.reg_shift = spec.reg_shift;
    n.reg_io_width = spec.reg_io_width;
    n.path = "serial0";
    return n;
}

constexpr PaRange kUartRegs{Pa(0x10000000), 0x100};

TEST(Console, ChooseUartPl011) {
    const UartChoice c = choose_uart(console_node({"arm,pl011\0arm,primecell\0"sv, PaRange{Pa(0x9000000), 0x1000}}));
    EXPECT_EQ(c.kind, UartKind::pl011);
    EXPECT_EQ(c.problem, "");
}

TEST(Console, ChooseUartNs16550Defaults) {
    const UartChoice c = choose_uart(console_node({"ns16550a\0"sv, kUartRegs}));
    ASSERT_EQ(c.kind, UartKind::ns16550) << c.problem;
    EXPECT_EQ(c.ns16550.reg_shift, 0u);
    EXPECT_EQ(c.ns16550.reg_io_width, 1u);
    EXPECT_FALSE(c.ns16550.dw_apb);
    EXPECT_EQ(c.problem, "");
    for (std::string_view compatible : {"ns16550\0"sv, "ns8250\0"sv}) {
        const UartChoice d = choose_uart(console_node({compatible, kUartRegs}));
        EXPECT_EQ(d.kind, UartKind::ns16550);
        EXPECT_FALSE(d.ns16550.dw_apb);
    }
}

TEST(Console, ChooseUartDesignWare) {
    const UartChoice c = choose_uart(
        console_node({"rockchip,rk3399-uart\0snps,dw-apb-uart\0"sv, PaRange{Pa(0xff1a0000), 0x100}, 2, 4}));
    ASSERT_EQ(c.kind, UartKind::ns16550) << c.problem;
    EXPECT_EQ(c.ns16550.reg_shift, 2u);
    EXPECT_EQ(c.ns16550.reg_io_width, 4u);
    EXPECT_TRUE(c.ns16550.dw_apb);
    // Byte accesses four bytes apart (reg-io-width absent) are fine too.
    const UartChoice b = choose_uart(console_node({"snps,dw-apb-uart\0"sv, PaRange{Pa(0x1c28000), 0x400}, 2, 1}));
    ASSERT_EQ(b.kind, UartKind::ns16550) << b.problem;
    EXPECT_EQ(b.ns16550.reg_io_width, 1u);
    EXPECT_TRUE(b.ns16550.dw_apb);
}

TEST(Console, ChooseUartRefusesWhatItCannotDrive) {
    auto refused = [](const NodeSpec& spec) {
        const UartChoice c = choose_uart(console_node(spec));
        EXPECT_EQ(c.kind, UartKind::none);
        return std::string(c.problem);
    };
    EXPECT_EQ(refused({"ns16550a\0"sv, kUartRegs, 0, 2}), "reg-io-width must be 1 or 4");
    EXPECT_EQ(refused({"snps,dw-apb-uart\0"sv, kUartRegs, 2, 8}), "reg-io-width must be 1 or 4");
    EXPECT_EQ(refused({"ns16550a\0"sv, kUartRegs, 0, 4}),
              "reg-io-width is wider than the register stride (1 << reg-shift)");
    EXPECT_EQ(refused({"ns16550a\0"sv, kUartRegs, 40, 1}), "reg-shift must be at most 8");
    EXPECT_EQ(refused({"snps,dw-apb-uart\0"sv, PaRange{Pa(0x10000000), 0x20}, 2, 4}),
              "reg is too small to reach USR");
    EXPECT_EQ(refused({"ns16550a\0"sv, PaRange{Pa(0x10000002), 0x100}, 2, 4}),
              "the register base is not aligned to reg-io-width");
    EXPECT_EQ(refused({"ns16550a\0"sv, std::nullopt}), "it has no `reg`");
    EXPECT_EQ(refused({"arm,pl011\0"sv, std::nullopt}), "it has no `reg`");
    EXPECT_EQ(refused({"ns16550a\0"sv, PaRange{Pa(0x10000000), 0}}), "it has no `reg`");
    EXPECT_EQ(refused({"cdns,uart-r1p12\0"sv, kUartRegs}), "no driver for its compatible");
    EXPECT_EQ(refused({""sv, kUartRegs}), "no driver for its compatible");
    // The PL011 has no reg-shift or reg-io-width of its own to check.
    EXPECT_EQ(choose_uart(console_node({"arm,pl011\0"sv, kUartRegs, 0, 2})).kind, UartKind::pl011);
}

// ---------------------------------------------------------------------------
// PL011 over a fake register file: a page of 32-bit registers.

constexpr usize kDr = 0x000 / 4;
constexpr usize kFr = 0x018 / 4;
constexpr usize kCr = 0x030 / 4;
constexpr u32 kTxff = 1u << 5;
constexpr u32 kRxfe = 1u << 4;
constexpr u32 kBusy = 1u << 3;

struct alignas(4096) RegisterFile {
    u32 r[1024]{};
    Va base() { return Va(reinterpret_cast<u64>(r)); }
    u32 load(usize i) { return __atomic_load_n(&r[i], __ATOMIC_SEQ_CST); }
    void store(usize i, u32 v) { __atomic_store_n(&r[i], v, __ATOMIC_SEQ_CST); }
};

TEST(Pl011, RegisterOffsets) {
    EXPECT_EQ(static_cast<u32>(Pl011Reg::dr), 0x000u);
    EXPECT_EQ(static_cast<u32>(Pl011Reg::fr), 0x018u);
    EXPECT_EQ(static_cast<u32>(Pl011Reg::ibrd), 0x024u);
    EXPECT_EQ(static_cast<u32>(Pl011Reg::lcr_h), 0x02cu);
    EXPECT_EQ(static_cast<u32>(Pl011Reg::cr), 0x030u);
    EXPECT_EQ(static_cast<u32>(Pl011Reg::imsc), 0x038u);
    EXPECT_EQ(static_cast<u32>(Pl011Reg::icr), 0x044u);
    EXPECT_EQ(static_cast<u32>(Pl011Reg::periph_id0), 0xfe0u);
    EXPECT_EQ(pl011::kFrTxff, kTxff);
    EXPECT_EQ(pl011::kFrRxfe, kRxfe);
    EXPECT_EQ(pl011::kFrBusy, kBusy);
    EXPECT_EQ(pl011::kCrUarten | pl011::kCrTxe | pl011::kCrRxe, 0x301u);
}

TEST(Pl011, PutWritesData) {
    RegisterFile regs;
    Pl011 uart(regs.base());
    uart.put('A');
    EXPECT_EQ(regs.load(kDr), u32{'A'});
    // A character above 0x7f is one byte, not sign-extended.
    uart.put('\xe9');
    EXPECT_EQ(regs.load(kDr), 0xe9u);
    // Nothing else was touched.
    EXPECT_EQ(regs.load(kFr), 0u);
    EXPECT_EQ(regs.load(kCr), 0u);
}

TEST(Pl011, PutWaitsWhileTheFifoIsFull) {
    RegisterFile regs;
    regs.store(kFr, kTxff | kRxfe);
    regs.store(kDr, 0xdead);
    Pl011 uart(regs.base());
    std::atomic<bool> returned{false};
    std::thread t([&] {
        uart.put('x');
        returned = true;
    });
    std::this_thread::sleep_for(50ms);
    EXPECT_FALSE(returned.load());
    EXPECT_EQ(regs.load(kDr), 0xdeadu); // not written while TXFF
    regs.store(kFr, kRxfe);             // the FIFO drains
    t.join();
    EXPECT_TRUE(returned.load());
    EXPECT_EQ(regs.load(kDr), u32{'x'});
}

TEST(Pl011, GetOnlyWhenSomethingWasReceived) {
    RegisterFile regs;
    regs.store(kFr, kRxfe);
    regs.store(kDr, 'q');
    Pl011 uart(regs.base());
    char c = '-';
    EXPECT_FALSE(uart.get(c));
    EXPECT_EQ(c, '-');
    // RXFE clear (TXFF set must not matter): the byte, without the error bits [11:8].
    regs.store(kFr, kTxff);
    regs.store(kDr, 0x300 | 'k');
    EXPECT_TRUE(uart.get(c));
    EXPECT_EQ(c, 'k');
}

TEST(Pl011, InitEnablesWithoutClearingOtherBits) {
    RegisterFile regs;
    Pl011 uart(regs.base());
    uart.init();
    EXPECT_EQ(regs.load(kCr), 0x301u);
    // CTSEn (15) and RTSEn (14) set by firmware, TXE only: keep them, add UARTEN and RXE.
    regs.store(kCr, 0xc100);
    uart.init();
    EXPECT_EQ(regs.load(kCr), 0xc301u);
    // Already enabled: unchanged.
    regs.store(kCr, 0x4301);
    uart.init();
    EXPECT_EQ(regs.load(kCr), 0x4301u);
    // init touches nothing but CR.
    EXPECT_EQ(regs.load(kDr), 0u);
    EXPECT_EQ(regs.load(kFr), 0u);
}

TEST(Pl011, FlushWaitsWhileBusy) {
    RegisterFile regs;
    regs.store(kFr, kBusy | kRxfe);
    Pl011 uart(regs.base());
    std::atomic<bool> returned{false};
    std::thread t([&] {
        uart.flush();
        returned = true;
    });
    std::this_thread::sleep_for(50ms);
    EXPECT_FALSE(returned.load());
    regs.store(kFr, kRxfe);
    t.join();
    EXPECT_TRUE(returned.load());
}

TEST(Pl011, ConsoleOverPl011) {
    RegisterFile regs;
    Pl011 uart(regs.base());
    Console c;
    c.attach(&uart);
    c.write("ok\n");
    // The last byte written to DR is the '\n' after the '\r'.
    EXPECT_EQ(regs.load(kDr), u32{'\n'});
}

} // namespace
} // namespace setwise::core
