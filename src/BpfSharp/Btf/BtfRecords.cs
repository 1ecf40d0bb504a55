namespace BpfSharp.Btf;

/// <summary>A struct or union member (<c>struct btf_member</c>).</summary>
public readonly struct BtfMember : IBtfRecord<BtfMember>
{
    private readonly BtfSpec _spec;

    private BtfMember(BtfSpec spec, uint nameOffset, int typeId, uint bitOffset, int bitfieldSize)
    {
        _spec = spec;
        NameOffset = nameOffset;
        TypeId = typeId;
        BitOffset = bitOffset;
        BitfieldSize = bitfieldSize;
    }

    /// <summary>Offset of the name in the string table (0 for an anonymous struct or union member).</summary>
    public uint NameOffset { get; }

    /// <summary>The name, or "" for an anonymous member.</summary>
    public string Name => NameOffset == 0 ? "" : _spec.GetString(NameOffset);

    /// <summary>The name's UTF-8 bytes, without allocating.</summary>
    public ReadOnlySpan<byte> NameBytes => NameOffset == 0 ? default : _spec.GetStringBytes(NameOffset);

    /// <summary>The member's type id.</summary>
    public int TypeId { get; }

    /// <summary>The member's type.</summary>
    public BtfType Type => _spec[TypeId];

    /// <summary>Offset of the member from the start of the struct, in bits.</summary>
    public uint BitOffset { get; }

    /// <summary>Width of a bitfield in bits; 0 when the member is not a bitfield.</summary>
    /// <remarks>
    /// Without the owner's <c>kind_flag</c>, BTF marks a bitfield only through an INT type whose
    /// bit count is smaller than its size; that older form is reported here as well.
    /// </remarks>
    public int BitfieldSize { get; }

    /// <summary>Offset in bytes, rounded down for bitfields.</summary>
    public uint ByteOffset => BitOffset / 8;

    /// <inheritdoc />
    public static BtfMember Read(BtfSpec spec, int offset, uint ownerInfo)
    {
        uint nameOffset = spec.ReadUInt32(offset);
        int typeId = (int)spec.ReadUInt32(offset + 4);
        uint raw = spec.ReadUInt32(offset + 8);
        if ((ownerInfo & 0x8000_0000) != 0)
        {
            return new BtfMember(spec, nameOffset, typeId, raw & 0xff_ffff, (int)(raw >> 24));
        }
        int bitfield = 0;
        // Without kind_flag, a bitfield is an INT whose bits are fewer than its storage.
        if (spec.TryGetType(typeId, out BtfType type) && type.Kind == BtfKind.Int && type.IntBits != type.Size * 8)
        {
            bitfield = type.IntBits;
            raw += (uint)type.IntBitOffset;
        }
        return new BtfMember(spec, nameOffset, typeId, raw, bitfield);
    }

    /// <inheritdoc />
    public override string ToString() => $"'{Name}' type_id={TypeId} bits_offset={BitOffset}" + (BitfieldSize != 0 ? $" bitfield_size={BitfieldSize}" : "");
}

/// <summary>An enumerator of an ENUM (<c>struct btf_enum</c>) or ENUM64 (<c>struct btf_enum64</c>).</summary>
public readonly struct BtfEnumerator : IBtfRecord<BtfEnumerator>
{
    private readonly BtfSpec _spec;

    private BtfEnumerator(BtfSpec spec, uint nameOffset, ulong bits, bool signed)
    {
        _spec = spec;
        NameOffset = nameOffset;
        RawValue = bits;
        IsSigned = signed;
    }

    /// <summary>Offset of the name in the string table.</summary>
    public uint NameOffset { get; }

    /// <summary>The name.</summary>
    public string Name => _spec.GetString(NameOffset);

    /// <summary>The name's UTF-8 bytes, without allocating.</summary>
    public ReadOnlySpan<byte> NameBytes => _spec.GetStringBytes(NameOffset);

    /// <summary>The value's bits, sign-extended to 64 bits when the enum is signed.</summary>
    public ulong RawValue { get; }

    /// <summary>Whether the owning enum is signed.</summary>
    public bool IsSigned { get; }

    /// <summary>The value as a signed number (a large unsigned value wraps).</summary>
    public long Value => (long)RawValue;

    /// <inheritdoc />
    public static BtfEnumerator Read(BtfSpec spec, int offset, uint ownerInfo)
    {
        bool signed = (ownerInfo & 0x8000_0000) != 0;
        uint nameOffset = spec.ReadUInt32(offset);
        ulong bits;
        if ((BtfKind)((ownerInfo >> 24) & 0x1f) == BtfKind.Enum64)
        {
            bits = spec.ReadUInt32(offset + 4) | (ulong)spec.ReadUInt32(offset + 8) << 32;
        }
        else
        {
            uint value = spec.ReadUInt32(offset + 4);
            bits = signed ? (ulong)(long)(int)value : value;
        }
        return new BtfEnumerator(spec, nameOffset, bits, signed);
    }

    /// <inheritdoc />
    public override string ToString() => IsSigned ? $"'{Name}' val={Value}" : $"'{Name}' val={RawValue}";
}

/// <summary>A function prototype parameter (<c>struct btf_param</c>).</summary>
public readonly struct BtfParameter : IBtfRecord<BtfParameter>
{
    private readonly BtfSpec _spec;

    private BtfParameter(BtfSpec spec, uint nameOffset, int typeId)
    {
        _spec = spec;
        NameOffset = nameOffset;
        TypeId = typeId;
    }

    /// <summary>Offset of the name in the string table (0 when unnamed).</summary>
    public uint NameOffset { get; }

    /// <summary>The name, or "".</summary>
    public string Name => NameOffset == 0 ? "" : _spec.GetString(NameOffset);

    /// <summary>The name's UTF-8 bytes, without allocating.</summary>
    public ReadOnlySpan<byte> NameBytes => NameOffset == 0 ? default : _spec.GetStringBytes(NameOffset);

    /// <summary>The parameter's type id (0 with no name marks <c>...</c>).</summary>
    public int TypeId { get; }

    /// <inheritdoc />
    public static BtfParameter Read(BtfSpec spec, int offset, uint ownerInfo) =>
        new(spec, spec.ReadUInt32(offset), (int)spec.ReadUInt32(offset + 4));

    /// <inheritdoc />
    public override string ToString() => $"'{Name}' type_id={TypeId}";
}

/// <summary>A variable placed in a data section (<c>struct btf_var_secinfo</c>).</summary>
public readonly struct BtfDataSectionVariable : IBtfRecord<BtfDataSectionVariable>
{
    private readonly BtfSpec _spec;

    private BtfDataSectionVariable(BtfSpec spec, int typeId, uint offset, uint size)
    {
        _spec = spec;
        TypeId = typeId;
        Offset = offset;
        Size = size;
    }

    /// <summary>The variable (a VAR type) or function (for <c>.ksyms</c> externs).</summary>
    public int TypeId { get; }

    /// <summary>The variable's type.</summary>
    public BtfType Type => _spec[TypeId];

    /// <summary>Byte offset in the section.</summary>
    public uint Offset { get; }

    /// <summary>Size in bytes.</summary>
    public uint Size { get; }

    /// <inheritdoc />
    public static BtfDataSectionVariable Read(BtfSpec spec, int offset, uint ownerInfo) =>
        new(spec, (int)spec.ReadUInt32(offset), spec.ReadUInt32(offset + 4), spec.ReadUInt32(offset + 8));

    /// <inheritdoc />
    public override string ToString() => $"type_id={TypeId} offset={Offset} size={Size}";
}
