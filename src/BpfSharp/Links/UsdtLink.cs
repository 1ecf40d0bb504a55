using BpfSharp.Elf;
using BpfSharp.Maps;
using BpfSharp.Programs;
using BpfSharp.Symbols;
using BpfSharp.Tracing;

namespace BpfSharp.Links;

/// <summary>Options of a USDT attachment.</summary>
public sealed record UsdtOptions
{
    /// <summary>Only this process triggers the probe (and a library name resolves to the file it mapped); null for every process.</summary>
    public int? Pid { get; init; }

    /// <summary>A user cookie the program reads with usdt.bpf.h's <c>bpf_usdt_cookie()</c>.</summary>
    public ulong Cookie { get; init; }

    /// <summary>
    /// The program's <c>__bpf_usdt_specs</c> map (an array of <c>struct __bpf_usdt_spec</c>): filled with one
    /// spec per distinct argument layout so that <c>bpf_usdt_arg()</c> can read the arguments, in the layout of
    /// the usdt.bpf.h the program was compiled with (its value size tells, see <see cref="UsdtSpec"/>). Null
    /// for a program that does not use usdt.bpf.h.
    /// </summary>
    public Map? SpecsMap { get; init; }

    /// <summary>
    /// The program's <c>__bpf_usdt_ip_to_spec_id</c> hash (address to spec id), which usdt.bpf.h
    /// consults only on kernels without BPF cookies; filled where the address is known (executables,
    /// or libraries with <see cref="Pid"/>).
    /// </summary>
    public Map? IpToSpecIdMap { get; init; }
}

/// <summary>
/// A program attached to every site of a USDT probe (<c>usdt/BINARY:PROVIDER:NAME</c>): one uprobe
/// per site, each with the spec id as its BPF cookie and the semaphore's file offset as its
/// reference counter (so the kernel turns the probe's is-enabled check on while attached), and
/// the specs written into the program's usdt.bpf.h maps. Disposing detaches every site and
/// removes the specs.
/// </summary>
public sealed class UsdtLink : Link
{
    private static readonly Dictionary<uint, HashSet<int>> SpecIdsInUse = [];
    private readonly List<UprobeLink> _sites;
    private readonly UsdtOptions _options;
    private readonly List<int> _specIds;
    private readonly List<long> _addresses;

    private UsdtLink(string description, IReadOnlyList<UsdtProbe> probes, List<UprobeLink> sites, UsdtOptions options, List<int> specIds, List<long> addresses)
        : base(null, description)
    {
        Probes = probes;
        _sites = sites;
        _options = options;
        _specIds = specIds;
        _addresses = addresses;
    }

    /// <summary>The probe sites attached to.</summary>
    public IReadOnlyList<UsdtProbe> Probes { get; }

    /// <summary>The uprobe of each site.</summary>
    public IReadOnlyList<UprobeLink> Sites => _sites;

    /// <summary>The spec ids used (the BPF cookies of the sites).</summary>
    public IReadOnlyList<int> SpecIds => _specIds;

    /// <summary>Attaches <paramref name="program"/> to every site of <paramref name="provider"/>:<paramref name="name"/> in <paramref name="binary"/>.</summary>
    /// <exception cref="BpfException">The file has no such probe, its arguments cannot be read by usdt.bpf.h, the spec map is full, or a uprobe was refused.</exception>
    public static UsdtLink Attach(Program program, string binary, string provider, string name, UsdtOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentException.ThrowIfNullOrEmpty(provider);
        ArgumentException.ThrowIfNullOrEmpty(name);
        options ??= new UsdtOptions();
        string path = SharedLibraries.Resolve(binary, options.Pid);
        IReadOnlyList<UsdtProbe> probes;
        bool isExecutable;
        using (ElfFile elf = ElfFile.Open(path))
        {
            probes = [.. UsdtProbe.ReadAll(elf).Where(p => p.Provider == provider && p.Name == name)];
            isExecutable = elf.Header.Type == ElfType.Executable;
        }
        if (probes.Count == 0)
        {
            throw new BpfException($"{path} has no USDT probe {provider}:{name} (list its probes with: readelf -n {path})");
        }
        string description = $"usdt link {provider}:{name} in {path} ({probes.Count} site{(probes.Count == 1 ? "" : "s")})";
        var sites = new List<UprobeLink>();
        var specIds = new List<int>();
        var addresses = new List<long>();
        var specByArguments = new Dictionary<string, int>(StringComparer.Ordinal);
        ProcessMaps? maps = options.Pid is int pid && !isExecutable ? ProcessMaps.Read(pid) : null;
        try
        {
            foreach (UsdtProbe probe in probes)
            {
                int specId;
                if (options.SpecsMap is null)
                {
                    specId = 0;
                }
                else if (!specByArguments.TryGetValue(probe.ArgumentText, out specId))
                {
                    byte[] spec = EncodeSpec(probe, options.Cookie, (int)options.SpecsMap.ValueSize);
                    specId = AllocateSpecId(options.SpecsMap);
                    specIds.Add(specId);
                    options.SpecsMap.Update(BitConverter.GetBytes(specId), spec);
                    specByArguments[probe.ArgumentText] = specId;
                }
                if (options.IpToSpecIdMap is not null && AbsoluteAddress(probe, path, isExecutable, maps) is long address)
                {
                    options.IpToSpecIdMap.Update(BitConverter.GetBytes(address), BitConverter.GetBytes(specId));
                    addresses.Add(address);
                }
                var uprobe = new UprobeOptions
                {
                    Pid = options.Pid,
                    Cookie = options.SpecsMap is null ? options.Cookie : (ulong)specId,
                    ReferenceCounterOffset = probe.SemaphoreFileOffset,
                };
                sites.Add(UprobeLink.AttachAtOffset(program, path, probe.FileOffset, uprobe, $"{path}:{provider}:{name}@0x{probe.FileOffset:x}"));
            }
        }
        catch
        {
            Cleanup(sites, options, specIds, addresses);
            throw;
        }
        return new UsdtLink(description, probes, sites, options, specIds, addresses);
    }

    private protected override void Release() => Cleanup(_sites, _options, _specIds, _addresses);

    private static IReadOnlyList<UsdtArgument> ParseArguments(UsdtProbe probe)
    {
        try
        {
            return probe.Arguments;
        }
        catch (FormatException e)
        {
            throw new BpfException($"the arguments of USDT probe {probe.Provider}:{probe.Name} ('{probe.ArgumentText}') cannot be parsed: {e.Message}", e);
        }
    }

    private static byte[] EncodeSpec(UsdtProbe probe, ulong cookie, int specSize)
    {
        try
        {
            return UsdtSpec.Encode(ParseArguments(probe), cookie, specSize);
        }
        catch (ArgumentException e)
        {
            throw new BpfException($"USDT probe {probe.Provider}:{probe.Name} ('{probe.ArgumentText}'): {e.Message}", e);
        }
    }

    private static long? AbsoluteAddress(UsdtProbe probe, string path, bool isExecutable, ProcessMaps? maps)
    {
        if (isExecutable)
        {
            return (long)probe.Address;
        }
        // A shared library or PIE: the address depends on where the process mapped the file.
        MemoryRegion? region = maps?.Regions.FirstOrDefault(r => r.Path == path && probe.FileOffset >= r.FileOffset && probe.FileOffset < r.FileOffset + r.Size);
        return region is null ? null : (long)(region.Start + probe.FileOffset - region.FileOffset);
    }

    private static int AllocateSpecId(Map specs)
    {
        lock (SpecIdsInUse)
        {
            if (!SpecIdsInUse.TryGetValue(specs.Id, out HashSet<int>? used))
            {
                SpecIdsInUse[specs.Id] = used = [];
            }
            for (int id = 0; id < specs.MaxEntries; id++)
            {
                if (used.Add(id))
                {
                    return id;
                }
            }
        }
        throw new BpfException($"the USDT spec map {specs} is full: all {specs.MaxEntries} spec ids are in use (raise BPF_USDT_MAX_SPEC_CNT)");
    }

    private static void Cleanup(List<UprobeLink> sites, UsdtOptions options, List<int> specIds, List<long> addresses)
    {
        foreach (UprobeLink site in sites)
        {
            site.Dispose();
        }
        sites.Clear();
        if (options.IpToSpecIdMap is Map ipMap && !ipMap.Fd.IsClosed)
        {
            addresses.ForEach(a => ipMap.TryDelete(BitConverter.GetBytes(a)));
        }
        if (options.SpecsMap is Map specs)
        {
            lock (SpecIdsInUse)
            {
                if (SpecIdsInUse.TryGetValue(specs.Id, out HashSet<int>? used))
                {
                    specIds.ForEach(id => used.Remove(id));
                }
            }
        }
        addresses.Clear();
        specIds.Clear();
    }
}
