using BpfSharp.Kernel;

namespace BpfSharp.Maps;

/// <summary>
/// The base of the typed views over a <see cref="Maps.Map"/>: checks once, when the view is made,
/// that the map has the kind and the key and value sizes the view's types need, and owns the map
/// (disposing the view closes it).
/// </summary>
public abstract class TypedMap : IDisposable
{
    /// <summary>Wraps <paramref name="map"/> after checking its type and sizes.</summary>
    /// <param name="map">The live map; the view takes ownership.</param>
    /// <param name="keySize">The key size the view needs, or null for any.</param>
    /// <param name="valueSize">The per-element (per-CPU for per-CPU maps) value size the view needs, or null for any.</param>
    /// <param name="types">The map types the view accepts.</param>
    /// <exception cref="ArgumentException">The map is of another type, or its sizes differ.</exception>
    protected TypedMap(Map map, int? keySize, int? valueSize, params MapType[] types)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (Array.IndexOf(types, map.Type) < 0)
        {
            throw new ArgumentException($"{GetType().Name} needs a {string.Join(" or ", types)} map, but {map} is a {map.Type} map.", nameof(map));
        }
        if (keySize is int key && key != map.KeySize)
        {
            throw new ArgumentException($"{GetType().Name} needs {key}-byte keys, but {map} has {map.KeySize}-byte keys.", nameof(map));
        }
        if (valueSize is int value && value != map.ValueSize)
        {
            throw new ArgumentException($"{GetType().Name} needs {value}-byte values, but {map} has {map.ValueSize}-byte values.", nameof(map));
        }
        Map = map;
    }

    /// <summary>The underlying map, for raw byte access, pinning, batch operations and its descriptor.</summary>
    public Map Map { get; }

    /// <summary>The map's file descriptor.</summary>
    public FileDescriptor Fd => Map.Fd;

    /// <summary>Closes the map.</summary>
    public void Dispose()
    {
        Map.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <inheritdoc />
    public override string ToString() => Map.ToString();

    /// <summary>Creates a map from a spec, for the typed views' <c>Create</c> methods.</summary>
    private protected static unsafe MapSpec Spec<TKey, TValue>(MapType type, uint maxEntries, string? name, MapFlags flags)
        where TKey : unmanaged where TValue : unmanaged =>
        new()
        {
            Type = type,
            Name = name ?? "",
            KeySize = (uint)sizeof(TKey),
            ValueSize = (uint)sizeof(TValue),
            MaxEntries = maxEntries,
            Flags = flags,
        };
}
