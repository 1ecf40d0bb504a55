// Optional struct_ops maps (libbpf 1.x): a map in SEC("?.struct_ops.link") is not created unless its
// Autocreate is turned on, and a struct_ops program only it uses is then not loaded either.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

extern void tcp_reno_cong_avoid(struct sock *sk, __u32 ack, __u32 acked) __ksym;
extern __u32 tcp_reno_ssthresh(struct sock *sk) __ksym;
extern __u32 tcp_reno_undo_cwnd(struct sock *sk) __ksym;

SEC("struct_ops/shared_cong_avoid")
void BPF_PROG(shared_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	tcp_reno_cong_avoid(sk, ack, acked);
}

SEC("struct_ops/shared_ssthresh")
__u32 BPF_PROG(shared_ssthresh, struct sock *sk)
{
	return tcp_reno_ssthresh(sk);
}

SEC("struct_ops/shared_undo_cwnd")
__u32 BPF_PROG(shared_undo_cwnd, struct sock *sk)
{
	return tcp_reno_undo_cwnd(sk);
}

SEC("struct_ops/optional_init")
void BPF_PROG(optional_init, struct sock *sk)
{
}

SEC(".struct_ops.link")
struct tcp_congestion_ops always_reno = {
	.cong_avoid = (void *)shared_cong_avoid,
	.ssthresh = (void *)shared_ssthresh,
	.undo_cwnd = (void *)shared_undo_cwnd,
	.name = "bpfsharp_always",
};

SEC("?.struct_ops.link")
struct tcp_congestion_ops optional_reno = {
	.init = (void *)optional_init,
	.cong_avoid = (void *)shared_cong_avoid,
	.ssthresh = (void *)shared_ssthresh,
	.undo_cwnd = (void *)shared_undo_cwnd,
	.name = "bpfsharp_opt",
};

char LICENSE[] SEC("license") = "GPL";
