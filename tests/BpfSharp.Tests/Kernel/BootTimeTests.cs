using System.Globalization;
using BpfSharp.Kernel;

namespace BpfSharp.Tests.Kernel;

/// <summary>Boot-time timestamps (CLOCK_BOOTTIME, as BPF programs take them) turned into wall-clock time.</summary>
public class BootTimeTests
{
    [Fact]
    public void TheTimeSinceBootIsNow()
    {
        // /proc/uptime: seconds since boot on CLOCK_BOOTTIME, truncated to centiseconds. The wall clock is read on
        // both sides of it, so however long this thread is off the CPU, the truth lies between the two reads.
        DateTimeOffset before = DateTimeOffset.Now;
        double uptime = double.Parse(File.ReadAllText("/proc/uptime").Split(' ')[0], CultureInfo.InvariantCulture);
        DateTimeOffset after = DateTimeOffset.Now;
        DateTimeOffset converted = BootTime.WallClockOf((ulong)(uptime * 1e9));
        Assert.InRange(converted, before.AddMilliseconds(-15), after.AddMilliseconds(5));
    }

    [Fact]
    public void LaterTimestampsAreLaterByTheSameAmount()
    {
        DateTimeOffset first = BootTime.WallClockOf(1_000_000_000);
        DateTimeOffset second = BootTime.WallClockOf(61_000_000_000);
        Assert.InRange((second - first).TotalSeconds, 59.999, 60.001);
    }

    [Fact]
    public void ConversionsAgreeUnderLoad()
    {
        // Allocation-heavy threads force collections while the conversion runs: each conversion still agrees with
        // the first to well under a millisecond (the clocks are read without a GC transition, bracketed).
        DateTimeOffset reference = BootTime.WallClockOf(0);
        using var stop = new CancellationTokenSource();
        Thread[] churn = [.. Enumerable.Range(0, 2).Select(_ => new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                GC.KeepAlive(new byte[64 * 1024]);
            }
        }))];
        foreach (Thread t in churn)
        {
            t.Start();
        }
        try
        {
            for (int i = 0; i < 20_000; i++)
            {
                Assert.InRange((BootTime.WallClockOf(0) - reference).TotalMilliseconds, -1, 1);
            }
        }
        finally
        {
            stop.Cancel();
            foreach (Thread t in churn)
            {
                t.Join();
            }
        }
    }
}
