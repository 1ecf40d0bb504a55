// Kernel function calls (kfuncs) resolved by BTF id: a syscall program looks a task up by pid with
// bpf_task_from_pid, reads its tgid and releases it with bpf_task_release.
#define BPF_NO_PRESERVE_ACCESS_INDEX
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

int target_pid;
int found_tgid = -1;

SEC("syscall")
int find_task(void *ctx)
{
	struct task_struct *task = bpf_task_from_pid(target_pid);

	if (!task)
		return 1;
	found_tgid = task->tgid;
	bpf_task_release(task);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
