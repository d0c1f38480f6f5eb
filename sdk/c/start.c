/* The C and C++ program entry: the kernel calls _start, the first byte of the program,
 * as uint64_t _start(const struct ingot_api_table *api, uint64_t argc, char **argv).
 * It clears .bss, keeps the table, runs the global constructors (C++ static objects,
 * __attribute__((constructor))), calls main and returns its value as the status. */
#include "ingot_program.h"

extern char __bss_start[], __bss_end[];
typedef void (*ingot_constructor)(void);
extern ingot_constructor __init_array_start[], __init_array_end[];

const struct ingot_api_table *ingot_api;

/* The note that tells the kernel this ELF file is an Ingot program (called as above),
 * not a Linux one: owner "Ingot", type 1, no descriptor. */
__attribute__((section(".note.ingot"), aligned(4), used)) static const struct {
    uint32_t name_bytes, descriptor_bytes, type;
    char name[8];
} ingot_note = {6, 0, 1, "Ingot"};

__attribute__((section(".text.entry"), used)) uint64_t _start(const struct ingot_api_table *api,
                                                                uint64_t argc, char **argv) {
    memset(__bss_start, 0, (size_t)(__bss_end - __bss_start));
    ingot_api = api;
    if (api->magic != INGOT_API_MAGIC) {
        return 255;
    }
    for (ingot_constructor *constructor = __init_array_start; constructor < __init_array_end;
         constructor++) {
        (*constructor)();
    }
    return (uint64_t)(int64_t)main((int)argc, argv);
}
