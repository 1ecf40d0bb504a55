// SPDX-License-Identifier: GPL-2.0
// profile: a sampling CPU profiler. A software cpu-clock perf event on every CPU runs profile_sample N times a second;
// each run records the interrupted task's kernel and user stacks (bpf_get_stackid into one stack trace map) and
// counts the sample under {process, kernel stack id, user stack id, comm}. The frontend reads the counts once at
// the end and turns stack ids into frames.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define MAX_STACK_DEPTH 127
#define TASK_COMM_LEN 16
#define EFAULT 14

struct stack_key {
	__u32 pid;              // the process (tgid); 0 is the idle task
	__s32 kernel_stack_id;  // negative: no kernel stack (-EFAULT: the CPU was in user mode) or none wanted
	__s32 user_stack_id;    // negative: no user stack (-EFAULT: a kernel thread) or none wanted
	char comm[TASK_COMM_LEN];
};

const volatile __u32 filter_pid = 0;     // 0: every process
const volatile bool user_stacks = true;
const volatile bool kernel_stacks = true;
const volatile bool include_idle = false;

// Samples whose stack could not be stored (the stack map was full or a hash bucket collided), and samples not
// counted at all because the counts map was full.
__u64 lost_stacks;
__u64 lost_samples;

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16384);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, MAX_STACK_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct stack_key);
	__type(value, __u64);
} counts SEC(".maps");

SEC("perf_event")
int profile_sample(struct bpf_perf_event_data *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;
	__u32 tid = (__u32)pid_tgid;
	if (tid == 0 && !include_idle)
		return 0;
	if (filter_pid && tgid != filter_pid)
		return 0;

	struct stack_key key = {};
	key.pid = tgid;
	bpf_get_current_comm(key.comm, sizeof(key.comm));
	key.kernel_stack_id = -1;
	key.user_stack_id = -1;
	if (kernel_stacks) {
		key.kernel_stack_id = bpf_get_stackid(ctx, &stacks, 0);
		// A kernel profile has nothing to say about a CPU running user code.
		if (!user_stacks && key.kernel_stack_id == -EFAULT)
			return 0;
		if (key.kernel_stack_id < 0 && key.kernel_stack_id != -EFAULT)
			__sync_fetch_and_add(&lost_stacks, 1);
	}
	if (user_stacks) {
		key.user_stack_id = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
		// A user profile has nothing to say about a kernel thread.
		if (!kernel_stacks && key.user_stack_id == -EFAULT)
			return 0;
		if (key.user_stack_id < 0 && key.user_stack_id != -EFAULT)
			__sync_fetch_and_add(&lost_stacks, 1);
	}

	__u64 *count = bpf_map_lookup_elem(&counts, &key);
	if (count) {
		__sync_fetch_and_add(count, 1);
		return 0;
	}
	__u64 one = 1;
	if (bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST) != 0) {
		// Another CPU added the key meanwhile (then add to it), or the map is full.
		count = bpf_map_lookup_elem(&counts, &key);
		if (count)
			__sync_fetch_and_add(count, 1);
		else
			__sync_fetch_and_add(&lost_samples, 1);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
