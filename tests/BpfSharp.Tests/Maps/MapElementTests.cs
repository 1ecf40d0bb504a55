using System.Buffers.Binary;
using BpfSharp.Kernel;
using BpfSharp.Maps;

namespace BpfSharp.Tests.Maps;

[Trait("Category", "Kernel")]
public class MapElementTests
{
    private static Map CreateHash(uint maxEntries = 16, string name = "elements") =>
        Map.Create(new MapSpec { Name = name, Type = MapType.Hash, KeySize = 4, ValueSize = 8, MaxEntries = maxEntries });

    private static byte[] Key(int value) => BitConverter.GetBytes(value);

    private static byte[] Value(long value) => BitConverter.GetBytes(value);

    [KernelFact]
    public void ByteSpanUpdateLookupDeleteRoundTrip()
    {
        using Map map = CreateHash();
        map.Update(Key(7), Value(0x1122334455667788));
        byte[] read = new byte[8];
        map.Lookup(Key(7), read);
        Assert.Equal(0x1122334455667788, BinaryPrimitives.ReadInt64LittleEndian(read));

        Assert.True(map.TryDelete(Key(7)));
        Assert.False(map.TryLookup(Key(7), read));
        Assert.False(map.TryDelete(Key(7)));
        var error = Assert.Throws<BpfException>(() => map.Lookup(Key(7), read));
        Assert.Equal(Errno.ENOENT, error.Errno);
        Assert.Contains("not in the map", error.Message);
    }

    [KernelFact]
    public void UpdateFlagsFollowTheKernelSemantics()
    {
        using Map map = CreateHash();
        map.Update<int, long>(1, 10, UpdateFlags.NoExist);

        var exists = Assert.Throws<BpfException>(() => map.Update<int, long>(1, 11, UpdateFlags.NoExist));
        Assert.Equal(Errno.EEXIST, exists.Errno);
        Assert.Equal(BpfCommand.MapUpdateElem, exists.Command);
        Assert.Contains("BPF_NOEXIST", exists.Message);
        Assert.Equal(10, map.Lookup<int, long>(1));

        var missing = Assert.Throws<BpfException>(() => map.Update<int, long>(2, 20, UpdateFlags.Exist));
        Assert.Equal(Errno.ENOENT, missing.Errno);
        Assert.Contains("BPF_EXIST", missing.Message);
        Assert.False(map.TryLookup<int, long>(2, out _));

        map.Update<int, long>(1, 12, UpdateFlags.Exist);
        Assert.Equal(12, map.Lookup<int, long>(1));
        map.Update<int, long>(1, 13);
        Assert.Equal(13, map.Lookup<int, long>(1));
    }

    [KernelFact]
    public void WrongKeyAndValueSizesAreArgumentErrorsNamingBothSizes()
    {
        using Map map = CreateHash();
        var key = Assert.Throws<ArgumentException>(() => map.Update(new byte[8], new byte[8]));
        Assert.Contains("4-byte keys", key.Message);
        Assert.Contains("8 bytes", key.Message);

        var value = Assert.Throws<ArgumentException>(() => map.Update(new byte[4], new byte[4]));
        Assert.Contains("8-byte value buffer", value.Message);
        Assert.Contains("4 bytes", value.Message);

        var typedKey = Assert.Throws<ArgumentException>(() => map.Update<long, long>(1, 1));
        Assert.Contains("Int64 is 8 bytes", typedKey.Message);
        Assert.Contains("4-byte keys", typedKey.Message);

        var typedValue = Assert.Throws<ArgumentException>(() => map.Lookup<int, int>(1));
        Assert.Contains("Int32 is 4 bytes", typedValue.Message);
        Assert.Contains("8-byte values", typedValue.Message);

        using Map other = CreateHash(name: "view");
        var view = Assert.Throws<ArgumentException>(() => new HashMap<int, int>(other));
        Assert.Contains("4-byte values", view.Message);
        Assert.Contains("8-byte values", view.Message);
    }

    [KernelFact]
    public void UseAfterDisposeIsObjectDisposedNamingTheMap()
    {
        Map map = CreateHash(name: "disposed_map");
        map.Dispose();
        var error = Assert.Throws<ObjectDisposedException>(() => map.TryLookup<int, long>(1, out _));
        Assert.Contains("disposed_map", error.Message);
        Assert.Throws<ObjectDisposedException>(() => map.Keys().ToList());
    }

    [KernelFact]
    public void FullHashMapSaysItIsFull()
    {
        using Map map = CreateHash(maxEntries: 2);
        map.Update<int, long>(1, 1);
        map.Update<int, long>(2, 2);
        var error = Assert.Throws<BpfException>(() => map.Update<int, long>(3, 3));
        Assert.Equal(Errno.E2BIG, error.Errno);
        Assert.Contains("max_entries", error.Message);
        map.Update<int, long>(2, 22); // replacing an existing key still works when full
        Assert.Equal(22, map.Lookup<int, long>(2));
    }

    [KernelFact]
    public void ArrayElementsCannotBeDeleted()
    {
        using ArrayMap<long> array = ArrayMap<long>.Create(4, "array");
        array[2] = 5;
        var error = Assert.Throws<BpfException>(() => array.Delete(2));
        Assert.Equal(Errno.EINVAL, error.Errno);
        Assert.Contains("cannot be deleted", error.Message);
        Assert.Equal(5, array[2]);
    }

    [KernelFact]
    public void FrozenMapRefusesUserSpaceWritesButStillReads()
    {
        using Map map = CreateHash();
        map.Update<int, long>(1, 100);
        map.Freeze();
        var error = Assert.Throws<BpfException>(() => map.Update<int, long>(1, 101));
        Assert.Equal(Errno.EPERM, error.Errno);
        Assert.Contains("frozen", error.Message);
        Assert.Equal(Errno.EPERM, Assert.Throws<BpfException>(() => map.Delete(1)).Errno);
        Assert.Equal(100, map.Lookup<int, long>(1));
        var again = Assert.Throws<BpfException>(map.Freeze);
        Assert.Equal(Errno.EPERM, again.Errno);
        Assert.Contains("already frozen", again.Message);
    }

    [KernelFact]
    public void LookupAndDeleteReturnsTheValueAndRemovesTheKey()
    {
        using Map map = CreateHash();
        map.Update<int, long>(5, 55);
        Assert.True(map.TryLookupAndDelete<int, long>(5, out long value));
        Assert.Equal(55, value);
        Assert.False(map.TryLookup<int, long>(5, out _));
        Assert.False(map.TryLookupAndDelete<int, long>(5, out _));
    }

    [KernelFact]
    public void GetNextKeyWalksEveryKeyOnce()
    {
        using Map map = CreateHash();
        for (int i = 0; i < 5; i++)
        {
            map.Update<int, long>(i, i);
        }
        var seen = new List<int>();
        byte[] key = [];
        byte[] next = new byte[4];
        while (map.TryGetNextKey(key, next))
        {
            seen.Add(BitConverter.ToInt32(next));
            key = next.ToArray();
        }
        Assert.Equal([0, 1, 2, 3, 4], seen.Order());
    }

    [KernelFact]
    public void UnsupportedOperationsSayWhichMapTypeRefused()
    {
        using RingBufferMap ring = RingBufferMap.Create(4096);
        var error = Assert.Throws<BpfException>(() => ring.Map.TryLookup([], []));
        Assert.Contains("ring buffer", error.Message);
    }
}
