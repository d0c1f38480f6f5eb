//! The register-convention entry stubs of BareMetal's call table at 0x100010.
//!
//! The table itself is in the image header (`stub.rs`); its eight quads name the
//! `baremetal_*` labels defined here. Each stub saves RFLAGS and all fifteen general
//! registers on the caller's stack, clears the direction flag, calls the kernel's
//! handler in `ingot_kernel::compat` with a pointer to that frame (stack aligned for
//! System V), and restores the frame: so every register comes back as it was except
//! what the handler wrote into the frame, which are exactly the call's documented
//! outputs (and the carry and zero flags). Works on any caller stack alignment. When
//! the handler returns `true`, BareMetal's `RESET` ended the `SMP_SET` assignment that
//! made the call: the stub jumps to `ingot_baremetal_reset_abort`
//! (`ingot_arch::program::call_baremetal_resettable`) instead of returning to it.

use core::sync::atomic::AtomicU64;

macro_rules! baremetal_entry {
    ($label:literal, $handler:path) => {
        core::arch::global_asm!(
            concat!(".global ", $label),
            ".section .text",
            concat!($label, ":"),
            "pushfq",
            "push rax", "push rbx", "push rcx", "push rdx", "push rsi", "push rdi", "push rbp",
            "push r8", "push r9", "push r10", "push r11", "push r12", "push r13", "push r14",
            "push r15",
            "cld",
            "mov rdi, rsp",
            "mov rbp, rsp",
            "and rsp, -16",
            "call {handler}",
            "mov rsp, rbp",
            // The handler says whether `RESET` ends the `SMP_SET` assignment that made
            // this call: then its frames (this stub's and the program's) are dropped.
            "test al, al",
            "jnz ingot_baremetal_reset_abort",
            "pop r15", "pop r14", "pop r13", "pop r12", "pop r11", "pop r10", "pop r9", "pop r8",
            "pop rbp", "pop rdi", "pop rsi", "pop rdx", "pop rcx", "pop rbx", "pop rax",
            "popfq",
            "ret",
            handler = sym $handler,
        );
    };
}

baremetal_entry!("baremetal_input", ingot_kernel::compat::input);
baremetal_entry!("baremetal_output", ingot_kernel::compat::output);
baremetal_entry!("baremetal_net_tx", ingot_kernel::compat::net_tx);
baremetal_entry!("baremetal_net_rx", ingot_kernel::compat::net_rx);
baremetal_entry!("baremetal_nvs_read", ingot_kernel::compat::nvs_read);
baremetal_entry!("baremetal_nvs_write", ingot_kernel::compat::nvs_write);
baremetal_entry!("baremetal_system", ingot_kernel::compat::system);
baremetal_entry!("baremetal_user", ingot_kernel::compat::user);

unsafe extern "C" {
    /// The `b_output` quad at 0x100018 (`stub.rs`).
    static baremetal_output_pointer: AtomicU64;
    /// The kernel's own `b_output` stub.
    fn baremetal_output();
}

/// Tells the kernel where the `b_output` pointer is and what its default is.
pub fn install() {
    // SAFETY: `baremetal_output_pointer` is a quad in the writable image header, 8-byte
    // aligned (0x100018), that only `STDOUT_SET` and programs write, so it may be
    // shared as an atomic for the whole run.
    let output_pointer = unsafe { &*core::ptr::addr_of!(baremetal_output_pointer) };
    ingot_kernel::compat::install(ingot_kernel::compat::Table {
        output_pointer,
        default_output: baremetal_output as *const () as u64,
    });
}
