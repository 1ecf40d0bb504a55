// CO-RE against the running kernel's types from vmlinux.h: reads through task_struct with
// BPF_CORE_READ, bpf_core_field_exists on a real and a missing field (through a ___flavor struct),
// bpf_core_type_exists, bpf_core_enum_value and enum value existence.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

// A flavor: the same kernel struct as seen by another kernel version, with a field this one lacks.
struct task_struct___other {
	int pid;
	int no_such_field;
} __attribute__((preserve_access_index));

struct bpfsharp_not_a_kernel_type {
	int x;
} __attribute__((preserve_access_index));

int pid = -1;
int parent_tgid = -1;
int has_pid = -1;
int has_missing = -1;
int has_task_type = -1;
int has_fake_type = -1;
long tgid_enum = -1;
int has_enum_value = -1;

SEC("tracepoint/syscalls/sys_enter_getpid")
int read_task(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct task_struct___other *other = (void *)task;

	pid = BPF_CORE_READ(task, tgid);
	parent_tgid = BPF_CORE_READ(task, real_parent, tgid);
	has_pid = bpf_core_field_exists(other->pid);
	has_missing = bpf_core_field_exists(other->no_such_field);
	has_task_type = bpf_core_type_exists(struct task_struct);
	has_fake_type = bpf_core_type_exists(struct bpfsharp_not_a_kernel_type);
	tgid_enum = bpf_core_enum_value(enum pid_type, PIDTYPE_TGID);
	has_enum_value = bpf_core_enum_value_exists(enum pid_type, PIDTYPE_SID);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
