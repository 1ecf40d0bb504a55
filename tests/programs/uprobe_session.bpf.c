// uprobe.session: one program runs at the entry and at the return of each call of probe_target's
// bpfsharp_add(a, b). The entry run counts, and asks for the return run only when b is odd: a
// non-zero return from the entry run tells the kernel to skip that call's return run. The return
// run counts the returns it saw and adds up their return values (a + b). The section names no
// target, so Collection.AttachAll leaves it for the caller, who knows the binary's path.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

extern bool bpf_session_is_return(void) __ksym;

__u64 entries;
__u64 returns;
__u64 returned_sum;

SEC("uprobe.session")
int on_add(struct pt_regs *ctx)
{
	if (bpf_session_is_return()) {
		__sync_fetch_and_add(&returns, 1);
		__sync_fetch_and_add(&returned_sum, PT_REGS_RC(ctx));
		return 0;
	}
	__sync_fetch_and_add(&entries, 1);
	return PT_REGS_PARM2(ctx) & 1 ? 0 : 1;
}

char LICENSE[] SEC("license") = "GPL";
