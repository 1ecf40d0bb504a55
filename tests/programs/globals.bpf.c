// Global variables in every data section: .data, .rodata, .bss, a custom .data.counters and a
// custom .rodata.config, holding integers, structs, arrays and strings. The program copies what it
// reads into .bss so a test can check the values it saw and the ones set before loading.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct point {
	__u32 x;
	__u32 y;
	__u64 weight;
};

const volatile __u32 scale = 3;
const volatile struct point origin = { .x = 1, .y = 2, .weight = 3 };
const volatile char greeting[16] = "hello";
__u64 data_counter = 40;
__u32 data_array[4] = { 1, 2, 3, 4 };
__u64 bss_sum;
struct point bss_point;
char bss_text[16];
__u64 custom_counter SEC(".data.counters") = 5;
const volatile __u32 custom_limit SEC(".rodata.config") = 9;

SEC("syscall")
int read_globals(void *ctx)
{
	int i;

	data_counter += scale;
	bss_sum = 0;
	for (i = 0; i < 4; i++)
		bss_sum += data_array[i] * scale;
	bss_point.x = origin.x + custom_limit;
	bss_point.y = origin.y;
	bss_point.weight = origin.weight * scale;
	for (i = 0; i < sizeof(bss_text); i++)
		bss_text[i] = greeting[i];
	custom_counter++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
