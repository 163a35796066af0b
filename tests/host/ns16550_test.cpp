// core/ns16550: the 16550 console driver against a fake register file that
// records every access and scripts what LSR, LCR and USR read as, and the
// MMIO path over ordinary memory. Register numbers and bits from the
// National Semiconductor PC16550D data sheet (RBR/THR 0, IER 1, IIR/FCR 2,
// LCR 3, MCR 4, LSR 5 with DR bit 0, THRE bit 5, TEMT bit 6) and the
// Synopsys DW_apb_uart databook (USR at 0x7c with 4-byte registers, BUSY
// bit 0; LCR writes ignored while busy).
#include "core/ns16550.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/console.hpp"

namespace setwise::core {
namespace {

struct Access {
    bool write = false;
    u64 offset = 0;
    u32 width = 0;
    u32 value = 0;
    bool operator==(const Access&) const = default;
};

Access rd(u64 offset, u32 width, u32 value) { return Access{false, offset, width, value}; }
Access wr(u64 offset, u32 width, u32 value) { return Access{true, offset, width, value}; }

std::string describe(const std::vector<Access>& log) {
    std::string s;
    for (const Access& a : log) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%s %#llx/%u %#x\n", a.write ? "W" : "R",
                      static_cast<unsigned long long>(a.offset), a.width, a.value);
        s += buf;
    }
    return s;
}

// Registers as a map from offset to value. A read returns the next
// scripted value for its offset if any (the last one sticks), else the
// last value written there. `accept` may refuse a write (it is still
// recorded, as the driver did issue it).
class FakeRegs final : public RegisterIo {
public:
    u32 read(u64 offset, u32 width) override {
        u32 v = values_[offset];
        auto it = scripts_.find(offset);
        if (it != scripts_.end() && !it->second.empty()) {
            v = it->second.front();
            if (it->second.size() > 1) it->second.pop_front();
        }
        ++reads_[offset];
        if (recording) log.push_back(rd(offset, width, v));
        return v;
    }
    void write(u64 offset, u32 width, u32 value) override {
        ++writes_[offset];
        if (recording) log.push_back(wr(offset, width, value));
        if (accept && !accept(offset, value)) return;
        values_[offset] = value;
        scripts_.erase(offset);
    }

    void set(u64 offset, u32 v) { values_[offset] = v; }
    u32 get(u64 offset) { return values_[offset]; }
    void script(u64 offset, std::deque<u32> values) { scripts_[offset] = std::move(values); }
    u64 reads(u64 offset) { return reads_[offset]; }
    u64 writes(u64 offset) { return writes_[offset]; }

    std::vector<Access> log;
    bool recording = true;
    std::function<bool(u64, u32)> accept;

private:
    std::map<u64, u32> values_;
    std::map<u64, std::deque<u32>> scripts_;
    std::map<u64, u64> reads_;
    std::map<u64, u64> writes_;
};

constexpr u32 kDr = 0x01;
constexpr u32 kThre = 0x20;
constexpr u32 kTemt = 0x40;

// Byte offsets for the two layouts used throughout.
struct Layout {
    u32 shift;
    u32 width;
    u64 at(u32 reg) const { return u64{reg} << shift; }
};
constexpr Layout kBytes{0, 1};
constexpr Layout kWords{2, 4};

TEST(Ns16550, RegisterNumbersAndBits) {
    EXPECT_EQ(static_cast<u32>(Ns16550Reg::rbr), 0u);
    EXPECT_EQ(static_cast<u32>(Ns16550Reg::thr), 0u);
    EXPECT_EQ(static_cast<u32>(Ns16550Reg::ier), 1u);
    EXPECT_EQ(static_cast<u32>(Ns16550Reg::fcr), 2u);
    EXPECT_EQ(static_cast<u32>(Ns16550Reg::lcr), 3u);
    EXPECT_EQ(static_cast<u32>(Ns16550Reg::mcr), 4u);
    EXPECT_EQ(static_cast<u32>(Ns16550Reg::lsr), 5u);
    EXPECT_EQ(static_cast<u32>(Ns16550Reg::msr), 6u);
    EXPECT_EQ(static_cast<u32>(Ns16550Reg::scr), 7u);
    EXPECT_EQ(static_cast<u32>(Ns16550Reg::usr), 0x1fu);
    EXPECT_EQ(ns16550::kLsrDr, kDr);
    EXPECT_EQ(ns16550::kLsrThre, kThre);
    EXPECT_EQ(ns16550::kLsrTemt, kTemt);
    EXPECT_EQ(ns16550::kLcrDlab, 0x80);
    EXPECT_EQ(ns16550::kUsrBusy, 0x01);
}

// ---- init -------------------------------------------------------------------

TEST(Ns16550, InitByteRegisters) {
    FakeRegs regs;
    regs.set(5, kThre | kTemt);
    Ns16550 uart(regs, Ns16550Config{0, 1, false});
    uart.init();
    const std::vector<Access> want = {
        rd(5, 1, 0x60), // LSR: transmitter empty
        wr(3, 1, 0x03), // LCR: 8N1, DLAB clear
        wr(1, 1, 0x00), // IER: polled
        wr(2, 1, 0x07), // FCR: FIFOs on, both reset
        wr(4, 1, 0x03), // MCR: DTR | RTS
    };
    EXPECT_EQ(regs.log, want) << describe(regs.log);
    EXPECT_TRUE(uart.line_control_set());
}

TEST(Ns16550, InitWordRegistersShift2) {
    FakeRegs regs;
    regs.set(0x14, kThre | kTemt);
    Ns16550 uart(regs, Ns16550Config{2, 4, false});
    uart.init();
    const std::vector<Access> want = {
        rd(0x14, 4, 0x60), wr(0x0c, 4, 0x03), wr(0x04, 4, 0x00), wr(0x08, 4, 0x07), wr(0x10, 4, 0x03),
    };
    EXPECT_EQ(regs.log, want) << describe(regs.log);
}

TEST(Ns16550, InitByteWideRegistersShift2) {
    // reg-shift 2 with byte accesses (reg-io-width absent).
    FakeRegs regs;
    regs.set(0x14, kThre | kTemt);
    Ns16550 uart(regs, Ns16550Config{2, 1, false});
    uart.init();
    const std::vector<Access> want = {
        rd(0x14, 1, 0x60), wr(0x0c, 1, 0x03), wr(0x04, 1, 0x00), wr(0x08, 1, 0x07), wr(0x10, 1, 0x03),
    };
    EXPECT_EQ(regs.log, want) << describe(regs.log);
}

TEST(Ns16550, InitNeverTouchesTheDivisor) {
    // Firmware left DLAB set (LCR 0x83): LCR is written before anything at
    // registers 0 and 1, so DLL and DLM keep their values.
    FakeRegs regs;
    regs.set(5, kThre | kTemt);
    regs.set(3, 0x83);
    Ns16550 uart(regs, Ns16550Config{0, 1, false});
    uart.init();
    ASSERT_GE(regs.log.size(), 2u);
    EXPECT_EQ(regs.log[1], wr(3, 1, 0x03));
    for (const Access& a : regs.log) EXPECT_NE(a.offset, 0u) << describe(regs.log);
    EXPECT_EQ(regs.writes(1), 1u); // the IER write, after DLAB was cleared
    EXPECT_EQ(regs.get(3), 0x03u);
}

TEST(Ns16550, InitWaitsForFirmwareOutputToDrain) {
    FakeRegs regs;
    regs.script(5, {kThre, kThre, 0, kThre | kTemt});
    Ns16550 uart(regs, Ns16550Config{0, 1, false});
    uart.init();
    EXPECT_EQ(regs.reads(5), 4u);
    // The FIFO reset comes after the drain.
    ASSERT_EQ(regs.log.size(), 8u) << describe(regs.log);
    EXPECT_EQ(regs.log[3], rd(5, 1, kThre | kTemt));
    EXPECT_EQ(regs.log[6], wr(2, 1, 0x07));
}

TEST(Ns16550, InitOnADeadUartIsBounded) {
    FakeRegs regs;
    regs.recording = false;
    regs.set(5, 0); // never empty
    Ns16550 uart(regs, Ns16550Config{0, 1, false});
    uart.init();
    EXPECT_EQ(regs.reads(5), u64{Ns16550::kPollLimit});
    EXPECT_EQ(regs.get(3), 0x03u);
    EXPECT_EQ(regs.get(2), 0x07u);
    // Stalled: the next put polls briefly, then writes.
    uart.put('z');
    EXPECT_EQ(regs.reads(5), u64{Ns16550::kPollLimit} + Ns16550::kStalledPollLimit);
    EXPECT_EQ(regs.get(0), u32{'z'});
}

// ---- DesignWare busy handling -----------------------------------------------

constexpr Ns16550Config kDw{2, 4, true};
constexpr u64 kDwLcr = 0x0c;
constexpr u64 kDwUsr = 0x7c;
constexpr u64 kDwLsr = 0x14;

TEST(Ns16550, DwLcrAlreadyRightIsNotWritten) {
    FakeRegs regs;
    regs.set(kDwLsr, kThre | kTemt);
    regs.set(kDwLcr, 0x03);
    regs.set(kDwUsr, 1); // busy: a write now would be ignored anyway
    Ns16550 uart(regs, kDw);
    uart.init();
    const std::vector<Access> want = {
        rd(0x14, 4, 0x60), rd(0x0c, 4, 0x03), wr(0x04, 4, 0x00), wr(0x08, 4, 0x07), wr(0x10, 4, 0x03),
    };
    EXPECT_EQ(regs.log, want) << describe(regs.log);
    EXPECT_TRUE(uart.line_control_set());
}

TEST(Ns16550, DwWaitsForBusyToClear) {
    FakeRegs regs;
    regs.set(kDwLsr, kThre | kTemt);
    regs.set(kDwLcr, 0x1b); // 8E1
    regs.script(kDwUsr, {1, 1, 1, 0});
    // LCR writes are ignored until USR has read as idle.
    regs.accept = [&](u64 offset, u32) { return offset != kDwLcr || regs.reads(kDwUsr) >= 4; };
    Ns16550 uart(regs, kDw);
    uart.init();
    const std::vector<Access> want = {
        rd(0x14, 4, 0x60), rd(0x0c, 4, 0x1b),                                        // drained; LCR is 8E1
        rd(0x7c, 4, 1),    rd(0x7c, 4, 1),    rd(0x7c, 4, 1), rd(0x7c, 4, 0),        // USR busy x3, idle
        wr(0x0c, 4, 0x03), rd(0x0c, 4, 0x03),                                        // written, read back
        wr(0x04, 4, 0x00), wr(0x08, 4, 0x07), wr(0x10, 4, 0x03),
    };
    EXPECT_EQ(regs.log, want) << describe(regs.log);
    EXPECT_TRUE(uart.line_control_set());
}

TEST(Ns16550, DwRetriesAnIgnoredWriteAfterResettingTheFifos) {
    // USR reads idle, but the first LCR write is ignored all the same (a
    // character arrived in between): FIFOs reset, RBR read, written again.
    FakeRegs regs;
    regs.set(kDwLsr, kThre | kTemt);
    regs.set(kDwLcr, 0x83);
    int lcr_writes = 0;
    regs.accept = [&](u64 offset, u32) { return offset != kDwLcr || ++lcr_writes > 1; };
    Ns16550 uart(regs, kDw);
    uart.init();
    const std::vector<Access> want = {
        rd(0x14, 4, 0x60), rd(0x0c, 4, 0x83),
        rd(0x7c, 4, 0),    wr(0x0c, 4, 0x03), rd(0x0c, 4, 0x83), // ignored
        wr(0x08, 4, 0x07), rd(0x00, 4, 0),                       // FIFOs reset, RBR read
        rd(0x7c, 4, 0),    wr(0x0c, 4, 0x03), rd(0x0c, 4, 0x03), // taken
        wr(0x04, 4, 0x00), wr(0x08, 4, 0x07), wr(0x10, 4, 0x03),
    };
    EXPECT_EQ(regs.log, want) << describe(regs.log);
    EXPECT_TRUE(uart.line_control_set());
}

TEST(Ns16550, DwStickParityIsNotCompared) {
    FakeRegs regs;
    regs.set(kDwLsr, kThre | kTemt);
    regs.set(kDwLcr, 0x23); // 8N1 with a stick-parity bit that reads back set
    Ns16550 uart(regs, kDw);
    uart.init();
    EXPECT_EQ(regs.writes(kDwLcr), 0u);
    EXPECT_TRUE(uart.line_control_set());
}

TEST(Ns16550, DwBusyForeverIsBounded) {
    FakeRegs regs;
    regs.recording = false;
    regs.set(kDwLsr, kThre | kTemt);
    regs.set(kDwLcr, 0x1b);
    regs.set(kDwUsr, 1);
    regs.accept = [&](u64 offset, u32) { return offset != kDwLcr; };
    Ns16550 uart(regs, kDw);
    uart.init();
    EXPECT_FALSE(uart.line_control_set());
    EXPECT_EQ(regs.writes(kDwLcr), u64{Ns16550::kLcrAttempts});
    EXPECT_EQ(regs.reads(kDwUsr), u64{Ns16550::kLcrAttempts} * Ns16550::kBusyPollLimit);
    EXPECT_EQ(regs.get(kDwLcr), 0x1bu);
    // The rest of init still happened.
    EXPECT_EQ(regs.get(0x04), 0u);
    EXPECT_EQ(regs.get(0x10), 0x03u);
}

TEST(Ns16550, DwBusyThatNeverClearsButTakesTheWrite) {
    // A "16550 compatible" DesignWare UART may show BUSY while accepting
    // LCR: one bounded wait, then the write goes through.
    FakeRegs regs;
    regs.recording = false;
    regs.set(kDwLsr, kThre | kTemt);
    regs.set(kDwLcr, 0x1b);
    regs.set(kDwUsr, 1);
    Ns16550 uart(regs, kDw);
    uart.init();
    EXPECT_TRUE(uart.line_control_set());
    EXPECT_EQ(regs.writes(kDwLcr), 1u);
    EXPECT_EQ(regs.reads(kDwUsr), u64{Ns16550::kBusyPollLimit});
    EXPECT_EQ(regs.get(kDwLcr), 0x03u);
}

TEST(Ns16550, PlainUartNeverReadsUsr) {
    FakeRegs regs;
    regs.set(0x14, kThre | kTemt);
    regs.set(0x0c, 0x1b);
    Ns16550 uart(regs, Ns16550Config{2, 4, false});
    uart.init();
    EXPECT_EQ(regs.reads(kDwUsr), 0u);
    EXPECT_EQ(regs.reads(0x0c), 0u); // LCR written blind
    EXPECT_EQ(regs.get(0x0c), 0x03u);
}

// ---- put, get, flush ---------------------------------------------------------

TEST(Ns16550, PutWaitsForThre) {
    for (const Layout l : {kBytes, kWords}) {
        FakeRegs regs;
        regs.script(l.at(5), {0, 0, 0, kThre});
        Ns16550 uart(regs, Ns16550Config{l.shift, l.width, false});
        uart.put('A');
        const std::vector<Access> want = {
            rd(l.at(5), l.width, 0),    rd(l.at(5), l.width, 0), rd(l.at(5), l.width, 0),
            rd(l.at(5), l.width, kThre), wr(l.at(0), l.width, 'A'),
        };
        EXPECT_EQ(regs.log, want) << describe(regs.log);
    }
}

TEST(Ns16550, PutIsOneByteNotSignExtended) {
    FakeRegs regs;
    regs.set(0x14, kThre);
    Ns16550 uart(regs, Ns16550Config{2, 4, false});
    uart.put('\xe9');
    EXPECT_EQ(regs.log.back(), wr(0, 4, 0xe9));
}

TEST(Ns16550, PutTimesOutThenPollsBrieflyUntilThreReturns) {
    FakeRegs regs;
    regs.recording = false;
    regs.set(5, kTemt); // THRE never set
    Ns16550 uart(regs, Ns16550Config{0, 1, false});
    uart.put('a');
    EXPECT_EQ(regs.reads(5), u64{Ns16550::kPollLimit});
    EXPECT_EQ(regs.get(0), u32{'a'}); // written anyway
    uart.put('b');
    EXPECT_EQ(regs.reads(5), u64{Ns16550::kPollLimit} + Ns16550::kStalledPollLimit);
    EXPECT_EQ(regs.get(0), u32{'b'});
    // THRE again: one read, and the full limit applies once more.
    regs.set(5, kThre);
    uart.put('c');
    EXPECT_EQ(regs.reads(5), u64{Ns16550::kPollLimit} + Ns16550::kStalledPollLimit + 1);
    regs.set(5, 0);
    uart.put('d');
    EXPECT_EQ(regs.reads(5), 2 * u64{Ns16550::kPollLimit} + Ns16550::kStalledPollLimit + 1);
    EXPECT_EQ(regs.writes(0), 4u);
}

TEST(Ns16550, GetOnlyWhenDataReady) {
    FakeRegs regs;
    regs.set(5, kThre | kTemt);
    regs.set(0, 'q');
    Ns16550 uart(regs, Ns16550Config{0, 1, false});
    char c = '-';
    EXPECT_FALSE(uart.get(c));
    EXPECT_EQ(c, '-');
    EXPECT_EQ(regs.reads(0), 0u); // RBR not read without DR
    regs.set(5, kDr);
    EXPECT_TRUE(uart.get(c));
    EXPECT_EQ(c, 'q');
    EXPECT_EQ(regs.reads(0), 1u);
}

TEST(Ns16550, GetWordRegisterTakesTheLowByte) {
    FakeRegs regs;
    regs.set(0x14, kDr | kThre);
    regs.set(0x00, 0xffffff00u | 'k');
    Ns16550 uart(regs, Ns16550Config{2, 4, false});
    char c = '-';
    EXPECT_TRUE(uart.get(c));
    EXPECT_EQ(c, 'k');
    const std::vector<Access> want = {rd(0x14, 4, 0x21), rd(0x00, 4, 0xffffff6b)};
    EXPECT_EQ(regs.log, want) << describe(regs.log);
}

TEST(Ns16550, FlushWaitsForTemt) {
    FakeRegs regs;
    regs.script(5, {kThre, kThre, kThre | kTemt});
    Ns16550 uart(regs, Ns16550Config{0, 1, false});
    uart.flush();
    EXPECT_EQ(regs.reads(5), 3u);
    EXPECT_EQ(regs.writes(0), 0u);
    EXPECT_EQ(regs.log.size(), 3u);
}

TEST(Ns16550, FlushIsBounded) {
    FakeRegs regs;
    regs.recording = false;
    regs.set(5, kThre);
    Ns16550 uart(regs, Ns16550Config{0, 1, false});
    uart.flush();
    EXPECT_EQ(regs.reads(5), u64{Ns16550::kPollLimit});
}

TEST(Ns16550, ConsoleTranslatesNewlines) {
    FakeRegs regs;
    regs.set(5, kThre | kTemt);
    Ns16550 uart(regs, Ns16550Config{0, 1, false});
    Console c;
    c.attach(&uart);
    c.write("ok\n");
    std::string sent;
    for (const Access& a : regs.log)
        if (a.write && a.offset == 0) sent += static_cast<char>(a.value);
    EXPECT_EQ(sent, "ok\r\n");
}

// ---- the MMIO path over ordinary memory ---------------------------------------

TEST(Ns16550, MmioRegisterIoWidths) {
    alignas(8) u32 mem[4] = {0x12345678, 0x9abcdef0, 0, 0};
    MmioRegisterIo io(Va(reinterpret_cast<u64>(mem)));
    EXPECT_EQ(io.read(0, 4), 0x12345678u);
    EXPECT_EQ(io.read(4, 4), 0x9abcdef0u);
    EXPECT_EQ(io.read(0, 1), 0x78u); // little-endian: the low byte first
    EXPECT_EQ(io.read(1, 1), 0x56u);
    io.write(8, 4, 0xcafef00d);
    EXPECT_EQ(mem[2], 0xcafef00du);
    io.write(12, 1, 0x1ab); // one byte: the rest of the word untouched
    EXPECT_EQ(mem[3], 0xabu);
    io.write(4, 1, 0x11);
    EXPECT_EQ(mem[1], 0x9abcde11u);
}

TEST(Ns16550, MmioByteAccessesTouchOnlyTheirByte) {
    alignas(8) u8 mem[16];
    std::memset(mem, 0xa5, sizeof mem);
    mem[5] = kThre | kTemt;
    Ns16550 uart(Va(reinterpret_cast<u64>(mem)), Ns16550Config{0, 1, false});
    uart.init();
    uart.put('x');
    EXPECT_EQ(mem[0], 'x');
    EXPECT_EQ(mem[1], 0x00); // IER
    EXPECT_EQ(mem[2], 0x07); // FCR
    EXPECT_EQ(mem[3], 0x03); // LCR
    EXPECT_EQ(mem[4], 0x03); // MCR
    EXPECT_EQ(mem[5], kThre | kTemt);
    for (usize i = 6; i < sizeof mem; ++i) EXPECT_EQ(mem[i], 0xa5) << i;
}

TEST(Ns16550, MmioWordAccesses) {
    alignas(8) u32 mem[40];
    for (u32& w : mem) w = 0xa5a5a5a5;
    mem[5] = kThre | kTemt | kDr;
    mem[0] = 0x1234'5600 | 'r';
    mem[3] = 0x03; // LCR already 8N1: a DesignWare UART reads USR never
    Ns16550 uart(Va(reinterpret_cast<u64>(mem)), Ns16550Config{2, 4, true});
    char c = 0;
    ASSERT_TRUE(uart.get(c));
    EXPECT_EQ(c, 'r');
    uart.init();
    uart.put('y');
    EXPECT_EQ(mem[0], u32{'y'}); // a whole word
    EXPECT_EQ(mem[1], 0u);
    EXPECT_EQ(mem[2], 0x07u);
    EXPECT_EQ(mem[3], 0x03u);
    EXPECT_EQ(mem[4], 0x03u);
    for (usize i = 6; i < 40; ++i) EXPECT_EQ(mem[i], 0xa5a5a5a5u) << i;
}

// ---- layout checks -------------------------------------------------------------

TEST(Ns16550, LayoutProblems) {
    auto problem = [](u32 shift, u32 width, bool dw, u64 base, u64 size) {
        return std::string(Ns16550::layout_problem(Ns16550Config{shift, width, dw}, base, size));
    };
    EXPECT_EQ(problem(0, 1, false, 0x10000000, 0x100), "");
    EXPECT_EQ(problem(0, 1, false, 0x10000000, 6), "");       // RBR..LSR
    EXPECT_EQ(problem(0, 1, false, 0x10000000, 5), "reg is too small to reach LSR");
    EXPECT_EQ(problem(2, 4, true, 0xfe650000, 0x100), "");
    EXPECT_EQ(problem(2, 4, true, 0xfe650000, 0x80), "");     // USR at 0x7c..0x7f
    EXPECT_EQ(problem(2, 4, true, 0xfe650000, 0x7f), "reg is too small to reach USR");
    EXPECT_EQ(problem(2, 4, false, 0xfe650000, 0x18), "");    // LSR at 0x14..0x17
    EXPECT_EQ(problem(2, 4, false, 0xfe650000, 0x17), "reg is too small to reach LSR");
    EXPECT_EQ(problem(2, 1, false, 0x1c28000, 0x15), "");
    EXPECT_EQ(problem(0, 2, false, 0x10000000, 0x100), "reg-io-width must be 1 or 4");
    EXPECT_EQ(problem(2, 8, false, 0x10000000, 0x100), "reg-io-width must be 1 or 4");
    EXPECT_EQ(problem(2, 0, false, 0x10000000, 0x100), "reg-io-width must be 1 or 4");
    EXPECT_EQ(problem(9, 1, false, 0x10000000, 0x10000), "reg-shift must be at most 8");
    EXPECT_EQ(problem(64, 1, false, 0x10000000, 0x10000), "reg-shift must be at most 8");
    EXPECT_EQ(problem(8, 1, false, 0x10000000, 0x10000), "");
    EXPECT_EQ(problem(0, 4, false, 0x10000000, 0x100),
              "reg-io-width is wider than the register stride (1 << reg-shift)");
    EXPECT_EQ(problem(1, 4, false, 0x10000000, 0x100),
              "reg-io-width is wider than the register stride (1 << reg-shift)");
    EXPECT_EQ(problem(2, 4, false, 0x10000002, 0x100), "the register base is not aligned to reg-io-width");
    EXPECT_EQ(problem(0, 1, false, 0x10000003, 0x8), "");
}

} // namespace
} // namespace setwise::core
