namespace BpfSharp.Cli.Tools.Pagefaults;

/// <summary>One band of heatmap rows: the faulted part of one mapping, cut into equal address buckets.</summary>
/// <param name="Label">The mapping's path or kernel name.</param>
/// <param name="Low">The lowest faulted address of the band.</param>
/// <param name="High">One past the highest faulted page of the band.</param>
/// <param name="FirstRow">The band's first row (row 0 is the lowest address).</param>
/// <param name="Rows">How many rows it has.</param>
/// <param name="BucketBytes">The address range of one row.</param>
internal sealed record HeatmapBand(string Label, ulong Low, ulong High, int FirstRow, int Rows, ulong BucketBytes);

/// <summary>
/// The heatmap as numbers, before any drawing: fault counts per (address bucket, time bucket). The address axis keeps
/// only the parts of the address space that faulted (one band per mapping, spanning its faulted pages), so a 47-bit
/// space with a few busy mappings becomes a few bands of rows, each cut into buckets of whole pages.
/// </summary>
internal sealed class HeatmapLayout
{
    private HeatmapLayout(IReadOnlyList<HeatmapBand> bands, int rows, int columns, double secondsPerColumn, uint[,] counts)
    {
        Bands = bands;
        RowCount = rows;
        ColumnCount = columns;
        SecondsPerColumn = secondsPerColumn;
        Counts = counts;
        foreach (uint count in counts)
        {
            MaxCount = Math.Max(MaxCount, count);
        }
    }

    /// <summary>The bands, lowest address first.</summary>
    internal IReadOnlyList<HeatmapBand> Bands { get; }

    /// <summary>Address buckets (rows), all bands together.</summary>
    internal int RowCount { get; }

    /// <summary>Time buckets (columns).</summary>
    internal int ColumnCount { get; }

    /// <summary>The time one column covers.</summary>
    internal double SecondsPerColumn { get; }

    /// <summary>Faults per [row, column].</summary>
    internal uint[,] Counts { get; }

    /// <summary>The largest count of a cell.</summary>
    internal uint MaxCount { get; }

    /// <summary>The time the columns cover, in seconds.</summary>
    internal double Seconds => ColumnCount * SecondsPerColumn;

    /// <summary>A gap of more unfaulted pages than this inside a band of unknown mappings splits it.</summary>
    private const ulong UnmappedGapPages = 1024;

    /// <summary>Lays out <paramref name="profile"/>'s heat cells in at most <paramref name="maxRows"/> rows and <paramref name="maxColumns"/> columns.</summary>
    internal static HeatmapLayout Build(FaultProfile profile, int maxRows, int maxColumns)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxColumns, 1);
        ulong pageSize = (ulong)profile.PageSize;
        var cells = profile.HeatCells().ToList();

        // Group the faulted pages by mapping: each group spans its lowest to its highest faulted page.
        var groups = new Dictionary<(ulong Start, ulong End, string Path), (ulong Low, ulong High)>();
        var unmapped = new SortedSet<ulong>();
        uint lastSlot = 0;
        foreach ((ulong address, uint slot, uint _) in cells)
        {
            lastSlot = Math.Max(lastSlot, slot);
            if (profile.RegionOfAnyProcess(address) is (ulong, ulong, string) region)
            {
                groups[region] = groups.TryGetValue(region, out (ulong Low, ulong High) span)
                    ? (Math.Min(span.Low, address), Math.Max(span.High, address + pageSize))
                    : (address, address + pageSize);
            }
            else
            {
                unmapped.Add(address);
            }
        }
        var spans = groups.Select(g => (g.Key.Path, g.Value.Low, g.Value.High)).ToList();
        // Faults outside every known mapping: clusters of nearby pages, split at big gaps.
        ulong? clusterLow = null, clusterHigh = null;
        foreach (ulong address in unmapped)
        {
            if (clusterHigh is ulong high && address - high > UnmappedGapPages * pageSize)
            {
                spans.Add(("[unmapped]", clusterLow!.Value, high));
                clusterLow = null;
            }
            clusterLow ??= address;
            clusterHigh = address + pageSize;
        }
        if (clusterLow is ulong lastLow)
        {
            spans.Add(("[unmapped]", lastLow, clusterHigh!.Value));
        }
        spans.Sort(static (a, b) => a.Low.CompareTo(b.Low));
        // At most one band per six rows, so that most bands are tall enough for a label.
        spans = MergeClosest(MergeOverlaps(spans), Math.Max(1, maxRows / 6));

        // Rows: one per band at least, the rest shared by the square root of the page span (a 1 GiB heap next to a
        // few pages of a library would otherwise leave the library one pixel), never more rows than pages.
        double totalWeight = spans.Sum(s => Math.Sqrt((s.High - s.Low) / pageSize));
        int spare = maxRows - spans.Count;
        var bands = new List<HeatmapBand>(spans.Count);
        int row = 0;
        foreach ((string path, ulong low, ulong high) in spans)
        {
            ulong pages = (high - low) / pageSize;
            int rows = (int)Math.Min(pages, 1 + (ulong)Math.Floor(spare * (Math.Sqrt(pages) / Math.Max(1, totalWeight))));
            ulong bucketPages = (pages + (ulong)rows - 1) / (ulong)rows;
            rows = (int)((pages + bucketPages - 1) / bucketPages);
            bands.Add(new HeatmapBand(path, low, high, row, rows, bucketPages * pageSize));
            row += rows;
        }

        // Columns: whole slots per column, as many columns as fit.
        ulong slots = cells.Count == 0 ? 1 : (ulong)lastSlot + 1;
        ulong slotsPerColumn = (slots + (ulong)maxColumns - 1) / (ulong)maxColumns;
        int columns = (int)((slots + slotsPerColumn - 1) / slotsPerColumn);
        var counts = new uint[Math.Max(row, 1), columns];
        foreach ((ulong address, uint slot, uint count) in cells)
        {
            HeatmapBand? band = BandOf(bands, address);
            if (band is null)
            {
                continue;
            }
            int r = band.FirstRow + (int)((address - band.Low) / band.BucketBytes);
            counts[r, (int)(slot / slotsPerColumn)] += count;
        }
        return new HeatmapLayout(bands, Math.Max(row, 1), columns, slotsPerColumn * profile.SlotNs / 1e9, counts);
    }

    /// <summary>Joins spans that overlap (mappings of different processes at the same addresses): bands must be disjoint.</summary>
    private static List<(string Label, ulong Low, ulong High)> MergeOverlaps(List<(string Label, ulong Low, ulong High)> sorted)
    {
        var result = new List<(string Label, ulong Low, ulong High)>(sorted.Count);
        foreach ((string label, ulong low, ulong high) in sorted)
        {
            if (result.Count > 0 && low < result[^1].High)
            {
                (string lastLabel, ulong lastLow, ulong lastHigh) = result[^1];
                result[^1] = (lastLabel, lastLow, Math.Max(lastHigh, high));
            }
            else
            {
                result.Add((label, low, high));
            }
        }
        return result;
    }

    /// <summary>
    /// Merges the bands separated by the smallest gaps until at most <paramref name="limit"/> remain (many small
    /// mappings, or many processes, would otherwise need more rows than the image has). A merged band is labelled
    /// by its first mapping and how many other names it holds.
    /// </summary>
    internal static List<(string Label, ulong Low, ulong High)> MergeClosest(List<(string Label, ulong Low, ulong High)> spans, int limit)
    {
        if (spans.Count <= limit)
        {
            return spans;
        }
        // The gaps to keep: the (limit - 1) widest.
        var gaps = Enumerable.Range(1, spans.Count - 1)
            .Select(i => (Index: i, Gap: spans[i].Low > spans[i - 1].High ? spans[i].Low - spans[i - 1].High : 0))
            .OrderByDescending(g => g.Gap).ThenBy(g => g.Index)
            .Take(limit - 1)
            .Select(g => g.Index)
            .ToHashSet();
        var merged = new List<(string Label, ulong Low, ulong High)>(limit);
        int first = 0;
        for (int i = 1; i <= spans.Count; i++)
        {
            if (i == spans.Count || gaps.Contains(i))
            {
                int count = i - first;
                // Snapshots of one growing mapping share a name: count only the other names.
                int others = spans.Skip(first).Take(count).Select(s => s.Label).Distinct().Count() - 1;
                string label = others == 0 ? spans[first].Label : $"{spans[first].Label} +{others}";
                merged.Add((label, spans[first].Low, spans.Skip(first).Take(count).Max(s => s.High)));
                first = i;
            }
        }
        return merged;
    }

    private static HeatmapBand? BandOf(List<HeatmapBand> bands, ulong address)
    {
        int low = 0, high = bands.Count - 1;
        while (low <= high)
        {
            int middle = low + (high - low) / 2;
            if (address < bands[middle].Low)
            {
                high = middle - 1;
            }
            else if (address >= bands[middle].High)
            {
                low = middle + 1;
            }
            else
            {
                return bands[middle];
            }
        }
        return null;
    }
}
