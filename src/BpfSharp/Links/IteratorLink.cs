using System.Runtime.InteropServices;
using System.Text;
using BpfSharp.Kernel;
using BpfSharp.Maps;
using BpfSharp.Programs;

namespace BpfSharp.Links;

/// <summary>What an iterator walks, beyond its target: one map, one cgroup's tree, or one task.</summary>
public sealed record IteratorOptions
{
    /// <summary>For map element iterators (iter/bpf_map_elem, iter/sockmap, ...): the map.</summary>
    public Map? Map { get; init; }

    /// <summary>For task iterators: only this thread (tid), or 0.</summary>
    public uint ThreadId { get; init; }

    /// <summary>For task iterators: only the threads of this process, or 0.</summary>
    public uint ProcessId { get; init; }
}

/// <summary>
/// An iterator program bound to its target (BPF_LINK_CREATE with BPF_TRACE_ITER). Each
/// <see cref="Open"/> starts a new walk (BPF_ITER_CREATE) whose output, what the program writes
/// with bpf_seq_printf/bpf_seq_write, is read from the returned <see cref="Iterator"/>. Pinning
/// the link in bpffs makes the walk readable as a file there.
/// </summary>
public sealed class IteratorLink : Link
{
    private IteratorLink(FileDescriptor fd, string description) : base(fd, description)
    {
    }

    /// <summary>Binds an iterator program (loaded for its target, such as <c>bpf_iter_task</c>).</summary>
    /// <exception cref="BpfException">The program is not an iterator program, or the options do not suit its target.</exception>
    public static unsafe IteratorLink Attach(Program program, IteratorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(program);
        options ??= new IteratorOptions();
        string description = $"iterator link for {program}";
        using var borrowed = new BorrowedDescriptors();
        // union bpf_iter_link_info: { u32 map_fd } or { u32 order; u32 cgroup_fd; u64 cgroup_id } or { u32 tid; u32 pid; u32 pid_fd }.
        uint* info = stackalloc uint[4];
        new Span<uint>(info, 4).Clear();
        uint infoLength = 0;
        if (options.Map is not null)
        {
            info[0] = (uint)borrowed.Add(options.Map.Fd);
            infoLength = 16;
        }
        else if (options.ThreadId != 0 || options.ProcessId != 0)
        {
            info[0] = options.ThreadId;
            info[1] = options.ProcessId;
            infoLength = 16;
        }
        var attr = new LinkCreateAttr
        {
            ProgOrMapFd = (uint)borrowed.Add(program.Fd),
            AttachType = (uint)AttachType.TraceIter,
            IterInfo = infoLength == 0 ? 0 : (ulong)info,
            IterInfoLen = infoLength,
        };
        FileDescriptor fd = CreateRaw(ref attr, description, errno => errno switch
        {
            Errno.EINVAL => "the program must be a tracing program loaded with expected attach type TraceIter and the BTF id of its target (bpf_iter_task, ...), and map or task options only where the target takes them",
            Errno.EACCES => "the map's key or value is smaller than the iterator program reads",
            _ => null,
        });
        return new IteratorLink(fd, description);
    }

    /// <summary>Starts a walk (BPF_ITER_CREATE); read the program's output from the result.</summary>
    public Iterator Open()
    {
        using FileDescriptor.Lease lease = RequireLink("open an iterator").Borrow();
        var attr = new IterCreateAttr { LinkFd = (uint)lease.Fd };
        return new Iterator(Bpf.CallForFd(BpfCommand.IterCreate, ref attr, $"iterator of {Description}"));
    }

    /// <summary>Runs a whole walk and returns its output as UTF-8 text.</summary>
    public string ReadAllText()
    {
        using Iterator iterator = Open();
        return iterator.ReadAllText();
    }
}

/// <summary>One walk of an iterator: a readable stream of what the program writes, ending when the walk ends.</summary>
public sealed class Iterator : IDisposable
{
    private readonly FileDescriptor _fd;

    internal Iterator(FileDescriptor fd)
    {
        _fd = fd;
    }

    /// <summary>Reads the next bytes into <paramref name="buffer"/>; 0 at the end of the walk.</summary>
    /// <exception cref="BpfException">The program failed the walk (it returned an error, or its output overflowed a page).</exception>
    public unsafe int Read(Span<byte> buffer)
    {
        using FileDescriptor.Lease lease = _fd.Borrow();
        while (true)
        {
            nint count;
            fixed (byte* p = buffer)
            {
                count = LibC.Read(lease.Fd, p, (nuint)buffer.Length);
            }
            if (count >= 0)
            {
                return (int)count;
            }
            Errno errno = Errors.LastErrno;
            if (errno == Errno.EINTR || errno == Errno.EAGAIN)
            {
                continue;
            }
            throw new BpfException("read", errno, $"reading {_fd.Description}", errno == Errno.E2BIG
                ? "one object's output is larger than a page (8 KiB on most systems); write less per object"
                : Errors.GenericHint(errno));
        }
    }

    /// <summary>Reads the rest of the walk.</summary>
    public byte[] ReadToEnd()
    {
        using var output = new MemoryStream();
        byte[] buffer = new byte[16 * 1024];
        int count;
        while ((count = Read(buffer)) > 0)
        {
            output.Write(buffer, 0, count);
        }
        return output.ToArray();
    }

    /// <summary>Reads the rest of the walk as UTF-8 text.</summary>
    public string ReadAllText() => Encoding.UTF8.GetString(ReadToEnd());

    /// <summary>Ends the walk.</summary>
    public void Dispose() => _fd.Dispose();
}
