using BpfSharp.Kernel;
using BpfSharp.Programs;

namespace BpfSharp.Links;

/// <summary>
/// A program attached to a hook. Most attachments are BPF links: kernel objects with a file
/// descriptor, an id and info, which can be pinned, updated with another program and detached.
/// Attachments made the legacy way (a perf event with PERF_EVENT_IOC_SET_BPF, XDP or cls_bpf
/// through netlink, BPF_PROG_ATTACH to a cgroup or a sockmap, SO_ATTACH_BPF on a socket) have no
/// link: the object remembers how to undo them. Either way, disposing detaches.
/// </summary>
public class Link : IDisposable
{
    private uint _id;
    private bool _disposed;

    /// <summary>Wraps a BPF link descriptor (takes ownership).</summary>
    internal Link(FileDescriptor? fd, string description)
    {
        Fd = fd;
        Description = description;
        if (fd is not null)
        {
            fd.Description = description;
        }
    }

    /// <summary>The link's descriptor, or null for an attachment that is not a BPF link.</summary>
    public FileDescriptor? Fd { get; }

    /// <summary>True when the attachment is a BPF link (it has an id, info and can be pinned).</summary>
    public bool IsBpfLink => Fd is not null;

    /// <summary>What is attached where, for messages: <c>tracepoint link syscalls:sys_enter_getppid</c>.</summary>
    public string Description { get; }

    /// <summary>The bpffs path the link was pinned at by <see cref="Pin"/>, or null.</summary>
    public string? PinnedPath { get; private set; }

    /// <summary>The kernel's id of the link.</summary>
    /// <exception cref="NotSupportedException">The attachment is not a BPF link.</exception>
    public uint Id => _id != 0 ? _id : _id = Info.Id;

    /// <summary>The link type.</summary>
    /// <exception cref="NotSupportedException">The attachment is not a BPF link.</exception>
    public LinkType Type => Info.Type;

    /// <summary>A fresh snapshot of what the kernel reports about the link.</summary>
    /// <exception cref="NotSupportedException">The attachment is not a BPF link.</exception>
    public LinkInfo Info => LinkInfo.Read(RequireLink("read link info"));

    /// <summary>Opens the link with the given id (the link stays while this object holds it; disposing closes, it does not detach others' holds).</summary>
    /// <exception cref="BpfException">No link has that id (ENOENT).</exception>
    public static Link FromId(uint id)
    {
        FileDescriptor fd = Bpf.GetFdById(BpfCommand.LinkGetFdById, id, "link");
        return Adopt(fd, $"link id {id}");
    }

    /// <summary>Opens a link pinned in bpffs.</summary>
    /// <exception cref="BpfException">Nothing is pinned there, or the path is not in a bpffs.</exception>
    /// <exception cref="ArgumentException">What is pinned there is not a link.</exception>
    public static Link OpenPinned(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        FileDescriptor fd = Bpf.ObjGet(path, "link");
        BpfObjectKind kind = BpfObjectKinds.Of(fd);
        if (kind != BpfObjectKind.Link)
        {
            fd.Dispose();
            throw new ArgumentException($"the object pinned at {path} is {(kind == BpfObjectKind.Unknown ? "not a BPF object" : $"a {kind.ToString().ToLowerInvariant()}")}, not a link", nameof(path));
        }
        Link link = Adopt(fd, $"link pinned at {path}");
        link.PinnedPath = path;
        return link;
    }

    /// <summary>The ids of every BPF link in the system, in ascending order.</summary>
    public static IReadOnlyList<uint> AllIds() => Bpf.AllIds(BpfCommand.LinkGetNextId);

    /// <summary>What the kernel reports about every link in the system (links that vanish while listing are skipped).</summary>
    public static IEnumerable<LinkInfo> All()
    {
        foreach (uint id in AllIds())
        {
            using FileDescriptor? fd = Bpf.TryGetFdById(BpfCommand.LinkGetFdById, id, "link");
            if (fd is not null)
            {
                yield return LinkInfo.Read(fd);
            }
        }
    }

    /// <summary>Pins the link at <paramref name="path"/> in bpffs: the attachment then outlives this object and the process until the pin is deleted.</summary>
    /// <exception cref="NotSupportedException">The attachment is not a BPF link, so the kernel cannot pin it.</exception>
    public void Pin(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Bpf.ObjPin(RequireLink("pin"), path);
        PinnedPath = path;
    }

    /// <summary>Removes the pin made by <see cref="Pin"/> or through which the link was opened; the attachment then lasts as long as this object.</summary>
    public void Unpin()
    {
        if (PinnedPath is string path)
        {
            File.Delete(path);
            PinnedPath = null;
        }
    }

    /// <summary>
    /// Detaches the program now (BPF_LINK_DETACH) although descriptors and pins of the link may
    /// remain; they then refer to a defunct link. Not every link type supports it (EOPNOTSUPP).
    /// </summary>
    public void Detach()
    {
        using FileDescriptor.Lease lease = RequireLink("detach").Borrow();
        var attr = new LinkDetachAttr { LinkFd = (uint)lease.Fd };
        Bpf.Call(BpfCommand.LinkDetach, ref attr, $"detaching {Description}");
    }

    /// <summary>
    /// Replaces the attached program with <paramref name="program"/> atomically (BPF_LINK_UPDATE);
    /// with <paramref name="expected"/>, only if that program is the one attached now.
    /// </summary>
    /// <exception cref="BpfException">The kernel refused: a program of another type or attach type (EINVAL), a link type that cannot be updated (EOPNOTSUPP), or <paramref name="expected"/> is not attached (EPERM).</exception>
    public void Update(Program program, Program? expected = null)
    {
        ArgumentNullException.ThrowIfNull(program);
        FileDescriptor link = RequireLink("update");
        using var borrowed = new BorrowedDescriptors();
        var attr = new LinkUpdateAttr
        {
            LinkFd = (uint)borrowed.Add(link),
            NewProgOrMapFd = (uint)borrowed.Add(program.Fd),
            OldProgOrMapFd = expected is null ? 0 : (uint)borrowed.Add(expected.Fd),
            Flags = expected is null ? 0 : 1u << 2, // BPF_F_REPLACE
        };
        if (Bpf.TryCall(BpfCommand.LinkUpdate, ref attr, out Errno errno) < 0)
        {
            throw new BpfException(BpfCommands.Name(BpfCommand.LinkUpdate), errno, $"updating {Description} to {program}", errno switch
            {
                Errno.EINVAL => "this link type cannot change its program (perf event, raw tracepoint and tracing links cannot), or the new program's type or expected attach type differs from the attached one's",
                Errno.EPERM when expected is not null => $"{expected} is not the program attached now",
                _ => Errors.CommandHint(BpfCommand.LinkUpdate, errno),
            });
        }
    }

    /// <summary>Detaches (closing the link; a pinned link stays attached through its pin).</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        try
        {
            Release();
        }
        finally
        {
            Fd?.Dispose();
            GC.SuppressFinalize(this);
        }
    }

    /// <summary>Undoes a legacy attachment; BPF links need nothing beyond closing their descriptor.</summary>
    private protected virtual void Release()
    {
    }

    /// <inheritdoc />
    public override string ToString() => Description;

    private protected FileDescriptor RequireLink(string operation) =>
        Fd ?? throw new NotSupportedException($"cannot {operation}: {Description} is a legacy attachment, not a BPF link (the kernel gives it no id, info or pin)");

    /// <summary>Wraps an opened link descriptor, describing it by its info.</summary>
    private static Link Adopt(FileDescriptor fd, string fallback)
    {
        try
        {
            LinkInfo info = LinkInfo.Read(fd);
            return new Link(fd, $"{info.Type} link id {info.Id}") { _id = info.Id };
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>BPF_LINK_CREATE for a program; <paramref name="fill"/> sets the target and the per-kind fields.</summary>
    internal static FileDescriptor Create(Program program, AttachType attachType, string description, LinkCreateFill? fill = null, Func<Errno, string?>? hint = null)
    {
        using FileDescriptor.Lease lease = program.Fd.Borrow();
        var attr = new LinkCreateAttr { ProgOrMapFd = (uint)lease.Fd, AttachType = (uint)attachType };
        fill?.Invoke(ref attr);
        return CreateRaw(ref attr, description, hint);
    }

    /// <summary>BPF_LINK_CREATE with a filled attribute; the error carries <paramref name="hint"/> when it gives one.</summary>
    internal static FileDescriptor CreateRaw(ref LinkCreateAttr attr, string description, Func<Errno, string?>? hint = null)
    {
        int fd = Bpf.TryCall(BpfCommand.LinkCreate, ref attr, out Errno errno);
        if (fd < 0)
        {
            string? text = hint?.Invoke(errno) ?? Errors.CommandHint(BpfCommand.LinkCreate, errno);
            throw new BpfException(BpfCommands.Name(BpfCommand.LinkCreate), errno, $"attaching {description}", text);
        }
        return new FileDescriptor(fd, description);
    }
}

/// <summary>Sets the per-kind fields of a BPF_LINK_CREATE attribute.</summary>
internal delegate void LinkCreateFill(ref LinkCreateAttr attr);
