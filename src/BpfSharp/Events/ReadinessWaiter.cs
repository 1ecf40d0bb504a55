using BpfSharp.Kernel;

namespace BpfSharp.Events;

/// <summary>
/// The one wait loop every event reader shares: an epoll set holding the buffers' descriptors and
/// an eventfd that cancellation and disposal signal, so a blocked wait ends at once. Waits are
/// cut into slices no longer than a latency bound, for buffers whose kernel side only wakes
/// readers after a batch of events (perf buffers with <see cref="PerfBufferOptions.WakeupEvents"/> &gt; 1
/// or a byte watermark): at the end of each slice the caller drains anyway.
/// </summary>
internal sealed class ReadinessWaiter : IDisposable
{
    internal const ulong WakeCookie = ulong.MaxValue;

    private readonly Epoll _epoll = new();
    private readonly EventFd _wake = new();

    internal ReadinessWaiter()
    {
        _epoll.Add(_wake.Fd, WakeCookie, edgeTriggered: false);
    }

    /// <summary>Watches a buffer's descriptor for records (edge-triggered: a reader drains everything after each wakeup).</summary>
    internal void Watch(FileDescriptor fd, ulong cookie) => _epoll.Add(fd, cookie, LibC.EPOLLIN | LibC.EPOLLET);

    /// <summary>
    /// Watches a descriptor for room to write (edge-triggered): a user ring buffer's map polls writable
    /// while it is not full, and the kernel signals it each time a program drains records.
    /// </summary>
    internal void WatchWritable(FileDescriptor fd, ulong cookie) => _epoll.Add(fd, cookie, LibC.EPOLLOUT | LibC.EPOLLET);

    /// <summary>Ends the current or next wait at once. Safe from any thread, also after disposal.</summary>
    internal void Wake() => _wake.Signal();

    /// <summary>
    /// Waits until a watched descriptor is ready, <see cref="Wake"/> is called, the latency bound
    /// passes or <paramref name="deadline"/> (an <see cref="Environment.TickCount64"/> value, or
    /// <see cref="long.MaxValue"/> for none) is reached. Ready cookies other than the wake cookie are
    /// packed at the front of <paramref name="ready"/>; returns how many.
    /// </summary>
    internal int Wait(Span<EpollEvent> ready, long deadline, int latencyBoundMs, out bool woken)
    {
        int timeout = -1;
        if (deadline != long.MaxValue)
        {
            timeout = (int)Math.Clamp(deadline - Environment.TickCount64, 0, int.MaxValue);
        }
        if (latencyBoundMs >= 0 && (timeout < 0 || latencyBoundMs < timeout))
        {
            timeout = latencyBoundMs;
        }
        int count = _epoll.Wait(ready, timeout);
        woken = false;
        int kept = 0;
        for (int i = 0; i < count; i++)
        {
            if (ready[i].Data == WakeCookie)
            {
                _wake.Reset();
                woken = true;
            }
            else
            {
                ready[kept++] = ready[i];
            }
        }
        return kept;
    }

    /// <summary>
    /// Lets records accumulate for <paramref name="delay"/> after a wakeup (no-op for zero): the
    /// kernel does not signal again until the reader catches up, so the next drain takes the whole
    /// batch for the cost of one wakeup. Sleeps on the monotonic clock with sub-millisecond precision.
    /// </summary>
    internal static unsafe void Coalesce(TimeSpan delay)
    {
        if (delay <= TimeSpan.Zero)
        {
            return;
        }
        long ticks = delay.Ticks;
        var request = new TimeSpec { Seconds = ticks / TimeSpan.TicksPerSecond, Nanoseconds = ticks % TimeSpan.TicksPerSecond * 100 };
        LibC.ClockNanosleep(LibC.CLOCK_MONOTONIC, 0, &request, null); // an interrupted sleep just drains sooner
    }

    /// <summary>The deadline for a wait of <paramref name="timeoutMs"/> milliseconds (negative: none).</summary>
    internal static long Deadline(int timeoutMs) =>
        timeoutMs < 0 ? long.MaxValue : Environment.TickCount64 + timeoutMs;

    public void Dispose()
    {
        _epoll.Dispose();
        _wake.Dispose();
    }
}
