namespace BpfSharp.Maps;

/// <summary>
/// An LRU hash map (<c>BPF_MAP_TYPE_LRU_HASH</c>): when full, an update evicts the least recently
/// used element instead of failing.
/// </summary>
public sealed class LruHashMap<TKey, TValue> : KeyValueMap<TKey, TValue>
    where TKey : unmanaged where TValue : unmanaged
{
    /// <summary>Wraps an existing LRU hash map.</summary>
    public LruHashMap(Map map) : base(map, MapType.LruHash)
    {
    }

    /// <summary>Creates an LRU hash map for <paramref name="maxEntries"/> elements.</summary>
    public static LruHashMap<TKey, TValue> Create(uint maxEntries, string? name = null, MapFlags flags = MapFlags.None) =>
        new(Map.Create(Spec<TKey, TValue>(MapType.LruHash, maxEntries, name, flags)));
}
