using BpfSharp.Kernel;
using BpfSharp.Maps;
using BpfSharp.Programs;

namespace BpfSharp.Links;

/// <summary>
/// An sk_msg or sk_skb program attached to a sockmap or sockhash: it runs for the messages and
/// packets of every socket in the map. A BPF link where the kernel has sockmap links (6.10), the
/// legacy BPF_PROG_ATTACH to the map's descriptor otherwise.
/// </summary>
public sealed class SockMapLink : Link
{
    private readonly ProgramAttachment? _legacy;

    private SockMapLink(FileDescriptor? fd, string description, AttachType attachType, ProgramAttachment? legacy) : base(fd, description)
    {
        AttachType = attachType;
        _legacy = legacy;
    }

    /// <summary>The hook: SkMsgVerdict, SkSkbStreamParser, SkSkbStreamVerdict or SkSkbVerdict.</summary>
    public AttachType AttachType { get; }

    /// <summary>Attaches to <paramref name="map"/> (a sockmap or sockhash).</summary>
    /// <exception cref="ArgumentException">The map is not a sockmap or sockhash, or the attach type is not a sockmap hook.</exception>
    /// <exception cref="BpfException">The hook already has a program, or the kernel refused.</exception>
    public static SockMapLink Attach(Program program, Map map, AttachType attachType)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(map);
        if (map.Type is not (MapType.SockMap or MapType.SockHash))
        {
            throw new ArgumentException($"{map} is a {map.Type} map; sk_msg and sk_skb programs attach to a sockmap or sockhash", nameof(map));
        }
        if (attachType is not (AttachType.SkMsgVerdict or AttachType.SkSkbStreamParser or AttachType.SkSkbStreamVerdict or AttachType.SkSkbVerdict))
        {
            throw new ArgumentException($"{attachType} is not a sockmap hook (SkMsgVerdict, SkSkbStreamParser, SkSkbStreamVerdict, SkSkbVerdict)", nameof(attachType));
        }
        string description = $"{attachType} link on {map}";
        using var borrowed = new BorrowedDescriptors();
        var attr = new LinkCreateAttr
        {
            ProgOrMapFd = (uint)borrowed.Add(program.Fd),
            TargetFdOrIfindex = (uint)borrowed.Add(map.Fd),
            AttachType = (uint)attachType,
        };
        // LegacyAttach skips the link so tests reach the BPF_PROG_ATTACH path on kernels with sockmap links.
        Errno errno = Errno.EOPNOTSUPP;
        int fd = LegacyAttach.IsForced ? -1 : Bpf.TryCall(BpfCommand.LinkCreate, ref attr, out errno);
        if (fd >= 0)
        {
            return new SockMapLink(new FileDescriptor(fd, description), description, attachType, null);
        }
        if (errno is not (Errno.EINVAL or Errno.EOPNOTSUPP))
        {
            throw new BpfException(BpfCommands.Name(BpfCommand.LinkCreate), errno, $"attaching {program} as {description}", Hint(errno));
        }
        // Kernels before 6.10 have no sockmap links: attach to the map's descriptor.
        string legacyDescription = $"{attachType} attachment on {map}";
        var legacy = ProgramAttachment.Attach(map.Fd.Duplicate(), program, attachType, 0, null, legacyDescription, Hint);
        return new SockMapLink(null, legacyDescription, attachType, legacy);
    }

    private protected override void Release() => _legacy?.Detach();

    private static string? Hint(Errno errno) => errno switch
    {
        Errno.EBUSY => "the map already has a program for this hook; detach it first",
        Errno.EINVAL => "the program's type does not fit the hook: sk_msg programs take SkMsgVerdict, sk_skb programs the SkSkb* hooks",
        _ => null,
    };
}
