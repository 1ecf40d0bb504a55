using System.Buffers.Binary;
using BpfSharp.Features;
using BpfSharp.Kernel;
using BpfSharp.Programs;

namespace BpfSharp.Links;

/// <summary>How an XDP program runs on a device (<c>XDP_FLAGS_*_MODE</c>).</summary>
public enum XdpAttachMode : uint
{
    /// <summary>Native if the driver supports it, generic otherwise.</summary>
    Default = 0,
    /// <summary>Generic (skb) mode: works on every device, after the kernel allocated the packet's skb.</summary>
    Generic = 1 << 1,
    /// <summary>Native (driver) mode: in the driver's receive path; fails where the driver lacks XDP.</summary>
    Native = 1 << 2,
    /// <summary>Offloaded to the NIC.</summary>
    Offload = 1 << 3,
}

/// <summary>
/// An XDP program attached to a network device: as a BPF link (BPF_LINK_CREATE, kernels since
/// 5.9), or on older kernels through rtnetlink (RTM_SETLINK with IFLA_XDP), in which case
/// disposing removes the program only if it is still the one attached.
/// </summary>
public sealed class XdpLink : Link
{
    private const ushort IflaXdp = 43, IflaXdpFd = 1, IflaXdpFlags = 3, IflaXdpExpectedFd = 8;
    private const uint FlagUpdateIfNoExist = 1, FlagReplace = 1 << 4;
    private readonly FileDescriptor? _legacyProgram;

    private XdpLink(FileDescriptor? fd, string description, int ifindex, XdpAttachMode mode, FileDescriptor? legacyProgram)
        : base(fd, description)
    {
        Ifindex = ifindex;
        Mode = mode;
        _legacyProgram = legacyProgram;
    }

    /// <summary>The device's interface index.</summary>
    public int Ifindex { get; }

    /// <summary>The mode asked for.</summary>
    public XdpAttachMode Mode { get; }

    /// <summary>Attaches to the interface named <paramref name="interfaceName"/>.</summary>
    public static XdpLink Attach(Program program, string interfaceName, XdpAttachMode mode = XdpAttachMode.Default) =>
        Attach(program, NetworkInterfaces.Index(interfaceName), mode);

    /// <summary>Attaches an XDP program to a device, as a link where the kernel has XDP links, through netlink otherwise.</summary>
    /// <exception cref="BpfException">The device already has an XDP program (EBUSY/EEXIST), native mode is unsupported by its driver, or the kernel refused.</exception>
    public static XdpLink Attach(Program program, int ifindex, XdpAttachMode mode = XdpAttachMode.Default)
    {
        ArgumentNullException.ThrowIfNull(program);
        string description = $"xdp link on ifindex {ifindex}{(mode == XdpAttachMode.Default ? "" : $" ({mode.ToString().ToLowerInvariant()})")}";
        using var borrowed = new BorrowedDescriptors();
        var attr = new LinkCreateAttr
        {
            ProgOrMapFd = (uint)borrowed.Add(program.Fd),
            TargetFdOrIfindex = (uint)ifindex,
            AttachType = (uint)AttachType.Xdp,
            Flags = (uint)mode,
        };
        int fd = Bpf.TryCall(BpfCommand.LinkCreate, ref attr, out Errno errno);
        if (fd >= 0)
        {
            return new XdpLink(new FileDescriptor(fd, description), description, ifindex, mode, null);
        }
        // Only a kernel without XDP links (before 5.9) is sent to netlink: it rejects the link with EINVAL
        // before looking at the program or device. On any other kernel EINVAL is about this attachment (a
        // wrong program, flags or device), and netlink would hide that, or attach where the link refused.
        if (errno == Errno.EINVAL && KernelSupport.For(HookKind.XdpLink).Status == FeatureStatus.Unsupported)
        {
            return AttachWithNetlink(program, ifindex, mode);
        }
        throw new BpfException(BpfCommands.Name(BpfCommand.LinkCreate), errno, $"attaching {program} as {description}", Hint(errno, mode));
    }

    /// <summary>
    /// Attaches through rtnetlink (the pre-5.9 way, still what <c>ip link set dev X xdp</c> does),
    /// refusing to replace a program already there. Not a BPF link: it has no id or pin.
    /// </summary>
    public static XdpLink AttachWithNetlink(Program program, int ifindex, XdpAttachMode mode = XdpAttachMode.Default)
    {
        ArgumentNullException.ThrowIfNull(program);
        FileDescriptor held = program.Fd.Duplicate();
        try
        {
            using (var netlink = RouteNetlink.Open())
            using (FileDescriptor.Lease lease = held.Borrow())
            {
                netlink.Execute(SetXdp(ifindex, lease.Fd, (uint)mode | FlagUpdateIfNoExist, expectedFd: null), $"attaching {program} to ifindex {ifindex} with netlink (IFLA_XDP)");
            }
            return new XdpLink(null, $"xdp attachment (netlink) on ifindex {ifindex}", ifindex, mode, held);
        }
        catch
        {
            held.Dispose();
            throw;
        }
    }

    private protected override void Release()
    {
        if (_legacyProgram is null)
        {
            return;
        }
        try
        {
            using var netlink = RouteNetlink.Open();
            using FileDescriptor.Lease lease = _legacyProgram.Borrow();
            // Remove only our program: with XDP_FLAGS_REPLACE and the expected fd, the kernel
            // leaves a program someone attached since then in place (EEXIST).
            netlink.Execute(SetXdp(Ifindex, -1, (uint)Mode | FlagReplace, lease.Fd), $"detaching {Description}");
        }
        catch (BpfException)
        {
            // The device is gone, or another program replaced ours: nothing of ours is left there.
        }
        finally
        {
            _legacyProgram.Dispose();
        }
    }

    private static NetlinkMessage SetXdp(int ifindex, int programFd, uint flags, int? expectedFd)
    {
        Span<byte> ifinfo = stackalloc byte[16]; // struct ifinfomsg: family, pad, type, index, flags, change
        ifinfo.Clear();
        BinaryPrimitives.WriteInt32LittleEndian(ifinfo[4..], ifindex);
        var message = new NetlinkMessage(RouteNetlink.RtmSetLink, RouteNetlink.FlagRequest | RouteNetlink.FlagAck, ifinfo)
            .BeginNested(IflaXdp)
            .Int32(IflaXdpFd, programFd)
            .UInt32(IflaXdpFlags, flags);
        if (expectedFd is int expected)
        {
            message.Int32(IflaXdpExpectedFd, expected);
        }
        return message.EndNested();
    }

    private static string? Hint(Errno errno, XdpAttachMode mode) => errno switch
    {
        Errno.EBUSY or Errno.EEXIST => "the device already has an XDP program in this mode; detach it first (ip link set dev DEV xdp off) or use another mode",
        Errno.ENODEV => "no network device has that interface index in this network namespace",
        Errno.EOPNOTSUPP or Errno.EINVAL when mode == XdpAttachMode.Native => "the device's driver has no native XDP; use XdpAttachMode.Generic",
        Errno.EINVAL => "the kernel has XDP links and refused this one: the program must be an XDP program (not a devmap/cpumap one), the device must exist in this network namespace, and the flags must be a single mode (links take no other XDP flags)",
        _ => null,
    };
}
