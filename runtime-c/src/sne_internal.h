/* sne_internal.h - kernels and memory plan shared by sne_run.c, sne_ops.c, sne_blob.c. Internal. */
#ifndef SNE_INTERNAL_H
#define SNE_INTERNAL_H

#include "sne.h"
#include "sne_fixed.h"

/* Arena plan of one student (byte offsets into the arena, all multiples of 4). */
typedef struct sne_plan {
    uint32_t cur0;                 /* int32[size of op 0's output] */
    uint32_t buf[2];               /* ping-pong outputs of ops 1..n-2 */
    uint32_t q;                    /* int8[F] */
    uint32_t end;                  /* total bytes */
} sne_plan;

/* 4-aligned byte size of n elements of `elem` bytes. */
static inline uint32_t sne_align4(uint32_t bytes) { return (bytes + 3u) & ~3u; }

/* int32 element i of the table at `off` (see sne_syn_params.b). */
static inline int32_t sne_ld_i32(const sne_model *m, uint32_t off, uint32_t i)
{
    if (m->w32 != NULL) return SNE_LOAD_I32(m->w32 + off + i);
    {
        const SNE_FLASH int8_t *p = m->w8 + off + 4u * i;
        uint32_t u = (uint32_t)(uint8_t)SNE_LOAD_I8(p) | ((uint32_t)(uint8_t)SNE_LOAD_I8(p + 1) << 8) |
                     ((uint32_t)(uint8_t)SNE_LOAD_I8(p + 2) << 16) | ((uint32_t)(uint8_t)SNE_LOAD_I8(p + 3) << 24);
        return sne_i32_from_u32(u);
    }
}

/*
 * Descriptor reads, field by field (avr-gcc 5.4 miscompiles whole-struct copies from __memx with a
 * variable index, so the runtime never copies a SNE_FLASH struct in one assignment).
 */
static inline void sne_get_op(const sne_model *m, uint32_t i, sne_op *o)
{
    const SNE_FLASH sne_op *p = m->ops + i;
    uint32_t k;
    o->opcode = p->opcode; o->in_h = p->in_h; o->in_w = p->in_w; o->in_c = p->in_c;
    o->out_h = p->out_h; o->out_w = p->out_w; o->out_c = p->out_c;
    for (k = 0; k < SNE_OP_PARAM_WORDS; k++) o->par.word[k] = p->par.word[k];   /* whichever member it holds */
}

/* sne_op is 56 bytes on every target (Sources/SNECodegen/ModelTables.swift opDescriptorBytes). */
typedef char sne_op_size_is_56[sizeof(sne_op) == 56u ? 1 : -1];

static inline void sne_get_student(const sne_model *m, uint32_t k, sne_student *s)
{
    const SNE_FLASH sne_student *p = m->students + k;
    s->op0 = p->op0; s->nops = p->nops; s->features = p->features; s->head_w = p->head_w;
    s->feat_mult = p->feat_mult; s->feat_shift = p->feat_shift;
}

static inline void sne_get_gate(const sne_model *m, uint32_t l, sne_gate_layer *g)
{
    const SNE_FLASH sne_gate_layer *p = m->gate + l;
    g->w = p->w; g->b = p->b; g->in = p->in; g->out = p->out; g->mult = p->mult; g->shift = p->shift;
}

/* Memory plan (spec-independent, mirrored by Sources/SNECodegen/ModelTables.swift ArenaPlan). */
uint32_t sne_plan_ops(const sne_model *m, uint32_t op0, uint32_t nops, uint32_t features, sne_plan *p, uint32_t *state_off);
uint32_t sne_plan_student(const sne_model *m, uint32_t k, sne_plan *p, uint32_t *state_off);
uint32_t sne_stem_row(const sne_model *m);
uint32_t sne_stem_s_bytes(const sne_model *m);
uint32_t sne_plan_gate(const sne_model *m);
uint32_t sne_gate_maxout(const sne_model *m);

/* Kernels (sne_ops.c). `out` regions never alias their input. Each adds its counts to *c.
 * The kernel of every op whose step is K in sne.h SNE_OP_TABLE, declared from the table: one step of
 * the op (spec §3): reads `in` (its input value), writes `out` (its output buffer), keeps its
 * per-inference state in `state` (SNE_OP_TABLE's state column; unused when NONE). */
#define SNE_K_DECL_K(kern) void sne_k_##kern(const sne_model *m, const sne_op *op, const void *in, void *out, \
                                             void *state, sne_counts *c);
#define SNE_K_DECL_INPUT(kern)
#define SNE_K_DECL_LIF(kern)
#define SNE_K_DECL_LLIF(kern)
#define SNE_K_DECL_PASS(kern)
#define SNE_K_DECL_READOUT(kern)
#define SNE_K_DECL_STEM(kern)
#define SNE_K_DECL_(NAME, code, kern, minor, in, out, rec, bound, mem, state, step) SNE_K_DECL_##step(kern)
SNE_OP_TABLE(SNE_K_DECL_)
#undef SNE_K_DECL_
/* The other kernels (input ops, the two traced LIFs, readout, the deployed fast paths, head, gate). */
void sne_k_input_conv2d(const sne_model *m, const sne_op *op, const uint8_t *x, int32_t *out, sne_counts *c);
void sne_k_input_dense(const sne_model *m, const sne_op *op, const uint8_t *x, int32_t *out, sne_counts *c);
void sne_k_lif(const sne_model *m, const sne_op *op, const int32_t *cur, void *v, uint8_t *spk, sne_counts *c);
void sne_k_lif_stem(const sne_model *m, const sne_op *op, const int32_t *cur, uint32_t T, uint32_t pool,
                    uint8_t *out, sne_counts *c);
void sne_k_plane(const uint8_t *mask, uint8_t *plane, uint32_t n, uint32_t t);
void sne_k_lif_pool2(const sne_model *m, const sne_op *op, const int32_t *cur, void *vmem, uint8_t *out, sne_counts *c);
void sne_k_loihi_lif(const sne_model *m, const sne_op *op, const int32_t *cur, int32_t *u, int32_t *v,
                     uint8_t *spk, sne_counts *c);
void sne_k_readout(uint32_t n, const int32_t *cur, int32_t *acc, sne_counts *c);
void sne_k_head(const sne_model *m, const sne_student *st, const int8_t *q, int32_t *logits, sne_counts *c);
void sne_k_gate(const sne_model *m, const uint8_t *x, uint8_t *arena, int32_t *scores, sne_counts *c);

#endif /* SNE_INTERNAL_H */
