using System.Text;

namespace BpfSharp.Kernel;

/// <summary>
/// bpf(2): one generic invoker for every command, and the wrappers that maps, programs, links
/// and BTF objects share (pin, get, ids, info). Command-specific wrappers live with their objects.
/// </summary>
internal static unsafe class Bpf
{
    /// <summary>Issues <paramref name="command"/> with <paramref name="attr"/>; returns the result or throws.</summary>
    internal static int Call<TAttr>(BpfCommand command, ref TAttr attr, string? context = null)
        where TAttr : unmanaged
    {
        int result = TryCall(command, ref attr, out Errno errno);
        if (result < 0)
        {
            throw Errors.ForCommand(command, errno, context);
        }
        return result;
    }

    /// <summary>Issues a command; returns a negative value and the errno on failure, without throwing.</summary>
    internal static int TryCall<TAttr>(BpfCommand command, ref TAttr attr, out Errno errno)
        where TAttr : unmanaged
    {
        while (true)
        {
            long result;
            fixed (TAttr* pointer = &attr)
            {
                result = LibC.Syscall(SyscallNumbers.Bpf, (nint)command, (nint)pointer, sizeof(TAttr), 0, 0);
            }
            if (result >= 0)
            {
                errno = Errno.None;
                return (int)result;
            }
            errno = Errors.LastErrno;
            // A signal can interrupt a long verification or a blocking command; retrying is what
            // every BPF loader does. EAGAIN from PROG_LOAD is the verifier running out of time
            // budget under memory pressure, also worth a retry.
            if (errno == Errno.EINTR || errno == Errno.EAGAIN && command == BpfCommand.ProgLoad)
            {
                continue;
            }
            return -1;
        }
    }

    /// <summary>Issues a command that returns a new file descriptor, and takes ownership of it.</summary>
    internal static FileDescriptor CallForFd<TAttr>(BpfCommand command, ref TAttr attr, string description)
        where TAttr : unmanaged
    {
        int fd = Call(command, ref attr, description);
        return new FileDescriptor(fd, description);
    }

    /// <summary>Pins an object to a bpffs path (BPF_OBJ_PIN).</summary>
    internal static void ObjPin(FileDescriptor fd, string path)
    {
        byte[] pathBytes = NullTerminated(path);
        using FileDescriptor.Lease lease = fd.Borrow();
        fixed (byte* p = pathBytes)
        {
            var attr = new ObjAttr { Pathname = (ulong)p, BpfFd = (uint)lease.Fd };
            Call(BpfCommand.ObjPin, ref attr, $"pinning {fd.Description} at {path}");
        }
    }

    /// <summary>Opens an object pinned at a bpffs path (BPF_OBJ_GET).</summary>
    internal static FileDescriptor ObjGet(string path, string description, ObjectAccess access = ObjectAccess.ReadWrite)
    {
        byte[] pathBytes = NullTerminated(path);
        fixed (byte* p = pathBytes)
        {
            var attr = new ObjAttr { Pathname = (ulong)p, FileFlags = (uint)access };
            return CallForFd(BpfCommand.ObjGet, ref attr, $"{description} pinned at {path}");
        }
    }

    /// <summary>
    /// The next object id after <paramref name="start"/> (one of the *_GET_NEXT_ID commands),
    /// or false when there is none.
    /// </summary>
    internal static bool TryGetNextId(BpfCommand command, uint start, out uint next)
    {
        var attr = new GetIdAttr { StartOrObjectId = start };
        if (TryCall(command, ref attr, out Errno errno) < 0)
        {
            if (errno == Errno.ENOENT)
            {
                next = 0;
                return false;
            }
            throw Errors.ForCommand(command, errno, "enumerating object ids");
        }
        next = attr.NextId;
        return true;
    }

    /// <summary>Every id of one object kind, in ascending order.</summary>
    internal static List<uint> AllIds(BpfCommand nextIdCommand)
    {
        var ids = new List<uint>();
        uint id = 0;
        while (TryGetNextId(nextIdCommand, id, out id))
        {
            ids.Add(id);
        }
        return ids;
    }

    /// <summary>Opens an object by its id (one of the *_GET_FD_BY_ID commands).</summary>
    internal static FileDescriptor GetFdById(BpfCommand command, uint id, string description, uint openFlags = 0)
    {
        var attr = new GetIdAttr { StartOrObjectId = id, OpenFlags = openFlags };
        return CallForFd(command, ref attr, $"{description} id {id}");
    }

    /// <summary>
    /// Opens an object by its id, or returns null when no object has that id any more: listings are snapshots of a
    /// moving system, and an object freed between listing and opening is simply gone.
    /// </summary>
    internal static FileDescriptor? TryGetFdById(BpfCommand command, uint id, string description)
    {
        var attr = new GetIdAttr { StartOrObjectId = id };
        int fd = TryCall(command, ref attr, out Errno errno);
        if (fd < 0)
        {
            return errno == Errno.ENOENT ? null : throw Errors.ForCommand(command, errno, $"opening {description} id {id}");
        }
        return new FileDescriptor(fd, $"{description} id {id}");
    }

    /// <summary>Fills <paramref name="info"/> for an object (BPF_OBJ_GET_INFO_BY_FD); returns the length the kernel wrote.</summary>
    internal static uint GetInfo<TInfo>(FileDescriptor fd, ref TInfo info) where TInfo : unmanaged
    {
        using FileDescriptor.Lease lease = fd.Borrow();
        fixed (TInfo* p = &info)
        {
            var attr = new InfoAttr { BpfFd = (uint)lease.Fd, InfoLen = (uint)sizeof(TInfo), Info = (ulong)p };
            Call(BpfCommand.ObjGetInfoByFd, ref attr, $"reading info of {fd.Description}");
            return attr.InfoLen;
        }
    }

    /// <summary>
    /// Turns on run-time statistics (run_time_ns, run_cnt) for every program while the returned
    /// descriptor is open (BPF_ENABLE_STATS).
    /// </summary>
    internal static FileDescriptor EnableStats()
    {
        var attr = new EnableStatsAttr { Type = 0 /* BPF_STATS_RUN_TIME */ };
        return CallForFd(BpfCommand.EnableStats, ref attr, "run-time statistics");
    }

    /// <summary>An object name as the kernel stores it: at most 15 bytes, NUL padded.</summary>
    internal static void WriteObjectName(string? name, byte* destination)
    {
        new Span<byte>(destination, BpfLimits.ObjectNameLength).Clear();
        if (string.IsNullOrEmpty(name))
        {
            return;
        }
        int length = Math.Min(Encoding.UTF8.GetByteCount(name), BpfLimits.ObjectNameLength - 1);
        Span<byte> bytes = stackalloc byte[Encoding.UTF8.GetByteCount(name)];
        Encoding.UTF8.GetBytes(name, bytes);
        bytes[..length].CopyTo(new Span<byte>(destination, length));
    }

    /// <summary>Reads a NUL-terminated name from a fixed buffer.</summary>
    internal static string ReadObjectName(byte* source, int capacity = BpfLimits.ObjectNameLength)
    {
        var span = new ReadOnlySpan<byte>(source, capacity);
        int end = span.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? span : span[..end]);
    }

    internal static byte[] NullTerminated(string text)
    {
        byte[] bytes = new byte[Encoding.UTF8.GetByteCount(text) + 1];
        Encoding.UTF8.GetBytes(text, bytes);
        return bytes;
    }
}

/// <summary>How an object opened from a pin or an id may be used (<c>BPF_F_RDONLY</c>, <c>BPF_F_WRONLY</c>).</summary>
public enum ObjectAccess : uint
{
    /// <summary>Read and write.</summary>
    ReadWrite = 0,
    /// <summary>Read only (<c>BPF_F_RDONLY</c>).</summary>
    ReadOnly = 1 << 3,
    /// <summary>Write only (<c>BPF_F_WRONLY</c>).</summary>
    WriteOnly = 1 << 4,
}
