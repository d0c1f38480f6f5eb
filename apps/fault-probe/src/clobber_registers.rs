//! A program written in assembly that breaks the calling convention on purpose: it
//! queues a task that returns with RBX, RBP and R12–R15 overwritten and the direction
//! flag set, runs it on this core, then returns its own status the same way. The
//! kernel must survive both returns, print the status and exit with it.
//! On the unsafe allow-list: its whole purpose is to run hand-written machine code.
#![no_std]
#![no_main]

/// The status the program returns (QEMU then exits with `2 * 7 + 1`).
pub const STATUS: u64 = 7;

core::arch::global_asm!(
    r#"
.section .text.entry, "ax"
.global _start
_start:
    sub rsp, 8
    mov rbx, rdi
    lea rdi, [rip + start_message]
    mov esi, {start_len}
    call [rbx + {console_write}]
    lea rdi, [rip + clobbering_task]
    mov esi, {task_argument}
    xor edx, edx
    call [rbx + {task_submit}]
    test rax, rax
    jnz 3f
2:
    call [rbx + {task_run_one}]
    cmp qword ptr [rip + task_marker], {task_argument}
    jne 2b
    lea rdi, [rip + task_message]
    mov esi, {task_len}
    call [rbx + {console_write}]
    jmp 4f
3:
    lea rdi, [rip + submit_message]
    mov esi, {submit_len}
    call [rbx + {console_write}]
4:
    add rsp, 8
    mov eax, {status}
    jmp clobber_and_return

clobbering_task:
    mov [rip + task_marker], rdi
    jmp clobber_and_return

// Overwrites every callee-saved register with a non-canonical value (any use as a
// pointer faults), sets the direction flag and returns.
clobber_and_return:
    movabs rbx, 0x8badf00d0000b000
    movabs rbp, 0x8badf00d0000b001
    movabs r12, 0x8badf00d0000b012
    movabs r13, 0x8badf00d0000b013
    movabs r14, 0x8badf00d0000b014
    movabs r15, 0x8badf00d0000b015
    std
    ret

.section .rodata.messages, "a"
start_message:
    .ascii "fault-probe: clobbering callee-saved registers\n"
start_message_end:
task_message:
    .ascii "fault-probe: task with clobbered registers ran\n"
task_message_end:
submit_message:
    .ascii "fault-probe: task not queued\n"
submit_message_end:

.if (start_message_end - start_message) != {start_len} || (task_message_end - task_message) != {task_len} || (submit_message_end - submit_message) != {submit_len}
.error "message lengths do not match"
.endif

.section .data.marker, "aw"
.balign 8
task_marker:
    .quad 0
.section .text
"#,
    console_write = const core::mem::offset_of!(ingot_abi::ApiTable, console_write),
    task_submit = const core::mem::offset_of!(ingot_abi::ApiTable, task_submit),
    task_run_one = const core::mem::offset_of!(ingot_abi::ApiTable, task_run_one),
    start_len = const 47,
    task_len = const 47,
    submit_len = const 29,
    task_argument = const 0x5A,
    status = const STATUS,
);

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {
        core::hint::spin_loop();
    }
}
