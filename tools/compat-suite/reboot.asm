; BareMetal's REBOOT through b_system (the suite ends with SHUTDOWN instead, so this
; is its own program): prints a line, then reboots; under QEMU's -no-reboot the machine
; stops. If REBOOT ever returned, the program would return status 1.
BITS 64
ORG 0xFFFF800000000000

%include "baremetal.inc"

start:
	mov rsi, message
	mov rcx, message_end - message
	call [abs b_output]
	mov rcx, REBOOT
	call [abs b_system]
	mov eax, 1
	ret

message: db 'compat: rebooting through b_system', 10
message_end:
