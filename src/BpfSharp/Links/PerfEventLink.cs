using BpfSharp.Kernel;
using BpfSharp.Programs;

namespace BpfSharp.Links;

/// <summary>
/// A program attached to a perf event: the mechanism under tracepoints, kprobes, uprobes and
/// perf event sampling. The perf event is tied to the program by a BPF link
/// (BPF_LINK_CREATE with BPF_PERF_EVENT, kernels since 5.15), or on older kernels by
/// PERF_EVENT_IOC_SET_BPF, in which case the attachment is not a BPF link. Owns the perf event:
/// disposing disables and closes it, which detaches the program.
/// </summary>
public class PerfEventLink : Link
{
    private static volatile bool _linksUnsupported;
    private readonly Action? _afterClose;

    private protected PerfEventLink(FileDescriptor perfEvent, FileDescriptor? link, string description, ulong cookie, Action? afterClose)
        : base(link, description)
    {
        PerfEvent = perfEvent;
        Cookie = cookie;
        _afterClose = afterClose;
    }

    /// <summary>The perf event's descriptor.</summary>
    public FileDescriptor PerfEvent { get; }

    /// <summary>The BPF cookie the program reads with bpf_get_attach_cookie (0 when none was given).</summary>
    public ulong Cookie { get; }

    /// <summary>
    /// Attaches <paramref name="program"/> to an open perf event (taking ownership of it) and
    /// enables the event.
    /// </summary>
    /// <param name="program">A program of the type the event needs: kprobe (for kprobes and uprobes), tracepoint, or perf_event.</param>
    /// <param name="perfEvent">The perf event, opened disabled; owned by the returned link (closed even when attaching fails).</param>
    /// <param name="cookie">A BPF cookie for the program (needs BPF links, kernels since 5.15).</param>
    /// <exception cref="BpfException">The kernel refused the attachment.</exception>
    public static PerfEventLink Attach(Program program, FileDescriptor perfEvent, ulong cookie = 0)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(perfEvent);
        return Attach(program, perfEvent, cookie, $"{program} on {perfEvent.Description}", null,
            (fd, link, description) => new PerfEventLink(fd, link, description, cookie, null));
    }

    internal delegate T Factory<T>(FileDescriptor perfEvent, FileDescriptor? link, string description);

    /// <summary>The shared mechanics: link (or ioctl), then enable; the perf event is closed on failure.</summary>
    internal static T Attach<T>(Program program, FileDescriptor perfEvent, ulong cookie, string description, Action? afterClose, Factory<T> create)
        where T : PerfEventLink
    {
        FileDescriptor? link = null;
        try
        {
            link = TryCreateLink(program, perfEvent, cookie, description);
            if (link is null)
            {
                if (cookie != 0)
                {
                    throw new BpfException($"attaching {description}: a BPF cookie needs perf event links (BPF_LINK_CREATE with BPF_PERF_EVENT, Linux 5.15), which this kernel lacks; attach without a cookie");
                }
                using FileDescriptor.Lease programLease = program.Fd.Borrow();
                PerfEvents.Ioctl(perfEvent, PerfEvents.IocSetBpf, programLease.Fd, $"attaching {description} (PERF_EVENT_IOC_SET_BPF)");
            }
            PerfEvents.Ioctl(perfEvent, PerfEvents.IocEnable, 0, $"enabling {perfEvent.Description}");
            T result = create(perfEvent, link, description);
            return result;
        }
        catch
        {
            link?.Dispose();
            perfEvent.Dispose();
            afterClose?.Invoke();
            throw;
        }
    }

    private static FileDescriptor? TryCreateLink(Program program, FileDescriptor perfEvent, ulong cookie, string description)
    {
        if (_linksUnsupported || LegacyAttach.IsForced)
        {
            return null;
        }
        using var borrowed = new BorrowedDescriptors();
        var attr = new LinkCreateAttr
        {
            ProgOrMapFd = (uint)borrowed.Add(program.Fd),
            TargetFdOrIfindex = (uint)borrowed.Add(perfEvent),
            AttachType = (uint)AttachType.PerfEvent,
            PerfEventCookie = cookie,
        };
        int fd = Bpf.TryCall(BpfCommand.LinkCreate, ref attr, out Errno errno);
        if (fd >= 0)
        {
            return new FileDescriptor(fd, description);
        }
        // Kernels before 5.15 do not know BPF_PERF_EVENT: EINVAL for the attach type. Anything
        // else is about this attachment, and the ioctl would fail the same way with less detail.
        if (errno == Errno.EINVAL && !KernelHasPerfLinks())
        {
            _linksUnsupported = true;
            return null;
        }
        throw new BpfException(BpfCommands.Name(BpfCommand.LinkCreate), errno, $"attaching {description}", PerfLinkHint(errno, program));
    }

    private static bool KernelHasPerfLinks() => Features.KernelSupport.For(Features.KernelFeature.BpfCookie).IsSupported;

    private static string? PerfLinkHint(Errno errno, Program program) => errno switch
    {
        Errno.EINVAL => $"the kernel refused {program.Type} programs on this perf event: kprobes and uprobes take kprobe programs, tracepoints take tracepoint programs, perf events take perf_event programs",
        Errno.EEXIST => "a program is already attached to this perf event",
        _ => Errors.CommandHint(BpfCommand.LinkCreate, errno),
    };

    private protected override void Release()
    {
        try
        {
            if (Fd is null && !PerfEvent.IsClosed)
            {
                // Legacy attachment: the program goes with the event; disable it first so no
                // sample fires between here and the close.
                using FileDescriptor.Lease lease = PerfEvent.Borrow();
                LibC.Ioctl(lease.Fd, PerfEvents.IocDisable, 0);
            }
        }
        finally
        {
            Fd?.Dispose();
            PerfEvent.Dispose();
            _afterClose?.Invoke();
        }
    }

    /// <summary>
    /// Opens a disabled kprobe or uprobe through its dynamic PMU: config1 points at the function
    /// name or file path, config2 is the offset (or kernel address), and for uprobes the upper
    /// half of config holds the semaphore's file offset (the PMU's <c>ref_ctr_offset</c> field).
    /// </summary>
    internal static unsafe FileDescriptor OpenProbeEvent(uint pmuType, string pmu, bool isReturn, string target, ulong offset,
        int pid, ulong referenceCounterOffset, string description)
    {
        byte[] targetBytes = Bpf.NullTerminated(target);
        fixed (byte* targetPointer = targetBytes)
        {
            var attr = new PerfEventAttr
            {
                Type = pmuType,
                Config = (isReturn ? 1UL << RetprobeBit(pmu) : 0) | referenceCounterOffset << 32,
                Config1 = (ulong)targetPointer,
                Config2 = offset,
                SamplePeriodOrFrequency = 1,
                WakeupEventsOrWatermark = 1,
                Flags = PerfEvents.FlagDisabled,
            };
            // A process filter needs cpu -1 (any); without one, cpu 0 and pid -1 mean every process.
            return PerfEvents.Open(ref attr, pid: pid > 0 ? pid : -1, cpu: pid > 0 ? -1 : 0, groupFd: -1, flags: 0, description);
        }
    }

    /// <summary>The PERF_TYPE of a dynamic PMU (kprobe, uprobe), or null when the kernel has none.</summary>
    internal static uint? DynamicPmuType(string pmu)
    {
        string path = $"/sys/bus/event_source/devices/{pmu}/type";
        return File.Exists(path) && uint.TryParse(File.ReadAllText(path).Trim(), out uint type) ? type : null;
    }

    /// <summary>The bit a dynamic PMU's format sets for return probes (<c>format/retprobe</c> reads <c>config:0</c>).</summary>
    internal static int RetprobeBit(string pmu)
    {
        string path = $"/sys/bus/event_source/devices/{pmu}/format/retprobe";
        if (File.Exists(path))
        {
            string text = File.ReadAllText(path).Trim();
            if (text.StartsWith("config:", StringComparison.Ordinal) && int.TryParse(text["config:".Length..], out int bit))
            {
                return bit;
            }
        }
        return 0;
    }
}
