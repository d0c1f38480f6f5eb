//! The 32-bit entry stub shared by the kernel and the floor image.
//!
//! Both direct-boot protocols enter in 32-bit protected mode with paging off: PVH at
//! `pvh_entry` with EBX = `hvm_start_info`, Multiboot1 at `multiboot_entry` with
//! EAX = 0x2BADB002 and EBX = the Multiboot information. The stub identity-maps the
//! first 4 GiB with 2 MiB pages (enough for the loader's structures, the kernel and
//! the low MMIO), enters long mode and calls
//! `kmain64(protocol, info_address, loader_magic)`; the kernel then builds its real
//! page tables.
//!
//! Ingot's own disk loaders (BIOS and UEFI) arrive in long mode instead, at
//! `loader64_entry`, whose address is the quad at 1 MiB + 0x78 in the header. They call
//! it with RDI = protocol (3 BIOS, 4 UEFI), RSI = a PVH `hvm_start_info` and RDX = an
//! Ingot framebuffer description (or 0), on any page tables that identity-map the
//! kernel and those structures. The entry switches to the same 4 GiB identity map,
//! GDT and stack as the 32-bit path, so the kernel never runs on a loader's page
//! tables (UEFI's live in memory the kernel may hand out), and calls
//! `kmain64(protocol, start_info, framebuffer_info)`. The header at 1 MiB holds BareMetal's signature
//! (`BAREMETAL` at 0x100003) and call table (0x100010), the Multiboot header
//! (0x100050), at 0x100070 `kernel.bin`'s length and checksum (a `u32` each; the
//! checksum makes the wrapping sum of all the image's little-endian `u32` words zero),
//! which the disk loaders check before they jump, and at 0x100078 the loader entry;
//! Ingot's API table follows at 0x100080 (see the linker script), its magic
//! `INGOTAPI` serving as the image's signature.

/// `kmain64`'s first argument for a PVH boot.
pub const PROTOCOL_PVH: u32 = 1;
/// `kmain64`'s first argument for a Multiboot boot.
pub const PROTOCOL_MULTIBOOT: u32 = 2;
/// `kmain64`'s first argument when Ingot's BIOS loader (`boot/bios`) started us.
pub const PROTOCOL_BIOS: u32 = 3;
/// `kmain64`'s first argument when Ingot's UEFI loader (`boot/uefi`) started us.
pub const PROTOCOL_UEFI: u32 = 4;

core::arch::global_asm!(
    r#"
.section .ingot.header, "aw"
.global ingot_header
ingot_header:
    /* 0x00: ud2; nop (nothing is meant to jump here), 0x03: BareMetal's signature. */
    .byte 0x0F, 0x0B, 0x90
    .ascii "BAREMETAL"
    .long 0
    /* 0x10: BareMetal's call table (`baremetal.rs` in the kernel image; zeros in the
       floor image, which has no kernel behind it). 0x18 is a mutable pointer. */
.global baremetal_table
baremetal_table:
    .quad baremetal_input
.global baremetal_output_pointer
baremetal_output_pointer:
    .quad baremetal_output
    .quad baremetal_net_tx
    .quad baremetal_net_rx
    .quad baremetal_nvs_read
    .quad baremetal_nvs_write
    .quad baremetal_system
    .quad baremetal_user
multiboot_header:
    .long 0x1BADB002
    .long 0x00010002
    .long -(0x1BADB002 + 0x00010002)
    .long multiboot_header
    .long __image_start
    .long __data_end
    .long __image_end
    .long multiboot_entry
    /* 0x70: kernel.bin's length and checksum, written by `cargo xtask build` into the
       flat image the disk loaders read (zero in the ELF: direct boot does not check). */
image_length:
    .long 0
image_checksum:
    .long 0
    /* 0x78: the disk loaders' 64-bit entry. 0x80: Ingot's API table, whose magic
       `INGOTAPI` is the signature the loaders check. */
    .quad loader64_entry

.section .note.Xen, "a", @note
    .balign 4
    .long 4
    .long 4
    .long 18
    .asciz "Xen"
    .balign 4
    .long pvh_entry
    .balign 4

.macro build_boot_tables prefix
    /* PML4 -> one PDPT -> four PDs of 2 MiB pages: the first 4 GiB identity-mapped.
       The same text assembles in 32- and 64-bit mode (addresses stay below 4 GiB). */
    mov edi, offset boot_pml4
    xor eax, eax
    mov ecx, 6 * 1024
    rep stosd
    mov eax, offset boot_pdpt
    or eax, 3
    mov [boot_pml4], eax
    mov eax, offset boot_pd
    or eax, 3
    mov edi, offset boot_pdpt
    mov ecx, 4
\prefix\()_fill_pdpt:
    mov [edi], eax
    add eax, 4096
    add edi, 8
    loop \prefix\()_fill_pdpt
    mov edi, offset boot_pd
    mov eax, 0x83
    xor ecx, ecx
\prefix\()_fill_pd:
    mov [edi + ecx * 8], eax
    add eax, 0x200000
    inc ecx
    cmp ecx, 2048
    jne \prefix\()_fill_pd
.endm

.macro load_data_segments
    /* Flat data selector 0x10 in DS, ES and SS; FS and GS null. */
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax
.endm

.section .text.boot, "ax"
.code32
.global pvh_entry
pvh_entry:
    cli
    mov ebp, 1
    xor esi, esi
    jmp boot32_common
.global multiboot_entry
multiboot_entry:
    cli
    mov ebp, 2
    mov esi, eax
boot32_common:
    mov esp, offset boot_stack_top
    build_boot_tables boot32
    mov eax, cr4
    or eax, 0x20
    mov cr4, eax
    mov eax, offset boot_pml4
    mov cr3, eax
    mov ecx, 0xC0000080
    rdmsr
    or eax, 0x100
    wrmsr
    mov eax, cr0
    or eax, 0x80000001
    mov cr0, eax
    lgdt [boot_gdt_pointer]
    mov eax, 0x08
    push eax
    mov eax, offset boot64_entry
    push eax
    retf
.code64
boot64_entry:
    load_data_segments
    mov esp, offset boot_stack_top
    mov edi, ebp
    mov edx, esi
    mov esi, ebx
    call kmain64
    jmp boot64_halt

.global loader64_entry
loader64_entry:
    cli
    cld
    mov r12, rdi
    mov r13, rsi
    mov r14, rdx
    mov esp, offset boot_stack_top
    build_boot_tables loader64
    mov eax, offset boot_pml4
    mov cr3, rax
    lgdt [boot_gdt_pointer64]
    push 0x08
    mov eax, offset loader64_reload
    push rax
    .byte 0x48, 0xCB
loader64_reload:
    load_data_segments
    mov edi, r12d
    mov rsi, r13
    mov rdx, r14
    call kmain64
boot64_halt:
    cli
    hlt
    jmp boot64_halt

.section .rodata
    .balign 16
boot_gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF
    .quad 0x00CF92000000FFFF
boot_gdt_pointer:
    .word boot_gdt_pointer - boot_gdt - 1
    .long boot_gdt
    .balign 8
boot_gdt_pointer64:
    .word boot_gdt_pointer - boot_gdt - 1
    .quad boot_gdt

.section .bss
    .balign 4096
boot_pml4:
    .skip 4096
boot_pdpt:
    .skip 4096
boot_pd:
    .skip 4096 * 4
.global boot_stack_guard
boot_stack_guard:
    .skip 4096
boot_stack:
    .skip 64 * 1024
boot_stack_top:
.section .text
"#
);
