using System.Numerics;
using BpfSharp.Kernel;

namespace BpfSharp.Maps;

/// <summary>
/// Explains a refused BPF_MAP_CREATE. The kernel decides what it accepts (so a newer kernel that
/// relaxes a rule just works); only after it refuses do we look for the per-type rule the spec
/// breaks, because EINVAL alone does not say which of a dozen fields was wrong.
/// </summary>
internal static class MapCreationRules
{
    internal static BpfException Explain(MapSpec spec, Errno errno)
    {
        string? hint = errno is Errno.EINVAL or Errno.E2BIG or Errno.ENOTSUPP or Errno.EOPNOTSUPP
            ? BrokenRule(spec, errno)
            : null;
        hint ??= Errors.CommandHint(BpfCommand.MapCreate, errno);
        return new BpfException(BpfCommands.Name(BpfCommand.MapCreate), errno, $"creating {spec}", hint);
    }

    /// <summary>The first rule of the spec's map type that the spec breaks, or null.</summary>
    internal static string? BrokenRule(MapSpec spec, Errno errno)
    {
        MapType type = spec.Type;
        if (!Enum.IsDefined(type) || type == MapType.Unspec)
        {
            return $"map type {(uint)type} is not a map type this kernel supports (nor one BpfSharp knows)";
        }
        foreach (char c in spec.Name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_' && c != '.')
            {
                return $"map names may only hold ASCII letters, digits, '_' and '.'; '{spec.Name}' has '{c}'";
            }
        }
        if (spec.Flags.HasFlag(MapFlags.ReadOnly) && spec.Flags.HasFlag(MapFlags.WriteOnly)
            || spec.Flags.HasFlag(MapFlags.ReadOnlyProgram) && spec.Flags.HasFlag(MapFlags.WriteOnlyProgram))
        {
            return "a map cannot be both read-only and write-only";
        }
        if (spec.Flags.HasFlag(MapFlags.Mmapable) && type is not (MapType.Array or MapType.Arena))
        {
            return "only array and arena maps can be memory-mapped (BPF_F_MMAPABLE)";
        }
        if (RequiresBtf(type) && (spec.Btf is null || spec.BtfKeyTypeId == 0 || spec.BtfValueTypeId == 0))
        {
            return $"{type} maps need BTF: set MapSpec.Btf to a loaded BTF object and BtfKeyTypeId/BtfValueTypeId to the key and value types (the key is an int, a socket/task/inode/cgroup descriptor)";
        }
        string? rule = type switch
        {
            MapType.RingBuf or MapType.UserRingBuf => RingBufferRule(spec),
            MapType.Queue or MapType.Stack => spec.KeySize != 0
                ? $"{type} maps have no key: KeySize must be 0 (it is {spec.KeySize})"
                : spec.ValueSize == 0 ? $"{type} maps need a ValueSize above 0" : null,
            MapType.BloomFilter => spec.KeySize != 0
                ? $"bloom filter maps have no key: KeySize must be 0 (it is {spec.KeySize})"
                : spec.ValueSize == 0 ? "bloom filter maps need a ValueSize above 0"
                : spec.MaxEntries == 0 ? "bloom filter maps need MaxEntries above 0 (the expected number of values)"
                : spec.MapExtra > 15 ? $"the low 4 bits of MapExtra are the number of hash functions (at most 15); {spec.MapExtra} is too large"
                : null,
            MapType.LpmTrie => !spec.Flags.HasFlag(MapFlags.NoPrealloc)
                ? "LPM trie maps must be created with MapFlags.NoPrealloc"
                : spec.KeySize <= 4 || spec.KeySize > 4 + 256
                    ? $"LPM trie keys are a 4-byte prefix length followed by 1 to 256 data bytes: KeySize must be 5..260 (it is {spec.KeySize})"
                    : spec.ValueSize == 0 ? "LPM trie maps need a ValueSize above 0" : null,
            MapType.ArrayOfMaps or MapType.HashOfMaps => spec.InnerMap is null
                ? $"{type} maps need an inner map: set MapSpec.InnerMap to the spec of the maps it will hold"
                : spec.ValueSize != 4 ? $"{type} values are 4-byte map descriptors: ValueSize must be 4 (it is {spec.ValueSize})"
                : type == MapType.ArrayOfMaps && spec.KeySize != 4 ? $"array keys are 4-byte indexes: KeySize must be 4 (it is {spec.KeySize})"
                : spec.InnerMap.Type is MapType.ProgArray or MapType.StructOps or MapType.CgroupStorage or MapType.PerCpuCgroupStorage
                    ? $"{spec.InnerMap.Type} maps cannot be inner maps"
                : Map.IsMapOfMapsType(spec.InnerMap.Type)
                    ? "maps of maps nest one level only: the inner map cannot be a map of maps itself"
                : null,
            MapType.ProgArray or MapType.PerfEventArray or MapType.CgroupArray or MapType.XskMap => spec.KeySize != 4 || spec.ValueSize != 4
                ? $"{type} maps have 4-byte index keys and 4-byte descriptor values: KeySize and ValueSize must be 4 (they are {spec.KeySize} and {spec.ValueSize})"
                : null,
            MapType.DevMap or MapType.DevMapHash or MapType.CpuMap or MapType.SockMap or MapType.SockHash or MapType.ReuseportSockArray =>
                spec.ValueSize is not (4 or 8)
                    ? $"{type} values are 4 bytes (a descriptor or index) or 8 bytes (with a program or cookie): ValueSize is {spec.ValueSize}"
                    : type is not (MapType.DevMapHash or MapType.SockHash) && spec.KeySize != 4
                        ? $"{type} keys are 4-byte indexes: KeySize must be 4 (it is {spec.KeySize})"
                        : null,
            MapType.StackTrace => StackTraceRule(spec),
            MapType.SkStorage or MapType.InodeStorage or MapType.TaskStorage or MapType.CgrpStorage =>
                !spec.Flags.HasFlag(MapFlags.NoPrealloc) ? $"{type} maps must be created with MapFlags.NoPrealloc"
                : spec.MaxEntries != 0 ? $"{type} maps grow with their owners: MaxEntries must be 0 (it is {spec.MaxEntries})"
                : spec.KeySize != 4 ? $"{type} keys are 4-byte descriptors: KeySize must be 4 (it is {spec.KeySize})"
                : null,
            MapType.CgroupStorage or MapType.PerCpuCgroupStorage =>
                spec.MaxEntries != 0 ? $"{type} maps are sized by their attachments: MaxEntries must be 0 (it is {spec.MaxEntries})"
                : spec.KeySize is not (8 or 12) ? $"{type} keys are a cgroup id (8 bytes) or struct bpf_cgroup_storage_key (12 bytes); KeySize is {spec.KeySize}"
                : null,
            MapType.StructOps => spec.BtfVmlinuxValueTypeId == 0
                ? "struct_ops maps need BTF: BtfVmlinuxValueTypeId must name the kernel's struct bpf_struct_ops_<name> type in vmlinux BTF, KeySize 4, MaxEntries 1"
                : spec.Btf is null ? "struct_ops maps need a loaded BTF object in Btf (the program object's; the kernel checks btf_fd even though the value type is its own)"
                : null,
            MapType.Arena => !spec.Flags.HasFlag(MapFlags.Mmapable)
                ? "arena maps must be created with MapFlags.Mmapable"
                : spec.KeySize != 0 || spec.ValueSize != 0 ? "arena maps have no keys or values: KeySize and ValueSize must be 0"
                : spec.MaxEntries == 0 ? "arena maps need MaxEntries: the number of pages"
                : null,
            _ => null,
        };
        if (rule is not null)
        {
            return rule;
        }
        if (type is MapType.Array or MapType.PerCpuArray && spec.KeySize != 4)
        {
            return $"array keys are 4-byte indexes: KeySize must be 4 (it is {spec.KeySize})";
        }
        if (type is MapType.Hash or MapType.PerCpuHash or MapType.LruHash or MapType.LruPerCpuHash or MapType.HashOfMaps
            && spec.KeySize == 0)
        {
            return $"{type} maps need a KeySize above 0";
        }
        if (type is MapType.Hash or MapType.PerCpuHash or MapType.LruHash or MapType.LruPerCpuHash or MapType.Array or MapType.PerCpuArray
            && spec.ValueSize == 0)
        {
            return $"{type} maps need a ValueSize above 0";
        }
        if (spec.MaxEntries == 0 && type is not (MapType.SkStorage or MapType.InodeStorage or MapType.TaskStorage
                or MapType.CgrpStorage or MapType.CgroupStorage or MapType.PerCpuCgroupStorage or MapType.PerfEventArray))
        {
            return $"{type} maps need MaxEntries above 0";
        }
        if (spec.Flags.HasFlag(MapFlags.NoCommonLru) && type is not (MapType.LruHash or MapType.LruPerCpuHash))
        {
            return "MapFlags.NoCommonLru applies only to LRU hash maps";
        }
        if (spec.Flags.HasFlag(MapFlags.NoPrealloc) && type is MapType.LruHash or MapType.LruPerCpuHash)
        {
            return "LRU hash maps are always preallocated: remove MapFlags.NoPrealloc";
        }
        if (errno == Errno.E2BIG)
        {
            return $"a size is over the kernel's limit for {type} maps (key {spec.KeySize} B, value {spec.ValueSize} B, max_entries {spec.MaxEntries})";
        }
        if (errno == Errno.EINVAL)
        {
            // Nothing we know of is wrong: either the kernel is older than this map type (it
            // answers EINVAL for types it does not know) or it has a rule we do not check.
            return $"either this kernel predates {type} maps, or it does not accept this combination of key size {spec.KeySize}, value size {spec.ValueSize}, max_entries {spec.MaxEntries} and flags {spec.Flags}";
        }
        return null;
    }

    private static bool RequiresBtf(MapType type) =>
        type is MapType.SkStorage or MapType.InodeStorage or MapType.TaskStorage or MapType.CgrpStorage;

    private static string? RingBufferRule(MapSpec spec)
    {
        if (spec.KeySize != 0 || spec.ValueSize != 0)
        {
            return $"{spec.Type} maps have no keys or values: KeySize and ValueSize must be 0 (they are {spec.KeySize} and {spec.ValueSize})";
        }
        int page = MemoryMapping.PageSize;
        if (spec.MaxEntries < page || !BitOperations.IsPow2(spec.MaxEntries))
        {
            return $"{spec.Type} MaxEntries is the buffer size in bytes and must be a power of two and a multiple of the page size ({page}); {spec.MaxEntries} is not";
        }
        return null;
    }

    private static string? StackTraceRule(MapSpec spec)
    {
        if (spec.KeySize != 4)
        {
            return $"stack trace keys are 4-byte stack ids: KeySize must be 4 (it is {spec.KeySize})";
        }
        uint frame = spec.Flags.HasFlag(MapFlags.StackBuildId) ? (uint)StackTraceMap.BuildIdFrameSize : 8;
        if (spec.ValueSize == 0 || spec.ValueSize % frame != 0)
        {
            return $"stack trace values are arrays of {frame}-byte frames: ValueSize must be a non-zero multiple of {frame} (it is {spec.ValueSize})";
        }
        return null;
    }
}
