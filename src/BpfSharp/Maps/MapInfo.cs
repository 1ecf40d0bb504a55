namespace BpfSharp.Maps;

/// <summary>What the kernel reports about a map (<c>struct bpf_map_info</c>).</summary>
public sealed record MapInfo
{
    /// <summary>The map's system-wide id.</summary>
    public required uint Id { get; init; }

    /// <summary>The kind of map.</summary>
    public required MapType Type { get; init; }

    /// <summary>The map name (up to 15 bytes).</summary>
    public required string Name { get; init; }

    /// <summary>Key size in bytes.</summary>
    public required uint KeySize { get; init; }

    /// <summary>Value size in bytes (per CPU for per-CPU maps).</summary>
    public required uint ValueSize { get; init; }

    /// <summary>Capacity, as given at creation.</summary>
    public required uint MaxEntries { get; init; }

    /// <summary>Creation flags.</summary>
    public required MapFlags Flags { get; init; }

    /// <summary>The interface the map is offloaded to (0: none).</summary>
    public required uint Ifindex { get; init; }

    /// <summary>The id of the BTF object describing key and value (0: none).</summary>
    public required uint BtfId { get; init; }

    /// <summary>The BTF type id of the key (0: none).</summary>
    public required uint BtfKeyTypeId { get; init; }

    /// <summary>The BTF type id of the value (0: none).</summary>
    public required uint BtfValueTypeId { get; init; }

    /// <summary>The kernel BTF type id of a struct_ops value (0: none).</summary>
    public required uint BtfVmlinuxValueTypeId { get; init; }

    /// <summary>The id of the kernel BTF object that type belongs to (0: none).</summary>
    public required uint BtfVmlinuxId { get; init; }

    /// <summary>The per-type extra value (bloom filter hash count, arena address).</summary>
    public required ulong MapExtra { get; init; }
}
