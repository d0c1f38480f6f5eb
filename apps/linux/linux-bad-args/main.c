/* linux-bad-args: every Linux system call the kernel serves, given bad arguments (bad
 * pointers, wrapping ranges, bad descriptors, sizes and flags), must fail with the
 * errno Linux gives and leave the program running. Prints one line per failed check
 * and a summary; returns the number of failed checks. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define BAD_POINTER ((long)0x1000)
#define WRAPPING ((long)-16)

static int checks, failures;

static void expect(const char *what, long result, int wanted_errno) {
    int got = errno;
    checks++;
    if (result != -1 || got != wanted_errno) {
        failures++;
        printf("bad-args: FAILED %s: result %ld errno %d (%s), wanted %d\n", what, result, got,
               strerror(got), wanted_errno);
    }
    errno = 0;
}

int main(void) {
    struct iovec_record {
        long base, len;
    } bad_piece[2] = {{(long)"ok\n", 3}, {BAD_POINTER, 8}};
    struct timespec too_many_ns = {0, 2000000000};
    char byte;

    expect("write bad pointer", syscall(SYS_write, 1, BAD_POINTER, 5), EFAULT);
    expect("write wrapping range", syscall(SYS_write, 1, WRAPPING, 64), EFAULT);
    expect("write bad fd", syscall(SYS_write, 9, "x", 1), EBADF);
    expect("writev bad vector", syscall(SYS_writev, 1, BAD_POINTER, 2), EFAULT);
    expect("writev bad piece", syscall(SYS_writev, 1, bad_piece, 2), EFAULT);
    expect("writev too many", syscall(SYS_writev, 1, bad_piece, 5000), EINVAL);
    expect("read bad pointer", syscall(SYS_read, 0, BAD_POINTER, 10), EFAULT);
    expect("read bad fd", syscall(SYS_read, 5, &byte, 1), EBADF);
    expect("clock_gettime bad pointer", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, BAD_POINTER),
           EFAULT);
    expect("nanosleep bad pointer", syscall(SYS_nanosleep, BAD_POINTER, 0), EFAULT);
    expect("nanosleep bad nanoseconds", syscall(SYS_nanosleep, &too_many_ns, 0), EINVAL);
    expect("uname bad pointer", syscall(SYS_uname, BAD_POINTER), EFAULT);
    expect("mmap of a file", syscall(SYS_mmap, 0, 4096, 3, 0x02, 3, 0), EINVAL);
    expect("mmap MAP_FIXED", syscall(SYS_mmap, 0x10000, 4096, 3, 0x32, -1, 0), EINVAL);
    expect("mmap huge", syscall(SYS_mmap, 0, (long)1 << 60, 3, 0x22, -1, 0), ENOMEM);
    expect("ioctl unknown request", syscall(SYS_ioctl, 1, 0x1234, 0), ENOTTY);
    expect("ioctl TIOCGWINSZ bad pointer", syscall(SYS_ioctl, 1, 0x5413, BAD_POINTER), EFAULT);
    expect("arch_prctl unknown code", syscall(SYS_arch_prctl, 0x9999, 0), EINVAL);
    expect("arch_prctl GET_FS bad pointer", syscall(SYS_arch_prctl, 0x1003, BAD_POINTER), EFAULT);
    expect("getrandom bad pointer", syscall(SYS_getrandom, BAD_POINTER, 16, 0), EFAULT);
    expect("unknown call 500", syscall(500), ENOSYS);
    expect("unknown call 500 again (reported once)", syscall(500), ENOSYS);

    /* brk outside the heap's room is refused by returning the unchanged break. */
    long before = syscall(SYS_brk, 0);
    long after = syscall(SYS_brk, (long)1 << 62);
    checks++;
    if (after != before) {
        failures++;
        printf("bad-args: FAILED brk beyond the window moved the break\n");
    }
    printf("bad-args: %d checks, %d failed, still running\n", checks, failures);
    return failures;
}
