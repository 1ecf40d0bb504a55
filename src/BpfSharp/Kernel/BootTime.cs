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
        TimeSpec now, sinceBoot;
        if (LibC.ClockGetTime(LibC.CLOCK_REALTIME, &now) != 0 || LibC.ClockGetTime(LibC.CLOCK_BOOTTIME, &sinceBoot) != 0)
        {
            throw Errors.FromLastError("clock_gettime", "converting a boot-time timestamp");
        }
        long nowNs = now.Seconds * 1_000_000_000L + now.Nanoseconds;
        long bootNs = sinceBoot.Seconds * 1_000_000_000L + sinceBoot.Nanoseconds;
        long wallNs = nowNs - bootNs + (long)bootTimeNs;
        return DateTimeOffset.FromUnixTimeMilliseconds(wallNs / 1_000_000).AddTicks(wallNs % 1_000_000 / 100);
    }
}
