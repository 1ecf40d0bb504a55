// SPDX-License-Identifier: GPL-2.0
// pagefaults: every user-space page fault of the traced processes, streamed to user space.
//
// Hook: tracepoint exceptions:page_fault_user (x86), which fires at the top of the fault handler with the
// faulting address and the hardware error code. Each fault of a traced process becomes a 32-byte record
// in a ring buffer; user space counts per page, per mapping and per time slot (the heatmap needs time,
// so counting per page here would not be enough, and a ring buffer record costs about what a hash
// update costs).
//
// Mappings: a short-lived process is gone (and with it /proc/PID/maps) before user space can read its
// map, so the program reports the mapping (VMA) of a fault itself, found with bpf_find_vma, the first
// time a fault lands in it. A small per-CPU cache of the mappings already reported keeps that lookup
// off the common path: a storm of faults in one mapping costs one lookup.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpfsharp.h>

char LICENSE[] SEC("license") = "GPL";

#define RECORD_FAULT 1
#define RECORD_REGION 2
#define RECORD_EXEC 3

#define TRACED 1          // faults are recorded
#define WAITING_FOR_EXEC 2 // a command started stopped: its faults count from its exec() on

#define REGION_NAME_LEN 64
#define CACHE_SLOTS 8

// Follow fork(): children of a traced process are traced too.
const volatile bool follow_forks = true;

// Wake the reader only once this much is waiting in the ring buffer (user space sets an eighth of its size, and
// drains on a timer besides). A wakeup per record would cost an interrupt and a context switch per fault: in a
// VM, where the self-interrupt exits to the hypervisor, that more than doubled the cost of a fault.
const volatile __u64 wakeup_bytes = 1 << 20;

// The processes (thread group ids) traced, and their state (TRACED or WAITING_FOR_EXEC). Set by user space.
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} traced SEC(".maps");

// Fault, region and exec records. User space sets the size (--buffer-mb).
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} events SEC(".maps");

// The mappings this CPU already reported, keyed by the address space (mm) so exec() and fork() start afresh.
struct region_cache {
	__u64 mm[CACHE_SLOTS];
	__u64 start[CACHE_SLOTS];
	__u64 end[CACHE_SLOTS];
	__u32 next;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct region_cache);
} region_caches SEC(".maps");

// Records the ring buffer had no room for (user space reports them).
__u64 lost_faults = 0;
__u64 lost_regions = 0;

// The tracepoint's record, as /sys/kernel/tracing/events/exceptions/page_fault_user/format lays it out
// (the kernel's BTF does not describe it; user space checks these offsets against the format file).
struct page_fault_user_args {
	__u64 common; // common_type, common_flags, common_preempt_count, common_pid
	__u64 address;
	__u64 ip;
	__u64 error_code;
};

struct fault_record {
	__u32 kind; // RECORD_FAULT
	__u32 tid;
	__u64 address;
	__u64 time_ns; // CLOCK_MONOTONIC
	__u32 error_code;
	__u32 tgid;
};

struct region_record {
	__u32 kind; // RECORD_REGION
	__u32 tgid;
	__u64 start;
	__u64 end;
	__u64 pgoff;
	__u64 flags; // vm_flags: VM_READ 1, VM_WRITE 2, VM_EXEC 4, VM_SHARED 8
	__u64 inode;
	char name[REGION_NAME_LEN]; // file base name, or [heap], [stack], [anon], [special]
};

struct exec_record {
	__u32 kind; // RECORD_EXEC
	__u32 tgid;
	__u64 time_ns;
};

// The ring buffer's records, into BTF for the skeleton: the programs build them in locals and through pointers only.
BPFSHARP_TYPE(struct fault_record);
BPFSHARP_TYPE(struct region_record);
BPFSHARP_TYPE(struct exec_record);

struct find_context {
	struct region_record record;
	struct mm_struct *mm;
	bool found;
};

static long describe_region(struct task_struct *task, struct vm_area_struct *vma, struct find_context *context)
{
	struct region_record *record = &context->record;
	struct mm_struct *mm = context->mm;
	struct file *file = vma->vm_file;

	record->start = vma->vm_start;
	record->end = vma->vm_end;
	record->pgoff = vma->vm_pgoff;
	record->flags = BPF_CORE_READ(vma, vm_flags);
	record->inode = 0;
	if (file) {
		record->inode = BPF_CORE_READ(file, f_inode, i_ino);
		bpf_probe_read_kernel_str(record->name, sizeof(record->name), BPF_CORE_READ(file, f_path.dentry, d_name.name));
	} else if (record->start <= BPF_CORE_READ(mm, brk) && record->end >= BPF_CORE_READ(mm, start_brk)) {
		__builtin_memcpy(record->name, "[heap]", 7);
	} else if (record->start <= BPF_CORE_READ(mm, start_stack) && record->end >= BPF_CORE_READ(mm, start_stack)) {
		__builtin_memcpy(record->name, "[stack]", 8);
	} else if (vma->vm_ops) {
		// vdso, vvar and other mappings the kernel provides
		__builtin_memcpy(record->name, "[special]", 10);
	} else {
		__builtin_memcpy(record->name, "[anon]", 7);
	}
	context->found = true;
	return 0;
}

// Reports the mapping of address unless this CPU reported it already for this address space.
static __always_inline void report_region(__u32 tgid, __u64 address)
{
	__u32 zero = 0;
	struct region_cache *cache = bpf_map_lookup_elem(&region_caches, &zero);
	if (!cache) {
		return;
	}
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 mm = (__u64)task->mm;
#pragma unroll
	for (int i = 0; i < CACHE_SLOTS; i++) {
		if (cache->mm[i] == mm && address >= cache->start[i] && address < cache->end[i]) {
			return;
		}
	}
	struct find_context context = {};
	context.mm = task->mm;
	// -EBUSY when the map lock is contended: nothing is cached, so the next fault there tries again.
	if (bpf_find_vma(task, address, describe_region, &context, 0) != 0 || !context.found) {
		return;
	}
	context.record.kind = RECORD_REGION;
	context.record.tgid = tgid;
	// A new mapping wakes the reader at once (they are few): while the process still runs it can read
	// /proc/PID/maps for full paths, which this side cannot build.
	if (bpf_ringbuf_output(&events, &context.record, sizeof(context.record), BPF_RB_FORCE_WAKEUP) != 0) {
		__sync_fetch_and_add(&lost_regions, 1);
		return;
	}
	__u32 slot = cache->next % CACHE_SLOTS;
	cache->mm[slot] = mm;
	cache->start[slot] = context.record.start;
	cache->end[slot] = context.record.end;
	cache->next = slot + 1;
}

SEC("tracepoint/exceptions/page_fault_user")
int page_fault_user(struct page_fault_user_args *args)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;
	__u8 *state = bpf_map_lookup_elem(&traced, &tgid);
	if (!state || *state != TRACED) {
		return 0;
	}
	__u64 address = args->address;
	report_region(tgid, address);

	struct fault_record *record = bpf_ringbuf_reserve(&events, sizeof(*record), 0);
	if (!record) {
		__sync_fetch_and_add(&lost_faults, 1);
		return 0;
	}
	record->kind = RECORD_FAULT;
	record->tid = (__u32)pid_tgid;
	record->address = address;
	record->time_ns = bpf_ktime_get_ns();
	record->error_code = (__u32)args->error_code;
	record->tgid = tgid;
	bpf_ringbuf_submit(record, bpfsharp_ringbuf_wakeup(&events, wakeup_bytes));
	return 0;
}

// exec() replaces the address space: a command started stopped starts counting here, and user space
// forgets the old mappings of a traced process.
SEC("tracepoint/sched/sched_process_exec")
int sched_process_exec(struct trace_event_raw_sched_process_exec *args)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u8 *state = bpf_map_lookup_elem(&traced, &tgid);
	if (!state) {
		return 0;
	}
	*state = TRACED;
	struct exec_record record = { .kind = RECORD_EXEC, .tgid = tgid, .time_ns = bpf_ktime_get_ns() };
	if (bpf_ringbuf_output(&events, &record, sizeof(record), BPF_RB_FORCE_WAKEUP) != 0) {
		__sync_fetch_and_add(&lost_regions, 1);
	}
	return 0;
}

// A new process (not a new thread) forked by a traced one is traced too.
SEC("tp_btf/sched_process_fork")
int BPF_PROG(sched_process_fork, struct task_struct *parent, struct task_struct *child)
{
	if (!follow_forks || child->pid != child->tgid) {
		return 0;
	}
	__u32 parent_tgid = parent->tgid;
	__u8 *state = bpf_map_lookup_elem(&traced, &parent_tgid);
	if (!state) {
		return 0;
	}
	__u32 child_tgid = child->tgid;
	__u8 child_state = *state;
	bpf_map_update_elem(&traced, &child_tgid, &child_state, BPF_ANY);
	return 0;
}
