using System.Runtime.InteropServices;
using BpfSharp.Btf;
using BpfSharp.Collections;
using BpfSharp.Kernel;
using BpfSharp.Maps;
using BpfSharp.Programs;
using BpfSharp.Specs;

namespace BpfSharp.Tests.Collections;

/// <summary>
/// Loader behaviour beyond "the corpus loads": BTF function and line info reaching the kernel, the rarer .maps
/// kinds, CO-RE type ids, edits to a spec before loading, and the frozen .rodata map.
/// </summary>
[Trait("Category", "Kernel")]
public sealed class CorpusFeatureTests
{
    private static readonly byte[] Packet = new byte[64];

    [StructLayout(LayoutKind.Sequential)]
    private struct Point
    {
        public uint X;
        public uint Y;
        public ulong Weight;
    }

    [KernelFact]
    public void FunctionAndLineInfoOfProgramAndSubprogramsReachTheKernel()
    {
        CollectionSpec spec = CollectionSpec.Load(TestPrograms.Path("subprograms"));
        BtfExt ext = spec.BtfExt!;
        // on_getpid calls count_pid, fold and the bpf_loop callback add_step: all of .text is appended to it.
        Assert.Equal(3, ext.FunctionInfos[".text"].Count);
        int expectedLines = ext.LineInfos["tracepoint/syscalls/sys_enter_getpid"].Count + ext.LineInfos[".text"].Count;
        Assert.Equal(expectedLines, spec.Link("on_getpid").Lines.Count);

        using Collection collection = Collection.Load(spec);
        ProgramInfo info = collection.Program("on_getpid").GetInfo();
        Assert.Equal(4u, info.FuncInfoCount);
        Assert.Equal((uint)expectedLines, info.LineInfoCount);
        Assert.Equal(collection.Btf!.GetInfo().Id, info.BtfId);
    }

    [KernelFact]
    public void RarerMapKindsAreCreatedAsDeclared()
    {
        CollectionSpec spec = CollectionSpec.Load(TestPrograms.Path("map_kinds_special"));
        using Collection collection = Collection.Load(spec);
        var expected = new (string Name, MapType Type, uint Key, uint Value, uint MaxEntries, MapFlags Flags)[]
        {
            ("devmap", MapType.DevMap, 4, 4, 8, MapFlags.None),
            ("devmap_hash", MapType.DevMapHash, 4, 8, 16, MapFlags.None), // struct bpf_devmap_val: ifindex, prog fd
            ("cpumap", MapType.CpuMap, 4, 8, 2, MapFlags.None),           // struct bpf_cpumap_val: qsize, prog fd
            ("xskmap", MapType.XskMap, 4, 4, 4, MapFlags.None),
            ("sockmap", MapType.SockMap, 4, 8, 5, MapFlags.None),
            ("sockhash", MapType.SockHash, 8, 4, 6, MapFlags.None),
            ("reuseport", MapType.ReuseportSockArray, 4, 8, 3, MapFlags.None),
            ("sk_storage", MapType.SkStorage, 4, 8, 0, MapFlags.NoPrealloc),
            ("inode_storage", MapType.InodeStorage, 4, 4, 0, MapFlags.NoPrealloc),
            ("cgrp_storage", MapType.CgrpStorage, 4, 8, 0, MapFlags.NoPrealloc),
            ("cgroup_storage", MapType.CgroupStorage, 16, 8, 0, MapFlags.None), // struct bpf_cgroup_storage_key
            ("percpu_cgroup_storage", MapType.PerCpuCgroupStorage, 8, 4, 0, MapFlags.None),
            ("user_ringbuf", MapType.UserRingBuf, 0, 0, 8192, MapFlags.None),
            ("cgroup_array", MapType.CgroupArray, 4, 4, 2, MapFlags.None),
        };
        foreach (var (name, type, key, value, maxEntries, flags) in expected)
        {
            // The spec read from the object, then what the kernel reports for the map it created.
            MapSpec declared = spec.Map(name);
            Assert.Equal((name, type, key, value, maxEntries, flags), (name, declared.Type, declared.KeySize, declared.ValueSize, declared.MaxEntries, declared.Flags));
            MapInfo info = collection.Map(name).ReadInfo();
            // Device maps hand programs a pointer to the entry on lookup, so the kernel makes them read-only to programs.
            MapFlags kernelAdds = type is MapType.DevMap or MapType.DevMapHash ? MapFlags.ReadOnlyProgram : MapFlags.None;
            Assert.Equal((name, type, key, value, maxEntries, flags | kernelAdds), (name, info.Type, info.KeySize, info.ValueSize, info.MaxEntries, info.Flags));
        }
        // Local storage maps need BTF for key and value; the kernel has the value type of the object's BTF.
        foreach (string name in new[] { "sk_storage", "inode_storage", "cgrp_storage" })
        {
            MapInfo info = collection.Map(name).ReadInfo();
            Assert.Equal(collection.Btf!.GetInfo().Id, info.BtfId);
            Assert.Equal(spec.Map(name).BtfValueTypeId, info.BtfValueTypeId);
        }
        // The program that uses the redirect maps loaded against them and runs.
        Assert.Equal(2u, collection.Program("redirect_nowhere").TestRun(new TestRunOptions { Data = Packet }).ReturnValue);
        Assert.Equal(1u, collection.Variable("redirects").Get<uint>());
    }

    [KernelFact]
    public void CoreTypeIdsAreTheLocalAndTheKernelTypeIds()
    {
        CollectionSpec spec = CollectionSpec.Load(TestPrograms.Path("core_type_ids"));
        using Collection collection = Collection.Load(spec);
        Assert.Equal(0u, collection.Program("read_type_ids").TestRun(new TestRunOptions()).ReturnValue);

        BtfType kernelTask = KernelBtf.Vmlinux.FindType("task_struct", BtfKind.Struct);
        Assert.Equal((uint)spec.Btf!.FindType("task_struct", BtfKind.Struct).Id, collection.Variable("local_task_id").Get<uint>());
        Assert.Equal((uint)kernelTask.Id, collection.Variable("kernel_task_id").Get<uint>());
        // A ___flavor resolves to the kernel type without the suffix.
        Assert.Equal((uint)kernelTask.Id, collection.Variable("kernel_flavor_id").Get<uint>());
        Assert.Equal((uint)KernelBtf.Vmlinux.FindType("mm_struct", BtfKind.Struct).Id, collection.Variable("kernel_mm_id").Get<uint>());
        Assert.Equal(kernelTask.Size, collection.Variable("task_size").Get<uint>());
        Assert.NotEqual(collection.Variable("local_task_id").Get<uint>(), collection.Variable("kernel_task_id").Get<uint>());
    }

    [KernelFact]
    public void ResizedMapInTheSpecIsCreatedAtTheNewSize()
    {
        CollectionSpec spec = CollectionSpec.Load(TestPrograms.Path("map_kinds"));
        Assert.Equal(16u, spec.Map("hash").MaxEntries);
        spec.Map("hash").MaxEntries = 100;
        using Collection collection = Collection.Load(spec);
        Map hash = collection.Map("hash");
        Assert.Equal(100u, hash.MaxEntries);
        Assert.Equal(100u, hash.ReadInfo().MaxEntries);
        // The kernel holds 100 keys, and refuses the 101st.
        for (uint key = 0; key < 100; key++)
        {
            hash.Update(key, (ulong)key * 3);
        }
        Assert.Equal(99UL * 3, hash.Lookup<uint, ulong>(99));
        var full = Assert.ThrowsAny<BpfException>(() => hash.Update(100u, 1UL));
        Assert.Equal(Errno.E2BIG, full.Errno);
    }

    [KernelFact]
    public void SpecFromAStreamLoadsLikeSpecFromAPath()
    {
        string path = TestPrograms.Path("subprograms");
        CollectionSpec fromPath = CollectionSpec.Load(path);
        CollectionSpec fromStream;
        using (FileStream stream = File.OpenRead(path))
        {
            fromStream = CollectionSpec.FromStream(stream, "subprograms.bpf.o");
        }
        Assert.Equal(fromPath.Programs.Keys.Order(), fromStream.Programs.Keys.Order());
        Assert.Equal(fromPath.Maps.Keys.Order(), fromStream.Maps.Keys.Order());
        Assert.Equal(fromPath.Variables.Keys.Order(), fromStream.Variables.Keys.Order());

        using Collection a = Collection.Load(fromPath);
        using Collection b = Collection.Load(fromStream);
        ProgramInfo infoA = a.Program("on_getpid").GetInfo(), infoB = b.Program("on_getpid").GetInfo();
        // The tag hashes the instructions the kernel verified (map addresses zeroed): the same program.
        Assert.Equal(infoA.Tag, infoB.Tag);
        Assert.Equal((infoA.XlatedSize, infoA.FuncInfoCount, infoA.LineInfoCount), (infoB.XlatedSize, infoB.FuncInfoCount, infoB.LineInfoCount));
        Assert.Equal(a.Maps.Values.Select(m => (m.Name, m.Type, m.KeySize, m.ValueSize, m.MaxEntries, m.Flags)).Order(),
            b.Maps.Values.Select(m => (m.Name, m.Type, m.KeySize, m.ValueSize, m.MaxEntries, m.Flags)).Order());
        Assert.Equal(7u, b.Variable("last_pid").Get<uint>());
    }

    [KernelFact]
    public void StructGlobalSetBeforeLoadIsSeenByTheProgram()
    {
        CollectionSpec spec = CollectionSpec.Load(TestPrograms.Path("globals"));
        VariableSpec origin = spec.Variable("origin");
        Assert.Equal((".rodata", 16u), (origin.SectionName, origin.Size));
        Point initial = origin.Get<Point>();
        Assert.Equal((1u, 2u, 3UL), (initial.X, initial.Y, initial.Weight));
        origin.Set(new Point { X = 100, Y = 200, Weight = 7 });
        using Collection collection = Collection.Load(spec);
        Assert.Equal(0u, collection.Program("read_globals").TestRun(new TestRunOptions()).ReturnValue);
        // bss_point = { origin.x + custom_limit (9), origin.y, origin.weight * scale (3) }.
        Point point = collection.Variable("bss_point").Get<Point>();
        Assert.Equal((109u, 200u, 21UL), (point.X, point.Y, point.Weight));
    }

    [KernelFact]
    public void RodataMapIsFrozenAgainstUserSpaceUpdatesAndStaysReadable()
    {
        CollectionSpec spec = CollectionSpec.Load(TestPrograms.Path("globals"));
        spec.Variable("scale").Set(5u);
        using Collection collection = Collection.Load(spec);
        Map rodata = collection.Map("globals.rodata");
        Assert.Equal(1u, rodata.MaxEntries);
        byte[] value = new byte[rodata.ValueSize];
        rodata.Lookup(BitConverter.GetBytes(0u), value);
        uint scaleOffset = spec.Variable("scale").Offset;
        Assert.Equal(5u, BitConverter.ToUInt32(value, (int)scaleOffset));
        // The loader froze it (BPF_MAP_FREEZE) after writing the initial values; the kernel says so in fdinfo.
        using (FileDescriptor.Lease lease = rodata.Fd.Borrow())
        {
            Assert.Contains("frozen:\t1\n", File.ReadAllText($"/proc/self/fdinfo/{lease.Fd}"));
        }

        byte[] changed = (byte[])value.Clone();
        BitConverter.TryWriteBytes(changed.AsSpan((int)scaleOffset), 6u);
        var refused = Assert.ThrowsAny<BpfException>(() => rodata.Update(BitConverter.GetBytes(0u), changed));
        Assert.Equal(Errno.EPERM, refused.Errno);

        // Still readable, unchanged, and what the program uses.
        byte[] after = new byte[rodata.ValueSize];
        rodata.Lookup(BitConverter.GetBytes(0u), after);
        Assert.Equal(value, after);
        Assert.Equal(5u, collection.Variable("scale").Get<uint>());
        collection.Program("read_globals").TestRun(new TestRunOptions());
        Assert.Equal(40UL + 5, collection.Variable("data_counter").Get<ulong>());
    }
}
