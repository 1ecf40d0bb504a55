using System.Numerics;
using BpfSharp.Kernel;

namespace BpfSharp.Maps;

/// <summary>
/// A ring buffer map (<c>BPF_MAP_TYPE_RINGBUF</c>): a buffer shared by all CPUs that programs reserve
/// and submit records into. This is the map object; records are read through a ring buffer reader.
/// </summary>
public sealed class RingBufferMap : TypedMap
{
    /// <summary>Wraps an existing ring buffer map.</summary>
    public RingBufferMap(Map map) : base(map, 0, 0, MapType.RingBuf)
    {
    }

    /// <summary>Creates a ring buffer of <paramref name="sizeBytes"/> bytes.</summary>
    /// <param name="sizeBytes">A power of two and a multiple of the page size (4096 here usually).</param>
    /// <param name="name">The map name.</param>
    /// <exception cref="ArgumentException">The size is not a power-of-two multiple of the page size.</exception>
    public static RingBufferMap Create(uint sizeBytes, string? name = null)
    {
        if (sizeBytes < MemoryMapping.PageSize || !BitOperations.IsPow2(sizeBytes))
        {
            throw new ArgumentException(
                $"A ring buffer size must be a power of two and a multiple of the page size ({MemoryMapping.PageSize} bytes); {sizeBytes} is not. {RoundUp(sizeBytes)} would be.",
                nameof(sizeBytes));
        }
        return new(Map.Create(new MapSpec { Type = MapType.RingBuf, Name = name ?? "", MaxEntries = sizeBytes }));
    }

    /// <summary>The size of the data area in bytes.</summary>
    public uint Size => Map.MaxEntries;

    private static uint RoundUp(uint size) => BitOperations.RoundUpToPowerOf2(Math.Max(size, (uint)MemoryMapping.PageSize));
}
