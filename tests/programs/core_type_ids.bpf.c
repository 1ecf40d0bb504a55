// CO-RE type-id relocations: bpf_core_type_id_local (the type's id in this object's BTF) and
// bpf_core_type_id_kernel (its id in the running kernel's BTF), plus a type size through a flavor.
// bpf_core_type_matches is not here: clang-14 rejects its flag ("Incorrect flag for
// llvm.bpf.preserve.type.info intrinsic"); it needs clang 15 or later.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_struct___flavor {
	int pid;
} __attribute__((preserve_access_index));

__u32 local_task_id = 0;
__u32 kernel_task_id = 0;
__u32 kernel_flavor_id = 0;
__u32 kernel_mm_id = 0;
__u32 task_size = 0;

SEC("syscall")
int read_type_ids(void *ctx)
{
	local_task_id = bpf_core_type_id_local(struct task_struct);
	kernel_task_id = bpf_core_type_id_kernel(struct task_struct);
	kernel_flavor_id = bpf_core_type_id_kernel(struct task_struct___flavor);
	kernel_mm_id = bpf_core_type_id_kernel(struct mm_struct);
	task_size = bpf_core_type_size(struct task_struct___flavor);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
