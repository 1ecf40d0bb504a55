// SPDX-License-Identifier: GPL-2.0
// syscount: system calls counted per call (or per process), optionally with their latency as log2 histograms.
//
// raw_syscalls:sys_exit carries the call number and its return value, which is all that counting needs; with
// latency, raw_syscalls:sys_enter stores the entry time per thread and sys_exit turns it into a duration. Counters
// live in one hash map, updated with atomic adds since every CPU may hit the same call at once.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#define SLOTS 40        // log2 nanosecond slots: slot 39 holds everything from 2^38 ns (~4.6 min) up
#define TASK_COMM_LEN 16

struct syscall_stats {
	__u64 count;
	__u64 total_ns;
	__u64 slots[SLOTS];
	char comm[TASK_COMM_LEN];   // per-process mode: the process's name (its leader's comm) when first seen
};

const volatile __u32 filter_pid = 0;
const volatile bool by_process = false;
const volatile bool measure_latency = false;
const volatile bool failures_only = false;

static const struct syscall_stats zero_stats = {};

// Calls not counted because the stats map was full (a new call number or process found no room).
__u64 missed;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct syscall_stats);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);     // thread id
	__type(value, __u64);   // entry time, ns
} starts SEC(".maps");

// The slot of a log2 histogram: 0 for 0, else 1 + floor(log2(v)), so slot i holds [2^(i-1), 2^i).
static __always_inline __u32 log2_slot(__u64 v)
{
	__u32 r = 0, shift;
	if (!v)
		return 0;
	shift = (v > 0xFFFFFFFFULL) << 5; v >>= shift; r = shift;
	shift = (v > 0xFFFF) << 4; v >>= shift; r |= shift;
	shift = (v > 0xFF) << 3; v >>= shift; r |= shift;
	shift = (v > 0xF) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r + 1;
}

SEC("tracepoint/raw_syscalls/sys_enter")
int syscount_enter(struct trace_event_raw_sys_enter *ctx)
{
	if (!measure_latency)
		return 0;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if (filter_pid && (pid_tgid >> 32) != filter_pid)
		return 0;
	__u32 tid = (__u32)pid_tgid;
	__u64 now = bpf_ktime_get_ns();
	bpf_map_update_elem(&starts, &tid, &now, BPF_ANY);
	return 0;
}

SEC("tracepoint/raw_syscalls/sys_exit")
int syscount_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;
	if (filter_pid && tgid != filter_pid)
		return 0;
	long id = ctx->id;
	if (id < 0)
		return 0; // not a call: a tracer or seccomp skipped it
	__u64 latency = 0;
	if (measure_latency) {
		__u32 tid = (__u32)pid_tgid;
		__u64 *start = bpf_map_lookup_elem(&starts, &tid);
		if (!start)
			return 0; // entered before tracing began
		latency = bpf_ktime_get_ns() - *start;
		bpf_map_delete_elem(&starts, &tid);
	}
	if (failures_only && ctx->ret >= 0)
		return 0;

	__u32 key = by_process ? tgid : (__u32)id;
	struct syscall_stats *s = bpf_map_lookup_elem(&stats, &key);
	if (!s) {
		bpf_map_update_elem(&stats, &key, &zero_stats, BPF_NOEXIST);
		s = bpf_map_lookup_elem(&stats, &key);
		if (!s) {
			__sync_fetch_and_add(&missed, 1);
			return 0;
		}
		if (by_process) {
			// The process's name is its leader thread's comm (the current thread may have renamed itself).
			struct task_struct *task = (struct task_struct *)bpf_get_current_task();
			struct task_struct *leader = BPF_CORE_READ(task, group_leader);
			bpf_core_read_str(s->comm, sizeof(s->comm), &leader->comm);
		}
	}
	__sync_fetch_and_add(&s->count, 1);
	if (measure_latency) {
		__sync_fetch_and_add(&s->total_ns, latency);
		__u32 slot = log2_slot(latency);
		if (slot >= SLOTS)
			slot = SLOTS - 1;
		__sync_fetch_and_add(&s->slots[slot], 1);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
