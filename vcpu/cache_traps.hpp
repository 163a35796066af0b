// The traps set/way emulation lives on (cache/setway.hpp for the policy):
//
//   DC ISW/CSW/CISW (EC 0x18), MCR p15,0,Rt,c7,c6/c10/c14,2 (EC 0x03)
//       HCR_EL2.TSW, always on
//   SCTLR, TTBR0/1, TCR/TTBCR, ESR/DFSR/IFSR, FAR/DFAR/IFAR, AFSR0/1,
//   MAIR/PRRR/NMRR, AMAIR, CONTEXTIDR, DACR writes (EC 0x18, 0x03, 0x04)
//       HCR_EL2.TVM, armed from a vCPU's first S/W operation until it has
//       its caches on again
//   CCSIDR, CLIDR, CSSELR, CTR (EC 0x18, 0x03)
//       HCR_EL2.TID2, with sw-geometry=minimal
//
// Each handler returns true when it recognised the access (and emulated it,
// advancing the PC); false sends the access on to the generic handling
// (an undefined instruction).
#pragma once

#include "arch/arm64/frame.hpp"
#include "arch/arm64/exception_class.hpp"
#include "vcpu/vcpu.hpp"

namespace setwise::vcpu {

bool handle_sysreg_cache_trap(Vcpu& v, arm64::ExceptionFrame& f, const arm64::Syndrome& s);
bool handle_cp15_cache_trap(Vcpu& v, arm64::ExceptionFrame& f, const arm64::Syndrome& s);
bool handle_cp15_64_cache_trap(Vcpu& v, arm64::ExceptionFrame& f, const arm64::Syndrome& s);

// A stage-2 translation fault at `ipa` that access tracking may own: true
// when the tracked entry was made valid and the guest should re-execute.
bool resolve_tracking_fault(Vcpu& v, Ipa ipa);

// How a batch gives the CPU up (set by core/sched.cpp at boot):
//   between_chunks  a preemption point between two chunks of a flush: takes
//                   pending physical interrupts and, if a reschedule is
//                   due (a slice ended, a vCPU woke), lets others run.
//   wait            while another vCPU of the domain holds the batch: let
//                   anything else on this CPU run (the holder may be one).
// Until set, both just relax.
struct PreemptHooks {
    void (*between_chunks)() = nullptr;
    void (*wait)() = nullptr;
};
void set_preempt_hooks(PreemptHooks hooks);

} // namespace setwise::vcpu
