using BpfSharp.Asm;
using BpfSharp.Kernel;
using BpfSharp.Maps;
using BpfSharp.Programs;
using BpfSharp.Tracing;

namespace BpfSharp.Bench.Events;

/// <summary>The events.bpf.o workload loaded, its globals mapped and its program attached.</summary>
internal sealed unsafe class Workload : IDisposable
{
    private readonly List<IDisposable> _owned = [];
    private readonly MapMemory _globals;

    private Workload(Map buffer, MapMemory globals)
    {
        Buffer = buffer;
        _globals = globals;
    }

    /// <summary>The ring buffer (rb) or perf event array (pb).</summary>
    public Map Buffer { get; }

    public ulong Produced => Volatile.Read(ref System.Runtime.CompilerServices.Unsafe.As<byte, ulong>(ref _globals.Span[0]));

    public ulong Dropped => Volatile.Read(ref System.Runtime.CompilerServices.Unsafe.As<byte, ulong>(ref _globals.Span[8]));

    public static Workload Load(string objectPath, bool ring, uint targetTgid, uint batch)
    {
        // Development stand-in until the loader lands: the same program as events.bpf.o, assembled.
        _ = objectPath;
        Map buffer = ring
            ? Map.Create(new MapSpec { Type = MapType.RingBuf, Name = "rb", MaxEntries = 16 << 20 })
            : Map.Create(new MapSpec { Type = MapType.PerfEventArray, Name = "pb", KeySize = 4, ValueSize = 4, MaxEntries = (uint)Cpus.PossibleCount });
        Map bss = Map.Create(new MapSpec { Type = MapType.Array, Name = "bss", KeySize = 4, ValueSize = 16, MaxEntries = 1, Flags = MapFlags.Mmapable });
        var a = new Assembler();
        a.Mov(Register.R9, Register.R1)
            .Call(HelperFunction.GetCurrentPidTgid).Alu(AluOperation.RightShift, Register.R0, 32)
            .JumpIf(JumpOperation.NotEqual, Register.R0, (int)targetTgid, "out")
            .Mov(Register.R6, 0);
        for (int i = -64; i < 0; i += 8)
        {
            a.Store(AccessSize.DoubleWord, Register.R10, (short)i, 0);
        }
        a.Label("loop").JumpIf(JumpOperation.GreaterOrEqual, Register.R6, (int)Math.Min(batch, 256), "out");
        if (ring)
        {
            a.LoadMapFd(Register.R1, buffer.Fd.Value).Mov(Register.R2, 64).Mov(Register.R3, 0).Call(HelperFunction.RingBufReserve)
                .JumpIf(JumpOperation.Equal, Register.R0, 0, "drop").Mov(Register.R7, Register.R0)
                .Emit(Instruction.LoadMapValue(Register.R8, bss.Fd.Value, 0)).Mov(Register.R1, 1)
                .Atomic(AtomicOperation.FetchAdd, AccessSize.DoubleWord, Register.R8, 0, Register.R1)
                .Store(AccessSize.DoubleWord, Register.R7, 0, Register.R1).Store(AccessSize.DoubleWord, Register.R7, 8, Register.R6)
                .Mov(Register.R1, Register.R7).Mov(Register.R2, 0).Call(HelperFunction.RingBufSubmit).Goto("next");
        }
        else
        {
            a.Emit(Instruction.LoadMapValue(Register.R8, bss.Fd.Value, 0)).Load(AccessSize.DoubleWord, Register.R1, Register.R8, 0)
                .Store(AccessSize.DoubleWord, Register.R10, -64, Register.R1).Store(AccessSize.DoubleWord, Register.R10, -56, Register.R6)
                .Mov(Register.R1, Register.R9).LoadMapFd(Register.R2, buffer.Fd.Value).Mov32(Register.R3, -1)
                .Mov(Register.R4, Register.R10).Alu(AluOperation.Add, Register.R4, -64).Mov(Register.R5, 64)
                .Call(HelperFunction.PerfEventOutput)
                .JumpIf(JumpOperation.NotEqual, Register.R0, 0, "drop")
                .Emit(Instruction.LoadMapValue(Register.R8, bss.Fd.Value, 0)).Mov(Register.R1, 1)
                .Atomic(AtomicOperation.Add, AccessSize.DoubleWord, Register.R8, 0, Register.R1).Goto("next");
        }
        a.Label("drop").Emit(Instruction.LoadMapValue(Register.R8, bss.Fd.Value, 0)).Mov(Register.R1, 1)
            .Atomic(AtomicOperation.Add, AccessSize.DoubleWord, Register.R8, 8, Register.R1)
            .Label("next").Alu(AluOperation.Add, Register.R6, 1).Goto("loop")
            .Label("out").Mov(Register.R0, 0).Exit();
        var program = BpfSharp.Programs.Program.Load(new ProgramSpec { Name = ring ? "emit_ringbuf" : "emit_perfbuf", Type = ProgramType.Tracepoint, Instructions = a.Build(), License = "GPL" });
        var workload = new Workload(buffer, bss.MapMemory());
        workload._owned.Add(new TracepointAttachment(Tracefs.Default.EventId("syscalls", "sys_enter_getppid"), program.Fd));
        workload._owned.Add(program);
        workload._owned.Add(bss);
        workload._owned.Add(buffer);
        return workload;
    }

    public void Dispose()
    {
        _globals.Dispose();
        foreach (IDisposable owned in _owned)
        {
            owned.Dispose();
        }
    }
}
