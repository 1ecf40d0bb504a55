// The program that freplace and fentry-on-BPF programs (trampoline_targets.bpf.c) attach to: an XDP
// program calling a global function, which the verifier checks on its own and which therefore can
// be replaced (freplace) or traced (fentry/fexit) by the function's BTF id in this program's BTF.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__attribute__((noinline)) int bpfsharp_verdict(int length)
{
	return length > 0 ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int decide(struct xdp_md *ctx)
{
	return bpfsharp_verdict(ctx->data_end - ctx->data);
}

char LICENSE[] SEC("license") = "GPL";
