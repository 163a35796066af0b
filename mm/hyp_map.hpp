// The hypervisor's own EL2 stage-1 map.
//
// setwise maps all of RAM at VA == PA (an identity map), as Normal
// write-back memory, non-executable except for the image's text. That one
// mapping is how later issues reach guest memory by VA: cleaning a guest
// page to the point of coherency is a DC CIVAC on va_of(pa). Devices are
// mapped on demand (map_device), also at VA == PA, as Device-nGnRE.
//
//   0 ............ RAM bank ........................................ end
//   |  RW, XN  | image text: RO, X |   RW, XN (rest of image, free RAM) |
//
// Table pages come first from a static pool (the boot CPU builds the map
// with the MMU off, before the frame allocator exists), then from a page
// source the frame allocator provides.
#pragma once

#include <span>

#include "arch/arm64/frame.hpp"
#include "arch/arm64/pte_format.hpp"
#include "mm/page_table.hpp"

namespace setwise::mm {

// The fact behind every hypervisor pointer to physical memory.
constexpr Va va_of(Pa pa) { return Va(pa.raw()); }
template <typename T>
T* ptr_of(Pa pa) { return reinterpret_cast<T*>(va_of(pa).raw()); }

class PageSource {
public:
    // One zeroed 4 KiB page, or no_memory.
    virtual Result<Pa> allocate_page() = 0;

protected:
    ~PageSource() = default;
};

class HypTableMemory final : public TableMemory {
public:
    // `pool` must be page aligned, a whole number of pages, and reachable at
    // VA == PA.
    explicit HypTableMemory(std::span<u8> pool) : pool_(pool) {}
    void set_page_source(PageSource* src) { source_ = src; }

    Result<Pa> allocate_table() override;
    u64* table(Pa pa) override { return ptr_of<u64>(pa); }
    usize pool_pages_used() const { return used_; }
    std::span<u8> pool() const { return pool_; }

private:
    std::span<u8> pool_;
    usize used_ = 0;
    PageSource* source_ = nullptr;
};

class HypMap {
public:
    using Table = PageTable<arm64::Stage1El2Format>;

    static Result<HypMap> create(HypTableMemory& mem);
    HypMap() = default;

    // One RAM bank; `text` (the image's executable pages, page aligned) is
    // mapped read-only and executable where it falls inside the bank.
    Result<void> map_ram(PaRange bank, PaRange text);
    // A device register block, widened to whole pages. Mapping the same
    // block twice is harmless.
    Result<void> map_device(PaRange regs);

    Pa root() const { return table_.root(); }
    const Table& table() const { return table_; }

    // What a CPU loads to use this map (mmu_enable_el2).
    arm64::MmuConfig mmu_config(u64 parange) const;

private:
    explicit HypMap(Table t) : table_(t) {}
    Table table_;
};

} // namespace setwise::mm
