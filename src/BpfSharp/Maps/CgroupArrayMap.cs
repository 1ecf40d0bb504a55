using BpfSharp.Kernel;
using BpfSharp.Links;

namespace BpfSharp.Maps;

/// <summary>
/// A cgroup array (<c>BPF_MAP_TYPE_CGROUP_ARRAY</c>): slots holding cgroup v2 directories, which programs test with
/// <c>bpf_current_task_under_cgroup</c> (is the current task in this cgroup or below it?) and
/// <c>bpf_skb_under_cgroup</c>. User space stores a cgroup by an open descriptor of its directory; the map keeps
/// its own reference, so the descriptor can be closed afterwards.
/// </summary>
public sealed class CgroupArrayMap : DescriptorMap<uint>
{
    /// <summary>Wraps an existing cgroup array.</summary>
    public CgroupArrayMap(Map map) : base(map, MapType.CgroupArray)
    {
    }

    /// <summary>Creates a cgroup array of <paramref name="length"/> slots.</summary>
    public static CgroupArrayMap Create(uint length, string? name = null) =>
        new(Map.Create(new MapSpec { Type = MapType.CgroupArray, Name = name ?? "", KeySize = 4, ValueSize = 4, MaxEntries = length }));

    /// <summary>The number of slots.</summary>
    public uint Length => Map.MaxEntries;

    /// <summary>Puts the cgroup whose directory <paramref name="cgroup"/> is open into slot <paramref name="index"/>.</summary>
    /// <exception cref="BpfException">The kernel refused: the descriptor is not a cgroup v2 directory (EBADF), or the index is out of range (E2BIG).</exception>
    public void Set(uint index, FileDescriptor cgroup) => SetDescriptor(in index, cgroup, UpdateFlags.Any);

    /// <summary>Puts the cgroup v2 directory <paramref name="cgroupPath"/> (such as <c>/sys/fs/cgroup/user.slice</c>) into slot <paramref name="index"/>.</summary>
    /// <exception cref="BpfException">The directory cannot be opened, or it is not a cgroup v2 directory.</exception>
    public void Set(uint index, string cgroupPath)
    {
        ArgumentNullException.ThrowIfNull(cgroupPath);
        using FileDescriptor cgroup = ProgramAttachment.OpenTarget(cgroupPath, directory: true, "cgroup");
        try
        {
            Set(index, cgroup);
        }
        catch (BpfException e) when (e.Errno == Errno.EBADF)
        {
            throw new BpfException(e.Operation, e.Errno, $"storing {cgroupPath} in {Map}: it is not a cgroup v2 directory (is it under the cgroup2 mount, /sys/fs/cgroup or /sys/fs/cgroup/unified?)", null);
        }
    }
}
