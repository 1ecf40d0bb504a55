namespace BpfSharp.Maps;

/// <summary>A queue map (<c>BPF_MAP_TYPE_QUEUE</c>): values come out in the order they went in.</summary>
public sealed class QueueMap<T> : ValueContainerMap<T> where T : unmanaged
{
    /// <summary>Wraps an existing queue map.</summary>
    public QueueMap(Map map) : base(map, MapType.Queue)
    {
    }

    /// <summary>Creates a queue for up to <paramref name="maxEntries"/> values.</summary>
    public static QueueMap<T> Create(uint maxEntries, string? name = null, MapFlags flags = MapFlags.None) =>
        new(Map.Create(KeylessSpec(MapType.Queue, maxEntries, name, flags)));
}
