// A typed ksym: a per-CPU kernel variable found by BTF id (runqueues, struct rq) and read through
// bpf_per_cpu_ptr. The kernel resolves its address through kallsyms, so kernels built without
// CONFIG_KALLSYMS_ALL refuse the load ("failed to find the address for kernel symbol").
#define BPF_NO_PRESERVE_ACCESS_INDEX
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

extern const struct rq runqueues __ksym;

int rq_cpu = -1;

SEC("syscall")
int read_runqueue(void *ctx)
{
	struct rq *rq = bpf_per_cpu_ptr(&runqueues, 0);

	if (rq)
		rq_cpu = rq->cpu;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
