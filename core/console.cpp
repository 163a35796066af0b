#include "core/console.hpp"

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
    return UartKind::none;
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
