using BpfSharp.Kernel;

namespace BpfSharp.Maps;

/// <summary>
/// The shared mechanism of maps whose values are kernel objects: maps (<see cref="ArrayOfMaps"/>,
/// <see cref="HashOfMaps{TKey}"/>), programs (<see cref="ProgramArrayMap"/>) and perf events
/// (<see cref="PerfEventArrayMap"/>). User space stores an object by its file descriptor; lookups
/// of maps and programs read back the stored object's id (perf event slots cannot be read back).
/// </summary>
public abstract class DescriptorMap<TKey> : TypedMap where TKey : unmanaged
{
    /// <summary>Wraps <paramref name="map"/> after checking its type and key size; values are 4-byte descriptors.</summary>
    protected unsafe DescriptorMap(Map map, params MapType[] types) : base(map, sizeof(TKey), sizeof(uint), types)
    {
    }

    /// <summary>Stores the object behind <paramref name="fd"/> under <paramref name="key"/>.</summary>
    private protected void SetDescriptor(in TKey key, FileDescriptor fd, UpdateFlags flags)
    {
        ArgumentNullException.ThrowIfNull(fd);
        using FileDescriptor.Lease lease = fd.Borrow();
        uint number = (uint)lease.Fd;
        Map.Update(in key, in number, flags);
    }

    /// <summary>The id of the object stored under <paramref name="key"/>; false when the slot is empty.</summary>
    private protected bool TryGetStoredId(in TKey key, out uint id) => Map.TryLookup(in key, out id);

    /// <summary>Empties the slot under <paramref name="key"/>; false when it was already empty.</summary>
    public bool Clear(in TKey key) => Map.TryDelete(in key);
}
