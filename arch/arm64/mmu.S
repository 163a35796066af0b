/*
 * mmu_enable_el2(mair, tcr, ttbr, sctlr): load the EL2 translation
 * registers and turn the stage-1 MMU and caches on, on this CPU.
 * Precondition: the tables and everything the CPU will read through the
 * cache were made coherent (boot/early.cpp).
 */
    .section .text.boot, "ax"
    .globl mmu_enable_el2
mmu_enable_el2:
    msr     mair_el2, x0
    msr     tcr_el2, x1
    msr     ttbr0_el2, x2
    isb
    tlbi    alle2                   /* whatever firmware left in this CPU's EL2 TLB */
    dsb     nsh
    isb
    msr     sctlr_el2, x3
    isb
    ic      iallu                   /* instructions fetched before the switch */
    dsb     nsh
    isb
    ret
