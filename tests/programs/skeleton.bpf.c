// SPDX-License-Identifier: GPL-2.0
/*
 * The skeleton generator's object: global data in every section, maps with struct keys and values, and an event
 * record with the C layouts C# has no words for (bitfields, a union, an anonymous member, a nested array, a packed
 * struct, an enum with a negative value), written into a ring buffer each time the program runs.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpfsharp.h>

enum sample_kind { SAMPLE_FIRST = 1, SAMPLE_SECOND = 2, SAMPLE_NEGATIVE = -3 };

struct sample_key {
	__u32 cpu;
	__u16 port;
	__u8 proto;
	__u8 pad;
};

struct sample_stats {
	__u64 packets;
	__u64 bytes;
	__s32 last_delta;
	__u32 flags;
};

struct packed_tail {
	__u8 tag;
	__u32 value;
} __attribute__((packed));

struct sample_event {
	__u64 seq;
	enum sample_kind kind;
	__u32 low : 3;
	__s32 signed_mid : 7;
	__u32 high : 22;
	union {
		__u32 as_u32;
		__u8 as_bytes[4];
	} word;
	struct {
		__u16 first;
		__u16 second;
	};
	__u32 grid[2][3];
	char comm[16];
	struct packed_tail tail;
};

/* Only built through a local pointer: named here so that its BTF, and so the skeleton's C# struct, exist. */
BPFSHARP_TYPE(struct sample_event);

/* Member names C# gives other meanings: what every struct inherits, and the struct's own name. */
struct awkward_names {
	__u32 to_string;
	__u32 equals;
	__u32 get_type;
	__u32 awkward_names;
};
BPFSHARP_TYPE(struct awkward_names);

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, struct sample_key);
	__type(value, struct sample_stats);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sample_stats);
} percpu SEC(".maps");

const volatile __u32 multiplier = 1;
const volatile char label[8] = "none";
__u64 base = 100;
__u64 runs;
struct sample_stats totals;

SEC("syscall")
int emit(void *ctx)
{
	__u32 zero = 0;
	struct sample_event *e;
	int i, j;

	runs++;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 1;
	e->seq = runs * multiplier + base;
	e->kind = runs % 2 ? SAMPLE_SECOND : SAMPLE_NEGATIVE;
	e->low = 5;
	e->signed_mid = -17;
	e->high = 0x2abcde;
	e->word.as_u32 = 0x04030201;
	e->first = 11;
	e->second = 22;
	for (i = 0; i < 2; i++)
		for (j = 0; j < 3; j++)
			e->grid[i][j] = i * 10 + j;
	for (i = 0; i < 16; i++)
		e->comm[i] = i < 8 ? label[i] : 0;
	e->tail.tag = 7;
	e->tail.value = 0xdeadbeef;
	bpf_ringbuf_submit(e, 0);

	struct sample_key key = { .cpu = 1, .port = 80, .proto = 6 };
	struct sample_stats value = { .packets = runs, .bytes = runs * 1500, .last_delta = -5, .flags = 3 };
	bpf_map_update_elem(&stats, &key, &value, BPF_ANY);

	__u64 *counter = bpf_map_lookup_elem(&counters, &zero);
	if (counter)
		*counter += multiplier;
	struct sample_stats *mine = bpf_map_lookup_elem(&percpu, &zero);
	if (mine)
		mine->packets++;
	totals.packets++;
	totals.bytes += base;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
