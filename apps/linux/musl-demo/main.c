/* musl-demo: an ordinary C program that knows nothing of Ingot, linked statically
 * against Debian's musl as a static PIE, running on Ingot's Linux system-call entry.
 * It uses printf, malloc/free, qsort, strtol, time, getenv and an unknown system call
 * (which must fail with ENOSYS and let the program go on), and returns its argument
 * count + 10. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int compare(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    printf("musl: hello from %s, argc=%d\n", argv[0], argc);
    for (int i = 1; i < argc; i++) {
        printf("musl: argv[%d]=%s\n", i, argv[i]);
    }
    const char *home = getenv("HOME");
    printf("musl: HOME=%s MISSING=%s\n", home ? home : "(none)",
           getenv("MISSING") ? "set" : "(none)");

    long numbers[8];
    const char *texts[8] = {"42", "-7", "1000", "0x1f", "3", "-250", "17", "8"};
    for (int i = 0; i < 8; i++) {
        numbers[i] = strtol(texts[i], NULL, 0);
    }
    qsort(numbers, 8, sizeof numbers[0], compare);
    printf("musl: sorted");
    for (int i = 0; i < 8; i++) {
        printf(" %ld", numbers[i]);
    }
    printf("\n");

    /* Small and large blocks (musl takes large ones from mmap), filled and checked. */
    int intact = 1;
    for (size_t size = 16; size <= (1u << 20); size *= 4) {
        unsigned char *block = malloc(size);
        if (block == NULL) {
            printf("musl: malloc(%zu) failed\n", size);
            return 1;
        }
        memset(block, (int)(size & 0xff), size);
        for (size_t i = 0; i < size; i++) {
            intact &= block[i] == (unsigned char)(size & 0xff);
        }
        free(block);
    }
    char *text = malloc(64);
    snprintf(text, 64, "%s-%d-%.2f", "formatted", 7, 2.5);
    printf("musl: malloc intact=%s snprintf=%s\n", intact ? "yes" : "no", text);
    free(text);

    struct timespec before, after;
    clock_gettime(CLOCK_MONOTONIC, &before);
    struct timespec pause = {0, 2000000};
    nanosleep(&pause, NULL);
    clock_gettime(CLOCK_MONOTONIC, &after);
    long elapsed_us = (after.tv_sec - before.tv_sec) * 1000000 + (after.tv_nsec - before.tv_nsec) / 1000;
    printf("musl: time() works=%s slept>=2ms=%s\n", time(NULL) >= 0 ? "yes" : "no",
           elapsed_us >= 2000 ? "yes" : "no");

    /* Bad arguments get Linux's error codes, and the program goes on. */
    ssize_t bad_write = write(1, (const void *)0x1000, 16);
    int write_errno = errno;
    ssize_t bad_fd = write(7, "x", 1);
    int fd_errno = errno;
    printf("musl: bad pointer write=%zd %s, bad fd write=%zd %s\n", bad_write,
           write_errno == EFAULT ? "EFAULT" : strerror(write_errno), bad_fd,
           fd_errno == EBADF ? "EBADF" : strerror(fd_errno));

    errno = 0;
    long result = syscall(999);
    printf("musl: unknown system call returned %ld errno=%s\n", result,
           errno == ENOSYS ? "ENOSYS" : strerror(errno));
    fflush(stdout);
    return 10 + argc;
}
