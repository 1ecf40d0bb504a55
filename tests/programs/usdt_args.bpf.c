// USDT the libbpf way: BPF_USDT handlers reading their arguments through usdt.bpf.h's
// bpf_usdt_arg(), which looks the site's spec up in __bpf_usdt_specs by the BPF cookie the
// loader gave the site (usdt.bpf.h uses bool without including stdbool.h). The sections name the binary (relative to the working directory, as in
// libbpf), the provider and the probe of tests/native/probe_target.c.
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/usdt.bpf.h>

long args[8];
int arg_count;
long usdt_cookie;
__u64 args_hits;

int tick_last_i;
long tick_last_sum;
__u64 tick_hits;

SEC("usdt/native/probe_target:bpfsharp:args")
int BPF_USDT(on_args, long a0, long a1, long a2, long a3, long a4, long a5, long a6, long a7)
{
	args[0] = a0;
	args[1] = a1;
	args[2] = a2;
	args[3] = a3;
	args[4] = a4;
	args[5] = a5;
	args[6] = a6;
	args[7] = a7;
	arg_count = bpf_usdt_arg_cnt(ctx);
	usdt_cookie = bpf_usdt_cookie(ctx);
	__sync_fetch_and_add(&args_hits, 1);
	return 0;
}

SEC("usdt/native/probe_target:bpfsharp:tick")
int BPF_USDT(on_tick, int i, long sum_times_ten)
{
	tick_last_i = i;
	tick_last_sum = sum_times_ten;
	__sync_fetch_and_add(&tick_hits, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
