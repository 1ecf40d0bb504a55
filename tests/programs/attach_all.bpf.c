// Programs for Collection.AttachAll: two whose section names say where to attach (a tracepoint and a
// raw tracepoint), one that needs a device (XDP) and so is left alone, and an optional one ('?'). Each counts its own runs for
// the calling process only, so other processes' syscalls do not disturb the test.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u32 target_tgid;
__u64 tracepoint_hits;
__u64 raw_hits;
__u64 xdp_runs;
__u64 optional_hits;

static __always_inline int is_target(void)
{
	return (__u32)(bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int on_getppid(void *ctx)
{
	if (is_target())
		__sync_fetch_and_add(&tracepoint_hits, 1);
	return 0;
}

SEC("raw_tp/sys_enter")
int on_sys_enter(void *ctx)
{
	if (is_target())
		__sync_fetch_and_add(&raw_hits, 1);
	return 0;
}

/* '?' (libbpf 1.x): not loaded unless the user turns its autoload on. */
SEC("?tracepoint/syscalls/sys_enter_getppid")
int optional_getppid(void *ctx)
{
	if (is_target())
		__sync_fetch_and_add(&optional_hits, 1);
	return 0;
}

SEC("xdp")
int pass_all(struct xdp_md *ctx)
{
	__sync_fetch_and_add(&xdp_runs, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
