namespace BpfSharp.Asm;

/// <summary>Looks up helper functions by their C names (<c>bpf_map_lookup_elem</c>).</summary>
public static class HelperFunctions
{
    // The generated HelperFunction enum is the single source of truth: its member names are the C
    // names without the bpf_ prefix, with underscores removed and words capitalised (only some
    // acronyms differ in case, e.g. bpf_map_lookup_percpu_elem -> MapLookupPerCpuElem), so comparing
    // names lowercased and without underscores maps one onto the other without a hand-kept table.
    private static readonly Dictionary<string, HelperFunction> ByNormalizedName = BuildIndex();

    /// <summary>Finds the helper called <paramref name="name"/>: its C name (<c>bpf_ktime_get_ns</c>), with or without the <c>bpf_</c> prefix, or the enum member name (<c>KtimeGetNs</c>).</summary>
    public static bool TryParse(string name, out HelperFunction helper)
    {
        ArgumentNullException.ThrowIfNull(name);
        string trimmed = name.StartsWith("bpf_", StringComparison.Ordinal) ? name[4..] : name;
        return ByNormalizedName.TryGetValue(Normalize(trimmed), out helper) && helper != HelperFunction.Unspec;
    }

    /// <summary>The helper called <paramref name="name"/> (see <see cref="TryParse"/>).</summary>
    /// <exception cref="ArgumentException">No helper has that name.</exception>
    public static HelperFunction Parse(string name) =>
        TryParse(name, out HelperFunction helper)
            ? helper
            : throw new ArgumentException($"'{name}' is not a BPF helper function known to this version of BpfSharp (helpers are named like bpf_map_lookup_elem)", nameof(name));

    private static Dictionary<string, HelperFunction> BuildIndex()
    {
        var index = new Dictionary<string, HelperFunction>(StringComparer.Ordinal);
        foreach (HelperFunction helper in Enum.GetValues<HelperFunction>())
        {
            index[Normalize(helper.ToString())] = helper;
        }
        return index;
    }

    private static string Normalize(string name) => name.Replace("_", "", StringComparison.Ordinal).ToLowerInvariant();
}
