#include "p2m/vtcr.hpp"

namespace setwise::p2m {

using arm64::VtcrEl2;

Result<Stage2Geometry> stage2_geometry(u64 parange, unsigned ipa_bits) {
    const unsigned pa_bits = arm64::parange_bits(parange);
    if (pa_bits == 0 || ipa_bits < 32 || ipa_bits > 48) return Status::invalid_argument;
    const unsigned pa_code = parange > 5 ? 5 : static_cast<unsigned>(parange); // no FEAT_LPA2 tables
    const unsigned limit = pa_bits > 48 ? 48 : pa_bits;
    if (ipa_bits > limit) ipa_bits = limit;

    Stage2Geometry g;
    g.ipa_bits = ipa_bits;
    u64 sl0 = 0;
    if (ipa_bits <= 42) {
        // Level 1 resolves IPA[38:30]; bits above 39 select a concatenated table.
        g.start_level = 1;
        g.root_tables = ipa_bits > 39 ? 1u << (ipa_bits - 39) : 1u;
        sl0 = 1; // 4 KiB granule: SL0 = 1 starts at level 1
    } else {
        g.start_level = 0;
        g.root_tables = 1;
        sl0 = 2; // SL0 = 2 starts at level 0
    }
    g.vtcr = VtcrEl2(VtcrEl2::kRes1)
                 .with<VtcrEl2::t0sz>(64 - ipa_bits)
                 .with<VtcrEl2::sl0>(sl0)
                 .with<VtcrEl2::irgn0>(1)
                 .with<VtcrEl2::orgn0>(1)
                 .with<VtcrEl2::sh0>(3)
                 .with<VtcrEl2::tg0>(0)
                 .with<VtcrEl2::ps>(pa_code);
    return g;
}

} // namespace setwise::p2m
