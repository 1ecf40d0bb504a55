using BpfSharp.Kernel;

namespace BpfSharp.Programs;

/// <summary>Kernel-wide BPF statistics switches (<c>BPF_ENABLE_STATS</c>).</summary>
public static class BpfStats
{
    /// <summary>
    /// Makes the kernel count run time and runs of every program (<see cref="ProgramInfo.RunTimeNs"/>,
    /// <see cref="ProgramInfo.RunCount"/>) until the returned object is disposed. The counting costs
    /// a little on every program run, so keep it on only while it is needed; several holders may
    /// keep it on at the same time.
    /// </summary>
    /// <exception cref="BpfException">The kernel does not support run-time statistics, or the caller lacks CAP_SYS_ADMIN.</exception>
    public static IDisposable EnableRunTime() => Bpf.EnableStats();
}
