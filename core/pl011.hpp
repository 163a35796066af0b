// The PL011 console driver (ARM DDI 0183G); its register map lives in
// include/setwise/pl011_regs.hpp, shared with the emulated vPL011.
#pragma once

#include "core/uart.hpp"
#include "setwise/pl011_regs.hpp"
#include "setwise/mmio.hpp"

namespace setwise::core {

// The register map is shared with the emulated vPL011.
using ::setwise::Pl011Reg;
namespace pl011 = ::setwise::pl011;

// Polled PL011 for the hypervisor console. Firmware (or QEMU) has set the
// baud rate; setwise keeps it and only makes sure the UART and both
// directions are enabled.
class Pl011 final : public Uart {
public:
    explicit Pl011(Va base) : regs_(base) {}
    void init() override;
    void put(char c) override;
    bool get(char& c) override;
    void flush() override;

private:
    MmioBlock regs_;
};

} // namespace setwise::core
