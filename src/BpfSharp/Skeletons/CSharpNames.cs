using System.Text;

namespace BpfSharp.Skeletons;

/// <summary>
/// C names as C# identifiers: <c>exec_event</c> becomes <c>ExecEvent</c>, <c>EVENT_EXEC</c> <c>EventExec</c>,
/// <c>__pad</c> <c>Pad</c>; and a scope that keeps the names it hands out distinct.
/// </summary>
internal sealed class CSharpNames
{
    // What every struct, enum and class inherits from object: a member of that name would hide it (warning CS0108).
    private static readonly string[] Inherited = ["ToString", "Equals", "GetHashCode", "GetType", "MemberwiseClone", "Finalize", "ReferenceEquals"];

    private readonly HashSet<string> _taken = new(Inherited, StringComparer.Ordinal);

    /// <param name="reserved">Names already used in the scope.</param>
    internal CSharpNames(IEnumerable<string>? reserved = null)
    {
        if (reserved is not null)
        {
            _taken.UnionWith(reserved);
        }
    }

    /// <summary>
    /// <paramref name="cName"/> in Pascal case, made distinct in this scope by a number (<c>Point2</c>), and
    /// never <paramref name="avoid"/> (a member may not be named like its type).
    /// </summary>
    internal string Take(string cName, string fallback, string? avoid = null)
    {
        string name = Pascal(cName);
        if (name.Length == 0)
        {
            name = fallback;
        }
        if (name == avoid)
        {
            name += "Value";
        }
        string candidate = name;
        for (int n = 2; !_taken.Add(candidate); n++)
        {
            candidate = name + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        return candidate;
    }

    /// <summary>
    /// Pascal case: words split at underscores (and anything else not a letter or digit); a word written all in capitals is lower-cased after its first
    /// letter, a word in mixed case keeps its inner capitals (<c>tcpState</c> stays <c>TcpState</c>).
    /// A name that would start with a digit gets a leading underscore.
    /// </summary>
    internal static string Pascal(string cName)
    {
        var text = new StringBuilder(cName.Length);
        string[] words = new string(cName.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').ToArray()).Split('_', StringSplitOptions.RemoveEmptyEntries);
        foreach (string word in words)
        {
            bool shouting = word.Any(char.IsUpper) && !word.Any(char.IsLower);
            text.Append(char.ToUpperInvariant(word[0]));
            text.Append(shouting ? word[1..].ToLowerInvariant() : word[1..]);
        }
        if (text.Length > 0 && char.IsDigit(text[0]))
        {
            text.Insert(0, '_');
        }
        return text.ToString();
    }

    /// <summary>A C# string literal of <paramref name="value"/>.</summary>
    internal static string Literal(string value)
    {
        var text = new StringBuilder(value.Length + 2).Append('"');
        foreach (char c in value)
        {
            _ = c switch
            {
                '"' => text.Append("\\\""),
                '\\' => text.Append("\\\\"),
                < ' ' => text.Append($"\\u{(int)c:x4}"),
                _ => text.Append(c),
            };
        }
        return text.Append('"').ToString();
    }
}
