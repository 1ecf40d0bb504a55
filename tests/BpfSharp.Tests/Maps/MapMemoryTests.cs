using BpfSharp.Kernel;
using BpfSharp.Maps;

namespace BpfSharp.Tests.Maps;

[Trait("Category", "Kernel")]
public class MapMemoryTests
{
    [KernelFact]
    public void WritesThroughTheMappingAreSeenByLookupsAndBack()
    {
        using var array = ArrayMap<ulong>.Create(1000, "mmapped", MapFlags.Mmapable);
        using MapMemory memory = array.MapMemory();
        Assert.Equal(8000, memory.Length);
        Assert.Equal(8, memory.ElementStride);

        Span<ulong> values = memory.AsSpan<ulong>();
        values[7] = 0xdead_beef;
        Assert.Equal(0xdead_beeful, array[7]);

        array[999] = 123;
        Assert.Equal(123ul, values[999]);
        Assert.Equal(123ul, memory.ElementAt<ulong>(999));
        Assert.Throws<ArgumentOutOfRangeException>(() => memory.ElementAt<ulong>(1000));
    }

    [KernelFact]
    public void ElementsSmallerThanEightBytesAreEightBytesApart()
    {
        using var array = ArrayMap<int>.Create(4, "mmap_small", MapFlags.Mmapable);
        using MapMemory memory = array.MapMemory();
        Assert.Equal(8, memory.ElementStride);
        memory.ElementAt<int>(3) = -5;
        Assert.Equal(-5, array[3]);
        Assert.Throws<ArgumentException>(() => memory.AsSpan<int>());
    }

    [KernelFact]
    public void OnlyMmapableArraysCanBeMapped()
    {
        using var array = ArrayMap<long>.Create(4, "not_mmapable");
        var error = Assert.Throws<InvalidOperationException>(() => array.MapMemory());
        Assert.Contains("MapFlags.Mmapable", error.Message);
    }

    [KernelFact]
    public void DisposedMappingCannotBeRead()
    {
        using var array = ArrayMap<long>.Create(4, "mmap_dispose", MapFlags.Mmapable);
        MapMemory memory = array.MapMemory();
        memory.Dispose();
        Assert.Throws<ObjectDisposedException>(() => memory.Span.Length);
    }

    [KernelFact]
    public void FrozenMapCanOnlyBeMappedReadOnly()
    {
        using var array = ArrayMap<long>.Create(4, "mmap_frozen", MapFlags.Mmapable);
        array[1] = 9;
        array.Map.Freeze();
        var error = Assert.Throws<BpfException>(() => array.MapMemory(writable: true));
        Assert.Equal(Errno.EPERM, error.Errno);
        using MapMemory readOnly = array.MapMemory(writable: false);
        Assert.False(readOnly.IsWritable);
        Assert.Equal(9, readOnly.ElementAt<long>(1));
    }

    [KernelFact]
    public void FreezingWhileAWritableMappingExistsIsRefused()
    {
        using var array = ArrayMap<long>.Create(4, "mmap_busy", MapFlags.Mmapable);
        using (MapMemory memory = array.MapMemory(writable: true))
        {
            var error = Assert.Throws<BpfException>(array.Map.Freeze);
            Assert.Equal(Errno.EBUSY, error.Errno);
            Assert.Contains("writable memory mapping", error.Message);
        }
        array.Map.Freeze(); // unmapped: freezing works now
        Assert.Equal(Errno.EPERM, Assert.Throws<BpfException>(() => array[0] = 1).Errno);
    }
}
