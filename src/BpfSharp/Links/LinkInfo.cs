using System.Buffers.Binary;
using System.Text;
using BpfSharp.Kernel;
using BpfSharp.Programs;

namespace BpfSharp.Links;

/// <summary>
/// What the kernel reports about a BPF link (<c>struct bpf_link_info</c>): its type, id and
/// program, and in a derived record what it is attached to.
/// </summary>
/// <param name="Type">The link type.</param>
/// <param name="Id">The link's id.</param>
/// <param name="ProgramId">The id of the attached program (0 for a detached or struct_ops link).</param>
public record LinkInfo(LinkType Type, uint Id, uint ProgramId)
{
    private const int NameCapacity = 4096;

    /// <summary>Reads the info of an open link, with the names (tracepoint, iterator target, file) it has.</summary>
    internal static unsafe LinkInfo Read(FileDescriptor fd)
    {
        var info = new LinkInfoLayout();
        Bpf.GetInfo(fd, ref info);
        var type = (LinkType)info.Type;
        byte[] name = new byte[NameCapacity];
        // A second call with a buffer for the kinds that report a name.
        int namePointerOffset = -1, nameLengthOffset = -1;
        switch (type)
        {
            case LinkType.RawTracepoint:
            case LinkType.Iter:
                namePointerOffset = 0;
                nameLengthOffset = 8;
                break;
            case LinkType.PerfEvent:
                namePointerOffset = 8;
                nameLengthOffset = 16;
                break;
            case LinkType.UprobeMulti:
                namePointerOffset = 0;
                nameLengthOffset = 32;
                break;
        }
        if (namePointerOffset >= 0)
        {
            fixed (byte* buffer = name)
            {
                var withName = new LinkInfoLayout();
                if (type == LinkType.PerfEvent)
                {
                    // The perf event kind selects which union member the kernel fills; the name
                    // pointer sits at the same offset in all of them but 'event', which has none.
                    uint kind = BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(info.Union, 48));
                    if (kind == (uint)PerfEventLinkKind.Event)
                    {
                        return Decode(in info, []);
                    }
                }
                *(ulong*)(withName.Union + namePointerOffset) = (ulong)buffer;
                *(uint*)(withName.Union + nameLengthOffset) = NameCapacity;
                Bpf.GetInfo(fd, ref withName);
                int end = Array.IndexOf(name, (byte)0);
                return Decode(in withName, name.AsSpan(0, end < 0 ? name.Length : end));
            }
        }
        return Decode(in info, []);
    }

    internal static unsafe LinkInfo Decode(in LinkInfoLayout info, ReadOnlySpan<byte> nameBytes)
    {
        var type = (LinkType)info.Type;
        byte[] u;
        fixed (byte* p = info.Union)
        {
            u = new ReadOnlySpan<byte>(p, 48).ToArray();
        }
        uint U32(int offset) => BinaryPrimitives.ReadUInt32LittleEndian(u.AsSpan(offset));
        ulong U64(int offset) => BinaryPrimitives.ReadUInt64LittleEndian(u.AsSpan(offset));
        string name = Encoding.UTF8.GetString(nameBytes);
        return type switch
        {
            LinkType.RawTracepoint => new RawTracepointLinkInfo(info.Id, info.ProgId, name, U64(16)),
            LinkType.Tracing => new TracingLinkInfo(info.Id, info.ProgId, (AttachType)U32(0), U32(4), U32(8), U64(16)),
            LinkType.Cgroup => new CgroupLinkInfo(info.Id, info.ProgId, U64(0), (AttachType)U32(8)),
            LinkType.Iter => new IteratorLinkInfo(info.Id, info.ProgId, name, U32(12)),
            LinkType.Netns => new NetnsLinkInfo(info.Id, info.ProgId, U32(0), (AttachType)U32(4)),
            LinkType.Xdp => new XdpLinkInfo(info.Id, info.ProgId, (int)U32(0)),
            LinkType.StructOps => new StructOpsLinkInfo(info.Id, info.ProgId, U32(0)),
            LinkType.Netfilter => new NetfilterLinkInfo(info.Id, info.ProgId, U32(0), U32(4), (int)U32(8), U32(12)),
            LinkType.KprobeMulti => new KprobeMultiLinkInfo(info.Id, info.ProgId, U32(8), U32(12), U64(16)),
            LinkType.UprobeMulti => new UprobeMultiLinkInfo(info.Id, info.ProgId, name, U32(36), U32(40), (int)U32(44)),
            LinkType.Tcx => new TcxLinkInfo(info.Id, info.ProgId, (int)U32(0), (AttachType)U32(4)),
            LinkType.Netkit => new TcxLinkInfo(info.Id, info.ProgId, (int)U32(0), (AttachType)U32(4)) { Type = LinkType.Netkit },
            LinkType.SockMap => new SockMapLinkInfo(info.Id, info.ProgId, U32(0), (AttachType)U32(4)),
            LinkType.PerfEvent => DecodePerfEvent(info.Id, info.ProgId, (PerfEventLinkKind)U32(0), u[8..], name),
            _ => new LinkInfo(type, info.Id, info.ProgId),
        };
    }

    private static PerfEventLinkInfo DecodePerfEvent(uint id, uint programId, PerfEventLinkKind kind, byte[] u, string name)
    {
        uint U32(int offset) => BinaryPrimitives.ReadUInt32LittleEndian(u.AsSpan(offset));
        ulong U64(int offset) => BinaryPrimitives.ReadUInt64LittleEndian(u.AsSpan(offset));
        return kind switch
        {
            PerfEventLinkKind.Uprobe or PerfEventLinkKind.Uretprobe =>
                new PerfEventLinkInfo(id, programId, kind, name, U32(12), 0, U64(16), 0, 0) { ReferenceCounterOffset = U64(24) },
            PerfEventLinkKind.Kprobe or PerfEventLinkKind.Kretprobe =>
                new PerfEventLinkInfo(id, programId, kind, name, U32(12), U64(16), U64(32), 0, 0) { Missed = U64(24) },
            PerfEventLinkKind.Tracepoint => new PerfEventLinkInfo(id, programId, kind, name, 0, 0, U64(16), 0, 0),
            PerfEventLinkKind.Event => new PerfEventLinkInfo(id, programId, kind, "", 0, 0, U64(16), U32(8), U64(0)),
            _ => new PerfEventLinkInfo(id, programId, kind, name, 0, 0, 0, 0, 0),
        };
    }
}

/// <summary>A raw tracepoint link.</summary>
/// <param name="Id">The link's id.</param>
/// <param name="ProgramId">The attached program.</param>
/// <param name="TracepointName">The raw tracepoint, such as <c>sys_enter</c>.</param>
/// <param name="Cookie">The BPF cookie given at attach time.</param>
public sealed record RawTracepointLinkInfo(uint Id, uint ProgramId, string TracepointName, ulong Cookie)
    : LinkInfo(LinkType.RawTracepoint, Id, ProgramId);

/// <summary>A BPF trampoline link (tp_btf, fentry, fexit, fmod_ret, freplace, LSM).</summary>
/// <param name="Id">The link's id.</param>
/// <param name="ProgramId">The attached program.</param>
/// <param name="AttachType">The trampoline kind.</param>
/// <param name="TargetObjectId">The BTF object id of the target (the program id for freplace).</param>
/// <param name="TargetBtfId">The target's BTF type id in that object.</param>
/// <param name="Cookie">The BPF cookie given at attach time.</param>
public sealed record TracingLinkInfo(uint Id, uint ProgramId, AttachType AttachType, uint TargetObjectId, uint TargetBtfId, ulong Cookie)
    : LinkInfo(LinkType.Tracing, Id, ProgramId);

/// <summary>A cgroup link.</summary>
/// <param name="Id">The link's id.</param>
/// <param name="ProgramId">The attached program.</param>
/// <param name="CgroupId">The cgroup's id (its directory's inode number on cgroup v2).</param>
/// <param name="AttachType">The cgroup hook.</param>
public sealed record CgroupLinkInfo(uint Id, uint ProgramId, ulong CgroupId, AttachType AttachType)
    : LinkInfo(LinkType.Cgroup, Id, ProgramId);

/// <summary>An iterator link.</summary>
/// <param name="Id">The link's id.</param>
/// <param name="ProgramId">The attached program.</param>
/// <param name="TargetName">The iterator target, such as <c>task</c> or <c>bpf_map_elem</c>.</param>
/// <param name="MapId">For map iterators, the map iterated over; otherwise 0.</param>
public sealed record IteratorLinkInfo(uint Id, uint ProgramId, string TargetName, uint MapId)
    : LinkInfo(LinkType.Iter, Id, ProgramId);

/// <summary>A network namespace link (sk_lookup, flow_dissector).</summary>
/// <param name="Id">The link's id.</param>
/// <param name="ProgramId">The attached program.</param>
/// <param name="NetnsInode">The namespace's inode number (as in /proc/PID/ns/net).</param>
/// <param name="AttachType">The hook.</param>
public sealed record NetnsLinkInfo(uint Id, uint ProgramId, uint NetnsInode, AttachType AttachType)
    : LinkInfo(LinkType.Netns, Id, ProgramId);

/// <summary>An XDP link.</summary>
/// <param name="Id">The link's id.</param>
/// <param name="ProgramId">The attached program.</param>
/// <param name="Ifindex">The network interface.</param>
public sealed record XdpLinkInfo(uint Id, uint ProgramId, int Ifindex) : LinkInfo(LinkType.Xdp, Id, ProgramId);

/// <summary>A struct_ops link.</summary>
/// <param name="Id">The link's id.</param>
/// <param name="ProgramId">0: struct_ops links carry a map, not a program.</param>
/// <param name="MapId">The struct_ops map registered.</param>
public sealed record StructOpsLinkInfo(uint Id, uint ProgramId, uint MapId) : LinkInfo(LinkType.StructOps, Id, ProgramId);

/// <summary>A netfilter link.</summary>
/// <param name="Id">The link's id.</param>
/// <param name="ProgramId">The attached program.</param>
/// <param name="ProtocolFamily">NFPROTO_IPV4 (2) or NFPROTO_IPV6 (10).</param>
/// <param name="Hook">The hook number (NF_INET_PRE_ROUTING 0 ... NF_INET_POST_ROUTING 4).</param>
/// <param name="Priority">The hook priority.</param>
/// <param name="Flags">Link flags (BPF_F_NETFILTER_IP_DEFRAG).</param>
public sealed record NetfilterLinkInfo(uint Id, uint ProgramId, uint ProtocolFamily, uint Hook, int Priority, uint Flags)
    : LinkInfo(LinkType.Netfilter, Id, ProgramId);

/// <summary>A kprobe.multi link.</summary>
/// <param name="Id">The link's id.</param>
/// <param name="ProgramId">The attached program.</param>
/// <param name="Count">How many functions it probes.</param>
/// <param name="Flags">BPF_F_KPROBE_MULTI_RETURN for return probes.</param>
/// <param name="Missed">How many hits were missed.</param>
public sealed record KprobeMultiLinkInfo(uint Id, uint ProgramId, uint Count, uint Flags, ulong Missed)
    : LinkInfo(LinkType.KprobeMulti, Id, ProgramId);

/// <summary>A uprobe.multi link.</summary>
/// <param name="Id">The link's id.</param>
/// <param name="ProgramId">The attached program.</param>
/// <param name="Path">The probed file.</param>
/// <param name="Count">How many locations it probes.</param>
/// <param name="Flags">BPF_F_UPROBE_MULTI_RETURN for return probes.</param>
/// <param name="Pid">The process filter, or 0.</param>
public sealed record UprobeMultiLinkInfo(uint Id, uint ProgramId, string Path, uint Count, uint Flags, int Pid)
    : LinkInfo(LinkType.UprobeMulti, Id, ProgramId);

/// <summary>A tcx (or netkit) link.</summary>
/// <param name="Id">The link's id.</param>
/// <param name="ProgramId">The attached program.</param>
/// <param name="Ifindex">The network interface.</param>
/// <param name="AttachType">Ingress or egress (primary or peer for netkit).</param>
public sealed record TcxLinkInfo(uint Id, uint ProgramId, int Ifindex, AttachType AttachType)
    : LinkInfo(LinkType.Tcx, Id, ProgramId);

/// <summary>A sockmap link (sk_msg/sk_skb programs attached to a map as a link).</summary>
/// <param name="Id">The link's id.</param>
/// <param name="ProgramId">The attached program.</param>
/// <param name="MapId">The sockmap or sockhash.</param>
/// <param name="AttachType">The sockmap hook.</param>
public sealed record SockMapLinkInfo(uint Id, uint ProgramId, uint MapId, AttachType AttachType)
    : LinkInfo(LinkType.SockMap, Id, ProgramId);

/// <summary>What a perf event link is attached to (<c>enum bpf_perf_event_type</c>).</summary>
public enum PerfEventLinkKind : uint
{
    /// <summary>Unknown.</summary>
    Unspecified = 0,
    /// <summary>A uprobe.</summary>
    Uprobe = 1,
    /// <summary>A uretprobe.</summary>
    Uretprobe = 2,
    /// <summary>A kprobe.</summary>
    Kprobe = 3,
    /// <summary>A kretprobe.</summary>
    Kretprobe = 4,
    /// <summary>A tracepoint.</summary>
    Tracepoint = 5,
    /// <summary>A perf event (software or hardware counter).</summary>
    Event = 6,
}

/// <summary>A perf event link: a kprobe, uprobe, tracepoint or perf event with a program.</summary>
/// <param name="Id">The link's id.</param>
/// <param name="ProgramId">The attached program.</param>
/// <param name="Kind">What the perf event is.</param>
/// <param name="Name">The tracepoint or kernel function name, or the probed file's path.</param>
/// <param name="Offset">For probes, the offset from the function or the file offset.</param>
/// <param name="Address">For kprobes, the probed kernel address (shown to root only).</param>
/// <param name="Cookie">The BPF cookie given at attach time.</param>
/// <param name="EventType">For events, the perf type (PERF_TYPE_SOFTWARE 1, ...).</param>
/// <param name="EventConfig">For events, the perf config (PERF_COUNT_SW_CPU_CLOCK 0, ...).</param>
public sealed record PerfEventLinkInfo(uint Id, uint ProgramId, PerfEventLinkKind Kind, string Name, uint Offset, ulong Address,
    ulong Cookie, uint EventType, ulong EventConfig) : LinkInfo(LinkType.PerfEvent, Id, ProgramId)
{
    /// <summary>For uprobes, the semaphore's file offset (ref_ctr_offset), or 0.</summary>
    public ulong ReferenceCounterOffset { get; init; }

    /// <summary>For kprobes, how many hits were missed.</summary>
    public ulong Missed { get; init; }
}
