namespace BpfSharp.Symbols;

/// <summary>A user-space address of a process, resolved as far as its mappings and the mapped file's symbols allow.</summary>
/// <param name="Address">The address in the process.</param>
/// <param name="Function">The function containing it, or null when no symbol does.</param>
/// <param name="Offset">The offset into <paramref name="Function"/>.</param>
/// <param name="Module">The file name of the mapping holding the address (<c>libc.so.6</c>), or its pseudo name
/// (<c>[vdso]</c>), or null when no mapping holds it.</param>
/// <param name="ModuleAddress">The address in the module: the ELF virtual address (what <c>nm</c> and <c>addr2line</c>
/// use) when the file could be read, else the file offset.</param>
public readonly record struct UserFrame(ulong Address, string? Function, ulong Offset, string? Module, ulong ModuleAddress)
{
    /// <summary>True when a function symbol was found.</summary>
    public bool IsResolved => Function is not null;

    /// <summary>The function name; else <c>module+0xoffset</c>; else <c>[unknown]</c>.</summary>
    public override string ToString() => Function ?? (Module is null ? "[unknown]" : $"{Module}+0x{ModuleAddress:x}");
}

/// <summary>
/// Function symbols of ELF files, kept per file (path and inode) so that every process mapping the same library
/// shares one table. A file that cannot be read or is not ELF is remembered as such and not tried again.
/// Thread-safe.
/// </summary>
public sealed class ModuleSymbolCache
{
    private readonly Dictionary<(string Path, ulong Inode), ModuleSymbols?> _modules = [];
    private readonly Lock _lock = new();

    /// <summary>How many files were looked at (read or found unreadable).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _modules.Count;
            }
        }
    }

    /// <summary>
    /// The symbols of the file a process maps as <paramref name="path"/> (inode <paramref name="inode"/>), read from
    /// the first of <paramref name="candidates"/> that can be read; null when none can (then it is not tried again).
    /// </summary>
    public ModuleSymbols? Get(string path, ulong inode, IEnumerable<string> candidates)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(candidates);
        lock (_lock)
        {
            if (_modules.TryGetValue((path, inode), out ModuleSymbols? known))
            {
                return known;
            }
        }
        ModuleSymbols? loaded = null;
        foreach (string candidate in candidates)
        {
            try
            {
                loaded = ModuleSymbols.Load(candidate);
                break;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or Elf.ElfException)
            {
                // try the next place, else the frames stay module+offset
            }
        }
        lock (_lock)
        {
            // Another thread may have read it meanwhile; keep the first.
            if (_modules.TryGetValue((path, inode), out ModuleSymbols? raced))
            {
                return raced;
            }
            _modules[(path, inode)] = loaded;
            return loaded;
        }
    }
}

/// <summary>
/// Turns user-space addresses of one process into function names, the way profilers and stack-printing tracers
/// need: the address's mapping (from /proc/PID/maps), its file offset (<c>address - mapping start + mapping
/// offset</c>), the virtual address in the file through the PT_LOAD segment holding that offset (which handles
/// position-independent executables and shared libraries alike), then the function symbol containing it.
/// The mappings are read when this object is made, so make it while the process is alive; files are read on first
/// use, through the process's root (/proc/PID/root) when it can be read, so containers resolve too.
/// </summary>
public sealed class ProcessSymbols
{
    private readonly ModuleSymbolCache _cache;
    private readonly string? _root;

    private ProcessSymbols(ProcessMaps maps, ModuleSymbolCache cache, string? root)
    {
        Maps = maps;
        _cache = cache;
        _root = root;
    }

    /// <summary>The process, or -1 for mappings given as text.</summary>
    public int Pid => Maps.Pid;

    /// <summary>The mappings the addresses are resolved against.</summary>
    public ProcessMaps Maps { get; }

    /// <summary>Reads the mappings of a live process.</summary>
    /// <param name="pid">The process.</param>
    /// <param name="cache">Symbol tables shared with other processes (a new cache when null).</param>
    /// <exception cref="BpfException">The process does not exist (any more), or its mappings cannot be read.</exception>
    public static ProcessSymbols Read(int pid, ModuleSymbolCache? cache = null) =>
        new(ProcessMaps.Read(pid), cache ?? new ModuleSymbolCache(), $"/proc/{pid}/root");

    /// <summary>Resolves against mappings read earlier (or parsed from text); files are opened at their paths as given.</summary>
    public static ProcessSymbols FromMaps(ProcessMaps maps, ModuleSymbolCache? cache = null)
    {
        ArgumentNullException.ThrowIfNull(maps);
        return new(maps, cache ?? new ModuleSymbolCache(), maps.Pid > 0 ? $"/proc/{maps.Pid}/root" : null);
    }

    /// <summary>Resolves <paramref name="address"/>; never fails, an unknown address gives an unresolved frame.</summary>
    public UserFrame Resolve(ulong address)
    {
        MemoryRegion? region = Maps.Find(address);
        if (region is null)
        {
            return new UserFrame(address, null, 0, null, 0);
        }
        ulong fileOffset = region.FileOffsetOf(address);
        if (region.Kind != MemoryRegionKind.File)
        {
            return new UserFrame(address, null, 0, region.Label, address - region.Start);
        }
        string path = region.Path;
        bool deleted = path.EndsWith(" (deleted)", StringComparison.Ordinal);
        ModuleSymbols? module = deleted ? null : _cache.Get(path, region.Inode, Candidates(path));
        string name = Path.GetFileName(deleted ? path[..^" (deleted)".Length] : path);
        if (module is null || !module.TryGetVirtualAddress(fileOffset, out ulong virtualAddress))
        {
            return new UserFrame(address, null, 0, name, fileOffset);
        }
        return module.TryResolve(virtualAddress, out FunctionSymbol function, out ulong offset)
            ? new UserFrame(address, function.Name, offset, name, virtualAddress)
            : new UserFrame(address, null, 0, name, virtualAddress);
    }

    /// <summary>The address as a function name, <c>module+0xoffset</c> or <c>[unknown]</c>.</summary>
    public string Describe(ulong address) => Resolve(address).ToString();

    private IEnumerable<string> Candidates(string path)
    {
        if (_root is not null)
        {
            yield return _root + path;
        }
        yield return path;
    }
}
