// A token bucket: at most `burst` units at once, refilled at `rate` units a
// second. The console multiplexer gives each guest's console output one
// (core/console_mux.hpp, docs/consoles.md "Rate limit").
//
// Time is passed in, as counter ticks with the counter's frequency (the
// generic timer's CNTPCT_EL0 and CNTFRQ_EL0 on the target), so tests drive
// it explicitly; nothing here reads a clock, locks or allocates.
//
// Credit is kept in units of 1/frequency of a token: a tick of time adds
// `rate` units, a token costs `frequency` units. Both are whole numbers, so
// there is no rounding error that accumulates and no division on the path
// that takes a token. Every product and sum saturates at 2^64 - 1, and the
// credit is capped at the burst, so any gap in time (a counter read after
// years, or after a wrap) refills to the burst and no further.
//
// A counter that goes backwards (a reset, a read that raced another CPU's)
// adds nothing: the bucket re-anchors at the earlier time, so refilling
// resumes from there instead of waiting for the counter to come back to
// the later one.
#pragma once

#include <algorithm>
#include <limits>

#include "setwise/types.hpp"

namespace setwise::core {

constexpr u64 saturating_add(u64 a, u64 b) {
    const u64 sum = a + b;
    return sum < a ? std::numeric_limits<u64>::max() : sum;
}

constexpr u64 saturating_mul(u64 a, u64 b) {
    u64 product = 0;
    if (__builtin_mul_overflow(a, b, &product)) return std::numeric_limits<u64>::max();
    return product;
}

class TokenBucket {
public:
    // Unlimited: take() always grants everything.
    constexpr TokenBucket() = default;

    // `rate` tokens a second, at most `burst` at once, time in ticks of a
    // counter running at `frequency` ticks a second. Starts full at `now`.
    // A rate of 0, a burst of 0 or a frequency of 0 make the bucket
    // unlimited (0 is the command line's "unlimited"; a burst or frequency
    // of 0 could never grant a token, which no caller means).
    constexpr void configure(u64 rate, u64 burst, u64 frequency, u64 now) {
        if (rate == 0 || burst == 0 || frequency == 0) {
            *this = TokenBucket();
            return;
        }
        rate_ = rate;
        burst_ = burst;
        frequency_ = frequency;
        capacity_ = saturating_mul(burst, frequency);
        credit_ = capacity_;
        last_ = now;
    }

    constexpr bool unlimited() const { return rate_ == 0; }
    constexpr u64 rate() const { return rate_; }
    constexpr u64 burst() const { return burst_; }

    // Whole tokens available at `now`.
    constexpr u64 available(u64 now) {
        if (unlimited()) return std::numeric_limits<u64>::max();
        refill(now);
        return credit_ / frequency_;
    }

    // Takes up to `n` tokens at `now`; returns how many it took (all `n`
    // when unlimited, fewer when the bucket runs dry).
    constexpr u64 take(u64 now, u64 n) {
        if (unlimited()) return n;
        refill(now);
        const u64 granted = std::min(n, credit_ / frequency_);
        credit_ -= granted * frequency_; // granted * frequency_ <= credit_
        return granted;
    }

private:
    constexpr void refill(u64 now) {
        if (now > last_) {
            const u64 gained = saturating_mul(now - last_, rate_);
            credit_ = std::min(capacity_, saturating_add(credit_, gained));
        }
        last_ = now;
    }

    u64 rate_ = 0; // 0: unlimited
    u64 burst_ = 0;
    u64 frequency_ = 1;
    u64 capacity_ = 0; // burst_ * frequency_, saturated
    u64 credit_ = 0;   // <= capacity_
    u64 last_ = 0;     // the time credit_ was brought up to
};

} // namespace setwise::core
