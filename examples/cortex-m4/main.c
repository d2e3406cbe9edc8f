/*
 * main.c - cortex-m4 example firmware: runs a model emitted by `sne compile --target cortex-m4`
 * on the test images embedded by gen-images.sh (images.h) and prints, for each image and budget,
 * the same lines as `sne run PROGRAM --input IMAGE --budget k`:
 *
 *   image fmnist-test-0.u8 k=1
 *   logits      <classes int32>
 *   prediction  <class>
 *   active      <students in run order>
 *   gate scores <K int32>           (only when the program selects students with a gate)
 *   ops         synops=<n> macs=<n> neuron_updates=<n>
 *
 * The budget is chosen at run time from the semihosting command line (SYS_GET_CMDLINE):
 *   - no argument after the program name  -> every budget k = 1..K, in turn, for every image;
 *   - one argument k (decimal, 1..K)      -> only budget k.
 * Under QEMU the command line is `-append "k"` (or -semihosting-config ...,arg=fw.elf,arg=k).
 * Built with -DSNE_MODEL=<program name> (run.sh reads it from the model folder).
 * Exit status: 0 ok, 1 model failure, 2 bad command line.
 */
#include <stddef.h>
#include <stdint.h>

#include "semihost/semihost.h"
#include "sne_port_target.h"

#include "images.h"

#ifndef SNE_MODEL
#error "build with -DSNE_MODEL=<program name> (see run.sh)"
#endif
#define SNE_STR_(x) #x
#define SNE_STR(x) SNE_STR_(x)
#define SNE_CAT_(a, b) a##b
#define SNE_CAT(a, b) SNE_CAT_(a, b)
/* MODEL_FN(_infer) -> sne_<name>_infer */
#define MODEL_FN(suffix) SNE_CAT(SNE_CAT(sne_, SNE_MODEL), suffix)
#include SNE_STR(SNE_MODEL.h)

#define SYS_GET_CMDLINE 0x15u
#define MAX_CLASSES 256u

/* Prints v in decimal (two's complement int32, so INT32_MIN too). */
static void put_i32(int32_t v)
{
    if (v < 0) {
        port_putc('-');
        port_put_dec((uint64_t)(-(int64_t)v));
    } else {
        port_put_dec((uint64_t)v);
    }
}

/* Ends a one-line error ("firmware: " + what + detail, on the console), then exits with code. */
static SNE_PORT_NORETURN void fail(int code, const char *what, const char *detail)
{
    port_puts(what);
    port_puts(detail);
    port_putc('\n');
    port_exit(code);
}

/*
 * Budget from the semihosting command line "PROGRAM [k]": returns 0 when there is no k (or the
 * host gives no command line), k when it is a decimal in 1..K; any other text ends the run
 * (status 2).
 */
static int32_t budget_from_cmdline(uint32_t K)
{
    static char line[128];
    struct { char *buf; uint32_t len; } block = { line, sizeof line - 1u };
    if (sne_semihost(SYS_GET_CMDLINE, &block) != 0u || block.len >= sizeof line) return 0;
    line[block.len] = '\0';
    const char *p = line;
    while (*p == ' ') p++;
    while (*p != '\0' && *p != ' ') p++;  /* skip argv[0], the program */
    while (*p == ' ') p++;
    if (*p == '\0') return 0;
    uint32_t k = 0;
    const char *q = p;
    while (*q >= '0' && *q <= '9' && k <= K) k = k * 10u + (uint32_t)(*q++ - '0');
    while (*q == ' ') q++;
    if (q == p || *q != '\0' || k < 1u || k > K) {
        port_puts("firmware: budget must be one integer in 1..");
        port_put_dec(K);
        fail(2, ", got: ", p);
    }
    return (int32_t)k;
}

/* Runs image i at budget k and prints its lines (the header comment above). */
static void classify(const sne_model *m, uint32_t i, int32_t k)
{
    static int32_t logits[MAX_CLASSES];
    sne_result r;
    const sne_status s = MODEL_FN(_infer)(ex_images[i], k, logits, &r);
    if (s != SNE_OK) fail(1, "firmware: inference failed: ", sne_status_str(s));
    port_puts("image ");
    port_puts(ex_image_names[i]);
    port_puts(" k=");
    put_i32(k);
    port_puts("\nlogits     ");
    for (uint32_t c = 0; c < m->classes; c++) {
        port_putc(' ');
        put_i32(logits[c]);
    }
    port_puts("\nprediction  ");
    port_put_dec(r.prediction);
    port_puts("\nactive     ");
    for (uint32_t j = 0; j < r.n_active; j++) {
        port_putc(' ');
        port_put_dec(r.active[j]);
    }
    if (m->select == 1) { /* gate selection: the K gate scores (spec §5.1) */
        port_puts("\ngate scores");
        for (uint32_t j = 0; j < m->students_n; j++) {
            port_putc(' ');
            put_i32(r.gate_scores[j]);
        }
    }
    port_puts("\nops         synops=");
    port_put_dec(r.counts.synops);
    port_puts(" macs=");
    port_put_dec(r.counts.macs);
    port_puts(" neuron_updates=");
    port_put_dec(r.counts.neuron_updates);
    port_putc('\n');
}

int main(void)
{
    port_init();
    const sne_status s = MODEL_FN(_init)();
    if (s != SNE_OK) fail(1, "firmware: model init failed: ", sne_status_str(s));
    const sne_model *m = MODEL_FN(_model)();
    if (m->in_h * m->in_w * m->in_c != EX_IMAGE_BYTES) fail(1, "firmware: images.h does not match the model's input size", "");
    if (m->classes > MAX_CLASSES) fail(1, "firmware: too many classes for this example", "");
    const uint32_t K = m->students_n;
    const int32_t k = budget_from_cmdline(K);
    for (uint32_t i = 0; i < EX_IMAGE_COUNT; i++) {
        if (k != 0) {
            classify(m, i, k);
        } else {
            for (uint32_t b = 1; b <= K; b++) classify(m, i, (int32_t)b);
        }
    }
    return 0;
}
