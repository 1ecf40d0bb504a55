// A program the verifier rejects (it reads past the end of a map value), next to one it accepts:
// the loader must name the program, the instruction and this file's source line.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} small SEC(".maps");

SEC("xdp")
int reads_too_far(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *value = bpf_map_lookup_elem(&small, &key);

	if (!value)
		return XDP_PASS;
	return value[3] == 42 ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int accepted(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
