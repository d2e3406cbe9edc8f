/*
 * sne_run.c - the program walker (Spike IR 2.0, 2.1 and 2.2): memory plan, init, inference with budget, selection (spec §5),
 * the shared stem, run lazily at most once (spec §4.1), head + confidence stop (spec §6), counts and the
 * FNV-1a trace hash (spec §8).
 *
 * The trace hash is compiled in only with SNE_TRACE_HASH=1 (sne.h): HASH_*() below expand to
 * nothing otherwise, so a deployment build pays nothing for it.
 */
#include <string.h>

#include "sne_internal.h"

#if SNE_TRACE_HASH
#define HASH_BYTE(h, b) ((h) = sne_fnv1a((h), (b)))
#define HASH_I32(h, v) ((h) = sne_fnv1a_i32((h), (v)))
#else
#define HASH_BYTE(h, b) ((void)0)
#define HASH_I32(h, v) ((void)0)
#endif

/*
 * The memory of one op (spec §3), from the mem and state columns of its line in sne.h SNE_OP_TABLE,
 * for n = out_h * out_w * out_c output elements: *out = bytes of its output tensor in a ping-pong
 * buffer (CUR: 4n, SPK: n, rounded up to 4; NONE: 0 -- flatten passes its input through, readout
 * writes its state, stem reads S[t] in the stem's region), *state = bytes of its state (LIF: lif
 * membranes, 2 or 4 per neuron by state_bits, rounded up to 4; I32: 4n -- readout accumulators,
 * Loihi synaptic pending outputs; LLIF: loihi_lif v and u, 8n; NONE: 0). Returns 0 (and 0 bytes)
 * for an opcode this runtime does not know.
 */
#define MEM_CUR(op, n) sne_align4(4u * (n))
#define MEM_SPK(op, n) sne_align4(n)
#define MEM_NONE(op, n) 0u
#define MEM_LIF(op, n) sne_align4(((op)->par.lif.state_bits == 16u ? 2u : 4u) * (n))
#define MEM_I32(op, n) (4u * (n))
#define MEM_LLIF(op, n) (8u * (n))
static int op_memory(const sne_op *op, uint32_t *out, uint32_t *state)
{
    const uint32_t n = op->out_h * op->out_w * op->out_c;
#define OP_MEMORY_(NAME, code_, kern_, minor_, in_, out_, rec_, bound_, mem_, state_, step_) \
    case SNE_OP_##NAME: *out = MEM_##mem_(op, n); *state = MEM_##state_(op, n); return 1;
    switch ((sne_opcode)op->opcode) {
    SNE_OP_TABLE(OP_MEMORY_)
    default: *out = 0; *state = 0; return 0;
    }
#undef OP_MEMORY_
}

/*
 * Memory plan of an op list ops[op0 .. op0+nops-1] with F features: student k's (F = its features) or
 * the stem's (F = 0). Mirrored exactly by ArenaPlan in Sources/SNECodegen/ModelTables.swift:
 *   [cur0: int32 x size(op0 out)] [bufA] [bufB] [q: int8 x F] [states, in op order]
 * Ops 1..n-1 that produce a tensor (all but flatten and readout) write alternately to bufA and
 * bufB (flatten passes its input through); bufA/bufB are sized by the largest output they hold
 * (4 bytes per CUR element, 1 per SPK element). States: lif membranes (2 or 4 bytes per neuron),
 * readout accumulators (4 bytes), loihi_lif v then u (4 + 4 bytes per neuron), loihi_dense /
 * loihi_conv2d pending outputs (4 bytes per element). Every region is rounded up to a multiple of 4 bytes.
 * A student whose op 0 is `stem` has cur0 of 0 bytes: it reads S[t] from the stem's region.
 * Returns the total bytes; *state_off (may be NULL) receives the offset of the first state.
 */
uint32_t sne_plan_ops(const sne_model *m, uint32_t op0, uint32_t nops, uint32_t features, sne_plan *p, uint32_t *state_off)
{
    uint32_t j, which = 2u, sz[2] = {0, 0}, states = 0, off;
    p->cur0 = 0; p->buf[0] = 0;
    for (j = 0; j < nops; j++) {
        sne_op op;
        uint32_t bytes, state;
        sne_get_op(m, op0 + j, &op);
        if (!op_memory(&op, &bytes, &state)) return 0;          /* unknown opcode: no plan */
        if (j == 0) { p->cur0 = 0; off = bytes; p->buf[0] = off; continue; }
        states += state;
        if (bytes == 0u) continue;                               /* flatten, readout */
        which = which == 0u ? 1u : 0u;
        if (bytes > sz[which]) sz[which] = bytes;
    }
    off = p->buf[0];
    p->buf[1] = off + sz[0];
    p->q = p->buf[1] + sz[1];
    off = p->q + sne_align4(features);
    if (state_off != NULL) *state_off = off;
    p->end = off + states;
    return p->end;
}

uint32_t sne_plan_student(const sne_model *m, uint32_t k, sne_plan *p, uint32_t *state_off)
{
    sne_student st;
    sne_get_student(m, k, &st);
    return sne_plan_ops(m, st.op0, st.nops, st.features, p, state_off);
}

/* The stem's output S (spec §4.1): T rows S[0..T-1], one byte (0/1) per spike of its last op's
 * output, each row rounded up to a multiple of 4 bytes. sne_stem_row: bytes of one row (0 without a
 * stem); sne_stem_s_bytes: T rows. S sits at the end of the arena, after the largest of the gate's,
 * every student's and the stem's own working plan, so it survives the students run after the stem. */
uint32_t sne_stem_row(const sne_model *m)
{
    sne_op last;
    if (m->stem_nops == 0u) return 0;
    sne_get_op(m, m->stem_op0 + m->stem_nops - 1u, &last);
    return sne_align4(last.out_h * last.out_w * last.out_c);
}

uint32_t sne_stem_s_bytes(const sne_model *m) { return m->timesteps * sne_stem_row(m); }

/* Gate plan: [acc: int32 x maxout] [act0, act1: uint8 x maxout, each 4-rounded] [pooled input, if pool > 1]. */
uint32_t sne_gate_maxout(const sne_model *m)
{
    uint32_t l, maxout = 0;
    for (l = 0; l < m->gate_layers; l++) {
        sne_gate_layer gl;
        sne_get_gate(m, l, &gl);
        if (gl.out > maxout) maxout = gl.out;
    }
    return maxout;
}

uint32_t sne_plan_gate(const sne_model *m)
{
    uint32_t maxout, bytes;
    if (m->select != 1u) return 0;
    maxout = sne_gate_maxout(m);
    bytes = 4u * maxout + 2u * sne_align4(maxout);
    if (m->gate_pool > 1u) bytes += sne_align4((m->in_h / m->gate_pool) * (m->in_w / m->gate_pool) * m->in_c);
    return bytes;
}

uint32_t sne_op_count(const sne_model *m)
{
    sne_student st;
    if (m == NULL || m->students_n == 0u) return 0;
    if (m->stem_nops != 0u) return m->stem_op0 + m->stem_nops;   /* the stem's ops come last */
    sne_get_student(m, m->students_n - 1u, &st);
    return st.op0 + st.nops;
}

size_t sne_arena_size(const sne_model *m)
{
    uint32_t k, best;
    sne_plan p;
    if (m == NULL) return 0;
    best = sne_plan_gate(m);
    for (k = 0; k < m->students_n; k++) {
        const uint32_t b = sne_plan_student(m, k, &p, NULL);
        if (b == 0u) return 0;                                   /* an unknown opcode */
        if (b > best) best = b;
    }
    if (m->stem_nops != 0u) {                                    /* the stem's working plan, then S after everything */
        const uint32_t b = sne_plan_ops(m, m->stem_op0, m->stem_nops, 0u, &p, NULL);
        if (b == 0u) return 0;
        if (b > best) best = b;
        best += sne_stem_s_bytes(m);
    }
    return (size_t)best;
}

/* Alignment int32 needs on this target (4 on 32/64-bit targets, 1 on AVR), in C99. */
struct sne_align_probe { char c; int32_t x; };
#define SNE_ALIGN_I32 ((uintptr_t)offsetof(struct sne_align_probe, x))

sne_status sne_init(sne_ctx *ctx, const sne_model *m, void *arena, size_t bytes)
{
    if (ctx == NULL || m == NULL || arena == NULL) return SNE_E_ARG;
    if (sne_arena_size(m) == 0u) return SNE_E_FORMAT;             /* an op this runtime does not know */
    if (bytes < sne_arena_size(m) || ((uintptr_t)arena % SNE_ALIGN_I32) != 0) return SNE_E_ARENA;
    ctx->m = m;
    ctx->arena = (uint8_t *)arena;
    ctx->arena_bytes = bytes;
    ctx->trace = NULL;
    ctx->trace_user = NULL;
    ctx->op_counts = NULL;
    return SNE_OK;
}

/* *total += *c, and the per-op slot (if the caller asked for per-op counts) += *c. */
static void add_counts(sne_counts *total, sne_counts *slot, const sne_counts *c)
{
    total->synops += c->synops; total->macs += c->macs; total->neuron_updates += c->neuron_updates;
    if (slot != NULL) {
        slot->synops += c->synops; slot->macs += c->macs; slot->neuron_updates += c->neuron_updates;
    }
}

/* A lif step (spec §3.5): the kernel, then its spikes and membranes into *h (spec §8) and the trace
 * callback. state: the membranes (int16 or int32 by state_bits). */
static int step_lif(sne_ctx *ctx, const sne_op *op, uint32_t who, uint32_t j, uint32_t t, const void *val,
                    void *dst, void *state, uint32_t *h, sne_counts *oc)
{
    const uint32_t n = op->out_h * op->out_w * op->out_c;
    const uint8_t *spk = (const uint8_t *)dst;
    uint32_t i;
    (void)h; (void)i; (void)n;
    sne_k_lif(ctx->m, op, (const int32_t *)val, state, (uint8_t *)dst, oc);
#if SNE_TRACE_HASH
    for (i = 0; i < n; i++) HASH_BYTE(*h, spk[i]);
    if (op->par.lif.state_bits == 16u) {
        const int16_t *vv = (const int16_t *)state;
        for (i = 0; i < n; i++) HASH_I32(*h, vv[i]);
    } else {
        const int32_t *vv = (const int32_t *)state;
        for (i = 0; i < n; i++) HASH_I32(*h, vv[i]);
    }
#endif
    if (ctx->trace != NULL) ctx->trace(ctx->trace_user, who, j, t, n, spk, state, op->par.lif.state_bits);
    return 1;
}

/* A loihi_lif step (spec §3.10): the kernel, then its spikes, every v (after reset), then every u
 * into *h (spec §8) and the trace callback (v as int32). state: v[n] then u[n]. */
static int step_loihi_lif(sne_ctx *ctx, const sne_op *op, uint32_t who, uint32_t j, uint32_t t, const void *val,
                          void *dst, void *state, uint32_t *h, sne_counts *oc)
{
    const uint32_t n = op->out_h * op->out_w * op->out_c;
    int32_t *v = (int32_t *)state, *u = v + n;
    const uint8_t *spk = (const uint8_t *)dst;
    uint32_t i;
    (void)h; (void)i;
    sne_k_loihi_lif(ctx->m, op, (const int32_t *)val, u, v, (uint8_t *)dst, oc);
    for (i = 0; i < n; i++) HASH_BYTE(*h, spk[i]);
    for (i = 0; i < n; i++) HASH_I32(*h, v[i]);
    for (i = 0; i < n; i++) HASH_I32(*h, u[i]);
    if (ctx->trace != NULL) ctx->trace(ctx->trace_user, who, j, t, n, spk, v, 32u);
    return 1;
}

/*
 * One step of a spiking op (spec §3.3-§3.7, §3.10-§3.12) of student `who` (or SNE_STEM_INDEX), op j,
 * step t, by the step column of its line in sne.h SNE_OP_TABLE: reads val, writes dst, keeps its
 * state in `state`; adds its counts to *oc. K: its kernel sne_k_<kern>; LIF, LLIF: the kernel and
 * the trace (spec §8). Returns 0 for an op it does not run (INPUT and STEM: op 0 only; PASS and
 * READOUT: run by the callers) and for an unknown opcode.
 */
#define STEP_K(NAME, kern_) case SNE_OP_##NAME: sne_k_##kern_(ctx->m, op, val, dst, state, oc); return 1;
#define STEP_LIF(NAME, kern_) case SNE_OP_##NAME: return step_lif(ctx, op, who, j, t, val, dst, state, h, oc);
#define STEP_LLIF(NAME, kern_) case SNE_OP_##NAME: return step_loihi_lif(ctx, op, who, j, t, val, dst, state, h, oc);
#define STEP_INPUT(NAME, kern_) case SNE_OP_##NAME: return 0;
#define STEP_STEM(NAME, kern_) case SNE_OP_##NAME: return 0;
#define STEP_PASS(NAME, kern_) case SNE_OP_##NAME: return 0;
#define STEP_READOUT(NAME, kern_) case SNE_OP_##NAME: return 0;
static int step_op(sne_ctx *ctx, const sne_op *op, uint32_t who, uint32_t j, uint32_t t, const void *val,
                   void *dst, void *state, uint32_t *h, sne_counts *oc)
{
#define STEP_(NAME, code_, kern_, minor_, in_, out_, rec_, bound_, mem_, state_, step_) STEP_##step_(NAME, kern_)
    switch ((sne_opcode)op->opcode) {
    SNE_OP_TABLE(STEP_)
    default: return 0;                                   /* not a valid program: sne_init refuses it */
    }
#undef STEP_
}

/*
 * Op 0 of a student or of the stem, once per inference (spec §3.1, §3.2), by the step column of its
 * line in SNE_OP_TABLE: INPUT runs its kernel sne_k_<kern>(m, op, input, cur0, oc) and returns 1;
 * STEM does nothing here and returns 2 (spec §3.13: the student reads S[t] at step t); any other op
 * (not an input op, spec §3 typing) or an unknown opcode returns 0.
 */
#define OP0_INPUT(NAME, kern_) case SNE_OP_##NAME: sne_k_##kern_(m, op, input, cur0, oc); return 1;
#define OP0_STEM(NAME, kern_) case SNE_OP_##NAME: return 2;
#define OP0_K(NAME, kern_) case SNE_OP_##NAME: return 0;
#define OP0_LIF(NAME, kern_) case SNE_OP_##NAME: return 0;
#define OP0_LLIF(NAME, kern_) case SNE_OP_##NAME: return 0;
#define OP0_PASS(NAME, kern_) case SNE_OP_##NAME: return 0;
#define OP0_READOUT(NAME, kern_) case SNE_OP_##NAME: return 0;
static int op0_run(const sne_model *m, const sne_op *op, const uint8_t *input, int32_t *cur0, sne_counts *oc)
{
#define OP0_(NAME, code_, kern_, minor_, in_, out_, rec_, bound_, mem_, state_, step_) OP0_##step_(NAME, kern_)
    switch ((sne_opcode)op->opcode) {
    SNE_OP_TABLE(OP0_)
    default: return 0;
    }
#undef OP0_
}

/*
 * Spec §4.1: the shared stem, all T steps, once per inference: currents0 = stem[0](input); then per
 * step value = currents0, value = stem[j](value) for j = 1..m-1, S[t] = value (the last op's spikes,
 * one byte each) copied to row t of S at `s` (sne_stem_row bytes per row). Uses the arena below S as
 * its working plan (sne_plan_ops with F = 0); its states start at 0. Hashes its lif / loihi_lif ops
 * per step into *h (spec §8: exactly a student's per-step bytes, no features); adds its counts to
 * *total, *stem_total and per op to ctx->op_counts[stem_op0 + j]. Returns 0 for a program it cannot run.
 */
static int run_stem(sne_ctx *ctx, const uint8_t *input, uint8_t *s, uint32_t *h, sne_counts *total, sne_counts *stem_total)
{
    const sne_model *m = ctx->m;
    uint8_t *ar = ctx->arena;
    int32_t *cur0 = (int32_t *)(void *)ar;
    sne_counts *const slots = ctx->op_counts;
    const uint32_t op0 = m->stem_op0, nops = m->stem_nops, row = sne_stem_row(m);
    sne_plan p;
    sne_op op;
    uint32_t state0, t, j, size;
    sne_counts oc;
    if (nops < 2u || sne_plan_ops(m, op0, nops, 0u, &p, &state0) == 0u) return 0;
    sne_get_op(m, op0 + nops - 1u, &op);
    size = op.out_h * op.out_w * op.out_c;
    sne_get_op(m, op0, &op);
    oc.synops = 0; oc.macs = 0; oc.neuron_updates = 0;
    if (op0_run(m, &op, input, cur0, &oc) != 1) return 0;   /* op 0 of the stem is an input op (spec §4.1) */
    add_counts(total, slots != NULL ? &slots[op0] : NULL, &oc);
    add_counts(stem_total, NULL, &oc);
    memset(ar + state0, 0, (size_t)(p.end - state0));       /* every state is 0 at the start */
    for (t = 0; t < m->timesteps; t++) {
        const void *val = cur0;
        uint32_t which = 2u, soff = state0;
        for (j = 1; j < nops; j++) {
            uint32_t out_bytes, state_bytes;
            void *dst, *state;
            sne_get_op(m, op0 + j, &op);
            if (!op_memory(&op, &out_bytes, &state_bytes)) return 0;
            state = ar + soff;
            soff += state_bytes;
            if (op.opcode == SNE_OP_FLATTEN) continue;          /* passes its input through (§3.8) */
            which = which == 0u ? 1u : 0u;
            dst = ar + p.buf[which];
            oc.synops = 0; oc.macs = 0; oc.neuron_updates = 0;
            if (!step_op(ctx, &op, SNE_STEM_INDEX, j, t, val, dst, state, h, &oc)) return 0;
            add_counts(total, slots != NULL ? &slots[op0 + j] : NULL, &oc);
            add_counts(stem_total, NULL, &oc);
            val = dst;
        }
        memcpy(s + (size_t)t * row, val, (size_t)size);      /* S[t]: the last op's spikes */
    }
    return 1;
}

/* Spec §4: run student k; leaves q (int8[F]) in the arena, hashes its trace into *h (SNE_TRACE_HASH),
 * adds its counts to *total and, per op, to ctx->op_counts (if set). A student whose op 0 is `stem`
 * reads S[t] from `stem_s` (the stem has run; NULL otherwise) at step t and costs nothing for op 0. */
static const int8_t *run_student(sne_ctx *ctx, uint32_t k, const uint8_t *input, const uint8_t *stem_s,
                                 uint32_t *h, sne_counts *total)
{
    const sne_model *m = ctx->m;
    sne_student st;
    uint8_t *ar = ctx->arena;
    sne_plan p;
    uint32_t state0, t, j, i;
    int32_t *cur0 = (int32_t *)(void *)ar, *facc = NULL;
    int8_t *q;
    sne_counts oc;
    sne_counts *const slots = ctx->op_counts;
    uint8_t *planes = NULL;                 /* the stem's bit masks, then one plane (deployed builds), else NULL */
    uint32_t plane_n = 0, first = 1u;       /* bytes of masks (and of the plane); the first op the step loop runs */
    uint32_t zero0;                         /* states are zeroed from here (after the LIF stem's region) */
    const uint32_t row = sne_stem_row(m);   /* bytes of one row S[t] of the shared stem's output */
    int from_stem = 0;
    (void)h; (void)planes; (void)plane_n;
    sne_get_student(m, k, &st);
    if (sne_plan_student(m, k, &p, &state0) == 0u) return NULL;   /* an op this runtime does not know */
    zero0 = state0;
    q = (int8_t *)(ar + p.q);
    {
        sne_op op0;
        sne_get_op(m, st.op0, &op0);
        oc.synops = 0; oc.macs = 0; oc.neuron_updates = 0;
        SNE_PROF(0u);
        switch (op0_run(m, &op0, input, cur0, &oc)) {
        case 1: break;                                          /* an input op (spec §3.1, §3.2) */
        case 2:                                                 /* spec §3.13: S[t] of the stem, no work */
            if (stem_s == NULL) return NULL;
            from_stem = 1;
            break;
        default: return NULL;                                   /* not an op 0 (spec §3 typing) */
        }
        add_counts(total, slots != NULL ? &slots[st.op0] : NULL, &oc);
    }
#if !SNE_TRACE_HASH
    /* Deployed builds with no trace callback: when op 1 is a lif, its input (op 0's output) is the
     * same at every step, so it runs all T steps at once (sne_k_lif_stem), with a following maxpool
     * of size 2 folded in, into one bit mask per output element kept in op 1's own state region (its membranes
     * are never observed here), followed by the plane of step t's 0/1 spikes made from it
     * (sne_k_plane); the step loop below then starts after them. Used when both fit. */
    if (ctx->trace == NULL && !from_stem && st.nops >= 3u && m->timesteps <= 8u) {
        sne_op o1, o2;
        sne_get_op(m, st.op0 + 1u, &o1);
        sne_get_op(m, st.op0 + 2u, &o2);
        uint32_t out1, state1;
        if (o1.opcode == SNE_OP_LIF && op_memory(&o1, &out1, &state1)) {
            const uint32_t pool = o2.opcode == SNE_OP_MAXPOOL ? o2.par.pool.size : 0u;
            const uint32_t pn = pool != 0u ? o2.out_h * o2.out_w * o2.out_c : o1.out_h * o1.out_w * o1.out_c;
            if ((pool == 0u || pool == 2u) && 2u * sne_align4(pn) <= state1) {
                planes = ar + state0;
                plane_n = pn;
                zero0 = state0 + state1;
                first = pool != 0u ? 3u : 2u;
                oc.synops = 0; oc.macs = 0; oc.neuron_updates = 0;
                SNE_PROF(1u);
                sne_k_lif_stem(m, &o1, cur0, m->timesteps, pool, planes, &oc);
                add_counts(total, slots != NULL ? &slots[st.op0 + 1u] : NULL, &oc);
            }
        }
    }
#endif
    memset(ar + zero0, 0, (size_t)(p.end - zero0));         /* every state is 0 at the start (§3.5, §3.9, §3.10-§3.12) */
    for (t = 0; t < m->timesteps; t++) {
        const void *val = from_stem ? (const void *)(stem_s + (size_t)t * row) : (const void *)cur0;
        uint32_t which = 2u, soff = state0;
        for (j = 1; j < st.nops; j++) {
            sne_op op;
            uint32_t n, out_bytes, state_bytes;
            void *dst, *state;
            sne_get_op(m, st.op0 + j, &op);
            if (!op_memory(&op, &out_bytes, &state_bytes)) return NULL;   /* sne_init refuses such a program */
            n = op.out_h * op.out_w * op.out_c;
            state = ar + soff;                 /* this op's state (the plan's order), if it has one */
            soff += state_bytes;
            if (op.opcode == SNE_OP_FLATTEN) continue;
            if (j < first) {              /* run by the stem: same buffer and state walk, output = plane t */
                which = which == 0u ? 1u : 0u;
                if (j + 1u == first) {
                    SNE_PROF(j);
                    sne_k_plane(planes, planes + sne_align4(plane_n), plane_n, t);
                }
                val = planes + sne_align4(plane_n);
                continue;
            }
            SNE_PROF(j);
            oc.synops = 0; oc.macs = 0; oc.neuron_updates = 0;
            if (op.opcode == SNE_OP_READOUT) {
                facc = (int32_t *)state;
                sne_k_readout(n, (const int32_t *)val, facc, &oc);
                add_counts(total, slots != NULL ? &slots[st.op0 + j] : NULL, &oc);
                continue;
            }
            which = which == 0u ? 1u : 0u;
            dst = ar + p.buf[which];
#if !SNE_TRACE_HASH
            if (op.opcode == SNE_OP_LIF && ctx->trace == NULL && j + 1u < st.nops) {
                /* deployed build, no trace: a lif and the maxpool after it in one pass; the pooled
                 * spikes go where the maxpool writes them (the other buffer). */
                sne_op pool;
                sne_get_op(m, st.op0 + j + 1u, &pool);
                if (pool.opcode == SNE_OP_MAXPOOL && pool.par.pool.size == 2u) {
                    which = which == 0u ? 1u : 0u;
                    dst = ar + p.buf[which];
                    sne_k_lif_pool2(m, &op, (const int32_t *)val, state, (uint8_t *)dst, &oc);
                    add_counts(total, slots != NULL ? &slots[st.op0 + j] : NULL, &oc);
                    val = dst;
                    j++;
                    continue;
                }
            }
#endif
            if (!step_op(ctx, &op, k, j, t, val, dst, state, h, &oc)) return NULL;   /* sne_init refuses such a program */
            add_counts(total, slots != NULL ? &slots[st.op0 + j] : NULL, &oc);
            val = dst;
        }
    }
    /* §4: features f = readout accumulators; q[i] = requant(f[i], feat_mult[i], feat_shift[i], -128, 127);
     * F multiplies, attributed to the readout op (the last). */
    SNE_PROF(SNE_PROF_FEATURES);
    for (i = 0; i < st.features; i++) HASH_I32(*h, facc[i]);
    for (i = 0; i < st.features; i++) {
        const int32_t fm = sne_ld_i32(m, st.feat_mult, i);
        const uint32_t fs = (uint32_t)(uint8_t)SNE_LOAD_I8(m->w8 + st.feat_shift + i);
        q[i] = (int8_t)sne_requant(facc[i], fm, fs, -128, 127);
        HASH_BYTE(*h, (uint8_t)q[i]);
    }
    oc.synops = 0; oc.macs = st.features; oc.neuron_updates = 0;
    add_counts(total, slots != NULL ? &slots[st.op0 + st.nops - 1u] : NULL, &oc);
    return q;
}

sne_status sne_infer(sne_ctx *ctx, const uint8_t *input, int32_t budget, int32_t *logits, sne_result *res)
{
    const sne_model *m;
    uint8_t run[SNE_MAX_STUDENTS];
    int32_t scores[SNE_MAX_STUDENTS];
    sne_counts c = {0, 0, 0}, gc = {0, 0, 0}, hc = {0, 0, 0}, sc = {0, 0, 0};
    uint32_t h = 2166136261u, k, r, i, nrun = 0, best = 0;
    uint8_t *stem_s = NULL;                   /* S of the shared stem, once it has run (spec §4.1) */
    if (ctx == NULL || ctx->m == NULL || input == NULL || logits == NULL) return SNE_E_ARG;
    m = ctx->m;
    if (budget < 1 || (uint32_t)budget > m->students_n) return SNE_E_BUDGET;   /* §5 */
    k = (uint32_t)budget;
    for (i = 0; i < SNE_MAX_STUDENTS; i++) scores[i] = 0;
    if (ctx->op_counts != NULL) memset(ctx->op_counts, 0, sizeof *ctx->op_counts * (size_t)sne_op_count(m));
    /* §5: run order. */
    if (m->select == 1u) {
        SNE_PROF(SNE_PROF_GATE);
        sne_k_gate(m, input, ctx->arena, scores, &gc);
        add_counts(&c, NULL, &gc);
        /* stable insertion sort of indices by score descending, ties by lower index */
        for (i = 0; i < m->students_n; i++) {
            uint32_t j = i;
            while (j > 0 && scores[run[j - 1u]] < scores[i]) { run[j] = run[j - 1u]; j--; }
            run[j] = (uint8_t)i;
        }
    } else {
        for (i = 0; i < m->students_n; i++) run[i] = m->order[i];
    }
    /* §6: head bias, then students in run order with optional confidence stop. */
    for (i = 0; i < m->classes; i++) logits[i] = sne_ld_i32(m, m->head_b, i);
    for (r = 0; r < k; r++) {
        const uint32_t s = run[r];
        const int8_t *q;
        sne_student st;
        sne_get_student(m, s, &st);
        if (stem_s == NULL && m->stem_nops != 0u) {
            /* §4.1: the stem runs once, just before the first student in run order whose op 0 is stem */
            sne_op op0;
            sne_get_op(m, st.op0, &op0);
            if (op0.opcode == SNE_OP_STEM) {
                uint8_t *sbuf = ctx->arena + (sne_arena_size(m) - sne_stem_s_bytes(m));
                SNE_PROF(SNE_PROF_STEM);
                if (!run_stem(ctx, input, sbuf, &h, &c, &sc)) return SNE_E_FORMAT;
                stem_s = sbuf;
            }
        }
        q = run_student(ctx, s, input, stem_s, &h, &c);
        if (q == NULL) return SNE_E_FORMAT;
        SNE_PROF(SNE_PROF_HEAD);
        {
            sne_counts one = {0, 0, 0};
            sne_k_head(m, &st, q, logits, &one);
            add_counts(&c, &hc, &one);
        }
        nrun++;
        if (m->stop == 1u && nrun < k) {
            int32_t top1 = logits[0], top2;
            uint32_t arg = 0;
            for (i = 1; i < m->classes; i++) if (logits[i] > top1) { top1 = logits[i]; arg = i; }
            top2 = arg == 0 ? logits[1] : logits[0];
            for (i = 0; i < m->classes; i++) if (i != arg && logits[i] > top2) top2 = logits[i];
            /* top1 >= top2, so the unsigned difference is the exact one (0 .. 2^32-1) */
            if ((uint32_t)top1 - (uint32_t)top2 >= (uint32_t)m->margin) break;
        }
    }
    for (i = 0; i < m->classes; i++) {
        HASH_I32(h, logits[i]);
        if (logits[i] > logits[best]) best = i;
    }
    if (res != NULL) {
        res->prediction = best;
        res->n_active = nrun;
        for (i = 0; i < SNE_MAX_STUDENTS; i++) {
            res->active[i] = i < nrun ? run[i] : 0u;
            res->gate_scores[i] = scores[i];
        }
        res->counts = c;
        res->gate_counts = gc;
        res->head_counts = hc;
        res->stem_counts = sc;
        res->trace_hash = SNE_TRACE_HASH ? h : 0u;
    }
    return SNE_OK;
}

const char *sne_status_str(sne_status s)
{
    switch (s) {
    case SNE_OK: return "ok";
    case SNE_E_ARG: return "invalid argument (NULL pointer or out of range)";
    case SNE_E_BUDGET: return "budget must be 1..K (spec 5)";
    case SNE_E_ARENA: return "arena too small or not aligned for int32 (see sne_arena_size)";
    case SNE_E_FORMAT: return "blob: malformed file (field, range, padding or section table; see err_offset)";
    case SNE_E_VERSION: return "blob: unsupported version: this runtime reads Spike IR 2.x (a 1.x file must be recompiled)";
    case SNE_E_CRC: return "blob: CRC-32 mismatch";
    case SNE_E_TYPE: return "blob: op kinds do not chain (spec 3)";
    case SNE_E_SHAPE: return "blob: shape rule violated (spec 7.6)";
    case SNE_E_BOUND: return "blob: static bound violated (spec 7)";
    case SNE_E_CAPACITY: return "blob: more ops than the ops storage given to sne_blob_load";
    }
    return "unknown status";
}
