//! The GDT (flat 64-bit code and data plus a TSS) and the IDT, and loading them.
//!
//! The TSS exists for its interrupt stack table: double faults, NMIs and machine
//! checks switch to their own stacks, so a kernel stack overflow is still reported
//! instead of ending in a silent triple fault.

use core::cell::UnsafeCell;

/// Kernel code segment selector.
pub const KERNEL_CODE: u16 = 0x08;
/// Kernel data segment selector.
pub const KERNEL_DATA: u16 = 0x10;
const TSS_SELECTOR: u16 = 0x18;

/// IST slot (1-based as the IDT encodes it) used by double fault.
pub const IST_DOUBLE_FAULT: u8 = 1;
/// IST slot used by NMI and machine check.
pub const IST_CRITICAL: u8 = 2;

const IST_STACK_BYTES: usize = 16 * 1024;

#[repr(C, packed(4))]
struct TaskStateSegment {
    reserved0: u32,
    privilege_stacks: [u64; 3],
    reserved1: u64,
    interrupt_stacks: [u64; 7],
    reserved2: u64,
    reserved3: u16,
    io_map_base: u16,
}

#[repr(C, align(16))]
struct Stack([u8; IST_STACK_BYTES]);

/// One core's GDT, TSS and IST stacks. The bootstrap core uses a static one; the
/// platform allocates one for each other core.
#[repr(C, align(16))]
pub struct CoreTables {
    gdt: [u64; 5],
    tss: TaskStateSegment,
    double_fault_stack: Stack,
    critical_stack: Stack,
}

/// Bytes a [`CoreTables`] needs.
pub const CORE_TABLES_BYTES: usize = core::mem::size_of::<CoreTables>();

struct Shared<T>(UnsafeCell<T>);

// SAFETY: written only by `load_bootstrap` (once, on the bootstrap core, before other
// cores start) and by `set_interrupt_gate` under the same rule; afterwards only read.
unsafe impl<T> Sync for Shared<T> {}

static BOOTSTRAP_TABLES: Shared<CoreTables> = Shared(UnsafeCell::new(CoreTables {
    gdt: [0; 5],
    tss: TaskStateSegment {
        reserved0: 0,
        privilege_stacks: [0; 3],
        reserved1: 0,
        interrupt_stacks: [0; 7],
        reserved2: 0,
        reserved3: 0,
        io_map_base: 0,
    },
    double_fault_stack: Stack([0; IST_STACK_BYTES]),
    critical_stack: Stack([0; IST_STACK_BYTES]),
}));

/// The IDT, shared by all cores.
static IDT: Shared<[[u64; 2]; 256]> = Shared(UnsafeCell::new([[0; 2]; 256]));

#[repr(C, packed)]
struct DescriptorPointer {
    limit: u16,
    base: u64,
}

fn gate(handler: u64, ist: u8) -> [u64; 2] {
    const PRESENT_INTERRUPT_GATE: u64 = 0x8E;
    let low = (handler & 0xFFFF)
        | (u64::from(KERNEL_CODE) << 16)
        | (u64::from(ist) << 32)
        | (PRESENT_INTERRUPT_GATE << 40)
        | ((handler >> 16) & 0xFFFF) << 48;
    [low, handler >> 32]
}

fn fill(tables: &mut CoreTables) {
    let double_fault_top = tables.double_fault_stack.0.as_ptr_range().end as u64;
    let critical_top = tables.critical_stack.0.as_ptr_range().end as u64;
    tables.tss = TaskStateSegment {
        reserved0: 0,
        privilege_stacks: [0; 3],
        reserved1: 0,
        interrupt_stacks: [0; 7],
        reserved2: 0,
        reserved3: 0,
        io_map_base: core::mem::size_of::<TaskStateSegment>() as u16,
    };
    tables.tss.interrupt_stacks[usize::from(IST_DOUBLE_FAULT - 1)] = double_fault_top;
    tables.tss.interrupt_stacks[usize::from(IST_CRITICAL - 1)] = critical_top;
    let tss_base = core::ptr::addr_of!(tables.tss) as u64;
    let tss_limit = (core::mem::size_of::<TaskStateSegment>() - 1) as u64;
    tables.gdt = [
        0,
        0x00AF_9A00_0000_FFFF, // 64-bit code, present, ring 0
        0x00CF_9200_0000_FFFF, // data, present, writable
        (tss_limit & 0xFFFF)
            | (tss_base & 0xFF_FFFF) << 16
            | 0x89 << 40 // present, 64-bit available TSS
            | ((tss_limit >> 16) & 0xF) << 48
            | ((tss_base >> 24) & 0xFF) << 56,
        tss_base >> 32,
    ];
}

/// Loads `tables` (filled by `fill`) and the shared IDT on the calling core.
///
/// # Safety
/// `tables` must live forever and belong to this core alone.
unsafe fn activate(tables: &CoreTables) {
    let gdt_pointer = DescriptorPointer {
        limit: (core::mem::size_of_val(&tables.gdt) - 1) as u16,
        base: tables.gdt.as_ptr() as u64,
    };
    let idt_pointer = DescriptorPointer { limit: (256 * 16 - 1) as u16, base: IDT.0.get() as u64 };
    // SAFETY: both tables live forever (contract, and IDT is a static); the far return
    // reloads CS with the code descriptor just installed, and the data selectors point
    // at the flat data descriptor.
    unsafe {
        core::arch::asm!(
            "lgdt [{gdt}]",
            "push {code}",
            "lea {scratch}, [rip + 2f]",
            "push {scratch}",
            "retfq",
            "2:",
            "mov ds, {data:e}",
            "mov es, {data:e}",
            "mov ss, {data:e}",
            "xor {scratch:e}, {scratch:e}",
            "mov fs, {scratch:e}",
            "mov gs, {scratch:e}",
            "ltr {tss:x}",
            "lidt [{idt}]",
            gdt = in(reg) &gdt_pointer,
            idt = in(reg) &idt_pointer,
            code = in(reg) u64::from(KERNEL_CODE),
            data = in(reg) u32::from(KERNEL_DATA),
            tss = in(reg) TSS_SELECTOR,
            scratch = out(reg) _,
        );
    }
}

/// Sets IDT entry `vector` to an interrupt gate for `handler` (no IST).
///
/// # Safety
/// Only before other cores start (the IDT is shared and read by them).
pub unsafe fn set_interrupt_gate(vector: u8, handler: u64) {
    // SAFETY: per the contract nothing else touches the IDT concurrently.
    unsafe { (*IDT.0.get())[usize::from(vector)] = gate(handler, 0) }
}

/// Builds and loads the GDT, TSS and IDT on the bootstrap core, with every CPU
/// exception vector routed to [`crate::exceptions`] and the kernel's interrupt
/// vectors to [`crate::interrupts`].
///
/// # Safety
/// Must be called once, on the bootstrap core, before other cores start and before
/// interrupts are enabled.
pub unsafe fn load_bootstrap() {
    // SAFETY: per the contract, nothing else accesses the IDT or BOOTSTRAP_TABLES now.
    let (idt, tables) = unsafe { (&mut *IDT.0.get(), &mut *BOOTSTRAP_TABLES.0.get()) };
    for (vector, entry) in crate::exceptions::entry_points().iter().enumerate() {
        let ist = match vector {
            8 => IST_DOUBLE_FAULT,
            2 | 18 => IST_CRITICAL,
            _ => 0,
        };
        idt[vector] = gate(*entry, ist);
    }
    for (vector, entry) in crate::interrupts::entry_points() {
        idt[usize::from(vector)] = gate(entry, 0);
    }
    fill(tables);
    // SAFETY: the bootstrap tables are a static used by this core only.
    unsafe { activate(tables) }
}

/// Fills and loads `tables` on the calling (application) core, with the shared IDT.
///
/// # Safety
/// `tables` must be memory that lives forever and is used by this core only, and
/// [`load_bootstrap`] must have run.
pub unsafe fn load_for_core(tables: *mut CoreTables) {
    // SAFETY: the caller gives this core exclusive, permanent use of `tables`.
    let tables = unsafe { &mut *tables };
    fill(tables);
    // SAFETY: as above.
    unsafe { activate(tables) }
}
