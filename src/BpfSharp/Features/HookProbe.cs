using System.Text;
using BpfSharp.Kernel;
using BpfSharp.Programs;

namespace BpfSharp.Features;

/// <summary>
/// Probes attach kinds. Where a file tells (a PMU in sysfs), read it; otherwise go as far as
/// BPF_LINK_CREATE with a target that cannot exist, and read how far the kernel got from its
/// error: a kernel without the kind rejects the attach type (EINVAL/EOPNOTSUPP), one with it
/// complains about the target.
/// </summary>
internal static unsafe class HookProbe
{
    internal static FeatureResult Probe(HookKind hook) => hook switch
    {
        HookKind.Kprobe => ProbeEvents("kprobe", "kprobes are not available (CONFIG_KPROBES is off: no kprobe PMU and no kprobe_events); use a tracepoint, a raw tracepoint or fentry"),
        HookKind.Uprobe => ProbeEvents("uprobe", "uprobes are not available (CONFIG_UPROBES is off: no uprobe PMU and no uprobe_events)"),
        HookKind.Tracepoint => Tracepoint(),
        HookKind.RawTracepoint => RawTracepointLink(checkLinkInfo: false),
        HookKind.PerfEvent => Both(KernelSupport.For(KernelFeature.SoftwarePerfEvents), KernelSupport.ForProgramType(ProgramType.PerfEvent)),
        HookKind.Fentry => TracingLoad(AttachType.TraceFentry),
        HookKind.Fexit => TracingLoad(AttachType.TraceFexit),
        HookKind.Lsm => KernelSupport.ForProgramType(ProgramType.Lsm),
        HookKind.KprobeMulti => KprobeMulti(AttachType.TraceKprobeMulti, "kprobe.multi links"),
        HookKind.UprobeMulti => UprobeMulti(AttachType.TraceUprobeMulti, "uprobe.multi links"),
        HookKind.UprobeSession => UprobeMulti(AttachType.TraceUprobeSession, "uprobe.session links"),
        HookKind.KprobeSession => KprobeMulti(AttachType.TraceKprobeSession, "kprobe.session links"),
        HookKind.XdpLink => XdpLink(),
        HookKind.Tcx => LinkToMissingDevice(AttachType.TcxIngress),
        HookKind.Netkit => LinkToMissingDevice(AttachType.NetkitPrimary),
        HookKind.Netfilter => Netfilter(),
        _ => throw new ArgumentOutOfRangeException(nameof(hook), hook, "not a hook kind"),
    };

    private static FeatureResult ProbeEvents(string kind, string missing)
    {
        string pmu = $"/sys/bus/event_source/devices/{kind}";
        if (Directory.Exists(pmu))
        {
            return FeatureResult.Supported($"{pmu} exists");
        }
        if (Tracefs.MountPoint() is string tracefs && File.Exists(Path.Combine(tracefs, $"{kind}_events")))
        {
            return FeatureResult.Supported($"{tracefs}/{kind}_events exists");
        }
        return FeatureResult.Unsupported(missing);
    }

    private static FeatureResult Tracepoint()
    {
        FeatureResult programs = KernelSupport.ForProgramType(ProgramType.Tracepoint);
        if (!programs.IsSupported)
        {
            return programs;
        }
        if (Tracefs.MountPoint() is not string tracefs)
        {
            return FeatureResult.Unsupported("tracepoint programs load, but tracefs is not mounted to look up tracepoint ids (mount -t tracefs tracefs /sys/kernel/tracing)");
        }
        return Directory.Exists(Path.Combine(tracefs, "events"))
            ? FeatureResult.Supported($"{tracefs}/events lists the tracepoints")
            : FeatureResult.Unsupported($"{tracefs} has no events directory (CONFIG_TRACEPOINTS or CONFIG_EVENT_TRACING is off)");
    }

    /// <summary>
    /// Attaches a program that returns 0 to the sched_switch raw tracepoint for a moment. With
    /// <paramref name="checkLinkInfo"/>, also asks for link info: kernels since 5.7 return a BPF link.
    /// </summary>
    internal static FeatureResult RawTracepointLink(bool checkLinkInfo)
    {
        FeatureResult programs = KernelSupport.ForProgramType(ProgramType.RawTracepoint);
        if (!programs.IsSupported)
        {
            return programs;
        }
        using Program program = Program.Load(new ProgramSpec
        {
            Name = "probe",
            Type = ProgramType.RawTracepoint,
            Instructions = ProgramTypeProbe.ReturnZero,
            License = "GPL",
        });
        byte[] name = Encoding.ASCII.GetBytes("sched_switch\0");
        using FileDescriptor.Lease lease = program.Fd.Borrow();
        fixed (byte* namePointer = name)
        {
            var attr = new RawTracepointAttr { Name = (ulong)namePointer, ProgFd = (uint)lease.Fd };
            int fd = Bpf.TryCall(BpfCommand.RawTracepointOpen, ref attr, out Errno errno);
            if (fd < 0)
            {
                return errno == Errno.EPERM && Errors.IsRoot
                    ? FeatureResult.Refused("BPF_RAW_TRACEPOINT_OPEN: EPERM although the process is root")
                    : FeatureResult.Unsupported($"BPF_RAW_TRACEPOINT_OPEN of sched_switch failed with {errno}");
            }
            using var link = new FileDescriptor(fd, "probe raw tracepoint link");
            if (!checkLinkInfo)
            {
                return FeatureResult.Supported("attached to sched_switch");
            }
            var info = new LinkInfoLayout();
            var infoAttr = new InfoAttr { BpfFd = (uint)fd, InfoLen = (uint)sizeof(LinkInfoLayout), Info = (ulong)&info };
            return Bpf.TryCall(BpfCommand.ObjGetInfoByFd, ref infoAttr, out Errno infoErrno) >= 0 && info.Id != 0
                ? FeatureResult.Supported($"a raw tracepoint attachment is link id {info.Id}")
                : FeatureResult.Unsupported($"a raw tracepoint attachment is not a BPF link ({infoErrno}): the kernel is older than 5.7");
        }
    }

    private static FeatureResult TracingLoad(AttachType attachType)
    {
        FeatureResult programs = KernelSupport.ForProgramType(ProgramType.Tracing);
        if (attachType == AttachType.TraceFentry || programs.Status is not FeatureStatus.Supported)
        {
            return programs; // the type probe is an fentry load
        }
        if (!ProgramTypeProbe.TryMinimalSpec(ProgramType.Tracing, ProgramTypeProbe.ReturnZero, out ProgramSpec spec, out FeatureResult impossible))
        {
            return impossible;
        }
        spec.ExpectedAttachType = attachType;
        return ProgramTypeProbe.Classify(spec);
    }

    private static FeatureResult KprobeMulti(AttachType attachType, string what)
    {
        var spec = ProbeSpec(ProgramType.Kprobe, attachType);
        // One symbol at an address no process maps: a kernel with kprobe.multi gets as far as
        // reading it and answers EFAULT; one without answers EOPNOTSUPP (no CONFIG_FPROBE) or EINVAL.
        return LinkCreate(spec, (ref LinkCreateAttr attr) =>
        {
            attr.AttachType = (uint)attachType;
            attr.KprobeMultiCount = 1;
            attr.KprobeMultiSyms = 8;
        }, Errno.EFAULT, what);
    }

    private static FeatureResult UprobeMulti(AttachType attachType, string what)
    {
        var spec = ProbeSpec(ProgramType.Kprobe, attachType);
        byte[] path = "/\0"u8.ToArray();
        ulong offset = 0;
        fixed (byte* pathPointer = path)
        {
            ulong pathAddress = (ulong)pathPointer, offsetAddress = (ulong)&offset;
            // "/" is a directory: a kernel with uprobe.multi resolves it and answers EBADF.
            return LinkCreate(spec, (ref LinkCreateAttr attr) =>
            {
                attr.AttachType = (uint)attachType;
                attr.UprobeMultiPath = pathAddress;
                attr.UprobeMultiOffsets = offsetAddress;
                attr.UprobeMultiCount = 1;
            }, Errno.EBADF, what);
        }
    }

    private static FeatureResult LinkToMissingDevice(AttachType attachType)
    {
        var spec = ProbeSpec(ProgramType.SchedCls, null);
        // Interface index 0 never exists: a kernel that knows the attach kind looks the device
        // up and answers ENODEV; one that does not rejects the attach type with EINVAL.
        return LinkCreate(spec, (ref LinkCreateAttr attr) =>
        {
            attr.AttachType = (uint)attachType;
            attr.TargetFdOrIfindex = 0;
        }, Errno.ENODEV, $"{attachType} links");
    }

    private static FeatureResult XdpLink()
    {
        var spec = ProbeSpec(ProgramType.Xdp, AttachType.Xdp);
        int loopback;
        try
        {
            loopback = NetworkInterfaces.Index("lo");
        }
        catch (BpfException error)
        {
            return FeatureResult.Failed($"XDP links: no loopback device to probe with ({error.Message})");
        }
        // Native mode on the loopback device: a kernel with XDP links gets as far as asking the
        // driver, which has no XDP, and answers EOPNOTSUPP without attaching anything; one without
        // XDP links rejects the program type in BPF_LINK_CREATE with EINVAL.
        return LinkCreate(spec, (ref LinkCreateAttr attr) =>
        {
            attr.AttachType = (uint)AttachType.Xdp;
            attr.TargetFdOrIfindex = (uint)loopback;
            attr.Flags = 1u << 2; // XDP_FLAGS_DRV_MODE
        }, Errno.EOPNOTSUPP, "XDP links");
    }

    private static FeatureResult Netfilter()
    {
        var spec = ProbeSpec(ProgramType.Netfilter, AttachType.Netfilter);
        // Protocol family 255 does not exist: the netfilter link code answers EAFNOSUPPORT.
        return LinkCreate(spec, (ref LinkCreateAttr attr) =>
        {
            attr.AttachType = (uint)AttachType.Netfilter;
            attr.NetfilterProtocolFamily = 255;
        }, Errno.EAFNOSUPPORT, "netfilter links");
    }

    private static ProgramSpec ProbeSpec(ProgramType type, AttachType? attachType) => new()
    {
        Name = "probe",
        Type = type,
        ExpectedAttachType = attachType,
        Instructions = ProgramTypeProbe.ReturnZero,
        License = "GPL",
    };

    private delegate void LinkAttributes(ref LinkCreateAttr attr);

    private static FeatureResult LinkCreate(ProgramSpec spec, LinkAttributes fill, Errno knownErrno, string what)
    {
        Program program;
        try
        {
            program = Program.Load(spec);
        }
        catch (BpfException error) when (error.Errno == Errno.EPERM)
        {
            return ProgramTypeProbe.Refusal(error);
        }
        catch (BpfException error) when (ProgramTypeProbe.IsUnknownToKernel(error.Errno))
        {
            return FeatureResult.Unsupported($"a {spec.Type} program for {what} does not load ({error.ErrnoName})");
        }
        using (program)
        {
            using FileDescriptor.Lease lease = program.Fd.Borrow();
            var attr = new LinkCreateAttr { ProgOrMapFd = (uint)lease.Fd };
            fill(ref attr);
            int fd = Bpf.TryCall(BpfCommand.LinkCreate, ref attr, out Errno errno);
            if (fd >= 0)
            {
                new FileDescriptor(fd, "probe link").Dispose();
                return FeatureResult.Supported($"{what}: a link was created");
            }
            if (errno == knownErrno)
            {
                return FeatureResult.Supported($"the kernel checked the probe's placeholder target ({errno})");
            }
            if (errno == Errno.EPERM)
            {
                return Errors.IsRoot
                    ? FeatureResult.Refused($"{what}: EPERM although the process is root")
                    : FeatureResult.Failed($"{what}: EPERM: probing needs root");
            }
            return ProgramTypeProbe.IsUnknownToKernel(errno)
                ? FeatureResult.Unsupported($"{what}: BPF_LINK_CREATE answered {errno}")
                : FeatureResult.Failed($"{what}: BPF_LINK_CREATE answered {errno}, which says neither yes nor no");
        }
    }

    private static FeatureResult Both(FeatureResult first, FeatureResult second) =>
        !first.IsSupported ? first : !second.IsSupported ? second : FeatureResult.Supported($"{first.Detail}; {second.Detail}".Trim(' ', ';'));
}
