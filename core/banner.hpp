// The boot banner: what setwise runs on and with which options.
#pragma once

#include "core/machine.hpp"
#include "core/options.hpp"
#include "core/smp.hpp"
#include "mm/frame_allocator.hpp"

namespace setwise::core {

void print_banner(const MachineInfo& m, const Options& opts, const SmpReport& smp,
                  const mm::FrameAllocator& frames);

} // namespace setwise::core
