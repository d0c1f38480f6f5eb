/* bad-args-c: every native call given bad pointers, lengths, core, group and disk
 * numbers (C can pass anything), each error checked against docs/api.md; then good
 * calls still work. The network calls have their own program (apps/net-test, scenario
 * net-bad-arguments). Prints one line per refusal that differs and a summary. */
#include "ingot_program.h"

static int checks;
static int failed;

static void expect(const char *what, int64_t got, int64_t wanted) {
    checks++;
    if (got != wanted) {
        failed++;
        ingot_printf("bad-args-c: FAIL %s: got %ld, wanted %ld\n", what, (long)got, (long)wanted);
    }
}

static void task(uint64_t argument) {
    (void)argument;
}

static uint8_t buffer[4096] __attribute__((aligned(8)));

int main(int argc, char **argv) {
    (void)argc;
    (void)argv;
    struct ingot_memory_info memory;
    ingot_api->memory_info(&memory);
    const uint64_t kernel = 0x100000;
    const uint64_t past_end = memory.window_base + memory.window_bytes - 8;
    const uint64_t guard = memory.window_base + memory.window_bytes - memory.stack_bytes - 4096;

    expect("console_write null", ingot_api->console_write(NULL, 5), INGOT_E_BAD_ADDRESS);
    expect("console_write kernel", ingot_api->console_write((void *)kernel, 16), INGOT_E_BAD_ADDRESS);
    expect("console_write past the window", ingot_api->console_write((void *)past_end, 16), INGOT_E_BAD_ADDRESS);
    expect("console_write guard page", ingot_api->console_write((void *)guard, 16), INGOT_E_BAD_ADDRESS);
    expect("console_write wrapping", ingot_api->console_write(buffer, UINT64_MAX), INGOT_E_BAD_ADDRESS);
    expect("memory_info null", ingot_api->memory_info(NULL), INGOT_E_BAD_ADDRESS);
    expect("memory_info kernel", ingot_api->memory_info((void *)0x100080), INGOT_E_BAD_ADDRESS);
    expect("delay_us above a second", ingot_api->delay_us(1000001), INGOT_E_INVALID_ARGUMENT);

    expect("task_submit kernel entry", ingot_api->task_submit((ingot_task_entry)kernel, 0, 0), INGOT_E_BAD_ADDRESS);
    expect("task_submit null entry", ingot_api->task_submit((ingot_task_entry)0, 0, 0), INGOT_E_BAD_ADDRESS);
    expect("task_submit unknown group", ingot_api->task_submit(task, 0, 12345), INGOT_E_NOT_FOUND);
    expect("group_wait unknown", ingot_api->group_wait(9999), INGOT_E_NOT_FOUND);
    expect("group_release unknown", ingot_api->group_release(9999), INGOT_E_NOT_FOUND);
    int64_t group = ingot_api->group_create();
    expect("group_release", ingot_api->group_release((uint64_t)group), 0);
    expect("group_release twice", ingot_api->group_release((uint64_t)group), INGOT_E_NOT_FOUND);

    struct ingot_core_stats stats;
    expect("core_stats no such core", ingot_api->core_stats(999, &stats), INGOT_E_NOT_FOUND);
    expect("core_stats null", ingot_api->core_stats(0, NULL), INGOT_E_BAD_ADDRESS);
    expect("run_on_core no such core", ingot_api->run_on_core(999, task, 0), INGOT_E_NOT_FOUND);
    expect("run_on_core own core", ingot_api->run_on_core((uint64_t)ingot_api->core_id(), task, 0), INGOT_E_BUSY);
    if (ingot_api->core_count() > 1) {
        expect("run_on_core kernel entry", ingot_api->run_on_core(1, (ingot_task_entry)kernel, 0), INGOT_E_BAD_ADDRESS);
    }
    expect("spin_lock null", ingot_api->spin_lock(NULL), INGOT_E_BAD_ADDRESS);
    expect("spin_lock misaligned", ingot_api->spin_lock((uint64_t *)(buffer + 1)), INGOT_E_INVALID_ARGUMENT);
    expect("spin_unlock kernel", ingot_api->spin_unlock((uint64_t *)kernel), INGOT_E_BAD_ADDRESS);

    struct ingot_disk_info disk;
    expect("disk_info no such disk", ingot_api->disk_info(99, &disk), INGOT_E_NOT_FOUND);
    expect("disk_info null", ingot_api->disk_info(0, NULL), INGOT_E_BAD_ADDRESS);
    ingot_api->disk_info(0, &disk);
    expect("disk_read no such disk", ingot_api->disk_read(99, 0, 1, buffer), INGOT_E_NOT_FOUND);
    expect("disk_read count 0", ingot_api->disk_read(0, 0, 0, buffer), INGOT_E_INVALID_ARGUMENT);
    expect("disk_read past the end", ingot_api->disk_read(0, disk.sectors, 1, buffer), INGOT_E_INVALID_ARGUMENT);
    expect("disk_read lba wraps", ingot_api->disk_read(0, UINT64_MAX, 2, buffer), INGOT_E_INVALID_ARGUMENT);
    expect("disk_read null buffer", ingot_api->disk_read(0, 0, 1, NULL), INGOT_E_BAD_ADDRESS);
    expect("disk_read into the kernel", ingot_api->disk_read(0, 0, 1, (void *)kernel), INGOT_E_BAD_ADDRESS);
    expect("disk_read past the window", ingot_api->disk_read(0, 0, 8, (void *)past_end), INGOT_E_BAD_ADDRESS);
    expect("disk_write from the kernel", ingot_api->disk_write(0, 0, 1, (void *)kernel), INGOT_E_BAD_ADDRESS);
    expect("disk_write no such disk", ingot_api->disk_write(7, 0, 1, buffer), INGOT_E_NOT_FOUND);
    expect("disk_flush no such disk", ingot_api->disk_flush(99), INGOT_E_NOT_FOUND);
    struct ingot_net_info nic;
    expect("net_info no such interface", ingot_api->net_info(99, &nic), INGOT_E_NOT_FOUND);

    static const uint8_t returns_seven[] = {0xB8, 7, 0, 0, 0, 0xC3};
    extern char __bss_end[];
    uint64_t keep = (uint64_t)__bss_end - INGOT_PROGRAM_BASE;
    uint8_t *image = malloc(sizeof returns_seven);
    memcpy(image, returns_seven, sizeof returns_seven);
    expect("program_run null image", ingot_api->program_run(NULL, 6, keep), INGOT_E_BAD_ADDRESS);
    expect("program_run kernel image", ingot_api->program_run((void *)kernel, 6, keep), INGOT_E_BAD_ADDRESS);
    expect("program_run empty", ingot_api->program_run(image, 0, keep), INGOT_E_INVALID_ARGUMENT);
    expect("program_run nothing kept", ingot_api->program_run(image, 6, 0), INGOT_E_INVALID_ARGUMENT);
    expect("program_run keeps everything", ingot_api->program_run(image, 6, memory.window_bytes), INGOT_E_EXHAUSTED);
    expect("program_run huge image", ingot_api->program_run(image, UINT64_MAX / 2, keep), INGOT_E_EXHAUSTED);

    /* Good calls still work. */
    expect("console_write after all", ingot_api->console_write("bad-args-c: still running\n", 26), 26);
    expect("disk_read after all", ingot_api->disk_read(0, 0, 1, buffer), 1);
    expect("program_run after all", ingot_api->program_run(image, 6, keep), 7);
    ingot_printf("bad-args-c: %d checks, %d failed\n", checks, failed);
    return (uint64_t)failed;
}
