/* The C examples of docs/api.md's BareMetal-compatible table, through baremetal.h: a
 * BareMetal program built as the reference builds its C programs (flat at
 * 0xFFFF800000000000, entry first). The text between a "// doc: NAME" line and the
 * next "// doc end" line is shown there (tools/xtask/src/doc_examples.rs checks it),
 * so every example is compiled by `cargo xtask build` and run by the
 * baremetal-examples-c scenario, which checks what it prints. */
#include "baremetal.h"

extern char __bss_start[], __bss_end[];

static int failed;

static void print(const char *text) {
	u64 length = 0;
	while (text[length] != 0) {
		length++;
	}
	b_output(text, length);
}

static void print_number(u64 value) {
	char digits[21];
	int at = 20;
	digits[at] = 0;
	do {
		digits[--at] = (char)('0' + value % 10);
		value /= 10;
	} while (value != 0);
	print(digits + at);
}

static void output(void) {
	// doc: b_output
	b_output("hello through b_output\n", 23);
	b_system(DUMP_RAX, 0x0123456789ABCDEF, 0);
	b_system(DUMP_MEM, (u64)"Ingot", 5);
	u64 routine = b_system(STDOUT_GET, 0, 0); /* the routine b_output calls */
	// doc end
	if (routine == 0) {
		failed++;
	}
}

static void input(void) {
	// doc: b_input
	u8 key = b_input(); /* 0: none waiting */
	if (key == 0x1C) {
		print("Enter\n");
	} else if (key == 0) {
		print("no key waiting\n");
	}
	// doc end
}

static void time(void) {
	// doc: time
	u64 start = b_system(TIMECOUNTER, 0, 0); /* nanoseconds */
	u64 cycles = b_system(TSC, 0, 0);
	b_system(DELAY, 2000, 0); /* microseconds */
	u64 waited = b_system(TIMECOUNTER, 0, 0) - start;
	print(waited >= 2000000 && b_system(TSC, 0, 0) > cycles ? "2 ms delay took >= 2 ms\n"
	                                                          : "delay too short\n");
	print("free memory MiB: ");
	print_number(b_system(FREE_MEMORY, 0, 0));
	print("\n");
	// doc end
}

// doc: smp
static u64 done;
static u64 lock;

__attribute__((aligned(16))) static void work(void) {
	b_system(SMP_LOCK, (u64)&lock, 0);
	done++;
	b_system(SMP_UNLOCK, (u64)&lock, 0);
}

static void smp(void) {
	u64 cores = b_system(SMP_NUMCORES, 0, 0);
	for (u64 apic_id = 0; apic_id < 256; apic_id++) {
		b_system(SMP_SET, (u64)work, apic_id); /* 0: refused (this core, boot core, none) */
	}
	while (b_system(SMP_BUSY, 0, 0) != 0) {
	}
	print("core ");
	print_number(b_system(SMP_ID, 0, 0));
	print(" of ");
	print_number(cores);
	print(": ");
	print_number(__atomic_load_n(&done, __ATOMIC_RELAXED));
	print(" others ran the code; slot active=");
	print_number((b_system(SMP_GET, 0, 0) >> 1) & 1);
	print("\nreset: ");
	print_number(b_system(RESET, 0, 0));
	print(" assignments withdrawn or ended\n");
}
// doc end

static void screen(void) {
	// doc: screen
	u64 framebuffer = b_system(SCREEN_LFB_GET, 0, 0);
	if (framebuffer == 0) {
		print("no framebuffer\n");
	} else {
		print_number(b_system(SCREEN_X_GET, 0, 0));
		print("x");
		print_number(b_system(SCREEN_Y_GET, 0, 0));
		print(" pixels, ");
		print_number(b_system(SCREEN_PPSL_GET, 0, 0));
		print(" per line, ");
		print_number(b_system(SCREEN_BPP_GET, 0, 0));
		print(" bits\n");
	}
	// doc end
}

static void net(void) {
	// doc: net
	u64 mac = b_system(NET_STATUS, 0, 0); /* interface 0; 0: none */
	if (mac != 0) {
		static u8 frame[60];
		for (int i = 0; i < 6; i++) {
			frame[i] = 0xFF;
			frame[6 + i] = (u8)(mac >> (40 - 8 * i));
		}
		frame[12] = 0x88;
		frame[13] = 0xB5;
		b_net_tx(frame, sizeof frame, 0);
		void *received;
		u64 length = b_net_rx(&received, 0); /* 0: nothing arrived */
		print("received ");
		print_number(length);
		print(" bytes\n");
	}
	// doc end
}

static void nvs(void) {
	// doc: nvs
	static u8 sectors[2 * 4096];
	i64 error;
	u64 read = bm_nvs_read(sectors, 2, 2, 0, &error); /* 4 KiB sectors 2 and 3 of disk 0 */
	if (error == 0) {
		for (int i = 0; i < 8; i++) {
			sectors[i] = (u8)"BareMeta"[i];
		}
		u64 written = bm_nvs_write(sectors, 2, 2, 0, &error);
		print_number(read);
		print(" sectors read, ");
		print_number(written);
		print(" written\n");
	}
	// doc end
	if (error != 0) {
		failed++;
	}
}

static void bus(void) {
	// doc: bus
	u64 id = b_system(BUS_READ, 0, 0); /* segment 0, 00:00.0, register 0 */
	print("00:00.0 vendor and device: ");
	b_system(DUMP_RAX, id, 0);
	print("\n");
	// doc end
}

// doc: callbacks
static u64 ticks;

static void tick(void) {
	__atomic_fetch_add(&ticks, 1, __ATOMIC_RELAXED);
}

static void callbacks(void) {
	b_system(CALLBACK_TIMER, (u64)tick, 0);
	b_system(DELAY, 50000, 0); /* callbacks are polled by compatible calls */
	while (__atomic_load_n(&ticks, __ATOMIC_RELAXED) == 0) {
		b_system(DELAY, 10000, 0);
	}
	b_system(CALLBACK_TIMER, 0, 0);
	print("the timer callback fired\n");
}
// doc end

static void power(u64 what) {
	// doc: power
	if (what == 1) {
		b_system(REBOOT, 0, 0);
	} else if (what == 2) {
		b_system(SHUTDOWN, 0, 0);
	}
	// doc end
}

int main(void) {
	output();
	input();
	time();
	smp();
	screen();
	net();
	nvs();
	bus();
	callbacks();
	power(0);
	print("baremetal-examples-c: done, ");
	print_number((u64)failed);
	print(" failed\n");
	return failed;
}

/* The entry: the first byte of the flat file. Clears .bss (the file ends where it
 * begins), runs main and returns its value as the status. */
__attribute__((section(".text.start"))) u64 _start(void) {
	for (volatile char *at = __bss_start; at < __bss_end; at++) {
		*at = 0;
	}
	return (u64)main();
}
