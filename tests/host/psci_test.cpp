// vcpu/psci: every PSCI 1.1 / SMCCC 1.1 function a guest can call, against
// a fake domain. Function IDs and return codes are written out from ARM
// DEN 0022D (table 5.1 IDs, table 5.2 return codes) and DEN 0028, not taken
// from the header under test.
#include "vcpu/psci.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace setwise::vcpu {
namespace {

// DEN 0022D table 5.2.
constexpr i64 kSuccess = 0;
constexpr i64 kNotSupported = -1;
constexpr i64 kInvalidParameters = -2;
constexpr i64 kAlreadyOn = -4;
constexpr i64 kOnPending = -5;
constexpr i64 kInternalFailure = -6;
constexpr i64 kInvalidAddress = -9;

// DEN 0022D table 5.1 and DEN 0028.
constexpr u32 kSmcccVersionId = 0x80000000;
constexpr u32 kSmcccArchFeaturesId = 0x80000001;
constexpr u32 kSmcccArchSocId = 0x80000002;
constexpr u32 kSmcccWorkaround1 = 0x80008000;
constexpr u32 kPsciVersionId = 0x84000000;
constexpr u32 kCpuSuspend32Id = 0x84000001;
constexpr u32 kCpuSuspend64Id = 0xc4000001;
constexpr u32 kCpuOffId = 0x84000002;
constexpr u32 kCpuOn32Id = 0x84000003;
constexpr u32 kCpuOn64Id = 0xc4000003;
constexpr u32 kAffinityInfo32Id = 0x84000004;
constexpr u32 kAffinityInfo64Id = 0xc4000004;
constexpr u32 kMigrate32Id = 0x84000005;
constexpr u32 kMigrate64Id = 0xc4000005;
constexpr u32 kMigrateInfoTypeId = 0x84000006;
constexpr u32 kMigrateInfoUpCpu32Id = 0x84000007;
constexpr u32 kMigrateInfoUpCpu64Id = 0xc4000007;
constexpr u32 kSystemOffId = 0x84000008;
constexpr u32 kSystemResetId = 0x84000009;
constexpr u32 kPsciFeaturesId = 0x8400000a;
constexpr u32 kCpuFreezeId = 0x8400000b;
constexpr u32 kCpuDefaultSuspend32Id = 0x8400000c;
constexpr u32 kNodeHwState32Id = 0x8400000d;
constexpr u32 kSystemSuspend32Id = 0x8400000e;
constexpr u32 kSystemSuspend64Id = 0xc400000e;
constexpr u32 kSetSuspendModeId = 0x8400000f;
constexpr u32 kStatResidency32Id = 0x84000010;
constexpr u32 kStatCount64Id = 0xc4000011;
constexpr u32 kSystemReset2_32Id = 0x84000012;
constexpr u32 kSystemReset2_64Id = 0xc4000012;
constexpr u32 kMemProtectId = 0x84000013;
constexpr u32 kMemProtectCheck64Id = 0xc4000014;

// PSCI 1.1: major 1 in [31:16], minor 1 in [15:0]; SMCCC 1.1 likewise.
constexpr i64 kVersion11 = 0x00010001;

constexpr u64 kRamBase = 0x4000'0000;
constexpr u64 kRamSize = 0x1000'0000;
constexpr u64 kRam2Base = 0x1'0000'0000;
constexpr u64 kRam2Size = 0x20'0000;

struct CpuOnCall {
    usize target;
    u64 entry;
    u64 context_id;
    bool thumb;
};

// A domain of five vCPUs. MPIDRs as a guest reads them: bit 31 is RES1, so
// it is set in every one; affinity in Aff3 [39:32], Aff2..Aff0 [23:0].
class FakeDomain final : public PsciContext {
public:
    u64 mpidr[5] = {
        0x8000'0000,          // 0: Aff0 0
        0x8000'0001,          // 1: Aff0 1
        0x8000'0100,          // 2: Aff1 1
        0x8001'0000,          // 3: Aff2 1
        0x1'8000'0000,        // 4: Aff3 1
    };
    VcpuPower power[5] = {VcpuPower::on, VcpuPower::off, VcpuPower::off, VcpuPower::on_pending,
                          VcpuPower::off};
    IpaRange ram[2] = {{Ipa(kRamBase), kRamSize}, {Ipa(kRam2Base), kRam2Size}};
    bool aarch32 = false;
    bool fail_cpu_on = false;
    std::vector<CpuOnCall> cpu_on_calls;

    usize vcpu_count() const override { return 5; }
    u64 vcpu_mpidr(usize index) const override { return mpidr[index]; }
    VcpuPower vcpu_power(usize index) const override { return power[index]; }
    bool caller_is_aarch32() const override { return aarch32; }
    std::span<const IpaRange> guest_ram() const override { return ram; }
    Result<void> cpu_on(usize target, Ipa entry, u64 context_id, bool thumb) override {
        cpu_on_calls.push_back({target, entry.raw(), context_id, thumb});
        if (fail_cpu_on) return Status::no_memory;
        power[target] = VcpuPower::on_pending;
        return {};
    }
};

PsciOutcome call(FakeDomain& d, u32 fn, u64 a1 = 0, u64 a2 = 0, u64 a3 = 0) {
    return handle_psci(fn, a1, a2, a3, d);
}

PsciOutcome resumed(i64 x0) { return {x0, PsciAction::resume}; }

TEST(Psci, Version) {
    FakeDomain d;
    EXPECT_EQ(call(d, kPsciVersionId), resumed(kVersion11));
    d.aarch32 = true;
    EXPECT_EQ(call(d, kPsciVersionId), resumed(kVersion11));
}

TEST(Psci, SmcccVersion) {
    FakeDomain d;
    EXPECT_EQ(call(d, kSmcccVersionId), resumed(kVersion11));
}

TEST(Psci, SmcccArchFeatures) {
    FakeDomain d;
    EXPECT_EQ(call(d, kSmcccArchFeaturesId, kSmcccVersionId), resumed(0));
    EXPECT_EQ(call(d, kSmcccArchFeaturesId, kSmcccArchFeaturesId), resumed(0));
    EXPECT_EQ(call(d, kSmcccArchFeaturesId, kSmcccWorkaround1), resumed(kNotSupported));
    EXPECT_EQ(call(d, kSmcccArchFeaturesId, kSmcccArchSocId), resumed(kNotSupported));
    EXPECT_EQ(call(d, kSmcccArchFeaturesId, kPsciVersionId), resumed(kNotSupported));
    // An SMC32 call: only w1 is the argument.
    EXPECT_EQ(call(d, kSmcccArchFeaturesId, 0xffff'ffff'0000'0000ull | kSmcccVersionId), resumed(0));
}

constexpr u32 kImplemented[] = {
    kPsciVersionId, kCpuSuspend32Id, kCpuSuspend64Id, kCpuOffId, kCpuOn32Id, kCpuOn64Id,
    kAffinityInfo32Id, kAffinityInfo64Id, kMigrateInfoTypeId, kSystemOffId, kSystemResetId,
    kPsciFeaturesId, kSmcccVersionId,
};

constexpr u32 kNotImplemented[] = {
    kMigrate32Id, kMigrate64Id, kMigrateInfoUpCpu32Id, kMigrateInfoUpCpu64Id, kCpuFreezeId,
    kCpuDefaultSuspend32Id, kNodeHwState32Id, kSystemSuspend32Id, kSystemSuspend64Id, kSetSuspendModeId,
    kStatResidency32Id, kStatCount64Id, kSystemReset2_32Id, kSystemReset2_64Id, kMemProtectId,
    kMemProtectCheck64Id, kSmcccArchFeaturesId, kSmcccWorkaround1, 0x0, 0x12345678, 0x8400ffff,
};

TEST(Psci, FeaturesFromAArch64) {
    FakeDomain d;
    for (u32 fn : kImplemented) EXPECT_EQ(call(d, kPsciFeaturesId, fn), resumed(0)) << std::hex << fn;
    for (u32 fn : kNotImplemented) EXPECT_EQ(call(d, kPsciFeaturesId, fn), resumed(kNotSupported)) << std::hex << fn;
    // PSCI_FEATURES is SMC32: w1 is the function ID.
    EXPECT_EQ(call(d, kPsciFeaturesId, 0xffff'ffff'0000'0000ull | kCpuOn64Id), resumed(0));
}

TEST(Psci, FeaturesFromAArch32HideSmc64) {
    FakeDomain d;
    d.aarch32 = true;
    for (u32 fn : kImplemented) {
        const i64 expected = (fn & 0x40000000u) != 0 ? kNotSupported : 0;
        EXPECT_EQ(call(d, kPsciFeaturesId, fn), resumed(expected)) << std::hex << fn;
    }
}

TEST(Psci, Debian32BitKernelBootSequence) {
    // hardware-facts: the armhf guest calls VERSION, MIGRATE_INFO_TYPE,
    // FEATURES(SMCCC_VERSION, CPU_SUSPEND, SYSTEM_SUSPEND, SYSTEM_RESET2).
    FakeDomain d;
    d.aarch32 = true;
    EXPECT_EQ(call(d, kPsciVersionId), resumed(kVersion11));
    EXPECT_EQ(call(d, kMigrateInfoTypeId), resumed(2));
    EXPECT_EQ(call(d, kPsciFeaturesId, kSmcccVersionId), resumed(0));
    // 0: original power_state format, platform-coordinated mode only.
    EXPECT_EQ(call(d, kPsciFeaturesId, kCpuSuspend32Id), resumed(0));
    EXPECT_EQ(call(d, kPsciFeaturesId, kSystemSuspend32Id), resumed(kNotSupported));
    EXPECT_EQ(call(d, kPsciFeaturesId, kSystemReset2_32Id), resumed(kNotSupported));
    EXPECT_EQ(call(d, kSmcccVersionId), resumed(kVersion11));
}

TEST(Psci, CpuOn64) {
    FakeDomain d;
    EXPECT_EQ(call(d, kCpuOn64Id, 0x100, 0x4008'0000, 0x1122'3344'5566'7788), resumed(kSuccess));
    ASSERT_EQ(d.cpu_on_calls.size(), 1u);
    EXPECT_EQ(d.cpu_on_calls[0].target, 2u);
    EXPECT_EQ(d.cpu_on_calls[0].entry, 0x4008'0000u);
    EXPECT_EQ(d.cpu_on_calls[0].context_id, 0x1122'3344'5566'7788u);
    EXPECT_FALSE(d.cpu_on_calls[0].thumb);
    // Now pending: a second CPU_ON for it is ON_PENDING.
    EXPECT_EQ(call(d, kCpuOn64Id, 0x100, 0x4008'0000, 0), resumed(kOnPending));
    EXPECT_EQ(d.cpu_on_calls.size(), 1u);
}

TEST(Psci, CpuOnAff3NeedsSmc64) {
    FakeDomain d;
    EXPECT_EQ(call(d, kCpuOn64Id, 0x1'0000'0000, kRamBase, 0), resumed(kSuccess));
    ASSERT_EQ(d.cpu_on_calls.size(), 1u);
    EXPECT_EQ(d.cpu_on_calls[0].target, 4u);
    // The SMC32 form sees target 0 (vCPU 0, on) in w1.
    EXPECT_EQ(call(d, kCpuOn32Id, 0x1'0000'0000, kRamBase, 0), resumed(kAlreadyOn));
}

TEST(Psci, CpuOnTargetStates) {
    FakeDomain d;
    EXPECT_EQ(call(d, kCpuOn64Id, 0x0, kRamBase, 0), resumed(kAlreadyOn));
    EXPECT_EQ(call(d, kCpuOn64Id, 0x10000, kRamBase, 0), resumed(kOnPending));
    EXPECT_TRUE(d.cpu_on_calls.empty());
}

TEST(Psci, CpuOnInvalidTarget) {
    FakeDomain d;
    EXPECT_EQ(call(d, kCpuOn64Id, 0x5, kRamBase, 0), resumed(kInvalidParameters));
    EXPECT_EQ(call(d, kCpuOn64Id, 0x200, kRamBase, 0), resumed(kInvalidParameters));
    // Bits [31:24] and [63:40] of target_cpu must be zero: the MPIDR's RES1
    // bit 31 passed through is not a match.
    EXPECT_EQ(call(d, kCpuOn64Id, 0x8000'0001, kRamBase, 0), resumed(kInvalidParameters));
    EXPECT_EQ(call(d, kCpuOn64Id, 0x100'0000'0001, kRamBase, 0), resumed(kInvalidParameters));
    EXPECT_EQ(call(d, kCpuOn64Id, 0x0100'0001, kRamBase, 0), resumed(kInvalidParameters));
    EXPECT_TRUE(d.cpu_on_calls.empty());
}

TEST(Psci, CpuOnEntryMustBeGuestRam) {
    FakeDomain d;
    EXPECT_EQ(call(d, kCpuOn64Id, 0x1, 0x1000, 0), resumed(kInvalidAddress));
    EXPECT_EQ(call(d, kCpuOn64Id, 0x1, kRamBase - 4, 0), resumed(kInvalidAddress));
    EXPECT_EQ(call(d, kCpuOn64Id, 0x1, kRamBase + kRamSize, 0), resumed(kInvalidAddress));
    EXPECT_EQ(call(d, kCpuOn64Id, 0x1, 0x0900'0000, 0), resumed(kInvalidAddress)); // the vPL011
    EXPECT_EQ(call(d, kCpuOn64Id, 0x1, ~u64{0}, 0), resumed(kInvalidAddress));
    EXPECT_TRUE(d.cpu_on_calls.empty());
    EXPECT_EQ(call(d, kCpuOn64Id, 0x1, kRamBase + kRamSize - 4, 0), resumed(kSuccess));
    EXPECT_EQ(call(d, kCpuOn64Id, 0x100, kRam2Base + 0x1000, 0), resumed(kSuccess)); // second bank
    EXPECT_EQ(d.cpu_on_calls.size(), 2u);
}

TEST(Psci, CpuOnChecksTargetBeforeAddressBeforeState) {
    FakeDomain d;
    // Unknown target and bad address: INVALID_PARAMETERS.
    EXPECT_EQ(call(d, kCpuOn64Id, 0x5, 0x1000, 0), resumed(kInvalidParameters));
    // Target already on and bad address: INVALID_ADDRESS.
    EXPECT_EQ(call(d, kCpuOn64Id, 0x0, 0x1000, 0), resumed(kInvalidAddress));
}

TEST(Psci, CpuOn32TakesLowWordsOfEveryArgument) {
    FakeDomain d; // AArch64 caller using the SMC32 function
    EXPECT_EQ(call(d, kCpuOn32Id, 0xffff'ffff'0000'0100ull, 0xdead'0000'4000'1000ull, 0xffff'ffff'1234'5678ull),
              resumed(kSuccess));
    ASSERT_EQ(d.cpu_on_calls.size(), 1u);
    EXPECT_EQ(d.cpu_on_calls[0].target, 2u);
    EXPECT_EQ(d.cpu_on_calls[0].entry, 0x4000'1000u);
    EXPECT_EQ(d.cpu_on_calls[0].context_id, 0x1234'5678u);
    EXPECT_FALSE(d.cpu_on_calls[0].thumb);
}

TEST(Psci, CpuOnFromAArch32ThumbBit) {
    FakeDomain d;
    d.aarch32 = true;
    EXPECT_EQ(call(d, kCpuOn32Id, 0x1, 0x4000'8001, 7), resumed(kSuccess));
    EXPECT_EQ(call(d, kCpuOn32Id, 0x100, 0x4000'8000, 8), resumed(kSuccess));
    ASSERT_EQ(d.cpu_on_calls.size(), 2u);
    EXPECT_EQ(d.cpu_on_calls[0].entry, 0x4000'8000u);
    EXPECT_TRUE(d.cpu_on_calls[0].thumb);
    EXPECT_EQ(d.cpu_on_calls[0].context_id, 7u);
    EXPECT_EQ(d.cpu_on_calls[1].entry, 0x4000'8000u);
    EXPECT_FALSE(d.cpu_on_calls[1].thumb);
}

TEST(Psci, CpuOnThumbBitIsNotPartOfTheAddress) {
    FakeDomain d;
    d.aarch32 = true;
    // kRamBase | 1 is a T32 entry at kRamBase: valid.
    EXPECT_EQ(call(d, kCpuOn32Id, 0x1, kRamBase | 1, 0), resumed(kSuccess));
    // One below RAM with T set is still outside.
    EXPECT_EQ(call(d, kCpuOn32Id, 0x100, (kRamBase - 2) | 1, 0), resumed(kInvalidAddress));
}

TEST(Psci, CpuOnFromAArch64KeepsBitZero) {
    FakeDomain d;
    EXPECT_EQ(call(d, kCpuOn64Id, 0x1, kRamBase | 1, 0), resumed(kSuccess));
    ASSERT_EQ(d.cpu_on_calls.size(), 1u);
    EXPECT_EQ(d.cpu_on_calls[0].entry, kRamBase | 1);
    EXPECT_FALSE(d.cpu_on_calls[0].thumb);
}

TEST(Psci, CpuOnInternalFailure) {
    FakeDomain d;
    d.fail_cpu_on = true;
    EXPECT_EQ(call(d, kCpuOn64Id, 0x1, kRamBase, 0), resumed(kInternalFailure));
    EXPECT_EQ(d.cpu_on_calls.size(), 1u);
}

TEST(Psci, Smc64FromAArch32IsNotSupported) {
    FakeDomain d;
    d.aarch32 = true;
    for (u32 fn : {kCpuOn64Id, kAffinityInfo64Id, kCpuSuspend64Id, kMigrate64Id, kSystemSuspend64Id}) {
        EXPECT_EQ(call(d, fn, 0x1, kRamBase, 0), resumed(kNotSupported)) << std::hex << fn;
    }
    EXPECT_TRUE(d.cpu_on_calls.empty());
}

TEST(Psci, CpuOff) {
    FakeDomain d;
    const PsciOutcome o = call(d, kCpuOffId);
    EXPECT_EQ(o.action, PsciAction::cpu_off);
    // Even as the last vCPU on: no Trusted OS, never DENIED.
    for (VcpuPower& p : d.power) p = VcpuPower::off;
    d.power[0] = VcpuPower::on;
    EXPECT_EQ(call(d, kCpuOffId).action, PsciAction::cpu_off);
}

TEST(Psci, AffinityInfo) {
    FakeDomain d;
    EXPECT_EQ(call(d, kAffinityInfo64Id, 0x0, 0), resumed(0));       // ON
    EXPECT_EQ(call(d, kAffinityInfo64Id, 0x1, 0), resumed(1));       // OFF
    EXPECT_EQ(call(d, kAffinityInfo64Id, 0x10000, 0), resumed(2));   // ON_PENDING
    EXPECT_EQ(call(d, kAffinityInfo64Id, 0x1'0000'0000, 0), resumed(1));
    EXPECT_EQ(call(d, kAffinityInfo32Id, 0x100, 0), resumed(1));
    d.aarch32 = true;
    EXPECT_EQ(call(d, kAffinityInfo32Id, 0x0, 0), resumed(0));
}

TEST(Psci, AffinityInfoInvalid) {
    FakeDomain d;
    EXPECT_EQ(call(d, kAffinityInfo64Id, 0x0, 1), resumed(kInvalidParameters));
    EXPECT_EQ(call(d, kAffinityInfo64Id, 0x0, 3), resumed(kInvalidParameters));
    EXPECT_EQ(call(d, kAffinityInfo64Id, 0x7, 0), resumed(kInvalidParameters));
    EXPECT_EQ(call(d, kAffinityInfo64Id, 0x8000'0000, 0), resumed(kInvalidParameters));
    // lowest_affinity_level is a uint32: its upper word does not count.
    EXPECT_EQ(call(d, kAffinityInfo64Id, 0x0, 0x1'0000'0000), resumed(0));
    EXPECT_EQ(call(d, kAffinityInfo32Id, 0xffff'ffff'0000'0001ull, 0xffff'ffff'0000'0000ull), resumed(1));
}

TEST(Psci, MigrateInfoType) {
    FakeDomain d;
    EXPECT_EQ(call(d, kMigrateInfoTypeId), resumed(2));
}

TEST(Psci, SystemOffAndReset) {
    FakeDomain d;
    EXPECT_EQ(call(d, kSystemOffId).action, PsciAction::system_off);
    EXPECT_EQ(call(d, kSystemResetId).action, PsciAction::system_reset);
    d.aarch32 = true;
    EXPECT_EQ(call(d, kSystemOffId).action, PsciAction::system_off);
    EXPECT_EQ(call(d, kSystemResetId).action, PsciAction::system_reset);
}

TEST(Psci, CpuSuspendIsStandby) {
    FakeDomain d;
    const PsciOutcome standby{kSuccess, PsciAction::suspend};
    EXPECT_EQ(call(d, kCpuSuspend32Id, 0x0), standby);
    EXPECT_EQ(call(d, kCpuSuspend64Id, 0x0001'0000, kRamBase, 0), standby);  // powerdown, level 0
    EXPECT_EQ(call(d, kCpuSuspend64Id, 0x0301'ffff, 0x1000, 0), standby);    // every defined bit
    // power_state is a uint32 even for the SMC64 form.
    EXPECT_EQ(call(d, kCpuSuspend64Id, 0xffff'ffff'0000'0000ull), standby);
}

TEST(Psci, CpuSuspendRejectsReservedPowerStateBits) {
    FakeDomain d;
    for (u64 ps : {0x0002'0000ull, 0x0080'0000ull, 0x0400'0000ull, 0x8000'0000ull}) {
        EXPECT_EQ(call(d, kCpuSuspend32Id, ps), resumed(kInvalidParameters)) << std::hex << ps;
    }
}

TEST(Psci, UnknownFunctions) {
    FakeDomain d;
    for (u32 fn : kNotImplemented) {
        if (fn == kSmcccArchFeaturesId) continue;
        EXPECT_EQ(call(d, fn, 0x1, kRamBase, 0), resumed(kNotSupported)) << std::hex << fn;
    }
    // Yielding calls (bit 31 clear), vendor ranges, SMC64 forms of SMC32-only
    // functions.
    for (u32 fn : {0x04000000u, 0x44000000u, 0xc2000000u, 0xc4000000u, 0xc4000002u, 0xc4000008u}) {
        EXPECT_EQ(call(d, fn), resumed(kNotSupported)) << std::hex << fn;
    }
    EXPECT_TRUE(d.cpu_on_calls.empty());
}

} // namespace
} // namespace setwise::vcpu
