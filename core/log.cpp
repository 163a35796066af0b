#include "core/log.hpp"

#include <atomic>

namespace setwise::core::log {

namespace {
std::atomic<Level> g_threshold{Level::info};
}

void set_threshold(Level l) { g_threshold.store(l, std::memory_order_relaxed); }
Level threshold() { return g_threshold.load(std::memory_order_relaxed); }

std::string_view prefix(Level l) {
    switch (l) {
    case Level::error: return "(setwise) error: ";
    case Level::warning: return "(setwise) warning: ";
    case Level::none:
    case Level::info:
    case Level::debug:
    case Level::all: return "(setwise) ";
    }
    return "(setwise) ";
}

} // namespace setwise::core::log
