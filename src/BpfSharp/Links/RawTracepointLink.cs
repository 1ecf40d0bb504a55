using BpfSharp.Kernel;
using BpfSharp.Programs;

namespace BpfSharp.Links;

/// <summary>
/// A raw tracepoint program attached to a tracepoint by name (<c>raw_tp/NAME</c>), or a tp_btf
/// program attached to its load-time target (BPF_RAW_TRACEPOINT_OPEN). The program sees the
/// tracepoint's raw arguments, without the perf layer's record copying.
/// </summary>
public sealed unsafe class RawTracepointLink : Link
{
    private RawTracepointLink(FileDescriptor fd, string description, string? name) : base(fd, description)
    {
        TracepointName = name;
    }

    /// <summary>The raw tracepoint, such as <c>sys_enter</c>; null for a tp_btf program (its target was fixed at load time).</summary>
    public string? TracepointName { get; }

    /// <summary>Attaches a raw tracepoint program to <paramref name="name"/>.</summary>
    /// <param name="program">A raw_tracepoint (or raw_tracepoint.w) program, or a tp_btf program with <paramref name="name"/> null.</param>
    /// <param name="name">The tracepoint (<c>sched_switch</c>, <c>sys_enter</c>), or null for tp_btf.</param>
    /// <param name="cookie">A BPF cookie for bpf_get_attach_cookie (kernels since 6.10).</param>
    /// <exception cref="BpfException">No raw tracepoint has that name (ENOENT), or the kernel refused.</exception>
    public static RawTracepointLink Attach(Program program, string? name, ulong cookie = 0)
    {
        ArgumentNullException.ThrowIfNull(program);
        byte[]? nameBytes = name is null ? null : Bpf.NullTerminated(name);
        string description = name is null ? $"{program.Name} (tp_btf)" : $"raw tracepoint link {name}";
        using FileDescriptor.Lease lease = program.Fd.Borrow();
        fixed (byte* namePointer = nameBytes)
        {
            var attr = new RawTracepointAttr { Name = (ulong)namePointer, ProgFd = (uint)lease.Fd, Cookie = cookie };
            int fd = Bpf.TryCall(BpfCommand.RawTracepointOpen, ref attr, out Errno errno);
            if (fd < 0)
            {
                string? hint = errno switch
                {
                    Errno.ENOENT => $"the kernel has no raw tracepoint '{name}' (the names are the tracepoint names without a subsystem: ls /sys/kernel/tracing/events/*/)",
                    Errno.EINVAL when name is null => "a program attached without a tracepoint name must be a tp_btf program loaded with its target's BTF id",
                    Errno.EINVAL => $"{program.Type} programs cannot attach to raw tracepoints; load it as raw_tracepoint (or tp_btf without a name)",
                    _ => Errors.CommandHint(BpfCommand.RawTracepointOpen, errno),
                };
                throw new BpfException(BpfCommands.Name(BpfCommand.RawTracepointOpen), errno, $"attaching {program} to {description}", hint);
            }
            return new RawTracepointLink(new FileDescriptor(fd, description), description, name);
        }
    }
}
