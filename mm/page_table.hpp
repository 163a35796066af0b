// One translation-table walker for every format setwise builds (EL2 stage 1
// now, stage 2 with the guests issue), templated on a format-traits type
// that owns the descriptor encoding. The walker only knows the geometry of
// the 4 KiB granule:
//
//   input address  [47:39]   [38:30]   [29:21]   [20:12]   [11:0]
//                  level 0   level 1   level 2   level 3   offset
//   entry covers   512 GiB   1 GiB     2 MiB     4 KiB
//
// Updates are two-phase (conventions, after Hafnium's mm_vm_prepare/commit):
// prepare() allocates every table the range needs and checks that nothing
// mapped is in the way, and may fail leaving only empty tables behind;
// commit() writes the leaves and cannot fail. Live entries are never
// replaced here, so no break-before-make sequence (DDI 0487 D8.14.1) is
// needed: a range that is already mapped differently is refused in prepare.
#pragma once

#include <concepts>

#include "setwise/result.hpp"
#include "setwise/types.hpp"

namespace setwise::mm {

inline constexpr unsigned kLevelBits = 9;
inline constexpr u64 kEntriesPerTable = u64{1} << kLevelBits;

constexpr unsigned level_shift(unsigned level) { return static_cast<unsigned>(kPageShift) + kLevelBits * (3 - level); }
constexpr u64 level_size(unsigned level) { return u64{1} << level_shift(level); }
constexpr u64 level_index(u64 input, unsigned level) { return (input >> level_shift(level)) & (kEntriesPerTable - 1); }

static_assert(level_size(3) == 4 * kKiB && level_size(2) == 2 * kMiB && level_size(1) == kGiB);

// Where table pages come from and how the walker reaches them.
class TableMemory {
public:
    // A zeroed, page-aligned table (all entries invalid).
    virtual Result<Pa> allocate_table() = 0;
    virtual u64* table(Pa pa) = 0;

protected:
    ~TableMemory() = default;
};

// Format traits contract (checked by the concept below):
//   using Input = Va or Ipa;       the input address kind
//   using Attr;                    what a leaf says besides its output address
//   kStartLevel                    the level of the root table
//   kInputBits                     the input address size the root covers
//   block_allowed(level)           whether a leaf may sit at this level (< 3)
//   is_valid(d), is_table(d, level), make_table(pa), make_leaf(pa, level, attr),
//   output_address(d), leaf_attr(d), invalid()
template <typename F>
concept TableFormat = requires(u64 d, Pa pa, unsigned level, typename F::Attr attr) {
    typename F::Input;
    { F::kStartLevel } -> std::convertible_to<unsigned>;
    { F::kInputBits } -> std::convertible_to<unsigned>;
    { F::block_allowed(level) } -> std::same_as<bool>;
    { F::is_valid(d) } -> std::same_as<bool>;
    { F::is_table(d, level) } -> std::same_as<bool>;
    { F::make_table(pa) } -> std::same_as<u64>;
    { F::make_leaf(pa, level, attr) } -> std::same_as<u64>;
    { F::output_address(d) } -> std::same_as<Pa>;
    { F::leaf_attr(d) } -> std::same_as<typename F::Attr>;
};

template <TableFormat Format>
class PageTable {
public:
    using Input = typename Format::Input;
    using Attr = typename Format::Attr;

    // One root table covers kInputBits; inputs beyond it would alias lower
    // addresses through the index masks, so they are refused.
    static_assert(Format::kInputBits == level_shift(Format::kStartLevel) + kLevelBits,
                  "one root table: concatenated roots need their own geometry");
    static constexpr u64 kInputLimit = u64{1} << Format::kInputBits;

    struct Leaf {
        Pa pa;          // output address of the input address looked up
        unsigned level; // level of the leaf
        Attr attr;
    };

    static Result<PageTable> create(TableMemory& mem) {
        const Pa root = SW_TRY(mem.allocate_table());
        return PageTable(mem, root);
    }

    PageTable() = default;
    Pa root() const { return root_; }

    // Phase one: every table on the way to every leaf of the range exists
    // afterwards, and nothing already mapped conflicts. Fails with
    // invalid_argument for unaligned input, exists for a conflict,
    // no_memory when the table memory runs out.
    Result<void> prepare(Input in, Pa out, u64 size, Attr attr) {
        if (!is_aligned(in.raw() | out.raw() | size, kPageSize) || size == 0) return Status::invalid_argument;
        if (in.raw() >= kInputLimit || size > kInputLimit - in.raw()) return Status::out_of_range;
        for (u64 done = 0; done < size;) {
            const unsigned level = leaf_level(in.raw() + done, out.raw() + done, size - done);
            u64* entry = SW_TRY(walk_to(in.raw() + done, level, /*allocate=*/true));
            if (Format::is_valid(*entry)) {
                // Identical leaves are fine (idempotent map); anything else is in the way.
                if (Format::is_table(*entry, level) ||
                    *entry != Format::make_leaf(out + done, level, attr))
                    return Status::exists;
            }
            done += level_size(level);
        }
        return {};
    }

    // Phase two. Precondition: prepare() succeeded for the same arguments.
    void commit(Input in, Pa out, u64 size, Attr attr) {
        for (u64 done = 0; done < size;) {
            const unsigned level = leaf_level(in.raw() + done, out.raw() + done, size - done);
            Result<u64*> entry = walk_to(in.raw() + done, level, /*allocate=*/false);
            // prepare() made the path; a missing one is a broken contract.
            if (entry.ok()) *entry.value() = Format::make_leaf(out + done, level, attr);
            done += level_size(level);
        }
    }

    Result<void> map(Input in, Pa out, u64 size, Attr attr) {
        SW_TRY_VOID(prepare(in, out, size, attr));
        commit(in, out, size, attr);
        return {};
    }

    Result<Leaf> lookup(Input in) const {
        if (in.raw() >= kInputLimit) return Status::not_found;
        Pa table = root_;
        for (unsigned level = Format::kStartLevel; level <= 3; ++level) {
            const u64 d = mem_->table(table)[level_index(in.raw(), level)];
            if (!Format::is_valid(d)) return Status::not_found;
            if (!Format::is_table(d, level)) {
                const u64 offset = in.raw() & (level_size(level) - 1);
                return Leaf{Format::output_address(d) + offset, level, Format::leaf_attr(d)};
            }
            table = Format::output_address(d);
        }
        return Status::not_found;
    }

private:
    PageTable(TableMemory& mem, Pa root) : mem_(&mem), root_(root) {}

    // The largest leaf both addresses are aligned for and the rest covers.
    static unsigned leaf_level(u64 in, u64 out, u64 remaining) {
        for (unsigned level = Format::kStartLevel; level < 3; ++level) {
            const u64 sz = level_size(level);
            if (Format::block_allowed(level) && is_aligned(in | out, sz) && remaining >= sz) return level;
        }
        return 3;
    }

    // The entry at `level` for `in`, creating missing tables above it when
    // `allocate`. A leaf above `level` is in the way: exists.
    Result<u64*> walk_to(u64 in, unsigned level, bool allocate) {
        Pa table = root_;
        for (unsigned l = Format::kStartLevel; l < level; ++l) {
            u64* entry = &mem_->table(table)[level_index(in, l)];
            if (!Format::is_valid(*entry)) {
                if (!allocate) return Status::not_found;
                const Pa next = SW_TRY(mem_->allocate_table());
                *entry = Format::make_table(next);
            } else if (!Format::is_table(*entry, l)) {
                return Status::exists;
            }
            table = Format::output_address(*entry);
        }
        return &mem_->table(table)[level_index(in, level)];
    }

    TableMemory* mem_ = nullptr;
    Pa root_{};
};

} // namespace setwise::mm
