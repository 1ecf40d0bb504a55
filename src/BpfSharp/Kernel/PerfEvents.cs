using System.Runtime.InteropServices;

namespace BpfSharp.Kernel;

#pragma warning disable CS0169 // padding fields exist only to reproduce the kernel layout

/// <summary><c>struct perf_event_attr</c> (linux/perf_event.h), up to PERF_ATTR_SIZE_VER8 (136 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PerfEventAttr
{
    public uint Type;
    public uint Size;
    public ulong Config;
    public ulong SamplePeriodOrFrequency;
    public ulong SampleType;
    public ulong ReadFormat;
    public ulong Flags; // the bit field: disabled, inherit, ..., freq (bit 10), ..., watermark (bit 14)
    public uint WakeupEventsOrWatermark;
    public uint BpType;
    public ulong Config1; // bp_addr, kprobe_func, uprobe_path
    public ulong Config2; // bp_len, kprobe_addr, probe_offset
    public ulong BranchSampleType;
    public ulong SampleRegsUser;
    public uint SampleStackUser;
    public int ClockId;
    public ulong SampleRegsIntr;
    public uint AuxWatermark;
    public ushort SampleMaxStack;
    private readonly ushort _reserved2;
    public uint AuxSampleSize;
    private readonly uint _reserved3;
    public ulong SigData;
    public ulong Config3;
}

/// <summary>perf_event_open(2) and the perf ioctls BPF uses.</summary>
internal static unsafe class PerfEvents
{
    internal const uint TypeHardware = 0, TypeSoftware = 1, TypeTracepoint = 2, TypeHwCache = 3, TypeRaw = 4, TypeBreakpoint = 5;

    internal const ulong FlagDisabled = 1UL << 0;
    internal const ulong FlagFrequency = 1UL << 10;
    internal const ulong FlagWatermark = 1UL << 14;

    internal const ulong SampleRaw = 1UL << 10;
    internal const ulong SoftwareBpfOutput = 10;
    internal const ulong SoftwareCpuClock = 0;

    internal const uint FlagFdCloexec = 1u << 3;

    // _IO('$', n) and _IOW('$', n, u32): type '$' = 0x24.
    internal const uint IocEnable = 0x2400, IocDisable = 0x2401;
    internal const uint IocSetBpf = 0x40042408;
    internal const uint IocQueryBpf = 0xc008240a;

    /// <summary>Opens a perf event and takes ownership of its descriptor.</summary>
    internal static FileDescriptor Open(ref PerfEventAttr attr, int pid, int cpu, int groupFd, uint flags, string description)
    {
        attr.Size = (uint)sizeof(PerfEventAttr);
        long fd;
        fixed (PerfEventAttr* p = &attr)
        {
            fd = LibC.Syscall(SyscallNumbers.PerfEventOpen, (nint)p, pid, cpu, groupFd, (nint)(flags | FlagFdCloexec));
        }
        if (fd < 0)
        {
            Errno errno = Errors.LastErrno;
            throw new BpfException("perf_event_open", errno, description, PerfHint(errno, attr.Type));
        }
        return new FileDescriptor((int)fd, description);
    }

    internal static void Ioctl(FileDescriptor fd, uint request, nint argument, string what)
    {
        using FileDescriptor.Lease lease = fd.Borrow();
        if (LibC.Ioctl(lease.Fd, request, argument) < 0)
        {
            throw Errors.FromLastError(what, fd.Description);
        }
    }

    private static string? PerfHint(Errno errno, uint type) => errno switch
    {
        Errno.ENOENT or Errno.EOPNOTSUPP when type == TypeHardware || type == TypeHwCache =>
            "this machine has no hardware performance counters (common in virtual machines); use a software event such as cpu-clock",
        Errno.ENOENT => "the kernel does not know this event (for a tracepoint, check its id in tracefs)",
        Errno.EACCES or Errno.EPERM when !Errors.IsRoot =>
            "run as root, or lower /proc/sys/kernel/perf_event_paranoid, or grant CAP_PERFMON",
        Errno.ENODEV => "the event's CPU is offline or the PMU does not exist",
        Errno.EINVAL => "the kernel rejected the event's attributes (an unsupported sample type, period or flag)",
        _ => Errors.GenericHint(errno),
    };
}
