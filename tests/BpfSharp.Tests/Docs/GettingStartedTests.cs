using BpfSharp.Asm;
using BpfSharp.Maps;
using BpfSharp.Programs;

namespace BpfSharp.Tests.Docs;

/// <summary>The example of docs/getting-started.md, kept true by running it.</summary>
[Trait("Category", "Kernel")]
public class GettingStartedTests
{
    [KernelFact]
    public void CountPacketsWithAnAssembledXdpProgram()
    {
        // --- from docs/getting-started.md ---
        using var counter = ArrayMap<ulong>.Create(1, "packets");

        // r1 = &key (0 on the stack); r0 = bpf_map_lookup_elem(counter, &key); (*r0)++; return XDP_PASS
        var program = new Assembler()
            .Store(AccessSize.Word, Register.R10, -4, 0)
            .Mov(Register.R2, Register.R10)
            .Alu(AluOperation.Add, Register.R2, -4)
            .LoadMapFd(Register.R1, counter.Map.Fd.Value)
            .Call("bpf_map_lookup_elem")
            .JumpIf(JumpOperation.Equal, Register.R0, 0, "out")
            .Mov(Register.R1, 1)
            .Atomic(AtomicOperation.Add, AccessSize.DoubleWord, Register.R0, 0, Register.R1)
            .Label("out")
            .Mov(Register.R0, 2) // XDP_PASS
            .Exit()
            .Build();

        using Program xdp = Program.Load(new ProgramSpec
        {
            Name = "count_packets",
            Type = ProgramType.Xdp,
            Instructions = program,
            License = "GPL",
        });

        TestRunResult result = xdp.TestRun(new TestRunOptions { Data = new byte[64], Repeat = 1000 });
        Console.WriteLine($"returned {result.ReturnValue}, counted {counter[0]} packets, {result.NanosecondsPerRun} ns per run");
        // --- end of example ---

        Assert.Equal(2u, result.ReturnValue);
        Assert.Equal(1000UL, counter[0]);
    }
}
