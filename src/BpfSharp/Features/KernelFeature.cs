namespace BpfSharp.Features;

/// <summary>Facts about the running kernel that BPF tools depend on.</summary>
public enum KernelFeature
{
    /// <summary>The kernel describes its own types in BTF (/sys/kernel/btf/vmlinux): needed for CO-RE, fentry and LSM.</summary>
    VmlinuxBtf,

    /// <summary>The BPF JIT compiler is on (/proc/sys/net/core/bpf_jit_enable).</summary>
    JitEnabled,

    /// <summary>Users without CAP_BPF may use bpf(2) (/proc/sys/kernel/unprivileged_bpf_disabled is 0).</summary>
    UnprivilegedBpf,

    /// <summary>tracefs is mounted, so tracepoints (and kprobe/uprobe events) can be found by name.</summary>
    Tracefs,

    /// <summary>Hardware performance counters can be opened (perf_event_open of CPU cycles).</summary>
    HardwarePerfEvents,

    /// <summary>Software perf events can be opened (perf_event_open of the cpu-clock event).</summary>
    SoftwarePerfEvents,

    /// <summary>Attachments are BPF links (file descriptors with BPF_OBJ_GET_INFO_BY_FD), available since 5.7.</summary>
    BpfLink,

    /// <summary>BPF ring buffer maps can be created (since 5.8).</summary>
    RingBuffer,

    /// <summary>Programs can read a per-attachment cookie (bpf_get_attach_cookie, since 5.15).</summary>
    BpfCookie,
}

/// <summary>Ways to attach a program to a kernel or user-space event.</summary>
public enum HookKind
{
    /// <summary>Kernel function probes (CONFIG_KPROBES): the kprobe PMU or tracefs kprobe_events.</summary>
    Kprobe,

    /// <summary>Many kernel functions in one link (BPF_TRACE_KPROBE_MULTI, needs CONFIG_FPROBE).</summary>
    KprobeMulti,

    /// <summary>User-space function probes (CONFIG_UPROBES): the uprobe PMU or tracefs uprobe_events.</summary>
    Uprobe,

    /// <summary>Many user-space locations in one link (BPF_TRACE_UPROBE_MULTI).</summary>
    UprobeMulti,

    /// <summary>uprobe.multi links run as sessions, entry and return in one program (BPF_TRACE_UPROBE_SESSION, since 6.13).</summary>
    UprobeSession,

    /// <summary>kprobe.multi links run as sessions, entry and return in one program (BPF_TRACE_KPROBE_SESSION, since 6.10).</summary>
    KprobeSession,

    /// <summary>Static kernel tracepoints through perf events (tracefs events and tracepoint programs).</summary>
    Tracepoint,

    /// <summary>Raw tracepoints: tracepoint arguments without the perf layer (BPF_RAW_TRACEPOINT_OPEN).</summary>
    RawTracepoint,

    /// <summary>Perf event programs on software events (sampling on cpu-clock).</summary>
    PerfEvent,

    /// <summary>fentry: a BPF trampoline at a kernel function's entry.</summary>
    Fentry,

    /// <summary>fexit: a BPF trampoline at a kernel function's return.</summary>
    Fexit,

    /// <summary>BPF LSM hooks (CONFIG_BPF_LSM and "bpf" in the lsm= list).</summary>
    Lsm,

    /// <summary>tc programs attached as links (tcx, since 6.6).</summary>
    Tcx,

    /// <summary>XDP programs attached as links (BPF_LINK_CREATE with BPF_XDP, since 5.9); older kernels attach through netlink.</summary>
    XdpLink,

    /// <summary>Programs attached to netkit devices (since 6.7).</summary>
    Netkit,

    /// <summary>Netfilter hooks as BPF links (since 6.4).</summary>
    Netfilter,
}
