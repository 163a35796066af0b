// Building, starting, restarting and ending domains from their dom0less
// configuration (core/domain_config.hpp).
//
// Guest memory layout setwise chooses (docs/guests.md):
//
//   IPA 0x4000_0000                                       RAM end
//   |  RAM ... [kernel]  ...   [initrd][DTB]  .................|
//                                       ^ top: min(RAM end, RAM base + 512 MiB), 2 MiB aligned
//
//   - arm64 Image: at RAM base + text_offset (the base is 2 MiB aligned);
//   - zImage: at RAM base + 128 MiB, or half of RAM when RAM is smaller than
//     256 MiB, 2 MiB aligned (the decompressor writes the kernel at the base);
//   - DTB: in the 2 MiB block just below `top` (Linux wants it within
//     512 MiB of the kernel and, for 32-bit, in lowmem);
//   - initrd: right below the DTB block, 2 MiB aligned.
#pragma once

#include "core/domain_config.hpp"
#include "core/machine.hpp"
#include "core/options.hpp"
#include "vcpu/domain.hpp"

namespace setwise::core {

// Builds and starts every configured domain; logs one line per domain
// created and one error per domain that could not be. Returns how many run.
// `in_use`: host memory setwise itself occupies (its image, the boot DTB).
usize start_domains(const fdt::Blob& blob, const MachineInfo& machine, const Options& options,
                    std::span<const PaRange> in_use);

// Domains alive now (for the last-one-out power off and the console).
usize live_domains();

// The set/way figures of one domain, or of every live one (the `s` key).
void print_figures(const vcpu::Domain& d);
void print_all_figures();

} // namespace setwise::core
