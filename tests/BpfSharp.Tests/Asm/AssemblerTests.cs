using BpfSharp.Asm;

namespace BpfSharp.Tests.Asm;

public sealed class AssemblerTests
{
    [Fact]
    public void ResolvesLabelsToSlotDistancesCountingLoadImm64AsTwo()
    {
        var a = new Assembler();
        a.Mov(Register.R0, 0);
        a.JumpIf(JumpOperation.Equal, Register.R1, 0, "out");
        a.LoadMapFd(Register.R1, 5);
        a.Call(HelperFunction.MapLookupElem);
        a.Call("bpf_ktime_get_ns");
        a.JumpIf32(JumpOperation.SignedGreater, Register.R0, Register.R2, "out");
        a.Goto("out");
        a.Label("out");
        a.Exit();
        IReadOnlyList<Instruction> program = a.Build();

        Assert.Equal(
            [
                "r0 = 0",
                "if r1 == 0 goto +6",
                "ld_pseudo r1, 1, 5",
                "call 1",
                "call 5",
                "if w0 s> w2 goto +1",
                "goto +0",
                "exit",
            ],
            program.Select(i => Disassembler.Format(i)));
        Assert.Equal("out", program[^1].Symbol);
        Assert.Equal("out", program[1].Reference);
        Assert.Equal(9, InstructionEncoding.CountSlots(program));
    }

    [Fact]
    public void BackwardJumpsAndSubprogramCalls()
    {
        var a = new Assembler();
        a.Mov(Register.R1, 3);
        a.Call("twice");
        a.Exit();
        a.Label("twice");
        a.Label("twice_alias");
        a.Mov(Register.R0, Register.R1);
        a.Label("loop");
        a.Alu(AluOperation.Add, Register.R0, Register.R1);
        a.Alu(AluOperation.Sub, Register.R1, 1);
        a.JumpIf(JumpOperation.NotEqual, Register.R1, 0, "loop");
        a.LoadFunction(Register.R2, "twice_alias");
        a.Exit();
        IReadOnlyList<Instruction> program = a.Build();

        Instruction call = program[1];
        Assert.True(call.IsSubprogramCall);
        Assert.Equal(1, call.Constant); // from slot 2 to slot 3
        Assert.Equal("twice", program[3].Symbol);
        Assert.Equal(-3, program[6].Offset); // slot 7 back to slot 4
        Assert.Equal(PseudoSource.Function, program[7].PseudoSource);
        Assert.Equal(-5, program[7].Constant); // from slot 7 (the ld_imm64's first slot) + 1 back to slot 3
        Assert.Equal("call 1", Disassembler.Format(call));
    }

    [Fact]
    public void LoaderReferencesStayUnresolved()
    {
        var a = new Assembler();
        a.LoadMap(Register.R1, "events");
        a.LoadMapValue(Register.R2, ".bss", 16);
        a.CallKfunc("bpf_task_acquire");
        a.Mov(Register.R3, 0x1_0000_0000L);
        a.Exit();
        IReadOnlyList<Instruction> program = a.Build();

        Assert.Equal("events", program[0].Reference);
        Assert.Equal(PseudoSource.MapFd, program[0].PseudoSource);
        Assert.Equal(".bss", program[1].Reference);
        Assert.Equal(16L << 32, program[1].Constant);
        Assert.True(program[2].IsKfuncCall);
        Assert.Equal("bpf_task_acquire", program[2].Reference);
        Assert.True(program[3].IsLoadImm64);
        Assert.Equal("r3 = 4294967296 ll", program[3].ToString());
    }

    [Fact]
    public void ReportsUndefinedAndDuplicateLabels()
    {
        var a = new Assembler();
        a.JumpIf(JumpOperation.Equal, Register.R1, 0, "nowhere");
        a.Exit();
        InvalidOperationException undefined = Assert.Throws<InvalidOperationException>(() => a.Build());
        Assert.Contains("'nowhere'", undefined.Message);
        Assert.Contains("instruction 0", undefined.Message);

        var b = new Assembler();
        b.Label("x");
        b.Exit();
        ArgumentException duplicate = Assert.Throws<ArgumentException>(() => b.Label("x"));
        Assert.Contains("defined twice", duplicate.Message);

        var c = new Assembler();
        c.Exit();
        c.Label("end");
        Assert.Contains("marks no instruction", Assert.Throws<InvalidOperationException>(() => c.Build()).Message);

        var d = new Assembler();
        d.Call("missing_function");
        d.Exit();
        Assert.Contains("calls 'missing_function'", Assert.Throws<InvalidOperationException>(() => d.Build()).Message);
    }

    [Fact]
    public void LongJumpsUseGotolAndFarConditionalsFail()
    {
        var a = new Assembler();
        a.Goto("far");
        for (int i = 0; i < 40000; i++)
        {
            a.Mov(Register.R0, i);
        }
        a.Label("far");
        a.Exit();
        IReadOnlyList<Instruction> program = a.Build();
        Assert.True(program[0].IsLongJump);
        Assert.Equal(40000, program[0].RelativeTarget);
        Assert.Equal("gotol +40000", program[0].ToString());

        var b = new Assembler();
        b.JumpIf(JumpOperation.Greater, Register.R1, 2, "far");
        for (int i = 0; i < 40000; i++)
        {
            b.Mov(Register.R0, i);
        }
        b.Label("far");
        b.Exit();
        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => b.Build());
        Assert.Contains("beyond the 16-bit offset", error.Message);
    }

    [Fact]
    public void ResolveLabelsWorksOnPlainInstructionLists()
    {
        Instruction[] code =
        [
            Instruction.Goto(0) with { Reference = "done" },
            Instruction.Move64(Register.R0, 1),
            Instruction.Exit() with { Symbol = "done" },
        ];
        IReadOnlyList<Instruction> resolved = Assembler.ResolveLabels(code);
        Assert.Equal(1, resolved[0].Offset);

        Instruction[] twice = [Instruction.Exit() with { Symbol = "a" }, Instruction.Exit() with { Symbol = "a" }];
        Assert.Throws<InvalidOperationException>(() => Assembler.ResolveLabels(twice));
    }
}
