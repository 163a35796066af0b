#include "arch/arm64/psci.hpp"

namespace setwise::arm64::psci {

i64 call(Conduit conduit, u64 function, u64 a1, u64 a2, u64 a3) {
    register u64 x0 asm("x0") = function;
    register u64 x1 asm("x1") = a1;
    register u64 x2 asm("x2") = a2;
    register u64 x3 asm("x3") = a3;
    if (conduit == Conduit::smc) {
        asm volatile("smc #0"
                     : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)
                     :
                     : "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14",
                       "x15", "x16", "x17", "memory");
    } else {
        asm volatile("hvc #0"
                     : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)
                     :
                     : "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14",
                       "x15", "x16", "x17", "memory");
    }
    return static_cast<i64>(x0);
}

const char* ret_name(i64 ret) {
    switch (static_cast<Ret>(ret)) {
    case Ret::success: return "SUCCESS";
    case Ret::not_supported: return "NOT_SUPPORTED";
    case Ret::invalid_parameters: return "INVALID_PARAMETERS";
    case Ret::denied: return "DENIED";
    case Ret::already_on: return "ALREADY_ON";
    case Ret::on_pending: return "ON_PENDING";
    case Ret::internal_failure: return "INTERNAL_FAILURE";
    case Ret::not_present: return "NOT_PRESENT";
    case Ret::disabled: return "DISABLED";
    case Ret::invalid_address: return "INVALID_ADDRESS";
    }
    return "unknown PSCI return";
}

} // namespace setwise::arm64::psci
