using System.Runtime.CompilerServices;
using System.Threading.Channels;
using BpfSharp.Kernel;

namespace BpfSharp.Events;

/// <summary>What a stream of records does when its reader falls behind.</summary>
public enum Backpressure
{
    /// <summary>
    /// Stop reading the kernel buffer until the consumer catches up: the kernel buffer fills and the
    /// program's reserve/output calls fail (ring buffer) or the kernel counts lost records (perf buffer).
    /// </summary>
    Wait,

    /// <summary>Keep reading the kernel buffer and drop records the stream has no room for, counted in <see cref="EventBuffer.RecordsDropped"/>.</summary>
    DropNewest,
}

/// <summary>
/// The shared reading machinery of kernel-to-user event buffers (<see cref="RingBuffer"/>,
/// <see cref="PerfBuffer"/>): draining without waiting (<c>Consume</c>), waiting then draining
/// (<c>Poll</c>), reading until cancelled (<c>Run</c>) and an async stream (<see cref="ReadAllAsync{T}"/>).
/// </summary>
/// <remarks>
/// A buffer has one consumer at a time: a second thread reading while another reads gets an
/// <see cref="InvalidOperationException"/> (use an <see cref="EventPoller"/> to serve many buffers
/// from one thread). Handlers run on the reading thread and see records in place, in the kernel's
/// shared memory: nothing is allocated per record. <see cref="Dispose"/> may be called from any
/// thread, also from a handler: a reader blocked in <c>Poll</c> or <c>Run</c> returns at once, and the
/// memory mappings and descriptors are released when the last read in progress ends.
/// </remarks>
public abstract class EventBuffer : IDisposable
{
    private const int Idle = 0, Busy = 1, DisposeRequested = 2, Disposed = 3;

    private readonly ReadinessWaiter _waiter = new();
    private int _state;
    private long _dropped;

    /// <summary>Sets up the wait machinery; derived constructors then call <see cref="Watch"/> for each descriptor.</summary>
    private protected EventBuffer()
    {
    }

    /// <summary>Records handed to handlers since the buffer was opened.</summary>
    public long RecordsReceived { get; private protected set; }

    /// <summary>Records read from the kernel but dropped by an async stream with <see cref="Backpressure.DropNewest"/> because its consumer was behind.</summary>
    public long RecordsDropped => Volatile.Read(ref _dropped);

    /// <summary>
    /// How long a waiting reader lets records accumulate after the kernel wakes it, before it drains
    /// (zero, the default: drain at once). A few hundred microseconds cut the wakeups, and with them
    /// most of the reader's CPU time, when records arrive in a stream, at the price of that much
    /// added latency. Draining without waiting (<c>Consume</c>) is not delayed.
    /// </summary>
    public TimeSpan WakeupCoalescing { get; set; }

    /// <summary>True once <see cref="Dispose"/> was called.</summary>
    public bool IsDisposed => Volatile.Read(ref _state) >= DisposeRequested;

    /// <summary>
    /// The longest a wait may last before the buffer is drained anyway, in milliseconds (-1: no
    /// bound): the kernel side wakes readers only after a batch of records or bytes.
    /// </summary>
    private protected virtual int LatencyBoundMs => -1;

    /// <summary>Hands every record available now to <paramref name="handler"/>, without waiting; returns how many.</summary>
    /// <exception cref="ObjectDisposedException">The buffer was disposed.</exception>
    /// <exception cref="InvalidOperationException">Another thread is reading the buffer.</exception>
    public int Consume(RecordHandler handler)
    {
        var adapter = new DelegateRecordHandler(handler);
        return Consume(ref adapter);
    }

    /// <summary>Hands every record available now to <paramref name="handler"/> as a <typeparamref name="T"/>, without waiting.</summary>
    /// <exception cref="InvalidDataException">A record is shorter than <typeparamref name="T"/>.</exception>
    public int Consume<T>(RecordHandler<T> handler) where T : unmanaged
    {
        var adapter = new TypedRecordHandler<T>(handler);
        return Consume(ref adapter);
    }

    /// <summary>Hands every record available now to a struct handler, without waiting; the read loop is specialized for <typeparamref name="THandler"/>.</summary>
    public int Consume<THandler>(ref THandler handler) where THandler : struct, IRecordHandler
    {
        Enter();
        try
        {
            return DrainAll(ref handler);
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>
    /// Hands the records available to <paramref name="handler"/>; when there are none, waits up to
    /// <paramref name="timeoutMilliseconds"/> (-1: no limit, 0: no wait) for the kernel to signal
    /// more. Returns how many records were handled (0 after a timeout, or when woken by
    /// <see cref="Dispose"/>).
    /// </summary>
    public int Poll(RecordHandler handler, int timeoutMilliseconds = -1)
    {
        var adapter = new DelegateRecordHandler(handler);
        return Poll(ref adapter, timeoutMilliseconds);
    }

    /// <summary>The typed form of <see cref="Poll(RecordHandler, int)"/>.</summary>
    public int Poll<T>(RecordHandler<T> handler, int timeoutMilliseconds = -1) where T : unmanaged
    {
        var adapter = new TypedRecordHandler<T>(handler);
        return Poll(ref adapter, timeoutMilliseconds);
    }

    /// <summary>The struct-handler form of <see cref="Poll(RecordHandler, int)"/>.</summary>
    public int Poll<THandler>(ref THandler handler, int timeoutMilliseconds = -1) where THandler : struct, IRecordHandler
    {
        Enter();
        try
        {
            return PollEntered(ref handler, ReadinessWaiter.Deadline(timeoutMilliseconds));
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>
    /// Reads records into <paramref name="handler"/> until <paramref name="cancellationToken"/> is
    /// cancelled or the buffer is disposed; both end a blocked wait at once. Returns normally.
    /// </summary>
    public void Run(RecordHandler handler, CancellationToken cancellationToken)
    {
        var adapter = new DelegateRecordHandler(handler);
        Run(ref adapter, cancellationToken);
    }

    /// <summary>The typed form of <see cref="Run(RecordHandler, CancellationToken)"/>.</summary>
    public void Run<T>(RecordHandler<T> handler, CancellationToken cancellationToken) where T : unmanaged
    {
        var adapter = new TypedRecordHandler<T>(handler);
        Run(ref adapter, cancellationToken);
    }

    /// <summary>The struct-handler form of <see cref="Run(RecordHandler, CancellationToken)"/>.</summary>
    public void Run<THandler>(ref THandler handler, CancellationToken cancellationToken) where THandler : struct, IRecordHandler
    {
        using CancellationTokenRegistration registration = cancellationToken.Register(static w => ((ReadinessWaiter)w!).Wake(), _waiter);
        while (!cancellationToken.IsCancellationRequested)
        {
            if (!TryEnter())
            {
                return;
            }
            try
            {
                PollEntered(ref handler, long.MaxValue);
            }
            finally
            {
                Exit();
            }
        }
    }

    /// <summary>
    /// The records as an async stream of <typeparamref name="T"/> values (copies). A dedicated
    /// thread reads the buffer, so no thread-pool thread blocks; at most <paramref name="capacity"/>
    /// records wait for the consumer, and <paramref name="backpressure"/> says what happens beyond.
    /// Cancelling <paramref name="cancellationToken"/> ends the stream promptly.
    /// </summary>
    /// <exception cref="InvalidDataException">(From the stream) a record is shorter than <typeparamref name="T"/>.</exception>
    public async IAsyncEnumerable<T> ReadAllAsync<T>(int capacity = 1024, Backpressure backpressure = Backpressure.Wait,
        [EnumeratorCancellation] CancellationToken cancellationToken = default) where T : unmanaged
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        var channel = Channel.CreateBounded<T>(new BoundedChannelOptions(capacity) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reader = new Thread(() =>
        {
            try
            {
                var writer = new ChannelRecordWriter<T>(this, channel.Writer, backpressure, stop.Token);
                Run(ref writer, stop.Token);
                channel.Writer.TryComplete();
            }
            catch (OperationCanceledException)
            {
                channel.Writer.TryComplete();
            }
            catch (Exception e)
            {
                channel.Writer.TryComplete(e);
            }
        })
        { IsBackground = true, Name = $"bpfsharp {GetType().Name} reader" };
        reader.Start();
        try
        {
            await foreach (T record in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return record;
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            reader.Join();
        }
    }

    /// <summary>
    /// Stops readers and releases the buffer's memory mappings and descriptors (at once, or when a
    /// read in progress on another thread returns).
    /// </summary>
    public void Dispose()
    {
        while (true)
        {
            int state = Volatile.Read(ref _state);
            if (state == Idle && Interlocked.CompareExchange(ref _state, Disposed, Idle) == Idle)
            {
                ReleaseAll();
                break;
            }
            if (state == Busy && Interlocked.CompareExchange(ref _state, DisposeRequested, Busy) == Busy)
            {
                _waiter.Wake();
                break;
            }
            if (state >= DisposeRequested)
            {
                break;
            }
        }
        GC.SuppressFinalize(this);
    }

    /// <summary>Drains every ring of the buffer into <paramref name="handler"/>; called only between Enter and Exit.</summary>
    private protected abstract int DrainAll<THandler>(ref THandler handler) where THandler : struct, IRecordHandler;

    /// <summary>Unmaps the buffer's memory and closes its descriptors; called exactly once, with no read in progress.</summary>
    private protected abstract void ReleaseResources();

    /// <summary>Adds a descriptor that signals new records to the buffer's own wait set.</summary>
    private protected void Watch(FileDescriptor fd) => _waiter.Watch(fd, 0);

    /// <summary>Every descriptor that signals new records, for an <see cref="EventPoller"/> to watch.</summary>
    internal abstract IEnumerable<FileDescriptor> ReadinessDescriptors { get; }

    internal int LatencyBound => LatencyBoundMs;

    /// <summary>True while a thread reads the buffer (between Enter and Exit); lets a caller wait until a reader is in place without entering itself.</summary>
    internal bool IsBeingRead => Volatile.Read(ref _state) == Busy;

    /// <summary>Marks the buffer as being read; false when it was disposed.</summary>
    /// <exception cref="InvalidOperationException">Another thread is reading it.</exception>
    internal bool TryEnter()
    {
        int previous = Interlocked.CompareExchange(ref _state, Busy, Idle);
        if (previous == Busy)
        {
            throw new InvalidOperationException(
                $"{GetType().Name} is already being read on another thread: a buffer has one consumer at a time (an EventPoller serves many buffers from one thread).");
        }
        return previous == Idle;
    }

    internal void Exit()
    {
        if (Interlocked.CompareExchange(ref _state, Idle, Busy) != Busy)
        {
            // Dispose was requested while this read was in progress: the reader releases.
            ReleaseAll();
            Volatile.Write(ref _state, Disposed);
        }
    }

    /// <summary>Drains, entered by an <see cref="EventPoller"/>.</summary>
    internal int DrainEntered<THandler>(ref THandler handler) where THandler : struct, IRecordHandler => DrainAll(ref handler);

    internal void CountDropped() => Interlocked.Increment(ref _dropped);

    private void Enter()
    {
        if (!TryEnter())
        {
            throw new ObjectDisposedException(GetType().Name, $"The {GetType().Name} was disposed; its memory mappings are released.");
        }
    }

    private int PollEntered<THandler>(ref THandler handler, long deadline) where THandler : struct, IRecordHandler
    {
        int count = DrainAll(ref handler);
        if (count > 0 || deadline != long.MaxValue && Environment.TickCount64 >= deadline)
        {
            return count;
        }
        Span<EpollEvent> ready = stackalloc EpollEvent[4];
        while (true)
        {
            int signalled = _waiter.Wait(ready, deadline, LatencyBoundMs, out bool woken);
            if (signalled > 0 && !woken)
            {
                ReadinessWaiter.Coalesce(WakeupCoalescing);
            }
            count = DrainAll(ref handler);
            if (count > 0 || woken || IsDisposed || deadline != long.MaxValue && Environment.TickCount64 >= deadline)
            {
                return count;
            }
        }
    }

    private void ReleaseAll()
    {
        _waiter.Dispose();
        ReleaseResources();
    }
}

/// <summary>Copies records into an async stream's channel, waiting or dropping when it is full.</summary>
internal readonly unsafe struct ChannelRecordWriter<T>(EventBuffer buffer, ChannelWriter<T> writer, Backpressure backpressure, CancellationToken cancellationToken)
    : IRecordHandler where T : unmanaged
{
    public void OnRecord(ReadOnlySpan<byte> record)
    {
        if (record.Length < sizeof(T))
        {
            RecordLayout.ThrowShort<T>(record.Length);
        }
        T value = System.Runtime.InteropServices.MemoryMarshal.Read<T>(record);
        while (!writer.TryWrite(value))
        {
            if (backpressure == Backpressure.DropNewest)
            {
                buffer.CountDropped();
                return;
            }
            // This is the stream's dedicated reader thread, never a pool thread: blocking here is
            // what stops it draining the kernel buffer until the consumer catches up.
            if (!writer.WaitToWriteAsync(cancellationToken).AsTask().GetAwaiter().GetResult())
            {
                return;
            }
        }
    }
}
