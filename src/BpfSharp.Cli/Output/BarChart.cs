using System.Globalization;

namespace BpfSharp.Cli.Output;

/// <summary>
/// Counts drawn as rows of ASCII bars, each scaled to the largest count: log2 histograms (latencies, sizes, as
/// bcc's tools print them) and any labelled counters (an array map of counters).
/// </summary>
internal static class BarChart
{
    /// <summary>The width of a full bar, in characters.</summary>
    internal const int BarWidth = 40;

    /// <summary>
    /// Writes a log2 histogram: slot <c>i</c> counts values in [2^(i-1), 2^i), slot 0 counts the value 0 (the
    /// convention of a BPF program that increments <c>slots[log2(value)]</c>). Leading and trailing empty slots are
    /// left out; an all-zero histogram prints nothing.
    /// </summary>
    /// <param name="writer">Where to write.</param>
    /// <param name="slots">The counts per slot.</param>
    /// <param name="unit">What is counted, for the header: <c>usecs</c>, <c>bytes</c>.</param>
    internal static void WriteLog2(TextWriter writer, ReadOnlySpan<ulong> slots, string unit)
    {
        int first = 0, last = slots.Length - 1;
        while (first < slots.Length && slots[first] == 0)
        {
            first++;
        }
        while (last >= 0 && slots[last] == 0)
        {
            last--;
        }
        if (first > last)
        {
            return;
        }
        var rows = new List<(string Label, ulong Count)>(last - first + 1);
        for (int i = first; i <= last; i++)
        {
            (ulong low, ulong high) = Log2Range(i);
            rows.Add(($"{low.ToString(CultureInfo.InvariantCulture),10} -> {high.ToString(CultureInfo.InvariantCulture),-10}", slots[i]));
        }
        Write(writer, rows, unit);
    }

    /// <summary>The values slot <paramref name="slot"/> of a log2 histogram holds: [low, high].</summary>
    internal static (ulong Low, ulong High) Log2Range(int slot) => slot switch
    {
        0 => (0, 0),
        >= 64 => (1UL << 63, ulong.MaxValue),
        _ => (1UL << (slot - 1), (1UL << slot) - 1),
    };

    /// <summary>Writes labelled counts, one row each, with a bar scaled to the largest count.</summary>
    /// <param name="writer">Where to write.</param>
    /// <param name="rows">The label and count of each row, in the order to print.</param>
    /// <param name="labelHeader">The header of the label column.</param>
    internal static void Write(TextWriter writer, IReadOnlyList<(string Label, ulong Count)> rows, string labelHeader)
    {
        if (rows.Count == 0)
        {
            return;
        }
        ulong max = rows.Max(r => r.Count);
        int labelWidth = Math.Max(labelHeader.Length, rows.Max(r => r.Label.Length));
        int countWidth = Math.Max("count".Length, rows.Max(r => r.Count.ToString(CultureInfo.InvariantCulture).Length));
        writer.WriteLine($"{labelHeader.PadLeft(labelWidth)} : {"count".PadLeft(countWidth)}    distribution");
        foreach ((string label, ulong count) in rows)
        {
            int stars = max == 0 ? 0 : (int)Math.Round((double)count * BarWidth / max, MidpointRounding.AwayFromZero);
            if (stars == 0 && count > 0)
            {
                stars = 1; // a non-empty row always shows
            }
            writer.WriteLine($"{label.PadLeft(labelWidth)} : {count.ToString(CultureInfo.InvariantCulture).PadLeft(countWidth)}    |{new string('*', stars).PadRight(BarWidth)}|");
        }
    }
}
