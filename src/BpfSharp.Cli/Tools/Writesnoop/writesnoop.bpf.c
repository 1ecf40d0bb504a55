// SPDX-License-Identifier: GPL-2.0
// writesnoop: every write, with the file it went to (inode, device, type, path walked from the dentry).
//
// Three ways in, one way out. The frontend loads the programs of one mode only (ProgramSpec.Autoload):
//   fentry  fexit/vfs_write gets the struct file, the byte count and the return value in one call;
//   kprobe  kprobe/vfs_write remembers the struct file per thread, kretprobe/vfs_write reads the return value;
//   syscall tracepoints sys_enter_{write,pwrite64,writev} resolve the descriptor to its struct file through
//           task->files->fdt->fd[fd], sys_exit_* read the return value.
// All three end in emit(): an event on the ring buffer, or, with --top, a per-file total in a hash map keyed by
// (device, inode), whose entry also keeps the file's path for the summary.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpfsharp.h>

char LICENSE[] SEC("license") = "GPL";

#define TASK_COMM_LEN 16
#define NAME_LEN 64       /* bytes kept of each path component, NUL included */
#define MAX_DEPTH 8       /* path components kept, the file's own name first */
#define MAX_MOUNT_HOPS 4  /* mount points crossed on the way up */
#define MAX_IOVECS 16     /* iovecs summed for writev's requested size */

/* How the write was seen (event.op). */
#define OP_WRITE 0
#define OP_PWRITE64 1
#define OP_WRITEV 2
#define OP_VFS_WRITE 3

/* file_info.flags */
#define PATH_TRUNCATED 1  /* more directories above names[MAX_DEPTH - 1] */
#define NAME_TRUNCATED 2  /* some component was longer than NAME_LEN - 1 bytes */
#define PATH_PSEUDO 4     /* a file of an internal filesystem (pipe, socket, anon inode): names[0] is its only name */

struct file_info {
	__u64 ino;
	__u32 dev;    /* the kernel's dev_t of the superblock: major << 20 | minor */
	__u32 rdev;   /* for device files: the device, same encoding */
	__u16 mode;   /* i_mode: type and permission bits */
	__u16 depth;  /* components filled in names */
	__u32 flags;
	char names[MAX_DEPTH][NAME_LEN];
};

struct event {
	__u64 ts_ns;
	__u32 pid;
	__u32 tid;
	__s32 fd;     /* -1 where the hook sees the struct file only (vfs_write) */
	__u32 op;
	__u64 requested;
	__s64 ret;
	char comm[TASK_COMM_LEN];
	struct file_info file;
};
BPFSHARP_TYPE(struct event); /* the ring buffer record, built through a local pointer: into BTF for the skeleton */

struct file_key {
	__u32 dev;
	__u32 pad;
	__u64 ino;
};

struct file_total {
	__u64 bytes;      /* sum of successful returns */
	__u64 writes;
	__u64 requested;
	__u32 pid;        /* the first writer seen */
	char comm[TASK_COMM_LEN];
	__u32 pad;
	struct file_info file;
};

struct pending {
	struct file *file;
	__u64 requested;
	__s32 fd;
	__u32 op;
};

/* Filters, set by the frontend before load. */
const volatile __u32 target_tgid = 0;       /* 0: every process */
const volatile __u32 self_tgid = 0;         /* the tool itself: its own output must not feed back */
const volatile bool filter_comm = false;
const volatile char target_comm[TASK_COMM_LEN] = {};
const volatile __u64 min_bytes = 0;         /* requested size */
const volatile __u64 target_ino = 0;        /* with target_dev: one file only (--file) */
const volatile __u32 target_dev = 0;
const volatile bool top_mode = false;
const volatile __u64 wakeup_bytes = 1 << 20; /* a quarter of the ring; the frontend sets it from the ring's size */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct file_key);
	__type(value, struct file_total);
} totals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct pending);
} pending_writes SEC(".maps");

/* Writes seen but not reported: the ring buffer was full, or the --top map was. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

/* Room to build a --top entry: it is larger than the 512-byte stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct file_total);
} scratch SEC(".maps");

static __always_inline void count_lost(void)
{
	__u32 zero = 0;
	__u64 *count = bpf_map_lookup_elem(&lost, &zero);

	if (count)
		*count += 1;
}

static __always_inline bool comm_matches(void)
{
	char comm[TASK_COMM_LEN];

	bpf_get_current_comm(comm, sizeof(comm));
	for (int i = 0; i < TASK_COMM_LEN; i++) {
		if (comm[i] != target_comm[i])
			return false;
		if (comm[i] == 0)
			return true;
	}
	return true;
}

/* Whether the current process is one to trace. */
static __always_inline bool wanted(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (tgid == self_tgid)
		return false;
	if (target_tgid && tgid != target_tgid)
		return false;
	if (filter_comm && !comm_matches())
		return false;
	return true;
}

/* Reads one dentry's name into names[depth]; marks a name cut short. */
static __always_inline void read_name(struct file_info *info, struct dentry *dentry, __u32 depth)
{
	const unsigned char *name = BPF_CORE_READ(dentry, d_name.name);
	long n;

	if (depth >= MAX_DEPTH)
		return;
	n = bpf_probe_read_kernel_str(info->names[depth], NAME_LEN, name);
	if (n == NAME_LEN)
		info->flags |= NAME_TRUNCATED;
}

/*
 * The path, from the file's own name up: d_name of each dentry, d_parent to go up, and at the root of a mount
 * over to the mount point in the parent mount (struct mount holds the vfsmount the file points to). Stops at the
 * root of the mount tree, after MAX_DEPTH names (PATH_TRUNCATED), or at the root of an internal filesystem.
 */
static __always_inline void fill_file(struct file_info *info, struct file *file)
{
	struct inode *inode = BPF_CORE_READ(file, f_inode);
	struct dentry *dentry = BPF_CORE_READ(file, f_path.dentry);
	struct vfsmount *vfsmnt = BPF_CORE_READ(file, f_path.mnt);
	struct mount *mnt = (void *)vfsmnt - bpf_core_field_offset(struct mount, mnt);
	__u32 depth = 0;

	info->ino = BPF_CORE_READ(inode, i_ino);
	info->dev = BPF_CORE_READ(inode, i_sb, s_dev);
	info->rdev = BPF_CORE_READ(inode, i_rdev);
	info->mode = BPF_CORE_READ(inode, i_mode);
	info->flags = 0;

	for (int i = 0; i < MAX_DEPTH + MAX_MOUNT_HOPS + 1; i++) {
		struct dentry *parent = BPF_CORE_READ(dentry, d_parent);
		struct dentry *mnt_root = BPF_CORE_READ(mnt, mnt.mnt_root);

		if (dentry == mnt_root) {
			struct mount *up = BPF_CORE_READ(mnt, mnt_parent);

			if (up == mnt)
				break; /* the root of the mount tree: the path is complete */
			dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
			mnt = up;
			continue;
		}
		if (dentry == parent) {
			/* A dentry that is its own parent but not a mount's root: a pipe, socket or anon inode. */
			if (depth == 0) {
				read_name(info, dentry, 0);
				depth = 1;
			}
			info->flags |= PATH_PSEUDO;
			break;
		}
		if (depth >= MAX_DEPTH) {
			info->flags |= PATH_TRUNCATED;
			break;
		}
		read_name(info, dentry, depth);
		depth++;
		dentry = parent;
	}
	info->depth = depth;
}

static __always_inline bool file_wanted(struct file *file)
{
	struct inode *inode;

	if (!target_ino)
		return true;
	inode = BPF_CORE_READ(file, f_inode);
	return BPF_CORE_READ(inode, i_ino) == target_ino && BPF_CORE_READ(inode, i_sb, s_dev) == target_dev;
}

static __always_inline void count_in_totals(struct file *file, __u64 requested, __s64 ret)
{
	struct inode *inode = BPF_CORE_READ(file, f_inode);
	struct file_key key = {
		.dev = BPF_CORE_READ(inode, i_sb, s_dev),
		.ino = BPF_CORE_READ(inode, i_ino),
	};
	struct file_total *total = bpf_map_lookup_elem(&totals, &key);

	if (!total) {
		__u32 zero = 0;
		struct file_total *fresh = bpf_map_lookup_elem(&scratch, &zero);

		if (!fresh)
			return;
		__builtin_memset(fresh, 0, sizeof(*fresh));
		fresh->pid = bpf_get_current_pid_tgid() >> 32;
		bpf_get_current_comm(fresh->comm, sizeof(fresh->comm));
		fill_file(&fresh->file, file);
		bpf_map_update_elem(&totals, &key, fresh, BPF_NOEXIST);
		total = bpf_map_lookup_elem(&totals, &key);
		if (!total) {
			count_lost();
			return;
		}
	}
	if (ret > 0)
		__sync_fetch_and_add(&total->bytes, ret);
	__sync_fetch_and_add(&total->writes, 1);
	__sync_fetch_and_add(&total->requested, requested);
}

static __always_inline void emit(struct file *file, __s32 fd, __u32 op, __u64 requested, __s64 ret)
{
	struct event *e;
	__u64 id;

	if (!file || !file_wanted(file))
		return;
	if (top_mode) {
		count_in_totals(file, requested, ret);
		return;
	}
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_lost();
		return;
	}
	id = bpf_get_current_pid_tgid();
	e->ts_ns = bpf_ktime_get_ns();
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->fd = fd;
	e->op = op;
	e->requested = requested;
	e->ret = ret;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	fill_file(&e->file, file);
	// Wake the reader only past a quarter of the ring: it drains every 100 ms anyway, and a wakeup per write
	// costs this program an interrupt (about 20 µs in a VM, many times the rest of its work).
	bpf_ringbuf_submit(e, bpfsharp_ringbuf_wakeup(&events, wakeup_bytes));
}

/* ---- fentry mode ---------------------------------------------------------------------------------------- */

SEC("fexit/vfs_write")
int BPF_PROG(vfs_write_fexit, struct file *file, const char *buf, size_t count, loff_t *pos, ssize_t ret)
{
	if (!wanted() || count < min_bytes)
		return 0;
	emit(file, -1, OP_VFS_WRITE, count, ret);
	return 0;
}

/* ---- kprobe mode ---------------------------------------------------------------------------------------- */

SEC("kprobe/vfs_write")
int BPF_KPROBE(vfs_write_kprobe, struct file *file, const char *buf, size_t count)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pending p = { .file = file, .requested = count, .fd = -1, .op = OP_VFS_WRITE };

	if (!wanted() || count < min_bytes)
		return 0;
	bpf_map_update_elem(&pending_writes, &tid, &p, BPF_ANY);
	return 0;
}

SEC("kretprobe/vfs_write")
int BPF_KRETPROBE(vfs_write_kretprobe, ssize_t ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pending *p = bpf_map_lookup_elem(&pending_writes, &tid);

	if (!p)
		return 0;
	emit(p->file, p->fd, p->op, p->requested, ret);
	bpf_map_delete_elem(&pending_writes, &tid);
	return 0;
}

/* ---- syscall tracepoint mode ---------------------------------------------------------------------------- */

/* task->files->fdt->fd[fd]: the struct file behind a descriptor of the current process. */
static __always_inline struct file *file_of(int fd)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds;
	struct file *file = NULL;

	if (fd < 0 || !fdt || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
	return file;
}

static __always_inline void syscall_enter(int fd, __u32 op, __u64 requested)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pending p = { .requested = requested, .fd = fd, .op = op };

	if (!wanted() || requested < min_bytes)
		return;
	p.file = file_of(fd);
	if (!p.file)
		return;
	bpf_map_update_elem(&pending_writes, &tid, &p, BPF_ANY);
}

static __always_inline void syscall_exit(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pending *p = bpf_map_lookup_elem(&pending_writes, &tid);

	if (!p)
		return;
	emit(p->file, p->fd, p->op, p->requested, ret);
	bpf_map_delete_elem(&pending_writes, &tid);
}

SEC("tracepoint/syscalls/sys_enter_write")
int tp_enter_write(struct trace_event_raw_sys_enter *ctx)
{
	syscall_enter((int)ctx->args[0], OP_WRITE, ctx->args[2]);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_write")
int tp_exit_write(struct trace_event_raw_sys_exit *ctx)
{
	syscall_exit(ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_pwrite64")
int tp_enter_pwrite64(struct trace_event_raw_sys_enter *ctx)
{
	syscall_enter((int)ctx->args[0], OP_PWRITE64, ctx->args[2]);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_pwrite64")
int tp_exit_pwrite64(struct trace_event_raw_sys_exit *ctx)
{
	syscall_exit(ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_writev")
int tp_enter_writev(struct trace_event_raw_sys_enter *ctx)
{
	const struct iovec *iov = (const struct iovec *)ctx->args[1];
	unsigned long count = ctx->args[2];
	__u64 requested = 0;

	for (int i = 0; i < MAX_IOVECS; i++) {
		struct iovec v;

		if (i >= count)
			break;
		if (bpf_probe_read_user(&v, sizeof(v), &iov[i]))
			break;
		requested += v.iov_len;
	}
	syscall_enter((int)ctx->args[0], OP_WRITEV, requested);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_writev")
int tp_exit_writev(struct trace_event_raw_sys_exit *ctx)
{
	syscall_exit(ctx->ret);
	return 0;
}
