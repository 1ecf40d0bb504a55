namespace BpfSharp.Btf;

/// <summary>
/// The types an object's programs take by pointer as their context (<c>struct trace_event_raw_sys_enter *ctx</c>,
/// <c>struct xdp_md *ctx</c>): the kernel's records, which tools that look for an object's own types leave out.
/// </summary>
public static class ProgramContexts
{
    /// <summary>The ids of the types the named programs' BTF functions take by pointer, typedefs and qualifiers resolved.</summary>
    /// <param name="btf">The object's BTF.</param>
    /// <param name="programs">The names of the object's programs (BTF functions of other names are subprograms).</param>
    public static HashSet<int> TypeIds(BtfSpec btf, IEnumerable<string> programs)
    {
        ArgumentNullException.ThrowIfNull(btf);
        ArgumentNullException.ThrowIfNull(programs);
        var names = new HashSet<string>(programs, StringComparer.Ordinal);
        var types = new HashSet<int>();
        foreach (BtfType type in btf.OwnTypes)
        {
            if (type.Kind != BtfKind.Function || !names.Contains(type.Name))
            {
                continue;
            }
            BtfType prototype = btf.ResolveTypedefsAndQualifiers(type.ReferencedTypeId);
            if (prototype.Kind != BtfKind.FunctionProto)
            {
                continue;
            }
            foreach (BtfParameter parameter in prototype.Parameters)
            {
                if (parameter.TypeId == 0)
                {
                    continue;
                }
                BtfType pointer = btf.ResolveTypedefsAndQualifiers(parameter.TypeId);
                if (pointer.Kind == BtfKind.Pointer)
                {
                    types.Add(btf.ResolveTypedefsAndQualifiers(pointer.ReferencedTypeId).Id);
                }
            }
        }
        return types;
    }
}
