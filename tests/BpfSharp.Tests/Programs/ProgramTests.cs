using System.Security.Cryptography;
using BpfSharp.Asm;
using BpfSharp.Kernel;
using BpfSharp.Maps;
using BpfSharp.Programs;

namespace BpfSharp.Tests.Programs;

[Trait("Category", "Kernel")]
public unsafe class ProgramTests
{
    private const uint XdpDrop = 1, XdpPass = 2;

    // An Ethernet frame is the least BPF_PROG_TEST_RUN accepts for packet programs.
    private static readonly byte[] Packet = [.. Enumerable.Range(0, 64).Select(i => (byte)i)];

    private static ProgramSpec Spec(string name, ProgramType type, params Instruction[] instructions) => new()
    {
        Name = name,
        Type = type,
        Instructions = instructions,
        License = "GPL",
    };

    [KernelTheory]
    [InlineData(XdpDrop)]
    [InlineData(XdpPass)]
    public void XdpProgramReturnsItsVerdict(uint verdict)
    {
        using Program program = Program.Load(Spec("xdp_verdict", ProgramType.Xdp, Returning((int)verdict)));
        TestRunResult result = program.TestRun(new TestRunOptions { Data = Packet });
        Assert.Equal(verdict, result.ReturnValue);
        Assert.Equal(Packet, result.DataOut);
        Assert.Equal("xdp_verdict", program.Name);
        Assert.Equal(ProgramType.Xdp, program.Type);
    }

    [KernelFact]
    public void SocketFilterReadsPacketLengthFromContext()
    {
        // r0 = skb->len (offset 0 of struct __sk_buff)
        using Program program = Program.Load(Spec("skb_len", ProgramType.SocketFilter,
            Instruction.LoadMemory(AccessSize.Word, Register.R0, Register.R1, 0),
            Instruction.Exit()));
        byte[] packet = [.. Packet, .. Packet[..37]];
        TestRunResult result = program.TestRun(new TestRunOptions { Data = packet });
        // A socket filter sees the packet from the network header on: the kernel pulls the
        // 14-byte Ethernet header before the run (and hands it back zeroed).
        Assert.Equal((uint)packet.Length - 14, result.ReturnValue);
        Assert.Equal(packet.Length, result.DataOut.Length);
        Assert.Equal(packet[14..], result.DataOut[14..]);
    }

    [KernelFact]
    public void ArithmeticIsComputedByTheKernel()
    {
        // r0 = (6 * 7 + 100 - 2) * 3 = 420, via a second register.
        using Program program = Program.Load(Spec("arith", ProgramType.Xdp,
            Instruction.Move64(Register.R2, 6),
            Instruction.Alu64(AluOperation.Mul, Register.R2, 7),
            Instruction.Move64(Register.R0, 100),
            Instruction.Alu64(AluOperation.Add, Register.R0, Register.R2),
            Instruction.Alu64(AluOperation.Sub, Register.R0, 2),
            Instruction.Alu64(AluOperation.Mul, Register.R0, 3),
            Instruction.Exit()));
        Assert.Equal(420u, program.TestRun(new TestRunOptions { Data = Packet }).ReturnValue);
    }

    [KernelFact]
    public void RepeatedRunsReportDurationAndRunEveryTime()
    {
        using FileDescriptor map = CreateArrayMap("runs");
        using Program program = Program.Load(CounterSpec(map));
        TestRunResult result = program.TestRun(new TestRunOptions { Data = Packet, Repeat = 1000 });
        Assert.Equal(XdpPass, result.ReturnValue);
        Assert.Equal(1000u, ReadArray(map, 0));
        Assert.True(result.NanosecondsPerRun < 10_000_000, $"{result.NanosecondsPerRun} ns per run is not plausible");
    }

    [KernelFact]
    public void ProgramReadsAndWritesArrayMap()
    {
        using FileDescriptor map = CreateArrayMap("values");
        WriteArray(map, 0, 41);
        using Program program = Program.Load(CounterSpec(map));
        program.TestRun(new TestRunOptions { Data = Packet, Repeat = 3 });
        Assert.Equal(44u, ReadArray(map, 0));

        // A second program returns the map value it looks up: what user space wrote.
        WriteArray(map, 0, 7);
        using Program reader = Program.Load(Spec("map_reader", ProgramType.Xdp,
        [
            Instruction.StoreImmediate(AccessSize.DoubleWord, Register.R10, -8, 0),
            Instruction.Move64(Register.R2, Register.R10),
            Instruction.Alu64(AluOperation.Add, Register.R2, -8),
            Instruction.LoadMapFd(Register.R1, map.Value),
            Instruction.Call(HelperFunction.MapLookupElem),
            Instruction.Jump64(JumpOperation.Equal, Register.R0, 0, 2),
            Instruction.LoadMemory(AccessSize.Word, Register.R0, Register.R0, 0),
            Instruction.Exit(),
            .. Returning(-1),
        ]));
        Assert.Equal(7u, reader.TestRun(new TestRunOptions { Data = Packet }).ReturnValue);
    }

    [KernelFact]
    public void UninitializedReturnRegisterIsRejectedWithTheVerifiersReason()
    {
        var spec = Spec("no_r0", ProgramType.Xdp, Instruction.Move64(Register.R1, 1), Instruction.Move64(Register.R2, 2), Instruction.Exit());
        var error = Assert.Throws<VerifierException>(() => Program.Load(spec));
        Assert.Equal("no_r0", error.ProgramName);
        Assert.Equal(2, error.InstructionIndex);
        Assert.Contains("R0 !read_ok", error.Problem);
        Assert.Contains("R0 !read_ok", error.Message);
        Assert.Contains("instruction 2", error.Message);
        Assert.Contains("processed", error.Log);
        Assert.Equal(Errno.EACCES, error.Errno);
        Assert.Equal(BpfCommand.ProgLoad, error.Command);
        // The message names the problem; the log stays in the property.
        Assert.DoesNotContain("processed", error.Message);
    }

    [KernelFact]
    public void OutOfBoundsStackWriteIsRejectedAtTheStore()
    {
        var spec = Spec("stack_oob", ProgramType.SocketFilter,
            Instruction.Move64(Register.R0, 0),
            Instruction.StoreImmediate(AccessSize.DoubleWord, Register.R10, -8, 1),
            Instruction.StoreImmediate(AccessSize.DoubleWord, Register.R10, -520, 1), // the stack is 512 bytes
            Instruction.Exit());
        var error = Assert.Throws<VerifierException>(() => Program.Load(spec));
        Assert.Equal(2, error.InstructionIndex);
        Assert.Contains("invalid write to stack", error.Problem);
        Assert.Contains("off=-520", error.Message);
    }

    [KernelFact]
    public void VerboseLogGrowsUntilItFits()
    {
        // 400 additions: a level-2 log prints every one with its register state, far more than 128 bytes.
        Instruction[] body = [.. Enumerable.Range(0, 400).Select(i => Instruction.Alu64(AluOperation.Add, Register.R0, 1))];
        var spec = Spec("long_prog", ProgramType.SocketFilter, [Instruction.Move64(Register.R0, 0), .. body, Instruction.Exit()]);
        using Program program = Program.Load(spec, new LoadOptions
        {
            CaptureLog = true,
            LogLevel = VerifierLogLevel.Verbose | VerifierLogLevel.Statistics,
            InitialLogSize = LoadOptions.MinimumLogSize,
        });
        Assert.NotNull(program.VerifierLog);
        Assert.True(program.VerifierLog.Length > 10_000, $"log of {program.VerifierLog.Length} bytes");
        Assert.Contains("400: (07) r0 += 1", program.VerifierLog);
        Assert.Contains("processed 402 insns", program.VerifierLog);
        Assert.Equal(400u, program.TestRun(new TestRunOptions { Data = Packet }).ReturnValue);
    }

    [KernelFact]
    public void RejectionOfALongProgramKeepsTheWholeLog()
    {
        // The fault is at the very end, after a log too long for the initial buffer.
        Instruction[] body = [.. Enumerable.Range(0, 300).Select(i => Instruction.Alu64(AluOperation.Add, Register.R1, 1))];
        var spec = Spec("late_fault", ProgramType.SocketFilter, [.. body, Instruction.Exit()]);
        var error = Assert.Throws<VerifierException>(() => Program.Load(spec, new LoadOptions { InitialLogSize = 256 }));
        Assert.False(error.LogTruncated);
        Assert.Equal(300, error.InstructionIndex);
        Assert.StartsWith("0: R1=ctx", error.Log.TrimStart());
        Assert.Contains("R0 !read_ok", error.Problem);
    }

    [KernelFact]
    public void InfoReportsTagSizesAndMaps()
    {
        using FileDescriptor map = CreateArrayMap("info_map");
        ProgramSpec spec = CounterSpec(map);
        using Program program = Program.Load(spec);
        ProgramInfo info = program.GetInfo();

        Assert.Equal(program.Id, info.Id);
        Assert.Equal("counter", info.Name);
        Assert.Equal(ProgramType.Xdp, info.Type);
        Assert.Matches("^[0-9a-f]{16}$", info.Tag);
        Assert.Contains(MapId(map), info.MapIds);
        Assert.Single(info.MapIds);
        Assert.True(info.GplCompatible);
        Assert.Equal(0u, info.CreatedByUid);
        Assert.True(info.VerifiedInstructions > 0);
        Assert.InRange(info.LoadedAt, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));
    }

    [KernelFact]
    public void TagIsAHashOfTheInstructionsAndXlatedSizeCountsSlots()
    {
        // The kernel's tag is the first 8 bytes of a hash over the instructions (map fds zeroed;
        // this program has none): SHA-1 before Linux 6.18, SHA-256 since. Computed here independently.
        ProgramSpec spec = Spec("tagged", ProgramType.Xdp, Instruction.Move64(Register.R0, 2), Instruction.Alu64(AluOperation.Add, Register.R0, 3), Instruction.Exit());
        using Program program = Program.Load(spec);
        byte[] code = InstructionEncoding.Encode(spec.Instructions);
        ProgramInfo info = program.GetInfo();
        Assert.Contains(info.Tag, new[] { Convert.ToHexStringLower(SHA1.HashData(code)[..8]), Convert.ToHexStringLower(SHA256.HashData(code)[..8]) });
        // Nothing to rewrite in this program: the translated code is as long as what was loaded.
        Assert.Equal(3u * 8, info.XlatedSize);
        Assert.Empty(info.MapIds);

        using Program same = Program.Load(spec);
        Assert.Equal(info.Tag, same.GetInfo().Tag);
        using Program other = Program.Load(Spec("other", ProgramType.Xdp, Returning(3)));
        Assert.NotEqual(info.Tag, other.GetInfo().Tag);
    }

    [KernelFact]
    public void TranslatedInstructionsMatchWhatWasLoaded()
    {
        Instruction[] code = [Instruction.Move64(Register.R0, 5), Instruction.Alu64(AluOperation.Add, Register.R0, 3), Instruction.Exit()];
        using Program program = Program.Load(Spec("xlated", ProgramType.SocketFilter, code));
        Assert.Equal(code, program.GetTranslatedInstructions());
    }

    [KernelFact]
    public void FromIdOpensTheSameProgram()
    {
        using Program program = Program.Load(Spec("by_id_prog", ProgramType.Xdp, Returning(2)));
        Assert.Contains(program.Id, Program.AllIds());
        using Program opened = Program.FromId(program.Id);
        Assert.Equal(program.Id, opened.Id);
        Assert.Equal("by_id_prog", opened.Name);
        Assert.Equal(ProgramType.Xdp, opened.Type);
        Assert.Equal(XdpPass, opened.TestRun(new TestRunOptions { Data = Packet }).ReturnValue);
    }

    [KernelFact]
    public void PinnedProgramCanBeOpenedAndOutlivesItsHandle()
    {
        string directory = Path.Combine("/sys/fs/bpf", $"bpfsharp-test-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        try
        {
            string path = Path.Combine(directory, "pinned");
            uint id;
            using (Program program = Program.Load(Spec("pinned_prog", ProgramType.Xdp, Returning(1))))
            {
                program.Pin(path);
                id = program.Id;
            }
            // The pin holds the program after its only descriptor is closed.
            Assert.Contains(id, Program.AllIds());
            using Program opened = Program.OpenPinned(path);
            Assert.Equal(id, opened.Id);
            Assert.Equal("pinned_prog", opened.Name);
            Assert.Equal(XdpDrop, opened.TestRun(new TestRunOptions { Data = Packet }).ReturnValue);

            var duplicate = Assert.Throws<BpfException>(() => opened.Pin(path));
            Assert.Equal(Errno.EEXIST, duplicate.Errno);

            // A pinned map is not a program, although BPF_OBJ_GET opens it all the same.
            string mapPath = Path.Combine(directory, "map");
            using (FileDescriptor map = CreateArrayMap("pinned_map"))
            {
                Bpf.ObjPin(map, mapPath);
            }
            var notProgram = Assert.Throws<ArgumentException>(() => Program.OpenPinned(mapPath));
            Assert.Contains("is a map, not a program", notProgram.Message);
            var nothing = Assert.Throws<BpfException>(() => Program.OpenPinned(Path.Combine(directory, "missing")));
            Assert.Equal(Errno.ENOENT, nothing.Errno);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [KernelFact]
    public void DisposeUnloadsTheProgram()
    {
        Program program = Program.Load(Spec("disposed", ProgramType.Xdp, Returning(2)));
        uint id = program.Id;
        Assert.Contains(id, Program.AllIds());
        program.Dispose();
        // The kernel frees programs after an RCU grace period: wait for it, with a timeout.
        Assert.True(SpinWait.SpinUntil(() => !Program.AllIds().Contains(id), TimeSpan.FromSeconds(10)), $"program {id} still loaded");
    }

    [KernelFact]
    public void UseAfterDisposeThrowsObjectDisposed()
    {
        Program program = Program.Load(Spec("used_late", ProgramType.Xdp, Returning(2)));
        program.Dispose();
        Assert.Throws<ObjectDisposedException>(() => program.TestRun(new TestRunOptions { Data = Packet }));
        Assert.Throws<ObjectDisposedException>(() => program.GetInfo());
        Assert.Throws<ObjectDisposedException>(() => program.Pin("/sys/fs/bpf/never"));
        program.Dispose(); // a second dispose is harmless
    }

    [KernelFact]
    public void RunTimeStatisticsGrowWhileEnabled()
    {
        using Program program = Program.Load(Spec("stats", ProgramType.Xdp, Returning(2)));
        using (BpfStats.EnableRunTime())
        {
            ProgramInfo before = program.GetInfo();
            program.TestRun(new TestRunOptions { Data = Packet, Repeat = 500 });
            ProgramInfo after = program.GetInfo();
            Assert.True(after.RunCount >= before.RunCount + 500, $"run count {before.RunCount} -> {after.RunCount}");
            Assert.True(after.RunTimeNs > before.RunTimeNs, $"run time {before.RunTimeNs} -> {after.RunTimeNs}");
        }
    }

    [KernelFact]
    public void TestRunGrowsDataOutWhenTheProgramNeedsMore()
    {
        using Program program = Program.Load(Spec("grow_out", ProgramType.SchedCls, Returning(0)));
        // Room for 10 bytes of a 64-byte packet: the kernel reports the real size, the run is repeated.
        TestRunResult result = program.TestRun(new TestRunOptions { Data = Packet, DataOutSize = 10 });
        Assert.Equal(Packet, result.DataOut);
    }

    [KernelFact]
    public void ContextOutComesBackFromSkbPrograms()
    {
        // r0 = skb->mark after writing 0x1234 to it: the context out carries the mark.
        using Program program = Program.Load(Spec("mark", ProgramType.SchedCls,
            Instruction.Move64(Register.R2, 0x1234),
            Instruction.StoreMemory(AccessSize.Word, Register.R1, 8, Register.R2), // __sk_buff.mark is at offset 8
            Instruction.LoadMemory(AccessSize.Word, Register.R0, Register.R1, 8),
            Instruction.Exit()));
        byte[] context = new byte[192]; // sizeof(struct __sk_buff)
        TestRunResult result = program.TestRun(new TestRunOptions { Data = Packet, Context = context });
        Assert.Equal(0x1234u, result.ReturnValue);
        Assert.Equal(192, result.ContextOut.Length);
        Assert.Equal(0x1234u, BitConverter.ToUInt32(result.ContextOut, 8));
    }

    [KernelFact]
    public void RawTracepointRunsOnTheRequestedCpuWithItsArguments()
    {
        // r0 = args[0] + args[1]; raw tracepoint test runs take the arguments as context.
        using Program program = Program.Load(Spec("raw_args", ProgramType.RawTracepoint,
            Instruction.LoadMemory(AccessSize.DoubleWord, Register.R0, Register.R1, 0),
            Instruction.LoadMemory(AccessSize.DoubleWord, Register.R2, Register.R1, 8),
            Instruction.Alu64(AluOperation.Add, Register.R0, Register.R2),
            Instruction.Exit()));
        byte[] arguments = [.. BitConverter.GetBytes(70UL), .. BitConverter.GetBytes(7UL)];
        uint cpu = (uint)Cpus.Online[^1];
        TestRunResult result = program.TestRun(new TestRunOptions { Context = arguments, ContextOutSize = 0, Cpu = cpu });
        Assert.Equal(77u, result.ReturnValue);
        Assert.Empty(result.DataOut);
    }

    [KernelFact]
    public void TestRunRefusalNamesTheLikelyCause()
    {
        using Program program = Program.Load(Spec("short_pkt", ProgramType.Xdp, Returning(2)));
        var error = Assert.Throws<BpfException>(() => program.TestRun(new TestRunOptions { Data = new byte[4] }));
        Assert.Equal(Errno.EINVAL, error.Errno);
        Assert.Equal(BpfCommand.ProgTestRun, error.Command);
        Assert.Contains("14 bytes", error.Message);
        Assert.Contains("short_pkt", error.Message);
    }

    [KernelFact]
    public void ProgramWithoutInstructionsIsBadInput()
    {
        var error = Assert.Throws<ArgumentException>(() => Program.Load(Spec("empty", ProgramType.Xdp)));
        Assert.Contains("no instructions", error.Message);
    }

    [KernelFact]
    public void RefusedProgramKindIsReportedWithoutMemlockAdvice()
    {
        // fentry needs a target; bpf_fentry_test1 is the kernel's own test target. This machine
        // refuses fentry with EPERM; a kernel that allows it loads the program.
        uint? target = KernelFunctionId("bpf_fentry_test1");
        Assert.NotNull(target); // net/bpf/test_run.c defines it whenever BPF and networking are built in
        var spec = Spec("fentry_probe", ProgramType.Tracing, Returning(0));
        spec.ExpectedAttachType = AttachType.TraceFentry;
        spec.AttachBtfId = target!.Value;
        try
        {
            using Program program = Program.Load(spec);
            Assert.Equal(ProgramType.Tracing, program.GetInfo().Type);
        }
        catch (BpfException error) when (error.Errno == Errno.EPERM)
        {
            Assert.IsNotType<VerifierException>(error);
            Assert.Contains("refuses", error.Message);
            Assert.Contains("Tracing", error.Message);
            Assert.DoesNotContain("memlock", error.Message, StringComparison.OrdinalIgnoreCase);
        }
    }

    private static uint? KernelFunctionId(string name) => BpfSharp.Features.VmlinuxFunctions.FindId(name);

    // An XDP program that atomically adds 1 to array[0] and passes the packet.
    private static ProgramSpec CounterSpec(FileDescriptor map) => Spec("counter", ProgramType.Xdp,
    [
        Instruction.StoreImmediate(AccessSize.DoubleWord, Register.R10, -8, 0),
        Instruction.Move64(Register.R2, Register.R10),
        Instruction.Alu64(AluOperation.Add, Register.R2, -8),
        Instruction.LoadMapFd(Register.R1, map.Value),
        Instruction.Call(HelperFunction.MapLookupElem),
        Instruction.Jump64(JumpOperation.Equal, Register.R0, 0, 2),
        Instruction.Move64(Register.R1, 1),
        Instruction.Atomic(AtomicOperation.Add, AccessSize.Word, Register.R0, 0, Register.R1),
        .. Returning((int)XdpPass),
    ]);

    // The Map type is built in parallel; these tests create and read the map with raw commands.
    private static FileDescriptor CreateArrayMap(string name)
    {
        var attr = new MapCreateAttr { MapType = (uint)MapType.Array, KeySize = 4, ValueSize = 4, MaxEntries = 1 };
        Bpf.WriteObjectName(name, attr.MapName);
        return Bpf.CallForFd(BpfCommand.MapCreate, ref attr, $"map '{name}'");
    }

    private static uint ReadArray(FileDescriptor map, uint key)
    {
        uint value;
        var attr = new MapElemAttr { MapFd = (uint)map.Value, Key = (ulong)&key, ValueOrNextKey = (ulong)&value };
        Bpf.Call(BpfCommand.MapLookupElem, ref attr);
        return value;
    }

    private static void WriteArray(FileDescriptor map, uint key, uint value)
    {
        var attr = new MapElemAttr { MapFd = (uint)map.Value, Key = (ulong)&key, ValueOrNextKey = (ulong)&value };
        Bpf.Call(BpfCommand.MapUpdateElem, ref attr);
    }

    private static uint MapId(FileDescriptor map)
    {
        var info = new MapInfoLayout();
        Bpf.GetInfo(map, ref info);
        return info.Id;
    }

    /// <summary>r0 = value; exit.</summary>
    private static Instruction[] Returning(int value) => [Instruction.Move64(Register.R0, value), Instruction.Exit()];
}
