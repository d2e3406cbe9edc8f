/*
 * test_fakeop.c - a program with an opcode this runtime does not know is refused at every stage,
 * never run as some other op (issue 20, docs/design.md "A new op").
 *
 * A tiny valid model (input_dense 2 -> 3, lif, dense 3 -> 2, readout; one student, fixed order) runs;
 * then each of its ops in turn gets opcode 255 (FAKE_OPCODE, never a real one, so the next real op
 * does not collide with it; a fake op, e.g. a new op added to the tables of
 * another stage but not to this runtime): sne_arena_size() is 0, sne_init() refuses with
 * SNE_E_FORMAT, and sne_infer() on a context bound before the change refuses too. Then a .snep
 * image whose first op record says 255 is refused by sne_blob_load() with SNE_E_FORMAT at that record.
 */
#include <stdio.h>
#include <string.h>

#include "sne.h"

#define FAKE_OPCODE 255u   /* no op will ever have it (opcodes are u8 and allocated from 1 up) */

static const int8_t w8[] = {1, 2, 3, -1, -2, -3,  /* input_dense w[2][3] at 0 */
                            1, -1, 2, -2, 3, -3,  /* dense w[3][2] at 6 */
                            1, 1, 1, 1,           /* head w[2][2] at 12 */
                            0, 0};                /* feat_shift[2] at 16 */
static const int32_t w32[] = {10, 20, 30,         /* input_dense bias at 0 */
                              5, 5, 5,            /* lif theta at 3 */
                              0, 0,               /* dense bias at 6 */
                              1 << 20, 1 << 20,   /* feat_mult at 8 */
                              0, 0};              /* head bias at 10 */

static sne_op ops[4];
static sne_student student = {0, 4, 2, 12, 8, 16};
static int32_t arena[256];

static void make_ops(void)
{
    memset(ops, 0, sizeof ops);
    ops[0].opcode = SNE_OP_INPUT_DENSE; ops[0].par.syn.w = 0; ops[0].par.syn.b = 0;
    ops[0].in_h = 1; ops[0].in_w = 1; ops[0].in_c = 2; ops[0].out_h = 1; ops[0].out_w = 1; ops[0].out_c = 3;
    ops[1].opcode = SNE_OP_LIF; ops[1].par.lif.theta = 3; ops[1].par.lif.state_bits = 32;
    ops[1].in_h = 1; ops[1].in_w = 1; ops[1].in_c = 3; ops[1].out_h = 1; ops[1].out_w = 1; ops[1].out_c = 3;
    ops[2].opcode = SNE_OP_DENSE; ops[2].par.syn.w = 6; ops[2].par.syn.b = 6;
    ops[2].in_h = 1; ops[2].in_w = 1; ops[2].in_c = 3; ops[2].out_h = 1; ops[2].out_w = 1; ops[2].out_c = 2;
    ops[3].opcode = SNE_OP_READOUT;
    ops[3].in_h = 1; ops[3].in_w = 1; ops[3].in_c = 2; ops[3].out_h = 1; ops[3].out_w = 1; ops[3].out_c = 2;
}

static int failures;
#define CHECK(cond, ...) do { if (!(cond)) { failures++; printf("FAIL: " __VA_ARGS__); printf("\n"); } } while (0)

int main(int argc, char **argv)
{
    sne_model m;
    sne_ctx ctx, bound;
    const uint8_t x[2] = {3, 1};
    int32_t logits[2];
    uint32_t j;
    memset(&m, 0, sizeof m);
    m.w8 = w8; m.w32 = w32; m.ops = ops; m.students = &student;
    m.in_h = 1; m.in_w = 1; m.in_c = 2; m.timesteps = 4; m.students_n = 1; m.classes = 2; m.head_b = 10;
    make_ops();
    CHECK(sne_arena_size(&m) > 0u, "the valid model has an arena");
    CHECK(sne_init(&bound, &m, arena, sizeof arena) == SNE_OK, "the valid model binds");
    CHECK(sne_infer(&bound, x, 1, logits, NULL) == SNE_OK, "the valid model runs");
    for (j = 0; j < 4u; j++) {
        make_ops();
        ops[j].opcode = FAKE_OPCODE;                            /* a fake op */
        CHECK(sne_arena_size(&m) == 0u, "op %u = fake: no arena plan", (unsigned)j);
        CHECK(sne_init(&ctx, &m, arena, sizeof arena) == SNE_E_FORMAT, "op %u = fake: sne_init refuses", (unsigned)j);
        CHECK(sne_infer(&bound, x, 1, logits, NULL) == SNE_E_FORMAT, "op %u = fake: sne_infer refuses", (unsigned)j);
    }
    if (argc > 1) {                                     /* a .snep image: its first op record patched to FAKE_OPCODE */
        static uint8_t blob[1 << 20];
        static sne_blob b;
        static sne_op bops[256];
        FILE *f = fopen(argv[1], "rb");
        size_t n = f != NULL ? fread(blob, 1, sizeof blob, f) : 0;
        if (f != NULL) fclose(f);
        CHECK(n > 0u, "read %s", argv[1]);
        CHECK(sne_blob_load(&b, bops, 256u, blob, n) == SNE_OK, "%s loads as shipped", argv[1]);
        if (n > 0u && sne_blob_load(&b, bops, 256u, blob, n) == SNE_OK) {
            /* the first op record: try each 4-aligned byte holding an input opcode (1 or 2) as the
             * opcode until the loader refuses the patched file with SNE_E_FORMAT at that offset */
            size_t at;
            int refused = 0;
            for (at = 0; at + 4u < n && !refused; at += 4u) {
                const uint8_t save = blob[at];
                uint32_t crc = 0xFFFFFFFFu, k;
                size_t i;
                if (save != SNE_OP_INPUT_CONV2D && save != SNE_OP_INPUT_DENSE) continue;
                blob[at] = (uint8_t)FAKE_OPCODE;
                /* the CRC-32 (IEEE, reflected) of bytes [0, n - 4) sits in the last 4 bytes (spec §9) */
                for (i = 0; i + 4u < n; i++) {
                    crc ^= blob[i];
                    for (k = 0; k < 8u; k++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
                }
                crc ^= 0xFFFFFFFFu;
                blob[n - 4] = (uint8_t)crc; blob[n - 3] = (uint8_t)(crc >> 8);
                blob[n - 2] = (uint8_t)(crc >> 16); blob[n - 1] = (uint8_t)(crc >> 24);
                if (sne_blob_load(&b, bops, 256u, blob, n) == SNE_E_FORMAT && b.err_offset == at) refused = 1;
                blob[at] = save;
            }
            CHECK(refused, "a .snep op record with the fake opcode is refused with SNE_E_FORMAT at the record");
        }
    }
    printf("test_fakeop: %d failures\n", failures);
    return failures != 0;
}
