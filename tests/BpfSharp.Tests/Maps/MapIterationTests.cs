using BpfSharp.Maps;

namespace BpfSharp.Tests.Maps;

[Trait("Category", "Kernel")]
public class MapIterationTests
{
    private static HashMap<int, long> Filled(int count)
    {
        var map = HashMap<int, long>.Create((uint)Math.Max(count, 1) * 2, "walk");
        for (int i = 0; i < count; i++)
        {
            map[i] = i * 10L;
        }
        return map;
    }

    [KernelFact]
    public void KeysAndEntriesVisitEveryElementOnce()
    {
        using HashMap<int, long> map = Filled(200);
        Assert.Equal(Enumerable.Range(0, 200), map.Keys.Order());
        Assert.All(map.Entries, entry => Assert.Equal(entry.Key * 10L, entry.Value));
        Assert.Equal(200, map.Map.Entries().Count());
        Assert.All(map.Map.Keys(), key => Assert.Equal(4, key.Length));
    }

    [KernelFact]
    public void DeletingTheCurrentKeyDuringIterationVisitsEveryKeyOnce()
    {
        using HashMap<int, long> map = Filled(300);
        var visited = new List<int>();
        foreach (int key in map.Keys)
        {
            visited.Add(key);
            map.Delete(key);
        }
        Assert.Equal(Enumerable.Range(0, 300), visited.Order());
        Assert.Empty(map.Keys);
    }

    [KernelFact]
    public void DeletingKeysAheadOfTheWalkNeitherRepeatsNorLoops()
    {
        using HashMap<int, long> map = Filled(150);
        var visited = new List<int>();
        var deleted = new HashSet<int>();
        byte[] next = new byte[4];
        foreach (int key in map.Keys)
        {
            visited.Add(key);
            // Delete the key the walk holds next (the kernel's successor of this one), as another
            // writer might: the walk then steps from a missing key and the kernel restarts it.
            if (map.Map.TryGetNextKey(BitConverter.GetBytes(key), next))
            {
                int ahead = BitConverter.ToInt32(next);
                if (map.TryDelete(ahead))
                {
                    deleted.Add(ahead);
                }
            }
        }
        Assert.Equal(visited.Count, visited.Distinct().Count());
        Assert.NotEmpty(deleted);
        // Every key never deleted was visited.
        Assert.Empty(Enumerable.Range(0, 150).Where(k => !deleted.Contains(k)).Except(visited));
    }

    [KernelFact]
    public void KeyCursorWalksWithoutAllocatingPerKey()
    {
        using HashMap<int, long> map = Filled(100);
        MapKeyCursor cursor = map.Map.CreateKeyCursor();
        Span<byte> key = stackalloc byte[4];
        Span<byte> value = stackalloc byte[8];
        long sum = 0;
        int count = 0;
        while (cursor.TryNext(key, value))
        {
            Assert.Equal(BitConverter.ToInt32(key) * 10L, BitConverter.ToInt64(value));
            sum += BitConverter.ToInt64(value);
            count++;
        }
        Assert.Equal(100, count);
        Assert.Equal(Enumerable.Range(0, 100).Sum(i => i * 10L), sum);
        Assert.False(cursor.TryNext(key));

        // Draining: delete each key as it is handed out.
        cursor.Reset();
        int drained = 0;
        while (cursor.TryNext(key))
        {
            Assert.True(map.Map.TryDelete(key));
            drained++;
        }
        Assert.Equal(100, drained);
        Assert.Empty(map.Keys);
    }

    [KernelFact]
    public void KeyCursorRefusesToContinueWhenTheKeyAheadIsDeleted()
    {
        using HashMap<int, long> map = Filled(10);
        MapKeyCursor cursor = map.Map.CreateKeyCursor();
        byte[] first = new byte[4];
        Assert.True(cursor.TryNext(first));
        byte[] ahead = new byte[4];
        Assert.True(map.Map.TryGetNextKey(first, ahead));
        map.Map.Delete(ahead);
        var error = Assert.Throws<InvalidOperationException>(() => cursor.TryNext(new byte[4]));
        Assert.Contains("Map.Keys()", error.Message);
    }

    [KernelFact]
    public void ArrayOfProgramsSkipsEmptySlotsInEntries()
    {
        using var array = ArrayMap<int>.Create(5, "walk_array");
        Assert.Equal(5, array.Entries.Count());
        using ProgramArrayMap programs = ProgramArrayMap.Create(5);
        Assert.Equal(5, programs.Map.Keys().Count());
        Assert.Empty(programs.Map.Entries());
    }
}
