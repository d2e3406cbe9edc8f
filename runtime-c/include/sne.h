/*
 * sne.h - the whole public API of the sne C runtime: run one Spike IR 2.0, 2.1 or 2.2 program
 * (docs/spike-ir.md; 2.1 adds the Loihi ops, opcodes 10-12; 2.2 the shared stem, opcode 13 and the
 * STEM section) bit-exactly as the Swift reference interpreter does.
 *
 * C99, freestanding: only <stdint.h>, <stddef.h>, <string.h>; no malloc, no floating
 * point, static memory only. One semantic implementation serves both modes:
 *   - specialized: `sne compile` emits const tables and a const sne_model descriptor;
 *   - blob:        sne_blob_load() validates a .snep image (spec §9 + §7) and fills a
 *                  caller-owned sne_blob whose .model points into the image.
 * Both are then run by sne_init() + sne_infer().
 *
 * Numbers: every tensor is HWC (spec §1). Logits are int32. Counts are uint64 (spec §8:
 * per student per op, exact; they cannot reach 2^64 for any valid program).
 *
 * SNE_TRACE_HASH (compile-time, 0 or 1; default 0): 1 computes the FNV-1a trace hash of spec §8
 * over every spike, membrane, feature and logit (sne_result.trace_hash); 0 compiles the hashing
 * out (trace_hash = 0) -- the deployment default. `sne verify` and the test drivers build with 1.
 */
#ifndef SNE_H
#define SNE_H

#include <stddef.h>
#include <stdint.h>

#include "sne_port.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef SNE_TRACE_HASH
#define SNE_TRACE_HASH 0
#endif

#define SNE_VERSION_MAJOR 2
#define SNE_VERSION_MINOR 2           /* 2.1: the Loihi ops (spec §3.10-§3.12); 2.2: the shared stem (§3.13, §4.1) */
#define SNE_MAX_STUDENTS 16
#define SNE_MAX_ZERO_POINT 16         /* input channels that may have a nonzero zero point (spec §9) */
#define SNE_MAX_GATE_LAYERS 4

/* Status of every fallible call. sne_status_str() gives one line for each. */
typedef enum sne_status {
    SNE_OK = 0,
    SNE_E_ARG = 1,      /* NULL pointer or argument out of range */
    SNE_E_BUDGET = 2,   /* budget k not in 1..K (spec §5) */
    SNE_E_ARENA = 3,    /* arena smaller than sne_arena_size() or not aligned for int32 */
    SNE_E_FORMAT = 4,   /* blob: length, magic, section table, field range, padding, reserved */
    SNE_E_VERSION = 5,  /* blob: major != 2 or minor > 2 (a 1.x file must be recompiled) */
    SNE_E_CRC = 6,      /* blob: CRC-32 mismatch */
    SNE_E_TYPE = 7,     /* blob: a student's op kinds do not chain (spec §3) */
    SNE_E_SHAPE = 8,    /* blob: a shape rule of spec §7.6 fails */
    SNE_E_BOUND = 9,    /* blob: a static bound of spec §7.1-§7.5 or §7.8 fails */
    SNE_E_CAPACITY = 10 /* blob: more op records than the ops storage passed to sne_blob_load */
} sne_status;

/*
 * The op table (spec §3, §9): one line per op. The opcode enum below and everything the runtime
 * knows of an op follow from its line: the loader's checks (sne_blob.c: the version that allows it,
 * its value kinds, its record layout and §7 bound) and the run loop's (sne_run.c: its arena memory
 * and its step). A new op is one line here and its kernel in sne_ops.c. An application needs only
 * the enum; the other columns are read by the runtime's own sources:
 *   NAME, code  SNE_OP_<NAME> = code (spec §9)
 *   kern        the kernel of a K step: sne_k_<kern>(m, op, in, out, state, counts), declared from
 *               this table (sne_internal.h); `-` for an op without one
 *   minor       the 2.x minor version that introduced the op: an older file may not hold it
 *   in, out     value kinds (spec §1, §3): U8, CUR, SPK, FEAT
 *   rec         the record's fields and arrays after its 8-byte header (spec §9; sne_blob.c load_op):
 *               SYN_CONV, SYN_DENSE (int8 w + int32 bias), LIF, POOL (u8 size), SAME (none; output
 *               shape = input shape), FLAT (none; a vector), STEM (none; the stem's shape), LLIF,
 *               LDENSE, LCONV (the Loihi ops)
 *   bound       its §7 static bound on curmax: KEEP (unchanged), ARRAYS (set by its arrays, §7.1,
 *               §7.8), AVGPOOL (§7.3), READOUT (§7.4)
 *   mem         its output buffer in the arena: CUR (int32 per element), SPK (a byte per element),
 *               NONE (flatten passes its input through, readout writes its state, stem reads S[t])
 *   state       its per-inference state: NONE, LIF (2 or 4 bytes per neuron by state_bits), I32
 *               (4 bytes per element), LLIF (v and u, 8 bytes per neuron)
 *   step        what the run loop does with it: INPUT (op 0, once per inference), K (its kernel
 *               each step), LIF, LLIF (a kernel and the trace of spec §8), PASS (flatten), READOUT
 *               (accumulates the features), STEM (op 0: S[t] of the stem)
 * Every switch over sne_opcode is generated from this table with a failing default, so an opcode
 * that has no line (or an unknown byte in a descriptor) is refused, never run as another op, and
 * SNE_VERSION_MINOR must be at least every line's minor (sne_blob.c checks it at compile time).
 */
/*      NAME          code kern          minor in   out   rec        bound    mem   state step */
#define SNE_OP_TABLE(X) \
    X(INPUT_CONV2D,  1,   input_conv2d, 0,    U8,  CUR,  SYN_CONV,  ARRAYS,  CUR,  NONE, INPUT) \
    X(INPUT_DENSE,   2,   input_dense,  0,    U8,  CUR,  SYN_DENSE, ARRAYS,  CUR,  NONE, INPUT) \
    X(CONV2D,        3,   conv2d,       0,    SPK, CUR,  SYN_CONV,  ARRAYS,  CUR,  NONE, K)     \
    X(DENSE,         4,   dense,        0,    SPK, CUR,  SYN_DENSE, ARRAYS,  CUR,  NONE, K)     \
    X(LIF,           5,   -,            0,    CUR, SPK,  LIF,       KEEP,    SPK,  LIF,  LIF)   \
    X(MAXPOOL,       6,   maxpool,      0,    SPK, SPK,  POOL,      KEEP,    SPK,  NONE, K)     \
    X(AVGPOOL,       7,   avgpool,      0,    CUR, CUR,  POOL,      AVGPOOL, CUR,  NONE, K)     \
    X(FLATTEN,       8,   -,            0,    SPK, SPK,  FLAT,      KEEP,    NONE, NONE, PASS)  \
    X(READOUT,       9,   -,            0,    CUR, FEAT, SAME,      READOUT, NONE, I32,  READOUT) \
    X(LOIHI_LIF,     10,  -,            1,    CUR, SPK,  LLIF,      ARRAYS,  SPK,  LLIF, LLIF)  \
    X(LOIHI_DENSE,   11,  loihi_dense,  1,    SPK, CUR,  LDENSE,    ARRAYS,  CUR,  I32,  K)     \
    X(LOIHI_CONV2D,  12,  loihi_conv2d, 1,    SPK, CUR,  LCONV,     ARRAYS,  CUR,  I32,  K)     \
    X(STEM,          13,  -,            2,    U8,  SPK,  STEM,      KEEP,    NONE, NONE, STEM)

/* Opcodes (spec §9), from SNE_OP_TABLE. stem (2.2) is op 0 of a student only; its value at step t
 * is the stem's S[t] (spec §3.13). */
#define SNE_OP_ENUM_(NAME, code, kern, minor, in, out, rec, bound, mem, state, step) SNE_OP_##NAME = code,
typedef enum sne_opcode {
    SNE_OP_TABLE(SNE_OP_ENUM_)
} sne_opcode;
#undef SNE_OP_ENUM_

/* The `student` argument of the trace callback for the shared stem's ops (spec §4.1). */
#define SNE_STEM_INDEX 0xFFFFFFFFu

/*
 * The parameters of an op, one struct per op family (spec §3, §9). Each field has one meaning; a
 * descriptor holds the member of its opcode's family (sne_op.par). Table offsets are element
 * offsets into the model's tables (see sne_model).
 */

/* The window of a conv op (spec §3.1, §3.3, §3.12). */
typedef struct sne_window {
    uint32_t kh, kw;               /* kernel height and width, 1..15 each */
    uint32_t stride;               /* 1..15 */
    uint32_t pad;                  /* zero padding on every side, 0..min(kh, kw)-1 */
} sne_window;

/* input_conv2d, conv2d (spec §3.1, §3.3) and input_dense, dense (§3.2, §3.4). */
typedef struct sne_syn_params {
    uint32_t w;                    /* int8 weights (layout of spec §3.1-§3.4): offset into sne_model.w8 */
    uint32_t b;                    /* int32 bias[out_c]: element offset into w32, or byte offset into w8 when w32 == NULL */
    uint32_t shift;                /* output shift 0..31 */
    sne_window win;                /* conv ops: the window; dense ops: all 0 */
} sne_syn_params;

/* lif (spec §3.5). */
typedef struct sne_lif_params {
    uint32_t theta;                /* int32 theta[out_c] (per channel, 1..2^(state_bits-1)-1), as sne_syn_params.b */
    uint32_t leak;                 /* 0 none, 1 mulshift, 2 shift */
    uint32_t leak_shift;           /* mulshift: s 0..15; shift: s 1..31; none: 0 */
    uint32_t leak_mult;            /* mulshift: m 0..2^s; otherwise 0 */
    uint32_t reset;                /* 0 subtract, 1 zero */
    uint32_t state_bits;           /* membrane width: 16 or 32 */
} sne_lif_params;

/* maxpool, avgpool (spec §3.6, §3.7). */
typedef struct sne_pool_params {
    uint32_t size;                 /* window p: maxpool 2..15, avgpool 2 or 4 */
} sne_pool_params;

/* loihi_lif (spec §3.10). */
typedef struct sne_loihi_lif_params {
    uint32_t bias_mant;            /* int16 LE bias_mant[out_c] (-4096..4095): byte offset into w8 (both modes) */
    uint32_t source;               /* 0 synaptic (after loihi_dense/loihi_conv2d), 1 bias (after the input op) */
    uint32_t du, dv;               /* current and voltage decay, 0..4095 each */
    uint32_t vth;                  /* threshold: the value itself, 0..2^17-1 (not a table offset) */
    uint32_t bias_exp;             /* bias exponent 0..7 */
} sne_loihi_lif_params;

/* loihi_dense (spec §3.11): no bias. */
typedef struct sne_loihi_dense_params {
    uint32_t w;                    /* int8 weights [in][out_c]: offset into w8 */
    int32_t weight_exp;            /* weight exponent -8..7 */
} sne_loihi_dense_params;

/* loihi_conv2d (spec §3.12): no bias, no shift. */
typedef struct sne_loihi_conv2d_params {
    uint32_t w;                    /* int8 weights, layout of conv2d: offset into w8 */
    sne_window win;                /* the window, as conv2d's */
} sne_loihi_conv2d_params;

#define SNE_OP_PARAM_WORDS 7       /* 4-byte words of sne_op_params (its largest member, sne_syn_params) */

/* The parameters of one op: the member named by its opcode's family. flatten, readout and stem
 * (spec §3.8, §3.9, §3.13) have none (all words 0). */
typedef union sne_op_params {
    sne_syn_params syn;            /* SNE_OP_INPUT_CONV2D, SNE_OP_INPUT_DENSE, SNE_OP_CONV2D, SNE_OP_DENSE */
    sne_lif_params lif;            /* SNE_OP_LIF */
    sne_pool_params pool;          /* SNE_OP_MAXPOOL, SNE_OP_AVGPOOL */
    sne_loihi_lif_params loihi_lif;        /* SNE_OP_LOIHI_LIF */
    sne_loihi_dense_params loihi_dense;    /* SNE_OP_LOIHI_DENSE */
    sne_loihi_conv2d_params loihi_conv2d;  /* SNE_OP_LOIHI_CONV2D */
    uint32_t word[SNE_OP_PARAM_WORDS];     /* the same bytes as raw words: only to copy a descriptor word by word */
} sne_op_params;

/*
 * One op descriptor. Pointer-free and made only of 4-byte fields, so its size (56 bytes) and
 * layout are the same on every target. stem: in and out shape = the stem's output shape (spec §3.13).
 */
typedef struct sne_op {
    uint32_t opcode;               /* SNE_OP_* */
    uint32_t in_h, in_w, in_c;     /* input shape */
    uint32_t out_h, out_w, out_c;  /* output shape (spec §3) */
    sne_op_params par;             /* the parameters of the opcode's family */
} sne_op;

/* One student (spec §3, §4): ops[op0 .. op0+nops-1]. 24 bytes everywhere. */
typedef struct sne_student {
    uint32_t op0, nops;
    uint32_t features;             /* F */
    uint32_t head_w;               /* head matrix w_k[F][classes]: offset into w8 */
    uint32_t feat_mult;            /* int32 feat_mult[F] (each 0..2^31-1), as sne_syn_params.b */
    uint32_t feat_shift;           /* uint8 feat_shift[F] (each 0..62): offset into w8 */
} sne_student;

/* One gate layer (spec §5.1). 24 bytes everywhere. */
typedef struct sne_gate_layer {
    uint32_t w, b;                 /* w8 offset of w[in][out]; bias as sne_syn_params.b */
    uint32_t in, out;
    int32_t mult;                  /* hidden layers: requant multiplier; last: 0 */
    uint32_t shift;
} sne_gate_layer;

/*
 * A validated program. Produced by `sne compile` (const, in flash) or by sne_blob_load().
 * Never build one by hand: the runtime trusts every field (the loader and the Swift
 * validator establish spec §7).
 */
typedef struct sne_model {
    const SNE_FLASH int8_t *w8;       /* every int8 table (blob mode: the blob bytes) */
    const SNE_FLASH int32_t *w32;     /* every int32 table; NULL in blob mode (read LE from w8) */
    const SNE_FLASH sne_op *ops;
    const SNE_FLASH sne_student *students;
    const SNE_FLASH sne_gate_layer *gate;  /* gate_layers entries, or NULL */
    uint32_t in_h, in_w, in_c;
    uint32_t timesteps, students_n, classes;
    uint32_t select;                  /* 0 fixed, 1 gate */
    uint32_t stop;                    /* 0 off, 1 margin */
    int32_t margin;
    uint32_t gate_pool, gate_layers;
    uint32_t head_b;                  /* head bias[classes], as sne_syn_params.b */
    uint32_t stem_op0, stem_nops;     /* the shared stem (spec §4.1): ops[stem_op0 .. stem_op0+stem_nops-1],
                                         placed after every student's ops; stem_nops = 0: no stem */
    uint8_t order[SNE_MAX_STUDENTS];  /* fixed run order */
    uint8_t zero_point[SNE_MAX_ZERO_POINT]; /* input zero point per channel (spec §3.1); 0 beyond in_c */
} sne_model;

/* Operation counts (spec §8), exact. */
typedef struct sne_counts {
    uint64_t synops, macs, neuron_updates;
} sne_counts;

/* Optional per-step trace callback: one call per lif or loihi_lif op per step, after reset (spec §8
 * full trace; loihi_lif passes its voltages v as int32, state_bits 32).
 * student: index, or SNE_STEM_INDEX for the shared stem's ops (called when the stem runs, before the
 * student that triggered it); op: index of the lif op in the student (or stem); t: step; n neurons in HWC order;
 * spikes: 0/1 per neuron; membranes: int16 (state_bits 16) or int32 per neuron. */
typedef void (*sne_trace_fn)(void *user, uint32_t student, uint32_t op, uint32_t t, uint32_t n,
                             const uint8_t *spikes, const void *membranes, uint32_t state_bits);

/* Runtime state; fill with sne_init(). */
typedef struct sne_ctx {
    const sne_model *m;
    uint8_t *arena;
    size_t arena_bytes;
    sne_trace_fn trace;               /* NULL (default) or a callback */
    void *trace_user;
    sne_counts *op_counts;            /* NULL (default) or sne_op_count(m) entries: per-op counts of the
                                         last inference, indexed like m->ops (student k's op j at
                                         students[k].op0 + j; stem op j at stem_op0 + j, after every
                                         student's ops); students not run and a stem not run get zeros (spec §8) */
} sne_ctx;

/* What one inference returns besides the logits (spec §8). */
typedef struct sne_result {
    uint32_t prediction;              /* lowest index of the maximal logit */
    uint32_t n_active;                /* students actually run */
    uint8_t active[SNE_MAX_STUDENTS]; /* their indices in run order */
    int32_t gate_scores[SNE_MAX_STUDENTS]; /* select = gate: all K scores; else zeros */
    sne_counts counts;                /* totals: students + stem + gate + head */
    sne_counts gate_counts;           /* gate: macs, synops (spec §5.1) */
    sne_counts head_counts;           /* head: macs (spec §6) */
    sne_counts stem_counts;           /* the shared stem (spec §4.1, §8); zeros when it did not run */
    uint32_t trace_hash;              /* FNV-1a 32 over the trace byte stream (spec §8); 0 unless SNE_TRACE_HASH */
} sne_result;

/* Number of op descriptors of m over all students and the stem (the length ctx->op_counts must have). */
uint32_t sne_op_count(const sne_model *m);

/* Bytes of arena sne_init() needs for `m` (a multiple of 4; static-memory plan, no malloc); 0 when an
 * op has an opcode this runtime does not know. */
size_t sne_arena_size(const sne_model *m);

/* Binds ctx to m and an arena of `bytes` bytes, aligned for int32 (e.g. an int32_t array). Returns
 * SNE_E_ARG for NULLs, SNE_E_FORMAT when an op descriptor has an opcode this runtime does not know,
 * SNE_E_ARENA when bytes < sne_arena_size(m) or the arena is misaligned. */
sne_status sne_init(sne_ctx *ctx, const sne_model *m, void *arena, size_t bytes);

/*
 * One inference (spec §4-§6). input: in_h*in_w*in_c uint8, HWC. budget: k, 1..K, else
 * SNE_E_BUDGET and no output. logits: `classes` int32 written on success. res may be NULL.
 * Exact arithmetic: all of spec §1-§8 (integer only; rshr round-half-up; saturation only where
 * the spec states it).
 */
sne_status sne_infer(sne_ctx *ctx, const uint8_t *input, int32_t budget, int32_t *logits,
                     sne_result *res);

/* One line describing s (never NULL). */
const char *sne_status_str(sne_status s);

/*
 * Blob mode: storage for a loaded program. The model's tables point into the blob, which
 * must stay alive and unchanged while the model is used.
 */
typedef struct sne_blob {
    sne_model model;
    sne_student students[SNE_MAX_STUDENTS];
    sne_gate_layer gate[SNE_MAX_GATE_LAYERS];
    uint32_t err_offset;              /* on failure: byte offset of the offending field */
    char name[32];                    /* program name, NUL-terminated */
} sne_blob;

/*
 * Validates blob[0..len) as a .snep 2.0, 2.1 or 2.2 image in the order of spec §9 "Loading" (length, magic,
 * version, size, CRC, section table, fields, padding/reserved, typing, shapes, §7 bounds) and
 * fills out->model, with the op descriptors in ops[0..max_ops) (caller-owned static storage: a blob with
 * more op records, students' and stem's together, fails with SNE_E_CAPACITY; the stem's ops end up
 * after the students', as in the emitted tables). Never reads outside [blob, blob+len) nor writes outside
 * *out and ops[0..max_ops). On failure
 * returns the status, sets out->err_offset, and leaves out->model zeroed (unusable).
 * Blob bytes are read through SNE_LOAD_U8, so on AVR the blob may be in flash.
 */
sne_status sne_blob_load(sne_blob *out, sne_op *ops, uint32_t max_ops, const SNE_FLASH uint8_t *blob, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* SNE_H */
