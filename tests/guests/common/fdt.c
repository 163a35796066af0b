/*
 * The smallest useful FDT reader: the header (DTSpec 0.3 section 5.2) and
 * one walk of the structure block (5.4) counting the cpu nodes under /cpus.
 * Every read is bounds-checked against the header's sizes and every loop is
 * bounded, so a corrupt blob gives an error, never a hang or a wild read.
 * Reads are bytewise: the blob's alignment is not trusted, and with the MMU
 * off an unaligned word load faults.
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

int fdt_find_cpus(ulong dtb, struct fdt_cpus *out)
{
    const volatile uint8_t *blob = (const volatile uint8_t *)dtb;
    out->count = 0;
    out->with_reg = 0;
    for (unsigned i = 0; i < FDT_MAX_CPUS; i++) {
        out->reg[i] = 0;
        out->has_reg[i] = 0;
    }

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

    const volatile uint8_t *s = blob + off_struct;
    const volatile uint8_t *strings = blob + off_strings;
    uint32_t pos = 0;
    int depth = 0;
    int in_cpus = 0;  /* inside /cpus */
    int cpu = -1;     /* index of the cpu node being walked, or -1 */

    /* Each iteration consumes at least 4 bytes, so this bound is never the
       reason a well-formed walk stops. */
    for (uint32_t step = 0; step <= size_struct / 4; step++) {
        if (size_struct - pos < 4) {
            return -4;
        }
        uint32_t token = be32(s + pos);
        pos += 4;
        switch (token) {
        case FDT_BEGIN_NODE: {
            int len = bounded_strlen(s + pos, size_struct - pos);
            if (len < 0) {
                return -5;
            }
            depth++;
            if (depth == 2 && name_is(s + pos, len, "cpus")) {
                in_cpus = 1;
            } else if (in_cpus && depth == 3 && is_cpu_name(s + pos, len)) {
                cpu = (int)out->count++;
            }
            pos += ((uint32_t)len + 1 + 3) & ~3u;
            if (pos > size_struct) {
                return -6;
            }
            break;
        }
        case FDT_END_NODE:
            if (depth == 3) {
                cpu = -1;
            } else if (depth == 2) {
                in_cpus = 0;
            } else if (depth <= 0) {
                return -7;
            }
            depth--;
            break;
        case FDT_PROP: {
            if (size_struct - pos < 8) {
                return -8;
            }
            uint32_t len = be32(s + pos);
            uint32_t nameoff = be32(s + pos + 4);
            pos += 8;
            if (len > size_struct - pos) {
                return -9;
            }
            if (cpu >= 0 && cpu < FDT_MAX_CPUS && depth == 3 && len >= 4 && nameoff < size_strings) {
                int nlen = bounded_strlen(strings + nameoff, size_strings - nameoff);
                if (nlen >= 0 && name_is(strings + nameoff, nlen, "reg")) {
                    /* One or two cells: the last is MPIDR[31:0]. */
                    out->reg[cpu] = be32(s + pos + len - 4);
                    out->has_reg[cpu] = 1;
                    out->with_reg++;
                }
            }
            pos += (len + 3) & ~3u;
            if (pos > size_struct) {
                return -10;
            }
            break;
        }
        case FDT_NOP:
            break;
        case FDT_END:
            return depth == 0 ? 0 : -11;
        default:
            return -12;
        }
    }
    return -13;
}
