#include "core/panic.hpp"

#include "arch/arm64/sysreg.hpp"

namespace setwise::core {

void halt_this_cpu() {
    arm64::mask_all_exceptions();
    for (;;) arm64::wfe();
}

} // namespace setwise::core
