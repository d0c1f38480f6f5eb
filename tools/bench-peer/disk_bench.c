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
 * modulus: the disk's size in 4 KiB blocks). It prints the same
 * `disk-bench: <phase> start|done` lines, which the host times for both guests alike;
 * each done line also carries the guest's own CLOCK_MONOTONIC duration (`ns=`), for
 * reference only. Exit status: 0, or the step that failed (messages on stderr).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024UL * 1024UL)
#define SEQUENTIAL_BYTES (32 * MIB)
#define RANDOM_READS 4000
#define BLOCK 4096UL

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

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc != 2) {
        fprintf(stderr, "usage: disk-bench /dev/<block device>\n");
        return 2;
    }
    int fd = open(argv[1], O_RDWR | O_DIRECT);
    if (fd < 0)
        return fail(10, argv[1]);
    uint64_t disk_bytes = 0;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        disk_bytes = (uint64_t)st.st_size; /* a plain file: for trying it on the host */
    else if (ioctl(fd, BLKGETSIZE64, &disk_bytes) != 0)
        return fail(11, "BLKGETSIZE64");
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
    uint64_t state = 0x2545F4914F6CDD1DULL;
    printf("disk-bench: rand-read start ops=%d\n", RANDOM_READS);
    t0 = now_ns();
    for (int i = 0; i < RANDOM_READS; i++) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        if (transfer(fd, 0, buffer, BLOCK, (off_t)((state % blocks) * BLOCK)) != 0)
            return fail(17, "random read");
    }
    printf("disk-bench: rand-read done ns=%llu\n", (unsigned long long)(now_ns() - t0));
    close(fd);
    return 0;
}
