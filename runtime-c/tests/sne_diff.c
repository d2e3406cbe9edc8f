/*
 * sne_diff.c - host differential driver (not part of the runtime; uses stdio + malloc).
 *
 * Reads a vector file (all little-endian):
 *   "SNED" u32 nprog; per program: u32 bloblen, blob (+pad to 4), u32 ninputs, u32 insize,
 *   inputs (ninputs * insize bytes, +pad to 4)
 * loads every blob with sne_blob_load() and runs every input with every budget 1..K, printing
 *   L <prog> <status> <err_offset>                       (load result)
 *   R <prog> <input> <k> <status> <pred> <active,...> <hash> <synops> <macs> <nu> <logits,...>
 *   C <prog> <input> <k> <gate synops>,<gate macs> <head macs> <synops,macs,nu;...>   (after each OK R:
 *                                                     per-op counts of every op of every student)
 * Arenas and blobs are malloc'ed at their exact size so ASan sees any overflow. Build with
 * -DSNE_TRACE_HASH=1 (the hash is compared).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sne.h"

static uint8_t *data;
static size_t data_len, pos;

static uint32_t u32(void)
{
    uint32_t v;
    if (pos + 4 > data_len) { fprintf(stderr, "sne_diff: truncated vector file\n"); exit(2); }
    v = (uint32_t)data[pos] | (uint32_t)data[pos + 1] << 8 | (uint32_t)data[pos + 2] << 16 | (uint32_t)data[pos + 3] << 24;
    pos += 4;
    return v;
}

static const uint8_t *bytes(size_t n)
{
    const uint8_t *p = data + pos;
    if (n > data_len - pos) { fprintf(stderr, "sne_diff: truncated vector file\n"); exit(2); }
    pos += (n + 3u) & ~(size_t)3u;
    if (pos > data_len) pos = data_len;
    return p;
}

int main(int argc, char **argv)
{
    FILE *f;
    long n;
    uint32_t np, p;
    static sne_blob blob;
    static sne_op ops[1024];
    if (argc != 2) { fprintf(stderr, "usage: sne_diff VECTORS\n"); return 2; }
    f = fopen(argv[1], "rb");
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 8 || fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "sne_diff: cannot read %s\n", argv[1]); return 2;
    }
    data_len = (size_t)n;
    data = malloc(data_len);
    if (data == NULL || fread(data, 1, data_len, f) != data_len) { fprintf(stderr, "sne_diff: read failed\n"); return 2; }
    fclose(f);
    if (memcmp(data, "SNED", 4) != 0) { fprintf(stderr, "sne_diff: bad magic\n"); return 2; }
    pos = 4;
    np = u32();
    for (p = 0; p < np; p++) {
        uint32_t bl = u32(), ni, is, i;
        uint8_t *b = malloc(bl ? bl : 1);
        const uint8_t *inputs;
        sne_status s;
        memcpy(b, bytes(bl), bl);
        ni = u32(); is = u32();
        inputs = bytes((size_t)ni * is);
        s = sne_blob_load(&blob, ops, 1024u, b, bl);
        printf("L %u %d %u\n", p, (int)s, blob.err_offset);
#ifdef SNE_DIFF_PRINT_ARENA
        if (s == SNE_OK) printf("A %u %u\n", p, (unsigned)sne_arena_size(&blob.model));
#endif
        if (s == SNE_OK) {
            size_t ab = sne_arena_size(&blob.model);
            void *arena = malloc(ab ? ab : 4);
            int32_t *logits = malloc(sizeof(int32_t) * blob.model.classes);
            const uint32_t nops = sne_op_count(&blob.model);
            sne_counts *oc = malloc(sizeof(sne_counts) * (nops ? nops : 1u));
            sne_ctx ctx;
            uint32_t k;
            if (sne_init(&ctx, &blob.model, arena, ab) != SNE_OK) { printf("E init\n"); return 1; }
            ctx.op_counts = oc;
            for (i = 0; i < ni; i++) {
                if (is != blob.model.in_h * blob.model.in_w * blob.model.in_c) { printf("E insize\n"); return 1; }
                for (k = 0; k <= blob.model.students_n + 1u; k++) {
                    sne_result r;
                    uint32_t j;
                    s = sne_infer(&ctx, inputs + (size_t)i * is, (int32_t)k, logits, &r);
                    printf("R %u %u %u %d", p, i, k, (int)s);
                    if (s == SNE_OK) {
                        printf(" %u ", r.prediction);
                        for (j = 0; j < r.n_active; j++) printf(j ? ",%u" : "%u", r.active[j]);
                        printf(" %08x %" PRIu64 " %" PRIu64 " %" PRIu64 " ", r.trace_hash, r.counts.synops, r.counts.macs,
                               r.counts.neuron_updates);
                        for (j = 0; j < blob.model.classes; j++) printf(j ? ",%d" : "%d", logits[j]);
                        printf("\nC %u %u %u %" PRIu64 ",%" PRIu64 " %" PRIu64 " ", p, i, k, r.gate_counts.synops,
                               r.gate_counts.macs, r.head_counts.macs);
                        for (j = 0; j < nops; j++)
                            printf("%s%" PRIu64 ",%" PRIu64 ",%" PRIu64, j ? ";" : "", oc[j].synops, oc[j].macs, oc[j].neuron_updates);
                        printf(" %" PRIu64 ",%" PRIu64 ",%" PRIu64, r.stem_counts.synops, r.stem_counts.macs,
                               r.stem_counts.neuron_updates);   /* the shared stem (spec §4.1) */
                    }
                    printf("\n");
                }
            }
            free(arena); free(logits); free(oc);
        }
        free(b);
    }
    free(data);
    return 0;
}
