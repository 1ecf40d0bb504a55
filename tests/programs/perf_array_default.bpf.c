// A perf event array declared without max_entries: like libbpf, the loader gives it one slot per
// possible CPU. A raw tracepoint program (test-run on a chosen CPU) writes the CPU it ran on into
// that CPU's slot, which only exists if the map has a slot for every CPU.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} cpu_events SEC(".maps");

SEC("raw_tp/sys_enter")
int report_cpu(void *ctx)
{
	__u32 cpu = bpf_get_smp_processor_id();

	return bpf_perf_event_output(ctx, &cpu_events, BPF_F_CURRENT_CPU, &cpu, sizeof(cpu));
}

char LICENSE[] SEC("license") = "GPL";
