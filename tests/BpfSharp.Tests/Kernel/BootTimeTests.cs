using System.Globalization;
using BpfSharp.Kernel;

namespace BpfSharp.Tests.Kernel;

/// <summary>Boot-time timestamps (CLOCK_BOOTTIME, as BPF programs take them) turned into wall-clock time.</summary>
public class BootTimeTests
{
    [Fact]
    public void TheTimeSinceBootIsNow()
    {
        // /proc/uptime: seconds since boot on CLOCK_BOOTTIME, with centisecond resolution.
        double uptime = double.Parse(File.ReadAllText("/proc/uptime").Split(' ')[0], CultureInfo.InvariantCulture);
        DateTimeOffset now = DateTimeOffset.Now;
        DateTimeOffset converted = BootTime.WallClockOf((ulong)(uptime * 1e9));
        Assert.InRange((now - converted).TotalSeconds, -0.1, 0.1);
    }

    [Fact]
    public void LaterTimestampsAreLaterByTheSameAmount()
    {
        DateTimeOffset first = BootTime.WallClockOf(1_000_000_000);
        DateTimeOffset second = BootTime.WallClockOf(61_000_000_000);
        Assert.InRange((second - first).TotalSeconds, 59.99, 60.01);
    }
}
