namespace BpfSharp.Kernel;

/// <summary>
/// Converts kernel timestamps in nanoseconds since boot (CLOCK_BOOTTIME: what <c>bpf_ktime_get_boot_ns</c> returns
/// and what program and link infos carry) to wall-clock time.
/// </summary>
public static unsafe class BootTime
{
    /// <summary>
    /// The wall-clock time of a CLOCK_BOOTTIME timestamp, the way bpftool shows load times: the current wall clock
    /// minus the time since boot, plus the timestamp (so a wall clock set since then shifts past timestamps too).
    /// </summary>
    /// <param name="bootTimeNs">Nanoseconds since boot, suspend included.</param>
    /// <exception cref="BpfException">clock_gettime failed.</exception>
    public static DateTimeOffset WallClockOf(ulong bootTimeNs)
    {
        long wallNs = BootToWallOffsetNs() + (long)bootTimeNs;
        return DateTimeOffset.FromUnixTimeMilliseconds(wallNs / 1_000_000).AddTicks(wallNs % 1_000_000 / 100);
    }

    /// <summary>
    /// CLOCK_REALTIME minus CLOCK_BOOTTIME. The two clocks cannot be read at one instant, so each try brackets a
    /// wall-clock read between two boot-clock reads and the tightest of a few brackets wins: a thread preempted
    /// between two reads would otherwise shift every timestamp it converts by the time it was off the CPU.
    /// </summary>
    private static long BootToWallOffsetNs()
    {
        long best = 0, narrowest = long.MaxValue;
        for (int attempt = 0; attempt < 4 && narrowest > 20_000; attempt++)
        {
            long before = Read(LibC.CLOCK_BOOTTIME), wall = Read(LibC.CLOCK_REALTIME), after = Read(LibC.CLOCK_BOOTTIME);
            if (after - before < narrowest)
            {
                narrowest = after - before;
                best = wall - (before + (after - before) / 2);
            }
        }
        return best;
    }

    private static long Read(int clock)
    {
        TimeSpec time;
        if (LibC.ClockGetTime(clock, &time) != 0)
        {
            throw new BpfException($"clock_gettime cannot read clock {clock}, so a boot-time timestamp cannot be converted to wall-clock time");
        }
        return time.Seconds * 1_000_000_000L + time.Nanoseconds;
    }
}
