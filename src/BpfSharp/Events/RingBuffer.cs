using System.Runtime.CompilerServices;
using BpfSharp.Kernel;
using BpfSharp.Maps;

namespace BpfSharp.Events;

/// <summary>
/// Reads a BPF ring buffer (<c>BPF_MAP_TYPE_RINGBUF</c>): records that programs wrote with
/// <c>bpf_ringbuf_output</c> or <c>bpf_ringbuf_reserve</c>/<c>submit</c>, in the order they were
/// reserved, straight from the memory the kernel shares with this process. Discarded records are
/// skipped and counted.
/// </summary>
/// <remarks>
/// <para>The kernel maps the consumer position page (writable), then the producer position page
/// and the data area twice back to back (read-only), so a record that wraps around the end of the
/// data area is still contiguous in this process. Each record starts with an 8-byte header: the
/// length with a BUSY bit (31: reserved, not yet submitted) and a DISCARD bit (30), then the
/// record's page offset; records are padded to 8 bytes.</para>
/// <para>The kernel wakes a waiting reader only when it submits a record at the position the reader
/// last published, that is when the reader had caught up. So the reader publishes its position with
/// a full barrier (an interlocked exchange: a release store then a full fence) and only then looks
/// again for records: with a release store alone the position store can pass the following load of
/// the producer position, both sides see stale values, and the wakeup is lost (the bug libbpf fixed
/// in its ring buffer consumer). The position is published once per drain, or every quarter of the
/// buffer, rather than per record, which keeps the cache line the producers read quiet.</para>
/// </remarks>
public sealed unsafe class RingBuffer : EventBuffer
{
    private readonly FileDescriptor _fd;
    private readonly RingMemory _memory;
    private readonly ulong* _consumerPosition;
    private readonly ulong* _producerPosition;
    private readonly byte* _data;
    private readonly ulong _mask;
    private readonly ulong _publishEvery;

    /// <summary>Opens a reader for <paramref name="map"/>; the map can be disposed independently.</summary>
    public RingBuffer(RingBufferMap map) : this(map?.Map!)
    {
    }

    /// <summary>Opens a reader for a <see cref="MapType.RingBuf"/> map; the map can be disposed independently.</summary>
    /// <exception cref="ArgumentException">The map is not a ring buffer.</exception>
    /// <exception cref="BpfException">The kernel refused to map the buffer.</exception>
    public RingBuffer(Map map)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (map.Type != MapType.RingBuf)
        {
            throw new ArgumentException($"RingBuffer reads RingBuf maps, but {map} is a {map.Type} map (perf event arrays are read with PerfBuffer, user ring buffers written with UserRingBuffer).", nameof(map));
        }
        Size = map.MaxEntries;
        _mask = Size - 1;
        _publishEvery = Math.Max(Size / 4, 1);
        // An own descriptor: the reader stays valid when the caller disposes the map object.
        _fd = map.Fd.Duplicate();
        try
        {
            _memory = new RingMemory(_fd, Size, userSpaceConsumes: true, map.ToString());
            Watch(_fd);
        }
        catch
        {
            _memory?.Dispose();
            _fd.Dispose();
            throw;
        }
        _consumerPosition = _memory.ConsumerPosition;
        _producerPosition = _memory.ProducerPosition;
        _data = _memory.Data;
        Description = $"ring buffer reader of {map}";
    }

    /// <summary>The size of the data area in bytes.</summary>
    public uint Size { get; }

    /// <summary>
    /// For programs that submit with <c>BPF_RB_NO_WAKEUP</c> (or wake the reader only past a threshold, with
    /// <c>bpf_ringbuf_query</c>): the longest records may wait before a waiting reader drains the buffer anyway.
    /// Null, the default, waits for the kernel's signal alone. A wakeup costs the producing program an interrupt
    /// (about 20 µs in a VM, where it exits to the hypervisor), so a tool that emits an event per syscall trades a
    /// little display latency for a cheaper probe.
    /// </summary>
    public TimeSpan? MaxLatency { get; set; }

    private protected override int LatencyBoundMs =>
        MaxLatency is TimeSpan latency ? (int)Math.Clamp(latency.TotalMilliseconds, 1, int.MaxValue) : -1;

    /// <summary>Discarded records skipped since the reader was opened.</summary>
    public long RecordsDiscarded { get; private set; }

    /// <summary>The bytes submitted or reserved but not yet consumed (including headers and padding).</summary>
    public long PendingBytes
    {
        get
        {
            if (IsDisposed)
            {
                return 0;
            }
            return (long)(Volatile.Read(ref *_producerPosition) - Volatile.Read(ref *_consumerPosition));
        }
    }

    private string Description { get; }

    internal override IEnumerable<FileDescriptor> ReadinessDescriptors => [_fd];

    /// <inheritdoc />
    public override string ToString() => Description;

    private protected override int DrainAll<THandler>(ref THandler handler)
    {
        ulong consumer = Volatile.Read(ref *_consumerPosition);
        ulong published = consumer;
        int count = 0;
        long discarded = 0;
        try
        {
            while (true)
            {
                ulong producer = Volatile.Read(ref *_producerPosition);
                while (consumer < producer)
                {
                    uint* header = (uint*)(_data + (consumer & _mask));
                    // Acquire: the record's bytes are read after its submitted length.
                    uint length = Volatile.Read(ref *header);
                    if ((length & RingMemory.BusyBit) != 0)
                    {
                        break;
                    }
                    uint dataLength = length & ~(RingMemory.BusyBit | RingMemory.DiscardBit);
                    // Advance before the handler runs, so a throwing handler does not see the record again.
                    consumer += (dataLength + RingMemory.HeaderSize + 7) & ~7UL;
                    if ((length & RingMemory.DiscardBit) == 0)
                    {
                        count++;
                        handler.OnRecord(new ReadOnlySpan<byte>(header + 2, (int)dataLength));
                    }
                    else
                    {
                        discarded++;
                    }
                    if (consumer - published >= _publishEvery)
                    {
                        Publish(consumer);
                        published = consumer;
                    }
                }
                if (consumer == published)
                {
                    // Nothing consumed since the last fenced publication, and both the producer
                    // position and any busy header were read after it: the kernel wakes us next.
                    return count;
                }
                Publish(consumer);
                published = consumer;
            }
        }
        finally
        {
            if (consumer != published)
            {
                Publish(consumer);
            }
            RecordsReceived += count;
            RecordsDiscarded += discarded;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Publish(ulong consumer) =>
        // smp_store_release followed by smp_mb: an exchange is both on every architecture .NET runs on.
        Interlocked.Exchange(ref *(long*)_consumerPosition, (long)consumer);

    private protected override void ReleaseResources()
    {
        _memory.Dispose();
        _fd.Dispose();
    }
}
