; Ingot's BareMetal compatibility suite, assembly part: calls every entry of the table
; at 0x100010 and every b_system function, checks results and that registers other
; than the documented outputs come back unchanged, and gives each entry bad arguments
; (the carry flag and an error code, and the kernel keeps answering). Then the C part
; (checks.c) runs. One line per check: "compat: ok NAME" or "compat: FAIL NAME".
; At the end "compat: N failures"; with none the suite calls SHUTDOWN.
; This file has the entry, the basic calls and printing; the other parts are included:
; smp.inc, calls.inc (STDOUT, DUMP, callbacks, bus), net.inc, storage.inc.
BITS 64
DEFAULT REL

%include "baremetal.inc"

extern c_checks
extern __bss_start
extern __bss_end

%include "macros.inc"

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

%include "smp.inc"
%include "calls.inc"
%include "net.inc"
%include "storage.inc"

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
spin_started: resq 1
lock_started: resq 1
lock_passed: resq 1
held_lock: resq 1
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

