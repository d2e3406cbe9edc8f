/*
 * main.c - classify one raw image with a model folder written by `sne compile --target host`.
 *
 *   classify IMAGE [BUDGET]
 *
 * IMAGE is the raw input: exactly in_h*in_w*in_c uint8 bytes, HWC (784 for a 28x28 image).
 * BUDGET is k, the number of students to run, 1..K (default K). Prints the same first four
 * lines as `sne run PROGRAM --input IMAGE --budget k` (program/budget, logits, prediction,
 * active students, gate scores when the program selects with a gate, total op counts), so the
 * two can be compared with diff.
 *
 * The model's name is not written here: the build passes -DSNE_MODEL=<name> (the Makefile and
 * CMakeLists.txt read it from the model folder) and this file calls sne_<name>_init() etc.
 * Exit status: 0 ok, 1 failure (file, model), 2 usage (arguments, budget out of range).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef SNE_MODEL
#error "build with -DSNE_MODEL=<program name> (see Makefile / CMakeLists.txt)"
#endif
#define SNE_STR_(x) #x
#define SNE_STR(x) SNE_STR_(x)
#define SNE_CAT_(a, b) a##b
#define SNE_CAT(a, b) SNE_CAT_(a, b)
/* MODEL_FN(_infer) -> sne_<name>_infer */
#define MODEL_FN(suffix) SNE_CAT(SNE_CAT(sne_, SNE_MODEL), suffix)
#include SNE_STR(SNE_MODEL.h)

#define MAX_INPUT_BYTES (1u << 20)  /* refuses larger models here: this example reads into a static buffer */

static uint8_t input[MAX_INPUT_BYTES];

/* Reads exactly n bytes of path into input[]. Returns 0, or 1 after a one-line error. */
static int read_exact(const char *path, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "classify: cannot open %s\n", path);
        return 1;
    }
    const size_t got = fread(input, 1, n, f);
    const int extra = fgetc(f);
    const int bad = ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "classify: cannot read %s\n", path);
        return 1;
    }
    if (got != n || extra != EOF) {
        fprintf(stderr, "classify: %s: expected exactly %lu bytes (raw uint8 HWC), got %s%lu\n", path,
                (unsigned long)n, extra != EOF ? "more than " : "", (unsigned long)got);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: classify IMAGE [BUDGET]\n");
        return 2;
    }
    sne_status s = MODEL_FN(_init)();
    if (s != SNE_OK) {
        fprintf(stderr, "classify: model init failed: %s\n", sne_status_str(s));
        return 1;
    }
    const sne_model *m = MODEL_FN(_model)();
    const size_t n = (size_t)m->in_h * m->in_w * m->in_c;
    const long K = (long)m->students_n;
    if (n > MAX_INPUT_BYTES) {
        fprintf(stderr, "classify: model input of %lu bytes exceeds this example's %u-byte buffer\n",
                (unsigned long)n, MAX_INPUT_BYTES);
        return 1;
    }

    long k = K;
    if (argc == 3) {
        char *end = NULL;
        errno = 0;
        k = strtol(argv[2], &end, 10);
        if (errno != 0 || end == argv[2] || *end != '\0' || k < 1 || k > K) {
            fprintf(stderr, "classify: BUDGET must be an integer in 1..%ld, got '%s'\n", K, argv[2]);
            return 2;
        }
    }
    if (read_exact(argv[1], n) != 0) return 1;

    int32_t logits[256];
    if (m->classes > sizeof logits / sizeof logits[0]) {
        fprintf(stderr, "classify: model has %lu classes, this example prints at most 256\n",
                (unsigned long)m->classes);
        return 1;
    }
    sne_result r;
    s = MODEL_FN(_infer)(input, (int32_t)k, logits, &r);
    if (s != SNE_OK) {
        fprintf(stderr, "classify: inference failed: %s\n", sne_status_str(s));
        return 1;
    }

    printf("program %s  input %s  budget k=%ld of K=%ld\n", SNE_STR(SNE_MODEL), argv[1], k, K);
    printf("logits     ");
    for (uint32_t i = 0; i < m->classes; i++) printf(" %ld", (long)logits[i]);
    printf("\nprediction  %lu\nactive     ", (unsigned long)r.prediction);
    for (uint32_t i = 0; i < r.n_active; i++) printf(" %u", (unsigned)r.active[i]);
    if (m->select == 1) { /* gate selection: the K gate scores (spec §5.1) */
        printf("\ngate scores");
        for (uint32_t i = 0; i < m->students_n; i++) printf(" %ld", (long)r.gate_scores[i]);
    }
    printf("\nops         synops=%llu macs=%llu neuron_updates=%llu\n", (unsigned long long)r.counts.synops,
           (unsigned long long)r.counts.macs, (unsigned long long)r.counts.neuron_updates);
    return 0;
}
