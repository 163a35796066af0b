// GIC register maps and layouts.
//
//   GICv2: distributor (GICD), CPU interface (GICC), virtual interface
//          control (GICH) -- ARM IHI 0048B.b, chapters 4 and 5.
//   GICv3: distributor (GICD), redistributor RD_base and SGI_base frames
//          (GICR), the CPU interface system registers (ICC_*) and the
//          virtual interface control system registers (ICH_*) -- ARM IHI
//          0069H, chapter 12.
//
// MMIO blocks are `enum class` byte-offset maps; comments give width,
// access and the GIC versions that have the register. An array register
// (IGROUPR<n>, IPRIORITYR<n>, ...) is named by its first element; the one
// that holds a given INTID comes from intid_offset(). The same maps serve
// the physical drivers (gic_v2.cpp, gic_v3.cpp) and, later, the emulated
// vGIC. Register layouts are Register<> value types with fields as the
// specifications print them, unit-tested on the host
// (tests/host/gic_driver_test.cpp).
#pragma once

#include "setwise/bits.hpp"

namespace setwise::arm64 {

// ---------------------------------------------------------------------------
// INTID space (IHI 0069H and IHI 0048B, "INTIDs" / "Interrupt IDs")

inline constexpr u32 kSgiCount = 16;       // INTIDs 0..15: software generated
inline constexpr u32 kPrivateIntids = 32;  // 16..31: PPIs, banked per CPU
inline constexpr u32 kMaxSpiIntids = 1020; // SPIs end at 1019
inline constexpr u32 kFirstSpecialIntid = 1020;
inline constexpr u32 kSpuriousIntid = 1023; // "no pending interrupt"

constexpr bool is_special_intid(u32 intid) { return intid >= kFirstSpecialIntid && intid <= kSpuriousIntid; }

// ---------------------------------------------------------------------------
// Distributor, GICv2 and GICv3 (IHI 0048B and IHI 0069H, distributor register maps)

enum class GicdReg : u32 {
    ctlr = 0x0000,       // 32 RW  v2 v3  control (layout: GicdCtlr)
    typer = 0x0004,      // 32 RO  v2 v3  type (GicdTyper)
    iidr = 0x0008,       // 32 RO  v2 v3  implementer identification
    typer2 = 0x000c,     // 32 RO  v3.1   type 2
    statusr = 0x0010,    // 32 RW  v3     error reporting status (optional)
    setspi_nsr = 0x0040, // 32 WO  v3     set SPI pending, non-secure (GICD_TYPER.MBIS)
    clrspi_nsr = 0x0048, // 32 WO  v3
    setspi_sr = 0x0050,  // 32 WO  v3
    clrspi_sr = 0x0058,  // 32 WO  v3
    igroupr = 0x0080,    // 32 RW  v2 v3  [n] group, 1 bit per INTID (v3: n >= 1 with ARE)
    isenabler = 0x0100,  // 32 RW  v2 v3  [n] set-enable, 1 bit per INTID, write 1 to set
    icenabler = 0x0180,  // 32 RW  v2 v3  [n] clear-enable, write 1 to clear
    ispendr = 0x0200,    // 32 RW  v2 v3  [n] set-pending
    icpendr = 0x0280,    // 32 RW  v2 v3  [n] clear-pending
    isactiver = 0x0300,  // 32 RW  v2 v3  [n] set-active
    icactiver = 0x0380,  // 32 RW  v2 v3  [n] clear-active
    ipriorityr = 0x0400, // 32 RW  v2 v3  [n] priority, 8 bits per INTID, byte accessible
    itargetsr = 0x0800,  // 32 RW  v2     [n] CPU targets, 8 bits per INTID, byte accessible;
                         //               [0..7] (INTIDs 0..31) RO and banked: they read the
                         //               reading CPU's own interface mask (IHI 0048B, GICD_ITARGETSRn)
    icfgr = 0x0c00,      // 32 RW  v2 v3  [n] config, 2 bits per INTID (bit 1: 1 = edge)
    igrpmodr = 0x0d00,   // 32 RW  v3     [n] group modifier, 1 bit per INTID
    nsacr = 0x0e00,      // 32 RW  v2 v3  [n] non-secure access control, 2 bits per INTID
    sgir = 0x0f00,       // 32 WO  v2     software generated interrupt (GicdSgir)
    cpendsgir = 0x0f10,  // 32 RW  v2     [n] SGI clear-pending, 8 bits per SGI
    spendsgir = 0x0f20,  // 32 RW  v2     [n] SGI set-pending
    icpidr2 = 0x0fe8,    // 32 RO  v2     peripheral ID 2, ArchRev in [7:4] (GicPidr2)
    irouter = 0x6000,    // 64 RW  v3     [n] routing of SPI n, 8 bytes each (n = 32..1019),
                         //               32-bit halves accessible (IHI 0069H, register access rules)
    pidr2 = 0xffe8,      // 32 RO  v3     peripheral ID 2, ArchRev in [7:4] (GicPidr2)
};

// The register of array `base` that holds `intid`, for arrays with
// `bits_per_intid` bits per INTID (1, 2 or 8; 64 for GICD_IROUTER).
template <typename Reg>
constexpr u64 intid_offset(Reg base, u32 intid, u32 bits_per_intid) {
    return static_cast<u64>(base) + u64{intid} * bits_per_intid / 32 * 4;
}
// The byte of a byte-accessible 8-bits-per-INTID array (IPRIORITYR,
// ITARGETSR) that holds `intid`.
template <typename Reg>
constexpr u64 intid_byte(Reg base, u32 intid) {
    return static_cast<u64>(base) + intid;
}

// GICD_CTLR. Two views share bit positions (IHI 0048B and IHI 0069H,
// GICD_CTLR); setwise only ever writes the bits that mean "the interrupt group
// this software owns" in both:
//   v2 without Security Extensions (QEMU virt, secure=off) or Secure copy:
//       bit 0 EnableGrp0, bit 1 EnableGrp1;
//   v2 Non-secure copy: bit 0 Enable (the Non-secure group 1).
//   v3 with GICD_CTLR.DS = 1 (one Security state, QEMU virt secure=off):
//       bit 0 EnableGrp0, bit 1 EnableGrp1, bit 4 ARE, bit 6 DS;
//   v3 Non-secure view with DS = 0: bit 1 EnableGrp1A (Non-secure group 1),
//       bit 4 ARE_NS.
struct GicdCtlr : Register<GicdCtlr, u32> {
    using Register::Register;
    using enable_grp0 = Bit1<0>; // v2 NS copy: Enable
    using enable_grp1 = Bit1<1>; // v3 NS view: EnableGrp1A
    using are = Bit1<4>;         // v3: affinity routing (NS view: ARE_NS)
    using ds = Bit1<6>;          // v3: disable security (one Security state)
    using rwp = Bit1<31>;        // v3: register write pending
};

// GICD_TYPER (IHI 0048B, IHI 0069H).
struct GicdTyper : Register<GicdTyper, u32> {
    using Register::Register;
    using it_lines_number = Field<4, 0>; // INTIDs = 32 * (N + 1), at most 1020
    using cpu_number = Field<7, 5>;      // v2: CPU interfaces - 1
    using espi = Bit1<8>;
    using security_extn = Bit1<10>;
    using num_lpis = Field<15, 11>;      // v2: LSPI
    using mbis = Bit1<16>;
    using lpis = Bit1<17>;
    using dvis = Bit1<18>;
    using id_bits = Field<23, 19>;
    using a3v = Bit1<24>;
    using no1n = Bit1<25>;
    using rss = Bit1<26>;                // range selector: SGI targets with Aff0 > 15
    // INTIDs the distributor handles (SGIs, PPIs and SPIs), at most 1020.
    constexpr u32 intid_lines() const {
        const u64 n = 32 * (get<it_lines_number>() + 1);
        return n > kMaxSpiIntids ? kMaxSpiIntids : static_cast<u32>(n);
    }
};

// GICD_SGIR, GICv2 only (IHI 0048B).
struct GicdSgir : Register<GicdSgir, u32> {
    using Register::Register;
    using sgi_intid = Field<3, 0>;
    using nsatt = Bit1<15>;
    using cpu_target_list = Field<23, 16>; // one bit per CPU interface
    using target_list_filter = Field<25, 24>;
    static constexpr u32 kFilterList = 0;       // the CPUs in cpu_target_list
    static constexpr u32 kFilterAllButSelf = 1;
    static constexpr u32 kFilterSelf = 2;
};

// Peripheral ID2 of a GICv2 distributor (ICPIDR2) and of v3 frames (PIDR2).
struct GicPidr2 : Register<GicPidr2, u32> {
    using Register::Register;
    using arch_rev = Field<7, 4>; // 1 = GICv1, 2 = GICv2, 3 = GICv3, 4 = GICv4
};

// ---------------------------------------------------------------------------
// GICv2 CPU interface (IHI 0048B, CPU interface register map)

enum class GiccReg : u32 {
    ctlr = 0x0000,   // 32 RW  control (GiccCtlr)
    pmr = 0x0004,    // 32 RW  priority mask, [7:0]
    bpr = 0x0008,    // 32 RW  binary point
    iar = 0x000c,    // 32 RO  interrupt acknowledge (GiccIar)
    eoir = 0x0010,   // 32 WO  end of interrupt: the value IAR returned
    rpr = 0x0014,    // 32 RO  running priority
    hppir = 0x0018,  // 32 RO  highest priority pending
    abpr = 0x001c,   // 32 RW  aliased binary point
    aiar = 0x0020,   // 32 RO  aliased IAR (group 1)
    aeoir = 0x0024,  // 32 WO
    ahppir = 0x0028, // 32 RO
    apr = 0x00d0,    // 32 RW  [0..3] active priorities
    nsapr = 0x00e0,  // 32 RW  [0..3] non-secure active priorities
    iidr = 0x00fc,   // 32 RO  interface identification
    dir = 0x1000,    // 32 WO  deactivate (EOImode 1); in the second 4 KiB page
};

// GICC_CTLR (IHI 0048B). Bit positions of the Secure copy, which is
// also the only copy without the Security Extensions. In the Non-secure
// copy bit 0 is EnableGrp1 and bit 9 EOImodeNS: bits 0 and 9 are "the
// group this software owns" in both, like GICD_CTLR bit 0.
struct GiccCtlr : Register<GiccCtlr, u32> {
    using Register::Register;
    using enable_grp0 = Bit1<0>;
    using enable_grp1 = Bit1<1>;
    using ack_ctl = Bit1<2>;
    using fiq_en = Bit1<3>;
    using cbpr = Bit1<4>;
    using fiq_byp_dis_grp0 = Bit1<5>;
    using irq_byp_dis_grp0 = Bit1<6>;
    using fiq_byp_dis_grp1 = Bit1<7>;
    using irq_byp_dis_grp1 = Bit1<8>;
    using eoimode_s = Bit1<9>; // NS copy: EOImodeNS
    using eoimode_ns = Bit1<10>;
    static constexpr u32 kBypassMask = 0x1e0; // bits 8:5, preserved as firmware left them
};

// GICC_IAR and GICC_EOIR / GICC_DIR (IHI 0048B).
struct GiccIar : Register<GiccIar, u32> {
    using Register::Register;
    using interrupt_id = Field<9, 0>;
    using cpuid = Field<12, 10>; // SGIs: the CPU interface that sent it
};

// ---------------------------------------------------------------------------
// GICv2 virtual interface control, GICH (IHI 0048B, chapter 5 register map)

enum class GichReg : u32 {
    hcr = 0x000,    // 32 RW  hypervisor control (GichHcr)
    vtr = 0x004,    // 32 RO  VGIC type (GichVtr)
    vmcr = 0x008,   // 32 RW  virtual machine control (GichVmcr)
    misr = 0x010,   // 32 RO  maintenance interrupt status (GichMisr)
    eisr0 = 0x020,  // 32 RO  end of interrupt status, LRs 0..31
    eisr1 = 0x024,  // 32 RO  LRs 32..63
    elrsr0 = 0x030, // 32 RO  empty list register status, LRs 0..31
    elrsr1 = 0x034, // 32 RO  LRs 32..63
    apr = 0x0f0,    // 32 RW  active priorities
    lr = 0x100,     // 32 RW  [n] list registers, n < GICH_VTR.ListRegs + 1 (GichLr)
};

struct GichHcr : Register<GichHcr, u32> {
    using Register::Register;
    using en = Bit1<0>;
    using uie = Bit1<1>;     // maintenance interrupt on underflow
    using lrenpie = Bit1<2>;
    using npie = Bit1<3>;
    using vgrp0eie = Bit1<4>;
    using vgrp0die = Bit1<5>;
    using vgrp1eie = Bit1<6>;
    using vgrp1die = Bit1<7>;
    using eoi_count = Field<31, 27>;
};

struct GichVtr : Register<GichVtr, u32> {
    using Register::Register;
    using list_regs = Field<5, 0>; // list registers - 1
    using pre_bits = Field<28, 26>;
    using pri_bits = Field<31, 29>;
};

struct GichVmcr : Register<GichVmcr, u32> {
    using Register::Register;
    using vm_grp0_en = Bit1<0>;
    using vm_grp1_en = Bit1<1>;
    using vm_ack_ctl = Bit1<2>;
    using vm_fiq_en = Bit1<3>;
    using vm_cbpr = Bit1<4>;
    using vem = Bit1<9>;
    using vm_abp = Field<20, 18>;
    using vm_bp = Field<23, 21>;
    using vm_pri_mask = Field<31, 27>;
};

struct GichMisr : Register<GichMisr, u32> {
    using Register::Register;
    using eoi = Bit1<0>;
    using u = Bit1<1>;
    using lrenp = Bit1<2>;
    using np = Bit1<3>;
    using vgrp0e = Bit1<4>;
    using vgrp0d = Bit1<5>;
    using vgrp1e = Bit1<6>;
    using vgrp1d = Bit1<7>;
};

// GICH_LRn (IHI 0048B).
struct GichLr : Register<GichLr, u32> {
    using Register::Register;
    using virtual_id = Field<9, 0>;
    using physical_id = Field<19, 10>; // hw = 1: the physical INTID to deactivate
    using cpuid = Field<12, 10>;       // hw = 0, SGIs: the requesting vCPU
    using eoi = Bit1<19>;              // hw = 0: maintenance interrupt on EOI
    using priority = Field<27, 23>;    // the top 5 bits of the virtual priority
    using state = Field<29, 28>;       // GicLrState
    using grp1 = Bit1<30>;
    using hw = Bit1<31>;
};

// List register state, GICH_LR.State and ICH_LR<n>_EL2.State alike.
enum class GicLrState : u8 { invalid = 0, pending = 1, active = 2, pending_active = 3 };

// ---------------------------------------------------------------------------
// GICv3 redistributor: RD_base frame, then SGI_base frame 64 KiB above it
// (IHI 0069H, redistributor register maps). Frames of consecutive
// redistributors are 128 KiB apart (256 KiB with GICv4 virtual LPIs,
// GICR_TYPER.VLPIS), unless the DT gives `redistributor-stride`.

inline constexpr u64 kGicrFrameSize = 0x1'0000;
inline constexpr u64 kGicrSgiBase = 0x1'0000;      // SGI_base - RD_base
inline constexpr u64 kGicrStride = 0x2'0000;       // RD_base + SGI_base
inline constexpr u64 kGicrStrideVlpis = 0x4'0000;  // + VLPI_base + reserved

enum class GicrReg : u32 {
    ctlr = 0x0000,      // 32 RW  control (GicrCtlr)
    iidr = 0x0004,      // 32 RO
    typer = 0x0008,     // 64 RO  type (GicrTyper), 32-bit halves accessible
    statusr = 0x0010,   // 32 RW
    waker = 0x0014,     // 32 RW  power management (GicrWaker)
    setlpir = 0x0040,   // 64 WO
    clrlpir = 0x0048,   // 64 WO
    propbaser = 0x0070, // 64 RW
    pendbaser = 0x0078, // 64 RW
    invlpir = 0x00a0,   // 64 WO
    invallr = 0x00b0,   // 64 WO
    syncr = 0x00c0,     // 32 RO
    pidr2 = 0xffe8,     // 32 RO  ArchRev in [7:4] (GicPidr2)
};

enum class GicrSgiReg : u32 {
    igroupr0 = 0x0080,   // 32 RW  group of SGIs and PPIs
    isenabler0 = 0x0100, // 32 RW  set-enable
    icenabler0 = 0x0180, // 32 RW  clear-enable (tracked by GICR_CTLR.RWP)
    ispendr0 = 0x0200,   // 32 RW
    icpendr0 = 0x0280,   // 32 RW
    isactiver0 = 0x0300, // 32 RW
    icactiver0 = 0x0380, // 32 RW
    ipriorityr = 0x0400, // 32 RW  [0..7] priority, 8 bits per INTID, byte accessible
    icfgr0 = 0x0c00,     // 32 RO  SGI config (edge)
    icfgr1 = 0x0c04,     // 32 RW  PPI config
    igrpmodr0 = 0x0d00,  // 32 RW
    nsacr = 0x0e00,      // 32 RW
};

struct GicrCtlr : Register<GicrCtlr, u32> {
    using Register::Register;
    using enable_lpis = Bit1<0>;
    using ces = Bit1<1>;
    using ir = Bit1<2>;
    using rwp = Bit1<3>; // register write pending (GICR_ICENABLER0, EnableLPIs)
    using uwp = Bit1<31>;
};

// GICR_TYPER (IHI 0069H).
struct GicrTyper : Register<GicrTyper> {
    using Register::Register;
    using plpis = Bit1<0>;
    using vlpis = Bit1<1>;
    using dirty = Bit1<2>;
    using direct_lpi = Bit1<3>;
    using last = Bit1<4>; // the last redistributor of its region
    using dpgs = Bit1<5>;
    using mpam = Bit1<6>;
    using rvpeid = Bit1<7>;
    using processor_number = Field<23, 8>;
    using common_lpi_aff = Field<25, 24>;
    using vsgi = Bit1<26>;
    using ppi_num = Field<31, 27>;
    using affinity_value = Field<63, 32>; // Aff3.Aff2.Aff1.Aff0, 8 bits each
};

// An MPIDR_EL1's affinity as GICR_TYPER.Affinity_Value packs it.
constexpr u32 gicr_affinity_of(u64 mpidr) {
    return static_cast<u32>(((mpidr >> 8) & 0xff00'0000) | (mpidr & 0xff'ffff));
}

struct GicrWaker : Register<GicrWaker, u32> {
    using Register::Register;
    using processor_sleep = Bit1<1>;
    using children_asleep = Bit1<2>;
};

// GICD_IROUTER<n> (IHI 0069H).
struct GicdIrouter : Register<GicdIrouter> {
    using Register::Register;
    using aff0 = Field<7, 0>;
    using aff1 = Field<15, 8>;
    using aff2 = Field<23, 16>;
    using interrupt_routing_mode = Bit1<31>; // 1: any participating CPU
    using aff3 = Field<39, 32>;
    // Route to the one CPU with this MPIDR_EL1 (MPIDR bit 31 is RES1 and
    // must not become Interrupt_Routing_Mode).
    static constexpr GicdIrouter to_cpu(u64 mpidr) { return GicdIrouter(mpidr & 0xff'00ff'ffffull); }
};

// ---------------------------------------------------------------------------
// GICv3 CPU interface system registers (IHI 0069H chapter 12; DDI 0487)

// ICC_SRE_EL2 (IHI 0069H).
struct IccSreEl2 : Register<IccSreEl2> {
    using Register::Register;
    using sre = Bit1<0>;    // EL2 uses the system register interface
    using dfb = Bit1<1>;
    using dib = Bit1<2>;
    using enable = Bit1<3>; // EL1 may use ICC_SRE_EL1 (no trap to EL2)
};

// ICC_CTLR_EL1 (IHI 0069H).
struct IccCtlrEl1 : Register<IccCtlrEl1> {
    using Register::Register;
    using cbpr = Bit1<0>;
    using eoimode = Bit1<1>; // 1: EOIR drops priority only, DIR deactivates
    using pmhe = Bit1<6>;
    using pri_bits = Field<10, 8>;
    using id_bits = Field<13, 11>;
    using seis = Bit1<14>;
    using a3v = Bit1<15>;
    using rss = Bit1<18>; // SGI targets with Aff0 16..255 (ICC_SGI1R_EL1.RS)
    using ext_range = Bit1<19>;
};

struct IccIgrpen1El1 : Register<IccIgrpen1El1> {
    using Register::Register;
    using enable = Bit1<0>;
};

// ICC_IAR1_EL1 / ICC_EOIR1_EL1 / ICC_DIR_EL1.
struct IccIar1El1 : Register<IccIar1El1> {
    using Register::Register;
    using intid = Field<23, 0>;
};

// ICC_SGI1R_EL1 (IHI 0069H).
struct IccSgi1rEl1 : Register<IccSgi1rEl1> {
    using Register::Register;
    using target_list = Field<15, 0>; // Aff0 values RS*16 .. RS*16+15
    using aff1 = Field<23, 16>;
    using intid = Field<27, 24>;
    using aff2 = Field<39, 32>;
    using irm = Bit1<40>;             // 1: every CPU but this one
    using rs = Field<47, 44>;         // range selector
    using aff3 = Field<55, 48>;
    // SGI `sgi` to the one CPU with this MPIDR_EL1.
    static constexpr IccSgi1rEl1 to_cpu(u32 sgi, u64 mpidr) {
        const u64 aff0 = mpidr & 0xff;
        return IccSgi1rEl1{}
            .with<target_list>(u64{1} << (aff0 % 16))
            .with<rs>(aff0 / 16)
            .with<aff1>((mpidr >> 8) & 0xff)
            .with<aff2>((mpidr >> 16) & 0xff)
            .with<aff3>((mpidr >> 32) & 0xff)
            .with<intid>(sgi);
    }
};

// ICH_HCR_EL2 (IHI 0069H).
struct IchHcrEl2 : Register<IchHcrEl2> {
    using Register::Register;
    using en = Bit1<0>;
    using uie = Bit1<1>;
    using lrenpie = Bit1<2>;
    using npie = Bit1<3>;
    using vgrp0eie = Bit1<4>;
    using vgrp0die = Bit1<5>;
    using vgrp1eie = Bit1<6>;
    using vgrp1die = Bit1<7>;
    using tc = Bit1<10>;
    using tall0 = Bit1<11>;
    using tall1 = Bit1<12>;
    using tsei = Bit1<13>;
    using tdir = Bit1<14>;
    using eoi_count = Field<31, 27>;
};

// ICH_VTR_EL2 (IHI 0069H).
struct IchVtrEl2 : Register<IchVtrEl2> {
    using Register::Register;
    using list_regs = Field<4, 0>; // list registers - 1
    using tds = Bit1<19>;
    using nv4 = Bit1<20>;
    using a3v = Bit1<21>;
    using seis = Bit1<22>;
    using id_bits = Field<25, 23>;
    using pre_bits = Field<28, 26>;
    using pri_bits = Field<31, 29>;
};

// ICH_LR<n>_EL2 (IHI 0069H).
struct IchLrEl2 : Register<IchLrEl2> {
    using Register::Register;
    using vintid = Field<31, 0>;
    using pintid = Field<44, 32>; // hw = 1: the physical INTID to deactivate
    using eoi = Bit1<41>;         // hw = 0 only (inside pINTID): maintenance interrupt on EOI
    using priority = Field<55, 48>;
    using group = Bit1<60>;
    using hw = Bit1<61>;
    using state = Field<63, 62>;  // GicLrState
};

// ICH_VMCR_EL2 (IHI 0069H).
struct IchVmcrEl2 : Register<IchVmcrEl2> {
    using Register::Register;
    using veng0 = Bit1<0>;
    using veng1 = Bit1<1>;
    using vackctl = Bit1<2>;
    using vfiqen = Bit1<3>;
    using vcbpr = Bit1<4>;
    using veoim = Bit1<9>;
    using vbpr1 = Field<20, 18>;
    using vbpr0 = Field<23, 21>;
    using vpmr = Field<31, 24>;
};

// ICH_MISR_EL2 (IHI 0069H).
struct IchMisrEl2 : Register<IchMisrEl2> {
    using Register::Register;
    using eoi = Bit1<0>;
    using u = Bit1<1>;
    using lrenp = Bit1<2>;
    using np = Bit1<3>;
    using vgrp0e = Bit1<4>;
    using vgrp0d = Bit1<5>;
    using vgrp1e = Bit1<6>;
    using vgrp1d = Bit1<7>;
};

// The GIC system registers setwise reads or writes, and their encodings
// (op0, op1, CRn, CRm, op2) as IHI 0069H and DDI 0487 give them.
// arch/arm64/gic_sysreg.cpp accesses each as S<op0>_<op1>_C<n>_C<m>_<op2>
// (not every assembler knows the names) and static_asserts it against this
// table; the vGIC's trap decoding can use the same table.
enum class GicSysreg : u8 {
    icc_pmr_el1,
    icc_iar1_el1,
    icc_eoir1_el1,
    icc_dir_el1,
    icc_sgi1r_el1,
    icc_bpr1_el1,
    icc_ctlr_el1,
    icc_sre_el1,
    icc_igrpen1_el1,
    icc_sre_el2,
    ich_ap0r0_el2,
    ich_ap0r1_el2,
    ich_ap0r2_el2,
    ich_ap0r3_el2,
    ich_ap1r0_el2,
    ich_ap1r1_el2,
    ich_ap1r2_el2,
    ich_ap1r3_el2,
    ich_hcr_el2,
    ich_vtr_el2,
    ich_misr_el2,
    ich_eisr_el2,
    ich_elrsr_el2,
    ich_vmcr_el2,
    ich_lr0_el2,
    ich_lr1_el2,
    ich_lr2_el2,
    ich_lr3_el2,
    ich_lr4_el2,
    ich_lr5_el2,
    ich_lr6_el2,
    ich_lr7_el2,
    ich_lr8_el2,
    ich_lr9_el2,
    ich_lr10_el2,
    ich_lr11_el2,
    ich_lr12_el2,
    ich_lr13_el2,
    ich_lr14_el2,
    ich_lr15_el2,
};

inline constexpr unsigned kIchMaxListRegs = 16;

// ICH_LR<n>_EL2. Precondition: n < kIchMaxListRegs.
constexpr GicSysreg ich_lr(unsigned n) {
    return static_cast<GicSysreg>(static_cast<unsigned>(GicSysreg::ich_lr0_el2) + n);
}

// ICH_AP0R<n>_EL2 / ICH_AP1R<n>_EL2: at most 4 of each, for 7 bits of
// preemption (IHI 0069H, ICH_AP0R<n>_EL2). Precondition: n < kIchMaxApRegs.
inline constexpr unsigned kIchMaxApRegs = 4;
constexpr GicSysreg ich_ap0r(unsigned n) {
    return static_cast<GicSysreg>(static_cast<unsigned>(GicSysreg::ich_ap0r0_el2) + n);
}
constexpr GicSysreg ich_ap1r(unsigned n) {
    return static_cast<GicSysreg>(static_cast<unsigned>(GicSysreg::ich_ap1r0_el2) + n);
}

struct SysregEncoding {
    u8 op0, op1, crn, crm, op2;
    constexpr bool operator==(const SysregEncoding&) const = default;
};

constexpr SysregEncoding sysreg_encoding(GicSysreg r) {
    switch (r) {
    case GicSysreg::icc_pmr_el1: return {3, 0, 4, 6, 0};
    case GicSysreg::icc_iar1_el1: return {3, 0, 12, 12, 0};
    case GicSysreg::icc_eoir1_el1: return {3, 0, 12, 12, 1};
    case GicSysreg::icc_dir_el1: return {3, 0, 12, 11, 1};
    case GicSysreg::icc_sgi1r_el1: return {3, 0, 12, 11, 5};
    case GicSysreg::icc_bpr1_el1: return {3, 0, 12, 12, 3};
    case GicSysreg::icc_ctlr_el1: return {3, 0, 12, 12, 4};
    case GicSysreg::icc_sre_el1: return {3, 0, 12, 12, 5};
    case GicSysreg::icc_igrpen1_el1: return {3, 0, 12, 12, 7};
    case GicSysreg::icc_sre_el2: return {3, 4, 12, 9, 5};
    case GicSysreg::ich_ap0r0_el2: return {3, 4, 12, 8, 0};
    case GicSysreg::ich_ap0r1_el2: return {3, 4, 12, 8, 1};
    case GicSysreg::ich_ap0r2_el2: return {3, 4, 12, 8, 2};
    case GicSysreg::ich_ap0r3_el2: return {3, 4, 12, 8, 3};
    case GicSysreg::ich_ap1r0_el2: return {3, 4, 12, 9, 0};
    case GicSysreg::ich_ap1r1_el2: return {3, 4, 12, 9, 1};
    case GicSysreg::ich_ap1r2_el2: return {3, 4, 12, 9, 2};
    case GicSysreg::ich_ap1r3_el2: return {3, 4, 12, 9, 3};
    case GicSysreg::ich_hcr_el2: return {3, 4, 12, 11, 0};
    case GicSysreg::ich_vtr_el2: return {3, 4, 12, 11, 1};
    case GicSysreg::ich_misr_el2: return {3, 4, 12, 11, 2};
    case GicSysreg::ich_eisr_el2: return {3, 4, 12, 11, 3};
    case GicSysreg::ich_elrsr_el2: return {3, 4, 12, 11, 5};
    case GicSysreg::ich_vmcr_el2: return {3, 4, 12, 11, 7};
    case GicSysreg::ich_lr0_el2: return {3, 4, 12, 12, 0};
    case GicSysreg::ich_lr1_el2: return {3, 4, 12, 12, 1};
    case GicSysreg::ich_lr2_el2: return {3, 4, 12, 12, 2};
    case GicSysreg::ich_lr3_el2: return {3, 4, 12, 12, 3};
    case GicSysreg::ich_lr4_el2: return {3, 4, 12, 12, 4};
    case GicSysreg::ich_lr5_el2: return {3, 4, 12, 12, 5};
    case GicSysreg::ich_lr6_el2: return {3, 4, 12, 12, 6};
    case GicSysreg::ich_lr7_el2: return {3, 4, 12, 12, 7};
    case GicSysreg::ich_lr8_el2: return {3, 4, 12, 13, 0};
    case GicSysreg::ich_lr9_el2: return {3, 4, 12, 13, 1};
    case GicSysreg::ich_lr10_el2: return {3, 4, 12, 13, 2};
    case GicSysreg::ich_lr11_el2: return {3, 4, 12, 13, 3};
    case GicSysreg::ich_lr12_el2: return {3, 4, 12, 13, 4};
    case GicSysreg::ich_lr13_el2: return {3, 4, 12, 13, 5};
    case GicSysreg::ich_lr14_el2: return {3, 4, 12, 13, 6};
    case GicSysreg::ich_lr15_el2: return {3, 4, 12, 13, 7};
    }
    return {0, 0, 0, 0, 0};
}

} // namespace setwise::arm64
