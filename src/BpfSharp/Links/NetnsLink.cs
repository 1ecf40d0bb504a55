using BpfSharp.Kernel;
using BpfSharp.Programs;

namespace BpfSharp.Links;

/// <summary>
/// A program attached to a network namespace: sk_lookup (choosing the socket for a new
/// connection or datagram) or flow_dissector (parsing packet headers for the stack), through
/// BPF_LINK_CREATE on the namespace's file (/proc/self/ns/net, /run/netns/NAME).
/// </summary>
public sealed class NetnsLink : Link
{
    private NetnsLink(FileDescriptor fd, string description, AttachType attachType) : base(fd, description)
    {
        AttachType = attachType;
    }

    /// <summary>SkLookup or FlowDissector.</summary>
    public AttachType AttachType { get; }

    /// <summary>Attaches to a network namespace given by path, by default this process's.</summary>
    /// <exception cref="BpfException">The kernel refused: flow_dissector allows one program per namespace (EEXIST), and none in a child namespace while the root namespace has one.</exception>
    public static NetnsLink Attach(Program program, AttachType attachType, string namespacePath = "/proc/self/ns/net")
    {
        ArgumentNullException.ThrowIfNull(program);
        if (attachType is not (AttachType.SkLookup or AttachType.FlowDissector))
        {
            throw new ArgumentException($"{attachType} is not a network namespace hook (SkLookup, FlowDissector)", nameof(attachType));
        }
        string description = $"{(attachType == AttachType.SkLookup ? "sk_lookup" : "flow_dissector")} link on {namespacePath}";
        using FileDescriptor netns = ProgramAttachment.OpenTarget(namespacePath, directory: false, "network namespace");
        using FileDescriptor.Lease lease = netns.Borrow();
        int netnsFd = lease.Fd;
        FileDescriptor fd = Create(program, attachType, description, (ref LinkCreateAttr attr) => attr.TargetFdOrIfindex = (uint)netnsFd, errno => errno switch
        {
            Errno.EEXIST or Errno.E2BIG => $"the namespace already has a{(attachType == AttachType.FlowDissector ? " flow dissector program (one per namespace)" : "n sk_lookup program attached the legacy way")}",
            Errno.EINVAL => $"the program must be a {(attachType == AttachType.SkLookup ? "sk_lookup" : "flow_dissector")} program",
            _ => null,
        });
        return new NetnsLink(fd, description, attachType);
    }
}
