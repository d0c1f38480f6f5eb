/* hello-c: a C program on the native table. Prints a greeting and its arguments, asks
 * the kernel about memory and time, checks that a bad pointer is refused, uses malloc
 * and free, and returns 42 (the status the scenarios expect). */
#include "ingot_program.h"

int main(int argc, char **argv) {
    ingot_printf("hello from C\n");
    for (int i = 0; i < argc; i++) {
        ingot_printf("hello-c: argv[%d]=%s\n", i, argv[i]);
    }
    struct ingot_memory_info info;
    if (ingot_api->memory_info(&info) != 0) {
        ingot_puts("hello-c: memory_info failed");
        return 1;
    }
    ingot_printf("hello-c: window base=%p size=%luKiB\n", (void *)info.window_base,
                 info.window_bytes / 1024);
    int64_t refused = ingot_api->console_write((const void *)0x100000, 16);
    ingot_printf("hello-c: bad pointer refused=%s\n",
                 refused == INGOT_E_BAD_ADDRESS ? "true" : "false");

    /* 100 blocks of growing size, each filled with its index, checked, then freed. */
    unsigned char *blocks[100];
    for (int i = 0; i < 100; i++) {
        blocks[i] = malloc((size_t)(i + 1) * 24);
        if (blocks[i] == NULL) {
            ingot_puts("hello-c: malloc failed");
            return 2;
        }
        memset(blocks[i], i, (size_t)(i + 1) * 24);
    }
    int intact = 1;
    for (int i = 0; i < 100; i++) {
        for (int j = 0; j < (i + 1) * 24; j++) {
            intact &= blocks[i][j] == i;
        }
        free(blocks[i]);
    }
    /* A new small block reuses one of the freed ones rather than new memory. */
    unsigned char *again = malloc(24);
    int reused = 0;
    for (int i = 0; i < 100; i++) {
        reused |= again == blocks[i];
    }
    ingot_printf("hello-c: malloc blocks=100 intact=%s reused=%s\n", intact ? "true" : "false",
                 reused ? "true" : "false");
    int64_t start = ingot_api->time_ns();
    ingot_api->delay_us(1000);
    int64_t elapsed = ingot_api->time_ns() - start;
    ingot_printf("hello-c: delay 1000us took>=1ms=%s\n", elapsed >= 1000000 ? "true" : "false");
    return 42;
}
