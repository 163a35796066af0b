// The hypervisor console: one UART (chosen from /chosen/stdout-path), shared
// by all CPUs. Output is whole writes under a lock so lines from different
// CPUs do not interleave; '\n' goes out as "\r\n".
#pragma once

#include <string_view>

#include "core/format.hpp"
#include "core/ns16550.hpp"
#include "core/uart.hpp"
#include "setwise/spinlock.hpp"

namespace setwise::core {

class Console final : public fmt::Sink {
public:
    // Until the MMU is on (exclusives need cacheable memory) only the boot
    // CPU runs and writes go out unlocked.
    void attach(Uart* uart) { uart_ = uart; }
    void enable_locking() { locking_ = true; }
    bool attached() const { return uart_ != nullptr; }
    void write(std::string_view s) override;
    void flush();
    // One received byte, if any. Only the console CPU reads input.
    bool poll_input(char& c) { return uart_ != nullptr && uart_->get(c); }

    // Hold the console across several writes (a multi-line report).
    class [[nodiscard]] Hold {
    public:
        explicit Hold(Console& c);
        ~Hold();
        Hold(const Hold&) = delete;
        Hold& operator=(const Hold&) = delete;

    private:
        Console& c_;
        bool locked_;
    };

private:
    void emit(std::string_view s);
    // The console lock records its owner so that a CPU holding it through a
    // Hold can go on writing; true when this call took it.
    bool acquire();
    void release();

    Uart* uart_ = nullptr;
    bool locking_ = false;
    static constexpr u64 kFree = ~u64{0};
    std::atomic<u64> holder_{kFree};
};

Console& console();

// Which driver fits a console node's compatible list (a DT string list):
// "arm,pl011" or "arm,sbsa-uart" for the PL011; "ns16550a", "ns16550",
// "ns8250" or "snps,dw-apb-uart" for the 16550.
enum class UartKind : u8 { none, pl011, ns16550 };
UartKind uart_kind_for(std::string_view compatible_list);

struct ConsoleNode;

// The driver and its layout for the /chosen/stdout-path node.
struct UartChoice {
    UartKind kind = UartKind::none;
    Ns16550Config ns16550{}; // kind ns16550: reg-shift, reg-io-width, DesignWare
    // kind none: why the node cannot be the console (no driver for its
    // compatible, no `reg`, or a 16550 layout setwise cannot drive, see
    // Ns16550::layout_problem), for the boot to report.
    std::string_view problem;
};
UartChoice choose_uart(const ConsoleNode& node);

} // namespace setwise::core
