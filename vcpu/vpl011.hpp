// The emulated PL011 UART a guest sees (ARM PrimeCell UART PL011 r1p5
// Technical Reference Manual, ARM DDI 0183G), enough for Linux's
// amba-pl011 driver, `earlycon=pl011`, and U-Boot's pl01x driver. The
// register map is include/setwise/pl011_regs.hpp's Pl011Reg, shared with the physical
// console driver.
//
// Driven by decoded MMIO accesses from stage-2 data aborts (the caller has
// checked ISV and turned the IPA into an offset within the 4 KiB frame):
//
//   offset 4-byte aligned, size 1, 2 or 4, offset < 0x1000, and a PL011
//   register there: the access is performed. A narrower access reaches the
//   low bytes of the register: reads return them, writes replace them and
//   keep the rest (DR and ICR have nothing to keep).
//   Anything else -- misaligned, a byte lane other than 0, 8 bytes, beyond
//   the frame, a reserved offset -- reads as 0, writes are ignored, and it
//   is counted in bad_accesses(): the caller decides whether the guest gets
//   an abort. Nothing a guest does here can fail the hypervisor.
//   Writes to read-only registers and reads of ICR (write-only) are
//   ignored / read as 0 without counting: the register exists.
//
// What is modelled, and what is simplified:
//   TX   A DR write hands the byte to the TX sink at once, whatever CR says
//        (as QEMU's PL011 does, so an earlycon that never enables the UART
//        still prints). The transmit FIFO is therefore always empty: FR.TXFE
//        = 1, TXFF = 0, BUSY = 0. The TX interrupt is the level condition
//        "FIFO at or below its trigger level", true whenever the
//        transmitter runs (CR.UARTEN and CR.TXE): set in RIS then, not
//        clearable by ICR, which is what Linux expects (it masks TXIM once
//        its buffer is empty).
//   RX   rx_push() appends to a 32-entry FIFO (r1p5 depth, PeriphID2
//        revision 3). With LCR_H.FEN clear the FIFO is the 1-byte holding
//        register of character mode. FR.RXFE / RXFF follow the FIFO. The
//        receive interrupt asserts when a character arrives (a trigger level
//        of one, as QEMU's PL011 uses) rather than at the IFLS level, so a
//        guest never waits for the receive timeout interrupt, which an
//        emulated line cannot time; RT is therefore never raised. RX clears
//        when the FIFO is read empty or through ICR, and asserts again with
//        the next character. IFLS is stored for the guest to read back.
//   No line errors, no break, no modem lines (FR.CTS/DSR/DCD/RI and the
//   modem and error interrupts read 0), no loopback (CR.LBE), no DMA
//   (DMACR stored only), no IrDA (ILPR stored only), baud rate and line
//   format stored only.
//
// Locking: not thread-safe. The caller holds the domain's device lock
// around every call (keep it in a Locked<Vpl011>); the sink is called with
// that lock held and must neither block nor call back into the device.
#pragma once

#include "setwise/pl011_regs.hpp"
#include "setwise/types.hpp"

namespace setwise::vcpu {

// Where transmitted bytes go (the hypervisor console, a per-domain ring).
class Vpl011Sink {
public:
    virtual void put(char c) = 0;

protected:
    ~Vpl011Sink() = default;
};

// Register bits the emulation uses beyond setwise::pl011 (DDI 0183G 3.3).
namespace vpl011 {
inline constexpr u32 kDrData = 0xff;           // UARTDR [7:0]; [11:8] errors (always 0 here)
inline constexpr u32 kFrTxfe = 1u << 7;        // UARTFR transmit FIFO empty
inline constexpr u32 kFrRxff = 1u << 6;        // UARTFR receive FIFO full
inline constexpr u32 kLcrhFen = 1u << 4;       // UARTLCR_H FIFO enable
// UARTRIS / UARTMIS / UARTIMSC / UARTICR, bits [10:0].
inline constexpr u32 kIntRim = 1u << 0;
inline constexpr u32 kIntCtsm = 1u << 1;
inline constexpr u32 kIntDcdm = 1u << 2;
inline constexpr u32 kIntDsrm = 1u << 3;
inline constexpr u32 kIntRx = 1u << 4;
inline constexpr u32 kIntTx = 1u << 5;
inline constexpr u32 kIntRt = 1u << 6;
inline constexpr u32 kIntFe = 1u << 7;
inline constexpr u32 kIntPe = 1u << 8;
inline constexpr u32 kIntBe = 1u << 9;
inline constexpr u32 kIntOe = 1u << 10;
inline constexpr u32 kIntAll = 0x7ff;
// Reset values (DDI 0183G table 3-1).
inline constexpr u32 kCrReset = 0x0300;        // TXE, RXE set; UARTEN clear
inline constexpr u32 kIflsReset = 0x12;        // both FIFOs at 1/2
inline constexpr u32 kFrReset = kFrTxfe | pl011::kFrRxfe;
} // namespace vpl011

class Vpl011 {
public:
    static constexpr u64 kMmioSize = 0x1000;
    static constexpr usize kFifoDepth = 32;

    explicit Vpl011(Vpl011Sink& tx) : tx_(tx) {}
    Vpl011(const Vpl011&) = delete;
    Vpl011& operator=(const Vpl011&) = delete;

    // A guest load of size_bytes at offset into the UART's frame.
    u32 read(u64 offset, unsigned size_bytes);
    // A guest store; value holds the stored bytes in its low size_bytes.
    void write(u64 offset, unsigned size_bytes, u32 value);

    // Console input for the guest. False when the FIFO is full (for the
    // current LCR_H.FEN): the byte is not taken; offer it again later.
    bool rx_push(char c);
    usize rx_count() const { return rx_count_; }
    // How many bytes the receive side holds at most now: 32, or 1 with
    // LCR_H.FEN clear.
    usize rx_capacity() const { return (lcr_h_ & vpl011::kLcrhFen) != 0 ? kFifoDepth : 1; }

    // The UART's interrupt output (UARTINTR: any bit of MIS), level
    // triggered. The caller re-reads it after every read(), write() and
    // rx_push() and tells the vGIC when it changes.
    bool irq_level() const { return mis() != 0; }

    // Accesses refused as described above, since construction or reset().
    u64 bad_accesses() const { return bad_accesses_; }

    // Power-on state: registers at their reset values, FIFO empty, counter 0.
    void reset();

private:
    u32 fr() const;
    u32 ris() const;
    u32 mis() const { return ris() & imsc_; }
    u32 read_register(Pl011Reg reg);
    void write_register(Pl011Reg reg, u32 mask, u32 value);
    char rx_pop();

    Vpl011Sink& tx_;
    u8 rx_fifo_[kFifoDepth] = {};
    usize rx_head_ = 0;   // index of the oldest byte
    usize rx_count_ = 0;
    bool rx_int_ = false; // latched receive interrupt (RIS.RXRIS)
    u32 ilpr_ = 0;
    u32 ibrd_ = 0;
    u32 fbrd_ = 0;
    u32 lcr_h_ = 0;
    u32 cr_ = vpl011::kCrReset;
    u32 ifls_ = vpl011::kIflsReset;
    u32 imsc_ = 0;
    u32 dmacr_ = 0;
    u64 bad_accesses_ = 0;
};

} // namespace setwise::vcpu
