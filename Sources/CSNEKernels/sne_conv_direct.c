/* Direct (im2col-free) stride-1 convolution: AVX-512F (16 output columns per vector) or AVX2+FMA
 * (8 columns per vector, path 1): `path` is the caller's ISA level (sne_isa_level).
 *
 * The input image is first copied into a zero-padded plane set `xpad (C, H+2p, W+2p)` (the only
 * copy made), then every output vector is a sum of broadcast weights times unaligned 16-wide
 * loads from that padded plane. Lanes past the end of an output row read neighbouring padded
 * data and are never stored (forward) or are multiplied by zero (weight gradient).
 *
 * Arithmetic (same as the im2col + SGEMM path for c*kh*kw <= 256, so the two agree bit for bit):
 *   forward  y[co][oy][ox] = fl( sum over (c, ky, kx) in that order, one FMA each, from 0 ) [+ bias[co]]
 *   wgrad    lanes[(co*K + k)*L + l] += per image, sum over rows oy, columns ox ≡ l (mod L): FMA in
 *            that order, then dw[i] = the L lanes summed by halving (sne_conv_lanes_reduce, fixed
 *            order); L = 16 (AVX-512) or 8 (AVX2), so the two paths' weight gradients differ in
 *            rounding. Planes much narrower than a vector (7x7) use flattened rows and image
 *            chunks instead (see the weight-gradient section).
 * Backward data is the forward kernel applied to dy with the flipped, transposed weights
 * (`sne_conv_flip_weights`) and padding kh-1-pad. */
#include "sne_kernels.h"
#include <string.h>
#include <stdint.h>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define SNE_HAVE_AVX512 1
#endif

int sne_conv_direct_lanes(int path) { return path == 2 ? 16 : 8; }

/* Padded geometry shared by every function below. */
static int padded_w(int W, int pad) { return W + 2 * pad; }
static int padded_h(int H, int pad) { return H + 2 * pad; }

size_t sne_conv_direct_workspace_floats(int C, int H, int W, int pad) {
    /* planes + slack: the last vector of the last plane may read up to kw-1+15 floats past its row */
    return (size_t)C * (size_t)padded_h(H, pad) * (size_t)padded_w(W, pad) + 64 + 16;
}

/* xpad (C, H+2p, W+2p) = x with a zero border of width p; the 64 floats after the planes are zeroed. */
static inline void pad_image(const float *x, int C, int H, int W, int pad, float *xpad) {
    int Hp = padded_h(H, pad), Wp = padded_w(W, pad);
    for (int c = 0; c < C; c++) {
        float *pc = xpad + (size_t)c * Hp * Wp;
        const float *xc = x + (size_t)c * H * W;
        memset(pc, 0, sizeof(float) * (size_t)pad * Wp);
        for (int y = 0; y < H; y++) {
            float *row = pc + (size_t)(y + pad) * Wp;
            const float *src = xc + (size_t)y * W;
            for (int i = 0; i < pad; i++) { row[i] = 0.0f; row[pad + W + i] = 0.0f; }
            for (int i = 0; i < W; i++) row[pad + i] = src[i];   /* short rows: a loop beats a memcpy call */
        }
        memset(pc + (size_t)(pad + H) * Wp, 0, sizeof(float) * (size_t)pad * Wp);
    }
    memset(xpad + (size_t)C * Hp * Wp, 0, sizeof(float) * 64);
}

void sne_conv_flip_weights(const float *w, int Cout, int C, int kh, int kw, float *wflip) {
    for (int co = 0; co < Cout; co++)
        for (int c = 0; c < C; c++)
            for (int ky = 0; ky < kh; ky++)
                for (int kx = 0; kx < kw; kx++)
                    wflip[(((size_t)c * Cout + co) * kh + (kh - 1 - ky)) * kw + (kw - 1 - kx)] =
                        w[(((size_t)co * C + c) * kh + ky) * kw + kx];
}

#ifdef SNE_HAVE_AVX512

/* One forward tile: CO output channels x R output rows x one 16-column vector at ox0.
 * acc[i][r] = sum over (c, ky, kx) of w[co0+i][c][ky][kx] * xpad[c][oy0+r+ky][ox0+kx] (FMA, from 0). */
__attribute__((target("avx512f"), always_inline))
static inline void fwd_tile(int CO, int R, const float *xpad, int C, int Hp, int Wp,
                            const float *w, const float *bias, int kh, int kw, int co0, int oy0, int ox0,
                            float *y, int OH, int OW, __mmask16 mask) {
    __m512 acc[8][4];
    for (int i = 0; i < CO; i++) for (int r = 0; r < R; r++) acc[i][r] = _mm512_setzero_ps();
    const int K = C * kh * kw;
    for (int c = 0; c < C; c++) {
        const float *xc = xpad + (size_t)c * Hp * Wp + (size_t)oy0 * Wp + ox0;
        const float *wc = w + (size_t)co0 * K + (size_t)c * kh * kw;
        for (int ky = 0; ky < kh; ky++)
            for (int kx = 0; kx < kw; kx++) {
                __m512 xv[4];
                for (int r = 0; r < R; r++) xv[r] = _mm512_loadu_ps(xc + (size_t)(r + ky) * Wp + kx);
                for (int i = 0; i < CO; i++) {
                    __m512 wv = _mm512_set1_ps(wc[(size_t)i * K + ky * kw + kx]);
                    for (int r = 0; r < R; r++) acc[i][r] = _mm512_fmadd_ps(wv, xv[r], acc[i][r]);
                }
            }
    }
    for (int i = 0; i < CO; i++) {
        __m512 b = _mm512_set1_ps(bias ? bias[co0 + i] : 0.0f);
        for (int r = 0; r < R; r++) {
            __m512 v = bias ? _mm512_add_ps(acc[i][r], b) : acc[i][r];
            _mm512_mask_storeu_ps(y + ((size_t)(co0 + i) * OH + oy0 + r) * OW + ox0, mask, v);
        }
    }
}

__attribute__((target("avx512f")))
static void fwd_avx512(const float *x, int C, int H, int W, const float *w, const float *bias, int Cout, int kh, int kw,
                       int pad, float *y, float *ws) {
    int Hp = padded_h(H, pad), Wp = padded_w(W, pad);
    int OH = Hp - kh + 1, OW = Wp - kw + 1;
    pad_image(x, C, H, W, pad, ws);
    for (int ox0 = 0; ox0 < OW; ox0 += 16) {
        int nv = OW - ox0 < 16 ? OW - ox0 : 16;
        __mmask16 mask = (__mmask16)((1u << nv) - 1u);
        int co0 = 0;
        for (; co0 + 8 <= Cout; co0 += 8) {
            int oy0 = 0;
            for (; oy0 + 3 <= OH; oy0 += 3) fwd_tile(8, 3, ws, C, Hp, Wp, w, bias, kh, kw, co0, oy0, ox0, y, OH, OW, mask);
            for (; oy0 + 2 <= OH; oy0 += 2) fwd_tile(8, 2, ws, C, Hp, Wp, w, bias, kh, kw, co0, oy0, ox0, y, OH, OW, mask);
            for (; oy0 < OH; oy0++) fwd_tile(8, 1, ws, C, Hp, Wp, w, bias, kh, kw, co0, oy0, ox0, y, OH, OW, mask);
        }
        for (; co0 < Cout; co0++) {
            int oy0 = 0;
            for (; oy0 + 4 <= OH; oy0 += 4) fwd_tile(1, 4, ws, C, Hp, Wp, w, bias, kh, kw, co0, oy0, ox0, y, OH, OW, mask);
            for (; oy0 < OH; oy0++) fwd_tile(1, 1, ws, C, Hp, Wp, w, bias, kh, kw, co0, oy0, ox0, y, OH, OW, mask);
        }
    }
}

/* Forward over flattened positions p = oy*Wp + ox (the padded width Wp, so a 16-lane vector may span
 * several output rows; used when that needs fewer vectors than row by row, e.g. 7x7): vector v covers
 * p = 16v .. 16v+15, each lane the same FMA chain as fwd_tile. Lanes with ox >= OW or p >= OH*Wp are
 * junk; the valid ones are compressed and stored contiguously at their output index start[v]. */
__attribute__((target("avx512f"), always_inline))
static inline void fwd_flat_tile(int CO, int R, const float *xpad, int C, int HpWp, int Wp,
                                 const float *w, const float *bias, int kh, int kw, int co0, int v0,
                                 float *y, int OHW, const __mmask16 *masks, const int *start) {
    __m512 acc[8][3];
    for (int i = 0; i < CO; i++) for (int r = 0; r < R; r++) acc[i][r] = _mm512_setzero_ps();
    const int K = C * kh * kw;
    for (int c = 0; c < C; c++) {
        const float *xc = xpad + (size_t)c * HpWp + (size_t)v0 * 16;
        const float *wc = w + (size_t)co0 * K + (size_t)c * kh * kw;
        for (int ky = 0; ky < kh; ky++)
            for (int kx = 0; kx < kw; kx++) {
                __m512 xv[3];
                for (int r = 0; r < R; r++) xv[r] = _mm512_loadu_ps(xc + (size_t)r * 16 + ky * Wp + kx);
                for (int i = 0; i < CO; i++) {
                    __m512 wv = _mm512_set1_ps(wc[(size_t)i * K + ky * kw + kx]);
                    for (int r = 0; r < R; r++) acc[i][r] = _mm512_fmadd_ps(wv, xv[r], acc[i][r]);
                }
            }
    }
    for (int i = 0; i < CO; i++) {
        __m512 b = _mm512_set1_ps(bias ? bias[co0 + i] : 0.0f);
        for (int r = 0; r < R; r++) {
            __m512 v = bias ? _mm512_add_ps(acc[i][r], b) : acc[i][r];
            __mmask16 m = masks[v0 + r];
            __m512 packed = _mm512_maskz_compress_ps(m, v);
            int cnt = __builtin_popcount((unsigned)m);
            _mm512_mask_storeu_ps(y + (size_t)(co0 + i) * OHW + start[v0 + r], (__mmask16)((1u << cnt) - 1u), packed);
        }
    }
}

/* Vectors of the flattened forward for an OH x OW output on padded width Wp. */
static int flat_vectors(int OH, int Wp) { return (OH * Wp + 15) / 16; }

__attribute__((target("avx512f")))
static void fwd_flat_avx512(const float *x, int C, int H, int W, const float *w, const float *bias, int Cout, int kh, int kw,
                            int pad, float *y, float *ws) {
    int Hp = padded_h(H, pad), Wp = padded_w(W, pad);
    int OH = Hp - kh + 1, OW = Wp - kw + 1, NV = flat_vectors(OH, Wp);
    pad_image(x, C, H, W, pad, ws);
    __mmask16 masks[NV];
    int start[NV];
    for (int v = 0; v < NV; v++) {
        unsigned m = 0;
        for (int l = 0; l < 16; l++) {
            int p = v * 16 + l;
            if (p < OH * Wp && p % Wp < OW) m |= 1u << l;
        }
        masks[v] = (__mmask16)m;
        int p0 = v * 16;
        start[v] = (p0 / Wp) * OW + (p0 % Wp < OW ? p0 % Wp : OW);
    }
    int co0 = 0;
    for (; co0 + 8 <= Cout; co0 += 8) {
        int v0 = 0;
        for (; v0 + 3 <= NV; v0 += 3) fwd_flat_tile(8, 3, ws, C, Hp * Wp, Wp, w, bias, kh, kw, co0, v0, y, OH * OW, masks, start);
        for (; v0 < NV; v0++) fwd_flat_tile(8, 1, ws, C, Hp * Wp, Wp, w, bias, kh, kw, co0, v0, y, OH * OW, masks, start);
    }
    for (; co0 < Cout; co0++) {
        int v0 = 0;
        for (; v0 + 3 <= NV; v0 += 3) fwd_flat_tile(1, 3, ws, C, Hp * Wp, Wp, w, bias, kh, kw, co0, v0, y, OH * OW, masks, start);
        for (; v0 < NV; v0++) fwd_flat_tile(1, 1, ws, C, Hp * Wp, Wp, w, bias, kh, kw, co0, v0, y, OH * OW, masks, start);
    }
}

/* ---- AVX2+FMA versions (16 ymm registers): 8 columns per vector, 4 output channels x 2 rows (forward) or
 * 4 output channels x 3 kernel columns (weight gradient) per tile; same arithmetic per lane. ---- */

__attribute__((target("avx2,fma"), always_inline))
static inline void fwd_tile8(int CO, int R, const float *xpad, int C, int Hp, int Wp,
                             const float *w, const float *bias, int kh, int kw, int co0, int oy0, int ox0,
                             float *y, int OH, int OW, __m256i mask) {
    __m256 acc[4][3];
    for (int i = 0; i < CO; i++) for (int r = 0; r < R; r++) acc[i][r] = _mm256_setzero_ps();
    const int K = C * kh * kw;
    for (int c = 0; c < C; c++) {
        const float *xc = xpad + (size_t)c * Hp * Wp + (size_t)oy0 * Wp + ox0;
        const float *wc = w + (size_t)co0 * K + (size_t)c * kh * kw;
        for (int ky = 0; ky < kh; ky++)
            for (int kx = 0; kx < kw; kx++) {
                __m256 xv[3];
                for (int r = 0; r < R; r++) xv[r] = _mm256_loadu_ps(xc + (size_t)(r + ky) * Wp + kx);
                for (int i = 0; i < CO; i++) {
                    __m256 wv = _mm256_broadcast_ss(wc + (size_t)i * K + ky * kw + kx);
                    for (int r = 0; r < R; r++) acc[i][r] = _mm256_fmadd_ps(wv, xv[r], acc[i][r]);
                }
            }
    }
    for (int i = 0; i < CO; i++) {
        __m256 b = _mm256_set1_ps(bias ? bias[co0 + i] : 0.0f);
        for (int r = 0; r < R; r++) {
            __m256 v = bias ? _mm256_add_ps(acc[i][r], b) : acc[i][r];
            _mm256_maskstore_ps(y + ((size_t)(co0 + i) * OH + oy0 + r) * OW + ox0, mask, v);
        }
    }
}

__attribute__((target("avx2,fma")))
static void fwd_avx2(const float *x, int C, int H, int W, const float *w, const float *bias, int Cout, int kh, int kw,
                     int pad, float *y, float *ws) {
    int Hp = padded_h(H, pad), Wp = padded_w(W, pad);
    int OH = Hp - kh + 1, OW = Wp - kw + 1;
    pad_image(x, C, H, W, pad, ws);
    const __m256i lane = _mm256_set_epi32(7, 6, 5, 4, 3, 2, 1, 0);
    for (int ox0 = 0; ox0 < OW; ox0 += 8) {
        int nv = OW - ox0 < 8 ? OW - ox0 : 8;
        __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(nv), lane);
        int co0 = 0;
        for (; co0 + 4 <= Cout; co0 += 4) {
            int oy0 = 0;
            for (; oy0 + 2 <= OH; oy0 += 2) fwd_tile8(4, 2, ws, C, Hp, Wp, w, bias, kh, kw, co0, oy0, ox0, y, OH, OW, mask);
            for (; oy0 < OH; oy0++) fwd_tile8(4, 1, ws, C, Hp, Wp, w, bias, kh, kw, co0, oy0, ox0, y, OH, OW, mask);
        }
        for (; co0 < Cout; co0++) {
            int oy0 = 0;
            for (; oy0 + 3 <= OH; oy0 += 3) fwd_tile8(1, 3, ws, C, Hp, Wp, w, bias, kh, kw, co0, oy0, ox0, y, OH, OW, mask);
            for (; oy0 < OH; oy0++) fwd_tile8(1, 1, ws, C, Hp, Wp, w, bias, kh, kw, co0, oy0, ox0, y, OH, OW, mask);
        }
    }
}

/* ---- weight gradient of a group of images ----
 * Output channels go in blocks of CO (8 AVX-512, 4 AVX2) and kernel columns in threes (J). A tile
 * accumulates CO x J weights in registers: lane l of acc[i][j] sums, over the images of a chunk in
 * order, then the rows r in order, then the vectors v of a row in order, one FMA each from 0,
 *   dyv[img][co][r*dyrs + VL*v + l] * xpad[img][c][r*xrs + VL*v + l + ky*Wp + kx];
 * then adds acc into the block's lane buffer (chunks in order); after the group the VL lanes of
 * each weight are reduced as sne_conv_lanes_reduce. Two layouts of the positions:
 *   rows (the default): one row per output row, dy rows copied into OWv = OW rounded up to 16
 *     floats with zero lanes past OW, chunks of 1 image: exactly the arithmetic of the per-image
 *     kernel this replaced (students train to the same bits as before);
 *   flattened (planes much narrower than a vector, e.g. 7x7, or C >= 32): one "row" of Pv = OH*Wp rounded up
 *     to 16 positions p = oy*Wp + ox (junk columns ox >= OW carry dy = 0), chunks of as many images
 *     as keep one block's dy within 32 KB (a function of the shape only).
 * Lanes past a row's end read neighbouring padded data and are multiplied by dy = 0. */

/* The body of wgrp_tile / wgrp_tile8: VEC registers of WID floats, acc[i][j] += dy(i) * x(j) over the
 * chunk's images and rows, then added into the block's lanes. */
#define WGRP_TILE_BODY(VEC, WID, ZERO, LOADU, LOAD, FMA, STORE, ADD)                                     \
    for (int i = 0; i < CO; i++) for (int j = 0; j < J; j++) acc[i][j] = ZERO();                         \
    for (int im = im0; im < im0 + nimg; im++)                                                            \
        for (int r = 0; r < rows; r++) {                                                                 \
            const float *xc = xoff + (size_t)im * ximg + (size_t)r * xrs;                                \
            const float *dc = dyv + (size_t)im * dyimg + (size_t)r * dyrs;                               \
            for (int p = 0; p < span; p += WID) {                                                        \
                VEC xv[3];                                                                               \
                for (int j = 0; j < J; j++) xv[j] = LOADU(xc + p + j);                                   \
                for (int i = 0; i < CO; i++) {                                                           \
                    VEC dv = LOAD(dc + (size_t)i * dyplane + p);                                         \
                    for (int j = 0; j < J; j++) acc[i][j] = FMA(dv, xv[j], acc[i][j]);                   \
                }                                                                                        \
            }                                                                                            \
        }                                                                                                \
    for (int i = 0; i < CO; i++)                                                                         \
        for (int j = 0; j < J; j++) {                                                                    \
            float *l = lanes + ((size_t)i * K + j) * WID;                                                \
            STORE(l, ADD(LOAD(l), acc[i][j]));                                                           \
        }

__attribute__((target("avx512f"), always_inline))
static inline void wgrp_tile(int CO, int J, int im0, int nimg, size_t ximg, int rows, int span, int xrs, int dyrs,
                             size_t dyplane, const float *dyv, size_t dyimg, const float *xoff, float *lanes, int K) {
    __m512 acc[8][3];
    WGRP_TILE_BODY(__m512, 16, _mm512_setzero_ps, _mm512_loadu_ps, _mm512_load_ps, _mm512_fmadd_ps, _mm512_store_ps, _mm512_add_ps)
}

__attribute__((target("avx2,fma"), always_inline))
static inline void wgrp_tile8(int CO, int J, int im0, int nimg, size_t ximg, int rows, int span, int xrs, int dyrs,
                              size_t dyplane, const float *dyv, size_t dyimg, const float *xoff, float *lanes, int K) {
    __m256 acc[4][3];
    WGRP_TILE_BODY(__m256, 8, _mm256_setzero_ps, _mm256_loadu_ps, _mm256_load_ps, _mm256_fmadd_ps, _mm256_store_ps, _mm256_add_ps)
}

/* Expands one tile call for J = 3, 2, 1 (J is a compile-time constant inside each tile). */
#define WGRP_J(TILE, CO, DY, LANES) do { \
        if (J == 3) TILE(CO, 3, im0, nch, ximg, rows, span, xrs, dyrs, dyplane, DY, dyimg, xoff, LANES, K); \
        else if (J == 2) TILE(CO, 2, im0, nch, ximg, rows, span, xrs, dyrs, dyplane, DY, dyimg, xoff, LANES, K); \
        else TILE(CO, 1, im0, nch, ximg, rows, span, xrs, dyrs, dyplane, DY, dyimg, xoff, LANES, K); } while (0)

/* The group loop shared by both widths: VL lanes, COB channels per block, TILE the tile function. */
#define WGRP_BODY(TILE, VL, COB) do { \
    const int K = C * kh * kw; \
    const size_t ximg = (size_t)C * Hp * Wp, dyimg = (size_t)Cout * dyplane; \
    for (int co0 = 0; co0 < Cout; co0 += COB) { \
        int cob = Cout - co0 < COB ? Cout - co0 : COB; \
        for (size_t i = 0; i < (size_t)cob * K * VL; i++) lanes[i] = 0.0f; \
        for (int im0 = 0; im0 < nimg; im0 += chunk) { \
            int nch = nimg - im0 < chunk ? nimg - im0 : chunk; \
            for (int c = 0; c < C; c++) \
                for (int ky = 0; ky < kh; ky++) \
                    for (int kx0 = 0; kx0 < kw; kx0 += 3) { \
                        int J = kw - kx0 < 3 ? kw - kx0 : 3; \
                        const float *xoff = xpad + (size_t)c * Hp * Wp + (size_t)ky * Wp + kx0; \
                        float *lb = lanes + (((size_t)c * kh + ky) * kw + kx0) * VL; \
                        if (cob == COB) WGRP_J(TILE, COB, dyv + (size_t)co0 * dyplane, lb); \
                        else for (int co = 0; co < cob; co++) WGRP_J(TILE, 1, dyv + (size_t)(co0 + co) * dyplane, lb + (size_t)co * K * VL); \
                    } \
        } \
        sne_conv_lanes_reduce(lanes, (size_t)cob * K, dw + (size_t)co0 * K, VL); \
    } } while (0)

__attribute__((target("avx512f")))
static void wgrp_avx512(const float *xpad, int nimg, int chunk, int C, int Hp, int Wp, int Cout, int kh, int kw,
                        int rows, int span, int xrs, int dyrs, size_t dyplane, const float *dyv, float *lanes, float *dw) {
    WGRP_BODY(wgrp_tile, 16, 8);
}

__attribute__((target("avx2,fma")))
static void wgrp_avx2(const float *xpad, int nimg, int chunk, int C, int Hp, int Wp, int Cout, int kh, int kw,
                      int rows, int span, int xrs, int dyrs, size_t dyplane, const float *dyv, float *lanes, float *dw) {
    WGRP_BODY(wgrp_tile8, 8, 4);
}
#endif

void sne_conv_direct_fwd(int path, const float *x, int C, int H, int W, const float *w, const float *bias, int Cout,
                         int kh, int kw, int pad, float *y, float *ws) {
#ifdef SNE_HAVE_AVX512
    if (path == 2) {
        int Wp = padded_w(W, pad), OH = padded_h(H, pad) - kh + 1, OW = Wp - kw + 1;
        if (flat_vectors(OH, Wp) < OH * ((OW + 15) / 16)) fwd_flat_avx512(x, C, H, W, w, bias, Cout, kh, kw, pad, y, ws);
        else fwd_avx512(x, C, H, W, w, bias, Cout, kh, kw, pad, y, ws);
        return;
    }
    if (path == 1) { fwd_avx2(x, C, H, W, w, bias, Cout, kh, kw, pad, y, ws); return; }
#endif
    (void)path; (void)x; (void)C; (void)H; (void)W; (void)w; (void)bias; (void)Cout; (void)kh; (void)kw; (void)pad; (void)y; (void)ws;
}


/* Layout of the group weight gradient (see above): flattened with image chunks when that needs
 * under 3/4 of the row layout's vectors (planes much narrower than a vector, e.g. 7x7) or for
 * layers of 32 or more input channels (there the L1-resident dy chunk saves 10-25 %: the teacher's
 * 14x14 layers); rows otherwise (every student layer: the same bits as the per-image kernel). */
static int wgrad_flat(int C, int OH, int OW, int Wp) {
    return C >= 32 || 4 * ((OH * Wp + 15) / 16) < 3 * OH * ((OW + 15) / 16);
}

/* Floats of one dy plane in either layout (the larger, so the workspace fits both). */
static size_t wgrad_dy_plane(int OH, int OW, int Wp) {
    size_t flat = (size_t)((OH * Wp + 15) & ~15), rows = (size_t)OH * (size_t)((OW + 15) & ~15);
    return flat > rows ? flat : rows;
}

size_t sne_conv_wgrad_group_workspace_floats(int nimg, int C, int H, int W, int Cout, int kh, int kw, int pad) {
    int Hp = padded_h(H, pad), Wp = padded_w(W, pad), OH = Hp - kh + 1, OW = Wp - kw + 1;
    return (size_t)nimg * C * Hp * Wp + 64 + 16
         + (size_t)nimg * Cout * wgrad_dy_plane(OH, OW, Wp) + 16
         + (size_t)8 * C * kh * kw * 16 + 16;   /* one block's lanes */
}

void sne_conv_direct_wgrad_group(int path, const float *x, const float *dy, int nimg, int C, int H, int W, int Cout,
                                 int kh, int kw, int pad, float *dw, float *ws) {
#ifdef SNE_HAVE_AVX512
    int Hp = padded_h(H, pad), Wp = padded_w(W, pad);
    int OH = Hp - kh + 1, OW = Wp - kw + 1;
    size_t ximg = (size_t)C * Hp * Wp;
    /* every image's padded planes back to back; the 64 floats after the last plane are zero */
    for (int im = 0; im < nimg; im++) pad_image(x + (size_t)im * C * H * W, C, H, W, pad, ws + (size_t)im * ximg);
    float *dyv = (float *)(((uintptr_t)(ws + (size_t)nimg * ximg + 64) + 63) & ~(uintptr_t)63);
    int flat = wgrad_flat(C, OH, OW, Wp);
    int rows, span, xrs, dyrs, chunk;
    size_t dyplane;
    if (flat) {
        dyplane = (size_t)((OH * Wp + 15) & ~15); rows = 1; span = (int)dyplane; xrs = 0; dyrs = 0;
        chunk = (int)(32768 / ((size_t)(path == 2 ? 8 : 4) * dyplane * 4));
        if (chunk < 1) chunk = 1;
        for (int r = 0; r < nimg * Cout; r++) {   /* dy rows at padded-width stride, zero junk columns and tail */
            const float *src = dy + (size_t)r * OH * OW;
            float *d = dyv + (size_t)r * dyplane;
            for (int oy = 0; oy < OH; oy++) {
                for (int ox = 0; ox < OW; ox++) d[oy * Wp + ox] = src[oy * OW + ox];
                for (int ox = OW; ox < Wp; ox++) d[oy * Wp + ox] = 0.0f;
            }
            for (size_t p = (size_t)OH * Wp; p < dyplane; p++) d[p] = 0.0f;
        }
    } else {
        int OWv = (OW + 15) & ~15;
        dyplane = (size_t)OH * OWv; rows = OH; span = OWv; xrs = Wp; dyrs = OWv; chunk = 1;
        for (int r = 0; r < nimg * Cout * OH; r++) {   /* dy rows padded to OWv with zero lanes */
            const float *src = dy + (size_t)r * OW;
            float *d = dyv + (size_t)r * OWv;
            for (int i = 0; i < OW; i++) d[i] = src[i];
            for (int i = OW; i < OWv; i++) d[i] = 0.0f;
        }
    }
    float *lanes = (float *)(((uintptr_t)(dyv + (size_t)nimg * Cout * dyplane) + 63) & ~(uintptr_t)63);
    if (path == 2) { wgrp_avx512(ws, nimg, chunk, C, Hp, Wp, Cout, kh, kw, rows, span, xrs, dyrs, dyplane, dyv, lanes, dw); return; }
    if (path == 1) { wgrp_avx2(ws, nimg, chunk, C, Hp, Wp, Cout, kh, kw, rows, span, xrs, dyrs, dyplane, dyv, lanes, dw); return; }
#endif
    (void)path; (void)x; (void)dy; (void)nimg; (void)C; (void)H; (void)W; (void)Cout; (void)kh; (void)kw; (void)pad; (void)dw; (void)ws;
}

void sne_conv_lanes_reduce(const float *lanes, size_t n, float *out, int L) {
    for (size_t i = 0; i < n; i++) {
        const float *l = lanes + i * (size_t)L;
        float s8[8], s4[4], s2[2];
        if (L == 16) for (int j = 0; j < 8; j++) s8[j] = l[j] + l[j + 8];
        else for (int j = 0; j < 8; j++) s8[j] = l[j];
        for (int j = 0; j < 4; j++) s4[j] = s8[j] + s8[j + 4];
        for (int j = 0; j < 2; j++) s2[j] = s4[j] + s4[j + 2];
        out[i] = s2[0] + s2[1];
    }
}
