namespace BpfSharp.Kernel;

#pragma warning disable CS0169 // padding fields exist only to reproduce the kernel layout

// The structs BPF_OBJ_GET_INFO_BY_FD fills in (linux/bpf.h). The kernel copies at most the
// size we pass and reports the size it knows; fields it does not know stay zero.

internal unsafe struct ProgInfoLayout
{
    public uint Type, Id;
    public fixed byte Tag[BpfLimits.TagSize];
    public uint JitedProgLen, XlatedProgLen;
    public ulong JitedProgInsns, XlatedProgInsns;
    public ulong LoadTime;
    public uint CreatedByUid, NrMapIds;
    public ulong MapIds;
    public fixed byte Name[BpfLimits.ObjectNameLength];
    public uint Ifindex;
    public uint GplCompatibleBits;
    public ulong NetnsDev, NetnsIno;
    public uint NrJitedKsyms, NrJitedFuncLens;
    public ulong JitedKsyms, JitedFuncLens;
    public uint BtfId, FuncInfoRecSize;
    public ulong FuncInfo;
    public uint NrFuncInfo, NrLineInfo;
    public ulong LineInfo, JitedLineInfo;
    public uint NrJitedLineInfo, LineInfoRecSize, JitedLineInfoRecSize, NrProgTags;
    public ulong ProgTags;
    public ulong RunTimeNs, RunCnt, RecursionMisses;
    public uint VerifiedInsns, AttachBtfObjId, AttachBtfId;
    private readonly uint _pad;
}

internal unsafe struct MapInfoLayout
{
    public uint Type, Id, KeySize, ValueSize, MaxEntries, MapFlags;
    public fixed byte Name[BpfLimits.ObjectNameLength];
    public uint Ifindex, BtfVmlinuxValueTypeId;
    public ulong NetnsDev, NetnsIno;
    public uint BtfId, BtfKeyTypeId, BtfValueTypeId, BtfVmlinuxId;
    public ulong MapExtra;
    public ulong Hash;
    public uint HashSize;
    private readonly uint _pad;
}

internal struct BtfInfoLayout
{
    public ulong Btf;
    public uint BtfSize, Id;
    public ulong Name;
    public uint NameLen, KernelBtf;
}

/// <summary><c>struct bpf_link_info</c>: a head and a per-link-type union of 48 bytes at offset 16.</summary>
internal unsafe struct LinkInfoLayout
{
    public uint Type, Id, ProgId;
    private readonly uint _pad;
    public fixed byte Union[48];
}
