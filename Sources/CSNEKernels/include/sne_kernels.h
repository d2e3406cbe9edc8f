/* CSNEKernels: hand-vectorised float32 kernels (SGEMM micro-kernels) used by SNETensor. */
#ifndef SNE_KERNELS_H
#define SNE_KERNELS_H
#include <stddef.h>
#endif
