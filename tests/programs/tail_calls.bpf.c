// A program array filled from the object (__array(values, int (void *)) with initial values): the
// entry program tail-calls slot 1, which counts and drops; slot 0 is never called.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 tail_runs = 0;
__u64 entry_runs = 0;

SEC("xdp")
int tail_drop(struct xdp_md *ctx)
{
	tail_runs++;
	return XDP_DROP;
}

SEC("xdp")
int tail_unused(struct xdp_md *ctx)
{
	return XDP_TX;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__uint(key_size, sizeof(__u32));
	__array(values, int (void *));
} jumps SEC(".maps") = {
	.values = { [0] = (void *)&tail_unused, [1] = (void *)&tail_drop },
};

SEC("xdp")
int tail_entry(struct xdp_md *ctx)
{
	entry_runs++;
	bpf_tail_call(ctx, &jumps, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
