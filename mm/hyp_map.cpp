#include "mm/hyp_map.hpp"

namespace setwise::mm {

using arm64::MemType;
using arm64::Stage1Attr;

Result<Pa> HypTableMemory::allocate_table() {
    if ((used_ + 1) * kPageSize <= pool_.size()) {
        u8* page = pool_.data() + used_ * kPageSize;
        ++used_;
        for (usize i = 0; i < kPageSize; ++i) page[i] = 0;
        return Pa(reinterpret_cast<u64>(page));
    }
    if (source_ == nullptr) return Status::no_memory;
    return source_->allocate_page();
}

Result<HypMap> HypMap::create(HypTableMemory& mem) {
    Table t = SW_TRY(Table::create(mem));
    return HypMap(t);
}

Result<void> HypMap::map_ram(PaRange bank, PaRange text) {
    const Pa start = bank.base.align_up(kPageSize);
    const Pa end = bank.end().align_down(kPageSize);
    if (end <= start) return {};
    const Stage1Attr data{MemType::normal, true, false};
    const Stage1Attr code{MemType::normal, false, true};

    Pa t0 = text.base < start ? start : text.base;
    Pa t1 = text.end() > end ? end : text.end();
    if (text.empty() || t1 <= t0) {
        return table_.map(va_of(start), start, end - start, data);
    }
    if (!t0.is_aligned(kPageSize) || !t1.is_aligned(kPageSize)) return Status::invalid_argument;
    if (start < t0) SW_TRY_VOID(table_.map(va_of(start), start, t0 - start, data));
    SW_TRY_VOID(table_.map(va_of(t0), t0, t1 - t0, code));
    if (t1 < end) SW_TRY_VOID(table_.map(va_of(t1), t1, end - t1, data));
    return {};
}

Result<void> HypMap::map_device(PaRange regs) {
    if (regs.empty()) return Status::invalid_argument;
    const Pa start = regs.base.align_down(kPageSize);
    const Pa end = regs.end().align_up(kPageSize);
    return table_.map(va_of(start), start, end - start, Stage1Attr{MemType::device, true, false});
}

arm64::MmuConfig HypMap::mmu_config(u64 parange) const {
    const auto sctlr = arm64::SctlrEl2(arm64::SctlrEl2::kRes1)
                           .with<arm64::SctlrEl2::m>(1)
                           .with<arm64::SctlrEl2::c>(1)
                           .with<arm64::SctlrEl2::i>(1)
                           .with<arm64::SctlrEl2::sa>(1);
    return arm64::MmuConfig{arm64::mair_el2().raw(), arm64::tcr_el2(parange).raw(), table_.root().raw(),
                            sctlr.raw()};
}

} // namespace setwise::mm
