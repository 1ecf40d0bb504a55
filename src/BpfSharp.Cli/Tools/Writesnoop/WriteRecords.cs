using System.Globalization;
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
/// writesnoop.bpf.c's <c>struct file_info</c> (the skeleton's <see cref="WritesnoopBpf.FileInfo"/>) as text: a file's
/// device, type and the path rebuilt from the names walked up from its dentry (the file's own name first). Reads the
/// struct in place, so only the strings it returns are allocated.
/// </summary>
internal static class FileInfoText
{
    /// <summary>Bytes kept of each path component, NUL included (NAME_LEN); components kept (MAX_DEPTH).</summary>
    internal const int NameLength = 64, MaxDepth = 8;

    /// <summary>file_info.flags: PATH_TRUNCATED, NAME_TRUNCATED and PATH_PSEUDO.</summary>
    internal const uint PathTruncated = 1, NameTruncated = 2, PathPseudo = 4;

    /// <summary>The components filled in, at most <see cref="MaxDepth"/>.</summary>
    internal static int Depth(in WritesnoopBpf.FileInfo file) => Math.Min((int)file.Depth, MaxDepth);

    /// <summary>The walk stopped at its depth limit, or a name was cut short.</summary>
    internal static bool Truncated(in WritesnoopBpf.FileInfo file) => (file.Flags & (PathTruncated | NameTruncated)) != 0;

    /// <summary>Component <paramref name="index"/> counted from the file upwards, up to its NUL.</summary>
    internal static ReadOnlySpan<byte> Name(in WritesnoopBpf.FileInfo file, int index) => CString.Bytes(file.Names[index]);

    /// <summary>"8:1": the filesystem's device as major:minor.</summary>
    internal static string Device(in WritesnoopBpf.FileInfo file)
    {
        (uint major, uint minor) = FileIdentity.SplitKernelDevice(file.Dev);
        return string.Create(CultureInfo.InvariantCulture, $"{major}:{minor}");
    }

    /// <summary>The file type: reg, dir, fifo, sock, tty, chr, blk, lnk or anon (an inode with no type bits).</summary>
    internal static string Type(in WritesnoopBpf.FileInfo file) => TypeOf(file.Mode, file.Rdev);

    /// <summary>
    /// The path: components joined from the root down; "…/" in front when the walk stopped at its depth limit,
    /// "…" after a name cut short. Pipes and sockets have no path: "pipe:[INODE]", "socket:[INODE]" as /proc/PID/fd
    /// shows them; other internal files "anon_inode:NAME".
    /// </summary>
    internal static string Path(in WritesnoopBpf.FileInfo file)
    {
        int depth = Depth(file);
        if ((file.Flags & PathPseudo) != 0)
        {
            string inode = file.Ino.ToString(CultureInfo.InvariantCulture);
            return Type(file) switch
            {
                "fifo" => $"pipe:[{inode}]",
                "sock" => $"socket:[{inode}]",
                _ => depth > 0 && !Name(file, 0).IsEmpty ? $"anon_inode:{Encoding.UTF8.GetString(Name(file, 0))}" : $"anon_inode:[{inode}]",
            };
        }
        var path = new StringBuilder();
        if ((file.Flags & PathTruncated) != 0)
        {
            path.Append('…');
        }
        for (int i = depth - 1; i >= 0; i--)
        {
            path.Append('/');
            ReadOnlySpan<byte> name = Name(file, i);
            path.Append(Encoding.UTF8.GetString(name));
            if (name.Length == NameLength - 1 && (file.Flags & NameTruncated) != 0)
            {
                path.Append('…');
            }
        }
        return path.Length == 0 ? "/" : path.ToString();
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

/// <summary>One file's totals, decoded for sorting and printing at the end of a --top run.</summary>
internal sealed record FileTotal(ulong Bytes, ulong Writes, ulong Requested, uint Pid, string Comm, string Device, ulong Inode, string Type, string Path, bool Truncated)
{
    /// <summary>Decodes writesnoop.bpf.c's <c>struct file_total</c>: one file's writes, summed in BPF for --top.</summary>
    internal static FileTotal From(in WritesnoopBpf.FileTotal total)
    {
        ref readonly WritesnoopBpf.FileInfo file = ref total.File;
        return new FileTotal(total.Bytes, total.Writes, total.Requested, total.Pid, total.Comm.ToString(),
            FileInfoText.Device(file), file.Ino, FileInfoText.Type(file), FileInfoText.Path(file), FileInfoText.Truncated(file));
    }
}
