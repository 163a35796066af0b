// panic(): an internal invariant is broken. Never for anything a guest or the
// configuration can cause (those become faults or errors). Prints one line
// with the CPU and halts this CPU with exceptions masked.
#pragma once

#include "core/console.hpp"
#include "core/format.hpp"
#include "core/percpu.hpp"

namespace setwise::core {

[[noreturn]] void halt_this_cpu();

template <typename... A>
[[noreturn]] void panic(std::string_view fmt, const A&... args) {
    Console& c = console();
    {
        Console::Hold hold(c);
        fmt::format_to(c, "(setwise) PANIC on CPU{}: ", this_cpu_index());
        fmt::format_to(c, fmt, args...);
        c.write("\n");
    }
    c.flush();
    halt_this_cpu();
}

} // namespace setwise::core
