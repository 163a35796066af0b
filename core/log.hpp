// Levelled logging to the hypervisor console, with the type-safe formatter:
//
//   log::info("CPU{} online, MPIDR {:#x}", index, mpidr);
//
// Every line starts with "(setwise) "; a warning or error says so after it.
// The threshold is the `loglvl=` option.
#pragma once

#include <string_view>

#include "core/console.hpp"
#include "core/format.hpp"

namespace setwise::core::log {

enum class Level : u8 { none, error, warning, info, debug, all };

void set_threshold(Level l);
Level threshold();
inline bool enabled(Level l) { return l != Level::none && static_cast<u8>(l) <= static_cast<u8>(threshold()); }

// The line prefix for a level, e.g. "(setwise) warning: ".
std::string_view prefix(Level l);

template <typename... A>
void print(Level l, std::string_view fmt, const A&... args) {
    if (!enabled(l)) return;
    Console& c = console();
    Console::Hold hold(c);
    c.write(prefix(l));
    fmt::format_to(c, fmt, args...);
    c.write("\n");
}

template <typename... A>
void error(std::string_view fmt, const A&... args) { print(Level::error, fmt, args...); }
template <typename... A>
void warning(std::string_view fmt, const A&... args) { print(Level::warning, fmt, args...); }
template <typename... A>
void info(std::string_view fmt, const A&... args) { print(Level::info, fmt, args...); }
template <typename... A>
void debug(std::string_view fmt, const A&... args) { print(Level::debug, fmt, args...); }

} // namespace setwise::core::log
