using BpfSharp.Kernel;

namespace BpfSharp.Maps;

/// <summary>
/// A program array (<c>BPF_MAP_TYPE_PROG_ARRAY</c>): the jump table of <c>bpf_tail_call</c>. Slots hold
/// programs of one type; the kernel clears every slot when the last user-space reference to the
/// map goes away (the map's descriptors and pins), so keep the map open while programs tail-call.
/// </summary>
public sealed class ProgramArrayMap : DescriptorMap<uint>
{
    /// <summary>Wraps an existing program array.</summary>
    public ProgramArrayMap(Map map) : base(map, MapType.ProgArray)
    {
    }

    /// <summary>Creates a program array of <paramref name="length"/> slots.</summary>
    public static ProgramArrayMap Create(uint length, string? name = null) =>
        new(Map.Create(new MapSpec { Type = MapType.ProgArray, Name = name ?? "", KeySize = 4, ValueSize = 4, MaxEntries = length }));

    /// <summary>The number of slots.</summary>
    public uint Length => Map.MaxEntries;

    /// <summary>Puts the program behind <paramref name="program"/> into slot <paramref name="index"/>.</summary>
    public void Set(uint index, FileDescriptor program) => SetDescriptor(in index, program, UpdateFlags.Any);

    /// <summary>The id of the program in slot <paramref name="index"/>; false when the slot is empty.</summary>
    public bool TryGetProgramId(uint index, out uint id) => TryGetStoredId(in index, out id);
}
