// One translation-table walker for every format setwise builds (EL2 stage 1,
// stage 2), templated on a format-traits type that owns the descriptor
// encoding. The walker only knows the geometry of the 4 KiB granule:
//
//   input address  [47:39]   [38:30]   [29:21]   [20:12]   [11:0]
//                  level 0   level 1   level 2   level 3   offset
//   entry covers   512 GiB   1 GiB     2 MiB     4 KiB
//
// The root may sit below level 0 and may be up to 16 tables side by side
// (DDI 0487 D8.2, "Concatenated translation tables"): the input bits above
// the root level's nine select the table, so a 40-bit stage-2 input at level
// 1 uses two root tables and IPA[39] picks one:
//
//   IPA  [39]  [38:30]  [29:21] ...
//         |      `-- index in the chosen root table
//         `-- root table 0 at root, table 1 at root + 4 KiB
//
// Mapping is two-phase (conventions, after Hafnium's mm_vm_prepare/commit):
// prepare() allocates every table the range needs and checks that nothing
// mapped is in the way, and may fail leaving only empty tables behind;
// commit() writes the leaves and cannot fail. Mapping never replaces a live
// entry: a range already mapped differently is refused in prepare.
//
// unmap() is two-phase inside one call: it first allocates the tables needed
// to split the blocks the range's edges cut through (failing, with nothing
// changed, only when those run out), then splits them and clears the range
// without failing. Splitting a live block and removing live entries follow
// break-before-make (DDI 0487 D8.14.1), with the TLB maintenance delegated
// to a callback: the walker executes no instruction of its own.
//
// Hidden descriptors (a format that is a HidingFormat, below: stage 2 for
// access tracking): a descriptor may be "hidden", its valid bit clear but
// everything else kept, so the hardware takes a translation fault on it
// while it still maps what it mapped. The walker treats a hidden entry as
// mapped everywhere but in what it reports to the hardware: lookup() sees
// through it (Leaf::hidden says so), map walks through a hidden table and
// accepts an identical hidden leaf (leaving it hidden), unmap removes and
// splits hidden entries. A hidden entry is never in a TLB or walk cache
// (that is the owner's contract when it hides a live one), so removing or
// splitting one needs no TLB maintenance and gets none; a split hidden
// block becomes a hidden table of valid leaves, which nothing reaches
// until the owner reveals the table. For any other format a non-zero
// descriptor with the valid bit clear is software state the walker
// refuses to map through or over (exists).
//
// Concurrency: none inside. The owner serialises every call on one table
// (p2m::P2m holds a lock). Descriptors are written with single-copy-atomic
// release stores, so a hardware walker on another CPU sees either the old or
// the new descriptor, and never a new table descriptor before the table's
// contents. Walks are only guaranteed to observe the writes after a DSB
// (DDI 0487 D8.2, "Ordering of memory accesses from translation table
// walks"): the owner issues one after each update that live CPUs may walk
// (P2m: arch::page_table_sync). A CPU that faults on an entry before then
// must find it valid and retry.
#pragma once

#include <atomic>
#include <concepts>

#include "setwise/result.hpp"
#include "setwise/types.hpp"

namespace setwise::mm {

inline constexpr unsigned kLevelBits = 9;
inline constexpr u64 kEntriesPerTable = u64{1} << kLevelBits;
// Concatenated root tables: at most 16 (4 extra input bits), DDI 0487 D8.2.
inline constexpr unsigned kMaxRootTables = 16;

constexpr unsigned level_shift(unsigned level) { return static_cast<unsigned>(kPageShift) + kLevelBits * (3 - level); }
constexpr u64 level_size(unsigned level) { return u64{1} << level_shift(level); }
constexpr u64 level_index(u64 input, unsigned level) { return (input >> level_shift(level)) & (kEntriesPerTable - 1); }

static_assert(level_size(3) == 4 * kKiB && level_size(2) == 2 * kMiB && level_size(1) == kGiB);

// Where table pages come from and how the walker reaches them.
class TableMemory {
public:
    // A zeroed, page-aligned table (all entries invalid).
    virtual Result<Pa> allocate_table() = 0;
    // `n` contiguous zeroed tables whose first is aligned to n * 4 KiB: a
    // concatenated root, which VTTBR_EL2.BADDR requires aligned to its whole
    // size. n is a power of two, 1..kMaxRootTables. The default serves only
    // n == 1, so memory that never holds a stage-2 root needs nothing more.
    virtual Result<Pa> allocate_tables(unsigned n) {
        if (n == 1) return allocate_table();
        return Status::unsupported;
    }
    // A table no walker can reach any more, neither in memory nor in any
    // TLB or walk cache: the caller has done the maintenance. The default
    // keeps the page (the boot-time map never frees one).
    virtual void free_table(Pa /*pa*/) {}
    // What allocate_tables(n) returned. The default frees page by page.
    virtual void free_tables(Pa pa, unsigned n) {
        for (unsigned i = 0; i < n; ++i) free_table(pa + i * kPageSize);
    }
    virtual u64* table(Pa pa) = 0;

protected:
    ~TableMemory() = default;
};

// The walk's shape: the level of the root and the input size it resolves.
// Input bits beyond one root table's reach select among concatenated roots.
struct TableGeometry {
    unsigned start_level = 0;
    unsigned input_bits = 0;

    constexpr unsigned root_tables() const {
        const unsigned one = level_shift(start_level) + kLevelBits;
        return input_bits > one ? 1u << (input_bits - one) : 1u;
    }
    // Start at level 0..2; more than one root entry's worth of input; at most
    // 48 bits (no FEAT_LPA/LPA2 descriptors) and 16 root tables.
    constexpr bool valid() const {
        return start_level <= 2 && input_bits > level_shift(start_level) && input_bits <= 48 &&
               input_bits <= level_shift(start_level) + kLevelBits + 4;
    }
    constexpr bool operator==(const TableGeometry&) const = default;
};

// Format traits contract (checked by the concept below):
//   using Input = Va or Ipa;       the input address kind
//   using Attr;                    what a leaf says besides its output address
//   kStartLevel, kInputBits        the default geometry (create(mem))
//   block_allowed(level)           whether a leaf may sit at this level (< 3);
//                                  a level that allows blocks must be followed
//                                  by one that allows leaves (blocks are split
//                                  one level at a time)
//   is_valid(d), is_table(d, level), make_table(pa), make_leaf(pa, level, attr),
//   output_address(d), leaf_attr(d), invalid()
//   make_leaf(output_address(d), level, leaf_attr(d)) == d for every leaf the
//   format makes: a block is split by re-encoding its attributes.
template <typename F>
concept TableFormat = requires(u64 d, Pa pa, unsigned level, typename F::Attr attr) {
    typename F::Input;
    { F::kStartLevel } -> std::convertible_to<unsigned>;
    { F::kInputBits } -> std::convertible_to<unsigned>;
    { F::block_allowed(level) } -> std::same_as<bool>;
    { F::is_valid(d) } -> std::same_as<bool>;
    { F::is_table(d, level) } -> std::same_as<bool>;
    { F::invalid() } -> std::same_as<u64>;
    { F::make_table(pa) } -> std::same_as<u64>;
    { F::make_leaf(pa, level, attr) } -> std::same_as<u64>;
    { F::output_address(d) } -> std::same_as<Pa>;
    { F::leaf_attr(d) } -> std::same_as<typename F::Attr>;
};

// Optional: a format whose descriptors can be hidden (see the header
// comment). Contract, for every valid descriptor d at any level:
// !is_valid(hide(d)), is_hidden(hide(d)), reveal(hide(d)) == d, and hide()
// keeps is_table() and output_address(); is_hidden(d) is false for a valid
// d and for invalid().
template <typename F>
concept HidingFormat = TableFormat<F> && requires(u64 d) {
    { F::is_hidden(d) } -> std::same_as<bool>;
    { F::hide(d) } -> std::same_as<u64>;
    { F::reveal(d) } -> std::same_as<u64>;
};

// Optional: a format whose table descriptors summarise the leaves below
// them. note_leaf(t, attr) is table descriptor t once a leaf with `attr`
// sits below it; it may change only bits the hardware ignores in a table
// descriptor (so a live table may be rewritten without break-before-make,
// DDI 0487 D8.14.1 lists no such bits), and keeps is_valid, is_hidden,
// is_table and output_address. Notes accumulate: the walker never clears
// one (an unmap leaves the summary conservative).
template <typename F>
concept SummarizingFormat = TableFormat<F> && requires(u64 d, typename F::Attr attr) {
    { F::note_leaf(d, attr) } -> std::same_as<u64>;
};

// What a for_each_entry visitor tells the walk to do next.
enum class Visit : u8 {
    descend, // into this entry if it is a table (else: go on)
    skip,    // not into this entry's subtree
    stop,    // end the walk
};

template <TableFormat Format>
class PageTable {
public:
    using Input = typename Format::Input;
    using Attr = typename Format::Attr;

    static constexpr TableGeometry kDefaultGeometry{Format::kStartLevel, Format::kInputBits};
    static_assert(kDefaultGeometry.valid(), "format's default geometry");

    struct Leaf {
        Pa pa;          // output address of the input address looked up
        unsigned level; // level of the leaf
        Attr attr;
        bool hidden;    // an entry on the way (or the leaf) is hidden: the hardware faults
    };

    // One descriptor slot seen by for_each_entry: read it, and rewrite it if
    // the visitor owns the consequences (see for_each_entry).
    class EntryRef {
    public:
        Input base() const { return base_; } // first input address it translates
        unsigned level() const { return level_; }
        u64 size() const { return level_size(level_); }
        u64 raw() const { return *slot_; }
        void write(u64 d) { store(slot_, d); }

    private:
        friend class PageTable;
        EntryRef(Input base, unsigned level, u64* slot) : base_(base), level_(level), slot_(slot) {}
        Input base_;
        unsigned level_;
        u64* slot_;
    };

    // The format's default geometry (one root table for the stage-1 formats).
    static Result<PageTable> create(TableMemory& mem) { return create(mem, kDefaultGeometry); }

    // invalid_argument for a geometry TableGeometry::valid() refuses; else
    // what allocating the root tables fails with.
    static Result<PageTable> create(TableMemory& mem, TableGeometry geometry) {
        if (!geometry.valid()) return Status::invalid_argument;
        const Pa root = SW_TRY(mem.allocate_tables(geometry.root_tables()));
        return PageTable(mem, geometry, root);
    }

    // A handle: copies share the tables. Only one copy may be used to change
    // them (table_pages() counts what this copy saw).
    PageTable() = default;
    Pa root() const { return root_; }
    const TableGeometry& geometry() const { return geometry_; }
    u64 input_limit() const { return u64{1} << geometry_.input_bits; }
    // Table pages this table holds, root tables included.
    usize table_pages() const { return tables_; }

    // Phase one: every table on the way to every leaf of the range exists
    // afterwards, and nothing already mapped conflicts. Leaves sit no higher
    // than `top_leaf_level` (3 forces pages). Fails with invalid_argument for
    // unaligned input, out_of_range beyond the input size, exists for a
    // conflict, no_memory when the table memory runs out.
    Result<void> prepare(Input in, Pa out, u64 size, Attr attr, unsigned top_leaf_level = 0) {
        if (!is_aligned(in.raw() | out.raw() | size, kPageSize) || size == 0) return Status::invalid_argument;
        if (in.raw() >= input_limit() || size > input_limit() - in.raw()) return Status::out_of_range;
        for (u64 done = 0; done < size;) {
            const unsigned level = leaf_level(in.raw() + done, out.raw() + done, size - done, top_leaf_level);
            u64* entry = SW_TRY(walk_to(in.raw() + done, level, /*allocate=*/true));
            if (*entry != Format::invalid()) {
                // Identical leaves are fine (idempotent map), hidden ones
                // too; anything else, other software state included, is in
                // the way.
                if (!mapped(*entry) || Format::is_table(*entry, level) ||
                    unhidden(*entry) != Format::make_leaf(out + done, level, attr))
                    return Status::exists;
            }
            done += level_size(level);
        }
        return {};
    }

    // Phase two. Precondition: prepare() succeeded for the same arguments.
    // An identical leaf already there is left as it is (hidden or not); a
    // summarising format's tables on the way note each leaf.
    void commit(Input in, Pa out, u64 size, Attr attr, unsigned top_leaf_level = 0) {
        for (u64 done = 0; done < size;) {
            const unsigned level = leaf_level(in.raw() + done, out.raw() + done, size - done, top_leaf_level);
            Result<u64*> entry = walk_to(in.raw() + done, level, /*allocate=*/false, &attr);
            // prepare() made the path; a missing one is a broken contract.
            const u64 leaf = Format::make_leaf(out + done, level, attr);
            if (entry.ok() && unhidden(*entry.value()) != leaf) store(entry.value(), leaf);
            done += level_size(level);
        }
    }

    Result<void> map(Input in, Pa out, u64 size, Attr attr, unsigned top_leaf_level = 0) {
        SW_TRY_VOID(prepare(in, out, size, attr, top_leaf_level));
        commit(in, out, size, attr, top_leaf_level);
        return {};
    }

    // What `in` is mapped to, hidden entries on the way included.
    Result<Leaf> lookup(Input in) const {
        if (in.raw() >= input_limit()) return Status::not_found;
        Pa table = root_table_for(in.raw());
        bool hidden_on_way = false;
        for (unsigned level = geometry_.start_level; level <= 3; ++level) {
            const u64 raw = mem_->table(table)[level_index(in.raw(), level)];
            if (!mapped(raw)) return Status::not_found;
            hidden_on_way = hidden_on_way || hidden(raw);
            const u64 d = unhidden(raw);
            if (!Format::is_table(d, level)) {
                const u64 offset = in.raw() & (level_size(level) - 1);
                return Leaf{Format::output_address(d) + offset, level, Format::leaf_attr(d), hidden_on_way};
            }
            table = Format::output_address(d);
        }
        return Status::not_found;
    }

    // Removes every translation of [in, in + size); what was not mapped stays
    // unmapped. `invalidate(Input base, unsigned level)` is called after an
    // entry translating `base` at `level` has been written invalid. It must
    // make that write visible to table walks (DSB) and return only once no
    // TLB or walk cache of any CPU that may use this table holds a
    // translation through it (for stage 2: arch::stage2_tlb_invalidate_ipa,
    // TLBI IPAS2E1IS then the VMID's stage-1 entries).
    //
    //  - A block the range covers in part is first split into a table of the
    //    same translations one level down (repeatedly, down to pages if
    //    needed): write invalid, invalidate, then write the table descriptor
    //    (break-before-make, DDI 0487 D8.14.1; without FEAT_BBM a block may
    //    not be replaced by a table while live). A CPU that walks in between
    //    takes a translation fault on a mapped address and must retry.
    //  - Each leaf in the range is written invalid and invalidated.
    //  - A table left with no entry is unlinked, invalidated (walk caches
    //    may still point at it) and given back with free_table(). Root
    //    tables stay.
    //  - Hidden entries (HidingFormat), and valid ones below a hidden
    //    table, are removed and split the same way with no invalidation:
    //    none is cached, and no walk reaches them. A hidden block is split
    //    into a hidden table of valid leaves.
    //
    // Fails, having changed nothing, with invalid_argument (unaligned or
    // empty), out_of_range (beyond the input size), unsupported (a format
    // whose level below a block cannot hold leaves) or what allocating the
    // split tables fails with (at most kMaxSplits of them).
    template <typename Invalidate>
    Result<void> unmap(Input in, u64 size, Invalidate&& invalidate) {
        if (!is_aligned(in.raw() | size, kPageSize) || size == 0) return Status::invalid_argument;
        if (in.raw() >= input_limit() || size > input_limit() - in.raw()) return Status::out_of_range;
        const u64 start = in.raw();
        const u64 end = start + size;

        // Phase one: the tables the splits need, or nothing changes.
        SplitPlan plan;
        SW_TRY_VOID(plan_splits(start, plan));
        SW_TRY_VOID(plan_splits(end, plan));
        Pa pool[kMaxSplits];
        for (usize i = 0; i < plan.count; ++i) {
            Result<Pa> t = mem_->allocate_table();
            if (!t.ok()) {
                for (usize j = 0; j < i; ++j) mem_->free_table(pool[j]);
                return t.status();
            }
            pool[i] = t.value();
        }

        // Phase two: cannot fail.
        usize used = 0;
        split_at(start, pool, used, invalidate);
        split_at(end, pool, used, invalidate);
        for (usize i = used; i < plan.count; ++i) mem_->free_table(pool[i]); // none, if the plan was right
        for_each_root(Range<Input>{in, size}, [&](Pa table, u64 lo, u64 hi) {
            clear(table, geometry_.start_level, lo, hi, invalidate);
            return true;
        });
        return {};
    }

    // Calls `f(Input base, const Leaf& leaf)` for each valid leaf that
    // overlaps `range`, in address order; `base` is the leaf's first input
    // address and leaf.pa its first output address (a block at the range's
    // edges is reported whole). `f` returns false to stop the walk. Subtrees
    // behind an invalid entry are not entered. Returns false if `f` stopped
    // it. The tables must not change meanwhile.
    template <typename F>
    bool for_each_leaf(Range<Input> range, F&& f) const {
        return for_each_root(range, [&](Pa table, u64 lo, u64 hi) {
            return leaves(table, geometry_.start_level, lo, hi, f);
        });
    }

    // Calls `f(EntryRef&) -> Visit` for each entry other than invalid() that
    // overlaps `range`, tables and leaves at every level, parents before
    // their children, in address order. After `f` returns descend, the walk
    // enters the entry if (as it now reads) is_table() says it is a table,
    // even with its valid bit clear: access tracking hides a subtree that
    // way and still needs to reach it. Returns false if `f` stopped the walk.
    //
    // With `after`, `after(EntryRef&)` is called for each table the walk
    // entered, once it has visited that table's entries inside `range`
    // (children before their parent: post-order), unless the walk was
    // stopped meanwhile. The entry is read afresh; `after` may rewrite it.
    //
    // A visitor that rewrites an entry owns the consequences: TLB
    // maintenance for a live entry it changes, and never dropping the last
    // reference to a table (the pages would leak from table_pages()). It
    // may call for_each_entry again (e.g. over the entry's own range): the
    // walk keeps no state between entries but the tables themselves.
    template <typename F>
    bool for_each_entry(Range<Input> range, F&& f) {
        auto none = [](EntryRef&) {};
        return for_each_entry(range, f, none);
    }

    template <typename F, typename After>
    bool for_each_entry(Range<Input> range, F&& f, After&& after) {
        return for_each_root(range, [&](Pa table, u64 lo, u64 hi) {
            return entries(table, geometry_.start_level, lo, hi, f, after);
        });
    }

    // Gives every table page back to the table memory, roots included, and
    // leaves this handle empty. Precondition: no CPU can reach the tables
    // any more (for stage 2: the VMID's TLB entries were invalidated and no
    // vCPU runs with this root). No further call but root() == Pa{0}.
    void destroy() {
        if (mem_ == nullptr) return;
        for (unsigned k = 0; k < geometry_.root_tables(); ++k) free_subtree(root_ + k * kPageSize, geometry_.start_level);
        mem_->free_tables(root_, geometry_.root_tables());
        *this = PageTable();
    }

private:
    // A block split needs one table per level it goes down: at most three
    // per edge of the range (two for the 4 KiB granule's blocks at levels 1
    // and 2), and the two edges may share some.
    static constexpr usize kMaxSplits = 6;

    struct SplitPlan {
        struct Item {
            unsigned level; // level of the block to split
            u64 base;       // its first input address
        };
        Item items[kMaxSplits]{};
        usize count = 0;

        void add(unsigned level, u64 base) {
            for (usize i = 0; i < count; ++i)
                if (items[i].level == level && items[i].base == base) return;
            if (count < kMaxSplits) items[count++] = Item{level, base};
        }
    };

    PageTable(TableMemory& mem, TableGeometry geometry, Pa root)
        : mem_(&mem), root_(root), geometry_(geometry), tables_(geometry.root_tables()) {}

    static constexpr bool hidden(u64 d) {
        if constexpr (HidingFormat<Format>) {
            return Format::is_hidden(d);
        } else {
            return false;
        }
    }
    // Valid, or hidden: it maps something.
    static constexpr bool mapped(u64 d) { return Format::is_valid(d) || hidden(d); }
    // What a hidden descriptor is when revealed; any other as it is.
    static constexpr u64 unhidden(u64 d) {
        if constexpr (HidingFormat<Format>) {
            return Format::is_hidden(d) ? Format::reveal(d) : d;
        } else {
            return d;
        }
    }
    static constexpr u64 hidden_form(u64 d) {
        if constexpr (HidingFormat<Format>) {
            return Format::hide(d);
        } else {
            return d; // nothing is hidden in such a format
        }
    }
    // Table descriptor `t` once a leaf with `attr` is below it.
    static constexpr u64 noted(u64 t, const Attr& attr) {
        if constexpr (SummarizingFormat<Format>) {
            return Format::note_leaf(t, attr);
        } else {
            (void)attr;
            return t;
        }
    }

    // Single-copy atomic (DDI 0487 B2.2.1: aligned 64-bit stores), released
    // after everything written before it: a table's contents before the
    // descriptor that links it.
    static void store(u64* slot, u64 d) { std::atomic_ref<u64>(*slot).store(d, std::memory_order_release); }

    unsigned root_table_shift() const { return level_shift(geometry_.start_level) + kLevelBits; }
    Pa root_table_for(u64 in) const { return root_ + ((in >> root_table_shift()) << kPageShift); }
    u64* slot(Pa table, u64 in, unsigned level) const { return &mem_->table(table)[level_index(in, level)]; }

    // The largest leaf both addresses are aligned for and the rest covers,
    // no higher than `top`.
    unsigned leaf_level(u64 in, u64 out, u64 remaining, unsigned top) const {
        for (unsigned level = geometry_.start_level > top ? geometry_.start_level : top; level < 3; ++level) {
            const u64 sz = level_size(level);
            if (Format::block_allowed(level) && is_aligned(in | out, sz) && remaining >= sz) return level;
        }
        return 3;
    }

    // The entry at `level` for `in`, creating missing tables above it when
    // `allocate`, through hidden tables too. A leaf above `level` (hidden or
    // not), or other software state, is in the way: exists. With `note`,
    // each table on the way notes a leaf with that attribute.
    Result<u64*> walk_to(u64 in, unsigned level, bool allocate, const Attr* note = nullptr) {
        Pa table = root_table_for(in);
        for (unsigned l = geometry_.start_level; l < level; ++l) {
            u64* entry = slot(table, in, l);
            if (*entry == Format::invalid()) {
                if (!allocate) return Status::not_found;
                const Pa next = SW_TRY(mem_->allocate_table());
                ++tables_;
                store(entry, Format::make_table(next));
            } else if (!mapped(*entry) || !Format::is_table(*entry, l)) {
                return Status::exists;
            }
            if (note != nullptr) {
                const u64 n = noted(*entry, *note);
                if (n != *entry) store(entry, n);
            }
            table = Format::output_address(*entry);
        }
        return slot(table, in, level);
    }

    // The blocks to split so that `edge` becomes a boundary between leaves:
    // the block holding it and, below, each finer leaf holding it, down to
    // the level where it is aligned.
    Result<void> plan_splits(u64 edge, SplitPlan& plan) const {
        if (edge >= input_limit()) return {};
        Pa table = root_table_for(edge);
        for (unsigned l = geometry_.start_level; l <= 3; ++l) {
            const u64 d = *slot(table, edge, l);
            if (!mapped(d)) return {};
            if (Format::is_table(d, l)) {
                table = Format::output_address(d);
                continue;
            }
            for (unsigned m = l; m < 3 && !is_aligned(edge, level_size(m)); ++m) {
                if (!Format::block_allowed(m + 1) && m + 1 != 3) return Status::unsupported;
                plan.add(m, align_down(edge, level_size(m)));
            }
            return {};
        }
        return {};
    }

    // Splits the leaves holding `edge` as plan_splits() planned, taking
    // tables from `pool`.
    template <typename Invalidate>
    void split_at(u64 edge, const Pa* pool, usize& used, Invalidate& invalidate) {
        if (edge >= input_limit()) return;
        Pa table = root_table_for(edge);
        bool reachable = true; // no hidden entry above
        for (unsigned l = geometry_.start_level; l < 3; ++l) {
            u64* entry = slot(table, edge, l);
            const u64 d = *entry;
            if (!mapped(d)) return;
            reachable = reachable && !hidden(d);
            if (!Format::is_table(d, l)) {
                if (is_aligned(edge, level_size(l)) || used >= kMaxSplits) return;
                const Pa next = pool[used++];
                ++tables_;
                u64* t = mem_->table(next);
                const u64 block = unhidden(d);
                const Pa out = Format::output_address(block);
                const Attr attr = Format::leaf_attr(block);
                for (u64 i = 0; i < kEntriesPerTable; ++i) t[i] = Format::make_leaf(out + i * level_size(l + 1), l + 1, attr);
                const u64 link = noted(Format::make_table(next), attr);
                if (!reachable) {
                    // Hidden, or below a hidden table: in no TLB, so no
                    // break is needed. A hidden block becomes a hidden
                    // table, so its valid leaves stay out of reach until
                    // the owner reveals it.
                    store(entry, hidden(d) ? hidden_form(link) : link);
                    table = next;
                    continue;
                }
                // Break-before-make, DDI 0487 D8.14.1: the block may be
                // cached in TLBs; replacing it directly with a table could
                // leave two translations of one address live at once.
                store(entry, Format::invalid());
                invalidate(Input(align_down(edge, level_size(l))), l);
                store(entry, link);
            }
            table = Format::output_address(*entry);
        }
    }

    // Clears [lo, hi) within `table` (at `level`), freeing child tables that
    // end up empty. Precondition: the edges were split, so every leaf
    // overlapping [lo, hi) lies inside it. `reachable`: no hidden entry
    // above `table`, so its valid entries may be cached.
    template <typename Invalidate>
    void clear(Pa table, unsigned level, u64 lo, u64 hi, Invalidate& invalidate, bool reachable = true) {
        const u64 sz = level_size(level);
        const u64 table_end = align_down(lo, sz << kLevelBits) + (sz << kLevelBits);
        const u64 stop = hi < table_end ? hi : table_end;
        for (u64 a = align_down(lo, sz); a < stop; a += sz) {
            u64* entry = slot(table, a, level);
            const u64 d = *entry;
            if (d == Format::invalid()) continue;
            if (Format::is_table(d, level)) {
                const Pa child = Format::output_address(d);
                clear(child, level + 1, a > lo ? a : lo, a + sz < hi ? a + sz : hi, invalidate,
                      reachable && !hidden(d));
                if (!is_empty(child)) continue;
                store(entry, Format::invalid());
                if (reachable && Format::is_valid(d)) invalidate(Input(a), level);
                mem_->free_table(child);
                --tables_;
            } else if (a >= lo && a + sz <= hi) {
                store(entry, Format::invalid());
                // An entry that gives a Translation fault is never held in a
                // TLB (DDI 0487 D8.13): only a valid one needs maintenance,
                // and only if no hidden table above keeps walks away.
                if (reachable && Format::is_valid(d)) invalidate(Input(a), level);
            }
        }
    }

    bool is_empty(Pa table) const {
        const u64* t = mem_->table(table);
        for (u64 i = 0; i < kEntriesPerTable; ++i)
            if (t[i] != Format::invalid()) return false;
        return true;
    }

    // Calls `g(root table, lo, hi)` for each root table overlapping `range`,
    // clipped to it; false once `g` returns false.
    template <typename G>
    bool for_each_root(Range<Input> range, G&& g) const {
        const u64 lo = range.base.raw();
        if (lo >= input_limit() || range.size == 0) return true;
        const u64 hi = range.size > input_limit() - lo ? input_limit() : lo + range.size;
        const u64 span = u64{1} << root_table_shift();
        for (unsigned k = 0; k < geometry_.root_tables(); ++k) {
            const u64 base = u64{k} * span;
            if (base >= hi || base + span <= lo) continue;
            if (!g(root_ + k * kPageSize, lo > base ? lo : base, hi < base + span ? hi : base + span)) return false;
        }
        return true;
    }

    template <typename F>
    bool leaves(Pa table, unsigned level, u64 lo, u64 hi, F& f) const {
        const u64 sz = level_size(level);
        const u64 table_end = align_down(lo, sz << kLevelBits) + (sz << kLevelBits);
        const u64 stop = hi < table_end ? hi : table_end;
        for (u64 a = align_down(lo, sz); a < stop; a += sz) {
            const u64 d = *slot(table, a, level);
            if (!Format::is_valid(d)) continue;
            if (Format::is_table(d, level)) {
                if (!leaves(Format::output_address(d), level + 1, a > lo ? a : lo, a + sz < hi ? a + sz : hi, f))
                    return false;
            } else if (!f(Input(a), Leaf{Format::output_address(d), level, Format::leaf_attr(d), false})) {
                return false;
            }
        }
        return true;
    }

    template <typename F, typename After>
    bool entries(Pa table, unsigned level, u64 lo, u64 hi, F& f, After& after) {
        const u64 sz = level_size(level);
        const u64 table_end = align_down(lo, sz << kLevelBits) + (sz << kLevelBits);
        const u64 stop = hi < table_end ? hi : table_end;
        for (u64 a = align_down(lo, sz); a < stop; a += sz) {
            u64* s = slot(table, a, level);
            if (*s == Format::invalid()) continue;
            EntryRef ref(Input(a), level, s);
            const Visit v = f(ref);
            if (v == Visit::stop) return false;
            const u64 d = *s;
            if (v == Visit::descend && d != Format::invalid() && Format::is_table(d, level)) {
                if (!entries(Format::output_address(d), level + 1, a > lo ? a : lo, a + sz < hi ? a + sz : hi, f,
                             after))
                    return false;
                after(ref);
            }
        }
        return true;
    }

    void free_subtree(Pa table, unsigned level) {
        if (level == 3) return;
        u64* t = mem_->table(table);
        for (u64 i = 0; i < kEntriesPerTable; ++i) {
            const u64 d = t[i];
            if (d == Format::invalid() || !Format::is_table(d, level)) continue;
            const Pa child = Format::output_address(d);
            free_subtree(child, level + 1);
            mem_->free_table(child);
        }
    }

    TableMemory* mem_ = nullptr;
    Pa root_{};
    TableGeometry geometry_{};
    usize tables_ = 0;
};

} // namespace setwise::mm
