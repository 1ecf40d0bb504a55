// .kconfig and .ksyms externs: numbers, a bool, a tristate, a string and libbpf's LINUX_* values from
// the kernel configuration, a weak missing option (zero), and an untyped ksym (an address
// from /proc/kallsyms). The program copies them to .bss. (Typed ksyms are in ksym_typed.bpf.c.)
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern bool LINUX_HAS_SYSCALL_WRAPPER __kconfig;
extern int CONFIG_HZ __kconfig;
extern enum libbpf_tristate CONFIG_BPF_SYSCALL __kconfig;
extern bool CONFIG_BPF_JIT __kconfig;
extern char CONFIG_DEFAULT_HOSTNAME[16] __kconfig __weak;
extern int CONFIG_BPFSHARP_NOT_A_REAL_OPTION __kconfig __weak;

extern const void _stext __ksym;

__u32 kernel_version;
bool syscall_wrapper;
int hz;
int bpf_syscall;
bool bpf_jit;
char hostname[16];
int missing = -1;
__u64 stext_address;

SEC("syscall")
int read_externs(void *ctx)
{
	int i;

	kernel_version = LINUX_KERNEL_VERSION;
	syscall_wrapper = LINUX_HAS_SYSCALL_WRAPPER;
	hz = CONFIG_HZ;
	bpf_syscall = CONFIG_BPF_SYSCALL;
	bpf_jit = CONFIG_BPF_JIT;
	for (i = 0; i < 16; i++)
		hostname[i] = CONFIG_DEFAULT_HOSTNAME[i];
	missing = CONFIG_BPFSHARP_NOT_A_REAL_OPTION;
	stext_address = (__u64)&_stext;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
