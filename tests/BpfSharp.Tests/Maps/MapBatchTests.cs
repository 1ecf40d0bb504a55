using System.Runtime.InteropServices;
using BpfSharp.Kernel;
using BpfSharp.Maps;

namespace BpfSharp.Tests.Maps;

[Trait("Category", "Kernel")]
public class MapBatchTests
{
    private static Map CreateHash(uint maxEntries) =>
        Map.Create(new MapSpec { Name = "batch", Type = MapType.Hash, KeySize = 4, ValueSize = 8, MaxEntries = maxEntries });

    private static Dictionary<int, long> ReadAllInBatches(Map map, int batchSize, bool delete, out int calls)
    {
        var cursor = new MapBatchCursor();
        var keys = new int[batchSize];
        var values = new long[batchSize];
        var result = new Dictionary<int, long>();
        calls = 0;
        while (!cursor.IsComplete)
        {
            int count = delete
                ? map.LookupAndDeleteBatch<int, long>(cursor, keys, values)
                : map.LookupBatch<int, long>(cursor, keys, values);
            calls++;
            for (int i = 0; i < count; i++)
            {
                Assert.True(result.TryAdd(keys[i], values[i]), $"key {keys[i]} came twice");
            }
            Assert.True(calls < 1000, "batch walk did not end");
        }
        return result;
    }

    [KernelFact]
    public void UpdateBatchThenLookupBatchInSeveralCallsReadsEverything()
    {
        using Map map = CreateHash(256);
        int[] keys = Enumerable.Range(0, 100).ToArray();
        long[] values = keys.Select(k => k * 3L).ToArray();
        Assert.Equal(100, map.UpdateBatch<int, long>(keys, values));

        Dictionary<int, long> read = ReadAllInBatches(map, 16, delete: false, out int calls);
        Assert.Equal(100, read.Count);
        Assert.All(read, pair => Assert.Equal(pair.Key * 3L, pair.Value));
        Assert.True(calls >= 100 / 16, $"{calls} calls");
        Assert.Equal(100, map.Keys().Count()); // lookup leaves the map as it was
    }

    [KernelFact]
    public void LookupAndDeleteBatchDrainsTheMap()
    {
        using Map map = CreateHash(128);
        map.UpdateBatch<int, long>(Enumerable.Range(0, 50).ToArray(), Enumerable.Range(0, 50).Select(k => (long)k).ToArray());
        Dictionary<int, long> drained = ReadAllInBatches(map, 8, delete: true, out _);
        Assert.Equal(Enumerable.Range(0, 50), drained.Keys.Order());
        Assert.Empty(map.Keys());
    }

    [KernelFact]
    public void DeleteBatchRemovesExactlyTheGivenKeysAndReportsMissingOnes()
    {
        using Map map = CreateHash(64);
        map.UpdateBatch<int, long>(Enumerable.Range(0, 10).ToArray(), new long[10]);
        Assert.Equal(4, map.DeleteBatch<int>([1, 3, 5, 7]));
        Assert.Equal([0, 2, 4, 6, 8, 9], map.Keys<int>().Order());

        var error = Assert.Throws<BpfException>(() => map.DeleteBatch<int>([0, 1]));
        Assert.Equal(Errno.ENOENT, error.Errno);
        Assert.Contains("1 done before the failure", error.Message);
        Assert.False(map.TryLookup<int, long>(0, out _));
    }

    [KernelFact]
    public void BatchOnArraysUsesTheGenericWalk()
    {
        using var array = ArrayMap<long>.Create(10, "batch_array");
        array.Map.UpdateBatch<uint, long>([2, 4], [20, 40]);
        var cursor = new MapBatchCursor();
        var keys = new uint[4];
        var values = new long[4];
        var all = new Dictionary<uint, long>();
        while (!cursor.IsComplete)
        {
            int count = array.Map.LookupBatch<uint, long>(cursor, keys, values);
            for (int i = 0; i < count; i++)
            {
                all.Add(keys[i], values[i]);
            }
        }
        Assert.Equal(10, all.Count);
        Assert.Equal(20, all[2]);
        Assert.Equal(40, all[4]);
        Assert.Equal(0, all[9]);
    }

    [KernelFact]
    public void PerCpuBatchValuesHoldOneSlotPerCpu()
    {
        using var map = PerCpuHashMap<int, long>.Create(16, "batch_percpu");
        int cpus = map.CpuCount;
        map.UpdateAll(1, 11);
        map.UpdateAll(2, 22);
        var cursor = new MapBatchCursor();
        byte[] keys = new byte[4 * 4];
        byte[] values = new byte[4 * map.Map.ValueBufferSize];
        int count = map.Map.LookupBatch(cursor, keys, values);
        Assert.Equal(2, count);
        Assert.True(cursor.IsComplete);
        for (int i = 0; i < count; i++)
        {
            int key = BitConverter.ToInt32(keys, i * 4);
            long[] perCpu = MemoryMarshal.Cast<byte, long>(values.AsSpan(i * map.Map.ValueBufferSize, map.Map.ValueBufferSize)).ToArray();
            Assert.Equal(cpus, perCpu.Length);
            Assert.All(perCpu, v => Assert.Equal(key * 11L, v));
        }

        var wrong = Assert.Throws<ArgumentException>(() => map.Map.LookupBatch(new MapBatchCursor(), keys, new byte[4 * 8]));
        Assert.Contains($"{map.Map.ValueBufferSize} bytes", wrong.Message);
    }

    [KernelFact]
    public void MapTypesWithoutBatchSupportSaySo()
    {
        using StackTraceMap stacks = StackTraceMap.Create(4, maxDepth: 4);
        var error = Assert.Throws<BpfException>(() => stacks.Map.LookupBatch(new MapBatchCursor(), new byte[4], new byte[32]));
        Assert.Equal(BpfCommand.MapLookupBatch, error.Command);
        Assert.Contains("StackTrace maps have no BPF_MAP_LOOKUP_BATCH", error.Message);

        using QueueMap<int> queue = QueueMap<int>.Create(4);
        Assert.Throws<InvalidOperationException>(() => queue.Map.DeleteBatch([]));
    }
}
