using BpfSharp.Btf;
using BpfSharp.Skeletons;

namespace BpfSharp.Cli.Tools.Run;

/// <summary>What an event buffer's records are, once decided: a BTF struct, or raw bytes with the reason why.</summary>
/// <param name="TypeId">The struct's type id, or 0 to print records as hex.</param>
/// <param name="Explanation">For hex: why no type was chosen (no candidate, or which were ambiguous).</param>
internal readonly record struct EventType(int TypeId, string? Explanation);

/// <summary>
/// Finds the struct a ring buffer or perf event array record holds. Neither map kind carries a value type in BTF,
/// so: the type the user named (<c>--event-type NAME</c> or <c>--event-type MAP=NAME</c>); else the one type the object
/// names with <c>BPFSHARP_TYPE</c> whose size matches; else the object's one named struct whose size matches the record (for perf event arrays, which pad a record so that it and its 4-byte
/// size end on 8 bytes, a struct up to 7 bytes shorter), leaving out the types programs take as their context
/// (<c>struct trace_event_raw_sys_enter *ctx</c>), which are kernel records, not events.
/// </summary>
internal sealed class EventTypes
{
    private readonly BtfSpec? _btf;
    private readonly Dictionary<string, string> _named;
    private readonly string? _default;
    private readonly HashSet<string> _programs;
    private HashSet<int>? _contextTypes;

    /// <param name="btf">The object's BTF, or null when it has none (every record prints as hex).</param>
    /// <param name="programs">The names of the object's programs, whose context types are not events.</param>
    /// <param name="choices">The --event-type values: <c>NAME</c> for every buffer, <c>MAP=NAME</c> for one.</param>
    internal EventTypes(BtfSpec? btf, IEnumerable<string> programs, IEnumerable<string> choices)
    {
        _btf = btf;
        _programs = new HashSet<string>(programs, StringComparer.Ordinal);
        _named = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string choice in choices)
        {
            int equals = choice.IndexOf('=');
            if (equals < 0)
            {
                _default = choice;
            }
            else
            {
                _named[choice[..equals]] = choice[(equals + 1)..];
            }
        }
    }

    /// <summary>
    /// The type the user named for <paramref name="map"/>, checked against the object's BTF now, so that a typo
    /// fails before anything is loaded. Null when the user named none.
    /// </summary>
    /// <exception cref="ToolException">The object has no BTF, or no struct of that name.</exception>
    internal int? Named(string map)
    {
        string? name = _named.GetValueOrDefault(map) ?? _default;
        if (name is null)
        {
            return null;
        }
        if (_btf is null)
        {
            throw new ToolException($"--event-type {name}: the object has no BTF to find the type in");
        }
        string bare = name.StartsWith("struct ", StringComparison.Ordinal) ? name["struct ".Length..] : name;
        foreach (BtfKind kind in new[] { BtfKind.Struct, BtfKind.Union, BtfKind.Typedef })
        {
            if (_btf.TryFindType(bare, kind, out BtfType type))
            {
                return type.Id;
            }
        }
        throw new ToolException($"--event-type {name}: the object's BTF has no struct, union or typedef of that name");
    }

    /// <summary>The map names given with <c>MAP=NAME</c>, to check they exist.</summary>
    internal IEnumerable<string> NamedMaps => _named.Keys;

    /// <summary>Chooses the type of <paramref name="map"/>'s records of <paramref name="length"/> bytes.</summary>
    internal EventType Guess(string map, int length, bool perfPadded)
    {
        if (_btf is null)
        {
            return new EventType(0, "the object has no BTF");
        }
        List<BtfType> candidates = Candidates(length, perfPadded);
        return candidates.Count switch
        {
            1 => new EventType(candidates[0].Id, null),
            0 => new EventType(0, $"no struct in the object's BTF is {length} bytes{(perfPadded ? " (or up to 7 fewer, perf padding)" : "")}; "
                + "put the event type in BTF (BPFSHARP_TYPE(struct event); from bpfsharp.h, or a global such as `const struct event *unused __attribute__((unused));`) or name it with --event-type"),
            _ => new EventType(0, $"several structs could be {length}-byte records of '{map}' ({string.Join(", ", candidates.Select(c => c.Name))}); name one with --event-type {map}=NAME"),
        };
    }

    /// <summary>The named structs a record of <paramref name="length"/> bytes could be.</summary>
    internal List<BtfType> Candidates(int length, bool perfPadded)
    {
        var found = new List<BtfType>();
        if (_btf is null)
        {
            return found;
        }
        // The records the object names with BPFSHARP_TYPE come first: the only candidates when one of them fits.
        foreach (BtfType type in ExportedTypes.In(_btf))
        {
            BtfType resolved = _btf.ResolveTypedefsAndQualifiers(type.Id);
            if (resolved.IsComposite && Fits(resolved.Size, length, perfPadded) && !found.Contains(resolved))
            {
                found.Add(resolved);
            }
        }
        if (found.Count > 0)
        {
            return found;
        }
        _contextTypes ??= ProgramContexts.TypeIds(_btf, _programs);
        foreach (BtfType type in _btf.OwnTypes)
        {
            if (type.Kind == BtfKind.Struct && type.HasName && !_contextTypes.Contains(type.Id) && Fits(type.Size, length, perfPadded))
            {
                found.Add(type);
            }
        }
        return found;
    }

    private static bool Fits(long size, int length, bool perfPadded) => perfPadded ? size <= length && PerfRecordLength(size) == length : size == length;

    /// <summary>The length of a perf raw sample's data for <paramref name="size"/> bytes written: the 4-byte size and the data end on 8 bytes.</summary>
    internal static long PerfRecordLength(long size) => ((size + 4 + 7) & ~7L) - 4;
}
