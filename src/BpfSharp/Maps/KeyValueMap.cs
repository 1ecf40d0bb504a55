namespace BpfSharp.Maps;

/// <summary>
/// A typed view of a map with unmanaged keys and one value per key: the shared mechanism behind
/// <see cref="HashMap{TKey, TValue}"/>, <see cref="LruHashMap{TKey, TValue}"/>, <see cref="ArrayMap{TValue}"/>
/// and <see cref="LpmTrieMap{TData, TValue}"/>.
/// </summary>
/// <typeparam name="TKey">The key, laid out as the BPF program declares it.</typeparam>
/// <typeparam name="TValue">The value, laid out as the BPF program declares it.</typeparam>
public abstract class KeyValueMap<TKey, TValue> : TypedMap
    where TKey : unmanaged where TValue : unmanaged
{
    /// <summary>Wraps <paramref name="map"/> after checking its type and that its sizes match the types.</summary>
    protected unsafe KeyValueMap(Map map, params MapType[] types)
        : base(map, sizeof(TKey), sizeof(TValue), types)
    {
    }

    /// <summary>The value under <paramref name="key"/>; setting it stores with <see cref="UpdateFlags.Any"/>.</summary>
    /// <exception cref="KeyNotFoundException">Reading a key that is not in the map.</exception>
    public TValue this[TKey key]
    {
        get => TryLookup(key, out TValue value) ? value : throw new KeyNotFoundException($"The key is not in {Map}.");
        set => Update(key, value);
    }

    /// <summary>The value under <paramref name="key"/>.</summary>
    /// <exception cref="BpfException">The key is not in the map (ENOENT).</exception>
    public TValue Lookup(in TKey key, UpdateFlags flags = UpdateFlags.Any) => Map.Lookup<TKey, TValue>(in key, flags);

    /// <summary>Reads the value under <paramref name="key"/>; false when absent.</summary>
    public bool TryLookup(in TKey key, out TValue value, UpdateFlags flags = UpdateFlags.Any) => Map.TryLookup(in key, out value, flags);

    /// <summary>Stores <paramref name="value"/> under <paramref name="key"/>.</summary>
    public void Update(in TKey key, in TValue value, UpdateFlags flags = UpdateFlags.Any) => Map.Update(in key, in value, flags);

    /// <summary>Removes <paramref name="key"/>.</summary>
    /// <exception cref="BpfException">The key is not in the map (ENOENT).</exception>
    public void Delete(in TKey key) => Map.Delete(in key);

    /// <summary>Removes <paramref name="key"/>; false when it was not there.</summary>
    public bool TryDelete(in TKey key) => Map.TryDelete(in key);

    /// <summary>Every key, each once (see <see cref="Map.Keys()"/> for the semantics under deletion).</summary>
    public IEnumerable<TKey> Keys => Map.Keys<TKey>();

    /// <summary>Every entry, each key once.</summary>
    public IEnumerable<KeyValuePair<TKey, TValue>> Entries => Map.Entries<TKey, TValue>();
}
