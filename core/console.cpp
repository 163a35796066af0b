#include "core/console.hpp"

#include <span>

#include "core/machine.hpp"
#include "core/percpu.hpp"

namespace setwise::core {

namespace {
Console g_console;

bool list_contains(std::string_view list, std::string_view want) {
    // A DT string list: NUL-separated entries.
    while (!list.empty()) {
        usize n = 0;
        while (n < list.size() && list[n] != '\0') ++n;
        if (list.substr(0, n) == want) return true;
        list.remove_prefix(n < list.size() ? n + 1 : n);
    }
    return false;
}
} // namespace

Console& console() { return g_console; }

UartKind uart_kind_for(std::string_view compatible_list) {
    if (list_contains(compatible_list, "arm,pl011") || list_contains(compatible_list, "arm,sbsa-uart"))
        return UartKind::pl011;
    // Bindings serial/8250.yaml and serial/snps-dw-apb-uart.yaml; SoC
    // specific compatibles list one of these as their fallback.
    if (list_contains(compatible_list, "ns16550a") || list_contains(compatible_list, "ns16550") ||
        list_contains(compatible_list, "ns8250") || list_contains(compatible_list, "snps,dw-apb-uart"))
        return UartKind::ns16550;
    return UartKind::none;
}

UartChoice choose_uart(const ConsoleNode& node) {
    UartChoice choice;
    const std::span<const u8> raw = node.compatible.raw();
    const std::string_view compatible(reinterpret_cast<const char*>(raw.data()), raw.size());
    const UartKind kind = uart_kind_for(compatible);
    if (kind == UartKind::none) {
        choice.problem = "no driver for its compatible";
        return choice;
    }
    if (!node.reg || node.reg->size == 0) {
        choice.problem = "it has no `reg`";
        return choice;
    }
    if (kind == UartKind::ns16550) {
        const Ns16550Config config{node.reg_shift, node.reg_io_width,
                                   list_contains(compatible, "snps,dw-apb-uart")};
        choice.problem = Ns16550::layout_problem(config, node.reg->base.raw(), node.reg->size);
        if (!choice.problem.empty()) return choice;
        choice.ns16550 = config;
    }
    choice.kind = kind;
    return choice;
}

void Console::emit(std::string_view s) {
    for (char c : s) {
        if (c == '\n') uart_->put('\r');
        uart_->put(c);
    }
}

bool Console::acquire() {
    if (!locking_) return false;
    const u64 me = this_cpu_index();
    if (holder_.load(std::memory_order_relaxed) == me) return false;
    u64 expected = kFree;
    while (!holder_.compare_exchange_weak(expected, me, std::memory_order_acquire,
                                          std::memory_order_relaxed)) {
        expected = kFree;
        cpu_relax();
    }
    return true;
}

void Console::release() { holder_.store(kFree, std::memory_order_release); }

void Console::write(std::string_view s) {
    if (uart_ == nullptr) return;
    const bool took = acquire();
    emit(s);
    if (took) release();
}

void Console::flush() {
    if (uart_ != nullptr) uart_->flush();
}

Console::Hold::Hold(Console& c) : c_(c), locked_(c.acquire()) {}

Console::Hold::~Hold() {
    if (locked_) c_.release();
}

} // namespace setwise::core
