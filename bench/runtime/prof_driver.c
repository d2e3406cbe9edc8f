/* prof_driver.c - the driver of bench/runtime.sh (arm-mps2 targets): runs every input of
 * inputs.h at budget SNE_BENCH_BUDGET (with the program's confidence stop, or without it when
 * SNE_BENCH_NOSTOP=1), charging instructions to markers (insn_prof.c): marker 0 = this driver,
 * marker 1 + id = SNE_PROF(id) of the runtime. Prints the op counts summed per op index over the
 * students and inferences, which bench/runtime.sh divides the instructions by.
 * Built with -include prof.h (SNE_PROF -> sne_prof_mark) and -DSNE_BENCH_HEADER="<name>.h". */
#include "sne_port_target.h"
#include SNE_BENCH_HEADER
#include "inputs.h"   /* SNE_BENCH_N, SNE_BENCH_IN, SNE_BENCH_INIT, SNE_BENCH_INFER, SNE_BENCH_MODEL, SNE_BENCH_CTX, vin[] */

/* 128 one-instruction marker functions, 8 bytes apart, in .text (the plugin's marks=LO:128:8). */
__asm__(".text\n.thumb\n.balign 8\n.global sne_prof_marks\n.type sne_prof_marks, %function\n.thumb_func\n"
        "sne_prof_marks:\n.rept 128\nbx lr\nnop\nnop\nnop\n.endr\n");
extern void sne_prof_marks(void);

void sne_prof_mark(uint32_t id)
{
    void (*f)(void) = (void (*)(void))((uintptr_t)&sne_prof_marks + 8u * id);
    f();
}

static uint8_t x[SNE_BENCH_IN];
static int32_t logits[64];
static sne_counts per_op[256];

int main(void)
{
    uint32_t i, j, students = 0;
    sne_status st;
    sne_ctx *ctx;
    port_init();
    sne_prof_mark(0);
    st = SNE_BENCH_INIT();
    if (st != SNE_OK) { port_puts("init failed\n"); port_exit(1); }
    if (SNE_BENCH_NOSTOP) ((sne_model *)(uintptr_t)SNE_BENCH_MODEL())->stop = 0;
    ctx = SNE_BENCH_CTX();
    if (sne_op_count(ctx->m) > 256u) { port_puts("too many ops\n"); port_exit(1); }
    {
        static sne_counts oc[256];
        ctx->op_counts = oc;
        for (i = 0; i < SNE_BENCH_N; i++) {
            sne_result r;
            for (j = 0; j < SNE_BENCH_IN; j++) x[j] = SNE_LOAD_U8(&vin[i * SNE_BENCH_IN + j]);
            st = SNE_BENCH_INFER(x, SNE_BENCH_BUDGET, logits, &r);
            sne_prof_mark(0);
            if (st != SNE_OK) { port_puts("infer failed\n"); port_exit(1); }
            students += r.n_active;
            for (j = 0; j < ctx->m->students_n; j++) {
                const sne_student *s = &ctx->m->students[j];
                uint32_t o;
                for (o = 0; o < s->nops; o++) {
                    per_op[o].synops += oc[s->op0 + o].synops;
                    per_op[o].macs += oc[s->op0 + o].macs;
                    per_op[o].neuron_updates += oc[s->op0 + o].neuron_updates;
                }
            }
            port_puts("pred "); port_put_dec(r.prediction); port_putc('\n');
        }
    }
    port_puts("inferences "); port_put_dec(SNE_BENCH_N); port_putc('\n');
    port_puts("students "); port_put_dec(students); port_putc('\n');
    for (j = 0; j < 256u; j++) {
        if (per_op[j].synops == 0 && per_op[j].macs == 0 && per_op[j].neuron_updates == 0) continue;
        port_puts("op "); port_put_dec(j); port_putc(' '); port_put_dec(per_op[j].synops); port_putc(' ');
        port_put_dec(per_op[j].macs); port_putc(' '); port_put_dec(per_op[j].neuron_updates); port_putc('\n');
    }
    port_exit(0);
}
