/*
 * The set/way test sequence, both ISAs (markers and what each step proves:
 * tests/guests/README.md, "The set/way guests"):
 *
 *   1. start
 *   2. geometry    CLIDR and CCSIDR of every data/unified level below LoC
 *   3. decompress  what a zImage decompressor or U-Boot does before jumping
 *                  to a kernel: identity map, caches on, write a payload,
 *                  clean+invalidate everything by set/way, caches off, read
 *                  the payload back uncached; then jump into code copied
 *                  into it
 *   4. dcisw       one DC ISW pass over L1 (v7_invalidate_l1)
 *   5. progress    a second vCPU counts in memory while this one runs
 *                  SW_WINDOWS windows of decompressor-style batches; it
 *                  must advance in every window
 *   6. done, then SYSTEM_OFF
 *
 * With the bootargs word `touch-sweep` (tools/bench scenario `touch`), the
 * geometry step is followed by the touch sweep instead of steps 3-5: for
 * N = 1, 2, 4, ... 65536 (at most the RAM's pages), caches on, one word
 * written in each of N distinct 4 KiB pages spread over all of the RAM,
 * a clean-all by set/way, caches off.
 *
 * A failed check prints "GUEST sw-<isa>: FAIL <what>" and the sequence goes
 * on. Every wait is bounded twice, by CNTVCT and by an iteration count in
 * case the counter stands still.
 */
#include "setway.h"

extern char _image_start[], _image_end[]; /* guest.ld */

struct sw_shared sw_shared __attribute__((aligned(4096)));

static struct sw_geometry g_geo;

/*
 * Room for the identity map: the AArch32 section table is 16 KiB and must
 * be 16 KiB aligned, the AArch64 level-1 table 4 KiB aligned, which the
 * image's load address does not promise, so sw_build_tables aligns inside
 * this buffer at run time.
 */
#ifdef __aarch64__
#define SW_TABLE_BUF (8u << 10)
#else
#define SW_TABLE_BUF (32u << 10)
#endif
static uint8_t g_table_buf[SW_TABLE_BUF] __attribute__((aligned(8)));
static ulong g_table;

static uint64_t g_freq;   /* CNTFRQ, or a stand-in if it reads 0 */

static int32_t psci(ulong fn, ulong a1, ulong a2, ulong a3)
{
    return (int32_t)sw_psci(fn, a1, a2, a3);
}

void sw_halt(void)
{
    static volatile uint32_t halting; /* once: an exception in the HVC comes back here */
    if (!halting) {
        halting = 1;
        sw_psci(PSCI_SYSTEM_OFF, 0, 0, 0);
        con_fail("system-off returned");
    }
    for (;;) {
        sw_wfi();
    }
}

static uint64_t deadline_in_seconds(unsigned s)
{
    return sw_counter() + g_freq * s;
}

static int past(uint64_t deadline)
{
    return sw_counter() >= deadline;
}

/* ---- step 2: geometry ---- */

static void step_geometry(void)
{
    struct sw_geometry *g = &g_geo;
    g->clidr = sw_read_clidr();
    g->loc = (g->clidr >> 24) & 7;
    g->ccidx = sw_read_ccidx();
    g->count = 0;
    g->ops = 0;
    g->l1_ops = 0;
    g->usable = 0;

    int too_big = 0;
    for (unsigned lvl = 0; lvl < SW_MAX_LEVELS; lvl++) {
        ulong ctype = (g->clidr >> (3 * lvl)) & 7;
        /* As v7_flush_dcache_all: 0 none, 1 instruction only: skipped. The
           L1 pass (v7_invalidate_l1) does not look at LoC. */
        if (ctype < 2 || (lvl >= g->loc && lvl != 0)) {
            continue;
        }
        ulong sets, ways;
        sw_read_ccsidr(lvl, g->ccidx, &sets, &ways);
        uint64_t n = (uint64_t)sets * ways;
        if (n > SW_MAX_OPS) {
            too_big = 1;
            n = SW_MAX_OPS + 1;
        }
        if (lvl == 0) {
            g->l1_ops = (ulong)n;
        }
        if (lvl < g->loc) {
            g->lv[g->count].level = lvl + 1;
            g->lv[g->count].sets = sets;
            g->lv[g->count].ways = ways;
            g->count++;
            g->ops += (ulong)n;
        }
    }

    /* "geometry L1 <sets>x<ways> L2 <sets>x<ways> ... ops=<n>": con_line
       takes a fixed format, so build one with as many levels as there are
       and pass every slot; the unused ones are never read. */
    char fmt[16 + 12 * SW_MAX_LEVELS];
    ulong a[3 * SW_MAX_LEVELS + 1];
    unsigned f = 0, n = 0;
    for (const char *s = "geometry"; *s; s++) {
        fmt[f++] = *s;
    }
    for (unsigned i = 0; i < g->count; i++) {
        for (const char *s = " L%u %ux%u"; *s; s++) {
            fmt[f++] = *s;
        }
        a[n++] = g->lv[i].level;
        a[n++] = g->lv[i].sets;
        a[n++] = g->lv[i].ways;
    }
    for (const char *s = " ops=%u"; *s; s++) {
        fmt[f++] = *s;
    }
    fmt[f] = 0;
    a[n++] = g->ops;
    while (n < sizeof a / sizeof a[0]) {
        a[n++] = 0;
    }

    if (too_big || g->ops > SW_MAX_OPS) {
        con_fail("geometry clidr=%8x: a clean-all would be more than %u operations; set/way steps skipped",
                 g->clidr, (ulong)SW_MAX_OPS);
        return;
    }
    con_line(fmt, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13],
             a[14], a[15], a[16], a[17], a[18], a[19], a[20], a[21]);
    g->usable = 1;
}

/* ---- step 3: the decompressor pattern ---- */

static int overlaps(ulong a, ulong alen, ulong b, ulong blen)
{
    return a < b + blen && b < a + alen;
}

static ulong dtb_size(ulong dtb)
{
    const volatile uint8_t *p = (const volatile uint8_t *)(dtb + 4);
    return (ulong)p[0] << 24 | (ulong)p[1] << 16 | (ulong)p[2] << 8 | p[3];
}

/*
 * The payload goes at RAM base + 8 MiB, or the next 4 MiB step that stays
 * clear (with 64 KiB to spare) of this image and of the DTB. Every
 * candidate is below RAM base + 32 MiB, so 32 MiB of guest RAM is enough.
 * Under setwise an Image sits at RAM base, a zImage at half of RAM (RAM
 * under 256 MiB) and the DTB 2 MiB below the top; bare QEMU puts them
 * elsewhere, hence the check.
 */
static ulong pick_payload(ulong dtb)
{
    const ulong margin = 64ul << 10;
    ulong img = (ulong)_image_start;
    ulong img_len = (ulong)(_image_end - _image_start);
    ulong dtb_len = dtb ? dtb_size(dtb) : 0;
    if (dtb_len > (2ul << 20)) {
        dtb_len = 2ul << 20;
    }
    for (ulong off = 8ul << 20; off + SW_PAYLOAD_BYTES <= (32ul << 20); off += 4ul << 20) {
        ulong dst = SW_RAM_BASE + off;
        if (overlaps(dst, SW_PAYLOAD_BYTES, img - margin, img_len + 2 * margin)) {
            continue;
        }
        if (dtb && overlaps(dst, SW_PAYLOAD_BYTES, dtb - margin, dtb_len + 2 * margin)) {
            continue;
        }
        return dst;
    }
    return 0;
}

static uint32_t pattern(ulong i)
{
    uint32_t x = (uint32_t)i * 0x9e3779b9u;
    return x ^ (x >> 15) ^ 0x5e7a5e7au;
}

static ulong jump_fn_words(void)
{
    return (ulong)(sw_jump_fn_end - sw_jump_fn);
}

/* What word i of the payload must hold: the copied function, then the pattern. */
static uint32_t payload_word(ulong i)
{
    return i < jump_fn_words() ? sw_jump_fn[i] : pattern(i);
}

static uint32_t checksum_step(uint32_t h, uint32_t w)
{
    return (h ^ w) * 0x01000193u; /* FNV-1a, a word at a time */
}

static uint32_t checksum_memory(ulong dst)
{
    const volatile uint32_t *p = (const volatile uint32_t *)dst;
    uint32_t h = 0x811c9dc5u;
    for (ulong i = 0; i < SW_PAYLOAD_BYTES / 4; i++) {
        h = checksum_step(h, p[i]);
    }
    return h;
}

static uint32_t checksum_expected(void)
{
    uint32_t h = 0x811c9dc5u;
    for (ulong i = 0; i < SW_PAYLOAD_BYTES / 4; i++) {
        h = checksum_step(h, payload_word(i));
    }
    return h;
}

/* Caches on through the identity map; 0 if they did not come on. */
static int caches_on(const char *step)
{
    sw_mmu_on(g_table);
    ulong sctlr = sw_read_sctlr();
    const ulong want = SW_SCTLR_M | SW_SCTLR_C | SW_SCTLR_I;
    if ((sctlr & want) != want) {
        con_fail("%s: MMU and caches did not come on (sctlr=%8x)", step, sctlr);
        return 0;
    }
    return 1;
}

/* Checks what a sw_cisw_all_off returned; 1 if it did everything. */
static int check_clean_off(const char *step, ulong r)
{
    ulong ops = r & SW_OPS_MASK;
    ulong sctlr = sw_read_sctlr();
    if (sctlr & (SW_SCTLR_M | SW_SCTLR_C | SW_SCTLR_I)) {
        con_fail("%s: MMU or caches still on after the clean (sctlr=%8x)", step, sctlr);
        return 0;
    }
    if (r & SW_TIMED_OUT) {
        con_fail("%s: the clean-all stopped at its 10 s deadline after %u operations", step, ops);
        return 0;
    }
    if (ops != g_geo.ops) {
        con_fail("%s: the clean-all issued %u operations, the geometry says %u", step, ops, g_geo.ops);
        return 0;
    }
    return 1;
}

static void step_decompress(ulong dtb)
{
    if (!g_geo.usable) {
        con_fail("decompress: skipped (no usable geometry)");
        con_fail("jump: skipped");
        return;
    }
    ulong dst = pick_payload(dtb);
    if (!dst) {
        con_fail("decompress: no room for the payload below RAM base + 32 MiB");
        con_fail("jump: skipped");
        return;
    }
    g_table = sw_build_tables(g_table_buf, sizeof g_table_buf);
    if (!g_table) {
        con_fail("decompress: no room for the page tables");
        con_fail("jump: skipped");
        return;
    }
    con_line("payload %8x-%8x pages=%u tables=%8x", dst, dst + SW_PAYLOAD_BYTES - 1, SW_PAYLOAD_PAGES, g_table);
    if (!caches_on("decompress")) {
        con_fail("jump: skipped");
        return;
    }

    /* Caches on: "decompress" into the payload, then put the code to jump
       to at its start, as a decompressor writes the kernel it then runs. */
    volatile uint32_t *p = (volatile uint32_t *)dst;
    for (ulong i = 0; i < SW_PAYLOAD_BYTES / 4; i++) {
        p[i] = pattern(i);
    }
    for (ulong i = 0; i < jump_fn_words(); i++) {
        p[i] = sw_jump_fn[i];
    }
    uint32_t sum_on = checksum_memory(dst);

    /* Clean+invalidate by set/way, DSB, caches and MMU off, I-cache
       invalidated: one assembly routine, with no store in between. */
    ulong r = sw_cisw_all_off(g_geo.ccidx, deadline_in_seconds(10));

    uint32_t want = checksum_expected();
    uint32_t sum_off = checksum_memory(dst);
    ulong bad = 0, first = 0;
    for (ulong i = 0; i < SW_PAYLOAD_BYTES / 4; i++) {
        if (p[i] != payload_word(i)) {
            if (!bad++) {
                first = i;
            }
        }
    }

    int ok = check_clean_off("decompress", r);
    if (sum_on != want) {
        con_fail("decompress: checksum with caches on %8x, want %8x", (ulong)sum_on, (ulong)want);
        ok = 0;
    }
    if (bad) {
        con_fail("decompress pages=%u: %u words differ with caches off (checksum %8x, want %8x), the first at "
                 "%8x: %8x, want %8x",
                 SW_PAYLOAD_PAGES, bad, (ulong)sum_off, (ulong)want, dst + 4 * first, (ulong)p[first],
                 (ulong)payload_word(first));
        ok = 0;
    }
    if (ok) {
        con_line("decompress ok pages=%u sw_ops=%u", SW_PAYLOAD_PAGES, r & SW_OPS_MASK);
    }

    /* Into the payload, caches off: the code must come from memory. */
    if (bad && first < jump_fn_words()) {
        con_fail("jump: the copied code is not intact; not called");
        return;
    }
    uint32_t (*fn)(void) = (uint32_t (*)(void))dst;
    uint32_t v = fn();
    if (v == SW_JUMP_MAGIC) {
        con_line("jump ok");
    } else {
        con_fail("jump: the copied function returned %8x, want %8x", (ulong)v, (ulong)SW_JUMP_MAGIC);
    }
}

/* ---- step 4: DC ISW over L1 ---- */

static void step_dcisw(void)
{
    if (!g_geo.usable) {
        con_fail("dcisw: skipped (no usable geometry)");
        return;
    }
    ulong r = sw_isw_l1(g_geo.ccidx, deadline_in_seconds(10));
    ulong ops = r & SW_OPS_MASK;
    if (r & SW_TIMED_OUT) {
        con_fail("dcisw: stopped at its 10 s deadline after %u operations", ops);
    } else if (ops != g_geo.l1_ops) {
        con_fail("dcisw: issued %u operations, the L1 geometry says %u", ops, g_geo.l1_ops);
    } else {
        con_line("dcisw ok ops=%u", ops);
    }
}

/* The MPIDR affinity of a vCPU other than this one, from the DTB's /cpus. */
static ulong other_vcpu(const struct fdt_cpus *cpus)
{
    ulong self = sw_mpidr_affinity() & 0xffffffffu;
    for (unsigned i = 0; i < cpus->count && i < FDT_MAX_CPUS; i++) {
        if (cpus->has_reg[i] && cpus->reg[i] != self) {
            return cpus->reg[i];
        }
    }
    return 1;
}

/* ---- step 5: a second vCPU makes progress while this one flushes ---- */

static int wait_count_nonzero(void)
{
    uint64_t deadline = deadline_in_seconds(5);
    for (uint32_t i = 0; i < (1u << 28); i++) {
        if (sw_shared.count != 0) {
            return 1;
        }
        if (past(deadline)) {
            break;
        }
    }
    return sw_shared.count != 0;
}

static int wait_stopped(void)
{
    uint64_t deadline = deadline_in_seconds(2);
    for (uint32_t i = 0; i < (1u << 28); i++) {
        if (sw_shared.stopped) {
            return 1;
        }
        if (past(deadline)) {
            break;
        }
    }
    return sw_shared.stopped != 0;
}

static void step_progress(ulong dtb)
{
    struct fdt_cpus cpus;
    int err = dtb ? fdt_find_cpus(dtb, &cpus) : -1;
    if (err < 0) {
        con_fail("progress: cannot walk the dtb (error %u)", (ulong)-err);
        return;
    }
    if (cpus.count < 2) {
        con_line("progress skipped (%u vCPU)", (ulong)cpus.count);
        return;
    }
    if (!g_geo.usable || !g_table) {
        con_fail("progress: skipped (no usable geometry or page tables)");
        return;
    }

    ulong target = other_vcpu(&cpus);

    sw_shared.count = 0;
    sw_shared.stop = 0;
    sw_shared.context = 0;
    sw_shared.stopped = 0;
    sw_dsb();
    int32_t rc = psci(sw_psci_cpu_on, target, sw_counter_entry_addr(), SW_COUNTER_CONTEXT);
    if (rc != PSCI_SUCCESS) {
        con_fail("progress: CPU_ON(%x) returned %8x", target, (ulong)(uint32_t)rc);
        return;
    }
    if (!wait_count_nonzero()) {
        con_fail("progress: vCPU %x never counted", target);
        return;
    }
    if (sw_shared.context != SW_COUNTER_CONTEXT) {
        con_fail("progress: context_id %8x (want %8x)", (ulong)sw_shared.context, (ulong)SW_COUNTER_CONTEXT);
    }

    /*
     * One batch is the decompressor's exit: caches on, clean-all by
     * set/way, caches off (under setwise each of those is flush work: the
     * first S/W operation and the SCTLR write that turns the caches off).
     * The count is read with the caches off, between batches. SW_WINDOWS
     * windows, each of batches back to back: at least `window` ticks
     * (~125 ms) long, and until the counting vCPU has advanced in it, for
     * at most 5 s; a window in which it never advances is a stall.
     *
     * Why not one batch per sample with a fixed length: under QEMU TCG
     * CNTVCT follows the host's clock, and a loaded host can leave the
     * thread of either vCPU unscheduled for hundreds of milliseconds
     * (measured up to ~400 ms with three QEMUs on two host CPUs), so a
     * short fixed window would fail for the host's sake. And no idle wait
     * between batches: it would give the counting vCPU time outside the
     * batches and hide a stall during them. How long windows had to be
     * stretched is printed with the figures.
     */
    const uint64_t window = g_freq >> 3;
    const uint64_t window_max = g_freq * 5;
    uint64_t step_deadline = deadline_in_seconds(120);

    /* For the figures: how far it counts in one window with nothing else going on. */
    uint32_t idle_start = sw_shared.count;
    uint64_t t_idle = sw_counter();
    for (uint32_t i = 0; i < (1u << 28) && sw_counter() - t_idle < window; i++) {
    }
    ulong idle_advance = (ulong)(uint32_t)(sw_shared.count - idle_start);

    ulong min_advance = ~0ul, stalled_in = 0, windows = 0, batches = 0, stretched = 0;
    uint64_t batch_min = ~0ull, batch_max = 0, longest = 0;
    int ok = 1;
    for (unsigned w = 0; ok && w < SW_WINDOWS; w++) {
        if (past(step_deadline)) {
            con_fail("progress: out of time (120 s) after %u windows", windows);
            ok = 0;
            break;
        }
        uint32_t start = sw_shared.count;
        uint64_t t_start = sw_counter();
        uint64_t elapsed = 0;
        for (uint32_t n = 0; n < (1u << 24); n++) {
            if (!caches_on("progress")) {
                ok = 0;
                break;
            }
            uint64_t t0 = sw_counter();
            ulong r = sw_cisw_all_off(g_geo.ccidx, deadline_in_seconds(10));
            uint64_t t = sw_counter() - t0;
            if (!check_clean_off("progress", r)) {
                ok = 0;
                break;
            }
            batches++;
            batch_min = t < batch_min ? t : batch_min;
            batch_max = t > batch_max ? t : batch_max;
            elapsed = sw_counter() - t_start;
            if ((elapsed >= window && sw_shared.count != start) || elapsed >= window_max) {
                break;
            }
        }
        if (!ok) {
            break;
        }
        ulong advance = (ulong)(uint32_t)(sw_shared.count - start);
        windows++;
        if (advance == 0) {
            stalled_in = w + 1; /* one stall is the verdict: no need for 5 s more each */
            break;
        }
        if (elapsed >= 2 * window) {
            stretched++;
        }
        longest = elapsed > longest ? elapsed : longest;
        min_advance = advance < min_advance ? advance : min_advance;
    }

    sw_shared.stop = 1;
    sw_dsb();
    if (stalled_in) {
        con_fail("progress: vCPU %x did not advance in 5 s of batches (window %u of %u, after %u batches)", target,
                 stalled_in, (ulong)SW_WINDOWS, batches);
    } else if (ok) {
        con_line("progress ok batches=%u windows=%u min_advance=%u", batches, windows, min_advance);
        con_line("progress figures: window=%u ticks at %u Hz, longest=%u, stretched=%u, idle advance=%u, "
                 "batch ticks min=%u max=%u",
                 (ulong)window, (ulong)g_freq, (ulong)longest, stretched, idle_advance, (ulong)batch_min,
                 (ulong)batch_max);
    }
    if (!wait_stopped()) {
        con_fail("progress: vCPU %x did not stop (count %u)", target, (ulong)sw_shared.count);
    }
}

/*
 * shutdown-in-batch (bootargs): vCPU 1 powers the domain off about 16 ms
 * after vCPU 0 starts a clean-all by set/way, i.e. while setwise's batch for
 * it runs (a domain with sw-tracking=off and 1 GiB: a batch of ~60 ms under
 * TCG). setwise must finish the batch, then end the domain; vCPU 0 never
 * comes back from its clean-all.
 */
static void step_shutdown_in_batch(ulong dtb)
{
    struct fdt_cpus cpus;
    if (!dtb || fdt_find_cpus(dtb, &cpus) < 0 || cpus.count < 2 || !g_geo.usable) {
        con_fail("shutdown-in-batch: needs 2 vCPUs and a usable geometry");
        return;
    }
    ulong target = other_vcpu(&cpus);
    sw_shared.stop = 0;
    sw_dsb();
    int32_t rc = psci(sw_psci_cpu_on, target, sw_stopper_entry_addr(), 0);
    if (rc != PSCI_SUCCESS) {
        con_fail("shutdown-in-batch: CPU_ON(%x) returned %8x", target, (ulong)(uint32_t)rc);
        return;
    }
    con_line("shutdown-in-batch: armed");
    sw_shared.stop_at = sw_counter() + (g_freq >> 6); /* ~16 ms: no division on ARMv7 */
    sw_dsb();
    sw_shared.stop = 1;
    sw_dsb();
    (void)sw_cisw_all(g_geo.ccidx, deadline_in_seconds(10));
    con_line("shutdown-in-batch: batch returned");
}

/*
 * touch-sweep (bootargs): what a batch costs against the number of pages
 * the guest touched since the last one. For N = 1, 2, 4, ... SW_SWEEP_MAX
 * (and at most the RAM's pages): caches on (a batch, which also cleans what
 * the previous step's markers touched), then one word of each of N distinct
 * pages spread evenly over all of the RAM (page i * (ram pages / N)) is
 * read and written back -- the same value, so the pages that hold this
 * image, its stack, the DTB or the page tables can be among them -- then a
 * clean-all by set/way and caches off: the decompressor's exit. setwise's
 * DC CISW batch therefore cleans the N pages and the handful the sweep
 * itself uses (stack, tables, code). The marker after each step:
 *
 *   GUEST sw-<isa>: touch-sweep warm-up done       (one clean-all first: tracking starts)
 *   GUEST sw-<isa>: touch-sweep n=<N> stride=<pages> ticks=<CNTVCT ticks of the clean-all and caches off>
 */
#define SW_SWEEP_MAX 65536ul

static void step_touch_sweep(ulong dtb)
{
    uint64_t base = 0, size = 0;
    if (!dtb || fdt_memory(dtb, &base, &size) != 1 || size < SW_PAGE || base + size > (4ull << 30)) {
        con_fail("touch-sweep: no usable /memory in the dtb");
        return;
    }
    if (!g_geo.usable) {
        con_fail("touch-sweep: skipped (no usable geometry)");
        return;
    }
    g_table = sw_build_tables(g_table_buf, sizeof g_table_buf);
    if (!g_table) {
        con_fail("touch-sweep: no room for the page tables");
        return;
    }
    ulong ram_pages = (ulong)(size / SW_PAGE);
    con_line("touch-sweep start ram=%x+%x pages=%u max=%u", (ulong)base, (ulong)size, ram_pages, SW_SWEEP_MAX);
    /*
     * A first clean-all before the sweep: setwise starts tracking an
     * AArch64 domain at its first set/way batch (a full clean), so step 1
     * is measured tracked like the others.
     */
    if (!caches_on("touch-sweep")) {
        return;
    }
    if (!check_clean_off("touch-sweep", sw_cisw_all_off(g_geo.ccidx, deadline_in_seconds(10)))) {
        return;
    }
    con_line("touch-sweep warm-up done");
    ulong steps = 0;
    for (ulong shift = 0, n = 1; n <= SW_SWEEP_MAX && n <= ram_pages; shift++, n <<= 1) {
        if (!caches_on("touch-sweep")) {
            return;
        }
        ulong stride = ram_pages >> shift; /* n is 1 << shift; no division on ARMv7 */
        for (ulong i = 0; i < n; i++) {
            volatile uint32_t *p = (volatile uint32_t *)(ulong)(base + (uint64_t)i * stride * SW_PAGE);
            uint32_t v = *p;
            *p = v;
        }
        uint64_t t0 = sw_counter();
        ulong r = sw_cisw_all_off(g_geo.ccidx, deadline_in_seconds(10));
        uint64_t t = sw_counter() - t0;
        if (!check_clean_off("touch-sweep", r)) {
            return;
        }
        con_line("touch-sweep n=%u stride=%u ticks=%u", n, stride, (ulong)t);
        steps++;
    }
    con_line("touch-sweep ok steps=%u", steps);
}

void sw_main(void)
{
    ulong dtb = sw_entry_report();
    uint32_t magic = fdt_magic(dtb);
    if (magic != FDT_MAGIC) {
        con_fail("dtb %8x magic %8x", dtb, (ulong)magic);
        dtb = 0;
    }
    g_freq = sw_counter_freq();
    if (!g_freq) {
        con_fail("CNTFRQ reads 0; deadlines assume 62.5 MHz");
        g_freq = 62500000;
    }
    step_geometry();
    const volatile uint8_t *args = 0;
    uint32_t args_len = 0;
    if (dtb && fdt_chosen_bootargs(dtb, &args, &args_len) == 1 &&
        bootargs_has_word(args, args_len, "shutdown-in-batch")) {
        step_shutdown_in_batch(dtb);
        con_line("done");
        sw_halt();
    }
    if (dtb && fdt_chosen_bootargs(dtb, &args, &args_len) == 1 &&
        bootargs_has_word(args, args_len, "touch-sweep")) {
        step_touch_sweep(dtb);
        con_line("done");
        sw_halt();
    }
    step_decompress(dtb);
    step_dcisw();
    step_progress(dtb);
    con_line("done");
    sw_halt();
}
