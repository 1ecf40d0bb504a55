namespace BpfSharp.Maps;

/// <summary>
/// The shared mechanism of <see cref="ArrayOfMaps"/> and <see cref="HashOfMaps{TKey}"/>: every
/// inner map must match the inner map template given at creation (type, key and value size, flags).
/// </summary>
public abstract class MapOfMaps<TKey> : DescriptorMap<TKey> where TKey : unmanaged
{
    /// <summary>Wraps <paramref name="map"/> after checking its type and key size.</summary>
    protected MapOfMaps(Map map, MapType type) : base(map, type)
    {
    }

    /// <summary>Stores <paramref name="inner"/> under <paramref name="key"/>; the outer map keeps it alive from then on.</summary>
    public void Set(in TKey key, Map inner, UpdateFlags flags = UpdateFlags.Any)
    {
        ArgumentNullException.ThrowIfNull(inner);
        SetDescriptor(in key, inner.Fd, flags);
    }

    /// <summary>The id of the inner map stored under <paramref name="key"/> (open it with <see cref="Maps.Map.FromId"/>); false when none is.</summary>
    public bool TryGetInnerMapId(in TKey key, out uint id) => TryGetStoredId(in key, out id);

    private protected static MapSpec OuterSpec(MapType type, uint keySize, MapSpec inner, uint maxEntries, string? name)
    {
        ArgumentNullException.ThrowIfNull(inner);
        return new MapSpec { Type = type, Name = name ?? "", KeySize = keySize, ValueSize = 4, MaxEntries = maxEntries, InnerMap = inner };
    }
}
