// ISS decoders: the value structs and the names used in logs. The field
// layouts and their sources are in iss.hpp.
#include "arch/arm64/iss.hpp"

namespace setwise::arm64 {

const char* fault_type_name(FaultType t) {
    switch (t) {
    case FaultType::address_size: return "address size fault";
    case FaultType::translation: return "translation fault";
    case FaultType::access_flag: return "access flag fault";
    case FaultType::permission: return "permission fault";
    case FaultType::sync_external: return "synchronous external abort";
    case FaultType::sync_external_walk: return "synchronous external abort on table walk";
    case FaultType::tag_check: return "tag check fault";
    case FaultType::parity_ecc: return "parity/ECC error";
    case FaultType::parity_ecc_walk: return "parity/ECC error on table walk";
    case FaultType::alignment: return "alignment fault";
    case FaultType::granule_protection: return "granule protection fault";
    case FaultType::granule_protection_walk: return "granule protection fault on table walk";
    case FaultType::tlb_conflict: return "TLB conflict abort";
    case FaultType::unsupported_atomic_update: return "unsupported atomic hardware update";
    case FaultType::lockdown: return "lockdown abort";
    case FaultType::unsupported_exclusive_atomic: return "unsupported exclusive or atomic access";
    case FaultType::reserved: return "reserved fault status code";
    }
    return "reserved fault status code";
}

DataAbort DataAbortIss::decode() const {
    DataAbort d;
    d.fault = fault();
    d.write = test<wnr>();
    d.s1ptw = test<s1ptw>();
    d.cache_maintenance = test<cm>();
    d.ea = test<ea>();
    d.far_not_valid = test<fnv>();
    d.vncr = test<vncr>();
    d.set = static_cast<u8>(get<set>());
    d.isv = test<isv>();
    // ISS[23:14] are RES0 without ISV (and bit 15 is FnP, bit 14 PFV):
    // leave the syndrome zeroed rather than report what those bits mean
    // in another encoding.
    if (d.isv) {
        d.access_bytes = access_bytes();
        d.sign_extend = test<sse>();
        d.srt = static_cast<unsigned>(get<srt>());
        d.sixty_four = test<sf>();
        d.acquire_release = test<ar>();
    }
    return d;
}

InstrAbort InstrAbortIss::decode() const {
    InstrAbort a;
    a.fault = fault();
    a.s1ptw = test<s1ptw>();
    a.ea = test<ea>();
    a.far_not_valid = test<fnv>();
    a.set = static_cast<u8>(get<set>());
    return a;
}

SysRegAccess SysRegIss::decode() const {
    SysRegAccess s;
    s.key = key();
    s.op0 = static_cast<u8>(get<op0>());
    s.op1 = static_cast<u8>(get<op1>());
    s.crn = static_cast<u8>(get<crn>());
    s.crm = static_cast<u8>(get<crm>());
    s.op2 = static_cast<u8>(get<op2>());
    s.rt = static_cast<u8>(get<rt>());
    s.read = is_read();
    return s;
}

Wfx WfxIss::decode() const {
    Wfx w;
    w.kind = kind();
    w.rv = test<rv>();
    w.rn = static_cast<u8>(get<rn>());
    w.cv = test<cv>();
    w.cond = static_cast<u8>(get<cond>());
    return w;
}

namespace {

struct NamedKey {
    SysRegKey key;
    const char* name;
};

constexpr NamedKey kSysRegNames[] = {
    {sysreg::kDcIsw, "DC ISW"},
    {sysreg::kDcCsw, "DC CSW"},
    {sysreg::kDcCisw, "DC CISW"},
    {sysreg::kSctlrEl1, "SCTLR_EL1"},
    {sysreg::kTtbr0El1, "TTBR0_EL1"},
    {sysreg::kTtbr1El1, "TTBR1_EL1"},
    {sysreg::kTcrEl1, "TCR_EL1"},
    {sysreg::kAfsr0El1, "AFSR0_EL1"},
    {sysreg::kAfsr1El1, "AFSR1_EL1"},
    {sysreg::kEsrEl1, "ESR_EL1"},
    {sysreg::kFarEl1, "FAR_EL1"},
    {sysreg::kMairEl1, "MAIR_EL1"},
    {sysreg::kAmairEl1, "AMAIR_EL1"},
    {sysreg::kContextidrEl1, "CONTEXTIDR_EL1"},
    {sysreg::kCcsidrEl1, "CCSIDR_EL1"},
    {sysreg::kClidrEl1, "CLIDR_EL1"},
    {sysreg::kCcsidr2El1, "CCSIDR2_EL1"},
    {sysreg::kCsselrEl1, "CSSELR_EL1"},
    {sysreg::kCtrEl0, "CTR_EL0"},
    {sysreg::kIccSgi1rEl1, "ICC_SGI1R_EL1"},
    {sysreg::kCntpTvalEl0, "CNTP_TVAL_EL0"},
    {sysreg::kCntpCtlEl0, "CNTP_CTL_EL0"},
    {sysreg::kCntpCvalEl0, "CNTP_CVAL_EL0"},
};

} // namespace

const char* sysreg_name(SysRegKey key) {
    for (const NamedKey& n : kSysRegNames)
        if (n.key == key) return n.name;
    return nullptr;
}

} // namespace setwise::arm64
