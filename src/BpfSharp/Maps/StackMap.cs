namespace BpfSharp.Maps;

/// <summary>A stack map (<c>BPF_MAP_TYPE_STACK</c>): the last value pushed comes out first.</summary>
public sealed class StackMap<T> : ValueContainerMap<T> where T : unmanaged
{
    /// <summary>Wraps an existing stack map.</summary>
    public StackMap(Map map) : base(map, MapType.Stack)
    {
    }

    /// <summary>Creates a stack for up to <paramref name="maxEntries"/> values.</summary>
    public static StackMap<T> Create(uint maxEntries, string? name = null, MapFlags flags = MapFlags.None) =>
        new(Map.Create(KeylessSpec(MapType.Stack, maxEntries, name, flags)));
}
