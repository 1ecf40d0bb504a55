namespace BpfSharp.Cli.Tools.Profile;

/// <summary>
/// Brendan Gregg's folded stack format, the input of flamegraph.pl (and speedscope, inferno): one line per stack,
/// <c>comm;outer;...;inner count</c>, kernel frames suffixed <c>_[k]</c>. Stacks of different processes with the
/// same command name fold into one line, as flame graphs group by name.
/// </summary>
internal static class FoldedStacks
{
    /// <summary>The folded lines, busiest first.</summary>
    internal static IEnumerable<(string Stack, ulong Count)> Lines(IEnumerable<ProfileStack> stacks) =>
        stacks.GroupBy(s => s.Folded(), StringComparer.Ordinal)
            .Select(g => (Stack: g.Key, Count: (ulong)g.Sum(s => (decimal)s.Count)))
            .OrderByDescending(l => l.Count)
            .ThenBy(l => l.Stack, StringComparer.Ordinal);

    /// <summary>Writes the folded lines.</summary>
    internal static void Write(TextWriter writer, IEnumerable<ProfileStack> stacks)
    {
        foreach ((string stack, ulong count) in Lines(stacks))
        {
            writer.Write(stack);
            writer.Write(' ');
            writer.WriteLine(count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }
}
