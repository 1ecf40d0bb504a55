using System.Runtime.InteropServices;

namespace BpfSharp.Cli.Tools.Profile;

/// <summary>struct stack_key of profile.bpf.c: the key of the <c>counts</c> map.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct StackKey
{
    /// <summary>-EFAULT from bpf_get_stackid: no stack of that kind (user code has no kernel stack, kernel threads no user stack).</summary>
    internal const int NoStack = -14;

    internal uint Pid;
    internal int KernelStackId;
    internal int UserStackId;
    internal TaskComm Comm;
}
