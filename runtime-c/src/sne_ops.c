/*
 * sne_ops.c - reference integer kernels of Spike IR 2.1 (docs/spike-ir.md §3, §5.1, §6; the Loihi
 * ops §3.10-§3.12).
 *
 * Plain loops; spike ops are event driven (a row of contiguous int8 weights added into int32
 * accumulators per spike). Every partial sum stays inside the static bounds of spec §7, so
 * int32 addition is exact in any order; only lif (§3.5 step 2) and loihi_lif (§3.10 step 3)
 * saturate.
 */
#include <string.h>

#include "sne_internal.h"

/*
 * SNE_SPECIALIZE (0 or 1, default 1): 1 compiles the LIF loops specialized per leak kind and the
 * fast conv walks (one-channel input conv of any stride, stride-1 spike and input convs, unrolled 2x2 windows);
 * 0 keeps only the generic loops: the same results in less code and more time (docs/c-runtime.md,
 * "Cost on the device", has both). A port may predefine it.
 */
#ifndef SNE_SPECIALIZE
#define SNE_SPECIALIZE 1
#endif

/*
 * taps_add: acc[y*astep + t*n + i] += row[y*rstep - t*n + i] for y < ty, t < tx, i < n: the spike
 * driven accumulates of one input spike in a stride-1 conv (spec §3.3): for each of its ty kernel
 * rows (accumulator rows astep apart, weight rows rstep apart), its tx kx taps add n = cout int8
 * synapses to consecutive int32 accumulator blocks while the weight rows walk backwards; tx = ty = 1
 * is one spike's row of a dense (§3.4). Exact in any order by §7.3, so an implementation may
 * vectorize freely as long as every accumulator stays int32.
 */
/* The geometry of taps_add: n synapses per tap, tx taps per kernel row, ty kernel rows, accumulator
 * and weight rows astep / rstep elements apart; asm_steps = the same as the Armv7-M loop reads it
 * (n/8, tx, 2n bytes, the byte jumps of acc and of the weights after a kernel row). */
typedef struct taps_geom {
    int32_t asm_steps[5];
    uint32_t n, tx, ty;
    int32_t astep, rstep;
} taps_geom;

static void taps_geom_set(taps_geom *g, uint32_t n, uint32_t tx, uint32_t ty, int32_t astep, int32_t rstep)
{
    g->n = n; g->tx = tx; g->ty = ty; g->astep = astep; g->rstep = rstep;
    g->asm_steps[0] = (int32_t)(n >> 3);
    g->asm_steps[1] = (int32_t)tx;
    g->asm_steps[2] = (int32_t)(2u * n);
    g->asm_steps[3] = 4 * (astep - (int32_t)(tx * n));
    g->asm_steps[4] = rstep + (int32_t)(tx * n);
}

#if defined(__thumb2__) && !defined(__ARM_BIG_ENDIAN) && !defined(SNE_NO_ASM)
#define SNE_ROWS_ASM 1
/*
 * Armv7-M (Cortex-M3/M4/M7), 8 synapses per SNE_ADD8: LDM of 4 int32 accumulators, the 4 weights
 * added, STM -- the same int32 additions as the portable loop, bit for bit. Cortex-M4/M7 (DSP):
 * one word load of 4 int8 weights and SXTAB (sign-extend byte k of the word, rotated, and add),
 * 16 instructions; Cortex-M3: LDRSB and ADD, 20 instructions. The registers are named (r4-r6, r8
 * ascending, as LDM/STM need; r12 holds a weight). When n is a multiple of 8 the tap and row loops
 * run in the asm too, their constants read from `prm`.
 */
#if defined(__ARM_FEATURE_DSP)
#define SNE_ADD4                                                             \
    "ldr   r12, [%[r]], #4\n\t"                                              \
    "ldm   %[acc], {r4, r5, r6, r8}\n\t"                                     \
    "sxtab r4, r4, r12\n\t"                                                  \
    "sxtab r5, r5, r12, ror #8\n\t"                                          \
    "sxtab r6, r6, r12, ror #16\n\t"                                         \
    "sxtab r8, r8, r12, ror #24\n\t"                                         \
    "stmia %[acc]!, {r4, r5, r6, r8}\n\t"
#else
#define SNE_ADD4                                                             \
    "ldm   %[acc], {r4, r5, r6, r8}\n\t"                                     \
    "ldrsb r12, [%[r]], #1\n\t"                                              \
    "add   r4, r4, r12\n\t"                                                  \
    "ldrsb r12, [%[r]], #1\n\t"                                              \
    "add   r5, r5, r12\n\t"                                                  \
    "ldrsb r12, [%[r]], #1\n\t"                                              \
    "add   r6, r6, r12\n\t"                                                  \
    "ldrsb r12, [%[r]], #1\n\t"                                              \
    "add   r8, r8, r12\n\t"                                                  \
    "stmia %[acc]!, {r4, r5, r6, r8}\n\t"
#endif
#define SNE_ADD8 SNE_ADD4 SNE_ADD4

/* One spike's row (spec §3.3/§3.4): acc[0..n) += row[0..n), 8 at a time in SNE_ADD8. */
static void row_add(int32_t *acc, const SNE_FLASH int8_t *row, uint32_t n)
{
    const int8_t *r = (const int8_t *)row;
    uint32_t i, cnt = n >> 3;
    if (cnt != 0u)
        __asm__ volatile(
            "1:\n\t"
            SNE_ADD8
            "subs  %[cnt], %[cnt], #1\n\t"
            "bne   1b"
            : [acc] "+r"(acc), [r] "+r"(r), [cnt] "+r"(cnt)
            :
            : "r4", "r5", "r6", "r8", "r12", "cc", "memory");
    for (i = 0; i < (n & 7u); i++) acc[i] += r[i];
}

static void taps_add(int32_t *acc, const SNE_FLASH int8_t *row, const taps_geom *g)
{
    const int8_t *r = (const int8_t *)row;
    const uint32_t n = g->n, tx = g->tx, n8 = n >> 3, rest = n & 7u;
    uint32_t ty = g->ty;
    if (rest == 0u && n8 != 0u && tx != 0u && ty != 0u) {
        /* the byte steps of g: after a tap r is back 2n; after a kernel row acc and r jump on */
        uint32_t cnt, kx;
        __asm__ volatile(
            "3:\n\t"
            "ldr   %[kx], [%[p], #4]\n\t"
            "2:\n\t"
            "ldr   %[cnt], [%[p]]\n\t"
            "1:\n\t"
            SNE_ADD8
            "subs  %[cnt], %[cnt], #1\n\t"
            "bne   1b\n\t"
            "ldr   r12, [%[p], #8]\n\t"
            "sub   %[r], %[r], r12\n\t"
            "subs  %[kx], %[kx], #1\n\t"
            "bne   2b\n\t"
            "ldr   r12, [%[p], #12]\n\t"
            "add   %[acc], %[acc], r12\n\t"
            "ldr   r12, [%[p], #16]\n\t"
            "add   %[r], %[r], r12\n\t"
            "subs  %[ky], %[ky], #1\n\t"
            "bne   3b"
            : [acc] "+r"(acc), [r] "+r"(r), [cnt] "=&r"(cnt), [kx] "=&r"(kx), [ky] "+r"(ty)
            : [p] "r"(g->asm_steps)
            : "r4", "r5", "r6", "r8", "r12", "cc", "memory");
        return;
    }
    for (; ty != 0u; ty--, acc += g->astep, r += g->rstep) {
        uint32_t t;
        for (t = 0; t < tx; t++) row_add(acc + t * n, r - (int32_t)(t * n), n);
    }
}
#else
/* One spike's row (spec §3.3/§3.4): acc[0..n) += row[0..n), four at a time. */
static void row_add(int32_t *acc, const SNE_FLASH int8_t *row, uint32_t n)
{
    uint32_t i = 0;
    for (; i + 4u <= n; i += 4u) {
        int32_t w0 = SNE_LOAD_I8(row + i), w1 = SNE_LOAD_I8(row + i + 1u);
        int32_t w2 = SNE_LOAD_I8(row + i + 2u), w3 = SNE_LOAD_I8(row + i + 3u);
        acc[i] += w0; acc[i + 1u] += w1; acc[i + 2u] += w2; acc[i + 3u] += w3;
    }
    for (; i < n; i++) acc[i] += SNE_LOAD_I8(row + i);
}

static void taps_add(int32_t *acc, const SNE_FLASH int8_t *row, const taps_geom *g)
{
    const uint32_t n = g->n, tx = g->tx;
    uint32_t ty = g->ty;
    for (; ty != 0u; ty--, acc += g->astep, row += g->rstep) {
        uint32_t t;
        for (t = 0; t < tx; t++) row_add(acc + t * n, row - (int32_t)(t * n), n);
    }
}
#endif

/* acc[0..n) += x * row[0..n): one nonzero input's multiply-accumulates (spec §3.1/§3.2). */
static void row_mac(int32_t *acc, const SNE_FLASH int8_t *row, int32_t x, uint32_t n)
{
    uint32_t i;
    for (i = 0; i < n; i++) acc[i] += x * (int32_t)SNE_LOAD_I8(row + i);
}

/* out[p*ch + c] = bias[c] for every pixel p < pixels (the first pixel from the table, then a
 * forward copy of the row before, four words per iteration). */
static void bias_init(const sne_model *m, uint32_t boff, int32_t *out, uint32_t pixels, uint32_t ch)
{
    uint32_t c, i;
    const uint32_t n = pixels * ch;
    int32_t *d = out + ch;
    const int32_t *src = out;
    for (c = 0; c < ch; c++) out[c] = sne_ld_i32(m, boff, c);
    i = ch;
#if defined(__thumb2__) && !defined(SNE_NO_ASM)
    if (ch >= 4u && n - i >= 4u) {
        /* Armv7-M: LDM/STM of 4 words (src runs ch >= 4 words behind d, so a block is read before
         * any of it is written) */
        uint32_t cnt = (n - i) >> 2;
        __asm__ volatile(
            "1:\n\t"
            "ldmia %[s]!, {r4, r5, r6, r8}\n\t"
            "stmia %[d]!, {r4, r5, r6, r8}\n\t"
            "subs  %[cnt], %[cnt], #1\n\t"
            "bne   1b"
            : [s] "+r"(src), [d] "+r"(d), [cnt] "+r"(cnt)
            :
            : "r4", "r5", "r6", "r8", "cc", "memory");
        i = n - ((n - i) & 3u);
    }
#endif
    for (; i + 4u <= n; i += 4u, d += 4, src += 4) { d[0] = src[0]; d[1] = src[1]; d[2] = src[2]; d[3] = src[3]; }
    for (; i < n; i++) *d++ = *src++;
}

static void shift_all(int32_t *out, uint32_t n, uint32_t s)
{
    uint32_t i;
    if (s == 0) return;
    for (i = 0; i < n; i++) out[i] = sne_rshr(out[i], s);
}

/*
 * Spec §3.3 accumulation for spikes and stride 1 (the hot path of a spiking conv): every spike
 * s[py][px][ci] = 1 reaches outputs (ry - ky, rx - kx), ry = py + pad, rx = px + pad, for ky in
 * [ky0, ky1] = [max(0, ry - (Ho-1)), min(kh-1, ry)] and kx likewise; taps_add adds all of them in
 * one call. A pixel whose C spikes are all 0 is skipped four channels at a time when C % 4 == 0.
 * w: the op's weights, win: its window (conv2d's or loihi_conv2d's). Returns the synops: cout per
 * (spike, valid tap).
 */
static uint64_t conv_spikes_s1(const SNE_FLASH int8_t *w, const sne_window *win, const sne_op *op, const uint8_t *s,
                               int32_t *out)
{
    const uint32_t H = op->in_h, W = op->in_w, C = op->in_c, Ho = op->out_h, Wo = op->out_w;
    const uint32_t co = op->out_c, kh = win->kh, kw = win->kw, pad = win->pad, kci = kh * kw * co;
    const int32_t astep = -(int32_t)(Wo * co), rstep = (int32_t)(kw * co);
    uint32_t py, px, ci, gtx = 0;
    uint64_t adds = 0;
    taps_geom g;
    taps_geom_set(&g, co, 1u, 1u, astep, rstep);
    for (py = 0; py < H; py++) {
        const uint32_t ry = py + pad, ky0 = ry >= Ho ? ry - (Ho - 1u) : 0u, ky1 = ry < kh ? ry : kh - 1u;
        const uint8_t *sp = s + py * W * C;
        int32_t *arow;
        uint32_t ty;
        if (ky0 > ky1) continue;
        ty = ky1 + 1u - ky0;
        gtx = 0;                     /* the geometry is set again for this row's ty */
        arow = out + (ry - ky0) * Wo * co;
        for (px = 0; px < W; px++, sp += C) {
            uint32_t rx, kx0, kx1, tx, spikes = 0;
            int32_t *a;
            const SNE_FLASH int8_t *wr;
            if (C % 4u == 0u) {
                uint32_t any = 0, u;
                for (ci = 0; ci < C; ci += 4u) { memcpy(&u, sp + ci, 4); any |= u; }
                if (any == 0u) continue;
            }
            rx = px + pad;
            kx0 = rx >= Wo ? rx - (Wo - 1u) : 0u;
            kx1 = rx < kw ? rx : kw - 1u;
            if (kx0 > kx1) continue;
            tx = kx1 + 1u - kx0;
            if (tx != gtx) { taps_geom_set(&g, co, tx, ty, astep, rstep); gtx = tx; }
            a = arow + (rx - kx1) * co;
            wr = w + (ky0 * kw + kx1) * co;
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && __SIZEOF_INT__ >= 4
            if (C % 4u == 0u) {
                /* the spikes (0/1 bytes) of four channels as one word, visited by their set bits */
                for (ci = 0; ci < C; ci += 4u) {
                    uint32_t u;
                    memcpy(&u, sp + ci, 4);
                    while (u != 0u) {
                        taps_add(a, wr + (ci + ((uint32_t)__builtin_ctz(u) >> 3)) * kci, &g);
                        u &= u - 1u;
                        spikes++;
                    }
                }
                adds += (uint64_t)spikes * tx * ty * co;
                continue;
            }
#endif
            for (ci = 0; ci < C; ci++, wr += kci)
                if (sp[ci] != 0) { taps_add(a, wr, &g); spikes++; }
            adds += (uint64_t)spikes * tx * ty * co;
        }
    }
    return adds;
}

/*
 * Shared conv accumulation (spec §3.1 / §3.3 / §3.12) over the padded frame [0, H+2P) x [0, W+2P), P = pad when the
 * zero point zp is given (input op with a nonzero zero point), else P = 0 (only the image). For each
 * frame element (HWC order) with value x != 0 (x = the pixel inside the image, zp[ci] outside), for
 * each (ky, kx) with oy = (py + pad - P - ky) / stride integral and in range (likewise ox),
 * out[oy][ox][0..cout) += x * w[ci][ky][kx][0..cout)  (spike: += w, no multiply).
 * w: the op's weights, win: its window (sne_syn_params or sne_loihi_conv2d_params). Counts cout per
 * (element, ky, kx): MACs for input (U8), synops for spikes.
 */
static void conv_acc(const SNE_FLASH int8_t *w, const sne_window *win, const sne_op *op, const uint8_t *x,
                     const uint8_t *zp, int32_t *out, int spikes, sne_counts *c)
{
    const uint32_t H = op->in_h, W = op->in_w, C = op->in_c, Ho = op->out_h, Wo = op->out_w;
    const uint32_t co = op->out_c, kh = win->kh, kw = win->kw, st = win->stride, pad = win->pad;
    const uint32_t P = zp != NULL ? pad : 0u, skip = pad - P;
    uint32_t py, px, ci, ky, kx;
    uint64_t adds = 0;
    if (SNE_SPECIALIZE && st == 1u && spikes) {
        c->synops += conv_spikes_s1(w, win, op, x, out);
        return;
    }
    if (SNE_SPECIALIZE && st == 1u) {
        /* Stride 1 (the same taps, found without a division): frame element (py, px) reaches
         * output (ry - ky, rx - kx), ry = py + skip, rx = px + skip, for ky in [ky0, ky1] =
         * [max(0, ry - (Ho-1)), min(kh-1, ry)] and likewise kx. */
        for (py = 0; py < H + 2u * P; py++) {
            const int row_in = py >= P && py - P < H;
            const uint32_t ry = py + skip, ky0 = ry >= Ho ? ry - (Ho - 1u) : 0u, ky1 = ry < kh ? ry : kh - 1u;
            if (ky0 > ky1) continue;
            for (px = 0; px < W + 2u * P; px++) {
                const int inside = row_in && px >= P && px - P < W;
                const uint8_t *pix = inside ? x + ((py - P) * W + (px - P)) * C : zp;
                uint32_t rx, kx0, kx1, taps;
                if (C == 4u) {               /* four spikes or pixels at once: skip an all-zero pixel */
                    uint32_t any;
                    memcpy(&any, pix, 4);
                    if (any == 0u) continue;
                }
                rx = px + skip;
                kx0 = rx >= Wo ? rx - (Wo - 1u) : 0u;
                kx1 = rx < kw ? rx : kw - 1u;
                if (kx0 > kx1) continue;
                taps = (ky1 - ky0 + 1u) * (kx1 + 1u - kx0);
                for (ci = 0; ci < C; ci++) {
                    const uint8_t v = pix[ci];
                    if (v == 0) continue;
                    for (ky = ky0; ky <= ky1; ky++) {
                        int32_t *acc = out + ((ry - ky) * Wo + (rx - kx1)) * co;
                        const SNE_FLASH int8_t *row = w + ((ci * kh + ky) * kw + kx1) * co;
                        for (kx = kx0; kx <= kx1; kx++, acc += co, row -= co) row_mac(acc, row, (int32_t)v, co);
                    }
                    adds += (uint64_t)taps * co;
                }
            }
        }
        if (spikes) c->synops += adds; else c->macs += adds;
        return;
    }
    for (py = 0; py < H + 2u * P; py++) {
        const int row_in = py >= P && py - P < H;
        for (px = 0; px < W + 2u * P; px++) {
            const int inside = row_in && px >= P && px - P < W;
            const uint8_t *pix = inside ? x + ((py - P) * W + (px - P)) * C : zp;
            for (ci = 0; ci < C; ci++) {
                const uint8_t v = pix[ci];
                uint32_t e = 0;
                if (v == 0) continue;
                for (ky = 0; ky < kh; ky++) {
                    uint32_t ny = py + skip, oy;
                    if (ny < ky) break;
                    ny -= ky;
                    if (ny % st != 0) continue;
                    oy = ny / st;
                    if (oy >= Ho) continue;
                    for (kx = 0; kx < kw; kx++) {
                        uint32_t nx = px + skip, ox;
                        const SNE_FLASH int8_t *row;
                        int32_t *acc;
                        if (nx < kx) break;
                        nx -= kx;
                        if (nx % st != 0) continue;
                        ox = nx / st;
                        if (ox >= Wo) continue;
                        row = w + ((ci * kh + ky) * kw + kx) * co;
                        acc = out + (oy * Wo + ox) * co;
                        if (spikes) row_add(acc, row, co);
                        else row_mac(acc, row, (int32_t)v, co);
                        e += co;
                    }
                }
                adds += e;
            }
        }
    }
    if (spikes) c->synops += adds; else c->macs += adds;
}

/* conv_acc on out = bias, then out = rshr(out, shift) (spec §3.1 / §3.3). */
static void conv_walk(const sne_model *m, const sne_op *op, const uint8_t *x, const uint8_t *zp,
                      int32_t *out, int spikes, sne_counts *c)
{
    const sne_syn_params *const sp = &op->par.syn;
    const uint32_t pixels = op->out_h * op->out_w;
    bias_init(m, sp->b, out, pixels, op->out_c);
    conv_acc(m->w8 + sp->w, &sp->win, op, x, zp, out, spikes, c);
    shift_all(out, pixels * op->out_c, sp->shift);
}

/* Spec §3.1: the padded frame is visited only when some channel's zero point is nonzero. */
/* Number of k in [0, K) with r - k = o * S for an output o in [0, N): the taps of frame coordinate
 * r = p + pad that reach an output at stride S. */
static uint32_t taps_s(uint32_t r, uint32_t K, uint32_t N, uint32_t S)
{
    uint32_t k, n = 0;
    if (S == 1u) {
        const uint32_t lo = r >= N ? r - (N - 1u) : 0u, hi = r < K ? r : K - 1u;
        return lo <= hi ? hi - lo + 1u : 0u;
    }
    for (k = 0; k < K && k <= r; k++)
        if ((r - k) % S == 0u && (r - k) / S < N) n++;
    return n;
}

/*
 * Spec §3.1 for one input channel, any stride S, zero padding and cout a multiple of 4, output
 * stationary: out[oy][ox][co] = rshr(bias[co] + sum over the taps inside the image with x != 0 of
 * x * w[0][ky][kx][co], shift), iy = oy*S + ky - pad, ix = ox*S + kx - pad, four output channels
 * at a time in registers (the same int32 sums as conv_acc, in another order: exact by §7.1). Counts
 * as §3.1: cout MACs per (nonzero pixel, valid tap), derived per pixel from the tap counts of its
 * row and column.
 */
/* One output pixel of input_conv_c1: o[0..4) = b[0..4) + the taps (ky, kx) in [ky0, ky1) x [kx0, kx1)
 * that lie inside the image, iy = oy*S + ky - pad, ix = ox*S + kx - pad, w at the group's channel. */
static void c1_pixel(const uint8_t *x, uint32_t W, const SNE_FLASH int8_t *w, uint32_t co, uint32_t kw, uint32_t pad,
                     uint32_t S, uint32_t oy, uint32_t ox, uint32_t ky0, uint32_t ky1, uint32_t kx0, uint32_t kx1,
                     const int32_t *b, int32_t *o)
{
    int32_t a0 = b[0], a1 = b[1], a2 = b[2], a3 = b[3];
    uint32_t ky, kx;
    for (ky = ky0; ky < ky1; ky++)
        for (kx = kx0; kx < kx1; kx++) {
            const int32_t v = x[(oy * S + ky - pad) * W + ox * S + kx - pad];
            const SNE_FLASH int8_t *wk = w + (ky * kw + kx) * co;
            if (v == 0) continue;
            a0 += v * SNE_LOAD_I8(wk); a1 += v * SNE_LOAD_I8(wk + 1);
            a2 += v * SNE_LOAD_I8(wk + 2); a3 += v * SNE_LOAD_I8(wk + 3);
        }
    o[0] = a0; o[1] = a1; o[2] = a2; o[3] = a3;
}

static void input_conv_c1(const sne_model *m, const sne_op *op, const uint8_t *x, int32_t *out, sne_counts *c)
{
    const uint32_t H = op->in_h, W = op->in_w, Ho = op->out_h, Wo = op->out_w, co = op->out_c;
    const sne_syn_params *const sp = &op->par.syn;
    const uint32_t kh = sp->win.kh, kw = sp->win.kw, pad = sp->win.pad, S = sp->win.stride;
    /* output columns whose kw taps all lie inside the image: ox*S >= pad and ox*S + kw <= W + pad */
    uint32_t ix0 = (pad + S - 1u) / S, ix1 = W + pad >= kw ? (W + pad - kw) / S + 1u : 0u;
    const SNE_FLASH int8_t *w = m->w8 + sp->w;
    uint32_t oy, ox, g, py, px;
    uint64_t macs = 0;
    if (ix0 > Wo) ix0 = Wo;
    if (ix1 > Wo) ix1 = Wo;
    for (py = 0; py < H; py++) {
        const uint32_t ny = taps_s(py + pad, kh, Ho, S);
        uint32_t taps = 0;
        if (ny == 0u) continue;
        for (px = 0; px < W; px++)
            if (x[py * W + px] != 0) taps += taps_s(px + pad, kw, Wo, S);
        macs += (uint64_t)ny * taps;
    }
    c->macs += macs * co;
    for (g = 0; g < co; g += 4u) {
        int32_t b[4];
        const SNE_FLASH int8_t *wg = w + g;
        b[0] = sne_ld_i32(m, sp->b, g); b[1] = sne_ld_i32(m, sp->b, g + 1u);
        b[2] = sne_ld_i32(m, sp->b, g + 2u); b[3] = sne_ld_i32(m, sp->b, g + 3u);
        for (oy = 0; oy < Ho; oy++) {
            /* rows iy = oy*S + ky - pad inside the image: ky in [ky0, ky1) */
            const uint32_t y0 = oy * S;
            const uint32_t ky0 = y0 < pad ? pad - y0 : 0u;
            const uint32_t ky1 = y0 + kh - pad > H ? H + pad - y0 : kh;
            int32_t *orow = out + oy * Wo * co + g;
            ox = 0;
            if (SNE_SPECIALIZE && kh == 3u && kw == 3u && ky0 == 0u && ky1 == 3u) {
                /* a full row of a 3x3 conv: left border, then the interior with the nine taps
                 * unrolled, then the right border */
                for (; ox < ix0; ox++)
                    c1_pixel(x, W, wg, co, kw, pad, S, oy, ox, 0u, 3u, ox * S < pad ? pad - ox * S : 0u,
                             ox * S + 3u - pad > W ? W + pad - ox * S : 3u, b, orow + ox * co);
                if (ox < ix1) {
                    const uint8_t *x0 = x + (y0 - pad) * W + ox * S - pad;
                    int32_t *o = orow + ox * co;
                    for (; ox < ix1; ox++, x0 += S, o += co) {
                        int32_t a0 = b[0], a1 = b[1], a2 = b[2], a3 = b[3];
#define IN_TAP(dy, dx)                                                                        \
    do {                                                                                      \
        const int32_t v = x0[(dy) * W + (dx)];                                                \
        const SNE_FLASH int8_t *wk = wg + ((dy) * 3u + (dx)) * co;                            \
        if (v != 0) {                                                                         \
            a0 += v * SNE_LOAD_I8(wk); a1 += v * SNE_LOAD_I8(wk + 1);                         \
            a2 += v * SNE_LOAD_I8(wk + 2); a3 += v * SNE_LOAD_I8(wk + 3);                     \
        }                                                                                     \
    } while (0)
                        IN_TAP(0u, 0u); IN_TAP(0u, 1u); IN_TAP(0u, 2u);
                        IN_TAP(1u, 0u); IN_TAP(1u, 1u); IN_TAP(1u, 2u);
                        IN_TAP(2u, 0u); IN_TAP(2u, 1u); IN_TAP(2u, 2u);
#undef IN_TAP
                        o[0] = a0; o[1] = a1; o[2] = a2; o[3] = a3;
                    }
                }
            }
            for (; ox < Wo; ox++) {
                const uint32_t x0 = ox * S;
                const uint32_t kx0 = x0 < pad ? pad - x0 : 0u;
                const uint32_t kx1 = x0 + kw - pad > W ? W + pad - x0 : kw;
                c1_pixel(x, W, wg, co, kw, pad, S, oy, ox, ky0, ky1, kx0, kx1, b, orow + ox * co);
            }
        }
    }
    shift_all(out, Ho * Wo * co, sp->shift);
}

void sne_k_input_conv2d(const sne_model *m, const sne_op *op, const uint8_t *x, int32_t *out, sne_counts *c)
{
    uint32_t ci, any = 0;
    const sne_window *const g = &op->par.syn.win;
    for (ci = 0; ci < op->in_c && ci < SNE_MAX_ZERO_POINT; ci++) any |= m->zero_point[ci];
    if (SNE_SPECIALIZE && op->in_c == 1u && op->out_c % 4u == 0u && (any == 0u || g->pad == 0u)) {
        input_conv_c1(m, op, x, out, c);
        return;
    }
    conv_walk(m, op, x, any != 0u && g->pad != 0u ? m->zero_point : NULL, out, 0, c);
}

/* Spec §3.3 (a K step, sne.h SNE_OP_TABLE): in = spikes, out = cur; no state. */
void sne_k_conv2d(const sne_model *m, const sne_op *op, const void *in, void *out, void *state, sne_counts *c)
{
    (void)state;
    conv_walk(m, op, (const uint8_t *)in, NULL, (int32_t *)out, 1, c);
}
/* out[o] += sum_{i: x_i != 0} x_i * w[i][o] (spikes: += w, no multiply), w: the op's weights; out (one
 * row per nonzero input) counted as MACs for U8 input, synops for spikes (spec §3.2 / §3.4 / §3.11). */
static void dense_acc(const SNE_FLASH int8_t *w, const sne_op *op, const uint8_t *x, int32_t *out,
                      int spikes, sne_counts *c)
{
    const uint32_t n = op->in_h * op->in_w * op->in_c, o = op->out_c;
    uint32_t i;
    uint64_t adds = 0;
    for (i = 0; i < n; i++) {
        if (x[i] == 0) continue;
        if (spikes) row_add(out, w + i * o, o);
        else row_mac(out, w + i * o, (int32_t)x[i], o);
        adds += o;
    }
    if (spikes) c->synops += adds; else c->macs += adds;
}

/* Spec §3.2 / §3.4: cur[o] = rshr(bias[o] + sum_{i: x_i != 0} x_i * w[i][o], shift). */
static void dense_walk(const sne_model *m, const sne_op *op, const uint8_t *x, int32_t *out,
                       int spikes, sne_counts *c)
{
    const sne_syn_params *const sp = &op->par.syn;
    bias_init(m, sp->b, out, 1, op->out_c);
    dense_acc(m->w8 + sp->w, op, x, out, spikes, c);
    shift_all(out, op->out_c, sp->shift);
}

void sne_k_input_dense(const sne_model *m, const sne_op *op, const uint8_t *x, int32_t *out, sne_counts *c)
{
    dense_walk(m, op, x, out, 0, c);
}

/* Spec §3.4 (a K step): in = spikes, out = cur; no state. */
void sne_k_dense(const sne_model *m, const sne_op *op, const void *in, void *out, void *state, sne_counts *c)
{
    (void)state;
    dense_walk(m, op, (const uint8_t *)in, (int32_t *)out, 1, c);
}

/*
 * Spec §3.5, one neuron: step 1 leak (LEAK, an expression of v), step 2 x = satw(v' + cur,
 * state_bits) (SAT: sne_sat16 for 16-bit states, nothing for 32), step 3 spike = x >= th, step 4
 * reset, branch-free in the reset kind: on a spike x = (x - th) & keep, with keep = -1 (subtract:
 * x - th) or keep = 0 (zero: 0). The macros below expand it once per leak kind and state
 * width so that no per-neuron test of op fields remains (the kernels are the same arithmetic).
 */
#define LIF_NEURON(v, curv, th, keep, LEAK, SAT, spike)                      \
    do {                                                                     \
        int32_t x_ = SAT(sne_sat_add32((LEAK), (curv)));                     \
        (spike) = x_ >= (th);                                                \
        if (spike) x_ = (x_ - (th)) & (keep);                               \
        (v) = x_;                                                            \
    } while (0)
#define LIF_NOSAT(x) (x)

/* Leak expressions of v (spec §3.5 step 1) with lm = m, ls = s: mulshift rshr(v*m, s) (int64
 * product for 32-bit states, int32 for 16-bit: |v| <= 2^15, m <= 2^15), shift(1) v - rshr(v, 1) =
 * floor(v / 2) (v = 2a or 2a+1 both give a), shift(s) v - rshr(v, s). */
#define LEAK_MUL32 sne_leak_mulshift(v, lm, ls)
#define LEAK_SHIFT1 sne_floor_shr(v, 1)
#define LEAK_ANY16 lif_leak16(v, kind, lm, ls)
#define LEAK_ANY32 lif_leak32(v, kind, lm, ls)
/* theta[ch] of the op: straight from the int32 table when there is one (specialized mode). */
#define LIF_TH(ch) (thp != NULL ? SNE_LOAD_I32(thp + (ch)) : sne_ld_i32(m, lp->theta, (ch)))

/* Kept out of line where the compiler allows: the generic loops favour size over speed. */
#if defined(__GNUC__)
#define SNE_NOINLINE __attribute__((noinline))
#else
#define SNE_NOINLINE
#endif

/* The leak of a 32-bit state, any kind (the generic loop serves every leak). */
static SNE_NOINLINE int32_t lif_leak32(int32_t v, uint32_t kind, uint32_t lm, uint32_t ls)
{
    if (kind == 1u) return sne_leak_mulshift(v, lm, ls);
    if (kind >= 2u) return sne_leak_shift(v, ls);
    return v;
}

/* The leak of a 16-bit state, any kind (16-bit states are rare: one loop serves every leak). */
static SNE_NOINLINE int32_t lif_leak16(int32_t v, uint32_t kind, uint32_t lm, uint32_t ls)
{
    if (kind == 1u) return sne_leak_mulshift16(v, lm, ls);
    if (kind >= 2u) return sne_leak_shift(v, ls);
    return v;
}

/* The step-by-step LIF over n = H*W*C neurons, channel by channel (one threshold per channel). */
#define LIF_LOOP(STATE_T, LEAK, SAT, KEEP)                                        \
    for (ch = 0; ch < C; ch++) {                                             \
        const int32_t th = LIF_TH(ch);                     \
        STATE_T *vp = vs + ch;                                               \
        const int32_t *cp = cur + ch;                                        \
        uint8_t *sp = spk + ch;                                              \
        uint32_t left = n / C;                                               \
        while (left--) {                                                     \
            int32_t v = *vp;                                                 \
            int s_;                                                          \
            LIF_NEURON(v, *cp, th, KEEP, LEAK, SAT, s_);                 \
            *vp = (STATE_T)v;                                                \
            *sp = (uint8_t)s_;                                               \
            vp += C; cp += C; sp += C;                                       \
        }                                                                    \
    }

/* Leak kind as the kernels dispatch on it: 0 none, 1 mulshift, 2 shift(1), 3 shift(s >= 2). */
static uint32_t leak_kind(const sne_lif_params *lp)
{
    if (lp->leak == 1u) return 1u;
    if (lp->leak == 2u) return lp->leak_shift == 1u ? 2u : 3u;
    return 0u;
}

/*
 * Runs LOOP (a LIF_* loop macro over `vs`, the membranes as STATE_T) with the leak, saturation and
 * reset of `lp` (the op's sne_lif_params): 16-bit states one loop for every leak; 32-bit states a loop of their own for
 * shift(1) with either reset and for mulshift with subtract reset (SNE_SPECIALIZE), every other case
 * one generic loop.
 */
#define LIF_SPECIALIZED32(LOOP)                                              \
    if (!zero && kind == 2u) {                                               \
        LOOP(int32_t, LEAK_SHIFT1, LIF_NOSAT, -1)                            \
    } else if (zero && kind == 2u) {                                         \
        LOOP(int32_t, LEAK_SHIFT1, LIF_NOSAT, 0)                             \
    } else if (!zero && kind == 1u) {                                        \
        LOOP(int32_t, LEAK_MUL32, LIF_NOSAT, -1)                             \
    } else
#if !SNE_SPECIALIZE
#undef LIF_SPECIALIZED32
#define LIF_SPECIALIZED32(LOOP)
#endif
#define LIF_DISPATCH(LOOP)                                                   \
    if (lp->state_bits == 16u) {                                             \
        int16_t *vs = (int16_t *)vmem;                                       \
        const uint32_t kind = leak_kind(lp);                                 \
        (void)vs;                                                            \
        LOOP(int16_t, LEAK_ANY16, sne_sat16, keep)                           \
    } else {                                                                 \
        int32_t *vs = (int32_t *)vmem;                                       \
        const uint32_t kind = leak_kind(lp);                                 \
        (void)vs;                                                            \
        LIF_SPECIALIZED32(LOOP)                                              \
        {                                                                    \
            LOOP(int32_t, LEAK_ANY32, LIF_NOSAT, keep)                       \
        }                                                                    \
    }

/*
 * Spec §3.5, every neuron (y, x, c) of the op for one step: leak; v'' = satw(v' + cur, state_bits);
 * spike = v'' >= theta[c]; reset (subtract: v'' - theta[c], zero: 0). Counts: n neuron updates,
 * and n multiplies for mulshift.
 */
void sne_k_lif(const sne_model *m, const sne_op *op, const int32_t *cur, void *vmem, uint8_t *spk, sne_counts *c)
{
    const sne_lif_params *const lp = &op->par.lif;
    const uint32_t C = op->out_c, n = op->out_h * op->out_w * C, lm = lp->leak_mult, ls = lp->leak_shift;
    const int zero = lp->reset != 0u;
    const int32_t keep = zero ? 0 : -1;
    const SNE_FLASH int32_t *const thp = m->w32 != NULL ? m->w32 + lp->theta : NULL;
    uint32_t ch;
    (void)lm; (void)ls;
    LIF_DISPATCH(LIF_LOOP)
    c->neuron_updates += n;
    if (lp->leak == 1u) c->macs += n;
}

/*
 * The first LIF of a student, all T steps at once (deployed builds only: sne_run.c uses it when no
 * trace is taken). Its input current is the input op's output, the same at every step, so each
 * neuron's T steps run with v in a register: exactly the steps of sne_k_lif, neuron by neuron
 * instead of step by step (neurons are independent). Output: one byte per output element at `out`
 * whose bit t is the spike at step t (T <= 8; sne_k_plane() turns it into step t's 0/1 spikes):
 *   pool = 0: the op's spikes (n bytes);
 *   pool = 2: maxpool 2 of them (spec §3.6, (H/2)*(W/2)*C bytes): the OR over each window; neurons
 *             in a dropped trailing row/column reach no output, so they are not run.
 * Counts as T calls of sne_k_lif (every neuron is counted, run or not).
 */
#define LIF_STEM_N(x0, STATE_T, LEAK, SAT, KEEP)                              \
    do {                                                                     \
        const int32_t xc_ = (x0);                                            \
        int32_t v = 0;                                                       \
        uint32_t bit = 1u;                                                   \
        do {                                                                 \
            int s_;                                                          \
            LIF_NEURON(v, xc_, th, KEEP, LEAK, SAT, s_);                     \
            v = (STATE_T)v;                                                  \
            if (s_) bits |= bit;                                             \
            bit <<= 1;                                                       \
        } while (bit != end);                                                \
    } while (0)
#define LIF_STEM(STATE_T, LEAK, SAT, KEEP)                                   \
    for (ch = 0; ch < C; ch++) {                                             \
        const int32_t th = LIF_TH(ch);                                       \
        uint32_t py, px;                                                     \
        for (py = 0; py < Hp; py++) {                                        \
            const int32_t *cp = cur + py * p * WC + ch;                      \
            uint8_t *o = out + py * Wp * C + ch;                             \
            for (px = 0; px < Wp; px++, cp += p * C, o += C) {               \
                uint32_t bits = 0;                                           \
                if (SNE_SPECIALIZE) {                                        \
                    LIF_STEM_N(cp[0], STATE_T, LEAK, SAT, KEEP);             \
                    if (p == 2u) {                                           \
                        LIF_STEM_N(cp[C], STATE_T, LEAK, SAT, KEEP);         \
                        LIF_STEM_N(cp[WC], STATE_T, LEAK, SAT, KEEP);        \
                        LIF_STEM_N(cp[WC + C], STATE_T, LEAK, SAT, KEEP);    \
                    }                                                        \
                } else {                                                     \
                    uint32_t k_;                                             \
                    for (k_ = 0; k_ < p * p; k_++)                           \
                        LIF_STEM_N(cp[(k_ >> 1) * WC + (k_ & 1u) * C], STATE_T, LEAK, SAT, KEEP); \
                }                                                            \
                *o = (uint8_t)bits;                                          \
            }                                                                \
        }                                                                    \
    }

/* plane[i] = bit t of mask[i] (0/1), i < n: step t's spikes from the stem's bit masks; four at a
 * time as words (memcpy: no alignment or aliasing assumption). */
void sne_k_plane(const uint8_t *mask, uint8_t *plane, uint32_t n, uint32_t t)
{
    uint32_t i = 0;
    for (; i + 4u <= n; i += 4u) {
        uint32_t w;
        memcpy(&w, mask + i, 4);
        w = (w >> t) & 0x01010101u;
        memcpy(plane + i, &w, 4);
    }
    for (; i < n; i++) plane[i] = (uint8_t)(((uint32_t)mask[i] >> t) & 1u);
}

void sne_k_lif_stem(const sne_model *m, const sne_op *op, const int32_t *cur, uint32_t T, uint32_t pool, /* 0 or 2 */
                    uint8_t *out, sne_counts *c)
{
    const sne_lif_params *const lp = &op->par.lif;
    const uint32_t C = op->out_c, W = op->out_w, n = op->out_h * W * C, lm = lp->leak_mult, ls = lp->leak_shift;
    const uint32_t p = pool == 2u ? 2u : 1u, Hp = op->out_h / p, Wp = W / p, WC = W * C, end = 1u << T;
    const int zero = lp->reset != 0u;
    const int32_t keep = zero ? 0 : -1;
    const SNE_FLASH int32_t *const thp = m->w32 != NULL ? m->w32 + lp->theta : NULL;
    void *const vmem = NULL;                /* no membranes kept: they live in registers */
    uint32_t ch;
    (void)lm; (void)ls;
    LIF_DISPATCH(LIF_STEM)
    c->neuron_updates += (uint64_t)n * T;
    if (lp->leak == 1u) c->macs += (uint64_t)n * T;
}

/*
 * A lif followed by a maxpool of size 2, one step (deployed builds only: sne_run.c uses it when no trace is
 * taken, so the lif's own spikes are never observed): each pooled output out[py][px][ch] is the OR
 * of the spikes of its 2 x 2 window, computed neuron by neuron exactly as sne_k_lif (same leak,
 * saturation, compare and reset; the membranes are updated in place). Neurons of dropped trailing
 * rows/columns reach no output and are not run. Counts as sne_k_lif (all n neurons).
 * `out` may be the buffer that holds `cur` (sne_run.c puts the pooled spikes where the maxpool would,
 * which is the lif's input buffer): windows are visited in output order, all channels of a window
 * before the next, and output byte b = w*C + ch of window w lies in int32 element b/4 of cur, whose
 * pixel b/(4C) <= w/4 belongs to a window already visited (or to a dropped column), so no element
 * is overwritten before it is read.
 */
#define LIF_POOL_N(off, STATE_T, LEAK, SAT, KEEP)                                                    \
    do {                                                                     \
        int32_t v = vp[off];                                                 \
        int s_;                                                              \
        LIF_NEURON(v, cp[off], th, KEEP, LEAK, SAT, s_);                 \
        vp[off] = (STATE_T)v;                                                \
        any |= s_;                                                           \
    } while (0)
#define LIF_POOL(STATE_T, LEAK, SAT, KEEP)                                        \
    for (py = 0; py < Hp; py++) {                                            \
        const int32_t *cp = cur + py * 2u * WC;                              \
        STATE_T *vp = vs + py * 2u * WC;                                     \
        uint8_t *o = out + py * Wp * C;                                      \
        for (px = 0; px < Wp; px++, cp += C, vp += C)                        \
            for (ch = 0; ch < C; ch++, cp++, vp++, o++) {                    \
                const int32_t th = LIF_TH(ch);             \
                int any = 0;                                                 \
                if (SNE_SPECIALIZE) {                                        \
                    LIF_POOL_N(0, STATE_T, LEAK, SAT, KEEP); LIF_POOL_N(C, STATE_T, LEAK, SAT, KEEP); \
                    LIF_POOL_N(WC, STATE_T, LEAK, SAT, KEEP); LIF_POOL_N(WC + C, STATE_T, LEAK, SAT, KEEP); \
                } else {                                                     \
                    uint32_t k_;                                             \
                    for (k_ = 0; k_ < 4u; k_++) LIF_POOL_N((k_ >> 1) * WC + (k_ & 1u) * C, STATE_T, LEAK, SAT, KEEP); \
                }                                                            \
                *o = (uint8_t)any;                                           \
            }                                                                \
    }

void sne_k_lif_pool2(const sne_model *m, const sne_op *op, const int32_t *cur, void *vmem, uint8_t *out, sne_counts *c)
{
    const sne_lif_params *const lp = &op->par.lif;
    const uint32_t C = op->out_c, W = op->out_w, n = op->out_h * W * C, lm = lp->leak_mult, ls = lp->leak_shift;
    const uint32_t Hp = op->out_h / 2u, Wp = W / 2u, WC = W * C;
    const int zero = lp->reset != 0u;
    const int32_t keep = zero ? 0 : -1;
    const SNE_FLASH int32_t *const thp = m->w32 != NULL ? m->w32 + lp->theta : NULL;
    uint32_t ch, py, px;
    (void)lm; (void)ls;
    LIF_DISPATCH(LIF_POOL)
    c->neuron_updates += n;
    if (lp->leak == 1u) c->macs += n;
}

/* ---- Loihi ops (spec §3.10-§3.12, Spike IR 2.1) ---- */

/* int16 element i of the little-endian table at byte offset `off` of w8 (loihi_lif bias_mant). */
static int32_t ld_i16(const sne_model *m, uint32_t off, uint32_t i)
{
    const SNE_FLASH int8_t *p = m->w8 + off + 2u * i;
    const uint32_t u = (uint32_t)(uint8_t)SNE_LOAD_I8(p) | ((uint32_t)(uint8_t)SNE_LOAD_I8(p + 1) << 8);
    return u < 0x8000u ? (int32_t)u : (int32_t)u - 65536;
}

/* out[0..n) = p[0..n) (what Lava's a_out sends this step), then p[0..n) = 0. */
static void pending_out(int32_t *p, int32_t *out, uint32_t n)
{
    uint32_t i;
    for (i = 0; i < n; i++) { out[i] = p[i]; p[i] = 0; }
}

/*
 * Spec §3.11 loihi_dense (Lava's bit-accurate Dense, one step of delay), s: spikes[in] 0/1,
 * p = state: pending int32[out] (0 at the start of every inference), out: cur int32[out]:
 *   out[o] = p[o];  p[o] = scale(sum_{i: s[i] = 1} w[i][o], weight_exp)
 *   scale(x, e) = x * 2^e (e >= 0), floor_shr(x, -e) (e < 0)     (sne_loihi_wscale)
 * The sum and the scaled value are exact in int32 (§7.8: |p| <= 2^15 - 1). Counts: out synops per spike.
 */
void sne_k_loihi_dense(const sne_model *m, const sne_op *op, const void *in, void *out, void *state, sne_counts *c)
{
    const uint8_t *const s = (const uint8_t *)in;
    int32_t *const p = (int32_t *)state;
    const uint32_t n = op->out_c;
    const int32_t e = op->par.loihi_dense.weight_exp;
    uint32_t o;
    pending_out(p, (int32_t *)out, n);
    dense_acc(m->w8 + op->par.loihi_dense.w, op, s, p, 1, c);
    if (e != 0)
        for (o = 0; o < n; o++) p[o] = sne_loihi_wscale(p[o], e);
}

/*
 * Spec §3.12 loihi_conv2d (Lava's fixed-point Conv, one step of delay), geometry and weight layout
 * [cin][kh][kw][cout] of §3.3, no bias, no shift; p = state: pending int32[Ho*Wo*cout]:
 *   out = p;  p[oy][ox][co] = sum over the spikes s[iy][ix][ci] = 1 of w[ci][ky][kx][co]
 * exact in int32 (§7.8: |p| <= 2^15 - 1). Counts as §3.3: cout synops per (spike, valid tap).
 */
void sne_k_loihi_conv2d(const sne_model *m, const sne_op *op, const void *in, void *out, void *state, sne_counts *c)
{
    int32_t *const p = (int32_t *)state;
    pending_out(p, (int32_t *)out, op->out_h * op->out_w * op->out_c);
    conv_acc(m->w8 + op->par.loihi_conv2d.w, &op->par.loihi_conv2d.win, op, (const uint8_t *)in, NULL, p, 1, c);
}

/*
 * Spec §3.10 loihi_lif (Lava's CUBA LIF, PyLifModelBitAcc), per neuron i of channel ch = i mod C,
 * cur: int32[n] input, u, v: int32[n] state (0 at the start of every inference), spk: 0/1 [n]:
 *   a = cur[i] (source synaptic) or 0;  mant = bias_mant[ch] + (cur[i] if source bias, else 0)
 *   u = decay(u, 4095 - du) + a * 2^6;  v = decay(v, 4096 - dv) + u + mant * 2^bias_exp,
 *   decay = trunc(x * keep / 4096) toward zero; v saturated to +-(2^23 - 1);
 *   spike = v > vth * 2^6 (strict); on a spike v = 0 (u is kept).       (sne_loihi_lif_step)
 * Counts: n neuron updates and 2n multiplies (the two decays) per step.
 */
void sne_k_loihi_lif(const sne_model *m, const sne_op *op, const int32_t *cur, int32_t *u, int32_t *v,
                     uint8_t *spk, sne_counts *c)
{
    const uint32_t C = op->out_c, n = op->out_h * op->out_w * C;
    const sne_loihi_lif_params *const lp = &op->par.loihi_lif;
    const uint32_t du = lp->du, dv = lp->dv, be = lp->bias_exp;
    const int32_t vth = (int32_t)lp->vth;
    const int bias_src = lp->source == 1u;
    uint32_t ch, i;
    for (ch = 0; ch < C; ch++) {
        const int32_t mant = ld_i16(m, lp->bias_mant, ch);
        for (i = ch; i < n; i += C) {
            const int32_t x = cur[i];
            spk[i] = bias_src ? sne_loihi_lif_step(&u[i], &v[i], 0, mant + x, du, dv, vth, be)
                              : sne_loihi_lif_step(&u[i], &v[i], x, mant, du, dv, vth, be);
        }
    }
    c->neuron_updates += n;
    c->macs += 2ull * n;
}

/* Spec §3.6: OR over each p x p window (stride p, trailing rows/columns dropped). No counts.
 * Spikes are 0/1 bytes, so when C is a multiple of 4 four channels are ORed at once as one 32-bit
 * word (memcpy: no alignment or aliasing assumption; one load/store where the target allows).
 * A K step: in = spikes s, out = spikes; no state. */
void sne_k_maxpool(const sne_model *m, const sne_op *op, const void *in, void *outp, void *state, sne_counts *c)
{
    const uint8_t *const s = (const uint8_t *)in;
    uint8_t *const out = (uint8_t *)outp;
    const uint32_t p = op->par.pool.size, W = op->in_w, C = op->in_c;
    uint32_t oy, ox, ch, dy, dx;
    (void)m; (void)state; (void)c;
    if (C % 4u == 0u) {
        for (oy = 0; oy < op->out_h; oy++)
            for (ox = 0; ox < op->out_w; ox++) {
                const uint8_t *win = s + ((oy * p) * W + ox * p) * C;
                uint8_t *o = out + (oy * op->out_w + ox) * C;
                for (ch = 0; ch < C; ch += 4u) {
                    uint32_t v = 0, u;
                    for (dy = 0; dy < p; dy++)
                        for (dx = 0; dx < p; dx++) { memcpy(&u, win + (dy * W + dx) * C + ch, 4); v |= u; }
                    memcpy(o + ch, &v, 4);
                }
            }
        return;
    }
    for (oy = 0; oy < op->out_h; oy++)
        for (ox = 0; ox < op->out_w; ox++)
            for (ch = 0; ch < C; ch++) {
                uint8_t v = 0;
                for (dy = 0; dy < p; dy++)
                    for (dx = 0; dx < p; dx++) v |= s[((oy * p + dy) * W + ox * p + dx) * C + ch];
                out[(oy * op->out_w + ox) * C + ch] = v != 0 ? 1u : 0u;
            }
}

/* Spec §3.7: out = rshr(sum of the p x p window, 2*log2 p), p in {2, 4}; p*p synops per output.
 * A K step: in = cur x, out = cur; no state. */
void sne_k_avgpool(const sne_model *m, const sne_op *op, const void *in, void *outp, void *state, sne_counts *c)
{
    const int32_t *const x = (const int32_t *)in;
    int32_t *const out = (int32_t *)outp;
    const uint32_t p = op->par.pool.size, W = op->in_w, C = op->in_c, sh = p == 2u ? 2u : 4u;
    uint32_t oy, ox, ch, dy, dx;
    (void)m; (void)state;
    for (oy = 0; oy < op->out_h; oy++)
        for (ox = 0; ox < op->out_w; ox++)
            for (ch = 0; ch < C; ch++) {
                int32_t sum = 0;
                for (dy = 0; dy < p; dy++)
                    for (dx = 0; dx < p; dx++) sum += x[((oy * p + dy) * W + ox * p + dx) * C + ch];
                out[(oy * op->out_w + ox) * C + ch] = sne_rshr(sum, sh);
            }
    c->synops += (uint64_t)op->out_h * op->out_w * C * p * p;
}

/* Spec §3.9: acc[i] += cur[i] (exact by §7.4); one synop per element per step. */
void sne_k_readout(uint32_t n, const int32_t *cur, int32_t *acc, sne_counts *c)
{
    uint32_t i;
    for (i = 0; i < n; i++) acc[i] += cur[i];
    c->synops += n;
}

/* Spec §6: logits[c] += sum_i q[i] * w_k[i][c]; F * classes multiplies (exact by §7.5). */
void sne_k_head(const sne_model *m, const sne_student *st, const int8_t *q, int32_t *logits, sne_counts *c)
{
    const uint32_t F = st->features, K = m->classes;
    const SNE_FLASH int8_t *w = m->w8 + st->head_w;
    uint32_t i;
    for (i = 0; i < F; i++)
        if (q[i] != 0) row_mac(logits, w + i * K, (int32_t)q[i], K);
    c->macs += (uint64_t)F * K;
}

/* Spec §5.1 step 1: g[oy][ox][c] = rshr(sum of the p x p window of x, 2*log2 p), values 0..255. */
static void gate_pool(const uint8_t *x, uint8_t *g, uint32_t Hp, uint32_t Wp, uint32_t W, uint32_t C, uint32_t p)
{
    const uint32_t sh = p == 2u ? 2u : 4u;
    uint32_t oy, ox, ch, dy, dx;
    for (oy = 0; oy < Hp; oy++)
        for (ox = 0; ox < Wp; ox++)
            for (ch = 0; ch < C; ch++) {
                int32_t sum = 0;
                const uint8_t *px = x + ((oy * p) * W + ox * p) * C + ch;
                for (dy = 0; dy < p; dy++)
                    for (dx = 0; dx < p; dx++) sum += px[(dy * W + dx) * C];
                g[(oy * Wp + ox) * C + ch] = (uint8_t)sne_rshr(sum, sh);
            }
}

/* dst[o] = bias[o] + sum_i a[i] * w[i][o] (zero terms skipped: they add 0). */
static void vec_mat(const sne_model *m, uint32_t boff, const SNE_FLASH int8_t *w, const uint8_t *a,
                    uint32_t in, uint32_t out, int32_t *dst)
{
    uint32_t i;
    bias_init(m, boff, dst, 1, out);
    for (i = 0; i < in; i++)
        if (a[i] != 0) row_mac(dst, w + i * out, (int32_t)a[i], out);
}

/*
 * Spec §5.1: pool (pool > 1: rshr(window sum, 2*log2 pool), pool*pool synops per output), then
 * dense layers acc[o] = bias[o] + sum_i a[i] * w[i][o] (in*out MACs, all terms), hidden layers
 * a'[o] = requant(acc[o], mult, shift, 0, 127) (out MACs). Scores = last layer's acc.
 * Arena use: see sne_plan_gate().
 */
void sne_k_gate(const sne_model *m, const uint8_t *x, uint8_t *arena, int32_t *scores, sne_counts *c)
{
    const uint32_t p = m->gate_pool, C = m->in_c, W = m->in_w;
    const uint32_t Hp = m->in_h / p, Wp = m->in_w / p, n0 = Hp * Wp * C;
    const uint8_t *a = x;
    uint32_t l, maxout = 0;
    uint8_t *g, *act;
    int32_t *acc;
    maxout = sne_gate_maxout(m);
    acc = (int32_t *)(void *)arena;
    act = arena + 4u * maxout;
    g = act + sne_align4(maxout) * 2u;
    if (p > 1u) {
        gate_pool(x, g, Hp, Wp, W, C, p);
        c->synops += (uint64_t)n0 * p * p;
        a = g;
    }
    for (l = 0; l < m->gate_layers; l++) {
        sne_gate_layer gl;
        const SNE_FLASH int8_t *w;
        int32_t *dst = l + 1u == m->gate_layers ? scores : acc;
        uint8_t *next = act + (l % 2u) * sne_align4(maxout);
        uint32_t o;
        sne_get_gate(m, l, &gl);
        w = m->w8 + gl.w;
        vec_mat(m, gl.b, w, a, gl.in, gl.out, dst);
        c->macs += (uint64_t)gl.in * gl.out;
        if (l + 1u < m->gate_layers) {
            for (o = 0; o < gl.out; o++) next[o] = (uint8_t)sne_requant(dst[o], gl.mult, gl.shift, 0, 127);
            c->macs += gl.out;
            a = next;
        }
    }
}
