// mm/hyp_map: the hypervisor's identity map of RAM with the image text
// read-only and executable, device mappings, the MMU configuration, and
// where table pages come from. On the host a table page's Pa is its pointer
// (mm::ptr_of), so the pool is ordinary aligned memory.
//
// Descriptor values are computed by hand from DDI 0487 D8.3 (the layout in
// arch/arm64/pte_format.hpp): [0] valid, [1] table/page, [4:2] AttrIndx,
// [7:6] AP[2:1], [9:8] SH, [10] AF, [47:12] OA, [54] XN.
#include "mm/hyp_map.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <optional>
#include <vector>

namespace setwise {

void PrintTo(Status s, std::ostream* os) { *os << status_name(s); }

namespace mm {
namespace {

using arm64::MemType;
using arm64::Stage1Attr;

constexpr Stage1Attr kRwData{MemType::normal, true, false};
constexpr Stage1Attr kRoCode{MemType::normal, false, true};
constexpr Stage1Attr kDevice{MemType::device, true, false};

constexpr u64 kRamBase = 0x4000'0000;
constexpr u64 kTextBase = 0x4020'0000;
constexpr u64 kTextSize = 0x2'0000;

// Page-aligned host memory, freed on destruction.
class Pages {
public:
    explicit Pages(usize n, u8 fill = 0) : n_(n) {
        mem_ = static_cast<u8*>(std::aligned_alloc(kPageSize, n * kPageSize));
        std::memset(mem_, fill, n * kPageSize);
    }
    ~Pages() { std::free(mem_); }
    Pages(const Pages&) = delete;
    Pages& operator=(const Pages&) = delete;
    std::span<u8> span() { return {mem_, n_ * kPageSize}; }
    bool contains(u64 pa) const {
        const u64 b = reinterpret_cast<u64>(mem_);
        return pa >= b && pa < b + n_ * kPageSize;
    }

private:
    usize n_;
    u8* mem_;
};

// A PageSource handing out zeroed aligned pages, up to a limit.
class FakePageSource final : public PageSource {
public:
    explicit FakePageSource(usize limit) : limit_(limit) {}
    ~FakePageSource() {
        for (void* p : pages_) std::free(p);
    }
    Result<Pa> allocate_page() override {
        ++calls_;
        if (pages_.size() >= limit_) return Status::no_memory;
        void* p = std::aligned_alloc(kPageSize, kPageSize);
        std::memset(p, 0, kPageSize);
        pages_.push_back(p);
        return Pa(reinterpret_cast<u64>(p));
    }
    usize calls() const { return calls_; }
    usize given() const { return pages_.size(); }
    bool owns(u64 pa) const {
        for (void* p : pages_)
            if (reinterpret_cast<u64>(p) == pa) return true;
        return false;
    }

private:
    usize limit_;
    usize calls_ = 0;
    std::vector<void*> pages_;
};

constexpr u64 index_at(u64 va, unsigned level) { return (va >> (12 + 9 * (3 - level))) & 0x1ff; }

// The raw descriptor at `level` for `va`, walking by the ARM encoding.
std::optional<u64> raw_at(Pa root, u64 va, unsigned level) {
    const u64* t = reinterpret_cast<const u64*>(root.raw());
    for (unsigned l = 0; l < level; ++l) {
        const u64 d = t[index_at(va, l)];
        if ((d & 3) != 3) return std::nullopt;
        t = reinterpret_cast<const u64*>(d & 0x0000'ffff'ffff'f000ull);
    }
    return t[index_at(va, level)];
}

HypMap make_map(HypTableMemory& mem) {
    Result<HypMap> r = HypMap::create(mem);
    EXPECT_TRUE(r.ok());
    return r.ok() ? r.value() : HypMap{};
}

void expect_leaf(const HypMap& map, u64 va, unsigned level, Stage1Attr attr) {
    SCOPED_TRACE(testing::Message() << "va " << std::hex << va);
    Result<HypMap::Table::Leaf> leaf = map.table().lookup(Va(va));
    ASSERT_TRUE(leaf.ok()) << status_name(leaf.status());
    EXPECT_EQ(leaf.value().pa, Pa(va)); // identity map
    EXPECT_EQ(leaf.value().level, level);
    EXPECT_EQ(leaf.value().attr, attr);
}

void expect_unmapped(const HypMap& map, u64 va) {
    EXPECT_EQ(map.table().lookup(Va(va)).status(), Status::not_found) << std::hex << va;
}

TEST(VaOf, IsTheIdentity) {
    EXPECT_EQ(va_of(Pa(0x4020'1234)), Va(0x4020'1234));
    u64 x = 0;
    EXPECT_EQ(ptr_of<u64>(Pa(reinterpret_cast<u64>(&x))), &x);
}

TEST(HypMap, OneBankWithText) {
    Pages pool(8);
    HypTableMemory mem(pool.span());
    HypMap map = make_map(mem);
    ASSERT_TRUE(map.map_ram(PaRange{Pa(kRamBase), kGiB}, PaRange{Pa(kTextBase), kTextSize}).ok());

    // [0x40000000, 0x40200000): one 2 MiB block, RW, XN.
    expect_leaf(map, 0x4000'0000, 2, kRwData);
    expect_leaf(map, 0x401f'f000, 2, kRwData);
    // The text: 32 pages, read-only, executable.
    expect_leaf(map, kTextBase, 3, kRoCode);
    expect_leaf(map, kTextBase + kTextSize - kPageSize, 3, kRoCode);
    // After the text: pages up to the next 2 MiB boundary, then blocks.
    expect_leaf(map, kTextBase + kTextSize, 3, kRwData);
    expect_leaf(map, 0x403f'f000, 3, kRwData);
    expect_leaf(map, 0x4040'0000, 2, kRwData);
    expect_leaf(map, 0x7fe0'0000, 2, kRwData);
    expect_leaf(map, 0x7fff'f000, 2, kRwData);
    // The text splits the first GiB: no 1 GiB block anywhere.
    std::optional<u64> l1 = raw_at(map.root(), kRamBase, 1);
    ASSERT_TRUE(l1.has_value());
    EXPECT_EQ(*l1 & 3, 3u) << "level-1 entry must be a table";
    // Outside the bank.
    expect_unmapped(map, 0x3fff'f000);
    expect_unmapped(map, 0x8000'0000);
    // Root, level 1, level 2, one level 3 for [0x40200000, 0x40400000).
    EXPECT_EQ(mem.pool_pages_used(), 4u);
}

TEST(HypMap, RawDescriptorsOfOneBank) {
    Pages pool(8);
    HypTableMemory mem(pool.span());
    HypMap map = make_map(mem);
    ASSERT_TRUE(map.map_ram(PaRange{Pa(kRamBase), kGiB}, PaRange{Pa(kTextBase), kTextSize}).ok());
    // Normal RW XN block: OA | XN | AF | SH=3 | block.
    EXPECT_EQ(raw_at(map.root(), 0x4000'0000, 2), 0x0040'0000'4000'0701ull);
    EXPECT_EQ(raw_at(map.root(), 0x4040'0000, 2), 0x0040'0000'4040'0701ull);
    // Text page: OA | AF | SH=3 | AP=RO | page; no XN.
    EXPECT_EQ(raw_at(map.root(), kTextBase, 3), 0x0000'0000'4020'0783ull);
    // Data page after the text: OA | XN | AF | SH=3 | page.
    EXPECT_EQ(raw_at(map.root(), kTextBase + kTextSize, 3), 0x0040'0000'4022'0703ull);
}

TEST(HypMap, TwoBanks) {
    Pages pool(8);
    HypTableMemory mem(pool.span());
    HypMap map = make_map(mem);
    const PaRange text{Pa(kTextBase), kTextSize};
    ASSERT_TRUE(map.map_ram(PaRange{Pa(kRamBase), kGiB}, text).ok());
    // A 2 GiB bank at 4 GiB, 1 GiB aligned: two 1 GiB blocks; the text is not in it.
    ASSERT_TRUE(map.map_ram(PaRange{Pa(0x1'0000'0000), 2 * kGiB}, text).ok());
    expect_leaf(map, 0x1'0000'0000, 1, kRwData);
    expect_leaf(map, 0x1'7fff'f000, 1, kRwData);
    EXPECT_EQ(raw_at(map.root(), 0x1'4000'0000, 1), 0x0040'0001'4000'0701ull);
    expect_unmapped(map, 0x8000'0000);
    expect_unmapped(map, 0x1'8000'0000);
    expect_leaf(map, kTextBase, 3, kRoCode); // the first bank is intact
    EXPECT_EQ(mem.pool_pages_used(), 4u);    // the second bank needed no table
}

TEST(HypMap, BankEdgesAreShrunkToWholePages) {
    Pages pool(8);
    HypTableMemory mem(pool.span());
    HypMap map = make_map(mem);
    ASSERT_TRUE(map.map_ram(PaRange{Pa(0x4000'0800), 0x3000}, PaRange{}).ok());
    expect_unmapped(map, 0x4000'0000); // partly outside the bank
    expect_leaf(map, 0x4000'1000, 3, kRwData);
    expect_leaf(map, 0x4000'2000, 3, kRwData);
    expect_unmapped(map, 0x4000'3000); // partly outside the bank
    // A bank smaller than a page maps nothing and is not an error.
    EXPECT_TRUE(map.map_ram(PaRange{Pa(0x5000'0100), 0x200}, PaRange{}).ok());
    expect_unmapped(map, 0x5000'0000);
}

TEST(HypMap, TextOverlappingTheBankEdgeIsClamped) {
    Pages pool(8);
    HypTableMemory mem(pool.span());
    HypMap map = make_map(mem);
    // Text [0x3fff0000, 0x40010000) straddles the bank start.
    ASSERT_TRUE(map.map_ram(PaRange{Pa(kRamBase), 4 * kMiB}, PaRange{Pa(0x3fff'0000), 0x2'0000}).ok());
    expect_unmapped(map, 0x3fff'0000);
    expect_leaf(map, 0x4000'0000, 3, kRoCode);
    expect_leaf(map, 0x4000'f000, 3, kRoCode);
    expect_leaf(map, 0x4001'0000, 3, kRwData);
    expect_leaf(map, 0x4020'0000, 2, kRwData);
}

TEST(HypMap, UnalignedTextIsRefused) {
    Pages pool(8);
    HypTableMemory mem(pool.span());
    HypMap map = make_map(mem);
    EXPECT_EQ(map.map_ram(PaRange{Pa(kRamBase), kGiB}, PaRange{Pa(kTextBase + 0x800), kTextSize}).status(),
              Status::invalid_argument);
    EXPECT_EQ(map.map_ram(PaRange{Pa(kRamBase), kGiB}, PaRange{Pa(kTextBase), kTextSize + 8}).status(),
              Status::invalid_argument);
}

TEST(HypMap, DeviceIsWidenedToWholePages) {
    Pages pool(8);
    HypTableMemory mem(pool.span());
    HypMap map = make_map(mem);
    // A 0x20-byte block in the middle of a page.
    ASSERT_TRUE(map.map_device(PaRange{Pa(0x0800'0010), 0x20}).ok());
    expect_leaf(map, 0x0800'0000, 3, kDevice);
    expect_unmapped(map, 0x0800'1000);
    expect_unmapped(map, 0x07ff'f000);
    // Device page: OA | XN | AF | AttrIndx 1 | page.
    EXPECT_EQ(raw_at(map.root(), 0x0800'0000, 3), 0x0040'0000'0800'0407ull);
    // A block straddling a page boundary gets both pages.
    ASSERT_TRUE(map.map_device(PaRange{Pa(0x0801'0ff0), 0x20}).ok());
    expect_leaf(map, 0x0801'0000, 3, kDevice);
    expect_leaf(map, 0x0801'1000, 3, kDevice);
    expect_unmapped(map, 0x0801'2000);
}

TEST(HypMap, DeviceMappedTwiceIsHarmless) {
    Pages pool(8);
    HypTableMemory mem(pool.span());
    HypMap map = make_map(mem);
    ASSERT_TRUE(map.map_device(PaRange{Pa(0x0900'0000), 0x1000}).ok());
    const usize used = mem.pool_pages_used();
    EXPECT_TRUE(map.map_device(PaRange{Pa(0x0900'0000), 0x1000}).ok());
    EXPECT_TRUE(map.map_device(PaRange{Pa(0x0900'0100), 0x10}).ok()); // same page, other bytes
    EXPECT_EQ(mem.pool_pages_used(), used);
    expect_leaf(map, 0x0900'0000, 3, kDevice);
}

TEST(HypMap, DeviceOverRamOrEmptyIsRefused) {
    Pages pool(8);
    HypTableMemory mem(pool.span());
    HypMap map = make_map(mem);
    ASSERT_TRUE(map.map_ram(PaRange{Pa(kRamBase), kGiB}, PaRange{Pa(kTextBase), kTextSize}).ok());
    EXPECT_EQ(map.map_device(PaRange{Pa(0x4030'0000), 0x1000}).status(), Status::exists);
    expect_leaf(map, 0x4030'0000, 3, kRwData);
    EXPECT_EQ(map.map_device(PaRange{Pa(0x0900'0000), 0}).status(), Status::invalid_argument);
}

TEST(HypMap, MmuConfig) {
    Pages pool(8);
    HypTableMemory mem(pool.span());
    HypMap map = make_map(mem);
    const arm64::MmuConfig c = map.mmu_config(2);
    // MAIR: 0xff Normal WB, 0x04 Device-nGnRE, 0x00 Device-nGnRnE, 0x44 Normal NC.
    EXPECT_EQ(c.mair, 0x4400'04ffull);
    // TCR_EL2 for PARange 2: RES1 31, 23; PS 2; SH0 3; ORGN0 1; IRGN0 1; T0SZ 16.
    EXPECT_EQ(c.tcr, 0x8082'3510ull);
    EXPECT_EQ(c.ttbr, map.root().raw());
    EXPECT_TRUE(pool.contains(c.ttbr));
    EXPECT_EQ(c.ttbr & 0xfff, 0u);
    // SCTLR_EL2: RES1 0x30c50830 | M (0) | C (2) | SA (3) | I (12); A, WXN, EE clear.
    EXPECT_EQ(c.sctlr, 0x30c5'183dull);
    EXPECT_EQ(c.sctlr & ((u64{1} << 1) | (u64{1} << 19) | (u64{1} << 25)), 0u);
    EXPECT_EQ(map.mmu_config(5).tcr, 0x8085'3510ull);
}

TEST(HypMap, PoolTablesAreZeroedBeforeUse) {
    // A pool full of ones: every table must be cleared, or unmapped
    // addresses would decode as garbage descriptors.
    Pages pool(8, 0xff);
    HypTableMemory mem(pool.span());
    HypMap map = make_map(mem);
    ASSERT_TRUE(map.map_ram(PaRange{Pa(kRamBase), 4 * kMiB}, PaRange{Pa(kTextBase), kTextSize}).ok());
    expect_unmapped(map, 0x4040'0000);
    expect_unmapped(map, 0x8000'0000);
    expect_unmapped(map, 0x80'0000'0000);
    expect_leaf(map, kTextBase, 3, kRoCode);
}

TEST(HypMap, PoolExhaustionFallsBackToThePageSource) {
    Pages pool(2); // root and level 1 only
    HypTableMemory mem(pool.span());
    FakePageSource source(8);
    mem.set_page_source(&source);
    HypMap map = make_map(mem);
    ASSERT_TRUE(map.map_ram(PaRange{Pa(kRamBase), kGiB}, PaRange{Pa(kTextBase), kTextSize}).ok());
    EXPECT_EQ(mem.pool_pages_used(), 2u);
    EXPECT_EQ(source.given(), 2u); // level 2 and level 3
    expect_leaf(map, kTextBase, 3, kRoCode);
    expect_leaf(map, 0x4040'0000, 2, kRwData);
    // The level-2 table came from the source.
    std::optional<u64> l1 = raw_at(map.root(), kRamBase, 1);
    ASSERT_TRUE(l1.has_value());
    EXPECT_TRUE(source.owns(*l1 & 0x0000'ffff'ffff'f000ull));
    EXPECT_TRUE(pool.contains(map.root().raw()));
}

TEST(HypMap, PoolExhaustionWithoutASourceIsNoMemory) {
    Pages pool(2);
    HypTableMemory mem(pool.span());
    HypMap map = make_map(mem);
    EXPECT_EQ(map.map_ram(PaRange{Pa(kRamBase), kGiB}, PaRange{Pa(kTextBase), kTextSize}).status(),
              Status::no_memory);
    expect_unmapped(map, kRamBase);
    expect_unmapped(map, kTextBase);
}

TEST(HypMap, PageSourceFailureIsNoMemory) {
    Pages pool(2);
    HypTableMemory mem(pool.span());
    FakePageSource source(1); // one level-2 table, then nothing for level 3
    mem.set_page_source(&source);
    HypMap map = make_map(mem);
    EXPECT_EQ(map.map_ram(PaRange{Pa(kRamBase), kGiB}, PaRange{Pa(kTextBase), kTextSize}).status(),
              Status::no_memory);
    EXPECT_EQ(source.calls(), 2u);
    expect_unmapped(map, kTextBase);
}

TEST(HypMap, CreateNeedsARootPage) {
    HypTableMemory mem(std::span<u8>{});
    EXPECT_EQ(HypMap::create(mem).status(), Status::no_memory);
}

} // namespace
} // namespace mm
} // namespace setwise
