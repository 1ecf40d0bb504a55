using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using BpfSharp.Kernel;

namespace BpfSharp.Cli.Tools.Writesnoop;

/// <summary>How a write was seen: which syscall tracepoint, or vfs_write itself (the <c>op</c> field of writesnoop.bpf.c's event).</summary>
internal enum WriteOperation : uint
{
    Write = 0,
    Pwrite64 = 1,
    Writev = 2,
    VfsWrite = 3,
}

/// <summary>
/// A view of writesnoop.bpf.c's <c>struct file_info</c>: a file's device, inode, type and the names walked up from
/// its dentry (the file's own name first). Reads straight from the record, so decoding allocates nothing.
/// </summary>
internal readonly ref struct FileInfoView
{
    internal const int NameLength = 64, MaxDepth = 8;
    internal const int Size = 24 + MaxDepth * NameLength;
    internal const uint PathTruncated = 1, NameTruncated = 2, PathPseudo = 4;

    private readonly ReadOnlySpan<byte> _bytes;

    internal FileInfoView(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < Size)
        {
            throw new ArgumentException($"a file_info record is {Size} bytes; got {bytes.Length}", nameof(bytes));
        }
        _bytes = bytes;
    }

    internal ulong Inode => MemoryMarshal.Read<ulong>(_bytes);
    internal uint Device => MemoryMarshal.Read<uint>(_bytes[8..]);
    internal uint RDevice => MemoryMarshal.Read<uint>(_bytes[12..]);
    internal ushort Mode => MemoryMarshal.Read<ushort>(_bytes[16..]);
    internal int Depth => Math.Min((int)MemoryMarshal.Read<ushort>(_bytes[18..]), MaxDepth);
    internal uint Flags => MemoryMarshal.Read<uint>(_bytes[20..]);
    internal bool Truncated => (Flags & (PathTruncated | NameTruncated)) != 0;

    /// <summary>Component <paramref name="index"/> counted from the file upwards, up to its NUL.</summary>
    internal ReadOnlySpan<byte> Name(int index)
    {
        return CString.Bytes(_bytes.Slice(24 + index * NameLength, NameLength));
    }

    /// <summary>"8:1": the filesystem's device as major:minor.</summary>
    internal string DeviceText
    {
        get
        {
            (uint major, uint minor) = FileIdentity.SplitKernelDevice(Device);
            return string.Create(CultureInfo.InvariantCulture, $"{major}:{minor}");
        }
    }

    /// <summary>The file type: reg, dir, fifo, sock, tty, chr, blk, lnk or anon (an inode with no type bits).</summary>
    internal string Type => TypeOf(Mode, RDevice);

    /// <summary>
    /// The path: components joined from the root down; "…/" in front when the walk stopped at its depth limit,
    /// "…" after a name cut short. Pipes and sockets have no path: "pipe:[INODE]", "socket:[INODE]" as /proc/PID/fd
    /// shows them; other internal files "anon_inode:NAME".
    /// </summary>
    internal string Path
    {
        get
        {
            int depth = Depth;
            if ((Flags & PathPseudo) != 0)
            {
                string inode = Inode.ToString(CultureInfo.InvariantCulture);
                return Type switch
                {
                    "fifo" => $"pipe:[{inode}]",
                    "sock" => $"socket:[{inode}]",
                    _ => depth > 0 && !Name(0).IsEmpty ? $"anon_inode:{Encoding.UTF8.GetString(Name(0))}" : $"anon_inode:[{inode}]",
                };
            }
            var path = new StringBuilder();
            if ((Flags & PathTruncated) != 0)
            {
                path.Append('…');
            }
            for (int i = depth - 1; i >= 0; i--)
            {
                path.Append('/');
                ReadOnlySpan<byte> name = Name(i);
                path.Append(Encoding.UTF8.GetString(name));
                if (name.Length == NameLength - 1 && (Flags & NameTruncated) != 0)
                {
                    path.Append('…');
                }
            }
            return path.Length == 0 ? "/" : path.ToString();
        }
    }

    /// <summary>The type of an inode from its i_mode, telling terminals (ttys, ptys, consoles) from other character devices by major number.</summary>
    internal static string TypeOf(ushort mode, uint rdev) => (mode & 0xf000) switch
    {
        0x8000 => "reg",
        0x4000 => "dir",
        0x1000 => "fifo",
        0xc000 => "sock",
        0xa000 => "lnk",
        0x6000 => "blk",
        0x2000 => IsTerminal(FileIdentity.SplitKernelDevice(rdev).Major) ? "tty" : "chr",
        _ => "anon",
    };

    // Documented major numbers (Documentation/admin-guide/devices.txt): 4 ttys, 5 /dev/tty and consoles and ptmx,
    // 136-143 Unix98 pty slaves.
    private static bool IsTerminal(uint major) => major is 4 or 5 or (>= 136 and <= 143);
}

/// <summary>A view of writesnoop.bpf.c's <c>struct event</c>: one write.</summary>
internal readonly ref struct WriteEventView
{
    internal const int FileOffset = 56;
    internal const int Size = FileOffset + FileInfoView.Size;

    private readonly ReadOnlySpan<byte> _bytes;

    internal WriteEventView(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < Size)
        {
            throw new ArgumentException($"a writesnoop event is {Size} bytes; got {bytes.Length}", nameof(bytes));
        }
        _bytes = bytes;
    }

    internal ulong TimestampNs => MemoryMarshal.Read<ulong>(_bytes);
    internal uint Pid => MemoryMarshal.Read<uint>(_bytes[8..]);
    internal uint Tid => MemoryMarshal.Read<uint>(_bytes[12..]);
    internal int Fd => MemoryMarshal.Read<int>(_bytes[16..]);
    internal WriteOperation Operation => (WriteOperation)MemoryMarshal.Read<uint>(_bytes[20..]);
    internal ulong Requested => MemoryMarshal.Read<ulong>(_bytes[24..]);
    internal long Returned => MemoryMarshal.Read<long>(_bytes[32..]);
    internal ReadOnlySpan<byte> Comm => CString.Bytes(_bytes.Slice(40, 16));
    internal FileInfoView File => new(_bytes[FileOffset..]);
}

/// <summary>A view of writesnoop.bpf.c's <c>struct file_total</c>: one file's writes, summed in BPF for --top.</summary>
internal readonly ref struct FileTotalView
{
    internal const int FileOffset = 48;
    internal const int Size = FileOffset + FileInfoView.Size;

    private readonly ReadOnlySpan<byte> _bytes;

    internal FileTotalView(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < Size)
        {
            throw new ArgumentException($"a writesnoop file total is {Size} bytes; got {bytes.Length}", nameof(bytes));
        }
        _bytes = bytes;
    }

    internal ulong Bytes => MemoryMarshal.Read<ulong>(_bytes);
    internal ulong Writes => MemoryMarshal.Read<ulong>(_bytes[8..]);
    internal ulong Requested => MemoryMarshal.Read<ulong>(_bytes[16..]);
    internal uint Pid => MemoryMarshal.Read<uint>(_bytes[24..]);
    internal ReadOnlySpan<byte> Comm => CString.Bytes(_bytes.Slice(28, 16));
    internal FileInfoView File => new(_bytes[FileOffset..]);
}

/// <summary>One file's totals, decoded for sorting and printing at the end of a --top run.</summary>
internal sealed record FileTotal(ulong Bytes, ulong Writes, ulong Requested, uint Pid, string Comm, string Device, ulong Inode, string Type, string Path, bool Truncated)
{
    internal static FileTotal From(ReadOnlySpan<byte> value)
    {
        var total = new FileTotalView(value);
        FileInfoView file = total.File;
        return new FileTotal(total.Bytes, total.Writes, total.Requested, total.Pid, Encoding.UTF8.GetString(total.Comm),
            file.DeviceText, file.Inode, file.Type, file.Path, file.Truncated);
    }
}
