using System.Globalization;
using System.Text.Json;
using BpfSharp.Cli.Output;

namespace BpfSharp.Cli.Tools.Pagefaults;

/// <summary>The summary of a run: as a table (also the live view) and as the one JSON object of --json.</summary>
internal static class PagefaultsReport
{
    /// <summary>The line above the table: totals by access and kind.</summary>
    internal static string Headline(FaultProfile profile, int regions, double seconds)
    {
        FaultCounts total = profile.Total;
        return string.Create(CultureInfo.InvariantCulture,
            $"{total.Faults} page faults ({total.Reads} reads, {total.Writes} writes, {total.Execs} execs; {profile.ProtectionFaults} on present pages) on {profile.PageCount} pages in {regions} regions, {seconds:0.00} s");
    }

    /// <summary>Writes the <paramref name="top"/> hottest regions (0: all) as a table.</summary>
    internal static void WriteTable(TextWriter writer, IReadOnlyList<RegionSummary> regions, int top)
    {
        bool manyProcesses = regions.Select(r => r.Pid).Distinct().Skip(1).Any();
        var table = manyProcesses
            ? new TextTable(">PID", "START", "END", ">PAGES", ">FAULTS", ">READS", ">WRITES", ">EXECS", "PATH")
            : new TextTable("START", "END", ">PAGES", ">FAULTS", ">READS", ">WRITES", ">EXECS", "PATH");
        foreach (RegionSummary region in top > 0 ? regions.Take(top) : regions)
        {
            object[] cells = [Hex(region.Start), Hex(region.End), region.Pages, region.Faults, region.Counts.Reads, region.Counts.Writes, region.Counts.Execs, region.Path];
            table.Add(manyProcesses ? [region.Pid, .. cells] : cells);
        }
        table.Write(writer);
        if (top > 0 && regions.Count > top)
        {
            writer.WriteLine($"... {regions.Count - top} more regions (--top 0 shows all)");
        }
    }

    /// <summary>The --json summary: <c>{"total": N, "regions": [{"start", "end", "path", "faults", "reads", "writes", "execs", "pages", "pid"}, ...]}</c>.</summary>
    internal static void WriteJson(Utf8JsonWriter writer, ulong total, IReadOnlyList<RegionSummary> regions)
    {
        writer.WriteNumber("total", total);
        writer.WriteStartArray("regions");
        foreach (RegionSummary region in regions)
        {
            writer.WriteStartObject();
            writer.WriteString("start", Hex(region.Start));
            writer.WriteString("end", Hex(region.End));
            writer.WriteString("path", region.Path);
            writer.WriteNumber("faults", region.Faults);
            writer.WriteNumber("reads", region.Counts.Reads);
            writer.WriteNumber("writes", region.Counts.Writes);
            writer.WriteNumber("execs", region.Counts.Execs);
            writer.WriteNumber("pages", region.Pages);
            writer.WriteNumber("pid", region.Pid);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    }

    private static string Hex(ulong address) => "0x" + address.ToString("x", CultureInfo.InvariantCulture);
}
