using System.Runtime.InteropServices;

namespace BpfSharp.Maps;

// Walking a map with BPF_MAP_GET_NEXT_KEY.
//
// The kernel steps from a key to its successor. When that key is no longer in a hash map or an
// LPM trie, the kernel cannot tell where it was and starts again from the first key; a naive
// walk then yields keys twice, and loops forever if the caller deletes as it goes. Two rules make
// the walks here safe:
//  * the successor of a key is fetched before the key is handed out, so deleting the key just
//    received (the usual "drain" pattern), or any key received earlier, never moves the walk;
//  * the enumerable walks remember the keys they handed out and skip repeats, so a restart caused
//    by someone else deleting the key the walk holds next costs time but never yields a key twice;
//  * a walk that re-reads more keys than the map can hold without finding a new one concludes that
//    the map changes faster than it can be walked and throws, instead of hanging.
// Keys added during a walk may or may not be seen; keys deleted before the walk reaches them are
// not. A key deleted after the walk reached it (it holds one key ahead) may still come out of
// Keys(); Entries() skips it, because its value can no longer be read.
public sealed partial class Map
{
    /// <summary>Every key, each once, in the map's order.</summary>
    /// <remarks>
    /// Walks use BPF_MAP_GET_NEXT_KEY and fetch a key's successor before handing the key out, so
    /// deleting keys already received (such as the current one) is safe. If another writer deletes
    /// the key the walk holds next, the kernel restarts from the first key; the walk skips keys it
    /// already returned, so no key comes out twice, and it throws <see cref="InvalidOperationException"/>
    /// rather than hang if the map keeps changing faster than it can be walked. Keys added during a
    /// walk may or may not be returned. For large maps, <see cref="LookupBatch"/> is faster and
    /// tracks its position by hash bucket, which deletions do not disturb.
    /// </remarks>
    public IEnumerable<byte[]> Keys()
    {
        ThrowIfKeyless();
        return WalkKeys();
    }

    /// <summary>
    /// Every entry with its value at the time it is reached. Keys deleted between being reached and
    /// being read are skipped. Values are <see cref="ValueBufferSize"/> bytes.
    /// </summary>
    /// <remarks>The walk has the guarantees of <see cref="Keys()"/>.</remarks>
    public IEnumerable<KeyValuePair<byte[], byte[]>> Entries()
    {
        ThrowIfKeyless();
        return WalkEntries();
    }

    /// <summary>Every key as a <typeparamref name="TKey"/>, each once.</summary>
    public IEnumerable<TKey> Keys<TKey>() where TKey : unmanaged
    {
        CheckKeyType<TKey>();
        ThrowIfKeyless();
        return Walk(this);

        static IEnumerable<TKey> Walk(Map map)
        {
            foreach (byte[] key in map.WalkKeys())
            {
                yield return MemoryMarshal.Read<TKey>(key);
            }
        }
    }

    /// <summary>Every entry as typed key and value, each key once.</summary>
    public IEnumerable<KeyValuePair<TKey, TValue>> Entries<TKey, TValue>() where TKey : unmanaged where TValue : unmanaged
    {
        CheckKeyType<TKey>();
        CheckValueType<TValue>();
        ThrowIfKeyless();
        return Walk(this);

        static IEnumerable<KeyValuePair<TKey, TValue>> Walk(Map map)
        {
            foreach (KeyValuePair<byte[], byte[]> entry in map.WalkEntries())
            {
                yield return new(MemoryMarshal.Read<TKey>(entry.Key), MemoryMarshal.Read<TValue>(entry.Value));
            }
        }
    }

    /// <summary>
    /// A reusable, non-allocating walk over the keys (and values) for hot paths: its buffers are
    /// allocated once, and each step copies into spans the caller owns.
    /// </summary>
    public MapKeyCursor CreateKeyCursor()
    {
        ThrowIfKeyless();
        return new MapKeyCursor(this);
    }

    /// <summary>
    /// How many successor steps a walk may take without finding a new key before the map is judged
    /// to change faster than it can be walked: after a restart the walk re-reads at most every
    /// key the map holds, which is at most max_entries.
    /// </summary>
    internal long WalkStepLimit => 2L * Math.Max(MaxEntries, 1u) + 1024;

    private IEnumerable<KeyValuePair<byte[], byte[]>> WalkEntries()
    {
        foreach (byte[] key in WalkKeys())
        {
            byte[] value = new byte[ValueBufferSize];
            // Empty slots of descriptor arrays (programs, inner maps) and keys deleted since they
            // were reached have no value: they are not entries.
            if (TryLookup(key, value))
            {
                yield return new(key, value);
            }
        }
    }

    private IEnumerable<byte[]> WalkKeys()
    {
        bool canRestart = !IsArrayType(Type);
        var returned = canRestart ? new HashSet<byte[]>(ByteArrayComparer.Instance) : null;
        byte[] current = new byte[KeySize];
        if (!TryGetNextKey(default, current))
        {
            yield break;
        }
        long stepsWithoutNewKey = 0;
        while (true)
        {
            byte[] next = new byte[KeySize];
            bool hasNext = TryGetNextKey(current, next);
            if (returned is null || returned.Add(current))
            {
                stepsWithoutNewKey = 0;
                yield return current;
            }
            else if (++stepsWithoutNewKey > WalkStepLimit)
            {
                throw new InvalidOperationException(
                    $"Walking {this} re-read {WalkStepLimit} keys without finding a new one: other writers keep deleting the keys the walk stands on, so the kernel keeps restarting it.");
            }
            if (!hasNext)
            {
                yield break;
            }
            current = next;
        }
    }

    private void ThrowIfKeyless()
    {
        if (KeySize == 0)
        {
            throw new InvalidOperationException($"{this} has no keys to walk (key size 0); {Type} maps are read by popping, peeking or testing values.");
        }
    }

    private sealed class ByteArrayComparer : IEqualityComparer<byte[]>
    {
        internal static readonly ByteArrayComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] bytes)
        {
            var hash = new HashCode();
            hash.AddBytes(bytes);
            return hash.ToHashCode();
        }
    }
}
