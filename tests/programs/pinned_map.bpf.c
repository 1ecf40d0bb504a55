// A map pinned by name (LIBBPF_PIN_BY_NAME): a second load reuses the pinned map and its contents.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} shared_runs SEC(".maps");

SEC("xdp")
int count_shared(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *runs = bpf_map_lookup_elem(&shared_runs, &key);

	if (runs)
		__sync_fetch_and_add(runs, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
