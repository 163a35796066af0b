// Stage-2 translation geometry and VTCR_EL2 (DDI 0487 D8.2.6, "Overview of
// the VMSAv8-64 address translation stages", and the VTCR_EL2 description):
// 4 KiB granule, IPA size bounded by the CPU's PARange. The walk starts at
// level 1 for IPAs up to 42 bits, concatenating up to 8 level-1 tables above
// 39 bits (as KVM does for its default 40-bit IPA), else at level 0.
#pragma once

#include "arch/arm64/registers.hpp"
#include "setwise/result.hpp"

namespace setwise::p2m {

struct Stage2Geometry {
    arm64::VtcrEl2 vtcr;
    unsigned ipa_bits = 0;
    unsigned start_level = 0;
    unsigned root_tables = 0; // concatenated root tables (each 4 KiB)
};

// parange: ID_AA64MMFR0_EL1.PARange. ipa_bits: what the guests need (32..48),
// clamped to the physical address size. invalid_argument outside 32..48 or
// for a reserved PARange code.
Result<Stage2Geometry> stage2_geometry(u64 parange, unsigned ipa_bits);

} // namespace setwise::p2m
