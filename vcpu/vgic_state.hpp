// The virtual GIC of one domain: the state of every interrupt its guest can
// see, the injection calls devices, timers and SGI traps make, and the
// interrupt life cycle (GICv2: ARM IHI 0048B section 3.2.4; GICv3: ARM IHI
// 0069H section 4.1, "interrupt life cycle"). The register front ends are
// vcpu/vgic_dist.hpp (distributor, v2 and v3) and vcpu/vgic_redist.hpp (v3
// redistributors); vcpu/vgic_lr.hpp moves interrupts in and out of the
// hardware list registers. The guest's CPU interface is the hardware's
// virtual CPU interface (GICV, or ICH_* behind ICC_* system registers) and is
// not emulated here.
//
// INTID space (both versions):
//
//     0 ..  15   SGIs   banked per vCPU (per target; v2 also per source)
//    16 ..  31   PPIs   banked per vCPU
//    32 ..  N-1  SPIs   one instance per domain, N = 32 * (ITLinesNumber + 1)
//   1020 .. 1023 special, never an interrupt here
//
// Per interrupt (and per vCPU for SGIs/PPIs) the state holds:
//
//   enabled    GICD_ISENABLER / ICENABLER
//   latch      the pending latch: edges, GICD_ISPENDR writes, SGIs (v3)
//   line       the input level, for level-sensitive interrupts
//   active     GICD_ISACTIVER / acknowledged by the guest
//   edge       GICD_ICFGR Int_config[1]: 1 edge, 0 level
//   group1     GICD_IGROUPR
//   priority   GICD_IPRIORITYR, the top priority_bits bits implemented
//   route      v2: GICD_ITARGETSR; v3: GICD_IROUTER, resolved to a vCPU
//   hw         linked to a physical INTID (list register HW bit)
//
// Pending is `latch || (level-sensitive && line)` (IHI 0048B 4.3.7-4.3.8;
// IHI 0069H, GICD_ISPENDR<n> / GICD_ICPENDR<n>): a GICD_ICPENDR write clears
// the latch, not the line. v2 SGIs keep one pending bit per source vCPU
// instead of the latch: an SGI from each source is a separate pending
// interrupt (IHI 0048B 4.3.15-4.3.17, GICD_SGIR and GICD_[CS]PENDSGIRn).
//
// Delivery: an interrupt *waits* for vCPU v when it is pending, enabled, its
// group is enabled in GICD_CTLR, it is not active, not already in a list
// register, and it is routed to v (banked: it is v's own; SPI: v2 the lowest
// vCPU in ITARGETSR -- the 1-N model leaves the choice to the
// implementation, IHI 0048B 4.3.12; v3 the vCPU whose affinity equals
// IROUTER, 1-of-N routing is not offered: GICD_TYPER.No1N = 1). Among waiting interrupts the highest
// priority (lowest value) wins, then the lowest INTID, then (v2 SGIs) the
// lowest source.
//
// List registers (vcpu/vgic_lr.hpp) borrow interrupts: list() marks one
// listed on a vCPU and moves its latch (or, v2 SGI, one source bit) into the
// list register -- "handed" -- so that edges arriving while the guest runs
// collect in the latch again; fold() takes the list register's state back
// after the guest ran. Pending therefore exists at most once: in the latch,
// or handed to exactly one list register. Distributor writes that clear
// pending also cancel what was handed; writes to the active state of a
// listed interrupt win over what the list register says at fold().
//
// Locking: one SpinLock per domain's VgicState guards all of it. The plain
// calls (injection, queries, reset) take it themselves. Calls that take a
// `const SpinLock::Guard&` need it held (make the guard with lock()); the
// register front ends and the list-register code take it once per access
// and once per fill or sync. Nothing here calls out with the lock held. In
// the domain lock order it is a leaf below the device lock: a device model
// (the vPL011) may call set_level() while its device lock is held.
//
// Nothing a guest writes can make this fail or index out of bounds:
// out-of-range INTIDs, vCPU numbers and reserved values are ignored.
//
// Storage is fixed (no heap): room for 16 vCPUs and 988 SPIs, about 48 KiB,
// so a VgicState lives in the domain's heap allocation, not on a stack.
#pragma once

#include <optional>
#include <span>

#include "arch/arm64/gic_regs.hpp"
#include "setwise/result.hpp"
#include "setwise/spinlock.hpp"
#include "setwise/types.hpp"
#include "vcpu/guest_layout.hpp"

namespace setwise::vcpu {

enum class VgicVersion : u8 { v2, v3 };

// One bit per vCPU index: the vCPUs that now have an interrupt waiting and
// should be made to exit (an IPI, or a wake-up from WFI) so their list
// registers are refilled.
using VcpuMask = u32;

namespace vgic {
inline constexpr u32 kNrSgis = 16;
inline constexpr u32 kNrPrivate = 32;             // SGIs + PPIs
inline constexpr u32 kFirstSpi = 32;
inline constexpr u32 kFirstSpecial = 1020;         // 1020..1023 are special INTIDs
inline constexpr u32 kMaxSpis = kFirstSpecial - kFirstSpi; // 988
inline constexpr u32 kMaxVcpus = 16;
inline constexpr u32 kMaxVcpusV2 = 8;              // GICD_ITARGETSR has 8 bits
inline constexpr u32 kDefaultSpis = 64;
inline constexpr u32 kDefaultPriorityBits = 5;     // GICH_LR holds 5; pass ICH_VTR_EL2.PRIbits + 1 on GICv3
inline constexpr u8 kNoVcpu = 0xff;

// Wired interrupts of the guest's machine (vcpu/guest_layout.hpp).
inline constexpr u32 kUartIntid = kFirstSpi + guest::kUartSpi;          // 33
inline constexpr u32 kVirtualTimerIntid = 16 + guest::kTimerPpiVirtual;  // 27
inline constexpr u32 kPhysTimerIntid = 16 + guest::kTimerPpiNonSecure;   // 30
} // namespace vgic

// A validated description of a domain's virtual GIC. The only fallible step
// of making a VgicState, so the state's constructor cannot fail.
class VgicConfig {
public:
    // GICv3, one vCPU with affinity 0.0.0.0, 64 SPIs, 5 priority bits.
    VgicConfig() = default;

    // version: the host's GIC version (the guest sees the same).
    // mpidrs: one per vCPU, vCPU 0 first; only the affinity fields
    //   (Aff3..Aff0) count; 1..16 of them (1..8 for v2), pairwise distinct.
    // nr_spis: a multiple of 32 in 32..992; INTIDs from 1020 on do not
    //   exist, so 992 gives 988 SPIs (GICD_TYPER.ITLinesNumber = 31).
    // priority_bits: implemented priority bits, 4..8 (v3: ICH_VTR_EL2.PRIbits
    //   + 1), at most 5 for v2 (the GICH_LR priority field).
    // invalid_argument for anything else.
    static Result<VgicConfig> create(VgicVersion version, std::span<const u64> mpidrs,
                                     u32 nr_spis = vgic::kDefaultSpis,
                                     u32 priority_bits = vgic::kDefaultPriorityBits);

    VgicVersion version() const { return version_; }
    u32 nr_vcpus() const { return nr_vcpus_; }
    // GICD_TYPER.ITLinesNumber: INTIDs 0 .. 32 * (lines + 1) - 1 have registers.
    u32 it_lines() const { return it_lines_; }
    // INTIDs 0 .. nr_intids() - 1 exist.
    u32 nr_intids() const;
    // MPIDR affinity (Aff3 [39:32], Aff2 [23:16], Aff1 [15:8], Aff0 [7:0]).
    u64 affinity(u32 vcpu) const { return vcpu < nr_vcpus_ ? affinity_[vcpu] : 0; }
    std::optional<u32> vcpu_by_affinity(u64 affinity) const;
    // The implemented bits of an 8-bit priority: 0xf8 for 5 bits.
    u8 priority_mask() const;

private:
    VgicVersion version_ = VgicVersion::v3;
    u32 nr_vcpus_ = 1;
    u32 it_lines_ = vgic::kDefaultSpis / 32;
    u32 priority_bits_ = vgic::kDefaultPriorityBits;
    u64 affinity_[vgic::kMaxVcpus] = {};
};

// GICD_SGIR.TargetListFilter (IHI 0048B 4.3.15); 3 is reserved.
enum class SgiFilter : u8 { target_list = 0, all_but_self = 1, self = 2 };

// Which SGI-generating register the guest wrote. With one Security state
// (the guest's view: GICD_CTLR.DS = 1) ICC_SGI0R_EL1 sets pending only an SGI
// configured as Group 0 at the target, ICC_SGI1R_EL1 one of either group,
// and ICC_ASGI1R_EL1 (the "other" Security state's Group 1, which does not
// exist with DS = 1) acts as ICC_SGI0R_EL1: pass group0 for it (IHI 0069H,
// the ICC_SGI0R_EL1 / ICC_SGI1R_EL1 / ICC_ASGI1R_EL1 descriptions).
enum class SgiGroup : u8 { group0, group1 };

// The value of an SGI-generating register write: ICC_SGI1R_EL1,
// ICC_SGI0R_EL1 and ICC_ASGI1R_EL1 share arm64::IccSgi1rEl1's layout. From
// AArch32 the guest writes it with `MCRR p15, <opc1>, Rt, Rt2, c12` (opc1 0:
// ICC_SGI1R, 1: ICC_ASGI1R, 2: ICC_SGI0R), Rt holding bits [31:0] and Rt2
// bits [63:32].
using Sgi1r = arm64::IccSgi1rEl1;
constexpr Sgi1r sgi1r_from_mcrr(u32 rt, u32 rt2) { return Sgi1r((u64{rt2} << 32) | rt); }

// A waiting interrupt (pending_for, acknowledge).
struct PendingIrq {
    u32 intid = 0;
    u8 priority = 0;
    u8 source = 0; // v2 SGIs: the requesting vCPU (GICC_IAR.CPUID); else 0
    bool operator==(const PendingIrq&) const = default;
};

// One interrupt as the guest's registers would show it, and where it is
// listed (for tests, invariant checks and debug output).
struct IrqView {
    bool enabled = false;
    bool pending = false;  // latch, line (level) or handed to a list register
    bool active = false;
    bool edge = false;
    bool group1 = false;
    bool hw = false;
    bool listed = false;
    u8 priority = 0;
    u8 targets = 0;        // v2 SPIs: ITARGETSR; banked: the bank's own bit
    u8 route = vgic::kNoVcpu;     // SPIs: the vCPU it would be delivered to
    u8 listed_on = vgic::kNoVcpu; // the vCPU whose list register holds it
    u8 active_on = vgic::kNoVcpu; // the vCPU that holds it active
    u8 sgi_sources = 0;    // v2 SGIs: pending sources (bit per vCPU), handed one included
    u32 pintid = 0;
    u64 irouter = 0;
};

// List register contents, independent of the register format (GICv3
// ICH_LR<n>_EL2, GICv2 GICH_LR<n>; encoders in vcpu/vgic_lr.hpp). The State
// numbering is the architecture's in both formats.
using LrState = arm64::GicLrState;

constexpr bool lr_pending(LrState s) { return s == LrState::pending || s == LrState::pending_active; }
constexpr bool lr_active(LrState s) { return s == LrState::active || s == LrState::pending_active; }

struct LrEntry {
    u32 vintid = 0;
    LrState state = LrState::invalid;
    u8 priority = 0;
    bool group1 = false;
    bool hw = false;        // linked to pintid: the guest's deactivation deactivates it
    u32 pintid = 0;         // hw only
    u8 source = 0;          // v2 SGIs, hw clear: GICH_LR.CPUID
    bool eoi = false;       // hw clear: maintenance interrupt when the guest deactivates it
    bool operator==(const LrEntry&) const = default;
};

// A register front end's view of the bit-per-interrupt registers (IHI 0048B
// 4.3.4-4.3.10, IHI 0069H 12.9): one bit per INTID, 32 INTIDs per word.
enum class BitReg : u8 { group, set_enable, clear_enable, set_pending, clear_pending, set_active, clear_active };

class VgicState {
public:
    using Guard = SpinLock::Guard;

    explicit VgicState(const VgicConfig& config);
    VgicState(const VgicState&) = delete;
    VgicState& operator=(const VgicState&) = delete;

    const VgicConfig& config() const { return config_; }
    VgicVersion version() const { return config_.version(); }
    u32 nr_vcpus() const { return config_.nr_vcpus(); }
    bool exists(u32 intid) const { return intid < config_.nr_intids(); }

    // Power-on state (domain reset): nothing pending, active or enabled
    // (v2 SGIs excepted: always enabled), priorities 0, SPIs level-sensitive
    // and untargeted, groups 0 (v2) or 1 (v3), redistributors asleep, HW
    // links kept (they describe wiring, not guest state).
    void reset();

    // ---- Injection (takes the lock) -------------------------------------
    // vcpu selects the bank for SGIs/PPIs and is ignored for SPIs. The
    // result is the vCPUs to kick; out_of_range for an INTID that does not
    // exist, a special one, or a bad vCPU.

    // The input line of intid. Level-sensitive: pending follows it. Edge:
    // a rising level latches pending. SGIs have no line (out_of_range).
    Result<VcpuMask> set_level(u32 intid, u32 vcpu, bool level);
    // One edge: sets the pending latch whatever the configuration (on a
    // level-sensitive interrupt, as a GICD_ISPENDR write does).
    Result<VcpuMask> raise_edge(u32 intid, u32 vcpu);
    // GICD_SGIR (v2): SGI `sgi` from vCPU `from`. Targets outside the
    // domain, a reserved filter or a bad SGI number are ignored.
    VcpuMask send_sgi_v2(u32 from, SgiFilter filter, u8 target_list, u32 sgi);
    // ICC_SGI1R_EL1 and friends (v3) from vCPU `from`: IRM = 1 targets every
    // vCPU but `from`, else Aff3.Aff2.Aff1.(RS * 16 + n) for each bit n of
    // TargetList; affinities that are no vCPU are ignored.
    VcpuMask send_sgi_v3(u32 from, Sgi1r value, SgiGroup group);

    // Links virtual INTID intid (vcpu's bank for a PPI) to physical pintid
    // (16..1019): its list register entries get HW = 1, so the guest's
    // deactivation deactivates the physical interrupt. The owner of the
    // line (the virtual timer) acknowledges the physical interrupt without
    // deactivating it, and keeps set_level() current -- sampling its source
    // at every exit, before fill() -- since the guest's handler lowers the
    // line without telling anyone. invalid_argument for an SGI or a bad
    // pintid, out_of_range for a bad intid or vCPU.
    Status map_hw(u32 intid, u32 vcpu, u32 pintid);
    Status unmap_hw(u32 intid, u32 vcpu);

    // ---- Life cycle without list registers (takes the lock) --------------
    static constexpr usize kMaxPendingQuery = 32;

    // The waiting interrupts of vcpu in delivery order, at most out.size()
    // (and at most kMaxPendingQuery) of them; returns how many were written.
    // v2 SGIs appear once, with their lowest pending source.
    usize pending_for(u32 vcpu, std::span<PendingIrq> out) const;
    std::optional<PendingIrq> highest_pending(u32 vcpu) const;
    // pending -> active (or active and pending, for a level-sensitive
    // interrupt whose line stays high, or an edge that arrives meanwhile).
    // Takes the latch (v2 SGI: the lowest source). not_found unless intid
    // is waiting for vcpu; busy while it is in a list register.
    Result<PendingIrq> acknowledge(u32 vcpu, u32 intid);
    // active -> inactive. not_found unless active on vcpu; busy while listed.
    Status deactivate(u32 vcpu, u32 intid);

    // Snapshot of intid (vcpu's bank for SGIs/PPIs). out_of_range as above.
    Result<IrqView> inspect(u32 intid, u32 vcpu) const;

    // ---- With the lock held (register front ends, list registers) -------
    Guard lock() const { return Guard(lock_); }

    // GICD_CTLR EnableGrp0 [0] / EnableGrp1 [1].
    u32 group_enables(const Guard&) const { return group_enables_; }
    VcpuMask set_group_enables(const Guard&, u32 enables);
    // GICR_WAKER.ProcessorSleep of vcpu's redistributor (v3).
    bool processor_sleep(const Guard&, u32 vcpu) const;
    void set_processor_sleep(const Guard&, u32 vcpu, bool sleep);

    // A bit register word for INTIDs first .. first + 31 (first a multiple
    // of 32; vcpu's bank when first is 0). Set and clear variants read the
    // same state. INTIDs that do not exist read 0 and ignore writes; so do
    // permanently enabled v2 SGIs for clear_enable.
    u32 read_bits(const Guard&, BitReg reg, u32 vcpu, u32 first) const;
    VcpuMask write_bits(const Guard&, BitReg reg, u32 vcpu, u32 first, u32 value);
    // GICD_IPRIORITYR byte of intid; writes keep the implemented bits.
    u8 read_priority(const Guard&, u32 vcpu, u32 intid) const;
    void write_priority(const Guard&, u32 vcpu, u32 intid, u8 value);
    // GICD_ICFGR word for INTIDs first .. first + 15 (first a multiple of
    // 16): Int_config[1] of each, bit [2F] reads 0. SGIs read as edge and
    // ignore writes.
    u32 read_config(const Guard&, u32 vcpu, u32 first) const;
    VcpuMask write_config(const Guard&, u32 vcpu, u32 first, u32 value);
    // GICD_ITARGETSR byte (v2). SGIs/PPIs read vcpu's own bit and ignore
    // writes; SPI writes keep the bits of existing vCPUs.
    u8 read_targets(const Guard&, u32 vcpu, u32 intid) const;
    VcpuMask write_targets(const Guard&, u32 intid, u8 targets);
    // GICD_IROUTER<intid> (v3 SPIs).
    u64 read_irouter(const Guard&, u32 intid) const;
    VcpuMask write_irouter(const Guard&, u32 intid, u64 value);
    // GICD_SPENDSGIR / CPENDSGIR byte (v2): pending sources of SGI sgi at
    // target vcpu, one bit per source vCPU.
    u8 read_sgi_sources(const Guard&, u32 vcpu, u32 sgi) const;
    VcpuMask set_sgi_sources(const Guard&, u32 vcpu, u32 sgi, u8 sources);
    void clear_sgi_sources(const Guard&, u32 vcpu, u32 sgi, u8 sources);
    VcpuMask send_sgi_v2(const Guard&, u32 from, SgiFilter filter, u8 target_list, u32 sgi);

    // ---- The list-register protocol (vcpu/vgic_lr.cpp) --------------------
    // What vcpu's list registers should hold, best first: its active
    // interrupts and the waiting ones by priority, active first at equal
    // priority, then by INTID. Writes at most out.size(); returns how many
    // candidates there are in all, and how many of them are active (more
    // than written: the rest did not fit).
    struct Candidate {
        u32 intid = 0;
        u8 priority = 0;
        bool active = false;
    };
    struct CandidateCount {
        usize total = 0;
        usize active = 0;
    };
    CandidateCount lr_candidates(const Guard&, u32 vcpu, std::span<Candidate> out) const;
    // Lists candidate intid on vcpu and returns the list register contents:
    // active if active; pending with what is pending (an edge's latch, a
    // level line, one v2 SGI source; not on top of an active HW entry,
    // whose pending state belongs to the physical GIC; for v2 SGIs not
    // behind an active one from another source). EOI maintenance is asked
    // for on software level-sensitive entries (to sample the line again) and
    // whenever more of the same INTID stays behind (another v2 SGI source,
    // or a pending part that is now routed to another vCPU).
    LrEntry list(const Guard&, u32 vcpu, u32 intid);
    // The guest ran: `now` is the list register's state, read back, of the
    // entry list() returned. Active follows it (unless a distributor write
    // changed the active state meanwhile); what was handed and is still
    // pending goes back to the latch; the interrupt is no longer listed.
    // Returns the vCPU to kick if the interrupt now waits for another vCPU
    // (an SPI re-routed while listed). Entries no longer listed on vcpu (a
    // reset came between) are ignored.
    VcpuMask fold(const Guard&, u32 vcpu, const LrEntry& listed, LrState now);
    // The guest deactivated an interrupt that was in no list register
    // (ICH_HCR_EL2.EOIcount / GICH_HCR.EOICount; EOImode 0 assumed, where
    // deactivation follows the priority drop): deactivates vcpu's highest
    // priority active, unlisted interrupt; nullopt if there is none.
    struct Deactivated {
        u32 intid = 0;
        bool hw = false;    // the physical interrupt is still active: deactivate pintid
        u32 pintid = 0;
        VcpuMask kick = 0;  // it now waits for another vCPU
    };
    std::optional<Deactivated> deactivate_unlisted(const Guard&, u32 vcpu);

private:
    struct Irq {
        bool enabled = false;
        bool latch = false;
        bool line = false;
        bool active = false;
        bool edge = false;
        bool group1 = false;
        bool hw = false;
        bool listed = false;
        bool handed = false;          // the latch / a source went into the listed LR
        bool active_written = false;  // a distributor write changed active while listed
        u8 priority = 0;
        u8 targets = 0;               // v2 SPIs
        u8 route = vgic::kNoVcpu;     // SPIs
        u8 listed_on = vgic::kNoVcpu;
        u8 active_on = vgic::kNoVcpu;
        u8 active_source = 0;         // v2 SGIs
        u8 handed_source = 0;         // v2 SGIs
        u16 pintid = 0;
        u64 irouter = 0;              // v3 SPIs: affinity fields only (IRM RAZ/WI)
    };

    Irq& at(u32 vcpu, u32 intid) { return intid < vgic::kNrPrivate ? private_[vcpu][intid] : spis_[intid - vgic::kFirstSpi]; }
    const Irq& at(u32 vcpu, u32 intid) const {
        return intid < vgic::kNrPrivate ? private_[vcpu][intid] : spis_[intid - vgic::kFirstSpi];
    }
    bool valid_target(u32 intid, u32 vcpu) const;
    bool v2_sgi(u32 intid) const { return config_.version() == VgicVersion::v2 && intid < vgic::kNrSgis; }
    bool pending(u32 vcpu, u32 intid) const;          // latch / line / sources, not handed
    bool visible_pending(u32 vcpu, u32 intid) const;  // what GICD_ISPENDR shows
    u8 waiting_on(u32 vcpu, u32 intid) const;         // the vCPU it waits for, or kNoVcpu
    VcpuMask kick_if_new(u32 vcpu, u32 intid, u8 before) const;
    VcpuMask kick_elsewhere(u32 vcpu, u32 intid) const;
    VcpuMask kick_all() const;
    void reroute(u32 intid);
    void reset_locked();
    usize collect(u32 vcpu, std::span<Candidate> out, bool with_active, usize* active_count = nullptr) const;
    VcpuMask send_sgi_to(u32 from, u32 target, u32 sgi, std::optional<SgiGroup> group);

    VgicConfig config_;
    mutable SpinLock lock_;
    u32 group_enables_ = 0;
    bool processor_sleep_[vgic::kMaxVcpus] = {};
    u8 sgi_sources_[vgic::kMaxVcpus][vgic::kNrSgis] = {}; // v2: [target][sgi] pending source bits
    Irq private_[vgic::kMaxVcpus][vgic::kNrPrivate];
    Irq spis_[vgic::kMaxSpis];
};

} // namespace setwise::vcpu
