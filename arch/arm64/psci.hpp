// Calls to firmware through the SMC Calling Convention (ARM DEN 0028) and the
// PSCI functions setwise uses as a client (ARM DEN 0022, table 5.1).
#pragma once

#include "setwise/types.hpp"

namespace setwise::arm64::psci {

enum class Conduit : u8 { smc, hvc };

// SMCCC: function id in w0, arguments in x1..x3, result in x0; x4..x17 may
// be clobbered by SMCCC 1.0 firmware.
i64 call(Conduit conduit, u64 function, u64 a1 = 0, u64 a2 = 0, u64 a3 = 0);

inline constexpr u64 kVersion = 0x8400'0000;
inline constexpr u64 kCpuOff = 0x8400'0002;
inline constexpr u64 kCpuOn64 = 0xc400'0003;
inline constexpr u64 kAffinityInfo64 = 0xc400'0004;
inline constexpr u64 kSystemOff = 0x8400'0008;
inline constexpr u64 kSystemReset = 0x8400'0009;

// PSCI return codes (DEN 0022 table 5.2).
enum class Ret : i64 {
    success = 0,
    not_supported = -1,
    invalid_parameters = -2,
    denied = -3,
    already_on = -4,
    on_pending = -5,
    internal_failure = -6,
    not_present = -7,
    disabled = -8,
    invalid_address = -9,
};

const char* ret_name(i64 ret);

} // namespace setwise::arm64::psci
