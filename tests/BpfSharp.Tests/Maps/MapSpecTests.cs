using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BpfSharp.Kernel;
using BpfSharp.Maps;

namespace BpfSharp.Tests.Maps;

/// <summary>Map specs, keys and creation rules: pure code, no kernel needed.</summary>
public class MapSpecTests
{
    [Fact]
    public void SpecCloneIsIndependent()
    {
        var spec = new MapSpec { Name = "a", Type = MapType.HashOfMaps, KeySize = 4, ValueSize = 4, MaxEntries = 2, InnerMap = new MapSpec { Type = MapType.Array, KeySize = 4, ValueSize = 4, MaxEntries = 1 } };
        MapSpec copy = spec.Clone();
        copy.Name = "b";
        copy.InnerMap!.MaxEntries = 9;
        Assert.Equal("a", spec.Name);
        Assert.Equal(1u, spec.InnerMap.MaxEntries);
    }

    [Fact]
    public void LpmKeyDataStartsRightAfterThePrefixLength()
    {
        Assert.Equal(8, Unsafe.SizeOf<LpmKey<IPv4Bytes>>());
        Assert.Equal(20, Unsafe.SizeOf<LpmKey<IPv6Bytes>>());
        Assert.Equal(12, Unsafe.SizeOf<LpmKey<ulong>>()); // packed: no padding before 8-byte data

        LpmKey<IPv4Bytes> key = LpmKey.IPv4(IPAddress.Parse("192.168.1.0"), 24);
        byte[] bytes = MemoryMarshal.AsBytes(new ReadOnlySpan<LpmKey<IPv4Bytes>>(in key)).ToArray();
        Assert.Equal(new byte[] { 24, 0, 0, 0, 192, 168, 1, 0 }, bytes);
        Assert.Equal(IPAddress.Parse("192.168.1.0"), key.Data.ToIPAddress());
        Assert.Equal(key, LpmKey.IPv4(IPAddress.Parse("192.168.1.0"), 24));
        Assert.NotEqual(key, LpmKey.IPv4(IPAddress.Parse("192.168.1.0"), 25));
    }

    [Fact]
    public void PerCpuValuesTakeAnEightByteSlotPerPossibleCpu()
    {
        int cpus = Cpus.PossibleCount;
        Assert.Equal(8 * cpus, Map.ComputeValueBufferSize(MapType.PerCpuArray, 4));
        Assert.Equal(16 * cpus, Map.ComputeValueBufferSize(MapType.LruPerCpuHash, 12));
        Assert.Equal(8 * cpus, Map.ComputeValueBufferSize(MapType.PerCpuHash, 8));
        Assert.Equal(12, Map.ComputeValueBufferSize(MapType.Hash, 12));
        Assert.True(new MapSpec { Type = MapType.PerCpuCgroupStorage }.IsPerCpu);
        Assert.False(new MapSpec { Type = MapType.Array }.IsPerCpu);
    }

    [Theory]
    [InlineData(MapType.RingBuf, 0u, 0u, 12288u, MapFlags.None, "power of two")]
    [InlineData(MapType.UserRingBuf, 0u, 0u, 2048u, MapFlags.None, "multiple of the page size")]
    [InlineData(MapType.LpmTrie, 4u, 8u, 16u, MapFlags.NoPrealloc, "KeySize must be 5..260")]
    [InlineData(MapType.LpmTrie, 261u, 8u, 16u, MapFlags.NoPrealloc, "KeySize must be 5..260")]
    [InlineData(MapType.StackTrace, 4u, 12u, 16u, MapFlags.None, "multiple of 8")]
    [InlineData(MapType.StackTrace, 4u, 48u, 16u, MapFlags.StackBuildId, "multiple of 32")]
    [InlineData(MapType.SkStorage, 4u, 4u, 0u, MapFlags.NoPrealloc, "need BTF")]
    [InlineData(MapType.Arena, 0u, 0u, 4u, MapFlags.None, "MapFlags.Mmapable")]
    [InlineData(MapType.Hash, 4u, 8u, 16u, MapFlags.Mmapable, "only array and arena maps can be memory-mapped")]
    [InlineData(MapType.Hash, 4u, 8u, 16u, MapFlags.ReadOnly | MapFlags.WriteOnly, "both read-only and write-only")]
    [InlineData(MapType.Hash, 4u, 8u, 16u, MapFlags.NoCommonLru, "only to LRU hash maps")]
    [InlineData(MapType.LruHash, 4u, 8u, 16u, MapFlags.NoPrealloc, "always preallocated")]
    [InlineData(MapType.CgroupStorage, 4u, 8u, 0u, MapFlags.None, "cgroup id (8 bytes)")]
    [InlineData(MapType.DevMap, 4u, 12u, 4u, MapFlags.None, "ValueSize is 12")]
    [InlineData(MapType.BloomFilter, 0u, 8u, 16u, MapFlags.None, null)]
    public void CreationRulesNameWhatIsWrong(MapType type, uint keySize, uint valueSize, uint maxEntries, MapFlags flags, string? rule)
    {
        var spec = new MapSpec { Type = type, KeySize = keySize, ValueSize = valueSize, MaxEntries = maxEntries, Flags = flags };
        string? hint = MapCreationRules.BrokenRule(spec, Errno.E2BIG);
        if (rule is null)
        {
            Assert.StartsWith("a size is over the kernel's limit", hint);
        }
        else
        {
            Assert.Contains(rule, hint);
        }
    }

    [Fact]
    public void BloomFilterHashCountIsCheckedBeforeTheKernel()
    {
        var spec = new MapSpec { Type = MapType.BloomFilter, ValueSize = 8, MaxEntries = 16, MapExtra = 16 };
        Assert.Contains("at most 15", MapCreationRules.BrokenRule(spec, Errno.EINVAL));
    }
}
