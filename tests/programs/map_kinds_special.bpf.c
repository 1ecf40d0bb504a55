// The .maps kinds map_kinds.bpf.c leaves out, declared the BTF way so a test can check each is created with
// its declared type, key, value, max_entries and flags: device and CPU redirect maps, XDP socket map, socket
// maps, reuseport array, socket/inode/cgroup local storage, cgroup storage (shared and per-CPU), user ring
// buffer and cgroup array. (Arena is left out: some kernels refuse it to root with EPERM.)
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct { __uint(type, BPF_MAP_TYPE_DEVMAP); __uint(max_entries, 8); __type(key, __u32); __type(value, __u32); } devmap SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_DEVMAP_HASH); __uint(max_entries, 16); __type(key, __u32); __type(value, struct bpf_devmap_val); } devmap_hash SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_CPUMAP); __uint(max_entries, 2); __type(key, __u32); __type(value, struct bpf_cpumap_val); } cpumap SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_XSKMAP); __uint(max_entries, 4); __type(key, __u32); __type(value, __u32); } xskmap SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_SOCKMAP); __uint(max_entries, 5); __type(key, __u32); __type(value, __u64); } sockmap SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_SOCKHASH); __uint(max_entries, 6); __type(key, __u64); __type(value, __u32); } sockhash SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_REUSEPORT_SOCKARRAY); __uint(max_entries, 3); __type(key, __u32); __type(value, __u64); } reuseport SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_SK_STORAGE); __uint(map_flags, BPF_F_NO_PREALLOC); __type(key, int); __type(value, __u64); } sk_storage SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_INODE_STORAGE); __uint(map_flags, BPF_F_NO_PREALLOC); __type(key, int); __type(value, __u32); } inode_storage SEC(".maps");
struct { __uint(type, 32 /* BPF_MAP_TYPE_CGRP_STORAGE: newer than the system linux/bpf.h */); __uint(map_flags, BPF_F_NO_PREALLOC); __type(key, int); __type(value, __u64); } cgrp_storage SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_CGROUP_STORAGE); __type(key, struct bpf_cgroup_storage_key); __type(value, __u64); } cgroup_storage SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE); __type(key, __u64); __type(value, __u32); } percpu_cgroup_storage SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_USER_RINGBUF); __uint(max_entries, 8192); } user_ringbuf SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_CGROUP_ARRAY); __uint(max_entries, 2); __type(key, __u32); __type(value, __u32); } cgroup_array SEC(".maps");

__u32 redirects = 0;

// Uses the redirect maps so they are part of a loaded program, not only created.
SEC("xdp")
int redirect_nowhere(struct xdp_md *ctx)
{
	redirects++;
	if (ctx->rx_queue_index == 1000)
		return bpf_redirect_map(&devmap, 0, XDP_PASS);
	if (ctx->rx_queue_index == 1001)
		return bpf_redirect_map(&cpumap, 0, XDP_PASS);
	if (ctx->rx_queue_index == 1002)
		return bpf_redirect_map(&xskmap, 0, XDP_PASS);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
