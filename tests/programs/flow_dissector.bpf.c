// A flow dissector that changes how the kernel groups packets into flows: IPv4 with UDP or TCP
// is dissected as usual, except that the source port is reported as 0, so every sender to one
// destination port is one flow (one skb hash). record_hash, a tc program, shows the effect: it
// asks the kernel for each packet's hash (which runs the namespace's dissector) and keeps it by
// source port. Other packets (ARP, IPv6) are left undissected (BPF_DROP).
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u16);   /* destination port, host order */
	__type(value, __u64); /* packets dissected */
} dissected SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u16);   /* the true source port, host order, that the flow keys leave out */
	__type(value, __u64); /* packets seen */
} source_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u16);   /* source port, host order */
	__type(value, __u32); /* the packet's skb hash */
} hash_by_source_port SEC(".maps");

/* The UDP port record_hash watches (host order); set before load. */
const volatile __u16 watched_port = 0;

static __always_inline void count(void *map, __u16 key)
{
	__u64 one = 1, *value = bpf_map_lookup_elem(map, &key);

	if (value)
		__sync_fetch_and_add(value, 1);
	else
		bpf_map_update_elem(map, &key, &one, BPF_NOEXIST);
}

SEC("flow_dissector")
int one_flow_per_destination(struct __sk_buff *skb)
{
	struct bpf_flow_keys *keys = skb->flow_keys;
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u16 nhoff = keys->nhoff;
	struct iphdr *ip;
	__u16 *ports;

	/* The verifier only trusts a bounds check on a packet pointer whose variable offset is bounded well below 64 KiB. */
	if (keys->n_proto != bpf_htons(ETH_P_IP) || nhoff > 128)
		return BPF_DROP;
	ip = data + nhoff;
	if ((void *)(ip + 1) > data_end || ip->ihl != 5)
		return BPF_DROP;
	keys->addr_proto = ETH_P_IP;
	keys->ipv4_src = ip->saddr;
	keys->ipv4_dst = ip->daddr;
	keys->ip_proto = ip->protocol;
	keys->thoff = nhoff + sizeof(*ip);
	if (ip->frag_off & bpf_htons(0x3fff)) {
		keys->is_frag = 1;
		return BPF_OK;
	}
	if (ip->protocol != IPPROTO_UDP && ip->protocol != IPPROTO_TCP)
		return BPF_OK;
	ports = (__u16 *)(ip + 1);
	if ((void *)(ports + 2) > data_end)
		return BPF_DROP;
	keys->sport = 0;
	keys->dport = ports[1];
	count(&dissected, bpf_ntohs(ports[1]));
	count(&source_ports, bpf_ntohs(ports[0]));
	return BPF_OK;
}

SEC("tc")
int record_hash(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	__u16 source;
	__u32 hash;

	if ((void *)(udp + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5 ||
	    ip->protocol != IPPROTO_UDP || udp->dest != bpf_htons(watched_port))
		return 0; /* TC_ACT_OK */
	/* Forget any hash the packet carries, so that the kernel dissects it again, with this namespace's dissector. */
	bpf_set_hash_invalid(skb);
	hash = bpf_get_hash_recalc(skb);
	source = bpf_ntohs(udp->source);
	bpf_map_update_elem(&hash_by_source_port, &source, &hash, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
