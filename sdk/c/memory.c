/* malloc and free over the program window's free memory (from the end of .bss up to
 * 64 KiB below the stack), and the memory and string functions compilers call.
 *
 * Blocks come in power-of-two classes from 16 bytes to the whole window; a freed block
 * goes on its class's list and is reused for the next request of that class. Simple
 * and predictable; no block is ever split or merged. Not thread-safe: call it from one
 * core at a time (tasks on other cores should not allocate). */
#include "ingot_program.h"

extern char __bss_end[];

/* Kept free below the stack, as the Rust SDK does. */
#define STACK_GUARD_BYTES (64u * 1024u)
#define HEADER_BYTES 16u
#define CLASSES 48

struct free_block {
    struct free_block *next;
};

static struct free_block *free_lists[CLASSES];
static uintptr_t next_free;
static uintptr_t memory_end;

static int class_of(size_t bytes) {
    int class = 4; /* 16 bytes */
    while (class < CLASSES && ((size_t)1 << class) < bytes + HEADER_BYTES) {
        class++;
    }
    return class;
}

void *malloc(size_t bytes) {
    if (memory_end == 0) {
        struct ingot_memory_info info;
        if (ingot_api->memory_info(&info) < 0) {
            return NULL;
        }
        next_free = ((uintptr_t)__bss_end + 4095) & ~(uintptr_t)4095;
        memory_end = info.window_base + info.window_bytes - info.stack_bytes - STACK_GUARD_BYTES;
    }
    int class = class_of(bytes);
    if (class >= CLASSES) {
        return NULL;
    }
    char *block;
    if (free_lists[class] != NULL) {
        block = (char *)free_lists[class];
        free_lists[class] = free_lists[class]->next;
    } else {
        size_t size = (size_t)1 << class;
        if (next_free > memory_end || memory_end - next_free < size) {
            return NULL;
        }
        block = (char *)next_free;
        next_free += size;
    }
    *(uint64_t *)block = (uint64_t)class;
    return block + HEADER_BYTES;
}

void *calloc(size_t count, size_t bytes) {
    if (bytes != 0 && count > SIZE_MAX / bytes) {
        return NULL;
    }
    void *pointer = malloc(count * bytes);
    if (pointer != NULL) {
        memset(pointer, 0, count * bytes);
    }
    return pointer;
}

void free(void *pointer) {
    if (pointer == NULL) {
        return;
    }
    char *block = (char *)pointer - HEADER_BYTES;
    uint64_t class = *(uint64_t *)block;
    struct free_block *freed = (struct free_block *)block;
    freed->next = free_lists[class];
    free_lists[class] = freed;
}

void *memset(void *destination, int byte, size_t len) {
    unsigned char *d = destination;
    while (len-- > 0) {
        *d++ = (unsigned char)byte;
    }
    return destination;
}

void *memcpy(void *destination, const void *source, size_t len) {
    unsigned char *d = destination;
    const unsigned char *s = source;
    while (len-- > 0) {
        *d++ = *s++;
    }
    return destination;
}

void *memmove(void *destination, const void *source, size_t len) {
    unsigned char *d = destination;
    const unsigned char *s = source;
    if (d < s) {
        while (len-- > 0) {
            *d++ = *s++;
        }
    } else {
        while (len-- > 0) {
            d[len] = s[len];
        }
    }
    return destination;
}

int memcmp(const void *a, const void *b, size_t len) {
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < len; i++) {
        if (x[i] != y[i]) {
            return x[i] - y[i];
        }
    }
    return 0;
}

size_t strlen(const char *text) {
    size_t len = 0;
    while (text[len] != '\0') {
        len++;
    }
    return len;
}

int strcmp(const char *a, const char *b) {
    while (*a != '\0' && *a == *b) {
        a++;
        b++;
    }
    return (unsigned char)*a - (unsigned char)*b;
}
