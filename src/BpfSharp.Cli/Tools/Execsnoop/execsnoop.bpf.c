// SPDX-License-Identifier: GPL-2.0
// execsnoop: every exec() with its argv, parent and result.
//
// The argv is read at syscall entry (the old image's memory still holds it) into a per-process slot of the
// `execs` hash map, keyed by the tgid: when a thread of a multithreaded process execs, de_thread() gives it the
// leader's pid, so the tgid is the one id that is the same at entry and exit. At exit the slot gets the return
// value, the new comm and the parent, and goes out through the ring buffer. The event is ~2.6 KiB, far beyond the
// 512-byte BPF stack, so it is built in place in the map value and never on the stack.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpfsharp.h>

#define ARGS_MAX 20
#define ARG_SIZE 128
#define ARGS_BYTES (ARGS_MAX * ARG_SIZE)
#define LAST_ARG_OFFSET (ARGS_BYTES - ARG_SIZE)
#define TASK_COMM_LEN 16

// Event flags.
#define EXEC_MORE_ARGS 1    // argv had more than ARGS_MAX entries; the rest are not shown
#define EXEC_ARG_FAULT 2    // reading an argv pointer or string faulted; args stop there

struct exec_event {
	__u64 timestamp_ns;     // CLOCK_BOOTTIME at exit
	__u32 pid;              // tgid (the same before and after exec)
	__u32 tid;              // the thread that called exec (before de_thread)
	__u32 ppid;
	__u32 uid;
	__s32 ret;
	__u32 args_count;       // strings in args
	__u32 args_size;        // bytes used in args, each string NUL-terminated
	__u32 truncated_args;   // bit i: argument i was longer than ARG_SIZE - 1 bytes and is cut
	__u32 flags;
	__u32 reserved;
	char comm[TASK_COMM_LEN];
	char args[ARGS_BYTES];
};

// Filters, set by the frontend before loading.
const volatile __u32 filter_uid = (__u32)-1;
const volatile __u32 filter_pid = 0;
const volatile __u32 filter_ppid = 0;
const volatile bool filter_cgroup = false;
const volatile bool show_failed = false;

static const struct exec_event empty_event = {};

// Wake the reader only once this much is waiting (user space sets a quarter of the ring and drains every 100 ms
// besides): a wakeup per exec costs the exit program an interrupt, about 20 µs of its 21 µs in a VM.
const volatile __u64 wakeup_bytes = 1 << 18;

// Execs not reported: the ring buffer was full (lost_events), or the table of execs in progress was (lost_slots).
__u64 lost_events;
__u64 lost_slots;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct exec_event);
} execs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} cgroup_filter SEC(".maps");

static __always_inline __u32 parent_tgid(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	return BPF_CORE_READ(task, real_parent, tgid);
}

static __always_inline int enter(const char *const *argv)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;
	__u32 uid = (__u32)bpf_get_current_uid_gid();

	if (filter_uid != (__u32)-1 && uid != filter_uid)
		return 0;
	if (filter_pid && tgid != filter_pid)
		return 0;
	if (filter_ppid && parent_tgid() != filter_ppid)
		return 0;
	if (filter_cgroup && bpf_current_task_under_cgroup(&cgroup_filter, 0) != 1)
		return 0;

	if (bpf_map_update_elem(&execs, &tgid, &empty_event, BPF_ANY)) {
		__sync_fetch_and_add(&lost_slots, 1);
		return 0;
	}
	struct exec_event *e = bpf_map_lookup_elem(&execs, &tgid);
	if (!e)
		return 0;
	e->pid = tgid;
	e->tid = (__u32)pid_tgid;
	e->uid = uid;

	for (int i = 0; i < ARGS_MAX; i++) {
		const char *arg = NULL;
		if (bpf_probe_read_user(&arg, sizeof(arg), &argv[i])) {
			e->flags |= EXEC_ARG_FAULT;
			return 0;
		}
		if (!arg)
			return 0;
		__u32 offset = e->args_size;
		if (offset > LAST_ARG_OFFSET)
			return 0;
		long n = bpf_probe_read_user_str(&e->args[offset], ARG_SIZE, arg);
		if (n <= 0) {
			e->flags |= EXEC_ARG_FAULT;
			return 0;
		}
		if (n == ARG_SIZE) {
			// Full: the string was exactly ARG_SIZE - 1 bytes, or longer. The byte after the copy tells.
			char next = 0;
			if (bpf_probe_read_user(&next, 1, arg + ARG_SIZE - 1) || next)
				e->truncated_args |= 1u << i;
		}
		e->args_count++;
		e->args_size = offset + (__u32)n;
	}
	// All ARGS_MAX slots used: was there more?
	const char *more = NULL;
	if (!bpf_probe_read_user(&more, sizeof(more), &argv[ARGS_MAX]) && more)
		e->flags |= EXEC_MORE_ARGS;
	return 0;
}

static __always_inline int leave(long ret)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct exec_event *e = bpf_map_lookup_elem(&execs, &tgid);
	if (!e)
		return 0;
	if (ret < 0 && !show_failed)
		goto out;
	e->ret = (__s32)ret;
	e->timestamp_ns = bpf_ktime_get_boot_ns();
	e->ppid = parent_tgid();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	__u32 size = e->args_size;
	if (size > ARGS_BYTES)
		size = ARGS_BYTES;
	if (bpf_ringbuf_output(&events, e, offsetof(struct exec_event, args) + size, bpfsharp_ringbuf_wakeup(&events, wakeup_bytes)))
		__sync_fetch_and_add(&lost_events, 1);
out:
	bpf_map_delete_elem(&execs, &tgid);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_execve")
int execve_enter(struct trace_event_raw_sys_enter *ctx)
{
	return enter((const char *const *)ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_exit_execve")
int execve_exit(struct trace_event_raw_sys_exit *ctx)
{
	return leave(ctx->ret);
}

SEC("tracepoint/syscalls/sys_enter_execveat")
int execveat_enter(struct trace_event_raw_sys_enter *ctx)
{
	return enter((const char *const *)ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_exit_execveat")
int execveat_exit(struct trace_event_raw_sys_exit *ctx)
{
	return leave(ctx->ret);
}

char LICENSE[] SEC("license") = "GPL";
