using BpfSharp.Kernel;
using BpfSharp.Maps;
using BpfSharp.Programs;

namespace BpfSharp.Links;

/// <summary>
/// A struct_ops map registered with the kernel subsystem it implements (a TCP congestion control,
/// sched_ext scheduler, HID-BPF ops...). Maps created with <c>BPF_F_LINK</c> register as a BPF link
/// (BPF_LINK_CREATE on the map); others register by updating their single element
/// (BPF_MAP_UPDATE_ELEM, kernels before 6.4), and unregister by deleting it.
/// </summary>
public sealed class StructOpsLink : Link
{
    private readonly Map? _legacyMap;

    private StructOpsLink(FileDescriptor? fd, string description, Map? legacyMap) : base(fd, description)
    {
        _legacyMap = legacyMap;
    }

    /// <summary>Registers <paramref name="map"/>, a struct_ops map whose value (the ops table) is filled in.</summary>
    /// <param name="map">The struct_ops map.</param>
    /// <param name="value">For maps without BPF_F_LINK: the ops value to register (the map's value layout, with program fds in the function slots).</param>
    /// <exception cref="ArgumentException">The map is not a struct_ops map.</exception>
    /// <exception cref="BpfException">The kernel refused (an incomplete ops table, a name already registered: EEXIST).</exception>
    public static StructOpsLink Attach(Map map, ReadOnlyMemory<byte> value = default)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (map.Type != MapType.StructOps)
        {
            throw new ArgumentException($"{map} is a {map.Type} map, not a struct_ops map", nameof(map));
        }
        string description = $"struct_ops link for {map}";
        if ((map.Flags & MapFlags.Link) != 0)
        {
            using FileDescriptor.Lease lease = map.Fd.Borrow();
            var attr = new LinkCreateAttr { ProgOrMapFd = (uint)lease.Fd, AttachType = (uint)AttachType.StructOps };
            return new StructOpsLink(CreateRaw(ref attr, description, Hint), description, null);
        }
        if (value.Length != map.ValueSize)
        {
            throw new ArgumentException($"registering {map} without a link needs its {map.ValueSize}-byte ops value; {value.Length} bytes were given", nameof(value));
        }
        map.Update(BitConverter.GetBytes(0u), value.Span);
        return new StructOpsLink(null, $"struct_ops registration of {map}", map);
    }

    private protected override void Release()
    {
        if (_legacyMap is not null)
        {
            _legacyMap.TryDelete(BitConverter.GetBytes(0u));
        }
    }

    private static string? Hint(Errno errno) => errno switch
    {
        Errno.EINVAL => "the map must be a struct_ops map created with BPF_F_LINK and its value set (every required operation has a program)",
        Errno.EEXIST => "an implementation with this name is already registered",
        Errno.EBUSY => "the map is already registered",
        _ => null,
    };
}
