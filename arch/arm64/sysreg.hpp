// mrs/msr and barriers. Target only: the layouts they carry are in
// registers.hpp and tested on the host.
#pragma once

#include "arch/arm64/registers.hpp"

#define SW_READ_SYSREG(name)                                   \
    ({                                                         \
        ::setwise::u64 sw_sysreg_v_;                           \
        asm volatile("mrs %0, " #name : "=r"(sw_sysreg_v_));   \
        sw_sysreg_v_;                                          \
    })

#define SW_WRITE_SYSREG(name, v) \
    asm volatile("msr " #name ", %0" ::"r"(static_cast<::setwise::u64>(v)) : "memory")

namespace setwise::arm64 {

inline void isb() { asm volatile("isb" ::: "memory"); }
inline void dsb_sy() { asm volatile("dsb sy" ::: "memory"); }
inline void dsb_ish() { asm volatile("dsb ish" ::: "memory"); }
inline void dsb_ishst() { asm volatile("dsb ishst" ::: "memory"); }
inline void sev() { asm volatile("sev" ::: "memory"); }
inline void wfe() { asm volatile("wfe" ::: "memory"); }
inline void wfi() { asm volatile("wfi" ::: "memory"); }

inline u64 current_el() { return (SW_READ_SYSREG(CurrentEL) >> 2) & 3; }
inline MidrEl1 read_midr() { return MidrEl1(SW_READ_SYSREG(midr_el1)); }
inline MpidrEl1 read_mpidr() { return MpidrEl1(SW_READ_SYSREG(mpidr_el1)); }
inline IdAa64Mmfr0El1 read_id_aa64mmfr0() { return IdAa64Mmfr0El1(SW_READ_SYSREG(id_aa64mmfr0_el1)); }
inline IdAa64Mmfr2El1 read_id_aa64mmfr2() {
    // Named by encoding: old assemblers lack the name.
    return IdAa64Mmfr2El1(SW_READ_SYSREG(s3_0_c0_c7_2));
}
inline ClidrEl1 read_clidr() { return ClidrEl1(SW_READ_SYSREG(clidr_el1)); }
// PMCR_EL0.N, the PMU's event counters; 0 without a PMUv3
// (ID_AA64DFR0_EL1.PMUVer 0 or IMPLEMENTATION DEFINED: PMCR_EL0 may not
// even exist then).
inline u64 pmu_event_counters() {
    const u64 pmuver = (SW_READ_SYSREG(id_aa64dfr0_el1) >> 8) & 0xf;
    if (pmuver == 0 || pmuver == 0xf) return 0;
    return (SW_READ_SYSREG(pmcr_el0) >> 11) & 0x1f;
}
inline CtrEl0 read_ctr() { return CtrEl0(SW_READ_SYSREG(ctr_el0)); }

// CCSIDR_EL1 of one cache, selected through CSSELR_EL1 (level 1..7, data or
// unified = false, instruction = true).
inline CcsidrEl1 read_ccsidr(unsigned level, bool instruction) {
    SW_WRITE_SYSREG(csselr_el1, ((level - 1) << 1) | (instruction ? 1u : 0u));
    isb();
    return CcsidrEl1(SW_READ_SYSREG(ccsidr_el1));
}

// Mask all of DAIF on this CPU: the hypervisor runs with exceptions masked
// except where it chooses to take them.
inline void mask_all_exceptions() { asm volatile("msr daifset, #0xf" ::: "memory"); }

} // namespace setwise::arm64
