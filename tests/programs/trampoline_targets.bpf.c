// BTF-attached programs whose targets the loader resolves: a function of another BPF program
// (freplace, and fentry on a BPF program: freplace_target.bpf.c's bpfsharp_verdict), a function of
// a kernel module (fentry/MODULE:FUNCTION) and a function of vmlinux. Tests load one at a time.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

__u64 entries;

SEC("freplace/bpfsharp_verdict")
int replace_verdict(int length)
{
	return XDP_DROP;
}

SEC("fentry/bpfsharp_verdict")
int BPF_PROG(enter_verdict, int length)
{
	__sync_fetch_and_add(&entries, 1);
	return 0;
}

SEC("fentry/bpfsharp_no_module:bpfsharp_function")
int BPF_PROG(enter_module_function)
{
	__sync_fetch_and_add(&entries, 1);
	return 0;
}

SEC("fentry/tcp_sendmsg")
int BPF_PROG(enter_tcp_sendmsg)
{
	__sync_fetch_and_add(&entries, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
