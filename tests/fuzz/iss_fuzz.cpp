// libFuzzer target: the ESR/ISS decoders and the AArch32 trap helpers
// (arch/arm64/exception_class, arch/arm64/iss, arch/arm32/cp15,
// arch/arm32/condition, arch/arm32/regs32) under any ESR_EL2 value and any
// saved frame. Every decoder is run on every ESR, whatever its EC says: a
// decoder must be total over its 25-bit ISS, and trap dispatch is only as
// safe as the weakest of them.
//
// Input: 25-byte steps.
//   byte 0      bit 0: chain -- keep ELR and SPSR as the previous step's
//               retire left them (walks a T32 IT block instruction by
//               instruction); bit 1: pass the whole SPSR word, not M[4:0],
//               as the mode to aarch32_reg_index; bits 3:2: 1, 2, 3 put
//               the encoding of a trapped system register, CP15 register
//               or 64-bit CP15 register (the tables below, indexed by
//               ESR[63:56]) into the ISS, in place of its key fields;
//               bits 7:4: the AArch32 register read and written back
//   bytes 1-8   ESR_EL2 (little endian, all 64 bits)
//   bytes 9-16  ELR_EL2
//   bytes 17-24 SPSR_EL2
//
// Checks, beyond the sanitizers, against tables and rules written out here
// from DDI 0487 (never taken from the headers under test):
//   - Syndrome: EC, IL and ISS are ESR[31:26], [25], [24:0], whatever bits
//     63:32 hold; is_allocated() agrees with the EC table (0x14, 0x1e and
//     0x2d are deliberately unallocated, see exception_class.hpp); every
//     class has a printable name;
//   - DFSC/IFSC: the decoded type and level match the manual's table for
//     both sources, levels lie in -2..3 and exist exactly for the codes
//     that name one; encoding the decoded fault again gives back the code;
//   - Data/Instruction Abort, MSR/MRS, WFx, HVC/SMC, MCR/MRC, MCRR/MRRC:
//     each decoded field fits its width (access size 1/2/4/8, registers
//     <= 31, op/opc fields, COND <= 15...), re-encoding the decoded value
//     with the field layout gives back the ISS (for a data abort without
//     ISV: everything but the RES0 syndrome, which must decode as zero);
//     decoding the ISS or the low word of the whole ESR is the same; a
//     register key is the re-encoded (op0, op1, CRn, CRm, op2), does not
//     depend on Rt, direction, CV or COND, and has a name exactly when it
//     is one setwise traps;
//   - conditions: condition_holds() is the ConditionHolds() truth table,
//     a function of (cond, NZCV) alone; trapped_instruction_passes() reads
//     only ISS bits [24:20] and follows the CV / IT-block rules;
//     it_state() and with_it_state() are inverse and touch only IT bits;
//   - retire_instruction(): the PC advances by exactly 2 or 4 (IL), wraps
//     at 32 bits from AArch32; from AArch64 the SPSR is untouched; from
//     AArch32 only ITSTATE changes, by ITAdvance(), a well-formed ITSTATE
//     stays well-formed, the base condition IT[7:5] holds through a block
//     and no block outlasts four chained retires;
//   - mode_of(), is_thumb() and aarch32_reg_index() follow the mode and
//     banked-register tables; write_reg32() then read_reg32() gives the
//     value back, zero-extended, and touches no other register; a refused
//     one touches none.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <span>

#include "arch/arm32/condition.hpp"
#include "arch/arm32/cp15.hpp"
#include "arch/arm32/regs32.hpp"
#include "arch/arm64/exception_class.hpp"
#include "arch/arm64/frame.hpp"
#include "arch/arm64/iss.hpp"

using namespace setwise;
using namespace setwise::arm64;

namespace {

void check(bool ok) {
    if (!ok) __builtin_trap();
}

constexpr usize kStep = 25;

u64 load64(const std::uint8_t* p) {
    u64 v = 0;
    for (unsigned i = 0; i < 8; ++i) v |= u64{p[i]} << (8 * i);
    return v;
}

constexpr u32 bits(u64 v, unsigned hi, unsigned lo) {
    return static_cast<u32>((v >> lo) & ((u64{1} << (hi - lo + 1)) - 1));
}

bool printable(const char* s) {
    if (s == nullptr || *s == '\0') return false;
    const usize n = std::strlen(s);
    if (n > 80) return false;
    for (usize i = 0; i < n; ++i)
        if (s[i] < 0x20 || s[i] >= 0x7f) return false;
    return true;
}

// ---------------------------------------------------------------------------
// DDI 0487, ESR_EL2.EC: the classes allocated for what setwise can meet.
// ---------------------------------------------------------------------------

constexpr u8 kAllocatedEcs[] = {
    0x00, 0x01, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0c, 0x0d, 0x0e, 0x11, 0x12,
    0x13, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1f, 0x20, 0x21, 0x22, 0x24,
    0x25, 0x26, 0x27, 0x28, 0x2c, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x38, 0x3a, 0x3c,
};

bool ec_allocated(u32 ec) {
    for (u8 e : kAllocatedEcs)
        if (e == ec) return true;
    return false;
}

void check_syndrome(u64 esr) {
    const Syndrome s = Syndrome::decode(esr);
    check(s.raw_ec == bits(esr, 31, 26));
    check(static_cast<u8>(s.ec) == s.raw_ec);
    check(s.il32 == (bits(esr, 25, 25) != 0));
    check(s.iss == bits(esr, 24, 0));
    check(s.iss < (1u << 25));
    // ISS2 and the RES0 bits above it change nothing here.
    const Syndrome low = Syndrome::decode(esr & 0xffff'ffffu);
    check(low.raw_ec == s.raw_ec && low.il32 == s.il32 && low.iss == s.iss && low.ec == s.ec);

    check(is_allocated(s.raw_ec) == ec_allocated(s.raw_ec));
    check(printable(exception_class_name(s.ec)));
    // Distinct names for distinct allocated classes: the EC is recoverable
    // from a log line.
    if (is_allocated(s.raw_ec)) {
        for (u8 e : kAllocatedEcs) {
            if (e == s.raw_ec) continue;
            check(std::strcmp(exception_class_name(static_cast<ExceptionClass>(e)), exception_class_name(s.ec)) != 0);
        }
    }
}

// ---------------------------------------------------------------------------
// DDI 0487, ISS encoding for a Data / Instruction Abort: DFSC and IFSC.
// ---------------------------------------------------------------------------

constexpr int kNoLevel = 99;

struct FscRow {
    u8 code;
    FaultType type;
    int level;       // kNoLevel: the code names no lookup level
    bool data_only;  // reserved in IFSC
};

constexpr FscRow kFsc[] = {
    {0x00, FaultType::address_size, 0, false},
    {0x01, FaultType::address_size, 1, false},
    {0x02, FaultType::address_size, 2, false},
    {0x03, FaultType::address_size, 3, false},
    {0x04, FaultType::translation, 0, false},
    {0x05, FaultType::translation, 1, false},
    {0x06, FaultType::translation, 2, false},
    {0x07, FaultType::translation, 3, false},
    {0x08, FaultType::access_flag, 0, false},
    {0x09, FaultType::access_flag, 1, false},
    {0x0a, FaultType::access_flag, 2, false},
    {0x0b, FaultType::access_flag, 3, false},
    {0x0c, FaultType::permission, 0, false},
    {0x0d, FaultType::permission, 1, false},
    {0x0e, FaultType::permission, 2, false},
    {0x0f, FaultType::permission, 3, false},
    {0x10, FaultType::sync_external, kNoLevel, false},
    {0x11, FaultType::tag_check, kNoLevel, true},
    {0x12, FaultType::sync_external_walk, -2, false},
    {0x13, FaultType::sync_external_walk, -1, false},
    {0x14, FaultType::sync_external_walk, 0, false},
    {0x15, FaultType::sync_external_walk, 1, false},
    {0x16, FaultType::sync_external_walk, 2, false},
    {0x17, FaultType::sync_external_walk, 3, false},
    {0x18, FaultType::parity_ecc, kNoLevel, false},
    {0x1b, FaultType::parity_ecc_walk, -1, false},
    {0x1c, FaultType::parity_ecc_walk, 0, false},
    {0x1d, FaultType::parity_ecc_walk, 1, false},
    {0x1e, FaultType::parity_ecc_walk, 2, false},
    {0x1f, FaultType::parity_ecc_walk, 3, false},
    {0x21, FaultType::alignment, kNoLevel, true},
    {0x22, FaultType::granule_protection_walk, -2, false},
    {0x23, FaultType::granule_protection_walk, -1, false},
    {0x24, FaultType::granule_protection_walk, 0, false},
    {0x25, FaultType::granule_protection_walk, 1, false},
    {0x26, FaultType::granule_protection_walk, 2, false},
    {0x27, FaultType::granule_protection_walk, 3, false},
    {0x28, FaultType::granule_protection, kNoLevel, false},
    {0x29, FaultType::address_size, -1, false},
    {0x2a, FaultType::translation, -2, false},
    {0x2b, FaultType::translation, -1, false},
    {0x2c, FaultType::address_size, -2, false},
    {0x30, FaultType::tlb_conflict, kNoLevel, false},
    {0x31, FaultType::unsupported_atomic_update, kNoLevel, false},
    {0x34, FaultType::lockdown, kNoLevel, true},
    {0x35, FaultType::unsupported_exclusive_atomic, kNoLevel, true},
};

const FscRow* fsc_row(u32 code, FaultSource source) {
    for (const FscRow& r : kFsc)
        if (r.code == code) return r.data_only && source == FaultSource::instruction ? nullptr : &r;
    return nullptr;
}

// The inverse table: the code of a decoded fault, or -1 when none has it.
int encode_fault(const FaultStatus& f, FaultSource source) {
    for (const FscRow& r : kFsc) {
        if (r.data_only && source == FaultSource::instruction) continue;
        const int level = f.level ? *f.level : kNoLevel;
        if (r.type == f.type && r.level == level) return r.code;
    }
    return -1;
}

bool names_a_level(FaultType t) {
    switch (t) {
    case FaultType::address_size:
    case FaultType::translation:
    case FaultType::access_flag:
    case FaultType::permission:
    case FaultType::sync_external_walk:
    case FaultType::parity_ecc_walk:
    case FaultType::granule_protection_walk:
        return true;
    case FaultType::sync_external:
    case FaultType::tag_check:
    case FaultType::parity_ecc:
    case FaultType::alignment:
    case FaultType::granule_protection:
    case FaultType::tlb_conflict:
    case FaultType::unsupported_atomic_update:
    case FaultType::lockdown:
    case FaultType::unsupported_exclusive_atomic:
    case FaultType::reserved:
        return false;
    }
    return false;
}

void check_fault(u32 code, FaultSource source, const FaultStatus& f) {
    check(f == decode_fault_status(code, source));
    // Only FSC[5:0] counts.
    check(f == decode_fault_status(code | (u64{0xdead'beef} << 6), source));
    const FscRow* row = fsc_row(code, source);
    if (row == nullptr) {
        check(f.type == FaultType::reserved && !f.level);
    } else {
        check(f.type == row->type);
        check(f.level.has_value() == (row->level != kNoLevel));
        if (f.level) check(*f.level == row->level);
        check(encode_fault(f, source) == static_cast<int>(code));
    }
    if (f.level) check(*f.level >= -2 && *f.level <= 3);
    check(f.level.has_value() == (f.type != FaultType::reserved && names_a_level(f.type)));
    check(f.is_translation() == (f.type == FaultType::translation));
    check(f.is_permission() == (f.type == FaultType::permission));
    check(f.is_access_flag() == (f.type == FaultType::access_flag));
    check(f.is_external_abort() == (code == 0x10 || (code >= 0x12 && code <= 0x17)));
    check(printable(fault_type_name(f.type)));
}

// ---------------------------------------------------------------------------
// EC 0x24/0x25 Data Abort, EC 0x20/0x21 Instruction Abort.
// ---------------------------------------------------------------------------

bool same(const DataAbort& a, const DataAbort& b) {
    return a.fault == b.fault && a.write == b.write && a.s1ptw == b.s1ptw &&
           a.cache_maintenance == b.cache_maintenance && a.ea == b.ea && a.far_not_valid == b.far_not_valid &&
           a.vncr == b.vncr && a.set == b.set && a.isv == b.isv && a.access_bytes == b.access_bytes &&
           a.sign_extend == b.sign_extend && a.srt == b.srt && a.sixty_four == b.sixty_four &&
           a.acquire_release == b.acquire_release;
}

unsigned log2_size(unsigned bytes) {
    switch (bytes) {
    case 1: return 0;
    case 2: return 1;
    case 4: return 2;
    default: return 3;
    }
}

void check_data_abort(u32 iss, u64 esr) {
    using D = DataAbortIss;
    const DataAbort d = D(iss).decode();
    check(same(d, D(static_cast<u32>(esr)).decode()));
    check_fault(bits(iss, 5, 0), FaultSource::data, d.fault);

    check(d.write == (bits(iss, 6, 6) != 0));
    check(d.s1ptw == (bits(iss, 7, 7) != 0));
    check(d.cache_maintenance == (bits(iss, 8, 8) != 0));
    check(d.ea == (bits(iss, 9, 9) != 0));
    check(d.far_not_valid == (bits(iss, 10, 10) != 0));
    check(d.set <= 3 && d.set == bits(iss, 12, 11));
    check(d.vncr == (bits(iss, 13, 13) != 0));
    check(d.isv == (bits(iss, 24, 24) != 0));
    if (d.isv) {
        check(d.access_bytes == 1 || d.access_bytes == 2 || d.access_bytes == 4 || d.access_bytes == 8);
        check(d.access_bytes == (1u << bits(iss, 23, 22)));
        check(d.access_bytes == D(iss).access_bytes());
        check(d.srt <= 31 && d.srt == bits(iss, 20, 16));
        check(d.sign_extend == (bits(iss, 21, 21) != 0));
        check(d.sixty_four == (bits(iss, 15, 15) != 0));
        check(d.acquire_release == (bits(iss, 14, 14) != 0));
    } else {
        // ISS[23:14] mean something else (or nothing) without ISV.
        check(d.access_bytes == 0 && !d.sign_extend && d.srt == 0 && !d.sixty_four && !d.acquire_release);
    }

    D enc = D{}
                .with<D::isv>(d.isv)
                .with<D::vncr>(d.vncr)
                .with<D::set>(d.set)
                .with<D::fnv>(d.far_not_valid)
                .with<D::ea>(d.ea)
                .with<D::cm>(d.cache_maintenance)
                .with<D::s1ptw>(d.s1ptw)
                .with<D::wnr>(d.write);
    u32 mask = (1u << 24) | 0x3fc0u; // ISV, bits 13:6
    if (d.isv) {
        enc = enc.with<D::sas>(log2_size(d.access_bytes))
                  .with<D::sse>(d.sign_extend)
                  .with<D::srt>(d.srt)
                  .with<D::sf>(d.sixty_four)
                  .with<D::ar>(d.acquire_release);
        mask |= 0x00ff'c000u; // bits 23:14
    }
    check(enc.raw() == (iss & mask));
}

void check_instr_abort(u32 iss, u64 esr) {
    using I = InstrAbortIss;
    const InstrAbort a = I(iss).decode();
    const InstrAbort w = I(static_cast<u32>(esr)).decode();
    check(a.fault == w.fault && a.s1ptw == w.s1ptw && a.ea == w.ea && a.far_not_valid == w.far_not_valid &&
          a.set == w.set);
    check_fault(bits(iss, 5, 0), FaultSource::instruction, a.fault);
    check(a.fault == I(iss).fault());
    check(a.set <= 3);
    const I enc = I{}.with<I::set>(a.set).with<I::fnv>(a.far_not_valid).with<I::ea>(a.ea).with<I::s1ptw>(a.s1ptw);
    check(enc.raw() == (iss & 0x1e80u)); // bits 12:11, 10, 9, 7
}

// ---------------------------------------------------------------------------
// EC 0x18: MSR, MRS, SYS.
// ---------------------------------------------------------------------------

struct SysRegRow {
    u8 op0, op1, crn, crm, op2;
};

// The encodings setwise traps, from each register's "Accessing" section.
constexpr SysRegRow kTrappedSysRegs[] = {
    {1, 0, 7, 6, 2},    {1, 0, 7, 10, 2},  {1, 0, 7, 14, 2},   // DC ISW, CSW, CISW
    {3, 0, 1, 0, 0},                                           // SCTLR_EL1
    {3, 0, 2, 0, 0},    {3, 0, 2, 0, 1},   {3, 0, 2, 0, 2},    // TTBR0, TTBR1, TCR
    {3, 0, 5, 1, 0},    {3, 0, 5, 1, 1},   {3, 0, 5, 2, 0},    // AFSR0, AFSR1, ESR
    {3, 0, 6, 0, 0},    {3, 0, 10, 2, 0},  {3, 0, 10, 3, 0},   // FAR, MAIR, AMAIR
    {3, 0, 13, 0, 1},                                          // CONTEXTIDR_EL1
    {3, 1, 0, 0, 0},    {3, 1, 0, 0, 1},   {3, 1, 0, 0, 2},    // CCSIDR, CLIDR, CCSIDR2
    {3, 2, 0, 0, 0},    {3, 3, 0, 0, 1},                       // CSSELR_EL1, CTR_EL0
    {3, 0, 12, 11, 5},                                         // ICC_SGI1R_EL1
    {3, 3, 14, 2, 0},   {3, 3, 14, 2, 1},  {3, 3, 14, 2, 2},   // CNTP_TVAL, CTL, CVAL
};

void check_sysreg(u32 iss, u64 esr) {
    using S = SysRegIss;
    const SysRegAccess a = S(iss).decode();
    const SysRegAccess w = S(static_cast<u32>(esr)).decode();
    check(a.key == w.key && a.rt == w.rt && a.read == w.read);
    check(a.op0 <= 3 && a.op1 <= 7 && a.crn <= 15 && a.crm <= 15 && a.op2 <= 7 && a.rt <= 31);
    check(a.op0 == bits(iss, 21, 20) && a.op2 == bits(iss, 19, 17) && a.op1 == bits(iss, 16, 14) &&
          a.crn == bits(iss, 13, 10) && a.rt == bits(iss, 9, 5) && a.crm == bits(iss, 4, 1));
    check(a.read == (bits(iss, 0, 0) != 0));
    check(a.key == sysreg_key(a.op0, a.op1, a.crn, a.crm, a.op2));
    check(a.key == S(iss).key());
    // The key ignores Rt, the direction and ISS[24:22].
    check(S(iss ^ 0x1c0'03e1u).key() == a.key);
    const S enc = S{}
                      .with<S::op0>(a.op0)
                      .with<S::op2>(a.op2)
                      .with<S::op1>(a.op1)
                      .with<S::crn>(a.crn)
                      .with<S::rt>(a.rt)
                      .with<S::crm>(a.crm)
                      .with<S::direction>(a.read);
    check(enc.raw() == (iss & 0x3f'ffffu));

    bool trapped = false;
    for (const SysRegRow& r : kTrappedSysRegs)
        if (a.op0 == r.op0 && a.op1 == r.op1 && a.crn == r.crn && a.crm == r.crm && a.op2 == r.op2) trapped = true;
    const char* name = sysreg_name(a.key);
    check((name != nullptr) == trapped);
    if (name != nullptr) check(printable(name));
}

// ---------------------------------------------------------------------------
// EC 0x01 WFx; EC 0x12/0x16 HVC, 0x13/0x17 SMC.
// ---------------------------------------------------------------------------

void check_wfx(u32 iss) {
    using W = WfxIss;
    const Wfx w = W(iss).decode();
    const unsigned kind = static_cast<unsigned>(w.kind);
    check(kind <= 3 && kind == bits(iss, 1, 0));
    check(w.kind == W(iss).kind());
    check(w.rv == (bits(iss, 2, 2) != 0));
    check(w.rn <= 31 && w.rn == bits(iss, 9, 5));
    check(w.cv == (bits(iss, 24, 24) != 0));
    check(w.cond <= 15 && w.cond == bits(iss, 23, 20));
    const W enc = W{}.with<W::cv>(w.cv).with<W::cond>(w.cond).with<W::rn>(w.rn).with<W::rv>(w.rv).with<W::ti>(kind);
    check(enc.raw() == (iss & 0x1f0'03e7u));
}

void check_hvc_smc(u32 iss) {
    check(HvcIss(iss).immediate() == (iss & 0xffffu));
    check(SmcIss(iss).immediate() == (iss & 0xffffu));
    check(HvcIss{}.with<HvcIss::imm16>(HvcIss(iss).immediate()).raw() == (iss & 0xffffu));
    const Smc32Iss s(iss);
    check(s.test<Smc32Iss::cv>() == (bits(iss, 24, 24) != 0));
    check(s.get<Smc32Iss::cond>() == bits(iss, 23, 20));
    check(s.test<Smc32Iss::ccknownpass>() == (bits(iss, 19, 19) != 0));
}

// ---------------------------------------------------------------------------
// EC 0x03/0x05 MCR/MRC, EC 0x04/0x0c MCRR/MRRC.
// ---------------------------------------------------------------------------

struct Cp15Row {
    u8 opc1, crn, crm, opc2;
};

constexpr Cp15Row kTrappedCp15[] = {
    {0, 7, 6, 2},  {0, 7, 10, 2}, {0, 7, 14, 2},                // DCISW, DCCSW, DCCISW
    {0, 1, 0, 0},                                               // SCTLR
    {0, 2, 0, 0},  {0, 2, 0, 1},  {0, 2, 0, 2},  {0, 2, 0, 3},  // TTBR0, TTBR1, TTBCR, TTBCR2
    {0, 3, 0, 0},                                               // DACR
    {0, 5, 0, 0},  {0, 5, 0, 1},  {0, 5, 1, 0},  {0, 5, 1, 1},  // DFSR, IFSR, ADFSR, AIFSR
    {0, 6, 0, 0},  {0, 6, 0, 2},                                // DFAR, IFAR
    {0, 10, 2, 0}, {0, 10, 2, 1}, {0, 10, 3, 0}, {0, 10, 3, 1}, // PRRR, NMRR, AMAIR0, AMAIR1
    {0, 13, 0, 1},                                              // CONTEXTIDR
    {1, 0, 0, 0},  {1, 0, 0, 1},  {1, 0, 0, 2},                 // CCSIDR, CLIDR, CCSIDR2
    {2, 0, 0, 0},  {0, 0, 0, 1},                                // CSSELR, CTR
    {0, 14, 2, 0}, {0, 14, 2, 1},                               // CNTP_TVAL, CNTP_CTL
};

struct Cp15_64Row {
    u8 opc1, crm;
};

constexpr Cp15_64Row kTrappedCp15_64[] = {
    {0, 2}, {1, 2}, // TTBR0, TTBR1 (64-bit)
    {0, 12},        // ICC_SGI1R
    {2, 14},        // CNTP_CVAL
};

void check_cp15(u32 iss, u64 esr) {
    using C = arm32::Cp15Iss;
    const arm32::Cp15Access a = C(iss).decode();
    const arm32::Cp15Access w = C(static_cast<u32>(esr)).decode();
    check(a.key == w.key && a.rt == w.rt && a.read == w.read && a.cv == w.cv && a.cond == w.cond);
    check(a.opc1 <= 7 && a.crn <= 15 && a.crm <= 15 && a.opc2 <= 7 && a.rt <= 31 && a.cond <= 15);
    check(a.cv == (bits(iss, 24, 24) != 0) && a.cond == bits(iss, 23, 20) && a.opc2 == bits(iss, 19, 17) &&
          a.opc1 == bits(iss, 16, 14) && a.crn == bits(iss, 13, 10) && a.rt == bits(iss, 9, 5) &&
          a.crm == bits(iss, 4, 1) && a.read == (bits(iss, 0, 0) != 0));
    check(a.key == arm32::cp15_key(a.opc1, a.crn, a.crm, a.opc2));
    check(a.key == C(iss).key());
    check(C(iss ^ 0x1f0'03e1u).key() == a.key); // CV, COND, Rt, direction
    const C enc = C{}
                      .with<C::cv>(a.cv)
                      .with<C::cond>(a.cond)
                      .with<C::opc2>(a.opc2)
                      .with<C::opc1>(a.opc1)
                      .with<C::crn>(a.crn)
                      .with<C::rt>(a.rt)
                      .with<C::crm>(a.crm)
                      .with<C::direction>(a.read);
    check(enc.raw() == iss);

    bool trapped = false;
    for (const Cp15Row& r : kTrappedCp15)
        if (a.opc1 == r.opc1 && a.crn == r.crn && a.crm == r.crm && a.opc2 == r.opc2) trapped = true;
    const char* name = arm32::cp15_name(a.key);
    check((name != nullptr) == trapped);
    if (name != nullptr) check(printable(name));
}

void check_cp15_64(u32 iss, u64 esr) {
    using C = arm32::Cp15_64Iss;
    const arm32::Cp15_64Access a = C(iss).decode();
    const arm32::Cp15_64Access w = C(static_cast<u32>(esr)).decode();
    check(a.key == w.key && a.rt == w.rt && a.rt2 == w.rt2 && a.read == w.read && a.cv == w.cv && a.cond == w.cond);
    check(a.opc1 <= 15 && a.crm <= 15 && a.rt <= 31 && a.rt2 <= 31 && a.cond <= 15);
    check(a.cv == (bits(iss, 24, 24) != 0) && a.cond == bits(iss, 23, 20) && a.opc1 == bits(iss, 19, 16) &&
          a.rt2 == bits(iss, 14, 10) && a.rt == bits(iss, 9, 5) && a.crm == bits(iss, 4, 1) &&
          a.read == (bits(iss, 0, 0) != 0));
    check(a.key == arm32::cp15_64_key(a.opc1, a.crm));
    check(a.key == C(iss).key());
    check(C(iss ^ 0x1f0'7fe1u).key() == a.key); // CV, COND, Rt2, Rt, direction (bit 15 is RES0)
    const C enc = C{}
                      .with<C::cv>(a.cv)
                      .with<C::cond>(a.cond)
                      .with<C::opc1>(a.opc1)
                      .with<C::rt2>(a.rt2)
                      .with<C::rt>(a.rt)
                      .with<C::crm>(a.crm)
                      .with<C::direction>(a.read);
    check(enc.raw() == (iss & ~(1u << 15)));

    bool trapped = false;
    for (const Cp15_64Row& r : kTrappedCp15_64)
        if (a.opc1 == r.opc1 && a.crm == r.crm) trapped = true;
    const char* name = arm32::cp15_64_name(a.key);
    check((name != nullptr) == trapped);
    if (name != nullptr) check(printable(name));
}

// ---------------------------------------------------------------------------
// AArch32 conditions and IT state.
// ---------------------------------------------------------------------------

// ConditionHolds() over N, Z, C, V (DDI 0487 shared pseudocode); 0b1111
// holds, as there.
bool model_holds(unsigned cond, u32 spsr) {
    const bool n = (spsr >> 31) & 1u, z = (spsr >> 30) & 1u, c = (spsr >> 29) & 1u, v = (spsr >> 28) & 1u;
    switch (cond & 15u) {
    case 0x0: return z;
    case 0x1: return !z;
    case 0x2: return c;
    case 0x3: return !c;
    case 0x4: return n;
    case 0x5: return !n;
    case 0x6: return v;
    case 0x7: return !v;
    case 0x8: return c && !z;
    case 0x9: return !c || z;
    case 0xa: return n == v;
    case 0xb: return n != v;
    case 0xc: return !z && n == v;
    case 0xd: return z || n != v;
    default: return true;
    }
}

// ITSTATE: IT[7:2] in SPSR[15:10], IT[1:0] in SPSR[26:25].
u8 model_it(u64 spsr) { return static_cast<u8>((bits(spsr, 15, 10) << 2) | bits(spsr, 26, 25)); }

constexpr u64 kItBits = (u64{3} << 25) | (u64{0x3f} << 10);

u64 model_with_it(u64 spsr, u8 it) {
    return (spsr & ~kItBits) | (u64{static_cast<u32>(it) >> 2} << 10) | (u64{it & 3u} << 25);
}

bool model_in_it_block(u64 spsr) {
    return bits(spsr, 4, 4) != 0 && bits(spsr, 5, 5) != 0 && (model_it(spsr) & 0xfu) != 0;
}

// ITAdvance().
u8 model_it_advance(u8 it) {
    if ((it & 7u) == 0) return 0;
    return static_cast<u8>((it & 0xe0u) | ((static_cast<u32>(it) << 1) & 0x1fu));
}

// IT[3:0] == 0 (no block) only with IT[7:4] == 0.
bool it_well_formed(u8 it) { return (it & 0xfu) != 0 || it == 0; }

void check_conditions(u32 iss, u64 esr, u32 spsr, u32 other) {
    const u32 same_flags = (spsr & 0xf000'0000u) | (other & 0x0fff'ffffu);
    for (unsigned c = 0; c < 16; ++c) {
        const auto cond = static_cast<arm32::Cond>(c);
        const bool holds = arm32::condition_holds(cond, spsr);
        check(holds == model_holds(c, spsr));
        check(holds == arm32::condition_holds(cond, same_flags));
    }

    const bool cv = bits(iss, 24, 24) != 0;
    bool expected = true;
    if (cv) {
        expected = model_holds(bits(iss, 23, 20), spsr);
    } else if (model_in_it_block(spsr)) {
        expected = model_holds(static_cast<unsigned>(model_it(spsr) >> 4), spsr);
    }
    check(arm32::in_it_block(spsr) == model_in_it_block(spsr));
    const bool passes = arm32::trapped_instruction_passes(iss, spsr);
    check(passes == expected);
    check(arm32::trapped_instruction_passes(static_cast<u32>(esr), spsr) == passes);
    check(arm32::trapped_instruction_passes((iss & 0x1f0'0000u) | (other & ~0x1f0'0000u), spsr) == passes);

    const u8 it = arm32::it_state(spsr);
    check(it == model_it(spsr));
    check(arm32::with_it_state(spsr, it) == spsr);
    const u8 fresh = static_cast<u8>(other >> 24);
    const u32 replaced = arm32::with_it_state(spsr, fresh);
    check(replaced == static_cast<u32>(model_with_it(spsr, fresh)));
    check(arm32::it_state(replaced) == fresh);
}

// ---------------------------------------------------------------------------
// Retiring an instruction; the AArch32 register view.
// ---------------------------------------------------------------------------

struct Chain {
    unsigned in_block = 0; // chained retires inside one IT block so far
};

void check_retire(u64 elr, u64 spsr, bool il, const arm32::Retired& r, Chain& chain) {
    const u64 step = il ? 4 : 2;
    if (bits(spsr, 4, 4) == 0) {
        check(r.elr == elr + step);
        check(r.spsr == spsr);
        chain.in_block = 0;
        return;
    }
    check(r.elr <= 0xffff'ffffu);
    check(((r.elr - elr) & 0xffff'ffffu) == step);
    check((r.spsr & ~kItBits) == (spsr & ~kItBits)); // bits 63:32 included
    const u8 before = model_it(spsr);
    const u8 after = model_it(r.spsr);
    if (!model_in_it_block(spsr)) {
        check(after == before);
        chain.in_block = 0;
        return;
    }
    check(after == model_it_advance(before));
    check(it_well_formed(after));
    if (after != 0) check((after & 0xe0u) == (before & 0xe0u)); // the base condition holds through a block
    ++chain.in_block;
    check(chain.in_block <= 4);
    if (after == 0) chain.in_block = 0;
}

constexpr bool valid_mode(u32 m) {
    switch (m) {
    case 0x10: case 0x11: case 0x12: case 0x13: case 0x16: case 0x17: case 0x1a: case 0x1b: case 0x1f:
        return true;
    default:
        return false;
    }
}

// The X register of AArch32 register r in mode m (DDI 0487 "Mapping of the
// general-purpose registers between the Execution states"): -1 for no
// mapping (R13/R14 in Monitor mode).
int model_reg_index(unsigned r, u32 m) {
    if (r < 8) return static_cast<int>(r);
    if (r < 13) return m == 0x11 ? static_cast<int>(r) + 16 : static_cast<int>(r);
    const bool sp = r == 13;
    switch (m) {
    case 0x10: case 0x1f: return sp ? 13 : 14;
    case 0x1a: return sp ? 15 : 14;
    case 0x12: return sp ? 17 : 16;
    case 0x13: return sp ? 19 : 18;
    case 0x17: return sp ? 21 : 20;
    case 0x1b: return sp ? 23 : 22;
    case 0x11: return sp ? 29 : 30;
    default: return -1;
    }
}

void check_regs32(ExceptionFrame& f, unsigned r, bool whole_word) {
    const u32 spsr = static_cast<u32>(f.spsr);
    const u32 m = spsr & 0x1fu;

    const Result<arm32::Mode> mode = arm32::mode_of(spsr);
    check(mode.ok() == ((m & 0x10u) != 0 && valid_mode(m)));
    if (mode.ok()) check(static_cast<u32>(mode.value()) == m);
    check(arm32::is_thumb(spsr) == ((spsr & 0x30u) == 0x30u));

    const u32 mode_arg = whole_word ? spsr : m;
    for (unsigned reg : {r, r + 1, 13u, 14u, 15u, r * 16 + 3}) {
        const Result<unsigned> idx = arm32::aarch32_reg_index(reg, mode_arg);
        if (mode_arg > 0x1f || !valid_mode(mode_arg)) {
            check(idx.status() == Status::invalid_argument);
            continue;
        }
        if (reg > 14) {
            check(idx.status() == Status::out_of_range);
            continue;
        }
        const int want = model_reg_index(reg, mode_arg);
        if (want < 0) {
            check(idx.status() == Status::unsupported);
            continue;
        }
        check(idx.ok() && idx.value() <= 30 && idx.value() == static_cast<unsigned>(want));
    }

    if (mode_arg > 0x1f || !valid_mode(mode_arg) || r > 14 || model_reg_index(r, mode_arg) < 0) {
        check(!arm32::read_reg32(std::span<const u64, 31>(f.x), r, mode_arg).ok());
        u64 kept[31];
        std::memcpy(kept, f.x, sizeof kept);
        check(!arm32::write_reg32(std::span<u64, 31>(f.x), r, mode_arg, ~0u).ok());
        check(std::memcmp(kept, f.x, sizeof kept) == 0); // a refused write writes nothing
        return;
    }
    u64 before[31];
    std::memcpy(before, f.x, sizeof before);
    const u32 value = static_cast<u32>(f.esr ^ f.elr);
    check(arm32::write_reg32(std::span<u64, 31>(f.x), r, mode_arg, value).ok());
    const Result<u32> back = arm32::read_reg32(std::span<const u64, 31>(f.x), r, mode_arg);
    check(back.ok() && back.value() == value);
    const unsigned i = static_cast<unsigned>(model_reg_index(r, mode_arg));
    for (unsigned k = 0; k < 31; ++k) check(f.x[k] == (k == i ? u64{value} : before[k]));
}

// The ESR with a trapped register's encoding in its key fields (which =
// 1: MSR/MRS, 2: MCR/MRC, 3: MCRR/MRRC): a 20-bit match a random ISS
// would seldom make.
u64 with_trapped_key(u64 esr, unsigned which) {
    const usize pick = static_cast<usize>(esr >> 56);
    switch (which) {
    case 1: {
        const SysRegRow& r = kTrappedSysRegs[pick % std::size(kTrappedSysRegs)];
        const u64 key = (u64{r.op0} << 20) | (u64{r.op2} << 17) | (u64{r.op1} << 14) | (u64{r.crn} << 10) |
                        (u64{r.crm} << 1);
        return (esr & ~u64{0x3f'fc1e}) | key;
    }
    case 2: {
        const Cp15Row& r = kTrappedCp15[pick % std::size(kTrappedCp15)];
        const u64 key = (u64{r.opc2} << 17) | (u64{r.opc1} << 14) | (u64{r.crn} << 10) | (u64{r.crm} << 1);
        return (esr & ~u64{0x0f'fc1e}) | key;
    }
    case 3: {
        const Cp15_64Row& r = kTrappedCp15_64[pick % std::size(kTrappedCp15_64)];
        return (esr & ~u64{0x0f'001e}) | (u64{r.opc1} << 16) | (u64{r.crm} << 1);
    }
    default:
        return esr;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ExceptionFrame f{};
    Chain chain;
    for (unsigned k = 0; k < 31; ++k) f.x[k] = 0x0101'0101'0101'0101ull * k;

    for (std::size_t at = 0; at + kStep <= size; at += kStep) {
        const std::uint8_t* s = data + at;
        const bool chained = (s[0] & 1u) != 0 && at != 0;
        f.esr = with_trapped_key(load64(s + 1), (s[0] >> 2) & 3u);
        if (!chained) {
            f.elr = load64(s + 9);
            f.spsr = load64(s + 17);
            chain.in_block = 0;
        }
        const u64 other = load64(s + 9) ^ load64(s + 17);

        check_syndrome(f.esr);
        const Syndrome syn = Syndrome::decode(f.esr);
        const u32 iss = syn.iss;
        check_data_abort(iss, f.esr);
        check_instr_abort(iss, f.esr);
        check_sysreg(iss, f.esr);
        check_wfx(iss);
        check_hvc_smc(iss);
        check_cp15(iss, f.esr);
        check_cp15_64(iss, f.esr);
        check_conditions(iss, f.esr, static_cast<u32>(f.spsr), static_cast<u32>(other));
        check_regs32(f, (s[0] >> 4) & 15u, (s[0] & 2u) != 0);

        const arm32::Retired r = arm32::retire_instruction(f.elr, f.spsr, syn.il32);
        check_retire(f.elr, f.spsr, syn.il32, r, chain);
        f.elr = r.elr;
        f.spsr = r.spsr;
    }
    return 0;
}
