#include "core/ns16550.hpp"

#include "setwise/spinlock.hpp"

namespace setwise::core {

using namespace ns16550;

u32 MmioRegisterIo::read(u64 offset, u32 width) {
    if (width == 4) return block_.read32(offset);
    return block_.read8(offset);
}

void MmioRegisterIo::write(u64 offset, u32 width, u32 value) {
    if (width == 4) {
        block_.write32(offset, value);
    } else {
        block_.write8(offset, static_cast<u8>(value));
    }
}

Ns16550::Ns16550(Va base, const Ns16550Config& config) : mmio_(base), io_(&mmio_), config_(config) {}

Ns16550::Ns16550(RegisterIo& io, const Ns16550Config& config) : io_(&io), config_(config) {}

std::string_view Ns16550::layout_problem(const Ns16550Config& config, u64 base, u64 size) {
    const u32 width = config.reg_io_width;
    if (width != 1 && width != 4) return "reg-io-width must be 1 or 4";
    if (config.reg_shift > 8) return "reg-shift must be at most 8";
    if ((u64{1} << config.reg_shift) < width) return "reg-io-width is wider than the register stride (1 << reg-shift)";
    if (base % width != 0) return "the register base is not aligned to reg-io-width";
    const u64 last = static_cast<u64>(config.dw_apb ? Ns16550Reg::usr : Ns16550Reg::lsr);
    if (size < (last << config.reg_shift) + width) {
        return config.dw_apb ? "reg is too small to reach USR" : "reg is too small to reach LSR";
    }
    return {};
}

u8 Ns16550::in(Ns16550Reg r) {
    const u64 offset = u64{static_cast<u32>(r)} << config_.reg_shift;
    return static_cast<u8>(io_->read(offset, config_.reg_io_width) & 0xff);
}

void Ns16550::out(Ns16550Reg r, u8 v) {
    const u64 offset = u64{static_cast<u32>(r)} << config_.reg_shift;
    io_->write(offset, config_.reg_io_width, v);
}

// At most `limit` LSR reads; true once all `bits` are set.
bool Ns16550::wait_lsr(u8 bits, u32 limit) {
    for (u32 i = 0; i < limit; ++i) {
        if ((in(Ns16550Reg::lsr) & bits) == bits) return true;
        cpu_relax();
    }
    return false;
}

// A 16550 takes an LCR write at any time. A DesignWare APB UART built
// without "16550 compatible" ignores it while USR.BUSY is set, that is while
// it sends or receives, or holds received data; Linux (8250_dw.c) retries.
// Here: nothing is written if LCR already holds the value (the common case
// after U-Boot, and then there is no busy to dodge); otherwise each attempt
// waits (bounded) for USR.BUSY to clear, writes, and reads LCR back; after a
// write that did not take, both FIFOs are reset and RBR read so that
// received data no longer keeps the UART busy. Stick parity is left out of
// the comparison, as some DesignWare configurations do not implement it.
bool Ns16550::set_line_control(u8 lcr) {
    if (!config_.dw_apb) {
        out(Ns16550Reg::lcr, lcr);
        return true;
    }
    const auto holds = [&] { return (in(Ns16550Reg::lcr) & ~kLcrStickParity) == lcr; };
    if (holds()) return true;
    for (u32 attempt = 0; attempt < kLcrAttempts; ++attempt) {
        for (u32 i = 0; i < kBusyPollLimit && (in(Ns16550Reg::usr) & kUsrBusy) != 0; ++i) cpu_relax();
        out(Ns16550Reg::lcr, lcr);
        if (holds()) return true;
        out(Ns16550Reg::fcr, kFcrEnable | kFcrClearRx | kFcrClearTx);
        (void)in(Ns16550Reg::rbr);
    }
    return false;
}

void Ns16550::init() {
    // Resetting the transmit FIFO would drop what firmware has not sent
    // yet, and a busy DesignWare UART would ignore the LCR write.
    stalled_ = !wait_lsr(kLsrTemt, kPollLimit);
    // LCR first: with DLAB left set, register 1 would be DLM, not IER.
    line_control_set_ = set_line_control(kLcrWordLength8);
    out(Ns16550Reg::ier, 0);
    out(Ns16550Reg::fcr, kFcrEnable | kFcrClearRx | kFcrClearTx);
    out(Ns16550Reg::mcr, kMcrDtr | kMcrRts);
}

// On a timeout the byte is written anyway, as Linux's 8250 console does: a
// UART whose LSR does not read as expected may still transmit.
void Ns16550::put(char c) {
    stalled_ = !wait_lsr(kLsrThre, stalled_ ? kStalledPollLimit : kPollLimit);
    out(Ns16550Reg::thr, static_cast<u8>(c));
}

bool Ns16550::get(char& c) {
    if ((in(Ns16550Reg::lsr) & kLsrDr) == 0) return false;
    c = static_cast<char>(in(Ns16550Reg::rbr));
    return true;
}

void Ns16550::flush() { (void)wait_lsr(kLsrTemt, stalled_ ? kStalledPollLimit : kPollLimit); }

} // namespace setwise::core
