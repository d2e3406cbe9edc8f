/* insn_count.c - a QEMU TCG plugin that counts executed guest instructions.
 *
 * Built on the fly by run-qemu.sh (cc -shared -fPIC) and loaded with
 * `-plugin insn_count.so,out=FILE`. At every translation it adds one inline
 * "count += n_insns(tb)" to the block, so counting costs a single add per
 * executed block instead of single-stepping QEMU; at exit it writes
 * "instructions=N" to FILE. A block that leaves early (an exception in its
 * middle) is counted whole, as QEMU's own contrib insn plugin counts it.
 *
 * The declarations below are the QEMU plugin API version 1 (QEMU 5.x-8.1:
 * Debian 12 ships 7.2 without the qemu-plugin.h header). QEMU refuses to load
 * the plugin when its API no longer matches; run-qemu.sh then runs without a
 * count.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t;            /* not read */
struct qemu_plugin_tb;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op,
                                              void *ptr, uint64_t imm);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

static uint64_t insn_count;          /* one vCPU (the mps2 boards), so no atomics */
static char out_path[4096];

/* Translation time: the block adds its instruction count to insn_count each time it runs. */
static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &insn_count,
                                             (uint64_t)qemu_plugin_tb_n_insns(tb));
}

/* Exit (also a semihosting exit): write the total. */
static void on_exit(qemu_plugin_id_t id, void *userdata)
{
    (void)id; (void)userdata;
    FILE *f = fopen(out_path, "w");
    if (f) { fprintf(f, "instructions=%" PRIu64 "\n", insn_count); fclose(f); }
}

__attribute__((visibility("default")))
int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    (void)info;
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "out=", 4) == 0) {
            strncpy(out_path, argv[i] + 4, sizeof out_path - 1);
        }
    }
    if (out_path[0] == '\0') return -1;   /* nowhere to write the count */
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_exit, NULL);
    return 0;
}
