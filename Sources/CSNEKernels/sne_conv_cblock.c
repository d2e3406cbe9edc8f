/* Direct stride-1 convolution with the output channels in the vector lanes (AVX-512, 16 output
 * channels per vector), for planes narrower than a vector (14x14, 7x7) where the row-vector kernels
 * of sne_conv_direct.c leave lanes empty.
 *
 * The input image is copied into zero-padded planes xpad (C, H+2p, W+2p); the weights are repacked
 * as wb (Cout/16, C, kh, kw, 16). A tile is R consecutive outputs of one row x NB blocks of 16 output
 * channels: for every (c, ky, kx) in order, each output's accumulator gets one FMA of the broadcast
 * input xpad[c][oy+ky][ox+kx] times the weight vector, so
 *   y[co][oy][ox] = fl( FMA chain over (c, ky, kx) in that order, from 0 ) [+ bias[co]]
 * exactly as sne_conv_direct_fwd computes it (the same bits). Tiles: up to 14 outputs x 2 blocks. The tile goes to a channels-last
 * buffer and is transposed into (Cout, OH, OW) in 16 x 16 blocks. */
#include "sne_kernels.h"
#include <string.h>
#include <stdint.h>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define SNE_CB_X86 1
#endif

int sne_conv_cblock_supported(int path, int C, int Cout, int OW, int kh, int kw) {
#ifdef SNE_CB_X86
    return path == 2 && C >= 8 && Cout % 16 == 0 && OW <= 32 && kh >= 1 && kw >= 1;
#else
    (void)path; (void)C; (void)Cout; (void)OW; (void)kh; (void)kw;
    return 0;
#endif
}

/* wb (Cout/16, C, kh, kw, 16): wb[b][c][ky][kx][l] = w[16b + l][c][ky][kx]. */
void sne_conv_cblock_pack_weights(const float *w, int Cout, int C, int kh, int kw, float *wb) {
    const size_t K = (size_t)C * kh * kw;
    for (int co = 0; co < Cout; co++)
        for (size_t k = 0; k < K; k++)
            wb[((size_t)(co / 16) * K + k) * 16 + (co % 16)] = w[(size_t)co * K + k];
}

size_t sne_conv_cblock_workspace_floats(int C, int H, int W, int pad, int Cout, int OH, int OW) {
    return (size_t)C * (H + 2 * pad) * (W + 2 * pad) + 64 + (size_t)OH * OW * Cout + 64;
}

#ifdef SNE_CB_X86
/* R outputs (ox0.., row oy) x NB channel blocks from block b0: the FMA chains of the header, stored
 * channels-last into yT[pos][Cout]. */
__attribute__((target("avx512f"), always_inline))
static inline void cb_tile(int R, int NB, const float *xpad, int C, int Hp, int Wp, const float *wb, int kh, int kw,
                           int b0, int oy, int ox0, int OW, int Cout, float *yT) {
    __m512 acc[14][2];
    for (int r = 0; r < R; r++) for (int b = 0; b < NB; b++) acc[r][b] = _mm512_setzero_ps();
    const size_t K = (size_t)C * kh * kw;
    for (int c = 0; c < C; c++)
        for (int ky = 0; ky < kh; ky++) {
            const float *xr = xpad + ((size_t)c * Hp + oy + ky) * Wp + ox0;
            const float *wk = wb + ((size_t)b0 * K + ((size_t)c * kh + ky) * kw) * 16;
            for (int kx = 0; kx < kw; kx++) {
                __m512 wv[4];
                for (int b = 0; b < NB; b++) wv[b] = _mm512_load_ps(wk + (size_t)b * K * 16 + (size_t)kx * 16);
                for (int r = 0; r < R; r++) {
                    const __m512 xv = _mm512_set1_ps(xr[r + kx]);
                    for (int b = 0; b < NB; b++) acc[r][b] = _mm512_fmadd_ps(wv[b], xv, acc[r][b]);
                }
            }
        }
    for (int r = 0; r < R; r++)
        for (int b = 0; b < NB; b++)
            _mm512_store_ps(yT + ((size_t)oy * OW + ox0 + r) * Cout + (size_t)(b0 + b) * 16, acc[r][b]);
}

/* cb_tile for kw = 3, looping over the R + 2 inputs of each kernel row instead: each broadcast input
 * feeds the (up to) 3 outputs it touches, kx ascending, so every accumulator still gets its FMAs in
 * (c, ky, kx) order (the same bits) with a third of the broadcasts. */
__attribute__((target("avx512f"), always_inline))
static inline void cb_tile3(int R, int NB, const float *xpad, int C, int Hp, int Wp, const float *wb, int kh,
                            int b0, int oy, int ox0, int OW, int Cout, float *yT) {
    __m512 acc[14][2];
    for (int r = 0; r < R; r++) for (int b = 0; b < NB; b++) acc[r][b] = _mm512_setzero_ps();
    const size_t K = (size_t)C * kh * 3;
    for (int c = 0; c < C; c++)
        for (int ky = 0; ky < kh; ky++) {
            const float *xr = xpad + ((size_t)c * Hp + oy + ky) * Wp + ox0;
            const float *wk = wb + ((size_t)b0 * K + ((size_t)c * kh + ky) * 3) * 16;
            __m512 wv[3][2];
            for (int kx = 0; kx < 3; kx++) for (int b = 0; b < NB; b++) wv[kx][b] = _mm512_load_ps(wk + (size_t)b * K * 16 + (size_t)kx * 16);
            for (int ix = 0; ix < R + 2; ix++) {
                const __m512 xv = _mm512_set1_ps(xr[ix]);
                for (int kx = 0; kx < 3; kx++) {
                    const int r = ix - kx;
                    if (r >= 0 && r < R)
                        for (int b = 0; b < NB; b++) acc[r][b] = _mm512_fmadd_ps(wv[kx][b], xv, acc[r][b]);
                }
            }
        }
    for (int r = 0; r < R; r++)
        for (int b = 0; b < NB; b++)
            _mm512_store_ps(yT + ((size_t)oy * OW + ox0 + r) * Cout + (size_t)(b0 + b) * 16, acc[r][b]);
}

/* cb_tile3 for one channel block on two output rows at once (oy, oy+1; R outputs each): twice the
 * independent accumulator chains, so the FMAs do not wait on each other. Same order, same bits. */
__attribute__((target("avx512f"), always_inline))
static inline void cb_tile3_rows2(int R, const float *xpad, int C, int Hp, int Wp, const float *wb, int kh,
                                  int b0, int oy, int ox0, int OW, int Cout, float *yT) {
    __m512 acc[2][7];
    for (int q = 0; q < 2; q++) for (int r = 0; r < R; r++) acc[q][r] = _mm512_setzero_ps();
    const size_t K = (size_t)C * kh * 3;
    for (int c = 0; c < C; c++)
        for (int ky = 0; ky < kh; ky++) {
            const float *xr0 = xpad + ((size_t)c * Hp + oy + ky) * Wp + ox0, *xr1 = xr0 + Wp;
            const float *wk = wb + ((size_t)b0 * K + ((size_t)c * kh + ky) * 3) * 16;
            const __m512 w0 = _mm512_load_ps(wk), w1 = _mm512_load_ps(wk + 16), w2 = _mm512_load_ps(wk + 32);
            for (int ix = 0; ix < R + 2; ix++) {
                const __m512 x0 = _mm512_set1_ps(xr0[ix]), x1 = _mm512_set1_ps(xr1[ix]);
                if (ix < R) { acc[0][ix] = _mm512_fmadd_ps(w0, x0, acc[0][ix]); acc[1][ix] = _mm512_fmadd_ps(w0, x1, acc[1][ix]); }
                if (ix >= 1 && ix - 1 < R) { acc[0][ix - 1] = _mm512_fmadd_ps(w1, x0, acc[0][ix - 1]); acc[1][ix - 1] = _mm512_fmadd_ps(w1, x1, acc[1][ix - 1]); }
                if (ix >= 2) { acc[0][ix - 2] = _mm512_fmadd_ps(w2, x0, acc[0][ix - 2]); acc[1][ix - 2] = _mm512_fmadd_ps(w2, x1, acc[1][ix - 2]); }
            }
        }
    for (int q = 0; q < 2; q++)
        for (int r = 0; r < R; r++)
            _mm512_store_ps(yT + ((size_t)(oy + q) * OW + ox0 + r) * Cout + (size_t)b0 * 16, acc[q][r]);
}

/* Two output rows of one channel block, kw = 3, tiles of 7 outputs. */
__attribute__((target("avx512f"), always_inline))
static inline void cb_rows3_pair(const float *xpad, int C, int Hp, int Wp, const float *wb, int kh,
                                 int b0, int oy, int OW, int Cout, float *yT) {
    for (int ox0 = 0; ox0 < OW; ox0 += 7) {
#define SNE_CB32(n) case n: cb_tile3_rows2(n, xpad, C, Hp, Wp, wb, kh, b0, oy, ox0, OW, Cout, yT); break;
        switch (OW - ox0 < 7 ? OW - ox0 : 7) {
            SNE_CB32(7) SNE_CB32(6) SNE_CB32(5) SNE_CB32(4) SNE_CB32(3) SNE_CB32(2) default: cb_tile3_rows2(1, xpad, C, Hp, Wp, wb, kh, b0, oy, ox0, OW, Cout, yT);
        }
#undef SNE_CB32
    }
}

/* Tiles over one output row for kw = 3: 14 outputs x 1 block or 7 outputs x 2 blocks. */
__attribute__((target("avx512f"), always_inline))
static inline void cb_row3(int NB, const float *xpad, int C, int Hp, int Wp, const float *wb, int kh,
                           int b0, int oy, int OW, int Cout, float *yT) {
    const int RM = 7;
    for (int ox0 = 0; ox0 < OW; ox0 += RM) {
#define SNE_CB3(n) case n: cb_tile3(n, NB, xpad, C, Hp, Wp, wb, kh, b0, oy, ox0, OW, Cout, yT); break;
        switch (OW - ox0 < RM ? OW - ox0 : RM) {
            SNE_CB3(14) SNE_CB3(13) SNE_CB3(12) SNE_CB3(11) SNE_CB3(10) SNE_CB3(9) SNE_CB3(8)
            SNE_CB3(7) SNE_CB3(6) SNE_CB3(5) SNE_CB3(4) SNE_CB3(3) SNE_CB3(2) default: cb_tile3(1, NB, xpad, C, Hp, Wp, wb, kh, b0, oy, ox0, OW, Cout, yT);
        }
#undef SNE_CB3
    }
}

/* Tiles of up to 14 outputs x NB (1 or 2) blocks over one output row (at most 28 accumulators). */
__attribute__((target("avx512f"), always_inline))
static inline void cb_row(int NB, const float *xpad, int C, int Hp, int Wp, const float *wb, int kh, int kw,
                          int b0, int oy, int OW, int Cout, float *yT) {
    for (int ox0 = 0; ox0 < OW; ox0 += 14) {
#define SNE_CB(n) case n: cb_tile(n, NB, xpad, C, Hp, Wp, wb, kh, kw, b0, oy, ox0, OW, Cout, yT); break;
        switch (OW - ox0 < 14 ? OW - ox0 : 14) {
            SNE_CB(14) SNE_CB(13) SNE_CB(12) SNE_CB(11) SNE_CB(10) SNE_CB(9) SNE_CB(8)
            SNE_CB(7) SNE_CB(6) SNE_CB(5) SNE_CB(4) SNE_CB(3) SNE_CB(2) default: cb_tile(1, NB, xpad, C, Hp, Wp, wb, kh, kw, b0, oy, ox0, OW, Cout, yT);
        }
#undef SNE_CB
    }
}

/* dst[c][r] = src[r][c] (+ bias[c]) for 16 x 16 blocks fully inside (rows x cols), AVX-512 shuffles;
 * returns after the blocks (the caller does the edges). */
__attribute__((target("avx512f")))
static void transpose_blocks_avx512(const float *src, int rows, int cols, const float *bias, float *dst) {
    for (int r0 = 0; r0 + 16 <= rows; r0 += 16)
        for (int c0 = 0; c0 + 16 <= cols; c0 += 16) {
            __m512 r[16], t[16];
            for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(src + (size_t)(r0 + i) * cols + c0);
            for (int i = 0; i < 16; i += 2) {
                t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
                t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
            }
            for (int i = 0; i < 16; i += 4) {
                r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
                r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
                r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
                r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
            }
            for (int i = 0; i < 4; i++) {
                t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
                t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xDD);
                t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
                t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xDD);
            }
            for (int i = 0; i < 4; i++) {
                r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
                r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xDD);
                r[i + 4] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0x88);
                r[i + 12] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0xDD);
            }
            for (int k = 0; k < 16; k++) {   /* r[k] = column c0 + k of the block */
                __m512 v = r[k];
                if (bias) v = _mm512_add_ps(v, _mm512_set1_ps(bias[c0 + k]));
                _mm512_storeu_ps(dst + (size_t)(c0 + k) * rows + r0, v);
            }
        }
}
#endif

/* dst (cols, rows) = src (rows, cols) transposed, + bias[c] (one add) when bias is not NULL. */
void sne_transpose(int path, const float *src, int rows, int cols, const float *bias, float *dst) {
    int rb = 0, cb = 0;
#ifdef SNE_CB_X86
    if (path == 2) { transpose_blocks_avx512(src, rows, cols, bias, dst); rb = rows & ~15; cb = cols & ~15; }
#else
    (void)path;
#endif
    for (int c = 0; c < cols; c++)
        for (int r = c < cb ? rb : 0; r < rows; r++) {
            const float v = src[(size_t)r * cols + c];
            dst[(size_t)c * rows + r] = bias ? v + bias[c] : v;
        }
}

#ifdef SNE_CB_X86
/* The zero-padded planes of one image (as sne_conv_direct.c pads them), every padded row written once
 * (masked AVX-512 copies of the interior), then 64 zero floats of slack.
 * pad = 1 and W >= 8: unmasked 16-float copies instead (masked stores are slow on Zen 4). A row's
 * last copy spills up to 8 floats past its interior, into its right pad and the next row's first
 * floats (the next row's copy and pads rewrite them; after a plane's last row, its bottom pad row is
 * written after it); the source row is over-read by as much, masked for the image's last row. */
__attribute__((target("avx512f")))
static void cb_pad(const float *x, int C, int H, int W, int pad, float *xpad) {
    const int Hp = H + 2 * pad, Wp = W + 2 * pad;
    if (pad == 1 && W >= 8) {
        for (int c = 0; c < C; c++) {
            float *pc = xpad + (size_t)c * Hp * Wp;
            for (int i = 0; i < Wp; i++) pc[i] = 0.0f;
            for (int y = 0; y < H; y++) {
                float *row = pc + (size_t)(y + 1) * Wp;
                const float *src = x + ((size_t)c * H + y) * W;
                const int lastRow = c == C - 1 && y == H - 1;
                for (int i = 0; i < W; i += 16) {
                    if (lastRow && W - i < 16) {
                        const __mmask16 k = (__mmask16)((1u << (W - i)) - 1u);
                        _mm512_mask_storeu_ps(row + 1 + i, k, _mm512_maskz_loadu_ps(k, src + i));
                    } else _mm512_storeu_ps(row + 1 + i, _mm512_loadu_ps(src + i));
                }
                row[0] = 0.0f; row[W + 1] = 0.0f;
            }
            float *bottom = pc + (size_t)(H + 1) * Wp;
            for (int i = 0; i < Wp; i++) bottom[i] = 0.0f;
        }
        memset(xpad + (size_t)C * Hp * Wp, 0, sizeof(float) * 64);
        return;
    }
    for (int c = 0; c < C; c++) {
        float *pc = xpad + (size_t)c * Hp * Wp;
        memset(pc, 0, sizeof(float) * (size_t)pad * Wp);
        for (int y = 0; y < H; y++) {
            float *row = pc + (size_t)(y + pad) * Wp;
            const float *src = x + ((size_t)c * H + y) * W;
            for (int i = 0; i < pad; i++) { row[i] = 0.0f; row[pad + W + i] = 0.0f; }
            for (int i = 0; i < W; i += 16) {
                const int n = W - i < 16 ? W - i : 16;
                const __mmask16 k = (__mmask16)((1u << n) - 1u);
                _mm512_mask_storeu_ps(row + pad + i, k, _mm512_maskz_loadu_ps(k, src + i));
            }
        }
        memset(pc + (size_t)(pad + H) * Wp, 0, sizeof(float) * (size_t)pad * Wp);
    }
    memset(xpad + (size_t)C * Hp * Wp, 0, sizeof(float) * 64);
}
#endif

#ifdef SNE_CB_X86
/* Every output row: blocks of 2 channel vectors, then 1. */
__attribute__((target("avx512f")))
static void cb_image(const float *xpad, int C, int Hp, int Wp, const float *wb, int kh, int kw, int OH, int OW, int Cout, float *yT) {
    const int nblk = Cout / 16;
    for (int oy = 0; oy < OH; oy++) {
        int b0 = 0;
        if (kw == 3) {
            for (; b0 + 2 <= nblk; b0 += 2) cb_row3(2, xpad, C, Hp, Wp, wb, kh, b0, oy, OW, Cout, yT);
            if (b0 < nblk && oy % 2 == 0 && oy + 1 < OH) cb_rows3_pair(xpad, C, Hp, Wp, wb, kh, b0, oy, OW, Cout, yT);   /* rows oy, oy+1 */
            else if (b0 < nblk && (oy % 2 == 0 || oy == OH - 1 && OH % 2 == 1)) cb_row3(1, xpad, C, Hp, Wp, wb, kh, b0, oy, OW, Cout, yT);
            continue;
        }
        for (; b0 + 2 <= nblk; b0 += 2) cb_row(2, xpad, C, Hp, Wp, wb, kh, kw, b0, oy, OW, Cout, yT);
        for (; b0 < nblk; b0++) cb_row(1, xpad, C, Hp, Wp, wb, kh, kw, b0, oy, OW, Cout, yT);
    }
}
#endif

/* One image: y (Cout, OH, OW) = conv(x (C, H, W), w) with the packed weights wb
 * (sne_conv_cblock_pack_weights, 64-byte aligned), zero padding pad, stride 1; the same bits as
 * sne_conv_direct_fwd. Needs sne_conv_cblock_supported. ws: sne_conv_cblock_workspace_floats floats. */
void sne_conv_cblock_fwd(int path, const float *x, int C, int H, int W, const float *wb, const float *bias, int Cout,
                         int kh, int kw, int pad, float *y, float *ws) {
#ifdef SNE_CB_X86
    (void)path;
    const int Hp = H + 2 * pad, Wp = W + 2 * pad, OH = Hp - kh + 1, OW = Wp - kw + 1;
    float *xpad = ws;
    float *yT = (float *)(((uintptr_t)(ws + (size_t)C * Hp * Wp + 64) + 63) & ~(uintptr_t)63);
    cb_pad(x, C, H, W, pad, xpad);
    cb_image(xpad, C, Hp, Wp, wb, kh, kw, OH, OW, Cout, yT);
    sne_transpose(2, yT, OH * OW, Cout, bias, y);
#else
    (void)path; (void)x; (void)C; (void)H; (void)W; (void)wb; (void)bias; (void)Cout; (void)kh; (void)kw; (void)pad; (void)y; (void)ws;
#endif
}

/* ---- weight gradient with the output channels in the lanes ---- */

int sne_conv_cblock_wgrad_supported(int path, int C, int Cout, int OW, int kh, int kw) {
#ifdef SNE_CB_X86
    return path == 2 && C >= 32 && Cout % 16 == 0 && OW <= 32 && kh * kw <= 9;
#else
    (void)path; (void)C; (void)Cout; (void)OW; (void)kh; (void)kw;
    return 0;
#endif
}

size_t sne_conv_cblock_wgrad_workspace_floats(int C, int H, int W, int pad, int Cout, int kh, int kw) {
    const int Hp = H + 2 * pad, Wp = W + 2 * pad, OH = Hp - kh + 1, OW = Wp - kw + 1;
    return (size_t)C * kh * kw * Cout + 64 + (size_t)OH * OW * Cout + 64 + (size_t)C * Hp * Wp + 64;
}

#ifdef SNE_CB_X86
/* One input channel c x NB blocks of 16 output channels (from b0) of one image: the accumulators
 * dWT[c][t][co] (t = ky*kw + kx, 16 lanes per block) get, for every output position in row-major
 * order, one FMA of the broadcast input xpad[c][oy+ky][ox+kx] times dyT[pos][block]. */
__attribute__((target("avx512f"), always_inline))
static inline void cbw_channel(int NB, int T, const float *xpad_c, int Wp, const float *dyT, int OH, int OW, int Cout,
                               int kw, int b0, float *dWT_c) {
    __m512 acc[9][2];
    for (int t = 0; t < T; t++)
        for (int b = 0; b < NB; b++) acc[t][b] = _mm512_load_ps(dWT_c + (size_t)t * Cout + (size_t)(b0 + b) * 16);
    for (int oy = 0; oy < OH; oy++) {
        const float *xr = xpad_c + (size_t)oy * Wp;
        const float *dr = dyT + (size_t)oy * OW * Cout + (size_t)b0 * 16;
        for (int ox = 0; ox < OW; ox++) {
            __m512 d[2];
            for (int b = 0; b < NB; b++) d[b] = _mm512_load_ps(dr + (size_t)ox * Cout + 16 * b);
            for (int t = 0; t < T; t++) {
                const __m512 xv = _mm512_set1_ps(xr[(t / kw) * Wp + ox + t % kw]);
                for (int b = 0; b < NB; b++) acc[t][b] = _mm512_fmadd_ps(xv, d[b], acc[t][b]);
            }
        }
    }
    for (int t = 0; t < T; t++)
        for (int b = 0; b < NB; b++) _mm512_store_ps(dWT_c + (size_t)t * Cout + (size_t)(b0 + b) * 16, acc[t][b]);
}

__attribute__((target("avx512f")))
static void cbw_image(const float *xpad, int C, int Hp, int Wp, const float *dyT, int OH, int OW, int Cout, int kh, int kw, float *dWT) {
    const int T = kh * kw, nblk = Cout / 16;
    for (int c = 0; c < C; c++) {
        const float *xc = xpad + (size_t)c * Hp * Wp;
        float *dc = dWT + (size_t)c * T * Cout;
        int b0 = 0;
#define SNE_CBW(t) case t: for (b0 = 0; b0 + 2 <= nblk; b0 += 2) cbw_channel(2, t, xc, Wp, dyT, OH, OW, Cout, kw, b0, dc); \
                           if (b0 < nblk) cbw_channel(1, t, xc, Wp, dyT, OH, OW, Cout, kw, b0, dc); break;
        switch (T) { SNE_CBW(9) SNE_CBW(8) SNE_CBW(7) SNE_CBW(6) SNE_CBW(5) SNE_CBW(4) SNE_CBW(3) SNE_CBW(2) SNE_CBW(1) }
#undef SNE_CBW
        (void)b0;
    }
}
#endif

/* dw (Cout, C, kh, kw) = the weight gradient of nimg images x (nimg, C, H, W), dy (nimg, Cout, OH, OW),
 * stride 1, zero padding pad: per weight, fl( FMA chain over images in order, then output positions
 * in row-major order, of x[c][oy+ky-pad][ox+kx-pad] * dy[co][oy][ox], from 0 ). Needs
 * sne_conv_cblock_wgrad_supported; ws: sne_conv_cblock_wgrad_workspace_floats floats. */
void sne_conv_cblock_wgrad_group(int path, const float *x, const float *dy, int nimg, int C, int H, int W, int Cout,
                                 int kh, int kw, int pad, float *dw, float *ws) {
#ifdef SNE_CB_X86
    (void)path;
    const int Hp = H + 2 * pad, Wp = W + 2 * pad, OH = Hp - kh + 1, OW = Wp - kw + 1, T = kh * kw, npos = OH * OW;
    float *dWT = (float *)(((uintptr_t)ws + 63) & ~(uintptr_t)63);
    float *dyT = (float *)(((uintptr_t)(dWT + (size_t)C * T * Cout) + 63) & ~(uintptr_t)63);
    float *xpad = (float *)(((uintptr_t)(dyT + (size_t)npos * Cout) + 63) & ~(uintptr_t)63);
    memset(dWT, 0, sizeof(float) * (size_t)C * T * Cout);
    for (int im = 0; im < nimg; im++) {
        sne_transpose(2, dy + (size_t)im * Cout * npos, Cout, npos, NULL, dyT);
        cb_pad(x + (size_t)im * C * H * W, C, H, W, pad, xpad);
        cbw_image(xpad, C, Hp, Wp, dyT, OH, OW, Cout, kh, kw, dWT);
    }
    /* dw[co][c][t] = dWT[c][t][co] */
    sne_transpose(2, dWT, C * T, Cout, NULL, dw);
#else
    (void)path; (void)x; (void)dy; (void)nimg; (void)C; (void)H; (void)W; (void)Cout; (void)kh; (void)kw; (void)pad; (void)dw; (void)ws;
#endif
}
