// Every atomic clang emits for BPF with -mcpu=v3: add/or/and/xor with and without fetch, exchange
// and compare-exchange, on 32- and 64-bit fields of a map value.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct counters {
	__u64 total;
	__u32 small;
	__u32 flags;
	__u64 bits;
	__u64 last;
	__u32 owner;
	__u32 mask;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct counters);
} counters SEC(".maps");

__u64 observed = 0;

SEC("xdp")
int update_counters(struct xdp_md *ctx)
{
	__u32 key = 0;
	struct counters *c = bpf_map_lookup_elem(&counters, &key);

	if (!c)
		return XDP_PASS;

	__sync_fetch_and_add(&c->total, 1);
	__u64 old = __sync_fetch_and_add(&c->total, 2);
	__sync_fetch_and_add(&c->small, 5);
	__u32 old32 = __sync_fetch_and_add(&c->small, 1);

	__sync_fetch_and_or(&c->flags, 4);
	__sync_fetch_and_and(&c->mask, 0xf0);
	__sync_fetch_and_xor(&c->bits, 0xff);
	__sync_fetch_and_or(&c->bits, 0x100);
	__sync_fetch_and_and(&c->bits, ~0x1ULL);
	__sync_fetch_and_xor(&c->flags, 2);

	__u32 flags = __sync_fetch_and_and(&c->flags, ~1u);
	__u32 mask = __sync_fetch_and_or(&c->mask, 8);
	__u32 toggled = __sync_fetch_and_xor(&c->mask, 3);
	__u64 bits = __sync_fetch_and_xor(&c->bits, old);
	__u64 ored = __sync_fetch_and_or(&c->bits, 0x200);
	__u64 anded = __sync_fetch_and_and(&c->bits, ~0x400ULL);

	__u64 previous = __sync_lock_test_and_set(&c->last, old);
	__u32 owner = __sync_lock_test_and_set(&c->owner, old32);
	__u64 was = __sync_val_compare_and_swap(&c->total, old, previous);
	__u32 was32 = __sync_val_compare_and_swap(&c->small, old32, flags);

	__sync_fetch_and_add(&observed, was + was32 + owner + bits + mask + toggled + ored + anded);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
