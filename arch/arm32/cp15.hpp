// Decoders for trapped AArch32 coprocessor accesses: MCR/MRC (EC 0x03 for
// cp15, 0x05 for cp14) and MCRR/MRRC (EC 0x04 for cp15, 0x0c for cp14),
// DDI 0487 ESR_EL2 "ISS encoding for an exception from an MCR or MRC
// access" and "... from an MCRR or MRRC access".
//
// Rt and Rt2 are the AArch64 view of the register (x[] index), never the
// AArch32 number: an `mcr p15,0,r14,...` in Abort mode reports 20 (LR_abt
// is X20). 31 means the instruction named R15 (for MRC, APSR_nzcv).
//
// CV/COND: a trap is not a promise that the instruction passed its
// condition. Check with arm32::trapped_instruction_passes() before
// emulating, and retire a failing one without effect.
#pragma once

#include "setwise/bits.hpp"

namespace setwise::arm32 {

// A CP15 (or CP14) register by its MCR/MRC encoding, for switch-based
// dispatch. The value is the ISS with CV, COND, Rt and Direction cleared.
// Distinct enum types keep 32-bit keys, 64-bit keys and AArch64 system
// register keys (arm64::SysRegKey) out of each other's switches.
enum class Cp15Key : u32 {};
enum class Cp15_64Key : u32 {};

constexpr Cp15Key cp15_key(unsigned opc1, unsigned crn, unsigned crm, unsigned opc2) {
    return Cp15Key{((opc2 & 7u) << 17) | ((opc1 & 7u) << 14) | ((crn & 15u) << 10) | ((crm & 15u) << 1)};
}

constexpr Cp15_64Key cp15_64_key(unsigned opc1, unsigned crm) {
    return Cp15_64Key{((opc1 & 15u) << 16) | ((crm & 15u) << 1)};
}

struct Cp15Access {
    Cp15Key key{};
    u8 opc1 = 0, crn = 0, crm = 0, opc2 = 0;
    u8 rt = 0;          // AArch64 view; 31 = R15
    bool read = false;  // Direction: MRC
    bool cv = false;
    u8 cond = 0;
};

// EC 0x03 (cp15) and EC 0x05 (cp14): MCR, MRC.
class Cp15Iss : public Register<Cp15Iss, u32> {
public:
    using Register::Register;
    using cv = Bit1<24>;
    using cond = Field<23, 20>;
    using opc2 = Field<19, 17>;
    using opc1 = Field<16, 14>;
    using crn = Field<13, 10>;
    using rt = Field<9, 5>;
    using crm = Field<4, 1>;
    using direction = Bit1<0>;  // 1: read (MRC)

    static constexpr u32 kKeyMask = static_cast<u32>(opc2::mask | opc1::mask | crn::mask | crm::mask);
    constexpr Cp15Key key() const { return Cp15Key{raw() & kKeyMask}; }
    constexpr bool is_read() const { return test<direction>(); }
    Cp15Access decode() const;
};
using Cp14Iss = Cp15Iss;

struct Cp15_64Access {
    Cp15_64Key key{};
    u8 opc1 = 0, crm = 0;
    u8 rt = 0;          // low word (AArch64 view; 31 = R15)
    u8 rt2 = 0;         // high word
    bool read = false;  // Direction: MRRC
    bool cv = false;
    u8 cond = 0;
};

// EC 0x04 (cp15) and EC 0x0c (cp14): MCRR, MRRC.
class Cp15_64Iss : public Register<Cp15_64Iss, u32> {
public:
    using Register::Register;
    using cv = Bit1<24>;
    using cond = Field<23, 20>;
    using opc1 = Field<19, 16>;
    using rt2 = Field<14, 10>;
    using rt = Field<9, 5>;
    using crm = Field<4, 1>;
    using direction = Bit1<0>;  // 1: read (MRRC)

    static constexpr u32 kKeyMask = static_cast<u32>(opc1::mask | crm::mask);
    constexpr Cp15_64Key key() const { return Cp15_64Key{raw() & kKeyMask}; }
    constexpr bool is_read() const { return test<direction>(); }
    Cp15_64Access decode() const;
};
using Cp14_64Iss = Cp15_64Iss;

// The CP15 registers and operations setwise traps, by their encodings in
// DDI 0487 (AArch32 System register descriptions, "Accessing": coproc
// 0b1111, opc1, CRn, CRm, opc2; for MCRR/MRRC, opc1 and CRm).
namespace cp15 {
// HCR_EL2.TSW: data cache maintenance by set/way (c7).
inline constexpr Cp15Key kDcisw = cp15_key(0, 7, 6, 2);
inline constexpr Cp15Key kDccsw = cp15_key(0, 7, 10, 2);
inline constexpr Cp15Key kDccisw = cp15_key(0, 7, 14, 2);
// HCR_EL2.TVM: writes to the virtual-memory controls.
inline constexpr Cp15Key kSctlr = cp15_key(0, 1, 0, 0);
inline constexpr Cp15Key kTtbr0 = cp15_key(0, 2, 0, 0);
inline constexpr Cp15Key kTtbr1 = cp15_key(0, 2, 0, 1);
inline constexpr Cp15Key kTtbcr = cp15_key(0, 2, 0, 2);
inline constexpr Cp15Key kTtbcr2 = cp15_key(0, 2, 0, 3); // with FEAT_AA32HPD / TTBCR.EAE
inline constexpr Cp15Key kDacr = cp15_key(0, 3, 0, 0);
inline constexpr Cp15Key kDfsr = cp15_key(0, 5, 0, 0);
inline constexpr Cp15Key kIfsr = cp15_key(0, 5, 0, 1);
inline constexpr Cp15Key kAdfsr = cp15_key(0, 5, 1, 0);
inline constexpr Cp15Key kAifsr = cp15_key(0, 5, 1, 1);
inline constexpr Cp15Key kDfar = cp15_key(0, 6, 0, 0);
inline constexpr Cp15Key kIfar = cp15_key(0, 6, 0, 2);
inline constexpr Cp15Key kPrrr = cp15_key(0, 10, 2, 0);  // MAIR0 with TTBCR.EAE == 1
inline constexpr Cp15Key kNmrr = cp15_key(0, 10, 2, 1);  // MAIR1 with TTBCR.EAE == 1
inline constexpr Cp15Key kMair0 = kPrrr;
inline constexpr Cp15Key kMair1 = kNmrr;
inline constexpr Cp15Key kAmair0 = cp15_key(0, 10, 3, 0);
inline constexpr Cp15Key kAmair1 = cp15_key(0, 10, 3, 1);
inline constexpr Cp15Key kContextidr = cp15_key(0, 13, 0, 1);
inline constexpr Cp15_64Key kTtbr0_64 = cp15_64_key(0, 2);
inline constexpr Cp15_64Key kTtbr1_64 = cp15_64_key(1, 2);
// HCR_EL2.TID2: cache identification.
inline constexpr Cp15Key kCcsidr = cp15_key(1, 0, 0, 0);
inline constexpr Cp15Key kClidr = cp15_key(1, 0, 0, 1);
inline constexpr Cp15Key kCcsidr2 = cp15_key(1, 0, 0, 2); // FEAT_CCIDX
inline constexpr Cp15Key kCsselr = cp15_key(2, 0, 0, 0);
inline constexpr Cp15Key kCtr = cp15_key(0, 0, 0, 1);
// GICv3 SGI generation (64-bit).
inline constexpr Cp15_64Key kIccSgi1r = cp15_64_key(0, 12);
// EL1 physical timer (CNTHCTL_EL2.EL1PCEN == 0).
inline constexpr Cp15Key kCntpTval = cp15_key(0, 14, 2, 0);
inline constexpr Cp15Key kCntpCtl = cp15_key(0, 14, 2, 1);
inline constexpr Cp15_64Key kCntpCval = cp15_64_key(2, 14);
} // namespace cp15

// The manual's name of a key above ("DCCISW", "TTBR0"), or nullptr.
const char* cp15_name(Cp15Key key);
const char* cp15_64_name(Cp15_64Key key);

} // namespace setwise::arm32
