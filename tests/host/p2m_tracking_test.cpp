// p2m access tracking (the set/way issue): track_all, resolve_fault and the
// preemptible flush walk, over the 40-bit guest geometry (level-1 start, two
// concatenated root tables) and the fake arch seam, whose CpuLog observer
// lets a test look at the tables at the moment of each TLB invalidation or
// barrier.
//
// Descriptors are read and judged here by hand (DDI 0487 D8.3, "Translation
// table descriptor formats"; setwise's software bits, p2m/stage2_format.hpp):
//   [0] valid, [1] table (levels 1-2) / page (level 3), [47:12] output
//   address, [56:55] type (leaf: 0b01 RAM, 0b10 device; table: 0b10 when a
//   device leaf is below), [58] tracked.
// Tables are walked with this file's own index arithmetic: IPA[39] picks the
// root table, IPA[38:30], [29:21], [20:12] index levels 1..3.
//
// The concurrency tests play the other vCPUs deterministically: a "touch"
// is a guest write, which needs a valid path (else it faults and the test
// plays the trap handler, resolve_fault); it makes the page dirty. The
// flush's clean callback makes the pages it covers clean. Between flush
// steps, inside the clean callback (another vCPU writing through a valid
// path while the flusher holds the lock) and at the moment of a TLB
// invalidation (a write through the stale TLB entry, before the
// invalidation completes) the test touches pages. The invariant checked
// throughout: a dirty page is always reachable through valid entries, so a
// later walk finds it.
#include "p2m/p2m.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "arch/fake/cpu.hpp"
#include "table_test_doubles.hpp"

namespace setwise {

void PrintTo(Status s, std::ostream* os) { *os << status_name(s); }

namespace p2m {
namespace {

using arch::fake::CpuLog;
using arch::fake::CpuOp;
using arch::fake::CpuRecord;

// ------------------------------------------------------------- harness

using test_doubles::ArenaMemory;
using test_doubles::LogScope;


constexpr u64 kValid = 1;
constexpr u64 kTable = 2; // table at levels 1-2, page at level 3
constexpr u64 kTracked = u64{1} << 58;
constexpr u64 kDeviceBelow = u64{1} << 56; // type 0b10 in a table
constexpr u64 kOa = 0x0000'ffff'ffff'f000ull;

constexpr u64 index_at(u64 ipa, unsigned level) { return (ipa >> (12 + 9 * (3 - level))) & 0x1ff; }
constexpr u64 span(unsigned level) { return u64{1} << (12 + 9 * (3 - level)); }

// The descriptor `d` as it reads tracked: valid bit clear, tracked bit set,
// nothing else changed.
constexpr u64 tracked(u64 d) { return (d & ~kValid) | kTracked; }
constexpr bool is_tracked(u64 d) { return (d & (kValid | kTracked)) == kTracked; }

Stage2Geometry geometry40() {
    Result<Stage2Geometry> g = stage2_geometry(2, 40);
    EXPECT_TRUE(g.ok());
    return g.value();
}

P2m make_p2m(ArenaMemory& mem, u16 vmid = 3) {
    Result<P2m> r = P2m::create(mem, vmid, geometry40());
    EXPECT_TRUE(r.ok()) << status_name(r.status());
    return r.ok() ? std::move(r).value() : P2m{};
}

// Reads the tables by hand. Valid and tracked tables are both followed.
class Tables {
public:
    Tables(ArenaMemory& mem, const P2m& p) : mem_(mem), root_(p.vttbr() & kOa) {}

    u64* root_table(u64 ipa) const { return mem_.table(Pa(root_ + ((ipa >> 39) << 12))); }

    // The slot at `level` for `ipa`, or nullptr when a table on the way is
    // missing.
    u64* slot(u64 ipa, unsigned level) const {
        u64* t = root_table(ipa);
        for (unsigned l = 1; l < level; ++l) {
            const u64 d = t[index_at(ipa, l)];
            if ((d & kTable) == 0 || (d & (kValid | kTracked)) == 0) return nullptr;
            t = mem_.table(Pa(d & kOa));
        }
        return &t[index_at(ipa, level)];
    }
    std::optional<u64> raw(u64 ipa, unsigned level) const {
        const u64* s = slot(ipa, level);
        if (s == nullptr) return std::nullopt;
        return *s;
    }
    // The 512 entries of the table that the entry at `level` for `ipa`
    // points at (a copy).
    std::vector<u64> children(u64 ipa, unsigned level) const {
        const std::optional<u64> d = raw(ipa, level);
        if (!d || (*d & kTable) == 0) {
            ADD_FAILURE() << "no table at level " << level << " for " << std::hex << ipa;
            return {};
        }
        const u64* t = mem_.table(Pa(*d & kOa));
        return std::vector<u64>(t, t + 512);
    }
    // What the MMU would do: every entry down to a leaf valid.
    bool reachable(u64 ipa) const {
        const u64* t = root_table(ipa);
        for (unsigned l = 1; l <= 3; ++l) {
            const u64 d = t[index_at(ipa, l)];
            if ((d & kValid) == 0) return false;
            if (l == 3 || (d & kTable) == 0) return true;
            t = mem_.table(Pa(d & kOa));
        }
        return false;
    }

private:
    ArenaMemory& mem_;
    u64 root_;
};

struct Clean {
    u64 pa;
    u64 size;
    bool operator==(const Clean&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Clean& c) {
    return os << "{" << std::hex << c.pa << ", " << c.size << std::dec << "}";
}

// Runs flush steps from a fresh cursor until done; returns the cleans.
std::vector<Clean> full_walk(P2m& p, u64 budget, P2m::FlushStep* total = nullptr, usize* steps = nullptr) {
    std::vector<Clean> cleans;
    P2m::FlushCursor cursor{};
    usize n = 0;
    P2m::FlushStep sum;
    while (!cursor.done && n < 100000) {
        const P2m::FlushStep s = p.flush_step(cursor, budget, [&cleans](Pa pa, u64 size) {
            cleans.push_back(Clean{pa.raw(), size});
        });
        sum.bytes_cleaned += s.bytes_cleaned;
        sum.leaves_cleaned += s.leaves_cleaned;
        sum.subtrees_skipped += s.subtrees_skipped;
        sum.units += s.units;
        sum.tables_closed += s.tables_closed;
        ++n;
    }
    EXPECT_TRUE(cursor.done);
    if (total != nullptr) *total = sum;
    if (steps != nullptr) *steps = n;
    return cleans;
}

// ------------------------------------------------------------- format

static_assert(mm::HidingFormat<Stage2Format>);
static_assert(mm::SummarizingFormat<Stage2Format>);

TEST(Stage2Tracking, Encodings) {
    constexpr Stage2Attr kRam{MappingType::ram, true, true, true};
    constexpr Stage2Attr kDev{MappingType::device, true, true, false};
    // A RAM page 0x0080'0000'4020'07ff tracked: bit 0 clear, bit 58 set.
    const u64 page = Stage2Format::make_leaf(Pa(0x4020'0000), 3, kRam);
    ASSERT_EQ(page, 0x0080'0000'4020'07ffull);
    EXPECT_EQ(Stage2Format::hide(page), 0x0480'0000'4020'07feull);
    EXPECT_EQ(Stage2Format::reveal(0x0480'0000'4020'07feull), page);
    EXPECT_TRUE(Stage2Format::is_hidden(0x0480'0000'4020'07feull));
    EXPECT_FALSE(Stage2Format::is_valid(0x0480'0000'4020'07feull));
    EXPECT_FALSE(Stage2Format::is_hidden(page));
    EXPECT_FALSE(Stage2Format::is_hidden(0));
    // Tracked, it keeps its output address and attributes.
    EXPECT_EQ(Stage2Format::output_address(0x0480'0000'4020'07feull), Pa(0x4020'0000));
    EXPECT_EQ(Stage2Format::leaf_attr(0x0480'0000'4020'07feull), kRam);
    EXPECT_TRUE(Stage2Format::is_ram(0x0480'0000'4020'07feull));
    // A table: 0x1234'5003 tracked is 0x0400'0000'1234'5002, still a table.
    EXPECT_EQ(Stage2Format::hide(0x1234'5003ull), 0x0400'0000'1234'5002ull);
    EXPECT_TRUE(Stage2Format::is_table(0x0400'0000'1234'5002ull, 2));
    // A device leaf below: type 0b10 in the table's [56:55].
    EXPECT_EQ(Stage2Format::note_leaf(0x1234'5003ull, kDev), 0x0100'0000'1234'5003ull);
    EXPECT_EQ(Stage2Format::note_leaf(0x1234'5003ull, kRam), 0x1234'5003ull);
    EXPECT_TRUE(Stage2Format::holds_device(0x0100'0000'1234'5003ull));
    EXPECT_FALSE(Stage2Format::holds_device(0x1234'5003ull));
    EXPECT_FALSE(Stage2Format::is_ram(Stage2Format::make_leaf(Pa(0x0900'0000), 3, kDev)));
}

// ------------------------------------------------------------ track_all

TEST(TrackAll, HidesExactlyTheRootLevelRamEntries) {
    ArenaMemory mem(64);
    LogScope log;
    P2m p = make_p2m(mem);
    Tables t(mem, p);
    ASSERT_TRUE(p.map_ram(Ipa(0x4000'0000), Pa(0x4000'0000), kGiB).ok());                       // t0[1] block
    ASSERT_TRUE(p.map_ram(Ipa(0x8000'0000), Pa(0x1'0000'0000), 4 * kMiB, Granule::page).ok());  // t0[2] table
    ASSERT_TRUE(p.map_ram(Ipa(0x80'0020'0000), Pa(0x2'0020'0000), 2 * kMiB).ok());             // t1[0] table
    ASSERT_TRUE(p.map_device(Ipa(0x0900'0000), Pa(0x0900'0000), kPageSize).ok());              // t0[0] table
    u64* t0 = t.root_table(0);
    u64* t1 = t.root_table(u64{1} << 39);
    const std::vector<u64> before0(t0, t0 + 512);
    const std::vector<u64> before1(t1, t1 + 512);
    const std::vector<u64> below = t.children(0x8000'0000, 1);
    const u64 device_leaf = *t.raw(0x0900'0000, 3);
    ASSERT_EQ(before0[1], 0x0080'0000'4000'07fdull);
    // The device's tables say a device is below them.
    ASSERT_EQ(before0[0] & (kDeviceBelow | 3), kDeviceBelow | 3);
    ASSERT_EQ(*t.raw(0x0900'0000, 2) & (kDeviceBelow | 3), kDeviceBelow | 3);
    ASSERT_EQ(before0[2] & (kDeviceBelow | 3), 3u);

    std::vector<u64> at_tlbi; // root entries 1, 2 and t1[0] when the TLBs were told
    log.observe([&](const CpuRecord& r) {
        if (r.op == CpuOp::stage2_tlb_invalidate_vmid) at_tlbi = {t0[1], t0[2], t1[0]};
    });
    log.log().clear();
    EXPECT_EQ(p.track_all(), 3u);

    EXPECT_EQ(t0[1], tracked(before0[1]));
    EXPECT_EQ(t0[2], tracked(before0[2]));
    EXPECT_EQ(t1[0], tracked(before1[0]));
    EXPECT_EQ(t0[1], 0x0480'0000'4000'07fcull); // output address and attributes kept
    EXPECT_EQ(t0[2] & kOa, before0[2] & kOa);
    // Nothing else changed: the device's table, the other entries, and the
    // entries below the hidden table.
    for (unsigned i = 0; i < 512; ++i) {
        if (i != 1 && i != 2) {
            EXPECT_EQ(t0[i], before0[i]) << i;
        }
        if (i != 0) {
            EXPECT_EQ(t1[i], before1[i]) << i;
        }
    }
    EXPECT_EQ(t.children(0x8000'0000, 1), below);
    EXPECT_EQ(t.raw(0x0900'0000, 3), device_leaf);

    // One VMID-wide invalidation, after the writes.
    const std::vector<CpuRecord> r = log.stage2();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].op, CpuOp::stage2_tlb_invalidate_vmid);
    EXPECT_EQ(r[0].vttbr, p.vttbr());
    EXPECT_EQ(at_tlbi, (std::vector<u64>{t0[1], t0[2], t1[0]}));
    EXPECT_EQ(p.tracking_counters().hidden, 3u);

    // Still mapped, as software sees it; the device is not tracked.
    Result<Translation> ram = p.translate(Ipa(0x4123'4567));
    ASSERT_TRUE(ram.ok());
    EXPECT_EQ(ram.value().pa, Pa(0x4123'4567));
    EXPECT_TRUE(ram.value().tracked);
    Result<Translation> page = p.translate(Ipa(0x8000'3000));
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(page.value().pa, Pa(0x1'0000'3000));
    EXPECT_EQ(page.value().level, 3u);
    EXPECT_TRUE(page.value().tracked);
    Result<Translation> dev = p.translate(Ipa(0x0900'0000));
    ASSERT_TRUE(dev.ok());
    EXPECT_FALSE(dev.value().tracked);
    EXPECT_FALSE(t.reachable(0x4000'0000));
    EXPECT_TRUE(t.reachable(0x0900'0000));

    // Again: nothing valid to hide, no invalidation.
    log.log().clear();
    EXPECT_EQ(p.track_all(), 0u);
    EXPECT_TRUE(log.stage2().empty());
    EXPECT_EQ(p.tracking_counters().hidden, 3u);
}

TEST(TrackAll, LooksInsideATableThatHoldsADevice) {
    // RAM and a device in one level-3 table, a RAM block beside them: the
    // tables above the device stay valid, the RAM inside them is hidden.
    ArenaMemory mem(64);
    P2m p = make_p2m(mem);
    Tables t(mem, p);
    ASSERT_TRUE(p.map_device(Ipa(0x0900'0000), Pa(0x0900'0000), kPageSize).ok());
    ASSERT_TRUE(p.map_ram(Ipa(0x0900'1000), Pa(0x4000'1000), kPageSize).ok());
    ASSERT_TRUE(p.map_ram(Ipa(0x0a00'0000), Pa(0x4020'0000), 2 * kMiB).ok());
    const u64 l1 = *t.raw(0x0900'0000, 1);
    const u64 l2 = *t.raw(0x0900'0000, 2);
    const u64 dev = *t.raw(0x0900'0000, 3);
    const u64 ram = *t.raw(0x0900'1000, 3);
    const u64 block = *t.raw(0x0a00'0000, 2);
    EXPECT_EQ(p.track_all(), 2u);
    EXPECT_EQ(t.raw(0x0900'0000, 1), l1);
    EXPECT_EQ(t.raw(0x0900'0000, 2), l2);
    EXPECT_EQ(t.raw(0x0900'0000, 3), dev);
    EXPECT_EQ(t.raw(0x0900'1000, 3), tracked(ram));
    EXPECT_EQ(t.raw(0x0a00'0000, 2), tracked(block));
    EXPECT_TRUE(t.reachable(0x0900'0000));
    EXPECT_FALSE(t.reachable(0x0900'1000));

    // A fault on the device: already valid, nothing changes.
    LogScope log;
    Result<bool> r = p.resolve_fault(Ipa(0x0900'0010));
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r.value());
    EXPECT_EQ(log.log().count(), 0u);
    // The RAM page beside it: revealed.
    r = p.resolve_fault(Ipa(0x0900'1000));
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r.value());
    EXPECT_EQ(t.raw(0x0900'1000, 3), ram);
}

// -------------------------------------------------------- resolve_fault

// 4 MiB of pages at IPA 0x4000'0000 (PA 0x8000'0000): root table 0 entry 1
// -> level-2 table (entries 0, 1) -> level-3 tables A (0x4000'0000..) and
// B (0x4020'0000..).
constexpr u64 kRam = 0x4000'0000;
constexpr u64 kRamPa = 0x8000'0000;

void map_pages(P2m& p, u64 size = 4 * kMiB) {
    ASSERT_TRUE(p.map_ram(Ipa(kRam), Pa(kRamPa), size, Granule::page).ok());
}

TEST(ResolveFault, OpensOnlyThePathToTheFault) {
    ArenaMemory mem(64);
    P2m p = make_p2m(mem);
    Tables t(mem, p);
    map_pages(p);
    const u64 root_entry = *t.raw(kRam, 1);
    const std::vector<u64> l2 = t.children(kRam, 1);
    const std::vector<u64> a = t.children(kRam, 2);
    const std::vector<u64> b = t.children(kRam + 2 * kMiB, 2);
    ASSERT_EQ(p.track_all(), 1u);

    LogScope log;
    // At each barrier: the root entry, the level-2 entries, pages 5 and 6.
    std::vector<std::vector<u64>> at_sync;
    log.observe([&](const CpuRecord& r) {
        if (r.op != CpuOp::page_table_sync) return;
        at_sync.push_back({*t.raw(kRam, 1), *t.raw(kRam, 2), *t.raw(kRam + 2 * kMiB, 2), *t.raw(kRam + 0x5000, 3),
                           *t.raw(kRam + 0x6000, 3)});
    });
    Result<bool> r = p.resolve_fault(Ipa(kRam + 0x5abc));
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r.value());

    // The path is valid, exactly as mapped.
    EXPECT_EQ(t.raw(kRam, 1), root_entry);
    EXPECT_EQ(t.raw(kRam, 2), l2[0]);
    EXPECT_EQ(t.raw(kRam + 0x5000, 3), a[5]);
    EXPECT_TRUE(t.reachable(kRam + 0x5000));
    // Every sibling on the way is tracked, output address kept.
    EXPECT_EQ(t.raw(kRam + 2 * kMiB, 2), tracked(l2[1]));
    const std::vector<u64> a_now = t.children(kRam, 2);
    for (unsigned i = 0; i < 512; ++i) {
        if (i == 5) continue;
        EXPECT_EQ(a_now[i], tracked(a[i])) << i;
    }
    // Below the still-tracked sibling nothing was touched: it is hidden by
    // its own entry, and will be opened, children first, when faulted on.
    EXPECT_EQ(t.children(kRam + 2 * kMiB, 2), b);
    // Translate still sees every page.
    Result<Translation> other = p.translate(Ipa(kRam + 0x6000));
    ASSERT_TRUE(other.ok());
    EXPECT_EQ(other.value().pa, Pa(kRamPa + 0x6000));
    EXPECT_TRUE(other.value().tracked);
    Result<Translation> here = p.translate(Ipa(kRam + 0x5000));
    ASSERT_TRUE(here.ok());
    EXPECT_FALSE(here.value().tracked);

    // No TLB maintenance; a barrier after each table's children were hidden,
    // while the table itself was still tracked, and one at the end.
    EXPECT_TRUE(log.stage2().empty());
    ASSERT_EQ(at_sync.size(), 3u);
    EXPECT_EQ(at_sync[0], (std::vector<u64>{tracked(root_entry), tracked(l2[0]), tracked(l2[1]), a[5], a[6]}));
    EXPECT_EQ(at_sync[1], (std::vector<u64>{root_entry, tracked(l2[0]), tracked(l2[1]), tracked(a[5]), tracked(a[6])}));
    EXPECT_EQ(at_sync[2], (std::vector<u64>{root_entry, l2[0], tracked(l2[1]), a[5], tracked(a[6])}));
    P2m::TrackingCounters c = p.tracking_counters();
    EXPECT_EQ(c.faults_resolved, 1u);
    EXPECT_EQ(c.tables_opened, 2u);

    // A second fault in the same 2 MiB opens only its page.
    const std::vector<u64> l2_before = t.children(kRam, 1);
    std::vector<u64> a_before = t.children(kRam, 2);
    log.log().clear();
    r = p.resolve_fault(Ipa(kRam + 0x7000));
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r.value());
    EXPECT_EQ(t.children(kRam, 1), l2_before);
    a_before[7] = a[7];
    EXPECT_EQ(t.children(kRam, 2), a_before);
    EXPECT_EQ(t.raw(kRam, 1), root_entry);
    EXPECT_EQ(log.of(CpuOp::page_table_sync).size(), 1u);
    EXPECT_TRUE(log.stage2().empty());
    c = p.tracking_counters();
    EXPECT_EQ(c.faults_resolved, 2u);
    EXPECT_EQ(c.tables_opened, 2u);

    // Already valid (another vCPU got there first): true, nothing changes.
    a_before = t.children(kRam, 2);
    log.log().clear();
    r = p.resolve_fault(Ipa(kRam + 0x7ff8));
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r.value());
    EXPECT_EQ(t.children(kRam, 2), a_before);
    EXPECT_EQ(log.log().count(), 0u);
    EXPECT_EQ(p.tracking_counters().faults_resolved, 2u);

    // Nothing mapped: false, nothing changes.
    for (u64 ipa : {kRam + 4 * kMiB, u64{0x1'0000'0000}, u64{0xff'ffff'f000}, u64{0x100'0000'0000}}) {
        r = p.resolve_fault(Ipa(ipa));
        ASSERT_TRUE(r.ok());
        EXPECT_FALSE(r.value()) << std::hex << ipa;
    }
    EXPECT_EQ(t.children(kRam, 1), l2_before);
    EXPECT_EQ(t.children(kRam, 2), a_before);
    EXPECT_EQ(log.log().count(), 0u);
}

TEST(ResolveFault, AHoleBelowATrackedTable) {
    // MMIO emulated inside a GiB that also holds RAM: the tracked tables on
    // the way are opened (their children hidden first), the answer is false.
    ArenaMemory mem(64);
    P2m p = make_p2m(mem);
    Tables t(mem, p);
    map_pages(p);
    const u64 root_entry = *t.raw(kRam, 1);
    const std::vector<u64> l2 = t.children(kRam, 1);
    ASSERT_EQ(p.track_all(), 1u);
    Result<bool> r = p.resolve_fault(Ipa(kRam + 6 * kMiB));
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r.value());
    EXPECT_EQ(t.raw(kRam, 1), root_entry);
    EXPECT_EQ(t.raw(kRam, 2), tracked(l2[0]));
    EXPECT_EQ(t.raw(kRam + 2 * kMiB, 2), tracked(l2[1]));
    EXPECT_EQ(t.raw(kRam + 6 * kMiB, 2), 0u);
    EXPECT_EQ(p.tracking_counters().tables_opened, 1u);
    EXPECT_EQ(p.tracking_counters().faults_resolved, 0u);
}

TEST(ResolveFault, BlocksBelowATrackedTable) {
    // PA only 2 MiB aligned: 2 MiB blocks in a level-2 table.
    ArenaMemory mem(64);
    P2m p = make_p2m(mem);
    Tables t(mem, p);
    ASSERT_TRUE(p.map_ram(Ipa(kRam), Pa(0x8020'0000), kGiB).ok());
    const std::vector<u64> blocks = t.children(kRam, 1);
    ASSERT_EQ(blocks[1], 0x0080'0000'8040'07fdull);
    ASSERT_EQ(p.track_all(), 1u);
    Result<bool> r = p.resolve_fault(Ipa(kRam + 0x20'1000));
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r.value());
    const std::vector<u64> now = t.children(kRam, 1);
    for (unsigned i = 0; i < 512; ++i) EXPECT_EQ(now[i], i == 1 ? blocks[i] : tracked(blocks[i])) << i;
    Result<Translation> tr = p.translate(Ipa(kRam + 0x20'1234));
    ASSERT_TRUE(tr.ok());
    EXPECT_EQ(tr.value().pa, Pa(0x8040'1234));
    EXPECT_EQ(tr.value().level, 2u);
    EXPECT_FALSE(tr.value().tracked);

    // A GiB block at the root: revealed as it was.
    ASSERT_TRUE(p.map_ram(Ipa(0x80'0000'0000), Pa(0x1'0000'0000), kGiB).ok());
    const u64 gib = *t.raw(0x80'0000'0000, 1);
    ASSERT_EQ(p.track_all(), 2u);
    EXPECT_EQ(t.raw(0x80'0000'0000, 1), tracked(gib));
    r = p.resolve_fault(Ipa(0x80'3fff'ffff));
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r.value());
    EXPECT_EQ(t.raw(0x80'0000'0000, 1), gib);
}

// ----------------------------------------------------------- flush_step

// Pages (kRam, 4 MiB), a GiB block at 0x80'0000'0000 (root table 1 entry 0)
// and a device page at 0x0900'0000.
constexpr u64 kGibIpa = 0x80'0000'0000;
constexpr u64 kGibPa = 0x1'0000'0000;

void map_mixed(P2m& p) {
    map_pages(p);
    ASSERT_TRUE(p.map_ram(Ipa(kGibIpa), Pa(kGibPa), kGiB).ok());
    ASSERT_TRUE(p.map_device(Ipa(0x0900'0000), Pa(0x0900'0000), kPageSize).ok());
}

void fault(P2m& p, u64 ipa) {
    Result<bool> r = p.resolve_fault(Ipa(ipa));
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(r.value()) << std::hex << ipa;
}

TEST(FlushStep, CleansOnlyWhatWasTouchedAndSkipsTrackedSubtreesWhole) {
    ArenaMemory mem(64);
    P2m p = make_p2m(mem);
    Tables t(mem, p);
    map_mixed(p);
    const u64 device_l1 = *t.raw(0x0900'0000, 1);
    const u64 device_leaf = *t.raw(0x0900'0000, 3);
    ASSERT_EQ(p.track_all(), 2u);
    fault(p, kRam + 0x5000);
    fault(p, kRam + 0x7000);
    fault(p, kRam + 0x20'3000);
    fault(p, kGibIpa + 0x10'0000);

    LogScope log;
    P2m::FlushStep sum;
    usize steps = 0;
    const std::vector<Clean> cleans = full_walk(p, 256 * kKiB, &sum, &steps);
    EXPECT_EQ(cleans, (std::vector<Clean>{{kRamPa + 0x5000, kPageSize},
                                          {kRamPa + 0x7000, kPageSize},
                                          {kRamPa + 0x20'3000, kPageSize},
                                          {kGibPa, kGiB}}));
    EXPECT_EQ(steps, 1u); // the GiB block is one unit past the budget, then nothing is left
    EXPECT_EQ(sum.bytes_cleaned, 3 * kPageSize + kGiB);
    EXPECT_EQ(sum.leaves_cleaned, 4u);
    EXPECT_EQ(sum.units, 4u);
    // Table A: 510 tracked pages; table B: 511 (it was opened by the fault
    // at 0x4020'3000). Each passed over without a look inside.
    EXPECT_EQ(sum.subtrees_skipped, 510u + 511u);
    // A, B, then the level-2 table above them, each hidden once passed.
    EXPECT_EQ(sum.tables_closed, 3u);

    // In walk order: table A's two leaves together (VMID-wide); table B's
    // leaf, VMID-wide because A's close owes one; the GiB block at the end,
    // VMID-wide too, paying for the closes of B and the level-2 table.
    const std::vector<CpuRecord> r = log.stage2();
    ASSERT_EQ(r.size(), 3u);
    const std::vector<std::pair<CpuOp, u64>> expected = {{CpuOp::stage2_tlb_invalidate_vmid, 0},
                                                         {CpuOp::stage2_tlb_invalidate_vmid, 0},
                                                         {CpuOp::stage2_tlb_invalidate_vmid, 0}};
    for (usize i = 0; i < r.size(); ++i) {
        EXPECT_EQ(r[i].op, expected[i].first) << i;
        EXPECT_EQ(r[i].ipa, Ipa(expected[i].second)) << i;
        EXPECT_EQ(r[i].vttbr, p.vttbr()) << i;
    }

    // Everything is tracked again from the root; the device is untouched.
    EXPECT_TRUE(is_tracked(*t.raw(kRam, 1)));
    EXPECT_TRUE(is_tracked(*t.raw(kRam, 2)));
    EXPECT_TRUE(is_tracked(*t.raw(kRam + 2 * kMiB, 2)));
    EXPECT_TRUE(is_tracked(*t.raw(kRam + 0x5000, 3)));
    EXPECT_TRUE(is_tracked(*t.raw(kGibIpa, 1)));
    EXPECT_EQ(t.raw(0x0900'0000, 1), device_l1);
    EXPECT_EQ(t.raw(0x0900'0000, 3), device_leaf);

    // A second walk with no fault in between cleans nothing, and passes over
    // the two root entries whole.
    log.log().clear();
    const std::vector<Clean> again = full_walk(p, 256 * kKiB, &sum, &steps);
    EXPECT_TRUE(again.empty());
    EXPECT_EQ(steps, 1u);
    EXPECT_EQ(sum.units, 0u);
    EXPECT_EQ(sum.subtrees_skipped, 2u);
    EXPECT_EQ(sum.tables_closed, 0u);
    EXPECT_TRUE(log.stage2().empty());
}

TEST(FlushStep, PerUnitTheHideThenTheInvalidationThenTheCleans) {
    for (const u64 budget : {u64{0}, 256 * kKiB, 2 * kMiB}) {
        SCOPED_TRACE(testing::Message() << "budget " << budget);
        ArenaMemory mem(64);
        P2m p = make_p2m(mem);
        Tables t(mem, p);
        map_mixed(p);
        ASSERT_EQ(p.track_all(), 2u);
        for (u64 ipa : {kRam + 0x5000, kRam + 0x7000, kRam + 0x20'3000, kGibIpa + 0x4000'0000 - kPageSize}) fault(p, ipa);

        // The event sequence: each TLBI with the state of what it is about,
        // each clean with the state of its leaf.
        struct Event {
            std::string what; // "ipa", "vmid", "clean"
            u64 addr;         // IPA of the TLBI, or of the cleaned leaf
            bool hidden;      // ipa: its entry tracked; clean: its leaf not reachable
        };
        std::vector<Event> events;
        LogScope log;
        log.observe([&](const CpuRecord& r) {
            if (r.op == CpuOp::stage2_tlb_invalidate_ipa)
                events.push_back({"ipa", r.ipa.raw(), is_tracked(*t.raw(r.ipa.raw(), r.level))});
            if (r.op == CpuOp::stage2_tlb_invalidate_vmid) events.push_back({"vmid", 0, true});
        });
        P2m::FlushCursor cursor{};
        while (!cursor.done) {
            (void)p.flush_step(cursor, budget, [&](Pa pa, u64 size) {
                const u64 ipa = pa.raw() == kGibPa ? kGibIpa : pa.raw() - kRamPa + kRam;
                events.push_back({"clean", ipa, !t.reachable(ipa) && size != 0});
            });
        }
        std::vector<std::string> seq;
        for (const Event& e : events) {
            EXPECT_TRUE(e.hidden) << e.what << " " << std::hex << e.addr;
            seq.push_back(e.what == "vmid" ? "vmid" : e.what + " " + std::to_string(e.addr - (e.addr >= kGibIpa ? kGibIpa : kRam)));
        }
        if (budget == 0) {
            // One leaf unit per step: each clean right after the invalidation
            // of its IPA, or a VMID-wide one when a close owes it.
            EXPECT_EQ(seq, (std::vector<std::string>{"ipa 20480", "clean 20480", "ipa 28672", "clean 28672", "vmid",
                                                     "clean 2109440", "vmid", "clean 0"}));
        } else if (budget < 2 * kMiB) {
            // Leaf units hidden together, one invalidation for them, then
            // their cleans; closes owe theirs to the next one.
            EXPECT_EQ(seq, (std::vector<std::string>{"vmid", "clean 20480", "clean 28672", "vmid", "clean 2109440",
                                                     "vmid", "clean 0"}));
        } else {
            // Level-3 tables are units: hide the table, one VMID-wide
            // invalidation, then clean its valid pages.
            EXPECT_EQ(seq, (std::vector<std::string>{"vmid", "clean 20480", "clean 28672", "vmid", "clean 2109440",
                                                     "vmid", "clean 0"}));
        }
    }
}

// Leaves wait in batches of P2m::kTlbBatch for one VMID-wide invalidation:
// 200 touched pages of one level-3 table (too big for the budget to be a
// unit) cost four invalidations (64 + 64 + 64 + 8), not 200, and no page is
// cleaned before the invalidation that follows its hide.
TEST(FlushStep, LeavesShareOneInvalidationPerBatch) {
    ArenaMemory mem(64);
    P2m p = make_p2m(mem);
    Tables t(mem, p);
    map_pages(p, 2 * kMiB);
    ASSERT_EQ(p.track_all(), 1u);
    for (u64 i = 0; i < 200; ++i) fault(p, kRam + i * kPageSize);

    LogScope log;
    usize invalidations = 0;
    std::vector<usize> batch_sizes; // cleans between two invalidations
    usize cleaned_in_batch = 0;
    log.observe([&](const CpuRecord& r) {
        if (r.op != CpuOp::stage2_tlb_invalidate_vmid && r.op != CpuOp::stage2_tlb_invalidate_ipa) return;
        ++invalidations;
        if (cleaned_in_batch != 0) batch_sizes.push_back(cleaned_in_batch);
        cleaned_in_batch = 0;
    });
    P2m::FlushCursor cursor{};
    usize cleans = 0;
    const P2m::FlushStep s = p.flush_step(cursor, 1 * kMiB, [&](Pa pa, u64) {
        const u64 ipa = pa.raw() - kRamPa + kRam;
        EXPECT_FALSE(t.reachable(ipa));
        ++cleans;
        ++cleaned_in_batch;
    });
    if (cleaned_in_batch != 0) batch_sizes.push_back(cleaned_in_batch);
    EXPECT_TRUE(cursor.done);
    EXPECT_EQ(cleans, 200u);
    EXPECT_EQ(s.units, 200u);
    EXPECT_EQ(batch_sizes, (std::vector<usize>{64, 64, 64, 8}));
    // Four batches, then one paying for both closes (the table and the
    // level-2 table above it) at the step's end.
    EXPECT_EQ(s.tables_closed, 2u);
    EXPECT_EQ(log.of(CpuOp::stage2_tlb_invalidate_vmid).size(), 5u);
    EXPECT_TRUE(log.of(CpuOp::stage2_tlb_invalidate_ipa).empty());
    EXPECT_EQ(invalidations, 5u);
}

TEST(FlushStep, BudgetBoundsEachStepAndTheCursorResumesWhereItStopped) {
    ArenaMemory mem(64);
    P2m p = make_p2m(mem);
    Tables t(mem, p);
    map_pages(p, 8 * kMiB); // four level-3 tables
    ASSERT_EQ(p.track_all(), 1u);
    std::set<u64> touched;
    for (u64 i = 0; i < 200; ++i) touched.insert(kRam + ((i * 9) % 2048) * kPageSize); // 9 is prime to 2048
    ASSERT_EQ(touched.size(), 200u);
    for (u64 ipa : touched) fault(p, ipa);

    constexpr u64 kBudget = 256 * kKiB;
    P2m::FlushCursor cursor{};
    std::vector<u64> cleaned; // IPAs, in order
    usize steps = 0;
    while (!cursor.done) {
        const usize first = cleaned.size();
        const P2m::FlushStep s = p.flush_step(cursor, kBudget, [&](Pa pa, u64 size) {
            EXPECT_EQ(size, kPageSize);
            cleaned.push_back(pa.raw() - kRamPa + kRam);
        });
        ++steps;
        EXPECT_EQ(s.bytes_cleaned, (cleaned.size() - first) * kPageSize);
        EXPECT_EQ(s.leaves_cleaned, cleaned.size() - first);
        EXPECT_EQ(s.units, cleaned.size() - first);
        // At most the budget plus one unit (a page).
        EXPECT_LE(s.bytes_cleaned, kBudget + kPageSize);
        if (!cursor.done) {
            EXPECT_EQ(s.bytes_cleaned, kBudget); // it stopped as soon as the budget was reached
            // The cursor lies past the last page cleaned and not past the
            // first page still to clean.
            ASSERT_FALSE(cleaned.empty());
            EXPECT_GT(cursor.next.raw(), cleaned.back());
            auto next_touched = touched.upper_bound(cleaned.back());
            ASSERT_NE(next_touched, touched.end());
            EXPECT_LE(cursor.next.raw(), *next_touched);
        }
        ASSERT_LT(steps, 100u);
    }
    EXPECT_EQ(steps, 4u); // 64 + 64 + 64 + 8 pages
    EXPECT_EQ(cleaned, std::vector<u64>(touched.begin(), touched.end())); // each once, in order
    EXPECT_EQ(cursor.next, Ipa(u64{1} << 40));
    EXPECT_FALSE(t.reachable(kRam));
    EXPECT_TRUE(is_tracked(*t.raw(kRam, 1)));

    // Resuming with another budget: the step starts at the cursor, even
    // where the table around it would now be a unit, so nothing behind the
    // cursor is cleaned again (a page touched there waits for the next
    // walk, its table left valid).
    fault(p, kRam + 0x3000);
    fault(p, kRam + 0x9000);
    cursor = {};
    cleaned.clear();
    P2m::FlushStep s = p.flush_step(cursor, 0, [&](Pa pa, u64) { cleaned.push_back(pa.raw() - kRamPa + kRam); });
    ASSERT_EQ(cleaned, (std::vector<u64>{kRam + 0x3000}));
    ASSERT_FALSE(cursor.done);
    const Ipa resumed_at = cursor.next;
    fault(p, kRam + 0x3000); // behind the cursor again
    s = p.flush_step(cursor, 2 * kMiB, [&](Pa pa, u64) {
        const u64 ipa = pa.raw() - kRamPa + kRam;
        EXPECT_GE(ipa, resumed_at.raw()) << "cleaned behind the cursor";
        cleaned.push_back(ipa);
    });
    EXPECT_TRUE(cursor.done);
    EXPECT_EQ(cleaned, (std::vector<u64>{kRam + 0x3000, kRam + 0x9000}));
    EXPECT_TRUE(t.reachable(kRam + 0x3000));
    EXPECT_EQ(full_walk(p, kBudget), (std::vector<Clean>{{kRamPa + 0x3000, kPageSize}}));

    // A done cursor stays done, and does nothing.
    LogScope log;
    const P2m::FlushStep none = p.flush_step(cursor, kBudget, [](Pa, u64) { ADD_FAILURE() << "cleaned"; });
    EXPECT_TRUE(cursor.done);
    EXPECT_EQ(none.units + none.subtrees_skipped + none.tables_closed, 0u);
    EXPECT_EQ(log.log().count(), 0u);
}

TEST(FlushStep, BudgetZeroIsOneUnitPerStep) {
    ArenaMemory mem(64);
    P2m p = make_p2m(mem);
    map_pages(p);
    ASSERT_EQ(p.track_all(), 1u);
    for (u64 i : {3u, 4u, 100u, 600u, 1023u}) fault(p, kRam + i * kPageSize);
    P2m::FlushCursor cursor{};
    std::vector<u64> per_step;
    while (!cursor.done && per_step.size() < 100) {
        per_step.push_back(p.flush_step(cursor, 0, [](Pa, u64) {}).units);
    }
    // One unit a step. Page 1023 is the last mapped entry: after it the
    // walk reaches the end in the same step.
    EXPECT_EQ(per_step, (std::vector<u64>{1, 1, 1, 1, 1}));
    // Otherwise one more step, with no unit, gets to the end. (The walk
    // left everything tracked: track_all finds nothing to hide.)
    ASSERT_EQ(p.track_all(), 0u);
    for (u64 i : {3u, 1000u}) fault(p, kRam + i * kPageSize);
    cursor = {};
    per_step.clear();
    while (!cursor.done && per_step.size() < 100) {
        per_step.push_back(p.flush_step(cursor, 0, [](Pa, u64) {}).units);
    }
    EXPECT_EQ(per_step, (std::vector<u64>{1, 1, 0}));
}

TEST(FlushStep, TableUnitsWhenTheBudgetCoversThem) {
    ArenaMemory mem(64);
    P2m p = make_p2m(mem);
    Tables t(mem, p);
    map_pages(p, 8 * kMiB);
    ASSERT_EQ(p.track_all(), 1u);
    std::set<u64> touched;
    for (u64 i = 0; i < 100; ++i) touched.insert(kRam + ((i * 21) % 2048) * kPageSize);
    for (u64 ipa : touched) fault(p, ipa);
    LogScope log;
    P2m::FlushStep sum;
    usize steps = 0;
    const std::vector<Clean> cleans = full_walk(p, 2 * kMiB, &sum, &steps);
    std::vector<Clean> expected;
    for (u64 ipa : touched) expected.push_back({ipa - kRam + kRamPa, kPageSize});
    EXPECT_EQ(cleans, expected);
    EXPECT_EQ(steps, 1u); // 400 KiB in four table units, under 2 MiB
    EXPECT_EQ(sum.units, 4u);
    EXPECT_EQ(sum.tables_closed, 1u); // the level-2 table, once its tables were units
    EXPECT_EQ(sum.subtrees_skipped, 4u * 512 - 100);
    // Five VMID-wide invalidations (four units, one close), none by IPA.
    EXPECT_EQ(log.of(CpuOp::stage2_tlb_invalidate_vmid).size(), 5u);
    EXPECT_TRUE(log.of(CpuOp::stage2_tlb_invalidate_ipa).empty());
    // The level-3 tables were hidden whole: their pages keep the valid bit
    // of their last touch, out of reach until a fault opens the table.
    EXPECT_TRUE(is_tracked(*t.raw(kRam, 2)));
    EXPECT_EQ(*t.raw(*touched.begin(), 3) & kValid, kValid);
    EXPECT_FALSE(t.reachable(*touched.begin()));
    // Opening it hides them first.
    fault(p, kRam + 0x1f'f000);
    EXPECT_TRUE(is_tracked(*t.raw(*touched.begin(), 3)));
    EXPECT_TRUE(full_walk(p, 2 * kMiB) == (std::vector<Clean>{{kRamPa + 0x1f'f000, kPageSize}}));
}

TEST(FlushStep, ADeviceInAnOpenedTableIsNeverCleanedNorHidden) {
    ArenaMemory mem(64);
    P2m p = make_p2m(mem);
    Tables t(mem, p);
    ASSERT_TRUE(p.map_device(Ipa(0x0900'0000), Pa(0x0900'0000), kPageSize).ok());
    ASSERT_TRUE(p.map_ram(Ipa(0x0900'1000), Pa(0x4000'1000), 2 * kPageSize).ok());
    const u64 dev = *t.raw(0x0900'0000, 3);
    const u64 l3_table = *t.raw(0x0900'0000, 2);
    ASSERT_EQ(p.track_all(), 2u);
    fault(p, 0x0900'2000);
    for (const u64 budget : {u64{0}, 2 * kMiB, ~u64{0}}) {
        const std::vector<Clean> cleans = full_walk(p, budget);
        EXPECT_EQ(cleans, (std::vector<Clean>{{0x4000'2000, kPageSize}})) << budget;
        EXPECT_EQ(t.raw(0x0900'0000, 3), dev);
        EXPECT_EQ(t.raw(0x0900'0000, 2), l3_table); // holds a device: stays valid
        EXPECT_TRUE(is_tracked(*t.raw(0x0900'2000, 3)));
        fault(p, 0x0900'2000);
    }
}

TEST(FlushStep, UnboundedBudgetMakesRootTablesUnits) {
    ArenaMemory mem(64);
    P2m p = make_p2m(mem);
    Tables t(mem, p);
    map_mixed(p);
    ASSERT_EQ(p.track_all(), 2u);
    fault(p, kRam + 0x5000);
    fault(p, kRam + 0x20'3000);
    LogScope log;
    P2m::FlushStep sum;
    const std::vector<Clean> cleans = full_walk(p, ~u64{0}, &sum);
    EXPECT_EQ(cleans, (std::vector<Clean>{{kRamPa + 0x5000, kPageSize}, {kRamPa + 0x20'3000, kPageSize}}));
    EXPECT_EQ(sum.units, 1u); // root table 0 entry 1, as one
    EXPECT_EQ(sum.tables_closed, 0u);
    EXPECT_EQ(sum.subtrees_skipped, 1u + 511u + 511u); // the GiB, then A's and B's tracked pages
    EXPECT_EQ(log.stage2().size(), 1u);
    EXPECT_TRUE(is_tracked(*t.raw(kRam, 1)));
}

TEST(FlushStep, NotLiveDoesNothing) {
    P2m p;
    P2m::FlushCursor cursor{};
    const P2m::FlushStep s = p.flush_step(cursor, 0, [](Pa, u64) { ADD_FAILURE() << "cleaned"; });
    EXPECT_TRUE(cursor.done);
    EXPECT_EQ(s.units, 0u);
    EXPECT_EQ(p.track_all(), 0u);
    Result<bool> r = p.resolve_fault(Ipa(0x4000'0000));
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r.value());
}

// --------------------------------------------------- concurrent touchers

// The guest as the test plays it: which pages are dirty (written and not
// cleaned since), touching through the MMU's rules, cleaning through the
// flush callback. RAM is [kRam, kRam + size) at PA kRamPa + offset.
class Guest {
public:
    Guest(ArenaMemory& mem, P2m& p, u64 size) : p_(p), t_(mem, p), size_(size) {}

    u64 pages() const { return size_ / kPageSize; }
    u64 page(u64 i) const { return kRam + i * kPageSize; }
    bool reachable(u64 ipa) const { return t_.reachable(ipa); }

    // A write from a vCPU that may fault: resolve_fault first, as the trap
    // handler does, then retry.
    void touch(u64 ipa) {
        if (!t_.reachable(ipa)) {
            Result<bool> r = p_.resolve_fault(Ipa(ipa));
            ASSERT_TRUE(r.ok());
            ASSERT_TRUE(r.value()) << std::hex << ipa;
            ASSERT_TRUE(t_.reachable(ipa)) << std::hex << ipa;
            ++faults_;
        }
        dirty_.insert(ipa);
        touched_.insert(ipa);
    }
    // A write that cannot fault (made while the flusher holds the lock, or
    // through a TLB entry not yet invalidated): the page is dirtied as is.
    void write_without_fault(u64 ipa) {
        dirty_.insert(ipa);
        touched_.insert(ipa);
    }
    // The flush's clean callback. By the time a page is cleaned no vCPU
    // can write it: its entry is tracked and the TLBs have been told.
    void clean(Pa pa, u64 size) {
        const u64 ipa = pa.raw() - kRamPa + kRam;
        EXPECT_EQ(ipa % kPageSize, 0u);
        for (u64 a = ipa; a < ipa + size; a += kPageSize) {
            if (t_.reachable(a) && cleaned_while_reachable_++ == 0)
                ADD_FAILURE() << "cleaned while reachable: " << std::hex << a;
            dirty_.erase(a);
            cleaned_.insert(a);
        }
    }
    // (J): a dirty page is reachable through valid entries, so the next
    // walk finds it. Reports the first offender and how many.
    [[nodiscard]] testing::AssertionResult dirty_reachable() const {
        usize bad = 0;
        u64 first = 0;
        for (u64 ipa : dirty_) {
            if (t_.reachable(ipa)) continue;
            if (bad++ == 0) first = ipa;
        }
        if (bad == 0) return testing::AssertionSuccess();
        return testing::AssertionFailure() << bad << " dirty page(s) unreachable, the first " << std::hex << first;
    }
    void check_dirty_reachable(const char* when) const { EXPECT_TRUE(dirty_reachable()) << when; }
    usize cleaned_while_reachable() const { return cleaned_while_reachable_; }
    const std::set<u64>& dirty() const { return dirty_; }
    std::set<u64>& touched() { return touched_; }
    std::set<u64>& cleaned() { return cleaned_; }
    u64 faults() const { return faults_; }

private:
    P2m& p_;
    Tables t_;
    u64 size_;
    std::set<u64> dirty_;
    std::set<u64> touched_;
    std::set<u64> cleaned_;
    u64 faults_ = 0;
    usize cleaned_while_reachable_ = 0;
};

struct TouchConfig {
    Granule granule;
    u64 budget;
    u32 seed;
};

class ConcurrentTouchers : public testing::TestWithParam<TouchConfig> {};

TEST_P(ConcurrentTouchers, NoWriteIsLost) {
    const TouchConfig cfg = GetParam();
    constexpr u64 kSize = 16 * kMiB;
    ArenaMemory mem(256);
    P2m p = make_p2m(mem);
    ASSERT_TRUE(p.map_ram(Ipa(kRam), Pa(kRamPa), kSize, cfg.granule).ok());
    Guest g(mem, p, kSize);
    std::mt19937 rng(cfg.seed);
    auto any_page = [&] { return g.page(std::uniform_int_distribution<u64>(0, g.pages() - 1)(rng)); };
    auto chance = [&](unsigned percent) { return std::uniform_int_distribution<unsigned>(0, 99)(rng) < percent; };
    // The domain is built: nothing dirty, everything tracked.
    ASSERT_EQ(p.track_all(), 1u);

    // A write in flight through a TLB entry the walk has just made stale:
    // made before the invalidation completes, so the clean after it must
    // catch it. A write on another page through a valid path, meanwhile.
    // Which pages can have such an entry: those reachable when the step
    // began that the walk has hidden and not yet cleaned (leaves wait in a
    // batch for one invalidation, by IPA or VMID-wide).
    LogScope log;
    bool in_walk = false;
    u64 in_flight = 0;     // writes through a TLB entry being invalidated
    u64 behind = 0;        // touches behind the cursor between steps
    u64 multi_step = 0;    // walks of more than one step
    std::vector<u64> reachable_at_step;
    log.observe([&](const CpuRecord& r) {
        if (!in_walk) return;
        if (r.op != CpuOp::stage2_tlb_invalidate_ipa && r.op != CpuOp::stage2_tlb_invalidate_vmid) return;
        if (!chance(50)) return;
        for (u64 ipa : reachable_at_step) {
            if (g.reachable(ipa) || g.cleaned().count(ipa) != 0) continue;
            g.write_without_fault(ipa);
            ++in_flight;
            break;
        }
    });

    for (int walk = 0; walk < 6; ++walk) {
        SCOPED_TRACE(testing::Message() << "walk " << walk);
        // Between batches the guest runs.
        for (int i = 0; i < 150; ++i) g.touch(any_page());
        ASSERT_TRUE(g.dirty_reachable()) << "before the walk";
        const std::set<u64> dirty_at_start = g.dirty();
        g.touched().clear();
        g.cleaned().clear();
        in_walk = true;
        const bool quiet = walk == 5; // the last walk runs with the guest stopped
        P2m::FlushCursor cursor{};
        usize steps = 0;
        while (!cursor.done) {
            reachable_at_step.clear();
            for (u64 ipa : g.dirty())
                if (g.reachable(ipa)) reachable_at_step.push_back(ipa);
            std::shuffle(reachable_at_step.begin(), reachable_at_step.end(), rng);
            const P2m::FlushStep s = p.flush_step(cursor, cfg.budget, [&](Pa pa, u64 size) {
                g.clean(pa, size);
                // Another vCPU writes to a page it can reach without a
                // fault (the flusher holds the lock: no fault completes).
                if (!quiet && chance(20)) {
                    const u64 ipa = any_page();
                    if (g.reachable(ipa)) g.write_without_fault(ipa);
                }
            });
            ++steps;
            // At most the budget and one unit: a page, a 2 MiB block, or a
            // level-3 table's worth once the budget covers one.
            const u64 unit = cfg.granule == Granule::page && cfg.budget < 2 * kMiB ? kPageSize : 2 * kMiB;
            if (cfg.budget < kGiB) {
                ASSERT_LE(s.bytes_cleaned, cfg.budget + unit);
            }
            ASSERT_TRUE(g.dirty_reachable()) << "after step " << steps;
            ASSERT_EQ(g.cleaned_while_reachable(), 0u);
            if (cursor.done || quiet) continue;
            // Between steps: writes behind and ahead of the cursor, faulting
            // where they must. (Fewer with tiny steps, or the guest would
            // keep the walk busy for thousands of them.)
            const int touches =
                cfg.budget >= 16 * kKiB || cfg.granule == Granule::largest ? 4 : (steps % 8 == 0 ? 2 : 0);
            for (int i = 0; i < touches; ++i) {
                const u64 ipa = any_page();
                const u64 pos = cursor.next.raw();
                const bool back = chance(50) && pos > kRam;
                const u64 target = back ? kRam + (ipa - kRam) % (pos - kRam) : ipa;
                behind += target < pos ? 1 : 0;
                g.touch(align_down(target, kPageSize));
            }
            ASSERT_TRUE(g.dirty_reachable()) << "after touches between steps";
            ASSERT_LT(steps, 100000u);
        }
        in_walk = false;
        multi_step += steps > 1 ? 1 : 0;
        // Every page dirty when the walk began was cleaned by it.
        const usize missed = static_cast<usize>(std::count_if(dirty_at_start.begin(), dirty_at_start.end(),
                                                              [&g](u64 ipa) { return g.cleaned().count(ipa) == 0; }));
        ASSERT_EQ(missed, 0u) << "pages dirty at the start of the walk and not cleaned by it";
        // Every page written during the walk was cleaned after the write or
        // is still dirty and reachable for the next walk.
        ASSERT_TRUE(g.dirty_reachable()) << "after the walk";
        if (quiet) {
            EXPECT_TRUE(g.dirty().empty()) << g.dirty().size() << " dirty after a quiet walk";
        }
    }
    // The scenarios did happen.
    EXPECT_GT(g.faults(), cfg.granule == Granule::page ? 100u : 20u);
    if (multi_step > 0) {
        EXPECT_GT(behind, 0u);
    }
    if (cfg.budget < 2 * kMiB) {
        EXPECT_GT(in_flight, 0u); // leaf units, invalidated in batches
    }

    // One more walk, nothing touched since the quiet one: nothing to clean.
    const std::vector<Clean> none = full_walk(p, cfg.budget);
    EXPECT_TRUE(none.empty()) << none.size();
}

INSTANTIATE_TEST_SUITE_P(
    Configs, ConcurrentTouchers,
    testing::Values(TouchConfig{Granule::page, 0, 1}, TouchConfig{Granule::page, 16 * kKiB, 2},
                    TouchConfig{Granule::page, 256 * kKiB, 3}, TouchConfig{Granule::page, 2 * kMiB, 4},
                    TouchConfig{Granule::page, ~u64{0}, 5}, TouchConfig{Granule::largest, 0, 6},
                    TouchConfig{Granule::largest, 256 * kKiB, 7}, TouchConfig{Granule::largest, ~u64{0}, 8}),
    [](const testing::TestParamInfo<TouchConfig>& param) {
        const TouchConfig& c = param.param;
        const std::string budget = c.budget == ~u64{0} ? "unbounded" : std::to_string(c.budget / kKiB) + "KiB";
        return std::string(c.granule == Granule::page ? "page_" : "block_") + budget;
    });

TEST(ConcurrentToucher, PagesAheadAndBehindTheCursor) {
    // The scenario spelled out: two pages dirty before the walk, one touched
    // behind the cursor and one ahead of it between two steps.
    ArenaMemory mem(64);
    P2m p = make_p2m(mem);
    map_pages(p);
    Guest g(mem, p, 4 * kMiB);
    ASSERT_EQ(p.track_all(), 1u);
    g.touch(kRam + 0x1000);
    g.touch(kRam + 0x30'0000);
    P2m::FlushCursor cursor{};
    auto clean = [&g](Pa pa, u64 size) { g.clean(pa, size); };
    P2m::FlushStep s = p.flush_step(cursor, 0, clean); // one page
    ASSERT_EQ(s.units, 1u);
    ASSERT_EQ(g.cleaned(), (std::set<u64>{kRam + 0x1000}));
    ASSERT_FALSE(cursor.done);
    g.touch(kRam + 0x1000);   // behind: faults, revealed again
    g.touch(kRam + 0x2f'0000); // ahead, in the other level-3 table
    while (!cursor.done) (void)p.flush_step(cursor, 0, clean);
    // The page ahead was cleaned in this walk; the one behind is dirty and
    // reachable, its tables left valid by the walk's closes.
    EXPECT_EQ(g.cleaned(), (std::set<u64>{kRam + 0x1000, kRam + 0x2f'0000, kRam + 0x30'0000}));
    EXPECT_EQ(g.dirty(), (std::set<u64>{kRam + 0x1000}));
    g.check_dirty_reachable("end of walk");
    Tables t(mem, p);
    EXPECT_EQ(*t.raw(kRam, 1) & kValid, kValid);
    EXPECT_EQ(*t.raw(kRam, 2) & kValid, kValid);
    EXPECT_TRUE(is_tracked(*t.raw(kRam + 2 * kMiB, 2))); // B had nothing valid left: closed
    // The next walk finds it.
    g.cleaned().clear();
    cursor = {};
    while (!cursor.done) (void)p.flush_step(cursor, 256 * kKiB, clean);
    EXPECT_EQ(g.cleaned(), (std::set<u64>{kRam + 0x1000}));
    EXPECT_TRUE(g.dirty().empty());
    EXPECT_TRUE(is_tracked(*t.raw(kRam, 1)));
}

TEST(ConcurrentToucher, TheCheckerSeesAPageLostByHidingAfterTheWalk) {
    // Why the walk ends without a track_all: re-hiding the root after it
    // would put a page touched behind the cursor out of the next walk's
    // reach while it is still dirty. This plays that mistake and checks
    // that the harness catches it, so its silence elsewhere means something.
    ArenaMemory mem(64);
    P2m p = make_p2m(mem);
    map_pages(p);
    Guest g(mem, p, 4 * kMiB);
    Tables t(mem, p);
    ASSERT_EQ(p.track_all(), 1u);
    g.touch(kRam + 0x1000);
    P2m::FlushCursor cursor{};
    auto clean = [&g](Pa pa, u64 size) { g.clean(pa, size); };
    (void)p.flush_step(cursor, 0, clean);
    g.touch(kRam + 0x1000); // behind the cursor
    while (!cursor.done) (void)p.flush_step(cursor, 0, clean);
    ASSERT_TRUE(g.reachable(kRam + 0x1000));
    EXPECT_EQ(p.track_all(), 1u); // the mistake: hides the root entry above a dirty page
    EXPECT_EQ(g.dirty(), (std::set<u64>{kRam + 0x1000}));
    EXPECT_FALSE(g.reachable(kRam + 0x1000)); // (J) broken
    // A fault elsewhere opens the path and hides the dirty page for good.
    g.touch(kRam + 0x5000);
    EXPECT_TRUE(is_tracked(*t.raw(kRam + 0x1000, 3)));
    g.cleaned().clear();
    cursor = {};
    while (!cursor.done) (void)p.flush_step(cursor, 0, clean);
    EXPECT_EQ(g.cleaned(), (std::set<u64>{kRam + 0x5000}));
    EXPECT_EQ(g.dirty(), (std::set<u64>{kRam + 0x1000})); // lost: no walk will clean it
}

// ------------------------------------------- map, unmap, translate, tracked

TEST(TrackedEntries, MapUnmapAndTranslateKeepWorking) {
    ArenaMemory mem(64);
    P2m p = make_p2m(mem);
    Tables t(mem, p);
    // A device page and a RAM block under one level-2 table.
    ASSERT_TRUE(p.map_device(Ipa(kRam), Pa(0x0900'0000), kPageSize).ok());
    ASSERT_TRUE(p.map_ram(Ipa(kRam + 2 * kMiB), Pa(0x8020'0000), 2 * kMiB).ok());
    EXPECT_EQ(*t.raw(kRam, 1) & (kDeviceBelow | 3), kDeviceBelow | 3);
    EXPECT_EQ(*t.raw(kRam, 2) & (kDeviceBelow | 3), kDeviceBelow | 3);
    const u64 block = *t.raw(kRam + 2 * kMiB, 2);
    ASSERT_EQ(p.track_all(), 1u);
    EXPECT_EQ(t.raw(kRam + 2 * kMiB, 2), tracked(block));

    Result<Translation> tr = p.translate(Ipa(kRam + 0x30'0000));
    ASSERT_TRUE(tr.ok());
    EXPECT_EQ(tr.value().pa, Pa(0x8030'0000));
    EXPECT_EQ(tr.value().level, 2u);
    EXPECT_EQ(tr.value().type, MappingType::ram);
    EXPECT_TRUE(tr.value().tracked);

    // The same translation again: harmless, and it stays tracked.
    LogScope log;
    EXPECT_TRUE(p.map_ram(Ipa(kRam + 2 * kMiB), Pa(0x8020'0000), 2 * kMiB).ok());
    EXPECT_EQ(t.raw(kRam + 2 * kMiB, 2), tracked(block));
    EXPECT_TRUE(log.stage2().empty());
    // Anything else is in the way.
    EXPECT_EQ(p.map_ram(Ipa(kRam + 2 * kMiB), Pa(0x9000'0000), 2 * kMiB).status(), Status::exists);
    EXPECT_EQ(p.map_device(Ipa(kRam + 2 * kMiB), Pa(0x8020'0000), 2 * kMiB).status(), Status::exists);
    EXPECT_EQ(p.map_ram(Ipa(kRam + 0x20'1000), Pa(0x8020'1000), kPageSize).status(), Status::exists);
    EXPECT_EQ(t.raw(kRam + 2 * kMiB, 2), tracked(block));

    // Unmapping a page of the tracked block splits it into a tracked table
    // of valid pages, with no TLB maintenance at all.
    const usize pages = p.table_pages();
    ASSERT_TRUE(p.unmap(Ipa(kRam + 0x30'0000), kPageSize).ok());
    EXPECT_TRUE(log.stage2().empty());
    EXPECT_EQ(p.table_pages(), pages + 1);
    EXPECT_TRUE(is_tracked(*t.raw(kRam + 2 * kMiB, 2)));
    EXPECT_EQ(*t.raw(kRam + 2 * kMiB, 2) & kTable, kTable);
    EXPECT_EQ(t.raw(kRam + 0x30'1000, 3), 0x0080'0000'8030'17ffull);
    EXPECT_EQ(t.raw(kRam + 0x30'0000, 3), 0u);
    tr = p.translate(Ipa(kRam + 0x30'1000));
    ASSERT_TRUE(tr.ok());
    EXPECT_EQ(tr.value().level, 3u);
    EXPECT_TRUE(tr.value().tracked);
    EXPECT_EQ(p.translate(Ipa(kRam + 0x30'0000)).status(), Status::not_found);

    // A fault opens the split table: its other pages are hidden first.
    Result<bool> r = p.resolve_fault(Ipa(kRam + 0x30'1000));
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r.value());
    const std::vector<u64> split = t.children(kRam + 2 * kMiB, 2);
    EXPECT_EQ(std::count_if(split.begin(), split.end(), is_tracked), 510);
    EXPECT_EQ(std::count_if(split.begin(), split.end(), [](u64 d) { return (d & kValid) != 0; }), 1);
    EXPECT_EQ(std::count(split.begin(), split.end(), 0u), 1);
    r = p.resolve_fault(Ipa(kRam + 0x30'0000));
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r.value());

    // Unmapping the whole block: the tracked pages need no invalidation;
    // the valid page and the (now valid) table freed do.
    log.log().clear();
    ASSERT_TRUE(p.unmap(Ipa(kRam + 2 * kMiB), 2 * kMiB).ok());
    const std::vector<CpuRecord> inv = log.stage2();
    ASSERT_EQ(inv.size(), 2u);
    EXPECT_EQ(inv[0].ipa, Ipa(kRam + 0x30'1000));
    EXPECT_EQ(inv[0].level, 3u);
    EXPECT_EQ(inv[1].ipa, Ipa(kRam + 2 * kMiB));
    EXPECT_EQ(inv[1].level, 2u);
    EXPECT_EQ(p.table_pages(), pages);
    EXPECT_EQ(p.table_pages(), mem.used());
    EXPECT_EQ(p.translate(Ipa(kRam + 0x30'1000)).status(), Status::not_found);
    // The device never moved.
    tr = p.translate(Ipa(kRam));
    ASSERT_TRUE(tr.ok());
    EXPECT_EQ(tr.value().type, MappingType::device);
    EXPECT_FALSE(tr.value().tracked);
}

TEST(TrackedEntries, NewRamBelowATrackedTableStartsTracked) {
    ArenaMemory mem(64);
    P2m p = make_p2m(mem);
    Tables t(mem, p);
    map_pages(p, 2 * kMiB);
    ASSERT_EQ(p.track_all(), 1u);
    // More RAM in the same GiB, after the build: through the tracked table.
    ASSERT_TRUE(p.map_ram(Ipa(kRam + 2 * kMiB), Pa(kRamPa + 2 * kMiB), 2 * kPageSize, Granule::page).ok());
    EXPECT_TRUE(is_tracked(*t.raw(kRam, 1)));
    EXPECT_FALSE(t.reachable(kRam + 2 * kMiB));
    Result<Translation> tr = p.translate(Ipa(kRam + 2 * kMiB + kPageSize));
    ASSERT_TRUE(tr.ok());
    EXPECT_TRUE(tr.value().tracked);
    // A fault on it opens the path with its siblings hidden; a walk cleans
    // only it.
    fault(p, kRam + 2 * kMiB);
    EXPECT_TRUE(is_tracked(*t.raw(kRam + 2 * kMiB + kPageSize, 3)));
    EXPECT_EQ(full_walk(p, 256 * kKiB), (std::vector<Clean>{{kRamPa + 2 * kMiB, kPageSize}}));
}

TEST(TrackedEntries, CountersSurviveAMove) {
    ArenaMemory mem(64);
    P2m a = make_p2m(mem);
    map_pages(a);
    ASSERT_EQ(a.track_all(), 1u);
    fault(a, kRam);
    P2m b = std::move(a);
    const P2m::TrackingCounters c = b.tracking_counters();
    EXPECT_EQ(c.hidden, 1u);
    EXPECT_EQ(c.faults_resolved, 1u);
    EXPECT_EQ(c.tables_opened, 2u);
}

} // namespace
} // namespace p2m
} // namespace setwise
