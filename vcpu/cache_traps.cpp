#include "vcpu/cache_traps.hpp"

#include "arch/arm32/cp15.hpp"
#include "arch/arm32/regs32.hpp"
#include "arch/arm64/iss.hpp"
#include "arch/arm64/sysreg.hpp"
#include "arch/cpu.hpp"
#include "cache/setway.hpp"
#include "core/log.hpp"
#include "setwise/spinlock.hpp"
#include "vcpu/domain.hpp"
#include "vcpu/guest_frame.hpp"

namespace setwise::vcpu {

using arm64::ExceptionFrame;
using arm64::Syndrome;

namespace {

constexpr u64 kHcrTvm = u64{1} << 26;
constexpr u64 kSctlrM = u64{1} << 0;
constexpr u64 kSctlrC = u64{1} << 2;

void write_hcr(Vcpu& v) {
    SW_WRITE_SYSREG(hcr_el2, v.effective_hcr());
    arm64::isb();
}

bool caches_on(u64 sctlr) { return (sctlr & (kSctlrM | kSctlrC)) == (kSctlrM | kSctlrC); }

PreemptHooks g_hooks{};

// One batch for the domain, on the way back to this vCPU: it resumes only
// when the batch is complete, but between chunks the CPU may run others.
void batch(Vcpu& v, const char* why) {
    Domain& d = v.domain();
    if (d.p2m == nullptr) return;
    auto held = d.batch_lock.lock([] {
        if (g_hooks.wait != nullptr) {
            g_hooks.wait();
        } else {
            cpu_relax();
        }
    });
    const bool arming = d.flush.tracking && !d.flush.armed;
    const cache::BatchResult r = cache::run_batch(*d.p2m, d.ram, d.flush, [] {
        if (g_hooks.between_chunks != nullptr) {
            g_hooks.between_chunks();
        } else {
            cpu_relax();
        }
    });
    d.flush.armed = true; // under batch_lock, which every reader of d.flush holds
    if (arming) core::log::info("{}: set/way tracking starts (first set/way batch, all of RAM cleaned)", d.name);
    d.figures.add_batch(r);
    core::log::debug("{}: set/way batch {} ({}, vCPU{}): pages={} bytes={} leaves={} skipped={} chunks={} "
                     "longest chunk={} us time={} us",
                     d.name, d.figures.batches.load(std::memory_order_relaxed), why, v.id(), r.pages_cleaned,
                     r.bytes_cleaned, r.leaves_cleaned, r.subtrees_skipped, r.chunks, cache::ticks_to_us(r.longest_chunk_ticks),
                     cache::ticks_to_us(r.ticks));
}

// A set/way operation (KVM's and Xen's policy): the first one while TVM is
// not armed is a batch and arms TVM; the rest of the guest's loop retires
// without work. A read of these write-only operations is undefined.
bool setway(Vcpu& v, ExceptionFrame& f, const Syndrome& s, cache::SetWayKind kind, bool read) {
    if (read) return false;
    Domain& d = v.domain();
    d.figures.count_trap(kind);
    if ((v.hcr & kHcrTvm) == 0) {
        batch(v, cache::setway_kind_name(kind));
        v.hcr |= kHcrTvm;
        write_hcr(v);
    }
    retire(f, s);
    return true;
}

// A trapped write to SCTLR: emulate it, and when the caches go on or off,
// batch (what was cached may now be read uncached, or the other way round);
// once they are on, stop trapping (KVM's kvm_toggle_cache, Xen's
// p2m_toggle_cache).
void sctlr_write(Vcpu& v, u64 value, bool aarch32) {
    const u64 old = SW_READ_SYSREG(sctlr_el1);
    const u64 next = aarch32 ? (old & ~u64{0xffff'ffff}) | (value & 0xffff'ffff) : value;
    SW_WRITE_SYSREG(sctlr_el1, next);
    arm64::isb();
    const bool was = caches_on(old);
    const bool now = caches_on(next);
    Domain& d = v.domain();
    if (was != now) {
        d.figures.toggles.fetch_add(1, std::memory_order_relaxed);
        batch(v, now ? "caches on" : "caches off");
    }
    if (now && (v.hcr & kHcrTvm) != 0) {
        v.hcr &= ~kHcrTvm;
        write_hcr(v);
    }
}

u64 low(u64 old, u64 v32) { return (old & ~u64{0xffff'ffff}) | (v32 & 0xffff'ffff); }
u64 high(u64 old, u64 v32) { return (old & 0xffff'ffff) | ((v32 & 0xffff'ffff) << 32); }

// CCSIDR as this vCPU sees it for its CSSELR.
u64 guest_ccsidr(const Vcpu& v) {
    SW_WRITE_SYSREG(csselr_el1, v.csselr);
    arm64::isb();
    const u64 host = SW_READ_SYSREG(ccsidr_el1);
    return v.domain().minimal_geometry ? cache::minimal_ccsidr(host) : host;
}

// The cache identification registers (HCR_EL2.TID2), the same in both
// execution states: CCSIDR as guest_ccsidr() says, CLIDR and CTR as the
// host has them, CSSELR kept per vCPU. All but CSSELR are read-only.
enum class IdReg : u8 { ccsidr, clidr, ctr, csselr };

bool id_register(Vcpu& v, ExceptionFrame& f, const Syndrome& s, IdReg which, unsigned rt, bool read,
                 u64 value) {
    if (!read && which != IdReg::csselr) return false;
    v.domain().figures.id_traps.fetch_add(1, std::memory_order_relaxed);
    switch (which) {
    case IdReg::ccsidr: set_guest_reg(f, rt, guest_ccsidr(v)); break;
    case IdReg::clidr: set_guest_reg(f, rt, SW_READ_SYSREG(clidr_el1)); break;
    case IdReg::ctr: set_guest_reg(f, rt, SW_READ_SYSREG(ctr_el0)); break;
    case IdReg::csselr:
        if (read) {
            set_guest_reg(f, rt, v.csselr);
        } else {
            v.csselr = value & 0xf; // Level[3:1], InD[0]
        }
        break;
    }
    retire(f, s);
    return true;
}

} // namespace

void set_preempt_hooks(PreemptHooks hooks) { g_hooks = hooks; }

bool resolve_tracking_fault(Vcpu& v, Ipa ipa) {
    Domain& d = v.domain();
    if (d.p2m == nullptr || !d.flush.tracking) return false;
    const Result<bool> r = d.p2m->resolve_fault(ipa);
    return r.ok() && r.value();
}

bool handle_sysreg_cache_trap(Vcpu& v, ExceptionFrame& f, const Syndrome& s) {
    const arm64::SysRegIss iss(s.iss);
    const unsigned rt = static_cast<unsigned>(iss.get<arm64::SysRegIss::rt>());
    const bool read = iss.is_read();
    const u64 value = guest_reg(f, rt);
    Domain& d = v.domain();
    namespace r = arm64::sysreg;
    const arm64::SysRegKey key = iss.key();

    if (key == r::kDcIsw) return setway(v, f, s, cache::SetWayKind::invalidate, read);
    if (key == r::kDcCsw) return setway(v, f, s, cache::SetWayKind::clean, read);
    if (key == r::kDcCisw) return setway(v, f, s, cache::SetWayKind::clean_invalidate, read);

    if (key == r::kCcsidrEl1) return id_register(v, f, s, IdReg::ccsidr, rt, read, value);
    if (key == r::kClidrEl1) return id_register(v, f, s, IdReg::clidr, rt, read, value);
    if (key == r::kCtrEl0) return id_register(v, f, s, IdReg::ctr, rt, read, value);
    if (key == r::kCsselrEl1) return id_register(v, f, s, IdReg::csselr, rt, read, value);

    // TVM traps writes only (TRVM, not set, would trap reads).
    if (read) return false;
    bool handled = true;
    if (key == r::kSctlrEl1) {
        sctlr_write(v, value, false);
    } else if (key == r::kTtbr0El1) {
        SW_WRITE_SYSREG(ttbr0_el1, value);
    } else if (key == r::kTtbr1El1) {
        SW_WRITE_SYSREG(ttbr1_el1, value);
    } else if (key == r::kTcrEl1) {
        SW_WRITE_SYSREG(tcr_el1, value);
    } else if (key == r::kEsrEl1) {
        SW_WRITE_SYSREG(esr_el1, value);
    } else if (key == r::kFarEl1) {
        SW_WRITE_SYSREG(far_el1, value);
    } else if (key == r::kAfsr0El1) {
        SW_WRITE_SYSREG(afsr0_el1, value);
    } else if (key == r::kAfsr1El1) {
        SW_WRITE_SYSREG(afsr1_el1, value);
    } else if (key == r::kMairEl1) {
        SW_WRITE_SYSREG(mair_el1, value);
    } else if (key == r::kAmairEl1) {
        SW_WRITE_SYSREG(amair_el1, value);
    } else if (key == r::kContextidrEl1) {
        SW_WRITE_SYSREG(contextidr_el1, value);
    } else {
        handled = false;
    }
    if (!handled) return false;
    d.figures.tvm_traps.fetch_add(1, std::memory_order_relaxed);
    arm64::isb();
    retire(f, s);
    return true;
}

bool handle_cp15_cache_trap(Vcpu& v, ExceptionFrame& f, const Syndrome& s) {
    const arm32::Cp15Iss iss(s.iss);
    const unsigned rt = static_cast<unsigned>(iss.get<arm32::Cp15Iss::rt>());
    const bool read = iss.is_read();
    const u64 value = guest_reg(f, rt);
    Domain& d = v.domain();
    namespace c = arm32::cp15;
    const arm32::Cp15Key key = iss.key();

    if (key == c::kDcisw) return setway(v, f, s, cache::SetWayKind::invalidate, read);
    if (key == c::kDccsw) return setway(v, f, s, cache::SetWayKind::clean, read);
    if (key == c::kDccisw) return setway(v, f, s, cache::SetWayKind::clean_invalidate, read);

    if (key == c::kCcsidr) return id_register(v, f, s, IdReg::ccsidr, rt, read, value);
    if (key == c::kClidr) return id_register(v, f, s, IdReg::clidr, rt, read, value);
    if (key == c::kCtr) return id_register(v, f, s, IdReg::ctr, rt, read, value);
    if (key == c::kCsselr) return id_register(v, f, s, IdReg::csselr, rt, read, value);

    if (read) return false;
    // The AArch32 views of the EL1 registers (DDI 0487, "Mapping of AArch32
    // system registers to AArch64"): 32-bit halves of the AArch64 ones,
    // DACR and IFSR in their own EL2-visible registers.
    bool handled = true;
    if (key == c::kSctlr) {
        sctlr_write(v, value, true);
    } else if (key == c::kTtbr0) {
        SW_WRITE_SYSREG(ttbr0_el1, low(SW_READ_SYSREG(ttbr0_el1), value));
    } else if (key == c::kTtbr1) {
        SW_WRITE_SYSREG(ttbr1_el1, low(SW_READ_SYSREG(ttbr1_el1), value));
    } else if (key == c::kTtbcr) {
        SW_WRITE_SYSREG(tcr_el1, low(SW_READ_SYSREG(tcr_el1), value));
    } else if (key == c::kDacr) {
        SW_WRITE_SYSREG(dacr32_el2, value);
    } else if (key == c::kDfsr) {
        SW_WRITE_SYSREG(esr_el1, value);
    } else if (key == c::kIfsr) {
        SW_WRITE_SYSREG(ifsr32_el2, value);
    } else if (key == c::kAdfsr) {
        SW_WRITE_SYSREG(afsr0_el1, value);
    } else if (key == c::kAifsr) {
        SW_WRITE_SYSREG(afsr1_el1, value);
    } else if (key == c::kDfar) {
        SW_WRITE_SYSREG(far_el1, low(SW_READ_SYSREG(far_el1), value));
    } else if (key == c::kIfar) {
        SW_WRITE_SYSREG(far_el1, high(SW_READ_SYSREG(far_el1), value));
    } else if (key == c::kPrrr) {
        SW_WRITE_SYSREG(mair_el1, low(SW_READ_SYSREG(mair_el1), value));
    } else if (key == c::kNmrr) {
        SW_WRITE_SYSREG(mair_el1, high(SW_READ_SYSREG(mair_el1), value));
    } else if (key == c::kAmair0) {
        SW_WRITE_SYSREG(amair_el1, low(SW_READ_SYSREG(amair_el1), value));
    } else if (key == c::kAmair1) {
        SW_WRITE_SYSREG(amair_el1, high(SW_READ_SYSREG(amair_el1), value));
    } else if (key == c::kContextidr) {
        SW_WRITE_SYSREG(contextidr_el1, value);
    } else {
        handled = false;
    }
    if (!handled) return false;
    d.figures.tvm_traps.fetch_add(1, std::memory_order_relaxed);
    arm64::isb();
    retire(f, s);
    return true;
}

bool handle_cp15_64_cache_trap(Vcpu& v, ExceptionFrame& f, const Syndrome& s) {
    const arm32::Cp15_64Iss iss(s.iss);
    if (iss.is_read()) return false;
    const u64 lo = guest_reg(f, static_cast<unsigned>(iss.get<arm32::Cp15_64Iss::rt>()));
    const u64 hi = guest_reg(f, static_cast<unsigned>(iss.get<arm32::Cp15_64Iss::rt2>()));
    const u64 value = (hi << 32) | lo;
    namespace c = arm32::cp15;
    if (iss.key() == c::kTtbr0_64) {
        SW_WRITE_SYSREG(ttbr0_el1, value);
    } else if (iss.key() == c::kTtbr1_64) {
        SW_WRITE_SYSREG(ttbr1_el1, value);
    } else {
        return false;
    }
    v.domain().figures.tvm_traps.fetch_add(1, std::memory_order_relaxed);
    arm64::isb();
    retire(f, s);
    return true;
}

} // namespace setwise::vcpu
