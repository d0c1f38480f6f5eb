/* Compiles only if a C compiler lays out every Ingot struct exactly as Rust does: the
 * header's _Static_asserts check each field's offsetof and each struct's size. Built by
 * ingot-abi's host tests (gcc -std=c11 -fsyntax-only) and again by every C program. */
#include "ingot.h"

_Static_assert(sizeof(void *) == 8, "Ingot programs are 64-bit");
_Static_assert(sizeof(ingot_task_entry) == 8, "function pointers are 64-bit");
