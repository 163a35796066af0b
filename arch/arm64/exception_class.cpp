#include "arch/arm64/exception_class.hpp"

namespace setwise::arm64 {

namespace {
constexpr char kUnallocated[] = "unallocated exception class";
}

const char* exception_class_name(ExceptionClass ec) {
    switch (ec) {
    case ExceptionClass::unknown: return "unknown reason";
    case ExceptionClass::wfx: return "WFI/WFE";
    case ExceptionClass::cp15_32: return "MCR/MRC cp15 (AArch32)";
    case ExceptionClass::cp15_64: return "MCRR/MRRC cp15 (AArch32)";
    case ExceptionClass::cp14_32: return "MCR/MRC cp14 (AArch32)";
    case ExceptionClass::cp14_ls: return "LDC/STC cp14 (AArch32)";
    case ExceptionClass::fp_simd_access: return "FP/SIMD/SVE access";
    case ExceptionClass::cp10_id: return "VMRS ID group (AArch32)";
    case ExceptionClass::pauth: return "pointer authentication";
    case ExceptionClass::ls64: return "LD64B/ST64B";
    case ExceptionClass::cp14_64: return "MRRC cp14 (AArch32)";
    case ExceptionClass::branch_target: return "branch target";
    case ExceptionClass::illegal_state: return "illegal execution state";
    case ExceptionClass::svc32: return "SVC (AArch32)";
    case ExceptionClass::hvc32: return "HVC (AArch32)";
    case ExceptionClass::smc32: return "SMC (AArch32)";
    case ExceptionClass::svc64: return "SVC (AArch64)";
    case ExceptionClass::hvc64: return "HVC (AArch64)";
    case ExceptionClass::smc64: return "SMC (AArch64)";
    case ExceptionClass::sysreg: return "MSR/MRS/system instruction";
    case ExceptionClass::sve: return "SVE";
    case ExceptionClass::eret: return "ERET";
    case ExceptionClass::tstart: return "TSTART";
    case ExceptionClass::fpac: return "pointer authentication failure";
    case ExceptionClass::sme: return "SME";
    case ExceptionClass::impdef_el3: return "implementation defined (EL3)";
    case ExceptionClass::iabt_lower: return "instruction abort from a lower EL";
    case ExceptionClass::iabt_same: return "instruction abort at EL2";
    case ExceptionClass::pc_alignment: return "PC alignment fault";
    case ExceptionClass::dabt_lower: return "data abort from a lower EL";
    case ExceptionClass::dabt_same: return "data abort at EL2";
    case ExceptionClass::sp_alignment: return "SP alignment fault";
    case ExceptionClass::mops: return "memory copy/set";
    case ExceptionClass::fp32: return "FP exception (AArch32)";
    case ExceptionClass::fp64: return "FP exception (AArch64)";
    case ExceptionClass::serror: return "SError";
    case ExceptionClass::breakpoint_lower: return "breakpoint from a lower EL";
    case ExceptionClass::breakpoint_same: return "breakpoint at EL2";
    case ExceptionClass::step_lower: return "software step from a lower EL";
    case ExceptionClass::step_same: return "software step at EL2";
    case ExceptionClass::watchpoint_lower: return "watchpoint from a lower EL";
    case ExceptionClass::watchpoint_same: return "watchpoint at EL2";
    case ExceptionClass::bkpt32: return "BKPT (AArch32)";
    case ExceptionClass::vector_catch32: return "vector catch (AArch32)";
    case ExceptionClass::brk64: return "BRK (AArch64)";
    }
    return kUnallocated;
}

bool is_allocated(u8 ec) {
    // The name table is the one list of allocated classes.
    return exception_class_name(static_cast<ExceptionClass>(ec)) != kUnallocated;
}

} // namespace setwise::arm64

#include "arch/arm64/frame.hpp"

namespace setwise::arm64 {

const char* vector_kind_name(VectorKind k) {
    switch (k) {
    case VectorKind::current_sp0_sync: return "synchronous, EL2 with SP_EL0";
    case VectorKind::current_sp0_irq: return "IRQ, EL2 with SP_EL0";
    case VectorKind::current_sp0_fiq: return "FIQ, EL2 with SP_EL0";
    case VectorKind::current_sp0_serror: return "SError, EL2 with SP_EL0";
    case VectorKind::current_spx_sync: return "synchronous, EL2";
    case VectorKind::current_spx_irq: return "IRQ, EL2";
    case VectorKind::current_spx_fiq: return "FIQ, EL2";
    case VectorKind::current_spx_serror: return "SError, EL2";
    case VectorKind::lower64_sync: return "synchronous, lower EL (AArch64)";
    case VectorKind::lower64_irq: return "IRQ, lower EL (AArch64)";
    case VectorKind::lower64_fiq: return "FIQ, lower EL (AArch64)";
    case VectorKind::lower64_serror: return "SError, lower EL (AArch64)";
    case VectorKind::lower32_sync: return "synchronous, lower EL (AArch32)";
    case VectorKind::lower32_irq: return "IRQ, lower EL (AArch32)";
    case VectorKind::lower32_fiq: return "FIQ, lower EL (AArch32)";
    case VectorKind::lower32_serror: return "SError, lower EL (AArch32)";
    }
    return "unknown vector";
}

} // namespace setwise::arm64
