// Human names for MIDR_EL1 values, for the boot banner.
#pragma once

#include "arch/arm64/registers.hpp"

namespace setwise::arm64 {

// "ARM", "Broadcom", ... or "unknown implementer".
const char* implementer_name(MidrEl1 midr);
// "Cortex-A57", ... or "unknown part" (per implementer).
const char* part_name(MidrEl1 midr);

} // namespace setwise::arm64
