using System.Runtime.InteropServices;

namespace BpfSharp.Maps;

/// <summary>
/// A bloom filter (<c>BPF_MAP_TYPE_BLOOM_FILTER</c>): remembers that values were added, with false
/// positives but never false negatives; values cannot be removed or listed.
/// </summary>
public sealed class BloomFilterMap<T> : TypedMap where T : unmanaged
{
    /// <summary>Wraps an existing bloom filter.</summary>
    public unsafe BloomFilterMap(Map map) : base(map, 0, sizeof(T), MapType.BloomFilter)
    {
    }

    /// <summary>Creates a bloom filter sized for <paramref name="expectedValues"/> values.</summary>
    /// <param name="expectedValues">How many values it should hold with a low false-positive rate.</param>
    /// <param name="hashFunctions">1 to 15 hash functions, or 0 for the kernel's default (5).</param>
    /// <param name="name">The map name.</param>
    public static unsafe BloomFilterMap<T> Create(uint expectedValues, int hashFunctions = 0, string? name = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(hashFunctions);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(hashFunctions, 15);
        return new(Map.Create(new MapSpec
        {
            Type = MapType.BloomFilter,
            Name = name ?? "",
            ValueSize = (uint)sizeof(T),
            MaxEntries = expectedValues,
            MapExtra = (ulong)hashFunctions,
        }));
    }

    /// <summary>Adds <paramref name="value"/>.</summary>
    public void Add(in T value) => Map.Update(default, MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)));

    /// <summary>False when <paramref name="value"/> was certainly never added; true when it probably was.</summary>
    public bool MayContain(in T value)
    {
        // The kernel reads the value to test from the value buffer of a lookup.
        T probe = value;
        return Map.TryLookup(default, MemoryMarshal.AsBytes(new Span<T>(ref probe)));
    }
}
