namespace BpfSharp.Maps;

/// <summary>An array of maps (<c>BPF_MAP_TYPE_ARRAY_OF_MAPS</c>).</summary>
public sealed class ArrayOfMaps : MapOfMaps<uint>
{
    /// <summary>Wraps an existing array of maps.</summary>
    public ArrayOfMaps(Map map) : base(map, MapType.ArrayOfMaps)
    {
    }

    /// <summary>Creates an array of <paramref name="length"/> slots for maps like <paramref name="innerMap"/>.</summary>
    public static ArrayOfMaps Create(MapSpec innerMap, uint length, string? name = null) =>
        new(Map.Create(OuterSpec(MapType.ArrayOfMaps, 4, innerMap, length, name)));
}
