using BpfSharp.Asm;
using BpfSharp.Kernel;
using BpfSharp.Programs;

namespace BpfSharp.Tests.Asm;

/// <summary>
/// Programs written with the <see cref="Assembler"/> (including v4 instructions) loaded into the
/// running kernel and run with BPF_PROG_TEST_RUN: the kernel must accept the encoding and compute
/// what the instruction names say.
/// </summary>
[Trait("Category", "Kernel")]
public sealed class AssembledProgramKernelTests
{
    public static TheoryData<string, uint> Cases => new()
    {
        { "sdiv", unchecked((uint)-14) },
        { "smod", unchecked((uint)-2) },
        { "movsx8", unchecked((uint)-128) },
        { "movsx16_32bit", 0xffff8000 },
        { "bswap", 0x78563412 },
        { "be16", 0x3412 },
        { "ldsx", 0xffffffff },
        { "gotol", 2 },
        { "may_goto", 10 },
        { "atomics", 15 + 10 + 99 },
        { "acquire_release", 77 },
        { "jmp32_signed", 1 },
        { "subprogram", 42 },
        { "bounded_loop", 10 },
        { "helper_by_name", 10 },
        { "store_immediate", 0xfffffffe },
    };

    [KernelTheory]
    [MemberData(nameof(Cases))]
    public void KernelComputesWhatTheAssemblerWrote(string name, uint expected)
    {
        IReadOnlyList<Instruction> program = Build(name).Build();
        Assert.Equal(expected, Run(program, name));
    }

    private static Assembler Build(string name)
    {
        var a = new Assembler();
        switch (name)
        {
            case "sdiv":
                a.Mov(Register.R0, -100).Emit(Instruction.SignedAlu(AluOperation.Div, Register.R0, 7)).Exit();
                break;
            case "smod":
                a.Mov(Register.R0, -100).Mov(Register.R1, 7).Emit(Instruction.SignedAlu(AluOperation.Mod, Register.R0, Register.R1)).Exit();
                break;
            case "movsx8":
                a.Mov(Register.R1, 0x80).Emit(Instruction.MoveSignExtend(Register.R0, Register.R1, 8)).Exit();
                break;
            case "movsx16_32bit":
                a.Mov32(Register.R1, 0x8000).Emit(Instruction.MoveSignExtend(Register.R0, Register.R1, 16, wide: false)).Exit();
                break;
            case "bswap":
                a.Mov(Register.R0, 0x12345678).Emit(Instruction.ByteSwap(Register.R0, 32)).Exit();
                break;
            case "be16":
                a.Mov(Register.R0, 0x1234).Emit(Instruction.ToByteOrder(ByteOrder.BigEndian, Register.R0, 16)).Exit();
                break;
            case "ldsx":
                // A byte 0xff read sign-extending fills all 64 bits: the high half is 0xffffffff.
                a.Store(AccessSize.Byte, Register.R10, -8, 0xff)
                    .Emit(Instruction.LoadMemorySignExtend(AccessSize.Byte, Register.R0, Register.R10, -8))
                    .Alu(AluOperation.RightShift, Register.R0, 32)
                    .Exit();
                break;
            case "gotol":
                // The conditional jump keeps "r0 = 1" reachable (the kernel rejects dead code);
                // at run time gotol skips it.
                a.Mov(Register.R0, 0)
                    .JumpIf(JumpOperation.NotEqual, Register.R0, 0, "set_one")
                    .Emit(Instruction.GotoLong(1))
                    .Label("set_one").Mov(Register.R0, 1)
                    .Alu(AluOperation.Add, Register.R0, 2)
                    .Exit();
                break;
            case "may_goto":
                a.Mov(Register.R0, 0)
                    .Label("loop").MayGoto("out")
                    .Alu(AluOperation.Add, Register.R0, 1)
                    .JumpIf(JumpOperation.Less, Register.R0, 10, "loop")
                    .Label("out").Exit();
                break;
            case "atomics":
                a.Mov(Register.R1, 10).Store(AccessSize.DoubleWord, Register.R10, -8, Register.R1)
                    .Mov(Register.R1, 5)
                    .Atomic(AtomicOperation.FetchAdd, AccessSize.DoubleWord, Register.R10, -8, Register.R1) // r1 = 10, [fp-8] = 15
                    .Mov(Register.R0, 15).Mov(Register.R2, 99)
                    .Atomic(AtomicOperation.CompareExchange, AccessSize.DoubleWord, Register.R10, -8, Register.R2) // r0 = 15, [fp-8] = 99
                    .Alu(AluOperation.Add, Register.R0, Register.R1)
                    .Load(AccessSize.DoubleWord, Register.R3, Register.R10, -8)
                    .Alu(AluOperation.Add, Register.R0, Register.R3)
                    .Exit();
                break;
            case "acquire_release":
                a.Mov(Register.R1, 77)
                    .Store(AccessSize.DoubleWord, Register.R10, -8, 0)
                    .Atomic(AtomicOperation.StoreRelease, AccessSize.DoubleWord, Register.R10, -8, Register.R1)
                    .Atomic(AtomicOperation.LoadAcquire, AccessSize.DoubleWord, Register.R0, -8, Register.R10)
                    .Exit();
                break;
            case "jmp32_signed":
                // r1 = 0xfffffffb: negative as 32 bits, positive as 64.
                a.Mov32(Register.R1, -5).Mov(Register.R0, 0)
                    .JumpIf(JumpOperation.SignedLess, Register.R1, 0, "out")
                    .JumpIf32(JumpOperation.SignedGreaterOrEqual, Register.R1, 0, "out")
                    .Mov(Register.R0, 1)
                    .Label("out").Exit();
                break;
            case "subprogram":
                a.Mov(Register.R1, 21).Call("twice").Exit()
                    .Label("twice").Mov(Register.R0, Register.R1).Alu(AluOperation.LeftShift, Register.R0, 1).Exit();
                break;
            case "bounded_loop":
                // Sums 0..4 with a backward conditional jump.
                a.Mov(Register.R0, 0).Mov(Register.R1, 0)
                    .Label("next").Alu(AluOperation.Add, Register.R0, Register.R1)
                    .Alu(AluOperation.Add, Register.R1, 1)
                    .JumpIf(JumpOperation.Less, Register.R1, 5, "next")
                    .Exit();
                break;
            case "helper_by_name":
                // Two monotonic clock reads by C name: the second is not earlier than the first.
                a.Call("bpf_ktime_get_ns").Mov(Register.R6, Register.R0)
                    .Call("bpf_ktime_get_ns")
                    .JumpIf(JumpOperation.Less, Register.R0, Register.R6, "backwards")
                    .Mov(Register.R0, 10).Exit()
                    .Label("backwards").Mov(Register.R0, 0).Exit();
                break;
            case "store_immediate":
                a.Store(AccessSize.Word, Register.R10, -4, -2).Load(AccessSize.Word, Register.R0, Register.R10, -4).Exit();
                break;
            default:
                throw new ArgumentException(name);
        }
        return a;
    }

    private static uint Run(IReadOnlyList<Instruction> program, string name)
    {
        Program loaded;
        try
        {
            loaded = Program.Load(new ProgramSpec { Name = "asm_test", Type = ProgramType.SocketFilter, Instructions = program, License = "GPL" });
        }
        catch (VerifierException e)
        {
            throw new Xunit.Sdk.XunitException($"{name}: the kernel refused the program:\n{Disassembler.FormatListing(program)}\n{e.Log}");
        }
        using (loaded)
        {
            return loaded.TestRun(new TestRunOptions { Data = new byte[64], Repeat = 1 }).ReturnValue;
        }
    }
}
