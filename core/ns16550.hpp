// The ns16550/8250 console driver: the National Semiconductor 16550 register
// set that most non-ARM-designed SoC UARTs implement (Linux's 8250 family;
// DT bindings serial/8250.yaml and serial/snps-dw-apb-uart.yaml).
//
// Registers are numbered 0..7 and sit `1 << reg-shift` bytes apart; each is
// reached with accesses of `reg-io-width` bytes (1 or 4), of which only the
// low byte means anything. The Synopsys DesignWare APB UART adds USR at
// register 31 and ignores LCR writes while it is busy (see init()).
//
// The driver reaches its registers through RegisterIo, so that the host
// tests can put a scripted, recording fake in place of the device.
#pragma once

#include <string_view>

#include "core/uart.hpp"
#include "setwise/mmio.hpp"
#include "setwise/types.hpp"

namespace setwise::core {

// Register numbers (multiply by 1 << reg-shift for the byte offset).
enum class Ns16550Reg : u32 {
    rbr = 0, // R   receive buffer            (LCR.DLAB = 0)
    thr = 0, // W   transmit holding          (LCR.DLAB = 0)
    dll = 0, // RW  divisor latch, low byte   (LCR.DLAB = 1): never touched
    ier = 1, // RW  interrupt enable          (LCR.DLAB = 0)
    dlm = 1, // RW  divisor latch, high byte  (LCR.DLAB = 1): never touched
    iir = 2, // R   interrupt identification
    fcr = 2, // W   FIFO control
    lcr = 3, // RW  line control
    mcr = 4, // RW  modem control
    lsr = 5, // R   line status
    msr = 6, // R   modem status
    scr = 7, // RW  scratch
    usr = 31, // R  DesignWare only: UART status
};

namespace ns16550 {
inline constexpr u8 kLcrWordLength8 = 0x03; // WLS = 0b11, 1 stop bit, no parity
inline constexpr u8 kLcrStickParity = 1u << 5;
inline constexpr u8 kLcrDlab = 1u << 7;     // divisor latch access
inline constexpr u8 kFcrEnable = 1u << 0;
inline constexpr u8 kFcrClearRx = 1u << 1;
inline constexpr u8 kFcrClearTx = 1u << 2;
inline constexpr u8 kMcrDtr = 1u << 0;
inline constexpr u8 kMcrRts = 1u << 1;
inline constexpr u8 kLsrDr = 1u << 0;   // data ready
inline constexpr u8 kLsrThre = 1u << 5; // transmit holding register (FIFO) empty
inline constexpr u8 kLsrTemt = 1u << 6; // transmitter empty: FIFO and shift register
inline constexpr u8 kUsrBusy = 1u << 0; // DesignWare USR: a transfer in progress
} // namespace ns16550

// How a driver reaches a register block: `width` bytes (1 or 4) at `offset`
// from its base. The device itself through MMIO on the target; a fake on
// the host.
class RegisterIo {
public:
    virtual u32 read(u64 offset, u32 width) = 0;
    virtual void write(u64 offset, u32 width, u32 value) = 0;

protected:
    ~RegisterIo() = default;
};

// The device: width 4 is one 32-bit access, anything else one byte.
class MmioRegisterIo final : public RegisterIo {
public:
    constexpr MmioRegisterIo() = default;
    constexpr explicit MmioRegisterIo(Va base) : block_(base) {}
    u32 read(u64 offset, u32 width) override;
    void write(u64 offset, u32 width, u32 value) override;

private:
    MmioBlock block_;
};

struct Ns16550Config {
    u32 reg_shift = 0;    // register n at n << reg_shift
    u32 reg_io_width = 1; // bytes per access: 1 or 4
    bool dw_apb = false;  // Synopsys DesignWare APB UART (USR, busy LCR)
};

// Polled 16550. Firmware (or U-Boot) has set the baud rate, and setwise does
// not know the UART's input clock: the divisor latch is never touched.
class Ns16550 final : public Uart {
public:
    // LSR polls before put() or flush() gives up (and writes anyway), so a
    // dead UART cannot hang the hypervisor: far longer than a 16-byte FIFO
    // takes to drain at 9600 baud (17 ms) on any CPU.
    static constexpr u32 kPollLimit = 1'000'000;
    // After one such timeout the UART is "stalled" and each put() polls
    // this much only, until THRE is seen again: a console that is dead
    // costs the boot little time instead of kPollLimit per character.
    static constexpr u32 kStalledPollLimit = 1'000;
    // DesignWare: USR polls per LCR write attempt, and attempts.
    static constexpr u32 kBusyPollLimit = 10'000;
    static constexpr u32 kLcrAttempts = 100;

    // The device at `base` (mapped, or with the MMU off its physical address).
    Ns16550(Va base, const Ns16550Config& config);
    // Any register access, e.g. a host test's fake; `io` must outlive this.
    Ns16550(RegisterIo& io, const Ns16550Config& config);
    Ns16550(const Ns16550&) = delete;
    Ns16550& operator=(const Ns16550&) = delete;

    // Why a layout cannot be driven over `reg` (its byte size), or "" if it
    // can: reg-io-width other than 1 or 4, reg-shift above 8, accesses
    // wider than the register stride, a base not aligned to the width, or
    // a register the driver uses (up to LSR; USR for DesignWare) past the
    // end of `reg`.
    static std::string_view layout_problem(const Ns16550Config& config, u64 base, u64 size);

    // Waits (bounded) for the transmitter to drain what firmware left in
    // it, then 8N1 with DLAB clear, interrupts off, FIFOs enabled and
    // reset, DTR and RTS.
    void init() override;
    // Waits (bounded) for THRE, then writes THR. No translation.
    void put(char c) override;
    // LSR.DR, then RBR.
    bool get(char& c) override;
    // Waits (bounded) for TEMT.
    void flush() override;

    // false if init() could not write LCR: a DesignWare UART that stayed
    // busy through every attempt. The line settings are then firmware's.
    bool line_control_set() const { return line_control_set_; }

private:
    u8 in(Ns16550Reg r);
    void out(Ns16550Reg r, u8 v);
    bool wait_lsr(u8 bits, u32 limit);
    bool set_line_control(u8 lcr);

    MmioRegisterIo mmio_;
    RegisterIo* io_;
    Ns16550Config config_;
    bool stalled_ = false;
    bool line_control_set_ = true;
};

} // namespace setwise::core
