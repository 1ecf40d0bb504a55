using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BpfSharp.Kernel;

namespace BpfSharp.Maps;

/// <summary>
/// The memory of a <see cref="MapFlags.Mmapable"/> array, mapped into this process: reads and
/// writes go straight to the map's values, which programs and element lookups see at once.
/// Element <c>i</c> starts at <c>i × round_up(value_size, 8)</c>. Dispose to unmap; the mapping
/// keeps the map alive until then.
/// </summary>
public sealed unsafe class MapMemory : IDisposable
{
    private readonly MemoryMapping _mapping;

    internal MapMemory(MemoryMapping mapping, int length, int elementStride, bool writable)
    {
        _mapping = mapping;
        Length = length;
        ElementStride = elementStride;
        IsWritable = writable;
    }

    /// <summary>The bytes holding the map's values (max_entries × <see cref="ElementStride"/>).</summary>
    public int Length { get; }

    /// <summary>The distance between two elements: the value size rounded up to 8 bytes.</summary>
    public int ElementStride { get; }

    /// <summary>True when mapped for writing.</summary>
    public bool IsWritable { get; }

    /// <summary>The values as bytes. Valid until this object is disposed.</summary>
    /// <exception cref="ObjectDisposedException">The memory was unmapped.</exception>
    public Span<byte> Span => new(_mapping.Pointer, Length);

    /// <summary>
    /// The values as a span of <typeparamref name="T"/>; the element stride must equal the size of
    /// <typeparamref name="T"/> (use <see cref="ElementAt{T}"/> otherwise).
    /// </summary>
    public Span<T> AsSpan<T>() where T : unmanaged
    {
        if (sizeof(T) != ElementStride)
        {
            throw new ArgumentException($"{typeof(T).Name} is {sizeof(T)} bytes but the map's elements are {ElementStride} bytes apart; use ElementAt<T>(index).", nameof(T));
        }
        return MemoryMarshal.Cast<byte, T>(Span);
    }

    /// <summary>A reference to element <paramref name="index"/> viewed as <typeparamref name="T"/>.</summary>
    public ref T ElementAt<T>(int index) where T : unmanaged
    {
        if (sizeof(T) > ElementStride)
        {
            throw new ArgumentException($"{typeof(T).Name} is {sizeof(T)} bytes, larger than the map's {ElementStride}-byte elements.", nameof(T));
        }
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Length / ElementStride);
        return ref Unsafe.AsRef<T>(_mapping.Pointer + (long)index * ElementStride);
    }

    /// <summary>Unmaps the memory.</summary>
    public void Dispose() => _mapping.Dispose();

    internal static MapMemory Create(Map map, bool writable)
    {
        if (!map.Flags.HasFlag(MapFlags.Mmapable) || map.Type != MapType.Array)
        {
            throw new InvalidOperationException($"{map} cannot be memory-mapped: only array maps created with MapFlags.Mmapable can.");
        }
        int stride = Map.RoundUpTo8((int)map.ValueSize);
        long bytes = (long)stride * map.MaxEntries;
        long pageSize = MemoryMapping.PageSize;
        long mapped = (bytes + pageSize - 1) / pageSize * pageSize;
        MemoryMapping mapping = MemoryMapping.Map(map.Fd, (nuint)mapped, writable, 0, $"mapping the memory of {map}");
        return new MapMemory(mapping, checked((int)bytes), stride, writable);
    }
}

public sealed partial class Map
{
    /// <summary>
    /// Maps the values of a <see cref="MapFlags.Mmapable"/> array into this process.
    /// </summary>
    /// <param name="writable">Map for writing as well as reading (refused by the kernel for frozen or <see cref="MapFlags.ReadOnly"/> maps).</param>
    /// <exception cref="InvalidOperationException">The map is not an mmapable array.</exception>
    /// <exception cref="BpfException">mmap failed (EPERM: the map is frozen or read-only and <paramref name="writable"/> is true).</exception>
    public MapMemory MapMemory(bool writable = true) => Maps.MapMemory.Create(this, writable);
}
