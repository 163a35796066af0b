// The emulated GICv3 redistributors a guest sees at
// guest::kGicV3RedistBase: one per vCPU, vCPU 0 first, each two 64 KiB
// frames (IHI 0069H 12.10, "The GIC Redistributor register descriptions"):
//
//   region offset  vcpu * 0x20000 + 0x00000   RD_base   control, identity, power
//                  vcpu * 0x20000 + 0x10000   SGI_base  the vCPU's SGIs and PPIs
//
// No LPIs and no virtual LPIs (GICR_TYPER.PLPIS = VLPIS = 0), so the stride
// is two frames and the LPI registers are not there.
//
// RD_base: GICR_CTLR (reads 0: EnableLPIs RES0 without LPIs, RWP and UWP 0,
// no DPG bits with 1-of-N unsupported; writes ignored), GICR_IIDR (as
// GICD_IIDR), GICR_TYPER (64-bit: Affinity_Value = the vCPU's MPIDR
// affinity, Processor_Number = its index, Last on the final vCPU),
// GICR_STATUSR (RAZ/WI), GICR_WAKER (ProcessorSleep [1] as written, reset
// 1; ChildrenAsleep [2] follows it at once, so the handshake Linux runs in
// gic_enable_redist() completes on the first poll), GICR_PIDR2.ArchRev = 3.
// ProcessorSleep does not hold interrupts back: the vCPU's interface is
// the hardware's and a sleeping redistributor would only turn delivery into
// a wake-up request, which setwise does not model.
//
// SGI_base: GICR_IGROUPR0, ISENABLER0 / ICENABLER0, ISPENDR0 / ICPENDR0,
// ISACTIVER0 / ICACTIVER0, IPRIORITYR0-7 (byte-accessible), ICFGR0 (SGIs,
// read-only edge: 0xaaaaaaaa), ICFGR1 (PPIs, writable), IGRPMODR0 and
// NSACR (RAZ/WI with one Security state).
//
// Any vCPU may access any redistributor (Linux reads every GICR_TYPER while
// looking for its own); the frame decides whose registers are reached.
// Access rules and counters are those of vcpu/vgic_dist.hpp: 32-bit
// registers aligned 32-bit, IPRIORITYR also bytes, GICR_TYPER (and the RAZ
// GICR_PROPBASER / PENDBASER) 64-bit or either half; an offset beyond the
// last vCPU's frames counts as bad. Register offsets and layouts are
// arch/arm64/gic_regs.hpp's (arm64::GicrReg, GicrSgiReg, GicrTyper,
// GicrWaker), the physical driver's.
#pragma once

#include <atomic>
#include <optional>

#include "arch/arm64/gic_regs.hpp"
#include "setwise/types.hpp"
#include "vcpu/vgic_dist.hpp"
#include "vcpu/vgic_state.hpp"

namespace setwise::vcpu {

class VgicRedist {
public:
    static constexpr u64 kFrameSize = arm64::kGicrFrameSize;
    static constexpr u64 kStride = arm64::kGicrStride; // no VLPIs: RD_base + SGI_base
    static_assert(kStride == guest::kGicV3RedistStride);

    enum class Frame : u8 { rd, sgi };
    struct Location {
        u32 vcpu = 0;
        Frame frame = Frame::rd;
        u64 offset = 0; // within the frame
        bool operator==(const Location&) const = default;
    };
    // Where an offset into the whole redistributor region lands; nullopt
    // beyond the last of nr_vcpus redistributors.
    static std::optional<Location> locate(u64 region_offset, u32 nr_vcpus);

    // Precondition: state is a GICv3 state (a v2 one makes every access bad).
    explicit VgicRedist(VgicState& state) : state_(state) {}
    VgicRedist(const VgicRedist&) = delete;
    VgicRedist& operator=(const VgicRedist&) = delete;

    // A guest load of size_bytes at offset into the redistributor region.
    u64 read(u64 offset, unsigned size_bytes);
    // A guest store; returns the vCPUs to kick.
    VcpuMask write(u64 offset, unsigned size_bytes, u64 value);

    u64 bad_accesses() const { return bad_.load(std::memory_order_relaxed); }
    u64 reserved_accesses() const { return reserved_.load(std::memory_order_relaxed); }

private:
    // What sits at an offset of a frame (arm64::GicrReg / GicrSgiReg give
    // where).
    enum class Kind : u8 {
        ctlr, iidr, typer, waker, raz_wi, id,                           // RD_base
        igroupr0, isenabler0, icenabler0, ispendr0, icpendr0, isactiver0, // SGI_base
        icactiver0, ipriorityr, icfgr0, icfgr1,
    };
    struct Decoded {
        Location loc;
        Kind kind;
        u32 at; // byte offset from the register (array) base
    };
    struct Table;
    enum class Check : u8 { ok, bad, reserved };
    Check decode(u64 offset, unsigned size, Decoded& out) const;
    u64 read_rd(const VgicState::Guard& g, const Decoded& d, unsigned size);
    u64 read_sgi(const VgicState::Guard& g, const Decoded& d, unsigned size);
    VcpuMask write_rd(const VgicState::Guard& g, const Decoded& d, u64 value);
    VcpuMask write_sgi(const VgicState::Guard& g, const Decoded& d, unsigned size, u64 value);
    static std::optional<BitReg> bit_reg(Kind kind);

    VgicState& state_;
    std::atomic<u64> bad_{0};
    std::atomic<u64> reserved_{0};
};

} // namespace setwise::vcpu
