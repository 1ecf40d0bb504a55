namespace BpfSharp.Maps;

/// <summary>A per-CPU hash map (<c>BPF_MAP_TYPE_PERCPU_HASH</c>).</summary>
public sealed class PerCpuHashMap<TKey, TValue> : PerCpuMap<TKey, TValue>
    where TKey : unmanaged where TValue : unmanaged
{
    /// <summary>Wraps an existing per-CPU hash map.</summary>
    public PerCpuHashMap(Map map) : base(map, MapType.PerCpuHash)
    {
    }

    /// <summary>Creates a per-CPU hash map for <paramref name="maxEntries"/> keys.</summary>
    public static PerCpuHashMap<TKey, TValue> Create(uint maxEntries, string? name = null, MapFlags flags = MapFlags.None) =>
        new(Map.Create(Spec<TKey, TValue>(MapType.PerCpuHash, maxEntries, name, flags)));
}
