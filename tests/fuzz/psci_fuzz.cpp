// libFuzzer target: the guest PSCI / SMCCC handler (vcpu/psci) over a
// domain the input makes up -- 1 to 16 vCPUs with any distinct MPIDRs,
// any power states and execution states, 0 to 3 guest RAM ranges of any
// base and size (wrapping past the top included) -- and a sequence of
// calls from its running vCPUs, with function IDs biased toward the PSCI
// (0x8400_00xx, 0xc400_00xx) and SMCCC (0x8000_xxxx) ranges and arguments
// biased toward what the functions test: vCPU affinities (with stray
// MPIDR bits), addresses at and around the RAM ranges' edges, power_state
// words, function IDs, and junk in the upper half of SMC32 arguments.
//
// Input: a header, then 40-byte steps; bytes past the end read as 0.
//   header 0    bits 3:0 vCPUs - 1; bits 5:4 RAM ranges; bits 7:6 MPIDR
//               layout: Aff0 = index, 4-CPU clusters, Aff2..Aff0 or
//               Aff3..Aff0 from the input (made distinct)
//   header 1    bits 1:0 execution state: all AArch64, all AArch32, per
//               vCPU (twice)
//   5 per vCPU  flags (bits 1:0 power: on, off, on_pending, off; bit 2
//               AArch32; bit 3 MPIDR.U; bit 4 MPIDR.MT), Aff3..Aff0
//   13 per RAM  base (8 bytes), size (4 bytes) shifted left by byte 12
//               mod 33
//   step 0      0xe0 and above: a pending vCPU (the one nearest step 1)
//               starts running; else a call from the running vCPU
//               nearest step 1
//   step 2, 3   function ID selector (pick_fn) and its low byte
//   step 4, 5   selectors for a1 and a2 (by function: a target, an
//               address, a level, a power_state, a function ID)
//   step 6      bit 0: junk in SMC32 arguments' upper words; bit 1: the
//               context's cpu_on() fails
//   step 7      unused
//   8-11        a raw function ID; 12-15 the junk word
//   16-39       raw a1, a2, a3 (little endian)
//
// Checks, beyond the sanitizers, against a model written here from ARM DEN
// 0022D / DEN 0028 and the contract in vcpu/psci.hpp (as
// tests/host/psci_test.cpp pins it):
//   - the outcome (x0 and action) is the model's, exactly;
//   - x0 is a PSCI return code (0..-9) or the function's own value
//     (versions, MIGRATE_INFO_TYPE, AFFINITY_INFO's 1 and 2);
//   - cpu_on() is asked at most once, only by CPU_ON, only for an existing
//     vCPU that is off -- never the caller, which is on -- with the entry
//     point inside a RAM range (bit 0 taken as the T32 flag for an AArch32
//     caller, kept as part of the address for an AArch64 one), the caller's
//     context ID (low word for SMC32) and exactly the model's arguments;
//     SUCCESS exactly when it was asked and did not fail;
//   - AFFINITY_INFO reports only a state the target has, and only for an
//     existing target at level 0;
//   - a call that returns an error asks for no action and changes no power
//     state; SMC64 IDs are NOT_SUPPORTED to an AArch32 caller;
//   - the handler reads vCPUs by index only below vcpu_count().
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "vcpu/psci.hpp"

using namespace setwise;
using namespace setwise::vcpu;

namespace {

void check(bool ok) {
    if (!ok) __builtin_trap();
}

// DEN 0022D table 5.2.
constexpr i64 kSuccess = 0;
constexpr i64 kNotSupported = -1;
constexpr i64 kInvalidParameters = -2;
constexpr i64 kAlreadyOn = -4;
constexpr i64 kOnPending = -5;
constexpr i64 kInternalFailure = -6;
constexpr i64 kInvalidAddress = -9;

// DEN 0022D table 5.1, DEN 0028.
constexpr u32 kSmcccVersion = 0x8000'0000;
constexpr u32 kSmcccArchFeatures = 0x8000'0001;
constexpr u32 kPsciVersion = 0x8400'0000;
constexpr u32 kCpuSuspend32 = 0x8400'0001;
constexpr u32 kCpuSuspend64 = 0xc400'0001;
constexpr u32 kCpuOff = 0x8400'0002;
constexpr u32 kCpuOn32 = 0x8400'0003;
constexpr u32 kCpuOn64 = 0xc400'0003;
constexpr u32 kAffinityInfo32 = 0x8400'0004;
constexpr u32 kAffinityInfo64 = 0xc400'0004;
constexpr u32 kMigrateInfoType = 0x8400'0006;
constexpr u32 kSystemOff = 0x8400'0008;
constexpr u32 kSystemReset = 0x8400'0009;
constexpr u32 kFeatures = 0x8400'000a;
constexpr u32 kSmc64 = 1u << 30;

constexpr i64 kVersion11 = 0x0001'0001;

// What PSCI_FEATURES reports as present (psci.hpp), before the AArch32
// caller's SMC64 filter.
constexpr u32 kImplemented[] = {kPsciVersion, kCpuSuspend32, kCpuSuspend64, kCpuOff,          kCpuOn32,
                                kCpuOn64,     kAffinityInfo32, kAffinityInfo64, kMigrateInfoType, kSystemOff,
                                kSystemReset, kFeatures,     kSmcccVersion};

// MPIDR_EL1: Aff3 [39:32], Aff2 [23:16], Aff1 [15:8], Aff0 [7:0]; bit 31
// RES1, U [30], MT [24], the rest RES0.
constexpr u64 kAffinity = 0xff'00ff'ffffull;
constexpr u64 kMpidrRes1 = 1ull << 31;
constexpr u64 kMpidrU = 1ull << 30;
constexpr u64 kMpidrMt = 1ull << 24;

constexpr usize kMaxVcpus = 16;
constexpr usize kStep = 40;

class Reader {
public:
    Reader(const std::uint8_t* data, usize size) : data_(data), size_(size) {}
    bool empty() const { return at_ >= size_; }
    u8 byte() { return at_ < size_ ? data_[at_++] : (++at_, u8{0}); }
    u64 le(unsigned n) {
        u64 v = 0;
        for (unsigned i = 0; i < n; ++i) v |= u64{byte()} << (8 * i);
        return v;
    }

private:
    const std::uint8_t* data_;
    usize size_;
    usize at_ = 0;
};

struct CpuOnCall {
    usize target;
    u64 entry;
    u64 context_id;
    bool thumb;
};

class Domain final : public PsciContext {
public:
    usize n = 1;
    u64 mpidr[kMaxVcpus] = {};
    VcpuPower power[kMaxVcpus] = {};
    bool aarch32[kMaxVcpus] = {};
    std::vector<IpaRange> ram;
    usize caller = 0;
    bool fail_cpu_on = false;
    std::vector<CpuOnCall> calls;

    usize vcpu_count() const override { return n; }
    u64 vcpu_mpidr(usize index) const override {
        check(index < n);
        return mpidr[index];
    }
    VcpuPower vcpu_power(usize index) const override {
        check(index < n);
        return power[index];
    }
    bool caller_is_aarch32() const override { return aarch32[caller]; }
    std::span<const IpaRange> guest_ram() const override { return ram; }
    Result<void> cpu_on(usize target, Ipa entry, u64 context_id, bool thumb) override {
        check(target < n);
        check(power[target] == VcpuPower::off); // only ever an off vCPU
        calls.push_back({target, entry.raw(), context_id, thumb});
        if (fail_cpu_on) return Status::no_memory;
        power[target] = VcpuPower::on_pending;
        aarch32[target] = aarch32[caller]; // started in the caller's execution state
        return {};
    }
};

// ---------------------------------------------------------------------------
// The domain from the header.
// ---------------------------------------------------------------------------

void build_domain(Reader& in, Domain& d) {
    const u8 h0 = in.byte();
    const u8 h1 = in.byte();
    d.n = 1 + (h0 & 15u);
    const unsigned ranges = (h0 >> 4) & 3u;
    const unsigned layout = h0 >> 6;
    const unsigned states = h1 & 3u;

    for (usize i = 0; i < d.n; ++i) {
        const u8 flags = in.byte();
        const u64 aff3 = in.byte(), aff2 = in.byte(), aff1 = in.byte(), aff0 = in.byte();
        switch (flags & 3u) {
        case 0: d.power[i] = VcpuPower::on; break;
        case 2: d.power[i] = VcpuPower::on_pending; break;
        default: d.power[i] = VcpuPower::off; break;
        }
        d.aarch32[i] = states == 1 || (states >= 2 && (flags & 4u) != 0);
        u64 aff = 0;
        switch (layout) {
        case 0: aff = i; break;
        case 1: aff = ((i / 4) << 8) | (i % 4); break;
        case 2: aff = (aff2 << 16) | (aff1 << 8) | aff0; break;
        default: aff = (aff3 << 32) | (aff2 << 16) | (aff1 << 8) | aff0; break;
        }
        // Distinct affinities, as in any real domain: step through the
        // affinity bits only.
        for (bool clash = true; clash;) {
            clash = false;
            for (usize j = 0; j < i; ++j) {
                if ((d.mpidr[j] & kAffinity) == aff) clash = true;
            }
            if (clash) aff = ((aff | ~kAffinity) + 1) & kAffinity;
        }
        d.mpidr[i] = aff | kMpidrRes1 | ((flags & 8u) != 0 ? kMpidrU : 0) | ((flags & 16u) != 0 ? kMpidrMt : 0);
    }
    for (unsigned r = 0; r < ranges; ++r) {
        const u64 base = in.le(8);
        const u64 size32 = in.le(4);
        const unsigned shift = in.byte() % 33u;
        d.ram.push_back({Ipa(base), size32 << shift});
    }
    // Whoever calls is running: at least one vCPU is on.
    bool any_on = false;
    for (usize i = 0; i < d.n; ++i) any_on = any_on || d.power[i] == VcpuPower::on;
    if (!any_on) d.power[h1 % d.n] = VcpuPower::on;
}

// ---------------------------------------------------------------------------
// Biased arguments.
// ---------------------------------------------------------------------------

u64 pick_target(const Domain& d, unsigned sel, u64 raw) {
    const u64 aff = d.mpidr[raw % d.n] & kAffinity;
    switch (sel & 3u) {
    case 0: return raw;
    case 1: return aff;
    case 2: {
        constexpr u64 kStray[] = {kMpidrRes1, kMpidrU, kMpidrMt, 0};
        const u64 stray = kStray[(raw >> 4) & 3u];
        return aff | (stray != 0 ? stray : u64{1} << (40 + (raw >> 8) % 24));
    }
    default: return raw & kAffinity;
    }
}

u64 pick_address(const Domain& d, unsigned sel, u64 raw) {
    if (d.ram.empty()) return (sel & 1u) != 0 ? raw & 0xffff'ffffu : raw;
    const IpaRange& r = d.ram[(raw >> 56) % d.ram.size()];
    const u64 base = r.base.raw();
    const u64 inside = base + (r.size != 0 ? raw % r.size : 0);
    switch (sel & 7u) {
    case 0: return raw;
    case 1:
    case 2: return inside;
    case 3: return base - 1 - (raw & 3u);
    case 4: return base + r.size + (raw & 3u) - 2; // end - 2 .. end + 1
    case 5: return inside | 1u;
    case 6: return raw & 0xffff'ffffu;
    default: return base;
    }
}

u64 pick_function_id(unsigned sel, u64 raw) {
    switch (sel & 3u) {
    case 0: return raw;
    case 1: return 0x8400'0000u | (raw & 0x1fu) | (raw & ~u64{0xffff'ffff});
    case 2: return 0xc400'0000u | (raw & 0x1fu);
    default: return 0x8000'0000u | (raw & 3u);
    }
}

u32 pick_fn(const std::uint8_t* s, u32 raw) {
    constexpr u32 kSmccc[] = {kSmcccVersion, kSmcccArchFeatures, 0x8000'0002, 0x8000'8000, 0x8000'7fff,
                              0x8000'ffff};
    switch (s[2] & 7u) {
    case 0:
    case 1: return 0x8400'0000u | (s[3] & 0x1fu);
    case 2:
    case 3: return 0xc400'0000u | (s[3] & 0x1fu);
    case 4: return kSmccc[s[3] % std::size(kSmccc)];
    case 5: return raw;
    case 6: return (0x8400'0000u | (s[3] & 0x1fu)) ^ (1u << (raw & 31u));
    default: return 0x8400'0000u | s[3];
    }
}

// ---------------------------------------------------------------------------
// The model.
// ---------------------------------------------------------------------------

struct Expected {
    i64 x0 = kNotSupported;
    PsciAction action = PsciAction::resume;
    std::optional<CpuOnCall> cpu_on;
};

std::optional<usize> model_find(const Domain& d, u64 target) {
    if ((target & ~kAffinity) != 0) return std::nullopt; // must-be-zero bits set
    for (usize i = 0; i < d.n; ++i) {
        const u64 m = d.mpidr[i];
        if (((m >> 32) & 0xff) == ((target >> 32) & 0xff) && (m & 0xff'ffff) == (target & 0xff'ffff)) return i;
    }
    return std::nullopt;
}

bool model_in_ram(const Domain& d, u64 a) {
    for (const IpaRange& r : d.ram) {
        const unsigned __int128 lo = r.base.raw();
        const unsigned __int128 hi = lo + r.size;
        if (a >= lo && a < hi) return true;
    }
    return false;
}

Expected model(const Domain& d, u32 fn, u64 a1, u64 a2, u64 a3) {
    Expected e;
    const bool aarch32 = d.aarch32[d.caller];
    if ((fn & kSmc64) != 0) {
        if (aarch32) return e;
    } else {
        a1 &= 0xffff'ffffu;
        a2 &= 0xffff'ffffu;
        a3 &= 0xffff'ffffu;
    }
    switch (fn) {
    case kSmcccVersion:
    case kPsciVersion:
        e.x0 = kVersion11;
        break;
    case kSmcccArchFeatures:
        e.x0 = a1 == kSmcccVersion || a1 == kSmcccArchFeatures ? kSuccess : kNotSupported;
        break;
    case kCpuSuspend32:
    case kCpuSuspend64:
        // Original power_state format: StateID [15:0], StateType [16],
        // PowerLevel [25:24]; a uint32 in both forms.
        if ((a1 & 0xffff'ffffu & ~u64{0x0301'ffff}) != 0) {
            e.x0 = kInvalidParameters;
        } else {
            e.x0 = kSuccess;
            e.action = PsciAction::suspend;
        }
        break;
    case kCpuOff:
        e.x0 = kSuccess;
        e.action = PsciAction::cpu_off;
        break;
    case kCpuOn32:
    case kCpuOn64: {
        const std::optional<usize> t = model_find(d, a1);
        if (!t) {
            e.x0 = kInvalidParameters;
            break;
        }
        const bool thumb = aarch32 && (a2 & 1u) != 0;
        const u64 entry = aarch32 ? a2 & ~u64{1} : a2;
        if (!model_in_ram(d, entry)) {
            e.x0 = kInvalidAddress;
            break;
        }
        if (d.power[*t] == VcpuPower::on) {
            e.x0 = kAlreadyOn;
        } else if (d.power[*t] == VcpuPower::on_pending) {
            e.x0 = kOnPending;
        } else {
            e.cpu_on = CpuOnCall{*t, entry, a3, thumb};
            e.x0 = d.fail_cpu_on ? kInternalFailure : kSuccess;
        }
        break;
    }
    case kAffinityInfo32:
    case kAffinityInfo64: {
        const std::optional<usize> t = model_find(d, a1);
        if ((a2 & 0xffff'ffffu) != 0 || !t) {
            e.x0 = kInvalidParameters;
        } else {
            e.x0 = d.power[*t] == VcpuPower::on ? 0 : d.power[*t] == VcpuPower::off ? 1 : 2;
        }
        break;
    }
    case kMigrateInfoType:
        e.x0 = 2;
        break;
    case kSystemOff:
        e.x0 = kSuccess;
        e.action = PsciAction::system_off;
        break;
    case kSystemReset:
        e.x0 = kSuccess;
        e.action = PsciAction::system_reset;
        break;
    case kFeatures: {
        const u32 id = static_cast<u32>(a1);
        e.x0 = kNotSupported;
        for (u32 f : kImplemented)
            if (f == id && !(aarch32 && (id & kSmc64) != 0)) e.x0 = kSuccess;
        break;
    }
    default:
        break;
    }
    return e;
}

// x0 is a PSCI return code or a value only its function returns.
bool valid_x0(u32 fn, i64 x0) {
    if (x0 <= 0 && x0 >= -9) return true;
    switch (fn) {
    case kPsciVersion:
    case kSmcccVersion: return x0 == kVersion11;
    case kMigrateInfoType: return x0 == 2;
    case kAffinityInfo32:
    case kAffinityInfo64: return x0 == 1 || x0 == 2;
    default: return false;
    }
}

void one_call(Domain& d, const std::uint8_t* s) {
    const auto le = [&](unsigned at, unsigned n) {
        u64 v = 0;
        for (unsigned i = 0; i < n; ++i) v |= u64{s[at + i]} << (8 * i);
        return v;
    };
    u64 a[3] = {le(16, 8), le(24, 8), le(32, 8)};
    const u32 raw_fn = static_cast<u32>(le(8, 4));
    const u64 junk = le(12, 4) << 32;
    const u32 fn = pick_fn(s, raw_fn);
    const unsigned sel1 = s[4], sel2 = s[5];
    switch (fn) {
    case kCpuOn32:
    case kCpuOn64:
        a[0] = pick_target(d, sel1, a[0]);
        a[1] = pick_address(d, sel2, a[1]);
        break;
    case kAffinityInfo32:
    case kAffinityInfo64: {
        a[0] = pick_target(d, sel1, a[0]);
        constexpr u64 kUpper = ~u64{0xffff'ffff};
        switch (sel2 & 3u) {
        case 0: a[1] = 0; break;
        case 1: a[1] &= kUpper; break;
        case 2: a[1] &= 3u; break;
        default: break;
        }
        break;
    }
    case kCpuSuspend32:
    case kCpuSuspend64:
        if ((sel1 & 1u) != 0) a[0] &= 0x0301'ffffu | ((sel1 & 2u) != 0 ? ~u64{0xffff'ffff} : 0);
        a[1] = pick_address(d, sel2, a[1]);
        break;
    case kFeatures:
    case kSmcccArchFeatures:
        a[0] = pick_function_id(sel1, a[0]);
        break;
    default:
        break;
    }
    if ((s[6] & 1u) != 0 && (fn & kSmc64) == 0) {
        for (u64& v : a) v |= junk;
    }

    // The caller: the running vCPU nearest step 1.
    std::optional<usize> caller;
    for (usize k = 0; k < d.n && !caller; ++k) {
        const usize i = (s[1] + k) % d.n;
        if (d.power[i] == VcpuPower::on) caller = i;
    }
    if (!caller) return;
    d.caller = *caller;
    d.fail_cpu_on = (s[6] & 2u) != 0;
    d.calls.clear();

    VcpuPower before[kMaxVcpus];
    for (usize i = 0; i < d.n; ++i) before[i] = d.power[i];
    const Expected e = model(d, fn, a[0], a[1], a[2]);

    const PsciOutcome out = handle_psci(fn, a[0], a[1], a[2], d);

    // Exactly the model's outcome and cpu_on() request.
    check(out.x0 == e.x0);
    check(out.action == e.action);
    check(d.calls.size() == (e.cpu_on ? 1u : 0u));
    if (e.cpu_on) {
        const CpuOnCall& c = d.calls[0];
        check(c.target == e.cpu_on->target && c.entry == e.cpu_on->entry &&
              c.context_id == e.cpu_on->context_id && c.thumb == e.cpu_on->thumb);
    }

    // The contract, stated on its own.
    check(valid_x0(fn, out.x0));
    if ((fn & kSmc64) != 0 && d.aarch32[d.caller]) check(out.x0 == kNotSupported && d.calls.empty());
    check(d.calls.size() <= 1);
    for (const CpuOnCall& c : d.calls) {
        check(fn == kCpuOn32 || fn == kCpuOn64);
        check(c.target < d.n && c.target != d.caller && before[c.target] == VcpuPower::off);
        check(model_in_ram(d, c.entry));
        if (!d.aarch32[d.caller]) check(!c.thumb);
        check((fn & kSmc64) != 0 || c.context_id <= 0xffff'ffffu);
    }
    const bool accepted = !d.calls.empty() && !d.fail_cpu_on;
    if (fn == kCpuOn32 || fn == kCpuOn64) check((out.x0 == kSuccess) == accepted);
    if (accepted) check(d.power[d.calls[0].target] == VcpuPower::on_pending);
    if ((fn == kAffinityInfo32 || fn == kAffinityInfo64) && out.x0 >= 0) {
        const std::optional<usize> t = model_find(d, (fn & kSmc64) != 0 ? a[0] : a[0] & 0xffff'ffffu);
        check(t.has_value());
        const i64 state = before[*t] == VcpuPower::on ? 0 : before[*t] == VcpuPower::off ? 1 : 2;
        check(out.x0 == state);
    }
    if (out.x0 < 0) {
        check(out.action == PsciAction::resume);
        for (usize i = 0; i < d.n; ++i) check(d.power[i] == before[i]);
    }
    for (usize i = 0; i < d.n; ++i) {
        if (!accepted || i != d.calls[0].target) check(d.power[i] == before[i]);
    }

    // What the trap handler then does with the calling vCPU.
    switch (out.action) {
    case PsciAction::resume:
    case PsciAction::suspend:
        break;
    case PsciAction::cpu_off:
        d.power[d.caller] = VcpuPower::off;
        break;
    case PsciAction::system_off:
        for (usize i = 0; i < d.n; ++i) d.power[i] = VcpuPower::off;
        break;
    case PsciAction::system_reset:
        for (usize i = 0; i < d.n; ++i) d.power[i] = i == 0 ? VcpuPower::on : VcpuPower::off;
        break;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Reader in(data, size);
    Domain d;
    build_domain(in, d);

    while (!in.empty()) {
        std::uint8_t s[kStep];
        for (std::uint8_t& b : s) b = in.byte();
        if (s[0] >= 0xe0) {
            // A pending vCPU starts running (the one nearest step 1).
            for (usize k = 0; k < d.n; ++k) {
                const usize i = (s[1] + k) % d.n;
                if (d.power[i] == VcpuPower::on_pending) {
                    d.power[i] = VcpuPower::on;
                    break;
                }
            }
            continue;
        }
        one_call(d, s);
    }
    return 0;
}
