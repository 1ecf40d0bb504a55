using System.Globalization;
using System.Text.Json;
using BpfSharp.Cli.Output;
using BpfSharp.Symbols;

using SyscallStats = BpfSharp.Cli.Tools.SyscountBpf.SyscallStats;

namespace BpfSharp.Cli.Tools.Syscount;

/// <summary>How syscount shows what it counted: which rows, as a table with histograms, or as JSON lines.</summary>
/// <param name="ByProcess">Rows are processes, not calls.</param>
/// <param name="Latency">Show total and average latency and a histogram per row.</param>
/// <param name="Top">How many rows, busiest first (0: all).</param>
internal sealed record SyscountReport(bool ByProcess, bool Latency, int Top)
{
    /// <summary>The name syscount shows for call <paramref name="number"/>.</summary>
    internal static string CallName(uint number) => Syscalls.Name((int)number) ?? $"syscall_{number}";

    /// <summary>Turns the map's entries into rows, busiest first (then by key), keeping <see cref="Top"/>.</summary>
    internal IReadOnlyList<SyscountRow> Rows(IEnumerable<KeyValuePair<uint, SyscallStats>> entries)
    {
        IEnumerable<SyscountRow> rows = entries
            .Select(e => new SyscountRow(e.Key, ByProcess ? e.Value.Comm.ToString() : CallName(e.Key), e.Value.Count, e.Value.TotalNs, Slots(e.Value)))
            .Where(r => r.Count > 0)
            .OrderByDescending(r => Latency ? r.TotalNs : r.Count)
            .ThenByDescending(r => r.Count)
            .ThenBy(r => r.Key);
        return (Top > 0 ? rows.Take(Top) : rows).ToList();
    }

    private static ulong[] Slots(in SyscallStats stats) => ((ReadOnlySpan<ulong>)stats.Slots).ToArray();

    /// <summary>Writes the table (and with latency, one histogram per row) to <paramref name="writer"/>.</summary>
    internal void WriteTable(TextWriter writer, IReadOnlyList<SyscountRow> rows)
    {
        var headers = new List<string>();
        if (ByProcess)
        {
            headers.AddRange([">PID", "COMM"]);
        }
        else
        {
            headers.Add("SYSCALL");
        }
        headers.Add(">COUNT");
        if (Latency)
        {
            headers.AddRange([">TOTAL(us)", ">AVG(ns)"]);
        }
        var table = new TextTable([.. headers]);
        foreach (SyscountRow row in rows)
        {
            var cells = new List<object?>();
            if (ByProcess)
            {
                cells.AddRange([row.Key, row.Label]);
            }
            else
            {
                cells.Add(row.Label);
            }
            cells.Add(row.Count);
            if (Latency)
            {
                cells.Add((row.TotalNs / 1000.0).ToString("F3", CultureInfo.InvariantCulture));
                cells.Add(row.AverageNs.ToString("F0", CultureInfo.InvariantCulture));
            }
            table.Add([.. cells]);
        }
        table.Write(writer);
        if (!Latency)
        {
            return;
        }
        foreach (SyscountRow row in rows)
        {
            writer.WriteLine();
            writer.WriteLine(ByProcess ? $"pid = {row.Key} ({row.Label})" : $"syscall = {row.Label}");
            BarChart.WriteLog2(writer, row.Slots, "nsecs");
        }
    }

    /// <summary>
    /// Writes one JSON object per row: <c>syscall</c> and <c>nr</c> (or <c>pid</c> and <c>comm</c>), <c>count</c>, and
    /// with latency <c>total_ns</c>, <c>avg_ns</c> and <c>histogram</c> (the non-empty log2 slots as
    /// <c>{"low": ns, "high": ns, "count": n}</c>).
    /// </summary>
    internal void WriteJson(JsonLines lines, IReadOnlyList<SyscountRow> rows, DateTime time)
    {
        foreach (SyscountRow row in rows)
        {
            lines.Write(writer => WriteJson(writer, row, time));
        }
    }

    /// <summary>The properties of one row's JSON object.</summary>
    internal void WriteJson(Utf8JsonWriter writer, SyscountRow row, DateTime time)
    {
        writer.WriteString("time", time.ToString("O", CultureInfo.InvariantCulture));
        if (ByProcess)
        {
            writer.WriteNumber("pid", row.Key);
            writer.WriteString("comm", row.Label);
        }
        else
        {
            writer.WriteString("syscall", row.Label);
            writer.WriteNumber("nr", row.Key);
        }
        writer.WriteNumber("count", row.Count);
        if (!Latency)
        {
            return;
        }
        writer.WriteNumber("total_ns", row.TotalNs);
        writer.WriteNumber("avg_ns", Math.Round(row.AverageNs, 1));
        writer.WriteStartArray("histogram");
        for (int slot = 0; slot < row.Slots.Length; slot++)
        {
            if (row.Slots[slot] == 0)
            {
                continue;
            }
            (ulong low, ulong high) = BarChart.Log2Range(slot);
            writer.WriteStartObject();
            writer.WriteNumber("low", low);
            writer.WriteNumber("high", high);
            writer.WriteNumber("count", row.Slots[slot]);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    }
}
