using BpfSharp.Btf;

namespace BpfSharp.Skeletons;

/// <summary>
/// The types a BPF object names with <c>BPFSHARP_TYPE(type)</c> (bpfsharp.h): the records its programs write into ring
/// and perf buffers, which clang would otherwise leave out of BTF. Each is an unused pointer variable in the section
/// <see cref="SectionName"/>, which loaders skip; its pointee is the type.
/// </summary>
public static class ExportedTypes
{
    /// <summary>The ELF section (and BTF DATASEC) of the pointers.</summary>
    public const string SectionName = ".bpfsharp.types";

    /// <summary>The types <paramref name="btf"/> names this way, in declaration order; empty when none.</summary>
    /// <param name="btf">An object's BTF.</param>
    public static IReadOnlyList<BtfType> In(BtfSpec btf)
    {
        ArgumentNullException.ThrowIfNull(btf);
        if (!btf.TryFindType(SectionName, BtfKind.DataSection, out BtfType section))
        {
            return [];
        }
        var types = new List<BtfType>();
        foreach (BtfDataSectionVariable variable in section.Variables)
        {
            BtfType pointer = btf.ResolveTypedefsAndQualifiers(variable.Type.ReferencedTypeId);
            if (pointer.Kind == BtfKind.Pointer)
            {
                types.Add(btf.SkipQualifiers(pointer.ReferencedTypeId));
            }
        }
        return types;
    }
}
