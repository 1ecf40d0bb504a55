using BpfSharp.Kernel;
using BpfSharp.Programs;
using BpfSharp.Tracing;

namespace BpfSharp.Links;

/// <summary>
/// A tracepoint program attached to a static kernel tracepoint (<c>tracepoint/SYSTEM/NAME</c>):
/// a PERF_TYPE_TRACEPOINT perf event on the tracefs event id, with the program linked to it.
/// </summary>
public sealed class TracepointLink : PerfEventLink
{
    private TracepointLink(FileDescriptor perfEvent, FileDescriptor? link, string description, ulong cookie, string system, string name)
        : base(perfEvent, link, description, cookie, null)
    {
        System = system;
        Name = name;
    }

    /// <summary>The tracepoint's subsystem, such as <c>syscalls</c>.</summary>
    public string System { get; }

    /// <summary>The tracepoint's name, such as <c>sys_enter_openat</c>.</summary>
    public string Name { get; }

    /// <summary>Attaches a tracepoint program to <paramref name="system"/>:<paramref name="name"/>.</summary>
    /// <param name="program">A tracepoint program.</param>
    /// <param name="system">The subsystem (the directory under tracefs events/).</param>
    /// <param name="name">The event.</param>
    /// <param name="cookie">A BPF cookie for bpf_get_attach_cookie (kernels since 5.15).</param>
    /// <exception cref="BpfException">The tracepoint does not exist, or the kernel refused the attachment.</exception>
    public static TracepointLink Attach(Program program, string system, string name, ulong cookie = 0)
    {
        ArgumentNullException.ThrowIfNull(program);
        ulong id = Tracefs.Default.EventId(system, name);
        string description = $"tracepoint link {system}:{name}";
        FileDescriptor perfEvent = OpenTracepointEvent(id, $"tracepoint {system}:{name} perf event");
        return Attach(program, perfEvent, cookie, description, null,
            (fd, link, text) => new TracepointLink(fd, link, text, cookie, system, name));
    }

    /// <summary>Attaches to a tracepoint written <c>SYSTEM/NAME</c> or <c>SYSTEM:NAME</c>.</summary>
    public static TracepointLink Attach(Program program, string systemAndName, ulong cookie = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(systemAndName);
        int separator = systemAndName.IndexOfAny(['/', ':']);
        if (separator <= 0 || separator == systemAndName.Length - 1)
        {
            throw new ArgumentException($"'{systemAndName}' is not SYSTEM/NAME (for example syscalls/sys_enter_openat)", nameof(systemAndName));
        }
        return Attach(program, systemAndName[..separator], systemAndName[(separator + 1)..], cookie);
    }

    /// <summary>
    /// Opens a disabled PERF_TYPE_TRACEPOINT event for a tracefs event id: for every process (pid -1, cpu 0),
    /// or, with <paramref name="pid"/>, for that process only (pid, cpu -1: a task filter needs any CPU).
    /// </summary>
    internal static FileDescriptor OpenTracepointEvent(ulong id, string description, int? pid = null)
    {
        var attr = new PerfEventAttr
        {
            Type = PerfEvents.TypeTracepoint,
            Config = id,
            SamplePeriodOrFrequency = 1,
            WakeupEventsOrWatermark = 1,
            Flags = PerfEvents.FlagDisabled,
        };
        return pid is int process and > 0
            ? PerfEvents.Open(ref attr, pid: process, cpu: -1, groupFd: -1, flags: 0, description)
            : PerfEvents.Open(ref attr, pid: -1, cpu: 0, groupFd: -1, flags: 0, description);
    }
}
