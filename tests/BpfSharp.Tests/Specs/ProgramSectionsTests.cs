using BpfSharp.Programs;
using BpfSharp.Specs;

namespace BpfSharp.Tests.Specs;

public class ProgramSectionsTests
{
    [Theory]
    [InlineData("tracepoint/syscalls/sys_enter_execve", ProgramType.Tracepoint, null, AutoAttachKind.Tracepoint, "syscalls/sys_enter_execve")]
    [InlineData("tp/exceptions/page_fault_user", ProgramType.Tracepoint, null, AutoAttachKind.Tracepoint, "exceptions/page_fault_user")]
    [InlineData("raw_tp/sched_switch", ProgramType.RawTracepoint, null, AutoAttachKind.RawTracepoint, "sched_switch")]
    [InlineData("raw_tracepoint.w/bpf_test_finish", ProgramType.RawTracepointWritable, null, AutoAttachKind.RawTracepoint, "bpf_test_finish")]
    [InlineData("tp_btf/sched_process_exec", ProgramType.Tracing, AttachType.TraceRawTp, AutoAttachKind.Trampoline, "sched_process_exec")]
    [InlineData("fentry/vfs_write", ProgramType.Tracing, AttachType.TraceFentry, AutoAttachKind.Trampoline, "vfs_write")]
    [InlineData("fexit/vfs_write", ProgramType.Tracing, AttachType.TraceFexit, AutoAttachKind.Trampoline, "vfs_write")]
    [InlineData("fmod_ret/security_file_open", ProgramType.Tracing, AttachType.ModifyReturn, AutoAttachKind.Trampoline, "security_file_open")]
    [InlineData("freplace/handler", ProgramType.Ext, null, AutoAttachKind.Trampoline, "handler")]
    [InlineData("kprobe/do_sys_openat2", ProgramType.Kprobe, null, AutoAttachKind.Kprobe, "do_sys_openat2")]
    [InlineData("kretprobe/vfs_read", ProgramType.Kprobe, null, AutoAttachKind.Kretprobe, "vfs_read")]
    [InlineData("kprobe.multi/vfs_*", ProgramType.Kprobe, AttachType.TraceKprobeMulti, AutoAttachKind.KprobeMulti, "vfs_*")]
    [InlineData("ksyscall/write", ProgramType.Kprobe, null, AutoAttachKind.Ksyscall, "write")]
    [InlineData("uprobe/libc.so.6:malloc", ProgramType.Kprobe, null, AutoAttachKind.Uprobe, "libc.so.6:malloc")]
    [InlineData("uretprobe.s//bin/bash:readline", ProgramType.Kprobe, null, AutoAttachKind.Uretprobe, "/bin/bash:readline")]
    [InlineData("uprobe.multi/libc.so.6:str*", ProgramType.Kprobe, AttachType.TraceUprobeMulti, AutoAttachKind.UprobeMulti, "libc.so.6:str*")]
    [InlineData("usdt/libc.so.6:libc:setjmp", ProgramType.Kprobe, null, AutoAttachKind.Usdt, "libc.so.6:libc:setjmp")]
    [InlineData("perf_event", ProgramType.PerfEvent, null, AutoAttachKind.None, "")]
    [InlineData("xdp", ProgramType.Xdp, AttachType.Xdp, AutoAttachKind.None, "")]
    [InlineData("xdp.frags", ProgramType.Xdp, AttachType.Xdp, AutoAttachKind.None, "")]
    [InlineData("xdp/devmap", ProgramType.Xdp, AttachType.XdpDevMap, AutoAttachKind.None, "")]
    [InlineData("xdp.frags/cpumap", ProgramType.Xdp, AttachType.XdpCpuMap, AutoAttachKind.None, "")]
    [InlineData("tc", ProgramType.SchedCls, null, AutoAttachKind.None, "")]
    [InlineData("classifier", ProgramType.SchedCls, null, AutoAttachKind.None, "")]
    [InlineData("action", ProgramType.SchedAct, null, AutoAttachKind.None, "")]
    [InlineData("tc/ingress", ProgramType.SchedCls, AttachType.TcxIngress, AutoAttachKind.None, "")]
    [InlineData("tcx/egress", ProgramType.SchedCls, AttachType.TcxEgress, AutoAttachKind.None, "")]
    [InlineData("cgroup/connect4", ProgramType.CgroupSockAddr, AttachType.CgroupInet4Connect, AutoAttachKind.None, "")]
    [InlineData("cgroup/sock", ProgramType.CgroupSock, AttachType.CgroupInetSockCreate, AutoAttachKind.None, "")]
    [InlineData("cgroup_skb/egress", ProgramType.CgroupSkb, AttachType.CgroupInetEgress, AutoAttachKind.None, "")]
    [InlineData("cgroup/getsockopt", ProgramType.CgroupSockopt, AttachType.CgroupGetSockopt, AutoAttachKind.None, "")]
    [InlineData("sockops", ProgramType.SockOps, AttachType.CgroupSockOps, AutoAttachKind.None, "")]
    [InlineData("sk_msg", ProgramType.SkMsg, AttachType.SkMsgVerdict, AutoAttachKind.None, "")]
    [InlineData("sk_skb/stream_verdict", ProgramType.SkSkb, AttachType.SkSkbStreamVerdict, AutoAttachKind.None, "")]
    [InlineData("sk_lookup", ProgramType.SkLookup, AttachType.SkLookup, AutoAttachKind.None, "")]
    [InlineData("socket", ProgramType.SocketFilter, null, AutoAttachKind.None, "")]
    [InlineData("lsm/file_open", ProgramType.Lsm, AttachType.LsmMac, AutoAttachKind.Lsm, "file_open")]
    [InlineData("lsm_cgroup/socket_bind", ProgramType.Lsm, AttachType.LsmCgroup, AutoAttachKind.None, "socket_bind")]
    [InlineData("iter/task", ProgramType.Tracing, AttachType.TraceIter, AutoAttachKind.Iterator, "task")]
    [InlineData("struct_ops/tcp_init", ProgramType.StructOps, null, AutoAttachKind.None, "tcp_init")]
    [InlineData("syscall", ProgramType.Syscall, null, AutoAttachKind.None, "")]
    [InlineData("netfilter", ProgramType.Netfilter, AttachType.Netfilter, AutoAttachKind.None, "")]
    [InlineData("flow_dissector", ProgramType.FlowDissector, AttachType.FlowDissector, AutoAttachKind.None, "")]
    [InlineData("lwt_xmit", ProgramType.LwtXmit, null, AutoAttachKind.None, "")]
    [InlineData("sk_reuseport/migrate", ProgramType.SkReuseport, AttachType.SkReuseportSelectOrMigrate, AutoAttachKind.None, "")]
    public void ResolvesLibbpfSectionNames(string section, ProgramType type, AttachType? attach, AutoAttachKind auto, string target)
    {
        SectionDefinition definition = ProgramSections.Resolve(section);
        Assert.Equal(type, definition.ProgramType);
        Assert.Equal(attach, definition.ExpectedAttachType);
        Assert.Equal(auto, definition.AutoAttach);
        Assert.Equal(target, definition.Target(section));
    }

    [Theory]
    [InlineData("uprobe.s/libc.so.6:malloc", true)]
    [InlineData("lsm.s/bprm_check_security", true)]
    [InlineData("syscall", true)]
    [InlineData("fentry/vfs_write", false)]
    public void SleepableSectionsAreSleepable(string section, bool sleepable) =>
        Assert.Equal(sleepable, ProgramSections.Resolve(section).IsSleepable);

    [Theory]
    [InlineData("xdp_prog")]          // libbpf 0.x accepted any prefix; 1.x requires the exact name or a '/'
    [InlineData("tracepointx/a/b")]
    [InlineData("kprobe_foo")]
    [InlineData("cgroup/connect7")]
    [InlineData("")]
    public void RejectsNamesLibbpfRejects(string section)
    {
        Assert.Null(ProgramSections.TryResolve(section));
        var error = Assert.Throws<BpfException>(() => ProgramSections.Resolve(section));
        Assert.Contains($"section '{section}' does not name a BPF program type", error.Message);
    }

    [Fact]
    public void UnknownSectionSuggestsNearNames()
    {
        var error = Assert.Throws<BpfException>(() => ProgramSections.Resolve("cgroup/connect7"));
        Assert.Contains("cgroup/connect4", error.Message);
    }

    [Fact]
    public void MoreSpecificEntriesComeBeforeTheirPrefixes()
    {
        // Each entry must be reachable: no earlier entry may match its own pattern text.
        foreach (SectionDefinition definition in ProgramSections.All)
        {
            string sample = definition.Pattern.TrimEnd('+');
            Assert.Same(definition, ProgramSections.TryResolve(sample));
        }
    }
}
