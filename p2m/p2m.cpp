#include "p2m/p2m.hpp"

#include "arch/cpu.hpp"

namespace setwise::p2m {

// --------------------------------------------------------------- VMIDs

Result<u16> VmidAllocator::allocate() {
    const SpinLock::Guard guard(lock_);
    for (u16 v = kFirstGuestVmid; v <= kLastVmid; ++v) {
        u64& word = used_[v / 64];
        const u64 bit = u64{1} << (v % 64);
        if ((word & bit) == 0) {
            word |= bit;
            return v;
        }
    }
    return Status::no_memory;
}

Result<void> VmidAllocator::free(u16 vmid) {
    if (vmid < kFirstGuestVmid || vmid > kLastVmid) return Status::invalid_argument;
    const SpinLock::Guard guard(lock_);
    u64& word = used_[vmid / 64];
    const u64 bit = u64{1} << (vmid % 64);
    if ((word & bit) == 0) return Status::not_found;
    word &= ~bit;
    return {};
}

usize VmidAllocator::in_use() const {
    const SpinLock::Guard guard(lock_);
    usize n = 0;
    for (u16 v = kFirstGuestVmid; v <= kLastVmid; ++v) n += (used_[v / 64] >> (v % 64)) & 1;
    return n;
}

// ----------------------------------------------------------------- P2m

Result<P2m> P2m::create(mm::TableMemory& mem, u16 vmid, const Stage2Geometry& geometry) {
    if (vmid < kFirstGuestVmid || vmid > kLastVmid) return Status::invalid_argument;
    const mm::TableGeometry shape{geometry.start_level, geometry.ipa_bits};
    if (!shape.valid() || shape.root_tables() != geometry.root_tables) return Status::invalid_argument;

    P2m p;
    p.table_ = SW_TRY(Table::create(mem, shape));
    p.vttbr_ = VttbrEl2{}.with<VttbrEl2::vmid>(vmid).with<VttbrEl2::baddr>(p.table_.root().raw() >> 1).raw();
    p.vtcr_ = geometry.vtcr;
    p.vmid_ = vmid;
    p.live_ = true;
    return p;
}

P2m::P2m(P2m&& other) noexcept
    : table_(other.table_), vttbr_(other.vttbr_), vtcr_(other.vtcr_), vmid_(other.vmid_), live_(other.live_),
      tracking_(other.tracking_) {
    other.table_ = Table();
    other.live_ = false;
}

P2m& P2m::operator=(P2m&& other) noexcept {
    if (this != &other) {
        table_ = other.table_;
        vttbr_ = other.vttbr_;
        vtcr_ = other.vtcr_;
        vmid_ = other.vmid_;
        live_ = other.live_;
        tracking_ = other.tracking_;
        other.table_ = Table();
        other.live_ = false;
    }
    return *this;
}

Result<void> P2m::map(Ipa ipa, Pa pa, u64 size, Stage2Attr attr, unsigned top_leaf_level) {
    const SpinLock::Guard guard(lock_);
    if (!live_) return Status::invalid_argument;
    SW_TRY_VOID(table_.map(ipa, pa, size, attr, top_leaf_level));
    arch::page_table_sync();
    return {};
}

Result<void> P2m::map_ram(Ipa ipa, Pa pa, u64 size, Granule granule) {
    const Stage2Attr ram{MappingType::ram, true, true, true};
    return map(ipa, pa, size, ram, granule == Granule::page ? 3 : 0);
}

Result<void> P2m::map_device(Ipa ipa, Pa pa, u64 size) {
    const Stage2Attr device{MappingType::device, true, true, false};
    return map(ipa, pa, size, device, 0);
}

Result<void> P2m::unmap(Ipa ipa, u64 size) {
    const SpinLock::Guard guard(lock_);
    if (!live_) return Status::invalid_argument;
    const u64 vttbr = vttbr_;
    SW_TRY_VOID(table_.unmap(
        ipa, size, [vttbr](Ipa base, unsigned level) { arch::stage2_tlb_invalidate_ipa(vttbr, base, level); }));
    // The last step of break-before-make for the tables a split linked
    // (DDI 0487 D8.14.1): the new entries are visible when unmap returns.
    arch::page_table_sync();
    return {};
}

Result<Translation> P2m::translate(Ipa ipa) const {
    const SpinLock::Guard guard(lock_);
    if (!live_) return Status::not_found;
    const Table::Leaf leaf = SW_TRY(table_.lookup(ipa));
    return Translation{leaf.pa, leaf.attr.type, leaf.level, leaf.hidden};
}

// ------------------------------------------------------ access tracking

u64 P2m::track_all() {
    using F = Stage2Format;
    const SpinLock::Guard guard(lock_);
    if (!live_) return 0;
    u64 hidden = 0;
    (void)table_.for_each_entry(IpaRange{Ipa(0), table_.input_limit()}, [&](Table::EntryRef& e) {
        const u64 d = e.raw();
        if (!F::is_valid(d)) return mm::Visit::skip; // tracked already
        if (F::is_table(d, e.level())) {
            if (F::holds_device(d)) return mm::Visit::descend;
        } else if (!F::is_ram(d)) {
            return mm::Visit::skip;
        }
        e.write(F::hide(d));
        ++hidden;
        return mm::Visit::skip;
    });
    if (hidden != 0) {
        // Completes before anyone can reveal them again (the lock is held):
        // from now on a walk through them faults (H).
        arch::stage2_tlb_invalidate_vmid(vttbr_);
        tracking_.hidden += hidden;
    }
    return hidden;
}

u64 P2m::hide_children(Ipa base, unsigned level) {
    using F = Stage2Format;
    u64 hidden = 0;
    (void)table_.for_each_entry(IpaRange{base, mm::level_size(level)}, [&](Table::EntryRef& e) {
        if (e.level() <= level) return mm::Visit::descend; // the path, then the table itself
        const u64 d = e.raw();
        if (!F::is_valid(d)) return mm::Visit::skip;
        if (F::is_table(d, e.level()) ? !F::holds_device(d) : F::is_ram(d)) {
            e.write(F::hide(d));
            ++hidden;
        }
        return mm::Visit::skip;
    });
    return hidden;
}

bool P2m::has_valid_child(Ipa base, unsigned level) {
    bool valid = false;
    (void)table_.for_each_entry(IpaRange{base, mm::level_size(level)}, [&](Table::EntryRef& e) {
        if (e.level() <= level) return mm::Visit::descend;
        if (!Stage2Format::is_valid(e.raw())) return mm::Visit::skip;
        valid = true;
        return mm::Visit::stop;
    });
    return valid;
}

Result<bool> P2m::resolve_fault(Ipa ipa) {
    using F = Stage2Format;
    const SpinLock::Guard guard(lock_);
    if (!live_ || ipa.raw() >= table_.input_limit()) return false;
    bool found = false;
    bool changed = false;
    // Exactly the entries on the way to `ipa`, root first.
    (void)table_.for_each_entry(IpaRange{ipa.align_down(kPageSize), kPageSize}, [&](Table::EntryRef& e) {
        u64 d = e.raw();
        if (F::is_hidden(d)) {
            if (F::is_table(d, e.level())) {
                // Its children were out of reach, so by (J) clean: hide the
                // valid ones, and make that visible to every table walker
                // before the table is (DDI 0487 D8.2, "Ordering of memory
                // accesses from translation table walks"), so no walk can
                // combine the valid table with a stale valid child.
                hide_children(e.base(), e.level());
                arch::page_table_sync();
                ++tracking_.tables_opened;
            }
            d = F::reveal(d);
            e.write(d);
            changed = true;
        }
        if (!F::is_valid(d)) return mm::Visit::stop; // software state of no kind setwise writes
        if (F::is_table(d, e.level())) return mm::Visit::descend;
        found = true;
        return mm::Visit::stop;
    });
    if (changed) {
        arch::page_table_sync();
        if (found) ++tracking_.faults_resolved;
    }
    return found;
}

P2m::TrackingCounters P2m::tracking_counters() const {
    const SpinLock::Guard guard(lock_);
    return tracking_;
}

usize P2m::table_pages() const {
    const SpinLock::Guard guard(lock_);
    return table_.table_pages();
}

void P2m::destroy() {
    const SpinLock::Guard guard(lock_);
    if (!live_) return;
    // Walk caches may hold pointers into any of the tables: none may be
    // reused before they are gone (DDI 0487 D8.13, TLB maintenance).
    arch::stage2_tlb_invalidate_vmid(vttbr_);
    table_.destroy();
    live_ = false;
}

// ------------------------------------------------------ table memory

Result<Pa> FrameTableMemory::allocate_tables(unsigned n) {
    if (n == 0 || n > mm::kMaxRootTables || (n & (n - 1)) != 0) return Status::invalid_argument;
    const Pa pa = SW_TRY(frames_.allocate(n, n));
    u64* p = static_cast<u64*>(phys_to_virt_(pa, n * kPageSize));
    if (p == nullptr) {
        if (!frames_.free(pa, n).ok()) refused_.fetch_add(1, std::memory_order_relaxed);
        return Status::no_memory;
    }
    for (u64 i = 0; i < n * mm::kEntriesPerTable; ++i) p[i] = 0;
    held_.fetch_add(n, std::memory_order_relaxed);
    return pa;
}

void FrameTableMemory::free_tables(Pa pa, unsigned n) {
    if (frames_.free(pa, n).ok()) {
        held_.fetch_sub(n, std::memory_order_relaxed);
    } else {
        refused_.fetch_add(1, std::memory_order_relaxed);
    }
}

} // namespace setwise::p2m
