using BpfSharp.Kernel;
using BpfSharp.Maps;
using BpfSharp.Programs;

namespace BpfSharp.Links;

/// <summary>
/// A struct_ops map registered with the kernel subsystem it implements (a TCP congestion control,
/// sched_ext scheduler, HID-BPF ops...). Maps created with <c>BPF_F_LINK</c> register as a BPF link
/// (BPF_LINK_CREATE on the map, after its value is set); others register by updating their single
/// element (BPF_MAP_UPDATE_ELEM, the only way before kernel 6.4), and unregister by deleting it.
/// </summary>
/// <remarks>
/// A registration without a link holds its own descriptor of the map, so it can be undone even after
/// the map object it was made from (a collection's) is disposed.
/// </remarks>
public sealed class StructOpsLink : Link
{
    private readonly Map? _legacyMap;

    private StructOpsLink(FileDescriptor? fd, string description, Map? legacyMap) : base(fd, description)
    {
        _legacyMap = legacyMap;
    }

    /// <summary>
    /// Registers <paramref name="map"/>, a struct_ops map. <paramref name="value"/> is the ops value in the kernel's
    /// layout (the map's value: the ops struct inside <c>struct bpf_struct_ops_NAME</c>, with program descriptors in
    /// the function pointer slots); a collection builds it (<see cref="Collections.Collection.StructOpsValue"/>).
    /// </summary>
    /// <param name="map">The struct_ops map.</param>
    /// <param name="value">
    /// The ops value. Required for maps without BPF_F_LINK; for link maps it is written first unless empty (a link map's
    /// value can be set once: when it already is, the kernel's EBUSY is ignored and the link made from the value it has).
    /// </param>
    /// <exception cref="ArgumentException">The map is not a struct_ops map, or the value is not the map's value size.</exception>
    /// <exception cref="BpfException">The kernel refused (an incomplete ops table, a name already registered: EEXIST).</exception>
    public static StructOpsLink Attach(Map map, ReadOnlyMemory<byte> value = default)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (map.Type != MapType.StructOps)
        {
            throw new ArgumentException($"{map} is a {map.Type} map, not a struct_ops map", nameof(map));
        }
        bool isLink = (map.Flags & MapFlags.Link) != 0;
        if (value.Length != map.ValueSize && (value.Length != 0 || !isLink))
        {
            throw new ArgumentException($"registering {map} needs its {map.ValueSize}-byte ops value; {value.Length} bytes were given", nameof(value));
        }
        if (isLink)
        {
            if (value.Length > 0)
            {
                try
                {
                    map.Update(ZeroKey, value.Span);
                }
                catch (BpfException e) when (e.Errno == Errno.EBUSY)
                {
                    // Set before (a struct_ops value never changes once set): link what is there.
                }
            }
            string description = $"struct_ops link for {map}";
            using FileDescriptor.Lease lease = map.Fd.Borrow();
            var attr = new LinkCreateAttr { ProgOrMapFd = (uint)lease.Fd, AttachType = (uint)AttachType.StructOps };
            return new StructOpsLink(CreateRaw(ref attr, description, Hint), description, null);
        }
        Map own = Map.FromId(map.Id);
        try
        {
            own.Update(ZeroKey, value.Span);
        }
        catch (BpfException e)
        {
            own.Dispose();
            throw new BpfException(e.Operation, e.Errno, $"registering struct_ops {map}", Hint(e.Errno) ?? e.Hint);
        }
        return new StructOpsLink(null, $"struct_ops registration of {map}", own);
    }

    private static ReadOnlySpan<byte> ZeroKey => [0, 0, 0, 0];

    private protected override void Release()
    {
        if (_legacyMap is not null)
        {
            _legacyMap.TryDelete(ZeroKey);
            _legacyMap.Dispose();
        }
    }

    private static string? Hint(Errno errno) => errno switch
    {
        Errno.EINVAL => "the value must be the kernel's layout of the ops struct with a struct_ops program, loaded for that struct and member, in every " +
            "function pointer the subsystem requires (a TCP congestion control needs ssthresh, undo_cwnd and cong_avoid or cong_control) and a valid name",
        Errno.EEXIST => "an implementation with this name is already registered; give the ops a name no other registration uses",
        Errno.EBUSY => "the map is already registered",
        _ => null,
    };
}
