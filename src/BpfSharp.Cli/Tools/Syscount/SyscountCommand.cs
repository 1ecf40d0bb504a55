using System.CommandLine;
using BpfSharp.Cli.Output;
using BpfSharp.Links;
using BpfSharp.Maps;

using SyscallStats = BpfSharp.Cli.Tools.SyscountBpf.SyscallStats;

namespace BpfSharp.Cli.Tools.Syscount;

/// <summary><c>bpfsharp syscount</c>: system calls counted per call or per process, optionally with latency histograms.</summary>
internal static class SyscountCommand
{
    internal static Command Create()
    {
        var process = new Option<bool>("--process", "-P") { Description = "Count per process instead of per system call" };
        var latency = new Option<bool>("--latency", "-L") { Description = "Measure each call's latency: total and average columns and a log2 histogram per row" };
        var top = new Option<int>("--top", "-T") { Description = "Show only the N busiest rows (0: all)", DefaultValueFactory = _ => 20 };
        var pid = new Option<int?>("--pid", "-p") { Description = "Count only calls made by this process id" };
        var failures = new Option<bool>("--failures", "-x") { Description = "Count only calls that returned an error" };
        var interval = new Option<double?>("--interval", "-i") { Description = "Print and reset the counts every this many seconds" };
        Option<bool> json = ToolHost.JsonOption("each row (at exit, or per interval)");
        Option<double?> duration = ToolHost.DurationOption();
        var command = new Command("syscount", "Count system calls per call or per process (-P), with --latency histograms")
        {
            process, latency, top, pid, failures, interval, json, duration,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(top) < 0)
            {
                result.AddError("--top must be 0 (all rows) or more");
            }
            if (result.GetValue(interval) is double seconds && seconds <= 0)
            {
                result.AddError("--interval must be a positive number of seconds");
            }
        });
        command.SetAction(parse =>
        {
            var report = new SyscountReport(parse.GetValue(process), parse.GetValue(latency), parse.GetValue(top));
            return Run(report, parse.GetValue(pid), parse.GetValue(failures), parse.GetValue(interval), parse.GetValue(json), parse.GetValue(duration));
        });
        return command;
    }

    private static int Run(SyscountReport report, int? pid, bool failures, double? interval, bool json, double? duration)
    {
        ToolHost.RequireTracing(("raw_syscalls", "sys_enter"), ("raw_syscalls", "sys_exit"));
        SyscountBpf.Specification spec = SyscountBpf.Open();
        spec.Rodata.FilterPid = (uint)(pid ?? 0);
        spec.Rodata.ByProcess = report.ByProcess;
        spec.Rodata.MeasureLatency = report.Latency;
        spec.Rodata.FailuresOnly = failures;
        using SyscountBpf syscount = ToolHost.Load("syscount", () => spec.Load());
        HashMap<uint, SyscallStats> stats = syscount.Maps.Stats;
        using var until = new RunUntil(duration);
        using JsonLines? lines = json ? new JsonLines() : null;
        // Without latency, entries need not be timed: sys_exit alone counts.
        using (LinkSet links = report.Latency ? syscount.Attach() : syscount.Attach(syscount.Programs.SyscountExit))
        {
            string what = (failures ? "failed system calls" : "system calls") + (pid is int p ? $" of process {p}" : "");
            ToolHost.AnnounceReady(what, duration);
            if (interval is double seconds)
            {
                while (!until.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds(seconds)))
                {
                    Print(report, Drain(stats, reset: true), lines, stamp: true);
                }
            }
            else
            {
                until.Token.WaitHandle.WaitOne();
            }
        }
        // Detached: what is left is final.
        Print(report, Drain(stats, reset: interval is not null), lines, stamp: interval is not null);
        ulong missed = syscount.Bss.Missed;
        if (missed > 0)
        {
            Console.Error.WriteLine($"syscount: {missed} calls were not counted: the table was full ({stats.Map.MaxEntries} {(report.ByProcess ? "processes" : "calls")}).");
        }
        return 0;
    }

    /// <summary>Reads the counters; with <paramref name="reset"/>, deletes each one read, so the next interval starts from zero.</summary>
    private static List<KeyValuePair<uint, SyscallStats>> Drain(HashMap<uint, SyscallStats> stats, bool reset)
    {
        var entries = stats.Entries.ToList();
        if (reset)
        {
            foreach (KeyValuePair<uint, SyscallStats> entry in entries)
            {
                // Calls counted between the read and the delete are lost; they are few, and the next interval goes on.
                stats.TryDelete(entry.Key);
            }
        }
        return entries;
    }

    private static void Print(SyscountReport report, List<KeyValuePair<uint, SyscallStats>> entries, JsonLines? lines, bool stamp)
    {
        IReadOnlyList<SyscountRow> rows = report.Rows(entries);
        if (lines is not null)
        {
            report.WriteJson(lines, rows, DateTime.Now);
            return;
        }
        if (stamp)
        {
            Console.WriteLine($"[{DateTime.Now:HH:mm:ss}]");
        }
        report.WriteTable(Console.Out, rows);
        if (stamp)
        {
            Console.WriteLine();
        }
    }
}
