using System.Buffers.Binary;
using BpfSharp.Events;
using BpfSharp.Maps;
using static BpfSharp.Tests.Events.EventTestSupport;

namespace BpfSharp.Tests.Events;

[Trait("Category", "Kernel")]
public sealed class EventPollerTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [KernelFact]
    public void OneThreadServesRingAndPerfBuffersEachWithItsHandler()
    {
        using var ringMapA = RingBufferMap.Create(4096, "ev_poll_a");
        using var ringMapB = RingBufferMap.Create(8192, "ev_poll_b");
        using var perfMap = PerfEventArrayMap.Create(name: "ev_poll_p");
        using var producerA = EventProducer.RingOutput(ringMapA);
        using var producerB = EventProducer.RingOutput(ringMapB, 32);
        using var producerP = EventProducer.PerfOutput(perfMap);
        using var a = new RingBuffer(ringMapA);
        using var b = new RingBuffer(ringMapB);
        // Room for all 600 samples even if the serving thread is not scheduled until the producers are done: the count
        // below is exact.
        using var p = new PerfBuffer(perfMap, new PerfBufferOptions { PagesPerCpu = 16, WakeupEvents = 16, MaxLatency = TimeSpan.FromMilliseconds(10) });
        using var poller = new EventPoller();

        ulong nextA = 0, sumB = 0;
        int countP = 0;
        string? failure = null;
        poller.Add<SequenceRecord>(a, (in SequenceRecord r) =>
        {
            if (r.Seq != nextA++ && failure is null)
            {
                failure = $"ring A: {r.Seq}";
            }
        });
        poller.Add(b, record =>
        {
            if (record.Length != 32 && failure is null)
            {
                failure = $"ring B: {record.Length} bytes";
            }
            sumB += BinaryPrimitives.ReadUInt64LittleEndian(record);
        });
        poller.Add(p, _ => countP++);
        Assert.Equal(3, poller.Count);
        Assert.Throws<ArgumentException>(() => poller.Add(a, _ => { }));

        using var stop = new CancellationTokenSource();
        var serving = new Thread(() => poller.Run(stop.Token));
        serving.Start();
        for (int round = 0; round < 20; round++)
        {
            producerA.Run(100);
            producerB.Run(50);
            producerP.Run(30);
        }
        ulong producedA = producerA.Read().Produced, producedB = producerB.Read().Produced, producedP = producerP.Read().Produced;
        bool all = WaitFor(() => (ulong)a.RecordsReceived == producedA && (ulong)b.RecordsReceived == producedB && (ulong)p.RecordsReceived == producedP, Patience);
        long cancelled = Environment.TickCount64;
        stop.Cancel();
        Assert.True(serving.Join(2000), "cancellation did not stop the poller");
        Assert.True(Environment.TickCount64 - cancelled < 1000);

        Assert.Null(failure);
        Assert.True(all, $"A {a.RecordsReceived}/{producedA}, B {b.RecordsReceived}/{producedB}, perf {p.RecordsReceived}/{producedP}");
        Assert.Equal(producedA, nextA);
        Assert.Equal(producedB * (producedB - 1) / 2, sumB);
        Assert.Equal((int)producedP, countP);
        Assert.Equal(600UL, producedP);
    }

    [KernelFact]
    public void PollReturnsWhatArrivedAndSkipsDisposedBuffers()
    {
        using var ringMap = RingBufferMap.Create(4096, "ev_poll_c");
        using var producer = EventProducer.RingOutput(ringMap);
        var ring = new RingBuffer(ringMap);
        using var poller = new EventPoller();
        int count = 0;
        poller.Add(ring, _ => count++);

        Assert.Equal(0, poller.Poll(0));
        producer.Run(7);
        Assert.Equal(7, poller.Poll(1000));
        ring.Dispose();
        producer.Run(7);
        Assert.Equal(0, poller.Poll(20));
        Assert.Equal(7, count);
    }
}
