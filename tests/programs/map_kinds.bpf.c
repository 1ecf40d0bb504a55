// One map of each common kind in .maps, all touched by one XDP program so a test run proves each
// was created with the right definition: hash, array, per-CPU hash and array, LRU hashes, LPM trie,
// queue, stack, bloom filter (map_extra), ring buffer, stack trace, task storage, and an explicitly
// sized map (key_size/value_size instead of types) with map_flags and numa_node. A tracepoint program
// writes the calling thread's task storage (task storage helpers are for tracing programs, not XDP).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct lpm_key {
	__u32 prefixlen;
	__u32 addr;
};

struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 16); __type(key, __u32); __type(value, __u64); } hash SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 4); __type(key, __u32); __type(value, __u64); } array SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_HASH); __uint(max_entries, 8); __type(key, __u32); __type(value, __u64); } percpu_hash SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __uint(max_entries, 2); __type(key, __u32); __type(value, __u64); } percpu_array SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_LRU_HASH); __uint(max_entries, 8); __type(key, __u32); __type(value, __u64); } lru_hash SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH); __uint(max_entries, 8); __type(key, __u32); __type(value, __u64); } lru_percpu_hash SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_LPM_TRIE); __uint(max_entries, 8); __uint(map_flags, BPF_F_NO_PREALLOC); __type(key, struct lpm_key); __type(value, __u32); } lpm SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_QUEUE); __uint(max_entries, 4); __type(value, __u32); } queue SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_STACK); __uint(max_entries, 4); __type(value, __u32); } stack SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_BLOOM_FILTER); __uint(max_entries, 64); __uint(map_extra, 3); __type(value, __u32); } bloom SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096); } ringbuf SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_STACK_TRACE); __uint(max_entries, 16); __uint(key_size, 4); __uint(value_size, 8 * 127); } stack_traces SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_TASK_STORAGE); __uint(map_flags, BPF_F_NO_PREALLOC); __type(key, int); __type(value, __u64); } task_storage SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 32); __uint(key_size, 8); __uint(value_size, 16); __uint(map_flags, BPF_F_NO_PREALLOC); __uint(numa_node, 0); } sized SEC(".maps");

SEC("xdp")
int touch_maps(struct xdp_md *ctx)
{
	__u32 key = 1, value32 = 7;
	__u64 value = 11;
	struct lpm_key prefix = { .prefixlen = 16, .addr = 0x0000a8c0 };
	__u64 sized_key = 5;
	__u64 sized_value[2] = { 21, 22 };
	__u64 *slot;

	bpf_map_update_elem(&hash, &key, &value, BPF_ANY);
	slot = bpf_map_lookup_elem(&array, &key);
	if (slot)
		*slot = 12;
	bpf_map_update_elem(&percpu_hash, &key, &value, BPF_ANY);
	slot = bpf_map_lookup_elem(&percpu_array, &key);
	if (slot)
		*slot += 13;
	bpf_map_update_elem(&lru_hash, &key, &value, BPF_ANY);
	bpf_map_update_elem(&lru_percpu_hash, &key, &value, BPF_ANY);
	bpf_map_update_elem(&lpm, &prefix, &value32, BPF_ANY);
	bpf_map_push_elem(&queue, &value32, 0);
	value32 = 8;
	bpf_map_push_elem(&stack, &value32, 0);
	bpf_map_push_elem(&bloom, &value32, 0);
	bpf_ringbuf_output(&ringbuf, &value, sizeof(value), 0);
	bpf_map_update_elem(&sized, &sized_key, sized_value, BPF_ANY);
	return XDP_PASS;
}

struct task_struct;

SEC("tracepoint/syscalls/sys_enter_getppid")
int store_task(void *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 *stored = bpf_task_storage_get(&task_storage, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (stored)
		*stored = (__u32)bpf_get_current_pid_tgid() + ((__u64)0xabc << 32);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
