// Exercises arithmetic the disassembler and loader must handle: 32-bit ALU (-mcpu=v3 gives w
// registers), 32-bit jumps, signed and unsigned compares, divisions and modulos, shifts both
// logical and arithmetic, byte order conversions, a switch (a compare chain) and a table lookup in
// .rodata (an ld_imm64 relocated against a data section) in a subprogram.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

// Clang for BPF lowers a switch to a compare chain (the target has no jump tables), so the
// switch in classify() gives compare chains and this table gives an indexed .rodata lookup. Twelve
// entries keep it in .rodata (power-of-two sizes go to mergeable .rodata.cst* sections), and the
// index is masked, not taken modulo, so the verifier can bound it.
static const __u8 weights[12] = { 11, 23, 37, 41, 53, 67, 79, 83, 97, 101, 103, 1 };

static __attribute__((noinline)) int weight(__u32 kind)
{
	return weights[(kind & 7) + 4];
}

SEC("xdp")
int classify(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end)
		return XDP_PASS;

	__u16 proto = bpf_ntohs(eth->h_proto);
	__u32 len = (__u32)(end - data);
	__u32 key;

	switch (proto) {
	case ETH_P_IP: key = 1; break;
	case ETH_P_IPV6: key = 2; break;
	case ETH_P_ARP: key = 3; break;
	default: key = 0; break;
	}

	__s32 delta = (__s32)len - 64;
	if (delta < -10)
		key += 4;
	if (delta > 1000)
		key += 8;

	__u32 mix = (len * 2654435761u) ^ (len >> 3);
	mix = mix / 7 + mix % 13;
	mix = (mix << 5) | (mix >> 27);

	__s64 scaled = (__s64)delta * -3;
	scaled >>= 2;

	__u64 wide = ((__u64)len << 40) / (eth->h_dest[0] | 1);
	wide %= 1000003;

	key &= 15;
	__u64 *value = bpf_map_lookup_elem(&stats, &key);
	if (value)
		*value += mix + scaled + wide + bpf_htonl(len) + bpf_cpu_to_be64(wide) + weight(eth->h_source[5] & 7);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
