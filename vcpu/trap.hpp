// Trap dispatch: every exception a guest takes to EL2, decoded once
// (arch/arm64/exception_class.hpp) and handled by exception class in one
// switch compiled with -Werror=switch-enum, so each class is a decision.
//
// Anything a guest does that setwise does not emulate becomes an exception
// injected into that guest (vcpu/inject.hpp), logged a few times per domain,
// never a hypervisor panic.
#pragma once

#include "arch/arm64/frame.hpp"
#include "vcpu/vcpu.hpp"

namespace setwise::vcpu {

enum class TrapOutcome : u8 {
    resume, // return to the guest with the (possibly changed) frame
    leave,  // the vCPU leaves its CPU (CPU_OFF, its domain shutting down)
    wait,   // WFI with no interrupt pending: block until one comes, then resume
    yield,  // WFE (trapped only while vCPUs share the CPU): let another run, then resume
};

// Precondition: `v` is the vCPU entered on this CPU, `frame` its registers.
TrapOutcome handle_exception(Vcpu& v, arm64::ExceptionFrame& frame, arm64::VectorKind kind);

} // namespace setwise::vcpu
