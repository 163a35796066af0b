// Trapped CP15/CP14 accesses: the value structs and the names used in logs.
// Layouts and sources are in cp15.hpp.
#include "arch/arm32/cp15.hpp"

namespace setwise::arm32 {

Cp15Access Cp15Iss::decode() const {
    Cp15Access a;
    a.key = key();
    a.opc1 = static_cast<u8>(get<opc1>());
    a.crn = static_cast<u8>(get<crn>());
    a.crm = static_cast<u8>(get<crm>());
    a.opc2 = static_cast<u8>(get<opc2>());
    a.rt = static_cast<u8>(get<rt>());
    a.read = is_read();
    a.cv = test<cv>();
    a.cond = static_cast<u8>(get<cond>());
    return a;
}

Cp15_64Access Cp15_64Iss::decode() const {
    Cp15_64Access a;
    a.key = key();
    a.opc1 = static_cast<u8>(get<opc1>());
    a.crm = static_cast<u8>(get<crm>());
    a.rt = static_cast<u8>(get<rt>());
    a.rt2 = static_cast<u8>(get<rt2>());
    a.read = is_read();
    a.cv = test<cv>();
    a.cond = static_cast<u8>(get<cond>());
    return a;
}

namespace {

template <typename Key>
struct Named {
    Key key;
    const char* name;
};

// PRRR/NMRR are listed under their short-descriptor names; with LPAE the
// same encodings are MAIR0/MAIR1.
constexpr Named<Cp15Key> kNames[] = {
    {cp15::kDcisw, "DCISW"},   {cp15::kDccsw, "DCCSW"},     {cp15::kDccisw, "DCCISW"},
    {cp15::kSctlr, "SCTLR"},   {cp15::kTtbr0, "TTBR0"},     {cp15::kTtbr1, "TTBR1"},
    {cp15::kTtbcr, "TTBCR"},   {cp15::kTtbcr2, "TTBCR2"},   {cp15::kDacr, "DACR"},
    {cp15::kDfsr, "DFSR"},     {cp15::kIfsr, "IFSR"},       {cp15::kAdfsr, "ADFSR"},
    {cp15::kAifsr, "AIFSR"},   {cp15::kDfar, "DFAR"},       {cp15::kIfar, "IFAR"},
    {cp15::kPrrr, "PRRR/MAIR0"}, {cp15::kNmrr, "NMRR/MAIR1"}, {cp15::kAmair0, "AMAIR0"},
    {cp15::kAmair1, "AMAIR1"}, {cp15::kContextidr, "CONTEXTIDR"},
    {cp15::kCcsidr, "CCSIDR"}, {cp15::kClidr, "CLIDR"},     {cp15::kCcsidr2, "CCSIDR2"},
    {cp15::kCsselr, "CSSELR"}, {cp15::kCtr, "CTR"},
    {cp15::kCntpTval, "CNTP_TVAL"}, {cp15::kCntpCtl, "CNTP_CTL"},
};

constexpr Named<Cp15_64Key> kNames64[] = {
    {cp15::kTtbr0_64, "TTBR0 (64-bit)"},
    {cp15::kTtbr1_64, "TTBR1 (64-bit)"},
    {cp15::kIccSgi1r, "ICC_SGI1R"},
    {cp15::kCntpCval, "CNTP_CVAL"},
};

template <typename Key, usize N>
const char* lookup(const Named<Key> (&table)[N], Key key) {
    for (const Named<Key>& n : table)
        if (n.key == key) return n.name;
    return nullptr;
}

} // namespace

const char* cp15_name(Cp15Key key) { return lookup(kNames, key); }
const char* cp15_64_name(Cp15_64Key key) { return lookup(kNames64, key); }

} // namespace setwise::arm32
