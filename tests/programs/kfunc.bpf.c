// Kernel function calls (kfuncs) resolved by BTF id: a syscall program looks a task up by pid with
// bpf_task_from_pid, reads its tgid and releases it with bpf_task_release. A __weak kfunc and a __weak
// typed ksym this kernel does not have resolve to address 0 (libbpf's bpf_ksym_exists() test), and the
// call guarded by that test is dead code the verifier removes.
#define BPF_NO_PRESERVE_ACCESS_INDEX
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;
extern void bpfsharp_no_such_kfunc(int value) __ksym __weak;
extern const int bpfsharp_no_such_ksym __ksym __weak;

int target_pid;
int found_tgid = -1;
int weak_kfunc_exists = -1;
int weak_ksym_exists = -1;

SEC("syscall")
int find_task(void *ctx)
{
	struct task_struct *task;

	weak_kfunc_exists = bpfsharp_no_such_kfunc != 0;
	weak_ksym_exists = &bpfsharp_no_such_ksym != 0;
	if (bpfsharp_no_such_kfunc)
		bpfsharp_no_such_kfunc(target_pid);
	task = bpf_task_from_pid(target_pid);

	if (!task)
		return 1;
	found_tgid = task->tgid;
	bpf_task_release(task);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
