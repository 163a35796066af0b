/*
 * The smallest useful FDT reader: the header (DTSpec 0.3 section 5.2) and
 * bounded walks of the structure block (5.4): the cpu nodes under /cpus,
 * and the bootargs property of /chosen. Every read is bounds-checked against
 * the header's sizes and every loop is bounded, so a corrupt blob gives an
 * error, never a hang or a wild read. Reads are bytewise: the blob's
 * alignment is not trusted, and with the MMU off an unaligned word load
 * faults.
 */
#include "guest.h"

#define FDT_BEGIN_NODE 1u
#define FDT_END_NODE   2u
#define FDT_PROP       3u
#define FDT_NOP        4u
#define FDT_END        9u

#define FDT_MAX_SIZE   (2u << 20) /* larger than any DTB a guest is given */
#define FDT_MAX_NAME   64u

static uint32_t be32(const volatile uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint32_t fdt_magic(ulong dtb)
{
    return be32((const volatile uint8_t *)dtb);
}

/* Length of the NUL-terminated string at s, or -1 if none ends before `limit` bytes. */
static int bounded_strlen(const volatile uint8_t *s, uint32_t limit)
{
    for (uint32_t i = 0; i < limit && i < FDT_MAX_NAME; i++) {
        if (s[i] == 0) {
            return (int)i;
        }
    }
    return -1;
}

static int name_is(const volatile uint8_t *s, int len, const char *want)
{
    int i = 0;
    for (; i < len && want[i]; i++) {
        if (s[i] != (uint8_t)want[i]) {
            return 0;
        }
    }
    return i == len && want[i] == 0;
}

static int is_cpu_name(const volatile uint8_t *s, int len)
{
    return name_is(s, len, "cpu") ||
           (len > 4 && s[0] == 'c' && s[1] == 'p' && s[2] == 'u' && s[3] == '@');
}

/*
 * One walk of the structure block, a token at a time. fdt_open checks the
 * header; fdt_next returns the next node start, node end or property
 * (NOPs skipped). Neither trusts anything it has not bounds-checked.
 */
struct fdt_walk {
    const volatile uint8_t *s;        /* structure block */
    const volatile uint8_t *strings;  /* strings block */
    uint32_t size_struct;
    uint32_t size_strings;
    uint32_t pos;                     /* offset of the next token in s */
    uint32_t steps;
    int depth;                        /* 1 inside the root node */
};

struct fdt_token {
    uint32_t kind;                    /* FDT_BEGIN_NODE, FDT_END_NODE or FDT_PROP */
    int depth;                        /* the node begun or ended, or the property's node */
    const volatile uint8_t *name;     /* node or property name; NULL if unreadable */
    int name_len;
    const volatile uint8_t *value;    /* FDT_PROP: the value, len bytes */
    uint32_t len;
};

static int fdt_open(ulong dtb, struct fdt_walk *w)
{
    const volatile uint8_t *blob = (const volatile uint8_t *)dtb;
    if (be32(blob) != FDT_MAGIC) {
        return -1;
    }
    uint32_t total = be32(blob + 4);
    uint32_t off_struct = be32(blob + 8);
    uint32_t off_strings = be32(blob + 12);
    uint32_t version = be32(blob + 20);
    uint32_t size_strings = be32(blob + 32);
    uint32_t size_struct = be32(blob + 36);
    if (total < 40 || total > FDT_MAX_SIZE || version < 16) {
        return -2;
    }
    if (version < 17) {
        size_struct = total - (off_struct < total ? off_struct : total);
    }
    if (off_struct > total || size_struct > total - off_struct ||
        off_strings > total || size_strings > total - off_strings) {
        return -3;
    }
    w->s = blob + off_struct;
    w->strings = blob + off_strings;
    w->size_struct = size_struct;
    w->size_strings = size_strings;
    w->pos = 0;
    w->steps = 0;
    w->depth = 0;
    return 0;
}

/* 1: *t holds the next token; 0: FDT_END with every node closed; < 0: malformed. */
static int fdt_next(struct fdt_walk *w, struct fdt_token *t)
{
    const volatile uint8_t *s = w->s;
    /* Each step consumes at least 4 bytes, so this bound is never the
       reason a well-formed walk stops. */
    while (w->steps++ <= w->size_struct / 4) {
        if (w->size_struct - w->pos < 4) {
            return -4;
        }
        uint32_t token = be32(s + w->pos);
        w->pos += 4;
        switch (token) {
        case FDT_BEGIN_NODE: {
            int len = bounded_strlen(s + w->pos, w->size_struct - w->pos);
            if (len < 0) {
                return -5;
            }
            t->kind = FDT_BEGIN_NODE;
            t->depth = ++w->depth;
            t->name = s + w->pos;
            t->name_len = len;
            t->value = 0;
            t->len = 0;
            w->pos += ((uint32_t)len + 1 + 3) & ~3u;
            if (w->pos > w->size_struct) {
                return -6;
            }
            return 1;
        }
        case FDT_END_NODE:
            if (w->depth <= 0) {
                return -7;
            }
            t->kind = FDT_END_NODE;
            t->depth = w->depth--;
            t->name = 0;
            t->name_len = 0;
            t->value = 0;
            t->len = 0;
            return 1;
        case FDT_PROP: {
            if (w->size_struct - w->pos < 8) {
                return -8;
            }
            uint32_t len = be32(s + w->pos);
            uint32_t nameoff = be32(s + w->pos + 4);
            w->pos += 8;
            if (len > w->size_struct - w->pos) {
                return -9;
            }
            t->kind = FDT_PROP;
            t->depth = w->depth;
            t->name = 0;
            t->name_len = 0;
            if (nameoff < w->size_strings) {
                int nlen = bounded_strlen(w->strings + nameoff, w->size_strings - nameoff);
                if (nlen >= 0) {
                    t->name = w->strings + nameoff;
                    t->name_len = nlen;
                }
            }
            t->value = s + w->pos;
            t->len = len;
            w->pos += (len + 3) & ~3u;
            if (w->pos > w->size_struct) {
                return -10;
            }
            return 1;
        }
        case FDT_NOP:
            break;
        case FDT_END:
            return w->depth == 0 ? 0 : -11;
        default:
            return -12;
        }
    }
    return -13;
}

uint32_t fdt_total_size(ulong dtb)
{
    const volatile uint8_t *blob = (const volatile uint8_t *)dtb;
    return be32(blob) == FDT_MAGIC ? be32(blob + 4) : 0;
}

int fdt_find_cpus(ulong dtb, struct fdt_cpus *out)
{
    out->count = 0;
    out->with_reg = 0;
    for (unsigned i = 0; i < FDT_MAX_CPUS; i++) {
        out->reg[i] = 0;
        out->has_reg[i] = 0;
    }

    struct fdt_walk w;
    int err = fdt_open(dtb, &w);
    if (err < 0) {
        return err;
    }
    int in_cpus = 0;  /* inside /cpus */
    int cpu = -1;     /* index of the cpu node being walked, or -1 */
    struct fdt_token t;
    while ((err = fdt_next(&w, &t)) > 0) {
        if (t.kind == FDT_BEGIN_NODE) {
            if (t.depth == 2 && name_is(t.name, t.name_len, "cpus")) {
                in_cpus = 1;
            } else if (in_cpus && t.depth == 3 && is_cpu_name(t.name, t.name_len)) {
                cpu = (int)out->count++;
            }
        } else if (t.kind == FDT_END_NODE) {
            if (t.depth == 3) {
                cpu = -1;
            } else if (t.depth == 2) {
                in_cpus = 0;
            }
        } else if (cpu >= 0 && cpu < FDT_MAX_CPUS && t.depth == 3 && t.len >= 4 && t.name &&
                   name_is(t.name, t.name_len, "reg")) {
            /* One or two cells: the last is MPIDR[31:0]. */
            out->reg[cpu] = be32(t.value + t.len - 4);
            out->has_reg[cpu] = 1;
            out->with_reg++;
        }
    }
    return err;
}

int fdt_chosen_bootargs(ulong dtb, const volatile uint8_t **args, uint32_t *len)
{
    *args = 0;
    *len = 0;
    struct fdt_walk w;
    int err = fdt_open(dtb, &w);
    if (err < 0) {
        return err;
    }
    int in_chosen = 0;  /* inside /chosen itself (depth 2), not a child of it */
    struct fdt_token t;
    while ((err = fdt_next(&w, &t)) > 0) {
        if (t.kind == FDT_BEGIN_NODE) {
            if (t.depth == 2 && name_is(t.name, t.name_len, "chosen")) {
                in_chosen = 1;
            }
        } else if (t.kind == FDT_END_NODE) {
            if (t.depth == 2) {
                in_chosen = 0;
            }
        } else if (in_chosen && t.depth == 2 && t.name && name_is(t.name, t.name_len, "bootargs")) {
            *args = t.value;
            *len = t.len;
            return 1;
        }
    }
    return err;
}

static uint64_t be64(const volatile uint8_t *p)
{
    return (uint64_t)be32(p) << 32 | be32(p + 4);
}

int fdt_memory(ulong dtb, uint64_t *base, uint64_t *size)
{
    *base = 0;
    *size = 0;
    struct fdt_walk w;
    int err = fdt_open(dtb, &w);
    if (err < 0) {
        return err;
    }
    int in_memory = 0;  /* inside a /memory or /memory@... node */
    struct fdt_token t;
    while ((err = fdt_next(&w, &t)) > 0) {
        if (t.kind == FDT_BEGIN_NODE) {
            if (t.depth == 2 && t.name_len >= 6 && name_is(t.name, 6, "memory") &&
                (t.name_len == 6 || t.name[6] == '@')) {
                in_memory = 1;
            }
        } else if (t.kind == FDT_END_NODE) {
            if (t.depth == 2) {
                in_memory = 0;
            }
        } else if (in_memory && t.depth == 2 && t.len >= 16 && t.name && name_is(t.name, t.name_len, "reg")) {
            /* Two address and two size cells (setwise's and QEMU's guest DTs). */
            *base = be64(t.value);
            *size = be64(t.value + 8);
            return 1;
        }
    }
    return err;
}

static int is_separator(uint8_t c)
{
    return c == 0 || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int bootargs_has_word(const volatile uint8_t *args, uint32_t len, const char *word)
{
    if (len > BOOTARGS_MAX) {
        len = BOOTARGS_MAX;
    }
    uint32_t i = 0;
    while (i < len) {
        while (i < len && is_separator(args[i])) {
            i++;
        }
        uint32_t start = i;
        while (i < len && !is_separator(args[i])) {
            i++;
        }
        /* [start, i) is one word. */
        uint32_t k = 0;
        while (start + k < i && word[k] && args[start + k] == (uint8_t)word[k]) {
            k++;
        }
        if (start < i && start + k == i && word[k] == 0) {
            return 1;
        }
    }
    return 0;
}
