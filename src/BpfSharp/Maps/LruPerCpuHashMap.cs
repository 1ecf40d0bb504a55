namespace BpfSharp.Maps;

/// <summary>An LRU per-CPU hash map (<c>BPF_MAP_TYPE_LRU_PERCPU_HASH</c>).</summary>
public sealed class LruPerCpuHashMap<TKey, TValue> : PerCpuMap<TKey, TValue>
    where TKey : unmanaged where TValue : unmanaged
{
    /// <summary>Wraps an existing LRU per-CPU hash map.</summary>
    public LruPerCpuHashMap(Map map) : base(map, MapType.LruPerCpuHash)
    {
    }

    /// <summary>Creates an LRU per-CPU hash map for <paramref name="maxEntries"/> keys.</summary>
    public static LruPerCpuHashMap<TKey, TValue> Create(uint maxEntries, string? name = null, MapFlags flags = MapFlags.None) =>
        new(Map.Create(Spec<TKey, TValue>(MapType.LruPerCpuHash, maxEntries, name, flags)));
}
