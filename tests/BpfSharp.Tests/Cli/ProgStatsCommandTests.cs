using System.Text.Json;
using BpfSharp.Programs;
using BpfSharp.Tests.Links;
using BpfSharp.Tests.Tools;

namespace BpfSharp.Tests.Cli;

[Trait("Category", "Kernel")]
public class ProgStatsCommandTests
{
    [KernelFact]
    public void ReportsTheRunsOfAProgramThatRunsWhileItMeasures()
    {
        using CounterSlots counters = LinkTestSupport.Counters();
        using Program program = LinkTestSupport.LoadCounter(ProgramType.SocketFilter, counters, name: "stats_probe");
        long runs = 0;
        using var stop = new CancellationTokenSource();
        // The program runs through BPF_PROG_TEST_RUN, which the kernel's run-time statistics count like any run.
        Task runner = Task.Run(() =>
        {
            var options = new TestRunOptions { Data = new byte[64], Repeat = 100 };
            while (!stop.IsCancellationRequested)
            {
                program.TestRun(options);
                Interlocked.Add(ref runs, 100);
            }
        });
        (int exitCode, string output, string error) = ExternalTool.Execute(ToolProcess.Executable, "prog", "stats", "--interval", "0.3", "--count", "3", "--top", "0", "--json");
        stop.Cancel();
        runner.Wait();

        Assert.True(exitCode == 0, error);
        string[] reports = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, reports.Length);
        ulong measured = 0;
        foreach (string report in reports)
        {
            using JsonDocument document = JsonDocument.Parse(report);
            double interval = document.RootElement.GetProperty("interval_s").GetDouble();
            Assert.True(interval >= 0.29, report);
            foreach (JsonElement row in document.RootElement.GetProperty("programs").EnumerateArray())
            {
                if (row.GetProperty("id").GetUInt32() != program.Id)
                {
                    continue;
                }
                Assert.Equal("socket_filter", row.GetProperty("type").GetString());
                Assert.Equal("stats_probe", row.GetProperty("name").GetString());
                ulong rowRuns = row.GetProperty("runs").GetUInt64();
                Assert.True(rowRuns > 0);
                Assert.True(row.GetProperty("avg_ns").GetUInt64() > 0);
                Assert.Equal(rowRuns / interval, row.GetProperty("runs_per_s").GetDouble(), 3);
                measured += rowRuns;
            }
        }
        // Every run it reports happened (the counter map counts them too); some happened outside its intervals.
        Assert.True(measured > 0, output);
        Assert.True(measured <= (ulong)Interlocked.Read(ref runs), $"{measured} runs reported, {runs} made");
        Assert.Equal((ulong)Interlocked.Read(ref runs), counters[0]);
    }

    [KernelFact]
    public void RefusesAnIntervalThatIsNotPositive()
    {
        (int exitCode, _, string error) = ExternalTool.Execute(ToolProcess.Executable, "prog", "stats", "--interval", "0");
        Assert.NotEqual(0, exitCode);
        Assert.Contains("--interval must be a positive number of seconds", error);
    }
}
