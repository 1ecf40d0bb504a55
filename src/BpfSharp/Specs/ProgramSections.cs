using BpfSharp.Programs;
using static BpfSharp.Specs.AutoAttachKind;
using static BpfSharp.Specs.SectionTraits;

namespace BpfSharp.Specs;

/// <summary>
/// The meaning of ELF section names of BPF programs (<c>SEC("...")</c>): the same names libbpf 1.x
/// accepts, with the same program types, expected attach types and matching rules. The first
/// entry that matches wins, so more specific names come before their prefixes.
/// </summary>
public static class ProgramSections
{
    private static readonly SectionDefinition[] Table =
    [
        Def("socket", ProgramType.SocketFilter),
        Def("sk_reuseport/migrate", ProgramType.SkReuseport, AttachType.SkReuseportSelectOrMigrate, Attachable),
        Def("sk_reuseport", ProgramType.SkReuseport, AttachType.SkReuseportSelect, Attachable),
        Def("kprobe+", ProgramType.Kprobe, auto: Kprobe),
        Def("uprobe+", ProgramType.Kprobe, auto: Uprobe),
        Def("uprobe.s+", ProgramType.Kprobe, traits: Sleepable, auto: Uprobe),
        Def("kretprobe+", ProgramType.Kprobe, auto: Kretprobe),
        Def("uretprobe+", ProgramType.Kprobe, auto: Uretprobe),
        Def("uretprobe.s+", ProgramType.Kprobe, traits: Sleepable, auto: Uretprobe),
        Def("kprobe.multi+", ProgramType.Kprobe, AttachType.TraceKprobeMulti, auto: KprobeMulti),
        Def("kretprobe.multi+", ProgramType.Kprobe, AttachType.TraceKprobeMulti, auto: KretprobeMulti),
        Def("kprobe.session+", ProgramType.Kprobe, AttachType.TraceKprobeSession, auto: KprobeSession),
        Def("uprobe.multi+", ProgramType.Kprobe, AttachType.TraceUprobeMulti, auto: UprobeMulti),
        Def("uretprobe.multi+", ProgramType.Kprobe, AttachType.TraceUprobeMulti, auto: UretprobeMulti),
        Def("uprobe.session+", ProgramType.Kprobe, AttachType.TraceUprobeSession, auto: UprobeSession),
        Def("uprobe.multi.s+", ProgramType.Kprobe, AttachType.TraceUprobeMulti, Sleepable, UprobeMulti),
        Def("uretprobe.multi.s+", ProgramType.Kprobe, AttachType.TraceUprobeMulti, Sleepable, UretprobeMulti),
        Def("uprobe.session.s+", ProgramType.Kprobe, AttachType.TraceUprobeSession, Sleepable, UprobeSession),
        Def("ksyscall+", ProgramType.Kprobe, auto: Ksyscall),
        Def("kretsyscall+", ProgramType.Kprobe, auto: Kretsyscall),
        Def("usdt+", ProgramType.Kprobe, traits: SectionTraits.Usdt, auto: AutoAttachKind.Usdt),
        Def("usdt.s+", ProgramType.Kprobe, traits: SectionTraits.Usdt | Sleepable, auto: AutoAttachKind.Usdt),
        // tc/ingress and tc/egress are the tcx hooks; bare tc, classifier and action are the legacy cls_bpf/act_bpf ones.
        Def("tc/ingress", ProgramType.SchedCls, AttachType.TcxIngress),
        Def("tc/egress", ProgramType.SchedCls, AttachType.TcxEgress),
        Def("tcx/ingress", ProgramType.SchedCls, AttachType.TcxIngress),
        Def("tcx/egress", ProgramType.SchedCls, AttachType.TcxEgress),
        Def("tc", ProgramType.SchedCls),
        Def("classifier", ProgramType.SchedCls),
        Def("action", ProgramType.SchedAct),
        Def("netkit/primary", ProgramType.SchedCls, AttachType.NetkitPrimary),
        Def("netkit/peer", ProgramType.SchedCls, AttachType.NetkitPeer),
        Def("tracepoint+", ProgramType.Tracepoint, auto: Tracepoint),
        Def("tp+", ProgramType.Tracepoint, auto: Tracepoint),
        Def("tracepoint.s+", ProgramType.Tracepoint, traits: Sleepable, auto: Tracepoint),
        Def("tp.s+", ProgramType.Tracepoint, traits: Sleepable, auto: Tracepoint),
        Def("raw_tracepoint+", ProgramType.RawTracepoint, auto: RawTracepoint),
        Def("raw_tp+", ProgramType.RawTracepoint, auto: RawTracepoint),
        Def("raw_tracepoint.s+", ProgramType.RawTracepoint, traits: Sleepable, auto: RawTracepoint),
        Def("raw_tp.s+", ProgramType.RawTracepoint, traits: Sleepable, auto: RawTracepoint),
        Def("raw_tracepoint.w+", ProgramType.RawTracepointWritable, auto: RawTracepoint),
        Def("raw_tp.w+", ProgramType.RawTracepointWritable, auto: RawTracepoint),
        Def("tp_btf+", ProgramType.Tracing, AttachType.TraceRawTp, AttachByBtf, Trampoline),
        Def("tp_btf.s+", ProgramType.Tracing, AttachType.TraceRawTp, AttachByBtf | Sleepable, Trampoline),
        Def("fentry+", ProgramType.Tracing, AttachType.TraceFentry, AttachByBtf, Trampoline),
        Def("fmod_ret+", ProgramType.Tracing, AttachType.ModifyReturn, AttachByBtf, Trampoline),
        Def("fexit+", ProgramType.Tracing, AttachType.TraceFexit, AttachByBtf, Trampoline),
        Def("fentry.s+", ProgramType.Tracing, AttachType.TraceFentry, AttachByBtf | Sleepable, Trampoline),
        Def("fmod_ret.s+", ProgramType.Tracing, AttachType.ModifyReturn, AttachByBtf | Sleepable, Trampoline),
        Def("fexit.s+", ProgramType.Tracing, AttachType.TraceFexit, AttachByBtf | Sleepable, Trampoline),
        Def("fsession+", ProgramType.Tracing, AttachType.TraceFsession, AttachByBtf, Trampoline),
        Def("fsession.s+", ProgramType.Tracing, AttachType.TraceFsession, AttachByBtf | Sleepable, Trampoline),
        Def("fsession.multi+", ProgramType.Tracing, AttachType.TraceFsessionMulti, auto: TrampolineMulti),
        Def("fsession.multi.s+", ProgramType.Tracing, AttachType.TraceFsessionMulti, Sleepable, TrampolineMulti),
        Def("fentry.multi+", ProgramType.Tracing, AttachType.TraceFentryMulti, auto: TrampolineMulti),
        Def("fexit.multi+", ProgramType.Tracing, AttachType.TraceFexitMulti, auto: TrampolineMulti),
        Def("fentry.multi.s+", ProgramType.Tracing, AttachType.TraceFentryMulti, Sleepable, TrampolineMulti),
        Def("fexit.multi.s+", ProgramType.Tracing, AttachType.TraceFexitMulti, Sleepable, TrampolineMulti),
        Def("freplace+", ProgramType.Ext, traits: AttachByBtf, auto: Trampoline),
        Def("lsm+", ProgramType.Lsm, AttachType.LsmMac, AttachByBtf, Lsm),
        Def("lsm.s+", ProgramType.Lsm, AttachType.LsmMac, AttachByBtf | Sleepable, Lsm),
        Def("lsm_cgroup+", ProgramType.Lsm, AttachType.LsmCgroup, AttachByBtf),
        Def("iter+", ProgramType.Tracing, AttachType.TraceIter, AttachByBtf, Iterator),
        Def("iter.s+", ProgramType.Tracing, AttachType.TraceIter, AttachByBtf | Sleepable, Iterator),
        Def("syscall", ProgramType.Syscall, traits: Sleepable),
        Def("xdp.frags/devmap", ProgramType.Xdp, AttachType.XdpDevMap, XdpFrags),
        Def("xdp/devmap", ProgramType.Xdp, AttachType.XdpDevMap, Attachable),
        Def("xdp.frags/cpumap", ProgramType.Xdp, AttachType.XdpCpuMap, XdpFrags),
        Def("xdp/cpumap", ProgramType.Xdp, AttachType.XdpCpuMap, Attachable),
        Def("xdp.frags", ProgramType.Xdp, AttachType.Xdp, XdpFrags),
        Def("xdp", ProgramType.Xdp, AttachType.Xdp, Attachable | AttachTypeOptional),
        Def("perf_event", ProgramType.PerfEvent),
        Def("lwt_in", ProgramType.LwtIn),
        Def("lwt_out", ProgramType.LwtOut),
        Def("lwt_xmit", ProgramType.LwtXmit),
        Def("lwt_seg6local", ProgramType.LwtSeg6Local),
        Def("sockops", ProgramType.SockOps, AttachType.CgroupSockOps, Attachable | AttachTypeOptional),
        Def("sk_skb/stream_parser", ProgramType.SkSkb, AttachType.SkSkbStreamParser, Attachable | AttachTypeOptional),
        Def("sk_skb/stream_verdict", ProgramType.SkSkb, AttachType.SkSkbStreamVerdict, Attachable | AttachTypeOptional),
        Def("sk_skb/verdict", ProgramType.SkSkb, AttachType.SkSkbVerdict, Attachable | AttachTypeOptional),
        Def("sk_skb", ProgramType.SkSkb),
        Def("sk_msg", ProgramType.SkMsg, AttachType.SkMsgVerdict, Attachable | AttachTypeOptional),
        Def("lirc_mode2", ProgramType.LircMode2, AttachType.LircMode2, Attachable | AttachTypeOptional),
        Def("flow_dissector", ProgramType.FlowDissector, AttachType.FlowDissector, Attachable | AttachTypeOptional),
        Def("cgroup_skb/ingress", ProgramType.CgroupSkb, AttachType.CgroupInetIngress, Attachable | AttachTypeOptional),
        Def("cgroup_skb/egress", ProgramType.CgroupSkb, AttachType.CgroupInetEgress, Attachable | AttachTypeOptional),
        Def("cgroup/skb", ProgramType.CgroupSkb),
        Def("cgroup/sock_create", ProgramType.CgroupSock, AttachType.CgroupInetSockCreate, Attachable),
        Def("cgroup/sock_release", ProgramType.CgroupSock, AttachType.CgroupInetSockRelease, Attachable),
        Def("cgroup/sock", ProgramType.CgroupSock, AttachType.CgroupInetSockCreate, Attachable | AttachTypeOptional),
        Def("cgroup/post_bind4", ProgramType.CgroupSock, AttachType.CgroupInet4PostBind, Attachable),
        Def("cgroup/post_bind6", ProgramType.CgroupSock, AttachType.CgroupInet6PostBind, Attachable),
        Def("cgroup/bind4", ProgramType.CgroupSockAddr, AttachType.CgroupInet4Bind, Attachable),
        Def("cgroup/bind6", ProgramType.CgroupSockAddr, AttachType.CgroupInet6Bind, Attachable),
        Def("cgroup/connect4", ProgramType.CgroupSockAddr, AttachType.CgroupInet4Connect, Attachable),
        Def("cgroup/connect6", ProgramType.CgroupSockAddr, AttachType.CgroupInet6Connect, Attachable),
        Def("cgroup/connect_unix", ProgramType.CgroupSockAddr, AttachType.CgroupUnixConnect, Attachable),
        Def("cgroup/sendmsg4", ProgramType.CgroupSockAddr, AttachType.CgroupUdp4SendMsg, Attachable),
        Def("cgroup/sendmsg6", ProgramType.CgroupSockAddr, AttachType.CgroupUdp6SendMsg, Attachable),
        Def("cgroup/sendmsg_unix", ProgramType.CgroupSockAddr, AttachType.CgroupUnixSendMsg, Attachable),
        Def("cgroup/recvmsg4", ProgramType.CgroupSockAddr, AttachType.CgroupUdp4RecvMsg, Attachable),
        Def("cgroup/recvmsg6", ProgramType.CgroupSockAddr, AttachType.CgroupUdp6RecvMsg, Attachable),
        Def("cgroup/recvmsg_unix", ProgramType.CgroupSockAddr, AttachType.CgroupUnixRecvMsg, Attachable),
        Def("cgroup/getpeername4", ProgramType.CgroupSockAddr, AttachType.CgroupInet4GetPeerName, Attachable),
        Def("cgroup/getpeername6", ProgramType.CgroupSockAddr, AttachType.CgroupInet6GetPeerName, Attachable),
        Def("cgroup/getpeername_unix", ProgramType.CgroupSockAddr, AttachType.CgroupUnixGetPeerName, Attachable),
        Def("cgroup/getsockname4", ProgramType.CgroupSockAddr, AttachType.CgroupInet4GetSockName, Attachable),
        Def("cgroup/getsockname6", ProgramType.CgroupSockAddr, AttachType.CgroupInet6GetSockName, Attachable),
        Def("cgroup/getsockname_unix", ProgramType.CgroupSockAddr, AttachType.CgroupUnixGetSockName, Attachable),
        Def("cgroup/sysctl", ProgramType.CgroupSysctl, AttachType.CgroupSysctl, Attachable),
        Def("cgroup/getsockopt", ProgramType.CgroupSockopt, AttachType.CgroupGetSockopt, Attachable),
        Def("cgroup/setsockopt", ProgramType.CgroupSockopt, AttachType.CgroupSetSockopt, Attachable),
        Def("cgroup/dev", ProgramType.CgroupDevice, AttachType.CgroupDevice, Attachable | AttachTypeOptional),
        Def("struct_ops+", ProgramType.StructOps),
        Def("struct_ops.s+", ProgramType.StructOps, traits: Sleepable),
        Def("sk_lookup", ProgramType.SkLookup, AttachType.SkLookup, Attachable),
        Def("netfilter", ProgramType.Netfilter, AttachType.Netfilter),
    ];

    /// <summary>Every section definition, in matching order.</summary>
    public static IReadOnlyList<SectionDefinition> All => Table;

    /// <summary>The definition for a section name, or null when no program type uses that name.</summary>
    public static SectionDefinition? TryResolve(string sectionName)
    {
        foreach (SectionDefinition definition in Table)
        {
            if (definition.Matches(sectionName))
            {
                return definition;
            }
        }
        return null;
    }

    /// <summary>The definition for a section name.</summary>
    /// <exception cref="BpfException">No program type uses that name; the message suggests the nearest ones.</exception>
    public static SectionDefinition Resolve(string sectionName) =>
        TryResolve(sectionName) ?? throw new BpfException(UnknownSection(sectionName));

    private static string UnknownSection(string sectionName)
    {
        // Suggest the names sharing the longest prefix with what was written.
        var near = Table
            .Select(d => d.Pattern.TrimEnd('+'))
            .Distinct()
            .Select(p => (Pattern: p, Shared: sectionName.AsSpan().CommonPrefixLength(p)))
            .Where(c => c.Shared >= 2)
            .OrderByDescending(c => c.Shared)
            .Take(5)
            .Select(c => c.Pattern)
            .ToList();
        string suggestion = near.Count > 0
            ? $"similar names: {string.Join(", ", near)}"
            : "common ones: tracepoint/SYSTEM/EVENT, raw_tp/EVENT, tp_btf/EVENT, kprobe/FUNC, uprobe/PATH:FUNC, usdt/PATH:PROVIDER:NAME, xdp, tc/ingress, cgroup/connect4, socket, iter/TASK, perf_event";
        return $"section '{sectionName}' does not name a BPF program type (libbpf 1.x section names apply); {suggestion}";
    }

    private static SectionDefinition Def(string pattern, ProgramType type, AttachType? attach = null,
        SectionTraits traits = SectionTraits.None, AutoAttachKind auto = AutoAttachKind.None) =>
        new(pattern, type, attach, traits, auto);
}
