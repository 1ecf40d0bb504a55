// SPDX-License-Identifier: GPL-2.0
/* opensnoop's backend: every openat(2), with the process, its flags and the path, sent through a ring buffer. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpfsharp.h>

#define PATH_SIZE 256

struct open_event {
	__u64 time_ns;
	__u32 pid;
	__s32 flags;
	char comm[16];
	char path[PATH_SIZE];
};
BPFSHARP_TYPE(struct open_event); /* the record's C# struct in the skeleton */

/* Settings, written by the frontend before the object loads (they are constants to the verifier). */
const volatile __u32 target_pid = 0; /* 0: every process */
const volatile __u64 wakeup_bytes = 0;

/* Opens not reported because the ring buffer was full: read live by the frontend. */
__u64 lost;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_openat")
int on_openat(struct trace_event_raw_sys_enter *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (target_pid && pid != target_pid)
		return 0;
	struct open_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&lost, 1);
		return 0;
	}
	e->time_ns = bpf_ktime_get_ns();
	e->pid = pid;
	e->flags = (__s32)BPF_CORE_READ(ctx, args[2]);
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_probe_read_user_str(e->path, sizeof(e->path), (const char *)BPF_CORE_READ(ctx, args[1]));
	bpf_ringbuf_submit(e, bpfsharp_ringbuf_wakeup(&events, wakeup_bytes));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
