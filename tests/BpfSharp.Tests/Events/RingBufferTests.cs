using System.Buffers.Binary;
using BpfSharp.Events;
using BpfSharp.Maps;
using static BpfSharp.Tests.Events.EventTestSupport;

namespace BpfSharp.Tests.Events;

[Trait("Category", "Kernel")]
public sealed class RingBufferTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [KernelTheory]
    [InlineData(20)]   // padded to 24 + 8-byte header: 128 records a lap of a one-page ring
    [InlineData(1000)] // records that straddle the end of the data area, read through the second mapping
    public void ReservedRecordsArriveOnceInOrderAndIntactAcrossManyWraps(int recordSize)
    {
        const uint ringSize = 4096;
        using var map = RingBufferMap.Create(ringSize, "ev_wraps");
        using var producer = EventProducer.ReserveSubmit(map, recordSize, discardEvery: 5);
        using var reader = new RingBuffer(map);
        using var stop = new CancellationTokenSource();

        ulong expected = 0;
        string? failure = null;
        var consumer = new Thread(() => reader.Run(record =>
        {
            ulong seq = BinaryPrimitives.ReadUInt64LittleEndian(record);
            if (failure is null && (record.Length != recordSize || seq != expected
                || BinaryPrimitives.ReadUInt64LittleEndian(record[8..]) != ~seq
                || BinaryPrimitives.ReadUInt32LittleEndian(record[(recordSize - 4)..]) != (uint)seq))
            {
                failure = $"record {expected}: length {record.Length}, seq {seq}";
            }
            expected = seq + 1;
        }, stop.Token));
        consumer.Start();

        // Sustained load: the consumer runs while the producer keeps the small ring full.
        for (int round = 0; round < 100; round++)
        {
            producer.Run(500);
        }
        ProducerCounters counters = producer.Read();
        bool drained = WaitFor(() => (ulong)reader.RecordsReceived == counters.Produced, Patience);
        stop.Cancel();
        Assert.True(consumer.Join(Patience), "the reader did not stop after cancellation");

        Assert.Null(failure);
        Assert.True(drained, $"received {reader.RecordsReceived} of {counters.Produced} records");
        Assert.Equal(counters.Produced, expected);
        Assert.Equal(50_000UL, counters.Attempts);
        Assert.Equal(counters.Attempts, counters.Produced + counters.Dropped + counters.Discarded);
        Assert.Equal((long)counters.Discarded, reader.RecordsDiscarded);
        Assert.True(counters.Discarded > 0);
        // Many laps of the ring, whatever the kernel had to drop while it was full.
        ulong stride = ((ulong)recordSize + 8 + 7) & ~7UL;
        Assert.True((counters.Produced + counters.Discarded) * stride > 20 * ringSize, $"only {counters.Produced} records went through");
        Assert.Equal(0, reader.PendingBytes);
    }

    [KernelFact]
    public void OutputRecordsArriveThroughEveryHandlerForm()
    {
        using var map = RingBufferMap.Create(64 * 1024, "ev_forms");
        using var producer = EventProducer.RingOutput(map);
        using var reader = new RingBuffer(map);

        producer.Run(100);
        var typed = new List<ulong>();
        Assert.Equal(100, reader.Consume((in SequenceRecord r) =>
        {
            Assert.Equal(~r.Seq, r.Check);
            typed.Add(r.Seq);
        }));
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (ulong)i), typed);

        producer.Run(100);
        var sum = new SumHandler();
        Assert.Equal(100, reader.Consume(ref sum));
        Assert.Equal(Enumerable.Range(100, 100).Sum(i => (long)i), (long)sum.Sum);

        producer.Run(100);
        int lengths = 0;
        Assert.Equal(100, reader.Poll(record => lengths += record.Length, 1000));
        Assert.Equal(1600, lengths);
        Assert.Equal(0, reader.Poll(_ => { }, 0));
        Assert.Equal(300, reader.RecordsReceived);
        Assert.Equal(0, reader.RecordsDiscarded);
    }

    [KernelFact]
    public void PollWaitsForTheKernelsWakeup()
    {
        using var map = RingBufferMap.Create(64 * 1024, "ev_wake");
        using var producer = EventProducer.RingOutput(map);
        using var reader = new RingBuffer(map);

        var late = new Thread(() =>
        {
            Thread.Sleep(50);
            producer.Run(3);
        });
        late.Start();
        int received = 0;
        long started = Environment.TickCount64;
        while (received < 3 && Environment.TickCount64 - started < 10_000)
        {
            received += reader.Poll(_ => { }, 10_000);
        }
        late.Join();
        Assert.Equal(3, received);
        Assert.True(Environment.TickCount64 - started < 5_000, "the wakeup did not end the wait");
    }

    [KernelFact]
    public void MaxLatencyDrainsRecordsSubmittedWithoutAWakeup()
    {
        const int NoWakeup = 1;
        using var map = RingBufferMap.Create(64 * 1024, "ev_nowake");
        using var producer = EventProducer.RingOutput(map, flags: NoWakeup);
        using var reader = new RingBuffer(map);
        var late = new Thread(() =>
        {
            Thread.Sleep(50);
            producer.Run(3);
        });

        // Without a bound, records submitted with BPF_RB_NO_WAKEUP do not end a wait: it runs to its timeout and
        // drains them only then.
        late.Start();
        long started = Environment.TickCount64;
        // (A long timeout, so that a producer thread the scheduler holds back on a busy machine still lands in it.)
        Assert.Equal(3, reader.Poll(_ => { }, 2_000));
        Assert.True(Environment.TickCount64 - started >= 1_950, "the wait ended before its timeout");
        late.Join();

        // With MaxLatency, a wait with no timeout drains them within the bound.
        reader.MaxLatency = TimeSpan.FromMilliseconds(100);
        late = new Thread(() =>
        {
            Thread.Sleep(50);
            producer.Run(3);
        });
        late.Start();
        started = Environment.TickCount64;
        int received = 0;
        while (received < 3 && Environment.TickCount64 - started < 10_000)
        {
            received += reader.Poll(_ => { });
        }
        late.Join();
        Assert.Equal(3, received);
        Assert.True(Environment.TickCount64 - started < 2_000, $"took {Environment.TickCount64 - started} ms");
    }

    [KernelFact]
    public void WakeupCoalescingTakesALaterBurstInTheSameDrain()
    {
        using var map = RingBufferMap.Create(64 * 1024, "ev_coalesce");
        using var producer = EventProducer.RingOutput(map);
        // A window far wider than the 20 ms between the bursts, for a busy machine's scheduler.
        using var reader = new RingBuffer(map) { WakeupCoalescing = TimeSpan.FromMilliseconds(1_000) };
        var bursts = new Thread(() =>
        {
            Thread.Sleep(30);
            producer.Run(1); // wakes the reader
            Thread.Sleep(20);
            producer.Run(9); // within the coalescing window: no wakeup needed
        });
        bursts.Start();
        int first = reader.Poll(_ => { }, 10_000);
        bursts.Join();
        Assert.Equal(10, first);
    }

    [KernelFact]
    public void ShortRecordsAreRefusedByTypedHandlers()
    {
        using var map = RingBufferMap.Create(4096, "ev_short");
        using var producer = EventProducer.RingOutput(map);
        using var reader = new RingBuffer(map);
        producer.Run(1);
        var e = Assert.Throws<InvalidDataException>(() => reader.Consume((in Large _) => { }));
        Assert.Contains("16-byte record", e.Message);
        Assert.Equal(0, reader.PendingBytes); // the refused record was consumed, not read again
    }

    [KernelFact]
    public void ConsumingAllocatesNothingPerRecord()
    {
        using var map = RingBufferMap.Create(1 << 20, "ev_alloc");
        using var producer = EventProducer.RingOutput(map);
        using var reader = new RingBuffer(map);
        RecordHandler counting = static record => { _ = record.Length; };

        // Warm up: JIT and first-call allocations are not per record.
        producer.Run(10);
        var sum = new SumHandler();
        reader.Consume(ref sum);
        reader.Poll(counting, 0);

        producer.Run(10_000);
        long before = GC.GetAllocatedBytesForCurrentThread();
        int viaStruct = reader.Consume(ref sum);
        long afterStruct = GC.GetAllocatedBytesForCurrentThread();
        producer.Run(10_000);
        long beforeDelegate = GC.GetAllocatedBytesForCurrentThread();
        int viaDelegate = reader.Poll(counting, 0);
        long afterDelegate = GC.GetAllocatedBytesForCurrentThread();

        Assert.Equal(10_000, viaStruct);
        Assert.Equal(10_000, viaDelegate);
        Assert.Equal(0, afterStruct - before);
        Assert.Equal(0, afterDelegate - beforeDelegate);
    }

    [KernelFact]
    public async Task AsyncStreamDeliversEveryRecordInOrderWithBoundedBackpressure()
    {
        using var map = RingBufferMap.Create(1 << 20, "ev_async");
        using var producer = EventProducer.RingOutput(map);
        using var reader = new RingBuffer(map);
        producer.Run(5000);

        ulong expected = 0;
        using var timeout = new CancellationTokenSource(Patience);
        await foreach (SequenceRecord record in reader.ReadAllAsync<SequenceRecord>(capacity: 16, cancellationToken: timeout.Token))
        {
            Assert.Equal(expected, record.Seq);
            Assert.Equal(~record.Seq, record.Check);
            if (++expected == 5000)
            {
                break;
            }
            if (expected == 100)
            {
                // The stream holds at most 16 records; the rest wait in the kernel buffer.
                Assert.True(reader.RecordsReceived <= 100 + 16 + 1, $"{reader.RecordsReceived} records read ahead");
            }
        }
        Assert.Equal(5000UL, expected);
        Assert.Equal(0, reader.RecordsDropped);
    }

    [KernelFact]
    public async Task AsyncStreamCanDropWhatItHasNoRoomFor()
    {
        using var map = RingBufferMap.Create(1 << 20, "ev_drop");
        using var producer = EventProducer.RingOutput(map);
        using var reader = new RingBuffer(map);
        producer.Run(1000);

        using var timeout = new CancellationTokenSource(Patience);
        await using IAsyncEnumerator<SequenceRecord> stream = reader.ReadAllAsync<SequenceRecord>(4, Backpressure.DropNewest, timeout.Token).GetAsyncEnumerator(timeout.Token);
        Assert.True(await stream.MoveNextAsync());
        int delivered = 1;
        Assert.True(WaitFor(() => reader.RecordsReceived == 1000, Patience));
        while (delivered + reader.RecordsDropped < 1000 && await stream.MoveNextAsync())
        {
            delivered++;
        }
        Assert.Equal(1000, delivered + reader.RecordsDropped);
        Assert.InRange(delivered, 1, 6);
    }

    [KernelFact]
    public void CancellationAndDisposalStopABlockedReaderPromptly()
    {
        using var map = RingBufferMap.Create(4096, "ev_cancel");
        var reader = new RingBuffer(map);
        using var stop = new CancellationTokenSource();
        var running = new Thread(() => reader.Run(_ => { }, stop.Token));
        running.Start();
        // Blocked: the reader is in its wait (an empty buffer keeps it there until cancelled).
        Assert.True(WaitFor(() => reader.IsBeingRead, Patience));
        long cancelled = Environment.TickCount64;
        stop.Cancel();
        Assert.True(running.Join(2000));
        Assert.True(Environment.TickCount64 - cancelled < 1000);

        int result = -1;
        var polling = new Thread(() => result = reader.Poll(_ => { }, -1));
        polling.Start();
        // Disposing before the thread reached Poll would make Poll throw ObjectDisposedException on that thread.
        Assert.True(WaitFor(() => reader.IsBeingRead, Patience));
        reader.Dispose();
        Assert.True(polling.Join(2000), "disposal did not end the wait");
        Assert.Equal(0, result);
        Assert.True(reader.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => reader.Consume(_ => { }));
    }

    [KernelFact]
    public void ASecondConcurrentReaderIsRefused()
    {
        using var map = RingBufferMap.Create(4096, "ev_two");
        using var reader = new RingBuffer(map);
        using var stop = new CancellationTokenSource();
        var running = new Thread(() => reader.Run(_ => { }, stop.Token));
        running.Start();
        // Wait without reading: a probing Consume that got in first would refuse the reader thread's Run instead.
        Assert.True(WaitFor(() => reader.IsBeingRead, Patience));
        Assert.Throws<InvalidOperationException>(() => reader.Consume(_ => { }));
        Assert.Throws<InvalidOperationException>(() => reader.Poll(_ => { }, 0));
        stop.Cancel();
        Assert.True(running.Join(Patience));
        Assert.Equal(0, reader.Consume(_ => { })); // free again once the reader left
    }

    [KernelFact]
    public void DisposalReleasesTheMappingsAndTheDescriptor()
    {
        const uint size = 1 << 21; // a size no other test maps: its data mapping is page + 2 × size
        long dataMapping = Environment.SystemPageSize + 2L * size;
        using var map = RingBufferMap.Create(size, "ev_release");
        int mappingsBefore = CountMappings("anon_inode:bpf-map", dataMapping);
        Assert.Equal(1, CountMapDescriptors(map.Map.Id));

        var reader = new RingBuffer(map);
        Assert.Equal(mappingsBefore + 1, CountMappings("anon_inode:bpf-map", dataMapping));
        Assert.Equal(2, CountMapDescriptors(map.Map.Id));

        reader.Dispose();
        Assert.Equal(mappingsBefore, CountMappings("anon_inode:bpf-map", dataMapping));
        Assert.Equal(1, CountMapDescriptors(map.Map.Id));
    }

    [KernelFact]
    public void OtherMapTypesAreRefusedWithTheRightReaderNamed()
    {
        using var perf = PerfEventArrayMap.Create();
        var e = Assert.Throws<ArgumentException>(() => new RingBuffer(perf.Map));
        Assert.Contains("PerfBuffer", e.Message);
    }

    private struct SumHandler : IRecordHandler
    {
        public ulong Sum;

        public void OnRecord(ReadOnlySpan<byte> record) => Sum += BinaryPrimitives.ReadUInt64LittleEndian(record);
    }

    private struct Large
    {
#pragma warning disable CS0649
        public ulong A, B, C;
#pragma warning restore CS0649
    }
}
