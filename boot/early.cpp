// The boot CPU's first C++, MMU still off: read the DTB, bring the console
// up, build the hypervisor's map of RAM, turn the MMU on, hand over to
// core::start(). Also the refusal at the wrong EL, and the secondaries'
// first C++ after head.S turned their MMU on.
//
// Code here runs with the D-cache off, so it is built -mstrict-align and
// takes no locks (exclusives need cacheable memory).
#include <new>
#include <span>

#include "arch/arm64/frame.hpp"
#include "arch/arm64/sysreg.hpp"
#include "arch/cpu.hpp"
#include "boot/boot_defs.h"
#include "core/console.hpp"
#include "core/log.hpp"
#include "core/machine.hpp"
#include "core/ns16550.hpp"
#include "core/panic.hpp"
#include "core/percpu.hpp"
#include "core/pl011.hpp"
#include "core/start.hpp"
#include "version.h"

using namespace setwise;

extern "C" {
extern u8 _start_image[];
extern u8 _end_text[];
extern u8 _end_image[];
extern void (*__init_array_start[])();
extern void (*__init_array_end[])();

// Read by head.S on secondaries with their MMU off; cleaned to the point
// of coherency after it is written.
alignas(64) arm64::MmuConfig secondary_mmu_config;

[[noreturn]] void boot_primary(u64 dtb, u64 load);
[[noreturn]] void boot_wrong_el(u64 dtb, u64 load, u64 el);
[[noreturn]] void boot_secondary(u64 index);
}

static_assert(MAX_CPUS == core::kMaxHostCpus);

namespace {

// Tables for the boot map: enough for 16 RAM banks split around the image
// text plus a handful of device pages. More come from the frame allocator.
constexpr usize kBootTablePages = 32;
alignas(4096) u8 g_boot_tables[kBootTablePages * kPageSize];

core::MachineInfo g_machine;
fdt::Blob g_blob;
mm::HypMap g_hyp_map;
alignas(mm::HypTableMemory) u8 g_table_memory_storage[sizeof(mm::HypTableMemory)];
// The console driver, constructed in place once the DTB says which.
constexpr usize kUartStorageSize =
    sizeof(core::Pl011) > sizeof(core::Ns16550) ? sizeof(core::Pl011) : sizeof(core::Ns16550);
alignas(core::Pl011) alignas(core::Ns16550) u8 g_uart_storage[kUartStorageSize];

// The Linux arm64 boot protocol caps the DTB at 2 MiB.
constexpr u64 kMaxDtbSize = 2 * kMiB;

u32 be32_at(const u8* p) {
    return (u32{p[0]} << 24) | (u32{p[1]} << 16) | (u32{p[2]} << 8) | u32{p[3]};
}

void run_init_array() {
    for (auto* f = __init_array_start; f != __init_array_end; ++f) (*f)();
}

Result<fdt::Blob> open_dtb(u64 dtb) {
    if (dtb == 0 || !is_aligned(dtb, 8)) return Status::invalid_argument;
    const u8* p = reinterpret_cast<const u8*>(dtb);
    const u32 size = be32_at(p + 4);
    if (size > kMaxDtbSize) return Status::out_of_range;
    return fdt::Blob::open(std::span<const u8>(p, size));
}

// The console from /chosen/stdout-path, if it is a UART setwise drives.
// Returns its register block so the caller can map it. A node that cannot
// be driven (say reg-io-width 2) leaves setwise without a console rather
// than with a guess; the error logged then reaches no one today (there is
// no other output), but says why should the log ever gain one.
Result<PaRange> console_init(const core::MachineInfo& m) {
    if (!m.console) return Status::not_found;
    const core::ConsoleNode& node = *m.console;
    const core::UartChoice choice = core::choose_uart(node);
    switch (choice.kind) {
    case core::UartKind::pl011: {
        auto* uart = new (g_uart_storage) core::Pl011(Va(node.reg->base.raw()));
        uart->init();
        core::console().attach(uart);
        return *node.reg;
    }
    case core::UartKind::ns16550: {
        auto* uart = new (g_uart_storage) core::Ns16550(Va(node.reg->base.raw()), choice.ns16550);
        uart->init();
        core::console().attach(uart);
        if (!uart->line_control_set()) {
            core::log::warning("console {}: the DesignWare UART stayed busy; its line control (LCR) is "
                               "firmware's, not 8N1", node.path);
        }
        return *node.reg;
    }
    case core::UartKind::none:
        core::log::error("console {}: {} (reg-shift {}, reg-io-width {}): no console", node.path, choice.problem,
                         node.reg_shift, node.reg_io_width);
        return Status::unsupported;
    }
    return Status::unsupported;
}

[[noreturn]] void halt() { core::halt_this_cpu(); }

} // namespace

extern "C" void boot_primary(u64 dtb, u64 load) {
    SW_WRITE_SYSREG(tpidr_el2, 0);
    run_init_array();

    const PaRange image{Pa(load), static_cast<u64>(_end_image - _start_image)};
    const PaRange text{Pa(load), static_cast<u64>(_end_text - _start_image)};

    // Without a readable DTB there is no console to complain on.
    Result<fdt::Blob> blob = open_dtb(dtb);
    if (!blob) halt();
    g_blob = blob.value();
    const Status described = core::describe_machine(g_blob, g_machine);
    const Result<PaRange> console_regs = console_init(g_machine);
    if (described != Status::ok) {
        core::log::error("cannot use the device tree at {:#x}: {}", dtb, described);
        halt();
    }
    core::log::info("setwise {} ({}) entered at EL2, image at {}, DTB at {:#x}", SETWISE_VERSION,
                    SETWISE_GIT_REV, image.base, dtb);
    if (g_machine.ram.empty()) {
        core::log::error("the device tree describes no memory");
        halt();
    }

    // The hypervisor's map: all RAM at VA == PA, the console's registers.
    auto* tables = new (g_table_memory_storage)
        mm::HypTableMemory(std::span<u8>(g_boot_tables, sizeof(g_boot_tables)));
    Result<mm::HypMap> map = mm::HypMap::create(*tables);
    if (!map) {
        core::log::error("cannot build the EL2 page tables: {}", map.status());
        halt();
    }
    g_hyp_map = map.value();
    for (const PaRange& bank : g_machine.ram) {
        const Result<void> r = g_hyp_map.map_ram(bank, text);
        if (!r) {
            core::log::error("cannot map RAM {}+{:#x}: {}", bank.base, bank.size, r.status());
            halt();
        }
    }
    if (console_regs.ok()) {
        const Result<void> r = g_hyp_map.map_device(console_regs.value());
        if (!r) {
            core::log::error("cannot map the console: {}", r.status());
            halt();
        }
    }

    // Everything written so far went to memory uncached. Drop any stale
    // lines of it (the image includes BSS, the boot tables and the stacks)
    // before the caches are turned on (DDI 0487 D7.5.3).
    arch::dcache_invalidate(Va(image.base.raw()), image.size);

    const u64 parange = arm64::read_id_aa64mmfr0().get<arm64::IdAa64Mmfr0El1::parange>();
    const arm64::MmuConfig mmu = g_hyp_map.mmu_config(parange);
    mmu_enable_el2(mmu.mair, mmu.tcr, mmu.ttbr, mmu.sctlr);

    secondary_mmu_config = mmu;
    arch::dcache_clean(Va(reinterpret_cast<u64>(&secondary_mmu_config)), sizeof(secondary_mmu_config));

    core::BootInfo boot;
    boot.image = image;
    boot.text = text;
    boot.dtb = PaRange{Pa(dtb), g_blob.bytes().size()};
    boot.blob = &g_blob;
    boot.machine = &g_machine;
    boot.hyp_map = &g_hyp_map;
    boot.table_memory = tables;
    boot.mmu = mmu;
    core::start(boot);
}

extern "C" void boot_wrong_el(u64 dtb, u64 load, u64 el) {
    (void)load;
    SW_WRITE_SYSREG(tpidr_el1, 0);
    run_init_array();
    // Best effort: a console if the DTB names one, then a defined halt.
    Result<fdt::Blob> blob = open_dtb(dtb);
    if (blob.ok()) {
        g_blob = blob.value();
        if (core::describe_machine(g_blob, g_machine) == Status::ok) (void)console_init(g_machine);
    }
    core::log::error("setwise must be entered at EL2, but was entered at EL{}: halting", el);
    core::log::error("(QEMU: -M virt,virtualization=on; U-Boot: booti from EL2)");
    core::console().flush();
    for (;;) asm volatile("wfe");
}

extern "C" void boot_secondary(u64 index) {
    core::set_this_cpu(core::cpu(static_cast<u32>(index)));
    core::secondary_start(static_cast<u32>(index));
}
