using BpfSharp.Kernel;
using BpfSharp.Maps;

namespace BpfSharp.Features;

/// <summary>Probes map types by creating the smallest map each type accepts, then closing it.</summary>
internal static unsafe class MapTypeProbe
{
    private const uint NoPrealloc = 1u << 0;  // BPF_F_NO_PREALLOC
    private const uint Mmapable = 1u << 10;   // BPF_F_MMAPABLE

    internal static FeatureResult Probe(MapType type)
    {
        var attr = new MapCreateAttr { MapType = (uint)type, KeySize = 4, ValueSize = 4, MaxEntries = 1 };
        Bpf.WriteObjectName("probe", attr.MapName);
        FileDescriptor? inner = null, btf = null;
        try
        {
            switch (type)
            {
                case MapType.StackTrace:
                    attr.ValueSize = 8; // one u64 instruction pointer per frame
                    break;
                case MapType.LpmTrie:
                    attr.KeySize = 8; // u32 prefix length + 4 bytes of data
                    attr.MapFlags = NoPrealloc;
                    break;
                case MapType.CgroupStorage or MapType.PerCpuCgroupStorage:
                    attr.KeySize = 8; // the u64 cgroup inode id form of bpf_cgroup_storage_key
                    attr.MaxEntries = 0;
                    break;
                case MapType.Queue or MapType.Stack or MapType.BloomFilter:
                    attr.KeySize = 0;
                    break;
                case MapType.RingBuf or MapType.UserRingBuf:
                    attr.KeySize = 0;
                    attr.ValueSize = 0;
                    attr.MaxEntries = (uint)Environment.SystemPageSize;
                    break;
                case MapType.Arena:
                    attr.KeySize = 0;
                    attr.ValueSize = 0;
                    attr.MaxEntries = 1; // pages
                    attr.MapFlags = Mmapable;
                    break;
                case MapType.InsnArray:
                    attr.ValueSize = 16; // struct bpf_insn_array_value
                    break;
                case MapType.ArrayOfMaps or MapType.HashOfMaps:
                    var innerAttr = new MapCreateAttr { MapType = (uint)MapType.Array, KeySize = 4, ValueSize = 4, MaxEntries = 1 };
                    inner = Bpf.CallForFd(BpfCommand.MapCreate, ref innerAttr, "inner map for probing map-in-map");
                    attr.InnerMapFd = (uint)inner.DangerousGetHandle();
                    break;
                case MapType.SkStorage or MapType.InodeStorage or MapType.TaskStorage or MapType.CgrpStorage:
                    // Local storage maps must describe key and value in BTF; the key is an int (an fd).
                    try
                    {
                        btf = ProbeBtf.LoadIntType();
                    }
                    catch (BpfException error)
                    {
                        return FeatureResult.Failed($"needs BTF, and loading a minimal BTF blob failed: {error.Message}");
                    }
                    attr.BtfFd = (uint)btf.DangerousGetHandle();
                    attr.BtfKeyTypeId = ProbeBtf.IntTypeId;
                    attr.BtfValueTypeId = ProbeBtf.IntTypeId;
                    attr.MapFlags = NoPrealloc;
                    attr.MaxEntries = 0;
                    break;
                case MapType.StructOps:
                    // No kernel struct has BTF id 1: a kernel that knows struct_ops maps answers
                    // ENOTSUPP for it, one that does not answers EINVAL.
                    attr.ValueSize = 256;
                    attr.BtfVmlinuxValueTypeId = 1;
                    break;
            }

            int fd = Bpf.TryCall(BpfCommand.MapCreate, ref attr, out Errno errno);
            if (fd >= 0)
            {
                new FileDescriptor(fd, "probe map").Dispose();
                return FeatureResult.Supported();
            }
            return errno switch
            {
                Errno.ENOTSUPP when type == MapType.StructOps => FeatureResult.Supported("known (ENOTSUPP for the placeholder struct type)"),
                Errno.EPERM when Errors.IsRoot => FeatureResult.Refused("EPERM although the process is root: the kernel refuses this map type here"),
                Errno.EPERM => FeatureResult.Failed("EPERM: probing needs root (or CAP_BPF)"),
                _ when ProgramTypeProbe.IsUnknownToKernel(errno) =>
                    FeatureResult.Unsupported($"{errno} from BPF_MAP_CREATE: the kernel does not know this map type or the settings it needs"),
                _ => FeatureResult.Failed($"BPF_MAP_CREATE failed with {errno}"),
            };
        }
        finally
        {
            inner?.Dispose();
            btf?.Dispose();
        }
    }
}
