using System.Runtime.InteropServices;

namespace BpfSharp.Kernel;

/// <summary>Turns a failed kernel call into a <see cref="BpfException"/> with a hint that fits it.</summary>
internal static class Errors
{
    internal static bool IsRoot => LibC.GetEuid() == 0;

    internal static Errno LastErrno => (Errno)Marshal.GetLastPInvokeError();

    /// <summary>An exception for a failed non-bpf syscall, from the thread's last errno.</summary>
    internal static BpfException FromLastError(string operation, string? context = null) =>
        new(operation, LastErrno, context, GenericHint(LastErrno));

    /// <summary>An exception for a failed bpf(2) command, with a hint that holds for that command.</summary>
    internal static BpfException ForCommand(BpfCommand command, Errno errno, string? context) =>
        new(BpfCommands.Name(command), errno, context, CommandHint(command, errno));

    internal static string? CommandHint(BpfCommand command, Errno errno) => (command, errno) switch
    {
        (_, Errno.EPERM) when !IsRoot =>
            "BPF needs root, or CAP_BPF (plus CAP_PERFMON for tracing programs and CAP_NET_ADMIN for networking ones)",
        (BpfCommand.ProgLoad, Errno.EPERM) =>
            "the process runs as root, so the kernel refuses this program kind here (for example a locked-down kernel, or an LSM/fentry policy that denies it)",
        (_, Errno.EPERM) =>
            "the process runs as root, so the kernel refuses this operation here (kernel lockdown or a security module)",
        (BpfCommand.ProgLoad, Errno.EACCES) =>
            "the verifier rejected the program; its log says why",
        (BpfCommand.ProgLoad or BpfCommand.MapCreate or BpfCommand.LinkCreate, Errno.EINVAL) =>
            "the kernel rejected an argument: a type, flag or attach kind this kernel does not support, or sizes it does not accept",
        (BpfCommand.MapUpdateElem or BpfCommand.MapUpdateBatch, Errno.E2BIG) =>
            "the map is full: it already holds max_entries elements",
        (_, Errno.E2BIG) =>
            "the kernel does not know a field this call set (an older kernel than the feature needs), or a size or count is over its limit",
        (BpfCommand.ProgLoad, Errno.ENOSPC) =>
            "the verifier log did not fit in its buffer",
        (_, Errno.ENOSPC) =>
            "a kernel limit was reached (map full, too many programs attached, or the buffer given was too small)",
        (BpfCommand.MapLookupElem or BpfCommand.MapDeleteElem or BpfCommand.MapLookupAndDeleteElem, Errno.ENOENT) =>
            "the key is not in the map",
        (BpfCommand.ObjGet, Errno.ENOENT) =>
            "nothing is pinned at that path",
        (BpfCommand.ObjPin or BpfCommand.ObjGet, Errno.EPERM or Errno.EACCES or Errno.EINVAL or Errno.EOPNOTSUPP) =>
            "the path must be inside a mounted bpffs (mount -t bpf bpf /sys/fs/bpf)",
        (BpfCommand.ObjPin, Errno.EEXIST) =>
            "something is already pinned at that path; unpin it (delete the file) first",
        (BpfCommand.MapUpdateElem, Errno.EEXIST) =>
            "the key exists and the update asked for BPF_NOEXIST",
        (_, Errno.ENOMEM) =>
            "the kernel could not allocate memory for the object (check the memory cgroup limit, or RLIMIT_MEMLOCK on kernels before 5.11)",
        (_, Errno.EBADF) =>
            "a file descriptor passed to the kernel is not valid for this call",
        (_, Errno.ENOTSUPP or Errno.EOPNOTSUPP) =>
            "this kernel does not support the operation for this object type",
        _ => GenericHint(errno),
    };

    internal static string? GenericHint(Errno errno) => errno switch
    {
        Errno.EPERM or Errno.EACCES when !IsRoot => "run as root, or grant CAP_BPF and CAP_PERFMON",
        Errno.ENOSYS => "this kernel was built without the system call (CONFIG_BPF_SYSCALL, CONFIG_PERF_EVENTS)",
        Errno.EMFILE => "the process is out of file descriptors; raise RLIMIT_NOFILE (ulimit -n)",
        _ => null,
    };
}
