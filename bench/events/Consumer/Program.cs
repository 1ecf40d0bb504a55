using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using BpfSharp.Bench.Events;
using BpfSharp.Events;

// The BpfSharp side of ../shared/bench/events: the same arguments, thread layout, checks and
// summary line as ref_consumer.c (libbpf), on the public API.
//
//   events-consumer OBJECT ringbuf|perfbuf EVENTS [BATCH]

if (args.Length < 3)
{
    Console.Error.WriteLine("usage: consumer OBJECT ringbuf|perfbuf EVENTS [BATCH]");
    return 2;
}
string path = args[0], mode = args[1];
ulong want = ulong.Parse(args[2], CultureInfo.InvariantCulture);
uint batch = args.Length > 3 ? uint.Parse(args[3], CultureInfo.InvariantCulture) : 64;
bool ring = mode == "ringbuf";
if (!ring && mode != "perfbuf")
{
    Console.Error.WriteLine("mode must be ringbuf or perfbuf");
    return 2;
}
want -= want % batch;

using Workload workload = Workload.Load(path, ring, (uint)Environment.ProcessId, batch);
using EventBuffer buffer = ring
    ? new RingBuffer(workload.Buffer)
    // 1024 pages per CPU (4 MiB) as the reference; wakeups batched, with records short of a batch
    // still delivered within the latency bound.
    : new PerfBuffer(workload.Buffer, new PerfBufferOptions
    {
        PagesPerCpu = 1024,
        WakeupEvents = int.Parse(Environment.GetEnvironmentVariable("BPFSHARP_PERF_WAKEUP_EVENTS") ?? "64", CultureInfo.InvariantCulture),
        MaxLatency = TimeSpan.FromMilliseconds(5),
    });

// Records come in a stream: let them gather for 200 µs after each wakeup, so one wakeup takes a
// large batch (perf has its own kernel-side batching above). BPFSHARP_COALESCE_US overrides it,
// BPFSHARP_PERF_WAKEUP_EVENTS the perf batch, for side measurements (0 and 1: libbpf's behaviour).
buffer.WakeupCoalescing = TimeSpan.FromMicroseconds(ring ? 200 : 0);
if (Environment.GetEnvironmentVariable("BPFSHARP_COALESCE_US") is { } coalesce)
{
    buffer.WakeupCoalescing = TimeSpan.FromMicroseconds(double.Parse(coalesce, CultureInfo.InvariantCulture));
}
var taker = new Taker();
// Warm up the read path (JIT, first-call allocations) before anything is measured.
buffer.Consume(ref taker);

Native.Pin(1);
bool producerDone = false;
var producer = new Thread(() =>
{
    Native.Pin(0);
    while (workload.Produced + workload.Dropped + batch <= want)
    {
        Native.GetParentPid();
    }
    Volatile.Write(ref producerDone, true);
}) { Name = "producer" };

long t0 = Stopwatch.GetTimestamp();
double c0 = Native.ThreadCpuSeconds();
producer.Start();
long allocated0 = GC.GetAllocatedBytesForCurrentThread();
long deadline = t0 + 120 * Stopwatch.Frequency;
while (Stopwatch.GetTimestamp() < deadline)
{
    buffer.Poll(ref taker, 50);
    if (Volatile.Read(ref producerDone) && taker.Received >= workload.Produced)
    {
        break;
    }
}
long allocated = GC.GetAllocatedBytesForCurrentThread() - allocated0;
double wall = Stopwatch.GetElapsedTime(t0).TotalSeconds, cpu = Native.ThreadCpuSeconds() - c0;
producer.Join();

ulong produced = workload.Produced, dropped = workload.Dropped;
ulong expectSum = produced == 0 ? 0 : produced * (produced - 1) / 2;
bool ok = taker.Received == produced && (!ring || taker.SeqSum == expectSum) && !taker.Short;
long lost = buffer is PerfBuffer perf ? perf.LostRecords : 0;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"consumer=bpfsharp mode={mode} batch={batch} produced={produced} received={taker.Received} dropped={dropped} lost={lost} wall_s={wall:F4} consumer_cpu_s={cpu:F4} events_per_s={taker.Received / wall:F0} ns_per_event={cpu * 1e9 / Math.Max(taker.Received, 1):F1} allocated_bytes={allocated} check={(ok ? "ok" : "FAILED")}"));
return ok ? 0 : 1;

/// <summary>Counts records and sums their sequence numbers, as the reference's take() does.</summary>
internal struct Taker : IRecordHandler
{
    public ulong Received;
    public ulong SeqSum;
    public bool Short;

    public void OnRecord(ReadOnlySpan<byte> record)
    {
        if (record.Length < 64)
        {
            Short = true;
            return;
        }
        SeqSum += BinaryPrimitives.ReadUInt64LittleEndian(record);
        Received++;
    }
}
