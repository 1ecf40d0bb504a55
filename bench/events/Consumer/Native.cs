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
