using BpfSharp.Features;
using BpfSharp.Kernel;
using BpfSharp.Maps;

namespace BpfSharp.Tests.Maps;

[Trait("Category", "Kernel")]
public class MapCreationTests
{
    public static TheoryData<MapType, uint, uint, uint, MapFlags> PlainMapTypes => new()
    {
        { MapType.Hash, 4, 8, 16, MapFlags.None },
        { MapType.Hash, 16, 32, 64, MapFlags.NoPrealloc },
        { MapType.Array, 4, 8, 16, MapFlags.None },
        { MapType.ProgArray, 4, 4, 8, MapFlags.None },
        { MapType.PerfEventArray, 4, 4, 4, MapFlags.None },
        { MapType.PerCpuHash, 4, 8, 16, MapFlags.None },
        { MapType.PerCpuArray, 4, 8, 16, MapFlags.None },
        { MapType.StackTrace, 4, 8 * 32, 16, MapFlags.None },
        { MapType.StackTrace, 4, 32 * 16, 16, MapFlags.StackBuildId },
        { MapType.CgroupArray, 4, 4, 4, MapFlags.None },
        { MapType.LruHash, 4, 8, 16, MapFlags.None },
        { MapType.LruHash, 4, 8, 16, MapFlags.NoCommonLru },
        { MapType.LruPerCpuHash, 4, 8, 16, MapFlags.None },
        { MapType.LpmTrie, 8, 8, 16, MapFlags.NoPrealloc },
        { MapType.DevMap, 4, 4, 4, MapFlags.None },
        { MapType.SockMap, 4, 4, 4, MapFlags.None },
        { MapType.CpuMap, 4, 4, 2, MapFlags.None },
        { MapType.XskMap, 4, 4, 4, MapFlags.None },
        { MapType.SockHash, 4, 4, 4, MapFlags.None },
        { MapType.CgroupStorage, 8, 8, 0, MapFlags.None },
        { MapType.ReuseportSockArray, 4, 8, 4, MapFlags.None },
        { MapType.PerCpuCgroupStorage, 8, 8, 0, MapFlags.None },
        { MapType.Queue, 0, 8, 16, MapFlags.None },
        { MapType.Stack, 0, 8, 16, MapFlags.None },
        { MapType.DevMapHash, 4, 4, 4, MapFlags.None },
        { MapType.RingBuf, 0, 0, 4096, MapFlags.None },
        { MapType.BloomFilter, 0, 8, 64, MapFlags.None },
        { MapType.UserRingBuf, 0, 0, 4096, MapFlags.None },
        { MapType.Array, 4, 8, 512, MapFlags.Mmapable },
        { MapType.Arena, 0, 0, 4, MapFlags.Mmapable },
    };

    [KernelTheory]
    [MemberData(nameof(PlainMapTypes))]
    public void EveryMapTypeIsCreatableFromASpecAndReportsItsShape(MapType type, uint keySize, uint valueSize, uint maxEntries, MapFlags flags)
    {
        var spec = new MapSpec { Name = "shape_test", Type = type, KeySize = keySize, ValueSize = valueSize, MaxEntries = maxEntries, Flags = flags };
        if (type == MapType.Arena && KernelSupport.ForMapType(type).Status == FeatureStatus.Refused)
        {
            // Refused to root on some machines of this kind: the error a user sees names the map and the refusal.
            BpfException refused = Assert.Throws<BpfException>(() => Map.Create(spec));
            Assert.Equal(Errno.EPERM, refused.Errno);
            Assert.Contains("Arena map 'shape_test'", refused.Message);
            Assert.Contains("refuses this operation", refused.Message);
            return;
        }
        using Map map = Map.Create(spec);

        Assert.True(map.Id > 0);
        Assert.Equal(type, map.Type);
        Assert.Equal("shape_test", map.Name);
        Assert.Equal(keySize, map.KeySize);
        Assert.Equal(valueSize, map.ValueSize);
        Assert.Equal(maxEntries, map.MaxEntries);
        // Device maps are read-only for programs whatever the caller asks: the kernel adds the flag.
        MapFlags kernelAdded = type is MapType.DevMap or MapType.DevMapHash ? MapFlags.ReadOnlyProgram : MapFlags.None;
        Assert.Equal(flags | kernelAdded, map.Flags);
        Assert.Equal(map.Info, map.ReadInfo());
    }

    [KernelTheory]
    [InlineData(MapType.ArrayOfMaps, 4u)]
    [InlineData(MapType.HashOfMaps, 8u)]
    public void MapsOfMapsAreCreatedFromAnInnerMapSpec(MapType type, uint keySize)
    {
        var spec = new MapSpec
        {
            Name = "outer",
            Type = type,
            KeySize = keySize,
            ValueSize = 4,
            MaxEntries = 8,
            InnerMap = new MapSpec { Type = MapType.Array, KeySize = 4, ValueSize = 8, MaxEntries = 4 },
        };
        using Map map = Map.Create(spec);
        Assert.Equal(type, map.Type);
        Assert.Equal(keySize, map.KeySize);
        Assert.Equal(4u, map.ValueSize);
    }

    [KernelTheory]
    [InlineData(MapType.SkStorage)]
    [InlineData(MapType.TaskStorage)]
    [InlineData(MapType.InodeStorage)]
    [InlineData(MapType.CgrpStorage)]
    public void LocalStorageMapsAreCreatedWithBtfAndRefusedWithoutIt(MapType type)
    {
        using TestBtf btf = TestBtf.Load();
        var spec = new MapSpec
        {
            Name = "storage",
            Type = type,
            KeySize = 4,
            ValueSize = 4,
            MaxEntries = 0,
            Flags = MapFlags.NoPrealloc,
            Btf = btf.Fd,
            BtfKeyTypeId = TestBtf.IntTypeId,
            BtfValueTypeId = TestBtf.IntTypeId,
        };
        using (Map map = Map.Create(spec))
        {
            Assert.Equal(type, map.Type);
            Assert.True(map.BtfId > 0);
            Assert.Equal(TestBtf.IntTypeId, map.BtfKeyTypeId);
            Assert.Equal(TestBtf.IntTypeId, map.BtfValueTypeId);
        }

        MapSpec withoutBtf = spec.Clone();
        withoutBtf.Btf = null;
        withoutBtf.BtfKeyTypeId = 0;
        withoutBtf.BtfValueTypeId = 0;
        var error = Assert.Throws<BpfException>(() => Map.Create(withoutBtf));
        Assert.Equal(BpfCommand.MapCreate, error.Command);
        Assert.Contains("need BTF", error.Message);
        Assert.Contains(type.ToString(), error.Message);
    }

    [KernelFact]
    public void StructOpsWithoutKernelBtfTypeSaysWhatItNeeds()
    {
        var spec = new MapSpec { Name = "ops", Type = MapType.StructOps, KeySize = 4, ValueSize = 64, MaxEntries = 1 };
        var error = Assert.Throws<BpfException>(() => Map.Create(spec));
        Assert.Contains("struct_ops maps need BTF", error.Message);
        Assert.Contains("BtfVmlinuxValueTypeId", error.Message);
    }

    [KernelTheory]
    [InlineData(MapType.RingBuf, 0u, 0u, 1000u, "power of two and a multiple of the page size")]
    [InlineData(MapType.RingBuf, 4u, 0u, 4096u, "KeySize and ValueSize must be 0")]
    [InlineData(MapType.Queue, 4u, 8u, 16u, "KeySize must be 0 (it is 4)")]
    [InlineData(MapType.Stack, 4u, 8u, 16u, "KeySize must be 0 (it is 4)")]
    [InlineData(MapType.BloomFilter, 4u, 8u, 16u, "bloom filter maps have no key")]
    [InlineData(MapType.LpmTrie, 8u, 8u, 16u, "MapFlags.NoPrealloc")]
    [InlineData(MapType.ArrayOfMaps, 4u, 4u, 16u, "need an inner map")]
    [InlineData(MapType.ProgArray, 4u, 8u, 16u, "ValueSize must be 4")]
    [InlineData(MapType.Array, 8u, 8u, 16u, "KeySize must be 4 (it is 8)")]
    [InlineData(MapType.Hash, 4u, 8u, 0u, "MaxEntries above 0")]
    [InlineData((MapType)999, 4u, 8u, 16u, "map type 999")]
    public void RefusedSpecsNameTheBrokenRule(MapType type, uint keySize, uint valueSize, uint maxEntries, string rule)
    {
        var spec = new MapSpec { Name = "bad", Type = type, KeySize = keySize, ValueSize = valueSize, MaxEntries = maxEntries };
        var error = Assert.Throws<BpfException>(() => Map.Create(spec));
        Assert.Equal(BpfCommand.MapCreate, error.Command);
        Assert.Equal(Errno.EINVAL, error.Errno);
        Assert.Contains(rule, error.Hint);
        Assert.Contains("creating", error.Message);
    }

    [KernelFact]
    public void MapNamesWithInvalidCharactersAreExplained()
    {
        var spec = new MapSpec { Name = "bad-name", Type = MapType.Array, KeySize = 4, ValueSize = 4, MaxEntries = 1 };
        var error = Assert.Throws<BpfException>(() => Map.Create(spec));
        Assert.Contains("'-'", error.Hint);
    }

    [KernelFact]
    public void RingBufferViewChecksItsSizeBeforeTheKernel()
    {
        var error = Assert.Throws<ArgumentException>(() => RingBufferMap.Create(5000));
        Assert.Contains("power of two", error.Message);
        Assert.Contains("8192 would be", error.Message);

        using RingBufferMap ring = RingBufferMap.Create(64 * 1024, "events");
        Assert.Equal(MapType.RingBuf, ring.Map.Type);
        Assert.Equal(64u * 1024, ring.Size);
        Assert.Equal("events", ring.Map.Name);
    }

    [KernelFact]
    public void PerfEventArrayDefaultsToOneSlotPerPossibleCpu()
    {
        using PerfEventArrayMap events = PerfEventArrayMap.Create(name: "perf_events");
        Assert.Equal((uint)Cpus.PossibleCount, events.Length);
        Assert.Equal(MapType.PerfEventArray, Map.GetInfo(events.Map.Id).Type);
        Assert.False(events.Clear(0)); // every slot starts empty

        // A software BPF-output event on CPU 0 is what bpf_perf_event_output writes to.
        var attr = new PerfEventAttr
        {
            Type = PerfEvents.TypeSoftware,
            Config = PerfEvents.SoftwareBpfOutput,
            SampleType = PerfEvents.SampleRaw,
            SamplePeriodOrFrequency = 1,
            WakeupEventsOrWatermark = 1,
        };
        using FileDescriptor output = PerfEvents.Open(ref attr, pid: -1, cpu: 0, groupFd: -1, flags: 0, "bpf output on cpu 0");
        events.Set(0, output);
        Assert.True(events.Clear(0));
        Assert.False(events.Clear(0));
    }

    [KernelFact]
    public void InnerMapOnATypeWithoutInnerMapsIsAnArgumentError()
    {
        var spec = new MapSpec { Type = MapType.Hash, KeySize = 4, ValueSize = 4, MaxEntries = 1, InnerMap = new MapSpec { Type = MapType.Array, KeySize = 4, ValueSize = 4, MaxEntries = 1 } };
        var error = Assert.Throws<ArgumentException>(() => Map.Create(spec));
        Assert.Contains("only ArrayOfMaps and HashOfMaps", error.Message);
    }

    [KernelTheory]
    [InlineData(MapType.ProgArray, 4u, 4u, 2u, "ProgArray maps cannot be inner maps")]
    [InlineData(MapType.CgroupStorage, 8u, 8u, 0u, "CgroupStorage maps cannot be inner maps")]
    [InlineData(MapType.ArrayOfMaps, 4u, 4u, 2u, "nest one level only")]
    public void UnsupportedInnerMapsAreExplained(MapType innerType, uint keySize, uint valueSize, uint maxEntries, string rule)
    {
        var inner = new MapSpec { Type = innerType, KeySize = keySize, ValueSize = valueSize, MaxEntries = maxEntries };
        if (innerType == MapType.ArrayOfMaps)
        {
            inner.InnerMap = new MapSpec { Type = MapType.Array, KeySize = 4, ValueSize = 4, MaxEntries = 1 };
        }
        var spec = new MapSpec { Name = "outer", Type = MapType.ArrayOfMaps, KeySize = 4, ValueSize = 4, MaxEntries = 2, InnerMap = inner };
        var error = Assert.Throws<BpfException>(() => Map.Create(spec));
        Assert.Equal(BpfCommand.MapCreate, error.Command);
        Assert.Contains(rule, error.Hint);

        // The same template as a plain map is fine: only nesting it is refused.
        using Map alone = Map.Create(inner);
        Assert.Equal(innerType, alone.Type);
    }

    [KernelFact]
    public void MapTypesNewerThanTheKernelAreReportedAsSuch()
    {
        // BPF_MAP_TYPE_RHASH is in the newest UAPI; whether this kernel has it is found by trying.
        var spec = new MapSpec { Name = "newest", Type = MapType.Rhash, KeySize = 4, ValueSize = 8, MaxEntries = 16, Flags = MapFlags.NoPrealloc };
        try
        {
            using Map map = Map.Create(spec);
            Assert.Equal(MapType.Rhash, map.Type);
        }
        catch (BpfException error)
        {
            Assert.Equal(Errno.EINVAL, error.Errno);
            Assert.Contains("predates Rhash maps", error.Hint);
        }
    }
}
