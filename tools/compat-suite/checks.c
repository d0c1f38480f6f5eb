/* Ingot's BareMetal compatibility suite, C part: the table through baremetal.h as a C
 * program for the reference would use it. Prints "compat-c: ok NAME" or
 * "compat-c: FAIL NAME" per check; returns the number of failures. */
#include "baremetal.h"

/* Where this part's disk round trip goes: 9 sectors from BareMetal sector 64. */
#define C_FIRST 64
#define C_COUNT 9
#define SECTOR 4096

static u8 out_buffer[C_COUNT * SECTOR];
static u8 in_buffer[C_COUNT * SECTOR];
static u64 failures;

void *memset(void *to, int value, u64 count) {
	u8 *bytes = to;
	while (count--)
		*bytes++ = (u8)value;
	return to;
}

void *memcpy(void *to, const void *from, u64 count) {
	u8 *a = to;
	const u8 *b = from;
	while (count--)
		*a++ = *b++;
	return to;
}

static u64 length(const char *text) {
	u64 n = 0;
	while (text[n])
		n++;
	return n;
}

static void print(const char *text) { b_output(text, length(text)); }

static void print_number(u64 value) {
	char digits[24];
	int at = 24;
	do {
		digits[--at] = (char)('0' + value % 10);
		value /= 10;
	} while (value);
	b_output(digits + at, 24 - at);
}

static void check(int passed, const char *name) {
	print(passed ? "compat-c: ok " : "compat-c: FAIL ");
	print(name);
	print("\n");
	if (!passed)
		failures++;
}

/* The same pattern as suite.asm and the host check. */
static u8 pattern(u64 offset, u64 disk) {
	return (u8)(offset * 7 + (offset >> 12) * 31 + disk * 101);
}

static void disk_round_trip(u64 disk) {
	i64 error;
	for (u64 i = 0; i < sizeof out_buffer; i++)
		out_buffer[i] = pattern(C_FIRST * SECTOR + i, disk);
	u64 written = bm_nvs_write(out_buffer, C_FIRST, C_COUNT, disk, &error);
	check(written == C_COUNT && error == 0, "b_nvs_write returns the sectors written");
	memset(in_buffer, 0, sizeof in_buffer);
	u64 read = bm_nvs_read(in_buffer, C_FIRST, C_COUNT, disk, &error);
	int same = read == C_COUNT && error == 0;
	for (u64 i = 0; same && i < sizeof in_buffer; i++)
		same = in_buffer[i] == out_buffer[i];
	check(same, "b_nvs_read reads back every byte");
	print("compat-c: disk ");
	print_number(disk);
	print(" round trip sectors=9 verified\n");
	read = bm_nvs_read(in_buffer, ~0ul - 2, 4, disk, &error);
	check(read == 0 && error == -1, "b_nvs_read with a start that wraps: 0 sectors, InvalidArgument");
	read = bm_nvs_read(in_buffer, 0, 1ul << 60, disk, &error);
	check(read == 0 && error != 0, "b_nvs_read of 2^60 sectors refused");
}

u64 c_checks(void) {
	print("compat-c: start\n");
	int failed;
	u64 before = bm_system(TIMECOUNTER, 0, 0, &failed);
	b_system(DELAY, 5000, 0);
	u64 after = b_system(TIMECOUNTER, 0, 0);
	check(!failed && after - before >= 5000000, "TIMECOUNTER advances by 5 ms across DELAY 5000");
	u64 cores = b_system(SMP_NUMCORES, 0, 0);
	check(cores >= 1, "SMP_NUMCORES");
	check(b_input() == 0, "b_input without a key is 0");
	void *frame = 0;
	u64 received = b_net_rx(&frame, 9);
	check(received == 0 && frame != 0, "b_net_rx of interface 9: 0 bytes, a readable pointer");
	u64 disks = 0;
	for (u64 disk = 0; disk < 8; disk++) {
		i64 error;
		b_nvs_read(in_buffer, 0, 1, disk);
		bm_nvs_read(in_buffer, 0, 1, disk, &error);
		if (error == -4)
			break;
		disk_round_trip(disk);
		disks++;
	}
	print("compat-c: disks=");
	print_number(disks);
	print("\n");
	b_system(0x99, 1, 2);
	check(b_system(SMP_NUMCORES, 0, 0) == cores, "the kernel still answers after bad calls");
	return failures;
}
