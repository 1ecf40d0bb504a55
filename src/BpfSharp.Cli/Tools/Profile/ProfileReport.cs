using System.Globalization;
using System.Text.Json;
using BpfSharp.Cli.Output;

namespace BpfSharp.Cli.Tools.Profile;

/// <summary>How profile shows its stacks by default (a table of the busiest) and with --json (one object per stack).</summary>
internal static class ProfileReport
{
    /// <summary>Frames shown per stack in the table, innermost first; the rest is elided (--folded has them all).</summary>
    internal const int TableFrames = 8;

    /// <summary>The line above the table: samples, processes and stacks.</summary>
    internal static string Headline(IReadOnlyList<ProfileStack> stacks, ulong frequency, double seconds)
    {
        ulong total = Total(stacks);
        int processes = stacks.Select(s => s.Pid).Distinct().Count();
        return string.Create(CultureInfo.InvariantCulture,
            $"{total} samples at {frequency} Hz in {seconds:0.0} s: {stacks.Count} distinct stacks of {processes} processes");
    }

    /// <summary>Writes the <paramref name="top"/> busiest stacks (0: all) as a table, innermost frame first.</summary>
    internal static void WriteTable(TextWriter writer, IReadOnlyList<ProfileStack> stacks, int top)
    {
        ulong total = Total(stacks);
        var table = new TextTable(">COUNT", ">PERCENT", ">PID", "COMM", "STACK (innermost first)");
        foreach (ProfileStack stack in top > 0 ? stacks.Take(top) : stacks)
        {
            table.Add(stack.Count, Percent(stack.Count, total), stack.Pid, stack.Comm, InnermostFirst(stack));
        }
        table.Write(writer);
        if (top > 0 && stacks.Count > top)
        {
            ulong rest = Total(stacks.Skip(top));
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"... {stacks.Count - top} more stacks with {rest} samples ({Percent(rest, total)}); --top 0 shows all"));
        }
    }

    /// <summary>The stack's frames from the innermost out, joined by " &lt;- ", elided after <see cref="TableFrames"/>.</summary>
    internal static string InnermostFirst(ProfileStack stack)
    {
        if (stack.Frames.Count == 0)
        {
            return "[no stack]";
        }
        IEnumerable<string> frames = stack.Frames.Reverse().Take(TableFrames).Select(f => f.Label);
        string text = string.Join(" <- ", frames);
        return stack.Frames.Count > TableFrames ? text + $" <- ... ({stack.Frames.Count - TableFrames} more)" : text;
    }

    /// <summary>Writes one JSON object per stack: <c>pid</c>, <c>comm</c>, <c>count</c>, <c>stack</c> (frames outer to inner, kernel ones suffixed <c>_[k]</c>).</summary>
    internal static void WriteJson(Utf8JsonWriter writer, ProfileStack stack)
    {
        writer.WriteNumber("pid", stack.Pid);
        writer.WriteString("comm", stack.Comm);
        writer.WriteNumber("count", stack.Count);
        writer.WriteStartArray("stack");
        foreach (StackFrame frame in stack.Frames)
        {
            writer.WriteStringValue(frame.Label);
        }
        writer.WriteEndArray();
    }

    internal static ulong Total(IEnumerable<ProfileStack> stacks) => (ulong)stacks.Sum(s => (decimal)s.Count);

    private static string Percent(ulong count, ulong total) =>
        (total == 0 ? 0 : 100.0 * count / total).ToString("0.0", CultureInfo.InvariantCulture) + "%";
}
