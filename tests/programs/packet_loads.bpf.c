// A socket filter using the legacy packet loads (BPF_LD | BPF_ABS and BPF_IND) that classic BPF
// programs are made of: accepts IPv4 TCP packets to port 22 whole and truncates the rest.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");

SEC("socket")
int ssh_only(struct __sk_buff *skb)
{
	if (load_half(skb, offsetof(struct ethhdr, h_proto)) != ETH_P_IP)
		return 0;
	if (load_byte(skb, ETH_HLEN + offsetof(struct iphdr, protocol)) != 6)
		return 0;
	if (load_half(skb, ETH_HLEN + offsetof(struct iphdr, frag_off)) & 0x1fff)
		return 0;
	__u64 header = (load_byte(skb, ETH_HLEN) & 0xf) << 2;
	if (load_half(skb, ETH_HLEN + header + 2) != 22)
		return 0;
	if (load_word(skb, ETH_HLEN + 16) == 0)
		return 0;
	return -1;
}

char LICENSE[] SEC("license") = "GPL";
