// struct_ops values that do not fit the running kernel, for the loader's errors: a member the kernel's
// struct lacks (set, and left zero), a member of another size, and an ops struct no kernel has.
// Flavors (___suffix) declare other shapes of the kernel's tcp_congestion_ops.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct tcp_congestion_ops___extra {
	char name[16];
	int bpfsharp_extra;
};

struct tcp_congestion_ops___short {
	char name[8];
};

struct bpfsharp_no_such_ops {
	int value;
};

SEC(".struct_ops")
struct tcp_congestion_ops___extra extra_set = { .name = "bpfsharp_x1", .bpfsharp_extra = 1 };

SEC(".struct_ops")
struct tcp_congestion_ops___extra extra_zero = { .name = "bpfsharp_x2" };

SEC(".struct_ops")
struct tcp_congestion_ops___short short_name = { .name = "bpfs_x3" };

SEC(".struct_ops")
struct bpfsharp_no_such_ops no_such_ops = { .value = 1 };

// The objects of the corpus all have code (the disassembler and ELF tests compare every one with LLVM's tools).
SEC("syscall")
int unrelated(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
