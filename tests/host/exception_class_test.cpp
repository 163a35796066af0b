// arch/arm64/exception_class: the EC values against DDI 0487 (ESR_EL2.EC,
// D19.2.41), the allocated/unallocated split, the names, the typed syndrome
// of the ESRs measured under QEMU (hardware-facts.md), and the vector names.
#include "arch/arm64/exception_class.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <string>

#include "arch/arm64/frame.hpp"

namespace setwise::arm64 {
namespace {

struct Named {
    ExceptionClass ec;
    u8 value; // ESR_EL2.EC as DDI 0487 lists it
};

// Every class the header names, with its value from the manual's EC table.
constexpr Named kNamed[] = {
    {ExceptionClass::unknown, 0x00},        {ExceptionClass::wfx, 0x01},
    {ExceptionClass::cp15_32, 0x03},        {ExceptionClass::cp15_64, 0x04},
    {ExceptionClass::cp14_32, 0x05},        {ExceptionClass::cp14_ls, 0x06},
    {ExceptionClass::fp_simd_access, 0x07}, {ExceptionClass::cp10_id, 0x08},
    {ExceptionClass::pauth, 0x09},          {ExceptionClass::ls64, 0x0a},
    {ExceptionClass::cp14_64, 0x0c},        {ExceptionClass::branch_target, 0x0d},
    {ExceptionClass::illegal_state, 0x0e},  {ExceptionClass::svc32, 0x11},
    {ExceptionClass::hvc32, 0x12},          {ExceptionClass::smc32, 0x13},
    {ExceptionClass::svc64, 0x15},          {ExceptionClass::hvc64, 0x16},
    {ExceptionClass::smc64, 0x17},          {ExceptionClass::sysreg, 0x18},
    {ExceptionClass::sve, 0x19},            {ExceptionClass::eret, 0x1a},
    {ExceptionClass::tstart, 0x1b},         {ExceptionClass::fpac, 0x1c},
    {ExceptionClass::sme, 0x1d},            {ExceptionClass::impdef_el3, 0x1f},
    {ExceptionClass::iabt_lower, 0x20},     {ExceptionClass::iabt_same, 0x21},
    {ExceptionClass::pc_alignment, 0x22},   {ExceptionClass::dabt_lower, 0x24},
    {ExceptionClass::dabt_same, 0x25},      {ExceptionClass::sp_alignment, 0x26},
    {ExceptionClass::mops, 0x27},           {ExceptionClass::fp32, 0x28},
    {ExceptionClass::fp64, 0x2c},           {ExceptionClass::serror, 0x2f},
    {ExceptionClass::breakpoint_lower, 0x30}, {ExceptionClass::breakpoint_same, 0x31},
    {ExceptionClass::step_lower, 0x32},     {ExceptionClass::step_same, 0x33},
    {ExceptionClass::watchpoint_lower, 0x34}, {ExceptionClass::watchpoint_same, 0x35},
    {ExceptionClass::bkpt32, 0x38},         {ExceptionClass::vector_catch32, 0x3a},
    {ExceptionClass::brk64, 0x3c},
};

// Values no revision of the EC table has ever allocated. (0x14, 0x1e, 0x2d
// and 0x3d are left out on purpose: recent revisions allocate them to
// FEAT_SYSREG128 traps, granule protection checks, GCS and profiling
// exceptions, so which answer is right depends on the revision.)
constexpr u8 kUnallocated[] = {0x02, 0x0b, 0x0f, 0x10, 0x23, 0x29, 0x2a, 0x2b,
                               0x2e, 0x36, 0x37, 0x39, 0x3b, 0x3e, 0x3f};

TEST(ExceptionClass, ValuesMatchTheManual) {
    for (const Named& n : kNamed) EXPECT_EQ(static_cast<u8>(n.ec), n.value);
}

TEST(ExceptionClass, NamedClassesAreAllocatedAndNamed) {
    const std::string unallocated = exception_class_name(static_cast<ExceptionClass>(0x02));
    std::set<std::string> names;
    for (const Named& n : kNamed) {
        SCOPED_TRACE(testing::Message() << "EC 0x" << std::hex << unsigned{n.value});
        EXPECT_TRUE(is_allocated(n.value));
        const char* name = exception_class_name(n.ec);
        ASSERT_NE(name, nullptr);
        EXPECT_GT(std::strlen(name), 0u);
        EXPECT_NE(std::string(name), unallocated);
        EXPECT_TRUE(names.insert(name).second) << "duplicate name " << name;
    }
}

TEST(ExceptionClass, UnallocatedValues) {
    for (u8 v : kUnallocated) {
        SCOPED_TRACE(testing::Message() << "EC 0x" << std::hex << unsigned{v});
        EXPECT_FALSE(is_allocated(v));
        EXPECT_NE(std::string(exception_class_name(static_cast<ExceptionClass>(v))).find("unallocated"),
                  std::string::npos);
    }
    // EC is a 6-bit field; nothing above 0x3f is a class.
    EXPECT_FALSE(is_allocated(0x40));
    EXPECT_FALSE(is_allocated(0xff));
}

TEST(ExceptionClass, SomeNamesSaySomethingSpecific) {
    // The classes setwise dispatches on most: the name must identify them.
    EXPECT_NE(std::string(exception_class_name(ExceptionClass::dabt_lower)).find("data abort"), std::string::npos);
    EXPECT_NE(std::string(exception_class_name(ExceptionClass::sysreg)).find("MSR"), std::string::npos);
    EXPECT_NE(std::string(exception_class_name(ExceptionClass::cp15_32)).find("cp15"), std::string::npos);
    EXPECT_NE(std::string(exception_class_name(ExceptionClass::hvc64)).find("HVC"), std::string::npos);
}

TEST(Syndrome, Aarch32SetWay) {
    // hardware-facts: mcr p15,0,r3,c7,c14,2 -> ESR 0x0fe41c7c.
    const Syndrome s = Syndrome::decode(0x0fe4'1c7c);
    EXPECT_EQ(s.ec, ExceptionClass::cp15_32);
    EXPECT_EQ(s.raw_ec, 0x03);
    EXPECT_TRUE(s.il32);
    EXPECT_EQ(s.iss, 0x1e4'1c7cu);
    EXPECT_EQ(Syndrome::decode(0x0fe4'1cb4).iss, 0x1e4'1cb4u);
    EXPECT_EQ(Syndrome::decode(0x0fe4'1cec).ec, ExceptionClass::cp15_32);
}

TEST(Syndrome, Aarch64SetWay) {
    for (u64 esr : {0x6214'1c6cull, 0x6214'1cb4ull, 0x6214'1cfcull}) {
        const Syndrome s = Syndrome::decode(esr);
        EXPECT_EQ(s.ec, ExceptionClass::sysreg);
        EXPECT_EQ(s.raw_ec, 0x18);
        EXPECT_TRUE(s.il32);
        EXPECT_EQ(s.iss, static_cast<u32>(esr & 0x1ff'ffff));
    }
}

TEST(Syndrome, Stage2DataAbort) {
    const Syndrome s = Syndrome::decode(0x9382'0007);
    EXPECT_EQ(s.ec, ExceptionClass::dabt_lower);
    EXPECT_EQ(s.raw_ec, 0x24);
    EXPECT_TRUE(s.il32);
    EXPECT_EQ(s.iss, 0x182'0007u);
}

TEST(Syndrome, SmcAndThumb) {
    const Syndrome smc = Syndrome::decode(0x4e00'0000);
    EXPECT_EQ(smc.ec, ExceptionClass::smc32);
    EXPECT_TRUE(smc.il32);
    EXPECT_EQ(smc.iss, 0u);
    // IL = 0: a 16-bit T32 instruction trapped.
    const Syndrome t16 = Syndrome::decode(0x0de4'1c7c);
    EXPECT_EQ(t16.ec, ExceptionClass::cp15_32);
    EXPECT_FALSE(t16.il32);
    EXPECT_EQ(t16.iss, 0x1e4'1c7cu);
}

TEST(Syndrome, HighBitsDoNotLeakIntoIssOrEc) {
    const Syndrome s = Syndrome::decode(0xffff'ffff'0000'0000ull | 0x9382'0007);
    EXPECT_EQ(s.raw_ec, 0x24);
    EXPECT_EQ(s.iss, 0x182'0007u);
}

TEST(Syndrome, UnallocatedKeepsTheRawValue) {
    const Syndrome s = Syndrome::decode(u64{0x3f} << 26 | 0x1234);
    EXPECT_EQ(s.raw_ec, 0x3f);
    EXPECT_FALSE(is_allocated(s.raw_ec));
    EXPECT_EQ(s.iss, 0x1234u);
    EXPECT_FALSE(s.il32);
}

TEST(VectorKind, OffsetsAndNames) {
    // VBAR_EL2 offsets (D1.3.1): index = offset / 0x80.
    EXPECT_EQ(static_cast<u8>(VectorKind::current_sp0_sync), 0x000 / 0x80);
    EXPECT_EQ(static_cast<u8>(VectorKind::current_spx_sync), 0x200 / 0x80);
    EXPECT_EQ(static_cast<u8>(VectorKind::current_spx_serror), 0x380 / 0x80);
    EXPECT_EQ(static_cast<u8>(VectorKind::lower64_sync), 0x400 / 0x80);
    EXPECT_EQ(static_cast<u8>(VectorKind::lower64_irq), 0x480 / 0x80);
    EXPECT_EQ(static_cast<u8>(VectorKind::lower32_sync), 0x600 / 0x80);
    EXPECT_EQ(static_cast<u8>(VectorKind::lower32_serror), 0x780 / 0x80);

    std::set<std::string> names;
    for (unsigned i = 0; i < 16; ++i) {
        const std::string n = vector_kind_name(static_cast<VectorKind>(i));
        EXPECT_NE(n, "unknown vector") << i;
        EXPECT_TRUE(names.insert(n).second) << "duplicate " << n;
    }
    EXPECT_NE(std::string(vector_kind_name(VectorKind::lower32_sync)).find("AArch32"), std::string::npos);
    EXPECT_NE(std::string(vector_kind_name(VectorKind::lower64_irq)).find("IRQ"), std::string::npos);
    EXPECT_EQ(std::string(vector_kind_name(static_cast<VectorKind>(16))), "unknown vector");
}

} // namespace
} // namespace setwise::arm64
