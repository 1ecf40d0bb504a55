using BpfSharp.Programs;
using System.Net;
using System.Runtime.InteropServices;
using BpfSharp.Kernel;
using BpfSharp.Maps;

namespace BpfSharp.Tests.Maps;

[Trait("Category", "Kernel")]
public class TypedMapTests
{
    [StructLayout(LayoutKind.Sequential)]
    private record struct FlowKey(uint Source, uint Destination, ushort Port, ushort Protocol);

    [StructLayout(LayoutKind.Sequential)]
    private record struct Triple(int A, int B, int C); // 12 bytes: per-CPU slots round it to 16

    [KernelFact]
    public void HashMapStoresStructKeysAndValues()
    {
        using var flows = HashMap<FlowKey, long>.Create(32, "flows");
        var key = new FlowKey(0x0a000001, 0x0a000002, 443, 6);
        flows[key] = 1500;
        flows.Update(key with { Port = 80 }, 60);

        Assert.Equal(1500, flows[key]);
        Assert.Equal(60, flows.Lookup(key with { Port = 80 }));
        Assert.Throws<KeyNotFoundException>(() => flows[key with { Port = 22 }]);
        Assert.Equal(
            new Dictionary<FlowKey, long> { [key] = 1500, [key with { Port = 80 }] = 60 },
            flows.Entries.ToDictionary(e => e.Key, e => e.Value));
        Assert.Equal(12u, flows.Map.KeySize);
    }

    [KernelFact]
    public void ArrayMapStartsZeroedAndKeepsValues()
    {
        using var array = ArrayMap<ulong>.Create(8, "counters");
        Assert.Equal(8u, array.Length);
        Assert.All(Enumerable.Range(0, 8), i => Assert.Equal(0ul, array[(uint)i]));
        array[3] = 33;
        Assert.Equal(33ul, array.Lookup(3));
        Assert.Equal(Enumerable.Range(0, 8).Select(i => (uint)i), array.Keys);
        Assert.Throws<KeyNotFoundException>(() => array[8]);
    }

    [KernelFact]
    public void PerCpuArrayKeepsOneValuePerPossibleCpu()
    {
        using var counters = PerCpuArrayMap<int>.Create(2, "percpu");
        int cpus = Cpus.PossibleCount;
        Assert.Equal(cpus, counters.CpuCount);
        Assert.Equal(8 * cpus, counters.Map.ValueBufferSize); // 4-byte values in 8-byte slots

        int[] values = Enumerable.Range(0, cpus).Select(cpu => 100 + cpu).ToArray();
        counters.Update(1, values);
        Assert.Equal(values, counters.Lookup(1));
        Assert.Equal(new int[cpus], counters.Lookup(0));

        counters.UpdateAll(0, 7);
        Assert.All(counters.Lookup(0), value => Assert.Equal(7, value));

        var error = Assert.Throws<ArgumentException>(() => counters.Update(0, new int[cpus + 1]));
        Assert.Contains($"{cpus} values", error.Message);

        var typed = Assert.Throws<ArgumentException>(() => counters.Map.Lookup<uint, int>(0));
        Assert.Contains("per-CPU", typed.Message);
    }

    [KernelFact]
    public void PerCpuHashPacksValuesThatAreNotMultiplesOfEightBytes()
    {
        using var map = PerCpuHashMap<int, Triple>.Create(8, "triples");
        int cpus = map.CpuCount;
        Triple[] values = Enumerable.Range(0, cpus).Select(cpu => new Triple(cpu, cpu * 10, -cpu)).ToArray();
        map.Update(42, values);
        Assert.Equal(values, map.Lookup(42));
        Assert.Equal(16 * cpus, map.Map.ValueBufferSize);

        var entry = Assert.Single(map.Entries);
        Assert.Equal(42, entry.Key);
        Assert.Equal(values, entry.Value);

        Span<Triple> buffer = new Triple[cpus];
        Assert.False(map.TryLookup(43, buffer));
        Assert.True(map.TryDelete(42));
        Assert.Empty(map.Keys);
    }

    [KernelFact]
    public void LruHashEvictsInsteadOfFailingWhenFull()
    {
        using var lru = LruHashMap<int, long>.Create(64, "lru");
        for (int i = 0; i < 1000; i++)
        {
            lru.Update(i, i * 2L);
        }
        List<int> keys = lru.Keys.ToList();
        Assert.InRange(keys.Count, 1, 64);
        Assert.Equal(999 * 2L, lru[999]); // the newest survives
        Assert.All(keys, key => Assert.Equal(key * 2L, lru[key]));
    }

    [KernelFact]
    public void LruPerCpuHashKeepsPerCpuValues()
    {
        using var lru = LruPerCpuHashMap<int, long>.Create(16, "lru_percpu");
        long[] values = Enumerable.Range(0, lru.CpuCount).Select(cpu => (long)cpu << 32).ToArray();
        lru.Update(1, values);
        Assert.Equal(values, lru.Lookup(1));
        Assert.Equal(MapType.LruPerCpuHash, lru.Map.Type);
    }

    [KernelFact]
    public void LpmTrieFindsTheLongestMatchingIPv4Prefix()
    {
        using var routes = LpmTrieMap<IPv4Bytes, int>.Create(16, "routes4");
        routes.Update(LpmKey.IPv4(IPAddress.Parse("10.0.0.0"), 8), 1);
        routes.Update(LpmKey.IPv4(IPAddress.Parse("10.1.0.0"), 16), 2);
        routes.Update(LpmKey.IPv4(IPAddress.Parse("10.1.2.0"), 24), 3);
        Assert.True(routes.Map.Flags.HasFlag(MapFlags.NoPrealloc));

        int Match(string address) => routes.TryMatch(IPv4Bytes.From(IPAddress.Parse(address)), out int value) ? value : -1;
        Assert.Equal(3, Match("10.1.2.3"));
        Assert.Equal(2, Match("10.1.9.9"));
        Assert.Equal(1, Match("10.200.0.1"));
        Assert.Equal(-1, Match("11.0.0.1"));

        // Exact keys: the prefix stored, with its length.
        Assert.Equal(2, routes.Lookup(LpmKey.IPv4(IPAddress.Parse("10.1.0.0"), 16)));
        Assert.Equal(3, routes.Keys.Count());
        Assert.Contains(routes.Keys, key => key.PrefixLength == 24 && key.Data.ToIPAddress().Equals(IPAddress.Parse("10.1.2.0")));
    }

    [KernelFact]
    public void LpmTrieFindsTheLongestMatchingIPv6Prefix()
    {
        using var routes = LpmTrieMap<IPv6Bytes, long>.Create(16, "routes6");
        routes.Update(LpmKey.IPv6(IPAddress.Parse("2001:db8::"), 32), 32);
        routes.Update(LpmKey.IPv6(IPAddress.Parse("2001:db8:1::"), 48), 48);
        Assert.Equal(20u, routes.Map.KeySize);

        Assert.True(routes.TryMatch(IPv6Bytes.From(IPAddress.Parse("2001:db8:1::5")), out long value));
        Assert.Equal(48, value);
        Assert.True(routes.TryMatch(IPv6Bytes.From(IPAddress.Parse("2001:db8:2::5")), out value));
        Assert.Equal(32, value);
        Assert.False(routes.TryMatch(IPv6Bytes.From(IPAddress.Parse("2001:db9::1")), out _));
        Assert.Throws<ArgumentException>(() => LpmKey.IPv4(IPAddress.Parse("::1"), 8));
        Assert.Throws<ArgumentOutOfRangeException>(() => LpmKey.IPv6(IPAddress.Parse("::1"), 129));
    }

    [KernelFact]
    public void QueueIsFirstInFirstOut()
    {
        using var queue = QueueMap<long>.Create(3, "queue");
        Assert.False(queue.TryPop(out _));
        queue.Push(1);
        queue.Push(2);
        queue.Push(3);
        var full = Assert.Throws<BpfException>(() => queue.Push(4));
        Assert.Equal(Errno.E2BIG, full.Errno);
        Assert.Contains("queue is full", full.Message);

        queue.Push(4, overwriteOldestWhenFull: true); // drops 1
        Assert.True(queue.TryPeek(out long head));
        Assert.Equal(2, head);
        var popped = new List<long>();
        while (queue.TryPop(out long value))
        {
            popped.Add(value);
        }
        Assert.Equal([2, 3, 4], popped);

        var empty = Assert.Throws<BpfException>(() => queue.Map.LookupAndDelete([], new byte[8]));
        Assert.Contains("queue is empty", empty.Message);
    }

    [KernelFact]
    public void StackIsLastInFirstOut()
    {
        using var stack = StackMap<int>.Create(8, "stack");
        foreach (int value in new[] { 1, 2, 3 })
        {
            stack.Push(value);
        }
        Assert.True(stack.TryPeek(out int top));
        Assert.Equal(3, top);
        var popped = new List<int>();
        while (stack.TryPop(out int value))
        {
            popped.Add(value);
        }
        Assert.Equal([3, 2, 1], popped);
        Assert.Throws<InvalidOperationException>(() => stack.Map.Keys().ToList());
    }

    [KernelFact]
    public void BloomFilterHasNoFalseNegatives()
    {
        using var filter = BloomFilterMap<long>.Create(1000, hashFunctions: 3, name: "bloom");
        Assert.Equal(3ul, filter.Map.MapExtra);
        for (long i = 0; i < 100; i++)
        {
            filter.Add(i * 7919);
        }
        Assert.All(Enumerable.Range(0, 100), i => Assert.True(filter.MayContain(i * 7919L)));
        int falsePositives = Enumerable.Range(1_000_000, 1000).Count(i => filter.MayContain(i));
        Assert.InRange(falsePositives, 0, 100); // sized for 1000 values, holding 100: rare false positives
        Assert.Throws<ArgumentOutOfRangeException>(() => BloomFilterMap<long>.Create(10, hashFunctions: 16));
    }

    [KernelFact]
    public void ArrayOfMapsStoresInnerMapsAndReportsTheirIds()
    {
        var innerSpec = new MapSpec { Type = MapType.Array, KeySize = 4, ValueSize = 8, MaxEntries = 4 };
        using ArrayOfMaps outer = ArrayOfMaps.Create(innerSpec, 4, "outer");
        using Map inner = Map.Create(innerSpec);
        inner.Update<uint, long>(1, 99);

        Assert.False(outer.TryGetInnerMapId(2, out _));
        outer.Set(2, inner);
        Assert.True(outer.TryGetInnerMapId(2, out uint id));
        Assert.Equal(inner.Id, id);

        using Map reopened = Map.FromId(id);
        Assert.Equal(99, reopened.Lookup<uint, long>(1));

        Assert.True(outer.Clear(2));
        Assert.False(outer.TryGetInnerMapId(2, out _));

        using Map wrongShape = Map.Create(new MapSpec { Type = MapType.Array, KeySize = 4, ValueSize = 4, MaxEntries = 4 });
        Assert.Equal(Errno.EINVAL, Assert.Throws<BpfException>(() => outer.Set(0, wrongShape)).Errno);
    }

    [KernelFact]
    public void HashOfMapsStoresInnerMapsByKey()
    {
        var innerSpec = new MapSpec { Type = MapType.Hash, KeySize = 4, ValueSize = 4, MaxEntries = 8 };
        using HashOfMaps<ulong> outer = HashOfMaps<ulong>.Create(innerSpec, 8, "hom");
        using Map first = Map.Create(innerSpec);
        using Map second = Map.Create(innerSpec);
        outer.Set(100, first);
        outer.Set(200, second);

        Assert.True(outer.TryGetInnerMapId(100, out uint firstId));
        Assert.True(outer.TryGetInnerMapId(200, out uint secondId));
        Assert.Equal(first.Id, firstId);
        Assert.Equal(second.Id, secondId);
        Assert.Equal([100ul, 200ul], outer.Map.Keys<ulong>().Order());
    }

    [KernelFact]
    public void ProgramArrayHoldsLoadedPrograms()
    {
        using ProgramArrayMap jumps = ProgramArrayMap.Create(4, "jumps");
        using Program program = TestProgramLoader.LoadSocketFilterReturningZero();
        uint programId = program.Id;

        Assert.False(jumps.TryGetProgramId(1, out _));
        jumps.Set(1, program.Fd);
        Assert.True(jumps.TryGetProgramId(1, out uint id));
        Assert.Equal(programId, id);
        Assert.True(jumps.Clear(1));
        Assert.False(jumps.TryGetProgramId(1, out _));
        Assert.Equal(4u, jumps.Length);
    }
}
