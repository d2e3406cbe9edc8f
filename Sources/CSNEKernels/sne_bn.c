/* Batch normalisation in training mode: statistics, normalisation and backward. NCHW data: a
 * plane is the hw floats of one (image, channel); a channel's nplanes planes are plane i at
 * x + i*stride (stride = C*H*W).
 *
 * Arithmetic (fixed order, no FMA contraction, so every CPU path gives the same bits):
 *   statistics in two steps. Per plane, one pass (sne_bn_plane_stats, which a convolution may run
 *   on its output while it is in cache): with the plane's first element as its shift k and
 *   d = x - k (float), r = S(d) and q = S(d*d) in 16 float lanes (element j to lane j % 16, in
 *   order), each total by a fixed halving tree in float (lane l += lane l + w, w = 8, 4, 2, 1).
 *   Per channel (sne_bn_combine), planes in order, in double, m = nplanes*hw:
 *   M = S_i (hw*k_i + r_i) / m;  Q = S_i [q_i + 2(k_i - M)*r_i + hw*(k_i - M)^2]
 *   (= S((x - M)^2) in real arithmetic for any shifts k_i; a shift drawn from the plane keeps d
 *   near the data's spread, so r and q lose little to a large mean);
 *   mean = (float)M;  var = (float)(max(Q, 0) / m)  (biased, as PyTorch normalises)
 *   istd = 1 / sqrtf(var + eps);  y = x*sc + sh with sc = gamma*istd, sh = beta - mean*sc
 *   backward: a1 = (float)S(dy), a2 = (float)(istd * S(dy*(x - mean))) with 64 float lanes across
 *             the channel (element j of plane i to lane j % 64, planes in order), lanes added in
 *             order in double; kk = gamma*istd/m,
 *             dx = kk*(m*dy - a1 - (x - mean)*istd*a2);  dgamma += a2, dbeta += a1 (returned).
 * Fused ReLU (the BN output feeds a ReLU): forward stores y > 0 ? y : 0; backward uses dy where
 * y > 0, else 0 (exactly what the separate ReLU layer passes back), recomputing y = x*sc + sh from
 * the forward's gamma and beta with the forward's arithmetic (the same bits, so the same mask)
 * instead of reading the output back: one stream fewer in both backward passes. */
#include "sne_kernels.h"
#include <math.h>

#include "sne_clones.h"

#define LANES 64
#define PLANE_LANES 16

static double lanes_total(const float *acc) {
    double s = 0.0;
    for (int l = 0; l < LANES; l++) s += (double)acc[l];
    return s;
}

/* The total of 16 float lanes by a fixed halving tree: acc[l] += acc[l + w] for w = 8, 4, 2, 1
 * (overwrites acc). */
static inline __attribute__((always_inline)) float lanes16_tree(float *acc) {
    for (int w = PLANE_LANES / 2; w >= 1; w /= 2) for (int l = 0; l < w; l++) acc[l] += acc[l + w];
    return acc[0];
}

/* st[0] = k = x[0] (the plane's shift), st[1] = r = S(x - k), st[2] = q = S((x - k)^2), one pass:
 * 16 float lanes (element j to lane j % 16, in order), totals by lanes16_tree. */
SNE_CLONES
void sne_bn_plane_stats(const float *x, size_t hw, double *st) {
    const float k = hw > 0 ? x[0] : 0.0f;
    float a[PLANE_LANES], q[PLANE_LANES];
    for (int l = 0; l < PLANE_LANES; l++) { a[l] = 0.0f; q[l] = 0.0f; }
    size_t j = 0;
    for (; j + PLANE_LANES <= hw; j += PLANE_LANES)
        for (int l = 0; l < PLANE_LANES; l++) { float d = x[j + l] - k; a[l] += d; q[l] += d * d; }
    for (int l = 0; j < hw; j++, l++) { float d = x[j] - k; a[l] += d; q[l] += d * d; }
    st[0] = (double)k; st[1] = (double)lanes16_tree(a); st[2] = (double)lanes16_tree(q);
}

/* sne_bn_plane_stats of planes p0..p1-1 (plane p at x + p*hw) into st + 3*p. */
void sne_bn_planes_stats(const float *x, size_t p0, size_t p1, size_t hw, double *st) {
    for (size_t p = p0; p < p1; p++) sne_bn_plane_stats(x + p * hw, hw, st + 3 * p);
}

/* One channel's mean, biased variance, 1/sqrt(var + eps) and affine y = x*sc + sh from the plane
 * statistics of its nplanes planes (plane i's at st + 3*i*pstride): the combination of the header. */
void sne_bn_combine(const double *st, size_t nplanes, size_t pstride, size_t hw, float gamma, float beta, float eps,
                    float *mean_out, float *var_out, float *istd_out, float *sc_out, float *sh_out) {
    const double m = (double)nplanes * (double)hw, h = (double)hw;
    double S = 0.0;
    for (size_t i = 0; i < nplanes; i++) S += h * st[3 * i * pstride] + st[3 * i * pstride + 1];
    const double M = S / m;
    double Q = 0.0;
    for (size_t i = 0; i < nplanes; i++) {
        const double *p = st + 3 * i * pstride, d = p[0] - M;
        Q += p[2] + 2.0 * d * p[1] + h * d * d;
    }
    const float mean = (float)M, var = (float)((Q > 0.0 ? Q : 0.0) / m);
    const float istd = 1.0f / sqrtf(var + eps);
    const float sc = gamma * istd, sh = beta - mean * sc;
    *mean_out = mean; *var_out = var; *istd_out = istd; *sc_out = sc; *sh_out = sh;
}

/* One plane: y[j] = x[j]*sc + sh, with relu != 0 y[j] = (that > 0) ? that : 0. */
SNE_CLONES
void sne_bn_apply(const float *x, size_t hw, float sc, float sh, int relu, float *y) {
    if (relu) for (size_t j = 0; j < hw; j++) { float v = x[j] * sc + sh; y[j] = v > 0.0f ? v : 0.0f; }
    else for (size_t j = 0; j < hw; j++) y[j] = x[j] * sc + sh;
}

/* dy masked by the fused ReLU (relu != 0): dy where the forward's y = x*sc + sh was > 0, else 0. */
static inline float bn_dy(const float *dp, const float *xp, size_t j, int relu, float sc, float sh) {
    return relu ? (xp[j] * sc + sh > 0.0f ? dp[j] : 0.0f) : dp[j];
}

SNE_CLONES
void sne_bn_channel_backward(const float *dy, const float *x, int relu, float fwd_gamma, float fwd_beta,
                             size_t nplanes, size_t stride, size_t hw,
                             float gamma, float mean, float istd, float *dx, float *dgamma, float *dbeta) {
    const float sc = fwd_gamma * istd, sh = fwd_beta - mean * sc;   /* the forward's, as computed there */
    float a[LANES], b[LANES];
    for (int l = 0; l < LANES; l++) { a[l] = 0.0f; b[l] = 0.0f; }
    for (size_t i = 0; i < nplanes; i++) {
        const float *dp = dy + i * stride, *xp = x + i * stride;
        size_t j = 0;
        for (; j + LANES <= hw; j += LANES)
            for (int l = 0; l < LANES; l++) { float d = bn_dy(dp, xp, j + l, relu, sc, sh); a[l] += d; b[l] += d * (xp[j + l] - mean); }
        for (int l = 0; j < hw; j++, l++) { float d = bn_dy(dp, xp, j, relu, sc, sh); a[l] += d; b[l] += d * (xp[j] - mean); }
    }
    double m = (double)nplanes * (double)hw;
    float a1 = (float)lanes_total(a), a2 = (float)(lanes_total(b) * (double)istd);
    float kk = (float)((double)(gamma * istd) / m), mf = (float)m;
    for (size_t i = 0; i < nplanes; i++) {
        const float *dp = dy + i * stride, *xp = x + i * stride;
        float *o = dx + i * stride;
        for (size_t j = 0; j < hw; j++) o[j] = kk * (mf * bn_dy(dp, xp, j, relu, sc, sh) - a1 - (xp[j] - mean) * istd * a2);
    }
    *dgamma = a2; *dbeta = a1;
}
