/*
 * disk_bench: the Linux peer's counterpart of apps/disk-bench, for `cargo xtask bench
 * disk`. Built by xtask with the host's gcc (`gcc -O2 -static -s`) and put into the
 * peer's initramfs-disk.cpio as /bin/disk-bench; `/init` runs it as `disk-bench /dev/<disk>` in
 * `peer=disk` mode.
 *
 * Same phases and sizes as apps/disk-bench, on the block device opened with O_DIRECT
 * (so the guest page cache is bypassed, as Ingot has none): 32 MiB of sequential 1 MiB
 * writes and an fsync, the same 32 MiB read back in 1 MiB requests, then 4,000 4 KiB
 * reads at the same pseudo-random 4 KiB-aligned offsets (same xorshift64 seed and
 * modulus: the disk's size in 4 KiB blocks), and the same reads again with 32 in flight
 * through Linux AIO (io_setup/io_submit/io_getevents as raw system calls on the
 * O_DIRECT descriptor; liburing is not in Debian's static set), each slot resubmitted
 * as soon as its completion is reaped. `disk-bench --parallel DEV...` runs only the
 * parallel phase instead: one child process per disk, pinned to CPU k, reads disk k's
 * first 32 MiB in 1 MiB O_DIRECT requests, all at once (`par-read`); a device named
 * several times is read by that many children, child k its k-th 32 MiB. It prints the same
 * `disk-bench: <phase> start|done` lines, which the host times for both guests alike;
 * each done line also carries the guest's own CLOCK_MONOTONIC duration (`ns=`), for
 * reference only. `disk-bench --random N DEV` runs only the first N random reads, one at
 * a time (`bench disk --instructions-only` counts instructions for two values of N). Exit status: 0, or the step that failed (messages on stderr).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/aio_abi.h>
#include <sys/ioctl.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024UL * 1024UL)
#define SEQUENTIAL_BYTES (32 * MIB)
#define RANDOM_READS 4000
#define BLOCK 4096UL
#define QUEUE_DEPTH 32

static int fail(int code, const char *what);

/* The random 4 KiB-aligned offsets: xorshift64, as apps/disk-bench. */
static uint64_t next_offset(uint64_t *state, uint64_t blocks)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return (*state % blocks) * BLOCK;
}

/* Submits one 4 KiB read of slot `slot` at `offset`. */
static int submit_read(aio_context_t context, struct iocb *control, int fd, void *buffer,
                       uint64_t offset, uint64_t slot)
{
    memset(control, 0, sizeof *control);
    control->aio_fildes = (uint32_t)fd;
    control->aio_lio_opcode = IOCB_CMD_PREAD;
    control->aio_buf = (uint64_t)(uintptr_t)buffer;
    control->aio_nbytes = BLOCK;
    control->aio_offset = (int64_t)offset;
    control->aio_data = slot;
    struct iocb *list[1] = {control};
    return syscall(SYS_io_submit, context, 1L, list) == 1 ? 0 : -1;
}

/* RANDOM_READS reads, QUEUE_DEPTH in flight. */
static int queued_reads(int fd, uint64_t blocks)
{
    aio_context_t context = 0;
    if (syscall(SYS_io_setup, QUEUE_DEPTH, &context) != 0)
        return fail(18, "io_setup");
    unsigned char *buffers;
    errno = posix_memalign((void **)&buffers, BLOCK, QUEUE_DEPTH * BLOCK);
    if (errno != 0)
        return fail(19, "posix_memalign");
    static struct iocb controls[QUEUE_DEPTH];
    struct io_event events[QUEUE_DEPTH];
    uint64_t state = 0x2545F4914F6CDD1DULL;
    int submitted = 0, completed = 0;
    for (; submitted < QUEUE_DEPTH && submitted < RANDOM_READS; submitted++)
        if (submit_read(context, &controls[submitted], fd, buffers + submitted * BLOCK,
                        next_offset(&state, blocks), (uint64_t)submitted) != 0)
            return fail(20, "io_submit");
    while (completed < RANDOM_READS) {
        long got = syscall(SYS_io_getevents, context, 1L, (long)QUEUE_DEPTH, events, NULL);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return fail(21, "io_getevents");
        }
        for (long i = 0; i < got; i++) {
            if (events[i].res != (int64_t)BLOCK) {
                errno = events[i].res < 0 ? (int)-events[i].res : EIO;
                return fail(22, "queued read");
            }
            completed++;
            uint64_t slot = events[i].data;
            if (submitted < RANDOM_READS) {
                if (submit_read(context, &controls[slot], fd, buffers + slot * BLOCK,
                                next_offset(&state, blocks), slot) != 0)
                    return fail(20, "io_submit");
                submitted++;
            }
        }
    }
    syscall(SYS_io_destroy, context);
    return 0;
}

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

static int fail(int code, const char *what)
{
    fprintf(stderr, "disk-bench: %s failed: %s\n", what, strerror(errno));
    return code;
}

/* Full-length pread/pwrite at `offset`; a short transfer counts as failure. */
static int transfer(int fd, int write_it, void *buffer, size_t length, off_t offset)
{
    ssize_t done = write_it ? pwrite(fd, buffer, length, offset)
                            : pread(fd, buffer, length, offset);
    if (done != (ssize_t)length) {
        if (done >= 0)
            errno = EIO;
        return -1;
    }
    return 0;
}

/* Child k of the parallel phase: pinned to CPU k, reads `devices[k]` sequentially,
 * from its first byte, or, when the same device is named before it, from the next
 * 32 MiB after those earlier readers' (one disk shared by several readers). */
static int parallel_child(int k, char **devices)
{
    cpu_set_t cpus;
    CPU_ZERO(&cpus);
    CPU_SET(k, &cpus);
    sched_setaffinity(0, sizeof cpus, &cpus);
    off_t start = 0;
    for (int j = 0; j < k; j++)
        if (strcmp(devices[j], devices[k]) == 0)
            start += (off_t)SEQUENTIAL_BYTES;
    int fd = open(devices[k], O_RDONLY | O_DIRECT);
    if (fd < 0)
        return fail(30, devices[k]);
    unsigned char *buffer;
    errno = posix_memalign((void **)&buffer, BLOCK, MIB);
    if (errno != 0)
        return fail(31, "posix_memalign");
    for (off_t at = start; at < start + (off_t)SEQUENTIAL_BYTES; at += MIB)
        if (transfer(fd, 0, buffer, MIB, at) != 0)
            return fail(32, "parallel read");
    return 0;
}

/* The parallel phase over `count` devices. */
static int parallel(int count, char **devices)
{
    printf("disk-bench: par-read start bytes=%lu disks=%d\n", count * SEQUENTIAL_BYTES, count);
    uint64_t t0 = now_ns();
    for (int k = 0; k < count; k++) {
        pid_t child = fork();
        if (child < 0)
            return fail(33, "fork");
        if (child == 0)
            _exit(parallel_child(k, devices));
    }
    int failures = 0;
    for (int k = 0; k < count; k++) {
        int status = 0;
        if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            failures++;
    }
    printf("disk-bench: par-read done ns=%llu failures=%d\n",
           (unsigned long long)(now_ns() - t0), failures);
    return failures == 0 ? 0 : 34;
}

/* `reads` 4 KiB reads one at a time at the first of the random offsets. */
static int random_reads(int fd, uint64_t blocks, long reads)
{
    unsigned char *buffer;
    errno = posix_memalign((void **)&buffer, BLOCK, BLOCK);
    if (errno != 0)
        return fail(13, "posix_memalign");
    uint64_t state = 0x2545F4914F6CDD1DULL;
    printf("disk-bench: rand-read start ops=%ld\n", reads);
    uint64_t t0 = now_ns();
    for (long i = 0; i < reads; i++) {
        if (transfer(fd, 0, buffer, BLOCK, (off_t)next_offset(&state, blocks)) != 0)
            return fail(17, "random read");
    }
    printf("disk-bench: rand-read done ns=%llu\n", (unsigned long long)(now_ns() - t0));
    free(buffer);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 3 && strcmp(argv[1], "--parallel") == 0)
        return parallel(argc - 2, argv + 2);
    long random_only = -1;
    if (argc == 4 && strcmp(argv[1], "--random") == 0) {
        char *end;
        random_only = strtol(argv[2], &end, 10);
        if (*end != '\0' || random_only < 0) {
            fprintf(stderr, "disk-bench: --random needs a number of reads\n");
            return 2;
        }
        argv += 2;
        argc -= 2;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: disk-bench /dev/<block device> | --random N DEV | --parallel DEV...\n");
        return 2;
    }
    int fd = open(argv[1], random_only >= 0 ? O_RDONLY | O_DIRECT : O_RDWR | O_DIRECT);
    if (fd < 0)
        return fail(10, argv[1]);
    uint64_t disk_bytes = 0;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        disk_bytes = (uint64_t)st.st_size; /* a plain file: for trying it on the host */
    else if (ioctl(fd, BLKGETSIZE64, &disk_bytes) != 0)
        return fail(11, "BLKGETSIZE64");
    if (random_only >= 0)
        return random_reads(fd, disk_bytes / BLOCK, random_only);
    if (disk_bytes < SEQUENTIAL_BYTES) {
        fprintf(stderr, "disk-bench: disk too small (%llu bytes)\n",
                (unsigned long long)disk_bytes);
        return 12;
    }
    unsigned char *buffer;
    errno = posix_memalign((void **)&buffer, BLOCK, MIB);
    if (errno != 0)
        return fail(13, "posix_memalign");
    for (size_t i = 0; i < MIB; i++)
        buffer[i] = (unsigned char)(i * 7);

    printf("disk-bench: seq-write start bytes=%lu\n", SEQUENTIAL_BYTES);
    uint64_t t0 = now_ns();
    for (off_t at = 0; at < (off_t)SEQUENTIAL_BYTES; at += MIB)
        if (transfer(fd, 1, buffer, MIB, at) != 0)
            return fail(14, "sequential write");
    if (fsync(fd) != 0)
        return fail(15, "fsync");
    printf("disk-bench: seq-write done ns=%llu\n", (unsigned long long)(now_ns() - t0));

    printf("disk-bench: seq-read start bytes=%lu\n", SEQUENTIAL_BYTES);
    t0 = now_ns();
    for (off_t at = 0; at < (off_t)SEQUENTIAL_BYTES; at += MIB)
        if (transfer(fd, 0, buffer, MIB, at) != 0)
            return fail(16, "sequential read");
    printf("disk-bench: seq-read done ns=%llu\n", (unsigned long long)(now_ns() - t0));

    uint64_t blocks = disk_bytes / BLOCK;
    int random = random_reads(fd, blocks, RANDOM_READS);
    if (random != 0)
        return random;

    printf("disk-bench: rand-read-qd32 start ops=%d\n", RANDOM_READS);
    t0 = now_ns();
    int queued = queued_reads(fd, blocks);
    if (queued != 0)
        return queued;
    printf("disk-bench: rand-read-qd32 done ns=%llu\n", (unsigned long long)(now_ns() - t0));
    close(fd);
    return 0;
}
