//! Stage 2: find the kernel on disk, gather the machine's facts, enter long mode.
//!
//! 1. GPT (LBA 1): walk the entries for Ingot's BMFS partition type GUID.
//! 2. BMFS: check the `BMFS` tag at byte 1024, look `kernel.bin`, `cmdline` and
//!    `boot.app` up in the 64-entry directory at byte 4096, read them (the kernel to
//!    0x20000, at most 320 KiB — the image without `.bss`, which the kernel's entry
//!    zeroes, so everything handed over stays below 1 MiB; the command line to 0x5200, at most 1023 bytes; the
//!    program, if present and at most 128 KiB, to 0x70000, where it stays and is
//!    passed as the PVH boot module the kernel runs; an empty or larger one is passed
//!    as an empty module, which the kernel refuses with its failure status).
//! 3. E820 into 24-byte records at 0x6000 (the PVH memory-map layout).
//! 4. VBE: a 32-bpp linear-framebuffer mode, described at 0x5100 (see
//!    `ingot_bootinfo::framebuffer`); none found means serial only.
//! 5. A20 (INT 15h 2401h, then port 0x92), PVH `hvm_start_info` at 0x5000, page
//!    tables identity-mapping the first GiB, then real mode → long mode in one step.
//! 6. Copy the kernel to 1 MiB and jump to the 64-bit entry stored at 1 MiB + 0x78 with
//!    RDI = 3 (BIOS), RSI = start info, RDX = framebuffer info or 0.
//!
//! Checks before the jump: the GPT's entry count is at most 1024 (a corrupt count is
//! refused, not scanned); every file's sectors have 32-bit LBAs (BMFS block numbers
//! that would wrap are refused); `kernel.bin` has the Ingot header (`INGO` at 0x80, the
//! API table's magic; a loader entry at 0x78), its length field
//! equals the file's size and its words sum to zero (the checksum `xtask` writes).
//! Every failure prints `ingot-bios: …` on COM1 and the screen and halts.

core::arch::global_asm!(
    r#"
# More GPT entries than this (256 sectors) are refused rather than scanned: a corrupt
# count of 0xFFFFFFFF would otherwise read the whole disk.
.set GPT_MAX_ENTRIES, 1024
.section .boot.stage2, "awx"
.code16
.global stage2_start
stage2_start:
    xor eax, eax
    mov di, 0x5000
    mov cx, 0x80
    rep stosd
    mov si, offset msg_stage2
    call print

    # 1. GPT header.
    mov eax, 1
    mov cx, 1
    mov dx, 0x0C00
    call read_sectors
    cmp dword ptr [0xC000], 0x20494645
    jne stage2_no_gpt
    cmp dword ptr [0xC004], 0x54524150
    jne stage2_no_gpt
    mov eax, dword ptr [0xC000 + 72]
    mov dword ptr [gpt_entry_lba], eax
    mov eax, dword ptr [0xC000 + 80]
    cmp eax, 0
    je stage2_no_bmfs
    cmp eax, GPT_MAX_ENTRIES
    ja stage2_gpt_too_many
    mov dword ptr [gpt_entries_left], eax
    cmp dword ptr [0xC000 + 84], 128
    jne stage2_no_gpt
gpt_next_sector:
    mov eax, dword ptr [gpt_entry_lba]
    mov cx, 1
    mov dx, 0x0C00
    call read_sectors
    inc dword ptr [gpt_entry_lba]
    mov bx, 0xC000
gpt_next_entry:
    mov si, offset bmfs_type_guid
    mov di, bx
    mov cx, 16
    repe cmpsb
    je gpt_found
    add bx, 128
    dec dword ptr [gpt_entries_left]
    jz stage2_no_bmfs
    cmp bx, 0xC200
    jb gpt_next_entry
    jmp gpt_next_sector
gpt_found:
    cmp dword ptr [bx + 36], 0
    jne stage2_no_bmfs
    mov eax, dword ptr [bx + 32]
    mov dword ptr [bmfs_lba], eax

    # 2. BMFS block 0: tag and directory (16 sectors = 8 KiB).
    mov cx, 16
    mov dx, 0x0C00
    call read_sectors
    cmp dword ptr [0xC000 + 1024], 0x53464D42
    jne stage2_no_tag
    mov si, offset name_kernel
    call find_file
    jc stage2_no_kernel
    cmp ecx, 0
    je stage2_no_kernel
    cmp ecx, 0x50000
    ja stage2_kernel_too_large
    mov dword ptr [kernel_size], ecx
    mov dx, 0x2000
    call load_file
    push ds
    mov ax, 0x2000
    mov ds, ax
    cmp dword ptr [0x80], 0x4F474E49
    jne stage2_bad_kernel_ds
    cmp dword ptr [0x78], 0
    je stage2_bad_kernel_ds
    # The header's length must be the file's (a multiple of 4), and the image's words
    # must sum to zero.
    cmp dword ptr [0x70], ecx
    jne stage2_corrupt_kernel_ds
    test cl, 3
    jnz stage2_corrupt_kernel_ds
    pop ds
    call kernel_sum
    test eax, eax
    jnz stage2_corrupt_kernel

    mov si, offset name_cmdline
    call find_file
    jc stage2_no_cmdline
    cmp ecx, 1023
    jbe stage2_cmdline_fits
    mov ecx, 1023
stage2_cmdline_fits:
    cmp ecx, 0
    je stage2_no_cmdline
    mov edi, ecx
    mov dx, 0x0520
    call load_file
    mov byte ptr [0x5200 + di], 0
    mov dword ptr [0x5000 + 24], 0x5200
stage2_no_cmdline:

    # A boot.app that is empty or too large is passed on as an empty module, so the
    # kernel reports the program it cannot run instead of booting as if none was named.
    mov si, offset name_init
    call find_file
    jc stage2_no_init
    mov dword ptr [0x5040], 0x70000
    mov dword ptr [0x5000 + 12], 1
    mov dword ptr [0x5000 + 16], 0x5040
    cmp ecx, 0
    je stage2_no_init
    cmp ecx, 0x20000
    ja stage2_init_too_large
    mov dword ptr [0x5048], ecx
    mov dx, 0x7000
    call load_file
    jmp stage2_no_init
stage2_init_too_large:
    mov si, offset msg_init_too_large
    call print
stage2_no_init:

    # 3. E820.
    mov di, 0x6000
    xor ebx, ebx
    xor bp, bp
e820_next:
    mov dword ptr [di + 20], 1
    mov eax, 0xE820
    mov edx, 0x534D4150
    mov ecx, 24
    int 0x15
    jc e820_done
    cmp eax, 0x534D4150
    jne e820_done
    mov dword ptr [di + 20], 0
    mov eax, dword ptr [di + 8]
    or eax, dword ptr [di + 12]
    jz e820_skip
    add di, 24
    inc bp
    cmp bp, 128
    jae e820_done
e820_skip:
    test ebx, ebx
    jnz e820_next
e820_done:
    test bp, bp
    jz stage2_no_e820
    mov word ptr [0x5000 + 48], bp

    # 4. VBE linear framebuffer (optional).
    call vbe_setup

    # 5. A20, start info, page tables, long mode.
    mov ax, 0x2401
    int 0x15
    in al, 0x92
    or al, 2
    and al, 0xFE
    out 0x92, al

    mov dword ptr [0x5000], 0x336EC578
    mov dword ptr [0x5000 + 4], 1
    mov dword ptr [0x5000 + 40], 0x6000

    cli
    xor eax, eax
    mov di, 0x1000
    mov cx, 3 * 1024
    rep stosd
    mov dword ptr [0x1000], 0x2003
    mov dword ptr [0x2000], 0x3003
    mov di, 0x3000
    mov eax, 0x83
stage2_fill_pd:
    mov dword ptr [di], eax
    add eax, 0x200000
    add di, 8
    cmp di, 0x4000
    jb stage2_fill_pd
    mov eax, 0x1000
    mov cr3, eax
    mov eax, cr4
    or eax, 0x20
    mov cr4, eax
    mov ecx, 0xC0000080
    rdmsr
    or eax, 0x100
    wrmsr
    lgdt [stage2_gdt_pointer]
    mov eax, cr0
    or eax, 0x80000001
    mov cr0, eax
    .byte 0x66, 0xEA
    .long stage2_long_mode
    .word 0x08

stage2_no_gpt:
    mov si, offset msg_no_gpt
    jmp fail
stage2_no_bmfs:
    mov si, offset msg_no_bmfs
    jmp fail
stage2_no_tag:
    mov si, offset msg_no_tag
    jmp fail
stage2_no_kernel:
    mov si, offset msg_no_kernel
    jmp fail
stage2_kernel_too_large:
    mov si, offset msg_kernel_too_large
    jmp fail
stage2_bad_kernel_ds:
    pop ds
    mov si, offset msg_bad_kernel
    jmp fail
stage2_no_e820:
    mov si, offset msg_no_e820
    jmp fail
stage2_corrupt_kernel_ds:
    pop ds
stage2_corrupt_kernel:
    mov si, offset msg_corrupt_kernel
    jmp fail
stage2_gpt_too_many:
    mov si, offset msg_gpt_too_many
    jmp fail
stage2_block_too_far:
    mov si, offset msg_block_too_far
    jmp fail

# kernel_sum: EAX = the wrapping sum of the [kernel_size] / 4 little-endian dwords
# staged at 0x20000 (segment stepped every 64 KiB).
kernel_sum:
    push es
    xor eax, eax
    xor esi, esi
kernel_sum_next:
    mov edx, esi
    shr edx, 4
    and dx, 0xF000
    add dx, 0x2000
    mov es, dx
    add eax, dword ptr es:[si]
    add esi, 4
    cmp esi, dword ptr [kernel_size]
    jb kernel_sum_next
    pop es
    ret

# find_file: SI = NUL-terminated name; looks it up in the directory at 0xC000 + 4096.
# Found: CF clear, EBX = starting block, ECX = size (files of 4 GiB or more count as
# missing). Not found: CF set.
find_file:
    mov di, 0xC000 + 4096
find_file_entry:
    cmp byte ptr [di], 0
    je find_file_missing
    push si
    push di
find_file_compare:
    mov al, byte ptr [si]
    cmp al, byte ptr [di]
    jne find_file_differs
    inc si
    inc di
    test al, al
    jnz find_file_compare
    pop di
    pop si
    cmp dword ptr [di + 36], 0
    jne find_file_missing
    cmp dword ptr [di + 52], 0
    jne find_file_missing
    mov ebx, dword ptr [di + 32]
    mov ecx, dword ptr [di + 48]
    clc
    ret
find_file_differs:
    pop di
    pop si
    add di, 64
    cmp di, 0xC000 + 8192
    jb find_file_entry
find_file_missing:
    stc
    ret

# load_file: EBX = starting block, ECX = size in bytes, DX = destination segment.
# Keeps every register.
# Reads whole sectors, 64 at a time.
# A file whose sectors do not all have 32-bit LBAs is refused (its block would wrap).
load_file:
    pushad
    cmp ebx, 0x100000
    jae stage2_block_too_far
    mov eax, ebx
    shl eax, 12
    add eax, dword ptr [bmfs_lba]
    jc stage2_block_too_far
    add ecx, 511
    shr ecx, 9
    mov ebp, eax
    add ebp, ecx
    jc stage2_block_too_far
load_file_chunk:
    push ecx
    cmp ecx, 64
    jbe load_file_read
    mov ecx, 64
load_file_read:
    call read_sectors
    add eax, ecx
    mov si, cx
    shl si, 5
    add dx, si
    mov esi, ecx
    pop ecx
    sub ecx, esi
    jnz load_file_chunk
    popad
    ret

.code64
stage2_long_mode:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, 0x7C00
    cld
    mov esi, 0x20000
    mov edi, 0x100000
    mov ecx, dword ptr [kernel_size]
    rep movsb
    mov rax, qword ptr [0x100078]
    mov edi, 3
    mov esi, 0x5000
    mov edx, dword ptr [framebuffer_info]
    jmp rax
.code16

    .balign 8
stage2_gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF
    .quad 0x00CF92000000FFFF
stage2_gdt_pointer:
    .word stage2_gdt_pointer - stage2_gdt - 1
    .long stage2_gdt

    .balign 4
gpt_entry_lba:
    .long 0
gpt_entries_left:
    .long 0
bmfs_lba:
    .long 0
kernel_size:
    .long 0
.global framebuffer_info
framebuffer_info:
    .long 0
# Ingot's BMFS partition type 8C2F6A4E-7B1D-4E5A-9B6F-424D46530001 as GPT stores it.
bmfs_type_guid:
    .byte 0x4E, 0x6A, 0x2F, 0x8C, 0x1D, 0x7B, 0x5A, 0x4E
    .byte 0x9B, 0x6F, 0x42, 0x4D, 0x46, 0x53, 0x00, 0x01
name_kernel:
    .asciz "kernel.bin"
name_cmdline:
    .asciz "cmdline"
name_init:
    .asciz "boot.app"
msg_init_too_large:
    .asciz "ingot-bios: boot.app is larger than 128 KiB; passed on as empty\r\n"
msg_stage2:
    .asciz "ingot-bios: loading kernel.bin\r\n"
msg_no_gpt:
    .asciz "ingot-bios: no GUID partition table on the boot disk\r\n"
msg_no_bmfs:
    .asciz "ingot-bios: no BMFS partition in the GPT\r\n"
msg_no_tag:
    .asciz "ingot-bios: the BMFS partition has no BMFS tag\r\n"
msg_no_kernel:
    .asciz "ingot-bios: kernel.bin not found on the BMFS partition\r\n"
msg_kernel_too_large:
    .asciz "ingot-bios: kernel.bin is larger than 320 KiB\r\n"
msg_bad_kernel:
    .asciz "ingot-bios: kernel.bin has no Ingot header with a loader entry\r\n"
msg_no_e820:
    .asciz "ingot-bios: the BIOS gave no E820 memory map\r\n"
msg_corrupt_kernel:
    .asciz "ingot-bios: kernel.bin truncated or corrupt\r\n"
msg_gpt_too_many:
    .asciz "ingot-bios: the GPT lists more than 1024 partition entries; refused\r\n"
msg_block_too_far:
    .asciz "ingot-bios: a file on the BMFS partition lies beyond LBA 2^32; refused\r\n"
"#
);
