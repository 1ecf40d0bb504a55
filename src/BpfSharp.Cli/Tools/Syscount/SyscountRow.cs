namespace BpfSharp.Cli.Tools.Syscount;

/// <summary>One row of syscount's report: a call (by number and name) or a process (by pid and comm), and its counts.</summary>
/// <param name="Key">The call number, or the process id with <c>--process</c>.</param>
/// <param name="Label">The call's name (<c>syscall_N</c> when the table has none), or the process's comm.</param>
/// <param name="Count">Calls counted.</param>
/// <param name="TotalNs">Their summed latency in nanoseconds (with <c>--latency</c>).</param>
/// <param name="Slots">Their log2 nanosecond latency histogram (with <c>--latency</c>).</param>
internal sealed record SyscountRow(uint Key, string Label, ulong Count, ulong TotalNs, ulong[] Slots)
{
    /// <summary>The average latency in nanoseconds, 0 without calls.</summary>
    internal double AverageNs => Count == 0 ? 0 : (double)TotalNs / Count;
}
