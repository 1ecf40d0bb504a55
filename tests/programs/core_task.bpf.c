// CO-RE against the running kernel's own types, through a vmlinux.h that the build generates with
// `bpfsharp btf dump --format c` (BpfUseVmlinuxHeader). A syscall program: BPF_PROG_TEST_RUN runs it
// in the calling thread, and it writes what it read into its context, which the kernel copies back
// to the caller.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

// A flavor of task_struct: matched to the kernel's by its essential name, 'task_struct'.
struct task_struct___flavored {
	int tgid;
} __attribute__((preserve_access_index));

// Another flavor, declaring a field no kernel has.
struct task_struct___missing {
	int bpfsharp_no_such_field;
} __attribute__((preserve_access_index));

// A type no kernel has.
struct bpfsharp_no_such_type {
	int unused;
};

// An enum flavor whose local value (99) is deliberately wrong: the kernel's value is what counts.
enum pid_type___local {
	PIDTYPE_SID___local = 99,
};

struct core_results {
	__u32 pid;
	__u32 tgid;
	__u32 parent_tgid;
	__u32 flavored_tgid;
	__u32 has_pid;
	__u32 has_missing_field;
	__u32 missing_field_value;
	__u32 has_task_struct;
	__u32 has_missing_type;
	__u32 task_struct_size;
	__u32 comm_size;
	__u32 pidtype_tgid;
	__u32 pidtype_sid;
	__u32 has_pidtype_sid;
};

SEC("syscall")
int core_task(struct core_results *out)
{
	struct task_struct *task = bpf_get_current_task_btf();

	// A direct load through a trusted BTF pointer: the verifier checks the relocated offset names task->pid.
	out->pid = task->pid;
	out->tgid = BPF_CORE_READ(task, tgid);
	out->parent_tgid = BPF_CORE_READ(task, real_parent, tgid);
	out->flavored_tgid = BPF_CORE_READ((struct task_struct___flavored *)task, tgid);
	out->has_pid = bpf_core_field_exists(task->pid);
	out->has_missing_field = bpf_core_field_exists(((struct task_struct___missing *)task)->bpfsharp_no_such_field);
	// Poisoned by the relocator (the field does not exist), but dead code the verifier drops.
	if (bpf_core_field_exists(((struct task_struct___missing *)task)->bpfsharp_no_such_field))
		out->missing_field_value = BPF_CORE_READ((struct task_struct___missing *)task, bpfsharp_no_such_field);
	else
		out->missing_field_value = 0xdead;
	out->has_task_struct = bpf_core_type_exists(struct task_struct);
	out->has_missing_type = bpf_core_type_exists(struct bpfsharp_no_such_type);
	out->task_struct_size = bpf_core_type_size(struct task_struct);
	out->comm_size = bpf_core_field_size(task->comm);
	out->pidtype_tgid = bpf_core_enum_value(enum pid_type, PIDTYPE_TGID);
	out->pidtype_sid = bpf_core_enum_value(enum pid_type___local, PIDTYPE_SID___local);
	out->has_pidtype_sid = bpf_core_enum_value_exists(enum pid_type___local, PIDTYPE_SID___local);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
