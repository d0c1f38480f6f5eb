/* ingot_program.h: what the C SDK adds to ingot.h for programs: the table the start
 * file keeps, console output with a small printf, the program's memory (malloc and
 * free) and the string functions a freestanding compiler expects. Not a libc: programs
 * that want one link musl (docs/api.md, "Writing a program"). */
#ifndef INGOT_PROGRAM_H
#define INGOT_PROGRAM_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "ingot.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The kernel's call table, set by the start file before main runs. */
extern const struct ingot_api_table *ingot_api;

/* main(argc, argv): argv[0] is the program's name (init=NAME ARGS... on the kernel
 * command line), argv[argc] is NULL. Its return value is the exit status. */
int main(int argc, char **argv);

/* Console output. ingot_printf knows %d %i %u %x %X %p %s %c %% with the l, ll and z
 * size prefixes and a field width (zero-padded with 0); no floating point. */
int64_t ingot_write(const void *bytes, size_t len);
int ingot_puts(const char *text);
int ingot_printf(const char *format, ...) __attribute__((format(printf, 1, 2)));
int ingot_vprintf(const char *format, va_list args);

/* Program memory: the window's free memory between the image and the stack. */
void *malloc(size_t bytes);
void *calloc(size_t count, size_t bytes);
void free(void *pointer);

/* What the compiler may call on its own even in freestanding code. */
void *memset(void *destination, int byte, size_t len);
void *memcpy(void *destination, const void *source, size_t len);
void *memmove(void *destination, const void *source, size_t len);
int memcmp(const void *a, const void *b, size_t len);
size_t strlen(const char *text);
int strcmp(const char *a, const char *b);

#ifdef __cplusplus
}
#endif

#endif /* INGOT_PROGRAM_H */
