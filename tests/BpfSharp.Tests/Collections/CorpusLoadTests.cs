using System.Runtime.InteropServices;
using System.Text;
using BpfSharp.Btf;
using BpfSharp.Collections;
using BpfSharp.Events;
using BpfSharp.Kernel;
using BpfSharp.Maps;
using BpfSharp.Programs;
using BpfSharp.Specs;
using BpfSharp.Symbols;

namespace BpfSharp.Tests.Collections;

/// <summary>Loads each program of the test corpus with Collection.Load, runs it and reads back what it did.</summary>
[Trait("Category", "Kernel")]
public sealed class CorpusLoadTests
{
    private static readonly byte[] Packet = new byte[64];

    [StructLayout(LayoutKind.Sequential)]
    private struct LpmKey
    {
        public uint PrefixLength;
        public uint Address;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Point
    {
        public uint X;
        public uint Y;
        public ulong Weight;
    }

    private static TestRunResult Run(Collection collection, string program) =>
        collection.Program(program).TestRun(new TestRunOptions { Data = Packet });

    private static TestRunResult RunSyscall(Collection collection, string program) =>
        collection.Program(program).TestRun(new TestRunOptions());

    [KernelFact]
    public void EveryMapKindIsCreatedAsDefinedAndWritten()
    {
        using Collection collection = Collection.Load(TestPrograms.Path("map_kinds"));
        Assert.Equal(2u, Run(collection, "touch_maps").ReturnValue);

        Assert.Equal(11UL, collection.Map("hash").Lookup<uint, ulong>(1));
        Assert.Equal(12UL, collection.Map("array").Lookup<uint, ulong>(1));
        Assert.Equal(11UL, collection.Map("lru_hash").Lookup<uint, ulong>(1));
        var lpm = collection.Map("lpm");
        Assert.Equal(MapFlags.NoPrealloc, lpm.Flags & MapFlags.NoPrealloc);
        Assert.Equal(7u, lpm.Lookup<LpmKey, uint>(new LpmKey { PrefixLength = 32, Address = 0x0101a8c0 }));
        Assert.Equal(MapType.BloomFilter, collection.Map("bloom").Type);
        Assert.Equal(3UL, collection.Map("bloom").MapExtra);
        Assert.Equal(MapType.RingBuf, collection.Map("ringbuf").Type);
        Assert.Equal(4096u, collection.Map("ringbuf").MaxEntries);
        Assert.Equal(8u * 127, collection.Map("stack_traces").ValueSize);
        Assert.Equal(MapType.TaskStorage, collection.Map("task_storage").Type);
        Assert.Equal(MapType.PerCpuHash, collection.Map("percpu_hash").Type);
        Assert.Equal(MapType.LruPerCpuHash, collection.Map("lru_percpu_hash").Type);

        // Per-CPU maps: the one test run wrote the slot of the CPU it ran on, and every other CPU's slot is zero.
        AssertOneCpuHolds(13UL, new PerCpuArrayMap<ulong>(collection.Map("percpu_array")).Lookup(1));
        Assert.All(new PerCpuArrayMap<ulong>(collection.Map("percpu_array")).Lookup(0), v => Assert.Equal(0UL, v));
        AssertOneCpuHolds(11UL, new PerCpuHashMap<uint, ulong>(collection.Map("percpu_hash")).Lookup(1));
        AssertOneCpuHolds(11UL, new LruPerCpuHashMap<uint, ulong>(collection.Map("lru_percpu_hash")).Lookup(1));

        // The bloom filter answers "maybe" for the pushed value.
        var bloom = new BloomFilterMap<uint>(collection.Map("bloom"));
        Assert.True(bloom.MayContain(8u));
        Assert.Contains(Enumerable.Range(1000, 16), v => !bloom.MayContain((uint)v));

        // The ring buffer holds the one record bpf_ringbuf_output wrote.
        var records = new List<ulong>();
        using (var ring = new RingBuffer(collection.Map("ringbuf")))
        {
            Assert.Equal(1, ring.Consume((in ulong record) => records.Add(record)));
        }
        Assert.Equal([11UL], records);

        // Task storage: store_task writes the calling thread's id (tagged 0xabc in the high half) into its storage;
        // user space reads it by a pidfd of that thread.
        int tid;
        using (new TestTracepoint(collection.Program("store_task"), "syscalls", "sys_enter_getppid"))
        {
            // One thread: the syscall and the pidfd must name the same task.
            tid = LibC.GetTid();
            LibC.Syscall(110 /* getppid */, 0, 0, 0, 0, 0);
        }
        int pidfd = (int)LibC.Syscall(434 /* pidfd_open */, tid, 0x80 /* PIDFD_THREAD */, 0, 0, 0);
        Assert.True(pidfd >= 0, $"pidfd_open({tid}, PIDFD_THREAD) failed: {Marshal.GetLastPInvokeError()}");
        try
        {
            Assert.Equal((0xabcUL << 32) | (uint)tid, collection.Map("task_storage").Lookup<int, ulong>(pidfd));
        }
        finally
        {
            LibC.Close(pidfd);
        }

        Map sized = collection.Map("sized");
        Assert.Equal((8u, 16u), (sized.KeySize, sized.ValueSize));
        // numa_node sets BPF_F_NUMA_NODE, which the kernel keeps in map_flags. The node itself (0) is not reported back:
        // neither bpf_map_info nor /proc/PID/fdinfo carries it, so only the spec shows it.
        Assert.Equal(MapFlags.NoPrealloc | MapFlags.NumaNode, sized.ReadInfo().Flags);
        Assert.Equal(0u, CollectionSpec.Load(TestPrograms.Path("map_kinds")).Map("sized").NumaNode);
        byte[] value = new byte[16];
        sized.Lookup(BitConverter.GetBytes(5UL), value);
        Assert.Equal(21UL, BitConverter.ToUInt64(value, 0));
        Assert.Equal(22UL, BitConverter.ToUInt64(value, 8));

        // Queue and stack: pop what the program pushed.
        byte[] popped = new byte[4];
        collection.Map("queue").LookupAndDelete([], popped);
        Assert.Equal(7u, BitConverter.ToUInt32(popped));
        collection.Map("stack").LookupAndDelete([], popped);
        Assert.Equal(8u, BitConverter.ToUInt32(popped));

        // Maps with BTF carry their key and value type ids into the kernel.
        Assert.NotEqual(0u, collection.Map("hash").BtfValueTypeId);
        Assert.NotNull(collection.Btf);
    }

    private static void AssertOneCpuHolds(ulong expected, ulong[] perCpu)
    {
        Assert.Equal(Cpus.PossibleCount, perCpu.Length);
        Assert.Equal([expected], perCpu.Where(v => v != 0));
    }

    [KernelFact]
    public void LegacyMapsSectionLoads()
    {
        CollectionSpec spec = CollectionSpec.Load(TestPrograms.Path("legacy_maps"));
        Assert.Equal(MapType.Hash, spec.Map("legacy_lengths").Type);
        Assert.Equal(MapFlags.NoPrealloc, spec.Map("legacy_lengths").Flags);
        using Collection collection = Collection.Load(spec);
        Run(collection, "count_legacy");
        Run(collection, "count_legacy");
        Assert.Equal(2UL, collection.Map("legacy_counts").Lookup<uint, ulong>(0));
        Assert.Equal(64u, collection.Map("legacy_lengths").Lookup<uint, uint>(64));
    }

    [KernelFact]
    public void MapsOfMapsGetTheirInitialInnerMaps()
    {
        using Collection collection = Collection.Load(TestPrograms.Path("map_in_map"));
        RunSyscall(collection, "write_inner");
        Assert.Equal(100UL, collection.Map("inner_a").Lookup<uint, ulong>(0));
        // inner_b is reachable from both outer maps: +1 through the array, +10 through the hash.
        Assert.Equal(11UL, collection.Map("inner_b").Lookup<uint, ulong>(0));
        Assert.Equal(collection.Map("inner_b").Id, collection.Map("outer_hash").Lookup<uint, uint>(7));
    }

    [KernelFact]
    public void ProgramArrayInitialValuesMakeTailCallsWork()
    {
        using Collection collection = Collection.Load(TestPrograms.Path("tail_calls"));
        Assert.Equal(1u, Run(collection, "tail_entry").ReturnValue); // XDP_DROP from tail_drop
        Assert.Equal(1UL, collection.Variable("entry_runs").Get<ulong>());
        Assert.Equal(1UL, collection.Variable("tail_runs").Get<ulong>());
        Assert.Equal(collection.Program("tail_drop").Id, collection.Map("jumps").Lookup<uint, uint>(1));
    }

    [KernelFact]
    public void GlobalsInEverySectionAreSetBeforeLoadAndReadAfter()
    {
        CollectionSpec spec = CollectionSpec.Load(TestPrograms.Path("globals"));
        spec.Variable("scale").Set(5u);
        spec.Variable("greeting").SetBytes("bonjour"u8);
        using Collection collection = Collection.Load(spec);
        Assert.Equal(["globals.data", "globals.rodata", "globals.bss", ".data.counters", ".rodata.config"],
            new[] { "globals.data", "globals.rodata", "globals.bss", ".data.counters", ".rodata.config" }.Where(collection.Maps.ContainsKey));
        Assert.True(collection.Map("globals.rodata").Flags.HasFlag(MapFlags.ReadOnlyProgram));

        RunSyscall(collection, "read_globals");
        Assert.Equal(50UL, collection.Variable("bss_sum").Get<ulong>());
        Assert.Equal(45UL, collection.Variable("data_counter").Get<ulong>());
        Point point = collection.Variable("bss_point").Get<Point>();
        Assert.Equal((10u, 2u, 15UL), (point.X, point.Y, point.Weight));
        Assert.Equal("bonjour", Encoding.ASCII.GetString(collection.Variable("bss_text").Bytes).TrimEnd('\0'));
        Assert.Equal(6UL, collection.Variable("custom_counter").Get<ulong>());

        // Writes through the mapping reach the program; .rodata stays read-only.
        collection.Variable("data_counter").Set(100UL);
        RunSyscall(collection, "read_globals");
        Assert.Equal(105UL, collection.Variable("data_counter").Get<ulong>());
        Assert.Throws<InvalidOperationException>(() => collection.Variable("scale").Set(1u));
    }

    [KernelFact]
    public void KconfigAndUntypedKsymExternsResolveFromTheRunningKernel()
    {
        using (Collection collection = Collection.Load(TestPrograms.Path("externs")))
        {
            RunSyscall(collection, "read_externs");
            KernelConfig config = KernelConfig.Current!;
            Assert.Equal(KernelRelease.Current.VersionCode, collection.Variable("kernel_version").Get<uint>());
            // x86-64 and arm64 kernels since 4.17 enter syscalls through __<arch>_sys_* wrappers, as kallsyms shows.
            bool wrapper = File.ReadLines("/proc/kallsyms").Any(l => l.EndsWith(" __x64_sys_bpf", StringComparison.Ordinal) || l.EndsWith(" __arm64_sys_bpf", StringComparison.Ordinal));
            Assert.True(wrapper);
            Assert.True(collection.Variable("syscall_wrapper").Get<bool>());
            Assert.Equal((int)config.Number("CONFIG_HZ")!, collection.Variable("hz").Get<int>());
            Assert.Equal(1, collection.Variable("bpf_syscall").Get<int>()); // TRI_YES
            Assert.Equal(config.IsEnabled("CONFIG_BPF_JIT"), collection.Variable("bpf_jit").Get<bool>());
            Assert.Equal(0, collection.Variable("missing").Get<int>());
            string hostname = (config["CONFIG_DEFAULT_HOSTNAME"] ?? "").Trim('"');
            Assert.Equal(hostname, Encoding.ASCII.GetString(collection.Variable("hostname").Bytes).TrimEnd('\0'));
            Assert.Equal(KernelSymbols.Current.Find("_stext")!.Value.Address, collection.Variable("stext_address").Get<ulong>());
            Assert.True(collection.Map("externs.kconfig").Flags.HasFlag(MapFlags.ReadOnlyProgram));
        }
        var overrides = new CollectionOptions { KconfigOverrides = new Dictionary<string, string> { ["CONFIG_HZ"] = "1000" } };
        using (Collection collection = Collection.Load(CollectionSpec.Load(TestPrograms.Path("externs")), overrides))
        {
            RunSyscall(collection, "read_externs");
            Assert.Equal(1000, collection.Variable("hz").Get<int>());
        }
    }

    [KernelFact]
    public void TypedKsymIsResolvedByBtfIdAndTheKernelAnswerIsClear()
    {
        CollectionSpec spec = CollectionSpec.Load(TestPrograms.Path("ksym_typed"));
        ExternSpec runqueues = Assert.Single(spec.Externs);
        Assert.Equal((ExternKind.Ksym, "rq"), (runqueues.Kind, runqueues.Type!.Value.Name));
        try
        {
            using Collection collection = Collection.Load(spec);
            // Kernels with CONFIG_KALLSYMS_ALL can place the variable: the program then reads CPU 0's runqueue.
            RunSyscall(collection, "read_runqueue");
            Assert.Equal(0, collection.Variable("rq_cpu").Get<int>());
        }
        catch (VerifierException e)
        {
            // This kernel's kallsyms has no data symbols, so the verifier cannot place the variable.
            Assert.Equal("read_runqueue", e.ProgramName);
            Assert.Contains("runqueues", e.Log);
            Assert.Contains("read_runqueue", e.Message);
        }
    }

    [KernelFact]
    public void KfuncCallsResolveByBtfId()
    {
        CollectionSpec spec = CollectionSpec.Load(TestPrograms.Path("kfunc"));
        Assert.Equal(["bpf_task_from_pid", "bpf_task_release", "bpfsharp_no_such_kfunc"], spec.Externs.Where(e => e.IsFunction).Select(e => e.Name).Order());
        int pid = LibC.GetPid();
        spec.Variable("target_pid").Set(pid);
        using Collection collection = Collection.Load(spec);
        Assert.Equal(0u, RunSyscall(collection, "find_task").ReturnValue);
        Assert.Equal(pid, collection.Variable("found_tgid").Get<int>());
        // The weak externs this kernel lacks are address 0, and the call they guard was never verified as a call.
        Assert.Equal(0, collection.Variable("weak_kfunc_exists").Get<int>());
        Assert.Equal(0, collection.Variable("weak_ksym_exists").Get<int>());
    }

    [KernelFact]
    public void PinnedByNameMapsAreReusedAcrossLoads()
    {
        string directory = $"/sys/fs/bpf/bpfsharp-loader-{Guid.NewGuid():N}";
        Directory.CreateDirectory(directory);
        try
        {
            var options = new CollectionOptions { PinPath = directory };
            using (Collection first = Collection.Load(CollectionSpec.Load(TestPrograms.Path("pinned_map")), options))
            {
                Run(first, "count_shared");
            }
            Assert.True(File.Exists(Path.Combine(directory, "shared_runs")));
            using (Collection second = Collection.Load(CollectionSpec.Load(TestPrograms.Path("pinned_map")), options))
            {
                Run(second, "count_shared");
                Assert.Equal(2UL, second.Map("shared_runs").Lookup<uint, ulong>(0));
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [KernelFact]
    public void IncompatiblePinnedMapIsRefusedWithTheDifference()
    {
        string directory = $"/sys/fs/bpf/bpfsharp-loader-{Guid.NewGuid():N}";
        Directory.CreateDirectory(directory);
        try
        {
            using (Map other = Map.Create(new MapSpec { Name = "shared_runs", Type = MapType.Hash, KeySize = 4, ValueSize = 8, MaxEntries = 1 }))
            {
                other.Pin(Path.Combine(directory, "shared_runs"));
            }
            var error = Assert.ThrowsAny<BpfException>(() => Collection.Load(CollectionSpec.Load(TestPrograms.Path("pinned_map")), new CollectionOptions { PinPath = directory }));
            Assert.Contains("type Hash, not Array", error.Message);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [KernelFact]
    public void ReplacedMapIsUsedAndLeftOpen()
    {
        using Map runs = Map.Create(new MapSpec { Name = "runs", Type = MapType.Array, KeySize = 4, ValueSize = 8, MaxEntries = 1 });
        using (Collection collection = Collection.Load(CollectionSpec.Load(TestPrograms.Path("minimal")), new CollectionOptions().ReplaceMap("runs", runs)))
        {
            Assert.Same(runs, collection.Map("runs"));
            Run(collection, "count_runs");
        }
        Assert.Equal(1UL, runs.Lookup<uint, ulong>(0));
    }

    [KernelFact]
    public void VerifierRejectionNamesProgramInstructionAndSourceLine()
    {
        CollectionSpec spec = CollectionSpec.Load(TestPrograms.Path("verifier_reject"));
        var error = Assert.Throws<VerifierException>(() => Collection.Load(spec));
        Assert.Equal("reads_too_far", error.ProgramName);
        Assert.NotNull(error.InstructionIndex);
        VerifierSourceLine source = error.SourceLine!;
        Assert.EndsWith("verifier_reject.bpf.c", source.FileName);
        Assert.Contains("value[3]", source.Text);
        Assert.Contains("verifier_reject.bpf.c:", error.Message);

        // Turning its autoload off loads the rest.
        spec.Program("reads_too_far").Autoload = false;
        using Collection collection = Collection.Load(spec);
        Assert.Equal(["accepted"], collection.Programs.Keys);
    }

    [KernelFact]
    public void DisposeClosesEveryDescriptor()
    {
        // The descriptors the collection holds, checked one by one: counting /proc/self/fd would also count what
        // tests running in parallel open and close.
        var held = new List<FileDescriptor>();
        using (Collection collection = Collection.Load(TestPrograms.Path("globals")))
        {
            held.AddRange(collection.Programs.Values.Select(p => p.Fd));
            held.AddRange(collection.Maps.Values.Select(m => m.Fd));
            if (collection.Btf is { } btf)
            {
                held.Add(btf.Fd);
            }
            Assert.NotEmpty(held);
            Assert.All(held, fd => Assert.False(fd.IsClosed));
        }
        Assert.All(held, fd => Assert.True(fd.IsClosed, $"{fd.Description} is still open"));
    }

    [KernelFact]
    public void CoreReadsThroughTaskStruct()
    {
        using Collection collection = Collection.Load(TestPrograms.Path("core_loader"));
        AssertCoreLoaderReadsThisTask(collection);
    }

    /// <summary>Runs core_loader's program on a getpid of this process and checks what its CO-RE reads found.</summary>
    internal static void AssertCoreLoaderReadsThisTask(Collection collection)
    {
        using (new TestTracepoint(collection.Program("read_task"), "syscalls", "sys_enter_getpid"))
        {
            LibC.GetPid();
        }
        Assert.Equal(LibC.GetPid(), collection.Variable("pid").Get<int>());
        // BPF_CORE_READ through two pointers: task->real_parent->tgid is the parent process, what getppid answers.
        Assert.Equal(LibC.Syscall(110 /* getppid */, 0, 0, 0, 0, 0), collection.Variable("parent_tgid").Get<int>());
        Assert.Equal(1, collection.Variable("has_pid").Get<int>());
        Assert.Equal(0, collection.Variable("has_missing").Get<int>());
        Assert.Equal(1, collection.Variable("has_task_type").Get<int>());
        Assert.Equal(0, collection.Variable("has_fake_type").Get<int>());
        Assert.Equal(1L, collection.Variable("tgid_enum").Get<long>());
        Assert.Equal(1, collection.Variable("has_enum_value").Get<int>());
    }
}
