using System.Runtime.InteropServices;

namespace BpfSharp.Cli.Tools.Pagefaults;

/// <summary>The record kinds of pagefaults.bpf.c's ring buffer: the first 32-bit field of each record.</summary>
internal enum FaultRecordKind : uint
{
    Fault = 1,
    Region = 2,
    Exec = 3,
}

/// <summary>struct fault_record: one page fault.</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly struct FaultRecord
{
    internal readonly FaultRecordKind Kind;
    internal readonly uint Tid;
    internal readonly ulong Address;
    internal readonly ulong TimeNs;
    internal readonly uint ErrorCode;
    internal readonly uint Tgid;
}

/// <summary>struct region_record: the mapping a fault landed in, the first time one did (per CPU).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct RegionRecord
{
    internal const int NameLength = 64;

    internal FaultRecordKind Kind;
    internal uint Tgid;
    internal ulong Start;
    internal ulong End;
    internal ulong PageOffset;
    internal ulong Flags;
    internal ulong Inode;
    internal fixed byte Name[NameLength];
}

/// <summary>struct exec_record: a traced process called exec(); its old mappings are gone.</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly struct ExecRecord
{
    internal readonly FaultRecordKind Kind;
    internal readonly uint Tgid;
    internal readonly ulong TimeNs;
}

/// <summary>The values of the <c>traced</c> map, as pagefaults.bpf.c defines them.</summary>
internal static class TraceState
{
    /// <summary>Faults are recorded.</summary>
    internal const byte Traced = 1;
    /// <summary>A command started stopped: faults count from its exec() on, not the shell's before it.</summary>
    internal const byte WaitingForExec = 2;
}
