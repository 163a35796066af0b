#include "arch/arm64/el1_context.hpp"

#include "arch/arm64/sysreg.hpp"

namespace setwise::arm64 {

void el1_context_save(El1Context& c) {
    c.sctlr_el1 = SW_READ_SYSREG(sctlr_el1);
    c.cpacr_el1 = SW_READ_SYSREG(cpacr_el1);
    c.ttbr0_el1 = SW_READ_SYSREG(ttbr0_el1);
    c.ttbr1_el1 = SW_READ_SYSREG(ttbr1_el1);
    c.tcr_el1 = SW_READ_SYSREG(tcr_el1);
    c.esr_el1 = SW_READ_SYSREG(esr_el1);
    c.afsr0_el1 = SW_READ_SYSREG(afsr0_el1);
    c.afsr1_el1 = SW_READ_SYSREG(afsr1_el1);
    c.far_el1 = SW_READ_SYSREG(far_el1);
    c.mair_el1 = SW_READ_SYSREG(mair_el1);
    c.amair_el1 = SW_READ_SYSREG(amair_el1);
    c.vbar_el1 = SW_READ_SYSREG(vbar_el1);
    c.contextidr_el1 = SW_READ_SYSREG(contextidr_el1);
    c.tpidr_el0 = SW_READ_SYSREG(tpidr_el0);
    c.tpidrro_el0 = SW_READ_SYSREG(tpidrro_el0);
    c.tpidr_el1 = SW_READ_SYSREG(tpidr_el1);
    c.sp_el0 = SW_READ_SYSREG(sp_el0);
    c.sp_el1 = SW_READ_SYSREG(sp_el1);
    c.elr_el1 = SW_READ_SYSREG(elr_el1);
    c.spsr_el1 = SW_READ_SYSREG(spsr_el1);
    c.par_el1 = SW_READ_SYSREG(par_el1);
    c.cntkctl_el1 = SW_READ_SYSREG(cntkctl_el1);
    c.csselr_el1 = SW_READ_SYSREG(csselr_el1);
    c.cntv_ctl_el0 = SW_READ_SYSREG(cntv_ctl_el0);
    c.cntv_cval_el0 = SW_READ_SYSREG(cntv_cval_el0);
    c.spsr_abt = SW_READ_SYSREG(spsr_abt);
    c.spsr_und = SW_READ_SYSREG(spsr_und);
    c.spsr_irq = SW_READ_SYSREG(spsr_irq);
    c.spsr_fiq = SW_READ_SYSREG(spsr_fiq);
    c.dacr32_el2 = SW_READ_SYSREG(dacr32_el2);
    c.ifsr32_el2 = SW_READ_SYSREG(ifsr32_el2);
    c.fpexc32_el2 = SW_READ_SYSREG(fpexc32_el2);
    fpsimd_save(&c.fp);
}

void el1_context_load(const El1Context& c) {
    SW_WRITE_SYSREG(sctlr_el1, c.sctlr_el1);
    SW_WRITE_SYSREG(cpacr_el1, c.cpacr_el1);
    SW_WRITE_SYSREG(ttbr0_el1, c.ttbr0_el1);
    SW_WRITE_SYSREG(ttbr1_el1, c.ttbr1_el1);
    SW_WRITE_SYSREG(tcr_el1, c.tcr_el1);
    SW_WRITE_SYSREG(esr_el1, c.esr_el1);
    SW_WRITE_SYSREG(afsr0_el1, c.afsr0_el1);
    SW_WRITE_SYSREG(afsr1_el1, c.afsr1_el1);
    SW_WRITE_SYSREG(far_el1, c.far_el1);
    SW_WRITE_SYSREG(mair_el1, c.mair_el1);
    SW_WRITE_SYSREG(amair_el1, c.amair_el1);
    SW_WRITE_SYSREG(vbar_el1, c.vbar_el1);
    SW_WRITE_SYSREG(contextidr_el1, c.contextidr_el1);
    SW_WRITE_SYSREG(tpidr_el0, c.tpidr_el0);
    SW_WRITE_SYSREG(tpidrro_el0, c.tpidrro_el0);
    SW_WRITE_SYSREG(tpidr_el1, c.tpidr_el1);
    SW_WRITE_SYSREG(sp_el0, c.sp_el0);
    SW_WRITE_SYSREG(sp_el1, c.sp_el1);
    SW_WRITE_SYSREG(elr_el1, c.elr_el1);
    SW_WRITE_SYSREG(spsr_el1, c.spsr_el1);
    SW_WRITE_SYSREG(par_el1, c.par_el1);
    SW_WRITE_SYSREG(cntkctl_el1, c.cntkctl_el1);
    SW_WRITE_SYSREG(csselr_el1, c.csselr_el1);
    SW_WRITE_SYSREG(cntv_cval_el0, c.cntv_cval_el0);
    SW_WRITE_SYSREG(cntv_ctl_el0, c.cntv_ctl_el0);
    SW_WRITE_SYSREG(spsr_abt, c.spsr_abt);
    SW_WRITE_SYSREG(spsr_und, c.spsr_und);
    SW_WRITE_SYSREG(spsr_irq, c.spsr_irq);
    SW_WRITE_SYSREG(spsr_fiq, c.spsr_fiq);
    SW_WRITE_SYSREG(dacr32_el2, c.dacr32_el2);
    SW_WRITE_SYSREG(ifsr32_el2, c.ifsr32_el2);
    SW_WRITE_SYSREG(fpexc32_el2, c.fpexc32_el2);
    fpsimd_load(&c.fp);
    isb();
}

} // namespace setwise::arm64
