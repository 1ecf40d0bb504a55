using System.Numerics;
using BpfSharp.Kernel;
using BpfSharp.Maps;

namespace BpfSharp.Events;

/// <summary>
/// Reads a perf event array (<c>BPF_MAP_TYPE_PERF_EVENT_ARRAY</c>) that programs write to with
/// <c>bpf_perf_event_output</c>: one software event (PERF_COUNT_SW_BPF_OUTPUT, raw samples) per
/// online CPU, stored in the map's slot for that CPU, each with its own memory-mapped ring.
/// Records of one CPU arrive in order; across CPUs there is no order. Records the kernel dropped
/// because a ring was full are counted in <see cref="LostRecords"/>.
/// </summary>
/// <remarks>
/// A ring is one metadata page (<c>perf_event_mmap_page</c>: data_head written by the kernel,
/// data_tail written by the reader) and 2^n data pages. Records are 8-byte aligned; one that wraps
/// around the end of the data pages is reassembled in a scratch buffer owned by this reader, so
/// nothing is allocated per record. data_tail is published with release semantics after each
/// CPU's ring is drained. Disposal clears the map slots, unmaps the rings and closes the events.
/// </remarks>
public sealed unsafe class PerfBuffer : EventBuffer
{
    private const uint RecordLost = 2, RecordSample = 9;
    private const int DataHeadOffset = 1024, DataTailOffset = 1032, DataOffsetOffset = 1040, DataSizeOffset = 1048;
    private const int MaxRecordSize = 64 * 1024; // perf_event_header.size is 16 bits

    private readonly CpuRing[] _rings;
    private readonly PerfEventArrayMap _map;
    private readonly byte[] _scratch = GC.AllocateUninitializedArray<byte>(MaxRecordSize, pinned: true);
    private readonly Action<int, ulong>? _onLost;
    private readonly int _latencyBoundMs;
    private long _lost;

    /// <summary>Opens per-CPU rings for <paramref name="map"/> and stores their events in its slots; the map can be disposed independently.</summary>
    public PerfBuffer(PerfEventArrayMap map, PerfBufferOptions? options = null) : this(map?.Map!, options)
    {
    }

    /// <summary>Opens per-CPU rings for a <see cref="MapType.PerfEventArray"/> map and stores their events in its slots.</summary>
    /// <exception cref="ArgumentException">The map is not a perf event array, or the options are out of range.</exception>
    /// <exception cref="BpfException">perf_event_open, mmap or the map update failed.</exception>
    public PerfBuffer(Map map, PerfBufferOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(map);
        options ??= new PerfBufferOptions();
        if (map.Type != MapType.PerfEventArray)
        {
            throw new ArgumentException($"PerfBuffer reads PerfEventArray maps, but {map} is a {map.Type} map (ring buffers are read with RingBuffer).", nameof(map));
        }
        if (options.PagesPerCpu <= 0 || !BitOperations.IsPow2(options.PagesPerCpu))
        {
            throw new ArgumentException($"PagesPerCpu must be a power of two; {options.PagesPerCpu} is not.", nameof(options));
        }
        long ringBytes = (long)options.PagesPerCpu * MemoryMapping.PageSize;
        if (options.WakeupBytes < 0 || options.WakeupBytes >= ringBytes || options.WakeupEvents <= 0)
        {
            throw new ArgumentException(
                $"WakeupEvents must be positive and WakeupBytes between 0 and the ring size ({ringBytes} bytes); they are {options.WakeupEvents} and {options.WakeupBytes}.", nameof(options));
        }
        _onLost = options.OnLost;
        _latencyBoundMs = options.BatchesWakeups ? (int)Math.Clamp(options.MaxLatency.TotalMilliseconds, 1, int.MaxValue) : -1;

        _map = new PerfEventArrayMap(Map.FromFileDescriptor(map.Fd.Duplicate()));
        var rings = new List<CpuRing>();
        try
        {
            var online = new HashSet<int>(Kernel.Cpus.Online);
            IEnumerable<int> cpus = options.Cpus ?? Kernel.Cpus.Possible;
            foreach (int cpu in cpus)
            {
                if (!online.Contains(cpu))
                {
                    continue; // an offline CPU cannot have a perf event; programs never run there
                }
                if ((uint)cpu >= map.MaxEntries)
                {
                    if (options.Cpus is not null)
                    {
                        throw new ArgumentException($"{map} has {map.MaxEntries} slots, so it has none for CPU {cpu}.", nameof(options));
                    }
                    continue;
                }
                rings.Add(OpenRing(cpu, options));
            }
            if (rings.Count == 0)
            {
                throw new ArgumentException($"No online CPU has a slot in {map} ({map.MaxEntries} slots).", nameof(map));
            }
        }
        catch
        {
            foreach (CpuRing ring in rings)
            {
                ring.Dispose();
            }
            _map.Dispose();
            throw;
        }
        _rings = rings.ToArray();
        PagesPerCpu = options.PagesPerCpu;
        Description = $"perf buffer reader of {map} ({_rings.Length} CPUs)";
    }

    /// <summary>Data pages per CPU ring.</summary>
    public int PagesPerCpu { get; }

    /// <summary>The CPUs this reader has rings for.</summary>
    public IReadOnlyList<int> Cpus => Array.ConvertAll(_rings, r => r.Cpu);

    /// <summary>Records the kernel could not store because a ring was full, over all CPUs.</summary>
    public long LostRecords => Volatile.Read(ref _lost);

    /// <summary>The CPU whose record the handler is being called with (-1 outside a handler).</summary>
    public int CurrentCpu { get; private set; } = -1;

    private string Description { get; }

    internal override IEnumerable<FileDescriptor> ReadinessDescriptors => _rings.Select(r => r.Event);

    private protected override int LatencyBoundMs => _latencyBoundMs;

    /// <summary>Records lost on <paramref name="cpu"/>.</summary>
    public long LostRecordsOnCpu(int cpu)
    {
        foreach (CpuRing ring in _rings)
        {
            if (ring.Cpu == cpu)
            {
                return Volatile.Read(ref ring.Lost);
            }
        }
        return 0;
    }

    /// <inheritdoc />
    public override string ToString() => Description;

    private protected override int DrainAll<THandler>(ref THandler handler)
    {
        int count = 0;
        CpuRing[] rings = _rings;
        for (int i = 0; i < rings.Length; i++)
        {
            count += DrainRing(rings[i], ref handler);
        }
        return count;
    }

    private int DrainRing<THandler>(CpuRing ring, ref THandler handler) where THandler : struct, IRecordHandler
    {
        byte* metadata = ring.Metadata;
        // Acquire: the records are read after the head that covers them.
        ulong head = Volatile.Read(ref *(ulong*)(metadata + DataHeadOffset));
        ulong tail = *(ulong*)(metadata + DataTailOffset);
        if (tail == head)
        {
            return 0;
        }
        byte* data = ring.Data;
        ulong size = ring.Size;
        int count = 0;
        CurrentCpu = ring.Cpu;
        try
        {
            while (tail < head)
            {
                ulong offset = tail & (size - 1);
                byte* record = data + offset;
                // perf_event_header: u32 type, u16 misc, u16 size. Headers never wrap (8-byte aligned records).
                uint type = *(uint*)record;
                int recordSize = *(ushort*)(record + 6);
                if (recordSize < 8)
                {
                    throw new InvalidDataException($"{Description}: a record of {recordSize} bytes at position {tail} on CPU {ring.Cpu}; the ring is corrupt.");
                }
                if (offset + (ulong)recordSize > size)
                {
                    record = Reassemble(data, offset, size, recordSize);
                }
                tail += (ulong)recordSize;
                if (type == RecordSample)
                {
                    // PERF_SAMPLE_RAW: u32 size, then the bytes (padded so the record stays 8-byte aligned).
                    int rawSize = (int)Math.Min(*(uint*)(record + 8), (uint)(recordSize - 12));
                    count++;
                    handler.OnRecord(new ReadOnlySpan<byte>(record + 12, rawSize));
                }
                else if (type == RecordLost)
                {
                    ulong lost = *(ulong*)(record + 16);
                    Interlocked.Add(ref ring.Lost, (long)lost);
                    Interlocked.Add(ref _lost, (long)lost);
                    _onLost?.Invoke(ring.Cpu, lost);
                }
            }
        }
        finally
        {
            // Release: the kernel may reuse the space only after the reads above.
            Volatile.Write(ref *(ulong*)(metadata + DataTailOffset), tail);
            CurrentCpu = -1;
            RecordsReceived += count;
        }
        return count;
    }

    private byte* Reassemble(byte* data, ulong offset, ulong size, int recordSize)
    {
        int first = (int)(size - offset);
        fixed (byte* scratch = _scratch)
        {
            // The array is pinned for its whole life, so the pointer stays valid after the fixed block.
            Buffer.MemoryCopy(data + offset, scratch, MaxRecordSize, first);
            Buffer.MemoryCopy(data, scratch + first, MaxRecordSize - first, recordSize - first);
            return scratch;
        }
    }

    private CpuRing OpenRing(int cpu, PerfBufferOptions options)
    {
        var attr = new PerfEventAttr
        {
            Type = PerfEvents.TypeSoftware,
            Config = PerfEvents.SoftwareBpfOutput,
            SampleType = PerfEvents.SampleRaw,
            SamplePeriodOrFrequency = 1,
            WakeupEventsOrWatermark = (uint)(options.WakeupBytes > 0 ? options.WakeupBytes : options.WakeupEvents),
            Flags = options.WakeupBytes > 0 ? PerfEvents.FlagWatermark : 0,
        };
        FileDescriptor perfEvent = PerfEvents.Open(ref attr, -1, cpu, -1, 0, $"BPF output perf event on CPU {cpu}");
        MemoryMapping? mapping = null;
        try
        {
            nuint length = (nuint)((1 + options.PagesPerCpu) * (long)MemoryMapping.PageSize);
            mapping = MemoryMapping.Map(perfEvent, length, writable: true, 0, $"mapping the perf ring of CPU {cpu}");
            var ring = new CpuRing(cpu, perfEvent, mapping, options.PagesPerCpu);
            _map.Set((uint)cpu, perfEvent);
            PerfEvents.Ioctl(perfEvent, PerfEvents.IocEnable, 0, "PERF_EVENT_IOC_ENABLE");
            Watch(perfEvent);
            return ring;
        }
        catch
        {
            mapping?.Dispose();
            perfEvent.Dispose();
            throw;
        }
    }

    private protected override void ReleaseResources()
    {
        foreach (CpuRing ring in _rings)
        {
            // Programs writing to a slot whose event is gone get -ENOENT instead of filling a ring nobody reads.
            _map.Clear((uint)ring.Cpu);
            ring.Dispose();
        }
        _map.Dispose();
    }

    private sealed class CpuRing : IDisposable
    {
        internal CpuRing(int cpu, FileDescriptor perfEvent, MemoryMapping mapping, int pages)
        {
            Cpu = cpu;
            Event = perfEvent;
            Mapping = mapping;
            Metadata = mapping.Pointer;
            // Kernels since 4.1 say where the data starts and how large it is; older ones put it after the first page.
            ulong dataOffset = *(ulong*)(Metadata + DataOffsetOffset);
            ulong dataSize = *(ulong*)(Metadata + DataSizeOffset);
            Data = Metadata + (dataOffset != 0 ? dataOffset : (ulong)MemoryMapping.PageSize);
            Size = dataSize != 0 ? dataSize : (ulong)pages * (ulong)MemoryMapping.PageSize;
        }

        internal int Cpu { get; }
        internal FileDescriptor Event { get; }
        internal MemoryMapping Mapping { get; }
        internal byte* Metadata { get; }
        internal byte* Data { get; }
        internal ulong Size { get; }
        internal long Lost;

        public void Dispose()
        {
            Mapping.Dispose();
            Event.Dispose();
        }
    }
}
