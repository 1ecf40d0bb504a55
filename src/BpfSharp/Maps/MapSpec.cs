using BpfSharp.Kernel;

namespace BpfSharp.Maps;

/// <summary>
/// Everything needed to create a map, as plain editable data: read from an object file or built
/// in code, changed freely, then turned into a live <see cref="Map"/> by <see cref="Map.Create"/>.
/// The kernel decides which combinations it accepts; when it refuses one, the error names the
/// rule for the map type (for example "queue maps have no key: KeySize must be 0").
/// </summary>
public sealed class MapSpec
{
    /// <summary>The map name (at most 15 bytes are kept; letters, digits, '_' and '.').</summary>
    public string Name { get; set; } = "";

    /// <summary>The kind of map.</summary>
    public MapType Type { get; set; }

    /// <summary>Key size in bytes (0 for queues, stacks, bloom filters, ring buffers and arenas).</summary>
    public uint KeySize { get; set; }

    /// <summary>Value size in bytes (per CPU for per-CPU maps; 0 for ring buffers and arenas).</summary>
    public uint ValueSize { get; set; }

    /// <summary>Capacity: elements for most maps, bytes for ring buffers, pages for arenas, 0 for local storage maps.</summary>
    public uint MaxEntries { get; set; }

    /// <summary>Creation flags.</summary>
    public MapFlags Flags { get; set; }

    /// <summary>The template of the maps an array or hash of maps holds; a temporary map is made from it during creation.</summary>
    public MapSpec? InnerMap { get; set; }

    /// <summary>The NUMA node to allocate on; used when <see cref="MapFlags.NumaNode"/> is set.</summary>
    public uint NumaNode { get; set; }

    /// <summary>
    /// Per-type extra: the number of hash functions of a bloom filter (low 4 bits, 0 means 5), the
    /// user address of an arena, an initial size hint for resizable hashes.
    /// </summary>
    public ulong MapExtra { get; set; }

    /// <summary>The network interface to offload the map to (0: not offloaded).</summary>
    public uint Ifindex { get; set; }

    /// <summary>The loaded BTF object that describes the key and value types, or null.</summary>
    public FileDescriptor? Btf { get; set; }

    /// <summary>The BTF type id of the key within <see cref="Btf"/> (0: none).</summary>
    public uint BtfKeyTypeId { get; set; }

    /// <summary>The BTF type id of the value within <see cref="Btf"/> (0: none).</summary>
    public uint BtfValueTypeId { get; set; }

    /// <summary>The kernel (vmlinux or module) BTF type id of the value of a struct_ops map.</summary>
    public uint BtfVmlinuxValueTypeId { get; set; }

    /// <summary>The BTF object (a kernel module's) in which <see cref="BtfVmlinuxValueTypeId"/> is defined, or null for vmlinux.</summary>
    public FileDescriptor? ValueTypeBtfObject { get; set; }

    /// <summary>A BPF token that delegates the right to create this map, or null.</summary>
    public FileDescriptor? Token { get; set; }

    /// <summary>True for the map types that keep one value per possible CPU.</summary>
    public bool IsPerCpu => Map.IsPerCpuType(Type);

    /// <summary>
    /// How a collection pins the map: <see cref="MapPinning.ByName"/> (libbpf's <c>LIBBPF_PIN_BY_NAME</c>) pins it
    /// under the collection's pin directory by its name, and reuses a compatible map already pinned there.
    /// </summary>
    public MapPinning Pinning { get; set; }

    /// <summary>
    /// The initial value of a single-element array map (global data: <c>.data</c>, <c>.rodata</c>, <c>.bss</c>),
    /// written to element 0 when a collection creates the map; <see langword="null"/> for other maps.
    /// </summary>
    public byte[]? InitialValue { get; set; }

    /// <summary>
    /// Initial elements that name other objects of the collection: programs of a program array, inner maps
    /// of a map of maps. A collection fills them once the programs and maps exist.
    /// </summary>
    public List<MapSlot> Contents { get; set; } = [];

    /// <summary>
    /// Whether a collection creates the map (default true; libbpf's <c>bpf_map__set_autocreate</c>). Maps of
    /// <c>SEC("?.struct_ops")</c> and <c>SEC("?.struct_ops.link")</c> start with it off. A map that is not created
    /// has no kernel object: programs that use it must not be loaded, and struct_ops programs used only by such
    /// maps are left out.
    /// </summary>
    public bool Autocreate { get; set; } = true;

    /// <summary>The ELF section the map was read from (<c>.maps</c>, <c>maps</c>, <c>.data</c>, <c>.struct_ops</c>, ...), or <see langword="null"/> for maps built in code.</summary>
    public string? SectionName { get; set; }

    /// <summary>
    /// For a struct_ops map read from an object (<see cref="MapType.StructOps"/>): the ops struct, its initializer and the
    /// programs of its function pointers, from which a collection builds the kernel value (and sets
    /// <see cref="ValueSize"/> and <see cref="BtfVmlinuxValueTypeId"/> to the kernel's). Null for other maps.
    /// </summary>
    public StructOpsSpec? StructOps { get; set; }

    /// <summary>A copy that can be changed without affecting this one (the inner map spec is copied too; descriptors are shared).</summary>
    public MapSpec Clone()
    {
        var copy = (MapSpec)MemberwiseClone();
        copy.InnerMap = InnerMap?.Clone();
        copy.InitialValue = (byte[]?)InitialValue?.Clone();
        copy.Contents = [.. Contents];
        copy.StructOps = StructOps?.Clone();
        return copy;
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"{Type} map '{Name}' (key {KeySize} B, value {ValueSize} B, max_entries {MaxEntries}, flags {Flags})";
}

/// <summary>How a collection pins a map (the <c>pinning</c> attribute of a BTF-defined map).</summary>
public enum MapPinning
{
    /// <summary>The map is not pinned (<c>LIBBPF_PIN_NONE</c>).</summary>
    None = 0,

    /// <summary>
    /// The map is pinned by its name in the collection's pin directory (<c>LIBBPF_PIN_BY_NAME</c>); a compatible
    /// map already pinned there is reused instead of creating a new one.
    /// </summary>
    ByName = 1,
}

/// <summary>
/// An initial element of a program array or map of maps: the element at <see cref="Index"/> refers to the program
/// or map named <see cref="Target"/> in the same collection.
/// </summary>
/// <param name="Index">The array index (the key) of the element.</param>
/// <param name="Target">The name of the program (program arrays) or map (maps of maps) to store there.</param>
public readonly record struct MapSlot(uint Index, string Target);
