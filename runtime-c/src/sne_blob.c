/*
 * sne_blob.c - the .snep 2.0 / 2.1 / 2.2 blob loader (spec §9 "Loading", §7 static bounds; 2.1 adds the
 * Loihi opcodes 10-12, §3.10-§3.12, bounds §7.8; 2.2 the STEM section and opcode 13, §3.13, §4.1).
 *
 * Every read goes through rd_*() on a cursor whose [pos, end) lies inside the buffer; every
 * length is checked before use with 64-bit arithmetic, so no byte sequence makes the loader
 * read outside [blob, blob+len) or write outside *out. The produced model points into the
 * blob: weights at their byte offsets (w8 = blob), int32 tables read LE byte-wise (w32 = NULL),
 * so the blob needs no particular alignment.
 */
#include <string.h>

#include "sne_internal.h"

#define B31 2147483647u

typedef struct rd {
    const SNE_FLASH uint8_t *b;
    uint32_t pos, end;      /* current position and end of the region being parsed */
    sne_status st;          /* first failure */
    uint32_t err;           /* its byte offset */
} rd;

static int fail(rd *r, sne_status s, uint32_t at)
{
    if (r->st == SNE_OK) { r->st = s; r->err = at; }
    return 0;
}

/* n bytes available at pos inside the region? */
static int have(rd *r, uint32_t n) { return r->st == SNE_OK && n <= r->end - r->pos; }

static uint8_t byte_at(const rd *r, uint32_t off) { return SNE_LOAD_U8(r->b + off); }

static uint32_t rd_u8(rd *r)
{
    if (!have(r, 1)) { fail(r, SNE_E_FORMAT, r->pos); return 0; }
    return byte_at(r, r->pos++);
}

static uint32_t rd_u16(rd *r)
{
    uint32_t v;
    if (!have(r, 2)) { fail(r, SNE_E_FORMAT, r->pos); return 0; }
    v = (uint32_t)byte_at(r, r->pos) | ((uint32_t)byte_at(r, r->pos + 1u) << 8);
    r->pos += 2;
    return v;
}

static uint32_t rd_u32(rd *r)
{
    uint32_t v;
    if (!have(r, 4)) { fail(r, SNE_E_FORMAT, r->pos); return 0; }
    v = (uint32_t)byte_at(r, r->pos) | ((uint32_t)byte_at(r, r->pos + 1u) << 8) |
        ((uint32_t)byte_at(r, r->pos + 2u) << 16) | ((uint32_t)byte_at(r, r->pos + 3u) << 24);
    r->pos += 4;
    return v;
}

/* Field value check: lo <= v <= hi, else fail with `s` at the field's offset. */
static int need(rd *r, uint32_t v, uint32_t lo, uint32_t hi, uint32_t at)
{
    if (r->st != SNE_OK) return 0;
    if (v < lo || v > hi) return fail(r, SNE_E_FORMAT, at);
    return 1;
}

/* n zero bytes (reserved fields, padding). */
static void rd_zero(rd *r, uint32_t n)
{
    uint32_t i;
    if (!have(r, n)) { fail(r, SNE_E_FORMAT, r->pos); return; }
    for (i = 0; i < n; i++)
        if (byte_at(r, r->pos + i) != 0) { fail(r, SNE_E_FORMAT, r->pos + i); return; }
    r->pos += n;
}

/* Skip an array of n bytes (n may be up to 2^64-1 before the check) then zero padding to 4. */
static uint32_t rd_array(rd *r, uint64_t n)
{
    uint32_t at = r->pos, padn;
    if (r->st != SNE_OK) return 0;
    if (n > (uint64_t)(r->end - r->pos)) { fail(r, SNE_E_FORMAT, r->pos); return 0; }
    r->pos += (uint32_t)n;
    padn = (4u - ((uint32_t)n & 3u)) & 3u;
    rd_zero(r, padn);
    return at;
}

static int32_t i32_at(const rd *r, uint32_t off)
{
    uint32_t u = (uint32_t)byte_at(r, off) | ((uint32_t)byte_at(r, off + 1u) << 8) |
                 ((uint32_t)byte_at(r, off + 2u) << 16) | ((uint32_t)byte_at(r, off + 3u) << 24);
    return sne_i32_from_u32(u);
}

static uint32_t abs_i8(uint8_t b) { return b < 128u ? b : 256u - b; }
static uint64_t abs_i32(int32_t v) { return v >= 0 ? (uint64_t)v : (uint64_t)(-(int64_t)v); }

/*
 * §7.1/§7.3: for every output o, |bias[o]| + scale * sum_i |w[i][o]| + 2^(shift-1) <= B; returns
 * curmax = max_o ceil(that / 2^shift) (§7.4), or fails. Weights [rows][out] at w, bias at b.
 */
static uint64_t syn_bound(rd *r, uint32_t w, uint32_t rows, uint32_t out, uint32_t b, uint32_t shift,
                          uint32_t scale, uint32_t at)
{
    uint64_t curmax = 0;
    uint32_t o, i;
    for (o = 0; o < out && r->st == SNE_OK; o++) {
        uint64_t a = abs_i32(i32_at(r, b + 4u * o)) + (shift == 0 ? 0u : (1ull << (shift - 1u)));
        uint64_t s = 0;
        for (i = 0; i < rows; i++) s += abs_i8(byte_at(r, w + i * out + o));
        a += (uint64_t)scale * s;
        if (a > B31) { fail(r, SNE_E_BOUND, at); return 0; }
        a = (a + (1ull << shift) - 1u) >> shift;
        if (a > curmax) curmax = a;
    }
    return curmax;
}

/* sum_i |w[i][o]| of column o of the int8 matrix [rows][out] at w (spec §7). */
static uint64_t col_abs_sum(const rd *r, uint32_t w, uint32_t rows, uint32_t out, uint32_t o)
{
    uint64_t s = 0;
    uint32_t i;
    for (i = 0; i < rows; i++) s += abs_i8(byte_at(r, w + i * out + o));
    return s;
}

/*
 * §7.8 for loihi_dense (e = weight_exp, -8..7) and loihi_conv2d (e = 0): for every output o,
 * A_o = sum_i |w[i][o]| * 2^e (e >= 0) or ceil(sum / 2^-e) (e < 0) <= 2^15 - 1; returns max_o A_o.
 */
static uint64_t loihi_syn_bound(rd *r, uint32_t w, uint32_t rows, uint32_t out, int32_t e, uint32_t at)
{
    uint64_t amax = 0;
    uint32_t o;
    for (o = 0; o < out && r->st == SNE_OK; o++) {
        const uint64_t s = col_abs_sum(r, w, rows, out, o);
        const uint64_t a = e >= 0 ? s << (uint32_t)e : (s + (1ull << (uint32_t)-e) - 1u) >> (uint32_t)-e;
        if (a > 32767u) { fail(r, SNE_E_BOUND, at); return 0; }
        if (a > amax) amax = a;
    }
    return amax;
}

/* CRC-32 (IEEE 802.3, reflected 0xEDB88320) of [0, n), nibble table. */
static uint32_t crc32_of(const SNE_FLASH uint8_t *b, uint32_t n)
{
    static const uint32_t t[16] = {
        0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u,
        0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
        0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu};
    uint32_t c = 0xFFFFFFFFu, i;
    for (i = 0; i < n; i++) {
        c ^= SNE_LOAD_U8(b + i);
        c = (c >> 4) ^ t[c & 15u];
        c = (c >> 4) ^ t[c & 15u];
    }
    return c ^ 0xFFFFFFFFu;
}

typedef struct shape { uint32_t h, w, c; } shape;
enum { K_U8, K_CUR, K_SPK, K_FEAT };

/* The columns of an op's line in sne.h SNE_OP_TABLE that the loader reads: its record layout
 * (REC_*) and its §7 bound (BOUND_*); the kinds are K_* above. */
typedef enum rec_layout {
    REC_NONE_, REC_SYN_CONV, REC_SYN_DENSE, REC_LIF, REC_POOL, REC_SAME, REC_FLAT, REC_STEM, REC_LLIF, REC_LDENSE, REC_LCONV
} rec_layout;
typedef enum bound_rule { BOUND_KEEP, BOUND_ARRAYS, BOUND_AVGPOOL, BOUND_READOUT } bound_rule;

/* The file may hold every op this runtime knows: each line's minor is at most SNE_VERSION_MINOR. */
#define MINOR_OK_(NAME, code_, kern_, minor_, in_, out_, rec_, bound_, mem_, state_, step_) \
    typedef char sne_minor_ok_##NAME[(minor_) <= SNE_VERSION_MINOR ? 1 : -1];
SNE_OP_TABLE(MINOR_OK_)
#undef MINOR_OK_

/* An op's line of SNE_OP_TABLE in 14 bits: minor (bits 0-3) | in kind << 4 | out kind << 6 |
 * record layout << 8 | bound << 12; 0 (layout REC_NONE_) for a byte that is not an opcode. */
static uint16_t op_line(uint32_t code)
{
#define LINE_(NAME, code_, kern_, minor_, in_, out_, rec_, bound_, mem_, state_, step_) \
    case SNE_OP_##NAME: return (uint16_t)((minor_) | K_##in_ << 4 | K_##out_ << 6 | REC_##rec_ << 8 | BOUND_##bound_ << 12);
    switch ((sne_opcode)code) {
    SNE_OP_TABLE(LINE_)
    default: return 0;
    }
#undef LINE_
}

/* One op record (spec §9 STUDENT or STEM) into *op; updates the shape/kind chain. `minor`: the file's
 * minor version (opcodes 10-12 need 1, 13 needs 2); `prev`: the opcode of op j-1 (0 for j = 0);
 * `in_stem`: the record is in the STEM section (typing of spec §4.1 instead of §3); `stem_out`: the
 * stem's output shape (a student's op 0 `stem` reads it), NULL when the program has no stem. */
static void load_op(rd *r, sne_op *op, uint32_t j, uint32_t nops, shape *s, uint32_t *kind,
                    uint32_t features, uint64_t *curmax, uint32_t T, uint32_t minor, uint32_t prev,
                    int in_stem, const shape *stem_out)
{
    const uint32_t at = r->pos;
    uint32_t code, size, end, ink, outk, line;
    rec_layout rec;
    uint64_t n64;
    memset(op, 0, sizeof *op);
    code = rd_u8(r);
    rd_zero(r, 3);
    size = rd_u32(r);
    if (r->st != SNE_OK) return;
    if (size < 8u || (size & 3u) != 0 || size - 8u > r->end - r->pos) { fail(r, SNE_E_FORMAT, at + 4u); return; }
    end = at + size;
    op->opcode = code;
    op->in_h = s->h; op->in_w = s->w; op->in_c = s->c;
    line = op_line(code);                                     /* its line of SNE_OP_TABLE */
    rec = (rec_layout)((line >> 8) & 15u);
    ink = (line >> 4) & 3u; outk = (line >> 6) & 3u;
    if (rec == REC_NONE_) { fail(r, SNE_E_FORMAT, at); return; }         /* not an opcode */
    if (minor < (line & 15u)) { fail(r, SNE_E_FORMAT, at); return; }     /* e.g. a 2.1 (Loihi) op in a 2.0 file */
    /* parameters: the record's fixed fields by its layout, then the output shape */
    switch (rec) {
    case REC_SYN_CONV: {
        sne_syn_params *const sp = &op->par.syn;
        sne_window *const win = &sp->win;
        op->out_c = rd_u16(r); win->kh = rd_u8(r); win->kw = rd_u8(r); win->stride = rd_u8(r);
        win->pad = rd_u8(r); sp->shift = rd_u8(r); rd_zero(r, 1);
        need(r, op->out_c, 1, 4096, at + 8u); need(r, win->kh, 1, 15, at + 10u); need(r, win->kw, 1, 15, at + 11u);
        need(r, win->stride, 1, 15, at + 12u);
        need(r, win->pad, 0, (win->kh < win->kw ? win->kh : win->kw) - 1u, at + 13u);
        need(r, sp->shift, 0, 31, at + 14u);
        if (r->st != SNE_OK) return;
        if (s->h + 2u * win->pad < win->kh || s->w + 2u * win->pad < win->kw) { fail(r, SNE_E_SHAPE, at); return; }
        op->out_h = (s->h + 2u * win->pad - win->kh) / win->stride + 1u;
        op->out_w = (s->w + 2u * win->pad - win->kw) / win->stride + 1u;
        break;
    }
    case REC_SYN_DENSE: {
        sne_syn_params *const sp = &op->par.syn;
        op->out_c = rd_u32(r); sp->shift = rd_u8(r); rd_zero(r, 3);
        need(r, op->out_c, 1, 65536, at + 8u); need(r, sp->shift, 0, 31, at + 12u);
        op->out_h = 1; op->out_w = 1;
        break;
    }
    case REC_LIF: {
        sne_lif_params *const lp = &op->par.lif;
        lp->leak = rd_u8(r); lp->leak_shift = rd_u8(r); lp->leak_mult = rd_u16(r);
        lp->reset = rd_u8(r); lp->state_bits = rd_u8(r); rd_zero(r, 2);
        if (r->st != SNE_OK) return;
        if (lp->leak == 0u) { need(r, lp->leak_shift, 0, 0, at + 9u); need(r, lp->leak_mult, 0, 0, at + 10u); }
        else if (lp->leak == 1u) {
            if (need(r, lp->leak_shift, 0, 15, at + 9u)) need(r, lp->leak_mult, 0, (uint32_t)1 << lp->leak_shift, at + 10u);
        }
        else if (lp->leak == 2u) { need(r, lp->leak_shift, 1, 31, at + 9u); need(r, lp->leak_mult, 0, 0, at + 10u); }
        else fail(r, SNE_E_FORMAT, at + 8u);
        need(r, lp->reset, 0, 1, at + 12u);
        if (lp->state_bits != 16u && lp->state_bits != 32u) fail(r, SNE_E_FORMAT, at + 13u);
        op->out_h = s->h; op->out_w = s->w; op->out_c = s->c;
        break;
    }
    case REC_POOL: {
        const uint32_t p = rd_u8(r);
        op->par.pool.size = p; rd_zero(r, 3);
        if (r->st != SNE_OK) return;
        if (code == SNE_OP_MAXPOOL) need(r, p, 2, 15, at + 8u);
        else if (code == SNE_OP_AVGPOOL) { if (p != 2u && p != 4u) fail(r, SNE_E_FORMAT, at + 8u); }
        else fail(r, SNE_E_FORMAT, at);                        /* a pool op without its size range here */
        if (r->st != SNE_OK) return;
        op->out_h = s->h / p; op->out_w = s->w / p; op->out_c = s->c;
        break;
    }
    case REC_FLAT:
        op->out_h = 1; op->out_w = 1; op->out_c = s->h * s->w * s->c;
        break;
    case REC_LLIF: {
        /* u8 source, u8 bias_exp, u16 du, u16 dv, u16 reserved, i32 vth (spec §9, ranges §3.10) */
        sne_loihi_lif_params *const lp = &op->par.loihi_lif;
        lp->source = rd_u8(r); lp->bias_exp = rd_u8(r); lp->du = rd_u16(r); lp->dv = rd_u16(r);
        rd_zero(r, 2); lp->vth = rd_u32(r);
        need(r, lp->source, 0, 1, at + 8u);
        need(r, lp->bias_exp, 0, 7, at + 9u); need(r, lp->du, 0, 4095, at + 10u);
        need(r, lp->dv, 0, 4095, at + 12u); need(r, lp->vth, 0, 131071, at + 16u);
        op->out_h = s->h; op->out_w = s->w; op->out_c = s->c;
        break;
    }
    case REC_LDENSE: {
        /* u32 out, i8 weight_exp (-8..7), u8 reserved[3] */
        uint32_t e;
        op->out_c = rd_u32(r); e = rd_u8(r); rd_zero(r, 3);
        need(r, op->out_c, 1, 65536, at + 8u);
        if (r->st == SNE_OK && e > 7u && e < 248u) fail(r, SNE_E_FORMAT, at + 12u);
        op->par.loihi_dense.weight_exp = e < 128u ? (int32_t)e : (int32_t)e - 256;
        op->out_h = 1; op->out_w = 1;
        break;
    }
    case REC_LCONV: {
        /* u16 cout, u8 kh, kw, stride, pad, u8 reserved[2]; ranges and geometry of conv2d */
        sne_window *const win = &op->par.loihi_conv2d.win;
        op->out_c = rd_u16(r); win->kh = rd_u8(r); win->kw = rd_u8(r); win->stride = rd_u8(r);
        win->pad = rd_u8(r); rd_zero(r, 2);
        need(r, op->out_c, 1, 4096, at + 8u); need(r, win->kh, 1, 15, at + 10u); need(r, win->kw, 1, 15, at + 11u);
        need(r, win->stride, 1, 15, at + 12u);
        need(r, win->pad, 0, (win->kh < win->kw ? win->kh : win->kw) - 1u, at + 13u);
        if (r->st != SNE_OK) return;
        if (s->h + 2u * win->pad < win->kh || s->w + 2u * win->pad < win->kw) { fail(r, SNE_E_SHAPE, at); return; }
        op->out_h = (s->h + 2u * win->pad - win->kh) / win->stride + 1u;
        op->out_w = (s->w + 2u * win->pad - win->kw) / win->stride + 1u;
        break;
    }
    case REC_SAME:                                             /* no parameters, output shape = input shape */
        op->out_h = s->h; op->out_w = s->w; op->out_c = s->c;
        break;
    case REC_STEM:
        /* no parameters; in and out shape = the stem's output shape (spec §3.13) */
        if (j == 0 && !in_stem && stem_out != NULL) { s->h = stem_out->h; s->w = stem_out->w; s->c = stem_out->c; }
        op->in_h = s->h; op->in_w = s->w; op->in_c = s->c;
        op->out_h = s->h; op->out_w = s->w; op->out_c = s->c;
        break;
    case REC_NONE_:
    default:
        fail(r, SNE_E_FORMAT, at); return;                     /* no parameters known for this layout */
    }
    if (r->st != SNE_OK) return;
    if (!in_stem) {
        /* typing (spec §3): op 0 an input op or stem (only if the program has a stem), kinds chain,
         * readout last and only there */
        if (code == SNE_OP_STEM && (j > 0 || stem_out == NULL)) { fail(r, SNE_E_TYPE, at); return; }
        if (j == 0 && ink != K_U8) { fail(r, SNE_E_TYPE, at); return; }
        if (j > 0 && ink != *kind) { fail(r, SNE_E_TYPE, at); return; }
        if ((j + 1u == nops) != (outk == K_FEAT)) { fail(r, SNE_E_TYPE, at); return; }
    } else {
        /* typing of the stem (spec §4.1): no stem, no readout; op 0 an input op; kinds chain; SPK last */
        if (code == SNE_OP_STEM || outk == K_FEAT) { fail(r, SNE_E_TYPE, at); return; }
        if (j == 0 && ink != K_U8) { fail(r, SNE_E_TYPE, at); return; }
        if (j > 0 && ink != *kind) { fail(r, SNE_E_TYPE, at); return; }
        if (j + 1u == nops && outk != K_SPK) { fail(r, SNE_E_TYPE, at); return; }
    }
    /* shapes (spec §7.6) */
    if (op->out_h < 1u || op->out_w < 1u || op->out_c < 1u) { fail(r, SNE_E_SHAPE, at); return; }
    n64 = (uint64_t)op->out_h * op->out_w * op->out_c;
    if (n64 > (1ul << 20)) { fail(r, SNE_E_SHAPE, at); return; }
    if (outk == K_FEAT && n64 != features) { fail(r, SNE_E_SHAPE, at); return; }   /* readout: F elements */
    /* loihi_lif source (spec §3.10): bias right after the input op, synaptic after a Loihi synaptic op */
    if (code == SNE_OP_LOIHI_LIF) {
        const int ok = op->par.loihi_lif.source == 1u ? (prev == SNE_OP_INPUT_CONV2D || prev == SNE_OP_INPUT_DENSE)
                                      : (prev == SNE_OP_LOIHI_DENSE || prev == SNE_OP_LOIHI_CONV2D);
        if (!ok) { fail(r, SNE_E_TYPE, at + 8u); return; }
    }
    /* arrays by the record's layout: exact record size, ranges, and the §7 bounds they set */
    switch (rec) {
    case REC_LLIF: {
        /* i16 bias_mant[C] (+pad), each -4096..4095; §7.8 bounds */
        uint32_t ch, bm;
        uint64_t bmax = 0;
        if (20ull + ((2ull * s->c + 3u) & ~(uint64_t)3u) != size) { fail(r, SNE_E_FORMAT, at + 4u); return; }
        bm = rd_array(r, 2ull * s->c);
        op->par.loihi_lif.bias_mant = bm;
        for (ch = 0; ch < s->c && r->st == SNE_OK; ch++) {
            const uint32_t u = (uint32_t)byte_at(r, bm + 2u * ch) | ((uint32_t)byte_at(r, bm + 2u * ch + 1u) << 8);
            const uint32_t mag = u < 0x8000u ? u : 65536u - u;
            if (u > 4095u && u < 65536u - 4096u) fail(r, SNE_E_FORMAT, bm + 2u * ch);
            if (mag > bmax) bmax = mag;
        }
        if (r->st != SNE_OK) return;
        if (op->par.loihi_lif.source == 1u) {   /* bias: |cur| + |bias_mant| <= 4095 (the 13-bit mantissa) */
            if (*curmax + bmax > 4095u) { fail(r, SNE_E_BOUND, at); return; }
        } else {                /* synaptic: 64 * A * min(T, ceil(4096 / (du + 1))) <= 2^23 - 1 */
            const uint32_t du = op->par.loihi_lif.du, steps0 = (4096u + du) / (du + 1u);
            const uint64_t steps = T < steps0 ? T : steps0;
            if (64u * *curmax * steps > 8388607u) { fail(r, SNE_E_BOUND, at); return; }
        }
        break;
    }
    case REC_LDENSE: case REC_LCONV: {
        const sne_window *const win = &op->par.loihi_conv2d.win;
        const uint64_t rows = rec == REC_LCONV ? (uint64_t)s->c * win->kh * win->kw : (uint64_t)s->h * s->w * s->c;
        const uint64_t nw = rows * op->out_c;
        uint32_t w;
        if (16u + ((nw + 3u) & ~(uint64_t)3u) != size) { fail(r, SNE_E_FORMAT, at + 4u); return; }
        w = rd_array(r, nw);
        if (rec == REC_LCONV) op->par.loihi_conv2d.w = w; else op->par.loihi_dense.w = w;
        if (r->st != SNE_OK) return;
        *curmax = loihi_syn_bound(r, w, (uint32_t)rows, op->out_c,
                                  rec == REC_LDENSE ? op->par.loihi_dense.weight_exp : 0, at);
        break;
    }
    case REC_SYN_CONV: case REC_SYN_DENSE: {
        sne_syn_params *const sp = &op->par.syn;
        const uint64_t rows = rec == REC_SYN_CONV ? (uint64_t)s->c * sp->win.kh * sp->win.kw : (uint64_t)s->h * s->w * s->c;
        const uint64_t nw = rows * op->out_c;
        const uint64_t need_size = 16u + ((nw + 3u) & ~(uint64_t)3u) + 4ull * op->out_c;
        if (need_size != size) { fail(r, SNE_E_FORMAT, at + 4u); return; }
        sp->w = rd_array(r, nw);
        sp->b = rd_array(r, 4ull * op->out_c);
        if (r->st != SNE_OK) return;
        *curmax = syn_bound(r, sp->w, (uint32_t)rows, op->out_c, sp->b, sp->shift, ink == K_U8 ? 255u : 1u, at);
        break;
    }
    case REC_LIF: {
        /* i32 theta[C], one per channel, each 1 .. 2^(state_bits-1)-1 (spec §3.5) */
        sne_lif_params *const lp = &op->par.lif;
        const uint32_t hi = lp->state_bits == 16u ? 32767u : 0x7FFFFFFFu;
        uint32_t ch;
        if (16ull + 4ull * s->c != size) { fail(r, SNE_E_FORMAT, at + 4u); return; }
        lp->theta = rd_array(r, 4ull * s->c);
        for (ch = 0; ch < s->c && r->st == SNE_OK; ch++) {
            const int32_t t = i32_at(r, lp->theta + 4u * ch);
            if (t < 1 || (uint32_t)t > hi) fail(r, SNE_E_FORMAT, lp->theta + 4u * ch);
        }
        break;
    }
    case REC_POOL:                                             /* u8 size, u8 reserved[3]: 12 bytes */
        if (size != 12u) { fail(r, SNE_E_FORMAT, at + 4u); return; }
        break;
    case REC_SAME: case REC_FLAT: case REC_STEM:               /* the header alone: 8 bytes */
        if (size != 8u) { fail(r, SNE_E_FORMAT, at + 4u); return; }
        break;
    case REC_NONE_:
    default:
        fail(r, SNE_E_FORMAT, at); return;                     /* no record layout known */
    }
    /* the static bounds of spec §7 that follow from the op's input bound curmax */
    switch ((bound_rule)(line >> 12)) {
    case BOUND_KEEP: case BOUND_ARRAYS: break;                 /* unchanged, or set by the arrays above */
    case BOUND_AVGPOOL: {                                      /* §7.3: curmax * p^2 + p^2 / 2 <= 2^31 - 1 */
        const uint64_t q = (uint64_t)op->par.pool.size * op->par.pool.size;
        if (*curmax * q + q / 2u > B31) { fail(r, SNE_E_BOUND, at); return; }
        break;
    }
    case BOUND_READOUT:                                        /* §7.4: T * curmax <= 2^31 - 1 */
        if ((uint64_t)T * *curmax > B31) { fail(r, SNE_E_BOUND, at); return; }
        break;
    default:
        fail(r, SNE_E_FORMAT, at); return;
    }
    if (r->st == SNE_OK && r->pos != end) fail(r, SNE_E_FORMAT, at + 4u);
    s->h = op->out_h; s->w = op->out_w; s->c = op->out_c;
    *kind = outk;
}

/* Length of the UTF-8 sequence at b[i..end) if well-formed (no overlongs, surrogates, > U+10FFFF), else 0. */
static uint32_t utf8_len(const rd *r, uint32_t i, uint32_t end)
{
    const uint32_t c = byte_at(r, i);
    uint32_t n, k, lo = 0x80u, hi = 0xBFu;
    if (c < 0x80u) return 1;
    if (c >= 0xC2u && c <= 0xDFu) n = 2;
    else if (c >= 0xE0u && c <= 0xEFu) { n = 3; if (c == 0xE0u) lo = 0xA0u; if (c == 0xEDu) hi = 0x9Fu; }
    else if (c >= 0xF0u && c <= 0xF4u) { n = 4; if (c == 0xF0u) lo = 0x90u; if (c == 0xF4u) hi = 0x8Fu; }
    else return 0;
    if (n > end - i) return 0;
    for (k = 1; k < n; k++) {
        const uint32_t d = byte_at(r, i + k);
        if (d < (k == 1 ? lo : 0x80u) || d > (k == 1 ? hi : 0xBFu)) return 0;
    }
    return n;
}

/*
 * META (spec §9), byte-wise: first the whole text must be UTF-8 (fails at the first ill-formed
 * sequence), then line by line (lines split on 0x0A only; \r is an ordinary byte; empty lines are
 * skipped; the last \n may be missing): a line needs '=' after a non-empty key (fails at the line),
 * and its key (bytes before the first '=') must differ byte-wise from every earlier key (fails at
 * the later line). No Unicode normalisation.
 */
static void check_meta(rd *r, uint32_t off, uint32_t size)
{
    const uint32_t end = off + size;
    uint32_t i = off, line = off;
    while (i < end) {
        const uint32_t n = utf8_len(r, i, end);
        if (n == 0) { fail(r, SNE_E_FORMAT, i); return; }
        i += n;
    }
    while (line < end) {
        uint32_t eol = line, eq = end, other;
        while (eol < end && byte_at(r, eol) != '\n') { if (eq == end && byte_at(r, eol) == '=') eq = eol; eol++; }
        if (eol > line) {
            if (eq == end || eq == line) { fail(r, SNE_E_FORMAT, line); return; }
            /* duplicate key: compare with every earlier line's key */
            for (other = off; other < line;) {
                uint32_t oe = other, k = 0;
                while (byte_at(r, oe) != '\n' && byte_at(r, oe) != '=') oe++;
                if (byte_at(r, oe) == '=' && oe - other == eq - line) {
                    while (k < eq - line && byte_at(r, other + k) == byte_at(r, line + k)) k++;
                    if (k == eq - line) { fail(r, SNE_E_FORMAT, line); return; }
                }
                while (byte_at(r, other) != '\n') other++;
                other++;
            }
        }
        line = eol + 1u;
    }
}

static int too_long(uint64_t n) { return n > 0xFFFFFFF0u; }

static sne_status load(sne_blob *out, sne_op *ops, uint32_t max_ops, const SNE_FLASH uint8_t *blob, size_t len, rd *r)
{
    sne_model *m = &out->model;
    uint32_t n, i, sec_kind[21], sec_off[21], sec_size[21], prev_end, K = 0, nst = 0, ngate = 0, nhead = 0;
    uint32_t nops_total = 0, gate_sec = 0, head_sec = 0, st_sec[SNE_MAX_STUDENTS], nstem = 0, stem_sec = 0;
    uint32_t stem_nops = 0, stem_base = 0;
    shape stem_out = {0, 0, 0};
    uint32_t L, minor;
    r->b = blob; r->pos = 0; r->st = SNE_OK; r->err = 0;
    if (len < 24u) { fail(r, SNE_E_FORMAT, 0); return r->st; }
    if (too_long(len)) { fail(r, SNE_E_FORMAT, 8); return r->st; }
    L = (uint32_t)len;
    r->end = L;
    if (rd_u8(r) != 'S' || rd_u8(r) != 'N' || rd_u8(r) != 'E' || rd_u8(r) != 'P') { fail(r, SNE_E_FORMAT, 0); return r->st; }
    if (rd_u16(r) != SNE_VERSION_MAJOR) { fail(r, SNE_E_VERSION, 4); return r->st; }
    minor = rd_u16(r);
    if (minor > SNE_VERSION_MINOR) { fail(r, SNE_E_VERSION, 6); return r->st; }
    if (rd_u32(r) != L) { fail(r, SNE_E_FORMAT, 8); return r->st; }
    r->pos = L - 4u;
    if (rd_u32(r) != crc32_of(blob, L - 4u)) { fail(r, SNE_E_CRC, L - 4u); return r->st; }
    /* section table */
    r->pos = 12; r->end = L - 4u;
    n = rd_u32(r);
    if (!need(r, n, 3, 21, 12)) return r->st;
    if (16u + 12u * n > L - 4u) { fail(r, SNE_E_FORMAT, 12); return r->st; }
    prev_end = 16u + 12u * n;
    for (i = 0; i < n; i++) {
        const uint32_t at = 16u + 12u * i;
        sec_kind[i] = rd_u32(r); sec_off[i] = rd_u32(r); sec_size[i] = rd_u32(r);
        /* packed: each section at the first multiple of 4 after the previous one (spec §9) */
        if (r->st != SNE_OK) return r->st;
        if (sec_off[i] != prev_end) { fail(r, SNE_E_FORMAT, at + 4u); return r->st; }
        if (sec_size[i] > L - 4u - sec_off[i]) { fail(r, SNE_E_FORMAT, at + 8u); return r->st; }
        if (sec_kind[i] != 5u && (sec_size[i] & 3u) != 0) { fail(r, SNE_E_FORMAT, at + 8u); return r->st; }
        prev_end = sne_align4(sec_off[i] + sec_size[i]);
        /* kind grammar: 1, 2?, 6?, 3+, 4, 5? (6 STEM only in a 2.2 file) */
        switch (sec_kind[i]) {
        case 1: if (i != 0) { fail(r, SNE_E_FORMAT, at); return r->st; } break;
        case 2: if (i != 1 || ngate++) { fail(r, SNE_E_FORMAT, at); return r->st; } gate_sec = i; break;
        case 6: if (i == 0 || nstem++ || nst || nhead || minor < 2u) { fail(r, SNE_E_FORMAT, at); return r->st; }
            stem_sec = i; break;
        case 3: if (i == 0 || nhead || sec_kind[i - 1] == 5u || nst >= SNE_MAX_STUDENTS) { fail(r, SNE_E_FORMAT, at); return r->st; }
            st_sec[nst++] = i; break;
        case 4: if (nst == 0 || nhead++) { fail(r, SNE_E_FORMAT, at); return r->st; } head_sec = i; break;
        case 5: if (i + 1u != n || nhead == 0) { fail(r, SNE_E_FORMAT, at); return r->st; } break;
        default: fail(r, SNE_E_FORMAT, at); return r->st;
        }
        if (i == 0 && sec_kind[0] != 1u) { fail(r, SNE_E_FORMAT, at); return r->st; }
    }
    if (nhead != 1u || sec_kind[0] != 1u) { fail(r, SNE_E_FORMAT, 12); return r->st; }
    if (prev_end != L - 4u) { fail(r, SNE_E_FORMAT, 16); return r->st; }
    if (sec_kind[n - 1u] == 5u) {   /* META's zero padding (its text is checked last) */
        rd g = *r;
        g.pos = sec_off[n - 1u] + sec_size[n - 1u]; g.end = L - 4u;
        rd_zero(&g, g.end - g.pos);
        if (g.st != SNE_OK) { fail(r, g.st, g.err); return r->st; }
    }
    /* HEADER (84 bytes) */
    {
        const uint32_t h = sec_off[0];
        uint32_t sel, stop, margin, seen = 0, nul = 32;
        if (sec_size[0] != 84u) { fail(r, SNE_E_FORMAT, 8u); return r->st; }
        r->pos = h; r->end = h + 84u;
        for (i = 0; i < 32u; i++) {
            const uint32_t ch = rd_u8(r);
            const int alpha = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '_';
            if (nul == 32u) {
                if (ch == 0) { nul = i; if (i == 0) { fail(r, SNE_E_FORMAT, h); return r->st; } }
                else if (!(alpha || (i > 0 && ch >= '0' && ch <= '9'))) { fail(r, SNE_E_FORMAT, h + i); return r->st; }
                else out->name[i] = (char)ch;
            } else if (ch != 0) { fail(r, SNE_E_FORMAT, h + i); return r->st; }
        }
        if (nul == 32u) { fail(r, SNE_E_FORMAT, h + 31u); return r->st; }
        m->in_h = rd_u16(r); m->in_w = rd_u16(r); m->in_c = rd_u16(r);
        m->timesteps = rd_u16(r); K = rd_u16(r); m->classes = rd_u16(r);
        sel = rd_u8(r); stop = rd_u8(r); rd_zero(r, 2); margin = rd_u32(r);
        need(r, m->in_h, 1, 4096, h + 32u); need(r, m->in_w, 1, 4096, h + 34u); need(r, m->in_c, 1, 4096, h + 36u);
        if (r->st == SNE_OK && (uint64_t)m->in_h * m->in_w * m->in_c > (1ul << 20)) fail(r, SNE_E_FORMAT, h + 32u);
        need(r, m->timesteps, 1, 1024, h + 38u); need(r, K, 1, 16, h + 40u); need(r, m->classes, 2, 1024, h + 42u);
        need(r, sel, 0, 1, h + 44u); need(r, stop, 0, 1, h + 45u);
        need(r, margin, 0, stop ? 0x7FFFFFFFu : 0u, h + 48u);
        for (i = 0; i < 16u; i++) {
            const uint32_t o = rd_u8(r);
            if (r->st != SNE_OK) return r->st;
            if (i < K) {
                if (o >= K || (seen >> o) & 1u) { fail(r, SNE_E_FORMAT, h + 52u + i); return r->st; }
                seen |= 1u << o;
                m->order[i] = (uint8_t)o;
            } else if (o != 0) { fail(r, SNE_E_FORMAT, h + 52u + i); return r->st; }
        }
        for (i = 0; i < 16u; i++) {   /* u8 zero_point[16]: C entries (nonzero only if C <= 16), rest 0 */
            const uint32_t z = rd_u8(r);
            if (r->st != SNE_OK) return r->st;
            if (z != 0 && (i >= m->in_c || m->in_c > 16u)) { fail(r, SNE_E_FORMAT, h + 68u + i); return r->st; }
            m->zero_point[i] = (uint8_t)z;
        }
        m->students_n = K; m->select = sel; m->stop = stop; m->margin = (int32_t)(margin & 0x7FFFFFFFu);
        if ((sel == 1u) != (ngate == 1u) || nst != K) { fail(r, SNE_E_FORMAT, h + 44u); return r->st; }
    }
    m->w8 = (const SNE_FLASH int8_t *)blob;
    m->w32 = NULL;
    /* GATE */
    if (ngate) {
        const uint32_t g0 = sec_off[gate_sec];
        uint32_t pool, layers, expect_in, l;
        r->pos = g0; r->end = g0 + sec_size[gate_sec];
        pool = rd_u8(r); layers = rd_u8(r); rd_zero(r, 2);
        if (r->st != SNE_OK) return r->st;
        if (pool != 1u && pool != 2u && pool != 4u) { fail(r, SNE_E_FORMAT, g0); return r->st; }
        if (m->in_h / pool < 1u || m->in_w / pool < 1u) { fail(r, SNE_E_SHAPE, g0); return r->st; }
        if (!need(r, layers, 1, SNE_MAX_GATE_LAYERS, g0 + 1u)) return r->st;
        expect_in = (m->in_h / pool) * (m->in_w / pool) * m->in_c;
        for (l = 0; l < layers; l++) {
            sne_gate_layer *gl = &out->gate[l];
            const uint32_t at = r->pos, last = l + 1u == layers;
            gl->in = rd_u16(r); gl->out = rd_u16(r);
            {
                const uint32_t mult = rd_u32(r);
                gl->shift = rd_u8(r); rd_zero(r, 3);
                if (r->st != SNE_OK) return r->st;
                if (gl->in != expect_in) { fail(r, SNE_E_FORMAT, at); return r->st; }
                need(r, gl->in, 1, 65535, at);
                if (last) {
                    if (gl->out != K) { fail(r, SNE_E_FORMAT, at + 2u); return r->st; }
                    if (mult != 0u || gl->shift != 0u) { fail(r, SNE_E_FORMAT, at + 4u); return r->st; }
                } else {
                    need(r, gl->out, 1, 65535, at + 2u); need(r, mult, 0, 0x7FFFFFFFu, at + 4u);
                    need(r, gl->shift, 0, 62, at + 8u);
                }
                gl->mult = (int32_t)(mult & 0x7FFFFFFFu);
            }
            gl->w = rd_array(r, (uint64_t)gl->in * gl->out);
            gl->b = rd_array(r, 4ull * gl->out);
            if (r->st != SNE_OK) return r->st;
            (void)syn_bound(r, gl->w, gl->in, gl->out, gl->b, 0, l == 0 ? 255u : 127u, at + 12u);   /* §7.2 */
            if (r->st != SNE_OK) return r->st;
            expect_in = gl->out;
        }
        if (r->pos != r->end) { fail(r, SNE_E_FORMAT, g0); return r->st; }
        m->gate_pool = pool; m->gate_layers = layers;
        m->gate = out->gate;
    } else {
        m->gate = NULL; m->gate_pool = 0; m->gate_layers = 0;
    }
    /* STEM (spec §9, §4.1): u16 ops, u16 reserved, op records. Its descriptors go to the end of the
     * storage while the students are loaded, then right after the students' (sne.h). */
    if (nstem) {
        const uint32_t s0 = sec_off[stem_sec];
        uint32_t j, kind = K_U8;
        uint64_t curmax = 0;
        shape s;
        r->pos = s0; r->end = s0 + sec_size[stem_sec];
        stem_nops = rd_u16(r); rd_zero(r, 2);
        if (!need(r, stem_nops, 2, 65535, s0)) return r->st;
        if (stem_nops > max_ops) { fail(r, SNE_E_CAPACITY, s0); return r->st; }
        stem_base = max_ops - stem_nops;
        s.h = m->in_h; s.w = m->in_w; s.c = m->in_c;
        for (j = 0; j < stem_nops; j++) {
            load_op(r, &ops[stem_base + j], j, stem_nops, &s, &kind, 0u, &curmax, m->timesteps, minor,
                    j > 0 ? ops[stem_base + j - 1u].opcode : 0u, 1, NULL);
            if (r->st != SNE_OK) return r->st;
        }
        if (r->pos != r->end) { fail(r, SNE_E_FORMAT, s0); return r->st; }
        stem_out = s;
    }
    /* STUDENTs */
    for (i = 0; i < K; i++) {
        const uint32_t s0 = sec_off[st_sec[i]];
        sne_student *st = &out->students[i];
        uint32_t nops, features, j, f, kind = K_U8;
        uint64_t curmax = 0;
        shape s;
        r->pos = s0; r->end = s0 + sec_size[st_sec[i]];
        nops = rd_u16(r); features = rd_u16(r);
        need(r, nops, 2, 65535, s0); need(r, features, 1, 4096, s0 + 2u);
        /* i32 feat_mult[F] (each 0..2^31-1), u8 feat_shift[F] (each 0..62) + zero padding (spec §4) */
        st->feat_mult = rd_array(r, 4ull * features);
        st->feat_shift = rd_array(r, features);
        for (f = 0; f < features && r->st == SNE_OK; f++)
            if (i32_at(r, st->feat_mult + 4u * f) < 0) fail(r, SNE_E_FORMAT, st->feat_mult + 4u * f);
        for (f = 0; f < features && r->st == SNE_OK; f++)
            if (byte_at(r, st->feat_shift + f) > 62u) fail(r, SNE_E_FORMAT, st->feat_shift + f);
        if (r->st != SNE_OK) return r->st;
        if (nops > max_ops - stem_nops - nops_total) { fail(r, SNE_E_CAPACITY, s0); return r->st; }
        st->op0 = nops_total; st->nops = nops; st->features = features;
        s.h = m->in_h; s.w = m->in_w; s.c = m->in_c;
        for (j = 0; j < nops; j++) {
            load_op(r, &ops[nops_total + j], j, nops, &s, &kind, features, &curmax, m->timesteps, minor,
                    j > 0 ? ops[nops_total + j - 1u].opcode : 0u, 0, nstem ? &stem_out : NULL);
            if (r->st != SNE_OK) return r->st;
        }
        if (r->pos != r->end) { fail(r, SNE_E_FORMAT, s0); return r->st; }
        nops_total += nops;
    }
    if (nstem) {
        /* §4.1: some student's op 0 is stem; then the stem's descriptors move after the students' */
        uint32_t used = 0;
        for (i = 0; i < K; i++) if (ops[out->students[i].op0].opcode == SNE_OP_STEM) used = 1;
        if (!used) { fail(r, SNE_E_TYPE, sec_off[stem_sec]); return r->st; }
        memmove(&ops[nops_total], &ops[stem_base], sizeof *ops * (size_t)stem_nops);
        m->stem_op0 = nops_total; m->stem_nops = stem_nops;
    }
    m->ops = ops;
    m->students = out->students;
    /* HEAD */
    {
        const uint32_t h0 = sec_off[head_sec];
        uint32_t c, k;
        r->pos = h0; r->end = h0 + sec_size[head_sec];
        if (rd_u16(r) != m->classes) { fail(r, SNE_E_FORMAT, h0); return r->st; }
        rd_zero(r, 2);
        m->head_b = rd_array(r, 4ull * m->classes);
        for (k = 0; k < K; k++) out->students[k].head_w = rd_array(r, (uint64_t)out->students[k].features * m->classes);
        if (r->st != SNE_OK) return r->st;
        if (r->pos != r->end) { fail(r, SNE_E_FORMAT, h0); return r->st; }
        /* §7.5: |bias[c]| + 128 * sum_k sum_i |w_k[i][c]| <= B */
        for (c = 0; c < m->classes; c++) {
            uint64_t a = abs_i32(i32_at(r, m->head_b + 4u * c));
            for (k = 0; k < K; k++) {
                const uint32_t F = out->students[k].features, w = out->students[k].head_w;
                uint32_t f;
                uint64_t sum = 0;
                for (f = 0; f < F; f++) sum += abs_i8(byte_at(r, w + f * m->classes + c));
                a += 128u * sum;
            }
            if (a > B31) { fail(r, SNE_E_BOUND, m->head_b + 4u * c); return r->st; }
        }
    }
    /* META text, last (spec §9 "Loading") */
    if (sec_kind[n - 1u] == 5u) {
        r->pos = sec_off[n - 1u]; r->end = sec_off[n - 1u] + sec_size[n - 1u];
        check_meta(r, sec_off[n - 1u], sec_size[n - 1u]);
    }
    return r->st;
}

sne_status sne_blob_load(sne_blob *out, sne_op *ops, uint32_t max_ops, const SNE_FLASH uint8_t *blob, size_t len)
{
    rd r;
    sne_status s;
    if (out == NULL) return SNE_E_ARG;
    memset(out, 0, sizeof *out);
    if (blob == NULL || (ops == NULL && max_ops != 0)) { out->err_offset = 0; return SNE_E_ARG; }
    s = load(out, ops, max_ops, blob, len, &r);
    if (s != SNE_OK) {
        const uint32_t at = r.err;
        memset(out, 0, sizeof *out);
        if (ops != NULL) memset(ops, 0, sizeof *ops * (size_t)max_ops);
        out->err_offset = at;
    }
    return s;
}
