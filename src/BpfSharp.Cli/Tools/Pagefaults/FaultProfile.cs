using System.Runtime.InteropServices;
using System.Text;
using BpfSharp.Symbols;

namespace BpfSharp.Cli.Tools.Pagefaults;

/// <summary>Fault counters of one page or one region.</summary>
internal struct FaultCounts
{
    internal ulong Reads;
    internal ulong Writes;
    internal ulong Execs;

    internal readonly ulong Faults => Reads + Writes + Execs;

    internal void Add(FaultAccess access)
    {
        switch (access)
        {
            case FaultAccess.Write:
                Writes++;
                break;
            case FaultAccess.Execute:
                Execs++;
                break;
            default:
                Reads++;
                break;
        }
    }

    internal void Add(in FaultCounts other)
    {
        Reads += other.Reads;
        Writes += other.Writes;
        Execs += other.Execs;
    }
}

/// <summary>One mapping of a traced process, faults counted in it, as the summary table and the JSON show it.</summary>
/// <param name="Pid">The process.</param>
/// <param name="Start">First address.</param>
/// <param name="End">One past the last address.</param>
/// <param name="Path">The file, or <c>[anon]</c>, <c>[heap]</c>, <c>[stack]</c>, another kernel name, or <c>[unmapped]</c> for faults outside every known mapping.</param>
/// <param name="Counts">Faults by access.</param>
/// <param name="Pages">Distinct pages that faulted.</param>
internal sealed record RegionSummary(int Pid, ulong Start, ulong End, string Path, FaultCounts Counts, ulong Pages)
{
    internal ulong Faults => Counts.Faults;
}

/// <summary>
/// Everything the tool learns: faults per page (and per page and time slot, for the heatmap), the mappings of each
/// traced process as the BPF side and /proc/PID/maps report them over time, and totals. Mappings come and go while
/// a process runs, so the profile keeps every mapping it ever saw and attributes a page to the most recently seen
/// mapping that holds it: a process that already exited is still summarized by the map it had.
/// </summary>
internal sealed class FaultProfile
{
    /// <summary>Where a mapping's description came from; /proc/PID/maps has full paths, the BPF side only base names.</summary>
    private enum RegionSource
    {
        Bpf,
        Proc,
    }

    private sealed class KnownRegion(ulong start, ulong end, ulong inode, string path, RegionSource source, long seen)
    {
        internal ulong Start { get; } = start;
        internal ulong End { get; } = end;
        internal ulong Inode { get; } = inode;
        internal string Path { get; set; } = path;
        internal RegionSource Source { get; set; } = source;
        internal long Seen { get; set; } = seen;
    }

    private readonly record struct PageKey(int Tgid, ulong Page);

    private readonly record struct HeatKey(ulong Page, uint Slot);

    /// <summary>The most heat cells kept before the time slots are made twice as wide.</summary>
    internal const int MaxHeatCells = 1 << 21;

    private readonly Dictionary<PageKey, FaultCounts> _pages = [];
    private readonly Dictionary<int, List<KnownRegion>> _regions = [];
    private readonly Dictionary<int, (ulong Start, ulong End, KnownRegion Region)[]> _flattened = [];
    private readonly Dictionary<HeatKey, uint> _heat;
    private readonly bool _keepHeat;
    private readonly int _pageShift;
    private long _sequence;
    private FaultCounts _total;
    private ulong _protectionFaults;

    /// <param name="startNs">CLOCK_MONOTONIC nanoseconds when tracing started: time 0 of the heatmap.</param>
    /// <param name="keepHeat">Keep counts per page and time slot (only the heatmap needs them).</param>
    /// <param name="pageSize">The page size (a power of two).</param>
    internal FaultProfile(ulong startNs, bool keepHeat, int pageSize = 4096)
    {
        if (pageSize <= 0 || (pageSize & (pageSize - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(pageSize), pageSize, "the page size must be a power of two");
        }
        StartNs = startNs;
        _keepHeat = keepHeat;
        _heat = keepHeat ? new Dictionary<HeatKey, uint>(1024) : [];
        _pageShift = System.Numerics.BitOperations.Log2((uint)pageSize);
        PageSize = pageSize;
    }

    /// <summary>CLOCK_MONOTONIC nanoseconds of time 0.</summary>
    internal ulong StartNs { get; }

    /// <summary>The page size.</summary>
    internal int PageSize { get; }

    /// <summary>The width of a heatmap time slot, in nanoseconds (starts at 1 ms, doubles to bound memory).</summary>
    internal ulong SlotNs { get; private set; } = 1_000_000;

    /// <summary>The latest fault time seen, in nanoseconds after <see cref="StartNs"/>.</summary>
    internal ulong LastFaultNs { get; private set; }

    /// <summary>All faults.</summary>
    internal FaultCounts Total => _total;

    /// <summary>Faults on present pages (protection faults, such as copy-on-write).</summary>
    internal ulong ProtectionFaults => _protectionFaults;

    /// <summary>Distinct pages (per process) that faulted.</summary>
    internal int PageCount => _pages.Count;

    /// <summary>Counts one fault. Allocates only when a page is seen for the first time (dictionary growth).</summary>
    internal void AddFault(int tgid, ulong address, ulong timeNs, uint errorCode)
    {
        FaultAccess access = FaultErrorCode.Access(errorCode);
        ulong page = address >> _pageShift;
        CollectionsMarshal.GetValueRefOrAddDefault(_pages, new PageKey(tgid, page), out _).Add(access);
        _total.Add(access);
        if (FaultErrorCode.IsProtection(errorCode))
        {
            _protectionFaults++;
        }
        ulong relative = timeNs > StartNs ? timeNs - StartNs : 0;
        if (relative > LastFaultNs)
        {
            LastFaultNs = relative;
        }
        if (_keepHeat)
        {
            uint slot = (uint)Math.Min(relative / SlotNs, uint.MaxValue);
            CollectionsMarshal.GetValueRefOrAddDefault(_heat, new HeatKey(page, slot), out _)++;
            if (_heat.Count > MaxHeatCells)
            {
                WidenSlots();
            }
        }
    }

    /// <summary>A mapping reported by the BPF side (base name only, for file mappings).</summary>
    internal void AddRegion(int tgid, ulong start, ulong end, ulong inode, string name) =>
        Remember(tgid, start, end, inode, name, RegionSource.Bpf);

    /// <summary>The mappings read from /proc/PID/maps: all of them are current now.</summary>
    internal void AddRegions(int tgid, ProcessMaps maps)
    {
        foreach (MemoryRegion region in maps.Regions)
        {
            Remember(tgid, region.Start, region.End, region.Inode, region.Label, RegionSource.Proc);
        }
    }

    /// <summary>True when some known mapping of <paramref name="tgid"/> holds <paramref name="address"/>.</summary>
    internal bool IsMapped(int tgid, ulong address) => FindRegion(tgid, address) is not null;

    /// <summary>The path of the mapping that holds <paramref name="address"/> now, or null.</summary>
    internal string? RegionPath(int tgid, ulong address) => FindRegion(tgid, address)?.Path;

    /// <summary>The faults of every mapping that had some, hottest first; faults outside every known mapping are grouped as <c>[unmapped]</c>.</summary>
    internal List<RegionSummary> Summarize()
    {
        var sums = new Dictionary<KnownRegion, (FaultCounts Counts, ulong Pages)>(ReferenceEqualityComparer.Instance);
        var unmapped = new Dictionary<int, (FaultCounts Counts, ulong Pages, ulong Low, ulong High)>();
        foreach ((PageKey key, FaultCounts counts) in _pages)
        {
            ulong address = key.Page << _pageShift;
            if (FindRegion(key.Tgid, address) is KnownRegion region)
            {
                ref (FaultCounts Counts, ulong Pages) sum = ref CollectionsMarshal.GetValueRefOrAddDefault(sums, region, out _);
                sum.Counts.Add(counts);
                sum.Pages++;
            }
            else
            {
                ref (FaultCounts Counts, ulong Pages, ulong Low, ulong High) sum = ref CollectionsMarshal.GetValueRefOrAddDefault(unmapped, key.Tgid, out bool exists);
                if (!exists)
                {
                    sum.Low = address;
                }
                sum.Counts.Add(counts);
                sum.Pages++;
                sum.Low = Math.Min(sum.Low, address);
                sum.High = Math.Max(sum.High, address + (ulong)PageSize);
            }
        }
        // Snapshots of one mapping taken as it grew or shrank overlap: report them as one region.
        var found = new List<RegionSummary>(sums.Count);
        foreach ((int tgid, List<KnownRegion> regions) in _regions)
        {
            foreach (KnownRegion region in regions)
            {
                if (sums.TryGetValue(region, out (FaultCounts Counts, ulong Pages) sum))
                {
                    found.Add(new RegionSummary(tgid, region.Start, region.End, region.Path, sum.Counts, sum.Pages));
                }
            }
        }
        found.Sort(static (a, b) => a.Pid != b.Pid ? a.Pid.CompareTo(b.Pid)
            : string.CompareOrdinal(a.Path, b.Path) is int byPath and not 0 ? byPath
            : a.Start.CompareTo(b.Start));
        var result = new List<RegionSummary>(found.Count + unmapped.Count);
        foreach (RegionSummary region in found)
        {
            if (result.Count > 0 && result[^1] is RegionSummary last && last.Pid == region.Pid && last.Path == region.Path && region.Start < last.End)
            {
                FaultCounts counts = last.Counts;
                counts.Add(region.Counts);
                result[^1] = last with { End = Math.Max(last.End, region.End), Counts = counts, Pages = last.Pages + region.Pages };
            }
            else
            {
                result.Add(region);
            }
        }
        foreach ((int tgid, (FaultCounts counts, ulong pages, ulong low, ulong high)) in unmapped)
        {
            result.Add(new RegionSummary(tgid, low, high, "[unmapped]", counts, pages));
        }
        result.Sort(static (a, b) => b.Faults != a.Faults ? b.Faults.CompareTo(a.Faults) : a.Start.CompareTo(b.Start));
        return result;
    }

    /// <summary>
    /// The heat cells: (page, time slot) with their fault counts, and the mapping of each page (for row labels).
    /// Empty unless the profile was made with <c>keepHeat</c>.
    /// </summary>
    internal IEnumerable<(ulong Address, uint Slot, uint Count)> HeatCells()
    {
        foreach ((HeatKey key, uint count) in _heat)
        {
            yield return (key.Page << _pageShift, key.Slot, count);
        }
    }

    /// <summary>The mapping (any process) that holds <paramref name="address"/>, for labelling heatmap rows.</summary>
    internal (ulong Start, ulong End, string Path)? RegionOfAnyProcess(ulong address)
    {
        foreach (int tgid in _regions.Keys)
        {
            if (FindRegion(tgid, address) is KnownRegion region)
            {
                return (region.Start, region.End, region.Path);
            }
        }
        return null;
    }

    private void WidenSlots()
    {
        // Twice as wide slots, half as many cells (at least for a steady stream): memory stays bounded however long the run.
        var merged = new Dictionary<HeatKey, uint>(_heat.Count / 2 + 1);
        foreach ((HeatKey key, uint count) in _heat)
        {
            CollectionsMarshal.GetValueRefOrAddDefault(merged, new HeatKey(key.Page, key.Slot / 2), out _) += count;
        }
        _heat.Clear();
        foreach ((HeatKey key, uint count) in merged)
        {
            _heat[key] = count;
        }
        SlotNs *= 2;
    }

    private void Remember(int tgid, ulong start, ulong end, ulong inode, string path, RegionSource source)
    {
        if (end <= start)
        {
            return;
        }
        long seen = ++_sequence;
        if (!_regions.TryGetValue(tgid, out List<KnownRegion>? regions))
        {
            _regions[tgid] = regions = [];
        }
        _flattened.Remove(tgid);
        foreach (KnownRegion known in regions)
        {
            if (known.Start == start && known.End == end && known.Inode == inode)
            {
                known.Seen = seen;
                // A full path from /proc beats the BPF side's base name; the kernel's own name for a special mapping beats "[special]".
                if (source == RegionSource.Proc || known.Source == RegionSource.Bpf)
                {
                    if (source == RegionSource.Proc || !IsBaseNameOf(path, known.Path))
                    {
                        known.Path = path;
                    }
                    known.Source = source;
                }
                return;
            }
        }
        // A BPF report of a mapping /proc already described under the same inode keeps the full path.
        if (source == RegionSource.Bpf && inode != 0)
        {
            foreach (KnownRegion known in regions)
            {
                if (known.Inode == inode && known.Source == RegionSource.Proc && IsBaseNameOf(path, known.Path))
                {
                    path = known.Path;
                    break;
                }
            }
        }
        regions.Add(new KnownRegion(start, end, inode, path, source, seen));
    }

    private static bool IsBaseNameOf(string name, string path) =>
        path.Length > name.Length && path.EndsWith(name, StringComparison.Ordinal) && path[path.Length - name.Length - 1] == '/';

    private KnownRegion? FindRegion(int tgid, ulong address)
    {
        if (!_flattened.TryGetValue(tgid, out (ulong Start, ulong End, KnownRegion Region)[]? segments))
        {
            if (!_regions.TryGetValue(tgid, out List<KnownRegion>? regions))
            {
                return null;
            }
            _flattened[tgid] = segments = Flatten(regions);
        }
        int low = 0, high = segments.Length - 1;
        while (low <= high)
        {
            int middle = low + (high - low) / 2;
            if (address < segments[middle].Start)
            {
                high = middle - 1;
            }
            else if (address >= segments[middle].End)
            {
                low = middle + 1;
            }
            else
            {
                return segments[middle].Region;
            }
        }
        return null;
    }

    /// <summary>
    /// The address ranges of the known mappings with overlaps resolved in favour of the most recently seen: a sweep
    /// over the region boundaries with the regions open at each point ordered by when they were seen, O(n log n).
    /// </summary>
    private static (ulong Start, ulong End, KnownRegion Region)[] Flatten(List<KnownRegion> regions)
    {
        var boundaries = new List<(ulong At, bool Opens, KnownRegion Region)>(regions.Count * 2);
        foreach (KnownRegion region in regions)
        {
            boundaries.Add((region.Start, true, region));
            boundaries.Add((region.End, false, region));
        }
        boundaries.Sort(static (a, b) => a.At.CompareTo(b.At));
        var open = new SortedSet<KnownRegion>(Comparer<KnownRegion>.Create(static (a, b) => a.Seen.CompareTo(b.Seen)));
        var segments = new List<(ulong Start, ulong End, KnownRegion Region)>();
        for (int i = 0; i < boundaries.Count;)
        {
            ulong at = boundaries[i].At;
            for (; i < boundaries.Count && boundaries[i].At == at; i++)
            {
                if (boundaries[i].Opens)
                {
                    open.Add(boundaries[i].Region);
                }
                else
                {
                    open.Remove(boundaries[i].Region);
                }
            }
            if (open.Count == 0 || i == boundaries.Count)
            {
                continue;
            }
            KnownRegion newest = open.Max!;
            ulong next = boundaries[i].At;
            if (segments.Count > 0 && segments[^1].End == at && ReferenceEquals(segments[^1].Region, newest))
            {
                segments[^1] = (segments[^1].Start, next, newest);
            }
            else
            {
                segments.Add((at, next, newest));
            }
        }
        return segments.ToArray();
    }
}
