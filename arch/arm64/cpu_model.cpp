#include "arch/arm64/cpu_model.hpp"

namespace setwise::arm64 {

namespace {
struct Part {
    u64 implementer;
    u64 partnum;
    const char* name;
};

// Part numbers from each core's Technical Reference Manual (MIDR_EL1).
constexpr Part kParts[] = {
    {0x41, 0xd03, "Cortex-A53"}, {0x41, 0xd04, "Cortex-A35"}, {0x41, 0xd05, "Cortex-A55"},
    {0x41, 0xd07, "Cortex-A57"}, {0x41, 0xd08, "Cortex-A72"}, {0x41, 0xd09, "Cortex-A73"},
    {0x41, 0xd0a, "Cortex-A75"}, {0x41, 0xd0b, "Cortex-A76"}, {0x41, 0xd0c, "Neoverse-N1"},
    {0x41, 0xd0d, "Cortex-A77"}, {0x41, 0xd40, "Neoverse-V1"}, {0x41, 0xd41, "Cortex-A78"},
    {0x41, 0xd44, "Cortex-X1"},  {0x41, 0xd46, "Cortex-A510"}, {0x41, 0xd47, "Cortex-A710"},
    {0x41, 0xd49, "Neoverse-N2"}, {0x41, 0xd4f, "Neoverse-V2"}, {0x41, 0xd80, "Cortex-A520"},
    {0x41, 0xd81, "Cortex-A720"}, {0x42, 0x516, "ThunderX2"}, {0x43, 0x0af, "ThunderX2"},
    {0x51, 0x800, "Kryo 2xx gold"}, {0x61, 0x022, "M1 Icestorm"}, {0x61, 0x023, "M1 Firestorm"},
};
} // namespace

const char* implementer_name(MidrEl1 midr) {
    switch (midr.get<MidrEl1::implementer>()) {
    case 0x00: return "reserved (software)"; // QEMU's "max" CPU
    case 0x41: return "ARM";
    case 0x42: return "Broadcom";
    case 0x43: return "Cavium";
    case 0x46: return "Fujitsu";
    case 0x48: return "HiSilicon";
    case 0x4e: return "NVIDIA";
    case 0x50: return "Applied Micro";
    case 0x51: return "Qualcomm";
    case 0x61: return "Apple";
    case 0xc0: return "Ampere";
    default: return "unknown implementer";
    }
}

const char* part_name(MidrEl1 midr) {
    for (const Part& p : kParts) {
        if (p.implementer == midr.get<MidrEl1::implementer>() && p.partnum == midr.get<MidrEl1::partnum>())
            return p.name;
    }
    return "unknown part";
}

} // namespace setwise::arm64
