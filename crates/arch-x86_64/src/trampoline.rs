//! The real-mode start-up code for application processors (APs).
//!
//! An AP starts in 16-bit real mode at the page named by the start-up IPI. This code
//! is copied to such a page below 1 MiB, its parameter block is filled in, and it
//! then: loads a small GDT, enters protected mode, enables PAE and long mode with the
//! kernel's page tables, jumps to 64-bit code, takes the next free slot of the slot
//! table (a `lock xadd` on a counter, so many cores can start at once, each with its
//! own slot), loads that slot's stack, counts itself started and calls the kernel's
//! entry with the slot's argument. A core that finds no slot left halts. Everything is
//! addressed relative to the page (EBX holds its physical address), so the code works
//! wherever it is copied.

unsafe extern "C" {
    static ap_trampoline_start: u8;
    static ap_trampoline_end: u8;
    static ap_trampoline_gdtr_base: u8;
    static ap_trampoline_far32: u8;
    static ap_trampoline_far64: u8;
    static ap_trampoline_cr3: u8;
    static ap_trampoline_slots: u8;
    static ap_trampoline_slot_count: u8;
    static ap_trampoline_next_slot: u8;
    static ap_trampoline_entry: u8;
    static ap_trampoline_started: u8;
}

/// Bytes per slot of the slot table: stack top, argument.
pub const SLOT_BYTES: usize = 16;

/// Offsets of the patched fields from the start of the code.
#[allow(missing_docs)] // fields are named after the values they locate
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    pub len: usize,
    pub gdtr_base: usize,
    pub far32: usize,
    pub far64: usize,
    pub cr3: usize,
    /// Physical address of the slot table: [`SLOT_BYTES`] per core, its stack top
    /// then the argument its entry gets.
    pub slots: usize,
    /// Slots in the table (a 64-bit word; cores beyond it halt).
    pub slot_count: usize,
    /// The next slot to take (a 64-bit word, set to 0 before the start-up IPIs).
    pub next_slot: usize,
    pub entry: usize,
    /// Word each AP increments once it runs 64-bit code with its slot taken (so the
    /// starter knows how many arrived).
    pub started: usize,
    /// Offset of the 32-bit entry (target of `far32`).
    pub protected_entry: usize,
    /// Offset of the 64-bit entry (target of `far64`).
    pub long_entry: usize,
}

unsafe extern "C" {
    static ap_trampoline_protected: u8;
    static ap_trampoline_long: u8;
}

fn offset(symbol: *const u8) -> usize {
    symbol as usize - core::ptr::addr_of!(ap_trampoline_start) as usize
}

/// The trampoline's code bytes.
pub fn code() -> &'static [u8] {
    let start = core::ptr::addr_of!(ap_trampoline_start);
    let len = core::ptr::addr_of!(ap_trampoline_end) as usize - start as usize;
    // SAFETY: start and end bracket the trampoline in the kernel's read-only image.
    unsafe { core::slice::from_raw_parts(start, len) }
}

/// Where the fields to patch are.
pub fn layout() -> Layout {
    Layout {
        len: code().len(),
        gdtr_base: offset(core::ptr::addr_of!(ap_trampoline_gdtr_base)),
        far32: offset(core::ptr::addr_of!(ap_trampoline_far32)),
        far64: offset(core::ptr::addr_of!(ap_trampoline_far64)),
        cr3: offset(core::ptr::addr_of!(ap_trampoline_cr3)),
        slots: offset(core::ptr::addr_of!(ap_trampoline_slots)),
        slot_count: offset(core::ptr::addr_of!(ap_trampoline_slot_count)),
        next_slot: offset(core::ptr::addr_of!(ap_trampoline_next_slot)),
        entry: offset(core::ptr::addr_of!(ap_trampoline_entry)),
        started: offset(core::ptr::addr_of!(ap_trampoline_started)),
        protected_entry: offset(core::ptr::addr_of!(ap_trampoline_protected)),
        long_entry: offset(core::ptr::addr_of!(ap_trampoline_long)),
    }
}

core::arch::global_asm!(
    r#"
.section .rodata.trampoline, "a"
.balign 16
.global ap_trampoline_start
ap_trampoline_start:
.code16
    cli
    cld
    movw %cs, %ax
    movw %ax, %ds
    xorl %ebx, %ebx
    movw %ax, %bx
    shll $4, %ebx
    lgdtl (ap_trampoline_gdtr - ap_trampoline_start)
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl *(ap_trampoline_far32 - ap_trampoline_start)
.code32
.global ap_trampoline_protected
ap_trampoline_protected:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl %cr4, %eax
    orl $0x20, %eax
    movl %eax, %cr4
    movl (ap_trampoline_cr3 - ap_trampoline_start)(%ebx), %eax
    movl %eax, %cr3
    movl $0xC0000080, %ecx
    rdmsr
    orl $0x100, %eax
    wrmsr
    movl %cr0, %eax
    orl $0x80000000, %eax
    movl %eax, %cr0
    ljmpl *(ap_trampoline_far64 - ap_trampoline_start)(%ebx)
.code64
.global ap_trampoline_long
ap_trampoline_long:
    movl %ebx, %ebx
    movl $1, %eax
    lock xaddq %rax, (ap_trampoline_next_slot - ap_trampoline_start)(%rbx)
    cmpq (ap_trampoline_slot_count - ap_trampoline_start)(%rbx), %rax
    jae ap_trampoline_halt
    shlq $4, %rax
    addq (ap_trampoline_slots - ap_trampoline_start)(%rbx), %rax
    movq (%rax), %rsp
    movq 8(%rax), %rdi
    movq (ap_trampoline_entry - ap_trampoline_start)(%rbx), %rax
    lock incq (ap_trampoline_started - ap_trampoline_start)(%rbx)
    callq *%rax
ap_trampoline_halt:
    cli
    hlt
    jmp ap_trampoline_halt
.balign 8
ap_trampoline_gdt:
    .quad 0
    .quad 0x00CF9A000000FFFF
    .quad 0x00CF92000000FFFF
    .quad 0x00AF9A000000FFFF
ap_trampoline_gdtr:
    .word 31
.global ap_trampoline_gdtr_base
ap_trampoline_gdtr_base:
    .long 0
.global ap_trampoline_far32
ap_trampoline_far32:
    .long 0
    .word 0x08
.global ap_trampoline_far64
ap_trampoline_far64:
    .long 0
    .word 0x18
.balign 8
.global ap_trampoline_cr3
ap_trampoline_cr3:
    .quad 0
.global ap_trampoline_slots
ap_trampoline_slots:
    .quad 0
.global ap_trampoline_slot_count
ap_trampoline_slot_count:
    .quad 0
.global ap_trampoline_next_slot
ap_trampoline_next_slot:
    .quad 0
.global ap_trampoline_entry
ap_trampoline_entry:
    .quad 0
.global ap_trampoline_started
ap_trampoline_started:
    .quad 0
.global ap_trampoline_end
ap_trampoline_end:
.text
"#,
    options(att_syntax)
);
