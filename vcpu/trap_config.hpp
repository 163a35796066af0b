// What a guest traps to EL2, as one value built field by field (conventions:
// NOVA's cpu.hpp). Every bit set here is a decision with a reason.
#pragma once

#include "arch/arm64/registers.hpp"

namespace setwise::vcpu {

constexpr arm64::HcrEl2 guest_hcr(bool el1_is_aarch64) {
    using H = arm64::HcrEl2;
    return H{}
        .with<H::vm>(1)    // stage-2 translation: the guest sees IPAs, setwise owns PAs
        .with<H::swio>(1)  // a guest DC ISW acts as DC CISW: guest data is never discarded
        .with<H::fmo>(1)   // physical FIQs are setwise's; virtual FIQs go to the guest
        .with<H::imo>(1)   // physical IRQs are setwise's; virtual IRQs go to the guest
        .with<H::amo>(1)   // physical SErrors are setwise's
        .with<H::fb>(1)    // the guest's TLB and I-cache maintenance is broadcast: vCPUs move
        .with<H::bsu>(1)   // the guest's barriers reach the inner shareable domain
        .with<H::twi>(1)   // WFI traps: a waiting vCPU gives its CPU back
        .with<H::tsc>(1)   // SMC traps: guests reach PSCI through setwise, never firmware
        .with<H::tidcp>(1) // implementation-defined registers trap: a guest must not program the core
        .with<H::tacr>(1)  // ACTLR traps: emulated, a guest must not change the core's behaviour
        .with<H::rw>(el1_is_aarch64 ? 1 : 0); // EL1's execution state
    // Added per vCPU by core/domains.cpp: TSW (set/way operations, always),
    // TID2 (cache identification, with sw-geometry=minimal) and, from the
    // first S/W operation until the caches are on, TVM (vcpu/cache_traps.hpp).
    // Not set: TWE (WFE stays in the guest: spinlocks use it and a trap per
    // spin costs more than it saves).
}

// CPTR_EL2 (E2H = 0): RES1 bits 13:12 and 9:0; TFP clear, so the guest uses
// FP/SIMD without traps (setwise never does, and saves it on a switch).
inline constexpr u64 kCptrEl2Guest = 0x33ff;

// CNTHCTL_EL2 (E2H = 0, DDI 0487 D19.11.x): EL1PCTEN (bit 0) lets EL1 read
// the physical counter; EL1PCEN (bit 1) clear traps its physical timer
// registers, which setwise emulates per vCPU (vcpu/ptimer.hpp); EVNTEN (bit
// 2) with EVNTI = 15 (bits 7:4) makes an event each time CNTPCT bit 15
// flips, about every 0.5 ms at QEMU's 62.5 MHz: a WFE never waits longer.
// (CPU 0's idle loop no longer relies on it to poll the console: it waits
// in WFI for its console tick, core/sched.cpp; waking every 0.5 ms made its
// QEMU thread compete for the host's cores.)
inline constexpr u64 kCnthctlEl2 = 0x1 | (u64{1} << 2) | (u64{15} << 4);

} // namespace setwise::vcpu
