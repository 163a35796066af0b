// Spinlock and the guard that proves a lock is held.
//
// A function that needs a lock held takes a `const SpinLock::Guard&` (or a
// `Locked<T>::Access`), which can only be made by locking: the type system
// carries the locking contract. Lock order: see docs/locking.md.
//
// Exclusive monitors need Normal cacheable memory: take locks only once the
// MMU is on (before that, only the boot CPU runs).
#pragma once

#include <atomic>

#include "setwise/types.hpp"

namespace setwise {

void cpu_relax(); // arch: `yield` on arm64, a no-op on the host

class SpinLock {
public:
    SpinLock() = default;
    SpinLock(const SpinLock&) = delete;
    SpinLock& operator=(const SpinLock&) = delete;

    class [[nodiscard]] Guard {
    public:
        explicit Guard(SpinLock& l) : lock_(l) { lock_.acquire(); }
        ~Guard() { lock_.release(); }
        Guard(const Guard&) = delete;
        Guard& operator=(const Guard&) = delete;
        bool holds(const SpinLock& l) const { return &lock_ == &l; }

    private:
        SpinLock& lock_;
    };

    Guard lock() { return Guard(*this); }

private:
    void acquire() {
        while (locked_.exchange(true, std::memory_order_acquire)) {
            while (locked_.load(std::memory_order_relaxed)) cpu_relax();
        }
    }
    void release() { locked_.store(false, std::memory_order_release); }

    std::atomic<bool> locked_{false};
};

// A value that can only be reached with its lock held.
template <typename T>
class Locked {
public:
    template <typename... A>
    explicit Locked(A&&... args) : value_(static_cast<A&&>(args)...) {}

    class Access {
    public:
        explicit Access(Locked& l) : guard_(l.lock_), value_(l.value_) {}
        T* operator->() { return &value_; }
        T& operator*() { return value_; }
        const SpinLock::Guard& guard() const { return guard_; }

    private:
        SpinLock::Guard guard_;
        T& value_;
    };

    Access lock() { return Access(*this); }

private:
    SpinLock lock_;
    T value_;
};

} // namespace setwise
