/*
 * fuzz_blob.c - libFuzzer harness for the blob loader (and, for accepted blobs, the runtime).
 *   .ci/fuzz.sh [SECONDS] builds it with clang -fsanitize=fuzzer,address,undefined and runs it.
 * The blob is copied to a buffer of exactly its size and the arena is malloc'ed at exactly
 * sne_arena_size(), so ASan flags any read or write outside them. Accepted programs are run with
 * budgets 1 and K on an input taken from the blob's bytes (skipped when the arena exceeds 1 MiB
 * to keep executions fast).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sne.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    size_t i;
    int k;
    for (i = 0; i < n; i++) {
        c ^= p[i];
        for (k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static void run_one(const uint8_t *data, size_t size, int fixup)
{
    static sne_blob blob;
    static sne_op ops[1024];
    uint8_t *b = (uint8_t *)malloc(size ? size : 1);
    sne_status s;
    if (b == NULL) return;
    if (size) memcpy(b, data, size);
    if (fixup && size >= 24) {   /* make the size field and CRC right so mutations reach the deep checks */
        uint32_t c, n = (uint32_t)size;
        b[8] = (uint8_t)n; b[9] = (uint8_t)(n >> 8); b[10] = (uint8_t)(n >> 16); b[11] = (uint8_t)(n >> 24);
        c = crc32(b, size - 4);
        b[size - 4] = (uint8_t)c; b[size - 3] = (uint8_t)(c >> 8); b[size - 2] = (uint8_t)(c >> 16); b[size - 1] = (uint8_t)(c >> 24);
    }
    s = sne_blob_load(&blob, ops, 1024u, b, size);
    if (s == SNE_OK) {
        const size_t ab = sne_arena_size(&blob.model);
        const size_t in = (size_t)blob.model.in_h * blob.model.in_w * blob.model.in_c;
        if (ab <= (1u << 20) && in <= (1u << 20)) {
            void *arena = malloc(ab ? ab : 4);
            uint8_t *x = (uint8_t *)malloc(in);
            int32_t *logits = (int32_t *)malloc(sizeof(int32_t) * blob.model.classes);
            sne_ctx ctx;
            sne_result r;
            size_t i;
            for (i = 0; i < in; i++) x[i] = b[i % size];
            if (arena && x && logits && sne_init(&ctx, &blob.model, arena, ab) == SNE_OK) {
                (void)sne_infer(&ctx, x, 1, logits, &r);
                (void)sne_infer(&ctx, x, (int32_t)blob.model.students_n, logits, &r);
                (void)sne_infer(&ctx, x, 0, logits, &r);
            }
            free(arena); free(x); free(logits);
        }
    } else if (sne_status_str(s) == NULL) {
        abort();
    }
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run_one(data, size, 0);
    run_one(data, size, 1);
    return 0;
}
