namespace BpfSharp.Kernel;

/// <summary>A process that holds a descriptor of a BPF object.</summary>
/// <param name="Pid">The process id.</param>
/// <param name="Command">The process's command name (<c>/proc/PID/comm</c>).</param>
public readonly record struct BpfObjectHolder(int Pid, string Command);

/// <summary>
/// What keeps BPF objects alive from user space, at one moment: the processes that hold descriptors of them and the
/// bpffs paths they are pinned at (what <c>bpftool</c> shows as <c>pids</c> and, with <c>-f</c>, <c>pinned</c>).
/// A program can also be kept alive by the kernel alone (a link, a legacy attachment, a program array): such a
/// program has neither.
/// </summary>
/// <remarks>
/// Holders are read from <c>/proc/PID/fd</c> and <c>/proc/PID/fdinfo</c>, where the kernel writes a BPF
/// descriptor's <c>prog_id</c>, <c>map_id</c> or <c>link_id</c>; pins by opening every file of every mounted
/// bpffs. Seeing other processes' descriptors needs root (or CAP_SYS_PTRACE); without it they are not listed.
/// </remarks>
public sealed class BpfObjectOwners
{
    private readonly Dictionary<(BpfObjectKind, uint), List<BpfObjectHolder>> _holders = [];
    private readonly Dictionary<(BpfObjectKind, uint), List<string>> _pins = [];

    private BpfObjectOwners()
    {
    }

    /// <summary>Reads every process's BPF descriptors and every bpffs pin.</summary>
    /// <param name="includePins">Also open every file of every mounted bpffs to find pins (false skips that walk).</param>
    public static BpfObjectOwners Scan(bool includePins = true)
    {
        var owners = new BpfObjectOwners();
        owners.ScanProcesses();
        if (includePins)
        {
            foreach (string mount in FileSystems.MountPoints("bpf").Distinct())
            {
                owners.ScanPins(mount);
            }
        }
        return owners;
    }

    /// <summary>The processes holding a descriptor of the object, by pid.</summary>
    public IReadOnlyList<BpfObjectHolder> Holders(BpfObjectKind kind, uint id) =>
        _holders.TryGetValue((kind, id), out List<BpfObjectHolder>? list) ? list : [];

    /// <summary>The bpffs paths the object is pinned at, in path order.</summary>
    public IReadOnlyList<string> Pins(BpfObjectKind kind, uint id) =>
        _pins.TryGetValue((kind, id), out List<string>? list) ? list : [];

    private void ScanProcesses()
    {
        foreach (string processDirectory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(processDirectory), out int pid))
            {
                continue;
            }
            string? command = null;
            IEnumerable<string> descriptors;
            try
            {
                descriptors = Directory.EnumerateFiles(Path.Combine(processDirectory, "fd")).ToList();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue; // the process exited, or its descriptors are not ours to see
            }
            foreach (string descriptor in descriptors)
            {
                (BpfObjectKind Kind, uint Id)? target = ReadDescriptor(descriptor, Path.Combine(processDirectory, "fdinfo", Path.GetFileName(descriptor)));
                if (target is not { } found)
                {
                    continue;
                }
                command ??= ReadCommand(processDirectory);
                List<BpfObjectHolder> list = ListFor(_holders, found);
                if (list.Count == 0 || list[^1].Pid != pid)
                {
                    list.Add(new BpfObjectHolder(pid, command));
                }
            }
        }
    }

    private void ScanPins(string mount)
    {
        IEnumerable<string> files;
        try
        {
            files = Directory.EnumerateFiles(mount, "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 });
            files = files.ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }
        foreach (string path in files.Order(StringComparer.Ordinal))
        {
            FileDescriptor fd;
            try
            {
                fd = Bpf.ObjGet(path, "object");
            }
            catch (BpfException)
            {
                continue; // unpinned meanwhile, or not a BPF object
            }
            using (fd)
            {
                using FileDescriptor.Lease lease = fd.Borrow();
                if (ReadDescriptor($"/proc/self/fd/{lease.Fd}", $"/proc/self/fdinfo/{lease.Fd}") is { } found)
                {
                    ListFor(_pins, found).Add(path);
                }
            }
        }
    }

    /// <summary>The kind and id of the BPF object behind a descriptor, from its link target and fdinfo; null for anything else.</summary>
    private static (BpfObjectKind Kind, uint Id)? ReadDescriptor(string descriptorPath, string fdinfoPath)
    {
        string? target;
        try
        {
            target = new FileInfo(descriptorPath).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        BpfObjectKind kind = BpfObjectKinds.OfInodeName(target);
        // A link's fdinfo names its program too, so the key must be the one of the descriptor's own kind.
        string? key = kind switch
        {
            BpfObjectKind.Program => "prog_id:",
            BpfObjectKind.Map => "map_id:",
            BpfObjectKind.Link => "link_id:",
            _ => null,
        };
        if (key is null)
        {
            return null;
        }
        try
        {
            foreach (string line in File.ReadLines(fdinfoPath))
            {
                if (line.StartsWith(key, StringComparison.Ordinal) && uint.TryParse(line.AsSpan(key.Length).Trim(), out uint id))
                {
                    return (kind, id);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // closed meanwhile
        }
        return null;
    }

    private static string ReadCommand(string processDirectory)
    {
        try
        {
            return File.ReadAllText(Path.Combine(processDirectory, "comm")).TrimEnd('\n');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    private static List<T> ListFor<T>(Dictionary<(BpfObjectKind, uint), List<T>> lists, (BpfObjectKind, uint) key)
    {
        if (!lists.TryGetValue(key, out List<T>? list))
        {
            lists[key] = list = [];
        }
        return list;
    }
}
