/* Leaky integrate-and-fire over T steps (forward and BPTT backward), optionally fused with the
 * k x k / stride k max pooling that usually follows it, one plane of H x W neurons at a time so a
 * plane's state stays in L1 across the T steps.
 *
 * Arithmetic (no FMA contraction; identical to SNETrain's LIF + MaxPool2d run separately):
 *   subtract reset: v = (beta*m + x) - theta*s_prev      zero reset: v = (beta*m + x) * (1 - s_prev)
 *   s = (v - theta > 0) ? 1 : 0;  pooled y = max over the window of s (first maximum = argmax)
 *   backward recomputes each plane's membranes from the saved input x (same arithmetic, same bits:
 *   nothing but the input is kept between forward and backward), then for t = T-1 .. 0,
 *   u = mem[t] - theta, ds = dL/ds[t] (routed to the window's argmax):
 *     subtract + fast sigmoid:  g = ds / (d*d) + carry,      d = slope*|u| + 1
 *     subtract, other:          g = ds * sigma'(u) + carry
 *     zero reset:               g = ds * sigma'(u) + carry,  keep = (t > 0 && mem[t-1] - theta > 0) ? 0 : 1
 *     dx[t] = g*keep (direct input: dx += g*keep, summed from t = T-1 down), carry = beta*g*keep
 *   (for subtract reset keep = 1). sigma' is the surrogate derivative (see sne_kernels.h).
 *
 * spec_order = 1 gives the Spike IR order instead (docs/spike-ir.md §3.5: leak the reset membrane,
 * integrate, fire on v >= theta, reset at once), with m the membrane after reset:
 *   v = beta*m + x;  s = (v >= theta) ? 1 : 0;  m = v - theta*s (subtract) or (s ? 0 : v) (zero)
 *   mem receives v (before reset); pooling routes to the first neuron with v >= theta. Backward
 *   (reset detached): g = ds*sigma'(v - theta) + keep*carry, keep = (zero reset && v >= theta) ? 0 : 1,
 *   dx[t] = g (direct input: summed), carry = beta*g.
 *
 * With a fused batch norm (a_scale != NULL) the input current of plane p at step t is
 * fl(fl(x*a_scale[i]) + a_shift[i]), i = (a_per_step ? t : 0)*a_channels + p % a_channels: the
 * bits sne_bn_apply writes, computed into a scratch plane instead of read back. */
#include "sne_kernels.h"
#include <math.h>
#include <string.h>

#include "sne_clones.h"

/* Swift's Float.pi (rounded toward zero), so atan surrogates agree with the Swift definition. */
#define SNE_PI_F 0x1.921fb4p1f

#define SNE_INLINE static inline __attribute__((always_inline))

SNE_INLINE float surrogate_derivative(int kind, float param, float u) {
    switch (kind) {
    case SNE_SURROGATE_FAST_SIGMOID: { float d = param * fabsf(u) + 1.0f; return 1.0f / (d * d); }
    case SNE_SURROGATE_ATAN: { float z = SNE_PI_F / 2.0f * param * u; return param / 2.0f / (1.0f + z * z); }
    default: { float t = 1.0f - fabsf(u) / param; return t > 0.0f ? t : 0.0f; }
    }
}

/* y (OH, OW) = max over each k x k window (stride k) of s (H, W); the first maximum wins. */
SNE_INLINE void pool_plane(const float *s, int H, int W, int k, float *y) {
    int OH = H / k, OW = W / k;
    if (k == 2) {
        for (int oy = 0; oy < OH; oy++) {
            const float *r0 = s + (size_t)(2 * oy) * W, *r1 = r0 + W;
            float *yr = y + (size_t)oy * OW;
            for (int ox = 0; ox < OW; ox++) {
                float v = r0[2 * ox];
                v = r0[2 * ox + 1] > v ? r0[2 * ox + 1] : v;
                v = r1[2 * ox] > v ? r1[2 * ox] : v;
                v = r1[2 * ox + 1] > v ? r1[2 * ox + 1] : v;
                yr[ox] = v;
            }
        }
        return;
    }
    for (int oy = 0; oy < OH; oy++)
        for (int ox = 0; ox < OW; ox++) {
            float v = s[(size_t)(oy * k) * W + ox * k];
            for (int ky = 0; ky < k; ky++)
                for (int kx = 0; kx < k; kx++) {
                    float a = s[(size_t)(oy * k + ky) * W + ox * k + kx];
                    v = a > v ? a : v;
                }
            y[(size_t)oy * OW + ox] = v;
        }
}

/* One snnTorch-order step of n neurons: the membrane read from mp and written to mo (separate
 * buffers), the spikes s updated in place; the input current is xi, or fl(fl(xi*sc) + sh) when
 * affine (a fused batch norm: the same two roundings as its output). Arithmetic as in the header. */
SNE_INLINE void lif_step_out(size_t n, const float *restrict xi, int affine, float sc, float sh, const float *restrict mp,
                             float *restrict mo, float *restrict s, float beta, float theta, int zero_reset) {
#define SNE_LIF_STEP_LOOP(IN) \
    if (!zero_reset) { \
        for (size_t j = 0; j < n; j++) { \
            float in = IN; float v = beta * mp[j] + in - theta * s[j]; \
            mo[j] = v; s[j] = v - theta > 0.0f ? 1.0f : 0.0f; \
        } \
    } else { \
        for (size_t j = 0; j < n; j++) { \
            float in = IN; float v = (beta * mp[j] + in) * (1.0f - s[j]); \
            mo[j] = v; s[j] = v - theta > 0.0f ? 1.0f : 0.0f; \
        } \
    }
    if (affine) { SNE_LIF_STEP_LOOP(xi[j] * sc + sh) }
    else { SNE_LIF_STEP_LOOP(xi[j]) }
#undef SNE_LIF_STEP_LOOP
}

/* One Spike IR-order step (spec §3.5): m (after reset) updated in place, v (before reset) and the
 * spikes s written. */
SNE_INLINE void lif_step_spec(size_t n, const float *restrict xi, float *restrict m, float *restrict v_out,
                                 float *restrict s, float beta, float theta, int zero_reset) {
    for (size_t j = 0; j < n; j++) {
        float v = beta * m[j] + xi[j];
        float sp = v >= theta ? 1.0f : 0.0f;
        v_out[j] = v;
        s[j] = sp;
        m[j] = zero_reset ? (sp != 0.0f ? 0.0f : v) : v - theta * sp;
    }
}

/* The input current of plane p at step t: x's plane, or with a fused batch norm its affine image
 * written into tmp (hw floats; with direct input the same at every step, so written at t = 0 and
 * reused: the callers go through t = 0 .. T-1 in order). */
SNE_INLINE const float *lif_input(const float *x, int direct, int t, int P, int p, size_t hw, const float *a_scale,
                                  const float *a_shift, int a_channels, int a_per_step, float *restrict tmp) {
    const float *xi = x + ((direct ? 0 : (size_t)t * P) + p) * hw;
    if (!a_scale) return xi;
    if (direct && t > 0 && !a_per_step) return tmp;
    const size_t i = (size_t)(a_per_step ? t : 0) * a_channels + (size_t)(p % a_channels);
    const float sc = a_scale[i], sh = a_shift[i];
    for (size_t j = 0; j < hw; j++) tmp[j] = xi[j] * sc + sh;
    return tmp;
}

SNE_CLONES
void sne_lif_forward(const float *x, int direct, int T, int P, int p0, int p1, int H, int W, int k,
                     float beta, float theta, int zero_reset, int spec_order, float *y, float *mem, float *ws,
                     const float *a_scale, const float *a_shift, int a_channels, int a_per_step) {
    const size_t hw = (size_t)H * W, ohw = (size_t)(H / k) * (W / k);
    float *m = ws, *s = ws + hw, *v = ws + 2 * hw, *tmp = ws + 3 * hw;
    for (int p = p0; p < p1; p++) {
        for (size_t j = 0; j < hw; j++) { m[j] = 0.0f; s[j] = 0.0f; }
        for (int t = 0; t < T; t++) {
            float *yo = y + ((size_t)t * P + p) * ohw;
            if (spec_order) {
                const float *xi = lif_input(x, direct, t, P, p, hw, a_scale, a_shift, a_channels, a_per_step, tmp);
                lif_step_spec(hw, xi, m, v, s, beta, theta, zero_reset);
                if (mem) memcpy(mem + ((size_t)t * P + p) * hw, v, sizeof(float) * hw);
            } else {
                /* membranes ping-pong between m (zeroed, read at t = 0) and v; the affine input folded in */
                const float *xi = x + ((direct ? 0 : (size_t)t * P) + p) * hw;
                const size_t ai = a_scale ? (size_t)(a_per_step ? t : 0) * a_channels + (size_t)(p % a_channels) : 0;
                float *mp = t % 2 ? v : m, *mo = t % 2 ? m : v;
                lif_step_out(hw, xi, a_scale != NULL, a_scale ? a_scale[ai] : 0.0f, a_scale ? a_shift[ai] : 0.0f,
                             mp, mo, s, beta, theta, zero_reset);
                if (mem) memcpy(mem + ((size_t)t * P + p) * hw, mo, sizeof(float) * hw);
            }
            if (k == 1) memcpy(yo, s, sizeof(float) * hw);
            else pool_plane(s, H, W, k, yo);
        }
    }
}

/* Routing of the pooled gradient, 2x2 windows: ds (H, W) = dy (H/2, W/2) at the first spiking neuron
 * (mem - theta > 0) of each window, or at its first neuron when none spiked; every ds element is
 * written (branch-free). route_2x2_avx512 does 16 windows per step, route_2x2_tail the rest. */

/* The same for any k (first spiking neuron of the window in row-major order, else the first). */
static void route_kxk(const float *mi, const float *dy, int H, int W, int k, float theta, int ge, float *ds) {
    int OH = H / k, OW = W / k;
    memset(ds, 0, sizeof(float) * (size_t)H * W);
    for (int oy = 0; oy < OH; oy++)
        for (int ox = 0; ox < OW; ox++) {
            size_t best = (size_t)(oy * k) * W + (size_t)ox * k;
            int found = 0;
            for (int ky = 0; ky < k && !found; ky++)
                for (int kx = 0; kx < k; kx++) {
                    size_t q = (size_t)(oy * k + ky) * W + (size_t)ox * k + kx;
                    if (ge ? mi[q] >= theta : mi[q] - theta > 0.0f) { best = q; found = 1; break; }
                }
            ds[best] = dy[(size_t)oy * OW + ox];
        }
}

/* One backward step of n neurons: g from ds and carry; xo written (accumulate = 0) or added to. */
SNE_INLINE void lif_back_step(size_t n, const float *restrict d, const float *restrict mi, const float *restrict mp,
                                 float *restrict carry, float *restrict xo, int accumulate, float beta, float theta,
                                 int zero_reset, int surrogate, float param) {
    if (!zero_reset && surrogate == SNE_SURROGATE_FAST_SIGMOID) {
        if (accumulate) {
            for (size_t j = 0; j < n; j++) {
                float u = param * fabsf(mi[j] - theta) + 1.0f;
                float g = d[j] / (u * u) + carry[j];
                xo[j] += g; carry[j] = beta * g;
            }
        } else {
            for (size_t j = 0; j < n; j++) {
                float u = param * fabsf(mi[j] - theta) + 1.0f;
                float g = d[j] / (u * u) + carry[j];
                xo[j] = g; carry[j] = beta * g;
            }
        }
    } else if (!zero_reset) {
        for (size_t j = 0; j < n; j++) {
            float g = d[j] * surrogate_derivative(surrogate, param, mi[j] - theta) + carry[j];
            if (accumulate) xo[j] += g; else xo[j] = g;
            carry[j] = beta * g;
        }
    } else {
        for (size_t j = 0; j < n; j++) {
            float g = d[j] * surrogate_derivative(surrogate, param, mi[j] - theta) + carry[j];
            float keep = (mp && mp[j] - theta > 0.0f) ? 0.0f : 1.0f;
            if (accumulate) xo[j] += g * keep; else xo[j] = g * keep;
            carry[j] = beta * g * keep;
        }
    }
}

/* One Spike IR-order backward step: g = d*sigma'(v - theta) + keep*carry, dx = g, carry = beta*g. */
SNE_INLINE void lif_back_step_spec(size_t n, const float *restrict d, const float *restrict vi, float *restrict carry,
                                      float *restrict xo, int accumulate, float beta, float theta, int zero_reset,
                                      int surrogate, float param) {
    for (size_t j = 0; j < n; j++) {
        float keep = (zero_reset && vi[j] >= theta) ? 0.0f : 1.0f;
        float g = d[j] * surrogate_derivative(surrogate, param, vi[j] - theta) + keep * carry[j];
        if (accumulate) xo[j] += g; else xo[j] = g;
        carry[j] = beta * g;
    }
}

/* dL/dβ of one step in the spec order: v[t] = β·m[t-1] + I[t], so the step adds Σ_j dL/dv[t]_j · m[t-1]_j,
 * m[t-1] = v[t-1] − θ·s[t-1] (subtract) or v[t-1]·(1 − s[t-1]) (zero), s = (v ≥ θ). g = dL/dv[t] is
 * carry / β after lif_back_step_spec (carry = β·g); recomputed here from the same terms. */
SNE_INLINE double lif_dbeta_step_spec(size_t n, const float *restrict d, const float *restrict vi, const float *restrict vp,
                                      const float *restrict carry_next, float theta, int zero_reset, int surrogate, float param) {
    double acc = 0;
    for (size_t j = 0; j < n; j++) {
        float keep = (zero_reset && vi[j] >= theta) ? 0.0f : 1.0f;
        float g = d[j] * surrogate_derivative(surrogate, param, vi[j] - theta) + keep * carry_next[j];
        float fired = vp[j] >= theta ? 1.0f : 0.0f;
        float m = zero_reset ? vp[j] * (1.0f - fired) : vp[j] - theta * fired;
        acc += (double)g * (double)m;
    }
    return acc;
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#define SNE_HAVE_AVX512_ROUTE 1
/* route_2x2 with AVX-512: 16 windows (32 columns) per step, spike bits as integer masks (even bit =
 * a window's left column), the last partial group masked. Same result as route_2x2_tail. */
__attribute__((target("avx512f")))
static int route_2x2_avx512(const float *mi, const float *dy, int H, int W, float theta, float *ds) {
    int OH = H / 2, OW = W / 2;
    const __m512 th = _mm512_set1_ps(theta), zero = _mm512_setzero_ps();
    const __m512i lo_idx = _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
    const __m512i hi_idx = _mm512_set_epi32(15, 15, 14, 14, 13, 13, 12, 12, 11, 11, 10, 10, 9, 9, 8, 8);
    const uint32_t E = 0x55555555u;
    for (int oy = 0; oy < OH; oy++) {
        const float *m0 = mi + (size_t)(2 * oy) * W, *m1 = m0 + W;
        float *d0 = ds + (size_t)(2 * oy) * W, *d1 = d0 + W;
        const float *g = dy + (size_t)oy * OW;
        for (int ox = 0; ox < OW; ox += 16) {
            int nwin = OW - ox < 16 ? OW - ox : 16, ncol = 2 * nwin, col = 2 * ox;
            __mmask16 kw = (__mmask16)((1u << nwin) - 1u);
            __mmask16 klo = (__mmask16)(ncol >= 16 ? 0xFFFFu : (1u << ncol) - 1u);
            __mmask16 khi = (__mmask16)(ncol >= 32 ? 0xFFFFu : ncol <= 16 ? 0u : (1u << (ncol - 16)) - 1u);
#define SPIKES(row, k, off) (uint32_t)_mm512_mask_cmp_ps_mask(k, _mm512_sub_ps(_mm512_maskz_loadu_ps(k, (row) + col + (off)), th), zero, _CMP_GT_OQ)
            uint32_t M0 = SPIKES(m0, klo, 0) | SPIKES(m0, khi, 16) << 16;
            uint32_t M1 = SPIKES(m1, klo, 0) | SPIKES(m1, khi, 16) << 16;
#undef SPIKES
            uint32_t a = M0 & E, b = (M0 >> 1) & E, c = M1 & E, d = (M1 >> 1) & E;
            uint32_t wb = ~a & b, wc = ~a & ~b & c, wd = ~a & ~b & ~c & d;
            uint32_t wa = E & ~(wb | wc | wd);
            uint32_t r0 = wa | (wb << 1), r1 = wc | (wd << 1);
            __m512 gv = _mm512_maskz_loadu_ps(kw, g + ox);
            __m512 vlo = _mm512_permutexvar_ps(lo_idx, gv), vhi = _mm512_permutexvar_ps(hi_idx, gv);
            _mm512_mask_storeu_ps(d0 + col, klo, _mm512_maskz_mov_ps((__mmask16)(r0 & 0xFFFFu), vlo));
            _mm512_mask_storeu_ps(d0 + col + 16, khi, _mm512_maskz_mov_ps((__mmask16)(r0 >> 16), vhi));
            _mm512_mask_storeu_ps(d1 + col, klo, _mm512_maskz_mov_ps((__mmask16)(r1 & 0xFFFFu), vlo));
            _mm512_mask_storeu_ps(d1 + col + 16, khi, _mm512_maskz_mov_ps((__mmask16)(r1 >> 16), vhi));
        }
    }
    return OW;
}
#endif

/* route_2x2 for windows ox >= ox0 only (the columns the vector path did not cover). */
static void route_2x2_tail(const float *mi, const float *dy, int H, int W, float theta, int ge, float *ds, int ox0) {
    int OH = H / 2, OW = W / 2;
    for (int oy = 0; oy < OH; oy++) {
        const float *m0 = mi + (size_t)(2 * oy) * W, *m1 = m0 + W;
        float *d0 = ds + (size_t)(2 * oy) * W, *d1 = d0 + W;
        const float *g = dy + (size_t)oy * OW;
        for (int ox = ox0; ox < OW; ox++) {
#define FIRED(val) (ge ? (val) >= theta : (val) - theta > 0.0f)
            int a = FIRED(m0[2 * ox]), b = FIRED(m0[2 * ox + 1]);
            int c = FIRED(m1[2 * ox]), d = FIRED(m1[2 * ox + 1]);
#undef FIRED
            float v = g[ox];
            int wb = (!a) & b, wc = (!a) & (!b) & c, wd = (!a) & (!b) & (!c) & d;
            int wa = !(wb | wc | wd);
            d0[2 * ox] = wa ? v : 0.0f;
            d0[2 * ox + 1] = wb ? v : 0.0f;
            d1[2 * ox] = wc ? v : 0.0f;
            d1[2 * ox + 1] = wd ? v : 0.0f;
        }
    }
}

SNE_CLONES
void sne_lif_backward(const float *dy, const float *x, int direct, int T, int P, int p0, int p1, int H, int W, int k,
                      float beta, float theta, int zero_reset, int spec_order, int surrogate, float param, float *dx, float *ws, int isa,
                      float *dbeta, const float *a_scale, const float *a_shift, int a_channels, int a_per_step) {
    const size_t hw = (size_t)H * W;
    const size_t ohw = (size_t)(H / k) * (W / k);
    float *carry = ws, *ds = ws + hw, *mem = ws + 2 * hw;   /* mem: this plane's T membranes */
    float *tmp = ws + (size_t)(T + 2) * hw;                 /* a fused batch norm's output plane */
    for (int p = p0; p < p1; p++) {
        /* Recompute the plane's membranes with the forward's arithmetic (bit-identical), ds as spikes. */
        for (size_t j = 0; j < hw; j++) { carry[j] = 0.0f; ds[j] = 0.0f; }
        for (int t = 0; t < T; t++) {
            if (spec_order) {
                const float *xi = lif_input(x, direct, t, P, p, hw, a_scale, a_shift, a_channels, a_per_step, tmp);
                lif_step_spec(hw, xi, carry, mem + (size_t)t * hw, ds, beta, theta, zero_reset);
            } else {
                /* mem[t] from mem[t-1] (the zeroed carry at t = 0), the affine input folded into the step */
                const float *xi = x + ((direct ? 0 : (size_t)t * P) + p) * hw;
                const size_t ai = a_scale ? (size_t)(a_per_step ? t : 0) * a_channels + (size_t)(p % a_channels) : 0;
                lif_step_out(hw, xi, a_scale != NULL, a_scale ? a_scale[ai] : 0.0f, a_scale ? a_shift[ai] : 0.0f,
                             t ? mem + (size_t)(t - 1) * hw : carry, mem + (size_t)t * hw, ds, beta, theta, zero_reset);
            }
        }
        for (size_t j = 0; j < hw; j++) carry[j] = 0.0f;
        float *dxd = dx + (size_t)p * hw;
        if (direct) for (size_t j = 0; j < hw; j++) dxd[j] = 0.0f;
        double dbeta_plane = 0;
        for (int t = T - 1; t >= 0; t--) {
            const float *mi = mem + (size_t)t * hw;
            const float *mp = t > 0 ? mi - hw : NULL;
            const float *dyi = dy + ((size_t)t * P + p) * ohw;
            const float *d = dyi;
            if (k == 2) {
                int ox0 = 0;
#ifdef SNE_HAVE_AVX512_ROUTE
                if (isa == 2 && !spec_order) ox0 = route_2x2_avx512(mi, dyi, H, W, theta, ds);
#else
                (void)isa;
#endif
                route_2x2_tail(mi, dyi, H, W, theta, spec_order, ds, ox0);
                d = ds;
            }
            else if (k != 1) { route_kxk(mi, dyi, H, W, k, theta, spec_order, ds); d = ds; }
            float *xo = direct ? dxd : dx + ((size_t)t * P + p) * hw;
            if (spec_order && dbeta && mp) dbeta_plane += lif_dbeta_step_spec(hw, d, mi, mp, carry, theta, zero_reset, surrogate, param);
            if (spec_order) lif_back_step_spec(hw, d, mi, carry, xo, direct, beta, theta, zero_reset, surrogate, param);
            else lif_back_step(hw, d, mi, mp, carry, xo, direct, beta, theta, zero_reset, surrogate, param);
        }
        if (dbeta) dbeta[p] = (float)dbeta_plane;
    }
}
