// Test doubles shared by the walker, p2m and tracking suites: table memory
// from a bounded arena that catches walker bugs, and a scope that installs
// the arch fake's CpuLog (TLB and cache maintenance records) for a test.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <set>
#include <vector>

#include "arch/fake/cpu.hpp"
#include "mm/page_table.hpp"

namespace setwise::test_doubles {

using arch::fake::CpuLog;
using arch::fake::CpuOp;
using arch::fake::CpuRecord;

// Table pages for the walker: aligned_alloc'd, at most `budget` live pages,
// so exhaustion can be provoked. A table page's Pa is its host pointer.
// allocate_tables(n) hands out n contiguous pages aligned to n pages; frees
// must name exactly what was handed out, and really free it, so a walker
// that touches a freed table is caught by ASan. table() of an address this
// arena does not hold is a walker bug (a misdecoded descriptor, a use after
// free): it is recorded as a test failure and answered with a scratch page
// of invalid entries, so the test goes on instead of crashing.
class ArenaMemory final : public mm::TableMemory {
public:
    explicit ArenaMemory(usize budget) : budget_(budget) {}
    ~ArenaMemory() {
        for (const auto& [base, n] : blocks_) std::free(reinterpret_cast<void*>(base));
    }
    ArenaMemory(const ArenaMemory&) = delete;
    ArenaMemory& operator=(const ArenaMemory&) = delete;

    Result<Pa> allocate_table() override { return allocate_tables(1); }

    Result<Pa> allocate_tables(unsigned n) override {
        if (pages_.size() + n > budget_) {
            ++refused_;
            return Status::no_memory;
        }
        void* p = std::aligned_alloc(n * kPageSize, n * kPageSize);
        std::memset(p, 0, n * kPageSize);
        const u64 base = reinterpret_cast<u64>(p);
        blocks_[base] = n;
        for (unsigned i = 0; i < n; ++i) {
            pages_.push_back(base + i * kPageSize);
            known_.insert(base + i * kPageSize);
        }
        return Pa(base);
    }

    void free_table(Pa pa) override { free_tables(pa, 1); }

    void free_tables(Pa pa, unsigned n) override {
        auto it = blocks_.find(pa.raw());
        if (it == blocks_.end() || it->second != n) {
            ADD_FAILURE() << "free of " << n << " table(s) at " << std::hex << pa.raw()
                          << " which the arena did not hand out as such";
            return;
        }
        for (unsigned i = 0; i < n; ++i) {
            known_.erase(pa.raw() + i * kPageSize);
            pages_.erase(std::find(pages_.begin(), pages_.end(), pa.raw() + i * kPageSize));
        }
        blocks_.erase(it);
        std::free(reinterpret_cast<void*>(pa.raw()));
        ++frees_;
    }

    u64* table(Pa pa) override {
        if (known_.count(pa.raw()) == 0) {
            ADD_FAILURE() << "walker asked for table page " << std::hex << pa.raw()
                          << " which the arena does not hold";
            std::memset(scratch_, 0, sizeof scratch_);
            return scratch_;
        }
        return reinterpret_cast<u64*>(pa.raw());
    }

    // Live pages.
    usize used() const { return pages_.size(); }
    usize refused() const { return refused_; }
    usize frees() const { return frees_; }
    void set_budget(usize b) { budget_ = b; }
    // Live pages, in allocation order.
    const std::vector<u64>& pages() const { return pages_; }
    bool owns(u64 pa) const { return known_.count(pa) != 0; }

private:
    usize budget_;
    usize refused_ = 0;
    usize frees_ = 0;
    std::vector<u64> pages_;
    std::set<u64> known_;
    std::map<u64, unsigned> blocks_;
    alignas(4096) u64 scratch_[512]{};
};

// Installs a CpuLog for the test's thread, with an optional observer.
class LogScope {
public:
    LogScope() { previous_ = arch::fake::set_log(&log_); }
    ~LogScope() { arch::fake::set_log(previous_); }
    CpuLog& log() { return log_; }
    void observe(std::function<void(const CpuRecord&)> f) {
        observer_ = std::move(f);
        log_.set_observer([](void* c, const CpuRecord& r) { (*static_cast<LogScope*>(c)).observer_(r); }, this);
    }
    std::vector<CpuRecord> of(CpuOp op) const {
        std::vector<CpuRecord> out;
        for (usize i = 0; i < log_.count(); ++i)
            if (log_.at(i).op == op) out.push_back(log_.at(i));
        return out;
    }
    std::vector<CpuRecord> stage2() const {
        std::vector<CpuRecord> out;
        for (usize i = 0; i < log_.count(); ++i) {
            const CpuRecord& r = log_.at(i);
            if (r.op == CpuOp::stage2_tlb_invalidate_ipa || r.op == CpuOp::stage2_tlb_invalidate_vmid)
                out.push_back(r);
        }
        return out;
    }

private:
    CpuLog log_;
    CpuLog* previous_ = nullptr;
    std::function<void(const CpuRecord&)> observer_;
};

} // namespace setwise::test_doubles
