using System.Runtime.InteropServices;
using BpfSharp.Kernel;

namespace BpfSharp.Maps;

/// <summary>
/// A typed view of a per-CPU map: every key holds one <typeparamref name="TValue"/> per possible
/// CPU (<see cref="Cpus.PossibleCount"/>, offline CPUs included). The kernel exchanges them in slots
/// of round_up(sizeof(TValue), 8) bytes; this view packs and unpacks those slots, so
/// <typeparamref name="TValue"/> can have any size. The shared mechanism behind
/// <see cref="PerCpuHashMap{TKey, TValue}"/>, <see cref="LruPerCpuHashMap{TKey, TValue}"/> and
/// <see cref="PerCpuArrayMap{TValue}"/>.
/// </summary>
public abstract class PerCpuMap<TKey, TValue> : TypedMap
    where TKey : unmanaged where TValue : unmanaged
{
    // Per-CPU buffers up to this size live on the stack, so lookups of small counters do not allocate.
    private const int StackBufferLimit = 1024;

    private readonly int _slot;

    /// <summary>Wraps <paramref name="map"/> after checking its type and that its sizes match the types.</summary>
    protected unsafe PerCpuMap(Map map, params MapType[] types)
        : base(map, sizeof(TKey), sizeof(TValue), types)
    {
        _slot = Map.PerCpuSlotSize((uint)sizeof(TValue));
    }

    /// <summary>The number of values per key: the possible CPUs.</summary>
    public int CpuCount => Cpus.PossibleCount;

    /// <summary>The values of <paramref name="key"/>, indexed by CPU number.</summary>
    /// <exception cref="BpfException">The key is not in the map (ENOENT).</exception>
    public TValue[] Lookup(in TKey key)
    {
        var values = new TValue[CpuCount];
        if (!TryLookup(in key, values))
        {
            throw Map.ElementError(BpfCommand.MapLookupElem, Errno.ENOENT);
        }
        return values;
    }

    /// <summary>Reads the values of <paramref name="key"/> into <paramref name="perCpu"/> (one per possible CPU); false when absent.</summary>
    public bool TryLookup(in TKey key, Span<TValue> perCpu)
    {
        CheckCpuCount(perCpu.Length, nameof(perCpu));
        Span<byte> buffer = Map.ValueBufferSize <= StackBufferLimit ? stackalloc byte[Map.ValueBufferSize] : new byte[Map.ValueBufferSize];
        if (!Map.TryLookup(Map.KeyBytes(in key), buffer))
        {
            return false;
        }
        Unpack(buffer, perCpu);
        return true;
    }

    /// <summary>Stores one value per possible CPU under <paramref name="key"/>.</summary>
    public void Update(in TKey key, ReadOnlySpan<TValue> perCpu, UpdateFlags flags = UpdateFlags.Any)
    {
        CheckCpuCount(perCpu.Length, nameof(perCpu));
        Span<byte> buffer = Map.ValueBufferSize <= StackBufferLimit ? stackalloc byte[Map.ValueBufferSize] : new byte[Map.ValueBufferSize];
        buffer.Clear(); // the padding of each slot goes to the kernel too
        for (int cpu = 0; cpu < perCpu.Length; cpu++)
        {
            MemoryMarshal.Write(buffer[(cpu * _slot)..], in perCpu[cpu]);
        }
        Map.Update(Map.KeyBytes(in key), buffer, flags);
    }

    /// <summary>Stores the same value for every CPU under <paramref name="key"/> (for example, to reset a counter).</summary>
    public void UpdateAll(in TKey key, in TValue value, UpdateFlags flags = UpdateFlags.Any)
    {
        var values = new TValue[CpuCount];
        Array.Fill(values, value);
        Update(in key, values, flags);
    }

    /// <summary>Removes <paramref name="key"/>; false when it was not there (arrays cannot delete).</summary>
    public bool TryDelete(in TKey key) => Map.TryDelete(in key);

    /// <summary>Every key, each once.</summary>
    public IEnumerable<TKey> Keys => Map.Keys<TKey>();

    /// <summary>Every entry with its per-CPU values, each key once.</summary>
    public IEnumerable<KeyValuePair<TKey, TValue[]>> Entries
    {
        get
        {
            IEnumerable<KeyValuePair<byte[], byte[]>> raw = Map.Entries();
            return Walk(raw);

            IEnumerable<KeyValuePair<TKey, TValue[]>> Walk(IEnumerable<KeyValuePair<byte[], byte[]>> entries)
            {
                foreach (KeyValuePair<byte[], byte[]> entry in entries)
                {
                    var values = new TValue[CpuCount];
                    Unpack(entry.Value, values);
                    yield return new(MemoryMarshal.Read<TKey>(entry.Key), values);
                }
            }
        }
    }

    private void Unpack(ReadOnlySpan<byte> buffer, Span<TValue> perCpu)
    {
        for (int cpu = 0; cpu < perCpu.Length; cpu++)
        {
            perCpu[cpu] = MemoryMarshal.Read<TValue>(buffer[(cpu * _slot)..]);
        }
    }

    private void CheckCpuCount(int length, string name)
    {
        if (length != CpuCount)
        {
            throw new ArgumentException($"{Map} keeps one value per possible CPU: {CpuCount} values, not {length}.", name);
        }
    }
}
