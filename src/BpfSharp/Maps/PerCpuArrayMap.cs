namespace BpfSharp.Maps;

/// <summary>A per-CPU array map (<c>BPF_MAP_TYPE_PERCPU_ARRAY</c>): the usual home of per-CPU counters.</summary>
public sealed class PerCpuArrayMap<TValue> : PerCpuMap<uint, TValue> where TValue : unmanaged
{
    /// <summary>Wraps an existing per-CPU array map.</summary>
    public PerCpuArrayMap(Map map) : base(map, MapType.PerCpuArray)
    {
    }

    /// <summary>Creates a per-CPU array of <paramref name="length"/> elements.</summary>
    public static PerCpuArrayMap<TValue> Create(uint length, string? name = null, MapFlags flags = MapFlags.None) =>
        new(Map.Create(Spec<uint, TValue>(MapType.PerCpuArray, length, name, flags)));

    /// <summary>The number of elements.</summary>
    public uint Length => Map.MaxEntries;
}
