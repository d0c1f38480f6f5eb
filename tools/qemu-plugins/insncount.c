/*
 * insncount: a QEMU TCG plugin that counts executed guest instructions.
 *
 * `cargo xtask bench boot` builds it with gcc (tools/xtask/src/bench/icount.rs) and runs
 * guests under `-icount shift=0,align=off,sleep=off -smp 1 -plugin libinsncount.so
 * -d plugin`. At QEMU exit it prints one line, `insncount: total=N`, to QEMU's log
 * (stderr). Each translated block gets an inline "add n_insns" op at its entry, so the
 * count costs no helper call per block.
 *
 * Debian's QEMU 7.2 is built with plugin support but ships no `qemu-plugin.h`, so the
 * few declarations used here are written from the documented plugin API (version 1,
 * QEMU 7.2: docs/devel/tcg-plugins.rst and include/qemu/qemu-plugin.h's contract).
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PLUGIN_EXPORT __attribute__((visibility("default")))

typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t; /* only ever passed by pointer here */
struct qemu_plugin_tb;

enum qemu_plugin_op {
    QEMU_PLUGIN_INLINE_ADD_U64,
};

typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op,
                                              void *ptr, uint64_t imm);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
void qemu_plugin_outs(const char *string);

/* The API version this plugin was written against; QEMU refuses unknown versions. */
PLUGIN_EXPORT int qemu_plugin_version = 1;

/* One counter for all vCPUs: exact at -smp 1 (the only setting icount allows here). */
static uint64_t executed;

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &executed,
                                             qemu_plugin_tb_n_insns(tb));
}

static void on_exit(qemu_plugin_id_t id, void *userdata)
{
    char line[64];
    (void)id;
    (void)userdata;
    snprintf(line, sizeof line, "insncount: total=%" PRIu64 "\n", executed);
    qemu_plugin_outs(line);
}

PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                      char **argv)
{
    (void)info;
    (void)argv;
    if (argc != 0) {
        fprintf(stderr, "insncount: takes no arguments\n");
        return -1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_exit, NULL);
    return 0;
}
