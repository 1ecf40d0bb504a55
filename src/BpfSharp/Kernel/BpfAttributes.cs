using System.Runtime.InteropServices;

namespace BpfSharp.Kernel;

#pragma warning disable CS0169 // padding fields exist only to reproduce the kernel layout

// The members of `union bpf_attr` (linux/bpf.h), one struct per command group. Field order and
// natural alignment reproduce the kernel layout; pointers travel as ulong (__aligned_u64).
// Each struct covers the fields of the newest UAPI we know; the kernel accepts a larger
// attribute from user space as long as the bytes it does not know are zero.

internal unsafe struct MapCreateAttr
{
    public uint MapType, KeySize, ValueSize, MaxEntries, MapFlags, InnerMapFd, NumaNode;
    public fixed byte MapName[BpfLimits.ObjectNameLength];
    public uint MapIfindex, BtfFd, BtfKeyTypeId, BtfValueTypeId, BtfVmlinuxValueTypeId;
    public ulong MapExtra;
    public int ValueTypeBtfObjFd, MapTokenFd;
}

internal struct MapElemAttr
{
    public uint MapFd;
    public ulong Key;
    public ulong ValueOrNextKey;
    public ulong Flags;
}

internal struct MapBatchAttr
{
    public ulong InBatch, OutBatch, Keys, Values;
    public uint Count, MapFd;
    public ulong ElemFlags, Flags;
}

internal unsafe struct ProgLoadAttr
{
    public uint ProgType, InsnCount;
    public ulong Insns, License;
    public uint LogLevel, LogSize;
    public ulong LogBuf;
    public uint KernVersion, ProgFlags;
    public fixed byte ProgName[BpfLimits.ObjectNameLength];
    public uint ProgIfindex, ExpectedAttachType, ProgBtfFd, FuncInfoRecSize;
    public ulong FuncInfo;
    public uint FuncInfoCount, LineInfoRecSize;
    public ulong LineInfo;
    public uint LineInfoCount, AttachBtfId;
    public uint AttachProgFdOrBtfObjFd, CoreReloCount;
    public ulong FdArray, CoreRelos;
    public uint CoreReloRecSize, LogTrueSize;
    public int ProgTokenFd;
    public uint FdArrayCount;
}

internal struct ObjAttr
{
    public ulong Pathname;
    public uint BpfFd, FileFlags;
    public int PathFd;
}

internal struct ProgAttachAttr
{
    public uint TargetFdOrIfindex, AttachBpfFd, AttachType, AttachFlags, ReplaceBpfFd;
    public uint RelativeFdOrId;
    public ulong ExpectedRevision;
}

internal struct TestRunAttr
{
    public uint ProgFd, Retval, DataSizeIn, DataSizeOut;
    public ulong DataIn, DataOut;
    public uint Repeat, Duration, CtxSizeIn, CtxSizeOut;
    public ulong CtxIn, CtxOut;
    public uint Flags, Cpu, BatchSize;
}

internal struct GetIdAttr
{
    public uint StartOrObjectId, NextId, OpenFlags;
    public int TokenFd;
}

internal struct InfoAttr
{
    public uint BpfFd, InfoLen;
    public ulong Info;
}

internal struct QueryAttr
{
    public uint TargetFdOrIfindex, AttachType, QueryFlags, AttachFlags;
    public ulong ProgIds;
    public uint Count;
    private readonly uint _pad;
    public ulong ProgAttachFlags, LinkIds, LinkAttachFlags, Revision;
}

internal struct RawTracepointAttr
{
    public ulong Name;
    public uint ProgFd;
    private readonly uint _pad;
    public ulong Cookie;
}

internal struct BtfLoadAttr
{
    public ulong Btf, LogBuf;
    public uint BtfSize, LogSize, LogLevel, LogTrueSize, Flags;
    public int TokenFd;
}

internal struct TaskFdQueryAttr
{
    public uint Pid, Fd, Flags, BufLen;
    public ulong Buf;
    public uint ProgId, FdType;
    public ulong ProbeOffset, ProbeAddr;
}

/// <summary>BPF_LINK_CREATE: a fixed head and a per-attach-kind union at offset 16.</summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
internal struct LinkCreateAttr
{
    [FieldOffset(0)] public uint ProgOrMapFd;
    [FieldOffset(4)] public uint TargetFdOrIfindex;
    [FieldOffset(8)] public uint AttachType;
    [FieldOffset(12)] public uint Flags;

    // tracing / freplace / lsm
    [FieldOffset(16)] public uint TargetBtfId;
    [FieldOffset(24)] public ulong TracingCookie;
    // iterators
    [FieldOffset(16)] public ulong IterInfo;
    [FieldOffset(24)] public uint IterInfoLen;
    // perf events (kprobe, uprobe, tracepoint, perf_event)
    [FieldOffset(16)] public ulong PerfEventCookie;
    // kprobe.multi
    [FieldOffset(16)] public uint KprobeMultiFlags;
    [FieldOffset(20)] public uint KprobeMultiCount;
    [FieldOffset(24)] public ulong KprobeMultiSyms;
    [FieldOffset(32)] public ulong KprobeMultiAddrs;
    [FieldOffset(40)] public ulong KprobeMultiCookies;
    // netfilter
    [FieldOffset(16)] public uint NetfilterProtocolFamily;
    [FieldOffset(20)] public uint NetfilterHook;
    [FieldOffset(24)] public int NetfilterPriority;
    [FieldOffset(28)] public uint NetfilterFlags;
    // tcx, netkit, cgroup (mprog): relative program or link, expected revision
    [FieldOffset(16)] public uint RelativeFdOrId;
    [FieldOffset(24)] public ulong ExpectedRevision;
    // uprobe.multi
    [FieldOffset(16)] public ulong UprobeMultiPath;
    [FieldOffset(24)] public ulong UprobeMultiOffsets;
    [FieldOffset(32)] public ulong UprobeMultiRefCtrOffsets;
    [FieldOffset(40)] public ulong UprobeMultiCookies;
    [FieldOffset(48)] public uint UprobeMultiCount;
    [FieldOffset(52)] public uint UprobeMultiFlags;
    [FieldOffset(56)] public uint UprobeMultiPid;
    [FieldOffset(60)] public uint UprobeMultiPathFd;
}

internal struct LinkUpdateAttr
{
    public uint LinkFd, NewProgOrMapFd, Flags, OldProgOrMapFd;
}

internal struct LinkDetachAttr
{
    public uint LinkFd;
}

internal struct EnableStatsAttr
{
    public uint Type;
}

internal struct IterCreateAttr
{
    public uint LinkFd, Flags;
}

internal struct ProgBindMapAttr
{
    public uint ProgFd, MapFd, Flags;
}

/// <summary>Sizes fixed by the UAPI.</summary>
public static class BpfLimits
{
    /// <summary><c>BPF_OBJ_NAME_LEN</c>: object names hold at most 15 bytes and a NUL.</summary>
    public const int ObjectNameLength = 16;

    /// <summary><c>BPF_TAG_SIZE</c>: a program tag is 8 bytes (a truncated SHA-1 of its instructions).</summary>
    public const int TagSize = 8;
}
