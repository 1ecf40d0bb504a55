using System.Buffers.Text;
using System.Text;

namespace BpfSharp.Btf;

/// <summary>
/// Writes BTF types as C: a whole header (the <c>vmlinux.h</c> that CO-RE programs include, as
/// <c>bpftool btf dump ... format c</c> writes it) or single declarations.
/// </summary>
/// <remarks>
/// Order: each named struct, union, enum and typedef is written once, after everything it needs by
/// value (member types, array elements) and after the typedefs its declaration mentions; a struct
/// used only through pointers needs nothing before it, except inside a function prototype's
/// parameter list, where C scopes an undeclared tag to the prototype, so a forward declaration
/// comes first. Anonymous structs and unions are written inline; an anonymous enum inline at its
/// first use (its enumerators are file-scope constants) and as its integer type afterwards.
/// Layout: member offsets are reproduced exactly, with <c>__attribute__((packed))</c> where a
/// member sits off its natural alignment and unnamed bitfields (<c>long: 64;</c>) where the
/// compiler's own placement would not reach the recorded offset. Names that two different types
/// share get <c>___2</c>, <c>___3</c>, ... in order of first use, as bpftool does.
/// </remarks>
public sealed class BtfCWriter
{
    private const byte StateDeclared = 1;      // tag or typedef name usable at file scope
    private const byte StateDefined = 2;       // struct/union body written (or enum written)
    private const byte StateDefining = 4;      // struct/union dependencies being written
    private const byte StateTypedefPending = 8;
    private const byte StateEnumInlined = 16;  // anonymous enum already written once
    private const int MaximumNesting = BtfSpec.MaximumNestingDepth;
    // Gaps wider than this are not layout but corruption; filling them would write millions of lines.
    private const long MaximumPaddingBits = 64 * 1024 * 8;

    private readonly BtfSpec _spec;
    private readonly Utf8Sink _out;
    private readonly byte[] _state;
    private readonly int[] _nameSuffix;
    private readonly int[] _alignment;
    private readonly Dictionary<uint, int> _tagNames;
    private readonly Dictionary<uint, int> _identifierNames;
    private readonly List<int> _chain = new();
    private int _depth;

    private BtfCWriter(BtfSpec spec, Stream output)
    {
        _spec = spec;
        _out = new Utf8Sink(output);
        _state = new byte[spec.TypeIdLimit];
        _nameSuffix = new int[spec.TypeIdLimit];
        _alignment = new int[spec.TypeIdLimit];
        var comparer = new StringOffsetComparer(spec);
        _tagNames = new Dictionary<uint, int>(comparer);
        _identifierNames = new Dictionary<uint, int>(comparer);
    }

    /// <summary>
    /// Writes every type of <paramref name="spec"/> (its base's included) as a C header that
    /// clang compiles: the header guard and the <c>preserve_access_index</c> pragma around it, as
    /// <c>bpftool btf dump file /sys/kernel/btf/vmlinux format c</c> writes them.
    /// </summary>
    /// <param name="spec">The BTF.</param>
    /// <param name="output">Where the UTF-8 text goes.</param>
    /// <param name="guard">The header guard macro.</param>
    /// <exception cref="BtfException">The BTF is corrupt or has a by-value type cycle.</exception>
    public static void WriteHeader(BtfSpec spec, Stream output, string guard = "__VMLINUX_H__")
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentException.ThrowIfNullOrEmpty(guard);
        var writer = new BtfCWriter(spec, output);
        writer.WriteAll(guard);
        writer._out.Flush();
    }

    /// <summary>
    /// Type <paramref name="id"/> as a C declaration of <paramref name="name"/>, or as an abstract
    /// type when the name is empty: <c>struct task_struct *</c>, <c>int (*handler)(void *)</c>,
    /// <c>char name[16]</c>. Anonymous structs, unions and enums are written out inline.
    /// </summary>
    public static string FormatDeclaration(BtfSpec spec, int id, string name = "")
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(name);
        using var buffer = new MemoryStream();
        var writer = new BtfCWriter(spec, buffer);
        writer.WriteDeclaration(id, Encoding.UTF8.GetBytes(name), 0);
        writer._out.Flush();
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>
    /// The definition of a named struct, union, enum or typedef (<c>struct foo { ... };</c>), without
    /// the types it depends on.
    /// </summary>
    public static string FormatDefinition(BtfSpec spec, int id)
    {
        ArgumentNullException.ThrowIfNull(spec);
        using var buffer = new MemoryStream();
        var writer = new BtfCWriter(spec, buffer);
        BtfType type = spec[id];
        switch (type.Kind)
        {
            case BtfKind.Struct or BtfKind.Union:
                writer.WriteComposite(type, 0);
                writer._out.Write(";\n"u8);
                break;
            case BtfKind.Enum or BtfKind.Enum64:
                writer.WriteEnum(type, 0);
                writer._out.Write(";\n"u8);
                break;
            case BtfKind.Typedef:
                writer._out.Write("typedef "u8);
                writer.WriteDeclaration(type.ReferencedTypeId, writer.IdentifierName(type), 0);
                writer._out.Write(";\n"u8);
                break;
            default:
                writer.WriteDeclaration(id, default, 0);
                writer._out.Write(";\n"u8);
                break;
        }
        writer._out.Flush();
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private void WriteAll(string guard)
    {
        byte[] guardBytes = Encoding.UTF8.GetBytes(guard);
        _out.Write("#ifndef "u8); _out.Write(guardBytes); _out.Write("\n#define "u8); _out.Write(guardBytes);
        _out.Write("\n\n#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n#endif\n\n"u8);

        bool[] referenced = MarkReferenced();
        for (int id = 1; id < _spec.TypeIdLimit; id++)
        {
            BtfType type = _spec[id];
            switch (type.Kind)
            {
                case BtfKind.Struct or BtfKind.Union or BtfKind.Typedef when type.HasName:
                    Complete(id);
                    break;
                case BtfKind.Enum or BtfKind.Enum64 when type.HasName:
                    Complete(id);
                    break;
                case BtfKind.Enum or BtfKind.Enum64 when !referenced[id]:
                    // An anonymous enum nothing refers to exists for its constants.
                    WriteEnum(type, 0);
                    _state[id] |= StateEnumInlined;
                    _out.Write(";\n\n"u8);
                    break;
                case BtfKind.Forward:
                    WriteForward(type);
                    break;
            }
        }

        _out.Write("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n#endif /* "u8);
        _out.Write(guardBytes);
        _out.Write(" */\n"u8);
    }

    private bool[] MarkReferenced()
    {
        var referenced = new bool[_spec.TypeIdLimit];
        for (int id = 1; id < _spec.TypeIdLimit; id++)
        {
            BtfType type = _spec[id];
            switch (type.Kind)
            {
                case BtfKind.Pointer or BtfKind.Typedef or BtfKind.Volatile or BtfKind.Const or BtfKind.Restrict
                    or BtfKind.TypeTag or BtfKind.Function or BtfKind.Variable or BtfKind.DeclTag:
                    Mark(referenced, type.ReferencedTypeId);
                    break;
                case BtfKind.Array:
                    Mark(referenced, type.Array.ElementTypeId);
                    break;
                case BtfKind.Struct or BtfKind.Union:
                    foreach (BtfMember member in type.Members)
                    {
                        Mark(referenced, member.TypeId);
                    }
                    break;
                case BtfKind.FunctionProto:
                    Mark(referenced, type.ReferencedTypeId);
                    foreach (BtfParameter parameter in type.Parameters)
                    {
                        Mark(referenced, parameter.TypeId);
                    }
                    break;
            }
        }
        return referenced;

        static void Mark(bool[] referenced, int id)
        {
            if ((uint)id < (uint)referenced.Length)
            {
                referenced[id] = true;
            }
        }
    }

    // ---- ordering ----

    private void Enter(int id)
    {
        if (++_depth > MaximumNesting)
        {
            throw new BtfException($"BTF type {id}: types nest more than {MaximumNesting} deep (a reference cycle?)");
        }
    }

    /// <summary>Writes what a by-value use of <paramref name="id"/> needs: complete types.</summary>
    private void Complete(int id)
    {
        Enter(id);
        BtfType type = _spec[id];
        switch (type.Kind)
        {
            case BtfKind.Struct or BtfKind.Union when type.HasName:
                if ((_state[id] & StateDefined) == 0)
                {
                    if ((_state[id] & StateDefining) != 0)
                    {
                        throw new BtfException($"BTF type {id} ({type.Describe()}) contains itself by value, which no C type can");
                    }
                    _state[id] |= StateDefining;
                    CompleteMembers(type);
                    WriteComposite(type, 0);
                    _out.Write(";\n\n"u8);
                    _state[id] = (byte)((_state[id] & ~StateDefining) | StateDefined | StateDeclared);
                }
                break;
            case BtfKind.Struct or BtfKind.Union:
                CompleteMembers(type);
                break;
            case BtfKind.Typedef:
                WriteTypedef(type);
                Complete(type.ReferencedTypeId);
                break;
            case BtfKind.Const or BtfKind.Volatile or BtfKind.Restrict or BtfKind.TypeTag:
                Complete(type.ReferencedTypeId);
                break;
            case BtfKind.Array:
                Complete(type.Array.ElementTypeId);
                break;
            case BtfKind.Enum or BtfKind.Enum64 when type.HasName:
                WriteNamedEnum(type);
                break;
            default:
                Declare(id, inPrototype: false);
                break;
        }
        _depth--;
    }

    private void CompleteMembers(BtfType type)
    {
        foreach (BtfMember member in type.Members)
        {
            Complete(member.TypeId);
        }
    }

    /// <summary>Writes what mentioning <paramref name="id"/> needs (a pointer target, a typedef's target).</summary>
    private void Declare(int id, bool inPrototype)
    {
        Enter(id);
        BtfType type = _spec[id];
        switch (type.Kind)
        {
            case BtfKind.Pointer or BtfKind.Const or BtfKind.Volatile or BtfKind.Restrict or BtfKind.TypeTag:
                Declare(type.ReferencedTypeId, inPrototype);
                break;
            case BtfKind.Array:
                Complete(type.Array.ElementTypeId);
                break;
            case BtfKind.FunctionProto:
                Declare(type.ReferencedTypeId, inPrototype: true);
                foreach (BtfParameter parameter in type.Parameters)
                {
                    Declare(parameter.TypeId, inPrototype: true);
                }
                break;
            case BtfKind.Struct or BtfKind.Union when !type.HasName:
                CompleteMembers(type);
                break;
            case BtfKind.Struct or BtfKind.Union or BtfKind.Forward:
                if (inPrototype && (_state[id] & StateDeclared) == 0)
                {
                    WriteForward(type);
                }
                break;
            case BtfKind.Enum or BtfKind.Enum64 when type.HasName:
                WriteNamedEnum(type);
                break;
            case BtfKind.Typedef:
                WriteTypedef(type);
                break;
        }
        _depth--;
    }

    private void WriteTypedef(BtfType type)
    {
        int id = type.Id;
        if ((_state[id] & StateDeclared) != 0 || IsCompilerBuiltin(type))
        {
            return;
        }
        if ((_state[id] & StateTypedefPending) != 0)
        {
            throw new BtfException($"BTF type {id} ({type.Describe()}) refers to itself");
        }
        _state[id] |= StateTypedefPending;
        Declare(type.ReferencedTypeId, inPrototype: false);
        _out.Write("typedef "u8);
        WriteDeclaration(type.ReferencedTypeId, IdentifierName(type), 0);
        _out.Write(";\n\n"u8);
        _state[id] = (byte)((_state[id] & ~StateTypedefPending) | StateDeclared);
    }

    // clang provides these itself; redefining them is an error.
    private static bool IsCompilerBuiltin(BtfType type) => type.NameBytes.StartsWith("__builtin_"u8);

    private void WriteNamedEnum(BtfType type)
    {
        if ((_state[type.Id] & StateDefined) != 0)
        {
            return;
        }
        _state[type.Id] |= StateDefined | StateDeclared;
        WriteEnum(type, 0);
        _out.Write(";\n\n"u8);
    }

    private void WriteForward(BtfType type)
    {
        if ((_state[type.Id] & StateDeclared) != 0)
        {
            return;
        }
        _state[type.Id] |= StateDeclared;
        bool union = type.Kind == BtfKind.Union || type.Kind == BtfKind.Forward && type.IsForwardUnion;
        _out.Write(union ? "union "u8 : "struct "u8);
        WriteTagName(type);
        _out.Write(";\n\n"u8);
    }

    // ---- names ----

    private void WriteTagName(BtfType type)
    {
        _out.Write(type.NameBytes);
        int suffix = ResolveName(type, _tagNames);
        if (suffix > 1)
        {
            _out.Write("___"u8);
            _out.WriteNumber(suffix);
        }
    }

    private ReadOnlySpan<byte> IdentifierName(BtfType type)
    {
        int suffix = ResolveName(type, _identifierNames);
        return suffix > 1 ? Encoding.UTF8.GetBytes($"{type.Name}___{suffix}") : type.NameBytes;
    }

    private int ResolveName(BtfType type, Dictionary<uint, int> names)
    {
        int suffix = _nameSuffix[type.Id];
        if (suffix == 0)
        {
            if (type.Kind == BtfKind.Forward)
            {
                // A forward declaration names the same tag as the definition it stands for.
                suffix = 1;
            }
            else
            {
                names.TryGetValue(type.NameOffset, out int used);
                suffix = used + 1;
                names[type.NameOffset] = suffix;
            }
            _nameSuffix[type.Id] = suffix;
        }
        return suffix;
    }

    // ---- definitions ----

    private void WriteComposite(BtfType type, int indent)
    {
        bool isUnion = type.Kind == BtfKind.Union;
        _out.Write(isUnion ? "union"u8 : "struct"u8);
        if (type.HasName)
        {
            _out.Write(" "u8);
            WriteTagName(type);
            _state[type.Id] |= StateDeclared;
        }
        BtfList<BtfMember> members = type.Members;
        if (members.Count == 0 && type.Size == 0)
        {
            _out.Write(" {}"u8);
            return;
        }
        _out.Write(" {\n"u8);
        bool packed = _spec.IsPacked(type, 0, _alignment, out _);
        long position = 0;
        long end = 0;
        foreach (BtfMember member in members)
        {
            long offset = member.BitOffset;
            long bits = member.BitfieldSize != 0 ? member.BitfieldSize : 8 * _spec.SizeOf(member.TypeId);
            if (!isUnion)
            {
                if (offset < position)
                {
                    // Overlapping members (corrupt or hand-made BTF) have no C layout; write the
                    // member and let the compiler place it rather than fail the whole header.
                    position = offset;
                }
                long natural = NaturalPlacement(position, member.TypeId, member.BitfieldSize, packed);
                if (natural != offset)
                {
                    WritePadding(position, offset, indent + 1);
                }
            }
            _out.Indent(indent + 1);
            WriteDeclaration(member.TypeId, member.NameBytes, indent + 1);
            if (member.BitfieldSize != 0)
            {
                _out.Write(": "u8);
                _out.WriteNumber(member.BitfieldSize);
            }
            _out.Write(";\n"u8);
            position = isUnion ? 0 : offset + bits;
            end = Math.Max(end, offset + bits);
        }
        if (!isUnion)
        {
            long size = 8L * type.Size;
            long alignment = packed ? 8 : 8L * Alignment(type.Id);
            if (RoundUp(end, alignment) != size && end < size)
            {
                WritePadding(end, size, indent + 1);
            }
        }
        _out.Indent(indent);
        _out.Write(packed ? "} __attribute__((packed))"u8 : "}"u8);
    }

    // Where a C compiler would put the member after the previous one ended at bit 'position'.
    private long NaturalPlacement(long position, int typeId, int bitfieldSize, bool packed)
    {
        if (bitfieldSize == 0)
        {
            return packed ? RoundUp(position, 8) : RoundUp(position, 8L * Alignment(typeId));
        }
        if (packed)
        {
            return position;
        }
        long unit = 8 * _spec.SizeOf(typeId);
        // A bitfield never straddles a storage unit of its declared type.
        return unit > 0 && position / unit != (position + bitfieldSize - 1) / unit
            ? RoundUp(position, 8L * Alignment(typeId))
            : position;
    }

    // Unnamed bitfields fill a gap exactly without changing the struct's alignment.
    private void WritePadding(long from, long to, int indent)
    {
        if (to - from > MaximumPaddingBits)
        {
            throw new BtfException($"BTF struct layout has a gap of {(to - from) / 8} bytes between bit {from} and bit {to}, too wide to be real layout (corrupt offsets or size?)");
        }
        while (from < to)
        {
            long remaining = to - from;
            long width;
            if (from % 8 != 0 || remaining < 8)
            {
                width = Math.Min(8 - from % 8, remaining);
            }
            else
            {
                width = 8;
                foreach (long candidate in (ReadOnlySpan<long>)[64, 32, 16])
                {
                    if (from % candidate == 0 && remaining >= candidate)
                    {
                        width = candidate;
                        break;
                    }
                }
            }
            ReadOnlySpan<byte> typeName = width switch { 64 => "long"u8, 32 => "int"u8, 16 => "short"u8, _ => "char"u8 };
            _out.Indent(indent);
            _out.Write(typeName);
            _out.Write(": "u8);
            _out.WriteNumber(width);
            _out.Write(";\n"u8);
            from += width;
        }
    }

    private static long RoundUp(long value, long alignment) => alignment <= 1 ? value : (value + alignment - 1) / alignment * alignment;

    private int Alignment(int id) => _spec.AlignOf(id, 0, _alignment);

    private void WriteEnum(BtfType type, int indent)
    {
        _out.Write("enum"u8);
        if (type.HasName)
        {
            _out.Write(" "u8);
            WriteTagName(type);
        }
        bool is64 = type.Kind == BtfKind.Enum64;
        BtfList<BtfEnumerator> enumerators = type.Enumerators;
        if (enumerators.Count == 0)
        {
            _out.Write(" {}"u8);
            return;
        }
        _out.Write(" {\n"u8);
        foreach (BtfEnumerator enumerator in enumerators)
        {
            _out.Indent(indent + 1);
            _out.Write(enumerator.NameBytes);
            int suffix;
            _identifierNames.TryGetValue(enumerator.NameOffset, out int used);
            suffix = used + 1;
            _identifierNames[enumerator.NameOffset] = suffix;
            if (suffix > 1)
            {
                _out.Write("___"u8);
                _out.WriteNumber(suffix);
            }
            _out.Write(" = "u8);
            if (enumerator.IsSigned)
            {
                _out.WriteNumber(enumerator.Value);
                if (is64)
                {
                    _out.Write("LL"u8);
                }
            }
            else
            {
                _out.WriteNumber(enumerator.RawValue);
                if (is64)
                {
                    _out.Write("ULL"u8);
                }
            }
            _out.Write(",\n"u8);
        }
        _out.Indent(indent);
        // An enum narrower than int only keeps its size when packed (its values then fit).
        _out.Write(type.Size < 4 ? "} __attribute__((packed))"u8 : "}"u8);
    }

    // ---- declarations ----

    private const int QualifierConst = 1, QualifierVolatile = 2, QualifierRestrict = 4;

    private void WriteDeclaration(int typeId, ReadOnlySpan<byte> name, int indent)
    {
        // Inline anonymous types recurse through here; bound it for corrupt BTF.
        Enter(typeId);
        int start = _chain.Count;
        int qualifiers = 0;
        int id = typeId;
        BtfType baseType;
        for (int steps = 0; ; steps++)
        {
            if (steps > MaximumNesting)
            {
                throw new BtfException($"BTF type {typeId}: more than {MaximumNesting} pointers, arrays and qualifiers in one declaration (a reference cycle?)");
            }
            BtfType type = _spec[id];
            switch (type.Kind)
            {
                case BtfKind.Const:
                    qualifiers |= QualifierConst;
                    id = type.ReferencedTypeId;
                    continue;
                case BtfKind.Volatile:
                    qualifiers |= QualifierVolatile;
                    id = type.ReferencedTypeId;
                    continue;
                case BtfKind.Restrict:
                    qualifiers |= QualifierRestrict;
                    id = type.ReferencedTypeId;
                    continue;
                case BtfKind.TypeTag:
                    id = type.ReferencedTypeId;
                    continue;
                case BtfKind.Pointer:
                    // Qualifiers met before a pointer qualify the pointer itself: 'int *const p'.
                    _chain.Add(id | qualifiers << 28);
                    qualifiers = 0;
                    id = type.ReferencedTypeId;
                    continue;
                case BtfKind.Array:
                    // C has no qualified arrays: the qualifiers belong to the element type.
                    _chain.Add(id);
                    id = type.Array.ElementTypeId;
                    continue;
                case BtfKind.FunctionProto:
                    _chain.Add(id);
                    qualifiers = 0;
                    id = type.ReferencedTypeId;
                    continue;
            }
            baseType = type;
            break;
        }
        int end = _chain.Count;
        if ((qualifiers & QualifierConst) != 0)
        {
            _out.Write("const "u8);
        }
        if ((qualifiers & QualifierVolatile) != 0)
        {
            _out.Write("volatile "u8);
        }
        if ((qualifiers & QualifierRestrict) != 0)
        {
            _out.Write("restrict "u8);
        }
        WriteBaseType(baseType, indent);
        if (end > start || !name.IsEmpty)
        {
            _out.Write(" "u8);
            WriteDeclarator(start, end - start, name, indent);
        }
        _chain.RemoveRange(start, _chain.Count - start);
        _depth--;
    }

    // The declarator for operators chain[start .. start+count) applied outermost first, written
    // so that C's precedence rebuilds them: pointers prefix, arrays and prototypes suffix, and
    // parentheses where a suffix applies to a pointer.
    private void WriteDeclarator(int start, int count, ReadOnlySpan<byte> name, int indent)
    {
        if (count == 0)
        {
            _out.Write(name);
            return;
        }
        int entry = _chain[start + count - 1];
        BtfType type = _spec[entry & 0x0fff_ffff];
        if (type.Kind == BtfKind.Pointer)
        {
            _out.Write("*"u8);
            int qualifiers = entry >>> 28;
            if ((qualifiers & QualifierConst) != 0)
            {
                _out.Write(" const"u8);
            }
            if ((qualifiers & QualifierVolatile) != 0)
            {
                _out.Write(" volatile"u8);
            }
            if ((qualifiers & QualifierRestrict) != 0)
            {
                _out.Write(" restrict"u8);
            }
            if (qualifiers != 0 && (count > 1 || !name.IsEmpty))
            {
                _out.Write(" "u8);
            }
            WriteDeclarator(start, count - 1, name, indent);
            return;
        }
        bool parenthesize = count > 1 && _spec[_chain[start + count - 2] & 0x0fff_ffff].Kind == BtfKind.Pointer;
        if (parenthesize)
        {
            _out.Write("("u8);
        }
        WriteDeclarator(start, count - 1, name, indent);
        if (parenthesize)
        {
            _out.Write(")"u8);
        }
        if (type.Kind == BtfKind.Array)
        {
            _out.Write("["u8);
            _out.WriteNumber(type.Array.Count);
            _out.Write("]"u8);
            return;
        }
        _out.Write("("u8);
        BtfList<BtfParameter> parameters = type.Parameters;
        if (parameters.Count == 0)
        {
            _out.Write("void"u8);
        }
        for (int i = 0; i < parameters.Count; i++)
        {
            BtfParameter parameter = parameters[i];
            if (i > 0)
            {
                _out.Write(", "u8);
            }
            if (parameter.TypeId == 0 && i == parameters.Count - 1)
            {
                _out.Write("..."u8);
                break;
            }
            WriteDeclaration(parameter.TypeId, parameter.NameBytes, indent);
        }
        _out.Write(")"u8);
    }

    private void WriteBaseType(BtfType type, int indent)
    {
        switch (type.Kind)
        {
            case BtfKind.Void:
                _out.Write("void"u8);
                break;
            case BtfKind.Struct or BtfKind.Union when type.HasName:
                _out.Write(type.Kind == BtfKind.Union ? "union "u8 : "struct "u8);
                WriteTagName(type);
                break;
            case BtfKind.Struct or BtfKind.Union:
                WriteComposite(type, indent);
                break;
            case BtfKind.Enum or BtfKind.Enum64 when type.HasName:
                _out.Write("enum "u8);
                WriteTagName(type);
                break;
            case BtfKind.Enum or BtfKind.Enum64:
                if ((_state[type.Id] & StateEnumInlined) == 0)
                {
                    _state[type.Id] |= StateEnumInlined;
                    WriteEnum(type, indent);
                }
                else
                {
                    _out.Write(IntegerTypeName(type.Size, type.IsSignedEnum));
                }
                break;
            case BtfKind.Forward:
                _out.Write(type.IsForwardUnion ? "union "u8 : "struct "u8);
                WriteTagName(type);
                break;
            case BtfKind.Typedef:
                _out.Write(IdentifierName(type));
                break;
            default:
                // INT and FLOAT names are C type names ('long unsigned int', '_Bool', 'double').
                _out.Write(type.NameBytes);
                break;
        }
    }

    private static ReadOnlySpan<byte> IntegerTypeName(uint size, bool signed) => (size, signed) switch
    {
        (1, true) => "signed char"u8,
        (1, false) => "unsigned char"u8,
        (2, true) => "short"u8,
        (2, false) => "unsigned short"u8,
        (8, true) => "long long"u8,
        (8, false) => "unsigned long long"u8,
        (_, true) => "int"u8,
        _ => "unsigned int"u8,
    };

    /// <summary>Compares string-table offsets by the strings they point at, without decoding them.</summary>
    private sealed class StringOffsetComparer(BtfSpec spec) : IEqualityComparer<uint>
    {
        public bool Equals(uint x, uint y) => x == y || spec.GetStringBytes(x).SequenceEqual(spec.GetStringBytes(y));

        public int GetHashCode(uint offset) => BtfSpec.HashName(spec.GetStringBytes(offset));
    }

    /// <summary>A buffered UTF-8 writer: names go from the BTF string table to the output as bytes.</summary>
    private sealed class Utf8Sink(Stream stream)
    {
        private readonly byte[] _buffer = new byte[1 << 16];
        private int _length;

        public void Write(ReadOnlySpan<byte> bytes)
        {
            if (bytes.Length > _buffer.Length - _length)
            {
                Flush();
                if (bytes.Length > _buffer.Length)
                {
                    stream.Write(bytes);
                    return;
                }
            }
            bytes.CopyTo(_buffer.AsSpan(_length));
            _length += bytes.Length;
        }

        public void WriteNumber(long value)
        {
            if (_buffer.Length - _length < 24)
            {
                Flush();
            }
            Utf8Formatter.TryFormat(value, _buffer.AsSpan(_length), out int written);
            _length += written;
        }

        public void WriteNumber(ulong value)
        {
            if (_buffer.Length - _length < 24)
            {
                Flush();
            }
            Utf8Formatter.TryFormat(value, _buffer.AsSpan(_length), out int written);
            _length += written;
        }

        public void Indent(int count)
        {
            for (int i = 0; i < count; i++)
            {
                Write("\t"u8);
            }
        }

        public void Flush()
        {
            stream.Write(_buffer, 0, _length);
            _length = 0;
        }
    }
}
