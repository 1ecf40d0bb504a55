using BpfSharp.Kernel;
using BpfSharp.Programs;

namespace BpfSharp.Links;

/// <summary>
/// A program attached to a cgroup v2 directory for one hook (socket creation, connect, bind,
/// packets in and out, sockops, sysctl, sockopt, devices, ...): as a BPF link
/// (BPF_LINK_CREATE on the cgroup's descriptor, several programs per hook allowed), or the legacy
/// way (BPF_PROG_ATTACH with override/multi/replace flags).
/// </summary>
public sealed class CgroupLink : Link
{
    private readonly ProgramAttachment? _legacy;

    private CgroupLink(FileDescriptor? fd, string description, string cgroup, AttachType attachType, ProgramAttachment? legacy)
        : base(fd, description)
    {
        CgroupPath = cgroup;
        AttachType = attachType;
        _legacy = legacy;
    }

    /// <summary>The cgroup directory.</summary>
    public string CgroupPath { get; }

    /// <summary>The hook.</summary>
    public AttachType AttachType { get; }

    /// <summary>Attaches a program to <paramref name="cgroupPath"/> as a BPF link; links coexist with each other and with multi-attached programs.</summary>
    /// <param name="program">A cgroup program of the type the hook takes.</param>
    /// <param name="cgroupPath">A cgroup v2 directory, such as <c>/sys/fs/cgroup/unified/app</c>.</param>
    /// <param name="attachType">The hook.</param>
    /// <exception cref="BpfException">The directory is not a cgroup v2 one, the program does not fit the hook, or the kernel refused.</exception>
    public static CgroupLink Attach(Program program, string cgroupPath, AttachType attachType)
    {
        ArgumentNullException.ThrowIfNull(program);
        string description = $"cgroup {attachType} link on {cgroupPath}";
        using FileDescriptor cgroup = ProgramAttachment.OpenTarget(cgroupPath, directory: true, "cgroup");
        using FileDescriptor.Lease lease = cgroup.Borrow();
        int cgroupFd = lease.Fd;
        FileDescriptor fd = Create(program, attachType, description, (ref LinkCreateAttr attr) => attr.TargetFdOrIfindex = (uint)cgroupFd,
            errno => Hint(errno, attachType));
        return new CgroupLink(fd, description, cgroupPath, attachType, null);
    }

    /// <summary>
    /// Attaches as a BPF link at a position among the cgroup hook's programs, which run in order (the kernel's mprog
    /// API for cgroups, Linux 6.16); dispose detaches.
    /// </summary>
    /// <param name="program">A cgroup program.</param>
    /// <param name="cgroupPath">A cgroup v2 directory.</param>
    /// <param name="attachType">The hook.</param>
    /// <param name="options">The position and expected revision; null attaches at the end, as <see cref="Attach(Program, string, AttachType)"/>.</param>
    /// <exception cref="BpfException">The kernel refused: the relative program is not on the hook, the revision changed, or the kernel has no ordered cgroup links.</exception>
    public static CgroupLink Attach(Program program, string cgroupPath, AttachType attachType, MultiAttachOptions? options)
    {
        ArgumentNullException.ThrowIfNull(program);
        if (options is null || options.Position is null && options.ExpectedRevision == 0)
        {
            return Attach(program, cgroupPath, attachType);
        }
        string description = $"cgroup {attachType} link on {cgroupPath}{(options.Position is { } position ? $", {position}" : "")}";
        using FileDescriptor cgroup = ProgramAttachment.OpenTarget(cgroupPath, directory: true, "cgroup");
        using FileDescriptor.Lease lease = cgroup.Borrow();
        int cgroupFd = lease.Fd;
        FileDescriptor fd = Create(program, attachType, description, (ref LinkCreateAttr attr) =>
        {
            attr.TargetFdOrIfindex = (uint)cgroupFd;
            attr.Flags = options.Position?.Flags ?? 0;
            attr.RelativeFdOrId = options.Position?.RelativeId ?? 0;
            attr.ExpectedRevision = options.ExpectedRevision;
        }, errno => errno switch
        {
            Errno.EINVAL when options.Position is { IsRelativeToProgram: true } =>
                "a program attached to a cgroup through a link is placed relative to its link (AttachPosition.Before/After(link)), not to the program; or the kernel takes no positions for cgroup links (that needs Linux 6.16)",
            Errno.EINVAL => "the kernel does not take positions for cgroup links (that needs Linux 6.16), or the program does not fit the hook; attach without a position",
            Errno.ENOENT => "the program or link the position is relative to is not attached to this cgroup hook",
            Errno.ESTALE => $"the hook's programs changed since revision {options.ExpectedRevision}; read the revision again and retry",
            _ => Hint(errno, attachType),
        });
        return new CgroupLink(fd, description, cgroupPath, attachType, null);
    }

    /// <summary>Attaches the legacy way (BPF_PROG_ATTACH); dispose detaches exactly this program.</summary>
    /// <param name="program">A cgroup program.</param>
    /// <param name="cgroupPath">A cgroup v2 directory.</param>
    /// <param name="attachType">The hook.</param>
    /// <param name="flags">Exclusive (none), override or multi; <see cref="CgroupAttachFlags.Replace"/> with <paramref name="replace"/>.</param>
    /// <param name="replace">With <see cref="CgroupAttachFlags.Replace"/>: the attached program to replace atomically.</param>
    public static CgroupLink AttachLegacy(Program program, string cgroupPath, AttachType attachType, CgroupAttachFlags flags = CgroupAttachFlags.AllowMulti, Program? replace = null)
    {
        ArgumentNullException.ThrowIfNull(program);
        if (replace is not null != flags.HasFlag(CgroupAttachFlags.Replace))
        {
            throw new ArgumentException("CgroupAttachFlags.Replace and a program to replace go together", nameof(replace));
        }
        string description = $"cgroup {attachType} attachment ({flags}) on {cgroupPath}";
        FileDescriptor cgroup = ProgramAttachment.OpenTarget(cgroupPath, directory: true, "cgroup");
        var legacy = ProgramAttachment.Attach(cgroup, program, attachType, (uint)flags, replace, description, errno => Hint(errno, attachType));
        return new CgroupLink(null, description, cgroupPath, attachType, legacy);
    }

    private protected override void Release() => _legacy?.Detach();

    private static string? Hint(Errno errno, AttachType attachType) => errno switch
    {
        Errno.EPERM when Errors.IsRoot => "the hook already has an exclusive program (attached without AllowMulti) or an ancestor forbids overriding; attach with CgroupAttachFlags.AllowMulti or as a link",
        Errno.EINVAL => $"the program's type or expected attach type does not fit {attachType}, or the flags conflict with those of programs already attached",
        Errno.EBADF => "the path is not a cgroup v2 directory (cgroup v2 is mounted at /sys/fs/cgroup or /sys/fs/cgroup/unified)",
        Errno.E2BIG => "the cgroup has the maximum of 64 programs for this hook",
        _ => null,
    };
}
