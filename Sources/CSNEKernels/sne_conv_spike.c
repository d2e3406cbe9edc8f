/* Stride-1 convolution of binary spike planes (every input 0 or 1), forward and weight gradient.
 *
 * The input is packed into row bit masks (one uint32 per zero-padded row, bit j = padded column j),
 * so the kw inputs a kernel row sees at output (oy, ox) are the kw-bit pattern
 * p = (mask[c][oy+ky] >> ox) & (2^kw - 1), bit kx = the input under weight kx.
 *
 *   forward  Window mode (kh*kw <= 9 and the tables fit 1 MB): per input channel c, a table over the
 *            2^(kh*kw) patterns of the whole window (bit ky*kw + kx = the input under weight (ky, kx)):
 *            table[c][0][co] = 0, table[c][p][co] = fl( table[c][p - low(p)][co] + w[co][c][log2 low(p)] );
 *            y[co][oy][ox] = fl( sum over c in order of table[c][p][co], from 0 ) [+ bias[co]].
 *            Row mode (otherwise): per (c, ky), a table over the kw-bit row patterns,
 *            table[c][ky][p][co] = fl( sum over kx ascending with bit kx of p, of w[co][c][ky][kx], from 0 );
 *            y[co][oy][ox] = fl( sum over (c, ky) in order of table[c][ky][p][co], from 0 ) [+ bias[co]].
 *            C (window) or C*kh (row) additions of a Cout vector per output instead of C*kh*kw FMAs.
 *   wgrad    Per image, per output row: the 16 subset sums S[q][j] of every 4 columns q of dy, then per
 *            tap t = (c, ky, kx): dWT[t][co] += fl( sum over q in order of S[q][(mask[c][oy+ky] >> (4q+kx)) & 15][co] )
 *            (spelled out at sne_spike_conv_wgrad_group).
 *
 * Each output and gradient is a sum of the same terms in the same order on every path (AVX-512,
 * AVX2, portable C): additions only, no FMA contraction, so all three give the same bits. */
#include "sne_kernels.h"
#include <string.h>
#include <stdint.h>

#pragma STDC FP_CONTRACT OFF
#if defined(__clang__)
#pragma clang fp contract(off)
#endif

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define SNE_SPIKE_X86 1
#endif

int sne_spike_conv_supported(int H, int W, int kh, int kw, int pad) {
    return kh >= 1 && kw >= 1 && kw <= 4 && pad >= 0 && W + 2 * pad <= 32 && H + 2 * pad >= kh && W + 2 * pad >= kw;
}

/* Scalar packing of one plane row: returns 0 when a value is neither 0 nor 1. */
static int pack_row_scalar(const float *src, int W, int pad, uint32_t *out) {
    uint32_t m = 0, bad = 0;
    for (int i = 0; i < W; i++) {
        const float v = src[i];
        m |= (uint32_t)(v == 1.0f) << (i + pad);
        bad |= (uint32_t)(v != 1.0f && v != 0.0f);
    }
    *out = m;
    return bad == 0;
}

#ifdef SNE_SPIKE_X86
/* AVX-512 packing of rows of W <= 16 floats: bit i+pad set where src[i] == 1; 0 when a value is
 * neither 0 nor 1 (NaN included). */
__attribute__((target("avx512f")))
static int pack_image_avx512(const float *x, int C, int H, int W, int pad, uint32_t *masks) {
    const int Hp = H + 2 * pad;
    const __mmask16 valid = (__mmask16)((1u << W) - 1u);
    const __m512 one = _mm512_set1_ps(1.0f), zero = _mm512_setzero_ps();
    for (int c = 0; c < C; c++) {
        uint32_t *mc = masks + (size_t)c * Hp;
        for (int r = 0; r < pad; r++) { mc[r] = 0; mc[pad + H + r] = 0; }
        const float *xc = x + (size_t)c * H * W;
        for (int y = 0; y < H; y++) {
            __m512 v = _mm512_maskz_loadu_ps(valid, xc + (size_t)y * W);
            __mmask16 ones = _mm512_mask_cmp_ps_mask(valid, v, one, _CMP_EQ_OQ);
            __mmask16 zeros = _mm512_mask_cmp_ps_mask(valid, v, zero, _CMP_EQ_OQ);
            if ((uint32_t)(ones | zeros) != (uint32_t)valid) return 0;
            mc[pad + y] = (uint32_t)ones << pad;
        }
    }
    return 1;
}
#endif

/* masks (C, H+2pad) = one image's planes x (C, H, W) as row bit masks (rows 0..pad-1 and the last pad
 * rows zero; bit ix+pad of row iy+pad set when x[c][iy][ix] == 1). Returns 1, or 0 when some value is
 * neither 0 nor 1 (masks then undefined). Needs sne_spike_conv_supported. */
int sne_spike_pack(int path, const float *x, int C, int H, int W, int pad, uint32_t *masks) {
#ifdef SNE_SPIKE_X86
    if (path == 2 && W <= 16) return pack_image_avx512(x, C, H, W, pad, masks);
#else
    (void)path;
#endif
    const int Hp = H + 2 * pad;
    for (int c = 0; c < C; c++) {
        uint32_t *mc = masks + (size_t)c * Hp;
        for (int r = 0; r < pad; r++) { mc[r] = 0; mc[pad + H + r] = 0; }
        for (int y = 0; y < H; y++)
            if (!pack_row_scalar(x + ((size_t)c * H + y) * W, W, pad, mc + pad + y)) return 0;
    }
    return 1;
}

/* Window mode: one table per input channel over the whole kh x kw window (2^(kh*kw) rows), when
 * kh*kw <= 9 and the tables take at most 2^18 floats (1 MB); otherwise one per (c, ky) over kw bits. */
static int window_mode(int Cout, int C, int kh, int kw) {
    return kh * kw <= 9 && (((size_t)C << (kh * kw)) * (size_t)Cout) <= ((size_t)1 << 18);
}

size_t sne_spike_conv_table_floats(int Cout, int C, int kh, int kw) {
    if (window_mode(Cout, C, kh, kw)) return ((size_t)C << (kh * kw)) * (size_t)Cout;
    return (size_t)C * (size_t)kh * ((size_t)1 << kw) * (size_t)Cout;
}

/* Row mode: table[((c*kh + ky) << kw | p)*Cout + co] = fl( sum over kx ascending with bit kx of p of w[co][c][ky][kx], from 0 ).
 * Window mode: table[(c << kh*kw | p)*Cout + co] = 0 for p = 0, else fl( table[c][p - low(p)][co] + w[co][c][t] ) with
 * t = log2 low(p) the tap ky*kw + kx of the lowest set bit (so the selected taps are added from the highest down). */
void sne_spike_conv_table(const float *w, int Cout, int C, int kh, int kw, float *table) {
    const int K = kh * kw;
    if (window_mode(Cout, C, kh, kw)) {
        for (int c = 0; c < C; c++) {
            float wt[9 * 512];   /* w[.][c][t] as (t, co) rows; Cout <= 512 here (2^18 floats) */
            for (int t = 0; t < K; t++)
                for (int co = 0; co < Cout; co++) wt[t * Cout + co] = w[((size_t)co * C + c) * K + t];
            float *tc = table + ((size_t)c << K) * Cout;
            for (int co = 0; co < Cout; co++) tc[co] = 0.0f;
            for (int p = 1; p < (1 << K); p++) {
                const float *prev = tc + (size_t)(p & (p - 1)) * Cout, *wr = wt + __builtin_ctz((unsigned)p) * Cout;
                float *t = tc + (size_t)p * Cout;
                for (int co = 0; co < Cout; co++) t[co] = prev[co] + wr[co];
            }
        }
        return;
    }
    const int P = 1 << kw;
    for (int c = 0; c < C; c++)
        for (int ky = 0; ky < kh; ky++)
            for (int p = 0; p < P; p++) {
                float *t = table + ((size_t)(c * kh + ky) * P + p) * Cout;
                for (int co = 0; co < Cout; co++) {
                    float s = 0.0f;
                    for (int kx = 0; kx < kw; kx++)
                        if (p >> kx & 1) s += w[(((size_t)co * C + c) * kh + ky) * kw + kx];
                    t[co] = s;
                }
            }
}

/* Row stride of the per-row index table: OW rounded up to 16. */
static int index_stride(int OW) { return (OW + 15) & ~15; }

size_t sne_spike_conv_workspace_floats(int Cout, int C, int kh, int kw, int OH, int OW) {
    (void)kw;
    /* channels-last outputs + one row of indices + alignment slack */
    return (size_t)OH * OW * Cout + (size_t)C * kh * index_stride(OW) + 64;
}

/* The first 64-byte aligned float at or after p (the workspace carries 16 floats of slack). */
static float *align64(float *p) { return (float *)(((uintptr_t)p + 63) & ~(uintptr_t)63); }

/* idx[(c*kh + ky)*S + ox] = ((c*kh + ky) << kw | p) * Cout for output row oy, ox < S = index_stride(OW):
 * the table row (forward) or bucket (wgrad) of every (c, ky) and column; p = (masks[c][oy+ky] >> ox) & (2^kw - 1). */
static void row_indices_scalar(const uint32_t *masks, int C, int Hp, int oy, int OW, int kh, int kw, int Cout, uint32_t *idx) {
    const int S = index_stride(OW);
    const uint32_t pm = ((uint32_t)1 << kw) - 1u;
    for (int c = 0; c < C; c++)
        for (int ky = 0; ky < kh; ky++) {
            const uint32_t m = masks[(size_t)c * Hp + oy + ky], base = (uint32_t)(c * kh + ky) << kw;
            uint32_t *o = idx + (size_t)(c * kh + ky) * S;
            for (int ox = 0; ox < S; ox++) o[ox] = (base | ((m >> ox) & pm)) * (uint32_t)Cout;
        }
}

#ifdef SNE_SPIKE_X86
/* The same indices, 16 columns per AVX-512 vector. */
__attribute__((target("avx512f")))
static void row_indices_avx512(const uint32_t *masks, int C, int Hp, int oy, int OW, int kh, int kw, int Cout, uint32_t *idx) {
    const int S = index_stride(OW);
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i pm = _mm512_set1_epi32((1 << kw) - 1), cout = _mm512_set1_epi32(Cout);
    for (int c = 0; c < C; c++)
        for (int ky = 0; ky < kh; ky++) {
            const __m512i m = _mm512_set1_epi32((int)masks[(size_t)c * Hp + oy + ky]);
            const __m512i base = _mm512_set1_epi32((c * kh + ky) << kw);
            uint32_t *o = idx + (size_t)(c * kh + ky) * S;
            for (int ox = 0; ox < S; ox += 16) {
                __m512i p = _mm512_and_si512(_mm512_srlv_epi32(m, _mm512_add_epi32(iota, _mm512_set1_epi32(ox))), pm);
                _mm512_storeu_si512((void *)(o + ox), _mm512_mullo_epi32(_mm512_or_si512(base, p), cout));
            }
        }
}
#endif

/* Window mode: idx[c*S + ox] = (c << kh*kw | p) * Cout, p = sum over ky of ((masks[c][oy+ky] >> ox) & (2^kw - 1)) << ky*kw. */
static void window_indices_scalar(const uint32_t *masks, int C, int Hp, int oy, int OW, int kh, int kw, int Cout, uint32_t *idx) {
    const int S = index_stride(OW), K = kh * kw;
    const uint32_t pm = ((uint32_t)1 << kw) - 1u;
    for (int c = 0; c < C; c++) {
        uint32_t *o = idx + (size_t)c * S;
        for (int ox = 0; ox < S; ox++) {
            uint32_t p = 0;
            for (int ky = 0; ky < kh; ky++) p |= ((masks[(size_t)c * Hp + oy + ky] >> ox) & pm) << (ky * kw);
            o[ox] = (((uint32_t)c << K) | p) * (uint32_t)Cout;
        }
    }
}

#ifdef SNE_SPIKE_X86
/* The same window indices, 16 columns per AVX-512 vector. */
__attribute__((target("avx512f")))
static void window_indices_avx512(const uint32_t *masks, int C, int Hp, int oy, int OW, int kh, int kw, int Cout, uint32_t *idx) {
    const int S = index_stride(OW), K = kh * kw;
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i pm = _mm512_set1_epi32((1 << kw) - 1), cout = _mm512_set1_epi32(Cout);
    for (int c = 0; c < C; c++) {
        uint32_t *o = idx + (size_t)c * S;
        for (int ox = 0; ox < S; ox += 16) {
            const __m512i sh = _mm512_add_epi32(iota, _mm512_set1_epi32(ox));
            __m512i p = _mm512_set1_epi32(c << K);
            for (int ky = 0; ky < kh; ky++) {
                const __m512i m = _mm512_set1_epi32((int)masks[(size_t)c * Hp + oy + ky]);
                p = _mm512_or_si512(p, _mm512_slli_epi32(_mm512_and_si512(_mm512_srlv_epi32(m, sh), pm), (unsigned)(ky * kw)));
            }
            _mm512_storeu_si512((void *)(o + ox), _mm512_mullo_epi32(p, cout));
        }
    }
}
#endif

/* yT[pos][co] (channels last) = fl( sum over k in order of table rows idx[k][pos], from 0 ), portable C
 * (k = c*kh + ky in row mode, c in window mode). */
static void fwd_row_scalar(const uint32_t *idx, int CK, int S, int OW, const float *table, int Cout, float *yT) {
    for (int ox = 0; ox < OW; ox++) {
        float *o = yT + (size_t)ox * Cout;
        for (int co = 0; co < Cout; co++) o[co] = 0.0f;
        for (int k = 0; k < CK; k++) {
            const float *t = table + idx[(size_t)k * S + ox];
            for (int co = 0; co < Cout; co++) o[co] += t[co];
        }
    }
}

#ifdef SNE_SPIKE_X86
/* NP positions x NV vectors of 16 channels (from co0) of one output row, AVX-512: yT rows = the
 * table rows summed over k = c*kh + ky in order, from 0. */
__attribute__((target("avx512f"), always_inline))
static inline void fwd_block_avx512(int NP, int NV, const uint32_t *idx, int CK, int S, int ox0, const float *table,
                                    int Cout, int co0, float *yT) {
    __m512 a[8][2];
    for (int i = 0; i < NP; i++) for (int v = 0; v < NV; v++) a[i][v] = _mm512_setzero_ps();
    const float *tb = table + co0;
    for (int k = 0; k < CK; k++) {
        const uint32_t *ik = idx + (size_t)k * S + ox0;
        for (int i = 0; i < NP; i++) {
            const float *t = tb + ik[i];
            for (int v = 0; v < NV; v++) a[i][v] = _mm512_add_ps(a[i][v], _mm512_load_ps(t + 16 * v));
        }
    }
    for (int i = 0; i < NP; i++)
        for (int v = 0; v < NV; v++) _mm512_storeu_ps(yT + (size_t)(ox0 + i) * Cout + co0 + 16 * v, a[i][v]);
}

/* One output row with AVX-512 (Cout a multiple of 16, table 64-byte aligned): blocks of 8 positions
 * x 32 channels, or 16 positions x 16 channels for the last 16. */
__attribute__((target("avx512f")))
static void fwd_row_avx512(const uint32_t *idx, int CK, int S, int OW, const float *table, int Cout, float *yT) {
    for (int co0 = 0; co0 < Cout; co0 += 32) {
        const int nv = Cout - co0 >= 32 ? 2 : 1;
        for (int ox0 = 0; ox0 < OW; ox0 += 8) {
            const int np = OW - ox0 < 8 ? OW - ox0 : 8;
            #define SNE_FWD_NP(n) case n: if (nv == 2) fwd_block_avx512(n, 2, idx, CK, S, ox0, table, Cout, co0, yT); \
                                          else fwd_block_avx512(n, 1, idx, CK, S, ox0, table, Cout, co0, yT); break;
            switch (np) { SNE_FWD_NP(1) SNE_FWD_NP(2) SNE_FWD_NP(3) SNE_FWD_NP(4) SNE_FWD_NP(5) SNE_FWD_NP(6) SNE_FWD_NP(7) SNE_FWD_NP(8) }
            #undef SNE_FWD_NP
        }
    }
}

/* NP positions x NV vectors of 8 channels, AVX2 (same sums as fwd_block_avx512). */
__attribute__((target("avx2"), always_inline))
static inline void fwd_block_avx2(int NP, int NV, const uint32_t *idx, int CK, int S, int ox0, const float *table,
                                  int Cout, int co0, float *yT) {
    __m256 a[4][4];
    for (int i = 0; i < NP; i++) for (int v = 0; v < NV; v++) a[i][v] = _mm256_setzero_ps();
    const float *tb = table + co0;
    for (int k = 0; k < CK; k++) {
        const uint32_t *ik = idx + (size_t)k * S + ox0;
        for (int i = 0; i < NP; i++) {
            const float *t = tb + ik[i];
            for (int v = 0; v < NV; v++) a[i][v] = _mm256_add_ps(a[i][v], _mm256_load_ps(t + 8 * v));
        }
    }
    for (int i = 0; i < NP; i++)
        for (int v = 0; v < NV; v++) _mm256_storeu_ps(yT + (size_t)(ox0 + i) * Cout + co0 + 8 * v, a[i][v]);
}

/* One output row with AVX2 (Cout a multiple of 8): blocks of 3 positions x 32 channels (or fewer). */
__attribute__((target("avx2")))
static void fwd_row_avx2(const uint32_t *idx, int CK, int S, int OW, const float *table, int Cout, float *yT) {
    for (int co0 = 0; co0 < Cout; co0 += 32) {
        const int nv = (Cout - co0 >= 32 ? 32 : Cout - co0) / 8;
        for (int ox0 = 0; ox0 < OW; ox0 += 3) {
            const int np = OW - ox0 < 3 ? OW - ox0 : 3;
            #define SNE_FWD_NV(n, v) case v: fwd_block_avx2(n, v, idx, CK, S, ox0, table, Cout, co0, yT); break;
            #define SNE_FWD_NP(n) case n: switch (nv) { SNE_FWD_NV(n, 1) SNE_FWD_NV(n, 2) SNE_FWD_NV(n, 3) SNE_FWD_NV(n, 4) } break;
            switch (np) { SNE_FWD_NP(1) SNE_FWD_NP(2) SNE_FWD_NP(3) }
            #undef SNE_FWD_NP
            #undef SNE_FWD_NV
        }
    }
}
#endif

/* Fills idx for output row oy at ISA level path. */
static void row_indices(int path, const uint32_t *masks, int C, int Hp, int oy, int OW, int kh, int kw, int Cout, uint32_t *idx) {
#ifdef SNE_SPIKE_X86
    if (path == 2) { row_indices_avx512(masks, C, Hp, oy, OW, kh, kw, Cout, idx); return; }
#else
    (void)path;
#endif
    row_indices_scalar(masks, C, Hp, oy, OW, kh, kw, Cout, idx);
}

/* One image: y (Cout, OH, OW) = the spike convolution of masks (C, Hp) (sne_spike_pack) with the
 * pattern table of the weights (sne_spike_conv_table, 64-byte aligned), OH = Hp - kh + 1,
 * OW = W + 2pad - kw + 1; y[co][oy][ox] = fl( sum over (c, ky) in order of table[c][ky][p][co], from 0 )
 * then + bias[co] when bias is not NULL. Same bits on every path. ws: sne_spike_conv_workspace_floats. */
void sne_spike_conv_fwd(int path, const uint32_t *masks, int C, int Hp, int OH, int OW, const float *table,
                        const float *bias, int Cout, int kh, int kw, float *y, float *ws) {
    float *yT = align64(ws);
    uint32_t *idx = (uint32_t *)(yT + (size_t)OH * OW * Cout);
    const int window = window_mode(Cout, C, kh, kw);
    const int S = index_stride(OW), CK = window ? C : C * kh;
    for (int oy = 0; oy < OH; oy++) {
        if (!window) row_indices(path, masks, C, Hp, oy, OW, kh, kw, Cout, idx);
#ifdef SNE_SPIKE_X86
        else if (path == 2) window_indices_avx512(masks, C, Hp, oy, OW, kh, kw, Cout, idx);
#endif
        else window_indices_scalar(masks, C, Hp, oy, OW, kh, kw, Cout, idx);
        float *row = yT + (size_t)oy * OW * Cout;
#ifdef SNE_SPIKE_X86
        if (path == 2 && Cout % 16 == 0) fwd_row_avx512(idx, CK, S, OW, table, Cout, row);
        else if (path >= 1 && Cout % 8 == 0) fwd_row_avx2(idx, CK, S, OW, table, Cout, row);
        else fwd_row_scalar(idx, CK, S, OW, table, Cout, row);
#else
        fwd_row_scalar(idx, CK, S, OW, table, Cout, row);
#endif
    }
    sne_transpose(path, yT, OH * OW, Cout, bias, y);
}

/* Chunks of 4 output columns per row in the weight gradient: ceil(OW / 4). */
static int wgrad_chunks(int OW) { return (OW + 3) / 4; }

/* Subset sums of one output row, portable C: for chunk q (columns 4q..4q+3, dy = 0 past OW) and
 * j = 1..15, S[q][j][co] = fl( S[q][j - low(j)][co] + dy[co][4q + log2 low(j)] ), S[q][0] = 0 (low(j):
 * the lowest set bit; so S[q][j] adds the selected columns from the highest to the lowest). */
static void row_subsets_scalar(const float *dyT, int OW, int Cout, float *S) {
    const int nq = wgrad_chunks(OW);
    for (int q = 0; q < nq; q++) {
        float *Sq = S + (size_t)q * 16 * Cout;
        for (int co = 0; co < Cout; co++) Sq[co] = 0.0f;
        for (int j = 1; j < 16; j++) {
            const int b = __builtin_ctz((unsigned)j), ox = 4 * q + b;
            const float *prev = Sq + (size_t)(j & (j - 1)) * Cout;
            float *o = Sq + (size_t)j * Cout;
            for (int co = 0; co < Cout; co++) o[co] = prev[co] + (ox < OW ? dyT[(size_t)ox * Cout + co] : 0.0f);
        }
    }
}

/* dWT[t][co] += fl( sum over chunks q in order of S[q][p_q][co], from 0 ) for every tap t = (c*kh + ky)*kw + kx,
 * p_q = (masks[c][oy+ky] >> (4q + kx)) & 15: one output row's contribution, portable C. */
static void row_taps_scalar(const uint32_t *masks, int C, int Hp, int oy, int OW, int kh, int kw, int Cout,
                            const float *S, float *dWT, float *acc) {
    const int nq = wgrad_chunks(OW);
    for (int c = 0; c < C; c++)
        for (int ky = 0; ky < kh; ky++) {
            const uint32_t m = masks[(size_t)c * Hp + oy + ky];
            for (int kx = 0; kx < kw; kx++) {
                float *o = dWT + ((size_t)(c * kh + ky) * kw + kx) * Cout;
                for (int co = 0; co < Cout; co++) acc[co] = 0.0f;
                for (int q = 0; q < nq; q++) {
                    const float *sp = S + ((size_t)q * 16 + ((m >> (4 * q + kx)) & 15u)) * Cout;
                    for (int co = 0; co < Cout; co++) acc[co] += sp[co];
                }
                for (int co = 0; co < Cout; co++) o[co] += acc[co];
            }
        }
}

#ifdef SNE_SPIKE_X86
/* row_subsets_scalar with AVX-512 (Cout a multiple of 16; S 64-byte aligned). */
__attribute__((target("avx512f")))
static void row_subsets_avx512(const float *dyT, int OW, int Cout, float *S) {
    const int nq = wgrad_chunks(OW);
    for (int q = 0; q < nq; q++) {
        float *Sq = S + (size_t)q * 16 * Cout;
        for (int co0 = 0; co0 < Cout; co0 += 16) {
            __m512 d[4], s[16];
            for (int b = 0; b < 4; b++) d[b] = 4 * q + b < OW ? _mm512_loadu_ps(dyT + (size_t)(4 * q + b) * Cout + co0) : _mm512_setzero_ps();
            s[0] = _mm512_setzero_ps();
            for (int j = 1; j < 16; j++) s[j] = _mm512_add_ps(s[j & (j - 1)], d[__builtin_ctz((unsigned)j)]);
            for (int j = 0; j < 16; j++) _mm512_store_ps(Sq + (size_t)j * Cout + co0, s[j]);
        }
    }
}

/* row_taps_scalar with AVX-512: NV vectors of 16 channels from co0, NQ chunks (compile-time). */
__attribute__((target("avx512f"), always_inline))
static inline void row_taps_block_avx512(int NV, int NQ, const uint32_t *masks, int C, int Hp, int oy, int kh, int kw,
                                         int Cout, int co0, const float *S, float *dWT) {
    for (int c = 0; c < C; c++)
        for (int ky = 0; ky < kh; ky++) {
            const uint32_t m = masks[(size_t)c * Hp + oy + ky];
            for (int kx = 0; kx < kw; kx++) {
                __m512 acc[2] = { _mm512_setzero_ps(), _mm512_setzero_ps() };
                for (int q = 0; q < NQ; q++) {
                    const float *sp = S + ((size_t)q * 16 + ((m >> (4 * q + kx)) & 15u)) * Cout + co0;
                    for (int v = 0; v < NV; v++) acc[v] = _mm512_add_ps(acc[v], _mm512_load_ps(sp + 16 * v));
                }
                float *o = dWT + ((size_t)(c * kh + ky) * kw + kx) * Cout + co0;
                for (int v = 0; v < NV; v++) _mm512_store_ps(o + 16 * v, _mm512_add_ps(_mm512_load_ps(o + 16 * v), acc[v]));
            }
        }
}

/* row_taps_scalar with AVX-512 (Cout a multiple of 16; S and dWT 64-byte aligned). */
__attribute__((target("avx512f")))
static void row_taps_avx512(const uint32_t *masks, int C, int Hp, int oy, int OW, int kh, int kw, int Cout,
                            const float *S, float *dWT) {
    const int nq = wgrad_chunks(OW);
    for (int co0 = 0; co0 < Cout; co0 += 32) {
        const int nv = Cout - co0 >= 32 ? 2 : 1;
        #define SNE_TAPS(q) case q: if (nv == 2) row_taps_block_avx512(2, q, masks, C, Hp, oy, kh, kw, Cout, co0, S, dWT); \
                                    else row_taps_block_avx512(1, q, masks, C, Hp, oy, kh, kw, Cout, co0, S, dWT); break;
        switch (nq) {
            SNE_TAPS(1) SNE_TAPS(2) SNE_TAPS(3) SNE_TAPS(4) SNE_TAPS(5) SNE_TAPS(6) SNE_TAPS(7)
            default: {   /* rows wider than 28 columns: the generic loop (same sums) */
                for (int c = 0; c < C; c++)
                    for (int ky = 0; ky < kh; ky++) {
                        const uint32_t m = masks[(size_t)c * Hp + oy + ky];
                        for (int kx = 0; kx < kw; kx++)
                            for (int v = 0; v < nv; v++) {
                                __m512 acc = _mm512_setzero_ps();
                                for (int q = 0; q < nq; q++)
                                    acc = _mm512_add_ps(acc, _mm512_load_ps(S + ((size_t)q * 16 + ((m >> (4 * q + kx)) & 15u)) * Cout + co0 + 16 * v));
                                float *o = dWT + ((size_t)(c * kh + ky) * kw + kx) * Cout + co0 + 16 * v;
                                _mm512_store_ps(o, _mm512_add_ps(_mm512_load_ps(o), acc));
                            }
                    }
            }
        }
        #undef SNE_TAPS
    }
}
#endif

#ifdef SNE_SPIKE_X86
/* row_subsets_scalar with AVX2 (Cout a multiple of 8; S 32-byte aligned). */
__attribute__((target("avx2")))
static void row_subsets_avx2(const float *dyT, int OW, int Cout, float *S) {
    const int nq = wgrad_chunks(OW);
    for (int q = 0; q < nq; q++) {
        float *Sq = S + (size_t)q * 16 * Cout;
        for (int co0 = 0; co0 < Cout; co0 += 8) {
            __m256 d[4], s[16];
            for (int b = 0; b < 4; b++) d[b] = 4 * q + b < OW ? _mm256_loadu_ps(dyT + (size_t)(4 * q + b) * Cout + co0) : _mm256_setzero_ps();
            s[0] = _mm256_setzero_ps();
            for (int j = 1; j < 16; j++) s[j] = _mm256_add_ps(s[j & (j - 1)], d[__builtin_ctz((unsigned)j)]);
            for (int j = 0; j < 16; j++) _mm256_store_ps(Sq + (size_t)j * Cout + co0, s[j]);
        }
    }
}

/* row_taps_scalar with AVX2 (Cout a multiple of 8; S and dWT 32-byte aligned), up to 4 vectors of
 * 8 channels per pass. */
__attribute__((target("avx2")))
static void row_taps_avx2(const uint32_t *masks, int C, int Hp, int oy, int OW, int kh, int kw, int Cout,
                          const float *S, float *dWT) {
    const int nq = wgrad_chunks(OW);
    for (int co0 = 0; co0 < Cout; co0 += 32) {
        const int nv = (Cout - co0 >= 32 ? 32 : Cout - co0) / 8;
        for (int c = 0; c < C; c++)
            for (int ky = 0; ky < kh; ky++) {
                const uint32_t m = masks[(size_t)c * Hp + oy + ky];
                for (int kx = 0; kx < kw; kx++) {
                    __m256 acc[4] = { _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps() };
                    for (int q = 0; q < nq; q++) {
                        const float *sp = S + ((size_t)q * 16 + ((m >> (4 * q + kx)) & 15u)) * Cout + co0;
                        for (int v = 0; v < nv; v++) acc[v] = _mm256_add_ps(acc[v], _mm256_load_ps(sp + 8 * v));
                    }
                    float *o = dWT + ((size_t)(c * kh + ky) * kw + kx) * Cout + co0;
                    for (int v = 0; v < nv; v++) _mm256_store_ps(o + 8 * v, _mm256_add_ps(_mm256_load_ps(o + 8 * v), acc[v]));
                }
            }
    }
}
#endif

size_t sne_spike_conv_wgrad_workspace_floats(int Cout, int C, int kh, int kw, int OH, int OW) {
    /* dWT + dy transposed + subset sums of one row + one tap's sums + alignment slack */
    return (size_t)C * kh * kw * Cout + (size_t)OH * OW * Cout + (size_t)wgrad_chunks(OW) * 16 * Cout + Cout + 64;
}

/* dw (Cout, C, kh, kw) = the weight gradient of nimg images: masks (nimg, C, Hp) (sne_spike_pack),
 * dy (nimg, Cout, OH, OW). Per image in order, per output row oy in order: subset sums S of the
 * row's dy in chunks of 4 columns (row_subsets_scalar), then for every tap t = (c, ky, kx),
 * dWT[t][co] += fl( sum over chunks q in order of S[q][(masks[c][oy+ky] >> (4q+kx)) & 15][co], from 0 ),
 * dWT starting at 0; dw[co][t] = dWT[t][co]. Same bits on every path.
 * ws: sne_spike_conv_wgrad_workspace_floats(Cout, C, kh, kw, OH, OW) floats. */
void sne_spike_conv_wgrad_group(int path, const uint32_t *masks, const float *dy, int nimg, int C, int Hp,
                                int OH, int OW, int Cout, int kh, int kw, float *dw, float *ws) {
    const int npos = OH * OW, taps = C * kh * kw;
    float *dWT = align64(ws), *dyT = dWT + (size_t)taps * Cout;
    float *S = align64(dyT + (size_t)npos * Cout), *acc = S + (size_t)wgrad_chunks(OW) * 16 * Cout;
    memset(dWT, 0, sizeof(float) * (size_t)taps * Cout);
#ifdef SNE_SPIKE_X86
    const int level = path == 2 && Cout % 16 == 0 ? 2 : path >= 1 && Cout % 8 == 0 ? 1 : 0;
#else
    (void)path;
#endif
    for (int im = 0; im < nimg; im++) {
        const uint32_t *m = masks + (size_t)im * C * Hp;
        sne_transpose(path, dy + (size_t)im * Cout * npos, Cout, npos, NULL, dyT);
        for (int oy = 0; oy < OH; oy++) {
            const float *drow = dyT + (size_t)oy * OW * Cout;
#ifdef SNE_SPIKE_X86
            if (level == 2) { row_subsets_avx512(drow, OW, Cout, S); row_taps_avx512(m, C, Hp, oy, OW, kh, kw, Cout, S, dWT); continue; }
            if (level == 1) { row_subsets_avx2(drow, OW, Cout, S); row_taps_avx2(m, C, Hp, oy, OW, kh, kw, Cout, S, dWT); continue; }
#endif
            row_subsets_scalar(drow, OW, Cout, S);
            row_taps_scalar(m, C, Hp, oy, OW, kh, kw, Cout, S, dWT, acc);
        }
    }
    for (int co = 0; co < Cout; co++)
        for (int t = 0; t < taps; t++) dw[(size_t)co * taps + t] = dWT[(size_t)t * Cout + co];
}
