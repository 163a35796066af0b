#include "core/start.hpp"

#include <new>

#include "arch/arm64/sysreg.hpp"
#include "core/banner.hpp"
#include "core/log.hpp"
#include "core/memory.hpp"
#include "core/options.hpp"
#include "core/panic.hpp"
#include "core/percpu.hpp"
#include "core/console_mux.hpp"
#include "core/domains.hpp"
#include "core/interrupts.hpp"
#include "core/sched.hpp"
#include "arch/cpu.hpp"
#include "core/smp.hpp"
#include "mm/frame_allocator.hpp"

namespace setwise::core {

namespace {

Options g_options;
mm::FrameAllocator* g_frames = nullptr;
alignas(mm::Heap) u8 g_heap_storage[sizeof(mm::Heap)];
mm::Heap* g_heap = nullptr;

class LogWarnings final : public WarningSink {
public:
    void warn(const OptionWarning& w) override { log::warning("{}", w.message()); }
};

log::Level log_level(LogThreshold t) {
    switch (t) {
    case LogThreshold::none: return log::Level::none;
    case LogThreshold::error: return log::Level::error;
    case LogThreshold::warning: return log::Level::warning;
    case LogThreshold::info: return log::Level::info;
    case LogThreshold::debug: return log::Level::debug;
    case LogThreshold::all: return log::Level::all;
    }
    return log::Level::info;
}

// Page-table pages for the hypervisor's map once the boot pool is used up.
class FramePages final : public mm::PageSource {
public:
    Result<Pa> allocate_page() override {
        const Pa pa = SW_TRY(g_frames->allocate(1));
        u64* p = mm::ptr_of<u64>(pa);
        for (u64 i = 0; i < kPageSize / sizeof(u64); ++i) p[i] = 0;
        return pa;
    }
};
FramePages g_frame_pages;

// What the frame allocator must never hand out.
usize collect_excluded(const BootInfo& boot, PaRange* out, usize cap) {
    usize n = 0;
    auto add = [&](PaRange r) {
        if (n < cap && !r.empty()) out[n++] = r;
    };
    add(boot.image);
    add(boot.dtb);
    for (const BootModule& b : boot.machine->modules) add(b.range);
    for (const ReservedRegion& r : boot.machine->reserved) add(r.range);
    return n;
}

// Keys for setwise when the console focus is on it (Xen's debug keys).
class DebugKeys final : public InputSink {
public:
    void input(char c) override {
        switch (c) {
        case 's': print_all_figures(); break;
        case 'h':
        case '?': log::info("debug keys: s = set/way figures of every domain, h = this help"); break;
        default: break;
        }
    }
};
DebugKeys g_debug_keys;

// CPU 0's loop: keyboard input to whoever has the focus, and guests'
// partial lines out once they have been quiet a while.
void console_poll() {
    char c;
    while (console().poll_input(c)) console_mux().input(c);
    console_mux().flush_idle(arch::counter());
}

} // namespace

mm::FrameAllocator& frames() { return *g_frames; }
mm::Heap& heap() { return *g_heap; }

void start(const BootInfo& boot) {
    const MachineInfo& m = *boot.machine;

    if (!m.bootargs.empty()) log::info("command line: {}", m.bootargs);
    LogWarnings warnings;
    g_options = parse_options(m.bootargs, warnings);
    log::set_threshold(log_level(g_options.loglvl));

    PaRange excluded[mm::FrameAllocator::kMaxExcludedRanges];
    const usize n_excluded = collect_excluded(boot, excluded, mm::FrameAllocator::kMaxExcludedRanges);
    Result<mm::FrameAllocator*> frames =
        mm::FrameAllocator::create(m.ram.items(), std::span<const PaRange>(excluded, n_excluded),
                                   mm::PhysToVirt::identity());
    if (!frames) panic("cannot set up the frame allocator: {}", frames.status());
    g_frames = frames.value();
    boot.table_memory->set_page_source(&g_frame_pages);
    g_heap = new (g_heap_storage) mm::Heap(mm::PageRunSource::from(*g_frames, mm::PhysToVirt::identity()));

    smp_init_boot_cpu();
    console().enable_locking();
    (void)interrupts_init(m, *boot.hyp_map, cpu(0).mpidr);
    const SmpReport smp = smp_bring_up(m, g_options.maxcpus);

    print_banner(m, g_options, smp, *g_frames);
    log::info("boot complete: {} of {} CPUs online", smp.online, smp.listed);
    if (g_options.selftest == SelfTest::ipi) ipi_selftest();
    if (g_options.selftest == SelfTest::el2_fault) {
        // Nothing is mapped at 512 GiB (RAM and devices are identity-mapped
        // far below): a translation fault at EL2, reported by exception.cpp.
        log::info("selftest: reading unmapped address 0x8000000000");
        (void)*reinterpret_cast<volatile u64*>(u64{0x80'0000'0000});
    }
    // A guest's partial line (a prompt) waits 100 ms for more before it is shown.
    console_mux().set_idle_flush_ticks(arch::counter_frequency() / 10);
    console_mux().set_rate_limit(g_options.console_rate, g_options.console_burst, &arch::counter,
                                 arch::counter_frequency());
    console_mux().set_hypervisor_input(&g_debug_keys);
    set_console_poll(&console_poll);
    set_time_slice_us(g_options.sched_slice_us);
    start_scheduler();
    const PaRange in_use[] = {boot.image, boot.dtb};
    if (start_domains(*boot.blob, m, g_options, in_use) == 0) log::info("no domains configured: idling");
    cpu_loop();
}

} // namespace setwise::core
