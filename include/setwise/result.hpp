// Result<T>: the one error channel. No exceptions anywhere in setwise.
//
//   Result<Pa> r = allocator.allocate(...);
//   if (!r) return r.status();
//   Pa pa = r.value();
//
// or, inside a function that itself returns a Result or Status:
//
//   Pa pa = SW_TRY(allocator.allocate(...));
#pragma once

#include <new>
#include <type_traits>
#include <utility>

#include "setwise/types.hpp"

namespace setwise {

enum class Status : u8 {
    ok,
    invalid_argument, // malformed input (guest, configuration, blob)
    out_of_range,     // a value or address outside what is allowed
    truncated,        // input ends before a structure it promises
    bad_magic,        // input is not the format it claims to be
    not_found,        // a lookup found nothing
    no_memory,        // an allocator is exhausted
    exists,           // the thing to create is already there
    unsupported,      // valid, but not something setwise does
    busy,             // try again later
    timeout,          // waited long enough
};

constexpr const char* status_name(Status s) {
    switch (s) {
    case Status::ok: return "ok";
    case Status::invalid_argument: return "invalid argument";
    case Status::out_of_range: return "out of range";
    case Status::truncated: return "truncated";
    case Status::bad_magic: return "bad magic";
    case Status::not_found: return "not found";
    case Status::no_memory: return "out of memory";
    case Status::exists: return "already exists";
    case Status::unsupported: return "unsupported";
    case Status::busy: return "busy";
    case Status::timeout: return "timed out";
    }
    return "unknown status";
}

template <typename T>
class [[nodiscard]] Result {
public:
    // Implicit on purpose: `return value;` and `return Status::x;` both read well.
    constexpr Result(const T& v) : status_(Status::ok), value_(v) {}
    constexpr Result(T&& v) : status_(Status::ok), value_(std::move(v)) {}
    constexpr Result(Status s) : status_(s), value_() {}

    constexpr bool ok() const { return status_ == Status::ok; }
    constexpr explicit operator bool() const { return ok(); }
    constexpr Status status() const { return status_; }

    // Precondition: ok(). Checked by the callers' own `if`, as with
    // std::optional::operator*.
    constexpr T& value() & { return value_; }
    constexpr const T& value() const& { return value_; }
    constexpr T&& value() && { return std::move(value_); }
    constexpr T value_or(T fallback) const { return ok() ? value_ : fallback; }

private:
    static_assert(std::is_default_constructible_v<T>, "Result<T> needs a default-constructible T");
    Status status_;
    T value_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    constexpr Result() : status_(Status::ok) {}
    constexpr Result(Status s) : status_(s) {}
    constexpr bool ok() const { return status_ == Status::ok; }
    constexpr explicit operator bool() const { return ok(); }
    constexpr Status status() const { return status_; }

private:
    Status status_;
};

} // namespace setwise

// Early return on error. A GNU statement expression (GCC and Clang both have it).
#define SW_TRY(expr)                                                    \
    ({                                                                  \
        auto sw_try_result_ = (expr);                                   \
        if (!sw_try_result_.ok()) return sw_try_result_.status();       \
        std::move(sw_try_result_).value();                              \
    })

#define SW_TRY_VOID(expr)                                               \
    do {                                                                \
        auto sw_try_result_ = (expr);                                   \
        if (!sw_try_result_.ok()) return sw_try_result_.status();       \
    } while (0)
