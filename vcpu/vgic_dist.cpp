// The emulated GIC distributor. Access rules and the guest's view are in
// vgic_dist.hpp; register layouts are IHI 0048B 4.3 (GICv2) and IHI 0069H
// chapter 12, "The GIC Distributor register descriptions" (GICv3).
#include "vcpu/vgic_dist.hpp"

namespace setwise::vcpu {

using arm64::GicdReg;
using vgic::Width;

namespace {

constexpr u32 off(GicdReg r) { return static_cast<u32>(r); }

} // namespace

// The distributor's registers by offset, and which version has them. The
// arrays stop at INTID 1019: IPRIORITYR and ITARGETSR words 255 and
// IROUTER<1020..1023> are reserved.
struct VgicDist::Table {
    struct Area {
        u32 base;
        u32 size; // bytes
        Width width;
        Kind kind;
        bool v2;
        bool v3;
    };
    static constexpr u32 kIdV2 = off(GicdReg::icpidr2) - vgic::kIdBlockToPidr2;
    static constexpr u32 kIdV3 = off(GicdReg::pidr2) - vgic::kIdBlockToPidr2;
    static constexpr Area kAreas[] = {
        {off(GicdReg::ctlr), 4, Width::word, Kind::ctlr, true, true},
        {off(GicdReg::typer), 4, Width::word, Kind::typer, true, true},
        {off(GicdReg::iidr), 4, Width::word, Kind::iidr, true, true},
        {off(GicdReg::typer2), 4, Width::word, Kind::raz_wi, false, true},
        {off(GicdReg::statusr), 4, Width::word, Kind::raz_wi, false, true},
        {off(GicdReg::igroupr), 0x80, Width::word, Kind::igroupr, true, true},
        {off(GicdReg::isenabler), 0x80, Width::word, Kind::isenabler, true, true},
        {off(GicdReg::icenabler), 0x80, Width::word, Kind::icenabler, true, true},
        {off(GicdReg::ispendr), 0x80, Width::word, Kind::ispendr, true, true},
        {off(GicdReg::icpendr), 0x80, Width::word, Kind::icpendr, true, true},
        {off(GicdReg::isactiver), 0x80, Width::word, Kind::isactiver, true, true},
        {off(GicdReg::icactiver), 0x80, Width::word, Kind::icactiver, true, true},
        {off(GicdReg::ipriorityr), 0x3fc, Width::byte_or_word, Kind::ipriorityr, true, true},
        {off(GicdReg::itargetsr), 0x3fc, Width::byte_or_word, Kind::itargetsr, true, true},
        {off(GicdReg::icfgr), 0x100, Width::word, Kind::icfgr, true, true},
        {off(GicdReg::igrpmodr), 0x80, Width::word, Kind::raz_wi, false, true},
        {off(GicdReg::nsacr), 0x100, Width::word, Kind::raz_wi, true, true},
        {off(GicdReg::sgir), 4, Width::word, Kind::sgir, true, true},
        {off(GicdReg::cpendsgir), 0x10, Width::byte_or_word, Kind::cpendsgir, true, true},
        {off(GicdReg::spendsgir), 0x10, Width::byte_or_word, Kind::spendsgir, true, true},
        {off(GicdReg::irouter), 0x1fe0, Width::dword_or_word, Kind::irouter, false, true},
        {kIdV2, 4 * vgic::kIdBlockWords, Width::word, Kind::id, true, false},
        {kIdV3, 4 * vgic::kIdBlockWords, Width::word, Kind::id, false, true},
    };
};

namespace {

u64 size_mask(unsigned size) { return size >= 8 ? ~u64{0} : (u64{1} << (8 * size)) - 1; }

} // namespace

u32 vgic::id_register(u32 index, u32 arch_rev) {
    constexpr u32 kPart = 0x053;
    switch (index) {
    case 0: return 0x04;                                   // PIDR4: DES_2 = JEP106 continuation 4, 4 KiB count 0
    case 4: return kPart & 0xff;                           // PIDR0: part [7:0]
    case 5: return 0xb0 | (kPart >> 8);                    // PIDR1: DES_0 = 0xb, part [11:8]
    case 6: // PIDR2: ArchRev [7:4], JEDEC [3] = 1, DES_1 [2:0] = 3
        return static_cast<u32>(arm64::GicPidr2(0x8 | 0x3).with<arm64::GicPidr2::arch_rev>(arch_rev).raw());
    case 8: return 0x0d;                                   // CIDR0
    case 9: return 0xf0;                                   // CIDR1
    case 10: return 0x05;                                  // CIDR2
    case 11: return 0xb1;                                  // CIDR3
    default: return 0;                                     // PIDR5-7, PIDR3
    }
}

VgicDist::Check VgicDist::decode(u32 vcpu, u64 offset, unsigned size, Decoded& out) const {
    if (vcpu >= state_.nr_vcpus() || offset >= kMmioSize || (size != 1 && size != 4 && size != 8))
        return Check::bad;
    const bool v2 = state_.version() == VgicVersion::v2;
    for (const Table::Area& a : Table::kAreas) {
        if (offset < a.base || offset - a.base >= a.size || !(v2 ? a.v2 : a.v3)) continue;
        if (!vgic::access_ok(a.width, offset, size)) return Check::bad;
        out = Decoded{a.kind, static_cast<u32>(offset - a.base)};
        return Check::ok;
    }
    // No register here. Still refuse a malformed access as such.
    return size == 4 && offset % 4 == 0 ? Check::reserved : Check::bad;
}

u64 VgicDist::read(u32 vcpu, u64 offset, unsigned size_bytes) {
    Decoded d{};
    switch (decode(vcpu, offset, size_bytes, d)) {
    case Check::ok: break;
    case Check::bad: bad_.fetch_add(1, std::memory_order_relaxed); return 0;
    case Check::reserved: reserved_.fetch_add(1, std::memory_order_relaxed); return 0;
    }
    const VgicState::Guard g = state_.lock();
    return read_reg(g, vcpu, d, size_bytes) & size_mask(size_bytes);
}

VcpuMask VgicDist::write(u32 vcpu, u64 offset, unsigned size_bytes, u64 value) {
    Decoded d{};
    switch (decode(vcpu, offset, size_bytes, d)) {
    case Check::ok: break;
    case Check::bad: bad_.fetch_add(1, std::memory_order_relaxed); return 0;
    case Check::reserved: reserved_.fetch_add(1, std::memory_order_relaxed); return 0;
    }
    const VgicState::Guard g = state_.lock();
    return write_reg(g, vcpu, d, size_bytes, value & size_mask(size_bytes));
}

// The bit-per-INTID registers, in Kind order from igroupr.
BitReg VgicDist::bit_reg(Kind kind) {
    constexpr BitReg kRegs[] = {BitReg::group,       BitReg::set_enable,    BitReg::clear_enable,
                                BitReg::set_pending, BitReg::clear_pending, BitReg::set_active,
                                BitReg::clear_active};
    return kRegs[static_cast<u8>(kind) - static_cast<u8>(Kind::igroupr)];
}

u64 VgicDist::read_reg(const VgicState::Guard& g, u32 vcpu, const Decoded& d, unsigned size) {
    using arm64::GicdCtlr;
    using arm64::GicdTyper;
    const VgicConfig& cfg = state_.config();
    const bool v3 = cfg.version() == VgicVersion::v3;
    switch (d.kind) {
    case Kind::ctlr: {
        GicdCtlr v(state_.group_enables(g));
        if (v3) v = v.with<GicdCtlr::are>(1).with<GicdCtlr::ds>(1); // RWP reads 0
        return v.raw();
    }
    case Kind::typer: {
        GicdTyper v = GicdTyper{}.with<GicdTyper::it_lines_number>(cfg.it_lines());
        if (v3) {
            v = v.with<GicdTyper::id_bits>(9).with<GicdTyper::no1n>(1); // 10 INTID bits
        } else {
            v = v.with<GicdTyper::cpu_number>(cfg.nr_vcpus() - 1);
        }
        return v.raw();
    }
    case Kind::iidr: return vgic::kIidr;
    case Kind::raz_wi:
    case Kind::sgir:
        return 0;
    case Kind::igroupr:
    case Kind::isenabler:
    case Kind::icenabler:
    case Kind::ispendr:
    case Kind::icpendr:
    case Kind::isactiver:
    case Kind::icactiver: {
        const u32 first = (d.at / 4) * 32;
        if (v3 && first < vgic::kNrPrivate) return 0; // ARE: in the redistributor
        return state_.read_bits(g, bit_reg(d.kind), vcpu, first);
    }
    case Kind::ipriorityr:
    case Kind::itargetsr: {
        if (v3 && d.kind == Kind::itargetsr) return 0;
        u64 v = 0;
        for (unsigned i = 0; i < size; ++i) {
            const u32 intid = d.at + i;
            if (v3 && intid < vgic::kNrPrivate) continue;
            const u8 byte = d.kind == Kind::ipriorityr ? state_.read_priority(g, vcpu, intid)
                                                       : state_.read_targets(g, vcpu, intid);
            v |= u64{byte} << (8 * i);
        }
        return v;
    }
    case Kind::icfgr: {
        const u32 first = (d.at / 4) * 16;
        if (v3 && first < vgic::kNrPrivate) return 0;
        return state_.read_config(g, vcpu, first);
    }
    case Kind::cpendsgir:
    case Kind::spendsgir: {
        if (v3) return 0;
        u64 v = 0;
        for (unsigned i = 0; i < size; ++i) v |= u64{state_.read_sgi_sources(g, vcpu, d.at + i)} << (8 * i);
        return v;
    }
    case Kind::irouter: {
        const u64 v = state_.read_irouter(g, d.at / 8);
        return size == 8 ? v : (v >> (8 * (d.at % 8))) & 0xffff'ffffu;
    }
    case Kind::id: return vgic::id_register(d.at / 4, v3 ? 3 : 2);
    }
    return 0;
}

VcpuMask VgicDist::write_reg(const VgicState::Guard& g, u32 vcpu, const Decoded& d, unsigned size, u64 value) {
    using arm64::GicdCtlr;
    using arm64::GicdSgir;
    const bool v3 = state_.version() == VgicVersion::v3;
    const u32 word = static_cast<u32>(value);
    switch (d.kind) {
    case Kind::ctlr: {
        const GicdCtlr v(word);
        return state_.set_group_enables(g, static_cast<u32>(v.get<GicdCtlr::enable_grp0>() |
                                                            (v.get<GicdCtlr::enable_grp1>() << 1)));
    }
    case Kind::typer:
    case Kind::iidr:
    case Kind::id:
    case Kind::raz_wi:
        return 0; // read-only, or RAZ/WI here
    case Kind::igroupr:
    case Kind::isenabler:
    case Kind::icenabler:
    case Kind::ispendr:
    case Kind::icpendr:
    case Kind::isactiver:
    case Kind::icactiver: {
        const u32 first = (d.at / 4) * 32;
        if (v3 && first < vgic::kNrPrivate) return 0;
        return state_.write_bits(g, bit_reg(d.kind), vcpu, first, word);
    }
    case Kind::ipriorityr:
        for (unsigned i = 0; i < size; ++i) {
            const u32 intid = d.at + i;
            if (v3 && intid < vgic::kNrPrivate) continue;
            state_.write_priority(g, vcpu, intid, static_cast<u8>(value >> (8 * i)));
        }
        return 0;
    case Kind::itargetsr: {
        if (v3) return 0;
        VcpuMask kick = 0;
        for (unsigned i = 0; i < size; ++i) {
            const u32 intid = d.at + i;
            if (intid < vgic::kNrPrivate) continue; // read-only for SGIs and PPIs
            kick |= state_.write_targets(g, intid, static_cast<u8>(value >> (8 * i)));
        }
        return kick;
    }
    case Kind::icfgr: {
        const u32 first = (d.at / 4) * 16;
        if (v3 && first < vgic::kNrPrivate) return 0;
        return state_.write_config(g, vcpu, first, word);
    }
    case Kind::sgir: {
        if (v3) return 0;
        // IHI 0048B 4.3.15; NSATT means nothing without Security Extensions.
        // Whether GICD_SGIR acts while GICD_CTLR disables forwarding is
        // IMPLEMENTATION DEFINED: here the SGI is set pending and waits.
        const GicdSgir v(word);
        const u64 filter = v.get<GicdSgir::target_list_filter>();
        if (filter == 3) return 0; // reserved
        return state_.send_sgi_v2(g, vcpu, static_cast<SgiFilter>(filter),
                                  static_cast<u8>(v.get<GicdSgir::cpu_target_list>()),
                                  static_cast<u32>(v.get<GicdSgir::sgi_intid>()));
    }
    case Kind::cpendsgir:
    case Kind::spendsgir: {
        if (v3) return 0;
        VcpuMask kick = 0;
        for (unsigned i = 0; i < size; ++i) {
            const u8 sources = static_cast<u8>(value >> (8 * i));
            if (d.kind == Kind::spendsgir) {
                kick |= state_.set_sgi_sources(g, vcpu, d.at + i, sources);
            } else {
                state_.clear_sgi_sources(g, vcpu, d.at + i, sources);
            }
        }
        return kick;
    }
    case Kind::irouter: {
        const u32 intid = d.at / 8;
        u64 v = value;
        if (size == 4) {
            const unsigned shift = 8 * (d.at % 8);
            v = (state_.read_irouter(g, intid) & ~(u64{0xffff'ffffu} << shift)) | (value << shift);
        }
        return state_.write_irouter(g, intid, v);
    }
    }
    return 0;
}

} // namespace setwise::vcpu
