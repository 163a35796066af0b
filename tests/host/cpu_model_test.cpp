// arch/arm64/cpu_model: MIDR_EL1 to names. Implementer codes from DDI 0487
// (MIDR_EL1.Implementer, D19.2.86); part numbers from each core's Technical
// Reference Manual (Cortex-A53 0xD03, Cortex-A57 0xD07, Cortex-A72 0xD08).
#include "arch/arm64/cpu_model.hpp"

#include <gtest/gtest.h>

#include <string>

namespace setwise::arm64 {
namespace {

std::string part(u64 midr) { return part_name(MidrEl1(midr)); }
std::string implementer(u64 midr) { return implementer_name(MidrEl1(midr)); }

// implementer << 24 | variant << 20 | 0xf << 16 | part << 4 | revision
constexpr u64 midr(u64 impl, u64 partnum, u64 variant = 0, u64 revision = 0) {
    return (impl << 24) | (variant << 20) | (u64{0xf} << 16) | (partnum << 4) | revision;
}

TEST(CpuModel, QemuCortexCores) {
    EXPECT_EQ(part(0x410f'd034), "Cortex-A53"); // QEMU cortex-a53, r0p4
    EXPECT_EQ(part(0x411f'd070), "Cortex-A57"); // QEMU cortex-a57, r1p0 (hardware-facts register)
    EXPECT_EQ(part(0x410f'd083), "Cortex-A72"); // QEMU cortex-a72, r0p3
    EXPECT_EQ(implementer(0x411f'd070), "ARM");
}

TEST(CpuModel, VariantAndRevisionDoNotMatter) {
    EXPECT_EQ(part(midr(0x41, 0xd07, 0xf, 0xf)), "Cortex-A57");
    EXPECT_EQ(part(midr(0x41, 0xd08, 3, 2)), "Cortex-A72");
}

TEST(CpuModel, OtherArmParts) {
    EXPECT_EQ(part(midr(0x41, 0xd0b)), "Cortex-A76");
    EXPECT_EQ(part(midr(0x41, 0xd0c)), "Neoverse-N1");
    EXPECT_EQ(part(midr(0x41, 0xd49)), "Neoverse-N2");
}

TEST(CpuModel, UnknownPart) {
    EXPECT_EQ(part(midr(0x41, 0xfff)), "unknown part");
    EXPECT_EQ(part(midr(0x41, 0x000)), "unknown part");
    // An ARM part number under another implementer is not that ARM core.
    EXPECT_EQ(part(midr(0x42, 0xd07)), "unknown part");
    EXPECT_EQ(part(midr(0x51, 0xd03)), "unknown part");
}

TEST(CpuModel, PartsOfOtherImplementers) {
    EXPECT_EQ(part(midr(0x43, 0x0af)), "ThunderX2");
    EXPECT_EQ(part(midr(0x61, 0x023)), "M1 Firestorm");
    EXPECT_EQ(part(midr(0x61, 0x022)), "M1 Icestorm");
}

TEST(CpuModel, ImplementerNames) {
    EXPECT_EQ(implementer(midr(0x41, 0)), "ARM");
    EXPECT_EQ(implementer(midr(0x42, 0)), "Broadcom");
    EXPECT_EQ(implementer(midr(0x43, 0)), "Cavium");
    EXPECT_EQ(implementer(midr(0x46, 0)), "Fujitsu");
    EXPECT_EQ(implementer(midr(0x48, 0)), "HiSilicon");
    EXPECT_EQ(implementer(midr(0x4e, 0)), "NVIDIA");
    EXPECT_EQ(implementer(midr(0x50, 0)), "Applied Micro");
    EXPECT_EQ(implementer(midr(0x51, 0)), "Qualcomm");
    EXPECT_EQ(implementer(midr(0x61, 0)), "Apple");
    EXPECT_EQ(implementer(midr(0xc0, 0)), "Ampere");
    // 0x00 is reserved for software use (QEMU's "max" CPU reports it).
    EXPECT_EQ(implementer(midr(0x00, 0x51)), "reserved (software)");
    EXPECT_EQ(implementer(midr(0x99, 0)), "unknown implementer");
    EXPECT_EQ(implementer(midr(0xff, 0)), "unknown implementer");
}

} // namespace
} // namespace setwise::arm64
