#include "core/pl011.hpp"

#include "setwise/spinlock.hpp"

namespace setwise::core {

void Pl011::init() {
    const u32 cr = regs_.read32(Pl011Reg::cr);
    const u32 want = pl011::kCrUarten | pl011::kCrTxe | pl011::kCrRxe;
    if ((cr & want) != want) regs_.write32(Pl011Reg::cr, cr | want);
}

void Pl011::put(char c) {
    while (regs_.read32(Pl011Reg::fr) & pl011::kFrTxff) cpu_relax();
    regs_.write32(Pl011Reg::dr, static_cast<u8>(c));
}

bool Pl011::get(char& c) {
    if (regs_.read32(Pl011Reg::fr) & pl011::kFrRxfe) return false;
    c = static_cast<char>(regs_.read32(Pl011Reg::dr) & 0xff);
    return true;
}

void Pl011::flush() {
    while (regs_.read32(Pl011Reg::fr) & pl011::kFrBusy) cpu_relax();
}

} // namespace setwise::core
