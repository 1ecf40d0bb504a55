// Sleepable uprobe and USDT programs (uprobe.s, usdt.s): they may fault user memory in, so they read a buffer
// argument with bpf_copy_from_user, which only sleepable programs can call. tests/native/user_buffer.c passes
// the buffer; the tests attach to it by hand and read the copied bytes back from these globals.
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

char uprobe_text[64];
long uprobe_length;
long uprobe_result = 1;
__u64 uprobe_hits;

char usdt_text[64];
long usdt_length;
long usdt_result = 1;
__u64 usdt_hits;

SEC("uprobe.s")
int BPF_KPROBE(consume, const char *buffer, long length)
{
	uprobe_length = length;
	uprobe_result = bpf_copy_from_user(uprobe_text, sizeof(uprobe_text), buffer);
	__sync_fetch_and_add(&uprobe_hits, 1);
	return 0;
}

SEC("usdt.s")
int BPF_USDT(message, const char *buffer, long length)
{
	usdt_length = length;
	usdt_result = bpf_copy_from_user(usdt_text, sizeof(usdt_text), buffer);
	__sync_fetch_and_add(&usdt_hits, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
