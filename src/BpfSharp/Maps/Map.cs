using System.Runtime.InteropServices;
using BpfSharp.Kernel;

namespace BpfSharp.Maps;

/// <summary>
/// A live BPF map: owns its file descriptor and releases it when disposed (the kernel frees the
/// map once no descriptor, pin or program refers to it). Element access works on raw byte spans
/// (this file's partner <c>Map.Elements.cs</c>), with a thin typed layer over them for unmanaged
/// keys and values, and typed views per map kind (<see cref="HashMap{TKey, TValue}"/>, ...).
/// </summary>
public sealed partial class Map : IDisposable
{
    private readonly FileDescriptor _fd;

    private Map(FileDescriptor fd, MapInfo info)
    {
        _fd = fd;
        Info = info;
        ValueBufferSize = ComputeValueBufferSize(info.Type, info.ValueSize);
        _fd.Description = Describe(info);
    }

    /// <summary>The kernel's description of the map, read when it was created or opened.</summary>
    public MapInfo Info { get; }

    /// <summary>The map's system-wide id.</summary>
    public uint Id => Info.Id;

    /// <summary>The map name.</summary>
    public string Name => Info.Name;

    /// <summary>The kind of map.</summary>
    public MapType Type => Info.Type;

    /// <summary>Key size in bytes.</summary>
    public uint KeySize => Info.KeySize;

    /// <summary>Value size in bytes (per CPU for per-CPU maps; see <see cref="ValueBufferSize"/>).</summary>
    public uint ValueSize => Info.ValueSize;

    /// <summary>Capacity, as given at creation.</summary>
    public uint MaxEntries => Info.MaxEntries;

    /// <summary>Creation flags.</summary>
    public MapFlags Flags => Info.Flags;

    /// <summary>The id of the BTF object describing key and value (0: none).</summary>
    public uint BtfId => Info.BtfId;

    /// <summary>The BTF type id of the key (0: none).</summary>
    public uint BtfKeyTypeId => Info.BtfKeyTypeId;

    /// <summary>The BTF type id of the value (0: none).</summary>
    public uint BtfValueTypeId => Info.BtfValueTypeId;

    /// <summary>The kernel BTF type id of a struct_ops value (0: none).</summary>
    public uint BtfVmlinuxValueTypeId => Info.BtfVmlinuxValueTypeId;

    /// <summary>The per-type extra value (bloom filter hash count, arena address).</summary>
    public ulong MapExtra => Info.MapExtra;

    /// <summary>True when the map keeps one value per possible CPU.</summary>
    public bool IsPerCpu => IsPerCpuType(Type);

    /// <summary>
    /// The number of bytes a value occupies in user space buffers: <see cref="ValueSize"/>, or for
    /// per-CPU maps one slot per possible CPU (<see cref="Cpus.PossibleCount"/>), each rounded up
    /// to 8 bytes as the kernel lays them out.
    /// </summary>
    public int ValueBufferSize { get; }

    /// <summary>The map's file descriptor (for passing to programs, other maps or the kernel).</summary>
    public FileDescriptor Fd => _fd;

    /// <summary>The bpffs path this object pinned the map at, if any.</summary>
    public string? PinnedPath { get; private set; }

    /// <summary>Creates a map from <paramref name="spec"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="spec"/> is null.</exception>
    /// <exception cref="BpfException">The kernel refused; the message names the rule for the map type when one is known.</exception>
    public static unsafe Map Create(MapSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        Map? innerTemplate = null;
        if (spec.InnerMap is not null)
        {
            if (!IsMapOfMapsType(spec.Type))
            {
                throw new ArgumentException($"{spec} has an InnerMap, but only ArrayOfMaps and HashOfMaps maps hold inner maps.", nameof(spec));
            }
            // The kernel only needs an example of the inner map at creation time: it records its
            // type, sizes and flags, and the template can be closed afterwards (what libbpf does).
            innerTemplate = Create(spec.InnerMap);
        }
        try
        {
            var attr = new MapCreateAttr
            {
                MapType = (uint)spec.Type,
                KeySize = spec.KeySize,
                ValueSize = spec.ValueSize,
                MaxEntries = spec.MaxEntries,
                MapFlags = (uint)spec.Flags,
                NumaNode = spec.NumaNode,
                MapIfindex = spec.Ifindex,
                BtfKeyTypeId = spec.BtfKeyTypeId,
                BtfValueTypeId = spec.BtfValueTypeId,
                BtfVmlinuxValueTypeId = spec.BtfVmlinuxValueTypeId,
                MapExtra = spec.MapExtra,
            };
            Bpf.WriteObjectName(spec.Name, attr.MapName);

            // Borrow every descriptor the call refers to, so none can be closed while the kernel reads it.
            using FileDescriptor.Lease inner = BorrowOrEmpty(innerTemplate?._fd);
            using FileDescriptor.Lease btf = BorrowOrEmpty(spec.Btf);
            using FileDescriptor.Lease valueBtf = BorrowOrEmpty(spec.ValueTypeBtfObject);
            using FileDescriptor.Lease token = BorrowOrEmpty(spec.Token);
            if (innerTemplate is not null)
            {
                attr.InnerMapFd = (uint)inner.Fd;
            }
            if (spec.Btf is not null)
            {
                attr.BtfFd = (uint)btf.Fd;
            }
            if (spec.ValueTypeBtfObject is not null)
            {
                attr.ValueTypeBtfObjFd = valueBtf.Fd;
                attr.MapFlags |= (uint)MapFlags.VtypeBtfObjFd;
            }
            if (spec.Token is not null)
            {
                attr.MapTokenFd = token.Fd;
                attr.MapFlags |= (uint)MapFlags.TokenFd;
            }

            int fd = Bpf.TryCall(BpfCommand.MapCreate, ref attr, out Errno errno);
            if (fd < 0)
            {
                throw MapCreationRules.Explain(spec, errno);
            }
            var handle = new FileDescriptor(fd, $"{spec.Type} map '{spec.Name}'");
            try
            {
                return new Map(handle, ReadInfo(handle));
            }
            catch
            {
                handle.Dispose();
                throw;
            }
        }
        finally
        {
            innerTemplate?.Dispose();
        }
    }

    /// <summary>Opens the map pinned at <paramref name="path"/> (a bpffs path).</summary>
    /// <param name="path">The pin path, for example <c>/sys/fs/bpf/counts</c>.</param>
    /// <param name="access">Whether to open for reading, writing or both.</param>
    public static Map OpenPinned(string path, ObjectAccess access = ObjectAccess.ReadWrite)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        FileDescriptor fd = Bpf.ObjGet(path, "map", access);
        Map map = Adopt(fd, $"the object pinned at {path}");
        map.PinnedPath = path;
        return map;
    }

    /// <summary>Opens a map by its system-wide id (needs CAP_SYS_ADMIN).</summary>
    /// <param name="id">The map id, from <see cref="AllIds"/> or a program's info.</param>
    /// <param name="access">Whether to open for reading, writing or both.</param>
    public static Map FromId(uint id, ObjectAccess access = ObjectAccess.ReadWrite)
    {
        FileDescriptor fd = Bpf.GetFdById(BpfCommand.MapGetFdById, id, "map", (uint)access);
        return Adopt(fd, $"map id {id}");
    }

    /// <summary>Takes ownership of a descriptor that refers to a map (one received from another process, for example).</summary>
    /// <param name="fd">The descriptor; disposed by the returned map.</param>
    public static Map FromFileDescriptor(FileDescriptor fd)
    {
        ArgumentNullException.ThrowIfNull(fd);
        return Adopt(fd, fd.Description);
    }

    /// <summary>The ids of every map in the system, ascending.</summary>
    public static IReadOnlyList<uint> AllIds() => Bpf.AllIds(BpfCommand.MapGetNextId);

    /// <summary>The kernel's description of the map with id <paramref name="id"/> (opens it briefly).</summary>
    public static MapInfo GetInfo(uint id)
    {
        using FileDescriptor fd = Bpf.GetFdById(BpfCommand.MapGetFdById, id, "map");
        return ReadInfo(fd);
    }

    /// <summary>
    /// The descriptions of every map in the system. Maps freed between listing and opening are
    /// skipped, since the list is a snapshot of a moving system.
    /// </summary>
    public static IEnumerable<MapInfo> All()
    {
        foreach (uint id in AllIds())
        {
            using FileDescriptor? fd = Bpf.TryGetFdById(BpfCommand.MapGetFdById, id, "map");
            if (fd is not null)
            {
                yield return ReadInfo(fd);
            }
        }
    }

    /// <summary>Pins the map at a bpffs path, so it outlives this process.</summary>
    /// <param name="path">A path inside a mounted bpffs, such as <c>/sys/fs/bpf/counts</c>.</param>
    public void Pin(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Bpf.ObjPin(_fd, path);
        PinnedPath = path;
    }

    /// <summary>
    /// Removes the pin this object made or was opened from (deletes the bpffs file). The map
    /// itself stays alive while this object or anything else refers to it. Does nothing when not pinned.
    /// </summary>
    public void Unpin()
    {
        if (PinnedPath is null)
        {
            return;
        }
        try
        {
            File.Delete(PinnedPath);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new BpfException($"Removing the pin of {_fd.Description} at {PinnedPath} failed: {error.Message}", error);
        }
        PinnedPath = null;
    }

    /// <summary>Re-reads the kernel's description of the map.</summary>
    public MapInfo ReadInfo() => ReadInfo(_fd);

    /// <summary>Closes the map's descriptor; the kernel frees the map when nothing else refers to it.</summary>
    public void Dispose() => _fd.Dispose();

    /// <inheritdoc />
    public override string ToString() => _fd.Description;

    internal static bool IsPerCpuType(MapType type) =>
        type is MapType.PerCpuHash or MapType.PerCpuArray or MapType.LruPerCpuHash or MapType.PerCpuCgroupStorage;

    internal static bool IsMapOfMapsType(MapType type) => type is MapType.ArrayOfMaps or MapType.HashOfMaps;

    /// <summary>Array-like maps: every index from 0 to max_entries-1 exists and keys are never deleted.</summary>
    internal static bool IsArrayType(MapType type) =>
        type is MapType.Array or MapType.PerCpuArray or MapType.ProgArray or MapType.PerfEventArray
            or MapType.CgroupArray or MapType.ArrayOfMaps or MapType.DevMap or MapType.CpuMap
            or MapType.XskMap or MapType.SockMap or MapType.ReuseportSockArray;

    internal static int ComputeValueBufferSize(MapType type, uint valueSize) =>
        IsPerCpuType(type) ? checked(PerCpuSlotSize(valueSize) * Cpus.PossibleCount) : checked((int)valueSize);

    /// <summary>The kernel copies per-CPU values in slots of round_up(value_size, 8) bytes.</summary>
    internal static int PerCpuSlotSize(uint valueSize) => checked((int)((valueSize + 7) & ~7u));

    private static FileDescriptor.Lease BorrowOrEmpty(FileDescriptor? fd) => fd is null ? default : fd.Borrow();

    private static Map Adopt(FileDescriptor fd, string what)
    {
        try
        {
            // BPF_OBJ_GET_INFO_BY_FD answers for programs, links and BTF objects too, with a
            // different layout; the descriptor's anonymous inode name tells which kind it is.
            string? kind;
            using (FileDescriptor.Lease lease = fd.Borrow())
            {
                kind = new FileInfo($"/proc/self/fd/{lease.Fd}").LinkTarget;
            }
            if (kind != "anon_inode:bpf-map")
            {
                throw new ArgumentException($"{what} is not a BPF map (it is '{kind ?? "unknown"}').", nameof(fd));
            }
            return new Map(fd, ReadInfo(fd));
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    private static unsafe MapInfo ReadInfo(FileDescriptor fd)
    {
        var layout = new MapInfoLayout();
        Bpf.GetInfo(fd, ref layout);
        return new MapInfo
        {
            Id = layout.Id,
            Type = (MapType)layout.Type,
            Name = Bpf.ReadObjectName(layout.Name),
            KeySize = layout.KeySize,
            ValueSize = layout.ValueSize,
            MaxEntries = layout.MaxEntries,
            Flags = (MapFlags)layout.MapFlags,
            Ifindex = layout.Ifindex,
            BtfId = layout.BtfId,
            BtfKeyTypeId = layout.BtfKeyTypeId,
            BtfValueTypeId = layout.BtfValueTypeId,
            BtfVmlinuxValueTypeId = layout.BtfVmlinuxValueTypeId,
            BtfVmlinuxId = layout.BtfVmlinuxId,
            MapExtra = layout.MapExtra,
        };
    }

    private static string Describe(MapInfo info) =>
        string.IsNullOrEmpty(info.Name) ? $"{info.Type} map id {info.Id}" : $"{info.Type} map '{info.Name}' (id {info.Id})";
}
