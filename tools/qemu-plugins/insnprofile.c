/*
 * insnprofile: insncount (same total line) plus executed guest instructions per
 * translated-block start address, for finding where a benchmark's instructions go.
 *
 * `-plugin libinsnprofile.so,out=PATH`: at QEMU exit it prints `insncount: total=N`
 * to QEMU's log like insncount and writes PATH, one line `<hex address> <instructions>
 * <executions>` per translation of a block (a block translated again gets another
 * line). xtask uses it instead of insncount when INGOT_INSN_PROFILE names a directory
 * (bench net and disk `--instructions-only`); the addresses are mapped to functions
 * with the kernel's linker map and the program's symbols. Declarations as in
 * insncount.c (plugin API version 1, QEMU 7.2).
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLUGIN_EXPORT __attribute__((visibility("default")))

typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t;
struct qemu_plugin_tb;

enum qemu_plugin_op {
    QEMU_PLUGIN_INLINE_ADD_U64,
};

typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op,
                                              void *ptr, uint64_t imm);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
void qemu_plugin_outs(const char *string);

PLUGIN_EXPORT int qemu_plugin_version = 1;

/* One record per translation; the inline op adds the block's length to `executed`. */
struct block {
    uint64_t vaddr;
    uint64_t length;
    uint64_t executed;
    struct block *next;
};

static struct block *blocks;
static char out_path[4096];

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    struct block *block = calloc(1, sizeof *block);
    if (block == NULL)
        abort();
    block->vaddr = qemu_plugin_tb_vaddr(tb);
    block->length = qemu_plugin_tb_n_insns(tb);
    block->next = blocks;
    blocks = block;
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &block->executed,
                                             block->length);
}

static void write_profile(qemu_plugin_id_t id, void *userdata)
{
    (void)id;
    (void)userdata;
    uint64_t total = 0;
    FILE *out = fopen(out_path, "w");
    for (struct block *b = blocks; b != NULL; b = b->next) {
        total += b->executed;
        if (out != NULL && b->executed != 0)
            fprintf(out, "%" PRIx64 " %" PRIu64 " %" PRIu64 "\n", b->vaddr, b->executed,
                    b->executed / b->length);
    }
    if (out == NULL || fclose(out) != 0)
        fprintf(stderr, "insnprofile: cannot write %s\n", out_path);
    char line[64];
    snprintf(line, sizeof line, "insncount: total=%" PRIu64 "\n", total);
    qemu_plugin_outs(line);
}

PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                      char **argv)
{
    (void)info;
    if (argc != 1 || strncmp(argv[0], "out=", 4) != 0 || strlen(argv[0] + 4) >= sizeof out_path) {
        fprintf(stderr, "insnprofile: takes one argument, out=PATH\n");
        return -1;
    }
    strcpy(out_path, argv[0] + 4);
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, write_profile, NULL);
    return 0;
}
