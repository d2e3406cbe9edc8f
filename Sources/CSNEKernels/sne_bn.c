/* Batch normalisation of one channel in training mode: statistics, normalisation and backward.
 * A channel's data is `nplanes` planes of `hw` floats, plane i at x + i*stride (NCHW: stride = C*H*W).
 *
 * Arithmetic (fixed order, no FMA contraction, so every CPU path gives the same bits):
 *   sums use 64 float lanes across the channel (element j of plane i goes to lane j % 64, planes in
 *   order), the lanes then added in order in double; m = nplanes*hw.
 *   mean = (float)(S(x) / m);  var = (float)(S((x - mean)^2) / m)   (biased, as PyTorch normalises)
 *   istd = 1 / sqrtf(var + eps);  y = x*sc + sh with sc = gamma*istd, sh = beta - mean*sc
 *   backward: a1 = (float)S(dy), a2 = (float)(istd * S(dy*(x - mean))), kk = gamma*istd/m,
 *             dx = kk*(m*dy - a1 - (x - mean)*istd*a2);  dgamma += a2, dbeta += a1 (returned).
 * Fused ReLU (the BN output feeds a ReLU): forward stores y > 0 ? y : 0; backward uses dy where
 * y > 0, else 0 (exactly what the separate ReLU layer passes back), recomputing y = x*sc + sh from
 * the forward's gamma and beta with the forward's arithmetic (the same bits, so the same mask)
 * instead of reading the output back: one stream fewer in both backward passes. */
#include "sne_kernels.h"
#include <math.h>

#include "sne_clones.h"

#define LANES 64

static double lanes_total(const float *acc) {
    double s = 0.0;
    for (int l = 0; l < LANES; l++) s += (double)acc[l];
    return s;
}

/* The channel's mean, biased variance, 1/sqrt(var + eps) and the affine y = x*sc + sh (the first
 * two passes of the forward; the arithmetic of the header). */
static inline __attribute__((always_inline))
void bn_stats(const float *x, size_t nplanes, size_t stride, size_t hw, float gamma, float beta, float eps,
              float *mean_out, float *var_out, float *istd_out, float *sc_out, float *sh_out) {
    float acc[LANES];
    for (int l = 0; l < LANES; l++) acc[l] = 0.0f;
    for (size_t i = 0; i < nplanes; i++) {
        const float *xp = x + i * stride;
        size_t j = 0;
        for (; j + LANES <= hw; j += LANES) for (int l = 0; l < LANES; l++) acc[l] += xp[j + l];
        for (int l = 0; j < hw; j++, l++) acc[l] += xp[j];
    }
    double m = (double)nplanes * (double)hw;
    float mean = (float)(lanes_total(acc) / m);
    for (int l = 0; l < LANES; l++) acc[l] = 0.0f;
    for (size_t i = 0; i < nplanes; i++) {
        const float *xp = x + i * stride;
        size_t j = 0;
        for (; j + LANES <= hw; j += LANES) for (int l = 0; l < LANES; l++) { float d = xp[j + l] - mean; acc[l] += d * d; }
        for (int l = 0; j < hw; j++, l++) { float d = xp[j] - mean; acc[l] += d * d; }
    }
    float var = (float)(lanes_total(acc) / m);
    float istd = 1.0f / sqrtf(var + eps);
    float sc = gamma * istd, sh = beta - mean * sc;
    *mean_out = mean; *var_out = var; *istd_out = istd; *sc_out = sc; *sh_out = sh;
}

SNE_CLONES
void sne_bn_channel_forward(const float *x, size_t nplanes, size_t stride, size_t hw, float gamma, float beta,
                            float eps, int relu, float *y, float *mean_out, float *var_out, float *istd_out) {
    float sc, sh;
    bn_stats(x, nplanes, stride, hw, gamma, beta, eps, mean_out, var_out, istd_out, &sc, &sh);
    for (size_t i = 0; i < nplanes; i++) {
        const float *xp = x + i * stride;
        float *yp = y + i * stride;
        if (relu) for (size_t j = 0; j < hw; j++) { float v = xp[j] * sc + sh; yp[j] = v > 0.0f ? v : 0.0f; }
        else for (size_t j = 0; j < hw; j++) yp[j] = xp[j] * sc + sh;
    }
}

/* The statistics only, for a consumer that applies y = x*sc + sh itself (a fused LIF). */
SNE_CLONES
void sne_bn_channel_stats(const float *x, size_t nplanes, size_t stride, size_t hw, float gamma, float beta, float eps,
                          float *mean_out, float *var_out, float *istd_out, float *scale_out, float *shift_out) {
    bn_stats(x, nplanes, stride, hw, gamma, beta, eps, mean_out, var_out, istd_out, scale_out, shift_out);
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
