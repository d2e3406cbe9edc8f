/* Shared by the elementwise training kernels (sne_lif.c, sne_bn.c): no FMA contraction, so every
 * CPU path computes the same bits, and SNE_CLONES, which compiles a function for AVX-512, AVX2 and
 * the baseline ISA and picks one at load time (x86-64 ELF; a plain function elsewhere). */
#ifndef SNE_CLONES_H
#define SNE_CLONES_H

#pragma STDC FP_CONTRACT OFF
#if defined(__clang__)
#pragma clang fp contract(off)
#endif

#if defined(__x86_64__) && defined(__ELF__) && (defined(__clang__) || defined(__GNUC__))
#define SNE_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SNE_CLONES
#endif

#endif
