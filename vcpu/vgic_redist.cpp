// The emulated GICv3 redistributors. The frames, the guest's view and the
// access rules are in vgic_redist.hpp.
#include "vcpu/vgic_redist.hpp"

namespace setwise::vcpu {

using arm64::GicrReg;
using arm64::GicrSgiReg;
using vgic::Width;

namespace {

constexpr u32 off(GicrReg r) { return static_cast<u32>(r); }
constexpr u32 off(GicrSgiReg r) { return static_cast<u32>(r); }

u64 size_mask(unsigned size) { return size >= 8 ? ~u64{0} : (u64{1} << (8 * size)) - 1; }

} // namespace

// The registers of each frame. Without LPIs GICR_SETLPIR, CLRLPIR,
// INVLPIR, INVALLR and SYNCR are not there; PROPBASER and PENDBASER are
// kept as RAZ/WI for drivers that probe them.
struct VgicRedist::Table {
    struct Area {
        u32 base;
        u32 size; // bytes
        Width width;
        Kind kind;
    };
    static constexpr u32 kId = off(GicrReg::pidr2) - vgic::kIdBlockToPidr2;
    static constexpr Area kRd[] = {
        {off(GicrReg::ctlr), 4, Width::word, Kind::ctlr},
        {off(GicrReg::iidr), 4, Width::word, Kind::iidr},
        {off(GicrReg::typer), 8, Width::dword_or_word, Kind::typer},
        {off(GicrReg::statusr), 4, Width::word, Kind::raz_wi},
        {off(GicrReg::waker), 4, Width::word, Kind::waker},
        {off(GicrReg::propbaser), 8, Width::dword_or_word, Kind::raz_wi},
        {off(GicrReg::pendbaser), 8, Width::dword_or_word, Kind::raz_wi},
        {kId, 4 * vgic::kIdBlockWords, Width::word, Kind::id},
    };
    static constexpr Area kSgi[] = {
        {off(GicrSgiReg::igroupr0), 4, Width::word, Kind::igroupr0},
        {off(GicrSgiReg::isenabler0), 4, Width::word, Kind::isenabler0},
        {off(GicrSgiReg::icenabler0), 4, Width::word, Kind::icenabler0},
        {off(GicrSgiReg::ispendr0), 4, Width::word, Kind::ispendr0},
        {off(GicrSgiReg::icpendr0), 4, Width::word, Kind::icpendr0},
        {off(GicrSgiReg::isactiver0), 4, Width::word, Kind::isactiver0},
        {off(GicrSgiReg::icactiver0), 4, Width::word, Kind::icactiver0},
        {off(GicrSgiReg::ipriorityr), 0x20, Width::byte_or_word, Kind::ipriorityr},
        {off(GicrSgiReg::icfgr0), 4, Width::word, Kind::icfgr0},
        {off(GicrSgiReg::icfgr1), 4, Width::word, Kind::icfgr1},
        {off(GicrSgiReg::igrpmodr0), 4, Width::word, Kind::raz_wi},
        {off(GicrSgiReg::nsacr), 4, Width::word, Kind::raz_wi},
    };
};

std::optional<BitReg> VgicRedist::bit_reg(Kind kind) {
    switch (kind) {
    case Kind::igroupr0: return BitReg::group;
    case Kind::isenabler0: return BitReg::set_enable;
    case Kind::icenabler0: return BitReg::clear_enable;
    case Kind::ispendr0: return BitReg::set_pending;
    case Kind::icpendr0: return BitReg::clear_pending;
    case Kind::isactiver0: return BitReg::set_active;
    case Kind::icactiver0: return BitReg::clear_active;
    case Kind::ctlr:
    case Kind::iidr:
    case Kind::typer:
    case Kind::waker:
    case Kind::raz_wi:
    case Kind::id:
    case Kind::ipriorityr:
    case Kind::icfgr0:
    case Kind::icfgr1:
        return std::nullopt;
    }
    return std::nullopt;
}

std::optional<VgicRedist::Location> VgicRedist::locate(u64 region_offset, u32 nr_vcpus) {
    const u64 vcpu = region_offset / kStride;
    if (vcpu >= nr_vcpus) return std::nullopt;
    const u64 in = region_offset % kStride;
    return Location{static_cast<u32>(vcpu), in < kFrameSize ? Frame::rd : Frame::sgi, in % kFrameSize};
}

VgicRedist::Check VgicRedist::decode(u64 offset, unsigned size, Decoded& out) const {
    if (state_.version() != VgicVersion::v3 || (size != 1 && size != 4 && size != 8)) return Check::bad;
    const std::optional<Location> loc = locate(offset, state_.nr_vcpus());
    if (!loc) return Check::bad;
    const std::span<const Table::Area> areas = loc->frame == Frame::rd ? std::span<const Table::Area>(Table::kRd)
                                                                      : std::span<const Table::Area>(Table::kSgi);
    for (const Table::Area& a : areas) {
        if (loc->offset < a.base || loc->offset - a.base >= a.size) continue;
        if (!vgic::access_ok(a.width, loc->offset, size)) return Check::bad;
        out = Decoded{*loc, a.kind, static_cast<u32>(loc->offset - a.base)};
        return Check::ok;
    }
    return size == 4 && loc->offset % 4 == 0 ? Check::reserved : Check::bad;
}

u64 VgicRedist::read(u64 offset, unsigned size_bytes) {
    Decoded d{};
    switch (decode(offset, size_bytes, d)) {
    case Check::ok: break;
    case Check::bad: bad_.fetch_add(1, std::memory_order_relaxed); return 0;
    case Check::reserved: reserved_.fetch_add(1, std::memory_order_relaxed); return 0;
    }
    const VgicState::Guard g = state_.lock();
    const u64 v = d.loc.frame == Frame::rd ? read_rd(g, d, size_bytes) : read_sgi(g, d, size_bytes);
    return v & size_mask(size_bytes);
}

VcpuMask VgicRedist::write(u64 offset, unsigned size_bytes, u64 value) {
    Decoded d{};
    switch (decode(offset, size_bytes, d)) {
    case Check::ok: break;
    case Check::bad: bad_.fetch_add(1, std::memory_order_relaxed); return 0;
    case Check::reserved: reserved_.fetch_add(1, std::memory_order_relaxed); return 0;
    }
    const VgicState::Guard g = state_.lock();
    value &= size_mask(size_bytes);
    return d.loc.frame == Frame::rd ? write_rd(g, d, value) : write_sgi(g, d, size_bytes, value);
}

u64 VgicRedist::read_rd(const VgicState::Guard& g, const Decoded& d, unsigned size) {
    using arm64::GicrTyper;
    using arm64::GicrWaker;
    const u32 vcpu = d.loc.vcpu;
    const VgicConfig& cfg = state_.config();
    switch (d.kind) {
    case Kind::iidr: return vgic::kIidr;
    case Kind::typer: {
        // PLPIS, VLPIS, DirectLPI, DPGS 0: no LPIs, no 1-of-N.
        GicrTyper v = GicrTyper{}
                          .with<GicrTyper::affinity_value>(arm64::gicr_affinity_of(cfg.affinity(vcpu)))
                          .with<GicrTyper::processor_number>(vcpu);
        if (vcpu + 1 == cfg.nr_vcpus()) v = v.with<GicrTyper::last>(1);
        return size == 8 ? v.raw() : (v.raw() >> (8 * d.at)) & 0xffff'ffffu;
    }
    case Kind::waker: {
        // ChildrenAsleep follows ProcessorSleep at once: nothing to quiesce.
        const u64 sleep = state_.processor_sleep(g, vcpu) ? 1 : 0;
        return GicrWaker{}.with<GicrWaker::processor_sleep>(sleep).with<GicrWaker::children_asleep>(sleep).raw();
    }
    case Kind::id: return vgic::id_register(d.at / 4, 3);
    case Kind::ctlr:   // EnableLPIs RES0 without LPIs; RWP, UWP 0
    case Kind::raz_wi:
        return 0;
    case Kind::igroupr0:
    case Kind::isenabler0:
    case Kind::icenabler0:
    case Kind::ispendr0:
    case Kind::icpendr0:
    case Kind::isactiver0:
    case Kind::icactiver0:
    case Kind::ipriorityr:
    case Kind::icfgr0:
    case Kind::icfgr1:
        return 0; // SGI_base kinds: not in this frame
    }
    return 0;
}

VcpuMask VgicRedist::write_rd(const VgicState::Guard& g, const Decoded& d, u64 value) {
    using arm64::GicrWaker;
    if (d.kind == Kind::waker) {
        // ChildrenAsleep is read-only; bits 0 and 31 are IMPLEMENTATION
        // DEFINED, RAZ/WI here.
        state_.set_processor_sleep(g, d.loc.vcpu, GicrWaker(static_cast<u32>(value)).test<GicrWaker::processor_sleep>());
    }
    return 0; // everything else is read-only or RAZ/WI
}

u64 VgicRedist::read_sgi(const VgicState::Guard& g, const Decoded& d, unsigned size) {
    const u32 vcpu = d.loc.vcpu;
    if (const std::optional<BitReg> r = bit_reg(d.kind)) return state_.read_bits(g, *r, vcpu, 0);
    switch (d.kind) {
    case Kind::ipriorityr: {
        u64 v = 0;
        for (unsigned i = 0; i < size; ++i) v |= u64{state_.read_priority(g, vcpu, d.at + i)} << (8 * i);
        return v;
    }
    case Kind::icfgr0: return state_.read_config(g, vcpu, 0);
    case Kind::icfgr1: return state_.read_config(g, vcpu, vgic::kNrSgis);
    case Kind::raz_wi:
    case Kind::ctlr:
    case Kind::iidr:
    case Kind::typer:
    case Kind::waker:
    case Kind::id:
    case Kind::igroupr0:
    case Kind::isenabler0:
    case Kind::icenabler0:
    case Kind::ispendr0:
    case Kind::icpendr0:
    case Kind::isactiver0:
    case Kind::icactiver0:
        return 0;
    }
    return 0;
}

VcpuMask VgicRedist::write_sgi(const VgicState::Guard& g, const Decoded& d, unsigned size, u64 value) {
    const u32 vcpu = d.loc.vcpu;
    const u32 word = static_cast<u32>(value);
    if (const std::optional<BitReg> r = bit_reg(d.kind)) return state_.write_bits(g, *r, vcpu, 0, word);
    if (d.kind == Kind::ipriorityr) {
        for (unsigned i = 0; i < size; ++i) state_.write_priority(g, vcpu, d.at + i, static_cast<u8>(value >> (8 * i)));
        return 0;
    }
    if (d.kind == Kind::icfgr1) return state_.write_config(g, vcpu, vgic::kNrSgis, word);
    return 0; // GICR_ICFGR0 (SGIs, always edge) is read-only; the rest RAZ/WI
}

} // namespace setwise::vcpu
