/* Linear layer y = x Wᵀ (+ b) on binary spike rows x (every value 0 or 1): forward and weight gradient
 * with subset-sum tables instead of multiplications ("four Russians" over groups of 4).
 *
 * x rows are packed into 64-bit words (bit i of row n = x[n][i] == 1). Input group g covers inputs
 * 4g..4g+3, its pattern in row n is p = (bits[n] >> 4g) & 15; image group h covers rows 4h..4h+3.
 *
 *   table    T[g][0][o] = 0, T[g][p][o] = fl( T[g][p - low(p)][o] + W[o][4g + log2 low(p)] ) (low(p): the lowest
 *            set bit of p; W = 0 past the last input), built per chunk of groups from the transposed weight
 *   forward  y[n][o] = fl( sum over chunks of SNE_LIN_CHUNK groups in order of
 *                          fl( sum over the chunk's groups g in order of T[g][p(n, g)][o], from 0 ), from 0 ) [+ b[o]]
 *   subsets  S[h][p][o] = fl( S[h][p - low(p)][o] + dy[4h + log2 low(p)][o] ), S[h][0] = 0 (dy = 0 past the last row)
 *   wgrad    dwT[i][o] += fl( sum over the image groups h of each chunk of SNE_LIN_HCHUNK in order of
 *                             S[h][q(h, i)][o], from 0 ), chunks in order; q(h, i) = sum over j of x[4h+j][i] << j
 *
 * Each output is the same sum in the same order on every path (additions only, no FMA contraction),
 * so AVX-512 and portable C give the same bits, for any split of rows or inputs across threads. */
#include "sne_kernels.h"
#include <string.h>
#include <stdint.h>

#pragma STDC FP_CONTRACT OFF
#if defined(__clang__)
#pragma clang fp contract(off)
#endif

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define SNE_LIN_X86 1
#endif

#define SNE_LIN_CHUNK 16   /* input groups per forward chunk (16 x 16 table rows of `out` floats) */
#define SNE_LIN_HCHUNK 4   /* image groups per weight-gradient chunk */

int sne_spike_rows_words(int in) { return (in + 63) / 64; }

/* bits (words per row = sne_spike_rows_words(in)) of one row; returns 0 when a value is neither 0 nor 1. */
static int pack_row(const float *x, int in, uint64_t *bits) {
    const int words = sne_spike_rows_words(in);
    uint32_t bad = 0;
    for (int w = 0; w < words; w++) {
        uint64_t m = 0;
        const int n = in - 64 * w < 64 ? in - 64 * w : 64;
        for (int i = 0; i < n; i++) {
            const float v = x[64 * w + i];
            m |= (uint64_t)(v == 1.0f) << i;
            bad |= (uint32_t)(v != 1.0f && v != 0.0f);
        }
        bits[w] = m;
    }
    return bad == 0;
}

#ifdef SNE_LIN_X86
/* pack_row with AVX-512 compares, 16 inputs per vector. */
__attribute__((target("avx512f")))
static int pack_row_avx512(const float *x, int in, uint64_t *bits) {
    const int words = sne_spike_rows_words(in);
    const __m512 one = _mm512_set1_ps(1.0f), zero = _mm512_setzero_ps();
    for (int w = 0; w < words; w++) {
        uint64_t m = 0;
        for (int k = 0; k < 4; k++) {
            const int i0 = 64 * w + 16 * k;
            if (i0 >= in) break;
            const __mmask16 valid = in - i0 >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (in - i0)) - 1u);
            const __m512 v = _mm512_maskz_loadu_ps(valid, x + i0);
            const __mmask16 ones = _mm512_mask_cmp_ps_mask(valid, v, one, _CMP_EQ_OQ);
            const __mmask16 zeros = _mm512_mask_cmp_ps_mask(valid, v, zero, _CMP_EQ_OQ);
            if ((uint32_t)(ones | zeros) != (uint32_t)valid) return 0;
            m |= (uint64_t)ones << (16 * k);
        }
        bits[w] = m;
    }
    return 1;
}
#endif

/* Rows [n0, n1) of x (n, in) packed into bits (n, words); returns 0 when some value is neither 0 nor 1. */
int sne_spike_pack_rows(int path, const float *x, int n0, int n1, int in, uint64_t *bits) {
    const int words = sne_spike_rows_words(in);
    for (int n = n0; n < n1; n++) {
        int ok;
#ifdef SNE_LIN_X86
        ok = path == 2 ? pack_row_avx512(x + (size_t)n * in, in, bits + (size_t)n * words) : pack_row(x + (size_t)n * in, in, bits + (size_t)n * words);
#else
        (void)path;
        ok = pack_row(x + (size_t)n * in, in, bits + (size_t)n * words);
#endif
        if (!ok) return 0;
    }
    return 1;
}

/* Table of one chunk of input groups [g0, g1) from wT (in, out) = the transposed weight, portable C:
 * T[g - g0][0] = 0, T[g - g0][p] = fl( T[g - g0][p - low(p)] + wT[4g + log2 low(p)] ) (0 past the last input). */
static void chunk_table(const float *wT, int in, int out, int g0, int g1, float *T) {
    for (int g = g0; g < g1; g++) {
        float *Tg = T + (size_t)(g - g0) * 16 * out;
        for (int o = 0; o < out; o++) Tg[o] = 0.0f;
        for (int p = 1; p < 16; p++) {
            const int i = 4 * g + __builtin_ctz((unsigned)p);
            const float *prev = Tg + (size_t)(p & (p - 1)) * out;
            float *t = Tg + (size_t)p * out;
            if (i < in) { const float *w = wT + (size_t)i * out; for (int o = 0; o < out; o++) t[o] = prev[o] + w[o]; }
            else for (int o = 0; o < out; o++) t[o] = prev[o] + 0.0f;
        }
    }
}

/* Pattern of input group g in a packed row. */
static inline uint32_t group_pattern(const uint64_t *row, int g) { return (uint32_t)(row[g >> 4] >> (4 * (g & 15))) & 15u; }

/* One chunk's sums added to rows [n0, n1) of y, portable C (acc: out floats). */
static void fwd_chunk_scalar(const uint64_t *bits, int words, int n0, int n1, int g0, int g1, int out, const float *T,
                             float *y, float *acc) {
    for (int n = n0; n < n1; n++) {
        const uint64_t *row = bits + (size_t)n * words;
        for (int o = 0; o < out; o++) acc[o] = 0.0f;
        for (int g = g0; g < g1; g++) {
            const float *t = T + ((size_t)(g - g0) * 16 + group_pattern(row, g)) * out;
            for (int o = 0; o < out; o++) acc[o] += t[o];
        }
        float *yn = y + (size_t)n * out;
        for (int o = 0; o < out; o++) yn[o] += acc[o];
    }
}

#ifdef SNE_LIN_X86
/* NV vectors of 16 outputs from o0, rows [n0, n1), one chunk [g0, g1): the chunk sums added to y. */
__attribute__((target("avx512f"), always_inline))
static inline void fwd_chunk_block_avx512(int NV, const uint64_t *bits, int words, int n0, int n1, int g0, int g1, int out, int o0,
                                          const float *T, float *y) {
    for (int n = n0; n < n1; n++) {
        const uint64_t *row = bits + (size_t)n * words;
        __m512 a[8];
        for (int v = 0; v < NV; v++) a[v] = _mm512_setzero_ps();
        for (int g = g0; g < g1; g++) {
            const float *t = T + ((size_t)(g - g0) * 16 + group_pattern(row, g)) * out + o0;
            for (int v = 0; v < NV; v++) a[v] = _mm512_add_ps(a[v], _mm512_load_ps(t + 16 * v));
        }
        float *yn = y + (size_t)n * out + o0;
        for (int v = 0; v < NV; v++) _mm512_storeu_ps(yn + 16 * v, _mm512_add_ps(_mm512_loadu_ps(yn + 16 * v), a[v]));
    }
}

/* One chunk with AVX-512 (out a multiple of 16, T 64-byte aligned). */
__attribute__((target("avx512f")))
static void fwd_chunk_avx512(const uint64_t *bits, int words, int n0, int n1, int g0, int g1, int out, const float *T, float *y) {
    for (int o0 = 0; o0 < out; o0 += 128) {
        const int nv = out - o0 >= 128 ? 8 : (out - o0) / 16;
        switch (nv) {
            case 8: fwd_chunk_block_avx512(8, bits, words, n0, n1, g0, g1, out, o0, T, y); break;
            case 4: fwd_chunk_block_avx512(4, bits, words, n0, n1, g0, g1, out, o0, T, y); break;
            case 2: fwd_chunk_block_avx512(2, bits, words, n0, n1, g0, g1, out, o0, T, y); break;
            default:
                for (int v = 0; v < nv; v++) fwd_chunk_block_avx512(1, bits, words, n0, n1, g0, g1, out, o0 + 16 * v, T, y);
        }
    }
}

__attribute__((target("avx512f")))
static void chunk_table_avx512(const float *wT, int in, int out, int g0, int g1, float *T) { chunk_table(wT, in, out, g0, g1, T); }
__attribute__((target("avx2")))
static void chunk_table_avx2(const float *wT, int in, int out, int g0, int g1, float *T) { chunk_table(wT, in, out, g0, g1, T); }
__attribute__((target("avx2")))
static void fwd_chunk_avx2(const uint64_t *bits, int words, int n0, int n1, int g0, int g1, int out, const float *T,
                           float *y, float *acc) {
    fwd_chunk_scalar(bits, words, n0, n1, g0, g1, out, T, y, acc);
}
#endif

size_t sne_spike_linear_workspace_floats(int out) {
    const int t = SNE_LIN_CHUNK > SNE_LIN_HCHUNK ? SNE_LIN_CHUNK : SNE_LIN_HCHUNK;
    return (size_t)t * 16 * out + out + 64;
}

/* Rows [n0, n1): y[n][o] = the forward sums of the header, + bias[o] (one add) when bias is not NULL.
 * wT (in, out): the transposed weight; each chunk's table is built in ws
 * (sne_spike_linear_workspace_floats(out) floats, any alignment). */
void sne_spike_linear_fwd(int path, const uint64_t *bits, int n0, int n1, int in, int out, const float *wT,
                          const float *bias, float *y, float *ws) {
    const int words = sne_spike_rows_words(in), G = (in + 3) / 4;
    float *T = (float *)(((uintptr_t)ws + 63) & ~(uintptr_t)63), *acc = T + (size_t)SNE_LIN_CHUNK * 16 * out;
    for (int n = n0; n < n1; n++) memset(y + (size_t)n * out, 0, sizeof(float) * (size_t)out);
    for (int g0 = 0; g0 < G; g0 += SNE_LIN_CHUNK) {
        const int g1 = g0 + SNE_LIN_CHUNK < G ? g0 + SNE_LIN_CHUNK : G;
#ifdef SNE_LIN_X86
        if (path == 2 && out % 16 == 0) { chunk_table_avx512(wT, in, out, g0, g1, T); fwd_chunk_avx512(bits, words, n0, n1, g0, g1, out, T, y); continue; }
        if (path >= 1) { chunk_table_avx2(wT, in, out, g0, g1, T); fwd_chunk_avx2(bits, words, n0, n1, g0, g1, out, T, y, acc); continue; }
#else
        (void)path;
#endif
        chunk_table(wT, in, out, g0, g1, T);
        fwd_chunk_scalar(bits, words, n0, n1, g0, g1, out, T, y, acc);
    }
    if (bias)
        for (int n = n0; n < n1; n++)
            for (int o = 0; o < out; o++) y[(size_t)n * out + o] += bias[o];
}

/* Subset sums of image groups [h0, h1) (S[h - h0][p][o], rows past n read as dy = 0), portable C. */
static void subsets(const float *dy, int n, int out, int h0, int h1, float *S) {
    for (int h = h0; h < h1; h++) {
        float *Sh = S + (size_t)(h - h0) * 16 * out;
        for (int o = 0; o < out; o++) Sh[o] = 0.0f;
        for (int p = 1; p < 16; p++) {
            const int j = __builtin_ctz((unsigned)p), r = 4 * h + j;
            const float *prev = Sh + (size_t)(p & (p - 1)) * out;
            float *o_ = Sh + (size_t)p * out;
            for (int o = 0; o < out; o++) o_[o] = prev[o] + (r < n ? dy[(size_t)r * out + o] : 0.0f);
        }
    }
}

/* Pattern of input i over the rows of image group h: bit j = x[4h + j][i] (0 past row n). */
static inline uint32_t image_pattern(const uint64_t *bits, int words, int n, int h, int i) {
    uint32_t q = 0;
    for (int j = 0; j < 4; j++) {
        const int r = 4 * h + j;
        if (r < n) q |= (uint32_t)(bits[(size_t)r * words + (i >> 6)] >> (i & 63) & 1u) << j;
    }
    return q;
}

/* The weight-gradient sums of the header for inputs [i0, i1) and one chunk of image groups, portable C. */
static void wgrad_chunk_scalar(const uint64_t *bits, int words, int n, int h0, int h1, int i0, int i1, int out,
                               const float *S, float *dwT, float *acc) {
    for (int i = i0; i < i1; i++) {
        for (int o = 0; o < out; o++) acc[o] = 0.0f;
        for (int h = h0; h < h1; h++) {
            const float *s = S + ((size_t)(h - h0) * 16 + image_pattern(bits, words, n, h, i)) * out;
            for (int o = 0; o < out; o++) acc[o] += s[o];
        }
        float *d = dwT + (size_t)i * out;
        for (int o = 0; o < out; o++) d[o] += acc[o];
    }
}

#ifdef SNE_LIN_X86
/* wgrad_chunk_scalar with AVX-512, NV vectors of 16 outputs from o0 (S and dwT 64-byte aligned). */
__attribute__((target("avx512f"), always_inline))
static inline void wgrad_chunk_block_avx512(int NV, const uint64_t *bits, int words, int n, int h0, int h1, int i0, int i1,
                                            int out, int o0, const float *S, float *dwT) {
    for (int i = i0; i < i1; i++) {
        __m512 a[8];
        for (int v = 0; v < NV; v++) a[v] = _mm512_setzero_ps();
        for (int h = h0; h < h1; h++) {
            const float *s = S + ((size_t)(h - h0) * 16 + image_pattern(bits, words, n, h, i)) * out + o0;
            for (int v = 0; v < NV; v++) a[v] = _mm512_add_ps(a[v], _mm512_load_ps(s + 16 * v));
        }
        float *d = dwT + (size_t)i * out + o0;
        for (int v = 0; v < NV; v++) _mm512_store_ps(d + 16 * v, _mm512_add_ps(_mm512_load_ps(d + 16 * v), a[v]));
    }
}

__attribute__((target("avx512f")))
static void wgrad_chunk_avx512(const uint64_t *bits, int words, int n, int h0, int h1, int i0, int i1, int out,
                               const float *S, float *dwT) {
    for (int o0 = 0; o0 < out; o0 += 128) {
        const int nv = out - o0 >= 128 ? 8 : (out - o0) / 16;
        switch (nv) {
            case 8: wgrad_chunk_block_avx512(8, bits, words, n, h0, h1, i0, i1, out, o0, S, dwT); break;
            case 4: wgrad_chunk_block_avx512(4, bits, words, n, h0, h1, i0, i1, out, o0, S, dwT); break;
            case 2: wgrad_chunk_block_avx512(2, bits, words, n, h0, h1, i0, i1, out, o0, S, dwT); break;
            default:
                for (int v = 0; v < nv; v++) wgrad_chunk_block_avx512(1, bits, words, n, h0, h1, i0, i1, out, o0 + 16 * v, S, dwT);
        }
    }
}

__attribute__((target("avx2")))
static void wgrad_chunk_avx2(const uint64_t *bits, int words, int n, int h0, int h1, int i0, int i1, int out,
                             const float *S, float *dwT, float *acc) {
    wgrad_chunk_scalar(bits, words, n, h0, h1, i0, i1, out, S, dwT, acc);
}
#endif

/* dwT (in, out), rows [i0, i1) set to the weight-gradient sums of the header (from 0) for n packed
 * rows bits and dy (n, out). dwT 64-byte aligned. ws: sne_spike_linear_workspace_floats(out), any
 * alignment. Same bits for any split of [0, in) and on every path. */
void sne_spike_linear_wgrad(int path, const uint64_t *bits, int n, int in, int out, const float *dy, int i0, int i1,
                            float *dwT, float *ws) {
    const int words = sne_spike_rows_words(in), H = (n + 3) / 4;
    float *S = (float *)(((uintptr_t)ws + 63) & ~(uintptr_t)63), *acc = S + (size_t)SNE_LIN_HCHUNK * 16 * out;
    memset(dwT + (size_t)i0 * out, 0, sizeof(float) * (size_t)(i1 - i0) * out);
    for (int h0 = 0; h0 < H; h0 += SNE_LIN_HCHUNK) {
        const int h1 = h0 + SNE_LIN_HCHUNK < H ? h0 + SNE_LIN_HCHUNK : H;
        subsets(dy, n, out, h0, h1, S);
#ifdef SNE_LIN_X86
        if (path == 2 && out % 16 == 0) { wgrad_chunk_avx512(bits, words, n, h0, h1, i0, i1, out, S, dwT); continue; }
        if (path >= 1) { wgrad_chunk_avx2(bits, words, n, h0, h1, i0, i1, out, S, dwT, acc); continue; }
#else
        (void)path;
#endif
        wgrad_chunk_scalar(bits, words, n, h0, h1, i0, i1, out, S, dwT, acc);
    }
}

/* b[j][i] += a[i][j] for a (r, c), b (c, r): rows [j0, j1) of b, in blocks of 16 x 16. */
void sne_add_transposed(const float *a, int r, int c, float *b, int j0, int j1) {
    for (int jb = j0; jb < j1; jb += 16)
        for (int ib = 0; ib < r; ib += 16) {
            const int je = jb + 16 < j1 ? jb + 16 : j1, ie = ib + 16 < r ? ib + 16 : r;
            for (int j = jb; j < je; j++)
                for (int i = ib; i < ie; i++) b[(size_t)j * r + i] += a[(size_t)i * c + j];
        }
}
