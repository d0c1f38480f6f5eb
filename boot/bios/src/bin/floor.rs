//! The BIOS benchmark floor: a boot sector that prints `ingot: ready` on COM1 at once
//! and halts, so `cargo xtask bench boot` can subtract what the firmware itself takes
//! to reach a boot sector under the same QEMU flags.
#![no_std]
#![no_main]

core::arch::global_asm!(
    r#"
.section .boot.sector, "awx"
.code16
.global boot_sector_start
boot_sector_start:
    cli
    xor ax, ax
    mov ds, ax
    cld
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
    mov si, offset floor_message
floor_next:
    lodsb
    test al, al
    jz floor_halt
    mov cl, al
    mov dx, 0x3FD
floor_wait:
    in al, dx
    test al, 0x20
    jz floor_wait
    mov dx, 0x3F8
    mov al, cl
    out dx, al
    jmp floor_next
floor_halt:
    hlt
    jmp floor_halt
floor_message:
    .asciz "ingot: ready\r\n"
.section .boot.stage2, "awx"
"#
);

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    loop {
        core::hint::spin_loop();
    }
}
