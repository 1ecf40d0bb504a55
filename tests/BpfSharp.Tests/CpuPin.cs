using System.Runtime.InteropServices;

namespace BpfSharp.Tests;

/// <summary>
/// Keeps the calling thread on the CPU it is running on until disposed (sched_setaffinity on the thread),
/// for tests whose programs write per-CPU state across several test runs: an XDP test run takes no
/// CPU (BPF_F_TEST_RUN_ON_CPU is raw_tp only), so it runs wherever the scheduler put the thread.
/// </summary>
internal sealed partial class CpuPin : IDisposable
{
    private const int SetBytes = 128; // glibc's cpu_set_t: 1024 CPUs
    private readonly byte[] _previous = new byte[SetBytes];

    public CpuPin()
    {
        Check(GetAffinity(0, SetBytes, _previous));
        Cpu = GetCpu();
        var only = new byte[SetBytes];
        only[Cpu / 8] = (byte)(1 << (Cpu % 8));
        Check(SetAffinity(0, SetBytes, only));
    }

    /// <summary>The CPU the thread is held on.</summary>
    public int Cpu { get; }

    public void Dispose() => Check(SetAffinity(0, SetBytes, _previous));

    private static void Check(int result)
    {
        if (result != 0)
        {
            throw new InvalidOperationException($"sched_setaffinity/sched_getaffinity failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [LibraryImport("libc", EntryPoint = "sched_getaffinity", SetLastError = true)]
    private static partial int GetAffinity(int tid, nuint size, byte[] mask);

    [LibraryImport("libc", EntryPoint = "sched_setaffinity", SetLastError = true)]
    private static partial int SetAffinity(int tid, nuint size, byte[] mask);

    [LibraryImport("libc", EntryPoint = "sched_getcpu")]
    private static partial int GetCpu();
}
