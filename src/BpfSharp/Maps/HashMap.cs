namespace BpfSharp.Maps;

/// <summary>A hash map (<c>BPF_MAP_TYPE_HASH</c>) with typed keys and values.</summary>
public sealed class HashMap<TKey, TValue> : KeyValueMap<TKey, TValue>
    where TKey : unmanaged where TValue : unmanaged
{
    /// <summary>Wraps an existing hash map (from a pin, an id or a collection).</summary>
    public HashMap(Map map) : base(map, MapType.Hash)
    {
    }

    /// <summary>Creates a hash map for <paramref name="maxEntries"/> elements.</summary>
    public static HashMap<TKey, TValue> Create(uint maxEntries, string? name = null, MapFlags flags = MapFlags.None) =>
        new(Map.Create(Spec<TKey, TValue>(MapType.Hash, maxEntries, name, flags)));
}
