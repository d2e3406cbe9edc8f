/* insn_prof.c - a QEMU TCG plugin that profiles executed guest instructions (bench/runtime.sh).
 *
 * Loaded with `-plugin insn_prof.so,out=FILE[,marks=LO:N:STRIDE]`. Every executed translation
 * block calls back with its start address and instruction count (slower than insn_count.c's
 * inline add, which is why `sne verify` keeps using that one):
 *   - per block start address: instructions executed (bench/runtime.sh maps addresses to
 *     functions with nm: a block never spans two functions);
 *   - with marks: N marker functions of STRIDE bytes each from address LO (the profiling driver
 *     calls marker i before op i runs); every instruction is charged to the last marker executed
 *     ("mark i" lines), which gives the cost per op of the deployed runtime.
 * Output lines: "total N", "mark I N", "pc 0xADDR N". API version 1 declarations, as insn_count.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t;
struct qemu_plugin_tb;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
                                          enum qemu_plugin_cb_flags flags, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

#define MAX_BLOCKS 65536
#define MAX_MARKS 256

/* One translated block: its start address, size and executed instructions (one vCPU: no atomics). */
typedef struct block { uint64_t pc, n, executed; } block;
static block blocks[MAX_BLOCKS];
static uint32_t nblocks;
static uint64_t total, marks[MAX_MARKS], mark_lo, mark_stride;
static uint32_t mark_n, current;
static char out_path[4096];

static void on_exec(unsigned int vcpu, void *userdata)
{
    block *b = (block *)userdata;
    (void)vcpu;
    if (mark_n != 0 && b->pc >= mark_lo && b->pc < mark_lo + (uint64_t)mark_n * mark_stride)
        current = (uint32_t)((b->pc - mark_lo) / mark_stride);
    b->executed += b->n;
    total += b->n;
    if (mark_n != 0) marks[current] += b->n;
}

/* A block retranslated at the same address reuses its slot (QEMU may flush its code cache). */
static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    const uint64_t pc = qemu_plugin_tb_vaddr(tb), n = qemu_plugin_tb_n_insns(tb);
    uint32_t i;
    (void)id;
    for (i = 0; i < nblocks; i++) if (blocks[i].pc == pc && blocks[i].n == n) break;
    if (i == nblocks) {
        if (nblocks == MAX_BLOCKS) return;   /* not profiled; the totals then undercount (never seen) */
        blocks[nblocks].pc = pc; blocks[nblocks].n = n; blocks[nblocks].executed = 0;
        nblocks++;
    }
    qemu_plugin_register_vcpu_tb_exec_cb(tb, on_exec, QEMU_PLUGIN_CB_NO_REGS, &blocks[i]);
}

static void at_exit_write(qemu_plugin_id_t id, void *userdata)
{
    uint32_t i;
    FILE *f = fopen(out_path, "w");
    (void)id; (void)userdata;
    if (f == NULL) return;
    fprintf(f, "total %" PRIu64 "\n", total);
    for (i = 0; i < mark_n; i++) fprintf(f, "mark %u %" PRIu64 "\n", i, marks[i]);
    for (i = 0; i < nblocks; i++)
        if (blocks[i].executed != 0) fprintf(f, "pc 0x%" PRIx64 " %" PRIu64 "\n", blocks[i].pc, blocks[i].executed);
    fclose(f);
}

__attribute__((visibility("default")))
int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    int i;
    (void)info;
    for (i = 0; i < argc; i++) {
        if (strncmp(argv[i], "out=", 4) == 0) strncpy(out_path, argv[i] + 4, sizeof out_path - 1);
        if (strncmp(argv[i], "marks=", 6) == 0) {
            char *e;
            mark_lo = strtoull(argv[i] + 6, &e, 0);
            if (*e == ':') mark_n = (uint32_t)strtoul(e + 1, &e, 0);
            if (*e == ':') mark_stride = strtoull(e + 1, &e, 0);
            if (mark_n > MAX_MARKS || mark_stride == 0) mark_n = 0;
        }
    }
    if (out_path[0] == '\0') return -1;
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, at_exit_write, NULL);
    return 0;
}
