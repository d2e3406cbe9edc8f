#include "sne_kernels.h"
