using System.Buffers.Binary;
using BpfSharp.Events;
using BpfSharp.Kernel;
using BpfSharp.Maps;
using static BpfSharp.Tests.Events.EventTestSupport;

namespace BpfSharp.Tests.Events;

[Trait("Category", "Kernel")]
public sealed class PerfBufferTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    // A 16-byte sample: 8-byte header, 4-byte raw size, 16 bytes padded to 20: 32 bytes in the ring.
    private const int SampleBytes = 32;

    [KernelTheory]
    [InlineData(16)] // 32 bytes a sample: laps of the ring end exactly at its end
    [InlineData(40)] // 56 bytes a sample: samples straddle the end and are reassembled
    public void EveryRecordArrivesExactlyOnceAndIntactAcrossManyWraps(int recordSize)
    {
        using var map = PerfEventArrayMap.Create(name: "ev_perf_wraps");
        using var producer = EventProducer.PerfOutput(map, recordSize);
        int rawSize = ((4 + recordSize + 7) & ~7) - 4;
        using var reader = new PerfBuffer(map, new PerfBufferOptions { PagesPerCpu = 1 });
        using var stop = new CancellationTokenSource();

        var seen = new List<ulong>();
        string? failure = null;
        var lastOnCpu = new Dictionary<int, ulong>();
        var consumer = new Thread(() => reader.Run(record =>
        {
            ulong seq = BinaryPrimitives.ReadUInt64LittleEndian(record);
            if (failure is null && (record.Length != rawSize || BinaryPrimitives.ReadUInt64LittleEndian(record[8..]) != ~seq
                || BinaryPrimitives.ReadUInt64LittleEndian(record[(recordSize - 8)..]) != (recordSize > 16 ? seq : ~seq)))
            {
                failure = $"record {seq}: {record.Length} bytes";
            }
            // In order within a CPU.
            if (lastOnCpu.TryGetValue(reader.CurrentCpu, out ulong last) && last >= seq && failure is null)
            {
                failure = $"record {seq} after {last} on CPU {reader.CurrentCpu}";
            }
            lastOnCpu[reader.CurrentCpu] = seq;
            seen.Add(seq);
        }, stop.Token));
        consumer.Start();

        for (int round = 0; round < 200; round++)
        {
            producer.Run(250);
        }
        ProducerCounters counters = producer.Read();
        bool drained = WaitFor(() => (ulong)reader.RecordsReceived == counters.Produced, Patience);
        stop.Cancel();
        Assert.True(consumer.Join(Patience));

        Assert.Null(failure);
        Assert.True(drained, $"received {reader.RecordsReceived} of {counters.Produced}");
        Assert.Equal(50_000UL, counters.Produced + counters.Dropped);
        seen.Sort();
        Assert.Equal(Enumerable.Range(0, (int)counters.Produced).Select(i => (ulong)i), seen);
        Assert.True(counters.Produced * (ulong)(8 + 4 + rawSize) > 20UL * (ulong)Environment.SystemPageSize, $"only {counters.Produced} records went through");
        // The kernel reports a loss ahead of the next record that fits, so it never reports more than were dropped.
        Assert.InRange((ulong)reader.LostRecords, 0UL, counters.Dropped);
    }

    [KernelFact]
    public void LostRecordsAreCountedWhenTheReaderStalls()
    {
        using var map = PerfEventArrayMap.Create(name: "ev_perf_lost");
        using var producer = EventProducer.PerfOutput(map);
        var reported = new List<(int Cpu, ulong Count)>();
        using var reader = new PerfBuffer(map, new PerfBufferOptions { PagesPerCpu = 1, OnLost = (cpu, n) => reported.Add((cpu, n)) });
        // Both test runs must write to the same CPU's ring: the loss is reported ahead of the next record there.
        using var pin = new CpuPin();

        // One test run stays on one CPU: a one-page ring holds 128 samples, the rest are lost.
        producer.Run(1000);
        ProducerCounters stalled = producer.Read();
        // perf keeps the ring from filling to the last byte: one sample less than the page holds.
        Assert.InRange((int)stalled.Produced, Environment.SystemPageSize / SampleBytes - 1, Environment.SystemPageSize / SampleBytes);
        Assert.Equal(1000UL - stalled.Produced, stalled.Dropped);
        Assert.Equal((int)stalled.Produced, reader.Consume(_ => { }));
        Assert.Equal(0, reader.LostRecords); // reported with the next record that fits

        producer.Run(1);
        int cpu = -1;
        Assert.Equal(1, reader.Consume(_ => cpu = reader.CurrentCpu));
        Assert.Equal(pin.Cpu, cpu);
        Assert.Equal((long)stalled.Dropped, reader.LostRecords);
        Assert.Equal((long)stalled.Dropped, reader.LostRecordsOnCpu(cpu));
        Assert.Equal([(cpu, stalled.Dropped)], reported);
        Assert.Contains(cpu, reader.Cpus);
    }

    [KernelTheory]
    [InlineData(64, 0)]
    [InlineData(1, 2048)]
    public void BatchedWakeupsStillDeliverWithinTheLatencyBound(int wakeupEvents, int wakeupBytes)
    {
        using var map = PerfEventArrayMap.Create(name: "ev_perf_batch");
        using var producer = EventProducer.PerfOutput(map);
        using var reader = new PerfBuffer(map, new PerfBufferOptions
        {
            PagesPerCpu = 4,
            WakeupEvents = wakeupEvents,
            WakeupBytes = wakeupBytes,
            MaxLatency = TimeSpan.FromMilliseconds(20),
        });

        int received = 0;
        var late = new Thread(() =>
        {
            Thread.Sleep(30);
            producer.Run(5); // far fewer than a batch: the kernel never wakes the reader for them
        });
        late.Start();
        long started = Environment.TickCount64;
        while (received < 5 && Environment.TickCount64 - started < 10_000)
        {
            received += reader.Poll(_ => { }, 10_000);
        }
        late.Join();
        Assert.Equal(5, received);
        Assert.True(Environment.TickCount64 - started < 2_000, "records short of a wakeup batch waited past the latency bound");
    }

    [KernelFact]
    public void OptionsOutOfRangeAreRefused()
    {
        using var map = PerfEventArrayMap.Create(name: "ev_perf_opts");
        Assert.Contains("power of two", Assert.Throws<ArgumentException>(() => new PerfBuffer(map, new PerfBufferOptions { PagesPerCpu = 3 })).Message);
        Assert.Contains("WakeupBytes", Assert.Throws<ArgumentException>(() => new PerfBuffer(map, new PerfBufferOptions { PagesPerCpu = 1, WakeupBytes = 4096 })).Message);
        using var ring = RingBufferMap.Create(4096);
        Assert.Contains("RingBuffer", Assert.Throws<ArgumentException>(() => new PerfBuffer(ring.Map)).Message);
    }

    [KernelFact]
    public void DisposalClearsTheSlotsAndReleasesRingsAndEvents()
    {
        using var map = PerfEventArrayMap.Create(name: "ev_perf_free");
        using var producer = EventProducer.PerfOutput(map);
        const int pages = 16; // a ring size no other test maps
        long ringBytes = (1 + pages) * (long)Environment.SystemPageSize;
        int before = CountMappings("anon_inode:[perf_event]", ringBytes);

        var reader = new PerfBuffer(map, new PerfBufferOptions { PagesPerCpu = pages });
        Assert.Equal(before + Cpus.Online.Count, CountMappings("anon_inode:[perf_event]", ringBytes));
        Assert.Equal(2, CountMapDescriptors(map.Map.Id));
        producer.Run(10);
        Assert.Equal(10, reader.Consume(_ => { }));

        reader.Dispose();
        Assert.Equal(before, CountMappings("anon_inode:[perf_event]", ringBytes));
        Assert.Equal(1, CountMapDescriptors(map.Map.Id));
        // With its slots cleared, the program's output fails instead of filling rings nobody reads.
        producer.Run(10);
        Assert.Equal(10UL, producer.Read().Dropped);
    }

    [KernelFact]
    public void ConsumingAllocatesNothingPerRecord()
    {
        using var map = PerfEventArrayMap.Create(name: "ev_perf_alloc");
        using var producer = EventProducer.PerfOutput(map);
        using var reader = new PerfBuffer(map, new PerfBufferOptions { PagesPerCpu = 128 });
        RecordHandler handler = static record => { _ = record.Length; };
        producer.Run(10);
        reader.Consume(handler);

        producer.Run(10_000);
        long before = GC.GetAllocatedBytesForCurrentThread();
        int count = reader.Consume(handler);
        long after = GC.GetAllocatedBytesForCurrentThread();
        Assert.Equal(10_000, count);
        Assert.Equal(0, after - before);
    }
}
