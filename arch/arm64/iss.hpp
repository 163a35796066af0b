// Per-EC decoders of ESR_EL2.ISS: one type per ISS encoding of DDI 0487
// (ESR_EL2, "ISS encoding for an exception from ..."; D19.2.41 in the
// revision registers.hpp follows, D24.2.46 in M.a). Each type holds the ISS
// with its fields declared hi:lo and named as the manual names them; the
// larger ones also decode into a value struct the trap handlers use.
//
// Construct them from Syndrome::iss (ESR_EL2[24:0]). The low word of the
// whole ESR works as well: every field lies in [24:0] and the keys mask
// everything else.
//
// Register numbers in an ISS (SRT, Rt, Rt2) are the AArch64 view even for
// a trap from AArch32 ("When an ISS subfield holds a register number, the
// value returned in that field is the AArch64 view of the register
// number"): index the saved x[] with them directly, never through the
// AArch32 banked view (arch/arm32/regs32.hpp), which is for register
// numbers taken from an instruction encoding. The value 31 is XZR for A64
// and stands for R15 when an AArch32 instruction named it.
#pragma once

#include <optional>

#include "setwise/bits.hpp"

namespace setwise::arm64 {

// ---------------------------------------------------------------------------
// Fault status codes: DFSC (data aborts) and IFSC (instruction aborts).
// ---------------------------------------------------------------------------

enum class FaultType : u8 {
    address_size,
    translation,
    access_flag,
    permission,
    sync_external,                 // not on a translation table walk
    sync_external_walk,            // on a walk or a hardware table update
    tag_check,                     // FEAT_MTE2 (DFSC only)
    parity_ecc,                    // without FEAT_RAS, not on a walk
    parity_ecc_walk,
    alignment,                     // DFSC only
    granule_protection,            // FEAT_RME, not on a walk
    granule_protection_walk,
    tlb_conflict,
    unsupported_atomic_update,     // FEAT_HAFDBS
    lockdown,                      // IMPLEMENTATION DEFINED (DFSC only)
    unsupported_exclusive_atomic,  // IMPLEMENTATION DEFINED (DFSC only)
    reserved,                      // a code the table does not allocate
};

enum class FaultSource : u8 { data, instruction };

// One DFSC/IFSC value. `level` is the lookup level (-2..3) for the codes
// that name one; levels -1 and -2 exist only with FEAT_LPA2 / FEAT_D128.
struct FaultStatus {
    FaultType type = FaultType::reserved;
    std::optional<int> level;

    constexpr bool is_translation() const { return type == FaultType::translation; }
    constexpr bool is_permission() const { return type == FaultType::permission; }
    constexpr bool is_access_flag() const { return type == FaultType::access_flag; }
    // A synchronous External abort, on a walk or not: the codes the manual
    // groups as "DFSC == 0b010000 || 0b01001x || 0b0101xx" (SET, FnV, WU).
    constexpr bool is_external_abort() const {
        return type == FaultType::sync_external || type == FaultType::sync_external_walk;
    }
    constexpr bool operator==(const FaultStatus&) const = default;
};

// The DFSC/IFSC tables of the Data Abort and Instruction Abort ISS
// encodings. Codes allocated only to data aborts (alignment, tag check,
// the IMPLEMENTATION DEFINED pair) are reserved when source is instruction.
constexpr FaultStatus decode_fault_status(u64 code, FaultSource source) {
    const int low = static_cast<int>(code & 3u);
    const bool data = source == FaultSource::data;
    switch (code & 0x3fu) {
    case 0x00: case 0x01: case 0x02: case 0x03: return {FaultType::address_size, low};
    case 0x04: case 0x05: case 0x06: case 0x07: return {FaultType::translation, low};
    case 0x08: case 0x09: case 0x0a: case 0x0b: return {FaultType::access_flag, low};
    case 0x0c: case 0x0d: case 0x0e: case 0x0f: return {FaultType::permission, low};
    case 0x10: return {FaultType::sync_external, std::nullopt};
    case 0x11: return data ? FaultStatus{FaultType::tag_check, std::nullopt} : FaultStatus{};
    case 0x12: return {FaultType::sync_external_walk, -2};
    case 0x13: return {FaultType::sync_external_walk, -1};
    case 0x14: case 0x15: case 0x16: case 0x17: return {FaultType::sync_external_walk, low};
    case 0x18: return {FaultType::parity_ecc, std::nullopt};
    case 0x1b: return {FaultType::parity_ecc_walk, -1};
    case 0x1c: case 0x1d: case 0x1e: case 0x1f: return {FaultType::parity_ecc_walk, low};
    case 0x21: return data ? FaultStatus{FaultType::alignment, std::nullopt} : FaultStatus{};
    case 0x22: return {FaultType::granule_protection_walk, -2};
    case 0x23: return {FaultType::granule_protection_walk, -1};
    case 0x24: case 0x25: case 0x26: case 0x27: return {FaultType::granule_protection_walk, low};
    case 0x28: return {FaultType::granule_protection, std::nullopt};
    case 0x29: return {FaultType::address_size, -1};
    case 0x2a: return {FaultType::translation, -2};
    case 0x2b: return {FaultType::translation, -1};
    case 0x2c: return {FaultType::address_size, -2};
    case 0x30: return {FaultType::tlb_conflict, std::nullopt};
    case 0x31: return {FaultType::unsupported_atomic_update, std::nullopt};
    case 0x34: return data ? FaultStatus{FaultType::lockdown, std::nullopt} : FaultStatus{};
    case 0x35: return data ? FaultStatus{FaultType::unsupported_exclusive_atomic, std::nullopt} : FaultStatus{};
    default: return {};
    }
}

const char* fault_type_name(FaultType t);

// ---------------------------------------------------------------------------
// EC 0x24 / 0x25: Data Abort.
// ---------------------------------------------------------------------------

// What a data abort says, decoded. The instruction syndrome (access size,
// register, sign extension...) is meaningful only when `isv`: the core sets
// ISV for stage-2 aborts on single-register loads and stores without
// writeback (and for AArch32, without R15), which is what MMIO emulation
// can replay; anything else must be treated as a real abort.
struct DataAbort {
    FaultStatus fault;               // DFSC
    bool write = false;              // WnR (always 1 for cache maintenance and AT)
    bool s1ptw = false;              // stage-2 fault on the guest's stage-1 walk
    bool cache_maintenance = false;  // CM: a cache maintenance or AT instruction
    bool ea = false;                 // IMPLEMENTATION DEFINED External abort class
    bool far_not_valid = false;      // FnV: only for a sync External abort not on a walk
    bool vncr = false;               // FEAT_NV2: from EL1's use of VNCR_EL2
    u8 set = 0;                      // SET (FEAT_RAS External aborts) or LST: raw
    // Instruction syndrome (ISV == 1 only):
    bool isv = false;
    unsigned access_bytes = 0;       // SAS: 1, 2, 4 or 8
    bool sign_extend = false;        // SSE
    unsigned srt = 0;                // register transferred, AArch64 view (31: XZR/R15)
    bool sixty_four = false;         // SF: the register is 64 bits wide
    bool acquire_release = false;    // AR
};

class DataAbortIss : public Register<DataAbortIss, u32> {
public:
    using Register::Register;
    using isv = Bit1<24>;       // instruction syndrome valid: ISS[23:14] hold a syndrome
    using sas = Field<23, 22>;  // access size: byte, halfword, word, doubleword
    using sse = Bit1<21>;       // sign-extend the loaded item
    using srt = Field<20, 16>;  // Wt/Xt/Rt of the faulting load or store
    using sf = Bit1<15>;        // 64-bit register (ISV == 1), else FnP
    using ar = Bit1<14>;        // acquire/release semantics (ISV == 1)
    using vncr = Bit1<13>;
    using set = Field<12, 11>;  // SET for External aborts with FEAT_RAS; LST otherwise
    using fnv = Bit1<10>;       // FAR not valid
    using ea = Bit1<9>;
    using cm = Bit1<8>;
    using s1ptw = Bit1<7>;
    using wnr = Bit1<6>;
    using dfsc = Field<5, 0>;

    // 1 << SAS. Meaningful only when isv is set.
    constexpr unsigned access_bytes() const { return 1u << static_cast<unsigned>(get<sas>()); }
    constexpr FaultStatus fault() const { return decode_fault_status(get<dfsc>(), FaultSource::data); }
    DataAbort decode() const;
};

// ---------------------------------------------------------------------------
// EC 0x20 / 0x21: Instruction Abort.
// ---------------------------------------------------------------------------

struct InstrAbort {
    FaultStatus fault;           // IFSC
    bool s1ptw = false;
    bool ea = false;
    bool far_not_valid = false;  // FnV: only for a sync External abort not on a walk
    u8 set = 0;                  // SET, raw
};

class InstrAbortIss : public Register<InstrAbortIss, u32> {
public:
    using Register::Register;
    using set = Field<12, 11>;
    using fnv = Bit1<10>;
    using ea = Bit1<9>;
    using s1ptw = Bit1<7>;
    using ifsc = Field<5, 0>;

    constexpr FaultStatus fault() const {
        return decode_fault_status(get<ifsc>(), FaultSource::instruction);
    }
    InstrAbort decode() const;
};

// ---------------------------------------------------------------------------
// EC 0x18: MSR, MRS or System instruction (A64), DC by set/way among them.
// ---------------------------------------------------------------------------

// A system register or instruction by its encoding, for switch-based
// dispatch: `switch (iss.key()) { case sysreg::kSctlrEl1: ... }`. The value
// is the ISS with Rt and Direction cleared, so a key and a trapped ISS
// compare with one mask. A distinct enum type so that an AArch64 key never
// meets an AArch32 CP15 key (arch/arm32/cp15.hpp) in the same switch.
enum class SysRegKey : u32 {};

constexpr SysRegKey sysreg_key(unsigned op0, unsigned op1, unsigned crn, unsigned crm, unsigned op2) {
    return SysRegKey{((op0 & 3u) << 20) | ((op2 & 7u) << 17) | ((op1 & 7u) << 14) | ((crn & 15u) << 10) |
                     ((crm & 15u) << 1)};
}

struct SysRegAccess {
    SysRegKey key{};
    u8 op0 = 0, op1 = 0, crn = 0, crm = 0, op2 = 0;
    u8 rt = 0;          // 31: XZR (reads as 0, writes discarded)
    bool read = false;  // Direction: MRS (or a SYSL), else MSR / SYS
};

class SysRegIss : public Register<SysRegIss, u32> {
public:
    using Register::Register;
    using op0 = Field<21, 20>;
    using op2 = Field<19, 17>;
    using op1 = Field<16, 14>;
    using crn = Field<13, 10>;
    using rt = Field<9, 5>;
    using crm = Field<4, 1>;
    using direction = Bit1<0>;  // 1: read (MRS)

    static constexpr u32 kKeyMask = static_cast<u32>(op0::mask | op2::mask | op1::mask | crn::mask | crm::mask);
    constexpr SysRegKey key() const { return SysRegKey{raw() & kKeyMask}; }
    constexpr bool is_read() const { return test<direction>(); }
    SysRegAccess decode() const;
};

// The system registers and instructions setwise traps, by the encodings of
// DDI 0487 (each register's "Accessing" section: op0, op1, CRn, CRm, op2).
namespace sysreg {
// HCR_EL2.TSW: data cache maintenance by set/way (SYS, op0 = 1).
inline constexpr SysRegKey kDcIsw = sysreg_key(1, 0, 7, 6, 2);
inline constexpr SysRegKey kDcCsw = sysreg_key(1, 0, 7, 10, 2);
inline constexpr SysRegKey kDcCisw = sysreg_key(1, 0, 7, 14, 2);
// HCR_EL2.TVM: writes to the virtual-memory controls (the guest turning
// its MMU or caches on and off).
inline constexpr SysRegKey kSctlrEl1 = sysreg_key(3, 0, 1, 0, 0);
inline constexpr SysRegKey kTtbr0El1 = sysreg_key(3, 0, 2, 0, 0);
inline constexpr SysRegKey kTtbr1El1 = sysreg_key(3, 0, 2, 0, 1);
inline constexpr SysRegKey kTcrEl1 = sysreg_key(3, 0, 2, 0, 2);
inline constexpr SysRegKey kAfsr0El1 = sysreg_key(3, 0, 5, 1, 0);
inline constexpr SysRegKey kAfsr1El1 = sysreg_key(3, 0, 5, 1, 1);
inline constexpr SysRegKey kEsrEl1 = sysreg_key(3, 0, 5, 2, 0);
inline constexpr SysRegKey kFarEl1 = sysreg_key(3, 0, 6, 0, 0);
inline constexpr SysRegKey kMairEl1 = sysreg_key(3, 0, 10, 2, 0);
inline constexpr SysRegKey kAmairEl1 = sysreg_key(3, 0, 10, 3, 0);
inline constexpr SysRegKey kContextidrEl1 = sysreg_key(3, 0, 13, 0, 1);
// HCR_EL2.TID2: cache identification (the geometry a guest's S/W loop walks).
inline constexpr SysRegKey kCcsidrEl1 = sysreg_key(3, 1, 0, 0, 0);
inline constexpr SysRegKey kClidrEl1 = sysreg_key(3, 1, 0, 0, 1);
inline constexpr SysRegKey kCcsidr2El1 = sysreg_key(3, 1, 0, 0, 2); // FEAT_CCIDX; TID2 traps it too
inline constexpr SysRegKey kCsselrEl1 = sysreg_key(3, 2, 0, 0, 0);
inline constexpr SysRegKey kCtrEl0 = sysreg_key(3, 3, 0, 0, 1);
// GICv3 SGI generation (ICH_HCR_EL2.TC / TALL1 or a GICv2 host).
inline constexpr SysRegKey kIccSgi1rEl1 = sysreg_key(3, 0, 12, 11, 5);
// EL1 physical timer (CNTHCTL_EL2.EL1PCEN == 0).
inline constexpr SysRegKey kCntpTvalEl0 = sysreg_key(3, 3, 14, 2, 0);
inline constexpr SysRegKey kCntpCtlEl0 = sysreg_key(3, 3, 14, 2, 1);
inline constexpr SysRegKey kCntpCvalEl0 = sysreg_key(3, 3, 14, 2, 2);
} // namespace sysreg

// The manual's name of a key above ("SCTLR_EL1", "DC CISW"), or nullptr.
const char* sysreg_name(SysRegKey key);

// ---------------------------------------------------------------------------
// EC 0x01: WFI, WFE, WFIT, WFET.
// ---------------------------------------------------------------------------

enum class WfxKind : u8 { wfi = 0, wfe = 1, wfit = 2, wfet = 3 }; // TI encoding

struct Wfx {
    WfxKind kind = WfxKind::wfi;
    bool rv = false;   // FEAT_WFxT: rn names the timeout register
    u8 rn = 0;         // register holding the WFIT/WFET timeout (AArch64 view)
    bool cv = false;   // AArch32: cond is valid (see arch/arm32/condition.hpp)
    u8 cond = 0;
};

class WfxIss : public Register<WfxIss, u32> {
public:
    using Register::Register;
    using cv = Bit1<24>;
    using cond = Field<23, 20>;
    using rn = Field<9, 5>;
    using rv = Bit1<2>;
    using ti = Field<1, 0>;

    constexpr WfxKind kind() const { return static_cast<WfxKind>(get<ti>()); }
    Wfx decode() const;
};

// ---------------------------------------------------------------------------
// EC 0x12 / 0x16: HVC (same encoding as SVC, EC 0x11 / 0x15).
// EC 0x17: SMC from AArch64.  EC 0x13: SMC from AArch32.
// ---------------------------------------------------------------------------

class HvcIss : public Register<HvcIss, u32> {
public:
    using Register::Register;
    using imm16 = Field<15, 0>;
    constexpr u16 immediate() const { return static_cast<u16>(get<imm16>()); }
};

class SmcIss : public Register<SmcIss, u32> {
public:
    using Register::Register;
    using imm16 = Field<15, 0>;
    constexpr u16 immediate() const { return static_cast<u16>(get<imm16>()); }
};

// An AArch32 SMC trapped by HCR_EL2.TSC carries no immediate. CV and COND
// are valid only when CCKNOWNPASS is 1; when it is 0 they are RES0 and the
// instruction passed (or was unconditional). That is exactly the case
// arm32::trapped_instruction_passes() already answers true for (CV == 0
// outside a failing IT block), so the condition check is the same call as
// for any other AArch32 trap. ELR_EL2 points at the SMC itself
// (hardware-facts: ESR 0x4e000000): the handler advances it.
class Smc32Iss : public Register<Smc32Iss, u32> {
public:
    using Register::Register;
    using cv = Bit1<24>;
    using cond = Field<23, 20>;
    using ccknownpass = Bit1<19>;  // 1: conditional, may have failed its check
};

} // namespace setwise::arm64
