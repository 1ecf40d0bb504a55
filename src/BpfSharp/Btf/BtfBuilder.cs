using System.Buffers.Binary;
using System.Text;

namespace BpfSharp.Btf;

/// <summary>
/// Builds a BTF blob in code: add types (<see cref="BtfTypeDefinition"/>), replace any type in
/// place by id (what sanitizing object BTF for an older kernel needs), then <see cref="Build"/>.
/// Strings are deduplicated. Start empty, on top of a base for split BTF, or from an existing
/// spec's types (<see cref="From"/>) to rewrite them.
/// </summary>
public sealed class BtfBuilder
{
    private readonly List<uint[]> _types = new();
    private readonly List<byte> _strings = new();
    private readonly Dictionary<string, uint> _stringOffsets = new(StringComparer.Ordinal);
    private readonly uint _firstStringOffset;

    /// <summary>Creates an empty builder; with <paramref name="baseSpec"/>, the blob will be split BTF on top of it.</summary>
    /// <param name="baseSpec">The base for split BTF (vmlinux for module BTF), or null.</param>
    public BtfBuilder(BtfSpec? baseSpec = null)
    {
        Base = baseSpec;
        FirstTypeId = baseSpec?.TypeIdLimit ?? 1;
        if (baseSpec is null)
        {
            _strings.Add(0);
            _stringOffsets[""] = 0;
        }
        else
        {
            _firstStringOffset = TotalStringLength(baseSpec);
        }
    }

    /// <summary>The base this builder's types extend, or null.</summary>
    public BtfSpec? Base { get; }

    /// <summary>The id the first added type gets.</summary>
    public int FirstTypeId { get; }

    /// <summary>The id the next added type will get.</summary>
    public int NextTypeId => FirstTypeId + _types.Count;

    /// <summary>A builder holding a copy of <paramref name="spec"/>'s own types and strings, ids and string offsets unchanged.</summary>
    public static BtfBuilder From(BtfSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var builder = new BtfBuilder(spec.Base);
        ReadOnlySpan<byte> data = spec.Data;
        // Copy the string table byte for byte so every name offset in the copied records stays valid.
        builder._strings.Clear();
        builder._stringOffsets.Clear();
        uint tableStart = spec.Base is null ? 0 : builder._firstStringOffset;
        int position = 0;
        while (position < spec.StringTableLength)
        {
            ReadOnlySpan<byte> text = spec.GetStringBytes(tableStart + (uint)position);
            builder._stringOffsets.TryAdd(Encoding.UTF8.GetString(text), tableStart + (uint)position);
            foreach (byte b in text)
            {
                builder._strings.Add(b);
            }
            builder._strings.Add(0);
            position += text.Length + 1;
        }
        for (int id = spec.FirstTypeId; id < spec.TypeIdLimit; id++)
        {
            BtfType type = spec[id];
            int words = 3 + BtfSpec.TrailingLength(type.Kind, (uint)type.VariableLength) / 4;
            int offset = spec.OffsetOf(id);
            var record = new uint[words];
            for (int i = 0; i < words; i++)
            {
                record[i] = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(offset + 4 * i, 4));
            }
            builder._types.Add(record);
        }
        return builder;
    }

    private static uint TotalStringLength(BtfSpec spec) => (uint)spec.StringTableLength + (spec.Base is null ? 0 : TotalStringLength(spec.Base));

    /// <summary>Adds <paramref name="name"/> to the string table (once) and returns its offset.</summary>
    public uint AddString(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0 && Base is null)
        {
            return 0;
        }
        if (_stringOffsets.TryGetValue(name, out uint offset))
        {
            return offset;
        }
        if (name.Contains('\0'))
        {
            throw new ArgumentException("a BTF string cannot contain a NUL character", nameof(name));
        }
        offset = _firstStringOffset + (uint)_strings.Count;
        _strings.AddRange(Encoding.UTF8.GetBytes(name));
        _strings.Add(0);
        _stringOffsets[name] = offset;
        return offset;
    }

    /// <summary>Adds a type and returns its id.</summary>
    public int Add(BtfTypeDefinition type)
    {
        ArgumentNullException.ThrowIfNull(type);
        _types.Add(Encode(type));
        return NextTypeId - 1;
    }

    /// <summary>Replaces type <paramref name="id"/> with <paramref name="type"/>; other types keep their ids and references.</summary>
    /// <exception cref="ArgumentOutOfRangeException">This builder does not hold a type with that id.</exception>
    public void Replace(int id, BtfTypeDefinition type)
    {
        ArgumentNullException.ThrowIfNull(type);
        int index = id - FirstTypeId;
        if ((uint)index >= (uint)_types.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(id), id, $"this builder holds type ids {FirstTypeId} to {NextTypeId - 1}");
        }
        _types[index] = Encode(type);
    }

    /// <summary>The kind of type <paramref name="id"/> as it stands in the builder.</summary>
    public BtfKind KindOf(int id)
    {
        int index = id - FirstTypeId;
        if ((uint)index >= (uint)_types.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(id), id, $"this builder holds type ids {FirstTypeId} to {NextTypeId - 1}");
        }
        return (BtfKind)((_types[index][1] >> 24) & 0x1f);
    }

    private uint[] Encode(BtfTypeDefinition type)
    {
        var words = new uint[3 + type.Trailing.Length];
        words[0] = type.Name is null ? 0 : AddString(type.Name);
        words[1] = (uint)type.Kind << 24 | (uint)type.VariableLength | (type.KindFlag ? 0x8000_0000 : 0);
        words[2] = type.SizeOrType;
        type.Trailing.CopyTo(words, 3);
        foreach ((int word, string name) in type.TrailingNames)
        {
            words[3 + word] = AddString(name);
        }
        return words;
    }

    /// <summary>The BTF blob: header, type section, string section.</summary>
    public byte[] Build()
    {
        int typeLength = 0;
        foreach (uint[] record in _types)
        {
            typeLength += record.Length * 4;
        }
        var blob = new byte[BtfSpec.HeaderMinimumLength + typeLength + _strings.Count];
        Span<byte> span = blob;
        BinaryPrimitives.WriteUInt16LittleEndian(span, BtfSpec.Magic);
        span[2] = 1;
        span[3] = 0;
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], BtfSpec.HeaderMinimumLength);
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(span[12..], (uint)typeLength);
        BinaryPrimitives.WriteUInt32LittleEndian(span[16..], (uint)typeLength);
        BinaryPrimitives.WriteUInt32LittleEndian(span[20..], (uint)_strings.Count);
        int position = BtfSpec.HeaderMinimumLength;
        foreach (uint[] record in _types)
        {
            foreach (uint word in record)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(span[position..], word);
                position += 4;
            }
        }
        _strings.CopyTo(blob, position);
        return blob;
    }

    /// <summary>Builds the blob and parses it (on top of <see cref="Base"/> for split BTF).</summary>
    public BtfSpec BuildSpec() => BtfSpec.Parse(Build(), Base);
}

/// <summary>
/// One BTF type to add to a <see cref="BtfBuilder"/>, made by the factory for its kind.
/// Type ids refer to types of the same builder (or its base).
/// </summary>
public sealed class BtfTypeDefinition
{
    private BtfTypeDefinition(BtfKind kind, string? name, int variableLength, bool kindFlag, uint sizeOrType, uint[] trailing, (int, string)[]? trailingNames = null)
    {
        if ((uint)variableLength > 0xffff)
        {
            throw new ArgumentOutOfRangeException(nameof(variableLength), variableLength, "BTF allows at most 65535 members, enumerators, parameters or variables");
        }
        Kind = kind;
        Name = string.IsNullOrEmpty(name) ? null : name;
        VariableLength = variableLength;
        KindFlag = kindFlag;
        SizeOrType = sizeOrType;
        Trailing = trailing;
        TrailingNames = trailingNames ?? [];
    }

    /// <summary>The kind.</summary>
    public BtfKind Kind { get; }

    /// <summary>The name, or null when anonymous.</summary>
    public string? Name { get; }

    /// <summary>The <c>vlen</c> field.</summary>
    public int VariableLength { get; }

    /// <summary>The <c>kind_flag</c> bit.</summary>
    public bool KindFlag { get; }

    /// <summary>The size or referenced type field.</summary>
    public uint SizeOrType { get; }

    internal uint[] Trailing { get; }

    // (word index in Trailing, name): string offsets the builder fills in when it interns the name.
    internal (int Word, string Name)[] TrailingNames { get; }

    /// <summary>An integer type.</summary>
    /// <param name="name">The C name, such as <c>unsigned int</c>.</param>
    /// <param name="size">Size in bytes (1, 2, 4, 8 or 16).</param>
    /// <param name="encoding">Signedness, char, bool.</param>
    /// <param name="bits">Value bits; defaults to all of <paramref name="size"/>.</param>
    public static BtfTypeDefinition Int(string name, uint size, BtfIntEncoding encoding = BtfIntEncoding.None, int bits = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (size is not (1 or 2 or 4 or 8 or 16))
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "an integer is 1, 2, 4, 8 or 16 bytes");
        }
        int valueBits = bits == 0 ? (int)size * 8 : bits;
        if (valueBits <= 0 || valueBits > size * 8)
        {
            throw new ArgumentOutOfRangeException(nameof(bits), bits, $"a {size}-byte integer has 1 to {size * 8} bits");
        }
        return new(BtfKind.Int, name, 0, false, size, [(uint)encoding << 24 | (uint)valueBits]);
    }

    /// <summary>A floating point type (<c>float</c>, <c>double</c>, <c>long double</c>).</summary>
    public static BtfTypeDefinition Float(string name, uint size)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (size is not (2 or 4 or 8 or 12 or 16))
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "a float is 2, 4, 8, 12 or 16 bytes");
        }
        return new(BtfKind.Float, name, 0, false, size, []);
    }

    /// <summary>A pointer to <paramref name="target"/> (0 for <c>void *</c>).</summary>
    public static BtfTypeDefinition Pointer(int target) => Reference(BtfKind.Pointer, null, target);

    /// <summary><c>const</c> <paramref name="target"/>.</summary>
    public static BtfTypeDefinition Const(int target) => Reference(BtfKind.Const, null, target);

    /// <summary><c>volatile</c> <paramref name="target"/>.</summary>
    public static BtfTypeDefinition Volatile(int target) => Reference(BtfKind.Volatile, null, target);

    /// <summary><c>restrict</c> <paramref name="target"/>.</summary>
    public static BtfTypeDefinition Restrict(int target) => Reference(BtfKind.Restrict, null, target);

    /// <summary>A typedef <paramref name="name"/> for <paramref name="target"/>.</summary>
    public static BtfTypeDefinition Typedef(string name, int target)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return Reference(BtfKind.Typedef, name, target);
    }

    /// <summary>A <c>btf_type_tag</c> <paramref name="tag"/> on <paramref name="target"/>.</summary>
    public static BtfTypeDefinition TypeTag(string tag, int target)
    {
        ArgumentException.ThrowIfNullOrEmpty(tag);
        return Reference(BtfKind.TypeTag, tag, target);
    }

    private static BtfTypeDefinition Reference(BtfKind kind, string? name, int target)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(target);
        return new(kind, name, 0, false, (uint)target, []);
    }

    /// <summary>An array of <paramref name="count"/> elements.</summary>
    /// <param name="element">The element type.</param>
    /// <param name="index">The index type (an integer type).</param>
    /// <param name="count">The element count (0 for a flexible array member).</param>
    public static BtfTypeDefinition Array(int element, int index, uint count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(element);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        return new(BtfKind.Array, null, 0, false, 0, [(uint)element, (uint)index, count]);
    }

    /// <summary>A struct.</summary>
    public static BtfTypeDefinition Struct(string? name, uint size, IEnumerable<BtfMemberDefinition> members) => Composite(BtfKind.Struct, name, size, members);

    /// <summary>A union.</summary>
    public static BtfTypeDefinition Union(string? name, uint size, IEnumerable<BtfMemberDefinition> members) => Composite(BtfKind.Union, name, size, members);

    private static BtfTypeDefinition Composite(BtfKind kind, string? name, uint size, IEnumerable<BtfMemberDefinition> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        BtfMemberDefinition[] list = members.ToArray();
        // kind_flag is needed exactly when some member is a bitfield; offsets then have 24 bits.
        bool bitfields = list.Any(m => m.BitfieldSize != 0);
        var trailing = new uint[list.Length * 3];
        var names = new List<(int, string)>();
        for (int i = 0; i < list.Length; i++)
        {
            BtfMemberDefinition member = list[i];
            ArgumentOutOfRangeException.ThrowIfNegative(member.TypeId);
            if (member.BitfieldSize is < 0 or > 255 || bitfields && member.BitOffset > 0xff_ffff)
            {
                throw new ArgumentException($"member {i} ('{member.Name}'): a bitfield is 1 to 255 bits at a bit offset below 2^24");
            }
            if (!string.IsNullOrEmpty(member.Name))
            {
                names.Add((3 * i, member.Name));
            }
            trailing[3 * i + 1] = (uint)member.TypeId;
            trailing[3 * i + 2] = bitfields ? (uint)member.BitfieldSize << 24 | member.BitOffset : member.BitOffset;
        }
        return new(kind, name, list.Length, bitfields, size, trailing, [.. names]);
    }

    /// <summary>An enum of 32-bit values.</summary>
    /// <param name="name">The tag, or null.</param>
    /// <param name="size">Size in bytes (1, 2, 4 or 8).</param>
    /// <param name="signed">Whether values are signed.</param>
    /// <param name="enumerators">Names and values.</param>
    public static BtfTypeDefinition Enum(string? name, uint size, bool signed, IEnumerable<BtfEnumeratorDefinition> enumerators)
    {
        ArgumentNullException.ThrowIfNull(enumerators);
        BtfEnumeratorDefinition[] list = enumerators.ToArray();
        var trailing = new uint[list.Length * 2];
        var names = new (int, string)[list.Length];
        for (int i = 0; i < list.Length; i++)
        {
            ArgumentException.ThrowIfNullOrEmpty(list[i].Name);
            if (signed ? list[i].Value is < int.MinValue or > int.MaxValue : list[i].Value is < 0 or > uint.MaxValue)
            {
                throw new ArgumentOutOfRangeException(nameof(enumerators), list[i].Value, $"'{list[i].Name}' does not fit in 32 bits; use Enum64");
            }
            names[i] = (2 * i, list[i].Name);
            trailing[2 * i + 1] = (uint)list[i].Value;
        }
        return new(BtfKind.Enum, name, list.Length, signed, size, trailing, names);
    }

    /// <summary>An enum of 64-bit values (values are taken as raw 64-bit patterns).</summary>
    public static BtfTypeDefinition Enum64(string? name, uint size, bool signed, IEnumerable<BtfEnumeratorDefinition> enumerators)
    {
        ArgumentNullException.ThrowIfNull(enumerators);
        BtfEnumeratorDefinition[] list = enumerators.ToArray();
        var trailing = new uint[list.Length * 3];
        var names = new (int, string)[list.Length];
        for (int i = 0; i < list.Length; i++)
        {
            ArgumentException.ThrowIfNullOrEmpty(list[i].Name);
            names[i] = (3 * i, list[i].Name);
            trailing[3 * i + 1] = (uint)(ulong)list[i].Value;
            trailing[3 * i + 2] = (uint)((ulong)list[i].Value >> 32);
        }
        return new(BtfKind.Enum64, name, list.Length, signed, size, trailing, names);
    }

    /// <summary>A forward declaration of a struct or union.</summary>
    public static BtfTypeDefinition Forward(string name, bool isUnion)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return new(BtfKind.Forward, name, 0, isUnion, 0, []);
    }

    /// <summary>A function with prototype <paramref name="prototype"/>.</summary>
    public static BtfTypeDefinition Function(string name, int prototype, BtfFunctionLinkage linkage)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfNegative(prototype);
        return new(BtfKind.Function, name, (int)linkage, false, (uint)prototype, []);
    }

    /// <summary>A function prototype; a last parameter with no name and type 0 makes it variadic.</summary>
    public static BtfTypeDefinition FunctionProto(int returnType, IEnumerable<BtfParameterDefinition> parameters)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(returnType);
        ArgumentNullException.ThrowIfNull(parameters);
        BtfParameterDefinition[] list = parameters.ToArray();
        var trailing = new uint[list.Length * 2];
        var names = new List<(int, string)>();
        for (int i = 0; i < list.Length; i++)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(list[i].TypeId);
            if (!string.IsNullOrEmpty(list[i].Name))
            {
                names.Add((2 * i, list[i].Name!));
            }
            trailing[2 * i + 1] = (uint)list[i].TypeId;
        }
        return new(BtfKind.FunctionProto, null, list.Length, false, (uint)returnType, trailing, [.. names]);
    }

    /// <summary>A variable.</summary>
    public static BtfTypeDefinition Variable(string name, int type, BtfVariableLinkage linkage)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfNegative(type);
        return new(BtfKind.Variable, name, 0, false, (uint)type, [(uint)linkage]);
    }

    /// <summary>A data section (<c>.data</c>, <c>.bss</c>, <c>.rodata</c>, <c>.maps</c>, <c>.ksyms</c>) and the variables in it.</summary>
    public static BtfTypeDefinition DataSection(string name, uint size, IEnumerable<BtfDataSectionVariableDefinition> variables)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(variables);
        BtfDataSectionVariableDefinition[] list = variables.ToArray();
        var trailing = new uint[list.Length * 3];
        for (int i = 0; i < list.Length; i++)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(list[i].TypeId);
            trailing[3 * i] = (uint)list[i].TypeId;
            trailing[3 * i + 1] = list[i].Offset;
            trailing[3 * i + 2] = list[i].Size;
        }
        return new(BtfKind.DataSection, name, list.Length, false, size, trailing);
    }

    /// <summary>A <c>btf_decl_tag</c> on <paramref name="target"/> (-1) or on one of its members or parameters.</summary>
    public static BtfTypeDefinition DeclTag(string tag, int target, int componentIndex = -1)
    {
        ArgumentException.ThrowIfNullOrEmpty(tag);
        ArgumentOutOfRangeException.ThrowIfNegative(target);
        ArgumentOutOfRangeException.ThrowIfLessThan(componentIndex, -1);
        return new(BtfKind.DeclTag, tag, 0, false, (uint)target, [(uint)componentIndex]);
    }

    /// <summary>
    /// Any record given field by field, for kinds or encodings the factories do not cover; the
    /// trailing words must match what the kind's <c>vlen</c> implies. Names in the trailing
    /// words are string offsets (see <see cref="BtfBuilder.AddString"/>).
    /// </summary>
    public static BtfTypeDefinition Raw(BtfKind kind, string? name, int variableLength, bool kindFlag, uint sizeOrType, ReadOnlySpan<uint> trailing)
    {
        int expected = BtfSpec.TrailingLength(kind, (uint)variableLength);
        if (expected < 0 || kind == BtfKind.Void)
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a BTF kind that can be stored");
        }
        if (trailing.Length * 4 != expected)
        {
            throw new ArgumentException($"{BtfSpec.KindName(kind)} with vlen {variableLength} needs {expected / 4} trailing words, not {trailing.Length}", nameof(trailing));
        }
        return new(kind, name, variableLength, kindFlag, sizeOrType, trailing.ToArray());
    }
}

/// <summary>A struct or union member for <see cref="BtfTypeDefinition.Struct"/>.</summary>
/// <param name="Name">The name, or null for an anonymous struct or union member.</param>
/// <param name="TypeId">The member's type.</param>
/// <param name="BitOffset">Offset from the start of the struct, in bits.</param>
/// <param name="BitfieldSize">Bitfield width in bits, or 0.</param>
public readonly record struct BtfMemberDefinition(string? Name, int TypeId, uint BitOffset, int BitfieldSize = 0);

/// <summary>An enumerator for <see cref="BtfTypeDefinition.Enum"/> and <see cref="BtfTypeDefinition.Enum64"/>.</summary>
/// <param name="Name">The name.</param>
/// <param name="Value">The value (for unsigned 64-bit values, the same bits as a long).</param>
public readonly record struct BtfEnumeratorDefinition(string Name, long Value);

/// <summary>A prototype parameter for <see cref="BtfTypeDefinition.FunctionProto"/>.</summary>
/// <param name="Name">The name, or null.</param>
/// <param name="TypeId">The type (0 with no name: <c>...</c>).</param>
public readonly record struct BtfParameterDefinition(string? Name, int TypeId);

/// <summary>A variable's place in a data section for <see cref="BtfTypeDefinition.DataSection"/>.</summary>
/// <param name="TypeId">The VAR (or FUNC, for <c>.ksyms</c>) type.</param>
/// <param name="Offset">Byte offset in the section.</param>
/// <param name="Size">Size in bytes.</param>
public readonly record struct BtfDataSectionVariableDefinition(int TypeId, uint Offset, uint Size);
