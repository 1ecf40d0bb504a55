// Calls between functions and references to data: static and global subprograms (BPF_PSEUDO_CALL),
// a bpf_loop callback (an ld_imm64 of a function, BPF_PSEUDO_FUNC), hash, array, ring buffer and
// program array maps, global variables in .data, .bss and .rodata, and a tail call.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct event {
	__u32 pid;
	__u32 depth;
	__u64 sum;
	__u64 loop_sum;
	__u64 calls;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 128);
	__type(key, __u32);
	__type(value, __u64);
} per_pid SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 16); // room for other processes' getpid events while the test triggers its own
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} jump_table SEC(".maps");

const volatile __u32 depth_limit = 8;
__u64 calls = 0;
__u32 last_pid = 7;

struct loop_state {
	__u64 sum;
	__u32 limit;
};

static int add_step(__u32 index, void *data)
{
	struct loop_state *state = data;

	state->sum += index * index;
	return index >= state->limit;
}

static __attribute__((noinline)) __u64 fold(__u64 a, __u64 b)
{
	return (a ^ (b << 7)) + (b >> 3);
}

__attribute__((noinline)) int count_pid(__u32 pid)
{
	__u64 one = 1;
	__u64 *seen = bpf_map_lookup_elem(&per_pid, &pid);

	if (seen) {
		*seen += 1;
		return (int)(*seen & 0x7fffffff);
	}
	bpf_map_update_elem(&per_pid, &pid, &one, BPF_ANY);
	return 1;
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int on_getpid(void *ctx)
{
	struct loop_state state = { .sum = 0, .limit = depth_limit };
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	int seen = count_pid(pid);
	__u64 call;

	bpf_loop(16, add_step, &state, 0);
	calls++;
	call = calls;
	last_pid = pid;

	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (e) {
		e->pid = pid;
		e->depth = seen;
		e->sum = fold(state.sum, call);
		e->loop_sum = state.sum;
		e->calls = call;
		bpf_ringbuf_submit(e, 0);
	}
	bpf_tail_call(ctx, &jump_table, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
