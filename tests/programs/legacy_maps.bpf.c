// The legacy "maps" section with struct bpf_map_def, which libbpf 1.0 dropped (bpftool refuses it)
// and BpfSharp still loads: an array and a hash counting XDP test runs.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct legacy_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

struct legacy_map_def SEC("maps") legacy_counts = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 2,
};

struct legacy_map_def SEC("maps") legacy_lengths = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u32),
	.max_entries = 16,
	.map_flags = BPF_F_NO_PREALLOC,
};

SEC("xdp")
int count_legacy(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u32 length = ctx->data_end - ctx->data;
	__u64 *count = bpf_map_lookup_elem(&legacy_counts, &key);

	if (count)
		__sync_fetch_and_add(count, 1);
	bpf_map_update_elem(&legacy_lengths, &length, &length, BPF_ANY);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
