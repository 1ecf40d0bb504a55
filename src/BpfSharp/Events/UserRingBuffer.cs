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
/// submitted or discarded, and the kernel consumes records in reservation order.
/// </remarks>
public sealed unsafe class UserRingBuffer : IDisposable
{
    private readonly FileDescriptor _fd;
    private readonly RingMemory _memory;
    private readonly ulong* _consumerPosition;
    private readonly ulong* _producerPosition;
    private readonly byte* _data;
    private readonly Lock _reserveLock = new();
    private Epoll? _spaceWaiter;

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

    /// <summary>Records submitted since the writer was opened.</summary>
    public long RecordsSubmitted { get; private set; }

    /// <summary>Reserves <paramref name="size"/> bytes; false when the buffer has no room now.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The record can never fit (larger than <see cref="MaxRecordSize"/>) or is empty.</exception>
    public bool TryReserve(int size, out UserRingBufferRecord record)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, MaxRecordSize);
        ulong total = ((ulong)size + RingMemory.HeaderSize + 7) & ~7UL;
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
        Span<EpollEvent> ready = stackalloc EpollEvent[1];
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
            SpaceWaiter().Wait(ready, (int)Math.Min(remaining, int.MaxValue));
        }
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
    public void Dispose()
    {
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
            RecordsSubmitted++;
        }
    }

    private Epoll SpaceWaiter()
    {
        if (_spaceWaiter is null)
        {
            var epoll = new Epoll();
            epoll.Add(_fd, 0, LibC.EPOLLOUT | LibC.EPOLLET);
            _spaceWaiter = epoll;
        }
        return _spaceWaiter;
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_memory.IsDisposed, this);
}
