// A console UART driver: polled output and input. The PL011 (core/pl011.hpp)
// and the ns16550/8250 (core/ns16550.hpp), chosen from /chosen/stdout-path's
// compatible (core::choose_uart, docs/consoles.md).
#pragma once

#include "setwise/types.hpp"

namespace setwise::core {

class Uart {
public:
    virtual void init() = 0;
    virtual void put(char c) = 0;   // blocks while the transmit FIFO is full
    virtual bool get(char& c) = 0;  // false when nothing was received
    virtual void flush() = 0;       // until everything is on the wire

protected:
    ~Uart() = default;
};

} // namespace setwise::core
