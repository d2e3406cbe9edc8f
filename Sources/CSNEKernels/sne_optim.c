/* AdamW update of one parameter tensor, elementwise (compiled without FMA contraction for AVX-512,
 * AVX2 and the baseline ISA; every path gives the same bits as the Swift loop it replaces):
 *   w -= wd * w;  m = b1*m + (1 - b1)*g;  v = b2*v + ((1 - b2)*g)*g;
 *   w -= (step * m) / (sqrt(v) / bc2sqrt + eps)                                     */
#include "sne_kernels.h"
#include <math.h>

#include "sne_clones.h"

/* sqrt without errno (v >= 0 here), so the loop vectorises; the same correctly rounded result. */
#if defined(__has_builtin)
#if __has_builtin(__builtin_elementwise_sqrt)
#define SNE_SQRTF(x) __builtin_elementwise_sqrt(x)
#endif
#endif
#ifndef SNE_SQRTF
#define SNE_SQRTF(x) sqrtf(x)
#endif

SNE_CLONES
void sne_adamw_update(float *restrict w, const float *restrict g, float *restrict m, float *restrict v, size_t n,
                      float wd, float b1, float b2, float step, float bc2sqrt, float eps) {
    const float c1 = 1.0f - b1, c2 = 1.0f - b2;
    for (size_t i = 0; i < n; i++) {
        const float gi = g[i];
        float wi = w[i];
        wi -= wd * wi;
        const float mi = b1 * m[i] + c1 * gi;
        const float vi = b2 * v[i] + c2 * gi * gi;
        m[i] = mi; v[i] = vi;
        w[i] = wi - step * mi / (SNE_SQRTF(vi) / bc2sqrt + eps);
    }
}
