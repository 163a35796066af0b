/*
 * The hostile mode of the interrupt guests (bootargs word `hostile`; what it
 * proves: tests/guests/README.md, "The hostile guest", and docs/security.md).
 * vCPU 0, in HOSTILE_ROUNDS rounds, does everything a guest may do to hurt
 * the hypervisor or another guest, and checks that each provoked fault comes
 * back to it as the architecture says:
 *
 *   setway   a storm of DC ISW / CSW / CISW with random set/way/level values
 *   unmapped reads and writes of IPAs where nothing is (just outside its RAM,
 *            the host's own devices on QEMU virt, the top of the IPA space),
 *            each a data abort with the right fault address; device accesses
 *            without a syndrome (LDP / LDM), aborts too; a jump to nothing, a
 *            prefetch abort
 *   psci     random SMCCC function IDs by HVC and SMC (NOT_SUPPORTED),
 *            HVC #1, CPU_ON of MPIDRs that do not exist and entry points
 *            outside RAM, AFFINITY_INFO and CPU_SUSPEND garbage
 *   sgi      SGIs to vCPUs that do not exist
 *   undef    UDF, and an IMPLEMENTATION DEFINED register setwise traps
 *   debug    breakpoint, watchpoint, MDSCR and PMU registers written: they
 *            must read back 0 (setwise switches none of them, so no guest
 *            may program them)
 *   wfi      WFI over and over with the virtual timer always pending
 *   gic/uart random values into every vGIC and vPL011 register (the GIC is
 *            set up again afterwards, the UART's control registers too)
 *   flood    (first round) 16 KiB of console output as fast as it goes,
 *            then 2 s of quiet: the tests set a 1 KiB/s, 4 KiB limit, so
 *            setwise mutes it and reports the bytes it dropped
 *   memory   (first round) every 2 MiB of the 4 GiB below (and, AArch64,
 *            every GiB up to 1 TiB): readable only in its RAM and the
 *            GIC/UART window; every word of its RAM outside its image and
 *            DTB reads 0 (nothing of setwise or of another guest shows)
 *
 * vCPU 1 storms set/way operations and WFIs meanwhile. Then vCPU 0 prints
 * "HOSTILE OK" (no check failed) and crashes: VBAR moved to an IPA with
 * nothing there, then an undefined instruction, so no exception can be
 * taken any more. With the bootargs word `crash-loop` it runs away instead:
 * its exception stack pointers moved where nothing is, then an undefined
 * instruction, whose handler's first store faults, and the abort's handler's
 * too, for ever. setwise must end the domain either way.
 */
#include "irq.h"

extern char _image_start[], _image_end[]; /* guest.ld */

#define HOSTILE_ROUNDS      2u
#define SW_STORM            1500u
#define WFI_STORM           1000u
#define PSCI_GARBAGE        200u
#define SECONDARY_SW        64u
#define SECONDARY_WFI       64u
#define FLOOD_BYTES         (16u << 10)
#define FLOOD_QUIET_S       2u

#define GIC_WINDOW_BASE     0x08000000ul    /* GICD .. the end of the vPL011 */
#define GIC_WINDOW_END      0x09001000ul
#define CRASH_VBAR          0x0a000000ul    /* nothing there (layout.h: the abort IPA) */
#define CRASH_SP            0x0a010000ul    /* nothing there either */

#define PSCI_ALREADY_ON     (-4)
#define PSCI_INVALID_ADDRESS (-9)
#define PSCI_AFFINITY_INFO_32 0x84000004ul
#define PSCI_CPU_SUSPEND_32 0x84000001ul

#define UART_DR             0x000
#define UART_LCR_H          0x02c
#define UART_CR             0x030
#define UART_IMSC           0x038
#define UART_ICR            0x044

/* Set by the ISA's exec probe: where a prefetch abort resumes (then 0). */
volatile ulong irq_recover;

/* The faults vCPU 0 has taken while armed. */
static struct {
    volatile uint32_t armed;
    volatile uint32_t undef, pabt, dabt;
    volatile ulong pc, far, syndrome;
} g_f;

static volatile uint32_t g_secondary_rounds;
static unsigned g_gic; /* 2 or 3 */
static uint32_t g_rand = 0x5e7715e5u;

static uint32_t rnd(void)
{
    uint32_t x = g_rand;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    g_rand = x;
    return x;
}

ulong hostile_fault(uint32_t kind, ulong syndrome, ulong pc, ulong far)
{
    if (!g_f.armed || irq_cpu() != 0) {
        return 0;
    }
    g_f.pc = pc;
    g_f.far = far;
    g_f.syndrome = syndrome;
    if (kind == IRQ_FAULT_PABT) {
        g_f.pabt++;
        ulong r = irq_recover;
        irq_recover = 0;
        return r;
    }
    if (kind == IRQ_FAULT_UNDEF) {
        g_f.undef++;
    } else {
        g_f.dabt++;
    }
    return pc + 4; /* A64, or A32 in ARM state: every instruction 4 bytes */
}

/* ---- single instructions ---- */

/* irq.h's mmio_read32, but the register starts as a sentinel: a load that
   aborts (and is skipped by hostile_fault) leaves it, not garbage. */
static uint32_t read32(ulong addr)
{
    uint32_t v = 0xdeadbeefu;
#ifdef __aarch64__
    __asm__ volatile("ldr %w0, [%1]" : "+r"(v) : "r"(addr) : "memory");
#else
    __asm__ volatile("ldr %0, [%1]" : "+r"(v) : "r"(addr) : "memory");
#endif
    return v;
}

static void write8(ulong addr, uint32_t v)
{
#ifdef __aarch64__
    __asm__ volatile("strb %w0, [%1]" ::"r"(v), "r"(addr) : "memory");
#else
    __asm__ volatile("strb %0, [%1]" ::"r"(v), "r"(addr) : "memory");
#endif
}

/* A device access the hypervisor gets no syndrome for (ISV = 0). */
static void load_pair(ulong addr)
{
#ifdef __aarch64__
    uint32_t a = 0, b = 0;
    __asm__ volatile("ldp %w0, %w1, [%2]" : "+r"(a), "+r"(b) : "r"(addr) : "memory");
#else
    __asm__ volatile("ldm %0, {r2, r3}" ::"r"(addr) : "r2", "r3", "memory");
#endif
}

static void setway(unsigned op, ulong v)
{
#ifdef __aarch64__
    switch (op % 3) {
    case 0: __asm__ volatile("dc isw, %0" ::"r"(v) : "memory"); break;
    case 1: __asm__ volatile("dc csw, %0" ::"r"(v) : "memory"); break;
    default: __asm__ volatile("dc cisw, %0" ::"r"(v) : "memory"); break;
    }
#else
    switch (op % 3) {
    case 0: __asm__ volatile("mcr p15, 0, %0, c7, c6, 2" ::"r"(v) : "memory"); break;
    case 1: __asm__ volatile("mcr p15, 0, %0, c7, c10, 2" ::"r"(v) : "memory"); break;
    default: __asm__ volatile("mcr p15, 0, %0, c7, c14, 2" ::"r"(v) : "memory"); break;
    }
#endif
}

static void udf(void)
{
#ifdef __aarch64__
    __asm__ volatile(".inst 0x00000000" ::: "memory"); /* UDF #0 */
#else
    __asm__ volatile(".inst 0xe7f000f0" ::: "memory"); /* UDF #0 */
#endif
}

/*
 * An IMPLEMENTATION DEFINED register no Cortex-A core has: undefined either
 * way, from the CPU itself or injected by setwise where HCR_EL2.TIDCP traps
 * it (QEMU 7.2 does not implement TIDCP; the CPU's own undefined
 * instruction exception is what the guest sees there).
 */
static void impdef_read(void)
{
    ulong v;
#ifdef __aarch64__
    __asm__ volatile("mrs %0, S3_1_C15_C15_7" : "=r"(v)::"memory");
#else
    __asm__ volatile("mrc p15, 7, %0, c15, c15, 7" : "=r"(v)::"memory");
#endif
    (void)v;
}

static void set_vbar(ulong v)
{
#ifdef __aarch64__
    __asm__ volatile("msr VBAR_EL1, %0\n\tisb" ::"r"(v) : "memory");
#else
    __asm__ volatile("mcr p15, 0, %0, c12, c0, 0\n\tisb" ::"r"(v) : "memory");
#endif
}

/*
 * The stack pointer(s) the next exception uses: AArch64 SP_EL1 (this code
 * runs on it: nothing may touch the stack after this); AArch32 SP_und and
 * SP_abt.
 */
static inline __attribute__((always_inline)) void set_exception_sp(ulong sp)
{
#ifdef __aarch64__
    __asm__ volatile("mov sp, %0" ::"r"(sp) : "memory");
#else
    __asm__ volatile("cps #0x1b\n\tmov sp, %0\n\tcps #0x17\n\tmov sp, %0\n\tcps #0x13" ::"r"(sp) : "memory");
#endif
}

/* ---- checks ---- */

/* One access that must be a data abort at `addr` (FAR = addr). */
static void expect_dabt(const char *what, ulong addr, int write)
{
    uint32_t before = g_f.dabt;
    if (write) {
        mmio_write32(addr, 0xbad0bad0u);
    } else {
        (void)read32(addr);
    }
    if (g_f.dabt != before + 1) {
        con_fail("%s: %s of %x: %u data aborts (want 1)", what, write ? "write" : "read", addr,
                 (ulong)(g_f.dabt - before));
    } else if (g_f.far != addr) {
        con_fail("%s: %s of %x: fault address %x", what, write ? "write" : "read", addr, g_f.far);
    }
}

static void phase_setway(void)
{
    uint32_t before = g_f.undef + g_f.pabt + g_f.dabt;
    for (unsigned i = 0; i < SW_STORM; i++) {
        setway(i, (ulong)rnd());
    }
    if (g_f.undef + g_f.pabt + g_f.dabt != before) {
        con_fail("setway: %u faults from set/way operations", (ulong)(g_f.undef + g_f.pabt + g_f.dabt - before));
    }
}

static void phase_unmapped(uint64_t ram_base, uint64_t ram_size)
{
    static const ulong host_devices[] = {
        0x00000000ul, /* flash */
        0x08030000ul, /* GICv2 GICH: the host's hypervisor interface */
        0x08040000ul, /* GICv2 GICV, at the host's address */
        0x08080000ul, /* ITS */
        0x09010000ul, /* PL031 RTC */
        0x09020000ul, /* fw_cfg */
        0x0a000000ul, /* virtio-mmio */
        0x0c000000ul, /* platform bus */
        0x10000000ul, /* PCIe MMIO */
        0x3eff0000ul, /* PCIe I/O */
    };
    for (unsigned i = 0; i < sizeof host_devices / sizeof host_devices[0]; i++) {
        ulong a = host_devices[i];
        if (g_gic == 2 && a == 0x08080000ul) {
            continue; /* GICv2: nothing special there, still nothing mapped */
        }
        expect_dabt("unmapped", a, 0);
        expect_dabt("unmapped", a, 1);
    }
    const ulong edges[] = {
        (ulong)ram_base - 4,
        (ulong)ram_base - 0x1000,
        (ulong)(ram_base + ram_size),
        (ulong)(ram_base + ram_size + 0x100000),
#ifdef __aarch64__
        0x4010000000ul,            /* PCIe ECAM, high */
        0x8000000000ul,            /* PCIe MMIO, high */
        (1ul << 40) - 4,           /* the last word of a 40-bit IPA space */
        1ul << 44,                 /* beyond it */
#else
        0xfffffffcul,
#endif
    };
    for (unsigned i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        expect_dabt("outside-ram", edges[i], 0);
        expect_dabt("outside-ram", edges[i], 1);
    }
    /* No syndrome: setwise cannot emulate the access and injects an abort. */
    uint32_t before = g_f.dabt;
    load_pair(GICD_BASE);
    load_pair(GUEST_UART_BASE);
    if (g_f.dabt != before + 2) {
        con_fail("no-syndrome: %u data aborts from 2 pair loads (want 2)", (ulong)(g_f.dabt - before));
    }
    /* A jump to nothing: a prefetch abort, resumed after the branch. */
    before = g_f.pabt;
    irq_exec_probe(CRASH_VBAR + 0x1000);
    if (g_f.pabt != before + 1 || g_f.far != CRASH_VBAR + 0x1000) {
        con_fail("exec: %u prefetch aborts (want 1), fault address %x", (ulong)(g_f.pabt - before), g_f.far);
    }
}

static long psci_any(int smc, ulong fn, ulong a1, ulong a2, ulong a3)
{
    return smc ? irq_smc(fn, a1, a2, a3) : irq_psci(fn, a1, a2, a3);
}

static void phase_psci(uint64_t ram_base, uint64_t ram_size)
{
    uint32_t wrong = 0;
    ulong first_fn = 0;
    long first_rc = 0;
    for (unsigned i = 0; i < PSCI_GARBAGE; i++) {
        ulong fn = rnd();
        unsigned owner = (unsigned)(fn >> 24) & 0x3f;
        if (owner == 0 || owner == 4) {
            fn |= 0xff00; /* Arm architecture and PSCI: a function number never assigned */
        }
        long rc = (int32_t)psci_any(i & 1, fn, rnd(), rnd(), rnd());
        if (rc != PSCI_NOT_SUPPORTED && !wrong++) {
            first_fn = fn;
            first_rc = rc;
        }
    }
    if (wrong) {
        con_fail("psci: %u of %u unknown functions not NOT_SUPPORTED (first %x: %x)", (ulong)wrong,
                 (ulong)PSCI_GARBAGE, first_fn, (ulong)first_rc);
    }
    if ((int32_t)irq_hvc1() != PSCI_NOT_SUPPORTED) {
        con_fail("psci: HVC #1 did not return NOT_SUPPORTED");
    }
    static const ulong bad_mpidrs[] = {0x2, 0xff, 0x100, 0x10000, 0xffffff, 0xfffffffful};
    for (unsigned i = 0; i < sizeof bad_mpidrs / sizeof bad_mpidrs[0]; i++) {
        long rc = (int32_t)irq_psci(irq_psci_cpu_on, bad_mpidrs[i], irq_secondary_entry_addr(), 0);
        if (rc != PSCI_INVALID_PARAMS) {
            con_fail("psci: CPU_ON(%x) returned %x (want INVALID_PARAMETERS)", bad_mpidrs[i], (ulong)rc);
        }
        rc = (int32_t)irq_psci(PSCI_AFFINITY_INFO_32, bad_mpidrs[i], 0, 0);
        if (rc != PSCI_INVALID_PARAMS) {
            con_fail("psci: AFFINITY_INFO(%x) returned %x (want INVALID_PARAMETERS)", bad_mpidrs[i], (ulong)rc);
        }
    }
    if (irq_vcpu_count() > 1) {
        const ulong bad_entries[] = {0, (ulong)ram_base - 4, (ulong)(ram_base + ram_size), CRASH_VBAR};
        for (unsigned i = 0; i < sizeof bad_entries / sizeof bad_entries[0]; i++) {
            long rc = (int32_t)irq_psci(irq_psci_cpu_on, irq_vcpu_target(1), bad_entries[i], 0);
            if (rc != PSCI_INVALID_ADDRESS) {
                con_fail("psci: CPU_ON(vcpu 1, entry %x) returned %x (want INVALID_ADDRESS)", bad_entries[i],
                         (ulong)rc);
            }
        }
        long rc = (int32_t)irq_psci(PSCI_AFFINITY_INFO_32, irq_vcpu_target(1), 7, 0);
        if (rc != PSCI_INVALID_PARAMS) {
            con_fail("psci: AFFINITY_INFO(vcpu 1, level 7) returned %x", (ulong)rc);
        }
    }
    long rc = (int32_t)irq_psci(PSCI_CPU_SUSPEND_32, 0xfffffffful, 0, 0);
    if (rc != PSCI_INVALID_PARAMS) {
        con_fail("psci: CPU_SUSPEND(0xffffffff) returned %x (want INVALID_PARAMETERS)", (ulong)rc);
    }
}

static void phase_sgi(void)
{
    if (g_gic == 2) {
        /* Target lists naming CPU interfaces 2..7, and the reserved filter. */
        mmio_write32(GICD_BASE + GICD_SGIR, 0xfcu << 16 | 3);
        mmio_write32(GICD_BASE + GICD_SGIR, 0xf0u << 16 | 5);
        mmio_write32(GICD_BASE + GICD_SGIR, 3u << 24 | 0xffu << 16 | 7);
        return;
    }
    irq_icc_sgi1r(0xfffcull | 0ull << 16 | 3ull << 24);          /* Aff0 2..15 */
    irq_icc_sgi1r(0xffffull | 5ull << 16 | 4ull << 24);          /* Aff1 5 */
    irq_icc_sgi1r(0xffffull | 0x7full << 48 | 9ull << 24);       /* Aff3 0x7f */
    irq_icc_sgi1r(0xffffull | 0xffull << 32 | 1ull << 44 | 15ull << 24); /* Aff2, RS */
}

static void phase_undef(void)
{
    uint32_t before = g_f.undef;
    udf();
    impdef_read();
    if (g_f.undef != before + 2) {
        con_fail("undef: %u undefined-instruction exceptions (want 2: UDF, IMPDEF register)",
                 (ulong)(g_f.undef - before));
    }
}

/* (A switch, not a table of pointers: the image must not depend on where it is loaded.) */
static const char *debug_name(unsigned i)
{
    switch (i) {
    case 0: return "mdscr";
    case 1: return "bvr0";
    case 2: return "bcr0";
    case 3: return "wvr0/didr";
    case 4: return "pmcr";
    default: return "pmcntenset";
    }
}

/* Each debug or PMU register written with a value, read back: 0 each time. */
static void phase_debug(void)
{
    ulong got[6];
    const ulong v = 0x40001000ul;
#ifdef __aarch64__
    __asm__ volatile("msr MDSCR_EL1, %0\n\tisb\n\tmrs %0, MDSCR_EL1" : "=r"(got[0]) : "0"((1ul << 15) | (1ul << 13)));
    __asm__ volatile("msr DBGBVR0_EL1, %0\n\tmrs %0, DBGBVR0_EL1" : "=r"(got[1]) : "0"(v));
    __asm__ volatile("msr DBGBCR0_EL1, %0\n\tmrs %0, DBGBCR0_EL1" : "=r"(got[2]) : "0"(0x1e7ul));
    __asm__ volatile("msr DBGWVR0_EL1, %0\n\tmrs %0, DBGWVR0_EL1" : "=r"(got[3]) : "0"(v));
    __asm__ volatile("msr PMCR_EL0, %0\n\tmrs %0, PMCR_EL0" : "=r"(got[4]) : "0"(1ul));
    __asm__ volatile("msr PMCNTENSET_EL0, %0\n\tmrs %0, PMCNTENSET_EL0" : "=r"(got[5]) : "0"(1ul << 31));
#else
    __asm__ volatile("mcr p14, 0, %0, c0, c2, 2\n\tisb\n\tmrc p14, 0, %0, c0, c2, 2" : "=r"(got[0])
                     : "0"((1ul << 15) | (1ul << 14)));                                         /* DBGDSCRext */
    __asm__ volatile("mcr p14, 0, %0, c0, c0, 4\n\tmrc p14, 0, %0, c0, c0, 4" : "=r"(got[1]) : "0"(v)); /* DBGBVR0 */
    __asm__ volatile("mcr p14, 0, %0, c0, c0, 5\n\tmrc p14, 0, %0, c0, c0, 5" : "=r"(got[2]) : "0"(0x1e7ul));
    __asm__ volatile("mrc p14, 0, %0, c0, c0, 0" : "=r"(got[3]));                               /* DBGDIDR */
    __asm__ volatile("mcr p15, 0, %0, c9, c12, 0\n\tmrc p15, 0, %0, c9, c12, 0" : "=r"(got[4]) : "0"(1ul)); /* PMCR */
    __asm__ volatile("mcr p15, 0, %0, c9, c12, 1\n\tmrc p15, 0, %0, c9, c12, 1" : "=r"(got[5])
                     : "0"(1ul << 31));                                                          /* PMCNTENSET */
#endif
    for (unsigned i = 0; i < 6; i++) {
        if (got[i]) {
            con_fail("debug: %s reads %x (want 0: no guest programs it)", debug_name(i), got[i]);
        }
    }
}

static void phase_wfi(void)
{
    irq_disable();
    irq_vtimer_arm(0); /* CVAL 0: always pending, so no WFI waits */
    for (unsigned i = 0; i < WFI_STORM; i++) {
        irq_wfi();
    }
    irq_vtimer_off();
}

/* Random values into every register of the vGIC and the vPL011. */
static void phase_registers(void)
{
    ulong regions[4][2];
    unsigned n = 0;
    regions[n][0] = GICD_BASE;
    regions[n++][1] = g_gic == 2 ? 0x1000 : 0x10000;
    if (g_gic == 2) {
        regions[n][0] = GICC_BASE;
        regions[n++][1] = 0x2000;
    } else {
        for (unsigned k = 0; k < irq_vcpu_count() && n < 4; k++) {
            regions[n][0] = GICR_BASE + k * GICR_STRIDE;
            regions[n++][1] = GICR_STRIDE;
        }
    }
    for (unsigned r = 0; r < n; r++) {
        for (ulong off = 0; off < regions[r][1]; off += off < 0x1000 ? 4 : 0x40) {
            ulong a = regions[r][0] + off;
            (void)read32(a);
            mmio_write32(a, rnd());
        }
        for (unsigned i = 0; i < 64; i++) {
            write8(regions[r][0] + (rnd() & (regions[r][1] - 1)), rnd());
        }
    }
    for (ulong off = 4; off < 0x1000; off += 4) {
        (void)read32(GUEST_UART_BASE + off);
        mmio_write32(GUEST_UART_BASE + off, rnd());
    }
    /* The UART as console.c wants it again: enabled, 8-bit FIFO, quiet. */
    mmio_write32(GUEST_UART_BASE + UART_IMSC, 0);
    mmio_write32(GUEST_UART_BASE + UART_ICR, 0x7ff);
    mmio_write32(GUEST_UART_BASE + UART_LCR_H, 0x70);
    mmio_write32(GUEST_UART_BASE + UART_CR, 0x301);
    /* And a random value into the data register: a byte on its console. */
    mmio_write32(GUEST_UART_BASE + UART_DR, 33 + (rnd() & 63));
    mmio_write32(GUEST_UART_BASE + UART_DR, '\r');
    mmio_write32(GUEST_UART_BASE + UART_DR, '\n');
}

/* Lines of 'x' straight into the data register, then quiet. */
static void phase_flood(void)
{
    for (unsigned i = 0; i < FLOOD_BYTES; i++) {
        mmio_write32(GUEST_UART_BASE + UART_DR, (i & 63) == 63 ? '\n' : 'x');
    }
    uint64_t until = irq_counter() + (uint64_t)irq_counter_freq() * FLOOD_QUIET_S;
    for (uint32_t i = 0; i < (1u << 30) && irq_counter() < until; i++) {
    }
    con_line("flood: %u bytes written, then %u s of quiet", (ulong)FLOOD_BYTES, (ulong)FLOOD_QUIET_S);
}

/* Every 2 MiB below 4 GiB (and every GiB to 1 TiB on AArch64). */
static void phase_sweep(uint64_t ram_base, uint64_t ram_size)
{
    ulong in_ram = 0, in_window = 0, aborted = 0, wrong = 0;
    uint64_t step = 2ull << 20;
#ifdef __aarch64__
    const uint64_t end = 1ull << 40;
#else
    const uint64_t end = 1ull << 32;
#endif
    for (uint64_t a = 0; a < end; a += step) {
        if (a == (1ull << 32)) {
            step = 1ull << 30;
        }
        uint32_t before = g_f.dabt;
        (void)read32((ulong)a);
        int ok = g_f.dabt == before;
        int ram = a >= ram_base && a - ram_base < ram_size;
        int window = a >= GIC_WINDOW_BASE && a < GIC_WINDOW_END;
        if (ok && ram) {
            in_ram++;
        } else if (ok && window) {
            in_window++;
        } else if (!ok && !ram) {
            aborted++;
        } else if (!wrong++) {
            con_fail("sweep: IPA %x %s", (ulong)a, ok ? "readable outside RAM and the devices" : "in RAM aborted");
        }
    }
    con_line("sweep: %u readable in RAM, %u in the GIC/UART window, %u aborted, %u wrong", in_ram, in_window, aborted,
             wrong);
}

/* Every word of RAM outside this image and the DTB reads 0. */
static void phase_scan(uint64_t ram_base, uint64_t ram_size, ulong dtb)
{
    ulong img0 = (ulong)_image_start, img1 = (ulong)_image_end;
    ulong dtb1 = dtb + fdt_total_size(dtb);
    ulong words = 0, nonzero = 0;
    for (ulong a = (ulong)ram_base; a < (ulong)(ram_base + ram_size); a += 4) {
        if (a == img0) {
            a = (img1 + 3) & ~3ul;
        }
        if (a == (dtb & ~3ul)) {
            a = (dtb1 + 3) & ~3ul;
        }
        if (a >= (ulong)(ram_base + ram_size)) {
            break;
        }
        words++;
        uint32_t v = *(volatile uint32_t *)a;
        if (v && !nonzero++) {
            con_fail("scan: word %x at IPA %x is not zero", (ulong)v, a);
        }
    }
    con_line("scan: %u KiB of RAM outside the image and DTB, %u words not zero", words / 256, nonzero);
}

void hostile_secondary(void)
{
    for (;;) {
        for (unsigned i = 0; i < SECONDARY_SW; i++) {
            setway(i, (ulong)i * 0x9e3779b9u);
        }
        irq_disable();
        irq_vtimer_arm(0);
        for (unsigned i = 0; i < SECONDARY_WFI; i++) {
            irq_wfi();
        }
        irq_vtimer_off();
        g_secondary_rounds++;
    }
}

void hostile_main(ulong dtb)
{
    uint64_t ram_base = 0, ram_size = 0;
    if (fdt_memory(dtb, &ram_base, &ram_size) != 1 || !ram_size) {
        con_fail("hostile: no /memory in the dtb");
        irq_halt();
    }
    unsigned failures = g_failures;
    g_gic = irq_gic_version();
    con_line("hostile: ram %x size %x, %u vcpus, gic v%u", (ulong)ram_base, (ulong)ram_size, (ulong)irq_vcpu_count(),
             (ulong)g_gic);
    g_f.armed = 1;
    for (unsigned round = 0; round < HOSTILE_ROUNDS; round++) {
        uint64_t t0 = irq_counter();
        phase_setway();
        phase_unmapped(ram_base, ram_size);
        phase_psci(ram_base, ram_size);
        if (round == 0 && irq_vcpu_count() > 1) {
            irq_start_vcpu(1);
        }
        phase_sgi();
        phase_undef();
        phase_debug();
        phase_wfi();
        phase_registers();
        if (!irq_gic_setup()) {
            con_fail("hostile: the GIC cannot be set up again");
        }
        if (round == 0) {
            phase_sweep(ram_base, ram_size);
            phase_scan(ram_base, ram_size, dtb);
            phase_flood();
        }
        con_line("round %u: %u ms, faults taken: undef %u prefetch %u data %u; vcpu 1 rounds %u", (ulong)round,
                 irq_ms(irq_counter() - t0), (ulong)g_f.undef, (ulong)g_f.pabt, (ulong)g_f.dabt,
                 (ulong)g_secondary_rounds);
    }
    if (irq_stale_spsr) {
        con_line("note: %u injected faults arrived with a stale SPSR (QEMU 7.2), put right", (ulong)irq_stale_spsr);
    }
    if (g_failures == failures) {
        con_line("HOSTILE OK");
    }
    irq_disable();
    const volatile uint8_t *args;
    uint32_t len;
    if (fdt_chosen_bootargs(dtb, &args, &len) == 1 && bootargs_has_word(args, len, "crash-loop")) {
        con_line("running away: exception stacks at %x (nothing there), then UDF", CRASH_SP);
        set_exception_sp(CRASH_SP);
        udf();
        con_fail("crash: still running after UDF with the exception stacks at %x", CRASH_SP);
        irq_halt();
    }
    con_line("crashing: VBAR = %x (nothing there), then UDF", CRASH_VBAR);
    set_vbar(CRASH_VBAR);
    udf();
    con_fail("crash: still running after UDF with VBAR %x", CRASH_VBAR);
    irq_halt();
}
