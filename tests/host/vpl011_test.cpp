// vcpu/vpl011: the emulated PL011 through the MMIO accesses a guest makes.
// Offsets, bit positions, reset and ID values are written out from the
// PL011 TRM (ARM DDI 0183G, section 3), not taken from the headers under
// test; the access sequences are those Linux's amba-pl011 driver and its
// earlycon perform.
#include "vcpu/vpl011.hpp"

#include <gtest/gtest.h>

#include <string>

namespace setwise::vcpu {
namespace {

// DDI 0183G table 3-1.
constexpr u64 DR = 0x000, RSR = 0x004, FR = 0x018, ILPR = 0x020, IBRD = 0x024, FBRD = 0x028,
              LCR_H = 0x02c, CR = 0x030, IFLS = 0x034, IMSC = 0x038, RIS = 0x03c, MIS = 0x040,
              ICR = 0x044, DMACR = 0x048;

// UARTFR bits.
constexpr u32 kRi = 1u << 8, kTxfe = 1u << 7, kRxff = 1u << 6, kTxff = 1u << 5, kRxfe = 1u << 4,
              kBusy = 1u << 3;
// Interrupt bits (RIS, MIS, IMSC, ICR).
constexpr u32 kRxIm = 1u << 4, kTxIm = 1u << 5, kRtIm = 1u << 6, kAllIm = 0x7ff;
// UARTCR bits; UARTLCR_H bits.
constexpr u32 kUarten = 1u << 0, kTxe = 1u << 8, kRxe = 1u << 9;
constexpr u32 kFen = 1u << 4, kWlen8 = 3u << 5;

class StringSink final : public Vpl011Sink {
public:
    void put(char c) override { out.push_back(c); }
    std::string out;
};

class Vpl011Test : public ::testing::Test {
protected:
    StringSink sink;
    Vpl011 uart{sink};

    u32 r32(u64 off) { return uart.read(off, 4); }
    void w32(u64 off, u32 v) { uart.write(off, 4, v); }
    void enable_fifos() { w32(LCR_H, kWlen8 | kFen); }
};

TEST_F(Vpl011Test, IdentificationRegisters) {
    // PL011 r1p5: PeriphID 0x00341011 (revision 3), PCellID 0xb105f00d.
    EXPECT_EQ(r32(0xfe0), 0x11u);
    EXPECT_EQ(r32(0xfe4), 0x10u);
    EXPECT_EQ(r32(0xfe8), 0x34u);
    EXPECT_EQ(r32(0xfec), 0x00u);
    EXPECT_EQ(r32(0xff0), 0x0du);
    EXPECT_EQ(r32(0xff4), 0xf0u);
    EXPECT_EQ(r32(0xff8), 0x05u);
    EXPECT_EQ(r32(0xffc), 0xb1u);
    EXPECT_EQ(uart.bad_accesses(), 0u);
}

TEST_F(Vpl011Test, ResetValues) {
    EXPECT_EQ(r32(FR), kTxfe | kRxfe); // 0b-10010--- with no modem lines
    EXPECT_EQ(r32(CR), 0x0300u);
    EXPECT_EQ(r32(IFLS), 0x12u);
    EXPECT_EQ(r32(LCR_H), 0u);
    EXPECT_EQ(r32(IBRD), 0u);
    EXPECT_EQ(r32(FBRD), 0u);
    EXPECT_EQ(r32(ILPR), 0u);
    EXPECT_EQ(r32(IMSC), 0u);
    EXPECT_EQ(r32(RIS), 0u); // UARTEN clear: the transmitter is not running
    EXPECT_EQ(r32(MIS), 0u);
    EXPECT_EQ(r32(DMACR), 0u);
    EXPECT_EQ(r32(RSR), 0u);
    EXPECT_FALSE(uart.irq_level());
    EXPECT_EQ(uart.rx_capacity(), 1u);
}

TEST_F(Vpl011Test, TransmitGoesToTheSinkAtOnce) {
    // earlycon: poll FR.TXFF, write DR -- with the UART never enabled.
    for (char c : std::string("setwise\n")) {
        ASSERT_EQ(r32(FR) & kTxff, 0u);
        w32(DR, static_cast<u8>(c));
    }
    EXPECT_EQ(sink.out, "setwise\n");
    EXPECT_EQ(r32(FR) & (kTxfe | kTxff | kBusy), kTxfe);
}

TEST_F(Vpl011Test, TransmitTakesBitsSevenToZero) {
    w32(DR, 0xffff'ff41);
    uart.write(DR, 1, 0x42);   // writeb
    uart.write(DR, 2, 0x0143); // writew
    EXPECT_EQ(sink.out, "ABC");
}

TEST_F(Vpl011Test, ReceiveHoldingRegisterWithoutFifo) {
    // LCR_H.FEN clear: one byte of holding register.
    EXPECT_TRUE(uart.rx_push('x'));
    EXPECT_EQ(r32(FR) & (kRxfe | kRxff), kRxff);
    EXPECT_FALSE(uart.rx_push('y'));
    EXPECT_EQ(uart.rx_count(), 1u);
    EXPECT_EQ(r32(DR), static_cast<u32>('x'));
    EXPECT_EQ(r32(FR) & (kRxfe | kRxff), kRxfe);
}

TEST_F(Vpl011Test, ReceiveFifoOrderAndDepth) {
    enable_fifos();
    EXPECT_EQ(uart.rx_capacity(), 32u);
    for (int i = 0; i < 32; ++i) {
        EXPECT_EQ(r32(FR) & kRxff, 0u) << i;
        ASSERT_TRUE(uart.rx_push(static_cast<char>('a' + i % 26))) << i;
    }
    EXPECT_EQ(r32(FR) & (kRxfe | kRxff), kRxff);
    EXPECT_FALSE(uart.rx_push('!'));
    EXPECT_EQ(uart.rx_count(), 32u);
    for (int i = 0; i < 32; ++i) {
        EXPECT_EQ(r32(FR) & kRxfe, 0u);
        EXPECT_EQ(r32(DR), static_cast<u32>('a' + i % 26)) << i;
    }
    EXPECT_EQ(r32(FR) & (kRxfe | kRxff), kRxfe);
    // Reading an empty FIFO returns 0 and changes nothing.
    EXPECT_EQ(r32(DR), 0u);
    EXPECT_EQ(uart.rx_count(), 0u);
}

TEST_F(Vpl011Test, ReceiveFifoWrapsAround) {
    enable_fifos();
    std::string expected, got;
    for (int round = 0; round < 5; ++round) {
        for (int i = 0; i < 20; ++i) {
            const char c = static_cast<char>('0' + (round * 20 + i) % 75);
            ASSERT_TRUE(uart.rx_push(c));
            expected.push_back(c);
        }
        for (int i = 0; i < 20; ++i) got.push_back(static_cast<char>(r32(DR)));
    }
    EXPECT_EQ(got, expected);
}

TEST_F(Vpl011Test, ByteReadOfDataPops) {
    enable_fifos();
    ASSERT_TRUE(uart.rx_push('p'));
    ASSERT_TRUE(uart.rx_push('q'));
    EXPECT_EQ(uart.read(DR, 1), static_cast<u32>('p'));
    EXPECT_EQ(uart.read(DR, 2), static_cast<u32>('q'));
    EXPECT_EQ(uart.rx_count(), 0u);
}

TEST_F(Vpl011Test, DisablingTheFifoKeepsWhatItHolds) {
    enable_fifos();
    for (char c : std::string("abc")) ASSERT_TRUE(uart.rx_push(c));
    w32(LCR_H, kWlen8);
    EXPECT_EQ(uart.rx_capacity(), 1u);
    EXPECT_EQ(r32(FR) & kRxff, kRxff);
    EXPECT_FALSE(uart.rx_push('d'));
    EXPECT_EQ(r32(DR), static_cast<u32>('a'));
    EXPECT_EQ(r32(DR), static_cast<u32>('b'));
    EXPECT_EQ(r32(DR), static_cast<u32>('c'));
    EXPECT_TRUE(uart.rx_push('d'));
}

TEST_F(Vpl011Test, ReceiveInterrupt) {
    enable_fifos();
    w32(IMSC, kRxIm | kRtIm);
    EXPECT_FALSE(uart.irq_level());
    ASSERT_TRUE(uart.rx_push('k'));
    EXPECT_EQ(r32(RIS) & (kRxIm | kRtIm), kRxIm);
    EXPECT_EQ(r32(MIS), kRxIm);
    EXPECT_TRUE(uart.irq_level());
    ASSERT_TRUE(uart.rx_push('l'));
    // Cleared through ICR while data remains; the next character raises it again.
    w32(ICR, kRxIm);
    EXPECT_EQ(r32(RIS) & kRxIm, 0u);
    EXPECT_FALSE(uart.irq_level());
    ASSERT_TRUE(uart.rx_push('m'));
    EXPECT_TRUE(uart.irq_level());
    // Reading the FIFO empty clears it.
    (void)r32(DR);
    (void)r32(DR);
    EXPECT_TRUE(uart.irq_level());
    (void)r32(DR);
    EXPECT_EQ(r32(RIS) & kRxIm, 0u);
    EXPECT_FALSE(uart.irq_level());
}

TEST_F(Vpl011Test, MaskedReceiveInterruptDoesNotReachTheLine) {
    ASSERT_TRUE(uart.rx_push('z'));
    EXPECT_EQ(r32(RIS) & kRxIm, kRxIm);
    EXPECT_EQ(r32(MIS), 0u);
    EXPECT_FALSE(uart.irq_level());
}

TEST_F(Vpl011Test, TransmitInterruptIsALevel) {
    w32(CR, kUarten | kTxe | kRxe);
    EXPECT_EQ(r32(RIS) & kTxIm, kTxIm);
    EXPECT_FALSE(uart.irq_level());
    w32(IMSC, kTxIm);
    EXPECT_EQ(r32(MIS), kTxIm);
    EXPECT_TRUE(uart.irq_level());
    // The TX FIFO stays empty, so ICR cannot clear the condition.
    w32(ICR, kTxIm);
    EXPECT_TRUE(uart.irq_level());
    // Linux masks TXIM once its buffer is empty.
    w32(IMSC, 0);
    EXPECT_FALSE(uart.irq_level());
    // No transmitter, no TX interrupt: TXE clear, or UARTEN clear.
    w32(IMSC, kTxIm);
    w32(CR, kUarten | kRxe);
    EXPECT_EQ(r32(RIS) & kTxIm, 0u);
    EXPECT_FALSE(uart.irq_level());
    w32(CR, kTxe | kRxe);
    EXPECT_FALSE(uart.irq_level());
}

TEST_F(Vpl011Test, LinuxStartupSequence) {
    // amba-pl011: clear all interrupts, mask, program baud and line, then
    // enable the UART and unmask RX and RT.
    w32(ICR, kAllIm);
    w32(IMSC, 0);
    w32(IBRD, 13);
    w32(FBRD, 1);
    w32(LCR_H, kWlen8 | kFen);
    w32(IFLS, 0x12);
    w32(CR, kUarten | kTxe | kRxe);
    w32(IMSC, kRxIm | kRtIm);
    EXPECT_EQ(r32(IBRD), 13u);
    EXPECT_EQ(r32(FBRD), 1u);
    EXPECT_EQ(r32(LCR_H), kWlen8 | kFen);
    EXPECT_EQ(r32(CR), kUarten | kTxe | kRxe);
    EXPECT_EQ(r32(IMSC), kRxIm | kRtIm);
    EXPECT_FALSE(uart.irq_level());
    // A keystroke: interrupt, read until RXFE.
    ASSERT_TRUE(uart.rx_push('\r'));
    EXPECT_TRUE(uart.irq_level());
    std::string got;
    while ((r32(FR) & kRxfe) == 0) got.push_back(static_cast<char>(r32(DR) & 0xff));
    EXPECT_EQ(got, "\r");
    EXPECT_FALSE(uart.irq_level());
    // Transmit through the interrupt: unmask TX, it fires, write, mask.
    w32(IMSC, kRxIm | kRtIm | kTxIm);
    EXPECT_TRUE(uart.irq_level());
    EXPECT_EQ(r32(MIS), kTxIm);
    uart.write(DR, 2, 'o');
    uart.write(DR, 2, 'k');
    w32(IMSC, kRxIm | kRtIm);
    EXPECT_FALSE(uart.irq_level());
    EXPECT_EQ(sink.out, "ok");
}

TEST_F(Vpl011Test, ReservedBitsReadAsZero) {
    w32(IMSC, 0xffff'ffff);
    EXPECT_EQ(r32(IMSC), 0x7ffu);
    w32(CR, 0xffff'ffff);
    EXPECT_EQ(r32(CR), 0xff87u); // [6:3] reserved
    w32(IBRD, 0xffff'ffff);
    EXPECT_EQ(r32(IBRD), 0xffffu);
    w32(FBRD, 0xffff'ffff);
    EXPECT_EQ(r32(FBRD), 0x3fu);
    w32(LCR_H, 0xffff'ffff);
    EXPECT_EQ(r32(LCR_H), 0xffu);
    w32(IFLS, 0xffff'ffff);
    EXPECT_EQ(r32(IFLS), 0x3fu);
    w32(DMACR, 0xffff'ffff);
    EXPECT_EQ(r32(DMACR), 0x7u);
    w32(ILPR, 0xffff'ffff);
    EXPECT_EQ(r32(ILPR), 0xffu);
    EXPECT_EQ(uart.bad_accesses(), 0u);
}

TEST_F(Vpl011Test, NarrowAccessesReachTheLowBytes) {
    uart.write(CR, 2, kUarten | kTxe | kRxe);
    EXPECT_EQ(r32(CR), kUarten | kTxe | kRxe);
    // A byte store replaces bits [7:0] and keeps TXE/RXE.
    uart.write(CR, 1, 0);
    EXPECT_EQ(r32(CR), kTxe | kRxe);
    EXPECT_EQ(uart.read(FR, 1), kTxfe | kRxfe);
    EXPECT_EQ(uart.read(FR, 2), kTxfe | kRxfe);
    w32(IMSC, 0x7ff);
    EXPECT_EQ(uart.read(IMSC, 1), 0xffu);
    EXPECT_EQ(uart.read(IMSC, 2), 0x7ffu);
    EXPECT_EQ(uart.read(0xfe8, 1), 0x34u);
    EXPECT_EQ(uart.bad_accesses(), 0u);
}

TEST_F(Vpl011Test, BadAccessesAreCountedAndHarmless) {
    w32(CR, kUarten | kTxe | kRxe);
    w32(IMSC, kTxIm);
    const u32 cr = r32(CR);
    u64 expected = 0;
    struct Bad {
        u64 offset;
        unsigned size;
    };
    const Bad bad[] = {
        {0x031, 1},                // byte lane 1 of CR
        {0x032, 2},                // upper half of CR
        {0x001, 1},                // lane 1 of DR
        {0x002, 2},                // upper half of DR
        {0x003, 4},                // misaligned
        {0x030, 8},                // doubleword
        {0x030, 0},                // no size
        {0x030, 3},                // odd size
        {0x008, 4},                // reserved 0x008-0x014
        {0x01c, 4},                // reserved
        {0x04c, 4},                // reserved 0x04c-0xfdc
        {0x080, 4},                // test registers are not modelled
        {0xfdc, 4},
        {0x1000, 4},               // beyond the 4 KiB frame
        {0x1030, 4},
        {~u64{0} - 3, 4},
    };
    for (const Bad& b : bad) {
        EXPECT_EQ(uart.read(b.offset, b.size), 0u) << std::hex << b.offset << " size " << b.size;
        EXPECT_EQ(uart.bad_accesses(), ++expected);
        uart.write(b.offset, b.size, 0);
        EXPECT_EQ(uart.bad_accesses(), ++expected);
    }
    // Nothing changed, nothing was sent.
    EXPECT_EQ(r32(CR), cr);
    EXPECT_EQ(r32(IMSC), kTxIm);
    EXPECT_TRUE(sink.out.empty());
    EXPECT_EQ(uart.bad_accesses(), expected);
}

TEST_F(Vpl011Test, ReadOnlyAndWriteOnlyRegisters) {
    for (u64 ro : {FR, RIS, MIS, u64{0xfe0}, u64{0xfe8}, u64{0xffc}}) w32(ro, 0xffff'ffff);
    EXPECT_EQ(r32(FR), kTxfe | kRxfe);
    EXPECT_EQ(r32(RIS), 0u);
    EXPECT_EQ(r32(0xfe8), 0x34u);
    EXPECT_EQ(r32(ICR), 0u);
    w32(RSR, 0xff); // error clear
    EXPECT_EQ(r32(RSR), 0u);
    EXPECT_EQ(uart.bad_accesses(), 0u);
    EXPECT_EQ(r32(FR) & kRi, 0u);
}

TEST_F(Vpl011Test, Reset) {
    enable_fifos();
    w32(CR, kUarten | kTxe | kRxe);
    w32(IMSC, kAllIm);
    w32(IBRD, 99);
    ASSERT_TRUE(uart.rx_push('r'));
    (void)uart.read(0x4000, 4);
    ASSERT_TRUE(uart.irq_level());
    uart.reset();
    EXPECT_EQ(r32(CR), 0x0300u);
    EXPECT_EQ(r32(IMSC), 0u);
    EXPECT_EQ(r32(IBRD), 0u);
    EXPECT_EQ(r32(LCR_H), 0u);
    EXPECT_EQ(r32(IFLS), 0x12u);
    EXPECT_EQ(r32(FR), kTxfe | kRxfe);
    EXPECT_EQ(uart.rx_count(), 0u);
    EXPECT_FALSE(uart.irq_level());
    EXPECT_EQ(uart.bad_accesses(), 0u);
}

} // namespace
} // namespace setwise::vcpu
