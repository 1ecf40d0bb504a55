namespace BpfSharp.Events;

/// <summary>How a <see cref="PerfBuffer"/> sets up its per-CPU rings and when the kernel wakes its reader.</summary>
public sealed class PerfBufferOptions
{
    /// <summary>Data pages per CPU ring: a power of two (64 pages is 256 KiB with 4 KiB pages).</summary>
    public int PagesPerCpu { get; init; } = 64;

    /// <summary>
    /// Wake the reader after every this many records on a CPU (1, the default, wakes it for every
    /// record, as libbpf does). Larger values cost the reader fewer wakeups; records short of a batch
    /// are still delivered within <see cref="MaxLatency"/>. Ignored when <see cref="WakeupBytes"/> is set.
    /// </summary>
    public int WakeupEvents { get; init; } = 1;

    /// <summary>
    /// Wake the reader once this many bytes are waiting in a CPU ring (a watermark; 0: use
    /// <see cref="WakeupEvents"/>). Must be less than the ring size.
    /// </summary>
    public int WakeupBytes { get; init; }

    /// <summary>
    /// The longest records may wait when wakeups are batched (<see cref="WakeupEvents"/> &gt; 1 or
    /// <see cref="WakeupBytes"/>): the reader drains the rings at least this often while waiting.
    /// </summary>
    public TimeSpan MaxLatency { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Called on the reading thread with the CPU and the count when the kernel reports records lost
    /// because that CPU's ring was full (PERF_RECORD_LOST). Totals are in <see cref="PerfBuffer.LostRecords"/> either way.
    /// </summary>
    public Action<int, ulong>? OnLost { get; init; }

    /// <summary>The CPUs to open rings for (null: every online CPU the map has a slot for; offline CPUs are always skipped).</summary>
    public IReadOnlyList<int>? Cpus { get; init; }

    internal bool BatchesWakeups => WakeupBytes > 0 || WakeupEvents > 1;
}
