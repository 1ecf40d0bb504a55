using BpfSharp.Kernel;
using BpfSharp.Programs;

namespace BpfSharp.Links;

/// <summary>Flags of a BPF_PROG_ATTACH to a cgroup (<c>BPF_F_ALLOW_OVERRIDE</c>, <c>BPF_F_ALLOW_MULTI</c>, <c>BPF_F_REPLACE</c>).</summary>
[Flags]
public enum CgroupAttachFlags : uint
{
    /// <summary>Exclusive: the only program of this attach type on the cgroup, and descendants may not attach their own.</summary>
    None = 0,
    /// <summary>A descendant cgroup may replace this program with its own (only that one runs there).</summary>
    AllowOverride = 1 << 0,
    /// <summary>Several programs per attach type; those of ancestors also run.</summary>
    AllowMulti = 1 << 1,
    /// <summary>Replace a given program (with <see cref="AllowMulti"/>).</summary>
    Replace = 1 << 2,
}

/// <summary>
/// The legacy attach commands (BPF_PROG_ATTACH / BPF_PROG_DETACH) shared by cgroup, sockmap and
/// network namespace attachments that are not links: attach, and undo on dispose by detaching
/// exactly this program from exactly this target.
/// </summary>
internal sealed class ProgramAttachment
{
    private readonly FileDescriptor _target;
    private readonly FileDescriptor _program;
    private readonly AttachType _attachType;
    private readonly string _description;

    private ProgramAttachment(FileDescriptor target, FileDescriptor program, AttachType attachType, string description)
    {
        _target = target;
        _program = program;
        _attachType = attachType;
        _description = description;
    }

    /// <summary>Attaches; takes ownership of <paramref name="target"/> (closed on failure) and holds a duplicate of the program's descriptor for the detach.</summary>
    internal static ProgramAttachment Attach(FileDescriptor target, Program program, AttachType attachType, uint flags, Program? replace,
        string description, Func<Errno, string?>? hint = null)
    {
        FileDescriptor? held = null;
        try
        {
            held = program.Fd.Duplicate();
            using var borrowed = new BorrowedDescriptors();
            var attr = new ProgAttachAttr
            {
                TargetFdOrIfindex = (uint)borrowed.Add(target),
                AttachBpfFd = (uint)borrowed.Add(held),
                AttachType = (uint)attachType,
                AttachFlags = flags,
                ReplaceBpfFd = (uint)borrowed.Add(replace?.Fd),
            };
            if (Bpf.TryCall(BpfCommand.ProgAttach, ref attr, out Errno errno) < 0)
            {
                throw new BpfException(BpfCommands.Name(BpfCommand.ProgAttach), errno, $"attaching {program} as {description}",
                    hint?.Invoke(errno) ?? Errors.CommandHint(BpfCommand.ProgAttach, errno));
            }
            return new ProgramAttachment(target, held, attachType, description);
        }
        catch
        {
            held?.Dispose();
            target.Dispose();
            throw;
        }
    }

    /// <summary>Detaches this program (BPF_PROG_DETACH); a target that vanished meanwhile is not an error.</summary>
    internal void Detach()
    {
        try
        {
            using var borrowed = new BorrowedDescriptors();
            var attr = new ProgAttachAttr
            {
                TargetFdOrIfindex = (uint)borrowed.Add(_target),
                AttachBpfFd = (uint)borrowed.Add(_program),
                AttachType = (uint)_attachType,
            };
            if (Bpf.TryCall(BpfCommand.ProgDetach, ref attr, out Errno errno) < 0 && errno is not (Errno.ENOENT or Errno.EBADF))
            {
                throw new BpfException(BpfCommands.Name(BpfCommand.ProgDetach), errno, $"detaching {_description}", Errors.CommandHint(BpfCommand.ProgDetach, errno));
            }
        }
        finally
        {
            _program.Dispose();
            _target.Dispose();
        }
    }

    /// <summary>Opens a directory (a cgroup) or a file (a network namespace) as an attach target.</summary>
    internal static FileDescriptor OpenTarget(string path, bool directory, string description)
    {
        int fd = LibC.Open(path, LibC.O_RDONLY | LibC.O_CLOEXEC | (directory ? LibC.O_DIRECTORY : 0), 0);
        if (fd < 0)
        {
            throw Errors.FromLastError("open", $"opening {description} {path}");
        }
        return new FileDescriptor(fd, $"{description} {path}");
    }
}
