namespace BpfSharp.Cli.Tools.Profile;

/// <summary>One frame of a sampled stack: a function name (or <c>[unknown]</c>, <c>module+0xoffset</c>) and whether it ran in the kernel.</summary>
/// <param name="Name">What the frame shows.</param>
/// <param name="IsKernel">A kernel frame (shown with a <c>_[k]</c> suffix, as BCC's profile does).</param>
internal readonly record struct StackFrame(string Name, bool IsKernel)
{
    /// <summary>The suffix marking kernel frames in folded, JSON and SVG output.</summary>
    internal const string KernelSuffix = "_[k]";

    /// <summary>The name with the kernel marking.</summary>
    internal string Label => IsKernel ? Name + KernelSuffix : Name;
}

/// <summary>A distinct stack of one process and how many samples landed on it.</summary>
/// <param name="Pid">The process (tgid); 0 for the idle task.</param>
/// <param name="Comm">The process's command name when sampled.</param>
/// <param name="Count">Samples.</param>
/// <param name="Frames">The frames from the outermost (main, or a syscall entry) to the innermost (where the CPU was).</param>
internal sealed record ProfileStack(uint Pid, string Comm, ulong Count, IReadOnlyList<StackFrame> Frames)
{
    /// <summary>The stack as one folded line without its count: <c>comm;outer;...;inner</c>, semicolons in names made colons.</summary>
    internal string Folded()
    {
        var line = new System.Text.StringBuilder(Clean(Comm));
        foreach (StackFrame frame in Frames)
        {
            line.Append(';').Append(Clean(frame.Label));
        }
        return line.ToString();
    }

    // ';' separates frames and a line ends in " count"; a name keeps its spaces (the count is after the last one).
    private static string Clean(string name) => name.Replace(';', ':').Replace('\n', ' ');

    /// <summary>
    /// Merges stacks that symbolize the same (different addresses in one function give one line), keeping pid and
    /// comm apart, busiest first, then by folded text for a stable order.
    /// </summary>
    internal static List<ProfileStack> Merge(IEnumerable<ProfileStack> stacks) =>
        stacks.GroupBy(s => (s.Pid, s.Comm, Folded: s.Folded()))
            .Select(g => g.First() with { Count = (ulong)g.Sum(s => (decimal)s.Count) })
            .OrderByDescending(s => s.Count)
            .ThenBy(s => s.Folded(), StringComparer.Ordinal)
            .ThenBy(s => s.Pid)
            .ToList();
}
