namespace BpfSharp.Btf;

/// <summary>
/// Lists types one per line with their members, in the layout of
/// <c>bpftool btf dump ... format raw</c>, so outputs can be compared line by line.
/// </summary>
public static class BtfRawWriter
{
    /// <summary>Writes every type of <paramref name="spec"/> (its own types, for split BTF) to <paramref name="output"/>.</summary>
    public static void Write(BtfSpec spec, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(output);
        for (int id = spec.FirstTypeId; id < spec.TypeIdLimit; id++)
        {
            WriteType(output, spec[id]);
        }
    }

    /// <summary>Writes one type, with its members, enumerators, parameters or variables on following lines.</summary>
    public static void WriteType(TextWriter output, BtfType type)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (type.Id == 0)
        {
            output.Write("[0] UNKN 'void'\n");
            return;
        }
        BtfSpec spec = type.Spec;
        output.Write('[');
        output.Write(type.Id);
        output.Write("] ");
        output.Write(BtfSpec.KindName(type.Kind));
        output.Write(" '");
        output.Write(type.HasName ? type.Name : "(anon)");
        output.Write('\'');
        switch (type.Kind)
        {
            case BtfKind.Int:
                output.Write($" size={type.Size} bits_offset={type.IntBitOffset} nr_bits={type.IntBits} encoding={IntEncodingName(type.IntEncoding)}\n");
                break;
            case BtfKind.Pointer or BtfKind.Typedef or BtfKind.Volatile or BtfKind.Const or BtfKind.Restrict or BtfKind.TypeTag:
                output.Write($" type_id={type.ReferencedTypeId}\n");
                break;
            case BtfKind.Array:
                BtfArray array = type.Array;
                output.Write($" type_id={array.ElementTypeId} index_type_id={array.IndexTypeId} nr_elems={array.Count}\n");
                break;
            case BtfKind.Struct or BtfKind.Union:
                output.Write($" size={type.Size} vlen={type.VariableLength}\n");
                foreach (BtfMember member in type.Members)
                {
                    output.Write($"\t'{(member.NameOffset == 0 ? "(anon)" : member.Name)}' type_id={member.TypeId} bits_offset={member.BitOffset}");
                    output.Write(member.BitfieldSize != 0 ? $" bitfield_size={member.BitfieldSize}\n" : "\n");
                }
                break;
            case BtfKind.Enum or BtfKind.Enum64:
                output.Write($" encoding={(type.IsSignedEnum ? "SIGNED" : "UNSIGNED")} size={type.Size} vlen={type.VariableLength}\n");
                string suffix = type.Kind == BtfKind.Enum64 ? (type.IsSignedEnum ? "LL" : "ULL") : "";
                foreach (BtfEnumerator enumerator in type.Enumerators)
                {
                    string value = enumerator.IsSigned ? enumerator.Value.ToString() : enumerator.RawValue.ToString();
                    output.Write($"\t'{enumerator.Name}' val={value}{suffix}\n");
                }
                break;
            case BtfKind.Forward:
                output.Write(type.IsForwardUnion ? " fwd_kind=union\n" : " fwd_kind=struct\n");
                break;
            case BtfKind.Function:
                output.Write($" type_id={type.ReferencedTypeId} linkage={LinkageName(type.FunctionLinkage)}\n");
                break;
            case BtfKind.FunctionProto:
                output.Write($" ret_type_id={type.ReferencedTypeId} vlen={type.VariableLength}\n");
                foreach (BtfParameter parameter in type.Parameters)
                {
                    output.Write($"\t'{(parameter.NameOffset == 0 ? "(anon)" : parameter.Name)}' type_id={parameter.TypeId}\n");
                }
                break;
            case BtfKind.Variable:
                output.Write($" type_id={type.ReferencedTypeId}, linkage={LinkageName(type.VariableLinkage)}\n");
                break;
            case BtfKind.DataSection:
                output.Write($" size={type.Size} vlen={type.VariableLength}\n");
                foreach (BtfDataSectionVariable variable in type.Variables)
                {
                    output.Write($"\ttype_id={variable.TypeId} offset={variable.Offset} size={variable.Size}");
                    output.Write(spec.TryGetType(variable.TypeId, out BtfType target) ? $" ({target.Describe()})\n" : "\n");
                }
                break;
            case BtfKind.Float:
                output.Write($" size={type.Size}\n");
                break;
            case BtfKind.DeclTag:
                output.Write($" type_id={type.ReferencedTypeId} component_idx={type.DeclTagComponentIndex}\n");
                break;
            default:
                output.Write('\n');
                break;
        }
    }

    private static string IntEncodingName(BtfIntEncoding encoding) => encoding switch
    {
        BtfIntEncoding.None => "(none)",
        BtfIntEncoding.Signed => "SIGNED",
        BtfIntEncoding.Char => "CHAR",
        BtfIntEncoding.Bool => "BOOL",
        _ => "UNKN",
    };

    private static string LinkageName(BtfFunctionLinkage linkage) => linkage switch
    {
        BtfFunctionLinkage.Static => "static",
        BtfFunctionLinkage.Global => "global",
        BtfFunctionLinkage.Extern => "extern",
        _ => "(unknown)",
    };

    private static string LinkageName(BtfVariableLinkage linkage) => linkage switch
    {
        BtfVariableLinkage.Static => "static",
        BtfVariableLinkage.GlobalAllocated => "global",
        BtfVariableLinkage.GlobalExtern => "extern",
        _ => "(unknown)",
    };
}
