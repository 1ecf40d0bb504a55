using System.Buffers.Binary;
using BpfSharp.Kernel;
using BpfSharp.Programs;

namespace BpfSharp.Links;

/// <summary>Which way the packets a tc program sees travel.</summary>
public enum TcDirection
{
    /// <summary>Packets the device receives.</summary>
    Ingress,
    /// <summary>Packets the device sends.</summary>
    Egress,
}

/// <summary>Where a cls_bpf filter goes in the clsact qdisc's filter list.</summary>
/// <param name="Priority">The filter priority (lower runs first), 1..65535.</param>
/// <param name="Handle">The filter handle within that priority.</param>
public sealed record TcFilterOptions(ushort Priority = 1, uint Handle = 1);

/// <summary>
/// A sched_cls program on a device's ingress or egress path: a tcx link (BPF_LINK_CREATE with
/// BPF_TCX_INGRESS/EGRESS, kernels since 6.6), or on older kernels a cls_bpf filter in direct
/// action mode on the clsact qdisc, made through rtnetlink (what <c>tc filter add ... bpf da</c>
/// does). Disposing removes the filter, and the clsact qdisc if this attachment created it.
/// </summary>
public sealed class TcLink : Link
{
    private const ushort TcaKind = 1, TcaOptions = 2, TcaBpfFd = 6, TcaBpfName = 7, TcaBpfFlags = 8;
    private const uint TcHandleClsact = 0xFFFF_FFF1, TcHandleIngress = 0xFFFF_FFF2, TcHandleEgress = 0xFFFF_FFF3;
    private const uint ClsactHandle = 0xFFFF_0000, FlagDirectAction = 1;
    private const ushort EthernetAllProtocols = 0x0003;
    private readonly TcFilterOptions? _filter;
    private readonly bool _createdQdisc;

    private TcLink(FileDescriptor? fd, string description, int ifindex, TcDirection direction, TcFilterOptions? filter, bool createdQdisc)
        : base(fd, description)
    {
        Ifindex = ifindex;
        Direction = direction;
        _filter = filter;
        _createdQdisc = createdQdisc;
    }

    /// <summary>The device's interface index.</summary>
    public int Ifindex { get; }

    /// <summary>Ingress or egress.</summary>
    public TcDirection Direction { get; }

    /// <summary>True for a tcx link, false for a cls_bpf filter.</summary>
    public bool IsTcx => Fd is not null;

    /// <summary>Attaches to the interface named <paramref name="interfaceName"/>.</summary>
    public static TcLink Attach(Program program, string interfaceName, TcDirection direction) =>
        Attach(program, NetworkInterfaces.Index(interfaceName), direction);

    /// <summary>Attaches a sched_cls program as a tcx link, or as a cls_bpf filter where the kernel has no tcx.</summary>
    /// <exception cref="BpfException">The device does not exist, or the kernel refused.</exception>
    public static TcLink Attach(Program program, int ifindex, TcDirection direction) => Attach(program, ifindex, direction, null);

    /// <summary>
    /// Attaches a sched_cls program as a tcx link at a position among the device's other tcx programs, optionally
    /// only if the hook is still at a revision read before. Without options it behaves as the overload without them.
    /// </summary>
    /// <param name="program">A sched_cls program.</param>
    /// <param name="ifindex">The device.</param>
    /// <param name="direction">Ingress or egress.</param>
    /// <param name="options">The position (<see cref="AttachPosition"/>) and expected revision; null for the end of the list.</param>
    /// <exception cref="BpfException">
    /// The relative program or link is not on the hook (ENOENT), the hook changed since the expected revision (ESTALE),
    /// the kernel has no tcx (a position needs it: cls_bpf has priorities instead), or the kernel refused.
    /// </exception>
    public static TcLink Attach(Program program, int ifindex, TcDirection direction, MultiAttachOptions? options)
    {
        ArgumentNullException.ThrowIfNull(program);
        bool ordered = options is not null && (options.Position is not null || options.ExpectedRevision != 0);
        AttachType attachType = direction == TcDirection.Ingress ? AttachType.TcxIngress : AttachType.TcxEgress;
        string description = $"tcx {direction.ToString().ToLowerInvariant()} link on ifindex {ifindex}";
        using var borrowed = new BorrowedDescriptors();
        var attr = new LinkCreateAttr
        {
            ProgOrMapFd = (uint)borrowed.Add(program.Fd),
            TargetFdOrIfindex = (uint)ifindex,
            AttachType = (uint)attachType,
            Flags = options?.Position?.Flags ?? 0,
            RelativeFdOrId = options?.Position?.RelativeId ?? 0,
            ExpectedRevision = options?.ExpectedRevision ?? 0,
        };
        if (options?.Position is AttachPosition position)
        {
            description += $", {position}";
        }
        int fd = Bpf.TryCall(BpfCommand.LinkCreate, ref attr, out Errno errno);
        if (fd >= 0)
        {
            return new TcLink(new FileDescriptor(fd, description), description, ifindex, direction, null, false);
        }
        if (errno == Errno.EINVAL && !Features.KernelSupport.For(Features.HookKind.Tcx).IsSupported)
        {
            if (ordered)
            {
                throw new BpfException($"attaching {program} as {description}: a position or expected revision needs tcx links (Linux 6.6), which this kernel lacks; "
                    + "attach without them (a cls_bpf filter is placed by TcFilterOptions.Priority instead)");
            }
            return AttachClassifier(program, ifindex, direction);
        }
        throw new BpfException(BpfCommands.Name(BpfCommand.LinkCreate), errno, $"attaching {program} as {description}", errno switch
        {
            Errno.ENODEV => "no network device has that interface index in this network namespace",
            Errno.ENOENT when ordered => "the program or link the position is relative to is not attached to this hook",
            Errno.ESTALE => $"the hook's programs changed since revision {options?.ExpectedRevision} (another program was attached or detached); read the revision again and retry",
            Errno.EEXIST when ordered => "the program is already attached to this hook",
            Errno.EINVAL => "the program must be a sched_cls program (loaded with expected attach type TcxIngress/TcxEgress where the kernel checks it)",
            _ => null,
        });
    }

    /// <summary>
    /// Attaches as a cls_bpf filter in direct-action mode on the device's clsact qdisc (creating
    /// the qdisc if it is missing), through rtnetlink. Not a BPF link: it has no id or pin.
    /// </summary>
    /// <exception cref="BpfException">A filter already has that priority and handle (EEXIST), or the kernel refused.</exception>
    public static TcLink AttachClassifier(Program program, int ifindex, TcDirection direction, TcFilterOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(program);
        options ??= new TcFilterOptions();
        if (options.Priority == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "a filter priority must be 1..65535 (0 lets the kernel choose, and then it cannot be removed by priority)");
        }
        using var netlink = RouteNetlink.Open();
        bool created = CreateClsact(netlink, ifindex);
        string description = $"cls_bpf {direction.ToString().ToLowerInvariant()} filter on ifindex {ifindex} (priority {options.Priority}, handle {options.Handle})";
        try
        {
            using FileDescriptor.Lease lease = program.Fd.Borrow();
            var message = new NetlinkMessage(RouteNetlink.RtmNewFilter,
                    RouteNetlink.FlagRequest | RouteNetlink.FlagAck | RouteNetlink.FlagCreate | RouteNetlink.FlagExclusive,
                    TcMessage(ifindex, options.Handle, Parent(direction), FilterInfo(options.Priority)))
                .String(TcaKind, "bpf")
                .BeginNested(TcaOptions)
                .UInt32(TcaBpfFd, (uint)lease.Fd)
                .String(TcaBpfName, program.Name.Length == 0 ? "bpfsharp" : program.Name)
                .UInt32(TcaBpfFlags, FlagDirectAction)
                .EndNested();
            netlink.Execute(message, $"attaching {program} as {description}");
        }
        catch
        {
            if (created)
            {
                DeleteClsact(netlink, ifindex);
            }
            throw;
        }
        return new TcLink(null, description, ifindex, direction, options, created);
    }

    private protected override void Release()
    {
        if (_filter is null)
        {
            return;
        }
        try
        {
            using var netlink = RouteNetlink.Open();
            var message = new NetlinkMessage(RouteNetlink.RtmDelFilter, RouteNetlink.FlagRequest | RouteNetlink.FlagAck,
                    TcMessage(Ifindex, _filter.Handle, Parent(Direction), FilterInfo(_filter.Priority)))
                .String(TcaKind, "bpf");
            try
            {
                netlink.Execute(message, $"detaching {Description}");
            }
            finally
            {
                if (_createdQdisc)
                {
                    DeleteClsact(netlink, Ifindex);
                }
            }
        }
        catch (BpfException)
        {
            // The device or the qdisc is gone, and the filter with it.
        }
    }

    /// <summary>Adds a clsact qdisc; false when the device already has one.</summary>
    private static bool CreateClsact(RouteNetlink netlink, int ifindex)
    {
        var message = new NetlinkMessage(RouteNetlink.RtmNewQdisc,
                RouteNetlink.FlagRequest | RouteNetlink.FlagAck | RouteNetlink.FlagCreate | RouteNetlink.FlagExclusive,
                TcMessage(ifindex, ClsactHandle, TcHandleClsact, 0))
            .String(TcaKind, "clsact");
        try
        {
            netlink.Execute(message, $"adding a clsact qdisc to ifindex {ifindex}");
            return true;
        }
        catch (BpfException e) when (e.Errno == Errno.EEXIST)
        {
            return false;
        }
    }

    private static void DeleteClsact(RouteNetlink netlink, int ifindex)
    {
        var message = new NetlinkMessage(RouteNetlink.RtmDelQdisc, RouteNetlink.FlagRequest | RouteNetlink.FlagAck,
                TcMessage(ifindex, ClsactHandle, TcHandleClsact, 0))
            .String(TcaKind, "clsact");
        try
        {
            netlink.Execute(message, $"removing the clsact qdisc of ifindex {ifindex}");
        }
        catch (BpfException)
        {
            // Already gone with its device.
        }
    }

    private static uint Parent(TcDirection direction) => direction == TcDirection.Ingress ? TcHandleIngress : TcHandleEgress;

    // tcm_info of a filter: priority in the upper half, protocol (network byte order) in the lower.
    private static uint FilterInfo(ushort priority) => (uint)priority << 16 | BinaryPrimitives.ReverseEndianness(EthernetAllProtocols);

    private static byte[] TcMessage(int ifindex, uint handle, uint parent, uint info)
    {
        byte[] tcmsg = new byte[20]; // struct tcmsg: family, pad, pad, ifindex, handle, parent, info
        BinaryPrimitives.WriteInt32LittleEndian(tcmsg.AsSpan(4), ifindex);
        BinaryPrimitives.WriteUInt32LittleEndian(tcmsg.AsSpan(8), handle);
        BinaryPrimitives.WriteUInt32LittleEndian(tcmsg.AsSpan(12), parent);
        BinaryPrimitives.WriteUInt32LittleEndian(tcmsg.AsSpan(16), info);
        return tcmsg;
    }
}
