namespace BpfSharp.Maps;

/// <summary>A hash of maps (<c>BPF_MAP_TYPE_HASH_OF_MAPS</c>).</summary>
public sealed class HashOfMaps<TKey> : MapOfMaps<TKey> where TKey : unmanaged
{
    /// <summary>Wraps an existing hash of maps.</summary>
    public HashOfMaps(Map map) : base(map, MapType.HashOfMaps)
    {
    }

    /// <summary>Creates a hash of up to <paramref name="maxEntries"/> maps like <paramref name="innerMap"/>.</summary>
    public static unsafe HashOfMaps<TKey> Create(MapSpec innerMap, uint maxEntries, string? name = null) =>
        new(Map.Create(OuterSpec(MapType.HashOfMaps, (uint)sizeof(TKey), innerMap, maxEntries, name)));
}
