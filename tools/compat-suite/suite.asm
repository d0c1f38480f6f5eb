; Ingot's BareMetal compatibility suite, assembly part: calls every entry of the table
; at 0x100010 and every b_system function, checks results and that registers other
; than the documented outputs come back unchanged, and gives each entry bad arguments
; (the carry flag and an error code, and the kernel keeps answering). Then the C part
; (checks.c) runs. One line per check: "compat: ok NAME" or "compat: FAIL NAME".
; At the end "compat: N failures"; with none the suite calls SHUTDOWN.
BITS 64
DEFAULT REL

%include "baremetal.inc"

extern c_checks
extern __bss_start
extern __bss_end

; Values loaded into the registers a call must preserve.
P_RBX equ 0x1111111111111111
P_RBP equ 0x2222222222222222
P_R8  equ 0x8888888888888808
P_R9  equ 0x9999999999999909
P_R10 equ 0xAAAAAAAAAAAAAA10
P_R11 equ 0xBBBBBBBBBBBBBB11
P_R12 equ 0xCCCCCCCCCCCCCC12
P_R13 equ 0xDDDDDDDDDDDDDD13
P_R14 equ 0xEEEEEEEEEEEEEE14
P_R15 equ 0xFFFFFFFFFFFFFF15

; Where the disk checks write: 37 BareMetal sectors from sector 3 (crosses the
; kernel's 32-sector pieces and, on 512-byte disks, many device sectors).
NVS_FIRST equ 3
NVS_COUNT equ 37
; Cores the SMP checks can address (APIC IDs 0..255, as the reference).
SMP_LOOPS equ 2000

%macro MSG 1+
	[section .rodata]
%%text: db %1
%%end:
	__?SECT?__
	push rsi
	push rcx
	mov rsi, %%text
	mov rcx, %%end - %%text
	call [abs b_output]
	pop rcx
	pop rsi
%endmacro

; CHECK cc, 'name'[, label]: passes when condition cc holds (flags as they are now);
; the optional label is where earlier failed tests jump (it fails whatever the flags).
%macro CHECK 2-3
	j%1 %%ok
%if %0 == 3
%3:
%endif
	inc qword [failures]
	MSG 'compat: FAIL ', %2, 10
	jmp %%done
%%ok:
	MSG 'compat: ok ', %2, 10
%%done:
%endmacro

%macro SET_PATTERNS 0
	mov rbx, P_RBX
	mov rbp, P_RBP
	mov r8, P_R8
	mov r9, P_R9
	mov r10, P_R10
	mov r11, P_R11
	mov r12, P_R12
	mov r13, P_R13
	mov r14, P_R14
	mov r15, P_R15
%endmacro

; Leaves ZF set if rbx, rbp and r8-r15 still hold the patterns (uses only flags and
; the stack).
%macro PATTERNS_KEPT 0
	call patterns_kept
%endmacro

; Compares register %1 with value %2 (through the stack, no other register used).
%macro EQ 2
	push rax
	mov rax, %2
	cmp %1, rax
	pop rax
%endmacro

; Calls b_system function %1 with RAX = %2, RDX = %3.
%macro SYS 3
	mov rcx, %1
	mov rax, %2
	mov rdx, %3
	call [abs b_system]
%endmacro

section .text.start
global _start
_start:
	push rbx
	push rbp
	push r12
	push r13
	push r14
	push r15
	; The file ends where .bss begins: clear it, as BareMetal's crt0 does.
	mov rdi, __bss_start
	mov rcx, __bss_end
	sub rcx, rdi
	xor eax, eax
	rep stosb
	MSG 'compat: suite start', 10
	call check_header
	call check_output
	call check_input_user
	call check_time
	call check_memory_and_screen
	call check_smp
	call check_lock_and_reset
	call check_stdout
	call check_dump_and_bad_functions
	call check_callbacks
	call check_bus
	call check_net
	call check_nvs
	call c_checks
	add [failures], rax
	call check_keyboard
	MSG 'compat: '
	mov rax, [failures]
	call print_decimal
	MSG ' failures', 10
	mov rax, [failures]
	test rax, rax
	jnz .return
	SYS SHUTDOWN, 0, 0
.return:
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbp
	pop rbx
	ret

section .text

patterns_kept:
	EQ rbx, P_RBX
	jne .out
	EQ rbp, P_RBP
	jne .out
	EQ r8, P_R8
	jne .out
	EQ r9, P_R9
	jne .out
	EQ r10, P_R10
	jne .out
	EQ r11, P_R11
	jne .out
	EQ r12, P_R12
	jne .out
	EQ r13, P_R13
	jne .out
	EQ r14, P_R14
	jne .out
	EQ r15, P_R15
.out:
	ret

check_header:
	mov rax, 'BAREMETA'
	cmp [abs 0x100003], rax
	jne .bad
	cmp byte [abs 0x10000B], 'L'
	CHECK e, 'signature BAREMETAL at 0x100003', .bad
	mov rax, 'INGOTAPI'
	cmp [abs 0x100080], rax
	CHECK e, 'native table still at 0x100080'
	ret

check_output:
	SET_PATTERNS
	mov rsi, hello_text
	mov rcx, hello_end - hello_text
	mov rax, 0x0123456789ABCDEF
	mov rdx, 0x0FEDCBA987654321
	mov rdi, 0x5555555555555555
	call [abs b_output]
	jc .bad
	PATTERNS_KEPT
	jne .bad
	EQ rax, 0x0123456789ABCDEF
	jne .bad
	EQ rdx, 0x0FEDCBA987654321
	jne .bad
	EQ rdi, 0x5555555555555555
	jne .bad
	EQ rcx, hello_end - hello_text
	jne .bad
	EQ rsi, hello_text
	CHECK e, 'b_output preserves every register', .bad
	mov rsi, 0x1000
	mov rcx, 16
	call [abs b_output]
	jnc .bad2
	EQ rax, E_BAD_ADDRESS
	jne .bad2
	EQ rsi, 0x1000
	CHECK e, 'b_output refuses a pointer outside the program (CF, BadAddress)', .bad2
	mov rsi, hello_text
	mov rcx, -1
	call [abs b_output]
	jnc .bad3
	EQ rax, E_BAD_ADDRESS
	CHECK e, 'b_output refuses a huge count', .bad3
	ret

check_input_user:
	SET_PATTERNS
	mov rax, 0x1234567800000055
	mov rcx, 0x77
	call [abs b_input]
	jnz .bad
	PATTERNS_KEPT
	jne .bad
	EQ rcx, 0x77
	jne .bad
	EQ rax, 0x1234567800000000
	CHECK e, 'b_input: no key gives AL=0 and ZF, other bits and registers kept', .bad
	SET_PATTERNS
	mov rax, 0x4242
	mov rcx, 0x4343
	mov rdx, 0x4444
	mov rsi, 0x4545
	mov rdi, 0x4646
	call [abs b_user]
	PATTERNS_KEPT
	jne .bad2
	EQ rax, 0x4242
	jne .bad2
	EQ rcx, 0x4343
	jne .bad2
	EQ rdx, 0x4444
	jne .bad2
	EQ rsi, 0x4545
	jne .bad2
	EQ rdi, 0x4646
	CHECK e, 'b_user returns with every register kept', .bad2
	ret

check_time:
	SET_PATTERNS
	SYS TIMECOUNTER, 0, 0x9876
	jc .bad
	mov [t0], rax
	PATTERNS_KEPT
	jne .bad
	EQ rdx, 0x9876
	jne .bad
	EQ rcx, TIMECOUNTER
	CHECK e, 'TIMECOUNTER keeps the other registers', .bad
	SYS DELAY, 20000, 0
	jc .bad2
	SYS TIMECOUNTER, 0, 0
	sub rax, [t0]
	mov [t1], rax
	cmp rax, 20000000
	jb .bad2
	mov rdx, 20000000000
	cmp rax, rdx
	CHECK b, 'TIMECOUNTER counts nanoseconds across DELAY 20000 us', .bad2
	MSG 'compat: delay 20000 us took ns='
	mov rax, [t1]
	call print_decimal
	MSG 10
	SYS TSC, 0, 0
	mov [t0], rax
	SYS DELAY, 1000, 0
	SYS TSC, 0, 0
	cmp rax, [t0]
	CHECK a, 'TSC advances'
	SYS DELAY, 1000000000, 0
	jnc .bad3
	EQ rax, E_INVALID_ARGUMENT
	CHECK e, 'DELAY refuses more than a minute (CF, InvalidArgument)', .bad3
	ret

check_memory_and_screen:
	SYS FREE_MEMORY, 0, 0
	jc .bad
	test rax, rax
	jz .bad
	cmp rax, 1 << 20
	CHECK b, 'FREE_MEMORY in MiB', .bad
	MSG 'compat: free memory MiB='
	call print_decimal
	MSG 10
	; No framebuffer on these machines: every screen call says 0 with CF.
	mov rbx, SCREEN_LFB_GET
.screen:
	mov rcx, rbx
	mov rax, 0x77
	call [abs b_system]
	jnc .bad2
	test rax, rax
	jnz .bad2
	inc rbx
	cmp rbx, SCREEN_BPP_GET
	jbe .screen
	cmp rax, rax
	CHECK e, 'SCREEN_* report no framebuffer (0, CF)', .bad2
	ret

; --- SMP ---------------------------------------------------------------------------

align 16
smp_task:
	; Entered with call, RAX = this address, every other register zero.
	mov rsi, smp_task
	cmp rax, rsi
	jne .bad_entry
	test rbx, rbx
	jnz .bad_entry
	test r15, r15
	jnz .bad_entry
	test rdx, rdx
	jnz .bad_entry
	jmp .counted
.bad_entry:
	lock inc qword [smp_bad_entries]
.counted:
	mov rcx, SMP_ID
	call [abs b_system]
	lock bts [smp_mask], rax
	mov rcx, SMP_GET
	call [abs b_system]
	and rax, ~0xF
	mov rsi, smp_task
	cmp rax, rsi
	je .get_ok
	lock inc qword [smp_bad_entries]
.get_ok:
	; The boot core runs the program: SMP_SET to it fails from here too.
	mov rcx, SMP_SET
	mov rax, smp_task
	mov rdx, [my_apic_id]
	call [abs b_system]
	jnc .bsp_accepted
	test rax, rax
	jnz .bsp_accepted
	lock inc qword [smp_bsp_refusals]
.bsp_accepted:
	mov rbx, SMP_LOOPS
.loop:
	mov rcx, SMP_LOCK
	mov rax, lock_word
	call [abs b_system]
	mov rax, [shared_counter]
	inc rax
	mov [shared_counter], rax
	mov rcx, SMP_UNLOCK
	mov rax, lock_word
	call [abs b_system]
	dec rbx
	jnz .loop
	lock inc qword [smp_ran]
	xor rax, rax
	xor rbx, rbx
	xor r12, r12
	ret

check_smp:
	SYS SMP_NUMCORES, 0, 0
	mov [cores], rax
	MSG 'compat: cores='
	call print_decimal
	MSG 10
	SYS SMP_ID, 0, 0
	mov [my_apic_id], rax
	SYS SMP_GET, 0, 0
	mov rdx, 0xFFFF800000000003
	cmp rax, rdx
	CHECK e, 'SMP_GET on the boot core: the program, present and active'
	; SMP_SET to every APIC ID 0..255: every other core accepts, the caller does not.
	xor r12, r12
	xor rbx, rbx
.set_all:
	mov rcx, SMP_SET
	mov rax, smp_task
	mov rdx, rbx
	call [abs b_system]
	jc .refused
	mov rdx, smp_task
	cmp rax, rdx
	jne .set_next
	inc r12
	jmp .set_next
.refused:
	test rax, rax
	jnz .set_next
.set_next:
	inc rbx
	cmp rbx, 256
	jb .set_all
	mov rax, [cores]
	dec rax
	cmp r12, rax
	CHECK e, 'SMP_SET accepted by every other core'
	; The caller's own core is busy running the program.
	SYS SMP_SET, smp_task, [my_apic_id]
	jnc .bad_self
	test rax, rax
	CHECK z, 'SMP_SET to the calling core refused (0, CF)', .bad_self
	; While the others run, the boot core takes its share under the same lock.
	mov rbx, SMP_LOOPS
.own_share:
	SYS SMP_LOCK, lock_word, 0
	inc qword [shared_counter]
	SYS SMP_UNLOCK, lock_word, 0
	dec rbx
	jnz .own_share
	call wait_not_busy
	CHECK e, 'SMP_BUSY falls to 0 when every core returned'
	mov rax, [cores]
	dec rax
	cmp [smp_ran], rax
	CHECK e, 'every assigned core ran the code once'
	cmp qword [smp_bad_entries], 0
	CHECK e, 'SMP_SET code entered with RAX = its address, other registers 0, SMP_GET = it'
	mov rax, [cores]
	dec rax
	cmp [smp_bsp_refusals], rax
	CHECK e, 'SMP_SET to the boot core refused from every other core (0, CF)'
	mov rax, [cores]
	imul rax, SMP_LOOPS
	cmp [shared_counter], rax
	CHECK e, 'SMP_LOCK/SMP_UNLOCK: no increment lost on any core'
	MSG 'compat: smp counter='
	mov rax, [shared_counter]
	call print_decimal
	MSG ' mask='
	mov rax, [smp_mask]
	call print_hex
	MSG 10
	; Refusals: unaligned, outside the program, no such core.
	SYS SMP_SET, smp_task + 1, 1
	jnc .bad1
	test rax, rax
	CHECK z, 'SMP_SET refuses an unaligned address (0, CF)', .bad1
	SYS SMP_SET, 0x100000, 1
	jnc .bad2
	test rax, rax
	CHECK z, 'SMP_SET refuses code outside the program (0, CF)', .bad2
	SYS SMP_SET, smp_task, 0x1000
	jnc .bad3
	test rax, rax
	CHECK z, 'SMP_SET refuses a core that does not exist (0, CF)', .bad3
	SYS SMP_BUSY, 0, 0
	test rax, rax
	CHECK z, 'SMP_BUSY 0 after the refusals'
	ret

; Polls SMP_BUSY for up to 20 s of TIMECOUNTER; ZF set if it fell to 0.
wait_not_busy:
	SYS TIMECOUNTER, 0, 0
	mov r13, rax
.poll:
	SYS SMP_BUSY, 0, 0
	test rax, rax
	jz .done
	SYS TIMECOUNTER, 0, 0
	sub rax, r13
	mov rdx, 20000000000
	cmp rax, rdx
	jb .poll
	or rax, 1
.done:
	ret

align 16
slow_task:
	mov rcx, DELAY
	mov rax, 200000
	call [abs b_system]
	lock inc qword [slow_ran]
	ret

check_lock_and_reset:
	SYS SMP_LOCK, 0x1000, 0
	jnc .bad
	EQ rax, E_BAD_ADDRESS
	CHECK e, 'SMP_LOCK refuses a lock outside the program (CF, BadAddress)', .bad
	SYS SMP_UNLOCK, 0, 0
	jnc .bad2
	EQ rax, E_BAD_ADDRESS
	CHECK e, 'SMP_UNLOCK refuses a null lock', .bad2
	; A byte-aligned lock word works as well (bit 0 of the byte).
	SYS SMP_LOCK, lock_word + 3, 0
	jc .bad3
	test byte [lock_word + 3], 1
	jz .bad3
	SYS SMP_UNLOCK, lock_word + 3, 0
	test byte [lock_word + 3], 1
	CHECK z, 'SMP_LOCK sets and SMP_UNLOCK clears bit 0 of the lock byte', .bad3
	; RESET: give every other core slow code, reset: they are idle after it.
	mov rbx, 0
.give:
	SYS SMP_SET, slow_task, rbx
	inc rbx
	cmp rbx, 256
	jb .give
	SYS RESET, 0, 0
	jc .bad4
	mov r12, rax
	SYS SMP_BUSY, 0, 0
	test rax, rax
	CHECK z, 'RESET leaves every other core idle', .bad4
	MSG 'compat: reset withdrew='
	mov rax, r12
	call print_decimal
	MSG ' ran='
	mov rax, [slow_ran]
	call print_decimal
	MSG 10
	mov rax, [cores]
	dec rax
	mov rdx, [slow_ran]
	add rdx, r12
	cmp rax, rdx
	CHECK e, 'RESET: each assignment either ran to its end or was withdrawn'
	; The cores take work again after a reset.
	mov qword [smp_ran], 0
	mov rax, [cores]
	cmp rax, 1
	je .single
	SYS SMP_SET, smp_task, 1
	call wait_not_busy
	cmp qword [smp_ran], 1
.single:
	CHECK e, 'a core takes SMP_SET code after RESET'
	ret

; --- STDOUT_SET / STDOUT_GET ----------------------------------------------------------

my_output:
	; Counts bytes, then passes them on to the kernel's b_output.
	add [redirected_bytes], rcx
	jmp [saved_output]

check_stdout:
	SYS STDOUT_GET, 0, 0
	mov [saved_output], rax
	cmp rax, [abs b_output]
	CHECK e, 'STDOUT_GET is the pointer at 0x100018'
	SYS STDOUT_SET, my_output, 0
	jc .bad
	mov rax, my_output
	cmp [abs b_output], rax
	jne .bad
	mov rsi, redirect_text
	mov rcx, redirect_end - redirect_text
	call [abs b_output]
	cmp qword [redirected_bytes], redirect_end - redirect_text
	CHECK e, 'STDOUT_SET redirects b_output to program code', .bad
	SYS STDOUT_SET, [saved_output], 0
	jc .bad2
	mov rax, [saved_output]
	cmp [abs b_output], rax
	CHECK e, 'STDOUT_SET back to the kernel output', .bad2
	SYS STDOUT_SET, 0x1000, 0
	jnc .bad3
	EQ rax, E_BAD_ADDRESS
	jne .bad3
	mov rax, [saved_output]
	cmp [abs b_output], rax
	CHECK e, 'STDOUT_SET refuses code outside the program, pointer unchanged', .bad3
	ret

; --- DUMP_*, unknown functions -------------------------------------------------------

check_dump_and_bad_functions:
	MSG 'compat: dump-rax '
	SYS DUMP_RAX, 0x0123456789ABCDEF, 0
	MSG 10
	SYS DUMP_MEM, dump_bytes, 20
	CHECK nc, 'DUMP_MEM accepted'
	SYS DUMP_MEM, 0x1000, 16
	jnc .bad
	EQ rax, E_BAD_ADDRESS
	CHECK e, 'DUMP_MEM refuses memory outside the program', .bad
	SET_PATTERNS
	mov rcx, 0x45
	mov rax, 0x5151
	mov rdx, 0x5252
	call [abs b_system]
	jnc .bad2
	PATTERNS_KEPT
	jne .bad2
	EQ rax, 0x5151
	jne .bad2
	EQ rdx, 0x5252
	CHECK e, 'an unused function number: RAX unchanged, CF', .bad2
	SYS 0x80, 0x6161, 0
	jnc .bad3
	EQ rax, 0x6161
	CHECK e, 'a function number >= 0x80: RAX unchanged, CF', .bad3
	ret

; --- callbacks -----------------------------------------------------------------------

timer_callback:
	lock inc qword [timer_ticks]
	ret

check_callbacks:
	SYS CALLBACK_TIMER, timer_callback, 0
	CHECK nc, 'CALLBACK_TIMER set'
	; 200 ms: about 20 ticks at 100 Hz (at least 5 however loaded the host is).
	mov rbx, 200
.wait:
	SYS DELAY, 1000, 0
	dec rbx
	jnz .wait
	mov rax, [timer_ticks]
	mov [t0], rax
	MSG 'compat: timer ticks in 200 ms='
	mov rax, [t0]
	call print_decimal
	MSG 10
	cmp qword [t0], 5
	CHECK ae, 'the timer callback fires'
	SYS CALLBACK_TIMER, 0, 0
	mov rax, [timer_ticks]
	mov [t0], rax
	SYS DELAY, 50000, 0
	mov rax, [timer_ticks]
	cmp rax, [t0]
	CHECK e, 'no timer callback after CALLBACK_TIMER 0'
	SYS CALLBACK_TIMER, 0x1000, 0
	jnc .bad
	EQ rax, E_BAD_ADDRESS
	CHECK e, 'CALLBACK_TIMER refuses code outside the program', .bad
	SYS CALLBACK_KEYBOARD, timer_callback, 0
	jc .bad2
	SYS CALLBACK_KEYBOARD, 0, 0
	jc .bad2
	SYS CALLBACK_KEYBOARD, 0x1000, 0
	jnc .bad2
	EQ rax, E_BAD_ADDRESS
	CHECK e, 'CALLBACK_KEYBOARD set, cleared, refused outside the program', .bad2
	ret

keyboard_callback:
	lock inc qword [key_callbacks]
	ret

; Polls b_input for up to 10 s; AL = the byte (0 if none came).
wait_key:
	SYS TIMECOUNTER, 0, 0
	mov r13, rax
.poll:
	call [abs b_input]
	jnz .done
	SYS DELAY, 1000, 0
	SYS TIMECOUNTER, 0, 0
	sub rax, r13
	mov rdx, 10000000000
	cmp rax, rdx
	jb .poll
	xor eax, eax
.done:
	ret

; The harness types 'k' after the first prompt and Enter after the second.
check_keyboard:
	SYS CALLBACK_KEYBOARD, keyboard_callback, 0
	MSG 'compat: type k', 10
	SYS TIMECOUNTER, 0, 0
	mov r13, rax
.wait:
	cmp qword [key_callbacks], 0
	jne .called
	SYS DELAY, 1000, 0
	SYS TIMECOUNTER, 0, 0
	sub rax, r13
	mov rdx, 10000000000
	cmp rax, rdx
	jb .wait
.called:
	SYS CALLBACK_KEYBOARD, 0, 0
	cmp qword [key_callbacks], 1
	CHECK e, 'the keyboard callback fires once for a key'
	call [abs b_input]
	jz .bad
	cmp al, 'k'
	CHECK e, 'b_input returns the key the callback announced', .bad
	MSG 'compat: press enter', 10
	call wait_key
	cmp al, 0x1C
	CHECK e, 'b_input gives Enter as 0x1C'
	ret

; --- bus -----------------------------------------------------------------------------

check_bus:
	; 00:00.0 dword 0 is the host bridge's vendor and device (Intel on pc and q35).
	SYS BUS_READ, 0, 0
	jc .bad
	and eax, 0xFFFF
	cmp eax, 0x8086
	CHECK e, 'BUS_READ 00:00.0 vendor 0x8086', .bad
	SYS BUS_READ, 0, 1
	mov r12, rax
	SYS BUS_WRITE, r12, 1
	jc .bad2
	SYS BUS_READ, 0, 1
	cmp rax, r12
	CHECK e, 'BUS_WRITE of the command register reads back', .bad2
	mov rdx, 1 << 50
	SYS BUS_READ, 0, rdx
	jnc .bad3
	test rax, rax
	CHECK z, 'BUS_READ refuses a bad packed address (0, CF)', .bad3
	SYS BUS_WRITE, 0, 0x400
	jnc .bad4
	EQ rax, E_INVALID_ARGUMENT
	CHECK e, 'BUS_WRITE refuses a register past 4 KiB', .bad4
	ret

; --- network -------------------------------------------------------------------------

network_callback:
	lock inc qword [net_callbacks]
	ret

; Sends the ARP request for 10.0.2.2 on interface 0; ZF set if b_net_tx took it.
send_arp:
	mov rsi, arp_request
	mov rcx, arp_end - arp_request
	xor edx, edx
	call [abs b_net_tx]
	jc .out
	cmp rax, rax
.out:
	ret

; Polls b_net_rx on interface 0 for up to 10 s until the ARP reply from 10.0.2.2;
; ZF set when it came (RDI = frame).
wait_arp_reply:
	SYS TIMECOUNTER, 0, 0
	mov r13, rax
.poll:
	xor edx, edx
	call [abs b_net_rx]
	jc .fail
	test rcx, rcx
	jz .later
	cmp word [rdi + 12], 0x0608
	jne .later
	cmp word [rdi + 20], 0x0200
	jne .later
	cmp dword [rdi + 28], 0x0202000A
	je .done
.later:
	SYS DELAY, 1000, 0
	SYS TIMECOUNTER, 0, 0
	sub rax, r13
	mov rdx, 10000000000
	cmp rax, rdx
	jb .poll
.fail:
	or rax, 1
.done:
	ret

check_net:
	SYS NET_STATUS, 0, 0
	mov [mac], rax
	MSG 'compat: net 0 mac='
	mov rax, [mac]
	call print_hex
	MSG 10
	cmp qword [mac], 0
	je .no_interface
	call fill_arp_source
	call send_arp
	CHECK e, 'b_net_tx sends an ARP request'
	call wait_arp_reply
	CHECK e, 'b_net_rx returns the ARP reply (RDI = frame, RCX = length)'
	; NET_CONFIG: frames land in the program's ring.
	SYS NET_CONFIG, net_ring, 0
	CHECK nc, 'NET_CONFIG accepts a 512 KiB ring in program memory'
	call send_arp
	call wait_arp_reply
	jne .bad_ring
	mov rax, net_ring
	cmp rdi, rax
	jb .bad_ring
	add rax, 256 * 2048
	cmp rdi, rax
	jae .bad_ring
	cmp rdi, rdi
	CHECK e, 'after NET_CONFIG the reply is in the ring', .bad_ring
	SYS NET_CONFIG, 0, 0
	SYS NET_CONFIG, 0x1000, 0
	jnc .bad_config
	EQ rax, E_BAD_ADDRESS
	CHECK e, 'NET_CONFIG refuses a ring outside the program', .bad_config
	; The network callback fires for the next frame, which b_net_rx then returns.
	SYS CALLBACK_NETWORK, network_callback, 0
	call send_arp
	mov rbx, 5000
.wait_callback:
	cmp qword [net_callbacks], 0
	jne .called
	SYS DELAY, 1000, 0
	dec rbx
	jnz .wait_callback
.called:
	SYS CALLBACK_NETWORK, 0, 0
	cmp qword [net_callbacks], 0
	CHECK ne, 'the network callback fires when a frame arrives'
	call wait_arp_reply
	CHECK e, 'b_net_rx returns the frame the callback announced'
	jmp .bad_arguments
.no_interface:
	xor edx, edx
	call [abs b_net_rx]
	jnc .bad_none
	test rcx, rcx
	jnz .bad_none
	push rax
	mov al, [rdi]
	pop rax
	EQ rax, E_NOT_FOUND
	CHECK e, 'no interface: b_net_rx gives RCX 0, readable RDI, NotFound', .bad_none
.bad_arguments:
	mov rsi, arp_request
	mov rcx, arp_end - arp_request
	mov rdx, 7
	call [abs b_net_tx]
	jnc .bad1
	EQ rax, E_NOT_FOUND
	CHECK e, 'b_net_tx to interface 7 refused (CF, NotFound)', .bad1
	mov rdx, 7
	call [abs b_net_rx]
	jnc .bad2
	test rcx, rcx
	CHECK z, 'b_net_rx from interface 7: RCX 0, CF', .bad2
	cmp qword [mac], 0
	je .done
	mov rsi, arp_request
	mov rcx, 9000
	xor edx, edx
	call [abs b_net_tx]
	jnc .bad3
	EQ rax, E_INVALID_ARGUMENT
	CHECK e, 'b_net_tx of 9000 bytes refused (CF, InvalidArgument)', .bad3
	mov rsi, 0x1000
	mov rcx, 60
	xor edx, edx
	call [abs b_net_tx]
	jnc .bad4
	EQ rax, E_BAD_ADDRESS
	CHECK e, 'b_net_tx from outside the program refused (CF, BadAddress)', .bad4
	SYS NET_STATUS, 0, 7
	jnc .bad5
	test rax, rax
	CHECK z, 'NET_STATUS of interface 7: 0, CF', .bad5
.done:
	ret

; Writes the interface's MAC (from [mac], bits 47:0, first byte highest) as the ARP
; request's Ethernet source and sender hardware address.
fill_arp_source:
	mov rax, [mac]
	lea rdx, [arp_request]
	mov rcx, 6
.byte:
	mov [rdx + 6 + rcx - 1], al
	mov [rdx + 22 + rcx - 1], al
	shr rax, 8
	loop .byte
	ret

; --- storage -------------------------------------------------------------------------

; The pattern byte at byte offset RSI of disk RDX, in AL (same as checks.c and the
; host check): (o * 7 + (o >> 12) * 31 + disk * 101) mod 256.
pattern_byte:
	push rdx
	mov rax, rsi
	imul rax, 7
	push rsi
	shr rsi, 12
	imul rsi, 31
	add rax, rsi
	pop rsi
	imul rdx, 101
	add rax, rdx
	pop rdx
	ret

; Fills RCX bytes at RDI with the pattern of disk RDX from byte offset RSI.
fill_pattern:
	push rdi
	push rsi
	push rcx
.loop:
	call pattern_byte
	stosb
	inc rsi
	dec rcx
	jnz .loop
	pop rcx
	pop rsi
	pop rdi
	ret

; ZF set if the RCX bytes at RDI hold the pattern of disk RDX from offset RSI.
compare_pattern:
	push rdi
	push rsi
	push rcx
.loop:
	call pattern_byte
	cmp [rdi], al
	jne .out
	inc rdi
	inc rsi
	dec rcx
	jnz .loop
.out:
	pop rcx
	pop rsi
	pop rdi
	ret

check_nvs:
	xor r12, r12                ; disk number
.disk:
	; Probe: read one sector; NotFound ends the list.
	mov rax, 0
	mov rcx, 1
	mov rdx, r12
	mov rdi, nvs_in
	call [abs b_nvs_read]
	jnc .present
	EQ rax, E_NOT_FOUND
	je .after_disks
	jmp .present
.present:
	mov rdi, nvs_out
	mov rsi, NVS_FIRST * 4096
	mov rcx, NVS_COUNT * 4096
	mov rdx, r12
	call fill_pattern
	SET_PATTERNS
	mov r12, rdx
	mov rax, NVS_FIRST
	mov rcx, NVS_COUNT
	mov rsi, nvs_out
	mov rdi, 0x5A5A
	call [abs b_nvs_write]
	jc .bad_write
	cmp rcx, NVS_COUNT
	jne .bad_write
	EQ rax, NVS_FIRST
	jne .bad_write
	EQ rdi, 0x5A5A
	jne .bad_write
	EQ rsi, nvs_out
	jne .bad_write
	EQ rbx, P_RBX
	jne .bad_write
	EQ r15, P_R15
	CHECK e, 'b_nvs_write of 37 sectors returns RCX = 37, other registers kept', .bad_write
	mov rdi, nvs_in
	mov rcx, NVS_COUNT * 4096
	xor eax, eax
	rep stosb
	mov rax, NVS_FIRST
	mov rcx, NVS_COUNT
	mov rdx, r12
	mov rdi, nvs_in
	call [abs b_nvs_read]
	jc .bad_read
	cmp rcx, NVS_COUNT
	jne .bad_read
	mov rdi, nvs_in
	mov rsi, NVS_FIRST * 4096
	mov rcx, NVS_COUNT * 4096
	mov rdx, r12
	call compare_pattern
	CHECK e, 'b_nvs_read of 37 sectors reads back every byte written', .bad_read
	MSG 'compat: disk '
	mov rax, r12
	call print_decimal
	MSG ' round trip sectors=37 verified', 10
	; Bad arguments: past the end, buffer outside the program, zero-length.
	mov rax, 1 << 40
	mov rcx, 2
	mov rdx, r12
	mov rdi, nvs_in
	call [abs b_nvs_read]
	jnc .bad1
	test rcx, rcx
	jnz .bad1
	EQ rax, E_INVALID_ARGUMENT
	CHECK e, 'b_nvs_read past the end: RCX 0, CF, InvalidArgument', .bad1
	mov rax, 0
	mov rcx, 2
	mov rdx, r12
	mov rsi, 0x1000
	call [abs b_nvs_write]
	jnc .bad2
	test rcx, rcx
	jnz .bad2
	EQ rax, E_BAD_ADDRESS
	CHECK e, 'b_nvs_write from outside the program: RCX 0, CF, BadAddress', .bad2
	mov rax, 0
	mov rcx, 0
	mov rdx, r12
	mov rdi, nvs_in
	call [abs b_nvs_read]
	jc .bad3
	test rcx, rcx
	CHECK z, 'b_nvs_read of 0 sectors: RCX 0, no error', .bad3
	inc r12
	cmp r12, 8
	jb .disk
.after_disks:
	MSG 'compat: disks='
	mov rax, r12
	call print_decimal
	MSG 10
	mov rax, 0
	mov rcx, 1
	mov rdx, 99
	mov rdi, nvs_in
	call [abs b_nvs_read]
	jnc .bad4
	test rcx, rcx
	jnz .bad4
	EQ rax, E_NOT_FOUND
	CHECK e, 'b_nvs_read of disk 99: RCX 0, CF, NotFound', .bad4
	ret

; --- printing ------------------------------------------------------------------------

; Prints RAX in decimal.
print_decimal:
	push rax
	push rbx
	push rcx
	push rdx
	push rsi
	lea rsi, [number_text + 24]
	mov rbx, 10
.digit:
	xor edx, edx
	div rbx
	add dl, '0'
	dec rsi
	mov [rsi], dl
	test rax, rax
	jnz .digit
	lea rcx, [number_text + 24]
	sub rcx, rsi
	call [abs b_output]
	pop rsi
	pop rdx
	pop rcx
	pop rbx
	pop rax
	ret

; Prints RAX as 0x and 16 hex digits.
print_hex:
	push rax
	push rcx
	push rdx
	push rsi
	lea rsi, [number_text + 2]
	mov byte [number_text], '0'
	mov byte [number_text + 1], 'x'
	mov rcx, 16
.digit:
	rol rax, 4
	mov dl, al
	and dl, 0xF
	add dl, '0'
	cmp dl, '9'
	jbe .store
	add dl, 'A' - '9' - 1
.store:
	mov [rsi], dl
	inc rsi
	loop .digit
	lea rsi, [number_text]
	mov rcx, 18
	call [abs b_output]
	pop rsi
	pop rdx
	pop rcx
	pop rax
	ret

section .rodata
hello_text: db 'compat: b_output with every register set to a pattern', 10
hello_end:
redirect_text: db 'compat: this line went through the program', 39, 's own b_output', 10
redirect_end:
dump_bytes: db 'Ingot dumps this.', 0, 1, 2

section .data
align 8
; ARP request, who has 10.0.2.2, tell 10.0.2.15 (QEMU's user network); the source
; MAC is filled in from NET_STATUS.
arp_request:
	db 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0x08, 0x06
	db 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01
	db 0, 0, 0, 0, 0, 0, 10, 0, 2, 15
	db 0, 0, 0, 0, 0, 0, 10, 0, 2, 2
	times 60 - 42 db 0
arp_end:

section .bss
align 8
failures: resq 1
t0: resq 1
t1: resq 1
cores: resq 1
my_apic_id: resq 1
smp_mask: resq 4
smp_ran: resq 1
smp_bad_entries: resq 1
smp_bsp_refusals: resq 1
slow_ran: resq 1
shared_counter: resq 1
lock_word: resq 1
saved_output: resq 1
redirected_bytes: resq 1
timer_ticks: resq 1
net_callbacks: resq 1
key_callbacks: resq 1
mac: resq 1
number_text: resb 32
alignb 4096
nvs_out: resb NVS_COUNT * 4096
nvs_in: resb NVS_COUNT * 4096
net_ring: resb 256 * 2048

section .note.GNU-stack noalloc noexec nowrite progbits
