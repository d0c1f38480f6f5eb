//! The boot sector: set up segments, the serial port and the stack, read stage 2
//! (`__stage2_sectors` sectors from LBA 34, fixed by `tools/mkimage`) to 0x7E00 with
//! INT 13h AH=42h, and jump to it. Its `print` routine (serial COM1 at 115200 8N1 and
//! the BIOS teletype) and the error exits are shared with stage 2.

core::arch::global_asm!(
    r#"
.section .boot.sector, "awx"
.code16
.global boot_sector_start
boot_sector_start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7C00
    cld
    # Normalise CS:IP to 0000:7Cxx (some BIOSes enter at 07C0:0000).
    .byte 0xEA
    .word boot_sector_main
    .word 0
boot_sector_main:
    sti
    mov byte ptr [boot_drive], dl
    # COM1: 115200 baud, 8N1, FIFO on.
    mov dx, 0x3F9
    xor al, al
    out dx, al
    mov dx, 0x3FB
    mov al, 0x80
    out dx, al
    mov dx, 0x3F8
    mov al, 1
    out dx, al
    mov dx, 0x3F9
    xor al, al
    out dx, al
    mov dx, 0x3FB
    mov al, 3
    out dx, al
    mov dx, 0x3FA
    mov al, 0xC7
    out dx, al
    mov dx, 0x3FC
    mov al, 3
    out dx, al

    mov ah, 0x41
    mov bx, 0x55AA
    mov dl, byte ptr [boot_drive]
    int 0x13
    jc boot_no_lba
    cmp bx, 0xAA55
    jne boot_no_lba

    mov eax, 34
    mov cx, offset __stage2_sectors
    mov dx, 0x07E0
    call read_sectors
    jmp stage2_start

boot_no_lba:
    mov si, offset msg_no_lba
    jmp fail

# read_sectors: EAX = first LBA, CX = sector count (at most 64), DX = destination
# segment (offset 0). Stops with a message on a read error.
.global read_sectors
read_sectors:
    pushad
    mov word ptr [dap_count], cx
    mov word ptr [dap_segment], dx
    mov dword ptr [dap_lba], eax
    mov si, offset dap
    mov dl, byte ptr [boot_drive]
    mov ah, 0x42
    int 0x13
    jc disk_error
    popad
    ret
disk_error:
    mov si, offset msg_disk_error
    call print
    mov al, ah
    call print_hex8
    mov si, offset msg_newline
# fail: prints the message at SI and stops the machine.
.global fail
fail:
    call print
fail_halt:
    cli
    hlt
    jmp fail_halt

# print: writes the NUL-terminated string at DS:SI.
.global print
print:
    push ax
print_next:
    lodsb
    test al, al
    jz print_done
    call putc
    jmp print_next
print_done:
    pop ax
    ret

# print_hex8: writes AL as two hex digits.
print_hex8:
    push ax
    shr al, 4
    call putc_hex
    pop ax
    and al, 0x0F
putc_hex:
    add al, '0'
    cmp al, '9'
    jbe putc
    add al, 'a' - '9' - 1
# putc: writes AL to COM1 (no wait if the port is absent: LSR reads 0xFF) and the screen.
putc:
    pushad
    mov cl, al
    mov dx, 0x3FD
putc_wait:
    in al, dx
    test al, 0x20
    jz putc_wait
    mov dx, 0x3F8
    mov al, cl
    out dx, al
    mov ah, 0x0E
    mov al, cl
    xor bx, bx
    int 0x10
    popad
    ret

.global boot_drive
boot_drive:
    .byte 0x80
    .balign 4
dap:
    .byte 0x10, 0
dap_count:
    .word 0
dap_offset:
    .word 0
dap_segment:
    .word 0
dap_lba:
    .quad 0

msg_no_lba:
    .asciz "ingot-bios: the BIOS cannot read the disk by LBA (no INT 13h extensions)\r\n"
msg_disk_error:
    .asciz "ingot-bios: disk read error, BIOS status 0x"
.global msg_newline
msg_newline:
    .asciz "\r\n"
"#
);
