using System.Runtime.InteropServices;
using BpfSharp.Kernel;
using BpfSharp.Maps;

namespace BpfSharp.Events;

/// <summary>
/// A record reserved in a <see cref="UserRingBuffer"/>: fill <see cref="Data"/>, then hand it to
/// <see cref="UserRingBuffer.Submit"/> or <see cref="UserRingBuffer.Discard"/>. Programs draining
/// the buffer stop at the first record that is neither, so submit or discard every reservation.
/// </summary>
public readonly unsafe ref struct UserRingBufferRecord
{
    internal UserRingBufferRecord(uint* header, int length)
    {
        Header = header;
        Data = new Span<byte>(header + 2, length);
    }

    internal uint* Header { get; }

    /// <summary>The record's bytes, in the buffer's shared memory.</summary>
    public Span<byte> Data { get; }

    /// <summary>False for a default (never reserved) value.</summary>
    public bool IsValid => Header != null;
}

/// <summary>
/// Writes a user ring buffer (<c>BPF_MAP_TYPE_USER_RINGBUF</c>): messages from this process to
/// programs, which read them with <c>bpf_user_ringbuf_drain</c>. The mirror of <see cref="RingBuffer"/>:
/// here user space produces (reserve, fill, submit or discard) and the kernel consumes.
/// </summary>
/// <remarks>
/// Reservations are serialized by a lock, so several threads may write; each reservation must be
/// submitted or discarded, and the kernel consumes records in reservation order. When the buffer is
/// full, <see cref="Reserve"/> waits on the calling thread, and <see cref="WaitForSpaceAsync"/> and
/// <see cref="WriteAsync(ReadOnlyMemory{byte}, CancellationToken)"/> wait without blocking any thread
/// of the caller's: one watcher thread per buffer waits in epoll for the kernel's signal that a program
/// drained records (<c>bpf_user_ringbuf_drain</c> wakes the map's pollers unless called with
/// <c>BPF_RB_NO_WAKEUP</c>).
/// </remarks>
public sealed unsafe class UserRingBuffer : IDisposable
{
    private readonly FileDescriptor _fd;
    private readonly RingMemory _memory;
    private readonly ulong* _consumerPosition;
    private readonly ulong* _producerPosition;
    private readonly byte* _data;
    private readonly Lock _reserveLock = new();
    private readonly Lock _waitersLock = new();
    private readonly List<SpaceRequest> _waiters = [];
    private ReadinessWaiter? _spaceWaiter;
    private ReadinessWaiter? _asyncSpaceWaiter;
    private Thread? _watcher;
    private bool _closing;

    /// <summary>Opens a writer for a <see cref="MapType.UserRingBuf"/> map; the map can be disposed independently.</summary>
    /// <exception cref="ArgumentException">The map is not a user ring buffer.</exception>
    /// <exception cref="BpfException">The kernel refused to map the buffer.</exception>
    public UserRingBuffer(Map map)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (map.Type != MapType.UserRingBuf)
        {
            throw new ArgumentException($"UserRingBuffer writes UserRingBuf maps, but {map} is a {map.Type} map.", nameof(map));
        }
        Size = map.MaxEntries;
        _fd = map.Fd.Duplicate();
        try
        {
            // The kernel owns the consumer position (read-only here); the producer page and data are ours to write.
            _memory = new RingMemory(_fd, Size, userSpaceConsumes: false, map.ToString());
        }
        catch
        {
            _fd.Dispose();
            throw;
        }
        _consumerPosition = _memory.ConsumerPosition;
        _producerPosition = _memory.ProducerPosition;
        _data = _memory.Data;
    }

    /// <summary>The size of the data area in bytes.</summary>
    public uint Size { get; }

    /// <summary>The largest record that fits in the empty buffer.</summary>
    public int MaxRecordSize => (int)Size - RingMemory.HeaderSize;

    /// <summary>Bytes free for new records (each takes its length plus an 8-byte header, rounded up to 8).</summary>
    public long FreeBytes
    {
        get
        {
            ThrowIfDisposed();
            return Size - (long)(Volatile.Read(ref *_producerPosition) - Volatile.Read(ref *_consumerPosition));
        }
    }

    private long _recordsSubmitted;

    /// <summary>Records submitted since the writer was opened.</summary>
    public long RecordsSubmitted => Interlocked.Read(ref _recordsSubmitted);

    /// <summary>Reserves <paramref name="size"/> bytes; false when the buffer has no room now.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The record can never fit (larger than <see cref="MaxRecordSize"/>) or is empty.</exception>
    public bool TryReserve(int size, out UserRingBufferRecord record)
    {
        ThrowIfDisposed();
        ulong total = RecordSpace(size);
        lock (_reserveLock)
        {
            // Acquire: the kernel has finished reading what it consumed before we overwrite it.
            ulong consumer = Volatile.Read(ref *_consumerPosition);
            ulong producer = *_producerPosition;
            if (producer - consumer + total > Size)
            {
                record = default;
                return false;
            }
            uint* header = (uint*)(_data + (producer & (Size - 1)));
            header[0] = (uint)size | RingMemory.BusyBit;
            header[1] = 0;
            // Release: the busy header is visible before the kernel can see the new producer position.
            Volatile.Write(ref *_producerPosition, producer + total);
            record = new UserRingBufferRecord(header, size);
            return true;
        }
    }

    /// <summary>
    /// Reserves <paramref name="size"/> bytes, waiting up to <paramref name="timeout"/> for a program
    /// to drain enough (the kernel signals the map's descriptor when it consumes).
    /// </summary>
    /// <exception cref="TimeoutException">No room within the timeout.</exception>
    public UserRingBufferRecord Reserve(int size, TimeSpan timeout)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        Span<EpollEvent> ready = stackalloc EpollEvent[2];
        while (true)
        {
            if (TryReserve(size, out UserRingBufferRecord record))
            {
                return record;
            }
            long remaining = deadline - Environment.TickCount64;
            if (remaining <= 0)
            {
                throw new TimeoutException($"The user ring buffer had no room for a {size}-byte record within {timeout}: no program drained it (bpf_user_ringbuf_drain).");
            }
            SpaceWaiter().Wait(ready, deadline, -1, out _);
        }
    }

    /// <summary>
    /// Completes when a record of <paramref name="size"/> bytes fits (at once if it fits now). Another writer
    /// may take the room first, so reserve with <see cref="TryReserve"/> after it and wait again if that fails;
    /// <see cref="WriteAsync(ReadOnlyMemory{byte}, CancellationToken)"/> does both.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The record can never fit, or is empty.</exception>
    /// <exception cref="OperationCanceledException">(From the task) <paramref name="cancellationToken"/> was cancelled first.</exception>
    /// <exception cref="ObjectDisposedException">(From the task) the writer was disposed while waiting.</exception>
    public ValueTask WaitForSpaceAsync(int size, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        ulong total = RecordSpace(size);
        if (Fits(total))
        {
            return ValueTask.CompletedTask;
        }
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }
        var request = new SpaceRequest(total);
        ReadinessWaiter waiter;
        lock (_waitersLock)
        {
            ObjectDisposedException.ThrowIf(_closing, this);
            waiter = StartWatcher();
            _waiters.Add(request);
        }
        if (cancellationToken.CanBeCanceled)
        {
            request.Registration = cancellationToken.UnsafeRegister(static (state, token) =>
            {
                var (writer, cancelled) = ((UserRingBuffer, SpaceRequest))state!;
                lock (writer._waitersLock)
                {
                    writer._waiters.Remove(cancelled);
                }
                cancelled.Completion.TrySetCanceled(token);
            }, (this, request));
        }
        // The watcher checks the room again after this wake, so a drain just before the request was queued is not missed.
        waiter.Wake();
        return new ValueTask(request.Completion.Task);
    }

    /// <summary>Writes <paramref name="data"/> as one record, waiting asynchronously while the buffer is full.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The record can never fit, or is empty.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before the record was written.</exception>
    /// <exception cref="ObjectDisposedException">The writer was disposed.</exception>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        RecordSpace(data.Length);
        return TryWrite(data.Span) ? ValueTask.CompletedTask : AsyncWrites.WriteAsync(this, data, cancellationToken);
    }

    /// <summary>Writes <paramref name="value"/> as one record, waiting asynchronously while the buffer is full.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before the record was written.</exception>
    /// <exception cref="ObjectDisposedException">The writer was disposed.</exception>
    public ValueTask WriteAsync<T>(T value, CancellationToken cancellationToken = default) where T : unmanaged
    {
        RecordSpace(sizeof(T));
        return TryWrite(in value) ? ValueTask.CompletedTask : AsyncWrites.WriteAsync(this, value, cancellationToken);
    }

    /// <summary>Makes a reserved record visible to programs.</summary>
    public void Submit(UserRingBufferRecord record) => Commit(record, discard: false);

    /// <summary>Gives a reserved record back: programs skip it.</summary>
    public void Discard(UserRingBufferRecord record) => Commit(record, discard: true);

    /// <summary>Reserves, copies <paramref name="data"/> and submits; false when the buffer has no room now.</summary>
    public bool TryWrite(ReadOnlySpan<byte> data)
    {
        if (!TryReserve(data.Length, out UserRingBufferRecord record))
        {
            return false;
        }
        data.CopyTo(record.Data);
        Submit(record);
        return true;
    }

    /// <summary>Writes <paramref name="value"/> as one record; false when the buffer has no room now.</summary>
    public bool TryWrite<T>(in T value) where T : unmanaged =>
        TryWrite(MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)));

    /// <summary>Unmaps the buffer and closes the writer's descriptor.</summary>
    /// <remarks>Pending asynchronous waits fail with <see cref="ObjectDisposedException"/>.</remarks>
    public void Dispose()
    {
        Thread? watcher;
        List<SpaceRequest> abandoned;
        lock (_waitersLock)
        {
            if (_closing)
            {
                return;
            }
            _closing = true;
            watcher = _watcher;
            abandoned = [.. _waiters];
            _waiters.Clear();
        }
        // The watcher reads the mapped positions: it must be gone before the memory is unmapped.
        _asyncSpaceWaiter?.Wake();
        if (watcher is not null && watcher != Thread.CurrentThread)
        {
            watcher.Join();
        }
        foreach (SpaceRequest request in abandoned)
        {
            request.Registration.Dispose();
            request.Completion.TrySetException(new ObjectDisposedException(nameof(UserRingBuffer), "The user ring buffer was disposed while waiting for room."));
        }
        _asyncSpaceWaiter?.Dispose();
        _spaceWaiter?.Dispose();
        _memory.Dispose();
        _fd.Dispose();
    }

    private void Commit(UserRingBufferRecord record, bool discard)
    {
        if (!record.IsValid)
        {
            throw new ArgumentException("The record was never reserved.", nameof(record));
        }
        ThrowIfDisposed();
        uint length = Volatile.Read(ref *record.Header);
        if ((length & RingMemory.BusyBit) == 0)
        {
            throw new InvalidOperationException("The record was already submitted or discarded.");
        }
        uint committed = (length & ~RingMemory.BusyBit) | (discard ? RingMemory.DiscardBit : 0);
        // A full barrier, as the kernel's own producer uses: the data is visible before the header says so.
        Interlocked.Exchange(ref *record.Header, committed);
        if (!discard)
        {
            // Commits happen outside the reservation lock, from any number of threads.
            Interlocked.Increment(ref _recordsSubmitted);
        }
    }

    /// <summary>The room a record of <paramref name="size"/> bytes takes: its length plus the header, rounded up to 8.</summary>
    private ulong RecordSpace(int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, MaxRecordSize);
        return ((ulong)size + RingMemory.HeaderSize + 7) & ~7UL;
    }

    /// <summary>Whether <paramref name="total"/> bytes are free now (the producer position is ours; the kernel moves the consumer).</summary>
    private bool Fits(ulong total) =>
        Volatile.Read(ref *_producerPosition) - Volatile.Read(ref *_consumerPosition) + total <= Size;

    /// <summary>The epoll set of the synchronous <see cref="Reserve"/> (callers of it wait on their own thread).</summary>
    private ReadinessWaiter SpaceWaiter()
    {
        lock (_reserveLock)
        {
            if (_spaceWaiter is null)
            {
                var waiter = new ReadinessWaiter();
                waiter.WatchWritable(_fd, 0);
                _spaceWaiter = waiter;
            }
            return _spaceWaiter;
        }
    }

    /// <summary>Starts the watcher thread of asynchronous waits on first use; called under <see cref="_waitersLock"/>.</summary>
    private ReadinessWaiter StartWatcher()
    {
        if (_asyncSpaceWaiter is null)
        {
            var waiter = new ReadinessWaiter();
            waiter.WatchWritable(_fd, 0);
            _asyncSpaceWaiter = waiter;
            _watcher = new Thread(WatchForSpace) { IsBackground = true, Name = "BpfSharp user ring buffer space" };
            _watcher.Start();
        }
        return _asyncSpaceWaiter;
    }

    /// <summary>
    /// The watcher thread: after every wakeup (a drain, a new request, disposal), completes the requests whose
    /// record fits now. Completions run their continuations elsewhere, so user code never runs on this thread.
    /// </summary>
    private void WatchForSpace()
    {
        ReadinessWaiter waiter = _asyncSpaceWaiter!;
        Span<EpollEvent> ready = stackalloc EpollEvent[2];
        var satisfied = new List<SpaceRequest>();
        while (true)
        {
            lock (_waitersLock)
            {
                if (_closing)
                {
                    return;
                }
                for (int i = _waiters.Count - 1; i >= 0; i--)
                {
                    if (Fits(_waiters[i].Total))
                    {
                        satisfied.Add(_waiters[i]);
                        _waiters.RemoveAt(i);
                    }
                }
            }
            foreach (SpaceRequest request in satisfied)
            {
                // Outside the lock: disposing a registration waits for a cancellation callback that takes it.
                request.Registration.Dispose();
                request.Completion.TrySetResult();
            }
            satisfied.Clear();
            waiter.Wait(ready, long.MaxValue, -1, out _);
        }
    }

    /// <summary>An asynchronous wait for <see cref="Total"/> free bytes.</summary>
    private sealed class SpaceRequest(ulong total)
    {
        public ulong Total { get; } = total;

        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenRegistration Registration { get; set; }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_memory.IsDisposed, this);
}

/// <summary>The waiting loops of <see cref="UserRingBuffer"/>'s async writes (outside its unsafe context, where await is not allowed).</summary>
file static class AsyncWrites
{
    public static async ValueTask WriteAsync(UserRingBuffer writer, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        do
        {
            await writer.WaitForSpaceAsync(data.Length, cancellationToken).ConfigureAwait(false);
        }
        while (!writer.TryWrite(data.Span));
    }

    public static async ValueTask WriteAsync<T>(UserRingBuffer writer, T value, CancellationToken cancellationToken) where T : unmanaged
    {
        do
        {
            await writer.WaitForSpaceAsync(System.Runtime.CompilerServices.Unsafe.SizeOf<T>(), cancellationToken).ConfigureAwait(false);
        }
        while (!writer.TryWrite(in value));
    }
}
