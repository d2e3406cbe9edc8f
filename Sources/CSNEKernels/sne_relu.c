/* ReLU forward and backward over a contiguous range (the caller splits the tensor across workers).
 * Exact semantics of the Swift layer: y = x where x > 0, else 0 (NaN and -0 give +0); backward
 * passes dy where the forward output y > 0 (y > 0 exactly where x > 0), else 0. No arithmetic, so
 * every CPU path gives the same bits. */
#include "sne_kernels.h"
#include "sne_clones.h"

SNE_CLONES
void sne_relu_forward(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

SNE_CLONES
void sne_relu_backward(const float *y, const float *dy, float *dx, size_t n) {
    for (size_t i = 0; i < n; i++) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}
