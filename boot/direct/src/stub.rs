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
//! `kmain64(protocol, start_info, framebuffer_info)`.
//!
//! `kernel.bin` holds the image without its trailing `.bss`, so `loader64_entry`
//! zeroes `[__data_end, __image_end)` right after its RAM check, before it uses its
//! stack or any `.bss`; the direct boots get a zeroed `.bss` from the ELF or the
//! Multiboot `bss_end_addr` and do not zero again.
//!
//! Every entry first checks, with registers only, that RAM covers the image, its
//! `.bss` (boot page tables, boot stack, kernel statics) and the page after it, from
//! the Multiboot memory map (or `mem_upper`) or the PVH memory map; if not, it writes
//! `ingot: fatal: RAM too small for the kernel image and .bss (needs RAM to 0x…)` to
//! COM1, writes 0x7F to QEMU's isa-debug-exit port (status 255) and halts, before the
//! missing memory is touched. A Multiboot boot without memory information is refused
//! the same way: the header asks for it, so its absence means the information (which
//! QEMU puts after the image) is not in RAM. A PVH start info without a memory map is
//! left to the kernel's parser, which refuses it.
//!
//! The header at 1 MiB holds BareMetal's signature
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

/* RAM check, before the stub touches its stack or any .bss: RAM must reach from
   __image_start to __image_end + 4096, usable RAM (type 1) up to __image_end and RAM
   of any type for the page after (where Multiboot loaders put their information). This
   is the rule; `kernel/src/memory.rs::check_room` repeats it on the parsed map.
   ESI = the first entry, ECX = the end of the map; \base is the offset of an entry's
   u64 address (its u64 length and u32 type follow); \multiboot selects size-prefixed
   entries (next = entry + size + 4), else they are 24 bytes apart. Each pass over the
   map moves `reach` (EDX) to the end of every entry that starts at or below it; a pass
   that moves nothing ends the walk, so split and unsorted maps are read right. Only
   the first 4 GiB matter. Uses EAX, EDX, EDI, EBP; keeps EBX, ECX, ESI. */
.macro ram_reach_check base, multiboot, fail
    mov edx, offset __image_start
.Lpass\@:
    mov ebp, edx
    mov edi, esi
.Lentry\@:
    mov eax, edi
    add eax, 24
    jc .Lpass_end\@
    cmp eax, ecx
    ja .Lpass_end\@
    cmp dword ptr [edi + \base + 4], 0
    jne .Lnext\@
    mov eax, dword ptr [edi + \base]
    cmp eax, edx
    ja .Lnext\@
    cmp edx, offset __image_end
    jae .Lany_type\@
    cmp dword ptr [edi + \base + 16], 1
    jne .Lnext\@
.Lany_type\@:
    add eax, dword ptr [edi + \base + 8]
    jc .Lto_4g\@
    cmp dword ptr [edi + \base + 12], 0
    je .Lend_known\@
.Lto_4g\@:
    mov eax, 0xFFFFFFFF
.Lend_known\@:
    cmp eax, edx
    jbe .Lnext\@
    mov edx, eax
    cmp edx, offset __image_end + 4096
    jae .Lenough\@
.Lnext\@:
.if \multiboot
    mov eax, dword ptr [edi]
    cmp eax, 20
    jb .Lpass_end\@
    add edi, 4
    add edi, eax
    jc .Lpass_end\@
.else
    add edi, 24
.endif
    jmp .Lentry\@
.Lpass_end\@:
    cmp edx, ebp
    jne .Lpass\@
    jmp \fail
.Lenough\@:
.endm

/* The RAM check on a PVH hvm_start_info at EBX (below 4 GiB): its memory map
   (version >= 1), at most its first 1024 entries. Without a map (or one above 4 GiB)
   the stub cannot tell, and the kernel's parser reports the missing map. */
.macro pvh_ram_check fail
    cmp dword ptr [ebx], 0x336EC578
    jne .Lskip\@
    cmp dword ptr [ebx + 4], 1
    jb .Lskip\@
    cmp dword ptr [ebx + 44], 0
    jne .Lskip\@
    mov esi, dword ptr [ebx + 40]
    test esi, esi
    jz .Lskip\@
    mov eax, dword ptr [ebx + 48]
    test eax, eax
    jz .Lskip\@
    cmp eax, 1024
    jbe .Lcount\@
    mov eax, 1024
.Lcount\@:
    imul eax, eax, 24
    mov ecx, esi
    add ecx, eax
    jc \fail
    ram_reach_check 0, 0, \fail
.Lskip\@:
.endm

/* RAM too small: one line on COM1 (16550 at 0x3F8, polling LSR bit 5), 0x7F to QEMU's
   isa-debug-exit port (exit status 255, as the kernel's fatal path), then halt. No
   stack and no .bss: both may lie beyond RAM. */
.macro com1_put_byte
    mov dx, 0x3FD
.Lwait\@:
    in al, dx
    test al, 0x20
    jz .Lwait\@
    mov dx, 0x3F8
    mov al, cl
    out dx, al
.endm
.macro ram_too_small_stop
    mov esi, offset ram_too_small_text
.Ltext\@:
    mov cl, byte ptr [esi]
    test cl, cl
    jz .Ldigits\@
    com1_put_byte
    inc esi
    jmp .Ltext\@
.Ldigits\@:
    mov edi, offset __image_end + 4096
    mov esi, 28
    xor ebp, ebp
.Ldigit\@:
    mov eax, edi
    mov ecx, esi
    shr eax, cl
    and eax, 15
    or ebp, eax
    jnz .Lprint\@
    test esi, esi
    jnz .Lskip\@
.Lprint\@:
    add al, '0'
    cmp al, '9'
    jbe .Lput\@
    add al, 'a' - '0' - 10
.Lput\@:
    mov cl, al
    com1_put_byte
.Lskip\@:
    sub esi, 4
    jns .Ldigit\@
    mov cl, ')'
    com1_put_byte
    mov cl, 10
    com1_put_byte
    mov dx, 0xF4
    mov eax, 0x7F
    out dx, eax
.Lhalt\@:
    cli
    hlt
    jmp .Lhalt\@
.endm

.section .text.boot, "ax"
.code32
.global pvh_entry
pvh_entry:
    cli
    pvh_ram_check ram_too_small32
    mov ebp, 1
    xor esi, esi
    jmp boot32_common
.global multiboot_entry
multiboot_entry:
    cli
    mov esi, eax
    cmp eax, 0x2BADB002
    jne multiboot_checked
    /* Our header asks for memory information (flag 1), so a loader gives the map
       (flag 6) or mem_upper (flag 0); neither means the information itself is not in
       RAM (QEMU puts it after the image). */
    mov eax, dword ptr [ebx]
    test eax, 0x40
    jz multiboot_mem_upper
    mov esi, dword ptr [ebx + 48]
    mov ecx, dword ptr [ebx + 44]
    add ecx, esi
    jc ram_too_small32
    ram_reach_check 4, 1, ram_too_small32
    jmp multiboot_ram_enough
multiboot_mem_upper:
    test eax, 1
    jz ram_too_small32
    mov eax, dword ptr [ebx + 8]
    cmp eax, 0x3FFC00
    jae multiboot_ram_enough
    shl eax, 10
    add eax, 0x100000
    cmp eax, offset __image_end + 4096
    jb ram_too_small32
multiboot_ram_enough:
    mov esi, 0x2BADB002
multiboot_checked:
    mov ebp, 2
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
    /* Ingot's loaders: UEFI allocates the image with its .bss at 1 MiB, but nothing
       guarantees the page after it, and the BIOS loader copies without looking. */
    mov rax, rsi
    shr rax, 32
    jnz loader64_ram_checked
    mov ebx, esi
    pvh_ram_check ram_too_small64
loader64_ram_checked:
    /* kernel.bin stops before .bss (the loaders copy only the file): zero it before
       the stack or any static is used. The hand-over lies below 1 MiB (BIOS) or in
       pages the UEFI loader allocated outside [1 MiB, __image_end). */
    mov edi, offset __data_end
    mov ecx, offset __image_end
    sub ecx, edi
    xor eax, eax
    rep stosb
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

.code32
ram_too_small32:
    ram_too_small_stop
.code64
ram_too_small64:
    ram_too_small_stop
ram_too_small_text:
    .asciz "ingot: fatal: RAM too small for the kernel image and .bss (needs RAM to 0x"

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
