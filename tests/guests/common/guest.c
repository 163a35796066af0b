/*
 * The test sequence every guest runs, one marker line per step (the list
 * and what each step proves: tests/guests/README.md). A failed check prints
 * "GUEST <name>: FAIL <what>" and the sequence goes on; it always ends with
 * "done" and PSCI SYSTEM_OFF. Two optional steps run when the words
 * "reboot-once" / "echo-input" are in /chosen/bootargs.
 */
#include "guest.h"

struct abort_record g_abort;
struct secondary_record g_secondary;

static int32_t psci(ulong fn, ulong a1, ulong a2, ulong a3)
{
    /* SMCCC: a 32-bit function's result is in W0; every PSCI status fits. */
    return (int32_t)arch_psci(fn, a1, a2, a3);
}

void guest_halt(void)
{
    /* Once only: if the HVC itself faults, the handler comes back here. */
    static volatile uint32_t halting;
    if (!halting) {
        halting = 1;
        arch_psci(PSCI_SYSTEM_OFF, 0, 0, 0);
        con_fail("system-off returned");
    }
    for (;;) {
        arch_wfi();
    }
}

static ulong step_dtb(void)
{
    ulong dtb = arch_entry_report();
    uint32_t magic = fdt_magic(dtb);
    if (magic == FDT_MAGIC) {
        con_line("dtb %8x magic ok", dtb);
    } else {
        con_fail("dtb %8x magic %8x", dtb, (ulong)magic);
    }
    return dtb;
}

/* The optional steps /chosen/bootargs asks for. */
#define OPT_REBOOT_ONCE 1u
#define OPT_ECHO_INPUT  2u

static unsigned step_options(ulong dtb)
{
    if (fdt_magic(dtb) != FDT_MAGIC) {
        return 0; /* step_dtb has said so */
    }
    const volatile uint8_t *args;
    uint32_t len;
    int r = fdt_chosen_bootargs(dtb, &args, &len);
    if (r < 0) {
        con_fail("bootargs: cannot walk the dtb (error %u)", (ulong)-r);
        return 0;
    }
    if (r == 0) {
        return 0;
    }
    unsigned opts = 0;
    if (bootargs_has_word(args, len, "reboot-once")) {
        opts |= OPT_REBOOT_ONCE;
    }
    if (bootargs_has_word(args, len, "echo-input")) {
        opts |= OPT_ECHO_INPUT;
    }
    return opts;
}

static int ranges_overlap(ulong a, ulong a_size, ulong b, ulong b_size)
{
    return a < b + b_size && b < a + a_size;
}

/* Both magic words, cleaned to the point of coherency: they must be in
   memory, not only in a cache, when the domain restarts with caches off. */
static void reboot_mark(volatile uint32_t *mark, uint32_t word0, uint32_t word1)
{
    mark[0] = word0;
    mark[1] = word1;
    arch_barrier();
    arch_clean_dcache_line((ulong)mark);
}

/*
 * reboot-once: the first boot leaves (magic, ~magic) at
 * GUEST_REBOOT_MAGIC_IPA and asks for PSCI SYSTEM_RESET; the domain starts
 * again from its images with RAM kept, so the second boot finds the words,
 * clears them and goes on. A boot that finds them without having rebooted
 * is impossible: setwise zeroes a domain's RAM when it creates it.
 */
static void step_reboot(ulong dtb)
{
    volatile uint32_t *mark = (volatile uint32_t *)GUEST_REBOOT_MAGIC_IPA;
    ulong image = arch_image_start();
    ulong dtb_size = fdt_total_size(dtb);
    if (ranges_overlap(GUEST_REBOOT_MAGIC_IPA, 8, image, arch_image_size()) ||
        ranges_overlap(GUEST_REBOOT_MAGIC_IPA, 8, dtb, dtb_size ? dtb_size : 1)) {
        con_fail("reboot: the mark at %8x is inside the image (%8x) or the dtb (%8x); not rebooting",
                 (ulong)GUEST_REBOOT_MAGIC_IPA, image, dtb);
        return;
    }
    if (mark[0] == GUEST_REBOOT_MAGIC && mark[1] == ~GUEST_REBOOT_MAGIC) {
        reboot_mark(mark, 0, 0);
        con_line("rebooted ok");
        return;
    }
    reboot_mark(mark, GUEST_REBOOT_MAGIC, ~GUEST_REBOOT_MAGIC);
    con_line("rebooting");
    int32_t r = psci(PSCI_SYSTEM_RESET, 0, 0, 0);
    reboot_mark(mark, 0, 0);
    con_fail("reboot: SYSTEM_RESET returned %8x", (ulong)(uint32_t)r);
}

static void step_psci(void)
{
    int32_t v = psci(PSCI_VERSION, 0, 0, 0);
    if (v == 0x00010001) {
        con_line("psci version %8x", (ulong)(uint32_t)v);
    } else {
        con_fail("psci version %8x (want 0x00010001)", (ulong)(uint32_t)v);
    }

    int32_t r = psci(PSCI_BAD_FUNCTION, 0, 0, 0);
    if (r == PSCI_NOT_SUPPORTED) {
        con_line("psci bad-function ok");
    } else {
        con_fail("psci bad-function returned %8x (want NOT_SUPPORTED)", (ulong)(uint32_t)r);
    }

    r = psci(arch_psci_cpu_on, 0xff, arch_secondary_entry(), SECONDARY_CONTEXT);
    if (r == PSCI_INVALID_PARAMS) {
        con_line("psci bad-cpu ok");
    } else {
        con_fail("psci bad-cpu returned %8x (want INVALID_PARAMETERS)", (ulong)(uint32_t)r);
    }
}

static void step_abort(void)
{
    const uint32_t sentinel = 0x5afe5afe;
    g_abort.count = 0;
    g_abort.stale_spsr = 0;
    g_abort.armed = 1;
    arch_barrier();
    uint32_t got = arch_probe_load(GUEST_ABORT_IPA, sentinel);
    g_abort.armed = 0;
    arch_barrier();

    if (g_abort.count == 0) {
        con_fail("abort: none taken, load from %8x returned %8x", (ulong)GUEST_ABORT_IPA, (ulong)got);
        return;
    }
    con_line("abort %s=%8x far=%8x pc=%8x", arch_syndrome_name, g_abort.syndrome, g_abort.far, g_abort.pc);
    if (g_abort.stale_spsr != 0) {
        con_line("note: SPSR_abt read %8x, not the interrupted mode's CPSR (QEMU 7.2 keeps the old "
                 "mode's SPSR after a mode-changing return from EL2; see tests/guests/README.md)",
                 g_abort.stale_spsr);
    }
    if (g_abort.count != 1) {
        con_fail("abort: taken %u times", (ulong)g_abort.count);
    } else if (g_abort.far != GUEST_ABORT_IPA) {
        con_fail("abort: far=%8x (want %8x)", g_abort.far, (ulong)GUEST_ABORT_IPA);
    } else if (!g_abort.external) {
        con_fail("abort: %s=%8x is not a synchronous external abort", arch_syndrome_name, g_abort.syndrome);
    } else if (got != sentinel) {
        con_fail("abort: destination register changed to %8x", (ulong)got);
    } else {
        con_line("abort ok far=%8x", g_abort.far);
    }
}

/*
 * Nothing wakes a WFI unless an interrupt becomes pending (setwise blocks
 * the vCPU until one does, as KVM and Xen do), so arm the virtual timer
 * (PPI 11, INTID 27) for ~8 ms through the GIC, GICv2 or GICv3 as
 * GICD_PIDR2.ArchRev says. The interrupt stays masked at the CPU
 * (PSTATE.I): it only ends the WFI.
 */
static void mmio_write(ulong addr, uint32_t v)
{
    *(volatile uint32_t *)addr = v;
}

static uint32_t mmio_read(ulong addr)
{
    return *(volatile uint32_t *)addr;
}

static int gic_is_v3(void)
{
    return ((mmio_read(GUEST_GICD_BASE + 0xffe8) >> 4) & 0xf) == 3; /* GICD_PIDR2.ArchRev */
}

static void wake_arm(void)
{
    if (gic_is_v3()) {
        /* vCPU 0's redistributor is the first; its SGI frame follows the RD frame. */
        mmio_write(GUEST_GICR_BASE + 0x14, mmio_read(GUEST_GICR_BASE + 0x14) & ~2u); /* WAKER.ProcessorSleep */
        mmio_write(GUEST_GICR_BASE + 0x10000 + 0x418, 0x80808080u); /* GICR_IPRIORITYR6 */
        mmio_write(GUEST_GICR_BASE + 0x10000 + 0x100, 1u << 27);    /* GICR_ISENABLER0 */
        mmio_write(GUEST_GICD_BASE + 0x000, (1u << 4) | (1u << 1)); /* GICD_CTLR: ARE, EnableGrp1 */
    } else {
        mmio_write(GUEST_GICD_BASE + 0x100, 1u << 27);     /* GICD_ISENABLER0 */
        mmio_write(GUEST_GICD_BASE + 0x418, 0x80808080u);  /* GICD_IPRIORITYR6: INTIDs 24..27 */
        mmio_write(GUEST_GICD_BASE + 0x000, 1);            /* GICD_CTLR.Enable */
        mmio_write(GUEST_GICC_BASE + 0x004, 0xf0);         /* GICC_PMR */
        mmio_write(GUEST_GICC_BASE + 0x000, 1);            /* GICC_CTLR.Enable */
    }
    uint32_t ticks = arch_counter_freq() >> 7;
    arch_vtimer(ticks ? ticks : 100000);
}

static void wake_disarm(void)
{
    arch_vtimer(0);
    if (gic_is_v3()) {
        mmio_write(GUEST_GICR_BASE + 0x10000 + 0x180, 1u << 27); /* GICR_ICENABLER0 */
        mmio_write(GUEST_GICD_BASE + 0x000, 1u << 4);
    } else {
        mmio_write(GUEST_GICD_BASE + 0x180, 1u << 27);            /* GICD_ICENABLER0 */
        mmio_write(GUEST_GICC_BASE + 0x000, 0);
        mmio_write(GUEST_GICD_BASE + 0x000, 0);
    }
}

static void step_wfi(void)
{
    wake_arm();
    arch_wfi();
    wake_disarm();
    con_line("wfi ok");
}

/*
 * echo-input: reads one line from the UART, polling (no interrupts), up to
 * '\r' or '\n' or GUEST_ECHO_MAX bytes, for GUEST_ECHO_SECONDS by the
 * counter (and a loop bound in case the counter does not run), and prints
 * it back. Control characters and bytes from 0x7f up are shown as '.'.
 */
static void step_echo(void)
{
    char line[GUEST_ECHO_MAX + 1];
    unsigned n = 0;
    int ended = 0;
    con_rx_fifo_on(); /* before the prompt: nothing is sent before it */
    con_line("type a line");
    uint64_t freq = arch_counter_freq();
    uint64_t start = arch_counter();
    for (uint32_t i = 0; i < (1u << 28) && !ended; i++) {
        int c = con_getc();
        if (c < 0) {
            if (freq && arch_counter() - start > GUEST_ECHO_SECONDS * freq) {
                break;
            }
            continue;
        }
        if (c == '\r' || c == '\n') {
            ended = 1;
        } else {
            line[n++] = (char)(c < 0x20 || c >= 0x7f ? '.' : c);
            ended = n == GUEST_ECHO_MAX;
        }
    }
    line[n] = 0;
    if (ended) {
        con_line("got '%s'", line);
    } else if (n) {
        con_fail("echo timeout after '%s'", line);
    } else {
        con_fail("echo timeout");
    }
}

/* Waits for the secondary's flag: ~5 s by the counter, and a loop bound in
   case the counter does not run. */
static int wait_secondary(void)
{
    uint64_t freq = arch_counter_freq();
    uint64_t start = arch_counter();
    for (uint32_t i = 0; i < (1u << 28); i++) {
        if (g_secondary.online) {
            arch_barrier();
            return 1;
        }
        if (freq && arch_counter() - start > 5 * freq) {
            break;
        }
    }
    return g_secondary.online != 0;
}

static void step_cpu_on(ulong dtb)
{
    struct fdt_cpus cpus;
    int err = fdt_find_cpus(dtb, &cpus);
    if (err < 0) {
        con_fail("cpu1: cannot walk the dtb (error %u)", (ulong)-err);
        return;
    }
    if (cpus.count == 0) {
        con_fail("cpu1: no cpu nodes under /cpus");
        return;
    }
    if (cpus.count == 1) {
        con_line("cpu1 skipped (1 vCPU)");
        return;
    }

    /* The first cpu node that is not this vCPU (vCPU 1 is MPIDR 0x1). */
    ulong self = arch_mpidr_affinity() & 0xffffffffu;
    ulong target = 1;
    for (unsigned i = 0; i < cpus.count && i < FDT_MAX_CPUS; i++) {
        if (cpus.has_reg[i] && cpus.reg[i] != self) {
            target = cpus.reg[i];
            break;
        }
    }

    g_secondary.online = 0;
    arch_barrier();
    int32_t r = psci(arch_psci_cpu_on, target, arch_secondary_entry(), SECONDARY_CONTEXT);
    if (r != PSCI_SUCCESS) {
        con_fail("cpu1: CPU_ON(%x) returned %8x", target, (ulong)(uint32_t)r);
        return;
    }
    if (!wait_secondary()) {
        con_fail("cpu1 timeout");
    } else if (g_secondary.mpidr != target) {
        con_fail("cpu1: came up as mpidr=%x (want %x)", g_secondary.mpidr, target);
    } else if (g_secondary.context != SECONDARY_CONTEXT) {
        con_fail("cpu1: context_id %8x (want %8x)", g_secondary.context, (ulong)SECONDARY_CONTEXT);
    } else if (!arch_secondary_state_ok(g_secondary.state, g_secondary.sctlr)) {
        con_fail("cpu1: entry state %8x sctlr=%8x", g_secondary.state, g_secondary.sctlr);
    } else {
        con_line("cpu1 up");
    }
}

void guest_main(void)
{
    ulong dtb = step_dtb();
    unsigned opts = step_options(dtb);
    if (opts & OPT_REBOOT_ONCE) {
        step_reboot(dtb);
    }
    step_psci();
    step_abort();
    step_wfi();
    if (opts & OPT_ECHO_INPUT) {
        step_echo();
    }
    step_cpu_on(dtb);
    con_line("done");
    guest_halt();
}

void secondary_main(ulong context, ulong state, ulong sctlr)
{
    ulong mpidr = arch_mpidr_affinity();
    g_secondary.mpidr = mpidr;
    g_secondary.context = context;
    g_secondary.state = state;
    g_secondary.sctlr = sctlr;
    con_line("secondary online mpidr=%x", mpidr);
    arch_barrier();
    g_secondary.online = 1;
    arch_barrier();
    arch_psci(PSCI_CPU_OFF, 0, 0, 0);
    /* CPU_OFF is optional for setwise: without it, park here. */
    for (;;) {
        arch_wfi();
    }
}
