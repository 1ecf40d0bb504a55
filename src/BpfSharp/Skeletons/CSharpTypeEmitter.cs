using System.Globalization;
using System.Text;
using BpfSharp.Btf;

namespace BpfSharp.Skeletons;

/// <summary>
/// Declares BTF types as C# structs and enums with the C layout, byte for byte, so that a map value, a global
/// variable or a ring buffer record is read in place as the C side wrote it:
/// structs and unions get explicit layouts (<c>FieldOffset</c> from BTF, the C size); arrays are
/// <c>[InlineArray]</c> structs (<c>char</c> arrays print as text); pointers are <c>ulong</c> (BPF pointers are
/// 64 bits); anonymous struct and union members are flattened into their parent, as C lets code name their
/// members; bitfields are properties over <see cref="BitField"/>. Each type is declared once, with everything it
/// holds by value; what it only points to is not declared.
/// </summary>
internal sealed class CSharpTypeEmitter
{
    private const string Interop = "global::System.Runtime.InteropServices.";
    private const string BitFieldType = "global::BpfSharp.Btf.BitField";

    private readonly BtfSpec _btf;
    private readonly CSharpNames _names;
    private readonly Dictionary<int, string> _declared = new();
    private readonly Dictionary<(string Element, bool Text, uint Count), string> _arrays = new();
    private readonly Queue<(int Id, string Name)> _pending = new();
    private readonly List<(string Name, string C, string Element, bool Text, uint Count)> _arrayList = new();

    /// <param name="btf">The object's BTF.</param>
    /// <param name="names">The scope the declared types are named in.</param>
    internal CSharpTypeEmitter(BtfSpec btf, CSharpNames names)
    {
        _btf = btf;
        _names = names;
    }

    /// <summary>
    /// The C# type of a value of BTF type <paramref name="id"/>, declaring it (and what it holds) if needed;
    /// null for what has no C# form by value (void, a zero-length array, a function).
    /// </summary>
    /// <param name="id">The BTF type id.</param>
    /// <param name="hint">The name for an anonymous struct, union or enum (from its member or variable).</param>
    internal string? TypeOf(int id, string? hint = null)
    {
        string? typedefName = null;
        BtfType type = _btf[id];
        for (int depth = 0; depth < BtfSpec.MaximumNestingDepth && type.Kind is BtfKind.Typedef or BtfKind.Const or BtfKind.Volatile or BtfKind.Restrict or BtfKind.TypeTag; depth++)
        {
            if (type.Kind == BtfKind.Typedef && typedefName is null)
            {
                typedefName = type.Name;
            }
            type = type.ReferencedType;
        }
        return type.Kind switch
        {
            BtfKind.Int => Primitive(type),
            BtfKind.Float => type.Size switch { 4 => "float", 8 => "double", _ => ArrayOf("byte", type.Name, text: false, type.Size) },
            BtfKind.Pointer => "ulong",
            BtfKind.Enum or BtfKind.Enum64 or BtfKind.Struct or BtfKind.Union => Declare(type, typedefName ?? hint),
            BtfKind.Array => ArrayOf(type),
            _ => null,
        };
    }

    /// <summary>Declares the named struct, union or enum <paramref name="name"/> of the BTF, as the user asked for it.</summary>
    /// <exception cref="ArgumentException">The BTF has no struct, union, enum or typedef of that name.</exception>
    internal string Declare(string name)
    {
        foreach (BtfKind kind in (ReadOnlySpan<BtfKind>)[BtfKind.Struct, BtfKind.Union, BtfKind.Enum, BtfKind.Enum64, BtfKind.Typedef])
        {
            if (_btf.TryFindType(name, kind, out BtfType type))
            {
                return TypeOf(type.Id) ?? throw new ArgumentException($"type '{name}' has no C# form by value");
            }
        }
        throw new ArgumentException($"the object's BTF has no struct, union, enum or typedef named '{name}'");
    }

    /// <summary>An inline array of <paramref name="count"/> bytes, for data whose BTF type is unknown.</summary>
    internal string Bytes(uint count) => ArrayOf("byte", $"unsigned char[{count}]", text: false, count);

    /// <summary>Writes every type declared so far (and those they need) into <paramref name="output"/>.</summary>
    internal void WriteAll(StringBuilder output, string indent)
    {
        var writtenArrays = 0;
        while (_pending.Count > 0 || writtenArrays < _arrayList.Count)
        {
            while (_pending.TryDequeue(out (int Id, string Name) next))
            {
                BtfType type = _btf[next.Id];
                if (type.IsEnum)
                {
                    WriteEnum(output, indent, type, next.Name);
                }
                else
                {
                    WriteComposite(output, indent, type, next.Name);
                }
            }
            for (; writtenArrays < _arrayList.Count; writtenArrays++)
            {
                WriteArray(output, indent, _arrayList[writtenArrays]);
            }
        }
    }

    private static string Primitive(BtfType type)
    {
        if (type.IntEncoding.HasFlag(BtfIntEncoding.Bool) && type.Size == 1)
        {
            return "bool";
        }
        bool signed = type.IntEncoding.HasFlag(BtfIntEncoding.Signed);
        return type.Size switch
        {
            1 => signed ? "sbyte" : "byte",
            2 => signed ? "short" : "ushort",
            4 => signed ? "int" : "uint",
            8 => signed ? "long" : "ulong",
            16 => signed ? "global::System.Int128" : "global::System.UInt128",
            _ => throw new BtfException($"{type.Describe()} is {type.Size} bytes, which no integer has"),
        };
    }

    private string Declare(BtfType type, string? hint)
    {
        if (_declared.TryGetValue(type.Id, out string? name))
        {
            return name;
        }
        string kind = type.IsEnum ? "Enum" : type.Kind == BtfKind.Union ? "Union" : "Struct";
        name = _names.Take(type.HasName ? type.Name : hint ?? "", "Anonymous" + kind + type.Id.ToString(CultureInfo.InvariantCulture));
        _declared.Add(type.Id, name);
        _pending.Enqueue((type.Id, name));
        return name;
    }

    private string? ArrayOf(BtfType array)
    {
        BtfArray info = array.Array;
        if (info.Count == 0)
        {
            return null;
        }
        BtfType element = _btf.ResolveTypedefsAndQualifiers(info.ElementTypeId);
        bool text = element.Kind == BtfKind.Int && element.Size == 1 && element.Name == "char";
        string? elementName = text ? "byte" : TypeOf(info.ElementTypeId);
        // Arrays of the same element and length share one C# type: its doc names the C type without qualifiers.
        string c = System.Text.RegularExpressions.Regex.Replace(_btf.FormatC(array.Id), @"\b(const|volatile|restrict)\s+", "");
        return elementName is null ? null : ArrayOf(elementName, c, text, info.Count);
    }

    private string ArrayOf(string element, string c, bool text, uint count)
    {
        if (_arrays.TryGetValue((element, text, count), out string? name))
        {
            return name;
        }
        string word = text ? "Char" : element switch
        {
            "byte" => "Byte",
            "sbyte" => "SByte",
            "short" => "Int16",
            "ushort" => "UInt16",
            "int" => "Int32",
            "uint" => "UInt32",
            "long" => "Int64",
            "ulong" => "UInt64",
            "float" => "Single",
            "double" => "Double",
            "bool" => "Boolean",
            _ => element,
        };
        name = _names.Take(word + "Array" + count.ToString(CultureInfo.InvariantCulture), "Array");
        _arrays.Add((element, text, count), name);
        _arrayList.Add((name, c, element, text, count));
        return name;
    }

    private void WriteArray(StringBuilder output, string indent, (string Name, string C, string Element, bool Text, uint Count) array)
    {
        output.Append(indent).Append("/// <summary>C <c>").Append(Escape(array.C)).Append("</c>")
            .Append(array.Text ? ": text, up to the first NUL." : ".").AppendLine("</summary>");
        output.Append(indent).Append("[global::System.Runtime.CompilerServices.InlineArray(").Append(array.Count).AppendLine(")]");
        output.Append(indent).Append("public struct ").AppendLine(array.Name);
        output.Append(indent).AppendLine("{");
        output.Append(indent).Append("    private ").Append(array.Element).AppendLine(" _element0;");
        if (array.Text)
        {
            output.AppendLine();
            output.Append(indent).AppendLine("    /// <summary>The text up to the first NUL (or all of it), decoded as UTF-8.</summary>");
            output.Append(indent).AppendLine("    public override readonly string ToString()");
            output.Append(indent).AppendLine("    {");
            output.Append(indent).AppendLine("        global::System.ReadOnlySpan<byte> bytes = this;");
            output.Append(indent).AppendLine("        int end = bytes.IndexOf((byte)0);");
            output.Append(indent).AppendLine("        return global::System.Text.Encoding.UTF8.GetString(end < 0 ? bytes : bytes[..end]);");
            output.Append(indent).AppendLine("    }");
        }
        output.Append(indent).AppendLine("}");
        output.AppendLine();
    }

    private void WriteEnum(StringBuilder output, string indent, BtfType type, string name)
    {
        // Clang before 15 marks no enum signed: a 32-bit enumerator with its top bit set is then most likely negative
        // (the bits are the same either way).
        bool signed = type.IsSignedEnum || (type.Kind == BtfKind.Enum && type.Size == 4 && type.Enumerators.Any(e => (e.RawValue & 0x8000_0000) != 0));
        string underlying = type.Size switch
        {
            1 => signed ? "sbyte" : "byte",
            2 => signed ? "short" : "ushort",
            8 => signed ? "long" : "ulong",
            _ => signed ? "int" : "uint",
        };
        int bits = (int)Math.Min(type.Size, 8u) * 8;
        output.Append(indent).Append("/// <summary>C <c>enum ").Append(type.HasName ? type.Name : "(anonymous)").AppendLine("</c>.</summary>");
        output.Append(indent).Append("public enum ").Append(name).Append(" : ").AppendLine(underlying);
        output.Append(indent).AppendLine("{");
        var members = new CSharpNames();
        foreach (BtfEnumerator enumerator in type.Enumerators)
        {
            string member = members.Take(enumerator.Name, "Value", avoid: name);
            string value;
            if (signed)
            {
                long number = bits == 64 ? enumerator.Value : (long)(enumerator.RawValue << (64 - bits)) >> (64 - bits);
                value = number == long.MinValue ? "unchecked((long)0x8000000000000000)" : number.ToString(CultureInfo.InvariantCulture);
            }
            else
            {
                ulong number = bits == 64 ? enumerator.RawValue : enumerator.RawValue & ((1UL << bits) - 1);
                value = number.ToString(CultureInfo.InvariantCulture);
            }
            output.Append(indent).Append("    /// <summary>C <c>").Append(enumerator.Name).AppendLine("</c>.</summary>");
            output.Append(indent).Append("    ").Append(member).Append(" = ").Append(value).AppendLine(",");
        }
        output.Append(indent).AppendLine("}");
        output.AppendLine();
    }

    private void WriteComposite(StringBuilder output, string indent, BtfType type, string name)
    {
        string kind = type.Kind == BtfKind.Union ? "union" : "struct";
        output.Append(indent).Append("/// <summary>C <c>").Append(kind).Append(' ').Append(type.HasName ? type.Name : "(anonymous)")
            .Append("</c>, ").Append(type.Size).AppendLine(" bytes.</summary>");
        output.Append(indent).Append("[global::System.Runtime.InteropServices.StructLayout(global::System.Runtime.InteropServices.LayoutKind.Explicit, Size = ").Append(type.Size);
        if (_btf.IsPacked(type.Id) || type.Size % Math.Max(1, _btf.AlignOf(type.Id)) != 0)
        {
            output.Append(", Pack = 1");
        }
        output.AppendLine(")]");
        output.Append(indent).Append("public partial struct ").AppendLine(name);
        output.Append(indent).AppendLine("{");
        var body = new StringBuilder();
        WriteMembers(body, indent + "    ", type, name, 0, new CSharpNames(), 0);
        output.Append(body.ToString().TrimEnd('\n', '\r')).AppendLine();
        output.Append(indent).AppendLine("}");
        output.AppendLine();
    }

    private void WriteMembers(StringBuilder output, string indent, BtfType type, string owner, uint baseBits, CSharpNames members, int depth)
    {
        if (depth > BtfSpec.MaximumNestingDepth)
        {
            throw new BtfException($"{type.Describe()} nests anonymous members too deeply");
        }
        foreach (BtfMember member in type.Members)
        {
            uint bitOffset = baseBits + member.BitOffset;
            BtfType memberType = _btf.ResolveTypedefsAndQualifiers(member.TypeId);
            if (member.Name.Length == 0)
            {
                if (member.BitfieldSize == 0 && memberType.IsComposite)
                {
                    WriteMembers(output, indent, memberType, owner, bitOffset, members, depth + 1); // C names its members directly
                }
                continue; // unnamed bitfields are padding
            }
            string fieldName = members.Take(member.Name, "Field", avoid: owner);
            if (member.BitfieldSize != 0)
            {
                WriteBitfield(output, indent, owner, member, memberType, fieldName, bitOffset);
                continue;
            }
            string? fieldType = TypeOf(member.TypeId, owner + CSharpNames.Pascal(member.Name));
            string c = Escape(_btf.FormatC(member.TypeId, member.Name));
            if (fieldType is null)
            {
                output.Append(indent).Append("// ").Append(c).Append(" at byte ").Append(bitOffset / 8).AppendLine(": no C# field (flexible array or function)");
                continue;
            }
            output.Append(indent).Append("/// <summary>C <c>").Append(c).AppendLine("</c>.</summary>");
            output.Append(indent).Append("[global::System.Runtime.InteropServices.FieldOffset(").Append(bitOffset / 8).Append(")] public ").Append(fieldType).Append(' ').Append(fieldName).AppendLine(";");
            output.AppendLine();
        }
    }

    private void WriteBitfield(StringBuilder output, string indent, string owner, BtfMember member, BtfType memberType, string fieldName, uint bitOffset)
    {
        string propertyType;
        bool signed;
        if (memberType.IsEnum)
        {
            propertyType = TypeOf(member.TypeId, owner + CSharpNames.Pascal(member.Name))!;
            signed = memberType.IsSignedEnum;
        }
        else if (memberType.Kind == BtfKind.Int)
        {
            propertyType = Primitive(memberType);
            signed = memberType.IntEncoding.HasFlag(BtfIntEncoding.Signed);
        }
        else
        {
            throw new BtfException($"bitfield '{member.Name}' has type {memberType.Describe()}, which C does not allow");
        }
        string at = bitOffset.ToString(CultureInfo.InvariantCulture) + ", " + member.BitfieldSize.ToString(CultureInfo.InvariantCulture);
        string read = signed ? $"{BitFieldType}.ReadSigned({Interop}MemoryMarshal.AsBytes(new global::System.ReadOnlySpan<{owner}>(in this)), {at})"
            : $"{BitFieldType}.Read({Interop}MemoryMarshal.AsBytes(new global::System.ReadOnlySpan<{owner}>(in this)), {at})";
        string getter = propertyType == "bool" ? read + " != 0" : $"({propertyType}){read}";
        string value = propertyType == "bool" ? "value ? 1UL : 0UL" : "unchecked((ulong)value)";
        output.Append(indent).Append("/// <summary>C <c>").Append(Escape(_btf.FormatC(member.TypeId, member.Name))).Append(" : ").Append(member.BitfieldSize)
            .Append("</c>, bits ").Append(bitOffset).Append(" to ").Append(bitOffset + (uint)member.BitfieldSize - 1).AppendLine(".</summary>");
        output.Append(indent).Append("public ").Append(propertyType).Append(' ').AppendLine(fieldName);
        output.Append(indent).AppendLine("{");
        output.Append(indent).Append("    readonly get => ").Append(getter).AppendLine(";");
        output.Append(indent).Append("    set => ").Append(BitFieldType).Append(".Write(").Append(Interop).Append("MemoryMarshal.AsBytes(new global::System.Span<").Append(owner).Append(">(ref this)), ").Append(at).Append(", ").Append(value).AppendLine(");");
        output.Append(indent).AppendLine("}");
        output.AppendLine();
    }

    /// <summary>C text in an XML doc comment: on one line, markup escaped.</summary>
    internal static string Escape(string c) => System.Text.RegularExpressions.Regex.Replace(c, @"\s+", " ").Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
}
