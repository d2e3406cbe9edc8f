/*
 * sne_fixed.h - THE integer primitive set of the runtime (spec §1). Internal header.
 *
 * No helper shifts a negative value left, converts an out-of-range value to a signed type, or
 * overflows a signed type: negative operands are mirrored to non-negative ones first. The one
 * right shift of a negative value (sne_floor_shr) is used only where the compiler defines it as
 * the floor (SNE_ASR_IS_FLOOR, a constant expression); otherwise the mirrored form runs.
 */
#ifndef SNE_FIXED_H
#define SNE_FIXED_H

#include <stdint.h>

/*
 * 1 when this compiler's >> of a negative int32 is the arithmetic shift (floor division by 2^s),
 * which C99 leaves implementation-defined and GCC, Clang and every compiler sne targets define so.
 * A constant expression: the compiler folds the test and keeps one branch of each helper below.
 */
#define SNE_ASR_IS_FLOOR (((int32_t)-7 >> 1) == -4 && ((int32_t)-1 >> 31) == -1)

/* floor(x / 2^s), 0 <= s <= 31 (spec §1 floor_shr). For x < 0 without an arithmetic shift:
 * -(((-(x+1)) >> s)) - 1. */
static inline int32_t sne_floor_shr(int32_t x, uint32_t s)
{
    if (SNE_ASR_IS_FLOOR) return x >> s;
    if (x >= 0) return (int32_t)((uint32_t)x >> s);
    return -(int32_t)((uint32_t)(-(x + 1)) >> s) - 1;
}

/* floor(x / 2^s), 0 <= s <= 63, int64 (spec §1 floor_shr). */
static inline int64_t sne_floor_shr64(int64_t x, uint32_t s)
{
    if (x >= 0) return (int64_t)((uint64_t)x >> s);
    return -(int64_t)((uint64_t)(-(x + 1)) >> s) - 1;
}

/*
 * rshr(x, s) = floor((x + 2^(s-1)) / 2^s), rshr(x, 0) = x (spec §1, round half up), 0 <= s <= 31.
 * Computed as floor_shr(x, s) + bit (s-1) of x's two's complement, which never overflows
 * (x = q*2^s + r with 0 <= r < 2^s; adding 2^(s-1) carries iff r >= 2^(s-1)).
 */
static inline int32_t sne_rshr(int32_t x, uint32_t s)
{
    if (s == 0) return x;
    return sne_floor_shr(x, s) + (int32_t)(((uint32_t)x >> (s - 1)) & 1u);
}

/* rshr for int64, 0 <= s <= 62 (spec §1 requant products). */
static inline int64_t sne_rshr64(int64_t x, uint32_t s)
{
    if (s == 0) return x;
    return sne_floor_shr64(x, s) + (int64_t)(((uint64_t)x >> (s - 1)) & 1u);
}

/* sat(x, lo, hi) for int64 x into int32 bounds (spec §1). */
static inline int32_t sne_sat64(int64_t x, int32_t lo, int32_t hi)
{
    if (x < lo) return lo;
    if (x > hi) return hi;
    return (int32_t)x;
}

/* satw(a + b, 32) without int64 and without signed overflow (spec §1 satw, §3.5 step 2): GCC and
 * Clang's overflow builtin where available (an add and a rarely taken branch; measured cheaper on
 * cortex-m4 than an inline QADD, which the compiler cannot schedule around). */
static inline int32_t sne_sat_add32(int32_t a, int32_t b)
{
#if (defined(__GNUC__) && __GNUC__ >= 5) || defined(__clang__)
    int32_t r;
    if (__builtin_add_overflow(a, b, &r)) return a < 0 ? INT32_MIN : INT32_MAX;
    return r;
#else
    if (b > 0 && a > INT32_MAX - b) return INT32_MAX;
    if (b < 0 && a < INT32_MIN - b) return INT32_MIN;
    return a + b;
#endif
}

/* sat(x, -2^15, 2^15 - 1) (spec §3.5 step 2 for 16-bit states). One SSAT on ARMv7-M / v7E-M. */
static inline int32_t sne_sat16(int32_t x)
{
#if defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__)
#if defined(__GNUC__) && !defined(SNE_NO_ASM)
    int32_t r;
    __asm__("ssat %0, #16, %1" : "=r"(r) : "r"(x));
    return r;
#endif
#endif
    return x > 32767 ? 32767 : (x < -32768 ? -32768 : x);
}

/* requant(x, m, s, lo, hi) = sat(rshr(x*m, s), lo, hi), product exact in int64 (spec §1). */
static inline int32_t sne_requant(int32_t x, int32_t m, uint32_t s, int32_t lo, int32_t hi)
{
    return sne_sat64(sne_rshr64((int64_t)x * (int64_t)m, s), lo, hi);
}

/*
 * Spec §3.5 step 1, leak mulshift(m, s): v' = rshr(v * m, s), exact int64 product, 0 <= m <= 2^s,
 * s <= 15. |v'| <= |v|, so the result fits int32.
 */
static inline int32_t sne_leak_mulshift(int32_t v, uint32_t m, uint32_t s)
{
    return (int32_t)sne_rshr64((int64_t)v * (int64_t)m, s);
}

/* The same for 16-bit states (|v| <= 2^15, m <= 2^15: the product fits int32). */
static inline int32_t sne_leak_mulshift16(int32_t v, uint32_t m, uint32_t s)
{
    return sne_rshr(v * (int32_t)m, s);
}

/* Spec §3.5 step 1, leak shift(s): v' = v - rshr(v, s), 1 <= s <= 31 (rshr(v, s) has v's sign and
 * |rshr(v, s)| <= |v|, so the difference never overflows). */
static inline int32_t sne_leak_shift(int32_t v, uint32_t s)
{
    return v - sne_rshr(v, s);
}

/* Two's complement int32 from its uint32 bit pattern, without implementation-defined conversion. */
static inline int32_t sne_i32_from_u32(uint32_t u)
{
    if (u <= 0x7FFFFFFFu) return (int32_t)u;
    return -(int32_t)(~u) - 1;
}

/*
 * Spec §3.10 decay(x, keep) = trunc(x * keep / 4096): the exact product TRUNCATED TOWARD ZERO
 * (Lava: sign(p) * (|p| >> 12); decay(-5, 2048) = -2, not -3), 0 <= keep <= 4096. Computed on |x|
 * in 32 bits: |x| = hi*4096 + lo, so |x|*keep/4096 = hi*keep + (lo*keep)/4096 with hi*keep <= 2^31
 * and lo*keep < 2^24; the result has x's sign and |result| <= |x|.
 */
static inline int32_t sne_loihi_decay(int32_t x, uint32_t keep)
{
    const uint32_t ax = x >= 0 ? (uint32_t)x : 0u - (uint32_t)x;
    const uint32_t q = (ax >> 12) * keep + (((ax & 4095u) * keep) >> 12);
    return x >= 0 ? (int32_t)q : sne_i32_from_u32(0u - q);
}

/*
 * Spec §3.11 scale(x, e) = x * 2^e for e >= 0 (a multiply: no left shift of a negative value),
 * floor_shr(x, -e) for e < 0 (Lava's np.right_shift, a floor: scale(-3, -1) = -2), -8 <= e <= 7.
 * §7.8 keeps |result| <= 2^15 - 1.
 */
static inline int32_t sne_loihi_wscale(int32_t x, int32_t e)
{
    return e >= 0 ? x * ((int32_t)1 << e) : sne_floor_shr(x, (uint32_t)-e);
}

/* Bound of |v| (and |u|): Lava's 24-bit state, 2^23 - 1 (spec §3.10 step 3, §7.8). */
#define SNE_LOIHI_STATE_MAX 8388607

/*
 * Spec §3.10, one CUBA LIF neuron step (Lava PyLifModelBitAcc), in this order:
 *   1. u = decay(u, 4095 - du) + a * 2^6                (exact: §7.8 keeps |u| <= 2^23 - 1, no wrap)
 *   2. v = decay(v, 4096 - dv) + u + mant * 2^bias_exp  (|.| < 2^23 + 2^23 + 2^19: exact in int32)
 *   3. v = sat(v, -(2^23 - 1), 2^23 - 1)                <- the only saturation
 *   4. spike = v > vth * 2^6                             (STRICT compare)
 *   5. if spike: v = 0                                   (u is not reset)
 * a = the synaptic input (0 for the bias source), mant = bias_mant[c] (+ cur for the bias source).
 * Updates *u, *v; returns the spike (0/1).
 */
static inline uint8_t sne_loihi_lif_step(int32_t *u, int32_t *v, int32_t a, int32_t mant, uint32_t du,
                                         uint32_t dv, int32_t vth, uint32_t bias_exp)
{
    const int32_t u1 = sne_loihi_decay(*u, 4095u - du) + a * 64;
    int32_t v1 = sne_loihi_decay(*v, 4096u - dv) + u1 + mant * ((int32_t)1 << bias_exp);
    if (v1 > SNE_LOIHI_STATE_MAX) v1 = SNE_LOIHI_STATE_MAX;      /* Lava's clip of the 24-bit voltage */
    if (v1 < -SNE_LOIHI_STATE_MAX) v1 = -SNE_LOIHI_STATE_MAX;
    *u = u1;
    if (v1 > vth * 64) { *v = 0; return 1; }                      /* strict; reset v to 0 */
    *v = v1;
    return 0;
}

/* FNV-1a 32 of one byte (spec §8). */
static inline uint32_t sne_fnv1a(uint32_t h, uint8_t b)
{
    return (h ^ b) * 16777619u;
}

/* FNV-1a over the 4 little-endian bytes of v (spec §8). */
static inline uint32_t sne_fnv1a_i32(uint32_t h, int32_t v)
{
    uint32_t u = (uint32_t)v;
    h = sne_fnv1a(h, (uint8_t)(u & 0xFFu));
    h = sne_fnv1a(h, (uint8_t)((u >> 8) & 0xFFu));
    h = sne_fnv1a(h, (uint8_t)((u >> 16) & 0xFFu));
    return sne_fnv1a(h, (uint8_t)(u >> 24));
}

#endif /* SNE_FIXED_H */
