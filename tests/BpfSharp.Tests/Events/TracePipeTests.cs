using BpfSharp.Events;
using BpfSharp.Tracing;

namespace BpfSharp.Tests.Events;

public class TraceLineTests
{
    [Theory]
    [InlineData("           <...>-4242    [001] d..31  1234.567890: bpf_trace_printk: pid 4242 opened /etc/passwd",
        "<...>", 4242, null, 1, "d..31", 1234.567890, "bpf_trace_printk", "pid 4242 opened /etc/passwd")]
    [InlineData("  kworker/u4:2-87      [000] .....   17.000001: tracing_mark_write: hello: world",
        "kworker/u4:2", 87, null, 0, ".....", 17.000001, "tracing_mark_write", "hello: world")]
    [InlineData(" my-app name-99 (   98) [003] ....  5.5: bpf_trace_printk: x",
        "my-app name", 99, 98, 3, "....", 5.5, "bpf_trace_printk", "x")]
    [InlineData("          <idle>-0       [000]  1.000000: bpf_trace_printk: no flags column",
        "<idle>", 0, null, 0, "", 1.0, "bpf_trace_printk", "no flags column")]
    public void ParsesTraceLines(string text, string task, int pid, int? tgid, int cpu, string flags, double timestamp, string eventName, string message)
    {
        TraceLine line = TraceLine.TryParse(text)!;
        Assert.NotNull(line);
        Assert.Equal(new TraceLine(task, pid, tgid, cpu, flags, timestamp, eventName, message), line);
    }

    [Theory]
    [InlineData("# tracer: nop")]
    [InlineData("")]
    [InlineData("CPU:1 [LOST 12 EVENTS]")]
    public void SkipsLinesThatAreNotRecords(string text) => Assert.Null(TraceLine.TryParse(text));
}

[Trait("Category", "Kernel")]
[Collection("trace_pipe")] // one reader at a time: reading the pipe consumes its lines
public class TracePipeTests
{
    [KernelFact]
    public async Task ReadsLinesWrittenToTheTraceBufferAndStopsOnCancellation()
    {
        string marker = $"bpfsharp-test-{Guid.NewGuid():N}";
        using var pipe = new TracePipe();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        // trace_marker writes a line into the same buffer bpf_printk writes to.
        await File.WriteAllTextAsync(Path.Combine(Tracefs.Default.Root, "trace_marker"), marker, timeout.Token);

        TraceLine? found = null;
        await foreach (TraceLine line in pipe.ReadAllAsync(timeout.Token))
        {
            if (line.Message.Contains(marker))
            {
                found = line;
                break;
            }
        }
        Assert.NotNull(found);
        Assert.Equal("tracing_mark_write", found.Event);
        // The writer was one of this process's threads.
        Assert.True(Directory.Exists($"/proc/self/task/{found.Pid}"), $"pid {found.Pid} is not a thread of this process");
        Assert.True(found.Timestamp > 0);
    }

    [KernelFact]
    public void SynchronousReadReturnsPromptlyWhenCancelled()
    {
        using var pipe = new TracePipe();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        pipe.Read(_ => { }, cancel.Token);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
    }
}
