// libFuzzer target: one domain's virtual GIC (vcpu/vgic_*) under any
// sequence of distributor and redistributor accesses, injections, SGIs,
// HW links, software acknowledges and list-register rounds in which a fake
// guest acknowledges and completes interrupts as a virtual CPU interface
// lets it (highest-priority pending LR that can preempt; EOImode 0).
//
// Input: 2 header bytes, then 8-byte steps.
//   header 0   bit 0: GICv3 (else v2); bits 4:1: vCPUs - 1 (at most 8 for
//              v2); bits 7:5: list registers - 1
//   header 1   SPIs: 32 * (1 + bits 1:0)
//   step 0     op, mod 12 (below); step 1: vCPU (mod count) and size bits
//   steps 2-7  operands
// ops: 0/1 distributor read/write, 2/3 redistributor read/write (a register
// from a list, or a raw offset), 4 set_level, 5 raise_edge, 6 an SGI (v2
// GICD_SGIR form or v3 ICC_SGI1R value and group), 7 an LR round on one
// vCPU, 8 map/unmap HW, 9 software acknowledge/deactivate, 10 queries,
// 11 reset (step 2 = 0xff) or an LR round on every vCPU.
//
// Checks, beyond the sanitizers:
//   - counts stay bounded: refused accesses never exceed accesses made;
//     LRs used <= LRs; pending_for within its buffer; kick masks name
//     existing vCPUs (and a sync never names its own);
//   - after every fill: valid entries come first, each INTID at most once
//     per vCPU and an SPI on at most one vCPU; each is listed (inspect) on
//     that vCPU and is neither waiting (pending_for) nor pending-only in
//     the state beside its LR; HW entries never pending-and-active and
//     never ask for EOI; a v2 SGI's CPUID names an existing vCPU; whatever
//     waits unlisted means overflow was reported, and overflow means a
//     maintenance request (UIE / NPIE / LRENPIE / an EOI bit) or an active
//     HW entry alone in a single LR;
//   - no duplicate: the guest (or a software acknowledge) only ever takes
//     an edge-triggered interrupt (v2 SGI: INTID and source) that was
//     raised -- by an injection, an SGI or a set-pending register write --
//     since it last took it;
//   - no loss: at the end, with every input line low, everything enabled,
//     routed to vCPU 0 and nothing active, LR rounds drain every edge raised
//     by an injection or an SGI unless a clear-pending write or a reset
//     came after it.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <tuple>
#include <vector>

#include "vcpu/vgic_dist.hpp"
#include "vcpu/vgic_lr.hpp"
#include "vcpu/vgic_redist.hpp"

using namespace setwise;
using namespace setwise::vcpu;

namespace {

void check(bool ok) {
    if (!ok) __builtin_trap();
}

constexpr u32 kSpurious = 1023;
constexpr u64 kStride = 0x20000;
constexpr unsigned kSizes[8] = {4, 4, 4, 1, 8, 2, 0, 3};

// Offsets from IHI 0048B table 4-1 / IHI 0069H chapter 12, written out here.
constexpr u64 kDistRegs[] = {0x000, 0x004, 0x008, 0x00c, 0x080, 0x084, 0x100, 0x104, 0x108, 0x180, 0x184,
                             0x200, 0x204, 0x208, 0x280, 0x284, 0x300, 0x304, 0x380, 0x384, 0x400, 0x420,
                             0x800, 0x820, 0xc00, 0xc04, 0xc08, 0xd00, 0xe00, 0xf00, 0xf10, 0xf20,
                             0x6100, 0x6108, 0x6104, 0xfe8, 0xffe8};
constexpr u64 kRdRegs[] = {0x0, 0x4, 0x8, 0xc, 0x14, 0x40, 0x70, 0xffe8};
constexpr u64 kSgiRegs[] = {0x80, 0x100, 0x180, 0x200, 0x280, 0x300, 0x380, 0x400, 0x41c, 0xc00, 0xc04, 0xd00};

// (bank, INTID, source): bank is the vCPU for SGIs/PPIs, 0xff for SPIs;
// source only for v2 SGIs.
using Key = std::tuple<u32, u32, u32>;

class FakeCpu {
public:
    FakeCpu(bool v2, usize nr) : v2_(v2), lr_(nr, 0) {}
    void load(std::span<const LrEntry> e, const ListRegisterFile::FillResult& r) {
        for (usize i = 0; i < lr_.size(); ++i) lr_[i] = v2_ ? encode_gich_lr(e[i]) : encode_ich_lr(e[i]);
        uie_ = r.underflow;
        npie_ = r.no_pending;
        lrenpie_ = r.eoi_count;
        maint_ = false;
    }
    std::vector<LrEntry> readback() const {
        std::vector<LrEntry> out;
        for (u64 raw : lr_) out.push_back(decode(raw));
        return out;
    }
    u32 take_eoi_count() {
        const u32 n = eoi_count_;
        eoi_count_ = 0;
        return n;
    }
    struct Ack {
        u32 intid = kSpurious;
        u8 source = 0;
    };
    Ack acknowledge() {
        usize best = lr_.size();
        for (usize i = 0; i < lr_.size(); ++i) {
            const LrEntry e = decode(lr_[i]);
            if (e.state != LrState::pending || e.priority >= running()) continue;
            if (best == lr_.size() || e.priority < decode(lr_[best]).priority) best = i;
        }
        if (best == lr_.size()) return {};
        LrEntry e = decode(lr_[best]);
        e.state = LrState::active;
        lr_[best] = encode(e);
        stack_.push_back({e.vintid, e.priority, e.source});
        return {e.vintid, e.source};
    }
    void eoi() {
        if (stack_.empty()) return;
        const Active a = stack_.back();
        stack_.pop_back();
        for (u64& raw : lr_) {
            LrEntry e = decode(raw);
            if (e.vintid != a.intid || !lr_active(e.state) || (v2_ && !e.hw && e.source != a.source)) continue;
            e.state = e.state == LrState::pending_active ? LrState::pending : LrState::invalid;
            if (e.eoi && e.state == LrState::invalid) maint_ = true;
            raw = encode(e);
            return;
        }
        ++eoi_count_;
    }
    bool must_exit() const {
        usize valid = 0, pending = 0;
        for (u64 raw : lr_) {
            const LrEntry e = decode(raw);
            valid += e.state != LrState::invalid ? 1 : 0;
            pending += e.state == LrState::pending ? 1 : 0;
        }
        return maint_ || (uie_ && valid <= 1) || (npie_ && pending == 0) || (lrenpie_ && eoi_count_ != 0);
    }
    usize depth() const { return stack_.size(); }
    void forget() { stack_.clear(); }

private:
    struct Active {
        u32 intid;
        u8 priority;
        u8 source;
    };
    u32 running() const {
        u32 p = 0x100;
        for (const Active& a : stack_) p = std::min<u32>(p, a.priority);
        return p;
    }
    u64 encode(const LrEntry& e) const { return v2_ ? encode_gich_lr(e) : encode_ich_lr(e); }
    LrEntry decode(u64 raw) const { return v2_ ? decode_gich_lr(static_cast<u32>(raw)) : decode_ich_lr(raw); }

    bool v2_;
    std::vector<u64> lr_;
    std::vector<Active> stack_;
    bool uie_ = false, npie_ = false, lrenpie_ = false, maint_ = false;
    u32 eoi_count_ = 0;
};

struct Fuzz {
    Fuzz(const VgicConfig& c, usize nr_lrs)
        : state(c), dist(state), redist(state), v2(c.version() == VgicVersion::v2), nr(c.nr_vcpus()),
          nr_lrs(nr_lrs) {
        for (u32 v = 0; v < nr; ++v) {
            lrs.push_back(new ListRegisterFile(v, nr_lrs));
            cpus.emplace_back(v2, nr_lrs);
        }
    }
    ~Fuzz() {
        for (ListRegisterFile* l : lrs) delete l;
    }

    Key key(u32 vcpu, u32 intid, u32 source) const {
        if (intid >= 32) return {0xff, intid, 0};
        return {vcpu, intid, v2 && intid < 16 ? source : 0};
    }
    bool edge(u32 intid, u32 vcpu) const {
        const Result<IrqView> v = state.inspect(intid, vcpu);
        return v.ok() && v.value().edge;
    }
    void raised(const Key& k, bool must_deliver) {
        credit.insert(k);
        if (must_deliver) must.insert(k);
    }
    // An interrupt was taken: it must have been raised since last taken.
    void taken(u32 vcpu, u32 intid, u8 source) {
        const Key k = key(vcpu, intid, source);
        if (edge(intid, vcpu)) check(credit.count(k) == 1);
        credit.erase(k);
        must.erase(k);
    }

    // The set-pending effect of a register write that was accepted, read
    // off the architecture's layout (not the code under test).
    void note_dist_write(u32 vcpu, u64 off, unsigned size, u64 value) {
        if (off >= 0x280 && off < 0x300) must.clear(); // ICPENDR
        if (off >= 0xf10 && off < 0xf20) must.clear(); // CPENDSGIR
        if (off >= 0x200 && off < 0x280 && size == 4) {
            const u32 n = static_cast<u32>(off - 0x200) / 4;
            for (u32 b = 0; b < 32; ++b) {
                const u32 intid = 32 * n + b;
                if (((value >> b) & 1) == 0 || (!v2 && n == 0) || (v2 && intid < 16)) continue;
                raised(key(vcpu, intid, 0), false);
            }
        }
        if (v2 && off >= 0xf20 && off < 0xf30) {
            for (unsigned i = 0; i < size; ++i) {
                const u32 sgi = static_cast<u32>(off - 0xf20) + i;
                for (u32 s = 0; s < nr; ++s)
                    if (((value >> (8 * i + s)) & 1) != 0) raised(key(vcpu, sgi, s), false);
            }
        }
        if (v2 && off == 0xf00 && size == 4) {
            const u32 filter = static_cast<u32>(value >> 24) & 3;
            const u32 list = static_cast<u32>(value >> 16) & 0xff;
            for (u32 t = 0; t < nr; ++t) {
                const bool hit = (filter == 0 && ((list >> t) & 1) != 0) || (filter == 1 && t != vcpu) ||
                                 (filter == 2 && t == vcpu);
                if (hit) raised(key(t, static_cast<u32>(value) & 0xf, vcpu), true);
            }
        }
    }
    void note_redist_write(u64 off, unsigned size, u64 value) {
        const u32 frame = static_cast<u32>(off / kStride);
        const u64 in = off % kStride;
        if (in == 0x10280) must.clear();
        if (in == 0x10200 && size == 4)
            for (u32 b = 0; b < 32; ++b)
                if (((value >> b) & 1) != 0) raised(key(frame, b, 0), false);
    }

    // An LR round: fill (and check), let the guest act, sync. Several
    // vCPUs may be filled before any of them syncs, as on real CPUs.
    void fill(u32 vcpu) {
        entries[vcpu].assign(nr_lrs, LrEntry{});
        fills[vcpu] = lrs[vcpu]->fill(state, entries[vcpu]);
        check_fill(vcpu, entries[vcpu], fills[vcpu]);
        cpus[vcpu].load(entries[vcpu], fills[vcpu]);
    }
    void run(u32 vcpu, const u8* actions, usize n_actions, bool drain) {
        FakeCpu& cpu = cpus[vcpu];
        if (drain) {
            while (cpu.depth() != 0) cpu.eoi();
            for (int i = 0; i < 64; ++i) {
                const FakeCpu::Ack a = cpu.acknowledge();
                if (a.intid == kSpurious) break;
                taken(vcpu, a.intid, a.source);
                cpu.eoi();
            }
            return;
        }
        for (usize i = 0; i < n_actions && !cpu.must_exit(); ++i) {
            for (unsigned j = 0; j < 4 && !cpu.must_exit(); ++j) {
                const unsigned act = (actions[i] >> (2 * j)) & 3;
                if (act == 3) break;
                if (act == 0 || act == 2) {
                    const FakeCpu::Ack a = cpu.acknowledge();
                    if (a.intid != kSpurious) taken(vcpu, a.intid, a.source);
                }
                if (act == 1 || act == 2) cpu.eoi();
            }
        }
    }
    void sync(u32 vcpu) {
        FakeCpu& cpu = cpus[vcpu];
        const std::vector<LrEntry> back = cpu.readback();
        const ListRegisterFile::SyncResult r = lrs[vcpu]->sync(state, back, cpu.take_eoi_count());
        check(r.folded == fills[vcpu].used);
        check(r.hw_count <= r.eois_unlisted);
        check((r.kick & ~((u32{1} << nr) - 1)) == 0 && (r.kick & (u32{1} << vcpu)) == 0);
        check(!lrs[vcpu]->in_flight());
        for (usize i = 0; i < fills[vcpu].used; ++i)
            if (entries[vcpu][i].vintid >= 32) spi_listed_on.erase(entries[vcpu][i].vintid);
    }
    void round(u32 vcpu, const u8* actions, usize n_actions, bool drain) {
        fill(vcpu);
        run(vcpu, actions, n_actions, drain);
        sync(vcpu);
    }

    void check_fill(u32 vcpu, const std::vector<LrEntry>& e, const ListRegisterFile::FillResult& r) {
        check(r.used <= nr_lrs);
        std::set<u32> seen;
        for (usize i = 0; i < nr_lrs; ++i) {
            if (i >= r.used) {
                check(e[i].state == LrState::invalid);
                continue;
            }
            check(e[i].state != LrState::invalid);
            check(seen.insert(e[i].vintid).second);
            const Result<IrqView> v = state.inspect(e[i].vintid, vcpu);
            check(v.ok());
            check(v.value().listed && v.value().listed_on == vcpu);
            if (lr_pending(e[i].state)) check(v.value().pending);
            if (e[i].hw) {
                check(e[i].state != LrState::pending_active && !e[i].eoi);
                check(v.value().hw && v.value().pintid == e[i].pintid);
            }
            if (v2 && e[i].vintid < 16) check(e[i].source < nr);
            if (e[i].vintid >= 32) check(spi_listed_on.emplace(e[i].vintid, vcpu).second);
        }
        PendingIrq waiting[VgicState::kMaxPendingQuery];
        const usize n = state.pending_for(vcpu, waiting);
        check(n <= VgicState::kMaxPendingQuery);
        for (usize i = 0; i < n; ++i) check(seen.count(waiting[i].intid) == 0);
        if (n != 0) check(r.overflow);
        if (r.overflow) {
            bool asked = r.underflow || r.no_pending || r.eoi_count;
            for (usize i = 0; i < r.used; ++i) asked = asked || e[i].eoi;
            check(asked || (r.used == 1 && e[0].hw && lr_active(e[0].state)));
        }
        if (r.underflow) check(r.used >= 2);
    }

    VgicState state;
    VgicDist dist;
    VgicRedist redist;
    bool v2;
    u32 nr;
    usize nr_lrs;
    std::vector<ListRegisterFile*> lrs;
    std::vector<FakeCpu> cpus;
    std::set<Key> credit; // may be taken once
    std::set<Key> must;   // must be taken before the end
    std::map<u32, u32> spi_listed_on; // SPIs in some vCPU's filled LRs
    std::map<std::pair<u32, u32>, bool> line; // (bank, INTID) input levels set
    std::vector<std::vector<LrEntry>> entries{vgic::kMaxVcpus};
    ListRegisterFile::FillResult fills[vgic::kMaxVcpus];
    u64 mmio = 0;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const bool v3 = (data[0] & 1) != 0;
    u32 vcpus = 1 + ((data[0] >> 1) & 0xf);
    if (!v3 && vcpus > 8) vcpus = 8;
    const usize nr_lrs = 1 + ((data[0] >> 5) & 7);
    const u32 spis = 32 * (1 + (data[1] & 3));
    std::vector<u64> mpidrs;
    for (u32 i = 0; i < vcpus; ++i) mpidrs.push_back(i); // Aff0 = index
    const Result<VgicConfig> cfg = VgicConfig::create(v3 ? VgicVersion::v3 : VgicVersion::v2, mpidrs, spis);
    check(cfg.ok());
    Fuzz f(cfg.value(), nr_lrs);
    const u32 lines = cfg.value().nr_intids();

    for (std::size_t at = 2; at + 8 <= size; at += 8) {
        const std::uint8_t* s = data + at;
        const unsigned op = s[0] % 12;
        const u32 vcpu = s[1] % vcpus;
        const unsigned access = kSizes[(s[1] >> 5) & 7];
        u64 value = u64{s[4]} | (u64{s[5]} << 8) | (u64{s[6]} << 16) | (u64{s[7]} << 24);
        if (access == 8) value |= value << 32;
        const u32 intid = (u32{s[2]} | (static_cast<u32>(s[3] & 3) << 8)) % (lines + 40);
        switch (op) {
        case 0:
        case 1: {
            const u64 off = (s[2] & 0x80) != 0 ? kDistRegs[s[3] % std::size(kDistRegs)] + (s[2] & 0x7f)
                                               : (u64{s[2]} | (u64{s[3]} << 8));
            const u64 refused = f.dist.bad_accesses() + f.dist.reserved_accesses();
            ++f.mmio;
            if (op == 0) {
                const u64 v = f.dist.read(vcpu, off, access);
                if (access < 8 && access > 0) check((v >> (8 * access)) == 0);
            } else {
                (void)f.dist.write(vcpu, off, access, value);
                if (f.dist.bad_accesses() + f.dist.reserved_accesses() == refused)
                    f.note_dist_write(vcpu, off, access, value);
            }
            check(f.dist.bad_accesses() + f.dist.reserved_accesses() <= f.mmio);
            break;
        }
        case 2:
        case 3: {
            const u32 frame = (s[1] >> 1) % (vcpus + 1); // one past the end, too
            u64 off = frame * kStride;
            if ((s[2] & 0x80) != 0) {
                off += (s[2] & 0x40) != 0 ? 0x10000 + kSgiRegs[s[3] % std::size(kSgiRegs)]
                                          : kRdRegs[s[3] % std::size(kRdRegs)];
                off += s[2] & 0x7;
            } else {
                off += u64{s[2]} | (u64{s[3]} << 8) | (static_cast<u64>(s[2] & 1) << 16);
            }
            const u64 refused = f.redist.bad_accesses() + f.redist.reserved_accesses();
            ++f.mmio;
            if (op == 2) {
                (void)f.redist.read(off, access);
            } else {
                (void)f.redist.write(off, access, value);
                if (f.redist.bad_accesses() + f.redist.reserved_accesses() == refused)
                    f.note_redist_write(off, access, value);
            }
            check(f.redist.bad_accesses() + f.redist.reserved_accesses() <= f.mmio);
            if (!v3) check(f.redist.reserved_accesses() == 0);
            break;
        }
        case 4: {
            const bool level = (s[4] & 1) != 0;
            const Result<IrqView> before = f.state.inspect(intid, vcpu);
            const Result<VcpuMask> k = f.state.set_level(intid, vcpu, level);
            check(k.ok() == (before.ok() && intid >= 16));
            if (k.ok()) check((k.value() & ~((u32{1} << vcpus) - 1)) == 0);
            // A rising edge on an edge-triggered input: one interrupt.
            const std::pair<u32, u32> bank{intid >= 32 ? 0 : vcpu, intid};
            if (k.ok() && level && before.value().edge && !f.line[bank]) f.raised(f.key(vcpu, intid, 0), true);
            if (k.ok()) f.line[bank] = level;
            break;
        }
        case 5: {
            const Result<VcpuMask> k = f.state.raise_edge(intid, vcpu);
            check(k.ok() == (intid >= 16 && intid < lines));
            if (k.ok()) f.raised(f.key(vcpu, intid, 0), true);
            break;
        }
        case 6: {
            if (!v3) {
                const u32 sgi = s[6] & 0x1f;
                const u32 filter = s[4] & 3;
                if (filter == 3) break; // reserved: the distributor never passes it
                const VcpuMask k = f.state.send_sgi_v2(vcpu, static_cast<SgiFilter>(filter), s[5], sgi);
                check((k & ~((u32{1} << vcpus) - 1)) == 0);
                if (sgi >= 16) {
                    check(k == 0);
                    break;
                }
                for (u32 t = 0; t < vcpus; ++t) {
                    const bool hit = (filter == 0 && ((s[5] >> t) & 1) != 0) || (filter == 1 && t != vcpu) ||
                                     (filter == 2 && t == vcpu);
                    if (hit) f.raised(f.key(t, sgi, vcpu), true);
                }
            } else {
                const u64 raw = value | (u64{s[2]} << 32) | (static_cast<u64>(s[3] & 0x1f) << 40);
                const Sgi1r sgi1r(raw);
                const bool group1 = (s[1] & 0x10) != 0;
                const u32 sgi = static_cast<u32>(sgi1r.get<Sgi1r::intid>());
                std::vector<u32> targets;
                for (u32 t = 0; t < vcpus; ++t) {
                    bool hit;
                    if (sgi1r.test<Sgi1r::irm>()) {
                        hit = t != vcpu;
                    } else {
                        hit = sgi1r.get<Sgi1r::aff1>() == 0 && sgi1r.get<Sgi1r::aff2>() == 0 &&
                              sgi1r.get<Sgi1r::aff3>() == 0 && sgi1r.get<Sgi1r::rs>() == 0 &&
                              ((sgi1r.get<Sgi1r::target_list>() >> t) & 1) != 0;
                    }
                    // ICC_SGI0R_EL1 only reaches Group 0 SGIs.
                    if (hit && (group1 || !f.state.inspect(sgi, t).value().group1)) targets.push_back(t);
                }
                const VcpuMask k = f.state.send_sgi_v3(vcpu, sgi1r, group1 ? SgiGroup::group1 : SgiGroup::group0);
                check((k & ~((u32{1} << vcpus) - 1)) == 0);
                for (u32 t : targets) f.raised(f.key(t, sgi, 0), true);
            }
            break;
        }
        case 7:
            f.round(vcpu, s + 2, 6, false);
            break;
        case 8: {
            const u32 pintid = 16 + s[4] % 1020;
            if ((s[5] & 1) != 0) {
                (void)f.state.map_hw(intid, vcpu, pintid);
            } else {
                (void)f.state.unmap_hw(intid, vcpu);
            }
            break;
        }
        case 9: {
            if ((s[4] & 1) != 0) {
                const Result<PendingIrq> a = f.state.acknowledge(vcpu, intid);
                if (a.ok()) {
                    check(a.value().intid == intid);
                    f.taken(vcpu, intid, a.value().source);
                }
            } else {
                (void)f.state.deactivate(vcpu, intid);
            }
            break;
        }
        case 10: {
            PendingIrq p[8];
            const usize n = f.state.pending_for(vcpu, std::span<PendingIrq>(p, 1 + (s[4] & 7)));
            check(n <= 1u + (s[4] & 7));
            for (usize i = 1; i < n; ++i) check(p[i - 1].priority <= p[i].priority);
            const std::optional<PendingIrq> h = f.state.highest_pending(vcpu);
            check(h.has_value() == (n != 0));
            if (h) check(*h == p[0]);
            break;
        }
        default:
            if (s[2] == 0xff) {
                f.state.reset();
                for (ListRegisterFile* l : f.lrs) l->reset();
                for (FakeCpu& c : f.cpus) c.forget();
                f.must.clear();
                f.line.clear();
            } else {
                for (u32 v = 0; v < vcpus; ++v) f.fill(v);
                for (u32 v = 0; v < vcpus; ++v) f.run(v, s + 2, 6, false);
                for (u32 v = 0; v < vcpus; ++v) f.sync(v);
            }
            break;
        }
    }

    // Drain: the devices go quiet (a level line held high at a priority no
    // other interrupt beats is taken again and again, on a GIC as here);
    // the guest forgets what it holds; the distributor is opened wide and
    // every active interrupt cleared; then every vCPU takes what it is
    // offered until nothing is left.
    {
        for (u32 v = 0; v < vcpus; ++v) f.round(v, nullptr, 0, false);
        for (FakeCpu& c : f.cpus) c.forget();
        for (const auto& [bank, high] : f.line)
            if (high) check(f.state.set_level(bank.second, bank.first, false).ok());
        const VgicState::Guard g = f.state.lock();
        (void)f.state.set_group_enables(g, 3);
        for (u32 v = 0; v < vcpus; ++v) {
            (void)f.state.write_bits(g, BitReg::set_enable, v, 0, ~0u);
            (void)f.state.write_bits(g, BitReg::clear_active, v, 0, ~0u);
        }
        for (u32 first = 32; first < lines; first += 32) {
            (void)f.state.write_bits(g, BitReg::set_enable, 0, first, ~0u);
            (void)f.state.write_bits(g, BitReg::clear_active, 0, first, ~0u);
        }
        for (u32 i = 32; i < lines; ++i) {
            if (v3) {
                (void)f.state.write_irouter(g, i, 0);
            } else {
                (void)f.state.write_targets(g, i, 1);
            }
        }
    }
    for (int pass = 0; pass < 64; ++pass) {
        usize listed = 0;
        for (u32 v = 0; v < vcpus; ++v) {
            f.round(v, nullptr, 0, true);
            listed += f.fills[v].used;
        }
        if (listed == 0) break; // nothing active, nothing waiting anywhere
    }
    check(f.must.empty());
    return 0;
}
