/*
 * sne_port.h - porting hooks of the sne C runtime (docs/c-runtime.md, "Porting").
 *
 * The runtime never touches hardware. A port may predefine any of these macros
 * (e.g. with -D, or by defining SNE_USE_TARGET_PORT so targets/sne_port_target.h
 * is included first); everything not predefined gets the portable default.
 *
 *   SNE_FLASH        qualifier of const tables that may live in flash (weights,
 *                    biases, blob bytes). Empty by default; `__memx` on AVR.
 *   SNE_LOAD_I8(p)   read one element through a SNE_FLASH pointer. Default: *(p).
 *   SNE_LOAD_U8(p)
 *   SNE_LOAD_I32(p)
 *   SNE_PROF(id)     profiling hook, called before each stage of an inference: id = j before
 *                    op j of a student, SNE_PROF_GATE, SNE_PROF_FEATURES, SNE_PROF_HEAD,
 *                    SNE_PROF_STEM (the whole shared stem, spec §4.1). Empty by
 *                    default; bench/runtime.sh defines it to charge instructions per op.
 */
#ifndef SNE_PORT_H
#define SNE_PORT_H

#if defined(SNE_USE_TARGET_PORT)
#include "sne_port_target.h"
#endif

#ifndef SNE_FLASH
#define SNE_FLASH
#endif
#ifndef SNE_LOAD_I8
#define SNE_LOAD_I8(p) (*(p))
#endif
#ifndef SNE_LOAD_U8
#define SNE_LOAD_U8(p) (*(p))
#endif
#ifndef SNE_LOAD_I32
#define SNE_LOAD_I32(p) (*(p))
#endif

#ifndef SNE_PROF
#define SNE_PROF(id) ((void)0)
#endif
#define SNE_PROF_STEM 60u
#define SNE_PROF_FEATURES 61u
#define SNE_PROF_GATE 62u
#define SNE_PROF_HEAD 63u

#endif /* SNE_PORT_H */
