// Program kinds this test machine's kernel refuses to load even for root (EPERM): an LSM hook, an fexit and an
// fmod_ret trampoline. The tests load one at a time and check that the error says why, plainly.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

__u64 calls;

SEC("lsm/file_open")
int BPF_PROG(refuse_open, struct file *file)
{
	__sync_fetch_and_add(&calls, 1);
	return 0;
}

SEC("fexit/vfs_read")
int BPF_PROG(after_read, struct file *file, char *buf, size_t count, loff_t *pos, ssize_t ret)
{
	__sync_fetch_and_add(&calls, 1);
	return 0;
}

SEC("fmod_ret/security_file_open")
int BPF_PROG(modify_open, struct file *file)
{
	__sync_fetch_and_add(&calls, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
