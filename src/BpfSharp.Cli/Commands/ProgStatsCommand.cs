using System.CommandLine;
using System.Globalization;
using BpfSharp.Cli.Output;
using BpfSharp.Cli.Tools;
using BpfSharp.Kernel;
using BpfSharp.Programs;

namespace BpfSharp.Cli.Commands;

/// <summary>
/// <c>bpfsharp prog stats</c>: how often each program runs and what it costs, interval by interval. The kernel counts
/// runs and run time only while statistics are on (BPF_ENABLE_STATS), so the command keeps them on while it runs and
/// reports the difference between two readings.
/// </summary>
internal static class ProgStatsCommand
{
    private sealed record Row(ProgramInfo Program, ulong Runs, ulong RunTimeNs);

    internal static Command Create()
    {
        var interval = new Option<double>("--interval", "-i") { Description = "Seconds between reports (default 1)", DefaultValueFactory = _ => 1.0 };
        var count = new Option<int?>("--count", "-c") { Description = "Stop after this many reports (default: until Ctrl-C)" };
        var top = new Option<int>("--top", "-t") { Description = "Show at most this many programs per report, busiest first; 0 shows all (default 20)", DefaultValueFactory = _ => 20 };
        var all = new Option<bool>("--all", "-a") { Description = "Also show programs that did not run in the interval" };
        var json = new Option<bool>("--json") { Description = "One JSON object per report and line" };
        var command = new Command("stats", "Show each program's runs per second, average run time and share of a CPU, measured over intervals (turns the kernel's BPF run-time statistics on while it runs)")
        {
            interval, count, top, all, json,
        };
        command.SetAction(parse =>
        {
            double seconds = parse.GetValue(interval);
            if (!(seconds > 0))
            {
                throw new ToolException("--interval must be a positive number of seconds");
            }
            return Run(seconds, parse.GetValue(count), parse.GetValue(top), parse.GetValue(all), parse.GetValue(json), parse.InvocationConfiguration.Output);
        });
        return command;
    }

    private static int Run(double interval, int? count, int top, bool all, bool json, TextWriter output)
    {
        IDisposable stats;
        try
        {
            stats = BpfStats.EnableRunTime();
        }
        catch (BpfException e)
        {
            throw new ToolException($"cannot turn on BPF run-time statistics: {e.Message}", e);
        }
        using (stats)
        using (var until = new RunUntil())
        using (JsonLines? lines = json ? new JsonLines() : null)
        {
            Dictionary<uint, ProgramInfo> previous = Snapshot();
            long previousTime = Environment.TickCount64;
            Console.Error.WriteLine($"Measuring BPF programs every {interval.ToString(CultureInfo.InvariantCulture)} s until Ctrl-C.");
            for (int report = 0; count is null || report < count; report++)
            {
                if (until.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds(interval)))
                {
                    break;
                }
                Dictionary<uint, ProgramInfo> current = Snapshot();
                long now = Environment.TickCount64;
                double elapsed = Math.Max(1, now - previousTime) / 1000.0;
                List<Row> rows = Differences(previous, current, all);
                if (top > 0 && rows.Count > top)
                {
                    rows = rows[..top];
                }
                if (lines is not null)
                {
                    lines.Write(writer => WriteJson(writer, rows, elapsed));
                }
                else
                {
                    WriteTable(output, rows, elapsed);
                }
                previous = current;
                previousTime = now;
            }
        }
        return 0;
    }

    private static Dictionary<uint, ProgramInfo> Snapshot() => BpfSharp.Programs.Program.All().ToDictionary(p => p.Id);

    /// <summary>Each program's runs and run time between two readings, busiest (most run time) first. A program new since the first reading counts from zero.</summary>
    private static List<Row> Differences(Dictionary<uint, ProgramInfo> before, Dictionary<uint, ProgramInfo> after, bool all)
    {
        var rows = new List<Row>();
        foreach (ProgramInfo program in after.Values)
        {
            before.TryGetValue(program.Id, out ProgramInfo? earlier);
            ulong runs = program.RunCount - (earlier?.RunCount ?? 0);
            ulong time = program.RunTimeNs - (earlier?.RunTimeNs ?? 0);
            if (runs > 0 || all)
            {
                rows.Add(new Row(program, runs, time));
            }
        }
        rows.Sort((a, b) => b.RunTimeNs != a.RunTimeNs ? b.RunTimeNs.CompareTo(a.RunTimeNs) : a.Program.Id.CompareTo(b.Program.Id));
        return rows;
    }

    private static void WriteTable(TextWriter output, List<Row> rows, double elapsed)
    {
        output.WriteLine($"{DateTime.Now:HH:mm:ss}  {rows.Count} program{(rows.Count == 1 ? "" : "s")} ran");
        var table = new TextTable(">ID", "TYPE", "NAME", ">RUNS/S", ">AVG_NS", ">CPU%");
        foreach (Row row in rows)
        {
            table.Add(row.Program.Id, UapiNames.Name(row.Program.Type), row.Program.Name,
                (row.Runs / elapsed).ToString("0", CultureInfo.InvariantCulture),
                row.Runs == 0 ? "-" : (row.RunTimeNs / row.Runs).ToString(CultureInfo.InvariantCulture),
                (row.RunTimeNs / (elapsed * 1e9) * 100).ToString("0.00", CultureInfo.InvariantCulture));
        }
        table.Write(output);
        output.WriteLine();
        output.Flush();
    }

    private static void WriteJson(System.Text.Json.Utf8JsonWriter writer, List<Row> rows, double elapsed)
    {
        writer.WriteString("time", DateTimeOffset.Now.ToString("O"));
        writer.WriteNumber("interval_s", elapsed);
        writer.WriteStartArray("programs");
        foreach (Row row in rows)
        {
            writer.WriteStartObject();
            writer.WriteNumber("id", row.Program.Id);
            writer.WriteString("type", UapiNames.Name(row.Program.Type));
            writer.WriteString("name", row.Program.Name);
            writer.WriteNumber("runs", row.Runs);
            writer.WriteNumber("run_time_ns", row.RunTimeNs);
            writer.WriteNumber("runs_per_s", row.Runs / elapsed);
            writer.WriteNumber("avg_ns", row.Runs == 0 ? 0 : row.RunTimeNs / row.Runs);
            writer.WriteNumber("cpu_percent", row.RunTimeNs / (elapsed * 1e9) * 100);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    }
}
