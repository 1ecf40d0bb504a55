namespace BpfSharp.Btf.Core;

/// <summary>
/// The comparison rules CO-RE uses between a type of the object's BTF and a type of the target's:
/// essential names (a <c>___flavor</c> suffix ignored), kind compatibility, field compatibility,
/// type compatibility (for type-based relocations) and the stricter "types match" relation
/// (<c>bpf_core_type_matches</c>). Each mirrors the semantics libbpf defines, so that an object
/// resolves the same way here as under libbpf.
/// </summary>
internal static class CoreTypeRules
{
    // Type-based comparisons recurse through pointers, arrays and prototypes; real types stay far below this.
    private const int MaximumDepth = 32;

    /// <summary>
    /// The length of <paramref name="name"/> without its flavor: the part before the last
    /// <c>X___Y</c> separator (where X and Y are not underscores), or the whole name.
    /// </summary>
    internal static int EssentialNameLength(ReadOnlySpan<byte> name)
    {
        for (int i = name.Length - 5; i >= 0; i--)
        {
            if (name[i] != (byte)'_' && name[i + 1] == (byte)'_' && name[i + 2] == (byte)'_' && name[i + 3] == (byte)'_' && name[i + 4] != (byte)'_')
            {
                return i + 1;
            }
        }
        return name.Length;
    }

    /// <summary>The name without its flavor suffix.</summary>
    internal static ReadOnlySpan<byte> EssentialName(ReadOnlySpan<byte> name) => name[..EssentialNameLength(name)];

    /// <summary>Whether two names are equal once their flavors are dropped.</summary>
    internal static bool EssentialNamesEqual(ReadOnlySpan<byte> local, ReadOnlySpan<byte> target) =>
        EssentialName(local).SequenceEqual(EssentialName(target));

    /// <summary>Same kind, where ENUM and ENUM64 count as one kind.</summary>
    internal static bool KindsCompatible(BtfKind local, BtfKind target) =>
        local == target || (local is BtfKind.Enum or BtfKind.Enum64 && target is BtfKind.Enum or BtfKind.Enum64);

    /// <summary>
    /// Whether a target field's type can stand in for the local field's: any two structs or unions,
    /// pointers, floats, integers (not the deprecated offset-carrying kind), enums and forwards of the
    /// same essential name (or anonymous), arrays of compatible elements.
    /// </summary>
    internal static bool FieldsCompatible(BtfSpec localBtf, int localId, BtfSpec targetBtf, int targetId)
    {
        for (int depth = 0; depth < MaximumDepth; depth++)
        {
            BtfType local = localBtf.ResolveTypedefsAndQualifiers(localId);
            BtfType target = targetBtf.ResolveTypedefsAndQualifiers(targetId);
            if (local.IsComposite && target.IsComposite)
            {
                return true;
            }
            if (!KindsCompatible(local.Kind, target.Kind))
            {
                return false;
            }
            switch (local.Kind)
            {
                case BtfKind.Pointer or BtfKind.Float:
                    return true;
                case BtfKind.Forward or BtfKind.Enum or BtfKind.Enum64:
                    return EssentialNameLength(local.NameBytes) == 0 || EssentialNameLength(target.NameBytes) == 0
                        || EssentialNamesEqual(local.NameBytes, target.NameBytes);
                case BtfKind.Int:
                    return local.IntBitOffset == 0 && target.IntBitOffset == 0;
                case BtfKind.Array:
                    localId = local.Array.ElementTypeId;
                    targetId = target.Array.ElementTypeId;
                    continue;
                default:
                    return false;
            }
        }
        throw new CoreRelocationException($"comparing field types [{localId}] and target [{targetId}]: more than {MaximumDepth} nested array types");
    }

    /// <summary>
    /// Whether two types are compatible for type-based relocations (exists, size, target id): kinds
    /// agree, and through pointers, arrays and prototypes the referenced types are compatible too;
    /// structs, unions, enums and forwards are compatible by (already matched) name alone.
    /// </summary>
    internal static bool TypesCompatible(BtfSpec localBtf, int localId, BtfSpec targetBtf, int targetId, int level = MaximumDepth)
    {
        if (!KindsCompatible(localBtf[localId].Kind, targetBtf[targetId].Kind))
        {
            return false;
        }
        for (int depth = 0; depth < MaximumDepth; depth++)
        {
            BtfType local = localBtf.ResolveTypedefsAndQualifiers(localId);
            BtfType target = targetBtf.ResolveTypedefsAndQualifiers(targetId);
            if (!KindsCompatible(local.Kind, target.Kind))
            {
                return false;
            }
            switch (local.Kind)
            {
                case BtfKind.Void or BtfKind.Struct or BtfKind.Union or BtfKind.Enum or BtfKind.Enum64 or BtfKind.Forward:
                    return true;
                case BtfKind.Int:
                    return local.IntBitOffset == 0 && target.IntBitOffset == 0;
                case BtfKind.Pointer:
                    localId = local.ReferencedTypeId;
                    targetId = target.ReferencedTypeId;
                    continue;
                case BtfKind.Array:
                    localId = local.Array.ElementTypeId;
                    targetId = target.Array.ElementTypeId;
                    continue;
                case BtfKind.FunctionProto:
                    BtfList<BtfParameter> localParameters = local.Parameters;
                    BtfList<BtfParameter> targetParameters = target.Parameters;
                    if (localParameters.Count != targetParameters.Count)
                    {
                        return false;
                    }
                    for (int i = 0; i < localParameters.Count; i++)
                    {
                        if (level <= 0)
                        {
                            throw TooDeep(localId, targetId);
                        }
                        if (!TypesCompatible(localBtf, localBtf.ResolveTypedefsAndQualifiers(localParameters[i].TypeId).Id,
                                targetBtf, targetBtf.ResolveTypedefsAndQualifiers(targetParameters[i].TypeId).Id, level - 1))
                        {
                            return false;
                        }
                    }
                    localId = local.ReferencedTypeId;
                    targetId = target.ReferencedTypeId;
                    continue;
                default:
                    return false;
            }
        }
        throw TooDeep(localId, targetId);
    }

    /// <summary>
    /// The "types match" relation of <c>bpf_core_type_matches</c>: typedefs and qualifiers ignored;
    /// names equal (flavors ignored); integers of equal size and signedness; enums whose every local
    /// enumerator name exists in the target and whose sizes agree; structs and unions whose every
    /// local member has a same-named target member of matching type (behind a pointer, a matching
    /// kind or forward declaration suffices); pointers, arrays (equal length) and prototypes
    /// (same arity) matching recursively.
    /// </summary>
    internal static bool TypesMatch(BtfSpec localBtf, int localId, BtfSpec targetBtf, int targetId, bool behindPointer = false, int level = MaximumDepth)
    {
        if (level <= 0)
        {
            throw TooDeep(localId, targetId);
        }
        for (int depth = 0; depth < MaximumDepth; depth++)
        {
            BtfType local = localBtf.ResolveTypedefsAndQualifiers(localId);
            BtfType target = targetBtf.ResolveTypedefsAndQualifiers(targetId);
            if (!NamesMatch(local.NameBytes, target.NameBytes))
            {
                return false;
            }
            switch (local.Kind)
            {
                case BtfKind.Void:
                    return target.Kind == BtfKind.Void;
                case BtfKind.Forward:
                    if (behindPointer && target.Kind != BtfKind.Forward)
                    {
                        return (target.Kind == BtfKind.Struct && !local.IsForwardUnion) || (target.Kind == BtfKind.Union && local.IsForwardUnion);
                    }
                    return target.Kind == BtfKind.Forward && local.IsForwardUnion == target.IsForwardUnion;
                case BtfKind.Enum or BtfKind.Enum64:
                    return target.IsEnum && EnumsMatch(local, target);
                case BtfKind.Struct or BtfKind.Union:
                    if (behindPointer)
                    {
                        return local.Kind == target.Kind || (target.Kind == BtfKind.Forward && (local.Kind == BtfKind.Union) == target.IsForwardUnion);
                    }
                    return local.Kind == target.Kind && CompositesMatch(local, target, level);
                case BtfKind.Int:
                    return target.Kind == BtfKind.Int && local.Size == target.Size
                        && (local.IntEncoding & BtfIntEncoding.Signed) == (target.IntEncoding & BtfIntEncoding.Signed);
                case BtfKind.Pointer:
                    if (target.Kind != BtfKind.Pointer)
                    {
                        return false;
                    }
                    behindPointer = true;
                    localId = local.ReferencedTypeId;
                    targetId = target.ReferencedTypeId;
                    continue;
                case BtfKind.Array:
                    if (target.Kind != BtfKind.Array || local.Array.Count != target.Array.Count)
                    {
                        return false;
                    }
                    localId = local.Array.ElementTypeId;
                    targetId = target.Array.ElementTypeId;
                    continue;
                case BtfKind.FunctionProto:
                    if (target.Kind != BtfKind.FunctionProto || local.Parameters.Count != target.Parameters.Count)
                    {
                        return false;
                    }
                    for (int i = 0; i < local.Parameters.Count; i++)
                    {
                        if (!TypesMatch(localBtf, local.Parameters[i].TypeId, targetBtf, target.Parameters[i].TypeId, behindPointer, level - 1))
                        {
                            return false;
                        }
                    }
                    localId = local.ReferencedTypeId;
                    targetId = target.ReferencedTypeId;
                    continue;
                default:
                    return false;
            }
        }
        throw TooDeep(localId, targetId);
    }

    // An anonymous target matches only an anonymous local; otherwise essential names must agree.
    private static bool NamesMatch(ReadOnlySpan<byte> local, ReadOnlySpan<byte> target) =>
        target.IsEmpty ? local.IsEmpty : EssentialNamesEqual(local, target);

    private static bool EnumsMatch(BtfType local, BtfType target)
    {
        if (local.Size != target.Size || local.VariableLength > target.VariableLength)
        {
            return false;
        }
        foreach (BtfEnumerator localValue in local.Enumerators)
        {
            bool found = false;
            foreach (BtfEnumerator targetValue in target.Enumerators)
            {
                if (NamesMatch(localValue.NameBytes, targetValue.NameBytes))
                {
                    found = true;
                    break;
                }
            }
            if (!found)
            {
                return false;
            }
        }
        return true;
    }

    private static bool CompositesMatch(BtfType local, BtfType target, int level)
    {
        if (local.VariableLength > target.VariableLength)
        {
            return false;
        }
        foreach (BtfMember localMember in local.Members)
        {
            bool found = false;
            foreach (BtfMember targetMember in target.Members)
            {
                if (NamesMatch(localMember.NameBytes, targetMember.NameBytes)
                    && TypesMatch(local.Spec, localMember.TypeId, target.Spec, targetMember.TypeId, false, level - 1))
                {
                    found = true;
                    break;
                }
            }
            if (!found)
            {
                return false;
            }
        }
        return true;
    }

    private static CoreRelocationException TooDeep(int localId, int targetId) =>
        new($"comparing type [{localId}] with target type [{targetId}]: types nest more than {MaximumDepth} levels deep (a reference cycle?)");
}
