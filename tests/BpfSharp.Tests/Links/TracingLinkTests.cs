using BpfSharp.Asm;
using BpfSharp.Btf;
using BpfSharp.Kernel;
using BpfSharp.Links;
using BpfSharp.Maps;
using BpfSharp.Programs;
using static BpfSharp.Tests.Links.LinkTestSupport;

namespace BpfSharp.Tests.Links;

[Collection(LinkCollection.Name)]
[Trait("Category", "Kernel")]
public sealed class TracingLinkTests
{
    private static readonly int Pid = Environment.ProcessId;

    [KernelFact]
    public void TracepointCountsTheTriggeringSyscallAndReportsItsInfo()
    {
        using var counters = Counters();
        using Program program = LoadCounter(ProgramType.Tracepoint, counters, pid: Pid);
        using TracepointLink link = TracepointLink.Attach(program, "syscalls", "sys_enter_getppid");
        for (int i = 0; i < 5; i++)
        {
            GetParentPid();
        }
        Assert.Equal(5UL, counters[0]);

        Assert.True(link.IsBpfLink);
        var info = Assert.IsType<PerfEventLinkInfo>(link.Info);
        Assert.Equal(LinkType.PerfEvent, info.Type);
        Assert.Equal(PerfEventLinkKind.Tracepoint, info.Kind);
        Assert.Equal("sys_enter_getppid", info.Name);
        Assert.Equal(program.Id, info.ProgramId);
        Assert.Contains(link.Id, Link.AllIds());
        Assert.Contains(Link.All(), l => l.Id == link.Id && l.ProgramId == program.Id);

        link.Dispose();
        GetParentPid();
        Assert.Equal(5UL, counters[0]);
        Assert.DoesNotContain(info.Id, Link.AllIds());
    }

    [KernelFact]
    public void PerfEventLinksRefuseUpdatesWithTheKernelsAnswer()
    {
        using var counters = Counters(2);
        using Program first = LoadCounter(ProgramType.Tracepoint, counters, pid: Pid, slot: 0);
        using Program second = LoadCounter(ProgramType.Tracepoint, counters, pid: Pid, slot: 1);
        using TracepointLink tracepoint = TracepointLink.Attach(first, "syscalls/sys_enter_getppid");
        GetParentPid();
        Assert.Equal(1UL, counters[0]);
        var refused = Assert.Throws<BpfException>(() => tracepoint.Update(second));
        Assert.Equal(BpfCommand.LinkUpdate, refused.Command);
        Assert.Equal(Errno.EINVAL, refused.Errno);
        Assert.Contains("cannot change its program", refused.Message);
        GetParentPid();
        Assert.Equal(2UL, counters[0]);
        Assert.Equal(0UL, counters[1]);
    }

    [KernelFact]
    public void LinksPinAndReopenByPathAndId()
    {
        string directory = $"/sys/fs/bpf/bpfsharp-links-{Suffix()}";
        Directory.CreateDirectory(directory);
        try
        {
            using var counters = Counters();
            using Program program = LoadCounter(ProgramType.RawTracepoint, counters, pid: Pid, filter: SyscallFilter);
            string pin = Path.Combine(directory, "link");
            uint id;
            using (RawTracepointLink link = RawTracepointLink.Attach(program, "sys_enter"))
            {
                id = link.Id;
                link.Pin(pin);
                Assert.Equal(pin, link.PinnedPath);
            }
            // Closed, but pinned: still attached.
            GetParentPid();
            Assert.Equal(1UL, counters[0]);
            using (Link reopened = Link.OpenPinned(pin))
            using (Link byId = Link.FromId(id))
            {
                Assert.Equal(id, reopened.Id);
                var info = Assert.IsType<RawTracepointLinkInfo>(byId.Info);
                Assert.Equal("sys_enter", info.TracepointName);
                reopened.Unpin();
                Assert.False(File.Exists(pin));
            }
            Assert.True(WaitUntil(() => !Link.AllIds().Contains(id), TimeSpan.FromSeconds(5)));
            GetParentPid();
            Assert.Equal(1UL, counters[0]);
            Assert.Throws<ArgumentException>(() => Link.OpenPinned(WithPinnedMap(directory)));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static string WithPinnedMap(string directory)
    {
        using var map = Counters();
        string path = Path.Combine(directory, "map");
        map.Map.Pin(path);
        return path;
    }

    // raw_tp/sys_enter: ctx is u64 args[2] = { struct pt_regs *regs, long id }.
    private static void SyscallFilter(Assembler asm) =>
        asm.Load(AccessSize.DoubleWord, Register.R2, Register.R6, 8).JumpIf(JumpOperation.NotEqual, Register.R2, SyscallGetppid, "out");

    [KernelFact]
    public void RawTracepointCountsOnlyTheFilteredSyscall()
    {
        using var counters = Counters();
        using Program program = LoadCounter(ProgramType.RawTracepoint, counters, pid: Pid, filter: SyscallFilter);
        using RawTracepointLink link = RawTracepointLink.Attach(program, "sys_enter");
        for (int i = 0; i < 3; i++)
        {
            GetParentPid();
        }
        Assert.Equal(3UL, counters[0]);
        Assert.Equal(LinkType.RawTracepoint, link.Type);
        var missing = Assert.Throws<BpfException>(() => RawTracepointLink.Attach(program, "no_such_tracepoint_bpfsharp"));
        Assert.Equal(Errno.ENOENT, missing.Errno);
        Assert.Contains("no raw tracepoint", missing.Message);
    }

    [KernelFact]
    public void TpBtfAttachesToItsLoadTimeTargetAndCounts()
    {
        using var counters = Counters();
        int target = KernelBtf.Vmlinux.FindType("btf_trace_sys_enter", BtfKind.Typedef).Id;
        // tp_btf loads here (unlike fentry): a refusal is a failure, not a pass.
        using (Program program = LoadCounter(ProgramType.Tracing, counters, AttachType.TraceRawTp, pid: Pid, filter: SyscallFilter, attachBtfId: (uint)target))
        {
            using var link = (RawTracepointLink)Assert.Single(AutoAttach.Attach(program, "tp_btf/sys_enter"));
            GetParentPid();
            GetParentPid();
            Assert.Equal(2UL, counters[0]);
            // A tp_btf attachment made by BPF_RAW_TRACEPOINT_OPEN reports itself as a raw tracepoint link.
            var info = Assert.IsType<RawTracepointLinkInfo>(link.Info);
            Assert.Equal("sys_enter", info.TracepointName);
            Assert.Equal(program.Id, info.ProgramId);
        }
    }

    [KernelFact]
    public void FentryRefusalSaysSoPlainly()
    {
        using var counters = Counters();
        int target = KernelBtf.Vmlinux.FindType("vfs_read", BtfKind.Function).Id;
        var error = Assert.ThrowsAny<BpfException>(() =>
        {
            using Program program = LoadCounter(ProgramType.Tracing, counters, AttachType.TraceFentry, attachBtfId: (uint)target);
            using Link link = TracingLink.Attach(program, AttachType.TraceFentry);
        });
        // This machine's kernel refuses trampolines to root: any other answer is a different failure.
        Assert.Equal(Errno.EPERM, error.Errno);
        Assert.Contains("refuses", error.Message);
        Assert.Contains("even for root", error.Message);
        Assert.DoesNotContain("memlock", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// LSM, fexit and fmod_ret programs (tests/programs/refused_kinds.bpf.c) loaded through a collection, one at a
    /// time: this kernel refuses each to root with EPERM, and the error says so, names the program and its kind,
    /// and does not send the user to raise memlock (which cannot help).
    /// </summary>
    [KernelTheory]
    [InlineData("refuse_open", "lsm/file_open", "Lsm (LsmMac)")]
    [InlineData("after_read", "fexit/vfs_read", "Tracing (TraceFexit)")]
    [InlineData("modify_open", "fmod_ret/security_file_open", "Tracing (ModifyReturn)")]
    public void RefusedProgramKindsSaySoPlainly(string program, string section, string kind)
    {
        BpfSharp.Specs.CollectionSpec spec = BpfSharp.Specs.CollectionSpec.Load(TestPrograms.Path("refused_kinds"));
        Assert.Equal(section, spec.Program(program).SectionName);
        foreach (ProgramSpec other in spec.Programs.Values)
        {
            other.Autoload = other.Name == program;
        }
        var error = Assert.Throws<BpfException>(() => BpfSharp.Collections.Collection.Load(spec).Dispose());
        Assert.Equal(Errno.EPERM, error.Errno);
        Assert.Contains("EPERM", error.Message);
        Assert.Contains($"loading program '{program}'", error.Message);
        Assert.Contains($"the kernel refuses to load {kind} programs on this machine even for root", error.Message);
        Assert.DoesNotContain("memlock", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("CAP_BPF", error.Message);
    }

    [KernelFact]
    public void KprobesNameTheMissingFeatureAndTheAlternative()
    {
        using var counters = Counters();
        using Program program = LoadCounter(ProgramType.Kprobe, counters);
        if (Directory.Exists("/sys/bus/event_source/devices/kprobe"))
        {
            using KprobeLink link = KprobeLink.Attach(program, KprobeLink.SyscallFunction("getppid"));
            GetParentPid();
            Assert.True(counters[0] >= 1);
            return;
        }
        var error = Assert.Throws<BpfException>(() => KprobeLink.Attach(program, "do_sys_openat2"));
        Assert.Contains("CONFIG_KPROBES", error.Message);
        Assert.Contains("tracepoint", error.Message);
        var auto = Assert.Throws<BpfException>(() => AutoAttach.Attach(program, "kretprobe/do_sys_openat2"));
        Assert.Contains("CONFIG_KPROBES", auto.Message);
    }

    [KernelFact]
    public void KprobeMultiWithoutKernelSupportSaysWhatIsMissing()
    {
        using var counters = Counters();
        using Program program = LoadCounter(ProgramType.Kprobe, counters, AttachType.TraceKprobeMulti);
        try
        {
            using KprobeMultiLink link = KprobeMultiLink.Attach(program, [KprobeLink.SyscallFunction("getppid")]);
            GetParentPid();
            Assert.True(counters[0] >= 1);
            Assert.Equal(1u, Assert.IsType<KprobeMultiLinkInfo>(link.Info).Count);
        }
        catch (BpfException e)
        {
            Assert.Equal(BpfCommand.LinkCreate, e.Command);
            Assert.Contains("kprobe.multi links are not available", e.Message);
        }
    }

    [KernelFact]
    public void PerfEventSamplesCpuClockOnEveryCpu()
    {
        using var counters = Counters();
        using Program program = LoadCounter(ProgramType.PerfEvent, counters);
        IReadOnlyList<PerfEventSampleLink> links = PerfEventSampleLink.AttachAllCpus(program, PerfCounterType.Software, PerfCounters.CpuClock, SampleRate.Frequency(1000));
        try
        {
            Assert.Equal(Cpus.Online.Count, links.Count);
            var spin = System.Diagnostics.Stopwatch.StartNew();
            bool sampled = WaitUntil(() => counters[0] >= 20, TimeSpan.FromSeconds(5));
            Assert.True(sampled, $"only {counters[0]} cpu-clock samples in {spin.Elapsed}");
            var info = Assert.IsType<PerfEventLinkInfo>(links[0].Info);
            Assert.Equal(PerfEventLinkKind.Event, info.Kind);
            // The perf type is reported as the kernel holds it: Linux 6.18 moves cpu-clock to its own PMU type.
            Assert.NotEqual(0u, info.EventType);
            Assert.Equal(PerfCounters.CpuClock, info.EventConfig);
        }
        finally
        {
            foreach (PerfEventSampleLink link in links)
            {
                link.Dispose();
            }
        }
        ulong after = counters[0];
        Thread.Sleep(50);
        Assert.Equal(after, counters[0]);
    }

    /// <summary>
    /// A software page-faults event sampled by period (every Nth fault), on one process: the workload waits until the
    /// probe is attached, then writes one byte to each of PAGES fresh anonymous pages (no huge pages, so each faults
    /// on its own) and reads its small executable. With period 1 every fault is a sample, so the samples are at
    /// least PAGES and at most PAGES plus the few faults the rest of the workload makes; with period 64, a 64th.
    /// </summary>
    [KernelTheory]
    [InlineData(1UL)]
    [InlineData(64UL)]
    public void PerfEventByPeriodSamplesEveryNthPageFaultOfAProcess(ulong period)
    {
        const int Pages = 2000, OtherFaults = 400;
        using var counters = Counters();
        using Program program = LoadCounter(ProgramType.PerfEvent, counters);
        var start = new System.Diagnostics.ProcessStartInfo(NativeProgram("pagefault_workload"), [Pages.ToString(System.Globalization.CultureInfo.InvariantCulture), "wait"])
        {
            RedirectStandardInput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using System.Diagnostics.Process workload = System.Diagnostics.Process.Start(start)!;
        try
        {
            using (PerfEventSampleLink link = PerfEventSampleLink.Attach(program, PerfCounterType.Software, PerfCounters.PageFaults, SampleRate.Period(period), cpu: -1, pid: workload.Id))
            {
                workload.StandardInput.WriteLine("go");
                workload.StandardInput.Close();
                string report = workload.StandardError.ReadToEnd();
                Assert.True(workload.WaitForExit(10_000), "the workload did not finish");
                Assert.Equal(0, workload.ExitCode);
                Assert.Contains($"touched {Pages} pages", report);
                var info = Assert.IsType<PerfEventLinkInfo>(link.Info);
                Assert.Equal(PerfCounters.PageFaults, info.EventConfig);
            }
        }
        finally
        {
            if (!workload.HasExited)
            {
                workload.Kill();
            }
        }
        ulong samples = counters[0];
        Assert.InRange(samples, (ulong)Pages / period, ((ulong)Pages + OtherFaults) / period + 1);
    }

    [KernelFact]
    public void HardwareCountersOnAMachineWithoutThemSaySo()
    {
        using var counters = Counters();
        using Program program = LoadCounter(ProgramType.PerfEvent, counters);
        try
        {
            using PerfEventSampleLink link = PerfEventSampleLink.Attach(program, PerfCounterType.Hardware, PerfCounters.CpuCycles, SampleRate.Period(1_000_000), cpu: 0);
        }
        catch (BpfException e)
        {
            Assert.Equal("perf_event_open", e.Operation);
            Assert.Contains("no hardware performance counters", e.Message);
        }
    }

    [KernelFact]
    public void IteratorListsThisProcessAmongTheTasks()
    {
        BtfSpec vmlinux = KernelBtf.Vmlinux;
        int target = vmlinux.FindType("bpf_iter_task", BtfKind.Function).Id;
        BtfType task = vmlinux.FindType("task_struct", BtfKind.Struct);
        uint tgidOffset = 0;
        foreach (BtfMember member in task.Members)
        {
            if (member.Name == "tgid")
            {
                tgidOffset = member.BitOffset / 8;
            }
        }
        Assert.NotEqual(0u, tgidOffset);
        // ctx: struct bpf_iter__task { struct bpf_iter_meta *meta; struct task_struct *task; }; meta->seq is first.
        var code = new Assembler()
            .Load(AccessSize.DoubleWord, Register.R6, Register.R1, 0)
            .Load(AccessSize.DoubleWord, Register.R7, Register.R1, 8)
            .JumpIf(JumpOperation.Equal, Register.R7, 0, "out")
            .Load(AccessSize.Word, Register.R2, Register.R7, (short)tgidOffset)
            .Store(AccessSize.Word, Register.R10, -4, Register.R2)
            .Load(AccessSize.DoubleWord, Register.R1, Register.R6, 0)
            .Mov(Register.R2, Register.R10)
            .Alu(AluOperation.Add, Register.R2, -4)
            .Mov(Register.R3, 4)
            .Call(HelperFunction.SeqWrite)
            .Label("out")
            .Mov(Register.R0, 0)
            .Exit()
            .Build();
        // Task iterators load here (unlike fentry): a refusal is a failure, not a pass.
        using (Program program = Program.Load(new ProgramSpec
        {
            Name = "iter_task",
            Type = ProgramType.Tracing,
            ExpectedAttachType = AttachType.TraceIter,
            AttachBtfId = (uint)target,
            Instructions = code,
            License = "GPL",
        }))
        {
            using IteratorLink link = IteratorLink.Attach(program);
            int[] before = ProcessIds();
            byte[] output;
            using (Iterator walk = link.Open())
            {
                output = walk.ReadToEnd();
            }
            int[] tgids = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(output).ToArray();
            Assert.Contains(Pid, tgids);
            // Every process that existed before and after the walk was listed. (Pid 1 is left out:
            // this machine's kernel does not show it to task iterators, bpftool's included.)
            int[] stable = [.. ProcessIds().Intersect(before).Where(p => p != 1 && Directory.Exists($"/proc/{p}"))];
            Assert.NotEmpty(stable);
            Assert.Empty(stable.Except(tgids));
            var info = Assert.IsType<IteratorLinkInfo>(link.Info);
            Assert.Equal("task", info.TargetName);

            using IteratorLink mine = IteratorLink.Attach(program, new IteratorOptions { ProcessId = (uint)Pid });
            using Iterator only = mine.Open();
            int[] ours = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(only.ReadToEnd()).ToArray();
            Assert.NotEmpty(ours);
            Assert.All(ours, tgid => Assert.Equal(Pid, tgid));
        }
    }

    private static int[] ProcessIds() =>
        [.. Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Where(n => n!.All(char.IsAsciiDigit)).Select(n => int.Parse(n!, System.Globalization.CultureInfo.InvariantCulture))];

    [KernelFact]
    public void AutoAttachFollowsSectionNames()
    {
        using var counters = Counters();
        using Program tracepoint = LoadCounter(ProgramType.Tracepoint, counters, pid: Pid);
        IReadOnlyList<Link> links = AutoAttach.Attach(tracepoint, "tracepoint/syscalls/sys_enter_getppid");
        try
        {
            Assert.IsType<TracepointLink>(Assert.Single(links));
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
        Assert.Empty(AutoAttach.Attach(tracepoint, "xdp"));
        Assert.Empty(AutoAttach.Attach(tracepoint, "uprobe"));
    }
}
