/*
 * sne_fixed.h - THE integer primitive set of the runtime (spec §1). Internal header.
 *
 * No helper shifts a negative value, converts an out-of-range value to a signed type, or
 * overflows a signed type: negative operands are mirrored to non-negative ones first.
 */
#ifndef SNE_FIXED_H
#define SNE_FIXED_H

#include <stdint.h>

/* floor(x / 2^s), 0 <= s <= 31 (spec §1 floor_shr). For x < 0: -(((-(x+1)) >> s)) - 1. */
static inline int32_t sne_floor_shr(int32_t x, uint32_t s)
{
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

/* satw(a + b, 32) without int64 and without signed overflow (spec §1 satw, §3.5 step 2). */
static inline int32_t sne_sat_add32(int32_t a, int32_t b)
{
    if (b > 0 && a > INT32_MAX - b) return INT32_MAX;
    if (b < 0 && a < INT32_MIN - b) return INT32_MIN;
    return a + b;
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
