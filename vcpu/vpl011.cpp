// The emulated PL011. What is modelled and the access rules are in
// vpl011.hpp; register layouts are DDI 0183G section 3.3.
#include "vcpu/vpl011.hpp"

#include <optional>

namespace setwise::vcpu {


namespace {

// Implemented bits of the stored registers; the rest are reserved, read as
// zero (DDI 0183G 3.3).
constexpr u32 kIlprBits = 0xff;
constexpr u32 kIbrdBits = 0xffff;
constexpr u32 kFbrdBits = 0x3f;
constexpr u32 kLcrhBits = 0xff;
constexpr u32 kCrBits = 0xff87;   // [6:3] reserved
constexpr u32 kIflsBits = 0x3f;
constexpr u32 kDmacrBits = 0x7;

// Peripheral and PrimeCell identification (DDI 0183G 3.3.14-3.3.17):
// part 0x011, designer 0x41 (ARM), revision 3 (r1p5), then the PrimeCell
// preamble 0xb105f00d.
constexpr u32 kPeriphId[4] = {0x11, 0x10, 0x34, 0x00};
constexpr u32 kPCellId[4] = {0x0d, 0xf0, 0x05, 0xb1};

constexpr u32 low_bytes_mask(unsigned size_bytes) {
    return size_bytes >= 4 ? 0xffff'ffffu : (1u << (8 * size_bytes)) - 1;
}

// The register at a 4-byte-aligned offset, if there is one.
std::optional<Pl011Reg> register_at(u64 offset) {
    if (offset >= Vpl011::kMmioSize || (offset & 3u) != 0) return std::nullopt;
    const auto reg = static_cast<Pl011Reg>(offset);
    switch (reg) {
    case Pl011Reg::dr:
    case Pl011Reg::rsrecr:
    case Pl011Reg::fr:
    case Pl011Reg::ilpr:
    case Pl011Reg::ibrd:
    case Pl011Reg::fbrd:
    case Pl011Reg::lcr_h:
    case Pl011Reg::cr:
    case Pl011Reg::ifls:
    case Pl011Reg::imsc:
    case Pl011Reg::ris:
    case Pl011Reg::mis:
    case Pl011Reg::icr:
    case Pl011Reg::dmacr:
    case Pl011Reg::periph_id0:
    case Pl011Reg::periph_id1:
    case Pl011Reg::periph_id2:
    case Pl011Reg::periph_id3:
    case Pl011Reg::pcell_id0:
    case Pl011Reg::pcell_id1:
    case Pl011Reg::pcell_id2:
    case Pl011Reg::pcell_id3:
        return reg;
    }
    return std::nullopt;
}

std::optional<Pl011Reg> checked(u64 offset, unsigned size_bytes) {
    if (size_bytes != 1 && size_bytes != 2 && size_bytes != 4) return std::nullopt;
    return register_at(offset);
}

} // namespace

void Vpl011::reset() {
    rx_head_ = 0;
    rx_count_ = 0;
    rx_int_ = false;
    ilpr_ = 0;
    ibrd_ = 0;
    fbrd_ = 0;
    lcr_h_ = 0;
    cr_ = vpl011::kCrReset;
    ifls_ = vpl011::kIflsReset;
    imsc_ = 0;
    dmacr_ = 0;
    bad_accesses_ = 0;
}

u32 Vpl011::fr() const {
    u32 v = vpl011::kFrTxfe;
    if (rx_count_ == 0) v |= pl011::kFrRxfe;
    if (rx_count_ >= rx_capacity()) v |= vpl011::kFrRxff;
    return v;
}

u32 Vpl011::ris() const {
    u32 v = 0;
    if (rx_int_) v |= vpl011::kIntRx;
    if ((cr_ & pl011::kCrUarten) != 0 && (cr_ & pl011::kCrTxe) != 0) v |= vpl011::kIntTx;
    return v;
}

bool Vpl011::rx_push(char c) {
    if (rx_count_ >= rx_capacity()) return false;
    rx_fifo_[(rx_head_ + rx_count_) % kFifoDepth] = static_cast<u8>(c);
    ++rx_count_;
    rx_int_ = true;
    return true;
}

char Vpl011::rx_pop() {
    if (rx_count_ == 0) return 0;
    const u8 c = rx_fifo_[rx_head_];
    rx_head_ = (rx_head_ + 1) % kFifoDepth;
    --rx_count_;
    if (rx_count_ == 0) rx_int_ = false;
    return static_cast<char>(c);
}

u32 Vpl011::read(u64 offset, unsigned size_bytes) {
    const std::optional<Pl011Reg> reg = checked(offset, size_bytes);
    if (!reg) {
        ++bad_accesses_;
        return 0;
    }
    return read_register(*reg) & low_bytes_mask(size_bytes);
}

void Vpl011::write(u64 offset, unsigned size_bytes, u32 value) {
    const std::optional<Pl011Reg> reg = checked(offset, size_bytes);
    if (!reg) {
        ++bad_accesses_;
        return;
    }
    write_register(*reg, low_bytes_mask(size_bytes), value);
}

u32 Vpl011::read_register(Pl011Reg reg) {
    switch (reg) {
    case Pl011Reg::dr: return static_cast<u8>(rx_pop()); // error bits [11:8] always 0
    case Pl011Reg::rsrecr: return 0;                     // no framing, parity, break or overrun
    case Pl011Reg::fr: return fr();
    case Pl011Reg::ilpr: return ilpr_;
    case Pl011Reg::ibrd: return ibrd_;
    case Pl011Reg::fbrd: return fbrd_;
    case Pl011Reg::lcr_h: return lcr_h_;
    case Pl011Reg::cr: return cr_;
    case Pl011Reg::ifls: return ifls_;
    case Pl011Reg::imsc: return imsc_;
    case Pl011Reg::ris: return ris();
    case Pl011Reg::mis: return mis();
    case Pl011Reg::icr: return 0; // write-only
    case Pl011Reg::dmacr: return dmacr_;
    case Pl011Reg::periph_id0: return kPeriphId[0];
    case Pl011Reg::periph_id1: return kPeriphId[1];
    case Pl011Reg::periph_id2: return kPeriphId[2];
    case Pl011Reg::periph_id3: return kPeriphId[3];
    case Pl011Reg::pcell_id0: return kPCellId[0];
    case Pl011Reg::pcell_id1: return kPCellId[1];
    case Pl011Reg::pcell_id2: return kPCellId[2];
    case Pl011Reg::pcell_id3: return kPCellId[3];
    }
    return 0;
}

// mask selects the bytes the guest stored (the low 1, 2 or 4).
void Vpl011::write_register(Pl011Reg reg, u32 mask, u32 value) {
    const auto merge = [mask, value](u32 old, u32 bits) { return ((old & ~mask) | (value & mask)) & bits; };
    switch (reg) {
    case Pl011Reg::dr: tx_.put(static_cast<char>(value & vpl011::kDrData)); return;
    case Pl011Reg::rsrecr: return; // error clear: there are no errors
    case Pl011Reg::ilpr: ilpr_ = merge(ilpr_, kIlprBits); return;
    case Pl011Reg::ibrd: ibrd_ = merge(ibrd_, kIbrdBits); return;
    case Pl011Reg::fbrd: fbrd_ = merge(fbrd_, kFbrdBits); return;
    case Pl011Reg::lcr_h: lcr_h_ = merge(lcr_h_, kLcrhBits); return;
    case Pl011Reg::cr: cr_ = merge(cr_, kCrBits); return;
    case Pl011Reg::ifls: ifls_ = merge(ifls_, kIflsBits); return;
    case Pl011Reg::imsc: imsc_ = merge(imsc_, vpl011::kIntAll); return;
    case Pl011Reg::icr:
        // Clears latched interrupts. TX is a level condition and the modem,
        // error and timeout sources never assert, so RX is all there is.
        if ((value & mask & vpl011::kIntRx) != 0) rx_int_ = false;
        return;
    case Pl011Reg::dmacr: dmacr_ = merge(dmacr_, kDmacrBits); return;
    case Pl011Reg::fr:
    case Pl011Reg::ris:
    case Pl011Reg::mis:
    case Pl011Reg::periph_id0:
    case Pl011Reg::periph_id1:
    case Pl011Reg::periph_id2:
    case Pl011Reg::periph_id3:
    case Pl011Reg::pcell_id0:
    case Pl011Reg::pcell_id1:
    case Pl011Reg::pcell_id2:
    case Pl011Reg::pcell_id3:
        return; // read-only
    }
}

} // namespace setwise::vcpu
