// CO-RE relocations against locally declared kernel types (no vmlinux.h needed): field offsets
// through BPF_CORE_READ, and field-exists, type-size and enum-value relocations, for the
// .BTF.ext parser tests.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_struct {
	int pid;
	int tgid;
	struct task_struct *real_parent;
} __attribute__((preserve_access_index));

enum pid_type { PIDTYPE_PID, PIDTYPE_TGID };

int parent_tgid;
int has_tgid;
int task_size;
int tgid_value;

SEC("tracepoint/syscalls/sys_enter_getpid")
int read_parent(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	parent_tgid = BPF_CORE_READ(task, real_parent, tgid);
	has_tgid = bpf_core_field_exists(task->tgid);
	task_size = bpf_core_type_size(struct task_struct);
	tgid_value = bpf_core_enum_value(enum pid_type, PIDTYPE_TGID);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
