using BpfSharp.Kernel;

namespace BpfSharp.Events;

/// <summary>
/// One thread serving many event buffers (<see cref="RingBuffer"/>s and <see cref="PerfBuffer"/>s):
/// a single epoll set watches them all, and each wakeup drains only the buffers that signalled.
/// Each buffer gets its own handler when added.
/// </summary>
/// <example>
/// <code>
/// using var poller = new EventPoller();
/// poller.Add(execs, record => Console.WriteLine(record.Length));
/// poller.Add&lt;OpenEvent&gt;(opens, (in OpenEvent e) => Count(e));
/// poller.Run(cancellationToken);
/// </code>
/// </example>
/// <remarks>
/// The poller does not own the buffers: dispose them yourself (a disposed buffer is skipped). A
/// buffer added to a poller must not also be read directly while the poller runs.
/// </remarks>
public sealed class EventPoller : IDisposable
{
    private readonly ReadinessWaiter _waiter = new();
    private readonly Lock _addLock = new();
    private Subscription[] _subscriptions = [];
    private int _latencyBoundMs = -1;
    private int _polling;
    private bool _disposed;

    /// <summary>
    /// How long the poller lets records accumulate after a wakeup before it drains (zero, the
    /// default: at once); see <see cref="EventBuffer.WakeupCoalescing"/>.
    /// </summary>
    public TimeSpan WakeupCoalescing { get; set; }

    /// <summary>How many buffers the poller serves.</summary>
    public int Count => Volatile.Read(ref _subscriptions).Length;

    /// <summary>Serves <paramref name="buffer"/>, handing its records to <paramref name="handler"/>.</summary>
    public void Add(EventBuffer buffer, RecordHandler handler) => Add(buffer, new DelegateRecordHandler(handler));

    /// <summary>Serves <paramref name="buffer"/>, handing its records to <paramref name="handler"/> as <typeparamref name="T"/>.</summary>
    public void Add<T>(EventBuffer buffer, RecordHandler<T> handler) where T : unmanaged => Add(buffer, new TypedRecordHandler<T>(handler));

    /// <summary>Serves <paramref name="buffer"/> with a struct handler (copied; keep mutable state in reference-type fields).</summary>
    /// <exception cref="ArgumentException">The buffer was already added.</exception>
    public void Add<THandler>(EventBuffer buffer, THandler handler) where THandler : struct, IRecordHandler
    {
        ArgumentNullException.ThrowIfNull(buffer);
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_addLock)
        {
            Subscription[] current = _subscriptions;
            if (Array.Exists(current, s => ReferenceEquals(s.Buffer, buffer)))
            {
                throw new ArgumentException($"{buffer} is already served by this poller.", nameof(buffer));
            }
            foreach (FileDescriptor fd in buffer.ReadinessDescriptors)
            {
                _waiter.Watch(fd, (ulong)current.Length);
            }
            int bound = buffer.LatencyBound;
            if (bound >= 0 && (_latencyBoundMs < 0 || bound < _latencyBoundMs))
            {
                _latencyBoundMs = bound;
            }
            Volatile.Write(ref _subscriptions, [.. current, new Subscription<THandler>(buffer, handler)]);
        }
    }

    /// <summary>
    /// Drains every buffer with records now; when none has any, waits up to
    /// <paramref name="timeoutMilliseconds"/> (-1: no limit, 0: no wait) and drains the buffers that
    /// signal. Returns how many records were handled.
    /// </summary>
    /// <exception cref="InvalidOperationException">Another thread is polling.</exception>
    public int Poll(int timeoutMilliseconds = -1)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        EnterPolling();
        try
        {
            return PollEntered(ReadinessWaiter.Deadline(timeoutMilliseconds));
        }
        finally
        {
            ExitPolling();
        }
    }

    /// <summary>Serves the buffers until <paramref name="cancellationToken"/> is cancelled (which ends a wait at once) or the poller is disposed.</summary>
    public void Run(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        EnterPolling();
        try
        {
            using CancellationTokenRegistration registration = cancellationToken.Register(static w => ((ReadinessWaiter)w!).Wake(), _waiter);
            while (!cancellationToken.IsCancellationRequested && !Volatile.Read(ref _disposed))
            {
                PollEntered(long.MaxValue);
            }
        }
        finally
        {
            ExitPolling();
        }
    }

    /// <summary>Stops a running <see cref="Run"/> and closes the poller's epoll set; the buffers stay open.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        Volatile.Write(ref _disposed, true);
        _waiter.Wake();
        // A poll in progress closes the wait set itself when it ends (ExitPolling).
        if (Interlocked.CompareExchange(ref _polling, 1, 0) == 0)
        {
            _waiter.Dispose();
        }
    }

    private void EnterPolling()
    {
        if (Interlocked.CompareExchange(ref _polling, 1, 0) != 0)
        {
            throw new InvalidOperationException("The EventPoller is already polling on another thread; it serves its buffers from one thread.");
        }
    }

    private void ExitPolling()
    {
        Volatile.Write(ref _polling, 0);
        // Disposed while polling: whichever of this and Dispose takes the flag back closes the set.
        if (Volatile.Read(ref _disposed) && Interlocked.CompareExchange(ref _polling, 1, 0) == 0)
        {
            _waiter.Dispose();
        }
    }

    private int PollEntered(long deadline)
    {
        Subscription[] subscriptions = Volatile.Read(ref _subscriptions);
        int count = DrainAll(subscriptions);
        if (count > 0 || deadline != long.MaxValue && Environment.TickCount64 >= deadline)
        {
            return count;
        }
        Span<EpollEvent> ready = stackalloc EpollEvent[32];
        while (true)
        {
            int signalled = _waiter.Wait(ready, deadline, Volatile.Read(ref _latencyBoundMs), out bool woken);
            if (signalled > 0 && !woken)
            {
                ReadinessWaiter.Coalesce(WakeupCoalescing);
            }
            subscriptions = Volatile.Read(ref _subscriptions);
            if (signalled == 0 || signalled == ready.Length)
            {
                // A timeout slice (batched perf wakeups), or more signals than fit: drain everything.
                count = DrainAll(subscriptions);
            }
            else
            {
                for (int i = 0; i < signalled; i++)
                {
                    // A buffer with several descriptors (perf: one per CPU) may signal more than once.
                    ulong index = ready[i].Data;
                    bool seen = false;
                    for (int j = 0; j < i && !seen; j++)
                    {
                        seen = ready[j].Data == index;
                    }
                    if (!seen && index < (ulong)subscriptions.Length)
                    {
                        count += subscriptions[index].Drain();
                    }
                }
            }
            if (count > 0 || woken || Volatile.Read(ref _disposed) || deadline != long.MaxValue && Environment.TickCount64 >= deadline)
            {
                return count;
            }
        }
    }

    private static int DrainAll(Subscription[] subscriptions)
    {
        int count = 0;
        foreach (Subscription subscription in subscriptions)
        {
            count += subscription.Drain();
        }
        return count;
    }

    private abstract class Subscription(EventBuffer buffer)
    {
        internal EventBuffer Buffer { get; } = buffer;

        internal abstract int Drain();
    }

    private sealed class Subscription<THandler>(EventBuffer buffer, THandler handler) : Subscription(buffer)
        where THandler : struct, IRecordHandler
    {
        private THandler _handler = handler;

        internal override int Drain()
        {
            if (!Buffer.TryEnter())
            {
                return 0; // disposed: its descriptors left the epoll set when they closed
            }
            try
            {
                return Buffer.DrainEntered(ref _handler);
            }
            finally
            {
                Buffer.Exit();
            }
        }
    }
}
