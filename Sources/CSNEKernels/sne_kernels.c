/* CSNEKernels: cache-blocked SGEMM with an AVX2+FMA 6x16 micro-kernel (runtime cpuid dispatch,
 * portable C fallback), plus im2col/col2im and max pooling for SNETensor's conv layers. */
#include "sne_kernels.h"
#include <string.h>
#include <math.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

void sne_tune_allocator(void) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
}

/* ---- blocking (Goto/BLIS style): B panel KC x NR stays in L1, A block MC x KC in L2.
 * Tile MR x NR: 6 x 16 for the portable and AVX2 kernels, 8 x 32 for AVX-512 (MC, NC multiples of both). */
#define MR 6
#define NR 16
#define MR512 8
#define NR512 32
#define KC 256
#define MC 144
#define NC 2048

size_t sne_sgemm_workspace_floats(void) { return (size_t)MC * KC + (size_t)KC * NC + 64; }

/* ---- packing: A panel (mrt x kc) as a[p*mrt + i]; B panel (kc x nrt) as b[p*nrt + j]; zero padded.
 * Packing only moves floats, so every packing path gives the same packed panels. ---- */
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
/* 8 rows of A (M, K) from column p0, 8 columns at a time: an 8 x 8 AVX transpose per step, so
 * dst[p*8 + i] = s[i*lda + p] for p < kc8 (a multiple of 8). */
__attribute__((target("avx2")))
static void pack_a8_avx2(const float *s, int lda, int kc8, float *dst) {
    for (int p = 0; p < kc8; p += 8) {
        __m256 r0 = _mm256_loadu_ps(s + p), r1 = _mm256_loadu_ps(s + (size_t)lda + p);
        __m256 r2 = _mm256_loadu_ps(s + 2 * (size_t)lda + p), r3 = _mm256_loadu_ps(s + 3 * (size_t)lda + p);
        __m256 r4 = _mm256_loadu_ps(s + 4 * (size_t)lda + p), r5 = _mm256_loadu_ps(s + 5 * (size_t)lda + p);
        __m256 r6 = _mm256_loadu_ps(s + 6 * (size_t)lda + p), r7 = _mm256_loadu_ps(s + 7 * (size_t)lda + p);
        __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
        __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
        __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
        __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
        __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
        __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
        __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
        __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
        float *d = dst + (size_t)p * 8;
        _mm256_storeu_ps(d + 0, _mm256_permute2f128_ps(u0, u4, 0x20));
        _mm256_storeu_ps(d + 8, _mm256_permute2f128_ps(u1, u5, 0x20));
        _mm256_storeu_ps(d + 16, _mm256_permute2f128_ps(u2, u6, 0x20));
        _mm256_storeu_ps(d + 24, _mm256_permute2f128_ps(u3, u7, 0x20));
        _mm256_storeu_ps(d + 32, _mm256_permute2f128_ps(u0, u4, 0x31));
        _mm256_storeu_ps(d + 40, _mm256_permute2f128_ps(u1, u5, 0x31));
        _mm256_storeu_ps(d + 48, _mm256_permute2f128_ps(u2, u6, 0x31));
        _mm256_storeu_ps(d + 56, _mm256_permute2f128_ps(u3, u7, 0x31));
    }
}
#define SNE_HAVE_PACK_A8 1
#endif

static void pack_a(int transA, const float *A, int lda, int i0, int mc, int p0, int kc, float *dst, int mrt, int path) {
    for (int ir = 0; ir < mc; ir += mrt) {
        int mr = mc - ir < mrt ? mc - ir : mrt;
        int pstart = 0;
#ifdef SNE_HAVE_PACK_A8
        if (!transA && mrt == 8 && mr == 8 && path >= 1) {
            pstart = kc & ~7;
            pack_a8_avx2(A + (size_t)(i0 + ir) * lda + p0, lda, pstart, dst + (size_t)ir * kc);
        }
#else
        (void)path;
#endif
        for (int p = pstart; p < kc; p++) {
            float *d = dst + (size_t)ir * kc + (size_t)p * mrt;
            if (transA) {
                const float *s = A + (size_t)(p0 + p) * lda + i0 + ir;   /* (K, M) */
                for (int i = 0; i < mr; i++) d[i] = s[i];
            } else {
                const float *s = A + (size_t)(i0 + ir) * lda + p0 + p;   /* (M, K) */
                for (int i = 0; i < mr; i++) d[i] = s[(size_t)i * lda];
            }
            for (int i = mr; i < mrt; i++) d[i] = 0.0f;
        }
    }
}

/* B (K, N) rows are read once each, in order (p outer), and scattered to the panels. */
static void pack_b(int transB, const float *B, int ldb, int p0, int kc, int j0, int nc, float *dst, int nrt) {
    if (!transB) {
        for (int p = 0; p < kc; p++) {
            const float *s = B + (size_t)(p0 + p) * ldb + j0;  /* (K, N) */
            for (int jr = 0; jr < nc; jr += nrt) {
                int nr = nc - jr < nrt ? nc - jr : nrt;
                float *d = dst + (size_t)jr * kc + (size_t)p * nrt;
                for (int j = 0; j < nr; j++) d[j] = s[jr + j];
                for (int j = nr; j < nrt; j++) d[j] = 0.0f;
            }
        }
        return;
    }
    for (int jr = 0; jr < nc; jr += nrt) {
        int nr = nc - jr < nrt ? nc - jr : nrt;
        float *panel = dst + (size_t)jr * kc;
        for (int j = 0; j < nr; j++) {
            const float *s = B + (size_t)(j0 + jr + j) * ldb + p0;  /* (N, K) */
            for (int p = 0; p < kc; p++) panel[(size_t)p * nrt + j] = s[p];
        }
        if (nr < nrt) for (int p = 0; p < kc; p++) for (int j = nr; j < nrt; j++) panel[(size_t)p * nrt + j] = 0.0f;
    }
}

/* ---- portable micro-kernel: plain loops (auto-vectorised by the compiler), no FMA contraction ---- */
static void ukr_portable(int kc, const float *a, const float *b, float *c, int ldc,
                         int mr, int nr, float alpha, float beta, int first) {
    float acc[MR][NR];
    for (int i = 0; i < MR; i++) for (int j = 0; j < NR; j++) acc[i][j] = 0.0f;
    for (int p = 0; p < kc; p++) {
        const float *bp = b + (size_t)p * NR, *ap = a + (size_t)p * MR;
        for (int i = 0; i < MR; i++) {
            float ai = ap[i];
            for (int j = 0; j < NR; j++) acc[i][j] += ai * bp[j];
        }
    }
    for (int i = 0; i < mr; i++) {
        float *ci = c + (size_t)i * ldc;
        for (int j = 0; j < nr; j++) {
            float v = alpha * acc[i][j];
            if (!first) v = v + ci[j];
            else if (beta != 0.0f) v = v + beta * ci[j];
            ci[j] = v;
        }
    }
}

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define SNE_HAVE_AVX2 1

/* ---- AVX2+FMA 6x16 micro-kernel: 12 ymm accumulators, 2 B loads + 6 broadcasts per k ---- */
__attribute__((target("avx2,fma")))
static void ukr_avx2(int kc, const float *a, const float *b, float *c, int ldc,
                     int mr, int nr, float alpha, float beta, int first) {
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    for (int p = 0; p < kc; p++) {
        __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
        __m256 t;
        t = _mm256_broadcast_ss(a + 0); c00 = _mm256_fmadd_ps(t, b0, c00); c01 = _mm256_fmadd_ps(t, b1, c01);
        t = _mm256_broadcast_ss(a + 1); c10 = _mm256_fmadd_ps(t, b0, c10); c11 = _mm256_fmadd_ps(t, b1, c11);
        t = _mm256_broadcast_ss(a + 2); c20 = _mm256_fmadd_ps(t, b0, c20); c21 = _mm256_fmadd_ps(t, b1, c21);
        t = _mm256_broadcast_ss(a + 3); c30 = _mm256_fmadd_ps(t, b0, c30); c31 = _mm256_fmadd_ps(t, b1, c31);
        t = _mm256_broadcast_ss(a + 4); c40 = _mm256_fmadd_ps(t, b0, c40); c41 = _mm256_fmadd_ps(t, b1, c41);
        t = _mm256_broadcast_ss(a + 5); c50 = _mm256_fmadd_ps(t, b0, c50); c51 = _mm256_fmadd_ps(t, b1, c51);
        a += MR; b += NR;
    }
    __m256 acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    if (mr == MR && nr == NR) {
        for (int i = 0; i < MR; i++) {
            float *ci = c + (size_t)i * ldc;
            for (int h = 0; h < 2; h++) {
                __m256 v;
                if (!first) v = _mm256_fmadd_ps(va, acc[i][h], _mm256_loadu_ps(ci + 8 * h));
                else if (beta != 0.0f) v = _mm256_fmadd_ps(va, acc[i][h], _mm256_mul_ps(vb, _mm256_loadu_ps(ci + 8 * h)));
                else v = _mm256_mul_ps(va, acc[i][h]);
                _mm256_storeu_ps(ci + 8 * h, v);
            }
        }
        return;
    }
    /* Edge tile: the same arithmetic, element by element (bit-identical to the full-tile store). */
    float tmp[MR][NR] __attribute__((aligned(32)));
    for (int i = 0; i < MR; i++) { _mm256_store_ps(&tmp[i][0], acc[i][0]); _mm256_store_ps(&tmp[i][8], acc[i][1]); }
    for (int i = 0; i < mr; i++) {
        float *ci = c + (size_t)i * ldc;
        for (int j = 0; j < nr; j++) {
            __m128 s = _mm_set_ss(tmp[i][j]), al = _mm_set_ss(alpha), v;
            if (!first) v = _mm_fmadd_ss(al, s, _mm_set_ss(ci[j]));
            else if (beta != 0.0f) v = _mm_fmadd_ss(al, s, _mm_mul_ss(_mm_set_ss(beta), _mm_set_ss(ci[j])));
            else v = _mm_mul_ss(al, s);
            ci[j] = _mm_cvtss_f32(v);
        }
    }
}

/* ---- AVX-512F 8x32 micro-kernel: 16 zmm accumulators, 2 B loads + 8 broadcasts per k. Each C
 * element is the same FMA chain as in the 6x16 AVX2 kernel, so both give the same bits. ---- */
__attribute__((target("avx512f")))
static void ukr_avx512(int kc, const float *a, const float *b, float *c, int ldc,
                       int mr, int nr, float alpha, float beta, int first) {
    __m512 acc[MR512][2];
    for (int i = 0; i < MR512; i++) { acc[i][0] = _mm512_setzero_ps(); acc[i][1] = _mm512_setzero_ps(); }
    for (int p = 0; p < kc; p++) {
        __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
        for (int i = 0; i < MR512; i++) {
            __m512 t = _mm512_set1_ps(a[i]);
            acc[i][0] = _mm512_fmadd_ps(t, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(t, b1, acc[i][1]);
        }
        a += MR512; b += NR512;
    }
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    __mmask16 k0 = (__mmask16)(nr >= 16 ? 0xFFFFu : (1u << nr) - 1u);
    __mmask16 k1 = (__mmask16)(nr >= 32 ? 0xFFFFu : nr <= 16 ? 0u : (1u << (nr - 16)) - 1u);
    for (int i = 0; i < mr; i++) {
        float *ci = c + (size_t)i * ldc;
        for (int h = 0; h < 2; h++) {
            __mmask16 k = h ? k1 : k0;
            __m512 v;
            if (!first) v = _mm512_fmadd_ps(va, acc[i][h], _mm512_maskz_loadu_ps(k, ci + 16 * h));
            else if (beta != 0.0f) v = _mm512_fmadd_ps(va, acc[i][h], _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(k, ci + 16 * h)));
            else v = _mm512_mul_ps(va, acc[i][h]);
            _mm512_mask_storeu_ps(ci + 16 * h, k, v);
        }
    }
}
#endif

typedef void (*ukr_fn)(int, const float *, const float *, float *, int, int, int, float, float, int);

int sne_isa_level(int force) {
    int best = 0;
#ifdef SNE_HAVE_AVX2
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) best = 2;
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) best = 1;
#endif
    return force < 0 ? best : force < best ? force : best;
}

void sne_sgemm_block(int transA, int transB, int M, int N, int K, float alpha,
                     const float *A, int lda, const float *B, int ldb, float beta,
                     float *C, int ldc, int m0, int m1, int n0, int n1, float *workspace, int path) {
    (void)M; (void)N;
    if (m1 <= m0 || n1 <= n0) return;
    ukr_fn ukr = ukr_portable;
    int mrt = MR, nrt = NR;
#ifdef SNE_HAVE_AVX2
    if (path == 1) ukr = ukr_avx2;
    if (path == 2) { ukr = ukr_avx512; mrt = MR512; nrt = NR512; }
#endif
    if (K <= 0) {  /* C = beta * C */
        for (int i = m0; i < m1; i++) for (int j = n0; j < n1; j++)
            C[(size_t)i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[(size_t)i * ldc + j];
        return;
    }
    /* 64-byte align the packed buffers. */
    float *ws = (float *)(((uintptr_t)workspace + 63) & ~(uintptr_t)63);
    float *pa = ws, *pb = ws + (size_t)MC * KC;
    for (int jc = n0; jc < n1; jc += NC) {
        int nc = n1 - jc < NC ? n1 - jc : NC;
        for (int pc = 0; pc < K; pc += KC) {
            int kc = K - pc < KC ? K - pc : KC;
            int first = pc == 0;
            pack_b(transB, B, ldb, pc, kc, jc, nc, pb, nrt);
            for (int ic = m0; ic < m1; ic += MC) {
                int mc = m1 - ic < MC ? m1 - ic : MC;
                pack_a(transA, A, lda, ic, mc, pc, kc, pa, mrt, path);
                for (int jr = 0; jr < nc; jr += nrt) {
                    int nr = nc - jr < nrt ? nc - jr : nrt;
                    for (int ir = 0; ir < mc; ir += mrt) {
                        int mr = mc - ir < mrt ? mc - ir : mrt;
                        ukr(kc, pa + (size_t)ir * kc, pb + (size_t)jr * kc,
                            C + (size_t)(ic + ir) * ldc + jc + jr, ldc, mr, nr, alpha, beta, first);
                    }
                }
            }
        }
    }
}

/* ---- im2col / col2im: col row r = (c, ky, kx), column = (oy, ox) ---- */
void sne_im2col(const float *x, int C, int H, int W, int kh, int kw, int stride, int pad,
                int OH, int OW, float *col) {
    sne_im2col_ld(x, C, H, W, kh, kw, stride, pad, OH, OW, col, OH * OW);
}

void sne_im2col_ld(const float *x, int C, int H, int W, int kh, int kw, int stride, int pad,
                   int OH, int OW, float *col, int ldcol) {
    for (int c = 0; c < C; c++)
        for (int ky = 0; ky < kh; ky++)
            for (int kx = 0; kx < kw; kx++) {
                float *d = col + ((size_t)(c * kh + ky) * kw + kx) * ldcol;
                const float *xc = x + (size_t)c * H * W;
                for (int oy = 0; oy < OH; oy++) {
                    int iy = oy * stride - pad + ky;
                    float *drow = d + (size_t)oy * OW;
                    if (iy < 0 || iy >= H) { for (int ox = 0; ox < OW; ox++) drow[ox] = 0.0f; continue; }
                    const float *xr = xc + (size_t)iy * W;
                    if (stride == 1) {
                        int lo = pad - kx; if (lo < 0) lo = 0; if (lo > OW) lo = OW;      /* first ox with ix >= 0 */
                        int hi = W + pad - kx; if (hi > OW) hi = OW; if (hi < lo) hi = lo; /* first ox with ix >= W */
                        /* Rows are short (e.g. 14 floats): an inline loop beats a memcpy call. */
                        const float *xs = xr - pad + kx;
                        for (int ox = 0; ox < lo; ox++) drow[ox] = 0.0f;
                        for (int ox = lo; ox < hi; ox++) drow[ox] = xs[ox];
                        for (int ox = hi; ox < OW; ox++) drow[ox] = 0.0f;
                    } else {
                        for (int ox = 0; ox < OW; ox++) {
                            int ix = ox * stride - pad + kx;
                            drow[ox] = (ix >= 0 && ix < W) ? xr[ix] : 0.0f;
                        }
                    }
                }
            }
}

void sne_col2im(const float *col, int C, int H, int W, int kh, int kw, int stride, int pad,
                int OH, int OW, float *dx) {
    for (int c = 0; c < C; c++)
        for (int ky = 0; ky < kh; ky++)
            for (int kx = 0; kx < kw; kx++) {
                const float *s = col + ((size_t)(c * kh + ky) * kw + kx) * OH * OW;
                float *xc = dx + (size_t)c * H * W;
                for (int oy = 0; oy < OH; oy++) {
                    int iy = oy * stride - pad + ky;
                    if (iy < 0 || iy >= H) continue;
                    float *xr = xc + (size_t)iy * W;
                    const float *srow = s + (size_t)oy * OW;
                    if (stride == 1) {   /* contiguous run of valid ox: a vectorisable add */
                        int lo = pad - kx; if (lo < 0) lo = 0; if (lo > OW) lo = OW;
                        int hi = W + pad - kx; if (hi > OW) hi = OW; if (hi < lo) hi = lo;
                        float *xd = xr + lo - pad + kx;
                        for (int ox = lo; ox < hi; ox++) xd[ox - lo] += srow[ox];
                    } else {
                        for (int ox = 0; ox < OW; ox++) {
                            int ix = ox * stride - pad + kx;
                            if (ix >= 0 && ix < W) xr[ix] += srow[ox];
                        }
                    }
                }
            }
}

#ifdef SNE_HAVE_AVX2
/* 2x2 / stride 2 max pooling of planes with AVX-512: 16 windows per step (the even and odd columns of
 * two rows deinterleaved), the same comparisons in the same order as the scalar loop below (strict
 * >, so the first maximum wins and NaN never replaces), the same outputs and indices. */
/* Where c > v (strict, so the first maximum wins and NaN never replaces): v = c, bi = base + off. */
__attribute__((target("avx512f")))
static inline void maxpool2_take(__m512 *v, __m512i *bi, __m512 c, __m512i base, int off) {
    const __mmask16 m = _mm512_cmp_ps_mask(c, *v, _CMP_GT_OQ);
    *v = _mm512_mask_mov_ps(*v, m, c);
    *bi = _mm512_mask_mov_epi32(*bi, m, _mm512_add_epi32(base, _mm512_set1_epi32(off)));
}

/* The fused batch norm's affine (+ ReLU) of pool_in, on 16 lanes: the same two roundings. */
__attribute__((target("avx512f")))
static inline __m512 maxpool2_in(__m512 x, const sne_pool_affine *a, __m512 sc, __m512 sh) {
    if (!a) return x;
    const __m512 v = _mm512_add_ps(_mm512_mul_ps(x, sc), sh);
    return a->relu ? _mm512_max_ps(v, _mm512_setzero_ps()) : v;   /* max(v, +0): +0 for v <= 0 or NaN, as pool_in */
}

__attribute__((target("avx512f")))
static void maxpool2_avx512(const float *x, int P, int H, int W, int OH, int OW, const sne_pool_affine *a, float *y, int32_t *idx) {
    const __m512i ev = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i od = _mm512_add_epi32(ev, _mm512_set1_epi32(1));
    for (int p = 0; p < P; p++) {
        const int ch = a ? (a->p0 + p) % a->channels : 0;
        const __m512 sc = _mm512_set1_ps(a ? a->scale[ch] : 1.0f), sh = _mm512_set1_ps(a ? a->shift[ch] : 0.0f);
        const float *xp = x + (size_t)p * H * W;
        float *yp = y + (size_t)p * OH * OW;
        int32_t *ip = idx + (size_t)p * OH * OW;
        for (int oy = 0; oy < OH; oy++) {
            const float *r0 = xp + (size_t)(2 * oy) * W, *r1 = r0 + W;
            for (int ox = 0; ox < OW; ox += 16) {
                const int n = OW - ox < 16 ? OW - ox : 16, ncol = 2 * n;
                const __mmask16 kw = (__mmask16)((1u << n) - 1u);
                const __mmask16 klo = (__mmask16)(ncol >= 16 ? 0xFFFFu : (1u << ncol) - 1u);
                const __mmask16 khi = (__mmask16)(ncol >= 32 ? 0xFFFFu : ncol <= 16 ? 0u : (1u << (ncol - 16)) - 1u);
                const __m512 a_lo = maxpool2_in(_mm512_maskz_loadu_ps(klo, r0 + 2 * ox), a, sc, sh);
                const __m512 a_hi = maxpool2_in(_mm512_maskz_loadu_ps(khi, r0 + 2 * ox + 16), a, sc, sh);
                const __m512 b_lo = maxpool2_in(_mm512_maskz_loadu_ps(klo, r1 + 2 * ox), a, sc, sh);
                const __m512 b_hi = maxpool2_in(_mm512_maskz_loadu_ps(khi, r1 + 2 * ox + 16), a, sc, sh);
                const __m512i base = _mm512_add_epi32(_mm512_set1_epi32(2 * oy * W + 2 * ox), ev);
                __m512 v = _mm512_permutex2var_ps(a_lo, ev, a_hi);
                __m512i bi = base;
                maxpool2_take(&v, &bi, _mm512_permutex2var_ps(a_lo, od, a_hi), base, 1);
                maxpool2_take(&v, &bi, _mm512_permutex2var_ps(b_lo, ev, b_hi), base, W);
                maxpool2_take(&v, &bi, _mm512_permutex2var_ps(b_lo, od, b_hi), base, W + 1);
                _mm512_mask_storeu_ps(yp + (size_t)oy * OW + ox, kw, v);
                _mm512_mask_storeu_epi32(ip + (size_t)oy * OW + ox, kw, bi);
            }
        }
    }
}
#endif

/* A pooled input element: x, or with a fused batch norm v = x*sc + sh (then v > 0 ? v : 0 with relu),
 * sc, sh the plane's channel's (sne_pool_affine). */
static inline float pool_in(float x, const sne_pool_affine *a, float sc, float sh) {
    if (!a) return x;
    const float m = x * sc;   /* two statements: never contracted to an FMA */
    const float v = m + sh;
    return a->relu ? (v > 0.0f ? v : 0.0f) : v;
}

void sne_maxpool_fwd(const float *x, int P, int H, int W, int k, int stride, int OH, int OW,
                     float *y, int32_t *idx) {
    sne_maxpool_fwd_affine(x, P, H, W, k, stride, OH, OW, NULL, y, idx);
}

void sne_maxpool_fwd_affine(const float *x, int P, int H, int W, int k, int stride, int OH, int OW,
                            const sne_pool_affine *a, float *y, int32_t *idx) {
#ifdef SNE_HAVE_AVX2
    if (k == 2 && stride == 2 && OW <= 16 * 1024 && __builtin_cpu_supports("avx512f")) {
        maxpool2_avx512(x, P, H, W, OH, OW, a, y, idx);
        return;
    }
#endif
    if (k == 2 && stride == 2) {   /* the common case, branch-light */
        for (int p = 0; p < P; p++) {
            const int ch = a ? (a->p0 + p) % a->channels : 0;
            const float sc = a ? a->scale[ch] : 1.0f, sh = a ? a->shift[ch] : 0.0f;
            const float *xp = x + (size_t)p * H * W;
            float *yp = y + (size_t)p * OH * OW;
            int32_t *ip = idx + (size_t)p * OH * OW;
            for (int oy = 0; oy < OH; oy++) {
                const float *r0 = xp + (size_t)(2 * oy) * W, *r1 = r0 + W;
                for (int ox = 0; ox < OW; ox++) {
                    int b = 2 * oy * W + 2 * ox;
                    float v = pool_in(r0[2 * ox], a, sc, sh), c;
                    if ((c = pool_in(r0[2 * ox + 1], a, sc, sh)) > v) { v = c; b = 2 * oy * W + 2 * ox + 1; }
                    if ((c = pool_in(r1[2 * ox], a, sc, sh)) > v) { v = c; b = (2 * oy + 1) * W + 2 * ox; }
                    if ((c = pool_in(r1[2 * ox + 1], a, sc, sh)) > v) { v = c; b = (2 * oy + 1) * W + 2 * ox + 1; }
                    yp[oy * OW + ox] = v; ip[oy * OW + ox] = b;
                }
            }
        }
        return;
    }
    for (int p = 0; p < P; p++) {
        const int ch = a ? (a->p0 + p) % a->channels : 0;
        const float sc = a ? a->scale[ch] : 1.0f, sh = a ? a->shift[ch] : 0.0f;
        const float *xp = x + (size_t)p * H * W;
        float *yp = y + (size_t)p * OH * OW;
        int32_t *ip = idx + (size_t)p * OH * OW;
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++) {
                int best = (oy * stride) * W + ox * stride;
                float bv = pool_in(xp[best], a, sc, sh);
                for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++) {
                        int iy = oy * stride + ky, ix = ox * stride + kx;
                        if (iy >= H || ix >= W) continue;
                        float v = pool_in(xp[iy * W + ix], a, sc, sh);
                        if (v > bv) { bv = v; best = iy * W + ix; }   /* first maximum wins */
                    }
                yp[oy * OW + ox] = bv;
                ip[oy * OW + ox] = best;
            }
    }
}
