using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace BpfSharp.Btf;

/// <summary>
/// Parsed BTF: a type section and a string table over a blob that is never copied. Parsing makes
/// one pass that records where each type's record starts (an <c>int[]</c>, no per-type objects);
/// types are read on demand through <see cref="BtfType"/> handles, names decoded only when asked
/// for, and the name index built on the first lookup by name.
/// A split BTF (kernel module BTF) sits on a <see cref="Base"/>: its type ids and string offsets
/// continue from the base's, and lookups see both.
/// </summary>
public sealed class BtfSpec
{
    /// <summary>The BTF magic number, <c>0xeB9F</c>.</summary>
    public const ushort Magic = 0xEB9F;

    internal const int HeaderMinimumLength = 24;
    internal const int TypeRecordLength = 12;

    // Guards walks that follow type references (typedef chains, qualifiers, nested arrays) so
    // that a cycle in corrupt BTF ends in an exception, not a hang. Real C types never come near.
    internal const int MaximumReferenceDepth = 64;

    // Structs inside structs, by value: real kernels stay far below this; it keeps recursion off the stack limit.
    internal const int MaximumNestingDepth = 256;

    private readonly ReadOnlyMemory<byte> _blob;
    private readonly int _stringsStart;
    private readonly int _stringsLength;
    // Record offsets of this spec's types; only the first _typeCount entries are used (the
    // array is sized by an estimate and not shrunk, which would copy it once more).
    private readonly int[] _typeOffsets;
    private readonly int _typeCount;
    private readonly uint _firstStringOffset;
    private NameIndex? _nameIndex;
    private int _pointerSize;

    private BtfSpec(ReadOnlyMemory<byte> blob, BtfSpec? baseSpec, int stringsStart, int stringsLength, int[] typeOffsets, int typeCount)
    {
        _typeCount = typeCount;
        _blob = blob;
        Base = baseSpec;
        _stringsStart = stringsStart;
        _stringsLength = stringsLength;
        _typeOffsets = typeOffsets;
        FirstTypeId = baseSpec?.TypeIdLimit ?? 1;
        _firstStringOffset = baseSpec is null ? 0 : baseSpec._firstStringOffset + (uint)baseSpec._stringsLength;
    }

    /// <summary>The BTF this one is split from (vmlinux for a module's BTF), or null.</summary>
    public BtfSpec? Base { get; }

    /// <summary>The raw blob this spec reads (header, types and strings of this spec only, not the base's).</summary>
    public ReadOnlyMemory<byte> RawData => _blob;

    /// <summary>The first type id this spec defines: 1, or the base's <see cref="TypeIdLimit"/> for split BTF.</summary>
    public int FirstTypeId { get; }

    /// <summary>One past the largest valid type id (types of the base included).</summary>
    public int TypeIdLimit => FirstTypeId + _typeCount;

    /// <summary>How many types this spec itself defines (not counting void or the base's types).</summary>
    public int OwnTypeCount => _typeCount;

    /// <summary>Length in bytes of this spec's own string table.</summary>
    public int StringTableLength => _stringsLength;

    /// <summary>The type with id <paramref name="id"/> (0 is void), from this spec or its base.</summary>
    /// <exception cref="BtfException">No type has that id.</exception>
    public BtfType this[int id]
    {
        get
        {
            if (!TryGetType(id, out BtfType type))
            {
                throw new BtfException($"BTF type id {id} is out of range: valid ids are 0 to {TypeIdLimit - 1}");
            }
            return type;
        }
    }

    /// <summary>Gets the type with id <paramref name="id"/>; false when no type has that id.</summary>
    public bool TryGetType(int id, out BtfType type)
    {
        if (id >= FirstTypeId)
        {
            int index = id - FirstTypeId;
            if ((uint)index < (uint)_typeCount)
            {
                type = new BtfType(this, id, _typeOffsets[index]);
                return true;
            }
            type = default;
            return false;
        }
        if (id == 0)
        {
            type = new BtfType(this, 0, -1);
            return true;
        }
        if (id > 0 && Base is not null)
        {
            return Base.TryGetType(id, out type);
        }
        type = default;
        return false;
    }

    /// <summary>Every type from <see cref="FirstTypeId"/> on (this spec's own types), in id order.</summary>
    public IEnumerable<BtfType> OwnTypes
    {
        get
        {
            for (int id = FirstTypeId; id < TypeIdLimit; id++)
            {
                yield return this[id];
            }
        }
    }

    /// <summary>Every type, the base's included, from id 1 on, in id order.</summary>
    public IEnumerable<BtfType> Types
    {
        get
        {
            for (int id = 1; id < TypeIdLimit; id++)
            {
                yield return this[id];
            }
        }
    }

    /// <summary>Parses a BTF blob (the <c>.BTF</c> section of an object, <c>/sys/kernel/btf/*</c>, or a loaded BTF object's data).</summary>
    /// <param name="blob">The raw BTF; it is referenced, not copied, and must not change afterwards.</param>
    /// <param name="baseSpec">For split BTF (a kernel module's), the BTF it extends (vmlinux); null otherwise.</param>
    /// <exception cref="BtfException">The blob is not valid BTF.</exception>
    public static BtfSpec Parse(ReadOnlyMemory<byte> blob, BtfSpec? baseSpec = null)
    {
        ReadOnlySpan<byte> data = blob.Span;
        if (data.Length < HeaderMinimumLength)
        {
            throw new BtfException($"BTF is truncated: {data.Length} bytes is shorter than the {HeaderMinimumLength}-byte header");
        }
        ushort magic = BinaryPrimitives.ReadUInt16LittleEndian(data);
        if (data.StartsWith((ReadOnlySpan<byte>)[0x7f, (byte)'E', (byte)'L', (byte)'F']))
        {
            throw new BtfException("this is an ELF object, not raw BTF: parse its .BTF section (llvm-objcopy --dump-section .BTF=FILE OBJECT /dev/null extracts it)");
        }
        if (magic != Magic)
        {
            throw magic == BinaryPrimitives.ReverseEndianness(Magic)
                ? new BtfException("BTF is big-endian (byte-swapped magic 0x9feb); only BTF in the host's little-endian byte order is supported")
                : new BtfException($"not BTF: magic is 0x{magic:x4}, expected 0x{Magic:x4}");
        }
        if (data[2] != 1)
        {
            throw new BtfException($"BTF version {data[2]} is not supported (only version 1 exists)");
        }
        uint headerLength = ReadUInt32(data, 4);
        uint typeOffset = ReadUInt32(data, 8);
        uint typeLength = ReadUInt32(data, 12);
        uint stringOffset = ReadUInt32(data, 16);
        uint stringLength = ReadUInt32(data, 20);
        if (headerLength < HeaderMinimumLength || headerLength > (uint)data.Length)
        {
            throw new BtfException($"BTF header length {headerLength} is invalid for a {data.Length}-byte blob");
        }
        ulong typesStart = headerLength + (ulong)typeOffset;
        ulong typesEnd = typesStart + typeLength;
        ulong stringsStart = headerLength + (ulong)stringOffset;
        ulong stringsEnd = stringsStart + stringLength;
        if (typesEnd > (ulong)data.Length || stringsEnd > (ulong)data.Length)
        {
            throw new BtfException($"BTF is truncated: sections end at byte {Math.Max(typesEnd, stringsEnd)} but the blob has {data.Length} bytes");
        }
        if (typeOffset % 4 != 0)
        {
            throw new BtfException($"BTF type section offset {typeOffset} is not 4-byte aligned");
        }
        if (typesStart < stringsEnd && stringsStart < typesEnd)
        {
            throw new BtfException("BTF type and string sections overlap");
        }
        // Base BTF starts with the empty string at offset 0; split BTF continues its base's table.
        if (baseSpec is null && (stringLength == 0 || data[(int)stringsStart] != 0))
        {
            throw new BtfException("BTF string section must start with a NUL byte (the empty name at offset 0)");
        }
        if (stringLength > 0 && data[(int)(stringsEnd - 1)] != 0)
        {
            throw new BtfException("BTF string section must end with a NUL byte");
        }
        int[] offsets = IndexTypes(data, (int)typesStart, (int)typesEnd, baseSpec?.TypeIdLimit ?? 1, out int count);
        return new BtfSpec(blob, baseSpec, (int)stringsStart, (int)stringLength, offsets, count);
    }

    /// <summary>Reads and parses a raw BTF file such as <c>/sys/kernel/btf/vmlinux</c>.</summary>
    /// <param name="path">The file.</param>
    /// <param name="baseSpec">For split BTF, the base it extends.</param>
    public static BtfSpec Load(string path, BtfSpec? baseSpec = null)
    {
        byte[] bytes;
        try
        {
            bytes = ReadFile(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BtfException($"cannot read BTF from {path}: {e.Message}", e);
        }
        try
        {
            return Parse(bytes, baseSpec);
        }
        catch (BtfException e)
        {
            throw new BtfException($"{path}: {e.Message}", e);
        }
    }

    private static byte[] ReadFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        long length = stream.Length;
        if (length <= 0)
        {
            // Some pseudo-files report no size; read them to the end.
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            return copy.ToArray();
        }
        byte[] bytes = GC.AllocateUninitializedArray<byte>(checked((int)length));
        stream.ReadExactly(bytes);
        return bytes;
    }

    // The one pass: validates each record's extent and kind, and remembers where it starts.
    private static int[] IndexTypes(ReadOnlySpan<byte> data, int start, int end, int firstId, out int count)
    {
        // Kernel BTF averages about 25 bytes a type (records plus members); sizing by 24 avoids growing.
        var offsets = new int[Math.Max(16, (end - start) / 24)];
        int found = 0;
        ref byte origin = ref MemoryMarshal.GetReference(data);
        int position = start;
        while (position < end)
        {
            if (end - position < TypeRecordLength)
            {
                throw new BtfException($"BTF type {firstId + found} at byte {position} is truncated: the type section ends at byte {end}");
            }
            uint info = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref origin, position + 4));
            int trailing = TrailingLength((BtfKind)((info >> 24) & 0x1f), info & 0xffff);
            if (trailing < 0 || (info >> 24 & 0x1f) != (info >> 24 & 0x7f))
            {
                throw new BtfException($"BTF type {firstId + found} has unknown kind {(info >> 24) & 0x7f}");
            }
            if (trailing > end - position - TypeRecordLength)
            {
                throw new BtfException($"BTF type {firstId + found} ({KindName((BtfKind)((info >> 24) & 0x1f))}) at byte {position} is truncated: its {trailing} bytes of members run past the type section");
            }
            if (found == offsets.Length)
            {
                Array.Resize(ref offsets, offsets.Length + offsets.Length / 2);
            }
            offsets[found++] = position;
            position += TypeRecordLength + trailing;
        }
        count = found;
        return offsets;
    }

    /// <summary>Bytes following the 12-byte common record of a kind, or -1 for an unknown kind.</summary>
    internal static int TrailingLength(BtfKind kind, uint vlen) => kind switch
    {
        BtfKind.Int or BtfKind.Variable or BtfKind.DeclTag => 4,
        BtfKind.Array => 12,
        BtfKind.Struct or BtfKind.Union or BtfKind.DataSection or BtfKind.Enum64 => (int)vlen * 12,
        BtfKind.Enum or BtfKind.FunctionProto => (int)vlen * 8,
        BtfKind.Pointer or BtfKind.Forward or BtfKind.Typedef or BtfKind.Volatile or BtfKind.Const or BtfKind.Restrict
            or BtfKind.Function or BtfKind.Float or BtfKind.TypeTag => 0,
        _ => -1,
    };

    /// <summary>The kernel's name for a kind, as bpftool prints it: <c>STRUCT</c>, <c>FUNC_PROTO</c>, ...</summary>
    public static string KindName(BtfKind kind) => kind switch
    {
        BtfKind.Void => "UNKN",
        BtfKind.Int => "INT",
        BtfKind.Pointer => "PTR",
        BtfKind.Array => "ARRAY",
        BtfKind.Struct => "STRUCT",
        BtfKind.Union => "UNION",
        BtfKind.Enum => "ENUM",
        BtfKind.Forward => "FWD",
        BtfKind.Typedef => "TYPEDEF",
        BtfKind.Volatile => "VOLATILE",
        BtfKind.Const => "CONST",
        BtfKind.Restrict => "RESTRICT",
        BtfKind.Function => "FUNC",
        BtfKind.FunctionProto => "FUNC_PROTO",
        BtfKind.Variable => "VAR",
        BtfKind.DataSection => "DATASEC",
        BtfKind.Float => "FLOAT",
        BtfKind.DeclTag => "DECL_TAG",
        BtfKind.TypeTag => "TYPE_TAG",
        BtfKind.Enum64 => "ENUM64",
        _ => $"kind {(int)kind}",
    };

    internal ReadOnlySpan<byte> Data => _blob.Span;

    /// <summary>Where type <paramref name="id"/>'s record starts in <see cref="RawData"/> (own types only).</summary>
    internal int OffsetOf(int id) => _typeOffsets[id - FirstTypeId];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal uint ReadUInt32(int offset) => ReadUInt32(_blob.Span, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint ReadUInt32(ReadOnlySpan<byte> data, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(offset, 4));

    /// <summary>
    /// The bytes of the NUL-terminated string at <paramref name="offset"/> in the string table
    /// (offsets of a split BTF continue from its base's), without the NUL and without allocating.
    /// </summary>
    /// <exception cref="BtfException">The offset is outside the string table.</exception>
    public ReadOnlySpan<byte> GetStringBytes(uint offset)
    {
        if (offset < _firstStringOffset)
        {
            return Base!.GetStringBytes(offset);
        }
        uint local = offset - _firstStringOffset;
        if (local >= (uint)_stringsLength)
        {
            if (offset == 0)
            {
                return default;
            }
            throw new BtfException($"BTF string offset {offset} is outside the string table ({_firstStringOffset + (uint)_stringsLength} bytes)");
        }
        // The section ends with a NUL (checked when parsing), so the search always stops inside it.
        ReadOnlySpan<byte> rest = _blob.Span.Slice(_stringsStart + (int)local, _stringsLength - (int)local);
        return rest[..rest.IndexOf((byte)0)];
    }

    /// <summary>The string at <paramref name="offset"/> in the string table, decoded as UTF-8.</summary>
    /// <exception cref="BtfException">The offset is outside the string table.</exception>
    public string GetString(uint offset)
    {
        ReadOnlySpan<byte> bytes = GetStringBytes(offset);
        return bytes.IsEmpty ? "" : Encoding.UTF8.GetString(bytes);
    }

    /// <summary>The first type named <paramref name="name"/> of kind <paramref name="kind"/>, lowest id first (base types before split ones).</summary>
    /// <exception cref="KeyNotFoundException">No such type.</exception>
    public BtfType FindType(string name, BtfKind kind)
    {
        if (!TryFindType(name, kind, out BtfType type))
        {
            throw new KeyNotFoundException($"BTF has no {KindName(kind)} named '{name}'");
        }
        return type;
    }

    /// <summary>Looks up the first type named <paramref name="name"/> of kind <paramref name="kind"/>.</summary>
    public bool TryFindType(string name, BtfKind kind, out BtfType type)
    {
        ArgumentNullException.ThrowIfNull(name);
        Span<byte> buffer = name.Length <= 256 ? stackalloc byte[Encoding.UTF8.GetMaxByteCount(name.Length)] : new byte[Encoding.UTF8.GetMaxByteCount(name.Length)];
        int length = Encoding.UTF8.GetBytes(name, buffer);
        return TryFindType(buffer[..length], kind, out type);
    }

    /// <summary>Looks up the first type whose UTF-8 name is <paramref name="name"/> and whose kind is <paramref name="kind"/>.</summary>
    public bool TryFindType(ReadOnlySpan<byte> name, BtfKind kind, out BtfType type)
    {
        if (Base is not null && Base.TryFindType(name, kind, out type))
        {
            return true;
        }
        NameIndex index = GetNameIndex();
        for (int local = index.First(name); local >= 0; local = index.Next(local))
        {
            BtfType candidate = new(this, FirstTypeId + local, _typeOffsets[local]);
            if (candidate.Kind == kind && candidate.NameBytes.SequenceEqual(name))
            {
                type = candidate;
                return true;
            }
        }
        type = default;
        return false;
    }

    /// <summary>Every type named <paramref name="name"/>, of any kind, in id order (base types first).</summary>
    public IReadOnlyList<BtfType> FindTypes(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var found = new List<BtfType>();
        CollectByName(Encoding.UTF8.GetBytes(name), found);
        return found;
    }

    private void CollectByName(byte[] name, List<BtfType> found)
    {
        Base?.CollectByName(name, found);
        NameIndex index = GetNameIndex();
        for (int local = index.First(name); local >= 0; local = index.Next(local))
        {
            BtfType candidate = new(this, FirstTypeId + local, _typeOffsets[local]);
            if (candidate.NameBytes.SequenceEqual(name))
            {
                found.Add(candidate);
            }
        }
    }

    private NameIndex GetNameIndex()
    {
        NameIndex? index = Volatile.Read(ref _nameIndex);
        if (index is null)
        {
            // Building twice on a race is harmless: both results are equal, one wins.
            index = new NameIndex(this);
            Interlocked.CompareExchange(ref _nameIndex, index, null);
            index = _nameIndex!;
        }
        return index;
    }

    /// <summary>
    /// Size of a pointer for this BTF's target: the size of <c>long</c> when the BTF has it, else 8.
    /// BTF itself does not record it; libbpf guesses the same way.
    /// </summary>
    public int PointerSize
    {
        get
        {
            if (_pointerSize == 0)
            {
                int size = 8;
                foreach (string name in (ReadOnlySpan<string>)["long int", "long unsigned int", "long", "unsigned long"])
                {
                    if (TryFindType(name, BtfKind.Int, out BtfType longType))
                    {
                        uint longSize = longType.Size;
                        if (longSize is 4 or 8)
                        {
                            size = (int)longSize;
                        }
                        break;
                    }
                }
                _pointerSize = size;
            }
            return _pointerSize;
        }
    }

    /// <summary>
    /// Follows typedefs, <c>const</c>, <c>volatile</c>, <c>restrict</c> and type tags from
    /// <paramref name="id"/> to the type they name.
    /// </summary>
    public BtfType ResolveTypedefsAndQualifiers(int id) => Resolve(id, throughTypedefs: true);

    /// <summary>Follows <c>const</c>, <c>volatile</c>, <c>restrict</c> and type tags (not typedefs) from <paramref name="id"/>.</summary>
    public BtfType SkipQualifiers(int id) => Resolve(id, throughTypedefs: false);

    private BtfType Resolve(int id, bool throughTypedefs)
    {
        BtfType type = this[id];
        for (int depth = 0; depth < MaximumReferenceDepth; depth++)
        {
            switch (type.Kind)
            {
                case BtfKind.Const or BtfKind.Volatile or BtfKind.Restrict or BtfKind.TypeTag:
                case BtfKind.Typedef when throughTypedefs:
                    type = this[type.ReferencedTypeId];
                    break;
                default:
                    return type;
            }
        }
        throw new BtfException($"BTF type {id}: more than {MaximumReferenceDepth} typedefs and qualifiers in a row (a reference cycle?)");
    }

    /// <summary>The size in bytes of a value of type <paramref name="id"/>, as C's <c>sizeof</c> gives it.</summary>
    /// <exception cref="BtfException">The type has no size (void, a function, a forward declaration) or the BTF is corrupt.</exception>
    public long SizeOf(int id)
    {
        try
        {
            return SizeOfUnchecked(id);
        }
        catch (OverflowException)
        {
            throw new BtfException($"BTF type {id}: its size does not fit in 64 bits");
        }
    }

    private long SizeOfUnchecked(int id)
    {
        long multiplier = 1;
        BtfType type = this[id];
        for (int depth = 0; depth < MaximumReferenceDepth; depth++)
        {
            switch (type.Kind)
            {
                case BtfKind.Int or BtfKind.Struct or BtfKind.Union or BtfKind.Enum or BtfKind.Enum64 or BtfKind.Float or BtfKind.DataSection:
                    return checked(multiplier * type.Size);
                case BtfKind.Pointer:
                    return checked(multiplier * PointerSize);
                case BtfKind.Array:
                    BtfArray array = type.Array;
                    multiplier = checked(multiplier * array.Count);
                    type = this[array.ElementTypeId];
                    break;
                case BtfKind.Typedef or BtfKind.Const or BtfKind.Volatile or BtfKind.Restrict or BtfKind.TypeTag or BtfKind.Variable:
                    type = this[type.ReferencedTypeId];
                    break;
                default:
                    throw new BtfException($"BTF type {id} ({type.Describe()}) has no size");
            }
        }
        throw new BtfException($"BTF type {id}: more than {MaximumReferenceDepth} nested references while computing its size (a reference cycle?)");
    }

    /// <summary>
    /// The alignment in bytes of type <paramref name="id"/>: what a C compiler for the BTF's target
    /// would use (1 for a struct whose member offsets show it is packed).
    /// </summary>
    public int AlignOf(int id) => AlignOf(id, 0, null);

    // 'cache' (indexed by type id, 0 = not computed) lets the C writer, which asks for every
    // struct, avoid walking shared member types again and again.
    internal int AlignOf(int id, int depth, int[]? cache)
    {
        if (cache is not null && (uint)id < (uint)cache.Length && cache[id] != 0)
        {
            return cache[id];
        }
        if (depth > MaximumNestingDepth)
        {
            throw new BtfException($"BTF type {id}: more than {MaximumNestingDepth} nested types while computing alignment (a reference cycle?)");
        }
        BtfType type = this[id];
        int alignment;
        switch (type.Kind)
        {
            case BtfKind.Int or BtfKind.Enum or BtfKind.Enum64 or BtfKind.Float:
                alignment = (int)Math.Clamp(type.Size, 1, (uint)PointerSize);
                break;
            case BtfKind.Pointer:
                alignment = PointerSize;
                break;
            case BtfKind.Array:
                alignment = AlignOf(type.Array.ElementTypeId, depth + 1, cache);
                break;
            case BtfKind.Typedef or BtfKind.Const or BtfKind.Volatile or BtfKind.Restrict or BtfKind.TypeTag:
                alignment = AlignOf(type.ReferencedTypeId, depth + 1, cache);
                break;
            case BtfKind.Struct or BtfKind.Union:
                alignment = IsPacked(type, depth, cache, out int natural) ? 1 : natural;
                break;
            default:
                throw new BtfException($"BTF type {id} ({type.Describe()}) has no alignment");
        }
        if (cache is not null && (uint)id < (uint)cache.Length)
        {
            cache[id] = alignment;
        }
        return alignment;
    }

    /// <summary>
    /// Whether a struct or union needs <c>__attribute__((packed))</c> to reproduce its layout: a
    /// member sits off its natural alignment, or the size is not a multiple of the alignment.
    /// </summary>
    public bool IsPacked(int id)
    {
        BtfType type = this[id];
        return type.Kind is BtfKind.Struct or BtfKind.Union && IsPacked(type, 0, null, out _);
    }

    internal bool IsPacked(BtfType type, int depth, int[]? cache, out int naturalAlignment)
    {
        naturalAlignment = 1;
        foreach (BtfMember member in type.Members)
        {
            int memberAlignment = AlignOf(member.TypeId, depth + 1, cache);
            if (member.BitfieldSize == 0 && member.BitOffset % (8 * (uint)memberAlignment) != 0)
            {
                return true;
            }
            naturalAlignment = Math.Max(naturalAlignment, memberAlignment);
        }
        return type.Size % (uint)naturalAlignment != 0;
    }

    /// <summary>Type <paramref name="id"/> as a C declaration of <paramref name="name"/> (or as an abstract type when it is empty): <c>struct task_struct *</c>, <c>int (*handler)(void *)</c>.</summary>
    public string FormatC(int id, string name = "") => BtfCWriter.FormatDeclaration(this, id, name);

    /// <summary>
    /// FNV-1a over a name's bytes: the name index and the C writer's name tables hash 100k+ short
    /// names; measured faster here than wider 8-byte-step hashes for names this short.
    /// </summary>
    internal static int HashName(ReadOnlySpan<byte> name)
    {
        uint hash = 2166136261;
        foreach (byte b in name)
        {
            hash = (hash ^ b) * 16777619;
        }
        return (int)(hash ^ (hash >> 15));
    }

    /// <summary>The string table offset of every type name, resolved through a hash table built on first use.</summary>
    private sealed class NameIndex
    {
        private readonly BtfSpec _spec;
        private readonly int[] _buckets;
        private readonly int[] _next;

        internal NameIndex(BtfSpec spec)
        {
            _spec = spec;
            int count = spec._typeCount;
            int bucketCount = (int)Math.Max(16, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)count));
            _buckets = new int[bucketCount];
            _buckets.AsSpan().Fill(-1);
            _next = new int[count];
            ReadOnlySpan<byte> data = spec.Data;
            // Inserted from the highest id down, so every chain yields the lowest id first.
            for (int local = count - 1; local >= 0; local--)
            {
                uint nameOffset = ReadUInt32(data, spec._typeOffsets[local]);
                if (nameOffset == 0)
                {
                    _next[local] = -1;
                    continue;
                }
                int bucket = Hash(spec.GetStringBytes(nameOffset)) & (bucketCount - 1);
                _next[local] = _buckets[bucket];
                _buckets[bucket] = local;
            }
        }

        internal int First(ReadOnlySpan<byte> name) => _buckets[Hash(name) & (_buckets.Length - 1)];

        internal int Next(int local) => _next[local];

        private static int Hash(ReadOnlySpan<byte> name) => HashName(name);
    }
}
