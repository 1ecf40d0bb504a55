// CO-RE bitfield reads: BPF_CORE_READ_BITFIELD_PROBED compiles to byte offset, byte size, left and
// right shift and signedness relocations. A syscall program: its context holds the struct and
// receives the extracted values, and the kernel copies the context back to the caller.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct flags {
	unsigned int lo : 3;
	int mid : 5;
	unsigned int pad : 24;
	unsigned long long big : 40;
	long long neg : 20;
} __attribute__((preserve_access_index));

struct bitfield_run {
	struct flags flags;
	long long lo;
	long long mid;
	long long big;
	long long neg;
};

SEC("syscall")
int read_bitfields(struct bitfield_run *run)
{
	struct flags *f = &run->flags;

	run->lo = BPF_CORE_READ_BITFIELD_PROBED(f, lo);
	run->mid = BPF_CORE_READ_BITFIELD_PROBED(f, mid);
	run->big = BPF_CORE_READ_BITFIELD_PROBED(f, big);
	run->neg = BPF_CORE_READ_BITFIELD_PROBED(f, neg);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
