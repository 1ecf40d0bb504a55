using System.Text.RegularExpressions;

namespace BpfSharp.Programs;

/// <summary>Reads what matters out of a verifier log: where it stopped and why.</summary>
internal static partial class VerifierLog
{
    /// <summary>The failing instruction (null when the log does not say) and the problem in the verifier's words.</summary>
    internal readonly record struct Analysis(int? InstructionIndex, string Problem);

    // How many trailing lines make up the problem: enough for messages the verifier spreads
    // over two or three lines ("R1 type=scalar expected=fp" after "invalid indirect read"),
    // few enough that the exception message stays a message and not a log.
    private const int MaxProblemLines = 3;

    internal static Analysis Analyze(string log)
    {
        string[] lines = log.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

        // The summary lines come last; the problem is what precedes them.
        int end = lines.Length;
        while (end > 0 && IsSummary(lines[end - 1]))
        {
            end--;
        }

        // At log level 1 the verifier keeps only the path that failed, so the last printed
        // instruction is the one it stopped at; at level 2 the same holds for the last path.
        int lastInstructionLine = -1;
        int? index = null;
        for (int i = end - 1; i >= 0; i--)
        {
            Match match = InstructionLine().Match(lines[i]);
            if (match.Success)
            {
                lastInstructionLine = i;
                index = int.Parse(match.Groups[1].ValueSpan, System.Globalization.CultureInfo.InvariantCulture);
                break;
            }
        }

        var problem = new List<string>();
        for (int i = end - 1; i > lastInstructionLine && problem.Count < MaxProblemLines; i--)
        {
            if (!IsStateOrSource(lines[i]))
            {
                problem.Insert(0, lines[i]);
            }
        }

        // Checks that run before the instruction walk (control flow, BTF, attach target) print
        // no instructions; many of them name the instruction in the message itself.
        if (index is null)
        {
            foreach (string line in problem)
            {
                Match match = InstructionMention().Match(line);
                if (match.Success)
                {
                    index = int.Parse(match.Groups[1].ValueSpan, System.Globalization.CultureInfo.InvariantCulture);
                    break;
                }
            }
        }

        string text = problem.Count > 0 ? string.Join("; ", problem) : "the log gives no reason";
        return new Analysis(index, text);
    }

    private static bool IsSummary(string line) =>
        line.StartsWith("processed ", StringComparison.Ordinal)
        || line.StartsWith("verification time ", StringComparison.Ordinal)
        || line.StartsWith("stack depth ", StringComparison.Ordinal)
        || line.StartsWith("-- END PROG LOAD LOG --", StringComparison.Ordinal);

    // Register state dumps ("0: R1=ctx() R10=fp0", "from 3 to 5: ..."), source lines from BTF
    // line info ("; return 0;") and precision tracking are context, not the problem.
    private static bool IsStateOrSource(string line) =>
        StateLine().IsMatch(line)
        || line.StartsWith(';')
        || line.StartsWith("mark_precise:", StringComparison.Ordinal)
        || line.StartsWith("func#", StringComparison.Ordinal)
        || line.StartsWith("Live regs", StringComparison.Ordinal);

    [GeneratedRegex(@"^(\d+): \([0-9a-f]{2}\)")]
    private static partial Regex InstructionLine();

    [GeneratedRegex(@"^(\d+:|from \d+ to \d+:)\s*(R\d+|frame\d|fp-?\d)")]
    private static partial Regex StateLine();

    [GeneratedRegex(@"\binsn (?:#)?(\d+)")]
    private static partial Regex InstructionMention();
}
