/*
 * The interrupt test guests, both ISAs (modes, markers and what each proves:
 * tests/guests/README.md, "The interrupt guests"). One mode per boot, from
 * the /chosen/bootargs words:
 *
 *   timer  the virtual timer (PPI 11, INTID 27) every 10 ms, 100 ticks,
 *          vCPU 0 waiting in WFI; no tick before its CVAL
 *   ptimer the same with the EL1 physical timer (PPI 14, INTID 30) and
 *          CNTPCT, re-armed alternately through CVAL and TVAL; ISTATUS
 *          and the TVAL view checked too
 *   ipi    SGI 1 from vCPU 0 to vCPU 1 answered by SGI 2, 1000 round
 *          trips; with more vCPUs, 100 to each of them too
 *   uart   the PL011 receive interrupt (SPI 1, INTID 33) routed to vCPU 0:
 *          a typed line echoed from the IRQ handler, until "ping"
 *   spin   every vCPU busy (no WFI) with its own 10 ms timer: each must get
 *          50 ticks and count, even with more vCPUs than physical CPUs
 *   heartbeat  a victim beside a hostile guest: a 4 MiB pattern written
 *          after the image, then the 10 ms timer for 10 s with a line a
 *          second; the latest tick's lateness, then the pattern checked
 *   hostile    hostile.c: everything a guest may do to hurt the hypervisor
 *          or another guest, each provoked fault checked, then a crash
 *
 * The GIC is the one QEMU virt (and setwise) puts at the guest's IPAs:
 * GICv2 (distributor, CPU interface in MMIO) or GICv3 (distributor,
 * redistributors, the ICC system registers), told apart by GICD_PIDR2.
 * Every interrupt at priority 0x80; GICv2 Group 0 signalled as IRQ,
 * GICv3 Group 1. MMU off: every access is Device.
 *
 * A failed check prints "GUEST irq-<isa>: FAIL <what>"; every mode ends
 * with the statistics, "done" and SYSTEM_OFF. Waits are bounded by CNTVCT
 * and by an iteration count; WFI waits in ipi, uart and ptimer mode are
 * also bounded by a watchdog (vCPU 0's virtual timer, 60 s; 30 s in
 * ptimer). Only vCPU 0 prints: the other vCPUs leave what they saw in
 * g_vcpu for it to check.
 */
#include "irq.h"

/* The GIC's addresses and registers: irq.h. */

/* CNTx_CTL */
#define CNT_CTL_ENABLE      (1ul << 0)
#define CNT_CTL_IMASK       (1ul << 1)
#define CNT_CTL_ISTATUS     (1ul << 2)

/* ---- the PL011 (DDI 0183) ---- */
#define UART_IMSC           0x038
#define UART_MIS            0x040
#define UART_ICR            0x044
#define UART_INT_RX         (1u << 4)
#define UART_INT_RT         (1u << 6)
#define UART_ICR_ALL        0x7ffu

/* ---- the modes ---- */
#define MODE_NONE           0u
#define MODE_TIMER          1u
#define MODE_IPI            2u
#define MODE_UART           3u
#define MODE_SPIN           4u
#define MODE_PTIMER         5u
#define MODE_HEARTBEAT      6u
#define MODE_HOSTILE        7u

#define TIMER_TICKS         100u        /* timer and ptimer modes */
#define TIMER_HZ            100u        /* 10 ms */
#define IPI_TRIPS           1000u       /* with vCPU 1 */
#define IPI_TRIPS_EACH      100u        /* with every vCPU, 3 vCPUs or more */
#define SPIN_TICKS          50u
#define SPIN_SECONDS        30u
#define WATCHDOG_SECONDS    60u
#define EARLY_LIMIT         1000u       /* early timer interrupts before the timer is stopped */
#define HEARTBEAT_SECONDS   10u
#define HEARTBEAT_MAGIC     0x5e7be470u
#define HEARTBEAT_BYTES     (4ul << 20)

#define TM_OFF              0u
#define TM_PERIODIC         1u
#define TM_WATCHDOG         2u

/*
 * What each vCPU keeps. Written by that vCPU (its IRQ handler included)
 * and read by vCPU 0; with the MMU off every access is Device, so no
 * cache maintenance is needed, and a DSB orders a write before an SGI.
 */
struct irq_vcpu {
    /* from irq_secondary_main, `online` last */
    volatile ulong context, state, sctlr, mpidr;
    volatile int32_t gic_err;           /* gic_cpu_init: 0, or what failed */
    volatile uint32_t online;
    volatile uint32_t started;          /* CPU_ON succeeded (written by vCPU 0) */
    /* the GIC */
    volatile uint32_t if_mask;          /* GICv2 CPU interface (ITARGETSR bit) */
    volatile ulong rd;                  /* GICv3 RD_base */
    /* the IRQ handler */
    volatile uint32_t taken, spurious, unexpected, first_unexpected, stray_timer;
    /* the virtual timer */
    volatile uint32_t timer_mode, limit, ticks, early;
    volatile uint64_t period, cval, t_start, t_done, late_max, early_now, early_cval;
    /* ipi */
    volatile uint32_t pings, bad_source;
    /* spin */
    volatile uint32_t count;            /* saturating */
};

static struct irq_vcpu g_vcpu[IRQ_MAX_CPUS];
static ulong g_target[IRQ_MAX_CPUS];    /* MPIDR affinity of each logical vCPU (the DTB's reg) */
static unsigned g_ncpus = 1;
static unsigned g_mode;
static unsigned g_gic;                  /* 2 or 3 */
static uint64_t g_freq;
static uint64_t g_period;               /* 10 ms in counter ticks */
static volatile uint32_t g_watchdog;    /* vCPU 0's watchdog fired */
static volatile uint32_t g_stop;        /* the other vCPUs may stop */

/* ipi: vCPU 0's side */
static volatile uint32_t g_answers, g_expect_from, g_answer_from, g_bad_from, g_bad_answer_source;

/* uart: vCPU 0's handler */
#define UART_CHUNK 4u
static volatile uint32_t g_uart_irqs, g_uart_idle_irqs, g_uart_ping, g_uart_window, g_uart_len, g_uart_bytes;
static volatile char g_uart_buf[UART_CHUNK + 1];

/*
 * ptimer: vCPU 0's EL1 physical timer, all in CNTPCT ticks. Each count of
 * a failed check keeps what its first occurrence saw, for the FAIL line.
 */
struct irq_ptimer {
    volatile uint32_t on, ticks;
    volatile uint64_t period, cval, t_start, t_done, late_max;
    /* an interrupt with CNTPCT < the deadline */
    volatile uint32_t early;
    volatile uint64_t early_now, early_cval;
    /* the handler read ISTATUS 0 */
    volatile uint32_t istatus_clear;
    volatile ulong clear_ctl;
    volatile uint64_t clear_now, clear_cval;
    /* ISTATUS 1 read before a deadline just programmed */
    volatile uint32_t istatus_set, set_tick;
    volatile uint64_t set_now, set_cval;
    /* CVAL did not read back what was written */
    volatile uint32_t cval_bad, cval_bad_tick;
    volatile uint64_t cval_want, cval_got;
    /* CVAL after a TVAL write outside [CNTPCT before + TVAL, CNTPCT after + TVAL] */
    volatile uint32_t tval_bad, tval_bad_tick;
    volatile uint64_t tval_lo, tval_hi, tval_got;
};
static struct irq_ptimer g_pt;

/* ---- helpers ---- */

/* n / d by shift and subtract: ARMv7-A has no UDIV and libgcc is not linked. */
static uint64_t udiv64(uint64_t n, uint64_t d)
{
    if (!d) {
        return 0;
    }
    uint64_t q = 0, r = 0;
    for (int i = 63; i >= 0; i--) {
        r = r << 1 | ((n >> i) & 1);
        if (r >= d) {
            r -= d;
            q |= (uint64_t)1 << i;
        }
    }
    return q;
}

static ulong ticks_to_ms(uint64_t t)
{
    return (ulong)udiv64(t * 1000, g_freq);
}

static ulong ticks_to_us(uint64_t t)
{
    return (ulong)udiv64(t * 1000000, g_freq);
}

static int past(uint64_t deadline)
{
    return irq_counter() >= deadline;
}

static uint64_t seconds(unsigned s)
{
    return g_freq * s;
}

void irq_halt(void)
{
    static volatile uint32_t halting; /* once: an exception in the HVC comes back here */
    irq_disable();
    if (!halting) {
        halting = 1;
        irq_psci(PSCI_SYSTEM_OFF, 0, 0, 0);
        con_fail("system-off returned");
    }
    for (;;) {
        irq_wfi();
    }
}

/* ---- GIC driver ---- */

/*
 * The version from the distributor's peripheral ID 2 (ArchRev, [7:4]).
 * A GICv2 distributor is 4 KiB with GICD_ICPIDR2 at 0xfe8 (QEMU aborts an
 * access beyond it); a GICv3 one has GICD_PIDR2 at 0xffe8, and 0xfe8 reads
 * 0 there (reserved, or a GICD_INMIR word with no NMI set). So 0xfe8
 * first, then 0xffe8.
 */
static unsigned gic_detect(void)
{
    uint32_t pidr2 = mmio_read32(GICD_BASE + GICD_ICPIDR2);
    unsigned rev = (pidr2 >> 4) & 0xf;
    if (rev == 2) {
        con_line("gic v2");
        return 2;
    }
    uint32_t pidr2_v3 = mmio_read32(GICD_BASE + GICD_PIDR2);
    rev = (pidr2_v3 >> 4) & 0xf;
    if (rev == 3 || rev == 4) {
        con_line("gic v%u", (ulong)rev);
        return 3;
    }
    con_fail("gic: GICD_ICPIDR2 %8x, GICD_PIDR2 %8x: ArchRev neither 2 nor 3/4", (ulong)pidr2, (ulong)pidr2_v3);
    return 0;
}

static int gicd_wait_rwp(void)
{
    for (uint32_t i = 0; i < 1000000; i++) {
        if (!(mmio_read32(GICD_BASE + GICD_CTLR) & GICD_CTLR_RWP)) {
            return 1;
        }
    }
    return 0;
}

/* The distributor, by vCPU 0 before any other vCPU starts. */
static int gic_dist_init(void)
{
    if (g_gic == 2) {
        mmio_write32(GICD_BASE + GICD_CTLR, 0);
        mmio_write32(GICD_BASE + GICD_CTLR, GICD_CTLR_GRP0);
        uint32_t ctlr = mmio_read32(GICD_BASE + GICD_CTLR);
        if (!(ctlr & GICD_CTLR_GRP0)) {
            con_fail("gic: GICD_CTLR reads %8x after writing 1", (ulong)ctlr);
            return 0;
        }
        return 1;
    }
    mmio_write32(GICD_BASE + GICD_CTLR, 0);
    int ok = gicd_wait_rwp();
    mmio_write32(GICD_BASE + GICD_IGROUPR + 4, ~0u); /* INTIDs 32..63: Group 1 */
    mmio_write32(GICD_BASE + GICD_CTLR, GICD_CTLR_ARE);
    ok &= gicd_wait_rwp();
    mmio_write32(GICD_BASE + GICD_CTLR, GICD_CTLR_ARE | GICD_CTLR_GRP1);
    ok &= gicd_wait_rwp();
    uint32_t ctlr = mmio_read32(GICD_BASE + GICD_CTLR);
    if (!ok) {
        con_fail("gic: GICD_CTLR.RWP stayed set (GICD_CTLR %8x)", (ulong)ctlr);
        return 0;
    }
    if ((ctlr & (GICD_CTLR_ARE | GICD_CTLR_GRP1)) != (GICD_CTLR_ARE | GICD_CTLR_GRP1)) {
        con_fail("gic: GICD_CTLR reads %8x after writing ARE | EnableGrp1", (ulong)ctlr);
        return 0;
    }
    return 1;
}

/*
 * This vCPU's interface: GICv2 the banked distributor registers and the
 * CPU interface; GICv3 its redistributor (found by affinity), woken, and
 * the ICC registers. 0 on success, else a code saying what failed (vCPU 0
 * prints it; the other vCPUs must not print).
 */
#define GIC_ERR_NO_TARGET   (-1)   /* GICv2: ITARGETSR0..7 read 0 on an MP GIC */
#define GIC_ERR_NO_RD       (-2)   /* GICv3: no redistributor with this affinity */
#define GIC_ERR_ASLEEP      (-3)   /* GICv3: GICR_WAKER.ChildrenAsleep stayed set */
#define GIC_ERR_SRE         (-4)   /* GICv3: ICC_SRE.SRE reads 0 */

/* What each vCPU enables in its banked / redistributor registers: the
   physical timer's PPI only in ptimer mode (nothing else expects it). */
static uint32_t private_enables(void)
{
    return PRIVATE_ENABLES | (g_mode == MODE_PTIMER ? 1u << INTID_PTIMER : 0);
}

static int32_t gic_cpu_init(struct irq_vcpu *c)
{
    if (g_gic == 2) {
        /* Our interface number, as Linux finds it: the SGI/PPI target fields. */
        uint32_t mask = 0;
        for (ulong i = 0; i < 32 && !mask; i += 4) {
            uint32_t v = mmio_read32(GICD_BASE + GICD_ITARGETSR + i);
            v |= v >> 16;
            v |= v >> 8;
            mask = v & 0xff;
        }
        if (!mask) {
            if (g_ncpus > 1) {
                return GIC_ERR_NO_TARGET;
            }
            mask = 1; /* a uniprocessor GIC: the target registers are RAZ/WI */
        }
        c->if_mask = mask;
        mmio_write32(GICD_BASE + GICD_IPRIORITYR + 0, PRIO4);   /* SGIs 0..3 */
        mmio_write32(GICD_BASE + GICD_IPRIORITYR + 24, PRIO4);  /* INTIDs 24..27 */
        if (g_mode == MODE_PTIMER) {
            mmio_write32(GICD_BASE + GICD_IPRIORITYR + 28, PRIO4); /* INTIDs 28..31 */
        }
        mmio_write32(GICD_BASE + GICD_ISENABLER, private_enables());
        mmio_write32(GICC_BASE + GICC_PMR, 0xf0);
        mmio_write32(GICC_BASE + GICC_CTLR, 1);
        return 0;
    }

    ulong self = irq_mpidr_affinity();
    /* GICR_TYPER[63:32]: Aff3, Aff2, Aff1, Aff0. */
    uint32_t aff = (uint32_t)((((uint64_t)self >> 32) & 0xff) << 24 | (self & 0xffffff));
    ulong rd = 0;
    for (unsigned i = 0; i < GICR_MAX_FRAMES; i++) {
        ulong frame = GICR_BASE + (ulong)i * GICR_STRIDE;
        uint64_t typer = mmio_read64(frame + GICR_TYPER);
        if ((uint32_t)(typer >> 32) == aff) {
            rd = frame;
            break;
        }
        if (typer & GICR_TYPER_LAST) {
            break;
        }
    }
    if (!rd) {
        return GIC_ERR_NO_RD;
    }
    c->rd = rd;
    uint32_t waker = mmio_read32(rd + GICR_WAKER);
    mmio_write32(rd + GICR_WAKER, waker & ~GICR_WAKER_PS);
    int awake = 0;
    for (uint32_t i = 0; i < 1000000 && !awake; i++) {
        awake = !(mmio_read32(rd + GICR_WAKER) & GICR_WAKER_CA);
    }
    if (!awake) {
        return GIC_ERR_ASLEEP;
    }
    ulong sgi = rd + GICR_SGI;
    mmio_write32(sgi + GICR_IGROUPR0, ~0u);
    mmio_write32(sgi + GICR_IPRIORITYR + 0, PRIO4);
    mmio_write32(sgi + GICR_IPRIORITYR + 24, PRIO4);
    uint32_t cfg = mmio_read32(sgi + GICR_ICFGR1);
    cfg &= ~(2u << 2 * (INTID_VTIMER - 16)); /* level */
    if (g_mode == MODE_PTIMER) {
        mmio_write32(sgi + GICR_IPRIORITYR + 28, PRIO4);
        cfg &= ~(2u << 2 * (INTID_PTIMER - 16)); /* level */
    }
    mmio_write32(sgi + GICR_ICFGR1, cfg);
    mmio_write32(sgi + GICR_ISENABLER0, private_enables());
    irq_icc_init();
    if (!(irq_icc_sre() & 1)) {
        return GIC_ERR_SRE;
    }
    return 0;
}

static const char *gic_err_name(int32_t err)
{
    switch (err) {
    case GIC_ERR_NO_TARGET: return "GICD_ITARGETSR0..7 read 0 (no CPU interface number)";
    case GIC_ERR_NO_RD: return "no redistributor has this vCPU's affinity";
    case GIC_ERR_ASLEEP: return "GICR_WAKER.ChildrenAsleep stayed set";
    case GIC_ERR_SRE: return "ICC_SRE.SRE reads 0";
    default: return "?";
    }
}

static uint32_t gic_ack(void)
{
    return g_gic == 2 ? mmio_read32(GICC_BASE + GICC_IAR) : irq_icc_iar1();
}

static uint32_t gic_intid(uint32_t iar)
{
    return g_gic == 2 ? iar & 0x3ff : iar & 0xffffff;
}

/* GICv2: the CPU interface number of an SGI's sender (GICC_IAR[12:10]). */
static uint32_t gic_sgi_source_mask(uint32_t iar)
{
    return 1u << ((iar >> 10) & 7);
}

static void gic_eoi(uint32_t iar)
{
    if (g_gic == 2) {
        mmio_write32(GICC_BASE + GICC_EOIR, iar);
    } else {
        irq_icc_eoir1(iar);
    }
}

/* SGI `sgi` to logical vCPU k (GICD_SGIR target list / ICC_SGI1R affinity). */
static void gic_send_sgi(uint32_t sgi, unsigned k)
{
    irq_dsb(); /* what the receiver will read is written first */
    if (g_gic == 2) {
        mmio_write32(GICD_BASE + GICD_SGIR, (g_vcpu[k].if_mask & 0xff) << 16 | sgi);
        return;
    }
    uint64_t t = g_target[k];
    uint64_t aff0 = t & 0xff, aff1 = (t >> 8) & 0xff, aff2 = (t >> 16) & 0xff;
    irq_icc_sgi1r((uint64_t)1 << (aff0 & 0xf) | aff1 << 16 | (uint64_t)sgi << 24 | aff2 << 32 | (aff0 >> 4) << 44);
}

/* SPI `intid`, level-sensitive, priority PRIO, to logical vCPU 0. */
static void gic_spi_on(uint32_t intid)
{
    ulong word = (intid / 4) * 4, shift = (intid % 4) * 8;
    uint32_t prio = mmio_read32(GICD_BASE + GICD_IPRIORITYR + word);
    mmio_write32(GICD_BASE + GICD_IPRIORITYR + word, (prio & ~(0xffu << shift)) | PRIO << shift);
    if (g_gic == 2) {
        uint32_t targets = mmio_read32(GICD_BASE + GICD_ITARGETSR + word);
        mmio_write32(GICD_BASE + GICD_ITARGETSR + word,
                     (targets & ~(0xffu << shift)) | (g_vcpu[0].if_mask & 0xff) << shift);
    } else {
        mmio_write32(GICD_BASE + GICD_IGROUPR + (intid / 32) * 4, ~0u);
        mmio_write64(GICD_BASE + GICD_IROUTER + 8 * (ulong)intid, irq_mpidr_affinity()); /* IRM 0 */
    }
    ulong cfg_word = (intid / 16) * 4, cfg_bit = (intid % 16) * 2 + 1;
    uint32_t cfg = mmio_read32(GICD_BASE + GICD_ICFGR + cfg_word);
    mmio_write32(GICD_BASE + GICD_ICFGR + cfg_word, cfg & ~(1u << cfg_bit));
    mmio_write32(GICD_BASE + GICD_ISENABLER + (intid / 32) * 4, 1u << (intid % 32));
}

/* Disables `intid` (this vCPU's, for an SGI or PPI). */
static void gic_disable(struct irq_vcpu *c, uint32_t intid)
{
    if (intid < 32 && g_gic == 3) {
        if (c->rd) {
            mmio_write32(c->rd + GICR_SGI + GICR_ICENABLER0, 1u << intid);
        }
    } else if (intid < 1020) {
        mmio_write32(GICD_BASE + GICD_ICENABLER + (intid / 32) * 4, 1u << (intid % 32));
    }
}

/* ---- the virtual timer ---- */

static void timer_start(struct irq_vcpu *c, uint32_t mode, uint64_t period, uint32_t limit)
{
    c->timer_mode = TM_OFF;
    c->period = period;
    c->limit = limit;
    c->ticks = 0;
    c->t_done = 0;
    c->t_start = irq_counter();
    c->cval = c->t_start + period;
    c->timer_mode = mode;
    irq_vtimer_arm(c->cval);
}

static void timer_stop(struct irq_vcpu *c)
{
    c->timer_mode = TM_OFF;
    irq_vtimer_off();
}

/*
 * INTID 27. Before CVAL it is a violation (counted, the timer left as it
 * is, and stopped after EARLY_LIMIT of them so that a line stuck high
 * cannot hold the vCPU). Otherwise a periodic timer counts a tick and moves
 * CVAL on by one period, stopping at its limit; the watchdog sets
 * g_watchdog and stops. With the timer off the interrupt is stray: turned
 * off again and counted.
 */
static void on_timer(struct irq_vcpu *c)
{
    uint64_t now = irq_counter();
    if (c->timer_mode == TM_OFF) {
        irq_vtimer_off();
        c->stray_timer++;
        return;
    }
    uint64_t cval = c->cval;
    if (now < cval) {
        if (!c->early++) {
            c->early_now = now;
            c->early_cval = cval;
        }
        if (c->early >= EARLY_LIMIT) {
            timer_stop(c);
        }
        return;
    }
    if (now - cval > c->late_max) {
        c->late_max = now - cval;
    }
    if (c->timer_mode == TM_WATCHDOG) {
        timer_stop(c);
        g_watchdog = 1;
        return;
    }
    c->ticks++;
    if (c->limit && c->ticks >= c->limit) {
        c->t_done = now;
        timer_stop(c);
        return;
    }
    c->cval = cval + c->period;
    irq_vtimer_set_cval(c->cval);
}

/* ---- the physical timer (ptimer) ---- */

static void ptimer_stop(void)
{
    g_pt.on = 0;
    irq_ptimer_set_ctl(0);
}

/*
 * After programming the deadline g_pt.cval (tick `tick`'s): ISTATUS must
 * read 0 while CNTPCT is still below it. CTL is read before CNTPCT, so a
 * deadline already past (a late tick) is not held against the timer.
 */
static void ptimer_check_istatus(uint32_t tick)
{
    ulong ctl = irq_ptimer_ctl();
    uint64_t now = irq_pcounter();
    if ((ctl & CNT_CTL_ISTATUS) && now < g_pt.cval && !g_pt.istatus_set++) {
        g_pt.set_tick = tick;
        g_pt.set_now = now;
        g_pt.set_cval = g_pt.cval;
    }
}

/*
 * INTID 30 on vCPU 0 (ptimer). ISTATUS must read 1 (counted if not).
 * Before the deadline (CNTPCT < CVAL) it is an early tick, handled as the
 * virtual timer's. Otherwise tick n is counted, and unless it is the last
 * the deadline of tick n + 1 is programmed: for an even n + 1 by CVAL +=
 * period (read back: the same value), for an odd one by TVAL = (that
 * deadline - CNTPCT) as a signed 32-bit value (CVAL read back: within
 * [CNTPCT before + TVAL, CNTPCT after + TVAL], and that is the deadline).
 * Tick 1's is the TVAL write of mode_ptimer. A timer interrupt with the
 * mode's timer off is stray: turned off again and counted.
 */
static void on_ptimer(struct irq_vcpu *c)
{
    ulong ctl = irq_ptimer_ctl();
    uint64_t now = irq_pcounter();
    if (!g_pt.on) {
        irq_ptimer_set_ctl(0);
        c->stray_timer++;
        return;
    }
    uint64_t cval = g_pt.cval;
    if (!(ctl & CNT_CTL_ISTATUS) && !g_pt.istatus_clear++) {
        g_pt.clear_ctl = ctl;
        g_pt.clear_now = now;
        g_pt.clear_cval = cval;
    }
    if (now < cval) {
        if (!g_pt.early++) {
            g_pt.early_now = now;
            g_pt.early_cval = cval;
        }
        if (g_pt.early >= EARLY_LIMIT) {
            ptimer_stop();
        }
        return;
    }
    if (now - cval > g_pt.late_max) {
        g_pt.late_max = now - cval;
    }
    uint32_t n = ++g_pt.ticks;
    if (n >= TIMER_TICKS) {
        g_pt.t_done = now;
        ptimer_stop();
        return;
    }
    uint64_t next = cval + g_pt.period;
    if ((n + 1) % 2 == 0) {
        irq_ptimer_set_cval(next);
        uint64_t got = irq_ptimer_cval();
        if (got != next && !g_pt.cval_bad++) {
            g_pt.cval_bad_tick = n + 1;
            g_pt.cval_want = next;
            g_pt.cval_got = got;
        }
        g_pt.cval = next;
    } else {
        uint64_t before = irq_pcounter();
        int32_t tval = (int32_t)(uint32_t)(next - before);
        irq_ptimer_set_tval(tval);
        uint64_t got = irq_ptimer_cval();
        uint64_t after = irq_pcounter();
        uint64_t lo = before + (uint64_t)(int64_t)tval, hi = after + (uint64_t)(int64_t)tval;
        if ((got < lo || got > hi) && !g_pt.tval_bad++) {
            g_pt.tval_bad_tick = n + 1;
            g_pt.tval_lo = lo;
            g_pt.tval_hi = hi;
            g_pt.tval_got = got;
        }
        g_pt.cval = got;
    }
    ptimer_check_istatus(n + 1);
}

/* ---- the IRQ handler ---- */

static void unexpected(struct irq_vcpu *c, uint32_t intid)
{
    if (!c->unexpected++) {
        c->first_unexpected = intid;
    }
    gic_disable(c, intid);
}

/* SGI 1 on vCPU k >= 1 (ipi): answer vCPU 0 with SGI 2. */
static void on_ping(struct irq_vcpu *c, unsigned cpu, uint32_t iar)
{
    if (g_gic == 2 && gic_sgi_source_mask(iar) != g_vcpu[0].if_mask) {
        c->bad_source++;
    }
    c->pings++;
    g_answer_from = cpu;
    gic_send_sgi(SGI_PONG, 0);
}

/* SGI 2 on vCPU 0 (ipi): the answer; check who sent it. */
static void on_pong(uint32_t iar)
{
    unsigned want = g_expect_from;
    if (g_answer_from != want) {
        g_bad_from++;
    }
    if (g_gic == 2 && want < IRQ_MAX_CPUS && gic_sgi_source_mask(iar) != g_vcpu[want].if_mask) {
        g_bad_answer_source++;
    }
    g_answers++;
}

static void uart_flush(void)
{
    uint32_t n = g_uart_len;
    if (!n) {
        return;
    }
    char line[UART_CHUNK + 1];
    for (uint32_t i = 0; i < n && i < UART_CHUNK; i++) {
        line[i] = g_uart_buf[i];
    }
    line[n < UART_CHUNK ? n : UART_CHUNK] = 0;
    g_uart_len = 0;
    con_line("uart irq: got '%s'", line);
}

/* INTID 33 on vCPU 0 (uart): drain the receive FIFO, then clear RX/RT. */
static void on_uart(void)
{
    uint32_t mis = mmio_read32(GUEST_UART_BASE + UART_MIS);
    g_uart_irqs++;
    if (!(mis & (UART_INT_RX | UART_INT_RT))) {
        g_uart_idle_irqs++;
    }
    for (unsigned i = 0; i < 64; i++) {
        int ch = con_getc();
        if (ch < 0) {
            break;
        }
        g_uart_bytes++;
        g_uart_window = g_uart_window << 8 | (uint32_t)ch;
        if (g_uart_window == ((uint32_t)'p' << 24 | (uint32_t)'i' << 16 | (uint32_t)'n' << 8 | 'g')) {
            g_uart_ping = 1;
        }
        if (ch == '\r' || ch == '\n') {
            uart_flush();
            continue;
        }
        g_uart_buf[g_uart_len] = (char)(ch < 0x20 || ch >= 0x7f ? '.' : ch);
        g_uart_len++;
        if (g_uart_len >= UART_CHUNK) {
            uart_flush();
        }
    }
    mmio_write32(GUEST_UART_BASE + UART_ICR, UART_INT_RX | UART_INT_RT);
}

/*
 * Acknowledge, handle, end, for what is pending now (at most 4 at a time;
 * anything left is taken again on return). A spurious INTID (1020..1023)
 * on the first read is counted; an INTID this mode does not expect is
 * counted and disabled.
 */
void irq_handle(void)
{
    unsigned cpu = (unsigned)irq_cpu();
    struct irq_vcpu *c = &g_vcpu[cpu];
    for (unsigned n = 0; n < 4; n++) {
        uint32_t iar = gic_ack();
        uint32_t intid = gic_intid(iar);
        if (intid >= INTID_SPURIOUS_MIN && intid < 1024) {
            if (!n) {
                c->spurious++;
            }
            return;
        }
        c->taken++;
        if (intid == INTID_VTIMER) {
            on_timer(c);
        } else if (intid == INTID_PTIMER && cpu == 0 && g_mode == MODE_PTIMER) {
            on_ptimer(c);
        } else if (intid == SGI_PING && cpu != 0 && g_mode == MODE_IPI) {
            on_ping(c, cpu, iar);
        } else if (intid == SGI_PONG && cpu == 0 && g_mode == MODE_IPI) {
            on_pong(iar);
        } else if (intid == INTID_UART && cpu == 0 && g_mode == MODE_UART) {
            on_uart();
        } else {
            unexpected(c, intid);
        }
        gic_eoi(iar);
    }
}

/*
 * vCPU 0 waits in WFI until *v >= want, the deadline passes or the
 * watchdog fires. The flag is checked with IRQs masked and WFI runs
 * masked (a pending interrupt still ends it), then IRQs are unmasked and
 * the interrupt taken: a wake-up cannot be lost between check and WFI.
 */
static int wait_irq(volatile uint32_t *v, uint32_t want, uint64_t deadline)
{
    for (uint32_t i = 0; i < (1u << 26); i++) {
        irq_disable();
        if (*v >= want) {
            irq_enable();
            return 1;
        }
        if (g_watchdog || past(deadline)) {
            irq_enable();
            return 0;
        }
        irq_wfi();
        irq_enable();
    }
    return *v >= want;
}

/* ---- vCPUs ---- */

extern char _image_end[]; /* guest.ld */

static void start_secondaries(void)
{
    for (unsigned k = 1; k < g_ncpus; k++) {
        int32_t rc = (int32_t)irq_psci(irq_psci_cpu_on, g_target[k], irq_secondary_entry_addr(), IRQ_CONTEXT_BASE | k);
        if (rc != PSCI_SUCCESS) {
            con_fail("vcpu %u: CPU_ON(%x) returned %8x", (ulong)k, g_target[k], (ulong)(uint32_t)rc);
        } else {
            g_vcpu[k].started = 1;
        }
    }
}

static int wait_online(unsigned k, unsigned secs)
{
    uint64_t deadline = irq_counter() + seconds(secs);
    for (uint32_t i = 0; i < (1u << 28); i++) {
        if (g_vcpu[k].online) {
            return 1;
        }
        if (past(deadline)) {
            break;
        }
    }
    return g_vcpu[k].online != 0;
}

/* What a vCPU recorded coming online: 1 if all is as it should be. */
static int check_secondary(unsigned k)
{
    struct irq_vcpu *c = &g_vcpu[k];
    int ok = 1;
    if (c->context != (IRQ_CONTEXT_BASE | k)) {
        con_fail("vcpu %u: context_id %8x (want %8x)", (ulong)k, c->context, (ulong)(IRQ_CONTEXT_BASE | k));
        ok = 0;
    }
    if (!irq_secondary_state_ok(c->state, c->sctlr)) {
        con_fail("vcpu %u: entry state %x sctlr %8x", (ulong)k, c->state, c->sctlr);
        ok = 0;
    }
    if ((c->mpidr & 0xffffffffu) != g_target[k]) {
        con_fail("vcpu %u: mpidr %x (CPU_ON target %x)", (ulong)k, c->mpidr, g_target[k]);
        ok = 0;
    }
    if (c->gic_err) {
        con_fail("vcpu %u: gic setup: %s", (ulong)k, gic_err_name(c->gic_err));
        ok = 0;
    }
    return ok;
}

static void report_early(unsigned k)
{
    struct irq_vcpu *c = &g_vcpu[k];
    if (c->early) {
        con_fail("timer: vcpu %u took %u timer interrupts before CVAL (first: cntvct %x < cval %x)", (ulong)k,
                 (ulong)c->early, (ulong)c->early_now, (ulong)c->early_cval);
    }
}

static void report_unexpected(void)
{
    for (unsigned k = 0; k < g_ncpus; k++) {
        if (g_vcpu[k].unexpected) {
            con_fail("irq: vcpu %u took %u unexpected interrupts (first intid %u, now disabled)", (ulong)k,
                     (ulong)g_vcpu[k].unexpected, (ulong)g_vcpu[k].first_unexpected);
        }
    }
}

/* ---- timer ---- */

static void mode_timer(void)
{
    struct irq_vcpu *c = &g_vcpu[0];
    timer_start(c, TM_PERIODIC, g_period, TIMER_TICKS);
    uint64_t deadline = c->t_start + seconds(30);
    wait_irq(&c->ticks, TIMER_TICKS, deadline);
    irq_disable();
    uint32_t ticks = c->ticks;
    if (ticks < TIMER_TICKS) {
        ulong ctl = irq_vtimer_ctl();
        timer_stop(c);
        con_fail("timer: %u ticks in 30 s, want %u (cntv_ctl %x)", (ulong)ticks, (ulong)TIMER_TICKS, ctl);
        return;
    }
    con_line("timer: %u ticks in %u ms", (ulong)ticks, ticks_to_ms(c->t_done - c->t_start));
    con_line("timer: cntfrq %u Hz, period %u ticks, latest tick %u us after its cval", (ulong)g_freq,
             (ulong)g_period, ticks_to_us(c->late_max));
    report_early(0);
}

/* ---- heartbeat ---- */

static uint32_t heartbeat_word(ulong addr)
{
    return HEARTBEAT_MAGIC ^ (uint32_t)addr;
}

static void mode_heartbeat(ulong dtb)
{
    ulong base = ((ulong)_image_end + 0xffffful) & ~0xffffful;
    ulong end = base + HEARTBEAT_BYTES;
    if (dtb < end && dtb + fdt_total_size(dtb) > base) {
        con_fail("heartbeat: the pattern at %x..%x would cover the dtb at %x", base, end, dtb);
        return;
    }
    for (ulong a = base; a < end; a += 4) {
        *(volatile uint32_t *)a = heartbeat_word(a);
    }
    con_line("heartbeat: pattern at %x..%x", base, end);

    struct irq_vcpu *c = &g_vcpu[0];
    timer_start(c, TM_PERIODIC, g_period, HEARTBEAT_SECONDS * TIMER_HZ);
    uint64_t deadline = c->t_start + seconds(3 * HEARTBEAT_SECONDS);
    for (unsigned beat = 1; beat <= HEARTBEAT_SECONDS; beat++) {
        if (!wait_irq(&c->ticks, beat * TIMER_HZ, deadline)) {
            break;
        }
        con_line("heartbeat %u", (ulong)beat);
    }
    irq_disable();
    uint32_t ticks = c->ticks;
    if (ticks < HEARTBEAT_SECONDS * TIMER_HZ) {
        timer_stop(c);
        con_fail("heartbeat: %u ticks in %u s, want %u", (ulong)ticks, (ulong)(3 * HEARTBEAT_SECONDS),
                 (ulong)(HEARTBEAT_SECONDS * TIMER_HZ));
    } else {
        con_line("heartbeat: %u ticks in %u ms, latest tick %u us after its cval", (ulong)ticks,
                 ticks_to_ms(c->t_done - c->t_start), ticks_to_us(c->late_max));
    }
    report_early(0);

    ulong bad = 0;
    for (ulong a = base; a < end; a += 4) {
        uint32_t v = *(volatile uint32_t *)a;
        if (v != heartbeat_word(a) && !bad++) {
            con_fail("heartbeat: pattern word at %x reads %8x, want %8x", a, (ulong)v, (ulong)heartbeat_word(a));
        }
    }
    if (!bad) {
        con_line("heartbeat: pattern intact (%u KiB)", HEARTBEAT_BYTES >> 10);
    }
}

/* ---- ptimer ---- */

/*
 * Like timer, with the EL1 physical timer and CNTPCT. First, with IRQs
 * masked and CTL = ENABLE | IMASK (TVAL reads UNKNOWN while ENABLE is 0),
 * TVAL = period: TVAL must read back in (0, period], CVAL within
 * [CNTPCT + period - period / 4, CNTPCT + period] (CNTPCT read after it),
 * ISTATUS 0 and CTL as written. That CVAL is tick 1's deadline (armed by
 * CTL = ENABLE); the handler does the rest. The wait is bounded by vCPU
 * 0's virtual timer as a 30 s watchdog and by CNTVCT: neither depends on
 * the physical timer, so one that stops ticking cannot leave the WFI
 * waiting for ever.
 */
static void mode_ptimer(void)
{
    uint64_t period = g_period;
    g_pt.on = 0;
    g_pt.period = period;
    g_pt.ticks = 0;
    g_pt.t_done = 0;

    irq_ptimer_set_ctl(CNT_CTL_ENABLE | CNT_CTL_IMASK);
    /* The counter is read around the write, so the check holds however long
       the traps take (a loaded host can stretch them past any slack). */
    uint64_t before = irq_pcounter();
    irq_ptimer_set_tval((int32_t)period);
    int32_t tval = irq_ptimer_tval();
    uint64_t after_tval = irq_pcounter();
    uint64_t cval = irq_ptimer_cval();
    uint64_t now = irq_pcounter();
    ulong ctl = irq_ptimer_ctl();
    uint64_t now2 = irq_pcounter();
    if ((ctl & (CNT_CTL_ENABLE | CNT_CTL_IMASK)) != (CNT_CTL_ENABLE | CNT_CTL_IMASK)) {
        con_fail("ptimer: cntp_ctl reads %x after writing ENABLE | IMASK", ctl);
    }
    /* TVAL counts down from the write: at most period, and at least period
       minus the ticks that passed between the write and the read. */
    if ((int64_t)tval > (int64_t)period || (int64_t)tval < (int64_t)period - (int64_t)(after_tval - before)) {
        con_fail("ptimer: cntp_tval reads %x after writing %x (want %x..%x)", (ulong)(uint32_t)tval, (ulong)period,
                 (ulong)(period - (after_tval - before)), (ulong)period);
    }
    int cval_ok = cval <= now + period && cval >= before + period;
    if (!cval_ok) {
        con_fail("ptimer: cntp_cval %x after writing cntp_tval %x, cntpct then %x (want %x..%x)", (ulong)cval,
                 (ulong)period, (ulong)now, (ulong)(before + period), (ulong)(now + period));
        cval = irq_pcounter() + period; /* go on with a deadline set by CVAL */
        irq_ptimer_set_cval(cval);
    }
    if ((ctl & CNT_CTL_ISTATUS) && now2 < cval) {
        con_fail("ptimer: cntp_ctl.ISTATUS reads 1 at cntpct %x, before cval %x", (ulong)now2, (ulong)cval);
    }

    g_pt.cval = cval;
    g_pt.t_start = cval - period;
    g_pt.on = 1;
    irq_ptimer_set_ctl(CNT_CTL_ENABLE);
    struct irq_vcpu *c0 = &g_vcpu[0];
    timer_start(c0, TM_WATCHDOG, seconds(30), 0);
    wait_irq(&g_pt.ticks, TIMER_TICKS, irq_counter() + seconds(30));
    irq_disable();
    uint32_t ticks = g_pt.ticks;
    ctl = irq_ptimer_ctl();
    ptimer_stop();
    timer_stop(c0);
    if (ticks < TIMER_TICKS) {
        con_fail("ptimer: %u ticks in 30 s, want %u (cntp_ctl %x)", (ulong)ticks, (ulong)TIMER_TICKS, ctl);
    } else {
        con_line("ptimer: %u ticks in %u ms", (ulong)ticks, ticks_to_ms(g_pt.t_done - g_pt.t_start));
        con_line("ptimer: latest tick %u us after its deadline", ticks_to_us(g_pt.late_max));
    }
    if (g_pt.early) {
        con_fail("ptimer: took %u timer interrupts before the deadline (first: cntpct %x < cval %x)",
                 (ulong)g_pt.early, (ulong)g_pt.early_now, (ulong)g_pt.early_cval);
    }
    if (g_pt.istatus_clear) {
        con_fail("ptimer: cntp_ctl.ISTATUS read 0 in %u timer interrupts (first: cntp_ctl %x, cntpct %x, cval %x)",
                 (ulong)g_pt.istatus_clear, g_pt.clear_ctl, (ulong)g_pt.clear_now, (ulong)g_pt.clear_cval);
    }
    if (g_pt.istatus_set) {
        con_fail("ptimer: cntp_ctl.ISTATUS read 1 before %u deadlines just programmed (first: tick %u, cntpct %x < "
                 "cval %x)",
                 (ulong)g_pt.istatus_set, (ulong)g_pt.set_tick, (ulong)g_pt.set_now, (ulong)g_pt.set_cval);
    }
    if (g_pt.cval_bad) {
        con_fail("ptimer: cntp_cval read back wrong %u times (first: tick %u, wrote %x, read %x)",
                 (ulong)g_pt.cval_bad, (ulong)g_pt.cval_bad_tick, (ulong)g_pt.cval_want, (ulong)g_pt.cval_got);
    }
    if (g_pt.tval_bad) {
        con_fail("ptimer: cntp_cval after a cntp_tval write out of range %u times (first: tick %u, read %x, want "
                 "%x..%x)",
                 (ulong)g_pt.tval_bad, (ulong)g_pt.tval_bad_tick, (ulong)g_pt.tval_got, (ulong)g_pt.tval_lo,
                 (ulong)g_pt.tval_hi);
    }
    report_early(0);
}

/* ---- ipi ---- */

/* `trips` round trips with vCPU k: SGI 1 to it, SGI 2 back. */
static int ping(unsigned k, uint32_t trips)
{
    struct irq_vcpu *t = &g_vcpu[k];
    uint32_t pings0 = t->pings;
    uint32_t answers0 = g_answers;
    for (uint32_t i = 0; i < trips; i++) {
        uint32_t want = g_answers + 1;
        g_expect_from = k;
        gic_send_sgi(SGI_PING, k);
        if (!wait_irq(&g_answers, want, irq_counter() + seconds(5))) {
            con_fail("ipi: vcpu %u: no answer to ping %u of %u%s (it took %u)", (ulong)k, (ulong)i + 1, (ulong)trips,
                     g_watchdog ? " before the watchdog fired" : " in 5 s", (ulong)(t->pings - pings0));
            return 0;
        }
    }
    if (t->pings - pings0 != trips || g_answers - answers0 != trips) {
        con_fail("ipi: vcpu %u took %u pings and %u answers came, want %u", (ulong)k, (ulong)(t->pings - pings0),
                 (ulong)(g_answers - answers0), (ulong)trips);
        return 0;
    }
    return 1;
}

static void mode_ipi(void)
{
    if (g_ncpus < 2) {
        con_fail("ipi: needs 2 vCPUs or more, the DTB lists %u", (ulong)g_ncpus);
        return;
    }
    start_secondaries();
    int ok = 1;
    for (unsigned k = 1; k < g_ncpus; k++) {
        if (!g_vcpu[k].started) {
            ok = 0;
        } else if (!wait_online(k, 10)) {
            con_fail("ipi: vcpu %u did not come online in 10 s", (ulong)k);
            ok = 0;
        } else {
            ok &= check_secondary(k);
        }
    }
    if (!ok) {
        return;
    }

    struct irq_vcpu *c0 = &g_vcpu[0];
    timer_start(c0, TM_WATCHDOG, seconds(WATCHDOG_SECONDS), 0);
    uint64_t t0 = irq_counter();
    ok = ping(1, IPI_TRIPS);
    uint64_t t1 = irq_counter();
    if (ok) {
        con_line("ipi: %u round trips", (ulong)IPI_TRIPS);
        con_line("ipi: round trip average %u us", (ulong)udiv64((t1 - t0) * 1000000, g_freq * IPI_TRIPS));
    }
    for (unsigned k = 1; ok && g_ncpus > 2 && k < g_ncpus; k++) {
        ok = ping(k, IPI_TRIPS_EACH);
        if (ok) {
            con_line("ipi: vcpu %u ok", (ulong)k);
        }
    }
    irq_disable();
    timer_stop(c0);
    g_stop = 1;
    irq_dsb();
    if (g_bad_from) {
        con_fail("ipi: %u answers came from the wrong vCPU", (ulong)g_bad_from);
    }
    if (g_bad_answer_source) {
        con_fail("ipi: %u answers had the wrong source CPU in GICC_IAR", (ulong)g_bad_answer_source);
    }
    for (unsigned k = 1; k < g_ncpus; k++) {
        if (g_vcpu[k].bad_source) {
            con_fail("ipi: vcpu %u saw %u pings with the wrong source CPU in GICC_IAR", (ulong)k,
                     (ulong)g_vcpu[k].bad_source);
        }
    }
    report_early(0);
}

static void secondary_ipi(void)
{
    /* Everything happens in the handler: wait in WFI with IRQs unmasked. */
    irq_enable();
    uint64_t deadline = irq_counter() + seconds(300);
    for (uint32_t i = 0; i < (1u << 30) && !g_stop && !past(deadline); i++) {
        irq_wfi();
    }
}

/* ---- uart ---- */

static void mode_uart(void)
{
    con_rx_fifo_on();
    for (unsigned i = 0; i < 64 && con_getc() >= 0; i++) {
    }
    mmio_write32(GUEST_UART_BASE + UART_ICR, UART_ICR_ALL);
    gic_spi_on(INTID_UART);
    mmio_write32(GUEST_UART_BASE + UART_IMSC, UART_INT_RX | UART_INT_RT);
    struct irq_vcpu *c0 = &g_vcpu[0];
    timer_start(c0, TM_WATCHDOG, seconds(WATCHDOG_SECONDS), 0);
    /* IRQs still masked: nothing the handler prints can cut into this line. */
    con_line("uart: type");
    int got = wait_irq(&g_uart_ping, 1, irq_counter() + seconds(WATCHDOG_SECONDS));
    irq_disable();
    mmio_write32(GUEST_UART_BASE + UART_IMSC, 0);
    gic_disable(c0, INTID_UART);
    timer_stop(c0);
    uart_flush(); /* what came after the last full chunk */
    if (!got) {
        con_fail("uart: no 'ping' in %u s (%u irqs, %u bytes)", (ulong)WATCHDOG_SECONDS, (ulong)g_uart_irqs,
                 (ulong)g_uart_bytes);
    }
    con_line("uart: %u irqs", (ulong)g_uart_irqs);
    if (!g_uart_irqs) {
        con_fail("uart: no receive interrupt taken");
    }
    if (g_uart_idle_irqs) {
        con_line("uart: %u of them with neither RX nor RT in UARTMIS", (ulong)g_uart_idle_irqs);
    }
    report_early(0);
}

/* ---- spin ---- */

static void count_4096(struct irq_vcpu *c)
{
    for (unsigned i = 0; i < 4096; i++) {
        uint32_t v = c->count;
        if (v != 0xffffffffu) {
            c->count = v + 1;
        }
    }
}

static int progressed(unsigned k)
{
    const struct irq_vcpu *c = &g_vcpu[k];
    return (k == 0 || c->online) && c->ticks >= SPIN_TICKS && c->count != 0;
}

static void mode_spin(void)
{
    start_secondaries();
    struct irq_vcpu *c0 = &g_vcpu[0];
    timer_start(c0, TM_PERIODIC, g_period, 0);
    irq_enable();
    uint64_t start = c0->t_start;
    uint64_t deadline = start + seconds(SPIN_SECONDS);
    int all = 0;
    for (uint32_t o = 0; o < (1u << 24) && !all; o++) {
        count_4096(c0);
        all = 1;
        for (unsigned k = 0; k < g_ncpus; k++) {
            all &= progressed(k);
        }
        if (past(deadline)) {
            break;
        }
    }
    uint64_t elapsed = irq_counter() - start;
    irq_disable();
    timer_stop(c0);
    g_stop = 1;
    irq_dsb();

    for (unsigned k = 0; k < g_ncpus; k++) {
        struct irq_vcpu *c = &g_vcpu[k];
        if (progressed(k)) {
            con_line("spin: vcpu %u ticks %u count %u", (ulong)k, (ulong)c->ticks, (ulong)c->count);
        } else {
            con_fail("spin: vcpu %u made too little progress in %u s (online %u, ticks %u, count %u)", (ulong)k,
                     (ulong)SPIN_SECONDS, (ulong)(k == 0 || c->online), (ulong)c->ticks, (ulong)c->count);
        }
        if (k && c->online) {
            check_secondary(k);
        }
        report_early(k);
    }
    if (all) {
        con_line("spin: every vcpu had %u ticks after %u ms", (ulong)SPIN_TICKS, ticks_to_ms(elapsed));
    }
}

static void secondary_spin(struct irq_vcpu *c)
{
    timer_start(c, TM_PERIODIC, g_period, 0);
    irq_enable();
    uint64_t deadline = c->t_start + seconds(120);
    for (uint32_t o = 0; o < (1u << 24); o++) {
        count_4096(c);
        if (g_stop || past(deadline)) {
            break;
        }
    }
    irq_disable();
    timer_stop(c);
}

/* ---- for hostile.c ---- */

unsigned irq_gic_version(void)
{
    return g_gic;
}

unsigned irq_vcpu_count(void)
{
    return g_ncpus;
}

ulong irq_vcpu_target(unsigned k)
{
    return k < g_ncpus ? g_target[k] : 0;
}

int irq_gic_setup(void)
{
    unsigned cpu = (unsigned)irq_cpu();
    if (cpu == 0 && !gic_dist_init()) {
        return 0;
    }
    return gic_cpu_init(&g_vcpu[cpu]) == 0;
}

void irq_start_vcpu(unsigned k)
{
    if (k == 0 || k >= g_ncpus) {
        return;
    }
    int32_t rc = (int32_t)irq_psci(irq_psci_cpu_on, g_target[k], irq_secondary_entry_addr(), IRQ_CONTEXT_BASE | k);
    if (rc != PSCI_SUCCESS) {
        con_fail("vcpu %u: CPU_ON(%x) returned %8x", (ulong)k, g_target[k], (ulong)(uint32_t)rc);
        return;
    }
    g_vcpu[k].started = 1;
    if (!wait_online(k, 10)) {
        con_fail("vcpu %u: not online 10 s after CPU_ON", (ulong)k);
        return;
    }
    (void)check_secondary(k);
}

ulong irq_ms(uint64_t ticks)
{
    return ticks_to_ms(ticks);
}

/* ---- entry ---- */

void irq_secondary_main(ulong context, ulong state, ulong sctlr)
{
    struct irq_vcpu *c = &g_vcpu[irq_cpu()];
    c->context = context;
    c->state = state;
    c->sctlr = sctlr;
    c->mpidr = irq_mpidr_affinity();
    c->gic_err = gic_cpu_init(c);
    irq_dsb();
    c->online = 1;
    irq_dsb();
    if (!c->gic_err) {
        if (g_mode == MODE_IPI) {
            secondary_ipi();
        } else if (g_mode == MODE_SPIN) {
            secondary_spin(c);
        } else if (g_mode == MODE_HOSTILE) {
            hostile_secondary();
        }
    }
    irq_disable();
    irq_psci(PSCI_CPU_OFF, 0, 0, 0);
    for (;;) {
        irq_wfi();
    }
}

/* Whether `word` is in the bootargs: sets *mode and *name if none is yet. */
static unsigned try_mode(const volatile uint8_t *args, uint32_t len, const char *word, unsigned m, unsigned *mode,
                         const char **name)
{
    if (!bootargs_has_word(args, len, word)) {
        return 0;
    }
    if (*mode == MODE_NONE) {
        *mode = m;
        *name = word;
    }
    return 1;
}

static unsigned parse_mode(ulong dtb, const char **name)
{
    const volatile uint8_t *args;
    uint32_t len;
    int err = fdt_chosen_bootargs(dtb, &args, &len);
    if (err < 0) {
        con_fail("bootargs: cannot walk the dtb (error %u)", (ulong)-err);
        return MODE_NONE;
    }
    if (err == 0) {
        args = 0;
        len = 0;
    }
    unsigned mode = MODE_NONE, found = 0;
    found += try_mode(args, len, "timer", MODE_TIMER, &mode, name);
    found += try_mode(args, len, "ptimer", MODE_PTIMER, &mode, name);
    found += try_mode(args, len, "ipi", MODE_IPI, &mode, name);
    found += try_mode(args, len, "uart", MODE_UART, &mode, name);
    found += try_mode(args, len, "spin", MODE_SPIN, &mode, name);
    found += try_mode(args, len, "heartbeat", MODE_HEARTBEAT, &mode, name);
    found += try_mode(args, len, "hostile", MODE_HOSTILE, &mode, name);
    if (!found) {
        con_fail("bootargs: no mode (want one of: timer ptimer ipi uart spin heartbeat hostile)");
    } else if (found > 1) {
        con_fail("bootargs: %u modes given, running the first (%s)", (ulong)found, *name);
    }
    return mode;
}

/* The logical vCPUs: 0 is this one, then the DTB's other cpu nodes in order. */
static void find_cpus(ulong dtb)
{
    ulong self = irq_mpidr_affinity() & 0xffffffffu;
    g_target[0] = self;
    g_ncpus = 1;
    struct fdt_cpus cpus;
    int err = fdt_find_cpus(dtb, &cpus);
    if (err < 0) {
        con_fail("cpus: cannot walk the dtb (error %u)", (ulong)-err);
        return;
    }
    for (unsigned i = 0; i < cpus.count && i < FDT_MAX_CPUS && g_ncpus < IRQ_MAX_CPUS; i++) {
        if (cpus.has_reg[i] && cpus.reg[i] != self) {
            g_target[g_ncpus++] = cpus.reg[i];
        }
    }
    if (cpus.count > IRQ_MAX_CPUS) {
        con_line("cpus: %u in the dtb, using the first %u", (ulong)cpus.count, (ulong)IRQ_MAX_CPUS);
    }
}

static void finish(void) __attribute__((noreturn));
static void finish(void)
{
    irq_disable();
    for (unsigned k = 0; k < g_ncpus; k++) {
        const struct irq_vcpu *c = &g_vcpu[k];
        if (k == 0 || c->online) {
            con_line("irqs: vcpu %u taken %u spurious %u stray-timer %u", (ulong)k, (ulong)c->taken,
                     (ulong)c->spurious, (ulong)c->stray_timer);
        }
    }
    con_line("done");
    irq_halt();
}

void irq_main(void)
{
    ulong dtb = irq_entry_report();
    uint32_t magic = fdt_magic(dtb);
    if (magic != FDT_MAGIC) {
        con_fail("dtb %8x magic %8x", dtb, (ulong)magic);
        finish();
    }
    g_freq = irq_counter_freq();
    if (!g_freq) {
        con_fail("CNTFRQ reads 0; assuming 62.5 MHz");
        g_freq = 62500000;
    }
    g_period = udiv64(g_freq, TIMER_HZ);

    const char *name = "none";
    g_mode = parse_mode(dtb, &name);
    g_gic = gic_detect();
    if (!g_mode || !g_gic) {
        finish();
    }
    if (g_mode == MODE_IPI || g_mode == MODE_SPIN || g_mode == MODE_HOSTILE) {
        find_cpus(dtb);
    }
    con_line("mode %s vcpus=%u", name, (ulong)g_ncpus);

    struct irq_vcpu *c0 = &g_vcpu[0];
    c0->mpidr = irq_mpidr_affinity();
    c0->context = IRQ_CONTEXT_BASE;
    if (!gic_dist_init()) {
        finish();
    }
    c0->gic_err = gic_cpu_init(c0);
    if (c0->gic_err) {
        con_fail("vcpu 0: gic setup: %s", gic_err_name(c0->gic_err));
        finish();
    }
    c0->online = 1;
    irq_dsb();

    unsigned failures = g_failures;
    switch (g_mode) {
    case MODE_TIMER: mode_timer(); break;
    case MODE_PTIMER: mode_ptimer(); break;
    case MODE_IPI: mode_ipi(); break;
    case MODE_UART: mode_uart(); break;
    case MODE_SPIN: mode_spin(); break;
    case MODE_HEARTBEAT: mode_heartbeat(dtb); break;
    case MODE_HOSTILE: hostile_main(dtb);
    default: break;
    }
    irq_disable();
    report_unexpected();
    if (g_failures == failures) {
        switch (g_mode) {
        case MODE_TIMER: con_line("TIMER OK"); break;
        case MODE_PTIMER: con_line("PTIMER OK"); break;
        case MODE_IPI: con_line("IPI OK"); break;
        case MODE_UART: con_line("UART OK"); break;
        case MODE_SPIN: con_line("SPIN OK %u vcpus", (ulong)g_ncpus); break;
        case MODE_HEARTBEAT: con_line("HEARTBEAT OK"); break;
        default: break;
        }
    }
    finish();
}
