// The GICv3 system registers and barriers for the GIC drivers: the target's
// GicCpu. Target only.
//
// Every register is named by its encoding, S<op0>_<op1>_C<n>_C<m>_<op2>
// (the assembler need not know ICC_/ICH_ names), pasted from the same
// numbers that a static_assert checks against sysreg_encoding() in
// gic_regs.hpp, whose table the host tests check against IHI 0069H.
//
// ICH_AP0R<n>/ICH_AP1R<n>_EL2 with n > 0 exist only with enough priority
// bits (ICH_VTR_EL2.PREbits), ICH_LR<n>_EL2 only for n <= ICH_VTR_EL2.ListRegs:
// accessing others is UNDEFINED; callers check first.
#include "arch/arm64/gic.hpp"
#include "arch/arm64/sysreg.hpp"
#include "setwise/spinlock.hpp"

namespace setwise::arm64 {

namespace {

// (name, op0, op1, CRn, CRm, op2)
#define SW_GIC_SYSREGS_RW(X)            \
    X(icc_pmr_el1, 3, 0, 4, 6, 0)       \
    X(icc_bpr1_el1, 3, 0, 12, 12, 3)    \
    X(icc_ctlr_el1, 3, 0, 12, 12, 4)    \
    X(icc_sre_el1, 3, 0, 12, 12, 5)     \
    X(icc_igrpen1_el1, 3, 0, 12, 12, 7) \
    X(icc_sre_el2, 3, 4, 12, 9, 5)      \
    X(ich_ap0r0_el2, 3, 4, 12, 8, 0)    \
    X(ich_ap0r1_el2, 3, 4, 12, 8, 1)    \
    X(ich_ap0r2_el2, 3, 4, 12, 8, 2)    \
    X(ich_ap0r3_el2, 3, 4, 12, 8, 3)    \
    X(ich_ap1r0_el2, 3, 4, 12, 9, 0)    \
    X(ich_ap1r1_el2, 3, 4, 12, 9, 1)    \
    X(ich_ap1r2_el2, 3, 4, 12, 9, 2)    \
    X(ich_ap1r3_el2, 3, 4, 12, 9, 3)    \
    X(ich_hcr_el2, 3, 4, 12, 11, 0)     \
    X(ich_vmcr_el2, 3, 4, 12, 11, 7)    \
    X(ich_lr0_el2, 3, 4, 12, 12, 0)     \
    X(ich_lr1_el2, 3, 4, 12, 12, 1)     \
    X(ich_lr2_el2, 3, 4, 12, 12, 2)     \
    X(ich_lr3_el2, 3, 4, 12, 12, 3)     \
    X(ich_lr4_el2, 3, 4, 12, 12, 4)     \
    X(ich_lr5_el2, 3, 4, 12, 12, 5)     \
    X(ich_lr6_el2, 3, 4, 12, 12, 6)     \
    X(ich_lr7_el2, 3, 4, 12, 12, 7)     \
    X(ich_lr8_el2, 3, 4, 12, 13, 0)     \
    X(ich_lr9_el2, 3, 4, 12, 13, 1)     \
    X(ich_lr10_el2, 3, 4, 12, 13, 2)    \
    X(ich_lr11_el2, 3, 4, 12, 13, 3)    \
    X(ich_lr12_el2, 3, 4, 12, 13, 4)    \
    X(ich_lr13_el2, 3, 4, 12, 13, 5)    \
    X(ich_lr14_el2, 3, 4, 12, 13, 6)    \
    X(ich_lr15_el2, 3, 4, 12, 13, 7)

#define SW_GIC_SYSREGS_RO(X)         \
    X(icc_iar1_el1, 3, 0, 12, 12, 0) \
    X(ich_vtr_el2, 3, 4, 12, 11, 1)  \
    X(ich_misr_el2, 3, 4, 12, 11, 2) \
    X(ich_eisr_el2, 3, 4, 12, 11, 3) \
    X(ich_elrsr_el2, 3, 4, 12, 11, 5)

#define SW_GIC_SYSREGS_WO(X)          \
    X(icc_eoir1_el1, 3, 0, 12, 12, 1) \
    X(icc_dir_el1, 3, 0, 12, 11, 1)   \
    X(icc_sgi1r_el1, 3, 0, 12, 11, 5)

#define SW_GIC_CHECK(reg, o0, o1, n, m, o2) \
    static_assert(sysreg_encoding(GicSysreg::reg) == SysregEncoding{o0, o1, n, m, o2}, #reg);
#define SW_GIC_READ(reg, o0, o1, n, m, o2) \
    case GicSysreg::reg: return SW_READ_SYSREG(s##o0##_##o1##_c##n##_c##m##_##o2);
#define SW_GIC_WRITE(reg, o0, o1, n, m, o2)                    \
    case GicSysreg::reg:                                       \
        SW_WRITE_SYSREG(s##o0##_##o1##_c##n##_c##m##_##o2, v); \
        return;
#define SW_GIC_NONE(reg, o0, o1, n, m, o2) case GicSysreg::reg:

SW_GIC_SYSREGS_RW(SW_GIC_CHECK)
SW_GIC_SYSREGS_RO(SW_GIC_CHECK)
SW_GIC_SYSREGS_WO(SW_GIC_CHECK)

class HardwareGicCpu final : public GicCpu {
public:
    u64 read(GicSysreg r) override {
        switch (r) {
            SW_GIC_SYSREGS_RW(SW_GIC_READ)
            SW_GIC_SYSREGS_RO(SW_GIC_READ)
            SW_GIC_SYSREGS_WO(SW_GIC_NONE)
            break; // write-only: reading is UNDEFINED, never done
        }
        return 0;
    }
    void write(GicSysreg r, u64 v) override {
        switch (r) {
            SW_GIC_SYSREGS_RW(SW_GIC_WRITE)
            SW_GIC_SYSREGS_WO(SW_GIC_WRITE)
            SW_GIC_SYSREGS_RO(SW_GIC_NONE)
            break; // read-only: never written
        }
    }
    void isb() override { arm64::isb(); }
    void dsb_ishst() override { arm64::dsb_ishst(); }
    void dsb_sy() override { arm64::dsb_sy(); }
    void relax() override { cpu_relax(); }
};

HardwareGicCpu g_gic_cpu;

} // namespace

GicCpu& gic_cpu() { return g_gic_cpu; }

} // namespace setwise::arm64
