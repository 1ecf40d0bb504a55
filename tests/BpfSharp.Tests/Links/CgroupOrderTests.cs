using System.Net;
using System.Net.Sockets;
using BpfSharp.Asm;
using BpfSharp.Kernel;
using BpfSharp.Links;
using BpfSharp.Programs;
using static BpfSharp.Tests.Links.LinkTestSupport;

namespace BpfSharp.Tests.Links;

/// <summary>Cgroup links placed with the kernel's mprog API (Linux 6.16): BPF_F_BEFORE/BPF_F_AFTER and the expected revision.</summary>
[Collection(LinkCollection.Name)]
[Trait("Category", "Kernel")]
public sealed class CgroupOrderTests
{
    private const int Sequence = 3; // the counter slot each program takes its turn number from

    /// <summary>
    /// A connect4 program that records when it ran: it takes the next number from slot <see cref="Sequence"/> and
    /// stores it (1-based) in its own slot, then allows the connection. Every cgroup program of a hook runs, so the
    /// numbers tell the order.
    /// </summary>
    private static Program LoadRecorder(CounterSlots counters, int slot, string name)
    {
        var asm = new Assembler();
        asm.Emit(Instruction.LoadMapValue(Register.R1, counters.Map.Fd.Value, Sequence * 8))
           .Mov(Register.R2, 1)
           .Atomic(AtomicOperation.FetchAdd, AccessSize.DoubleWord, Register.R1, 0, Register.R2)
           .Alu(AluOperation.Add, Register.R2, 1)
           .Emit(Instruction.LoadMapValue(Register.R1, counters.Map.Fd.Value, slot * 8))
           .Store(AccessSize.DoubleWord, Register.R1, 0, Register.R2)
           .Mov(Register.R0, 1)
           .Exit();
        return Program.Load(new ProgramSpec
        {
            Name = name,
            Type = ProgramType.CgroupSockAddr,
            ExpectedAttachType = AttachType.CgroupInet4Connect,
            Instructions = asm.Build(),
            License = "GPL",
        });
    }

    [KernelFact]
    public void APositionDecidesTheOrderInWhichACgroupsProgramsRun()
    {
        using var cgroup = new TestCgroup();
        using TcpListener listener = ListenOnLoopback(out int port);
        using var counters = Counters(4);
        using Program a = LoadRecorder(counters, 0, "order_a");
        using Program b = LoadRecorder(counters, 1, "order_b");
        using Program c = LoadRecorder(counters, 2, "order_c");
        const AttachType Hook = AttachType.CgroupInet4Connect;

        using CgroupLink linkA = CgroupLink.Attach(a, cgroup.Path, Hook);
        using CgroupLink linkB = CgroupLink.Attach(b, cgroup.Path, Hook, new MultiAttachOptions { Position = AttachPosition.Before(linkA) });
        using CgroupLink linkC = CgroupLink.Attach(c, cgroup.Path, Hook, new MultiAttachOptions { Position = AttachPosition.After(linkB) });

        Assert.Contains("connected", cgroup.Bash($"exec 3<>/dev/tcp/127.0.0.1/{port} && echo connected").Output);
        // b first, then c (after b's link), then a.
        Assert.Equal((3UL, 1UL, 2UL), (counters[0], counters[1], counters[2]));

        // This kernel places a link-attached program relative to its link only; naming the program is refused, and
        // the error says what to do.
        using Program e = LoadRecorder(counters, 0, "order_e");
        var byProgram = Assert.Throws<BpfException>(() => CgroupLink.Attach(e, cgroup.Path, Hook, new MultiAttachOptions { Position = AttachPosition.After(b) }));
        Assert.Equal(Errno.EINVAL, byProgram.Errno);
        Assert.Contains("relative to its link", byProgram.Message);

        // A position relative to a program that is not on the hook, and a stale revision, are refused and explained.
        using Program d = LoadRecorder(counters, 0, "order_d");
        using var elsewhere = new TestCgroup();
        using CgroupLink other = CgroupLink.Attach(d, elsewhere.Path, Hook);
        var missing = Assert.Throws<BpfException>(() => CgroupLink.Attach(d, cgroup.Path, Hook, new MultiAttachOptions { Position = AttachPosition.After(other) }));
        Assert.Equal(Errno.ENOENT, missing.Errno);
        Assert.Contains("is not attached to this cgroup hook", missing.Message);
        var stale = Assert.Throws<BpfException>(() => CgroupLink.Attach(d, cgroup.Path, Hook, new MultiAttachOptions { Position = AttachPosition.First, ExpectedRevision = 1 }));
        Assert.Equal(Errno.ESTALE, stale.Errno);
        Assert.Contains("changed since revision 1", stale.Message);
    }
}
