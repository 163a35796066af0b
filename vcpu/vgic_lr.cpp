// List register formats and the fill / sync rounds. The protocol is in
// vgic_lr.hpp and vgic_state.hpp (list, fold).
#include "vcpu/vgic_lr.hpp"

namespace setwise::vcpu {

using arm64::GichLr;
using arm64::IchLrEl2;

u64 encode_ich_lr(const LrEntry& e) {
    IchLrEl2 lr = IchLrEl2{}
                      .with<IchLrEl2::vintid>(e.vintid)
                      .with<IchLrEl2::priority>(e.priority)
                      .with<IchLrEl2::group>(e.group1 ? 1 : 0)
                      .with<IchLrEl2::hw>(e.hw ? 1 : 0)
                      .with<IchLrEl2::state>(static_cast<u64>(e.state));
    lr = e.hw ? lr.with<IchLrEl2::pintid>(e.pintid) : lr.with<IchLrEoi>(e.eoi ? 1 : 0);
    return lr.raw();
}

LrEntry decode_ich_lr(u64 raw) {
    const IchLrEl2 lr(raw);
    LrEntry e;
    e.vintid = static_cast<u32>(lr.get<IchLrEl2::vintid>());
    e.state = static_cast<LrState>(lr.get<IchLrEl2::state>());
    e.priority = static_cast<u8>(lr.get<IchLrEl2::priority>());
    e.group1 = lr.test<IchLrEl2::group>();
    e.hw = lr.test<IchLrEl2::hw>();
    if (e.hw) {
        e.pintid = static_cast<u32>(lr.get<IchLrEl2::pintid>());
    } else {
        e.eoi = lr.test<IchLrEoi>();
    }
    return e;
}

u32 encode_gich_lr(const LrEntry& e) {
    GichLr lr = GichLr{}
                    .with<GichLr::virtual_id>(e.vintid)
                    .with<GichLr::priority>(e.priority >> 3)
                    .with<GichLr::state>(static_cast<u64>(e.state))
                    .with<GichLr::grp1>(e.group1 ? 1 : 0)
                    .with<GichLr::hw>(e.hw ? 1 : 0);
    if (e.hw) {
        lr = lr.with<GichLr::physical_id>(e.pintid);
    } else {
        lr = lr.with<GichLr::cpuid>(e.source).with<GichLr::eoi>(e.eoi ? 1 : 0);
    }
    return lr.raw();
}

LrEntry decode_gich_lr(u32 raw) {
    const GichLr lr(raw);
    LrEntry e;
    e.vintid = static_cast<u32>(lr.get<GichLr::virtual_id>());
    e.state = static_cast<LrState>(lr.get<GichLr::state>());
    e.priority = static_cast<u8>(lr.get<GichLr::priority>() << 3);
    e.group1 = lr.test<GichLr::grp1>();
    e.hw = lr.test<GichLr::hw>();
    if (e.hw) {
        e.pintid = static_cast<u32>(lr.get<GichLr::physical_id>());
    } else {
        e.source = static_cast<u8>(lr.get<GichLr::cpuid>());
        e.eoi = lr.test<GichLr::eoi>();
    }
    return e;
}

ListRegisterFile::ListRegisterFile(u32 vcpu, usize nr_lrs)
    : vcpu_(vcpu), nr_lrs_(nr_lrs < 1 ? 1 : (nr_lrs > kMaxLrs ? kMaxLrs : nr_lrs)) {}

ListRegisterFile::FillResult ListRegisterFile::fill(VgicState& state, std::span<LrEntry> lrs) {
    if (in_flight()) (void)sync(state, std::span<const LrEntry>(slots_, used_));
    FillResult result;
    const VgicState::Guard g = state.lock();
    VgicState::Candidate candidates[kMaxLrs];
    const VgicState::CandidateCount count =
        state.lr_candidates(g, vcpu_, std::span<VgicState::Candidate>(candidates, nr_lrs_));
    const usize n = count.total < nr_lrs_ ? count.total : nr_lrs_;
    usize active_listed = 0;
    for (usize i = 0; i < n; ++i) {
        const LrEntry e = state.list(g, vcpu_, candidates[i].intid);
        if (e.state == LrState::invalid) continue; // not listable after all: nothing was taken
        if (lr_active(e.state)) ++active_listed;
        slots_[result.used++] = e;
    }
    used_ = result.used;
    result.overflow = count.total > result.used;
    if (result.overflow) {
        if (result.used >= 2) {
            result.underflow = true;
        } else if (result.used == 1) {
            if (slots_[0].state == LrState::pending) {
                result.no_pending = true;
            } else if (!slots_[0].hw) {
                slots_[0].eoi = true;
            }
        }
        result.eoi_count = count.active > active_listed;
    }
    for (usize i = 0; i < lrs.size(); ++i) lrs[i] = i < used_ ? slots_[i] : LrEntry{};
    return result;
}

ListRegisterFile::SyncResult ListRegisterFile::sync(VgicState& state, std::span<const LrEntry> lrs, u32 eoi_count) {
    SyncResult result;
    const VgicState::Guard g = state.lock();
    // EOIcount first, while the listed interrupts are still marked listed:
    // it counts deactivations of interrupts that were in no LR.
    for (u32 i = 0; i < eoi_count && i < kMaxEoiCount; ++i) {
        const std::optional<VgicState::Deactivated> done = state.deactivate_unlisted(g, vcpu_);
        if (!done) {
            ++result.eois_unmatched;
            continue;
        }
        ++result.eois_unlisted;
        result.kick |= done->kick;
        if (done->hw) result.hw_pintids[result.hw_count++] = done->pintid;
    }
    for (usize i = 0; i < used_; ++i) {
        const LrEntry& was = slots_[i];
        LrState now = was.state;
        if (i < lrs.size() && lrs[i].vintid == was.vintid) now = lrs[i].state;
        result.kick |= state.fold(g, vcpu_, was, now);
        ++result.folded;
    }
    used_ = 0;
    return result;
}

} // namespace setwise::vcpu
