using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace BpfSharp.Maps;

/// <summary>
/// A stack trace map (<c>BPF_MAP_TYPE_STACK_TRACE</c>): <c>bpf_get_stackid</c> stores a stack in it
/// and returns its id, the key to read it back with. Values are arrays of 8-byte instruction pointers
/// (ended by a zero when the stack is shorter than the map's depth), or with
/// <see cref="MapFlags.StackBuildId"/> arrays of <see cref="StackFrameBuildId"/>.
/// </summary>
public sealed class StackTraceMap : TypedMap
{
    /// <summary>The size of one build-id frame (<c>struct bpf_stack_build_id</c>).</summary>
    public const int BuildIdFrameSize = 32;

    /// <summary>Wraps an existing stack trace map.</summary>
    public StackTraceMap(Map map) : base(map, 4, null, MapType.StackTrace)
    {
    }

    /// <summary>Creates a stack trace map.</summary>
    /// <param name="maxEntries">How many distinct stacks it holds.</param>
    /// <param name="maxDepth">Frames per stack (the kernel's limit is kernel.perf_event_max_stack, 127 by default).</param>
    /// <param name="buildId">Store build id and file offset instead of addresses (user stacks only).</param>
    /// <param name="name">The map name.</param>
    public static StackTraceMap Create(uint maxEntries, uint maxDepth = 127, bool buildId = false, string? name = null)
    {
        ArgumentOutOfRangeException.ThrowIfZero(maxDepth);
        uint frame = buildId ? (uint)BuildIdFrameSize : sizeof(ulong);
        return new(Map.Create(new MapSpec
        {
            Type = MapType.StackTrace,
            Name = name ?? "",
            KeySize = 4,
            ValueSize = checked(maxDepth * frame),
            MaxEntries = maxEntries,
            Flags = buildId ? MapFlags.StackBuildId : MapFlags.None,
        }));
    }

    /// <summary>True when the map stores build-id frames.</summary>
    public bool HasBuildIds => Map.Flags.HasFlag(MapFlags.StackBuildId);

    /// <summary>Frames per stack.</summary>
    public int MaxDepth => (int)Map.ValueSize / (HasBuildIds ? BuildIdFrameSize : sizeof(ulong));

    /// <summary>The instruction pointers of stack <paramref name="stackId"/>, innermost first; false when there is no such stack.</summary>
    public bool TryReadStack(uint stackId, out ulong[] addresses)
    {
        RequireAddresses();
        var frames = new ulong[MaxDepth];
        if (!Map.TryLookup(Map.KeyBytes(in stackId), MemoryMarshal.AsBytes(frames.AsSpan())))
        {
            addresses = [];
            return false;
        }
        int length = Array.IndexOf(frames, 0UL);
        addresses = length < 0 ? frames : frames[..length];
        return true;
    }

    /// <summary>The instruction pointers of stack <paramref name="stackId"/>, innermost first.</summary>
    /// <exception cref="KeyNotFoundException">There is no stack with that id.</exception>
    public ulong[] ReadStack(uint stackId) =>
        TryReadStack(stackId, out ulong[] addresses) ? addresses : throw new KeyNotFoundException($"{Map} holds no stack with id {stackId}.");

    /// <summary>The build-id frames of stack <paramref name="stackId"/>; empty frames at the end are dropped.</summary>
    /// <exception cref="InvalidOperationException">The map stores addresses, not build ids.</exception>
    /// <exception cref="KeyNotFoundException">There is no stack with that id.</exception>
    public StackFrameBuildId[] ReadBuildIdStack(uint stackId)
    {
        if (!HasBuildIds)
        {
            throw new InvalidOperationException($"{Map} stores instruction pointers; use ReadStack.");
        }
        var frames = new StackFrameBuildId[MaxDepth];
        if (!Map.TryLookup(Map.KeyBytes(in stackId), MemoryMarshal.AsBytes(frames.AsSpan())))
        {
            throw new KeyNotFoundException($"{Map} holds no stack with id {stackId}.");
        }
        int length = frames.Length;
        while (length > 0 && frames[length - 1].Status == StackFrameStatus.Empty)
        {
            length--;
        }
        return frames[..length];
    }

    /// <summary>Frees stack <paramref name="stackId"/> for reuse; false when there was none.</summary>
    public bool Remove(uint stackId) => Map.TryDelete(in stackId);

    private void RequireAddresses()
    {
        if (HasBuildIds)
        {
            throw new InvalidOperationException($"{Map} stores build-id frames; use ReadBuildIdStack.");
        }
    }
}

/// <summary>What a build-id stack frame holds (<c>enum bpf_stack_build_id_status</c>).</summary>
public enum StackFrameStatus
{
    /// <summary>No frame (<c>BPF_STACK_BUILD_ID_EMPTY</c>).</summary>
    Empty = 0,
    /// <summary>A build id and file offset (<c>BPF_STACK_BUILD_ID_VALID</c>).</summary>
    Valid = 1,
    /// <summary>Only an instruction pointer: the build id could not be read (<c>BPF_STACK_BUILD_ID_IP</c>).</summary>
    InstructionPointerOnly = 2,
}

/// <summary>One frame of a build-id stack (<c>struct bpf_stack_build_id</c>, 32 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct StackFrameBuildId
{
    private int _status;
    private BuildIdBytes _buildId;
    private ulong _offsetOrIp;

    /// <summary>What the frame holds.</summary>
    public readonly StackFrameStatus Status => (StackFrameStatus)_status;

    /// <summary>The 20-byte build id of the file (when <see cref="Status"/> is <see cref="StackFrameStatus.Valid"/>).</summary>
    public readonly byte[] BuildId => ((ReadOnlySpan<byte>)_buildId).ToArray();

    /// <summary>The offset in the file (Valid) or the instruction pointer (InstructionPointerOnly).</summary>
    public readonly ulong OffsetOrInstructionPointer => _offsetOrIp;

    [InlineArray(20)]
    private struct BuildIdBytes
    {
        private byte _first;
    }
}
