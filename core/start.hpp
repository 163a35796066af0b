// core::start(): the boot sequence once the boot CPU runs with its MMU on.
#pragma once

#include "core/fdt.hpp"
#include "core/machine.hpp"
#include "mm/hyp_map.hpp"

namespace setwise::core {

struct BootInfo {
    PaRange image;              // the whole image, BSS included
    PaRange text;               // its executable pages
    PaRange dtb;                // the boot DTB, totalsize bytes
    const fdt::Blob* blob = nullptr;
    const MachineInfo* machine = nullptr;
    mm::HypMap* hyp_map = nullptr;
    mm::HypTableMemory* table_memory = nullptr;
    arm64::MmuConfig mmu{};
};

[[noreturn]] void start(const BootInfo& boot);

// A secondary CPU, MMU on, per-CPU pointer set: report in and idle.
[[noreturn]] void secondary_start(u32 index);

} // namespace setwise::core
