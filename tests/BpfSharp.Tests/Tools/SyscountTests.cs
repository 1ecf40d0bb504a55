using System.Diagnostics;
using System.Text.Json;
using BpfSharp.Cli.Tools.Syscount;
using BpfSharp.Symbols;
using BpfSharp.Tests.Links;

using SyscallStats = BpfSharp.Cli.Tools.SyscountBpf.SyscallStats;

namespace BpfSharp.Tests.Tools;

/// <summary>bpfsharp syscount against a process that makes a known number of getppid calls.</summary>
[Trait("Category", "Kernel")]
public class SyscountTests
{
    private const int Calls = 5000;
    private const int Slack = 5; // a few getppid calls of the process's own start-up would do no harm

    [KernelFact]
    public void CountsAKnownNumberOfCallsOfOneProcess()
    {
        (string output, int pid) = CountWhile(["--json", "--top", "0"]);
        List<JsonElement> rows = ExecsnoopTests.Events(output);
        JsonElement getppid = rows.Single(r => r.GetProperty("syscall").GetString() == "getppid");
        Assert.Equal(Syscalls.Number("getppid"), getppid.GetProperty("nr").GetInt32());
        Assert.InRange(getppid.GetProperty("count").GetInt64(), Calls, Calls + Slack);
        // The process made other calls too (its printf's write); exit_group never returns, so it is not counted.
        Assert.Contains(rows, r => r.GetProperty("syscall").GetString() == "write");
        Assert.DoesNotContain(rows, r => r.GetProperty("syscall").GetString() == "exit_group");
        Assert.True(pid > 0);
    }

    [KernelFact]
    public void TableNamesTheCallAndItsCount()
    {
        (string output, _) = CountWhile(["--top", "3"]);
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["SYSCALL", "COUNT"], lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(4, lines.Length); // header and the top 3
        string[] first = lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("getppid", first[0]);
        Assert.InRange(long.Parse(first[1]), Calls, Calls + Slack);
    }

    [KernelFact]
    public void PerProcessShowsTheProcess()
    {
        (string output, int pid) = CountWhile(["--json", "-P"]);
        JsonElement row = Assert.Single(ExecsnoopTests.Events(output));
        Assert.Equal(pid, row.GetProperty("pid").GetInt32());
        Assert.Equal("syscall_repeat", row.GetProperty("comm").GetString());
        Assert.InRange(row.GetProperty("count").GetInt64(), Calls, Calls + 200);
    }

    [KernelFact]
    public void LatencyHistogramTotalsTheCount()
    {
        (string output, _) = CountWhile(["--json", "--latency", "--top", "0"]);
        JsonElement getppid = ExecsnoopTests.Events(output).Single(r => r.GetProperty("syscall").GetString() == "getppid");
        long count = getppid.GetProperty("count").GetInt64();
        Assert.InRange(count, Calls, Calls + Slack);
        long histogramTotal = getppid.GetProperty("histogram").EnumerateArray().Sum(s => s.GetProperty("count").GetInt64());
        Assert.Equal(count, histogramTotal);
        ulong total = getppid.GetProperty("total_ns").GetUInt64();
        Assert.True(total > 0);
        Assert.Equal((double)total / count, getppid.GetProperty("avg_ns").GetDouble(), 0.1);
    }

    [KernelFact]
    public void LatencyTablePrintsOneHistogramPerRow()
    {
        (string output, _) = CountWhile(["--latency", "--top", "0"]);
        string[] lines = output.Split('\n');
        Assert.Equal(["SYSCALL", "COUNT", "TOTAL(us)", "AVG(ns)"], lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        // getppid may not be the slowest in total (exit_group, execve), so find its histogram.
        int header = Array.FindIndex(lines, l => l == "syscall = getppid");
        Assert.True(header > 0, output);
        Assert.Contains("nsecs : count", lines[header + 1], StringComparison.Ordinal);
        long bars = lines.Skip(header + 2).TakeWhile(l => l.Contains('|')).Sum(l => long.Parse(l.Split(':')[1].Split('|')[0]));
        Assert.InRange(bars, Calls, Calls + Slack);
    }

    [KernelFact]
    public void FailuresCountOnlyCallsThatFail()
    {
        (string output, _) = CountWhile(["--json", "--failures", "--top", "0"]);
        // getppid cannot fail.
        Assert.DoesNotContain(ExecsnoopTests.Events(output), r => r.GetProperty("syscall").GetString() == "getppid");
    }

    [KernelFact]
    public void IntervalsPrintAndResetSoThatTheyAddUpToTheCount()
    {
        // Stop once three intervals have passed after the calls (so the last ones printed nothing new).
        int stampsBefore = 0;
        (string output, _) = CountWhile(["--interval", "0.3", "--top", "0"], afterCalls: tool =>
        {
            stampsBefore = Stamps(tool.Output);
            Assert.True(LinkTestSupport.WaitUntil(() => Stamps(tool.Output) >= stampsBefore + 3, TimeSpan.FromSeconds(20)), tool.Output);
        });
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // One "[HH:mm:ss]" stamp and table per interval, also for intervals without calls.
        Assert.True(Stamps(output) >= stampsBefore + 3, output);
        long getppid = lines.Where(l => l.StartsWith("getppid ", StringComparison.Ordinal))
            .Sum(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]));
        // Each interval's counts were deleted once printed: nothing is counted twice, nothing is lost.
        Assert.InRange(getppid, Calls, Calls + Slack);
    }

    private static int Stamps(string output) => output.Split('\n').Count(l => l.StartsWith('['));

    /// <summary>Starts syscall_repeat, then syscount for its pid, lets it make its calls, and returns syscount's output.</summary>
    private static (string Output, int Pid) CountWhile(string[] arguments, Action<ToolProcess>? afterCalls = null)
    {
        var start = new ProcessStartInfo(LinkTestSupport.NativeProgram("syscall_repeat"))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Calls.ToString());
        using Process program = Process.Start(start)!;
        try
        {
            using var tool = ToolProcess.Start(["syscount", "--pid", program.Id.ToString(), .. arguments]);
            program.StandardInput.WriteLine("go");
            Assert.Equal($"done {Calls}", program.StandardOutput.ReadLine());
            Assert.True(program.WaitForExit(TimeSpan.FromSeconds(20)));
            afterCalls?.Invoke(tool);
            (int code, string output, string error) = tool.Stop();
            Assert.True(code == 0, error);
            return (output, program.Id);
        }
        finally
        {
            if (!program.HasExited)
            {
                program.Kill();
            }
        }
    }
}

/// <summary>syscount's rows, table and JSON, without the kernel.</summary>
public class SyscountReportTests
{
    private static KeyValuePair<uint, SyscallStats> Entry(uint key, ulong count, ulong totalNs = 0, params (int Slot, ulong Count)[] slots)
    {
        var stats = new SyscallStats { Count = count, TotalNs = totalNs };
        foreach ((int slot, ulong n) in slots)
        {
            stats.Slots[slot] = n;
        }
        return KeyValuePair.Create(key, stats);
    }

    [Fact]
    public void RowsAreBusiestFirstAndNamedFromTheTable()
    {
        var report = new SyscountReport(ByProcess: false, Latency: false, Top: 2);
        IReadOnlyList<SyscountRow> rows = report.Rows([Entry(0, 5), Entry((uint)Syscalls.Number("getppid")!, 9), Entry(99999, 7), Entry(1, 0)]);
        Assert.Equal(["getppid", "syscall_99999"], rows.Select(r => r.Label));
        Assert.Equal([9UL, 7UL], rows.Select(r => r.Count));
    }

    [Fact]
    public void LatencyRowsAreOrderedByTotalTimeAndPrintHistograms()
    {
        var report = new SyscountReport(ByProcess: false, Latency: true, Top: 0);
        IReadOnlyList<SyscountRow> rows = report.Rows([Entry(0, 10, 1000, (4, 10)), Entry(1, 2, 5000, (12, 2))]);
        Assert.Equal(["write", "read"], rows.Select(r => r.Label));
        var text = new StringWriter();
        report.WriteTable(text, rows);
        string[] lines = text.ToString().Split(Environment.NewLine);
        Assert.Equal("SYSCALL  COUNT  TOTAL(us)  AVG(ns)", lines[0]);
        Assert.Equal("write        2      5.000     2500", lines[1]);
        Assert.Equal("read        10      1.000      100", lines[2]);
        Assert.Contains("syscall = write", lines);
        Assert.Contains(lines, l => l.Contains("2048 -> 4095", StringComparison.Ordinal) && l.Contains(":     2 ", StringComparison.Ordinal));
    }

    [Fact]
    public void JsonPerProcessRowsHavePidCommAndHistogram()
    {
        var report = new SyscountReport(ByProcess: true, Latency: true, Top: 0);
        var stats = new SyscallStats { Count = 3, TotalNs = 300 };
        stats.Slots[7] = 3;
        "app"u8.CopyTo(stats.Comm);
        SyscountRow row = Assert.Single(report.Rows([KeyValuePair.Create(42u, stats)]));
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            report.WriteJson(writer, row, DateTime.Now);
            writer.WriteEndObject();
        }
        JsonElement json = JsonDocument.Parse(stream.ToArray()).RootElement;
        Assert.Equal(42, json.GetProperty("pid").GetInt32());
        Assert.Equal("app", json.GetProperty("comm").GetString());
        Assert.Equal(3, json.GetProperty("count").GetInt32());
        Assert.Equal(300, json.GetProperty("total_ns").GetInt32());
        JsonElement slot = Assert.Single(json.GetProperty("histogram").EnumerateArray());
        Assert.Equal((64, 127, 3), (slot.GetProperty("low").GetInt32(), slot.GetProperty("high").GetInt32(), slot.GetProperty("count").GetInt32()));
    }
}
