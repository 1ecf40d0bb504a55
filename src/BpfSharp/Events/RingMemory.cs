using BpfSharp.Kernel;

namespace BpfSharp.Events;

/// <summary>
/// The memory layout shared by BPF ring buffers and user ring buffers: a consumer page holding the
/// consumer position, then a producer page holding the producer position followed by the data,
/// mapped twice back to back so that a record crossing the end is contiguous. Whoever consumes
/// writes the consumer page; whoever produces writes the producer page and the data.
/// </summary>
internal sealed unsafe class RingMemory : IDisposable
{
    /// <summary>Record header: the record is still being written.</summary>
    internal const uint BusyBit = 1u << 31;

    /// <summary>Record header: the record was discarded and is to be skipped.</summary>
    internal const uint DiscardBit = 1u << 30;

    /// <summary>Size of a record header (length with flags, page offset).</summary>
    internal const int HeaderSize = 8;

    private readonly MemoryMapping _consumer;
    private readonly MemoryMapping _producer;

    /// <param name="fd">The ring buffer map.</param>
    /// <param name="size">The data size (the map's max_entries).</param>
    /// <param name="userSpaceConsumes">True for a BPF ring buffer (user space reads), false for a user ring buffer (user space writes).</param>
    /// <param name="what">The map, for error messages.</param>
    internal RingMemory(FileDescriptor fd, uint size, bool userSpaceConsumes, string what)
    {
        nuint page = (nuint)MemoryMapping.PageSize;
        _consumer = MemoryMapping.Map(fd, page, writable: userSpaceConsumes, 0, $"mapping the consumer position of {what}");
        try
        {
            _producer = MemoryMapping.Map(fd, page + 2 * (nuint)size, writable: !userSpaceConsumes, (long)page, $"mapping the data of {what}");
        }
        catch
        {
            _consumer.Dispose();
            throw;
        }
        ConsumerPosition = (ulong*)_consumer.Pointer;
        ProducerPosition = (ulong*)_producer.Pointer;
        Data = _producer.Pointer + page;
    }

    internal ulong* ConsumerPosition { get; }

    internal ulong* ProducerPosition { get; }

    internal byte* Data { get; }

    internal bool IsDisposed => _producer.IsDisposed;

    public void Dispose()
    {
        _producer.Dispose();
        _consumer.Dispose();
    }
}
