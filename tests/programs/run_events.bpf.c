// For `bpfsharp run`: a tracepoint program that emits one struct to a ring buffer and to a perf event array for
// each write() of a size the test chooses, and counts into an array (a histogram), a hash map keyed by a struct,
// and a per-CPU array. Globals in .rodata let the test change its behaviour with --set.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

enum run_kind {
	KIND_SMALL = 1,
	KIND_LARGE = 2,
};

enum run_outputs {
	OUTPUT_RING = 1,
	OUTPUT_PERF = 2,
	OUTPUT_BOTH = 3,
};

struct run_point {
	__u16 x;
	__s16 y;
};

struct run_event {
	__u32 pid;
	__s32 fd;
	__u64 count;
	char comm[16];
	char tag[8];
	enum run_kind kind;
	struct run_point where;
	__u32 history[3];
};

struct run_key {
	__u32 pid;
	enum run_kind kind;
};

/* Keeps struct run_event in the object's BTF, where `bpfsharp run` finds it by its size. */
const struct run_event *run_event_type __attribute__((unused));

const volatile __u32 target_tgid = 0;
const volatile __u64 base_count = 7000;         /* writes of base_count + 0..15 bytes are events */
const volatile enum run_outputs outputs = OUTPUT_BOTH;
const volatile char tag[8] = "tagA";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} ring_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct run_key);
	__type(value, __u64);
} bytes_by_kind SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} total_events SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_write")
int on_write(struct trace_event_raw_sys_enter *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u64 count = ctx->args[2];
	__u32 slot, zero = 0;
	struct run_event e = {};
	struct run_key key = {};
	__u64 *value, one = 1;

	if (pid != target_tgid || count < base_count || count >= base_count + 16)
		return 0;
	slot = count - base_count;

	e.pid = pid;
	e.fd = (__s32)ctx->args[0];
	e.count = count;
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	for (int i = 0; i < sizeof(e.tag); i++)
		e.tag[i] = tag[i];
	e.kind = slot >= 2 ? KIND_LARGE : KIND_SMALL;
	e.where.x = slot;
	e.where.y = -(__s16)slot;
	e.history[0] = slot;
	e.history[1] = slot * 10;
	e.history[2] = slot * 100;

	if (outputs & OUTPUT_RING)
		bpf_ringbuf_output(&ring_events, &e, sizeof(e), 0);
	if (outputs & OUTPUT_PERF)
		bpf_perf_event_output(ctx, &perf_events, BPF_F_CURRENT_CPU, &e, sizeof(e));

	value = bpf_map_lookup_elem(&slots, &slot);
	if (value)
		__sync_fetch_and_add(value, 1);

	key.pid = pid;
	key.kind = e.kind;
	value = bpf_map_lookup_elem(&bytes_by_kind, &key);
	if (value)
		__sync_fetch_and_add(value, count);
	else
		bpf_map_update_elem(&bytes_by_kind, &key, &count, BPF_NOEXIST);

	value = bpf_map_lookup_elem(&total_events, &zero);
	if (value)
		*value += one;
	return 0;
}
