// The emulated GIC distributor a guest sees at guest::kGicDistBase, GICv2
// or GICv3 as the host's GIC is, over the domain's VgicState.
//
// Driven by decoded MMIO accesses from stage-2 data aborts (the caller has
// checked ISV and turned the IPA into an offset within the 64 KiB frame),
// with the index of the vCPU that made the access (banked registers):
//
//   Access widths (IHI 0048B 4.1.4, IHI 0069H 12.1.3): 32-bit registers
//   take aligned 32-bit accesses; GICD_IPRIORITYR, GICD_ITARGETSR,
//   GICD_CPENDSGIR and GICD_SPENDSGIR also single bytes; GICD_IROUTER<n>
//   aligned 64-bit accesses or either 32-bit half. Anything else, an
//   offset beyond the frame, or a vCPU that does not exist: reads 0,
//   writes are ignored, counted in bad_accesses() (the caller may inject an
//   abort).
//   A well-formed access to an offset where this GIC has no register reads
//   0, writes are ignored, counted in reserved_accesses() (reserved
//   locations are RES0; a guest probing them is not at fault).
//   Read-only registers ignore writes and write-only ones (GICD_SGIR) read
//   0, uncounted: the register exists. So do registers that are RAZ/WI in
//   this configuration (v3 TYPER2, STATUSR, IGRPMODR, NSACR; v2 NSACR).
//
// What the guest sees:
//   GICv2  one Security state (no Security Extensions): GICD_CTLR
//          EnableGrp0 [0] / EnableGrp1 [1]; TYPER ITLinesNumber and
//          CPUNumber = vCPUs - 1; IGROUPR writable (reset: Group 0, what
//          Linux expects of GICV, where Group 0 signals IRQ); SGIs always
//          enabled and edge; ITARGETSR0-7 read the accessing vCPU's bit;
//          GICD_SGIR with all three target filters; CPENDSGIR/SPENDSGIR;
//          ICPIDR2.ArchRev = 2.
//   GICv3  one Security state (GICD_CTLR.DS = 1, TYPER.SecurityExtn = 0),
//          affinity routing always on (CTLR.ARE RAO/WI), so the SGI/PPI
//          registers here, ITARGETSR, SGIR and the SGI pending registers
//          are RES0 (RAZ/WI) and SGIs/PPIs live in the redistributors
//          (vcpu/vgic_redist.hpp); CTLR.RWP always 0 (writes take effect at
//          once); TYPER IDbits = 9, No1N = 1 (IROUTER.IRM RAZ/WI), no LPIs,
//          no extended SPIs, no message-based SPIs; GICD_PIDR2.ArchRev = 3.
//   Both   IIDR implementer 0x43b (JEP106 ARM, as KVM's vGIC reports),
//          product 0x53; priorities keep the top config.priority_bits bits.
//   Register offsets are arch/arm64/gic_regs.hpp's arm64::GicdReg, the
//   physical driver's map.
//
// Locking: each read()/write() takes the state's lock once; the counters
// are atomics. The result of write() is the vCPUs to kick (see VcpuMask).
#pragma once

#include <atomic>

#include "arch/arm64/gic_regs.hpp"
#include "setwise/types.hpp"
#include "vcpu/vgic_state.hpp"

namespace setwise::vcpu {

namespace vgic {
// GICD_IIDR / GICR_IIDR: ProductID [31:24], Variant [19:16], Revision
// [15:12], Implementer [11:0].
inline constexpr u32 kIidr = (0x53u << 24) | 0x43bu;

// How a register may be accessed (see the header comment).
enum class Width : u8 { word, byte_or_word, dword_or_word };

constexpr bool access_ok(Width w, u64 offset, unsigned size) {
    switch (w) {
    case Width::word: return size == 4 && offset % 4 == 0;
    case Width::byte_or_word: return size == 1 || (size == 4 && offset % 4 == 0);
    case Width::dword_or_word: return (size == 8 && offset % 8 == 0) || (size == 4 && offset % 4 == 0);
    }
    return false;
}

// The identification block, PIDR4-7, PIDR0-3, CIDR0-3 (IHI 0048B 4.3.18;
// IHI 0069H, "Identification registers"), twelve words ending at the
// frame's end: GICv2 distributor 0xfd0-0xffc, GICv3 frames 0xffd0-0xfffc.
inline constexpr u32 kIdBlockWords = 12;
inline constexpr u32 kIdBlockToPidr2 = 0x18; // PIDR2 is word 6
// ID word `index` (0: PIDR4 ... 7: PIDR3, 8-11: CIDR0-3) of a GIC with
// architecture revision arch_rev: JEP106 ARM (continuation 4, identity
// 0x3b), part number 0x053, the component preamble 0xb105f00d.
u32 id_register(u32 index, u32 arch_rev);
} // namespace vgic

class VgicDist {
public:
    static constexpr u64 kMmioSize = 0x1'0000;

    explicit VgicDist(VgicState& state) : state_(state) {}
    VgicDist(const VgicDist&) = delete;
    VgicDist& operator=(const VgicDist&) = delete;

    // A guest load by vCPU `vcpu` of size_bytes (1, 4 or 8) at offset.
    u64 read(u32 vcpu, u64 offset, unsigned size_bytes);
    // A guest store; value holds the stored bytes in its low size_bytes.
    // Returns the vCPUs to kick.
    VcpuMask write(u32 vcpu, u64 offset, unsigned size_bytes, u64 value);

    u64 bad_accesses() const { return bad_.load(std::memory_order_relaxed); }
    u64 reserved_accesses() const { return reserved_.load(std::memory_order_relaxed); }

private:
    // What sits at an offset (arm64::GicdReg gives where).
    enum class Kind : u8 {
        ctlr, typer, iidr, raz_wi, igroupr, isenabler, icenabler, ispendr, icpendr, isactiver, icactiver,
        ipriorityr, itargetsr, icfgr, sgir, cpendsgir, spendsgir, irouter, id,
    };
    struct Decoded {
        Kind kind;
        u32 at; // byte offset from the register (array) base
    };
    struct Table;
    enum class Check : u8 { ok, bad, reserved };
    Check decode(u32 vcpu, u64 offset, unsigned size, Decoded& out) const;
    static BitReg bit_reg(Kind kind); // precondition: igroupr .. icactiver
    u64 read_reg(const VgicState::Guard& g, u32 vcpu, const Decoded& d, unsigned size);
    VcpuMask write_reg(const VgicState::Guard& g, u32 vcpu, const Decoded& d, unsigned size, u64 value);

    VgicState& state_;
    std::atomic<u64> bad_{0};
    std::atomic<u64> reserved_{0};
};

} // namespace setwise::vcpu
