using BpfSharp.Btf;

namespace BpfSharp.Specs;

/// <summary>How much of an object's BTF to rewrite for a kernel that does not understand all of it.</summary>
public enum BtfCompatibility
{
    /// <summary>Load the BTF as the compiler wrote it (after libbpf's DATASEC and extern fixups).</summary>
    Full,

    /// <summary>
    /// Rewrite kinds kernels before 6.0 lack: DECL_TAG and TYPE_TAG (5.16, 5.17), ENUM64 (6.0), FLOAT (5.13) and global
    /// FUNC linkage (5.6), each into an older kind of the same size, keeping type ids.
    /// </summary>
    NoNewKinds,

    /// <summary>As <see cref="NoNewKinds"/>, and turn VAR and DATASEC (5.3) into integers and empty structs.</summary>
    NoDataSections,
}

/// <summary>
/// Rewrites an object's BTF for the kernel, keeping every type id so that func_info, line_info and map key/value
/// ids stay valid: libbpf's sanitization of kinds an older kernel rejects.
/// </summary>
internal static class ObjectBtf
{
    public static byte[] Sanitize(ReadOnlyMemory<byte> blob, BtfCompatibility level)
    {
        if (level == BtfCompatibility.Full)
        {
            return blob.ToArray();
        }
        BtfSpec spec = BtfSpec.Parse(blob);
        BtfBuilder builder = BtfBuilder.From(spec);
        foreach (BtfType type in spec.OwnTypes)
        {
            BtfTypeDefinition? replacement = type.Kind switch
            {
                BtfKind.DeclTag => OneByteInt(null),
                BtfKind.TypeTag => BtfTypeDefinition.Raw(BtfKind.Const, null, 0, false, (uint)type.ReferencedTypeId, []),
                BtfKind.Float => BtfTypeDefinition.Raw(BtfKind.Struct, type.Name, 0, false, type.Size, []),
                BtfKind.Enum64 => Enum64AsEnum(type),
                BtfKind.Function when type.FunctionLinkage == BtfFunctionLinkage.Global =>
                    BtfTypeDefinition.Function(type.Name, type.ReferencedTypeId, BtfFunctionLinkage.Static),
                BtfKind.Variable when level == BtfCompatibility.NoDataSections => OneByteInt(type.Name),
                BtfKind.DataSection when level == BtfCompatibility.NoDataSections =>
                    BtfTypeDefinition.Raw(BtfKind.Struct, Identifier(type.Name), 0, false, type.Size, []),
                _ => null,
            };
            if (replacement is not null)
            {
                builder.Replace(type.Id, replacement);
            }
        }
        return builder.Build();
    }

    private static BtfTypeDefinition OneByteInt(string? name) => BtfTypeDefinition.Raw(BtfKind.Int, name, 0, false, 1, [8]);

    private static BtfTypeDefinition Enum64AsEnum(BtfType type)
    {
        var enumerators = type.Enumerators;
        var definitions = new List<BtfEnumeratorDefinition>(enumerators.Count);
        foreach (BtfEnumerator enumerator in enumerators)
        {
            // Values beyond 32 bits cannot be kept; the verifier never reads them, only CO-RE and dumps do.
            definitions.Add(new BtfEnumeratorDefinition(enumerator.Name, type.IsSignedEnum ? (int)enumerator.RawValue : (uint)enumerator.RawValue));
        }
        return BtfTypeDefinition.Enum(type.HasName ? type.Name : null, type.Size, type.IsSignedEnum, definitions);
    }

    private static string Identifier(string name) => string.Concat(name.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_'));
}
