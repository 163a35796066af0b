// ARM PrimeCell UART (PL011) register map (ARM DDI 0183G, section 3.2),
// shared by the physical console driver (core/pl011.hpp) and the emulated
// vPL011 (vcpu/vpl011.hpp): one map for both, below both layers.
#pragma once

#include "setwise/types.hpp"

namespace setwise {

enum class Pl011Reg : u32 {
    dr = 0x000,    // 32 RW  data (bits 7:0), receive errors in 11:8
    rsrecr = 0x004,// 32 RW  receive status / error clear
    fr = 0x018,    // 32 RO  flags
    ilpr = 0x020,  // 32 RW  IrDA low-power counter
    ibrd = 0x024,  // 32 RW  integer baud divisor
    fbrd = 0x028,  // 32 RW  fractional baud divisor
    lcr_h = 0x02c, // 32 RW  line control
    cr = 0x030,    // 32 RW  control
    ifls = 0x034,  // 32 RW  FIFO level select
    imsc = 0x038,  // 32 RW  interrupt mask set/clear
    ris = 0x03c,   // 32 RO  raw interrupt status
    mis = 0x040,   // 32 RO  masked interrupt status
    icr = 0x044,   // 32 WO  interrupt clear
    dmacr = 0x048, // 32 RW  DMA control
    periph_id0 = 0xfe0, // 32 RO  0x11
    periph_id1 = 0xfe4, // 32 RO  0x10
    periph_id2 = 0xfe8, // 32 RO  0x?4 (revision in 7:4)
    periph_id3 = 0xfec, // 32 RO  0x00
    pcell_id0 = 0xff0,  // 32 RO  0x0d
    pcell_id1 = 0xff4,  // 32 RO  0xf0
    pcell_id2 = 0xff8,  // 32 RO  0x05
    pcell_id3 = 0xffc,  // 32 RO  0xb1
};

namespace pl011 {
inline constexpr u32 kFrTxff = 1u << 5; // transmit FIFO full
inline constexpr u32 kFrRxfe = 1u << 4; // receive FIFO empty
inline constexpr u32 kFrBusy = 1u << 3;
inline constexpr u32 kCrUarten = 1u << 0;
inline constexpr u32 kCrTxe = 1u << 8;
inline constexpr u32 kCrRxe = 1u << 9;
} // namespace pl011

} // namespace setwise
