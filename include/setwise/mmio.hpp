// Device register access. A register block is an `enum class` offset map
// (see core/pl011.hpp); this is the one place that dereferences a device
// address. On the host the same code runs against a fake register file in
// ordinary memory.
#pragma once

#include "setwise/types.hpp"

namespace setwise {

class MmioBlock {
public:
    constexpr MmioBlock() = default;
    constexpr explicit MmioBlock(Va base) : base_(base) {}

    template <typename Reg>
    u32 read32(Reg r) const {
        return *reinterpret_cast<volatile const u32*>(base_.raw() + static_cast<u64>(r));
    }
    template <typename Reg>
    void write32(Reg r, u32 v) const {
        *reinterpret_cast<volatile u32*>(base_.raw() + static_cast<u64>(r)) = v;
    }
    template <typename Reg>
    u8 read8(Reg r) const {
        return *reinterpret_cast<volatile const u8*>(base_.raw() + static_cast<u64>(r));
    }
    template <typename Reg>
    void write8(Reg r, u8 v) const {
        *reinterpret_cast<volatile u8*>(base_.raw() + static_cast<u64>(r)) = v;
    }
    constexpr Va base() const { return base_; }
    constexpr bool valid() const { return base_.raw() != 0; }

private:
    Va base_{};
};

} // namespace setwise
