/*
 * test_fixed.c - checks the runtime's integer primitives (src/sne_fixed.h, spec §1, §3.10-§3.11)
 * against the hand-computed cases shared with the Swift side (Tests/SpikeIRTests/Cases/primitives.txt
 * and Cases/loihi.txt; any number of case files):
 *   fn args... = expected... | reason
 * fn: rshr x s, floor_shr x s, satw x w, requant x m s lo hi, leak_mulshift v m s, leak_shift v s,
 *     decay x keep, wscale x e, lif u v a mant du dv vth bias_exp = u' v' spike (Loihi, spec §3.10).
 * Prints one line per failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sne_fixed.h"

static int fits32(long long v) { return v >= -2147483647LL - 1 && v <= 2147483647LL; }

/* Numbers of s[0..end) into a[0..max); returns how many. */
static int numbers(const char *s, const char *end, long long *a, int max)
{
    int k = 0;
    while (k < max && s < end) {
        char *e;
        long long v = strtoll(s, &e, 10);
        if (e == s || e > end) break;
        a[k++] = v; s = e;
    }
    return k;
}

/* Spec §3.10 `lif` case: a[0..8) = u v a mant du dv vth bias_exp; want[0..3) = u' v' spike. */
static int lif_case(const long long *a, const long long *want)
{
    int32_t u = (int32_t)a[0], v = (int32_t)a[1];
    const uint8_t s = sne_loihi_lif_step(&u, &v, (int32_t)a[2], (int32_t)a[3], (uint32_t)a[4], (uint32_t)a[5],
                                         (int32_t)a[6], (uint32_t)a[7]);
    return u == want[0] && v == want[1] && s == want[2];
}

int main(int argc, char **argv)
{
    char line[512];
    int fails = 0, n = 0, fi;
    if (argc < 2) { fprintf(stderr, "usage: test_fixed CASES.txt...\n"); return 2; }
    for (fi = 1; fi < argc; fi++) {
    FILE *f = fopen(argv[fi], "r");
    if (f == NULL) { fprintf(stderr, "test_fixed: cannot read %s\n", argv[fi]); return 2; }
    while (fgets(line, sizeof line, f) != NULL) {
        char fn[32];
        long long a[8], w[3], want, got = 0, got2;
        int k = 0, both = 0;
        char *p = line, *eq, *hash;
        if (line[0] == '#' || line[0] == '\n') continue;
        if (sscanf(p, "%31s", fn) != 1) continue;
        eq = strchr(p, '=');
        if (eq == NULL) continue;
        p += strlen(fn);
        k = numbers(p, eq, a, 8);
        want = strtoll(eq + 1, NULL, 10);
        n++;
        if (strcmp(fn, "lif") == 0 && k == 8) {
            hash = strchr(eq, '#');
            if (numbers(eq + 1, hash != NULL ? hash : eq + strlen(eq), w, 3) != 3 || !lif_case(a, w)) {
                printf("FAIL %s", line); fails++;
            }
            continue;
        } else if (strcmp(fn, "decay") == 0 && k == 2) {
            got = sne_loihi_decay((int32_t)a[0], (uint32_t)a[1]);
        } else if (strcmp(fn, "wscale") == 0 && k == 2) {
            got = sne_loihi_wscale((int32_t)a[0], (int32_t)a[1]);
        } else if (strcmp(fn, "rshr") == 0 && k == 2) {
            got = (long long)sne_rshr64((int64_t)a[0], (uint32_t)a[1]);
            if (fits32(a[0])) { got2 = sne_rshr((int32_t)a[0], (uint32_t)a[1]); both = 1; if (got2 != got) got = got2 + 0x100000000LL; }
        } else if (strcmp(fn, "floor_shr") == 0 && k == 2) {
            got = (long long)sne_floor_shr64((int64_t)a[0], (uint32_t)a[1]);
            if (fits32(a[0])) { got2 = sne_floor_shr((int32_t)a[0], (uint32_t)a[1]); both = 1; if (got2 != got) got = got2 + 0x100000000LL; }
        } else if (strcmp(fn, "satw") == 0 && k == 2) {
            const long long hi = (1LL << (a[1] - 1)) - 1;
            got = sne_sat64((int64_t)a[0], (int32_t)(-hi - 1), (int32_t)hi);
        } else if (strcmp(fn, "leak_mulshift") == 0 && k == 3) {
            got = sne_leak_mulshift((int32_t)a[0], (uint32_t)a[1], (uint32_t)a[2]);
            if (a[0] >= -32768 && a[0] <= 32768 && a[1] <= 32768) {   /* the 16-bit state path agrees */
                got2 = sne_leak_mulshift16((int32_t)a[0], (uint32_t)a[1], (uint32_t)a[2]); both = 1;
                if (got2 != got) got = got2 + 0x100000000LL;
            }
        } else if (strcmp(fn, "leak_shift") == 0 && k == 2) {
            got = sne_leak_shift((int32_t)a[0], (uint32_t)a[1]);
        } else if (strcmp(fn, "requant") == 0 && k == 5) {
            got = sne_requant((int32_t)a[0], (int32_t)a[1], (uint32_t)a[2], (int32_t)a[3], (int32_t)a[4]);
        } else {
            printf("FAIL unknown case: %s", line); fails++; continue;
        }
        if (got != want) { printf("FAIL %s -> got %lld%s", line, got, both ? " (int32 and int64 helpers differ or wrong)\n" : "\n"); fails++; }
    }
    fclose(f);
    }
    printf("test_fixed: %d cases, %d failures\n", n, fails);
    return fails != 0;
}
