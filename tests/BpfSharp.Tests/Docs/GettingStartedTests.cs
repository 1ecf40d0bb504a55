using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using BpfSharp.Asm;
using BpfSharp.Collections;
using BpfSharp.Events;
using BpfSharp.Links;
using BpfSharp.Maps;
using BpfSharp.Programs;
using BpfSharp.Specs;
using BpfSharp.Tests.Skeletons;

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

    // --- from docs/getting-started.md (C backend) ---
    [StructLayout(LayoutKind.Sequential)]
    private struct OpenEvent
    {
        public uint Pid;
        public int Flags;
        public FileName Filename;
    }

    [InlineArray(64)]
    private struct FileName
    {
        private byte _first;
    }
    // --- end of example ---

    [KernelFact]
    public void TraceOpenatWithACompiledObjectAndARingBuffer()
    {
        string objectPath = TestPrograms.Path("getting_started");
        var seen = new List<string>();
        // --- from docs/getting-started.md (C backend) ---
        CollectionSpec spec = CollectionSpec.Load(objectPath);
        spec.Variable("target_pid").Set((uint)Environment.ProcessId); // only this process
        using Collection collection = Collection.Load(spec);
        using LinkSet links = collection.AttachAll();                 // tracepoint/syscalls/sys_enter_openat
        using var events = new RingBuffer(collection.Map("events"));

        File.ReadAllText("/etc/hostname");
        events.Poll((in OpenEvent e) =>
        {
            ReadOnlySpan<byte> name = e.Filename;
            string path = Encoding.UTF8.GetString(name[..name.IndexOf((byte)0)]);
            Console.WriteLine($"pid {e.Pid} opened {path} (flags 0x{e.Flags:x})");
            seen.Add(path);
        }, timeoutMilliseconds: 1000);
        // --- end of example ---

        Assert.Contains("/etc/hostname", seen);
    }

    [KernelFact]
    public void TraceOpenatThroughTheSkeleton()
    {
        var seen = new List<string>();
        // --- from docs/getting-started.md (skeleton) ---
        GettingStartedBpf.Specification spec = GettingStartedBpf.Open();
        spec.Rodata.TargetPid = (uint)Environment.ProcessId;
        using GettingStartedBpf skeleton = spec.Load();
        using LinkSet links = skeleton.Attach();
        using var events = new RingBuffer(skeleton.Maps.Events);

        File.ReadAllText("/etc/hostname");
        events.Poll((in GettingStartedBpf.OpenEvent e) =>
        {
            Console.WriteLine($"pid {e.Pid} opened {e.Filename} (flags 0x{e.Flags:x})");
            seen.Add(e.Filename.ToString());
        }, timeoutMilliseconds: 1000);
        // --- end of example ---

        Assert.Contains("/etc/hostname", seen);
    }

    [KernelFact]
    public void ASkeletonAttachesTheProgramsItIsGiven()
    {
        using GettingStartedBpf skeleton = GettingStartedBpf.Load();
        using (LinkSet links = skeleton.Attach(skeleton.Programs.OnOpenat))
        {
            Assert.Equal(["on_openat"], links.Programs);
        }
        using (LinkSet none = skeleton.Attach())
        {
            Assert.Single(none);
        }
        using SkeletonBpf other = SkeletonBpf.Load();
        Assert.Contains("not a program of collection", Assert.Throws<ArgumentException>(() => skeleton.Attach(other.Programs.Emit)).Message);
        // A program whose hook its section cannot name is listed, with the reason, not attached.
        using LinkSet syscall = other.Attach(other.Programs.Emit);
        Assert.Empty(syscall);
        Assert.True(syscall.NotAttached.ContainsKey("emit"));
    }
}
