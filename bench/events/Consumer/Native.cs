using System.Runtime.InteropServices;

namespace BpfSharp.Bench.Events;

/// <summary>
/// What the benchmark itself needs from libc and the library does not offer (nor should): thread
/// pinning, per-thread CPU time and the getppid system call the workload counts.
/// </summary>
internal static unsafe partial class Native
{
    private const int RusageThread = 1;
    private const long SysGetppid = 110; // x86-64

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number);

    [LibraryImport("libc", EntryPoint = "sched_setaffinity", SetLastError = true)]
    private static partial int SchedSetAffinity(int pid, nuint size, ulong* mask);

    [LibraryImport("libc", EntryPoint = "getrusage", SetLastError = true)]
    private static partial int GetRusage(int who, long* usage);

    [LibraryImport("libc", EntryPoint = "getpid")]
    internal static partial int GetPid();

    /// <summary>Pins the calling thread to <paramref name="cpu"/>.</summary>
    internal static void Pin(int cpu)
    {
        ulong mask = 1UL << cpu;
        if (SchedSetAffinity(0, sizeof(ulong), &mask) != 0)
        {
            throw new InvalidOperationException($"sched_setaffinity(CPU {cpu}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>getppid through syscall(2), as the reference does (glibc would not cache it either).</summary>
    internal static void GetParentPid() => Syscall(SysGetppid);

    /// <summary>User plus system CPU seconds of the calling thread (RUSAGE_THREAD).</summary>
    internal static double ThreadCpuSeconds()
    {
        long* usage = stackalloc long[18]; // struct rusage: two timevals, then 14 longs
        if (GetRusage(RusageThread, usage) != 0)
        {
            throw new InvalidOperationException($"getrusage failed: errno {Marshal.GetLastPInvokeError()}");
        }
        return usage[0] + usage[2] + (usage[1] + usage[3]) / 1e6;
    }
}

/// <summary>Attaches a program to a tracepoint the way libbpf's legacy path does (perf_event_open + PERF_EVENT_IOC_SET_BPF).</summary>
internal sealed unsafe partial class TracepointAttachment : IDisposable
{
    private const long SysPerfEventOpen = 298, SysClose = 3;
    private const uint IocEnable = 0x2400, IocSetBpf = 0x40042408;
    private readonly int _fd;

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, nint a1, nint a2, nint a3, nint a4, nint a5);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int Ioctl(int fd, nuint request, nint argument);

    internal TracepointAttachment(ulong tracepointId, BpfSharp.Kernel.FileDescriptor program)
    {
        byte* attr = stackalloc byte[136];
        new Span<byte>(attr, 136).Clear();
        *(uint*)attr = 2;              // PERF_TYPE_TRACEPOINT
        *(uint*)(attr + 4) = 136;      // size
        *(ulong*)(attr + 8) = tracepointId;
        *(ulong*)(attr + 16) = 1;      // sample_period
        *(uint*)(attr + 48) = 1;       // wakeup_events
        _fd = (int)Syscall(SysPerfEventOpen, (nint)attr, -1, 0, -1, 1 << 3 /* PERF_FLAG_FD_CLOEXEC */);
        if (_fd < 0)
        {
            throw new InvalidOperationException($"perf_event_open(tracepoint {tracepointId}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
        using var lease = program.Borrow();
        if (Ioctl(_fd, IocSetBpf, lease.Fd) != 0 || Ioctl(_fd, IocEnable, 0) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            Dispose();
            throw new InvalidOperationException($"attaching the program to tracepoint {tracepointId} failed: errno {errno}");
        }
    }

    public void Dispose() => Syscall(SysClose, _fd, 0, 0, 0, 0);
}
