// Stage-2 TLB maintenance (DDI 0487 D8.13, "TLB maintenance requirements",
// "Invalidating TLB entries from stage 2 translations", and the TLBI
// IPAS2E1IS, VMALLE1IS and VMALLS12E1IS descriptions), and the barrier that
// publishes translation table writes.
//
// The EL1&0 TLBI operations act on the VMID in VTTBR_EL2, so each function
// loads the domain's VTTBR for the duration and puts the previous one back.
// EL2 runs with interrupts masked, so nothing else uses this CPU's VTTBR
// meanwhile; the EL2 translation regime does not use it at all.
#include "arch/cpu.hpp"
#include "arch/arm64/sysreg.hpp"

namespace setwise::arch {

namespace {

class VmidScope {
public:
    explicit VmidScope(u64 vttbr) : saved_(SW_READ_SYSREG(vttbr_el2)) {
        SW_WRITE_SYSREG(vttbr_el2, vttbr);
        arm64::isb(); // the TLBIs below must see the new VMID
    }
    ~VmidScope() {
        SW_WRITE_SYSREG(vttbr_el2, saved_);
        arm64::isb();
    }
    VmidScope(const VmidScope&) = delete;
    VmidScope& operator=(const VmidScope&) = delete;

private:
    u64 saved_;
};

} // namespace

void page_table_sync() { arm64::dsb_ishst(); }

void stage2_tlb_invalidate_ipa(u64 vttbr, Ipa ipa, unsigned level) {
    (void)level; // TTL hint [47:44] needs FEAT_TTL
    const VmidScope scope(vttbr);
    // The invalid descriptor reaches the table walkers before the TLBI.
    arm64::dsb_ishst();
    // Xt[35:0] = IPA[47:12].
    asm volatile("tlbi ipas2e1is, %0" ::"r"((ipa.raw() >> 12) & ((u64{1} << 36) - 1)) : "memory");
    // IPAS2E1IS need not remove entries that combine stage 1 and stage 2,
    // tagged by VA and VMID, which an IPA cannot name: they go with the
    // VMID's whole stage 1, once the stage-2 invalidation has completed
    // (else a walk could refill them from the old stage-2 entry). The
    // manual's required sequence is IPAS2E1; DSB; VMALLE1.
    arm64::dsb_ish();
    asm volatile("tlbi vmalle1is" ::: "memory");
    arm64::dsb_ish();
    arm64::isb();
}

void stage2_tlb_invalidate_vmid(u64 vttbr) {
    const VmidScope scope(vttbr);
    arm64::dsb_ishst();
    asm volatile("tlbi vmalls12e1is" ::: "memory");
    arm64::dsb_ish();
    arm64::isb();
}

} // namespace setwise::arch
