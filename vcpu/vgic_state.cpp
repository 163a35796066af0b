// The virtual GIC's interrupt state. The model and its rules are in
// vgic_state.hpp; register semantics are IHI 0048B chapter 4 (GICv2) and
// IHI 0069H chapter 12 (GICv3).
#include "vcpu/vgic_state.hpp"

namespace setwise::vcpu {

using vgic::kNoVcpu;

namespace {

constexpr u32 bit(u32 n) { return u32{1} << n; }

constexpr u32 lowest_bit(u32 mask) { return static_cast<u32>(__builtin_ctz(mask)); }

} // namespace

// ---- VgicConfig --------------------------------------------------------------

Result<VgicConfig> VgicConfig::create(VgicVersion version, std::span<const u64> mpidrs, u32 nr_spis,
                                      u32 priority_bits) {
    const u32 max_vcpus = version == VgicVersion::v2 ? vgic::kMaxVcpusV2 : vgic::kMaxVcpus;
    if (mpidrs.empty() || mpidrs.size() > max_vcpus) return Status::invalid_argument;
    // ITLinesNumber is 5 bits: at most 32 * 32 INTIDs, of which 32 are private.
    if (nr_spis < 32 || nr_spis > 992 || nr_spis % 32 != 0) return Status::invalid_argument;
    // At least 16 priority levels (IHI 0048B 3.3; IHI 0069H, "Interrupt
    // prioritization"); GICH_LR's Priority field has 5 bits.
    const u32 max_bits = version == VgicVersion::v2 ? 5u : 8u;
    if (priority_bits < 4 || priority_bits > max_bits) return Status::invalid_argument;

    VgicConfig c;
    c.version_ = version;
    c.nr_vcpus_ = static_cast<u32>(mpidrs.size());
    c.it_lines_ = nr_spis / 32;
    c.priority_bits_ = priority_bits;
    for (u32 i = 0; i < c.nr_vcpus_; ++i) {
        c.affinity_[i] = arm64::GicdIrouter::to_cpu(mpidrs[i]).raw();
        for (u32 j = 0; j < i; ++j)
            if (c.affinity_[j] == c.affinity_[i]) return Status::invalid_argument;
    }
    return c;
}

u32 VgicConfig::nr_intids() const {
    const u32 lines = 32 * (it_lines_ + 1);
    return lines < vgic::kFirstSpecial ? lines : vgic::kFirstSpecial;
}

std::optional<u32> VgicConfig::vcpu_by_affinity(u64 affinity) const {
    for (u32 i = 0; i < nr_vcpus_; ++i)
        if (affinity_[i] == arm64::GicdIrouter::to_cpu(affinity).raw()) return i;
    return std::nullopt;
}

u8 VgicConfig::priority_mask() const { return static_cast<u8>(0xffu << (8 - priority_bits_)); }

// ---- VgicState: basics -----------------------------------------------------

VgicState::VgicState(const VgicConfig& config) : config_(config) { reset_locked(); }

void VgicState::reset() {
    const Guard g = lock();
    reset_locked();
}

void VgicState::reset_locked() {
    const bool v3 = config_.version() == VgicVersion::v3;
    group_enables_ = 0;
    for (u32 v = 0; v < vgic::kMaxVcpus; ++v) {
        // GICR_WAKER resets with ProcessorSleep set (IHI 0069H, GICR_WAKER).
        processor_sleep_[v] = true;
        for (u32 s = 0; s < vgic::kNrSgis; ++s) sgi_sources_[v][s] = 0;
        for (u32 i = 0; i < vgic::kNrPrivate; ++i) {
            Irq& irq = private_[v][i];
            const bool hw = irq.hw;
            const u16 pintid = irq.pintid;
            irq = Irq{};
            irq.hw = hw;
            irq.pintid = pintid;
            // SGIs are edge-triggered (ICFGR0 reads 0xaaaaaaaa). v2 SGIs are
            // permanently enabled: whether they can be disabled is
            // IMPLEMENTATION DEFINED (IHI 0048B 4.3.5), and Linux enables
            // them anyway. v3 SGIs reset disabled; Linux's gic_cpu_init
            // enables them through GICR_ISENABLER0.
            irq.edge = i < vgic::kNrSgis;
            irq.enabled = !v3 && i < vgic::kNrSgis;
            irq.group1 = v3;
        }
    }
    for (u32 i = 0; i < vgic::kMaxSpis; ++i) {
        Irq& irq = spis_[i];
        const bool hw = irq.hw;
        const u16 pintid = irq.pintid;
        irq = Irq{};
        irq.hw = hw;
        irq.pintid = pintid;
        irq.group1 = v3;
        if (exists(vgic::kFirstSpi + i)) reroute(vgic::kFirstSpi + i);
    }
}

bool VgicState::valid_target(u32 intid, u32 vcpu) const {
    return exists(intid) && (intid >= vgic::kNrPrivate || vcpu < config_.nr_vcpus());
}

bool VgicState::pending(u32 vcpu, u32 intid) const {
    if (v2_sgi(intid)) return sgi_sources_[vcpu][intid] != 0;
    const Irq& irq = at(vcpu, intid);
    return irq.latch || (!irq.edge && irq.line);
}

bool VgicState::visible_pending(u32 vcpu, u32 intid) const {
    return pending(vcpu, intid) || at(vcpu, intid).handed;
}

u8 VgicState::waiting_on(u32 vcpu, u32 intid) const {
    const Irq& irq = at(vcpu, intid);
    if (!irq.enabled || irq.active || irq.listed) return kNoVcpu;
    if ((group_enables_ & (irq.group1 ? 2u : 1u)) == 0) return kNoVcpu;
    if (!pending(vcpu, intid)) return kNoVcpu;
    return intid < vgic::kNrPrivate ? static_cast<u8>(vcpu) : irq.route;
}

VcpuMask VgicState::kick_if_new(u32 vcpu, u32 intid, u8 before) const {
    const u8 after = waiting_on(vcpu, intid);
    return after != kNoVcpu && after != before ? bit(after) : 0;
}

VcpuMask VgicState::kick_all() const {
    VcpuMask kick = 0;
    for (u32 v = 0; v < config_.nr_vcpus(); ++v)
        if (collect(v, {}, false) != 0) kick |= bit(v);
    return kick;
}

void VgicState::reroute(u32 intid) {
    Irq& irq = spis_[intid - vgic::kFirstSpi];
    irq.route = kNoVcpu;
    if (config_.version() == VgicVersion::v2) {
        // 1-of-N among the targets: the lowest, a fixed choice that keeps an
        // SPI on one vCPU.
        if (irq.targets != 0) irq.route = static_cast<u8>(lowest_bit(irq.targets));
    } else if (const std::optional<u32> v = config_.vcpu_by_affinity(irq.irouter)) {
        irq.route = static_cast<u8>(*v);
    }
}

// ---- Injection ---------------------------------------------------------------

Result<VcpuMask> VgicState::set_level(u32 intid, u32 vcpu, bool level) {
    if (intid < vgic::kNrSgis || !valid_target(intid, vcpu)) return Status::out_of_range;
    const Guard g = lock();
    Irq& irq = at(vcpu, intid);
    const u8 before = waiting_on(vcpu, intid);
    if (irq.edge && level && !irq.line) irq.latch = true; // a rising edge
    irq.line = level;
    return kick_if_new(vcpu, intid, before);
}

Result<VcpuMask> VgicState::raise_edge(u32 intid, u32 vcpu) {
    if (intid < vgic::kNrSgis || !valid_target(intid, vcpu)) return Status::out_of_range;
    const Guard g = lock();
    const u8 before = waiting_on(vcpu, intid);
    at(vcpu, intid).latch = true;
    return kick_if_new(vcpu, intid, before);
}

VcpuMask VgicState::send_sgi_v2(u32 from, SgiFilter filter, u8 target_list, u32 sgi) {
    const Guard g = lock();
    return send_sgi_v2(g, from, filter, target_list, sgi);
}

VcpuMask VgicState::send_sgi_v2(const Guard&, u32 from, SgiFilter filter, u8 target_list, u32 sgi) {
    const u32 nr = config_.nr_vcpus();
    if (config_.version() != VgicVersion::v2 || from >= nr || sgi >= vgic::kNrSgis) return 0;
    const u32 all = bit(nr) - 1;
    u32 targets = 0;
    // IHI 0048B 4.3.15, TargetListFilter.
    switch (filter) {
    case SgiFilter::target_list: targets = target_list & all; break;
    case SgiFilter::all_but_self: targets = all & ~bit(from); break;
    case SgiFilter::self: targets = bit(from); break;
    }
    VcpuMask kick = 0;
    for (u32 t = 0; t < nr; ++t)
        if ((targets & bit(t)) != 0) kick |= send_sgi_to(from, t, sgi, std::nullopt);
    return kick;
}

VcpuMask VgicState::send_sgi_v3(u32 from, Sgi1r value, SgiGroup group) {
    const Guard g = lock();
    const u32 nr = config_.nr_vcpus();
    if (config_.version() != VgicVersion::v3 || from >= nr) return 0;
    const u32 sgi = static_cast<u32>(value.get<Sgi1r::intid>());
    VcpuMask kick = 0;
    if (value.test<Sgi1r::irm>()) {
        // Interrupt Routing Mode 1: every PE but the requesting one.
        for (u32 t = 0; t < nr; ++t)
            if (t != from) kick |= send_sgi_to(from, t, sgi, group);
        return kick;
    }
    const u64 cluster = (value.get<Sgi1r::aff3>() << 32) | (value.get<Sgi1r::aff2>() << 16) |
                        (value.get<Sgi1r::aff1>() << 8);
    const u64 list = value.get<Sgi1r::target_list>();
    const u64 base = value.get<Sgi1r::rs>() * 16; // Aff0 = RS * 16 + bit
    for (u32 n = 0; n < 16; ++n) {
        if ((list & (u64{1} << n)) == 0) continue;
        if (const std::optional<u32> t = config_.vcpu_by_affinity(cluster | (base + n)))
            kick |= send_sgi_to(from, *t, sgi, group);
    }
    return kick;
}

VcpuMask VgicState::send_sgi_to(u32 from, u32 target, u32 sgi, std::optional<SgiGroup> group) {
    const u8 before = waiting_on(target, sgi);
    if (config_.version() == VgicVersion::v2) {
        sgi_sources_[target][sgi] = static_cast<u8>(sgi_sources_[target][sgi] | bit(from));
    } else {
        Irq& irq = private_[target][sgi];
        if (group == SgiGroup::group0 && irq.group1) return 0;
        irq.latch = true;
    }
    return kick_if_new(target, sgi, before);
}

Status VgicState::map_hw(u32 intid, u32 vcpu, u32 pintid) {
    if (intid < vgic::kNrSgis || pintid < vgic::kNrSgis || pintid >= vgic::kFirstSpecial)
        return Status::invalid_argument;
    if (!valid_target(intid, vcpu)) return Status::out_of_range;
    const Guard g = lock();
    Irq& irq = at(vcpu, intid);
    irq.hw = true;
    irq.pintid = static_cast<u16>(pintid);
    return Status::ok;
}

Status VgicState::unmap_hw(u32 intid, u32 vcpu) {
    if (intid < vgic::kNrSgis) return Status::invalid_argument;
    if (!valid_target(intid, vcpu)) return Status::out_of_range;
    const Guard g = lock();
    Irq& irq = at(vcpu, intid);
    irq.hw = false;
    irq.pintid = 0;
    return Status::ok;
}

// ---- Candidates, queries and the life cycle without list registers -----------

namespace {

// List register order: priority (lower value first), active before
// pending at equal priority, then INTID. Priority first so that a pending
// interrupt that can preempt the guest's running priority always gets an
// LR; an active interrupt pushed out can still be deactivated (EOIcount).
// At equal priority nothing pending can preempt an active one, so the
// active one goes first.
bool goes_before(const VgicState::Candidate& a, const VgicState::Candidate& b) {
    if (a.priority != b.priority) return a.priority < b.priority;
    if (a.active != b.active) return a.active;
    return a.intid < b.intid;
}

// Inserts c into the sorted first min(count, out.size()) entries of out,
// dropping what falls off the end.
void insert_sorted(std::span<VgicState::Candidate> out, usize count, const VgicState::Candidate& c) {
    usize n = count < out.size() ? count : out.size();
    usize pos = n;
    while (pos > 0 && goes_before(c, out[pos - 1])) --pos;
    if (pos >= out.size()) return;
    if (n == out.size()) --n;
    for (usize i = n; i > pos; --i) out[i] = out[i - 1];
    out[pos] = c;
}

} // namespace

usize VgicState::collect(u32 vcpu, std::span<Candidate> out, bool with_active, usize* active_count) const {
    usize count = 0;
    usize actives = 0;
    const auto consider = [&](u32 intid) {
        const Irq& irq = at(vcpu, intid);
        Candidate c{intid, irq.priority, false};
        if (irq.active) {
            if (!with_active || irq.listed || irq.active_on != vcpu) return;
            c.active = true;
            ++actives;
        } else if (waiting_on(vcpu, intid) != vcpu) {
            return;
        }
        insert_sorted(out, count, c);
        ++count;
    };
    for (u32 intid = 0; intid < vgic::kNrPrivate; ++intid) consider(intid);
    for (u32 intid = vgic::kFirstSpi; intid < config_.nr_intids(); ++intid) consider(intid);
    if (active_count != nullptr) *active_count = actives;
    return count;
}

usize VgicState::pending_for(u32 vcpu, std::span<PendingIrq> out) const {
    if (vcpu >= config_.nr_vcpus() || out.empty()) return 0;
    constexpr usize kChunk = kMaxPendingQuery;
    Candidate buf[kChunk];
    const usize want = out.size() < kChunk ? out.size() : kChunk;
    const Guard g = lock();
    const usize total = collect(vcpu, std::span<Candidate>(buf, want), false);
    const usize n = total < want ? total : want;
    for (usize i = 0; i < n; ++i) {
        const u32 intid = buf[i].intid;
        out[i] = PendingIrq{intid, buf[i].priority,
                            v2_sgi(intid) ? static_cast<u8>(lowest_bit(sgi_sources_[vcpu][intid])) : u8{0}};
    }
    return n;
}

std::optional<PendingIrq> VgicState::highest_pending(u32 vcpu) const {
    PendingIrq p;
    if (pending_for(vcpu, std::span<PendingIrq>(&p, 1)) == 0) return std::nullopt;
    return p;
}

Result<PendingIrq> VgicState::acknowledge(u32 vcpu, u32 intid) {
    if (vcpu >= config_.nr_vcpus() || !valid_target(intid, vcpu)) return Status::out_of_range;
    const Guard g = lock();
    Irq& irq = at(vcpu, intid);
    if (irq.listed) return Status::busy;
    if (waiting_on(vcpu, intid) != vcpu) return Status::not_found;
    u8 source = 0;
    if (v2_sgi(intid)) {
        source = static_cast<u8>(lowest_bit(sgi_sources_[vcpu][intid]));
        sgi_sources_[vcpu][intid] = static_cast<u8>(sgi_sources_[vcpu][intid] & ~bit(source));
        irq.active_source = source;
    } else {
        // The latch is taken; a level-sensitive line stays (IHI 0048B 3.2.4).
        irq.latch = false;
    }
    irq.active = true;
    irq.active_on = static_cast<u8>(vcpu);
    return PendingIrq{intid, irq.priority, source};
}

Status VgicState::deactivate(u32 vcpu, u32 intid) {
    if (vcpu >= config_.nr_vcpus() || !valid_target(intid, vcpu)) return Status::out_of_range;
    const Guard g = lock();
    Irq& irq = at(vcpu, intid);
    if (irq.listed) return Status::busy;
    if (!irq.active || irq.active_on != vcpu) return Status::not_found;
    irq.active = false;
    irq.active_on = kNoVcpu;
    return Status::ok;
}

Result<IrqView> VgicState::inspect(u32 intid, u32 vcpu) const {
    if (!valid_target(intid, vcpu)) return Status::out_of_range;
    const u32 bank = intid < vgic::kNrPrivate ? vcpu : 0;
    const Guard g = lock();
    const Irq& irq = at(bank, intid);
    IrqView view;
    view.enabled = irq.enabled;
    view.pending = visible_pending(bank, intid);
    view.active = irq.active;
    view.edge = irq.edge;
    view.group1 = irq.group1;
    view.hw = irq.hw;
    view.listed = irq.listed;
    view.priority = irq.priority;
    view.targets = intid < vgic::kNrPrivate ? static_cast<u8>(bit(bank)) : irq.targets;
    view.route = intid < vgic::kNrPrivate ? static_cast<u8>(bank) : irq.route;
    view.listed_on = irq.listed_on;
    view.active_on = irq.active_on;
    if (v2_sgi(intid)) view.sgi_sources = read_sgi_sources(g, bank, intid);
    view.pintid = irq.pintid;
    view.irouter = irq.irouter;
    return view;
}

// ---- Register-level access ---------------------------------------------------

VcpuMask VgicState::set_group_enables(const Guard&, u32 enables) {
    const u32 old = group_enables_;
    group_enables_ = enables & 3u;
    return (group_enables_ & ~old) != 0 ? kick_all() : 0;
}

bool VgicState::processor_sleep(const Guard&, u32 vcpu) const {
    return vcpu < config_.nr_vcpus() && processor_sleep_[vcpu];
}

void VgicState::set_processor_sleep(const Guard&, u32 vcpu, bool sleep) {
    if (vcpu < config_.nr_vcpus()) processor_sleep_[vcpu] = sleep;
}

u32 VgicState::read_bits(const Guard&, BitReg reg, u32 vcpu, u32 first) const {
    if (first < vgic::kNrPrivate && vcpu >= config_.nr_vcpus()) return 0;
    u32 value = 0;
    for (u32 b = 0; b < 32; ++b) {
        const u32 intid = first + b;
        if (!exists(intid)) break;
        const Irq& irq = at(vcpu, intid);
        bool set = false;
        switch (reg) {
        case BitReg::group: set = irq.group1; break;
        case BitReg::set_enable:
        case BitReg::clear_enable: set = irq.enabled; break;
        case BitReg::set_pending:
        case BitReg::clear_pending: set = visible_pending(vcpu, intid); break;
        case BitReg::set_active:
        case BitReg::clear_active: set = irq.active; break;
        }
        if (set) value |= bit(b);
    }
    return value;
}

VcpuMask VgicState::write_bits(const Guard&, BitReg reg, u32 vcpu, u32 first, u32 value) {
    if (first < vgic::kNrPrivate && vcpu >= config_.nr_vcpus()) return 0;
    VcpuMask kick = 0;
    for (u32 b = 0; b < 32; ++b) {
        const u32 intid = first + b;
        if (!exists(intid)) break;
        const bool one = (value & bit(b)) != 0;
        // GICD_IGROUPR takes every bit; the set/clear registers only the ones.
        if (!one && reg != BitReg::group) continue;
        Irq& irq = at(vcpu, intid);
        const u8 before = waiting_on(vcpu, intid);
        switch (reg) {
        case BitReg::group: irq.group1 = one; break;
        case BitReg::set_enable: irq.enabled = true; break;
        case BitReg::clear_enable:
            if (!v2_sgi(intid)) irq.enabled = false;
            break;
        case BitReg::set_pending:
            // v2 SGI bits are read-only here: GICD_SPENDSGIR sets them with a
            // source (IHI 0048B 4.3.7).
            if (!v2_sgi(intid)) irq.latch = true;
            break;
        case BitReg::clear_pending:
            if (!v2_sgi(intid)) {
                irq.latch = false;
                irq.handed = false; // cancel what a list register holds
            }
            break;
        case BitReg::set_active:
        case BitReg::clear_active: {
            const bool active = reg == BitReg::set_active;
            irq.active = active;
            if (active) {
                // Held by the vCPU it is routed to (SPIs; the accessor when
                // there is none), which must list it to let it be deactivated.
                u8 on = static_cast<u8>(vcpu);
                if (intid >= vgic::kNrPrivate && irq.route != kNoVcpu) on = irq.route;
                irq.active_on = on;
                irq.active_source = static_cast<u8>(vcpu);
            } else {
                irq.active_on = kNoVcpu;
            }
            if (irq.listed) irq.active_written = true;
            break;
        }
        }
        kick |= kick_if_new(vcpu, intid, before);
    }
    return kick;
}

u8 VgicState::read_priority(const Guard&, u32 vcpu, u32 intid) const {
    if (!valid_target(intid, vcpu)) return 0;
    return at(vcpu, intid).priority;
}

void VgicState::write_priority(const Guard&, u32 vcpu, u32 intid, u8 value) {
    if (!valid_target(intid, vcpu)) return;
    at(vcpu, intid).priority = static_cast<u8>(value & config_.priority_mask());
}

u32 VgicState::read_config(const Guard&, u32 vcpu, u32 first) const {
    if (first < vgic::kNrPrivate && vcpu >= config_.nr_vcpus()) return 0;
    u32 value = 0;
    for (u32 i = 0; i < 16; ++i) {
        const u32 intid = first + i;
        if (!exists(intid)) break;
        if (at(vcpu, intid).edge) value |= bit(2 * i + 1);
    }
    return value;
}

VcpuMask VgicState::write_config(const Guard&, u32 vcpu, u32 first, u32 value) {
    if (first < vgic::kNrPrivate && vcpu >= config_.nr_vcpus()) return 0;
    VcpuMask kick = 0;
    for (u32 i = 0; i < 16; ++i) {
        const u32 intid = first + i;
        if (!exists(intid)) break;
        if (intid < vgic::kNrSgis) continue; // SGIs are always edge
        Irq& irq = at(vcpu, intid);
        const u8 before = waiting_on(vcpu, intid);
        irq.edge = (value & bit(2 * i + 1)) != 0;
        kick |= kick_if_new(vcpu, intid, before);
    }
    return kick;
}

u8 VgicState::read_targets(const Guard&, u32 vcpu, u32 intid) const {
    if (!valid_target(intid, vcpu)) return 0;
    // IHI 0048B 4.3.12: for SGIs and PPIs each field reads as the accessing
    // CPU interface's own bit. (A one-CPU GIC may make them RAZ; a guest
    // kernel built for SMP then finds no CPU mask, so the bit is kept.)
    if (intid < vgic::kNrPrivate) return static_cast<u8>(bit(vcpu));
    return at(vcpu, intid).targets;
}

VcpuMask VgicState::write_targets(const Guard&, u32 intid, u8 targets) {
    if (intid < vgic::kNrPrivate || !exists(intid)) return 0;
    Irq& irq = spis_[intid - vgic::kFirstSpi];
    const u8 before = waiting_on(0, intid);
    irq.targets = static_cast<u8>(targets & (bit(config_.nr_vcpus()) - 1));
    reroute(intid);
    return kick_if_new(0, intid, before);
}

u64 VgicState::read_irouter(const Guard&, u32 intid) const {
    if (intid < vgic::kNrPrivate || !exists(intid)) return 0;
    return spis_[intid - vgic::kFirstSpi].irouter;
}

VcpuMask VgicState::write_irouter(const Guard&, u32 intid, u64 value) {
    if (intid < vgic::kNrPrivate || !exists(intid)) return 0;
    Irq& irq = spis_[intid - vgic::kFirstSpi];
    const u8 before = waiting_on(0, intid);
    irq.irouter = arm64::GicdIrouter::to_cpu(value).raw(); // IRM RAZ/WI: GICD_TYPER.No1N
    reroute(intid);
    return kick_if_new(0, intid, before);
}

u8 VgicState::read_sgi_sources(const Guard&, u32 vcpu, u32 sgi) const {
    if (config_.version() != VgicVersion::v2 || vcpu >= config_.nr_vcpus() || sgi >= vgic::kNrSgis) return 0;
    const Irq& irq = private_[vcpu][sgi];
    u32 sources = sgi_sources_[vcpu][sgi];
    if (irq.handed) sources |= bit(irq.handed_source);
    return static_cast<u8>(sources);
}

VcpuMask VgicState::set_sgi_sources(const Guard&, u32 vcpu, u32 sgi, u8 sources) {
    if (config_.version() != VgicVersion::v2 || vcpu >= config_.nr_vcpus() || sgi >= vgic::kNrSgis) return 0;
    const u8 before = waiting_on(vcpu, sgi);
    sgi_sources_[vcpu][sgi] =
        static_cast<u8>(sgi_sources_[vcpu][sgi] | (sources & (bit(config_.nr_vcpus()) - 1)));
    return kick_if_new(vcpu, sgi, before);
}

void VgicState::clear_sgi_sources(const Guard&, u32 vcpu, u32 sgi, u8 sources) {
    if (config_.version() != VgicVersion::v2 || vcpu >= config_.nr_vcpus() || sgi >= vgic::kNrSgis) return;
    sgi_sources_[vcpu][sgi] = static_cast<u8>(sgi_sources_[vcpu][sgi] & ~u32{sources});
    Irq& irq = private_[vcpu][sgi];
    if (irq.handed && (sources & bit(irq.handed_source)) != 0) irq.handed = false;
}

// ---- The list-register protocol ----------------------------------------------

VgicState::CandidateCount VgicState::lr_candidates(const Guard&, u32 vcpu, std::span<Candidate> out) const {
    CandidateCount n;
    if (vcpu >= config_.nr_vcpus()) return n;
    n.total = collect(vcpu, out, true, &n.active);
    return n;
}

LrEntry VgicState::list(const Guard&, u32 vcpu, u32 intid) {
    LrEntry e;
    if (!valid_target(intid, vcpu) || vcpu >= config_.nr_vcpus()) return e;
    Irq& irq = at(vcpu, intid);
    if (irq.listed) return e;
    e.vintid = intid;
    e.priority = irq.priority;
    e.group1 = irq.group1;
    e.hw = irq.hw;
    e.pintid = irq.hw ? irq.pintid : 0;

    // Is there a pending instance the guest may take once this one is done?
    // (For an active interrupt the pending part waits for the deactivation;
    // it must be enabled, and routed here to share this LR. Routed
    // elsewhere, it is held back: the deactivation must bring the guest out
    // so that the other vCPU gets it.)
    const bool enabled = irq.enabled && (group_enables_ & (irq.group1 ? 2u : 1u)) != 0;
    const bool here = intid < vgic::kNrPrivate || irq.route == vcpu;
    const bool deliverable = enabled && here;
    bool show_pending = false;
    bool held_back = false;
    if (v2_sgi(intid)) {
        // One source per list register: GICH_LR.CPUID names it, and the
        // guest acknowledges (and deactivates) that source.
        u32 sources = deliverable ? sgi_sources_[vcpu][intid] : 0;
        u32 source = irq.active ? irq.active_source : (sources != 0 ? lowest_bit(sources) : 0);
        if ((sources & bit(source)) != 0) {
            show_pending = true;
            sources &= ~bit(source);
            sgi_sources_[vcpu][intid] = static_cast<u8>(sgi_sources_[vcpu][intid] & ~bit(source));
            irq.handed = true;
            irq.handed_source = static_cast<u8>(source);
        }
        held_back = sources != 0;
        e.source = static_cast<u8>(source);
    } else if (enabled && pending(vcpu, intid)) {
        if (!here) {
            held_back = true;
        } else if (irq.active && irq.hw) {
            // Never pending and active with HW = 1: the physical GIC keeps
            // that pending state (IHI 0069H, ICH_LR<n>_EL2.State).
            held_back = true;
        } else {
            show_pending = true;
            if (irq.latch) {
                irq.latch = false;
                irq.handed = true;
            }
        }
    }

    if (irq.active) {
        e.state = show_pending ? LrState::pending_active : LrState::active;
    } else {
        e.state = show_pending ? LrState::pending : LrState::invalid;
    }
    // A software level-sensitive interrupt is sampled again when the guest
    // deactivates it; anything held back goes in at the same moment.
    e.eoi = !irq.hw && (held_back || (!irq.edge && intid >= vgic::kNrSgis));
    if (e.state == LrState::invalid) return LrEntry{};
    irq.listed = true;
    irq.listed_on = static_cast<u8>(vcpu);
    irq.active_written = false;
    return e;
}

VcpuMask VgicState::fold(const Guard&, u32 vcpu, const LrEntry& listed, LrState now) {
    const u32 intid = listed.vintid;
    if (!valid_target(intid, vcpu) || vcpu >= config_.nr_vcpus()) return 0;
    Irq& irq = at(vcpu, intid);
    if (!irq.listed || irq.listed_on != vcpu) return 0;
    if (!irq.active_written) {
        irq.active = lr_active(now);
        irq.active_on = irq.active ? static_cast<u8>(vcpu) : kNoVcpu;
        if (irq.active && v2_sgi(intid)) irq.active_source = listed.source;
    }
    if (irq.handed && lr_pending(now)) {
        if (v2_sgi(intid)) {
            sgi_sources_[vcpu][intid] = static_cast<u8>(sgi_sources_[vcpu][intid] | bit(irq.handed_source));
        } else {
            irq.latch = true;
        }
    }
    irq.handed = false;
    irq.listed = false;
    irq.listed_on = kNoVcpu;
    irq.active_written = false;
    return kick_elsewhere(vcpu, intid);
}

VcpuMask VgicState::kick_elsewhere(u32 vcpu, u32 intid) const {
    const u8 on = waiting_on(vcpu, intid);
    return on != kNoVcpu && on != vcpu ? bit(on) : 0;
}

std::optional<VgicState::Deactivated> VgicState::deactivate_unlisted(const Guard&, u32 vcpu) {
    if (vcpu >= config_.nr_vcpus()) return std::nullopt;
    std::optional<u32> best;
    const auto consider = [&](u32 intid) {
        const Irq& irq = at(vcpu, intid);
        if (!irq.active || irq.listed || irq.active_on != vcpu) return;
        if (!best || irq.priority < at(vcpu, *best).priority) best = intid;
    };
    for (u32 intid = 0; intid < vgic::kNrPrivate; ++intid) consider(intid);
    for (u32 intid = vgic::kFirstSpi; intid < config_.nr_intids(); ++intid) consider(intid);
    if (!best) return std::nullopt;
    Irq& irq = at(vcpu, *best);
    irq.active = false;
    irq.active_on = kNoVcpu;
    Deactivated d;
    d.intid = *best;
    d.hw = irq.hw;
    d.pintid = irq.hw ? irq.pintid : 0;
    d.kick = kick_elsewhere(vcpu, *best);
    return d;
}

} // namespace setwise::vcpu
