// Maps of maps with inner maps given through __array(values, ...) and initial values: an array of
// maps whose slots 0 and 1 hold inner_a and inner_b, and a hash of maps with slot 7 holding inner_b.
// The program writes through the outer maps so a test reads the values back from the inner maps.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
};

struct inner inner_a SEC(".maps");
struct inner inner_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner);
} outer_array SEC(".maps") = {
	.values = { [0] = &inner_a, [1] = &inner_b },
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 8);
	__type(key, __u32);
	__array(values, struct inner);
} outer_hash SEC(".maps") = {
	.values = { [7] = &inner_b },
};

SEC("syscall")
int write_inner(void *ctx)
{
	__u32 zero = 0, one = 1, seven = 7;
	__u64 *value;
	void *map;

	map = bpf_map_lookup_elem(&outer_array, &zero);
	if (map && (value = bpf_map_lookup_elem(map, &zero)))
		*value = 100;
	map = bpf_map_lookup_elem(&outer_array, &one);
	if (map && (value = bpf_map_lookup_elem(map, &zero)))
		*value += 1;
	map = bpf_map_lookup_elem(&outer_hash, &seven);
	if (map && (value = bpf_map_lookup_elem(map, &zero)))
		*value += 10;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
