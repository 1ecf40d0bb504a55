using BpfSharp.Kernel;
using BpfSharp.Programs;

namespace BpfSharp.Links;

/// <summary>
/// A program attached through a BPF trampoline to the BTF-described target it was loaded for:
/// tp_btf, fentry, fexit, fmod_ret, freplace and LSM programs (BPF_LINK_CREATE). The target is
/// fixed at load time (<see cref="ProgramSpec.AttachBtfId"/>); freplace may name another target here.
/// </summary>
public sealed class TracingLink : Link
{
    private TracingLink(FileDescriptor fd, string description, AttachType attachType) : base(fd, description)
    {
        AttachType = attachType;
    }

    /// <summary>The trampoline kind.</summary>
    public AttachType AttachType { get; }

    /// <summary>Attaches a tracing, LSM or freplace program to the target it was loaded for.</summary>
    /// <param name="program">The loaded program.</param>
    /// <param name="attachType">The program's expected attach type: TraceRawTp (tp_btf), TraceFentry, TraceFexit, ModifyReturn, LsmMac, or (for freplace) any of them is ignored and the replacement attaches.</param>
    /// <param name="cookie">A BPF cookie for bpf_get_attach_cookie.</param>
    /// <param name="target">For freplace: the program whose function to replace, when not the one given at load time.</param>
    /// <param name="targetBtfId">For freplace with <paramref name="target"/>: the BTF id of the function in it.</param>
    /// <exception cref="BpfException">The kernel refused; EPERM as root says plainly that trampolines are denied here.</exception>
    public static TracingLink Attach(Program program, AttachType attachType, ulong cookie = 0, Program? target = null, uint targetBtfId = 0)
    {
        ArgumentNullException.ThrowIfNull(program);
        string description = $"{Name(program.Type == ProgramType.Ext ? null : attachType)} link for {program}";
        using var borrowed = new BorrowedDescriptors();
        var attr = new LinkCreateAttr
        {
            ProgOrMapFd = (uint)borrowed.Add(program.Fd),
            TargetFdOrIfindex = (uint)borrowed.Add(target?.Fd),
            AttachType = program.Type == ProgramType.Ext ? 0 : (uint)attachType,
            TargetBtfId = targetBtfId,
        };
        if (cookie != 0)
        {
            attr.TracingCookie = cookie;
        }
        FileDescriptor fd = CreateRaw(ref attr, description, errno => Hint(errno, program, attachType));
        return new TracingLink(fd, description, attachType);
    }

    private static string Name(AttachType? attachType) => attachType switch
    {
        null => "freplace",
        AttachType.TraceRawTp => "tp_btf",
        AttachType.TraceFentry => "fentry",
        AttachType.TraceFexit => "fexit",
        AttachType.ModifyReturn => "fmod_ret",
        AttachType.LsmMac => "lsm",
        AttachType.LsmCgroup => "lsm_cgroup",
        _ => attachType.ToString()!,
    };

    private static string? Hint(Errno errno, Program program, AttachType attachType) => errno switch
    {
        Errno.EPERM when Errors.IsRoot =>
            $"the kernel refuses {Name(attachType)} attachments to this process although it runs as root (kernel lockdown or a security policy denies BPF trampolines); use a raw tracepoint, a tracepoint or a kprobe instead",
        Errno.EINVAL => $"the attach type {attachType} does not match the one {program} was loaded for, or the program was loaded without a BTF attach target (ProgramSpec.AttachBtfId)",
        Errno.ENOTSUPP or Errno.EOPNOTSUPP => "this kernel or architecture has no BPF trampolines (CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS)",
        _ => null,
    };
}
