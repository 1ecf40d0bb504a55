using BpfSharp.Kernel;

namespace BpfSharp.Maps;

/// <summary>
/// A perf event array (<c>BPF_MAP_TYPE_PERF_EVENT_ARRAY</c>): one perf event per slot, usually one per
/// CPU, that programs write samples to with <c>bpf_perf_event_output</c> or read counters from.
/// </summary>
public sealed class PerfEventArrayMap : DescriptorMap<uint>
{
    /// <summary>Wraps an existing perf event array.</summary>
    public PerfEventArrayMap(Map map) : base(map, MapType.PerfEventArray)
    {
    }

    /// <summary>Creates a perf event array with one slot per possible CPU, or <paramref name="length"/> slots.</summary>
    /// <param name="length">The number of slots; 0 for one per possible CPU.</param>
    /// <param name="name">The map name.</param>
    /// <param name="flags"><see cref="MapFlags.PreserveElems"/> to keep events when the creating descriptor closes.</param>
    public static PerfEventArrayMap Create(uint length = 0, string? name = null, MapFlags flags = MapFlags.None) =>
        new(Map.Create(new MapSpec
        {
            Type = MapType.PerfEventArray,
            Name = name ?? "",
            KeySize = 4,
            ValueSize = 4,
            MaxEntries = length == 0 ? (uint)Cpus.PossibleCount : length,
            Flags = flags,
        }));

    /// <summary>The number of slots.</summary>
    public uint Length => Map.MaxEntries;

    /// <summary>Puts the perf event behind <paramref name="perfEvent"/> into slot <paramref name="index"/>.</summary>
    public void Set(uint index, FileDescriptor perfEvent) => SetDescriptor(in index, perfEvent, UpdateFlags.Any);
}
