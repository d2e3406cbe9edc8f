/* CSNEKernels: hand-vectorised float32 kernels (SGEMM, im2col/col2im, pooling) used by SNETensor.
 *
 * All matrices are row-major. No function allocates: callers pass scratch memory whose size the
 * matching `_workspace_floats` companion returns. The AVX2+FMA path is chosen at run time with
 * cpuid; every other CPU gets the portable C path (same blocking, plain loops). */
#ifndef SNE_KERNELS_H
#define SNE_KERNELS_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The vector ISA level every kernel family is selected by: 0 portable C, 1 AVX2+FMA, 2 AVX-512F.
 * Returns `force` capped at the best level this CPU runs, or the best when force < 0. No state is
 * kept: callers pass the level to the kernels (the `path`/`isa` arguments below).
 * SGEMM micro-kernels per level: 0 portable C 6x16, 1 AVX2+FMA 6x16, 2 AVX-512F 8x32; levels 1 and
 * 2 give the same bits (one FMA chain per element). */
int sne_isa_level(int force);

/* Floats of scratch one thread needs for sne_sgemm_block (packed A and B panels). */
size_t sne_sgemm_workspace_floats(void);

/* C[m0:m1, n0:n1] = alpha * op(A) * op(B) + beta * C on that sub-rectangle, single-threaded.
 *   op(A): (M, K) — A is (M, lda>=K) row-major, or (K, lda>=M) when transA.
 *   op(B): (K, N) — B is (K, ldb>=N), or (N, ldb>=K) when transB.
 *   C: (M, ldc>=N). Each C element is reduced over k in the same order whatever the rectangle,
 *   so any split of C across threads gives bit-identical results. beta == 0 ignores C's old value.
 *   path: the micro-kernel, an ISA level from sne_isa_level. */
void sne_sgemm_block(int transA, int transB, int M, int N, int K, float alpha,
                     const float *A, int lda, const float *B, int ldb, float beta,
                     float *C, int ldc, int m0, int m1, int n0, int n1, float *workspace, int path);

/* im2col for one image: x (C, H, W) -> col (C*kh*kw, OH*OW) with zero padding. */
void sne_im2col(const float *x, int C, int H, int W, int kh, int kw, int stride, int pad,
                int OH, int OW, float *col);

/* im2col into a wider matrix: row r of the result starts at col + r*ldcol (ldcol >= OH*OW), so
 * several images can sit side by side. */
void sne_im2col_ld(const float *x, int C, int H, int W, int kh, int kw, int stride, int pad,
                   int OH, int OW, float *col, int ldcol);

/* col2im for one image: accumulates col (C*kh*kw, OH*OW) into dx (C, H, W) (dx must be zeroed). */
void sne_col2im(const float *col, int C, int H, int W, int kh, int kw, int stride, int pad,
                int OH, int OW, float *dx);

/* Max pooling over planes: x (P, H, W) -> y (P, OH, OW), argmax index within the plane in idx. */
void sne_maxpool_fwd(const float *x, int P, int H, int W, int k, int stride, int OH, int OW,
                     float *y, int32_t *idx);

/* A training batch norm (+ ReLU) applied by the max pool after it: plane p (counted from the call's
 * first plane) has channel (p0 + p) % channels, and the pool takes v = x*scale[ch] + shift[ch]
 * (then v > 0 ? v : 0 with relu != 0), the bits sne_bn_apply writes, instead of x. */
typedef struct {
    const float *scale, *shift;
    int channels, p0, relu;
} sne_pool_affine;

/* sne_maxpool_fwd of the affine (+ ReLU) of x (a = NULL: of x itself); y and idx exactly as
 * sne_maxpool_fwd gives for the batch norm's output. */
void sne_maxpool_fwd_affine(const float *x, int P, int H, int W, int k, int stride, int OH, int OW,
                            const sne_pool_affine *a, float *y, int32_t *idx);

/* ---- direct stride-1 convolution (sne_conv_direct.c) ---- */

/* The direct kernels' `path` is an ISA level (sne_isa_level): 2 AVX-512F (16 columns per vector),
 * 1 AVX2+FMA (8 columns); at level 0 callers use im2col + SGEMM instead. */

/* Lane partials per weight in the weight gradient of `path`: 16 (AVX-512) or 8 (AVX2). */
int sne_conv_direct_lanes(int path);

/* Floats of per-thread scratch the direct forward needs (the zero-padded input planes + slack). */
size_t sne_conv_direct_workspace_floats(int C, int H, int W, int pad);

/* One image, stride 1: y (Cout, OH, OW) = conv(x (C, H, W), w (Cout, C, kh, kw)) with zero padding
 * `pad`, OH = H + 2 pad - kh + 1. Each output is an FMA chain over (c, ky, kx) in order, from 0,
 * then + bias[co] in one add when bias is not NULL (same bits on both paths and as im2col + the
 * vector SGEMM when C*kh*kw <= 256). `ws`: sne_conv_direct_workspace_floats(C, H, W, pad) floats. */
void sne_conv_direct_fwd(int path, const float *x, int C, int H, int W, const float *w, const float *bias, int Cout,
                         int kh, int kw, int pad, float *y, float *ws);

/* Floats of per-thread scratch sne_conv_direct_wgrad_group needs for nimg images. */
size_t sne_conv_wgrad_group_workspace_floats(int nimg, int C, int H, int W, int Cout, int kh, int kw, int pad);

/* dw (Cout, C, kh, kw) = the weight gradient of nimg images x (nimg, C, H, W), dy (nimg, Cout, OH, OW),
 * stride 1: per weight, L lane partial sums (16 AVX-512, 8 AVX2) reduced as sne_conv_lanes_reduce.
 * Row layout (default): per image in order, a register sum over output rows and vectors of L columns
 * (lane l takes ox = l mod L), added to the lane. Flattened layout (planes much narrower than a
 * vector, e.g. 7x7, or C >= 32): per chunk of images (size fixed by the shape), a register sum over positions
 * p = oy*(W+2pad) + ox in vectors of L. The order is spelled out in sne_conv_direct.c. Thread-count
 * independent (the caller fixes the groups). ws: sne_conv_wgrad_group_workspace_floats(nimg, ...). */
void sne_conv_direct_wgrad_group(int path, const float *x, const float *dy, int nimg, int C, int H, int W, int Cout,
                                 int kh, int kw, int pad, float *dw, float *ws);

/* out[i] = sum of the L (16 or 8) lane partials l = lanes + i*L by halving, in this fixed order:
 * s8[j] = l[j] + l[j+8] (L = 16; else s8 = l), s4[j] = s8[j] + s8[j+4], s2[j] = s4[j] + s4[j+2],
 * out = s2[0] + s2[1]. */
void sne_conv_lanes_reduce(const float *lanes, size_t n, float *out, int L);

/* wflip (C, Cout, kh, kw) = w (Cout, C, kh, kw) with the kernel rotated 180 degrees, so that
 * backward data of a stride-1 conv is the forward conv of dy with wflip and padding kh-1-pad. */
void sne_conv_flip_weights(const float *w, int Cout, int C, int kh, int kw, float *wflip);

/* ---- direct stride-1 convolution with output channels in the lanes (sne_conv_cblock.c) ---- */

/* 1 when sne_conv_cblock_fwd runs this shape at ISA level path (AVX-512, C >= 8, Cout a multiple
 * of 16, output rows of at most 32), else 0. */
int sne_conv_cblock_supported(int path, int C, int Cout, int OW, int kh, int kw);

/* wb (Cout/16, C, kh, kw, 16) = w (Cout, C, kh, kw) with 16 output channels innermost. */
void sne_conv_cblock_pack_weights(const float *w, int Cout, int C, int kh, int kw, float *wb);

/* Per-thread scratch floats of sne_conv_cblock_fwd. */
size_t sne_conv_cblock_workspace_floats(int C, int H, int W, int pad, int Cout, int OH, int OW);

/* One image, stride 1: y (Cout, OH, OW) = conv(x (C, H, W), w) with wb = the packed weights (64-byte
 * aligned) and zero padding pad; the same bits as sne_conv_direct_fwd (one FMA chain over (c, ky, kx)
 * from 0, then + bias[co] when bias is not NULL). */
void sne_conv_cblock_fwd(int path, const float *x, int C, int H, int W, const float *wb, const float *bias, int Cout,
                         int kh, int kw, int pad, float *y, float *ws);

/* 1 when sne_conv_cblock_wgrad_group runs this shape (AVX-512, C >= 32, Cout a multiple of 16, output
 * rows of at most 32, kh*kw <= 9), else 0. */
int sne_conv_cblock_wgrad_supported(int path, int C, int Cout, int OW, int kh, int kw);

/* Per-thread scratch floats of sne_conv_cblock_wgrad_group. */
size_t sne_conv_cblock_wgrad_workspace_floats(int C, int H, int W, int pad, int Cout, int kh, int kw);

/* dw (Cout, C, kh, kw) = the weight gradient of nimg images, stride 1: per weight one FMA chain over
 * images in order, then output positions in row-major order, from 0 (output channels in the lanes). */
void sne_conv_cblock_wgrad_group(int path, const float *x, const float *dy, int nimg, int C, int H, int W, int Cout,
                                 int kh, int kw, int pad, float *dw, float *ws);

/* dst (cols, rows) = src (rows, cols) transposed, + bias[c] (one add) when bias is not NULL; 16 x 16
 * blocks with AVX-512 shuffles at ISA level 2. */
void sne_transpose(int path, const float *src, int rows, int cols, const float *bias, float *dst);

/* ---- stride-1 convolution of binary spike planes (sne_conv_spike.c) ---- */

/* 1 when the spike kernels handle this geometry (kw <= 4, W + 2 pad <= 32), else 0. */
int sne_spike_conv_supported(int H, int W, int kh, int kw, int pad);

/* masks (C, H+2pad) = one image's planes x (C, H, W) as zero-padded row bit masks: bit ix+pad of
 * row iy+pad is set when x[c][iy][ix] == 1. Returns 1, or 0 when some value is neither 0 nor 1. */
int sne_spike_pack(int path, const float *x, int C, int H, int W, int pad, uint32_t *masks);

/* Floats of the pattern table: C * 2^(kh*kw) * Cout (window mode) or C * kh * 2^kw * Cout. */
size_t sne_spike_conv_table_floats(int Cout, int C, int kh, int kw);

/* The weight-sum table of w (Cout, C, kh, kw): per input channel over the whole window when kh*kw <= 9
 * and it fits 1 MB, else per (c, ky) over kw bits (the two layouts are spelled out in sne_conv_spike.c). */
void sne_spike_conv_table(const float *w, int Cout, int C, int kh, int kw, float *table);

/* Per-thread scratch floats of sne_spike_conv_fwd. */
size_t sne_spike_conv_workspace_floats(int Cout, int C, int kh, int kw, int OH, int OW);

/* Per-thread scratch floats of sne_spike_conv_wgrad_group. */
size_t sne_spike_conv_wgrad_workspace_floats(int Cout, int C, int kh, int kw, int OH, int OW);

/* One image: y (Cout, OH, OW), y[co][oy][ox] = fl( sum over (c, ky) in order of table[c][ky][p][co],
 * from 0 ) [+ bias[co]], p = (masks[c][oy+ky] >> ox) & (2^kw - 1). Same bits on every path. */
void sne_spike_conv_fwd(int path, const uint32_t *masks, int C, int Hp, int OH, int OW, const float *table,
                        const float *bias, int Cout, int kh, int kw, float *y, float *ws);

/* dw (Cout, C, kh, kw) of nimg images (masks (nimg, C, Hp), dy (nimg, Cout, OH, OW)): per image and
 * output row, the 16 subset sums of each 4 columns of dy, and per tap the subset sums its input bits
 * select, added to the tap's running sum. Same bits on every path; the order is spelled out in
 * sne_conv_spike.c. */
void sne_spike_conv_wgrad_group(int path, const uint32_t *masks, const float *dy, int nimg, int C, int Hp,
                                int OH, int OW, int Cout, int kh, int kw, float *dw, float *ws);

/* ---- linear layer on binary spike rows (sne_linear_spike.c) ---- */

/* 64-bit words per packed row of `in` inputs. */
int sne_spike_rows_words(int in);

/* Rows [n0, n1) of x (n, in) packed into bits (n, words): bit i of row n set when x[n][i] == 1.
 * Returns 1, or 0 when some value is neither 0 nor 1. */
int sne_spike_pack_rows(int path, const float *x, int n0, int n1, int in, uint64_t *bits);

/* Per-thread scratch floats of sne_spike_linear_fwd / sne_spike_linear_wgrad. */
size_t sne_spike_linear_workspace_floats(int out);

/* Rows [n0, n1) of y (n, out) = x wᵀ (+ bias) for packed binary rows, by lookups in tables of the 16
 * subset sums of every 4 rows of wT (in, out), the transposed weight; the order of the sums is
 * spelled out in sne_linear_spike.c. Same bits on every path and for any split of the rows. */
void sne_spike_linear_fwd(int path, const uint64_t *bits, int n0, int n1, int in, int out, const float *wT,
                          const float *bias, float *y, float *ws);

/* Rows [i0, i1) of dwT (in, out) = xᵀ dy for packed binary rows (n of them) and dy (n, out), by
 * subset sums of dy over groups of 4 rows. Same bits on every path and for any split of the inputs. */
void sne_spike_linear_wgrad(int path, const uint64_t *bits, int n, int in, int out, const float *dy, int i0, int i1,
                            float *dwT, float *ws);

/* b[j][i] += a[i][j] for a (r, c), b (c, r), rows [j0, j1) of b. */
void sne_add_transposed(const float *a, int r, int c, float *b, int j0, int j1);

/* ---- leaky integrate-and-fire over T steps, optionally fused with k x k max pooling (sne_lif.c) ---- */

/* Surrogate derivatives sigma'(u), u = mem - theta (param = slope, alpha or half-width):
 *   FAST_SIGMOID 1 / (param*|u| + 1)^2   ATAN (param/2) / (1 + (pi/2*param*u)^2)   TRIANGLE max(0, 1 - |u|/param) */
enum { SNE_SURROGATE_FAST_SIGMOID = 0, SNE_SURROGATE_ATAN = 1, SNE_SURROGATE_TRIANGLE = 2 };

/* Planes [p0, p1) of a time-unrolled batch with P planes of H x W neurons per step:
 *   x (direct ? (P, H, W) : (T, P, H, W)) -> y (T, P, H/k, W/k) spikes, max-pooled k x k with stride
 *   k when k > 1 (H and W multiples of k); mem (T, P, H, W) receives the membranes (NULL: not kept).
 *   ws: 4*H*W floats. spec_order 0: snnTorch order (reset on the next step, fire on v > theta);
 *   1: Spike IR order (spec §3.5). The arithmetic is spelled out at the top of sne_lif.c.
 *   a_scale != NULL: the input current is x*a_scale[i] + a_shift[i] (a batch norm fused in, the
 *   same arithmetic as sne_bn_apply's output), i = (a_per_step ? t : 0)*a_channels +
 *   p % a_channels. */
void sne_lif_forward(const float *x, int direct, int T, int P, int p0, int p1, int H, int W, int k,
                     float beta, float theta, int zero_reset, int spec_order, float *y, float *mem, float *ws,
                     const float *a_scale, const float *a_shift, int a_channels, int a_per_step);

/* BPTT for the same planes: dy (T, P, H/k, W/k) -> dx (direct ? (P, H, W), the sum over steps :
 * (T, P, H, W)), every dx element of the planes written. The membranes are recomputed from the
 * forward input x (same layout as in sne_lif_forward). The pooled gradient goes to the first
 * spiking neuron of its window (the first neuron when none spiked), as max pooling routes it;
 * at ISA level `isa` 2 the 2x2 routing runs with AVX-512 bit masks (same bits as the scalar one).
 * ws: (T + 3)*H*W floats. dbeta (spec order only; NULL: not wanted): dbeta[p] = dL/dβ of plane p,
 * Σ_t Σ_j dL/dv[t]_j · m[t-1]_j (m the membrane after reset), for a learned decay (PLIF).
 * a_scale, a_shift, a_channels, a_per_step: the fused affine input of sne_lif_forward (dx is then
 * the gradient with respect to the affine's output). */
void sne_lif_backward(const float *dy, const float *x, int direct, int T, int P, int p0, int p1, int H, int W, int k,
                      float beta, float theta, int zero_reset, int spec_order, int surrogate, float param, float *dx,
                      float *ws, int isa, float *dbeta,
                      const float *a_scale, const float *a_shift, int a_channels, int a_per_step);

/* ---- batch normalisation in training mode (sne_bn.c; arithmetic at its top) ---- */

/* Doubles of statistics per plane. */
#define SNE_BN_PLANE_STATS 3

/* The statistics of one plane x[0..hw) (the first step of the batch statistics), one pass: st[0] =
 * its shift k = x[0], st[1] = S(x - k), st[2] = S((x - k)^2) (16 float lanes added by a fixed tree). */
void sne_bn_plane_stats(const float *x, size_t hw, double *st);

/* sne_bn_plane_stats of planes p0..p1-1 (plane p at x + p*hw) into st + 3*p. */
void sne_bn_planes_stats(const float *x, size_t p0, size_t p1, size_t hw, double *st);

/* One channel's batch mean, biased variance, 1/sqrt(var + eps) and the affine y = x*sc + sh
 * (sc = gamma*istd, sh = beta - mean*sc) from the plane statistics of its nplanes planes, plane
 * i's at st + 3*i*pstride (pstride = C for NCHW planes numbered image*C + channel). */
void sne_bn_combine(const double *st, size_t nplanes, size_t pstride, size_t hw, float gamma, float beta, float eps,
                    float *mean_out, float *var_out, float *istd_out, float *sc_out, float *sh_out);

/* One plane of the normalisation: y = x*sc + sh (relu != 0: max(y, 0), as a following ReLU). */
void sne_bn_apply(const float *x, size_t hw, float sc, float sh, int relu, float *y);

/* dx (same layout) for the forward above, and the channel's dgamma = Σ dy·x̂, dbeta = Σ dy. With a
 * fused ReLU (relu != 0), dy counts only where the forward's output y > 0, y recomputed from x with
 * the forward's gamma and beta (fwd_gamma, fwd_beta; ignored without relu). */
void sne_bn_channel_backward(const float *dy, const float *x, int relu, float fwd_gamma, float fwd_beta,
                             size_t nplanes, size_t stride, size_t hw,
                             float gamma, float mean, float istd, float *dx, float *dgamma, float *dbeta);

/* ---- ReLU (sne_relu.c), n contiguous floats ---- */

/* y[i] = x[i] > 0 ? x[i] : 0 (NaN -> 0). */
void sne_relu_forward(const float *x, float *y, size_t n);

/* dx[i] = y[i] > 0 ? dy[i] : 0, with y the forward output. */
void sne_relu_backward(const float *y, const float *dy, float *dx, size_t n);

/* ---- AdamW (sne_optim.c) ---- */

/* n elements: w -= wd*w; m = b1*m + (1-b1)*g; v = b2*v + ((1-b2)*g)*g; w -= (step*m) / (sqrt(v)/bc2sqrt + eps),
 * without FMA contraction (the same bits on every path). */
void sne_adamw_update(float *w, const float *g, float *m, float *v, size_t n,
                      float wd, float b1, float b2, float step, float bc2sqrt, float eps);

/* Keeps large freed blocks in the heap (glibc mallopt) so per-step activation buffers are reused
 * instead of being unmapped and page-faulted back in. No-op on other C libraries. */
void sne_tune_allocator(void);

/* ---- the worker pool of ComputeContext.parallelFor (sne_pool.c) ---- */
typedef struct sne_pool sne_pool;
typedef void (*sne_chunk_fn)(void *ctx, int32_t chunk);
/* threads - 1 worker threads (the caller is the first). */
sne_pool *sne_pool_create(int32_t threads);
/* fn(ctx, c) for c in 0 ..< chunks (chunks <= threads), chunk 0 on the caller, chunk w on worker w;
 * returns when all are done. Nested or concurrent calls run their chunks inline, in order. */
void sne_pool_run(sne_pool *p, int32_t chunks, sne_chunk_fn fn, void *ctx);
void sne_pool_destroy(sne_pool *p);

#ifdef __cplusplus
}
#endif
#endif
