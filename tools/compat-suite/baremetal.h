/* BareMetal's call table for C, with the reference's prototypes (libBareMetal.h),
 * plus `bm_*` variants that also return Ingot's error code (the carry flag and RAX).
 * Each call is `call *ADDRESS` with the register conventions of the table: only the
 * documented outputs change, so only they are outputs of the asm statements. */
#ifndef BAREMETAL_H
#define BAREMETAL_H

typedef unsigned long u64;
typedef long i64;
typedef unsigned char u8;

#define TIMECOUNTER 0x00
#define FREE_MEMORY 0x01
#define SMP_ID 0x10
#define SMP_NUMCORES 0x11
#define SMP_SET 0x12
#define SMP_GET 0x13
#define SMP_LOCK 0x14
#define SMP_UNLOCK 0x15
#define SMP_BUSY 0x16
#define TSC 0x1F
#define SCREEN_LFB_GET 0x20
#define SCREEN_X_GET 0x21
#define SCREEN_Y_GET 0x22
#define SCREEN_PPSL_GET 0x23
#define SCREEN_BPP_GET 0x24
#define NET_STATUS 0x30
#define NET_CONFIG 0x31
#define BUS_READ 0x50
#define BUS_WRITE 0x51
#define STDOUT_SET 0x52
#define STDOUT_GET 0x53
#define CALLBACK_TIMER 0x60
#define CALLBACK_NETWORK 0x61
#define CALLBACK_KEYBOARD 0x62
#define DUMP_MEM 0x70
#define DUMP_RAX 0x71
#define DELAY 0x72
#define RESET 0x7D
#define REBOOT 0x7E
#define SHUTDOWN 0x7F

static inline u8 b_input(void) {
	u64 rax = 0;
	__asm__ volatile("call *0x100010" : "+a"(rax) : : "cc", "memory");
	return (u8)rax;
}

static inline void b_output(const char *bytes, u64 count) {
	__asm__ volatile("call *0x100018" : : "S"(bytes), "c"(count) : "cc", "memory");
}

static inline void b_net_tx(void *frame, u64 length, u64 interface) {
	__asm__ volatile("call *0x100020" : : "S"(frame), "c"(length), "d"(interface) : "cc", "memory");
}

static inline u64 b_net_rx(void **frame, u64 interface) {
	void *at;
	u64 length;
	__asm__ volatile("call *0x100028" : "=D"(at), "=c"(length) : "d"(interface) : "cc", "memory");
	*frame = at;
	return length;
}

/* Sectors are 4096 bytes on every disk. Returns the sectors moved. */
static inline u64 bm_nvs_read(void *memory, u64 start, u64 count, u64 disk, i64 *error) {
	u64 rax = start;
	u8 failed;
	__asm__ volatile("call *0x100030"
	                 : "+a"(rax), "+c"(count), "=@ccc"(failed)
	                 : "d"(disk), "D"(memory)
	                 : "memory");
	*error = failed ? (i64)rax : 0;
	return count;
}

static inline u64 bm_nvs_write(void *memory, u64 start, u64 count, u64 disk, i64 *error) {
	u64 rax = start;
	u8 failed;
	__asm__ volatile("call *0x100038"
	                 : "+a"(rax), "+c"(count), "=@ccc"(failed)
	                 : "d"(disk), "S"(memory)
	                 : "memory");
	*error = failed ? (i64)rax : 0;
	return count;
}

static inline u64 b_nvs_read(void *memory, u64 start, u64 count, u64 disk) {
	i64 error;
	return bm_nvs_read(memory, start, count, disk, &error);
}

static inline u64 b_nvs_write(void *memory, u64 start, u64 count, u64 disk) {
	i64 error;
	return bm_nvs_write(memory, start, count, disk, &error);
}

/* `*failed` is set to 1 when the kernel refused the call (carry flag). */
static inline u64 bm_system(u64 function, u64 var1, u64 var2, int *failed) {
	u8 carry;
	__asm__ volatile("call *0x100040"
	                 : "+a"(var1), "=@ccc"(carry)
	                 : "c"(function), "d"(var2)
	                 : "memory");
	*failed = carry;
	return var1;
}

static inline u64 b_system(u64 function, u64 var1, u64 var2) {
	int failed;
	return bm_system(function, var1, var2, &failed);
}

#endif
