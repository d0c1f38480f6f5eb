// C++ support for freestanding programs: new and delete over the SDK's malloc and
// free, and what g++ calls for pure virtual functions. No exceptions or RTTI (the
// flags turn them off): a failed new returns through std::terminate's stand-in, which
// ends the program with a fault the kernel reports.
#include <stddef.h>

#include "ingot_program.h"

namespace {
[[noreturn]] void out_of_memory() {
    ingot_puts("c++: out of memory in operator new");
    __builtin_trap();
}

void *allocate(size_t bytes) {
    void *pointer = malloc(bytes);
    if (pointer == nullptr) {
        out_of_memory();
    }
    return pointer;
}
} // namespace

void *operator new(size_t bytes) { return allocate(bytes); }
void *operator new[](size_t bytes) { return allocate(bytes); }
void operator delete(void *pointer) noexcept { free(pointer); }
void operator delete[](void *pointer) noexcept { free(pointer); }
void operator delete(void *pointer, size_t) noexcept { free(pointer); }
void operator delete[](void *pointer, size_t) noexcept { free(pointer); }

extern "C" [[noreturn]] void __cxa_pure_virtual() {
    ingot_puts("c++: pure virtual function called");
    __builtin_trap();
}
