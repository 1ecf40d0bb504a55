using System.Runtime.InteropServices;
using BpfSharp.Asm;
using BpfSharp.Maps;
using BpfSharp.Programs;

namespace BpfSharp.Tests.Events;

/// <summary>What the producer programs count, in slot 0 of an array map.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ProducerCounters
{
    public ulong Produced;  // records submitted (the next sequence number)
    public ulong Dropped;   // reserve/output calls that found no room
    public ulong Discarded; // reservations discarded on purpose
    public ulong Attempts;  // reserve calls made
}

/// <summary>The 16-byte record of the output programs: a sequence number and its complement.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct SequenceRecord
{
    public ulong Seq;
    public ulong Check;
}

/// <summary>
/// XDP programs, written with the assembler, that produce numbered records into ring buffers and
/// perf event arrays when test-run (XDP test runs accept a repeat count, so one call produces many).
/// </summary>
internal sealed class EventProducer : IDisposable
{
    private const int XdpPass = 2;
    private static readonly byte[] Packet = new byte[64];

    private EventProducer(Program program, ArrayMap<ProducerCounters> counters)
    {
        Program = program;
        Counters = counters;
    }

    public Program Program { get; }

    public ArrayMap<ProducerCounters> Counters { get; }

    public ProducerCounters Read() => Counters.Lookup(0);

    /// <summary>Runs the program <paramref name="times"/> times in one test run (on one CPU).</summary>
    public void Run(uint times) => Program.TestRun(new TestRunOptions { Data = Packet, Repeat = times });

    public void Dispose()
    {
        Program.Dispose();
        Counters.Dispose();
    }

    /// <summary>
    /// bpf_ringbuf_reserve of <paramref name="recordSize"/> bytes, the sequence number at 0, its
    /// complement at 8, its low half again in the last 4 bytes; every <paramref name="discardEvery"/>-th
    /// reservation (0: none) is discarded instead of submitted.
    /// </summary>
    public static EventProducer ReserveSubmit(RingBufferMap ring, int recordSize, int discardEvery)
    {
        var counters = ArrayMap<ProducerCounters>.Create(1, "producer_counts");
        var a = new Assembler();
        LookupCounters(a, counters);
        if (discardEvery > 0)
        {
            a.Mov(Register.R1, 1).Atomic(AtomicOperation.FetchAdd, AccessSize.DoubleWord, Register.R9, 24, Register.R1).Mov(Register.R8, Register.R1);
        }
        a.LoadMapFd(Register.R1, ring.Fd.Value).Mov(Register.R2, recordSize).Mov(Register.R3, 0).Call(HelperFunction.RingBufReserve)
            .JumpIf(JumpOperation.Equal, Register.R0, 0, "dropped")
            .Mov(Register.R7, Register.R0);
        if (discardEvery > 0)
        {
            a.Mov(Register.R1, Register.R8).Alu(AluOperation.Mod, Register.R1, discardEvery)
                .JumpIf(JumpOperation.Equal, Register.R1, discardEvery - 1, "discard");
        }
        a.Mov(Register.R1, 1).Atomic(AtomicOperation.FetchAdd, AccessSize.DoubleWord, Register.R9, 0, Register.R1)
            .Store(AccessSize.DoubleWord, Register.R7, 0, Register.R1)
            .Mov(Register.R2, Register.R1).Alu(AluOperation.Xor, Register.R2, -1)
            .Store(AccessSize.DoubleWord, Register.R7, 8, Register.R2)
            .Store(AccessSize.Word, Register.R7, (short)(recordSize - 4), Register.R1)
            .Mov(Register.R1, Register.R7).Mov(Register.R2, 0).Call(HelperFunction.RingBufSubmit)
            .Goto("out");
        if (discardEvery > 0)
        {
            a.Label("discard").Mov(Register.R1, Register.R7).Mov(Register.R2, 0).Call(HelperFunction.RingBufDiscard)
                .Mov(Register.R1, 1).Atomic(AtomicOperation.Add, AccessSize.DoubleWord, Register.R9, 16, Register.R1)
                .Goto("out");
        }
        a.Label("dropped").Mov(Register.R1, 1).Atomic(AtomicOperation.Add, AccessSize.DoubleWord, Register.R9, 8, Register.R1);
        a.Label("out").Mov(Register.R0, XdpPass).Exit();
        return Load("rb_reserve", a, counters);
    }

    /// <summary>
    /// bpf_ringbuf_output of a record built on the stack: a <see cref="SequenceRecord"/>, then (for
    /// larger <paramref name="recordSize"/>s, a multiple of 8) the sequence number in every further 8 bytes.
    /// </summary>
    /// <param name="ring">The ring buffer.</param>
    /// <param name="recordSize">The record size.</param>
    /// <param name="flags">bpf_ringbuf_output's flags: 1 is BPF_RB_NO_WAKEUP, 2 BPF_RB_FORCE_WAKEUP.</param>
    public static EventProducer RingOutput(RingBufferMap ring, int recordSize = 16, int flags = 0) => Output(ring.Map, perf: false, recordSize, flags);

    /// <summary>bpf_perf_event_output (BPF_F_CURRENT_CPU) of the record <see cref="RingOutput"/> writes.</summary>
    public static EventProducer PerfOutput(PerfEventArrayMap perf, int recordSize = 16) => Output(perf.Map, perf: true, recordSize);

    private static EventProducer Output(Map target, bool perf, int recordSize, int flags = 0)
    {
        if (recordSize < 16 || recordSize % 8 != 0 || recordSize > 256)
        {
            throw new ArgumentOutOfRangeException(nameof(recordSize));
        }
        var counters = ArrayMap<ProducerCounters>.Create(1, "producer_counts");
        var a = new Assembler();
        a.Mov(Register.R6, Register.R1);
        LookupCounters(a, counters);
        short start = (short)-recordSize;
        a.Load(AccessSize.DoubleWord, Register.R1, Register.R9, 0);
        for (short slot = 16; slot < recordSize; slot += 8)
        {
            a.Store(AccessSize.DoubleWord, Register.R10, (short)(start + slot), Register.R1);
        }
        a.Store(AccessSize.DoubleWord, Register.R10, start, Register.R1)
            .Alu(AluOperation.Xor, Register.R1, -1)
            .Store(AccessSize.DoubleWord, Register.R10, (short)(start + 8), Register.R1);
        if (perf)
        {
            // BPF_F_CURRENT_CPU is the low 32 bits set; a 32-bit move keeps the context-length bits clear.
            a.Mov(Register.R1, Register.R6).LoadMapFd(Register.R2, target.Fd.Value).Mov32(Register.R3, -1)
                .Mov(Register.R4, Register.R10).Alu(AluOperation.Add, Register.R4, start).Mov(Register.R5, recordSize)
                .Call(HelperFunction.PerfEventOutput);
        }
        else
        {
            a.LoadMapFd(Register.R1, target.Fd.Value).Mov(Register.R2, Register.R10).Alu(AluOperation.Add, Register.R2, start)
                .Mov(Register.R3, recordSize).Mov(Register.R4, flags).Call(HelperFunction.RingBufOutput);
        }
        a.JumpIf(JumpOperation.NotEqual, Register.R0, 0, "dropped")
            .Mov(Register.R1, 1).Atomic(AtomicOperation.Add, AccessSize.DoubleWord, Register.R9, 0, Register.R1).Goto("out")
            .Label("dropped").Mov(Register.R1, 1).Atomic(AtomicOperation.Add, AccessSize.DoubleWord, Register.R9, 8, Register.R1)
            .Label("out").Mov(Register.R0, XdpPass).Exit();
        return Load(perf ? "perf_output" : "rb_output", a, counters);
    }

    /// <summary>r9 = &amp;counters[0], or return XDP_PASS when the lookup fails. The key lives below any record built on the stack.</summary>
    private static void LookupCounters(Assembler a, ArrayMap<ProducerCounters> counters) =>
        a.Store(AccessSize.Word, Register.R10, -260, 0)
            .LoadMapFd(Register.R1, counters.Fd.Value).Mov(Register.R2, Register.R10).Alu(AluOperation.Add, Register.R2, -260)
            .Call(HelperFunction.MapLookupElem)
            .JumpIf(JumpOperation.NotEqual, Register.R0, 0, "have_counters")
            .Mov(Register.R0, XdpPass).Exit()
            .Label("have_counters").Mov(Register.R9, Register.R0);

    private static EventProducer Load(string name, Assembler a, ArrayMap<ProducerCounters> counters)
    {
        try
        {
            var program = Program.Load(new ProgramSpec { Name = name, Type = ProgramType.Xdp, Instructions = a.Build(), License = "GPL" });
            return new EventProducer(program, counters);
        }
        catch
        {
            counters.Dispose();
            throw;
        }
    }
}
