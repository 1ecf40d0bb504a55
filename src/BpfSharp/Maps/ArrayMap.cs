namespace BpfSharp.Maps;

/// <summary>
/// An array map (<c>BPF_MAP_TYPE_ARRAY</c>): indexes 0 to max_entries-1 always exist (zeroed at
/// creation) and cannot be deleted.
/// </summary>
public sealed class ArrayMap<TValue> : KeyValueMap<uint, TValue> where TValue : unmanaged
{
    /// <summary>Wraps an existing array map.</summary>
    public ArrayMap(Map map) : base(map, MapType.Array)
    {
    }

    /// <summary>Creates an array of <paramref name="length"/> elements; pass <see cref="MapFlags.Mmapable"/> to use <see cref="MapMemory"/>.</summary>
    public static ArrayMap<TValue> Create(uint length, string? name = null, MapFlags flags = MapFlags.None) =>
        new(Map.Create(Spec<uint, TValue>(MapType.Array, length, name, flags)));

    /// <summary>The number of elements.</summary>
    public uint Length => Map.MaxEntries;

    /// <summary>Maps the values into this process (the array must be <see cref="MapFlags.Mmapable"/>).</summary>
    public MapMemory MapMemory(bool writable = true) => Map.MapMemory(writable);
}
