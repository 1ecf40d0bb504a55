// A TCP congestion control written in BPF (struct_ops): Reno through the kernel's own tcp_reno_*
// kfuncs, with counters that prove the kernel called it. The same programs fill two ops tables:
// SEC(".struct_ops") registers by updating its map (the only way before kernel 6.4), and
// SEC(".struct_ops.link") registers as a BPF link. Each table has its own name, so both can be
// registered at once.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

extern void tcp_reno_cong_avoid(struct sock *sk, __u32 ack, __u32 acked) __ksym;
extern __u32 tcp_reno_ssthresh(struct sock *sk) __ksym;
extern __u32 tcp_reno_undo_cwnd(struct sock *sk) __ksym;

__u64 init_calls;
__u64 cong_avoid_calls;
__u64 ssthresh_calls;
__u64 release_calls;

SEC("struct_ops/bpfsharp_init")
void BPF_PROG(bpfsharp_init, struct sock *sk)
{
	__sync_fetch_and_add(&init_calls, 1);
}

SEC("struct_ops/bpfsharp_release")
void BPF_PROG(bpfsharp_release, struct sock *sk)
{
	__sync_fetch_and_add(&release_calls, 1);
}

SEC("struct_ops/bpfsharp_cong_avoid")
void BPF_PROG(bpfsharp_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	__sync_fetch_and_add(&cong_avoid_calls, 1);
	tcp_reno_cong_avoid(sk, ack, acked);
}

SEC("struct_ops/bpfsharp_ssthresh")
__u32 BPF_PROG(bpfsharp_ssthresh, struct sock *sk)
{
	__sync_fetch_and_add(&ssthresh_calls, 1);
	return tcp_reno_ssthresh(sk);
}

SEC("struct_ops/bpfsharp_undo_cwnd")
__u32 BPF_PROG(bpfsharp_undo_cwnd, struct sock *sk)
{
	return tcp_reno_undo_cwnd(sk);
}

SEC(".struct_ops")
struct tcp_congestion_ops bpfsharp_reno = {
	.init = (void *)bpfsharp_init,
	.release = (void *)bpfsharp_release,
	.cong_avoid = (void *)bpfsharp_cong_avoid,
	.ssthresh = (void *)bpfsharp_ssthresh,
	.undo_cwnd = (void *)bpfsharp_undo_cwnd,
	.name = "bpfsharp_reno",
};

SEC(".struct_ops.link")
struct tcp_congestion_ops bpfsharp_reno_link = {
	.init = (void *)bpfsharp_init,
	.release = (void *)bpfsharp_release,
	.cong_avoid = (void *)bpfsharp_cong_avoid,
	.ssthresh = (void *)bpfsharp_ssthresh,
	.undo_cwnd = (void *)bpfsharp_undo_cwnd,
	.name = "bpfsharp_renol",
};

char LICENSE[] SEC("license") = "GPL";
