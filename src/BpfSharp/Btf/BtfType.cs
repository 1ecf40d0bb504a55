using System.Text;

namespace BpfSharp.Btf;

/// <summary>
/// A handle to one BTF type: its id and where its record starts in the blob. Reading a property
/// decodes that field from the blob; nothing is copied or cached. Properties that exist only for
/// some kinds throw <see cref="InvalidOperationException"/> on the others.
/// </summary>
public readonly struct BtfType : IEquatable<BtfType>
{
    private readonly int _offset;

    internal BtfType(BtfSpec spec, int id, int offset)
    {
        Spec = spec;
        Id = id;
        _offset = offset;
    }

    /// <summary>The BTF this type belongs to.</summary>
    public BtfSpec Spec { get; }

    /// <summary>The type id (0 is void).</summary>
    public int Id { get; }

    private uint Info => _offset < 0 ? 0 : Spec.ReadUInt32(_offset + 4);

    private uint SizeOrType => Spec.ReadUInt32(_offset + 8);

    /// <summary>The kind.</summary>
    public BtfKind Kind => (BtfKind)((Info >> 24) & 0x1f);

    /// <summary>The <c>vlen</c> field: member, enumerator, parameter or variable count; a function's linkage.</summary>
    public int VariableLength => (int)(Info & 0xffff);

    /// <summary>The <c>kind_flag</c> bit: bitfield offsets for structs, union for forwards, signedness for enums, attribute on a type tag.</summary>
    public bool KindFlag => (Info & 0x8000_0000) != 0;

    /// <summary>Offset of the name in the string table (0 for anonymous types).</summary>
    public uint NameOffset => _offset < 0 ? 0 : Spec.ReadUInt32(_offset);

    /// <summary>The name's UTF-8 bytes, without allocating; empty for anonymous types.</summary>
    public ReadOnlySpan<byte> NameBytes => NameOffset == 0 ? default : Spec.GetStringBytes(NameOffset);

    /// <summary>The name, or "" for anonymous types and void.</summary>
    public string Name => NameOffset == 0 ? "" : Spec.GetString(NameOffset);

    /// <summary>Whether the type has a name.</summary>
    public bool HasName => NameOffset != 0 && !NameBytes.IsEmpty;

    /// <summary>Size in bytes: for int, struct, union, enum, enum64, float and data sections.</summary>
    public uint Size => Kind is BtfKind.Int or BtfKind.Struct or BtfKind.Union or BtfKind.Enum or BtfKind.Enum64 or BtfKind.Float or BtfKind.DataSection
        ? SizeOrType
        : throw NotFor(nameof(Size));

    /// <summary>
    /// The type this one refers to: the target of a pointer, typedef, qualifier or type tag, a
    /// function's prototype, a variable's type, the tagged type of a declaration tag, or a
    /// prototype's return type (0 for void).
    /// </summary>
    public int ReferencedTypeId => Kind is BtfKind.Pointer or BtfKind.Typedef or BtfKind.Volatile or BtfKind.Const or BtfKind.Restrict
            or BtfKind.Function or BtfKind.FunctionProto or BtfKind.Variable or BtfKind.DeclTag or BtfKind.TypeTag
        ? (int)SizeOrType
        : throw NotFor(nameof(ReferencedTypeId));

    /// <summary>The type <see cref="ReferencedTypeId"/> names.</summary>
    public BtfType ReferencedType => Spec[ReferencedTypeId];

    private uint IntData => Kind == BtfKind.Int ? Spec.ReadUInt32(_offset + 12) : throw NotFor("integer encoding");

    /// <summary>An integer's encoding (signed, char, bool).</summary>
    public BtfIntEncoding IntEncoding => (BtfIntEncoding)((IntData >> 24) & 0x0f);

    /// <summary>An integer's bit offset within its storage (0 in BTF made by current compilers).</summary>
    public int IntBitOffset => (int)((IntData >> 16) & 0xff);

    /// <summary>An integer's number of value bits.</summary>
    public int IntBits => (int)(IntData & 0xff);

    /// <summary>An array's element type, index type and element count.</summary>
    public BtfArray Array => Kind == BtfKind.Array
        ? new BtfArray((int)Spec.ReadUInt32(_offset + 12), (int)Spec.ReadUInt32(_offset + 16), Spec.ReadUInt32(_offset + 20))
        : throw NotFor(nameof(Array));

    /// <summary>A struct's or union's members, in declaration order.</summary>
    public BtfList<BtfMember> Members => Kind is BtfKind.Struct or BtfKind.Union ? List<BtfMember>() : throw NotFor(nameof(Members));

    /// <summary>An enum's or enum64's enumerators.</summary>
    public BtfList<BtfEnumerator> Enumerators => Kind is BtfKind.Enum or BtfKind.Enum64 ? List<BtfEnumerator>() : throw NotFor(nameof(Enumerators));

    /// <summary>Whether an enum's values are signed (the <c>kind_flag</c> of ENUM and ENUM64).</summary>
    public bool IsSignedEnum => Kind is BtfKind.Enum or BtfKind.Enum64 ? KindFlag : throw NotFor(nameof(IsSignedEnum));

    /// <summary>A function prototype's parameters (a trailing unnamed void parameter marks varargs).</summary>
    public BtfList<BtfParameter> Parameters => Kind == BtfKind.FunctionProto ? List<BtfParameter>() : throw NotFor(nameof(Parameters));

    /// <summary>Whether a function prototype ends with <c>...</c>.</summary>
    public bool IsVariadic
    {
        get
        {
            BtfList<BtfParameter> parameters = Parameters;
            return parameters.Count > 0 && parameters[parameters.Count - 1] is { TypeId: 0, NameOffset: 0 };
        }
    }

    /// <summary>A data section's variables with their offsets and sizes.</summary>
    public BtfList<BtfDataSectionVariable> Variables => Kind == BtfKind.DataSection ? List<BtfDataSectionVariable>() : throw NotFor(nameof(Variables));

    /// <summary>A function's linkage.</summary>
    public BtfFunctionLinkage FunctionLinkage => Kind == BtfKind.Function ? (BtfFunctionLinkage)VariableLength : throw NotFor(nameof(FunctionLinkage));

    /// <summary>A variable's linkage.</summary>
    public BtfVariableLinkage VariableLinkage => Kind == BtfKind.Variable ? (BtfVariableLinkage)Spec.ReadUInt32(_offset + 12) : throw NotFor(nameof(VariableLinkage));

    /// <summary>Whether a forward declaration is of a union (else a struct).</summary>
    public bool IsForwardUnion => Kind == BtfKind.Forward ? KindFlag : throw NotFor(nameof(IsForwardUnion));

    /// <summary>
    /// Which part of the tagged declaration a declaration tag applies to: -1 for the type, variable
    /// or function itself, else the index of a member or parameter.
    /// </summary>
    public int DeclTagComponentIndex => Kind == BtfKind.DeclTag ? (int)Spec.ReadUInt32(_offset + 12) : throw NotFor(nameof(DeclTagComponentIndex));

    /// <summary>Whether this is a struct or union.</summary>
    public bool IsComposite => Kind is BtfKind.Struct or BtfKind.Union;

    /// <summary>Whether this is an enum or enum64.</summary>
    public bool IsEnum => Kind is BtfKind.Enum or BtfKind.Enum64;

    private BtfList<T> List<T>() where T : struct, IBtfRecord<T> =>
        new(Spec, _offset + BtfSpec.TypeRecordLength, VariableLength, BtfSpec.TrailingLength(Kind, 1), Info);

    private InvalidOperationException NotFor(string what) =>
        new($"BTF type {Id} is {BtfSpec.KindName(Kind)}, which has no {what}");

    /// <summary>The kind and name, for messages: <c>STRUCT 'task_struct'</c>.</summary>
    public string Describe() => Id == 0 ? "void" : $"{BtfSpec.KindName(Kind)} '{(HasName ? Name : "(anon)")}'";

    /// <summary>The type as bpftool's raw format prints it, members included.</summary>
    public override string ToString()
    {
        var text = new StringWriter();
        BtfRawWriter.WriteType(text, this);
        return text.ToString().TrimEnd('\n');
    }

    /// <inheritdoc />
    public bool Equals(BtfType other) => ReferenceEquals(Spec, other.Spec) && Id == other.Id;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is BtfType other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Spec, Id);

    /// <summary>Whether two handles name the same type of the same BTF.</summary>
    public static bool operator ==(BtfType left, BtfType right) => left.Equals(right);

    /// <summary>Whether two handles name different types.</summary>
    public static bool operator !=(BtfType left, BtfType right) => !left.Equals(right);
}

/// <summary>An array's shape (<c>struct btf_array</c>).</summary>
/// <param name="ElementTypeId">The element type.</param>
/// <param name="IndexTypeId">The index type (an integer type; informational).</param>
/// <param name="Count">The number of elements (0 for a flexible array member).</param>
public readonly record struct BtfArray(int ElementTypeId, int IndexTypeId, uint Count);

/// <summary>A record that trails a BTF type: a member, enumerator, parameter or data section variable.</summary>
/// <typeparam name="TSelf">The record type.</typeparam>
public interface IBtfRecord<TSelf> where TSelf : struct, IBtfRecord<TSelf>
{
    /// <summary>Decodes the record at <paramref name="offset"/>.</summary>
    /// <param name="spec">The BTF.</param>
    /// <param name="offset">Where the record starts in the blob.</param>
    /// <param name="ownerInfo">The owning type's <c>info</c> word (its kind and <c>kind_flag</c> decide how some records read).</param>
    static abstract TSelf Read(BtfSpec spec, int offset, uint ownerInfo);
}

/// <summary>The records that trail a type, decoded one at a time as they are read; enumerating does not allocate.</summary>
/// <typeparam name="T">The record type.</typeparam>
public readonly struct BtfList<T> : IReadOnlyList<T> where T : struct, IBtfRecord<T>
{
    private readonly BtfSpec _spec;
    private readonly int _start;
    private readonly int _recordLength;
    private readonly uint _ownerInfo;

    internal BtfList(BtfSpec spec, int start, int count, int recordLength, uint ownerInfo)
    {
        _spec = spec;
        _start = start;
        Count = count;
        _recordLength = recordLength;
        _ownerInfo = ownerInfo;
    }

    /// <summary>How many records there are.</summary>
    public int Count { get; }

    /// <summary>The record at <paramref name="index"/>.</summary>
    public T this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            return T.Read(_spec, _start + index * _recordLength, _ownerInfo);
        }
    }

    /// <summary>A struct enumerator over the records.</summary>
    public Enumerator GetEnumerator() => new(this);

    IEnumerator<T> IEnumerable<T>.GetEnumerator() => GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Enumerates records without allocating.</summary>
    public struct Enumerator : IEnumerator<T>
    {
        private readonly BtfList<T> _list;
        private int _index;

        internal Enumerator(BtfList<T> list)
        {
            _list = list;
            _index = -1;
        }

        /// <inheritdoc />
        public readonly T Current => _list[_index];

        readonly object System.Collections.IEnumerator.Current => Current;

        /// <inheritdoc />
        public bool MoveNext() => ++_index < _list.Count;

        /// <inheritdoc />
        public void Reset() => _index = -1;

        /// <inheritdoc />
        public readonly void Dispose()
        {
        }
    }
}
