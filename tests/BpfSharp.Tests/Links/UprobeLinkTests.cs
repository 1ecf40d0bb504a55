using System.Diagnostics;
using BpfSharp.Asm;
using BpfSharp.Links;
using BpfSharp.Maps;
using BpfSharp.Programs;
using BpfSharp.Symbols;
using BpfSharp.Tracing;
using static BpfSharp.Tests.Links.LinkTestSupport;

namespace BpfSharp.Tests.Links;

[Collection(LinkCollection.Name)]
[Trait("Category", "Kernel")]
public sealed class UprobeLinkTests
{
    private static readonly int Pid = Environment.ProcessId;

    /// <summary>offsetof(struct pt_regs, ax) on x86-64: where a uretprobe finds the return value.</summary>
    private const short PtRegsAx = 80;

    [KernelFact]
    public void UprobeOnALibcFunctionCountsCallsOfThisProcessOnly()
    {
        using var counters = Counters();
        using Program program = LoadCounter(ProgramType.Kprobe, counters);
        using UprobeLink link = UprobeLink.Attach(program, "libc.so.6", "getppid", new UprobeOptions { Pid = Pid });
        for (int i = 0; i < 4; i++)
        {
            GetParentPid();
        }
        // Another process calling getppid is not counted: the probe follows this pid only.
        MustRun("bash", "-c", "cat /proc/self/stat > /dev/null");
        Assert.Equal(4UL, counters[0]);
        var info = Assert.IsType<PerfEventLinkInfo>(link.Info);
        Assert.Equal(PerfEventLinkKind.Uprobe, info.Kind);
        Assert.Equal(link.Path, info.Name);
        Assert.Equal((uint)link.FileOffset, info.Offset);
        Assert.StartsWith("/", link.Path);
    }

    [KernelFact]
    public void UretprobeReadsTheReturnValue()
    {
        using var results = Counters(2);
        var code = new Assembler()
            .Load(AccessSize.DoubleWord, Register.R2, Register.R1, PtRegsAx)
            .Emit(Instruction.LoadMapValue(Register.R1, results.Map.Fd.Value, 0))
            .Store(AccessSize.DoubleWord, Register.R1, 0, Register.R2)
            .Mov(Register.R0, 0)
            .Exit()
            .Build();
        using Program program = Program.Load(new ProgramSpec { Name = "ret", Type = ProgramType.Kprobe, Instructions = code, License = "GPL" });
        using UprobeLink link = UprobeLink.Attach(program, "libc.so.6", "getppid", new UprobeOptions { Pid = Pid, IsReturn = true });
        int parent = GetParentPid();
        Assert.Equal((ulong)parent, results[0]);
        Assert.Equal(PerfEventLinkKind.Uretprobe, Assert.IsType<PerfEventLinkInfo>(link.Info).Kind);
    }

    [KernelFact]
    public void UprobeOnAFunctionOfATestExecutable()
    {
        string target = NativeProgram("probe_target");
        using var counters = Counters();
        using Program program = LoadCounter(ProgramType.Kprobe, counters);
        using UprobeLink link = UprobeLink.Attach(program, target, "bpfsharp_add");
        Assert.Equal("enabled=0 sum=15", RunTarget(target, 5));
        Assert.Equal(5UL, counters[0]);
    }

    [KernelFact]
    public void UprobeMultiCountsCallsOfEveryFunction()
    {
        // uprobe.multi links are supported on this kernel (bpfsharp feature probe): a refusal is a failure.
        string target = NativeProgram("probe_target");
        using var counters = Counters(2);
        // Slot 0 counts bpfsharp_add, slot 1 main: the BPF cookie (0 or 1) picks the slot.
        using Program program = Program.Load(new ProgramSpec
        {
            Name = "multi_count",
            Type = ProgramType.Kprobe,
            ExpectedAttachType = AttachType.TraceUprobeMulti,
            Instructions = new Assembler()
                .Call(HelperFunction.GetAttachCookie)
                .Alu(AluOperation.LeftShift, Register.R0, 3)
                .JumpIf(JumpOperation.Greater, Register.R0, 8, "out")
                .Emit(Instruction.LoadMapValue(Register.R1, counters.Map.Fd.Value, 0))
                .Alu(AluOperation.Add, Register.R1, Register.R0)
                .Mov(Register.R2, 1)
                .Atomic(AtomicOperation.Add, AccessSize.DoubleWord, Register.R1, 0, Register.R2)
                .Label("out")
                .Mov(Register.R0, 0)
                .Exit()
                .Build(),
            License = "GPL",
        });
        using (UprobeMultiLink link = UprobeMultiLink.Attach(program, target, ["bpfsharp_add", "main"], cookies: [0, 1]))
        {
            Assert.Equal("enabled=0 sum=6", RunTarget(target, 3));
            Assert.Equal(3UL, counters[0]);
            Assert.Equal(1UL, counters[1]);
            Assert.Equal("enabled=0 sum=10", RunTarget(target, 4));
            Assert.Equal(7UL, counters[0]);
            Assert.Equal(2UL, counters[1]);
            var info = Assert.IsType<UprobeMultiLinkInfo>(link.Info);
            Assert.Equal(2u, info.Count);
            Assert.Equal(target, info.Path);
        }
        Assert.Equal("enabled=0 sum=3", RunTarget(target, 2));
        Assert.Equal(7UL, counters[0]);
        Assert.Equal(2UL, counters[1]);
    }

    [KernelTheory]
    [InlineData(UsdtSpec.Size)]
    [InlineData(UsdtSpec.SizeWithScaledIndex)]
    public void UsdtProbeArgumentsAreReadThroughTheSpecMaps(int specSize)
    {
        string target = NativeProgram("probe_target");
        using Map specs = Map.Create(new MapSpec { Name = "__bpf_usdt_specs", Type = MapType.Array, KeySize = 4, ValueSize = (uint)specSize, MaxEntries = 256 });
        using Map ipToSpec = Map.Create(new MapSpec { Name = "__bpf_usdt_ip_to", Type = MapType.Hash, KeySize = 8, ValueSize = 4, MaxEntries = 1024 });
        using var results = Counters(4);
        using Program program = Program.Load(new ProgramSpec
        {
            Name = "usdt_args",
            Type = ProgramType.Kprobe,
            Instructions = UsdtArgumentReader(specs, results, specSize),
            License = "GPL",
        });
        using UsdtLink link = UsdtLink.Attach(program, target, "bpfsharp", "tick", new UsdtOptions { SpecsMap = specs, IpToSpecIdMap = ipToSpec, Cookie = 0xC0FFEE });
        UsdtProbe probe = Assert.Single(link.Probes);
        Assert.NotEqual(0UL, probe.SemaphoreFileOffset);
        int specId = Assert.Single(link.SpecIds);

        // The spec the program reads is what the note's argument string says.
        byte[] spec = new byte[specSize];
        specs.Lookup(BitConverter.GetBytes(specId), spec);
        Assert.Equal(UsdtSpec.Encode(probe.Arguments, 0xC0FFEE, specSize), spec);
        byte[] mapped = new byte[4];
        ipToSpec.Lookup(BitConverter.GetBytes((long)probe.Address), mapped);
        Assert.Equal(specId, BitConverter.ToInt32(mapped));

        // The semaphore is set while attached, so the probe's is-enabled check sees it.
        Assert.Equal("enabled=4 sum=10", RunTarget(target, 4));
        Assert.Equal(4UL, results[2]);
        Assert.Equal(4UL, results[0]);          // arg 0: i on the last tick
        Assert.Equal(100UL, results[1]);        // arg 1: sum * 10
        Assert.Equal((ulong)specId, results[3]); // the site's BPF cookie is its spec id

        link.Dispose();
        Assert.False(ipToSpec.TryLookup(BitConverter.GetBytes((long)probe.Address), mapped));
        Assert.Equal("enabled=0 sum=3", RunTarget(target, 2));
    }

    /// <summary>
    /// What usdt.bpf.h's bpf_usdt_arg() does, for arguments 0 and 1: spec id from the attach
    /// cookie, spec from the map, then constant / register / register-dereference, shifted to size, in
    /// either usdt.bpf.h layout (16-byte argument specs before libbpf 1.7, 24-byte from 1.7).
    /// results[0..1] = arguments, results[2] = hits, results[3] = spec id.
    /// </summary>
    private static IReadOnlyList<Instruction> UsdtArgumentReader(Map specs, CounterSlots results, int specSize)
    {
        bool wide = specSize == UsdtSpec.SizeWithScaledIndex;
        short stride = wide ? (short)24 : (short)16, regOff = wide ? (short)14 : (short)12, signedOff = wide ? (short)16 : (short)14, shiftOff = wide ? (short)17 : (short)15;
        var asm = new Assembler()
            .Mov(Register.R6, Register.R1)
            .Call(HelperFunction.GetAttachCookie)
            .Store(AccessSize.Word, Register.R10, -4, Register.R0)
            .Emit(Instruction.LoadMapValue(Register.R1, results.Map.Fd.Value, 24))
            .Store(AccessSize.DoubleWord, Register.R1, 0, Register.R0)
            .LoadMapFd(Register.R1, specs.Fd.Value)
            .Mov(Register.R2, Register.R10)
            .Alu(AluOperation.Add, Register.R2, -4)
            .Call(HelperFunction.MapLookupElem)
            .JumpIf(JumpOperation.Equal, Register.R0, 0, "out")
            .Mov(Register.R7, Register.R0);
        for (short i = 0; i < 2; i++)
        {
            short slot = (short)(i * stride);
            string tag = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            asm.Load(AccessSize.DoubleWord, Register.R8, Register.R7, slot)               // val_off (the constant)
               .Load(AccessSize.Byte, Register.R1, Register.R7, (short)(slot + 8))      // arg_type (its low byte in both layouts)
               .JumpIf(JumpOperation.Equal, Register.R1, 0, "shift" + tag)
               .Load(AccessSize.Half, Register.R3, Register.R7, (short)(slot + regOff)) // reg_off
               .Alu(AluOperation.Add, Register.R3, Register.R6)
               .Mov(Register.R1, Register.R10)
               .Alu(AluOperation.Add, Register.R1, -16)
               .Mov(Register.R2, 8)
               .Call(HelperFunction.ProbeReadKernel)
               .Load(AccessSize.DoubleWord, Register.R8, Register.R10, -16)
               .Load(AccessSize.Byte, Register.R1, Register.R7, (short)(slot + 8))
               .JumpIf(JumpOperation.NotEqual, Register.R1, 2, "shift" + tag)
               .Load(AccessSize.DoubleWord, Register.R3, Register.R7, slot)
               .Alu(AluOperation.Add, Register.R3, Register.R8)
               .Mov(Register.R1, Register.R10)
               .Alu(AluOperation.Add, Register.R1, -16)
               .Mov(Register.R2, 8)
               .Call(HelperFunction.ProbeReadUser)
               .Load(AccessSize.DoubleWord, Register.R8, Register.R10, -16)
               .Label("shift" + tag)
               .Load(AccessSize.Byte, Register.R1, Register.R7, (short)(slot + shiftOff)) // arg_bitshift
               .Alu(AluOperation.LeftShift, Register.R8, Register.R1)
               .Load(AccessSize.Byte, Register.R2, Register.R7, (short)(slot + signedOff)) // arg_signed
               .JumpIf(JumpOperation.Equal, Register.R2, 0, "unsigned" + tag)
               .Alu(AluOperation.ArithmeticRightShift, Register.R8, Register.R1)
               .Goto("store" + tag)
               .Label("unsigned" + tag)
               .Alu(AluOperation.RightShift, Register.R8, Register.R1)
               .Label("store" + tag)
               .Emit(Instruction.LoadMapValue(Register.R1, results.Map.Fd.Value, i * 8))
               .Store(AccessSize.DoubleWord, Register.R1, 0, Register.R8);
        }
        return asm
            .Emit(Instruction.LoadMapValue(Register.R1, results.Map.Fd.Value, 16))
            .Mov(Register.R2, 1)
            .Atomic(AtomicOperation.Add, AccessSize.DoubleWord, Register.R1, 0, Register.R2)
            .Label("out")
            .Mov(Register.R0, 0)
            .Exit()
            .Build();
    }

    [KernelFact]
    public void UsdtAutoAttachFindsItsMapsByName()
    {
        string target = NativeProgram("probe_target");
        using var counters = Counters();
        using Program program = LoadCounter(ProgramType.Kprobe, counters);
        IReadOnlyList<Link> links = AutoAttach.Attach(program, $"usdt/{target}:bpfsharp:tick", _ => null);
        try
        {
            var usdt = Assert.IsType<UsdtLink>(Assert.Single(links));
            Assert.Single(usdt.Sites);
            Assert.Equal("enabled=3 sum=6", RunTarget(target, 3));
            Assert.Equal(3UL, counters[0]);
        }
        finally
        {
            foreach (Link link in links)
            {
                link.Dispose();
            }
        }
        var missing = Assert.Throws<BpfException>(() => UsdtLink.Attach(program, target, "bpfsharp", "nope"));
        Assert.Contains("has no USDT probe bpfsharp:nope", missing.Message);
    }

    [KernelFact]
    public void UprobeAutoAttachParsesBinaryFunctionAndOffset()
    {
        using var counters = Counters();
        using Program program = LoadCounter(ProgramType.Kprobe, counters, pid: Pid);
        IReadOnlyList<Link> links = AutoAttach.Attach(program, "uprobe/libc.so.6:getppid");
        try
        {
            var uprobe = Assert.IsType<UprobeLink>(Assert.Single(links));
            Assert.Equal(UprobeLink.FunctionFileOffset(SharedLibraries.Resolve("libc.so.6"), "getppid"), uprobe.FileOffset);
            GetParentPid();
            Assert.Equal(1UL, counters[0]);
        }
        finally
        {
            foreach (Link link in links)
            {
                link.Dispose();
            }
        }
        var bad = Assert.Throws<BpfException>(() => AutoAttach.Attach(program, "uprobe/libc.so.6:getppid+zz"));
        Assert.Contains("not an offset", bad.Message);
    }
}
