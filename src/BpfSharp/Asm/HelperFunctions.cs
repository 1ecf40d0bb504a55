using BpfSharp.Kernel;

namespace BpfSharp.Asm;

/// <summary>Looks up helper functions by their C names (<c>bpf_map_lookup_elem</c>).</summary>
public static class HelperFunctions
{
    /// <summary>Finds the helper called <paramref name="name"/>: its C name (<c>bpf_ktime_get_ns</c>), with or without the <c>bpf_</c> prefix, or the enum member name (<c>KtimeGetNs</c>).</summary>
    public static bool TryParse(string name, out HelperFunction helper)
    {
        ArgumentNullException.ThrowIfNull(name);
        // The C names come from the generated UAPI table; enum member names are the other accepted spelling.
        HelperFunction? found = UapiNames.ParseHelper(name.StartsWith("bpf_", StringComparison.Ordinal) ? name : "bpf_" + name);
        if (found is null && name.Length > 0 && char.IsUpper(name[0]) && Enum.TryParse(name, ignoreCase: false, out HelperFunction member) && Enum.IsDefined(member))
        {
            found = member;
        }
        helper = found ?? default;
        return found is { } value && value != HelperFunction.Unspec;
    }

    /// <summary>The helper called <paramref name="name"/> (see <see cref="TryParse"/>).</summary>
    /// <exception cref="ArgumentException">No helper has that name.</exception>
    public static HelperFunction Parse(string name) =>
        TryParse(name, out HelperFunction helper)
            ? helper
            : throw new ArgumentException($"'{name}' is not a BPF helper function known to this version of BpfSharp (helpers are named like bpf_map_lookup_elem)", nameof(name));
}
