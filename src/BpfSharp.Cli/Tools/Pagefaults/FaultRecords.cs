namespace BpfSharp.Cli.Tools.Pagefaults;

/// <summary>
/// The record kinds of pagefaults.bpf.c's ring buffer: the first 32-bit field of each record, which says whether the
/// rest is the skeleton's <see cref="PagefaultsBpf.FaultRecord"/>, <see cref="PagefaultsBpf.RegionRecord"/> or
/// <see cref="PagefaultsBpf.ExecRecord"/>.
/// </summary>
internal enum FaultRecordKind : uint
{
    Fault = 1,
    Region = 2,
    Exec = 3,
}

/// <summary>The values of the <c>traced</c> map, as pagefaults.bpf.c defines them.</summary>
internal static class TraceState
{
    /// <summary>Faults are recorded.</summary>
    internal const byte Traced = 1;
    /// <summary>A command started stopped: faults count from its exec() on, not the shell's before it.</summary>
    internal const byte WaitingForExec = 2;
}
