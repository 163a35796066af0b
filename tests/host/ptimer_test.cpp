// vcpu/ptimer.hpp: the emulated EL1 physical timer's registers and line.
#include "vcpu/ptimer.hpp"

#include <gtest/gtest.h>

namespace setwise::vcpu {
namespace {

TEST(PhysTimer, ResetIsOffAndSilent) {
    PhysTimer t;
    EXPECT_EQ(t.read_ctl(1000), 0u);
    EXPECT_FALSE(t.line(~u64{0}));
    EXPECT_EQ(t.deadline(), ~u64{0});
}

TEST(PhysTimer, CtlKeepsEnableAndImaskIstatusIsReadOnly) {
    PhysTimer t;
    t.write_ctl(~u64{0});
    EXPECT_EQ(t.ctl, PhysTimer::kEnable | PhysTimer::kImask);
    t.write_cval(500);
    EXPECT_EQ(t.read_ctl(499), PhysTimer::kEnable | PhysTimer::kImask);
    EXPECT_EQ(t.read_ctl(500), PhysTimer::kEnable | PhysTimer::kImask | PhysTimer::kIstatus);
}

TEST(PhysTimer, LineNeedsEnableUnmaskedAndTheDeadline) {
    PhysTimer t;
    t.write_cval(100);
    EXPECT_FALSE(t.line(200)); // disabled
    t.write_ctl(PhysTimer::kEnable | PhysTimer::kImask);
    EXPECT_FALSE(t.line(200)); // masked
    EXPECT_EQ(t.deadline(), ~u64{0});
    t.write_ctl(PhysTimer::kEnable);
    EXPECT_FALSE(t.line(99));
    EXPECT_TRUE(t.line(100));
    EXPECT_EQ(t.deadline(), 100u);
}

TEST(PhysTimer, TvalIsSigned32BitsFromNow) {
    PhysTimer t;
    t.write_tval(1'000'000, 250);
    EXPECT_EQ(t.cval, 1'000'250u);
    EXPECT_EQ(t.read_tval(1'000'000), 250u);
    EXPECT_EQ(t.read_tval(1'000'300), 0xffff'ffceu); // 50 ticks late: -50
    t.write_tval(1'000'000, 0xffff'ff9cu);            // -100
    EXPECT_EQ(t.cval, 999'900u);
    t.write_tval(5, 0x1'0000'0010u);                  // bits above 31 ignored
    EXPECT_EQ(t.cval, 0x15u);
}

} // namespace
} // namespace setwise::vcpu
