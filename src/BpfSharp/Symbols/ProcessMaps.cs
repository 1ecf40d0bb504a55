using System.Globalization;

namespace BpfSharp.Symbols;

/// <summary>What a memory region of a process holds, as far as its /proc/PID/maps line tells.</summary>
public enum MemoryRegionKind
{
    /// <summary>Anonymous memory (mmap with no file, or BSS beyond a file's end).</summary>
    Anonymous,
    /// <summary>The [heap] (brk area).</summary>
    Heap,
    /// <summary>The main thread's [stack].</summary>
    Stack,
    /// <summary>A mapped file.</summary>
    File,
    /// <summary>A kernel-provided special mapping: [vdso], [vvar], [vsyscall], ...</summary>
    Special,
}

/// <summary>One line of /proc/PID/maps.</summary>
/// <param name="Start">First address.</param>
/// <param name="End">One past the last address.</param>
/// <param name="Permissions">The four permission characters, such as <c>r-xp</c>.</param>
/// <param name="FileOffset">The offset in the file where the region starts.</param>
/// <param name="Device">The file's device as major:minor (hex).</param>
/// <param name="Inode">The file's inode, 0 when anonymous.</param>
/// <param name="Path">The file path or pseudo name (<c>[heap]</c>), empty for anonymous memory.</param>
public sealed record MemoryRegion(ulong Start, ulong End, string Permissions, ulong FileOffset, string Device, ulong Inode, string Path)
{
    /// <summary>Size in bytes.</summary>
    public ulong Size => End - Start;

    /// <summary>Readable.</summary>
    public bool CanRead => Permissions.Length > 0 && Permissions[0] == 'r';

    /// <summary>Writable.</summary>
    public bool CanWrite => Permissions.Length > 1 && Permissions[1] == 'w';

    /// <summary>Executable.</summary>
    public bool CanExecute => Permissions.Length > 2 && Permissions[2] == 'x';

    /// <summary>What the region holds.</summary>
    public MemoryRegionKind Kind => Path switch
    {
        "" => MemoryRegionKind.Anonymous,
        "[heap]" => MemoryRegionKind.Heap,
        "[stack]" => MemoryRegionKind.Stack,
        _ when Path.StartsWith("[anon", StringComparison.Ordinal) => MemoryRegionKind.Anonymous,
        _ when Path.StartsWith('[') => MemoryRegionKind.Special,
        _ => MemoryRegionKind.File,
    };

    /// <summary>A short label: the path, or <c>[anon]</c> for anonymous memory.</summary>
    public string Label => Kind == MemoryRegionKind.Anonymous && Path.Length == 0 ? "[anon]" : Path;

    /// <summary>True when <paramref name="address"/> lies in the region.</summary>
    public bool Contains(ulong address) => address >= Start && address < End;

    /// <summary>The file offset of <paramref name="address"/> in a file-backed region.</summary>
    public ulong FileOffsetOf(ulong address) => address - Start + FileOffset;

    /// <summary>Parses one maps line.</summary>
    /// <exception cref="FormatException">The line is not in the maps format.</exception>
    public static MemoryRegion Parse(string line)
    {
        // 55927fff3000-55927fff5000 r--p 00000000 fe:00 247629     /usr/bin/head
        ReadOnlySpan<char> rest = line;
        ReadOnlySpan<char> range = NextField(ref rest);
        ReadOnlySpan<char> permissions = NextField(ref rest);
        ReadOnlySpan<char> offset = NextField(ref rest);
        ReadOnlySpan<char> device = NextField(ref rest);
        ReadOnlySpan<char> inode = NextField(ref rest);
        int dash = range.IndexOf('-');
        if (dash <= 0 || permissions.Length != 4
            || !ulong.TryParse(range[..dash], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong start)
            || !ulong.TryParse(range[(dash + 1)..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong end)
            || !ulong.TryParse(offset, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong fileOffset)
            || !ulong.TryParse(inode, NumberStyles.None, CultureInfo.InvariantCulture, out ulong inodeNumber))
        {
            throw new FormatException($"not a /proc/PID/maps line: '{line}'");
        }
        // The path is the remainder; it may contain spaces and may end in " (deleted)".
        return new MemoryRegion(start, end, permissions.ToString(), fileOffset, device.ToString(), inodeNumber, rest.Trim().ToString());
    }

    private static ReadOnlySpan<char> NextField(ref ReadOnlySpan<char> text)
    {
        text = text.TrimStart(' ');
        int space = text.IndexOf(' ');
        ReadOnlySpan<char> field = space < 0 ? text : text[..space];
        text = space < 0 ? [] : text[space..];
        return field;
    }
}

/// <summary>The memory map of a process (/proc/PID/maps), sorted by address for lookup.</summary>
public sealed class ProcessMaps
{
    private readonly MemoryRegion[] _regions;

    private ProcessMaps(int pid, MemoryRegion[] regions)
    {
        Pid = pid;
        _regions = regions;
    }

    /// <summary>The process, or -1 for maps parsed from text.</summary>
    public int Pid { get; }

    /// <summary>The regions in address order.</summary>
    public IReadOnlyList<MemoryRegion> Regions => _regions;

    /// <summary>Reads the current map of a process.</summary>
    /// <exception cref="BpfException">The process does not exist (any more), or its map cannot be read.</exception>
    public static ProcessMaps Read(int pid)
    {
        string path = $"/proc/{pid}/maps";
        try
        {
            return Parse(File.ReadAllText(path), pid);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new BpfException($"process {pid} does not exist (no {path})", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new BpfException($"cannot read {path}: run as root or as the process's owner", e);
        }
    }

    /// <summary>Parses the text of a maps file.</summary>
    public static ProcessMaps Parse(string text, int pid = -1)
    {
        var regions = new List<MemoryRegion>();
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            regions.Add(MemoryRegion.Parse(line));
        }
        regions.Sort(static (a, b) => a.Start.CompareTo(b.Start));
        return new ProcessMaps(pid, regions.ToArray());
    }

    /// <summary>The region containing <paramref name="address"/>, or null.</summary>
    public MemoryRegion? Find(ulong address)
    {
        int low = 0, high = _regions.Length - 1;
        while (low <= high)
        {
            int middle = low + (high - low) / 2;
            MemoryRegion region = _regions[middle];
            if (address < region.Start)
            {
                high = middle - 1;
            }
            else if (address >= region.End)
            {
                low = middle + 1;
            }
            else
            {
                return region;
            }
        }
        return null;
    }
}
