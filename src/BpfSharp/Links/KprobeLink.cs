using System.Runtime.InteropServices;
using BpfSharp.Features;
using BpfSharp.Kernel;
using BpfSharp.Programs;

namespace BpfSharp.Links;

/// <summary>
/// A kprobe program attached to a kernel function's entry (kprobe) or return (kretprobe):
/// through the kprobe PMU (perf_event_open with the function name), or on kernels without it
/// through a tracefs kprobe_events entry that is removed again on dispose.
/// </summary>
public sealed class KprobeLink : PerfEventLink
{
    private KprobeLink(FileDescriptor perfEvent, FileDescriptor? link, string description, ulong cookie, Action? afterClose,
        string function, ulong offset, bool isReturn)
        : base(perfEvent, link, description, cookie, afterClose)
    {
        Function = function;
        Offset = offset;
        IsReturn = isReturn;
    }

    /// <summary>The probed kernel function.</summary>
    public string Function { get; }

    /// <summary>The offset into the function (0 for its entry).</summary>
    public ulong Offset { get; }

    /// <summary>True for a kretprobe.</summary>
    public bool IsReturn { get; }

    /// <summary>Attaches a kprobe program to <paramref name="function"/>.</summary>
    /// <param name="program">A kprobe program.</param>
    /// <param name="function">A kernel function, as /proc/kallsyms names it.</param>
    /// <param name="offset">An offset into the function (kprobes only).</param>
    /// <param name="isReturn">Probe the function's return (kretprobe).</param>
    /// <param name="cookie">A BPF cookie for bpf_get_attach_cookie.</param>
    /// <exception cref="BpfException">The kernel has no kprobes (the message names the missing option and the alternatives), the function cannot be probed, or the attachment was refused.</exception>
    public static KprobeLink Attach(Program program, string function, ulong offset = 0, bool isReturn = false, ulong cookie = 0)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentException.ThrowIfNullOrEmpty(function);
        if (isReturn && offset != 0)
        {
            throw new ArgumentException("a kretprobe probes the function's return: it takes no offset", nameof(offset));
        }
        string kind = isReturn ? "kretprobe" : "kprobe";
        string where = offset == 0 ? function : $"{function}+0x{offset:x}";
        string description = $"{kind} link {where}";
        if (DynamicPmuType("kprobe") is uint pmuType)
        {
            FileDescriptor perfEvent = OpenProbeEvent(pmuType, "kprobe", isReturn, function, offset, pid: -1, 0, $"{kind} {where} perf event");
            return Attach(program, perfEvent, cookie, description, null,
                (fd, link, text) => new KprobeLink(fd, link, text, cookie, null, function, offset, isReturn));
        }
        if (TracefsProbeEvent.Available("kprobe"))
        {
            TracefsProbeEvent probe = TracefsProbeEvent.Create("kprobe", isReturn, where);
            FileDescriptor perfEvent;
            try
            {
                perfEvent = TracepointLink.OpenTracepointEvent(probe.EventId, $"{kind} {where} perf event");
            }
            catch
            {
                probe.Remove();
                throw;
            }
            return Attach(program, perfEvent, cookie, description, probe.Remove,
                (fd, link, text) => new KprobeLink(fd, link, text, cookie, probe.Remove, function, offset, isReturn));
        }
        throw new BpfException($"cannot attach {program} as a {kind} on {where}: {KernelSupport.For(HookKind.Kprobe).Detail}");
    }

    /// <summary>The kernel function that implements system call <paramref name="syscall"/> on this architecture (<c>__x64_sys_openat</c>), what ksyscall/NAME probes.</summary>
    public static string SyscallFunction(string syscall) => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => $"__x64_sys_{syscall}",
        Architecture.Arm64 => $"__arm64_sys_{syscall}",
        Architecture.RiscV64 => $"__riscv_sys_{syscall}",
        _ => $"sys_{syscall}",
    };
}
