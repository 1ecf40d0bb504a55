using System.Runtime.InteropServices;

namespace BpfSharp.Maps;

/// <summary>
/// The shared mechanism of queue and stack maps: keyless containers of values that are pushed,
/// popped and peeked (a queue in FIFO order, a stack in LIFO order).
/// </summary>
public abstract class ValueContainerMap<T> : TypedMap where T : unmanaged
{
    /// <summary>Wraps <paramref name="map"/> after checking its type and value size.</summary>
    protected unsafe ValueContainerMap(Map map, MapType type) : base(map, 0, sizeof(T), type)
    {
    }

    /// <summary>Adds <paramref name="value"/>.</summary>
    /// <param name="value">The value.</param>
    /// <param name="overwriteOldestWhenFull">When full, drop the oldest element instead of failing with E2BIG.</param>
    public void Push(in T value, bool overwriteOldestWhenFull = false) =>
        Map.Update(default, MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)), overwriteOldestWhenFull ? UpdateFlags.Exist : UpdateFlags.Any);

    /// <summary>Removes and returns the next value; false when empty.</summary>
    public bool TryPop(out T value)
    {
        value = default;
        return Map.TryLookupAndDelete(default, MemoryMarshal.AsBytes(new Span<T>(ref value)));
    }

    /// <summary>Returns the next value without removing it; false when empty.</summary>
    public bool TryPeek(out T value)
    {
        value = default;
        return Map.TryLookup(default, MemoryMarshal.AsBytes(new Span<T>(ref value)));
    }

    private protected static unsafe MapSpec KeylessSpec(MapType type, uint maxEntries, string? name, MapFlags flags) =>
        new() { Type = type, Name = name ?? "", KeySize = 0, ValueSize = (uint)sizeof(T), MaxEntries = maxEntries, Flags = flags };
}
