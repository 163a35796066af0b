// One physical CPU's run queue: the vCPUs placed on it and the round-robin
// choice among the runnable ones. Portable (host-tested in
// tests/host/run_queue_test.cpp); core/sched.cpp adds the locking and the
// switching.
//
// Placement is fixed when a domain is built (core/sched.hpp, place()): a
// vCPU stays on its CPU, so its list registers' HW links, its timer's
// physical interrupt state and its caches stay where they are. Fairness is
// among the vCPUs of one CPU: each runnable one runs for at most a slice in
// turn.
#pragma once

#include "setwise/types.hpp"

namespace setwise::core {

template <typename T, usize Capacity>
class RunQueue {
public:
    static constexpr usize kCapacity = Capacity;

    usize size() const { return n_; }
    T* at(usize i) const { return i < n_ ? items_[i] : nullptr; }

    // False when full or already there.
    bool add(T* t) {
        if (t == nullptr || n_ == Capacity || contains(t)) return false;
        items_[n_++] = t;
        return true;
    }
    // False when not there. The order of the rest is kept.
    bool remove(T* t) {
        for (usize i = 0; i < n_; ++i) {
            if (items_[i] != t) continue;
            for (usize j = i + 1; j < n_; ++j) items_[j - 1] = items_[j];
            --n_;
            if (cursor_ != kNone && cursor_ >= i) cursor_ = cursor_ == 0 ? kNone : cursor_ - 1;
            if (cursor_ != kNone && cursor_ >= n_) cursor_ = kNone;
            return true;
        }
        return false;
    }
    bool contains(const T* t) const {
        for (usize i = 0; i < n_; ++i)
            if (items_[i] == t) return true;
        return false;
    }

    // The next runnable entry after the one last picked, wrapping round
    // (so each runnable entry gets its turn before any gets a second), or
    // nullptr if none is runnable.
    template <typename Runnable>
    T* pick(Runnable&& runnable) {
        for (usize k = 0; k < n_; ++k) {
            const usize i = (cursor_ + 1 + k) % n_;
            if (runnable(*items_[i])) {
                cursor_ = i;
                return items_[i];
            }
        }
        return nullptr;
    }
    // How many entries are runnable.
    template <typename Runnable>
    usize count(Runnable&& runnable) const {
        usize c = 0;
        for (usize i = 0; i < n_; ++i)
            if (runnable(*items_[i])) ++c;
        return c;
    }

private:
    T* items_[Capacity] = {};
    usize n_ = 0;
    static constexpr usize kNone = ~usize{0}; // "before the first": + 1 wraps to 0
    usize cursor_ = kNone;
};

} // namespace setwise::core
