// Injection through the list registers of the GIC virtual CPU interface:
// the register formats (GICv3 ICH_LR<n>_EL2, GICv2 GICH_LR<n>, and the
// control registers around them) and the bookkeeping that moves interrupts
// from a VgicState into a vCPU's list registers and back, independent of
// the format.
//
// One round, on the vCPU's own physical CPU, around each guest entry:
//
//   exit   read back ICH_LR<n>_EL2 / GICH_LR<n> and EOIcount   ->  sync()
//          ... handle the trap, devices inject, other vCPUs send SGIs ...
//   entry  fill()  ->  write the LRs and the maintenance enables it asks
//                      for into ICH_HCR_EL2 / GICH_HCR (UIE, NPIE,
//                      LRENPIE); then ERET
//
// fill() lists the vCPU's active and waiting interrupts by priority (active
// first at equal priority), one LR per INTID. Priority decides, not "active
// first": an interrupt that can preempt what the guest is handling must be
// in an LR to be taken, while an active interrupt left out can still be
// deactivated -- its EOI finds no LR and counts in EOIcount, which sync()
// applies (EOImode 0).
//
// When not everything fits, fill() asks for a maintenance interrupt at the
// moment there is room (IHI 0069H 12.4.6 ICH_HCR_EL2, IHI 0048B 5.3.1
// GICH_HCR), so the guest exits and the rest goes in then:
//   underflow   UIE: at most one LR valid. Only with two or more LRs in
//               use (with one it would fire at once, for ever).
//   no_pending  NPIE, one LR in use and it is pending: fires once the guest
//               has acknowledged it. One LR in use and active: its EOI bit
//               instead (software interrupts; a HW-linked one waits for the
//               next exit).
//   eoi_count   LRENPIE: an active interrupt has no LR; its EOI only
//               counts in EOIcount, and the exit lets sync() deactivate it
//               (and, HW-linked, the caller the physical one) at once.
// Interrupts that wait behind their own listed instance (another v2 SGI
// source, the pending part of an active software interrupt that is routed
// elsewhere) get the LR's EOI bit: a maintenance interrupt when the guest
// deactivates it. Software level-sensitive interrupts get it too, so the
// line is sampled again after the guest's handler ran. When sync() finds
// that an SPI now waits for another vCPU (re-routed while listed here), it
// names that vCPU in SyncResult::kick.
//
// Nothing is lost or duplicated: VgicState hands each listed interrupt's
// pending latch (or v2 SGI source) to its LR, so an interrupt is pending in
// the state or in one LR, never both; sync() returns what the guest did not
// take (see VgicState::list / fold).
//
// Locking: fill() and sync() take the state's lock once each. A
// ListRegisterFile belongs to one vCPU and is used only by the physical CPU
// running it (not thread-safe on its own).
#pragma once

#include <span>

#include "arch/arm64/gic_regs.hpp"
#include "setwise/bits.hpp"
#include "setwise/types.hpp"
#include "vcpu/vgic_state.hpp"

namespace setwise::vcpu {

// The layouts are arch/arm64/gic_regs.hpp's (the physical driver's):
// arm64::IchLrEl2 (IHI 0069H 12.4.7), arm64::GichLr (IHI 0048B 5.3.11),
// IchHcrEl2 / GichHcr (UIE, EOIcount), IchVtrEl2 / GichVtr (ListRegs,
// PRIbits). ICH_LR<n>_EL2 bits [44:32] are pINTID only with HW = 1; with
// HW = 0 bit 41 is EOI (maintenance interrupt on deactivation) and the rest
// RES0, the same split GICH_LR makes at bit 19.
using IchLrEoi = Bit1<41>;

// How many list registers the hardware has (ListRegs + 1).
constexpr usize nr_list_registers(arm64::IchVtrEl2 vtr) { return vtr.get<arm64::IchVtrEl2::list_regs>() + 1; }
constexpr usize nr_list_registers(arm64::GichVtr vtr) { return vtr.get<arm64::GichVtr::list_regs>() + 1; }

// The formats. Encoding keeps what the format holds: vINTID 32 bits (v3) or
// 10 (v2), pINTID 13 or 10 bits, the v2 priority's top 5 bits, CPUID 3
// bits; decoding gives back exactly the fields the format has.
u64 encode_ich_lr(const LrEntry& e);
LrEntry decode_ich_lr(u64 raw);
u32 encode_gich_lr(const LrEntry& e);
LrEntry decode_gich_lr(u32 raw);

class ListRegisterFile {
public:
    // ICH_VTR_EL2.ListRegs allows 16; GICH_VTR up to 64, of which setwise
    // uses 16 at most.
    static constexpr usize kMaxLrs = 16;
    // EOIcount is 5 bits.
    static constexpr usize kMaxEoiCount = 31;

    // nr_lrs: the hardware's count (ListRegs + 1), clamped to 1..kMaxLrs.
    ListRegisterFile(u32 vcpu, usize nr_lrs);
    ListRegisterFile(const ListRegisterFile&) = delete;
    ListRegisterFile& operator=(const ListRegisterFile&) = delete;

    u32 vcpu() const { return vcpu_; }
    usize nr_lrs() const { return nr_lrs_; }

    struct FillResult {
        usize used = 0;           // LRs 0 .. used - 1 are valid, the rest invalid
        bool underflow = false;   // set ICH_HCR_EL2.UIE / GICH_HCR.UIE
        bool no_pending = false;  // set NPIE
        bool eoi_count = false;   // set LRENPIE
        // Something did not fit (one of the above, or an EOI bit, will bring
        // the guest back for it, or the next exit will).
        bool overflow = false;
    };
    // Before entering the guest: what LRs 0 .. nr_lrs() - 1 must hold
    // (lrs.size() >= nr_lrs(); unused ones are written invalid). A fill
    // with the previous one not synced first folds it back unchanged, as if
    // the guest had not run.
    FillResult fill(VgicState& state, std::span<LrEntry> lrs);

    struct SyncResult {
        usize folded = 0;          // LRs taken back
        // Other vCPUs that now have an interrupt waiting: SPIs re-routed
        // while in this vCPU's LRs, or deactivated here with their pending
        // part routed elsewhere.
        VcpuMask kick = 0;
        u32 eois_unlisted = 0;     // EOIcount deactivations applied
        u32 eois_unmatched = 0;    // EOIcount beyond any active interrupt
        // Physical INTIDs whose virtual interrupt was deactivated through
        // EOIcount while HW-linked: no LR deactivated them; the caller does
        // (ICC_DIR_EL1 / GICC_DIR).
        usize hw_count = 0;
        u32 hw_pintids[kMaxEoiCount] = {};
    };
    // After the guest ran: lrs[i] is LR i read back (decoded) for i <
    // used; eoi_count is ICH_HCR_EL2.EOIcount / GICH_HCR.EOICount, which the
    // caller then clears. An entry whose vINTID is not the one filled is
    // taken as unchanged (the hardware never rewrites it).
    SyncResult sync(VgicState& state, std::span<const LrEntry> lrs, u32 eoi_count = 0);

    // Whether a fill() awaits its sync(), and what LR i was filled with.
    bool in_flight() const { return used_ != 0; }
    usize used() const { return used_; }
    const LrEntry& filled(usize i) const { return slots_[i]; }

    // Forget the LRs (after VgicState::reset(), whose interrupts are no
    // longer listed anyway).
    void reset() { used_ = 0; }

private:
    u32 vcpu_;
    usize nr_lrs_;
    usize used_ = 0;
    LrEntry slots_[kMaxLrs];
};

} // namespace setwise::vcpu
