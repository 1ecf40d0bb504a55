// The C example of docs/getting-started.md: every openat(2) of one process, sent to user space
// through a ring buffer. Kept true by tests/BpfSharp.Tests/Docs/GettingStartedTests.cs.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpfsharp.h>

struct open_event {
	__u32 pid;
	__s32 flags;
	char filename[64];
};
BPFSHARP_TYPE(struct open_event); /* for the skeleton: the record's C# struct */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} events SEC(".maps");

const volatile __u32 target_pid = 0; /* set from C# before loading; 0 = every process */

/* The layout of syscalls:sys_enter_openat, from /sys/kernel/tracing/events/syscalls/sys_enter_openat/format. */
struct openat_args {
	__u64 common;
	__s64 syscall_nr;
	__s64 dfd;
	const char *filename;
	__s64 flags;
	__s64 mode;
};

SEC("tracepoint/syscalls/sys_enter_openat")
int on_openat(struct openat_args *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (target_pid && pid != target_pid)
		return 0;
	struct open_event *event = bpf_ringbuf_reserve(&events, sizeof(*event), 0);
	if (!event)
		return 0;
	event->pid = pid;
	event->flags = (__s32)ctx->flags;
	bpf_probe_read_user_str(event->filename, sizeof(event->filename), ctx->filename);
	bpf_ringbuf_submit(event, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
