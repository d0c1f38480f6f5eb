/* ingot.h: the Ingot program API for C and C++ (API version 1.5).
 * GENERATED from crates/abi by its c_header test; do not edit by hand:
 * INGOT_BLESS=1 cargo test -p ingot-abi rewrites it. Every offset below is
 * Rust's; the static asserts fail if a compiler lays a struct out otherwise.
 * The calls are described in docs/api.md. */
#ifndef INGOT_H
#define INGOT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#define INGOT_STATIC_ASSERT static_assert
#else
#define INGOT_STATIC_ASSERT _Static_assert
#endif

#define INGOT_API_MAGIC 0x495041544F474E49ULL
#define INGOT_API_VERSION 0x00010005u
#define INGOT_API_TABLE_ADDRESS 0x100080ULL
#define INGOT_PROGRAM_BASE 0xFFFF800000000000ULL
#define INGOT_NET_BATCH_MAX 32u
#define INGOT_NET_HEADER_BYTES 14u
#define INGOT_DISK_READ 0u
#define INGOT_DISK_WRITE 1u
#define INGOT_EVENT_INPUT 0x100000000ULL
#define INGOT_EVENT_TIMER 0x10000000000ULL
#define INGOT_EVENT_NET(nic) (1ULL << (nic))
#define INGOT_EVENT_DISK(disk) (1ULL << (16 + (disk)))
#define INGOT_NO_DEADLINE 0xFFFFFFFFFFFFFFFFULL

/* Results: >= 0 success, negative an error. */
#define INGOT_E_INVALID_ARGUMENT (-1)
#define INGOT_E_BAD_ADDRESS (-2)
#define INGOT_E_WOULD_BLOCK (-3)
#define INGOT_E_NOT_FOUND (-4)
#define INGOT_E_BUSY (-5)
#define INGOT_E_EXHAUSTED (-6)
#define INGOT_E_TIMED_OUT (-7)
#define INGOT_E_DEVICE_ERROR (-8)

/* A task or per-core entry: runs with one argument, returns nothing. */
typedef void (*ingot_task_entry)(uint64_t argument);

struct ingot_memory_info {
    uint64_t window_base;
    uint64_t window_bytes;
    uint64_t stack_bytes;
    uint64_t usable_ram_bytes;
};
INGOT_STATIC_ASSERT(sizeof(struct ingot_memory_info) == 32, "struct ingot_memory_info size");
INGOT_STATIC_ASSERT(offsetof(struct ingot_memory_info, window_base) == 0, "ingot_memory_info.window_base");
INGOT_STATIC_ASSERT(offsetof(struct ingot_memory_info, window_bytes) == 8, "ingot_memory_info.window_bytes");
INGOT_STATIC_ASSERT(offsetof(struct ingot_memory_info, stack_bytes) == 16, "ingot_memory_info.stack_bytes");
INGOT_STATIC_ASSERT(offsetof(struct ingot_memory_info, usable_ram_bytes) == 24, "ingot_memory_info.usable_ram_bytes");

struct ingot_disk_info {
    uint64_t sectors;
    uint32_t sector_size;
    uint32_t bounced;
    uint8_t model[40];
    uint8_t serial[40];
};
INGOT_STATIC_ASSERT(sizeof(struct ingot_disk_info) == 96, "struct ingot_disk_info size");
INGOT_STATIC_ASSERT(offsetof(struct ingot_disk_info, sectors) == 0, "ingot_disk_info.sectors");
INGOT_STATIC_ASSERT(offsetof(struct ingot_disk_info, sector_size) == 8, "ingot_disk_info.sector_size");
INGOT_STATIC_ASSERT(offsetof(struct ingot_disk_info, bounced) == 12, "ingot_disk_info.bounced");
INGOT_STATIC_ASSERT(offsetof(struct ingot_disk_info, model) == 16, "ingot_disk_info.model");
INGOT_STATIC_ASSERT(offsetof(struct ingot_disk_info, serial) == 56, "ingot_disk_info.serial");

struct ingot_core_stats {
    uint64_t tasks_run;
    uint64_t busy_ns;
};
INGOT_STATIC_ASSERT(sizeof(struct ingot_core_stats) == 16, "struct ingot_core_stats size");
INGOT_STATIC_ASSERT(offsetof(struct ingot_core_stats, tasks_run) == 0, "ingot_core_stats.tasks_run");
INGOT_STATIC_ASSERT(offsetof(struct ingot_core_stats, busy_ns) == 8, "ingot_core_stats.busy_ns");

struct ingot_net_info {
    uint8_t mac[6];
    uint8_t link_up;
    uint8_t reserved;
    uint32_t mtu;
    uint32_t reserved2;
    uint8_t driver[16];
    uint64_t rx_frames;
    uint64_t rx_bytes;
    uint64_t tx_frames;
    uint64_t tx_bytes;
    uint64_t rx_dropped;
    uint64_t rx_errors;
    uint64_t tx_errors;
};
INGOT_STATIC_ASSERT(sizeof(struct ingot_net_info) == 88, "struct ingot_net_info size");
INGOT_STATIC_ASSERT(offsetof(struct ingot_net_info, mac) == 0, "ingot_net_info.mac");
INGOT_STATIC_ASSERT(offsetof(struct ingot_net_info, link_up) == 6, "ingot_net_info.link_up");
INGOT_STATIC_ASSERT(offsetof(struct ingot_net_info, reserved) == 7, "ingot_net_info.reserved");
INGOT_STATIC_ASSERT(offsetof(struct ingot_net_info, mtu) == 8, "ingot_net_info.mtu");
INGOT_STATIC_ASSERT(offsetof(struct ingot_net_info, reserved2) == 12, "ingot_net_info.reserved2");
INGOT_STATIC_ASSERT(offsetof(struct ingot_net_info, driver) == 16, "ingot_net_info.driver");
INGOT_STATIC_ASSERT(offsetof(struct ingot_net_info, rx_frames) == 32, "ingot_net_info.rx_frames");
INGOT_STATIC_ASSERT(offsetof(struct ingot_net_info, rx_bytes) == 40, "ingot_net_info.rx_bytes");
INGOT_STATIC_ASSERT(offsetof(struct ingot_net_info, tx_frames) == 48, "ingot_net_info.tx_frames");
INGOT_STATIC_ASSERT(offsetof(struct ingot_net_info, tx_bytes) == 56, "ingot_net_info.tx_bytes");
INGOT_STATIC_ASSERT(offsetof(struct ingot_net_info, rx_dropped) == 64, "ingot_net_info.rx_dropped");
INGOT_STATIC_ASSERT(offsetof(struct ingot_net_info, rx_errors) == 72, "ingot_net_info.rx_errors");
INGOT_STATIC_ASSERT(offsetof(struct ingot_net_info, tx_errors) == 80, "ingot_net_info.tx_errors");

struct ingot_net_frame {
    uint64_t address;
    uint64_t len;
};
INGOT_STATIC_ASSERT(sizeof(struct ingot_net_frame) == 16, "struct ingot_net_frame size");
INGOT_STATIC_ASSERT(offsetof(struct ingot_net_frame, address) == 0, "ingot_net_frame.address");
INGOT_STATIC_ASSERT(offsetof(struct ingot_net_frame, len) == 8, "ingot_net_frame.len");

struct ingot_pci_info {
    uint16_t segment;
    uint8_t bus;
    uint8_t slot;
    uint8_t function;
    uint8_t base_class;
    uint8_t subclass;
    uint8_t prog_if;
    uint16_t vendor_id;
    uint16_t device_id;
    uint8_t revision;
    uint8_t reserved[3];
    uint8_t driver[16];
};
INGOT_STATIC_ASSERT(sizeof(struct ingot_pci_info) == 32, "struct ingot_pci_info size");
INGOT_STATIC_ASSERT(offsetof(struct ingot_pci_info, segment) == 0, "ingot_pci_info.segment");
INGOT_STATIC_ASSERT(offsetof(struct ingot_pci_info, bus) == 2, "ingot_pci_info.bus");
INGOT_STATIC_ASSERT(offsetof(struct ingot_pci_info, slot) == 3, "ingot_pci_info.slot");
INGOT_STATIC_ASSERT(offsetof(struct ingot_pci_info, function) == 4, "ingot_pci_info.function");
INGOT_STATIC_ASSERT(offsetof(struct ingot_pci_info, base_class) == 5, "ingot_pci_info.base_class");
INGOT_STATIC_ASSERT(offsetof(struct ingot_pci_info, subclass) == 6, "ingot_pci_info.subclass");
INGOT_STATIC_ASSERT(offsetof(struct ingot_pci_info, prog_if) == 7, "ingot_pci_info.prog_if");
INGOT_STATIC_ASSERT(offsetof(struct ingot_pci_info, vendor_id) == 8, "ingot_pci_info.vendor_id");
INGOT_STATIC_ASSERT(offsetof(struct ingot_pci_info, device_id) == 10, "ingot_pci_info.device_id");
INGOT_STATIC_ASSERT(offsetof(struct ingot_pci_info, revision) == 12, "ingot_pci_info.revision");
INGOT_STATIC_ASSERT(offsetof(struct ingot_pci_info, reserved) == 13, "ingot_pci_info.reserved");
INGOT_STATIC_ASSERT(offsetof(struct ingot_pci_info, driver) == 16, "ingot_pci_info.driver");

struct ingot_api_table {
    uint64_t magic;
    uint32_t version;
    uint32_t size;
    int64_t (*console_write)(const void *bytes, uint64_t len);
    int64_t (*console_read)(void);
    int64_t (*memory_info)(struct ingot_memory_info *info);
    int64_t (*time_ns)(void);
    int64_t (*delay_us)(uint64_t microseconds);
    int64_t (*core_id)(void);
    int64_t (*core_count)(void);
    int64_t (*task_submit)(ingot_task_entry entry, uint64_t argument, uint64_t group);
    int64_t (*task_run_one)(void);
    int64_t (*group_create)(void);
    int64_t (*group_wait)(uint64_t group);
    int64_t (*group_release)(uint64_t group);
    int64_t (*core_stats)(uint64_t core, struct ingot_core_stats *stats);
    int64_t (*run_on_core)(uint64_t core, ingot_task_entry entry, uint64_t argument);
    int64_t (*cores_busy)(void);
    int64_t (*spin_lock)(uint64_t *lock);
    int64_t (*spin_unlock)(uint64_t *lock);
    int64_t (*reboot)(void);
    int64_t (*shutdown)(void);
    int64_t (*disk_count)(void);
    int64_t (*disk_info)(uint64_t disk, struct ingot_disk_info *info);
    int64_t (*disk_read)(uint64_t disk, uint64_t lba, uint64_t count, void *buffer);
    int64_t (*disk_write)(uint64_t disk, uint64_t lba, uint64_t count, const void *buffer);
    int64_t (*disk_flush)(uint64_t disk);
    int64_t (*net_count)(void);
    int64_t (*net_info)(uint64_t nic, struct ingot_net_info *info);
    int64_t (*net_send)(uint64_t nic, const void *frame, uint64_t len);
    int64_t (*net_receive)(uint64_t nic, void *buffer, uint64_t capacity);
    int64_t (*net_send_batch)(uint64_t nic, const struct ingot_net_frame *frames, uint64_t count);
    int64_t (*net_receive_batch)(uint64_t nic, struct ingot_net_frame *frames, uint64_t count);
    int64_t (*program_run)(const void *image, uint64_t len, uint64_t keep_bytes);
    int64_t (*disk_submit)(uint64_t disk, uint64_t direction, uint64_t lba, uint64_t count, void *buffer);
    int64_t (*disk_poll)(uint64_t ticket);
    int64_t (*disk_wait)(uint64_t ticket);
    int64_t (*program_run_args)(const void *image, uint64_t len, uint64_t keep_bytes, const char *args, uint64_t args_len);
    int64_t (*pci_count)(void);
    int64_t (*pci_info)(uint64_t index, struct ingot_pci_info *info);
    int64_t (*wait_events)(uint64_t events, uint64_t deadline_ns);
    int64_t (*interrupt_events)(void);
    int64_t (*core_halted_ns)(uint64_t core);
    int64_t (*task_run_some)(uint64_t max);
};
INGOT_STATIC_ASSERT(sizeof(struct ingot_api_table) == 344, "struct ingot_api_table size");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, magic) == 0, "ingot_api_table.magic");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, version) == 8, "ingot_api_table.version");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, size) == 12, "ingot_api_table.size");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, console_write) == 16, "ingot_api_table.console_write");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, console_read) == 24, "ingot_api_table.console_read");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, memory_info) == 32, "ingot_api_table.memory_info");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, time_ns) == 40, "ingot_api_table.time_ns");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, delay_us) == 48, "ingot_api_table.delay_us");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, core_id) == 56, "ingot_api_table.core_id");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, core_count) == 64, "ingot_api_table.core_count");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, task_submit) == 72, "ingot_api_table.task_submit");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, task_run_one) == 80, "ingot_api_table.task_run_one");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, group_create) == 88, "ingot_api_table.group_create");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, group_wait) == 96, "ingot_api_table.group_wait");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, group_release) == 104, "ingot_api_table.group_release");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, core_stats) == 112, "ingot_api_table.core_stats");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, run_on_core) == 120, "ingot_api_table.run_on_core");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, cores_busy) == 128, "ingot_api_table.cores_busy");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, spin_lock) == 136, "ingot_api_table.spin_lock");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, spin_unlock) == 144, "ingot_api_table.spin_unlock");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, reboot) == 152, "ingot_api_table.reboot");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, shutdown) == 160, "ingot_api_table.shutdown");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, disk_count) == 168, "ingot_api_table.disk_count");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, disk_info) == 176, "ingot_api_table.disk_info");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, disk_read) == 184, "ingot_api_table.disk_read");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, disk_write) == 192, "ingot_api_table.disk_write");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, disk_flush) == 200, "ingot_api_table.disk_flush");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, net_count) == 208, "ingot_api_table.net_count");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, net_info) == 216, "ingot_api_table.net_info");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, net_send) == 224, "ingot_api_table.net_send");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, net_receive) == 232, "ingot_api_table.net_receive");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, net_send_batch) == 240, "ingot_api_table.net_send_batch");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, net_receive_batch) == 248, "ingot_api_table.net_receive_batch");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, program_run) == 256, "ingot_api_table.program_run");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, disk_submit) == 264, "ingot_api_table.disk_submit");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, disk_poll) == 272, "ingot_api_table.disk_poll");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, disk_wait) == 280, "ingot_api_table.disk_wait");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, program_run_args) == 288, "ingot_api_table.program_run_args");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, pci_count) == 296, "ingot_api_table.pci_count");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, pci_info) == 304, "ingot_api_table.pci_info");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, wait_events) == 312, "ingot_api_table.wait_events");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, interrupt_events) == 320, "ingot_api_table.interrupt_events");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, core_halted_ns) == 328, "ingot_api_table.core_halted_ns");
INGOT_STATIC_ASSERT(offsetof(struct ingot_api_table, task_run_some) == 336, "ingot_api_table.task_run_some");

#ifdef __cplusplus
}
#endif

#endif /* INGOT_H */
