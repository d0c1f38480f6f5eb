; A program written for BareMetal, unchanged: the reference's hello app (flat binary
; at 0xFFFF800000000000, entered with call, prints through b_output, returns with ret).
BITS 64
ORG 0xFFFF800000000000

%include "baremetal.inc"

start:
	mov rsi, message
	mov rcx, message_end - message
	call [b_output]
	ret

message: db 'Hello, world!', 10
message_end:
