/* api-examples: the C examples of docs/api.md, one function per native call. The text
 * between a "// doc: NAME" line and the next "// doc end" line is shown in
 * docs/api.md (tools/xtask/src/doc_check.rs checks that every C block there is one of
 * these), so every example there is compiled by `cargo xtask build` and run by the
 * api-examples scenario, which checks what it prints. */
#include "ingot_program.h"

static int failed;

static void check(const char *name, int64_t result) {
    if (result < 0) {
        ingot_printf("api-examples-c: %s failed: %ld\n", name, (long)result);
        failed++;
    }
}

static void console(void) {
    // doc: console_write
    int64_t written = ingot_api->console_write("hello from C\n", 13);
    ingot_printf("%ld bytes written, then formatted: %d\n", (long)written, 6 * 7);
    // doc end
    // doc: console_read
    int64_t key = ingot_api->console_read();
    if (key == INGOT_E_WOULD_BLOCK) {
        ingot_puts("no key waiting");
    } else {
        ingot_printf("key 0x%x\n", (unsigned)key);
    }
    // doc end
}

static void memory(void) {
    // doc: memory_info
    struct ingot_memory_info memory;
    int64_t result = ingot_api->memory_info(&memory);
    ingot_printf("window %p, %lu KiB, stack %lu KiB\n", (void *)memory.window_base,
                 memory.window_bytes / 1024, memory.stack_bytes / 1024);
    // doc end
    check("memory_info", result);
}

static void time(void) {
    // doc: delay_us
    int64_t start = ingot_api->time_ns();
    int64_t result = ingot_api->delay_us(1000);
    int64_t elapsed = ingot_api->time_ns() - start;
    ingot_printf("1 ms delay took >= 1 ms: %d\n", elapsed >= 1000000);
    // doc end
    check("delay_us", result);
}

static void cores(void) {
    // doc: core_id
    ingot_printf("core %ld of %ld\n", (long)ingot_api->core_id(), (long)ingot_api->core_count());
    // doc end
}

// doc: task_submit
static uint64_t sum;

static void add(uint64_t value) {
    __atomic_fetch_add(&sum, value, __ATOMIC_RELAXED);
}

static int64_t tasks(void) {
    int64_t group = ingot_api->group_create();
    if (group < 0) {
        return group;
    }
    for (uint64_t value = 1; value <= 10; value++) {
        while (ingot_api->task_submit(add, value, (uint64_t)group) == INGOT_E_WOULD_BLOCK) {
            ingot_api->task_run_one(); /* the queue is full: help */
        }
    }
    ingot_api->group_wait((uint64_t)group);
    ingot_printf("tasks summed %lu\n", sum);
    return ingot_api->group_release((uint64_t)group);
}
// doc end

static void task_run_one(void) {
    // doc: task_run_one
    int64_t result = ingot_api->task_submit(add, 5, 0);
    while (ingot_api->task_run_one() == 1) {
    }
    int64_t more = ingot_api->task_submit(add, 6, 0);
    int64_t ran = ingot_api->task_run_some(32);
    ingot_printf("ran %ld here (another core may have taken it)\n", (long)ran);
    // doc end
    check("task_submit", result);
    check("task_submit", more);
}

static void core_stats(void) {
    // doc: core_stats
    struct ingot_core_stats stats;
    int64_t result = ingot_api->core_stats(0, &stats);
    ingot_printf("core 0 ran %lu tasks\n", stats.tasks_run);
    // doc end
    check("core_stats", result);
}

static void run_on_core(void) {
    // doc: run_on_core
    if (ingot_api->core_count() > 1) {
        int64_t result = ingot_api->run_on_core(1, add, 100);
        while (result == 0 && ingot_api->cores_busy() == 1) {
        }
    }
    // doc end
}

static void spin_lock(void) {
    // doc: spin_lock
    static uint64_t lock;
    ingot_api->spin_lock(&lock);
    /* ... only one core at a time here ... */
    ingot_api->spin_unlock(&lock);
    // doc end
}

static void power(int argc, char **argv) {
    // doc: reboot
    if (argc > 1 && strcmp(argv[1], "reboot") == 0) {
        ingot_api->reboot();
    } else if (argc > 1 && strcmp(argv[1], "off") == 0) {
        ingot_api->shutdown();
    }
    // doc end
}

static void disks(void) {
    // doc: disk_info
    for (int64_t disk = 0; disk < ingot_api->disk_count(); disk++) {
        struct ingot_disk_info info;
        if (ingot_api->disk_info((uint64_t)disk, &info) == 0) {
            ingot_printf("disk %ld: %lu x %u bytes\n", (long)disk, info.sectors, info.sector_size);
        }
    }
    // doc end
    if (ingot_api->disk_count() == 0) {
        return;
    }
    // doc: disk_read
    static uint8_t sectors[1024];
    int64_t result = ingot_api->disk_read(0, 8, 2, sectors);
    if (result == 2) {
        memcpy(sectors, "Ingot", 5);
        result = ingot_api->disk_write(0, 8, 2, sectors);
    }
    if (result == 2) {
        result = ingot_api->disk_flush(0);
    }
    if (ingot_api->disk_read(99, 0, 1, sectors) == INGOT_E_NOT_FOUND) {
        ingot_puts("no disk 99");
    }
    // doc end
    check("disk", result);
    // doc: disk_submit
    /* Four one-sector reads in flight at once (buffers with room for 4 KiB sectors):
     * the first polled while the others run, the rest waited for. */
    static uint8_t blocks[4][4096];
    int64_t tickets[4];
    for (int i = 0; i < 4; i++) {
        tickets[i] = ingot_api->disk_submit(0, INGOT_DISK_READ, 8 + (uint64_t)i, 1, blocks[i]);
    }
    int64_t first;
    do {
        first = ingot_api->disk_poll((uint64_t)tickets[0]); /* other work could go here */
    } while (first == INGOT_E_WOULD_BLOCK);
    int done = first == 1;
    for (int i = 1; i < 4; i++) {
        done += ingot_api->disk_wait((uint64_t)tickets[i]) == 1;
    }
    ingot_printf("%d of 4 reads done, sector 8 holds Ingot: %d\n", done,
                 memcmp(blocks[0], "Ingot", 5) == 0);
    // doc end
    check("disk_submit", tickets[0]);
}

static void nics(void) {
    // doc: net_info
    for (int64_t nic = 0; nic < ingot_api->net_count(); nic++) {
        struct ingot_net_info info;
        if (ingot_api->net_info((uint64_t)nic, &info) == 0) {
            ingot_printf("nic %ld: %s mac %x:%x:%x:%x:%x:%x link %u\n", (long)nic, info.driver,
                         info.mac[0], info.mac[1], info.mac[2], info.mac[3], info.mac[4],
                         info.mac[5], info.link_up);
        }
    }
    // doc end
    if (ingot_api->net_count() == 0) {
        return;
    }
    // doc: net_send
    struct ingot_net_info info;
    ingot_api->net_info(0, &info);
    static uint8_t frame[60];
    memset(frame, 0xFF, 6); /* broadcast */
    memcpy(frame + 6, info.mac, 6);
    frame[12] = 0x88; /* local experimental EtherType 0x88B5 */
    frame[13] = 0xB5;
    int64_t sent = ingot_api->net_send(0, frame, sizeof frame);
    static uint8_t buffer[1514];
    int64_t received = ingot_api->net_receive(0, buffer, sizeof buffer);
    if (received == INGOT_E_WOULD_BLOCK) {
        ingot_puts("nothing received yet");
    }
    // doc end
    check("net_send", sent);
    // doc: net_send_batch
    struct ingot_net_info nic;
    ingot_api->net_info(0, &nic);
    static uint8_t batch[2][60];
    struct ingot_net_frame out[2];
    for (int i = 0; i < 2; i++) {
        memset(batch[i], 0xFF, 6);
        memcpy(batch[i] + 6, nic.mac, 6);
        batch[i][12] = 0x88;
        batch[i][13] = 0xB5;
        out[i].address = (uint64_t)batch[i];
        out[i].len = sizeof batch[i];
    }
    int64_t sent_frames = ingot_api->net_send_batch(0, out, 2);
    ingot_printf("sent %ld frames in one call\n", (long)sent_frames);
    // doc end
    check("net_send_batch", sent_frames);
    // doc: net_receive_batch
    static uint8_t buffers[4][1514];
    struct ingot_net_frame frames[4];
    for (int i = 0; i < 4; i++) {
        frames[i].address = (uint64_t)buffers[i];
        frames[i].len = sizeof buffers[i];
    }
    int64_t count = ingot_api->net_receive_batch(0, frames, 4);
    if (count == INGOT_E_WOULD_BLOCK) {
        count = 0; /* none waiting */
    }
    for (int64_t i = 0; i < count; i++) {
        ingot_printf("frame %ld: %lu bytes\n", (long)i, frames[i].len);
    }
    // doc end
    check("net_receive_batch", count);
}

static void program_run(void) {
    // doc: program_run
    /* A flat program of two instructions, `mov eax, 7; ret`, in free memory after
     * this program's image (here: a buffer malloc gives out). */
    extern char __bss_end[];
    uint8_t *image = malloc(6);
    memcpy(image, "\xB8\x07\x00\x00\x00\xC3", 6);
    uint64_t keep = (uint64_t)__bss_end - INGOT_PROGRAM_BASE;
    int64_t status = ingot_api->program_run(image, 6, keep);
    ingot_printf("the program returned %ld\n", (long)status);
    // doc end
    // doc: program_run_args
    /* `mov rax, rsi; ret`: a flat program that returns its argument count (argc, its
     * second argument), in the same memory as above, given three words (the first is
     * its name). */
    static const char args[] = "count \"two words\" three";
    memcpy(image, "\x48\x89\xF0\xC3", 4);
    int64_t counted = ingot_api->program_run_args(image, 4, keep, args, sizeof args - 1);
    ingot_printf("it counted %ld arguments\n", (long)counted);
    // doc end
    check("program_run_args", counted);
}

static void pci(void) {
    // doc: pci_info
    int64_t functions = ingot_api->pci_count();
    for (int64_t index = 0; index < functions; index++) {
        struct ingot_pci_info info;
        if (ingot_api->pci_info((uint64_t)index, &info) < 0) {
            continue;
        }
        char driver[17] = {0}; /* NUL-padded, not NUL-terminated when 16 bytes long */
        memcpy(driver, info.driver, 16);
        ingot_printf("pci %x:%x.%u %x:%x class %x.%x driver \"%s\"\n", info.bus, info.slot,
                     info.function, info.vendor_id, info.device_id, info.base_class,
                     info.subclass, driver);
    }
    // doc end
    check("pci_count", functions);
}

static void wait_events(void) {
    // doc: wait_events
    /* Halt until NIC 0 receives frames or 20 ms have passed, whichever comes first. */
    uint64_t deadline = (uint64_t)ingot_api->time_ns() + 20000000u;
    int64_t woke = ingot_api->wait_events(INGOT_EVENT_NET(0), deadline);
    int interrupts = (ingot_api->interrupt_events() & (int64_t)INGOT_EVENT_NET(0)) != 0;
    if (woke >= 0) {
        ingot_printf("woke for %s; nic 0 interrupts: %d\n",
                     (woke & (int64_t)INGOT_EVENT_NET(0)) ? "frames on nic 0" : "the deadline",
                     interrupts);
    }
    // doc end
    check("wait_events", woke);
    // doc: core_halted_ns
    int64_t halted_ns = ingot_api->core_halted_ns(0);
    if (halted_ns >= 0) {
        ingot_printf("core 0 halted %ld ms so far\n", (long)(halted_ns / 1000000));
    }
    if (ingot_api->core_halted_ns(99) == INGOT_E_NOT_FOUND) {
        ingot_puts("no core 99");
    }
    // doc end
    check("core_halted_ns", halted_ns);
}

int main(int argc, char **argv) {
    console();
    memory();
    time();
    cores();
    check("tasks", tasks());
    task_run_one();
    core_stats();
    run_on_core();
    spin_lock();
    power(argc, argv);
    disks();
    nics();
    program_run();
    pci();
    wait_events();
    ingot_printf("api-examples-c: done, %d failed\n", failed);
    return failed;
}
