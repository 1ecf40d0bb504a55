using BpfSharp.Btf;

namespace BpfSharp.Specs;

/// <summary>How much of an object's BTF to rewrite for a kernel that does not understand all of it.</summary>
public enum BtfCompatibility
{
    /// <summary>Load the BTF as the compiler wrote it (after libbpf's DATASEC and extern fixups).</summary>
    Full,

    /// <summary>
    /// Rewrite what kernels before 6.0 lack: DECL_TAG (5.16) into a one-byte INT, TYPE_TAG (5.17) into CONST, FLOAT
    /// (5.13) into an anonymous empty STRUCT of its size, global FUNC linkage (5.6) into static, ENUM64 (6.0) into a
    /// UNION of its size with one one-byte member per enumerator, and the signedness flag of ENUMs (6.0) cleared;
    /// every type keeps its id.
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
        int enum64Member = 0; // a one-byte INT appended once, after every existing id, for the unions ENUM64s become
        foreach (BtfType type in spec.OwnTypes)
        {
            BtfTypeDefinition? replacement = type.Kind switch
            {
                BtfKind.DeclTag => OneByteInt(null),
                BtfKind.TypeTag => BtfTypeDefinition.Raw(BtfKind.Const, null, 0, false, (uint)type.ReferencedTypeId, []),
                // Anonymous: "float" would make the struct a type C cannot name.
                BtfKind.Float => BtfTypeDefinition.Raw(BtfKind.Struct, null, 0, false, type.Size, []),
                BtfKind.Enum when type.IsSignedEnum => UnsignedEnum(type),
                BtfKind.Enum64 => Enum64AsUnion(type, enum64Member == 0 ? enum64Member = builder.Add(BtfTypeDefinition.Int("enum64_placeholder", 1)) : enum64Member),
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

    private static BtfTypeDefinition UnsignedEnum(BtfType type) =>
        BtfTypeDefinition.Enum(type.HasName ? type.Name : null, type.Size, signed: false,
            type.Enumerators.Select(e => new BtfEnumeratorDefinition(e.Name, (uint)e.RawValue)));

    /// <summary>
    /// An ENUM64 as a UNION of the same size and names, every member a one-byte INT at offset 0: the values are lost,
    /// but no kernel code reads them (CO-RE resolves against the object's own BTF, which keeps them).
    /// </summary>
    private static BtfTypeDefinition Enum64AsUnion(BtfType type, int memberType) =>
        BtfTypeDefinition.Union(type.HasName ? type.Name : null, type.Size,
            type.Enumerators.Select(e => new BtfMemberDefinition(e.Name, memberType, 0)));

    private static string Identifier(string name) => string.Concat(name.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_'));
}
