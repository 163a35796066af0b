// libFuzzer target: the emulated PL011 under any sequence of guest MMIO
// accesses and console input.
//
// Input: 8-byte steps.
//   byte 0     op: bits 1:0 = read / write / rx_push / reset (reset only
//              when bits 7:2 are all ones, else a read); bit 7 picks the
//              offset from the register map (byte 1 the register, byte 2
//              bits 1:0 a byte lane), else bytes 1-2 are a raw offset, and
//              bit 6 then puts byte 2 into bits 47:40 as well
//   byte 3     size: 4, 4, 4, 1, 2, 8, 0, 3 by bits 2:0
//   bytes 4-7  the value written, or the character pushed (byte 4)
//
// Checks, beyond the sanitizers, against a model kept here:
//   - the access rules: exactly the refused accesses are counted, and they
//     read as 0 and change no register and no FIFO;
//   - bytes come out of DR in the order rx_push took them, and every DR
//     store reaches the sink with bits 7:0;
//   - rx_push succeeds exactly while the FIFO holds fewer than 32 bytes
//     (1 with LCR_H.FEN clear), and the count stays within 0..32;
//   - after every step: FR agrees with the FIFO (RXFE, RXFF) and the
//     synchronous transmitter (TXFE set, TXFF and BUSY clear);
//     MIS == RIS & IMSC; irq_level() == (MIS != 0); RIS.RX only with data
//     in the FIFO; RIS.TX == (UARTEN && TXE); no other RIS bit ever set.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>

#include "vcpu/vpl011.hpp"

using namespace setwise;
using namespace setwise::vcpu;

namespace {

void check(bool ok) {
    if (!ok) __builtin_trap();
}

// DDI 0183G table 3-1, written out independently of core/pl011.hpp.
constexpr u64 kRegs[] = {0x000, 0x004, 0x018, 0x020, 0x024, 0x028, 0x02c, 0x030, 0x034, 0x038, 0x03c,
                         0x040, 0x044, 0x048, 0xfe0, 0xfe4, 0xfe8, 0xfec, 0xff0, 0xff4, 0xff8, 0xffc};
constexpr u64 kDr = 0x000, kFr = 0x018, kLcrH = 0x02c, kCr = 0x030, kImsc = 0x038, kRis = 0x03c,
              kMis = 0x040;
constexpr unsigned kSizes[8] = {4, 4, 4, 1, 2, 8, 0, 3};

bool is_register(u64 offset) {
    for (u64 r : kRegs)
        if (r == offset) return true;
    return false;
}

bool acceptable(u64 offset, unsigned size) {
    return (size == 1 || size == 2 || size == 4) && offset < 0x1000 && offset % 4 == 0 && is_register(offset);
}

u32 size_mask(unsigned size) { return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1; }

// Every register but DR (whose read pops the FIFO), read without effect.
struct Snapshot {
    u32 v[std::size(kRegs)] = {};
    bool operator==(const Snapshot&) const = default;
};

class Sink final : public Vpl011Sink {
public:
    void put(char c) override { out.push_back(c); }
    std::string out;
};

struct Model {
    std::deque<char> rx;
    std::string tx;
    u64 bad = 0;
};

Snapshot snapshot(Vpl011& uart) {
    Snapshot snap;
    for (usize i = 1; i < std::size(kRegs); ++i) snap.v[i] = uart.read(kRegs[i], 4);
    return snap;
}

void check_invariants(Vpl011& uart, const Model& m, const Sink& sink) {
    const u64 bad_before = uart.bad_accesses();
    const usize count = uart.rx_count();
    check(count <= Vpl011::kFifoDepth);
    check(count == m.rx.size());
    check(sink.out == m.tx);

    const u32 lcr_h = uart.read(kLcrH, 4);
    const usize capacity = (lcr_h & (1u << 4)) != 0 ? 32 : 1;
    check(uart.rx_capacity() == capacity);

    const u32 fr = uart.read(kFr, 4);
    check((fr & (1u << 7)) != 0);                        // TXFE
    check((fr & (1u << 5)) == 0);                        // TXFF
    check((fr & (1u << 3)) == 0);                        // BUSY
    check(((fr & (1u << 4)) != 0) == (count == 0));      // RXFE
    check(((fr & (1u << 6)) != 0) == (count >= capacity)); // RXFF
    check((fr & ~0xd8u) == 0);                           // no modem lines, nothing reserved

    const u32 ris = uart.read(kRis, 4);
    const u32 mis = uart.read(kMis, 4);
    const u32 imsc = uart.read(kImsc, 4);
    const u32 cr = uart.read(kCr, 4);
    check(mis == (ris & imsc));
    check(uart.irq_level() == (mis != 0));
    check((imsc & ~0x7ffu) == 0);
    check((ris & ~((1u << 4) | (1u << 5))) == 0);        // only RX and TX ever assert
    if ((ris & (1u << 4)) != 0) check(count > 0);
    check(((ris & (1u << 5)) != 0) == ((cr & 1u) != 0 && (cr & (1u << 8)) != 0));

    check(uart.bad_accesses() == bad_before); // the checks themselves are valid accesses
    check(uart.bad_accesses() == m.bad);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Sink sink;
    Vpl011 uart(sink);
    Model m;
    check_invariants(uart, m, sink);

    for (std::size_t at = 0; at + 8 <= size; at += 8) {
        const std::uint8_t* s = data + at;
        const unsigned op = s[0] & 3u;
        u64 offset;
        if ((s[0] & 0x80u) != 0) {
            offset = kRegs[s[1] % std::size(kRegs)] + (s[2] & 3u);
        } else {
            offset = u64{s[1]} | (u64{s[2]} << 8);
            if ((s[0] & 0x40u) != 0) offset |= u64{s[2]} << 40;
        }
        const unsigned access = kSizes[s[3] & 7u];
        const u32 value = u32{s[4]} | (u32{s[5]} << 8) | (u32{s[6]} << 16) | (u32{s[7]} << 24);
        const bool ok = acceptable(offset, access);
        const bool is_access = op == 0 || op == 1 || (op == 3 && (s[0] & 0xfcu) != 0xfcu);
        const Snapshot before = ok || !is_access ? Snapshot{} : snapshot(uart);
        const usize rx_before = uart.rx_count();

        const auto guest_read = [&] {
            const u32 v = uart.read(offset, access);
            if (!ok) {
                ++m.bad;
                check(v == 0);
                return;
            }
            check((v & ~size_mask(access)) == 0);
            if (offset == kDr) {
                const char expected = m.rx.empty() ? '\0' : m.rx.front();
                if (!m.rx.empty()) m.rx.pop_front();
                check(v == static_cast<u8>(expected)); // no error bits ever
            }
        };

        switch (op) {
        case 0:
            guest_read();
            break;
        case 1:
            uart.write(offset, access, value);
            if (!ok) {
                ++m.bad;
            } else if (offset == kDr) {
                m.tx.push_back(static_cast<char>(value & 0xff));
            }
            break;
        case 2: {
            const bool taken = uart.rx_push(static_cast<char>(s[4]));
            check(taken == (rx_before < uart.rx_capacity()));
            if (taken) {
                m.rx.push_back(static_cast<char>(s[4]));
                check((uart.read(kRis, 4) & (1u << 4)) != 0);
            }
            break;
        }
        default:
            if (is_access) {
                guest_read();
                break;
            }
            uart.reset();
            m.rx.clear();
            m.bad = 0;
            check(uart.read(kCr, 4) == 0x300 && uart.read(kImsc, 4) == 0 && uart.read(kLcrH, 4) == 0);
            break;
        }
        if (!ok && is_access) {
            check(snapshot(uart) == before); // a refused access changes nothing
            check(uart.rx_count() == rx_before);
        }
        check_invariants(uart, m, sink);
    }
    return 0;
}
