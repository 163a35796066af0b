#include "core/domains.hpp"

#include <new>

#include "arch/arm64/psci.hpp"
#include "arch/arm64/sysreg.hpp"
#include "arch/cpu.hpp"
#include "core/console.hpp"
#include "core/console_mux.hpp"
#include "core/guest_dtb.hpp"
#include "core/interrupts.hpp"
#include "core/log.hpp"
#include "core/memory.hpp"
#include "core/percpu.hpp"
#include "core/sched.hpp"
#include "mm/hyp_map.hpp"
#include "p2m/p2m.hpp"
#include "p2m/vtcr.hpp"
#include "vcpu/guest_layout.hpp"
#include "vcpu/trap_config.hpp"
#include "vcpu/vgic_cpu.hpp"
#include "vcpu/vgic_dist.hpp"
#include "vcpu/vgic_lr.hpp"
#include "vcpu/vgic_redist.hpp"
#include "vcpu/vpl011.hpp"

namespace setwise::core {

using vcpu::Domain;
using vcpu::DomainState;
using vcpu::Vcpu;
using vcpu::VcpuState;

namespace {

constexpr u64 kBlock = 2 * kMiB;
constexpr usize kMaxChunks = 64;
// Where the DTB and initrd go at the latest: within 512 MiB of RAM's start
// (Linux arm64 wants the DTB within 512 MiB of the kernel; 32-bit Linux
// wants both in lowmem).
constexpr u64 kPlacementWindow = 512 * kMiB;
constexpr u64 kZimageOffset = 128 * kMiB;

struct RamChunk {
    Pa pa;
    u64 size = 0;
};

// A domain's UART as the console sees it: output goes to the multiplexer,
// input from it into the vPL011's receive FIFO.
class UartLink final : public vcpu::Vpl011Sink, public InputSink {
public:
    void put(char c) override { console_mux().output(source, c); }
    void input(char c) override {
        if (domain == nullptr || domain->uart == nullptr) return;
        vcpu::VcpuMask kick = 0;
        {
            SpinLock::Guard g(domain->device_lock);
            (void)domain->uart->rx_push(c);
            kick = vcpu::uart_irq_update(*domain);
        }
        domain->kick_vcpus(kick);
    }
    SourceId source{};
    Domain* domain = nullptr;
};

// Everything setwise keeps about one domain besides the Domain itself.
struct Record {
    bool used = false;
    p2m::Granule granule = p2m::Granule::largest;
    DomainConfig config{};
    Domain* domain = nullptr;
    p2m::P2m p2m;
    RamChunk chunks[kMaxChunks];
    usize nchunks = 0;
    Ipa kernel{};
    Ipa dtb{};
    Ipa initrd{};
    u64 initrd_size = 0;
    UartLink link;
};

// Stage-2 table pages straight from the frame allocator (p2m's own
// TableMemory); made once the allocator exists.
alignas(p2m::FrameTableMemory) u8 g_tables_storage[sizeof(p2m::FrameTableMemory)];
p2m::FrameTableMemory* g_tables = nullptr;
p2m::VmidAllocator g_vmids;
Record g_records[kMaxDomains];
const MachineInfo* g_machine = nullptr;
std::atomic<usize> g_live{0};

// What the host had before the first domain was built: when the last one
// has ended, every frame and heap block the domains took must be back.
struct MemorySnapshot {
    u64 free_frames = 0;
    u64 heap_blocks = 0;
    u64 heap_bytes = 0;
};
MemorySnapshot g_before_domains;

MemorySnapshot memory_snapshot() {
    heap().trim(); // cached empty slabs are not a leak
    const mm::Heap::Stats h = heap().stats();
    return MemorySnapshot{frames().free_frames(), h.live_allocations, h.bytes_in_use};
}

class LogDiagnostics final : public DomainDiagnosticSink {
public:
    void report(const DomainDiagnostic& d) override {
        if (d.severity == DiagnosticSeverity::error) {
            log::error("{}", d.message());
        } else {
            log::warning("{}", d.message());
        }
    }
};

Record* record_of(const Domain& d) {
    for (Record& r : g_records) {
        if (r.used && r.domain == &d) return &r;
    }
    return nullptr;
}

// Copies host bytes into guest RAM through the domain's stage 2.
Result<void> copy_to_guest(const p2m::P2m& p2m, Ipa ipa, const u8* src, u64 size) {
    while (size != 0) {
        const p2m::Translation t = SW_TRY(p2m.translate(ipa));
        const u64 in_page = kPageSize - (ipa.raw() & (kPageSize - 1));
        const u64 n = size < in_page ? size : in_page;
        u8* dst = mm::ptr_of<u8>(t.pa);
        for (u64 i = 0; i < n; ++i) dst[i] = src[i];
        arch::dcache_clean(mm::va_of(t.pa), n); // the guest starts with its caches off
        ipa += n;
        src += n;
        size -= n;
    }
    return {};
}

void free_ram(Record& r) {
    for (usize i = 0; i < r.nchunks; ++i) (void)frames().free(r.chunks[i].pa, r.chunks[i].size / kPageSize);
    r.nchunks = 0;
}

// Guest RAM in 2 MiB-aligned runs, as large as the allocator has, mapped
// from guest::kRamBase up. Zeroed (nothing of an earlier owner shows) and
// cleaned to the point of coherency (the guest starts with caches off).
Result<void> allocate_ram(Record& r, u64 bytes) {
    Ipa next = guest::kRamBase;
    u64 remaining = align_up(bytes, kBlock);
    while (remaining != 0) {
        u64 size = remaining;
        Result<Pa> pa = Status::no_memory;
        while (size >= kBlock) {
            pa = frames().allocate(size / kPageSize, kBlock / kPageSize);
            if (pa.ok()) break;
            size = align_down(size / 2, kBlock);
        }
        if (!pa.ok() || r.nchunks == kMaxChunks) {
            if (pa.ok()) (void)frames().free(pa.value(), size / kPageSize);
            return Status::no_memory;
        }
        r.chunks[r.nchunks++] = RamChunk{pa.value(), size};
        u64* p = mm::ptr_of<u64>(pa.value());
        for (u64 i = 0; i < size / sizeof(u64); ++i) p[i] = 0;
        arch::dcache_clean_invalidate(mm::va_of(pa.value()), size);
        SW_TRY_VOID(r.p2m.map_ram(next, pa.value(), size, r.granule));
        next += size;
        remaining -= size;
    }
    return {};
}

// Puts kernel, initrd and DTB into guest RAM (docs/guests.md, "Memory").
Result<void> load_images(Record& r) {
    Domain& d = *r.domain;
    const DomainConfig& c = r.config;
    const KernelImage& k = *c.kernel_image;
    const u64 ram = d.ram.size;
    const Ipa base = d.ram.base;
    const u64 top_offset = align_down(ram < kPlacementWindow ? ram : kPlacementWindow, kBlock);
    const Ipa top = base + top_offset;

    r.dtb = top - kBlock;
    u64 initrd_size = c.ramdisk ? c.ramdisk->range.size : 0;
    r.initrd = Ipa(align_down((r.dtb - align_up(initrd_size, kPageSize)).raw(), kBlock));
    r.initrd_size = initrd_size;

    u64 kernel_size = k.copy_size;
    u64 kernel_end_need = 0;
    if (k.kind == KernelKind::zimage_arm32) {
        const u64 off = ram >= 2 * kZimageOffset ? kZimageOffset : align_down(ram / 2, kBlock);
        r.kernel = base + off;
        kernel_end_need = kernel_size;
    } else {
        r.kernel = base + k.text_offset;
        kernel_end_need = k.memory_size;
    }
    const Ipa low_limit = initrd_size != 0 ? r.initrd : r.dtb;
    if (r.kernel + kernel_end_need > low_limit || r.initrd < base) {
        log::error("{}: kernel ({:#x} bytes), initrd ({:#x} bytes) and DTB do not fit in {} MiB of RAM", d.name,
                   kernel_end_need, initrd_size, ram / kMiB);
        return Status::no_memory;
    }

    SW_TRY_VOID(copy_to_guest(r.p2m, r.kernel, mm::ptr_of<const u8>(c.kernel.range.base), kernel_size));
    if (initrd_size != 0)
        SW_TRY_VOID(copy_to_guest(r.p2m, r.initrd, mm::ptr_of<const u8>(c.ramdisk->range.base), initrd_size));

    u64 mpidrs[Domain::kMaxVcpus];
    for (u32 i = 0; i < d.nr_vcpus; ++i) mpidrs[i] = d.vcpus[i]->mpidr();
    GuestDtbSpec spec;
    spec.name = c.name;
    spec.mpidrs = std::span<const u64>(mpidrs, d.nr_vcpus);
    spec.aarch32 = d.aarch32;
    const IpaRange banks[1] = {d.ram};
    spec.ram = banks;
    spec.gic = g_machine->gic.version;
    spec.vpl011 = d.uart != nullptr;
    spec.bootargs = c.bootargs;
    if (initrd_size != 0) spec.initrd = IpaRange{r.initrd, initrd_size};
    // One buffer for all domains: building a DTB is rare (boot, reboot).
    static u8 buffer[kGuestDtbBufferSize];
    static SpinLock buffer_lock;
    SpinLock::Guard g(buffer_lock);
    const std::span<const u8> blob = SW_TRY(build_guest_dtb(spec, std::span<u8>(buffer, sizeof(buffer))));
    SW_TRY_VOID(copy_to_guest(r.p2m, r.dtb, blob.data(), blob.size()));
    arch::icache_invalidate_all();
    // From here on the guest's touches are what a set/way batch cleans.
    // An AArch64 domain starts untracked: its first batch arms tracking
    // (cache/setway.hpp FlushConfig::armed); 64-bit Linux never gets there.
    if (d.flush.tracking && d.flush.armed) {
        const u64 hidden = r.p2m.track_all();
        log::debug("{}: set/way tracking: {} top-level entries hidden", d.name, hidden);
    }
    return {};
}

// HCR_EL2 of a vCPU at reset: the trap configuration (vcpu/trap_config.hpp),
// set/way operations trapped always, cache identification trapped when the
// guest is shown the minimal geometry; TVM only from its first S/W op.
u64 reset_hcr(const Vcpu& v) {
    using H = arm64::HcrEl2;
    H hcr = vcpu::guest_hcr(!v.aarch32()).with<H::tsw>(1);
    if (v.domain().minimal_geometry) hcr = hcr.with<H::tid2>(1);
    return hcr.raw();
}

void reset_vcpu(Vcpu& v) {
    v.hcr = reset_hcr(v);
    v.csselr = 0;
    v.el1 = arm64::El1Context{};
    v.el1.sctlr_el1 = v.aarch32() ? arm64::kSctlrReset32 : arm64::kSctlrEl1Reset64;
    v.actlr = 0;
    v.entry = vcpu::VcpuEntry{};
    v.vif = arm64::Gic::VirtualCpuState{};
    if (v.lrs != nullptr) v.lrs->reset();
    reset_thread(v);
    v.state.store(VcpuState::off, std::memory_order_release);
}

void start_boot_vcpu(Record& r) {
    Vcpu& v0 = *r.domain->vcpus[0];
    v0.entry.pc = r.kernel.raw();
    v0.entry.boot = true;
    v0.entry.dtb = r.dtb.raw();
    v0.state.store(VcpuState::on_pending, std::memory_order_release);
    r.domain->state.store(DomainState::running, std::memory_order_release);
    r.domain->kick_vcpus(1);
}

void teardown(Record& r) {
    Domain& d = *r.domain;
    if (d.uart != nullptr) {
        console_mux().unregister(r.link.source);
        r.link.domain = nullptr;
    }
    unplace_domain(d);
    for (u32 i = 0; i < d.nr_vcpus; ++i) {
        if (d.vcpus[i] == nullptr) continue;
        heap().destroy(d.vcpus[i]->lrs);
        heap().destroy(d.vcpus[i]);
        d.vcpus[i] = nullptr;
    }
    if (d.uart != nullptr) {
        heap().destroy(d.uart);
        d.uart = nullptr;
    }
    heap().destroy(d.vgic_redist);
    heap().destroy(d.vgic_dist);
    heap().destroy(d.vgic);
    d.vgic_redist = nullptr;
    d.vgic_dist = nullptr;
    d.vgic = nullptr;
    if (r.p2m.live()) r.p2m.destroy();
    free_ram(r);
    if (d.vmid != 0) (void)g_vmids.free(d.vmid);
    heap().destroy(r.domain);
    r.domain = nullptr;
    r.used = false;
}


void power_off_machine() {
    const MemorySnapshot now = memory_snapshot();
    const MemorySnapshot& was = g_before_domains;
    if (now.free_frames == was.free_frames && now.heap_blocks == was.heap_blocks &&
        now.heap_bytes == was.heap_bytes) {
        log::info("memory: all returned ({} KiB free, {} heap blocks live, as before the domains were built)",
                  now.free_frames * kPageSize / kKiB, now.heap_blocks);
    } else {
        log::error("memory: not all returned: {} KiB free (before the domains: {} KiB), {} heap blocks of {} B live "
                   "(before: {} of {} B)",
                   now.free_frames * kPageSize / kKiB, was.free_frames * kPageSize / kKiB, now.heap_blocks,
                   now.heap_bytes, was.heap_blocks, was.heap_bytes);
    }
    log::info("all domains have ended: powering off");
    console().flush();
    (void)arm64::psci::call(arm64::psci::Conduit::smc, arm64::psci::kSystemOff);
    log::error("PSCI SYSTEM_OFF returned: halting this CPU");
}

} // namespace

void print_figures(const Domain& d) {
    const cache::Figures& f = d.figures;
    const p2m::P2m::TrackingCounters t =
        d.p2m != nullptr ? d.p2m->tracking_counters() : p2m::P2m::TrackingCounters{};
    log::info("{}: set/way: tracking {}, traps isw={} csw={} cisw={}, batches={}, toggles={}, tvm traps={}, "
              "id traps={}",
              d.name, d.flush.tracking ? "on" : "off", f.traps_isw.load(), f.traps_csw.load(), f.traps_cisw.load(),
              f.batches.load(), f.toggles.load(), f.tvm_traps.load(), f.id_traps.load());
    log::info("{}: set/way: pages cleaned={} ({} KiB), last batch pages={}, subtrees skipped={}, tracking faults={}, "
              "chunks={}, longest chunk={} us, batch time total={} us max={} us",
              d.name, f.pages_cleaned.load(), f.bytes_cleaned.load() / kKiB, f.last_batch_pages.load(),
              f.subtrees_skipped.load(), t.faults_resolved, f.chunks.load(), cache::ticks_to_us(f.longest_chunk_ticks.load()),
              cache::ticks_to_us(f.batch_ticks_total.load()), cache::ticks_to_us(f.batch_ticks_max.load()));
}

void print_vcpu_figures(const Domain& d) {
    for (u32 i = 0; i < d.nr_vcpus; ++i) {
        const Vcpu* v = d.vcpus[i];
        if (v == nullptr) continue;
        const SchedFigures s = vcpu_figures(*v);
        log::info("{}: vCPU{} on CPU{}: switches={} ran={} us wfi={} wfe={} timer irqs={} debug/pmu traps={} stack "
                  "used={} B",
                  d.name, i, v->pcpu, s.switches, s.run_us, v->wfi_count, v->wfe_count, v->timer_irqs,
                  v->debug_pmu_traps, s.stack_used);
    }
    log::info("{}: TLB flushes on vCPU switches={}", d.name, d.local_flushes);
}

void print_all_figures() {
    for (Record& r : g_records) {
        if (r.used && r.domain != nullptr) {
            print_figures(*r.domain);
            print_vcpu_figures(*r.domain);
        }
    }
}

namespace {

// The last vCPU of a shutting-down domain has left its CPU.
void on_all_stopped(Domain& d) {
    Record* r = record_of(d);
    if (r == nullptr) return;
    const vcpu::ShutdownReason why = d.reason.load(std::memory_order_acquire);
    if (why == vcpu::ShutdownReason::reboot) {
        DomainState expected = DomainState::shutting_down;
        if (!d.state.compare_exchange_strong(expected, DomainState::building)) return;
        if (d.log_reboot()) {
            if (d.reboots < Domain::kRebootLogFirst) {
                log::info("{}: rebooting", d.name);
            } else {
                log::info("{}: rebooting (reboot {}; only every {}th is logged from here)", d.name, d.reboots + 1,
                          Domain::kRebootLogEvery);
            }
        }
        ++d.reboots;
        for (u32 i = 0; i < d.nr_vcpus; ++i) reset_vcpu(*d.vcpus[i]);
        if (d.uart != nullptr) d.uart->reset();
        if (d.vgic != nullptr) d.vgic->reset();
        d.cntvoff = arch::counter();
        for (Vcpu*& last : d.last_ran) last = nullptr;
        arch::stage2_tlb_invalidate_vmid(d.vttbr); // nothing of the last boot's translations survives
        if (!load_images(*r).ok()) {
            log::error("{}: cannot reload its images: ending it", d.name);
        } else {
            start_boot_vcpu(*r);
            return;
        }
    }
    DomainState expected = DomainState::shutting_down;
    if (!d.state.compare_exchange_strong(expected, DomainState::dead) && expected != DomainState::building) return;
    d.state.store(DomainState::dead, std::memory_order_release);
    print_figures(d);
    print_vcpu_figures(d);
    log::info("{}: ended ({}); its memory is returned", d.name, vcpu::shutdown_reason_name(why));
    teardown(*r);
    if (g_live.fetch_sub(1, std::memory_order_acq_rel) == 1) power_off_machine();
}

// The domain's virtual GIC: the host's version, one redistributor per vCPU
// on v3, list registers as the hardware has them.
Result<void> build_vgic(Domain& d) {
    arm64::Gic* g = gic();
    if (g == nullptr || g->list_registers() == 0) {
        log::error("{}: the GIC has no virtualization support (no list registers): guests cannot get interrupts",
                   d.name);
        return Status::unsupported;
    }
    const vcpu::VgicVersion version = g->version() == 3 ? vcpu::VgicVersion::v3 : vcpu::VgicVersion::v2;
    u64 mpidrs[Domain::kMaxVcpus];
    for (u32 i = 0; i < d.nr_vcpus; ++i) mpidrs[i] = d.vcpus[i]->mpidr();
    u32 prio_bits = g->virtual_priority_bits();
    if (version == vcpu::VgicVersion::v2 && prio_bits > 5) prio_bits = 5;
    if (prio_bits < 4) prio_bits = 4;
    const vcpu::VgicConfig config = SW_TRY(vcpu::VgicConfig::create(version, std::span<const u64>(mpidrs, d.nr_vcpus),
                                                                    vcpu::vgic::kDefaultSpis, prio_bits));
    d.gic = g;
    d.vgic = heap().make<vcpu::VgicState>(config);
    if (d.vgic == nullptr) return Status::no_memory;
    d.vgic_dist = heap().make<vcpu::VgicDist>(*d.vgic);
    if (d.vgic_dist == nullptr) return Status::no_memory;
    if (version == vcpu::VgicVersion::v3) {
        d.vgic_redist = heap().make<vcpu::VgicRedist>(*d.vgic);
        if (d.vgic_redist == nullptr) return Status::no_memory;
    }
    for (u32 i = 0; i < d.nr_vcpus; ++i) {
        d.vcpus[i]->lrs = heap().make<vcpu::ListRegisterFile>(i, g->list_registers());
        if (d.vcpus[i]->lrs == nullptr) return Status::no_memory;
    }
    return {};
}

Result<void> build(Record& r, const Options& options, u32 id) {
    const DomainConfig& c = r.config;
    Domain* d = heap().make<Domain>();
    if (d == nullptr) return Status::no_memory;
    r.domain = d;
    usize n = 0;
    for (; n + 1 < Domain::kNameCapacity && n < c.name.size(); ++n) d->name[n] = c.name[n];
    d->name[n] = '\0';
    d->id = id;
    d->aarch32 = c.kernel_image->kind == KernelKind::zimage_arm32;
    d->on_all_stopped = &on_all_stopped;
    d->flush.tracking = c.sw_tracking_enabled(options.sw_tracking);
    d->flush.chunk_bytes = options.sw_flush_chunk;
    d->flush.armed = d->aarch32;
    d->minimal_geometry = options.sw_geometry == SwGeometry::minimal;
    r.granule = d->flush.tracking && options.sw_granule == SwGranule::page ? p2m::Granule::page
                                                                           : p2m::Granule::largest;

    if (c.vcpus > Domain::kMaxVcpus) return Status::out_of_range;

    d->vmid = SW_TRY(g_vmids.allocate());
    const u64 parange = arm64::read_id_aa64mmfr0().get<arm64::IdAa64Mmfr0El1::parange>();
    const p2m::Stage2Geometry geo = SW_TRY(p2m::stage2_geometry(parange, guest::kIpaBits));
    r.p2m = SW_TRY(p2m::P2m::create(*g_tables, d->vmid, geo));
    d->p2m = &r.p2m;
    d->vttbr = r.p2m.vttbr();
    d->vtcr = r.p2m.vtcr().raw();
    d->ram = IpaRange{guest::kRamBase, align_up(c.memory_bytes, kBlock)};
    SW_TRY_VOID(allocate_ram(r, d->ram.size));

    for (u32 i = 0; i < c.vcpus; ++i) {
        Vcpu* v = heap().make<Vcpu>(*d, i, u64{i}, d->aarch32);
        if (v == nullptr) return Status::no_memory;
        d->vcpus[d->nr_vcpus++] = v;
        reset_vcpu(*v);
    }
    SW_TRY_VOID(build_vgic(*d));
    if (const Status placed = place_domain(*d, c.affinity.data()); placed != Status::ok) return placed;
    if (c.vpl011) {
        r.link.domain = d;
        d->uart = heap().make<vcpu::Vpl011>(r.link);
        if (d->uart == nullptr) return Status::no_memory;
        r.link.source = SW_TRY(console_mux().register_domain(c.name, &r.link));
    }
    SW_TRY_VOID(load_images(r));
    // The GICv2 CPU interface: the hardware's virtual one, mapped where the
    // guest's DT puts GICC (after the tracking hide: devices are not RAM).
    if (const std::optional<PaRange> gicv = gic() != nullptr ? gic()->virtual_cpu_interface() : std::nullopt;
        gicv.has_value() && d->vgic != nullptr && d->vgic->version() == vcpu::VgicVersion::v2) {
        if (gicv->size < guest::kGicV2CpuSize) {
            log::error("{}: the GICV region ({:#x} bytes) is smaller than a CPU interface", d->name, gicv->size);
            return Status::invalid_argument;
        }
        SW_TRY_VOID(r.p2m.map_device(guest::kGicV2CpuBase, gicv->base, guest::kGicV2CpuSize));
    }
    d->cntvoff = arch::counter();
    arch::stage2_tlb_invalidate_vmid(d->vttbr); // nothing of an earlier user of the VMID survives
    return {};
}

} // namespace

usize live_domains() { return g_live.load(std::memory_order_acquire); }

usize start_domains(const fdt::Blob& blob, const MachineInfo& machine, const Options& options,
                    std::span<const PaRange> in_use) {
    g_machine = &machine;
    if (g_tables == nullptr)
        g_tables = new (g_tables_storage) p2m::FrameTableMemory(frames(), mm::PhysToVirt::identity());
    static DomainList list;
    LogDiagnostics diagnostics;
    DomainLimits limits = domain_limits(machine, options);
    limits.in_use = in_use; // a module must not overlap setwise or the boot DTB
    if (parse_domains(blob, machine, limits, diagnostics, list) != Status::ok) {
        log::error("cannot walk /chosen for domains");
        return 0;
    }
    const HostMemoryReader read = [](PaRange r) { return std::span<const u8>(mm::ptr_of<const u8>(r.base), r.size); };
    identify_kernels(list, read, diagnostics);
    if (list.empty()) return 0;

    usize started = 0;
    g_before_domains = memory_snapshot();
    for (usize i = 0; i < list.size(); ++i) {
        Record& r = g_records[i];
        r = Record{};
        r.used = true;
        r.config = list[i];
        const Result<void> built = build(r, options, static_cast<u32>(i + 1));
        if (!built.ok()) {
            log::error("{}: not created: {}", list[i].name, built.status());
            if (r.domain != nullptr) teardown(r);
            r.used = false;
            continue;
        }
        const Domain& d = *r.domain;
        log::info("{}: {} {}, {} vCPU(s) from CPU{}, {} MiB RAM at IPA {}, kernel at {}, DTB at {}{}", d.name,
                  d.aarch32 ? "AArch32" : "AArch64", kernel_kind_name(r.config.kernel_image->kind), d.nr_vcpus,
                  d.vcpus[0]->pcpu, d.ram.size / kMiB, d.ram.base, r.kernel, r.dtb,
                  d.uart != nullptr ? ", vpl011" : "");
        ++started;
    }
    g_live.store(started, std::memory_order_release);
    console_mux().start_focus();
    for (Record& r : g_records) {
        if (r.used) start_boot_vcpu(r);
    }
    return started;
}

} // namespace setwise::core
