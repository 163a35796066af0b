// Fixed-width integers and the strongly typed addresses every layer shares.
//
// A physical address, a guest-physical (intermediate) address and a virtual
// address are different things; mixing them up is the classic hypervisor bug
// (an abort handler storing an IPA in a VA). Each is a single-member type with
// an explicit constructor and no implicit conversion to another kind. A
// conversion is a named function that states the fact behind it.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>

namespace setwise {

using u8 = std::uint8_t;
using u16 = std::uint16_t;
using u32 = std::uint32_t;
using u64 = std::uint64_t;
using i32 = std::int32_t;
using i64 = std::int64_t;
using usize = std::size_t;

inline constexpr u64 kPageShift = 12;
inline constexpr u64 kPageSize = u64{1} << kPageShift;
inline constexpr u64 kKiB = 1024;
inline constexpr u64 kMiB = 1024 * kKiB;
inline constexpr u64 kGiB = 1024 * kMiB;

constexpr u64 align_down(u64 v, u64 a) { return v & ~(a - 1); }
constexpr u64 align_up(u64 v, u64 a) { return (v + a - 1) & ~(a - 1); }
constexpr bool is_aligned(u64 v, u64 a) { return (v & (a - 1)) == 0; }

// One address kind. Tag makes Pa, Ipa and Va distinct types.
template <typename Tag>
class Address {
public:
    constexpr Address() = default;
    constexpr explicit Address(u64 raw) : raw_(raw) {}

    constexpr u64 raw() const { return raw_; }
    constexpr Address operator+(u64 off) const { return Address(raw_ + off); }
    constexpr Address operator-(u64 off) const { return Address(raw_ - off); }
    constexpr u64 operator-(Address other) const { return raw_ - other.raw_; }
    constexpr Address& operator+=(u64 off) { raw_ += off; return *this; }
    constexpr auto operator<=>(const Address&) const = default;
    constexpr bool is_aligned(u64 a) const { return setwise::is_aligned(raw_, a); }
    constexpr Address align_down(u64 a) const { return Address(setwise::align_down(raw_, a)); }
    constexpr Address align_up(u64 a) const { return Address(setwise::align_up(raw_, a)); }

private:
    u64 raw_ = 0;
};

struct PaTag {};
struct IpaTag {};
struct VaTag {};
using Pa = Address<PaTag>;   // host physical address (output of stage 2)
using Ipa = Address<IpaTag>; // guest physical address (input of stage 2)
using Va = Address<VaTag>;   // hypervisor (EL2 stage-1) virtual address

// Frame numbers, counted in 4 KiB pages.
template <typename Tag, typename Addr>
class FrameNumber {
public:
    constexpr FrameNumber() = default;
    constexpr explicit FrameNumber(u64 raw) : raw_(raw) {}
    static constexpr FrameNumber of(Addr a) { return FrameNumber(a.raw() >> kPageShift); }
    constexpr Addr address() const { return Addr(raw_ << kPageShift); }
    constexpr u64 raw() const { return raw_; }
    constexpr FrameNumber operator+(u64 n) const { return FrameNumber(raw_ + n); }
    constexpr u64 operator-(FrameNumber o) const { return raw_ - o.raw_; }
    constexpr auto operator<=>(const FrameNumber&) const = default;

private:
    u64 raw_ = 0;
};

struct PfnTag {};
struct GfnTag {};
using Pfn = FrameNumber<PfnTag, Pa>;
using Gfn = FrameNumber<GfnTag, Ipa>;

// A half-open range [base, base + size) of some address kind.
template <typename Addr>
struct Range {
    Addr base{};
    u64 size = 0;

    constexpr Addr end() const { return base + size; }
    constexpr bool empty() const { return size == 0; }
    constexpr bool contains(Addr a) const { return a >= base && a - base < size; }
    constexpr bool contains(const Range& r) const {
        return r.base >= base && r.size <= size && r.base - base <= size - r.size;
    }
    constexpr bool overlaps(const Range& r) const {
        return size != 0 && r.size != 0 && base < r.end() && r.base < end();
    }
    constexpr bool operator==(const Range&) const = default;
};

using PaRange = Range<Pa>;
using IpaRange = Range<Ipa>;
using VaRange = Range<Va>;

} // namespace setwise
