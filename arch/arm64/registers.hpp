// AArch64 system register layouts, field by field as DDI 0487 (K.a) prints
// them. Only layouts live here: the mrs/msr that read and write them are in
// arch/arm64/sysreg.hpp, so every layout is unit-tested on the host.
#pragma once

#include "setwise/bits.hpp"

namespace setwise::arm64 {

// HCR_EL2, Hypervisor Configuration Register (D19.2.48).
struct HcrEl2 : Register<HcrEl2> {
    using Register::Register;
    using vm = Bit1<0>;     // stage-2 translation for EL1&0
    using swio = Bit1<1>;   // set/way invalidate -> clean+invalidate
    using ptw = Bit1<2>;
    using fmo = Bit1<3>;    // physical FIQ routed to EL2
    using imo = Bit1<4>;    // physical IRQ routed to EL2
    using amo = Bit1<5>;    // SError routed to EL2
    using vf = Bit1<6>;
    using vi = Bit1<7>;
    using vse = Bit1<8>;
    using fb = Bit1<9>;     // broadcast TLB/cache maintenance to the inner shareable domain
    using bsu = Field<11, 10>;
    using dc = Bit1<12>;
    using twi = Bit1<13>;   // trap WFI
    using twe = Bit1<14>;   // trap WFE
    using tid0 = Bit1<15>;
    using tid1 = Bit1<16>;
    using tid2 = Bit1<17>;  // trap cache identification (CTR, CCSIDR, CLIDR, CSSELR)
    using tid3 = Bit1<18>;
    using tsc = Bit1<19>;   // trap SMC
    using tidcp = Bit1<20>;
    using tacr = Bit1<21>;
    using tsw = Bit1<22>;   // trap data cache maintenance by set/way
    using tpcp = Bit1<23>;
    using tpu = Bit1<24>;
    using ttlb = Bit1<25>;
    using tvm = Bit1<26>;   // trap writes to the virtual-memory control registers
    using tge = Bit1<27>;
    using tdz = Bit1<28>;
    using hcd = Bit1<29>;
    using trvm = Bit1<30>;
    using rw = Bit1<31>;    // EL1 is AArch64
    using cd = Bit1<32>;
    using id = Bit1<33>;
    using e2h = Bit1<34>;
    using tlor = Bit1<35>;
    using terr = Bit1<36>;
    using tea = Bit1<37>;
    using apk = Bit1<40>;
    using api = Bit1<41>;
    using fwb = Bit1<46>;   // FEAT_S2FWB: stage 2 forces write-back
};

// SCTLR_EL2 with HCR_EL2.E2H == 0 (D19.2.118). RES1 bits per that layout.
struct SctlrEl2 : Register<SctlrEl2> {
    using Register::Register;
    static constexpr u64 kRes1 = (u64{1} << 4) | (u64{1} << 5) | (u64{1} << 11) | (u64{1} << 16) |
                                 (u64{1} << 18) | (u64{1} << 22) | (u64{1} << 23) | (u64{1} << 28) |
                                 (u64{1} << 29);
    using m = Bit1<0>;    // stage-1 MMU enable
    using a = Bit1<1>;    // alignment check
    using c = Bit1<2>;    // data cacheability
    using sa = Bit1<3>;   // SP alignment check
    using i = Bit1<12>;   // instruction cacheability
    using wxn = Bit1<19>;
    using ee = Bit1<25>;  // big-endian data
};

// TCR_EL2 with HCR_EL2.E2H == 0 (D19.2.138): one translation range, TTBR0_EL2.
struct TcrEl2 : Register<TcrEl2> {
    using Register::Register;
    static constexpr u64 kRes1 = (u64{1} << 31) | (u64{1} << 23);
    using t0sz = Field<5, 0>;
    using irgn0 = Field<9, 8>;   // 1 = Normal, inner write-back read/write-allocate
    using orgn0 = Field<11, 10>;
    using sh0 = Field<13, 12>;   // 3 = inner shareable
    using tg0 = Field<15, 14>;   // 0 = 4 KiB granule
    using ps = Field<18, 16>;    // physical address size, same encoding as PARange
    using tbi = Bit1<20>;
};

// VTCR_EL2, stage-2 translation control (D19.2.160).
struct VtcrEl2 : Register<VtcrEl2> {
    using Register::Register;
    static constexpr u64 kRes1 = u64{1} << 31;
    using t0sz = Field<5, 0>;
    using sl0 = Field<7, 6>;     // starting level; with a 4 KiB granule 0 = level 2, 1 = level 1, 2 = level 0
    using irgn0 = Field<9, 8>;
    using orgn0 = Field<11, 10>;
    using sh0 = Field<13, 12>;
    using tg0 = Field<15, 14>;
    using ps = Field<18, 16>;
    using vs = Bit1<19>;         // 16-bit VMID
    using ha = Bit1<21>;
    using hd = Bit1<22>;
};

// MAIR_EL2: eight 8-bit attribute fields (D19.2.83).
struct MairEl2 : Register<MairEl2> {
    using Register::Register;
    static constexpr u8 kDeviceNgnrne = 0x00;
    static constexpr u8 kDeviceNgnre = 0x04;
    static constexpr u8 kNormalNonCacheable = 0x44;
    static constexpr u8 kNormalWriteBack = 0xff; // inner/outer WB, read/write-allocate, non-transient
    constexpr MairEl2 with_attr(unsigned index, u8 attr) const {
        const unsigned sh = index * 8;
        return MairEl2((raw() & ~(u64{0xff} << sh)) | (u64{attr} << sh));
    }
    constexpr u8 attr(unsigned index) const { return static_cast<u8>(raw() >> (index * 8)); }
};

// ESR_ELx, Exception Syndrome Register (D19.2.41).
struct Esr : Register<Esr> {
    using Register::Register;
    using iss = Field<24, 0>;
    using il = Bit1<25>;   // 32-bit instruction trapped
    using ec = Field<31, 26>;
    using iss2 = Field<36, 32>;
};

// SPSR_EL2 (D19.2.130), the parts setwise reads.
struct SpsrEl2 : Register<SpsrEl2> {
    using Register::Register;
    using m = Field<4, 0>;   // AArch64: M[3:0] is EL and SP; M[4] = 1 for AArch32
    using m4 = Bit1<4>;      // 1: exception taken from AArch32
    using t = Bit1<5>;       // AArch32 Thumb
    using f = Bit1<6>;
    using i = Bit1<7>;
    using a = Bit1<8>;
    using d = Bit1<9>;
    using il = Bit1<20>;
    using ss = Bit1<21>;
    using v = Bit1<28>;
    using c = Bit1<29>;
    using z = Bit1<30>;
    using n = Bit1<31>;
};

// MIDR_EL1, Main ID Register (D19.2.86).
struct MidrEl1 : Register<MidrEl1> {
    using Register::Register;
    using revision = Field<3, 0>;
    using partnum = Field<15, 4>;
    using architecture = Field<19, 16>;
    using variant = Field<23, 20>;
    using implementer = Field<31, 24>;
};

// MPIDR_EL1, Multiprocessor Affinity Register (D19.2.87).
struct MpidrEl1 : Register<MpidrEl1> {
    using Register::Register;
    using aff0 = Field<7, 0>;
    using aff1 = Field<15, 8>;
    using aff2 = Field<23, 16>;
    using mt = Bit1<24>;
    using u = Bit1<30>;
    using aff3 = Field<39, 32>;
    static constexpr u64 kAffinityMask = 0xff00ffffffull;
    constexpr u64 affinity() const { return raw() & kAffinityMask; }
};

// ID_AA64MMFR0_EL1 (D19.2.64).
struct IdAa64Mmfr0El1 : Register<IdAa64Mmfr0El1> {
    using Register::Register;
    using parange = Field<3, 0>;
    using asidbits = Field<7, 4>;
    using tgran4 = Field<31, 28>;
};

// ID_AA64MMFR2_EL1 (D19.2.66): FEAT_S2FWB lives here.
struct IdAa64Mmfr2El1 : Register<IdAa64Mmfr2El1> {
    using Register::Register;
    using fwb = Field<43, 40>;
};

// Physical address size of an ID_AA64MMFR0_EL1.PARange (or TCR.PS) code;
// 0 for a reserved code.
constexpr unsigned parange_bits(u64 code) {
    switch (code) {
    case 0: return 32;
    case 1: return 36;
    case 2: return 40;
    case 3: return 42;
    case 4: return 44;
    case 5: return 48;
    case 6: return 52;
    default: return 0;
    }
}

// CLIDR_EL1, Cache Level ID Register (D19.2.27).
struct ClidrEl1 : Register<ClidrEl1> {
    using Register::Register;
    // Ctype<n> for level n (1..7): 3 bits each from bit 0.
    constexpr unsigned ctype(unsigned level) const {
        return static_cast<unsigned>((raw() >> (3 * (level - 1))) & 7);
    }
    using louis = Field<23, 21>;
    using loc = Field<26, 24>;
    using louu = Field<29, 27>;
};

// CCSIDR_EL1 without FEAT_CCIDX (D19.2.25).
struct CcsidrEl1 : Register<CcsidrEl1> {
    using Register::Register;
    using line_size = Field<2, 0>;      // log2(bytes per line) - 4
    using associativity = Field<12, 3>; // ways - 1
    using num_sets = Field<27, 13>;     // sets - 1
};

// CTR_EL0, Cache Type Register (D19.2.34).
struct CtrEl0 : Register<CtrEl0> {
    using Register::Register;
    using iminline = Field<3, 0>; // log2(words) of the smallest I-cache line
    using l1ip = Field<15, 14>;
    using dminline = Field<19, 16>; // log2(words) of the smallest D-cache line
    using erg = Field<23, 20>;
    using cwg = Field<27, 24>;
    using idc = Bit1<28>;
    using dic = Bit1<29>;
    constexpr u64 dcache_line_bytes() const { return u64{4} << get<dminline>(); }
    constexpr u64 icache_line_bytes() const { return u64{4} << get<iminline>(); }
};

} // namespace setwise::arm64
