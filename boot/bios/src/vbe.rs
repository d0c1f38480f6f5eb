//! VBE for stage 2: find a 1024×768 direct-colour 32-bpp mode with a linear
//! framebuffer, set it without letting the video BIOS clear it, and describe it in
//! Ingot's framebuffer record at 0x5100 (`ingot_bootinfo::framebuffer`). Without VBE
//! or such a mode the machine stays on serial (and the BIOS text screen).

core::arch::global_asm!(
    r#"
.section .boot.stage2, "awx"
.code16
# vbe_setup: looks for a 1024x768 direct-colour 32-bpp mode with a linear framebuffer
# (VBE 2.0+: INT 10h 4F00h controller info at 0xC000, 4F01h mode info at 0xC200), sets
# it and writes the framebuffer record at 0x5100. No VBE, or no such mode: returns with
# framebuffer_info = 0 and the machine stays on serial.
vbe_setup:
    mov dword ptr [0xC000], 0x32454256
    mov ax, 0x4F00
    mov di, 0xC000
    int 0x10
    cmp ax, 0x004F
    jne vbe_none
    cmp dword ptr [0xC000], 0x41534556
    jne vbe_none
    mov ax, word ptr [0xC000 + 14]
    mov word ptr [vbe_list_offset], ax
    mov ax, word ptr [0xC000 + 16]
    mov word ptr [vbe_list_segment], ax
vbe_next_mode:
    push ds
    mov si, word ptr [vbe_list_offset]
    mov ax, word ptr [vbe_list_segment]
    mov ds, ax
    mov cx, word ptr [si]
    pop ds
    cmp cx, 0xFFFF
    je vbe_none
    add word ptr [vbe_list_offset], 2
    mov word ptr [vbe_mode], cx
    mov ax, 0x4F01
    mov di, 0xC200
    int 0x10
    cmp ax, 0x004F
    jne vbe_next_mode
    mov al, byte ptr [0xC200]
    and al, 0x99
    cmp al, 0x99
    jne vbe_next_mode
    cmp byte ptr [0xC200 + 25], 32
    jne vbe_next_mode
    cmp byte ptr [0xC200 + 27], 6
    jne vbe_next_mode
    cmp word ptr [0xC200 + 18], 1024
    jne vbe_next_mode
    cmp word ptr [0xC200 + 20], 768
    jne vbe_next_mode

    # Linear framebuffer (bit 14), no clearing by the BIOS (bit 15): the kernel's
    # console clears the screen natively, far faster than the video BIOS under TCG.
    mov bx, word ptr [vbe_mode]
    or bx, 0xC000
    mov ax, 0x4F02
    int 0x10
    cmp ax, 0x004F
    jne vbe_none
    mov dword ptr [0x5100], 0x31424649
    mov dword ptr [0x5100 + 4], 40
    mov eax, dword ptr [0xC200 + 40]
    mov dword ptr [0x5100 + 8], eax
    mov dword ptr [0x5100 + 12], 0
    movzx eax, word ptr [0xC200 + 18]
    mov dword ptr [0x5100 + 16], eax
    movzx eax, word ptr [0xC200 + 20]
    mov dword ptr [0x5100 + 20], eax
    movzx eax, word ptr [0xC200 + 16]
    mov dword ptr [0x5100 + 24], eax
    mov dword ptr [0x5100 + 28], 32
    mov al, byte ptr [0xC200 + 32]
    mov byte ptr [0x5100 + 32], al
    mov al, byte ptr [0xC200 + 34]
    mov byte ptr [0x5100 + 33], al
    mov al, byte ptr [0xC200 + 36]
    mov byte ptr [0x5100 + 34], al
    mov dword ptr [framebuffer_info], 0x5100
vbe_none:
    ret

    .balign 2
vbe_list_offset:
    .word 0
vbe_list_segment:
    .word 0
vbe_mode:
    .word 0
"#
);
