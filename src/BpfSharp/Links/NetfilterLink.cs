using BpfSharp.Kernel;
using BpfSharp.Programs;

namespace BpfSharp.Links;

/// <summary>A netfilter protocol family (<c>NFPROTO_*</c>).</summary>
public enum NetfilterProtocolFamily : uint
{
    /// <summary>NFPROTO_IPV4.</summary>
    IPv4 = 2,
    /// <summary>NFPROTO_IPV6.</summary>
    IPv6 = 10,
}

/// <summary>A netfilter hook (<c>NF_INET_*</c>).</summary>
public enum NetfilterHook : uint
{
    /// <summary>NF_INET_PRE_ROUTING: packets arriving, before routing.</summary>
    PreRouting = 0,
    /// <summary>NF_INET_LOCAL_IN: packets for this host.</summary>
    LocalIn = 1,
    /// <summary>NF_INET_FORWARD: packets routed through.</summary>
    Forward = 2,
    /// <summary>NF_INET_LOCAL_OUT: packets this host sends.</summary>
    LocalOut = 3,
    /// <summary>NF_INET_POST_ROUTING: packets leaving, after routing.</summary>
    PostRouting = 4,
}

/// <summary>
/// A netfilter program on a hook (BPF_LINK_CREATE with protocol family, hook and priority,
/// kernels since 6.4). The program returns NF_DROP (0) or NF_ACCEPT (1).
/// </summary>
public sealed class NetfilterLink : Link
{
    private NetfilterLink(FileDescriptor fd, string description) : base(fd, description)
    {
    }

    /// <summary>Attaches a netfilter program.</summary>
    /// <param name="program">A netfilter program.</param>
    /// <param name="family">IPv4 or IPv6.</param>
    /// <param name="hook">The hook.</param>
    /// <param name="priority">Its place among the hook's functions (conntrack is -200, filter tables 0); not the minimum or maximum int.</param>
    /// <param name="defragment">Reassemble fragments before the program sees them (BPF_F_NETFILTER_IP_DEFRAG, 6.6).</param>
    public static NetfilterLink Attach(Program program, NetfilterProtocolFamily family, NetfilterHook hook, int priority, bool defragment = false)
    {
        ArgumentNullException.ThrowIfNull(program);
        string description = $"netfilter link {family} {hook} priority {priority}";
        FileDescriptor fd = Create(program, AttachType.Netfilter, description, (ref LinkCreateAttr attr) =>
        {
            attr.NetfilterProtocolFamily = (uint)family;
            attr.NetfilterHook = (uint)hook;
            attr.NetfilterPriority = priority;
            attr.NetfilterFlags = defragment ? 1u : 0;
        }, errno => errno switch
        {
            Errno.EOPNOTSUPP when !Features.KernelSupport.For(Features.HookKind.Netfilter).IsSupported =>
                "netfilter BPF links are not available on this kernel (Linux 6.4 with CONFIG_NETFILTER_BPF_LINK); use a tc or XDP program",
            Errno.EBUSY => "another BPF program holds this hook at this priority; pick another priority",
            Errno.ERANGE => "the priority must lie strictly between the reserved first and last priorities",
            Errno.EINVAL => "the program must be a netfilter program, and family and hook must exist",
            _ => null,
        });
        return new NetfilterLink(fd, description);
    }
}
