using BpfSharp.Btf;

namespace BpfSharp.Features;

/// <summary>
/// Finds kernel functions in the vmlinux BTF by name: the attach targets that probing fentry,
/// LSM and freplace programs needs. Uses the process-wide kernel BTF (Btf/KernelBtf), whose name
/// index is built once.
/// </summary>
internal static class VmlinuxFunctions
{
    internal const string Path = KernelBtf.VmlinuxPath;

    /// <summary>The BTF type id of the function named <paramref name="name"/>, or null when there is no BTF or no such function.</summary>
    internal static uint? FindId(string name) =>
        File.Exists(Path) && KernelBtf.Vmlinux.TryFindType(name, BtfKind.Function, out BtfType type) ? (uint)type.Id : null;

    /// <summary>Looks up a FUNC type by name in a BTF blob.</summary>
    /// <exception cref="FormatException">The blob is not BTF or is cut short.</exception>
    internal static uint? FindFunction(ReadOnlySpan<byte> btf, ReadOnlySpan<byte> name)
    {
        BtfSpec spec;
        try
        {
            spec = BtfSpec.Parse(btf.ToArray());
        }
        catch (BtfException e)
        {
            throw new FormatException(e.Message, e);
        }
        return spec.TryFindType(name, BtfKind.Function, out BtfType type) ? (uint)type.Id : null;
    }
}
