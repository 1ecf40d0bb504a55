using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace BpfSharp.Btf;

/// <summary>
/// Reads and writes values described by BTF: the bytes of a map value, a ring buffer record or a global variable,
/// shown as text (<c>{pid=42, comm="bash", state=RUNNING, ptr=0xffff8880...}</c>, the way bpftool's map dump prints
/// with BTF) or as JSON, parsed from text (for setting a global variable from a command line), and summed across
/// CPUs for per-CPU maps. Struct and union members by name (anonymous members' fields inline), bitfields,
/// integers by their signedness, <c>bool</c>, <c>char</c> arrays as strings, other arrays as lists, enums by
/// enumerator name, pointers in hex, floats, and data sections (<c>.data</c>, <c>.bss</c>) as their variables.
/// </summary>
/// <remarks>Values are in the machine's byte order, as BPF programs on this machine write them.</remarks>
public static class BtfValue
{
    private const int MaximumNesting = 64;

    /// <summary>Formats the value of type <paramref name="typeId"/> held in <paramref name="data"/> as one line of text.</summary>
    /// <param name="spec">The BTF that describes the value.</param>
    /// <param name="typeId">The value's type.</param>
    /// <param name="data">The value's bytes: at least the type's size (more is ignored).</param>
    /// <exception cref="BtfException">The data is shorter than the type, or the type has no size (void, a function).</exception>
    public static string Format(BtfSpec spec, int typeId, ReadOnlySpan<byte> data)
    {
        var text = new TextSink();
        Walk(spec, typeId, data, text);
        return text.ToString();
    }

    /// <summary>Writes the value of type <paramref name="typeId"/> held in <paramref name="data"/> as one JSON value.</summary>
    /// <param name="writer">Where to write: at a value position (top level, an array element, after a property name).</param>
    /// <param name="spec">The BTF that describes the value.</param>
    /// <param name="typeId">The value's type.</param>
    /// <param name="data">The value's bytes: at least the type's size.</param>
    /// <remarks>Structs become objects, arrays arrays, char arrays strings, enums their enumerator's name (a number when
    /// none matches), pointers "0x..." strings, integers wider than 64 bits "0x..." strings.</remarks>
    /// <exception cref="BtfException">The data is shorter than the type, or the type has no size.</exception>
    public static void WriteJson(Utf8JsonWriter writer, BtfSpec spec, int typeId, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(writer);
        Walk(spec, typeId, data, new JsonSink(writer));
    }

    /// <summary>
    /// Parses <paramref name="text"/> as a value of type <paramref name="typeId"/> into <paramref name="destination"/>:
    /// integers in decimal or 0x hex (range-checked for the type's size and sign), <c>true</c>/<c>false</c> for
    /// bool, an enumerator's name or a number for enums, a string for <c>char</c> arrays (NUL-padded; it must leave
    /// room for the NUL), a number for floats.
    /// </summary>
    /// <param name="spec">The BTF that describes the value.</param>
    /// <param name="typeId">The value's type.</param>
    /// <param name="text">The value as a user typed it.</param>
    /// <param name="destination">The value's bytes: at least the type's size.</param>
    /// <exception cref="FormatException">The text is not a value of the type; the message says what was expected.</exception>
    /// <exception cref="BtfException">The type is one a single text cannot set (a struct, a pointer), or the destination is too short.</exception>
    public static void Parse(BtfSpec spec, int typeId, string text, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(text);
        BtfType type = spec.ResolveTypedefsAndQualifiers(typeId);
        long size = spec.SizeOf(type.Id);
        if (destination.Length < size)
        {
            throw new BtfException($"{type.Describe()} is {size} bytes; the destination holds {destination.Length}");
        }
        Span<byte> bytes = destination[..(int)size];
        switch (type.Kind)
        {
            case BtfKind.Int when (type.IntEncoding & BtfIntEncoding.Bool) != 0:
                bytes.Clear();
                bytes[0] = text.Trim().ToLowerInvariant() switch
                {
                    "true" or "1" or "yes" => 1,
                    "false" or "0" or "no" => 0,
                    _ => throw new FormatException($"'{text}' is not a bool: use true or false"),
                };
                return;
            case BtfKind.Int:
                WriteInteger(bytes, ParseInteger(text, (int)size, (type.IntEncoding & BtfIntEncoding.Signed) != 0, type.Describe()));
                return;
            case BtfKind.Enum or BtfKind.Enum64:
                foreach (BtfEnumerator enumerator in type.Enumerators)
                {
                    if (enumerator.Name == text)
                    {
                        WriteInteger(bytes, enumerator.IsSigned ? enumerator.Value : (BigInteger)enumerator.RawValue);
                        return;
                    }
                }
                try
                {
                    WriteInteger(bytes, ParseInteger(text, (int)size, type.IsSignedEnum, type.Describe()));
                }
                catch (FormatException)
                {
                    throw new FormatException($"'{text}' is not an enumerator of {type.Describe()} ({string.Join(", ", type.Enumerators.Select(e => e.Name))}) nor a number");
                }
                return;
            case BtfKind.Float:
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double number))
                {
                    throw new FormatException($"'{text}' is not a number for {type.Describe()}");
                }
                if (size == 4)
                {
                    MemoryMarshal.Write(bytes, (float)number);
                }
                else if (size == 8)
                {
                    MemoryMarshal.Write(bytes, number);
                }
                else
                {
                    throw new BtfException($"{type.Describe()} is a {size}-byte float, which cannot be set from text");
                }
                return;
            case BtfKind.Array when IsCharacter(spec, type.Array.ElementTypeId):
                int length = Encoding.UTF8.GetByteCount(text);
                if (length >= bytes.Length)
                {
                    throw new FormatException($"'{text}' is {length} bytes; a char[{bytes.Length}] holds at most {bytes.Length - 1} and the NUL");
                }
                bytes.Clear();
                Encoding.UTF8.GetBytes(text, bytes);
                return;
            default:
                throw new BtfException($"a {BtfSpec.KindName(type.Kind)} ({type.Describe()}) cannot be set from one text value; set its fields' bytes instead");
        }
    }

    /// <summary>
    /// Adds the integers of <paramref name="value"/> to those of <paramref name="accumulator"/>, field by field and
    /// element by element (wrapping at the type's width): how per-CPU values are totalled. Members that are not
    /// integers (enums, pointers, floats, chars, bools) keep the accumulator's bytes.
    /// </summary>
    /// <param name="spec">The BTF that describes both values.</param>
    /// <param name="typeId">Their type.</param>
    /// <param name="accumulator">The running total, updated in place.</param>
    /// <param name="value">The value to add.</param>
    public static void AddIntegers(BtfSpec spec, int typeId, Span<byte> accumulator, ReadOnlySpan<byte> value)
    {
        ArgumentNullException.ThrowIfNull(spec);
        long size = spec.SizeOf(typeId);
        if (accumulator.Length < size || value.Length < size)
        {
            throw new BtfException($"{spec[typeId].Describe()} is {size} bytes; got {Math.Min(accumulator.Length, value.Length)}");
        }
        Add(spec, typeId, accumulator, value, 0);
    }

    private static void Add(BtfSpec spec, int typeId, Span<byte> accumulator, ReadOnlySpan<byte> value, int nesting)
    {
        if (nesting > MaximumNesting)
        {
            throw new BtfException($"BTF type {typeId} nests deeper than {MaximumNesting} levels");
        }
        BtfType type = spec.ResolveTypedefsAndQualifiers(typeId);
        switch (type.Kind)
        {
            case BtfKind.Int when (type.IntEncoding & (BtfIntEncoding.Bool | BtfIntEncoding.Char)) == 0 && type.IntBitOffset == 0:
                int size = (int)type.Size;
                BigInteger sum = ReadUnsigned(accumulator[..size]) + ReadUnsigned(value[..size]);
                WriteInteger(accumulator[..size], sum & ((BigInteger.One << (size * 8)) - 1));
                break;
            case BtfKind.Struct:
                foreach (BtfMember member in type.Members)
                {
                    if (member.BitfieldSize == 0 && member.BitOffset % 8 == 0)
                    {
                        int offset = (int)member.ByteOffset;
                        Add(spec, member.TypeId, accumulator[offset..], value[offset..], nesting + 1);
                    }
                }
                break;
            case BtfKind.Array:
                BtfArray array = type.Array;
                int stride = (int)spec.SizeOf(array.ElementTypeId);
                for (int i = 0; i < array.Count && stride > 0; i++)
                {
                    Add(spec, array.ElementTypeId, accumulator[(i * stride)..], value[(i * stride)..], nesting + 1);
                }
                break;
        }
    }

    // ---- the walk: one traversal, two renderings --------------------------------------------------------------

    private static void Walk(BtfSpec spec, int typeId, ReadOnlySpan<byte> data, IValueSink sink)
    {
        ArgumentNullException.ThrowIfNull(spec);
        long size = spec.SizeOf(typeId);
        if (data.Length < size)
        {
            throw new BtfException($"{spec[typeId].Describe()} is {size} bytes; the data holds {data.Length}");
        }
        Value(spec, typeId, data, sink, 0);
    }

    private static void Value(BtfSpec spec, int typeId, ReadOnlySpan<byte> data, IValueSink sink, int nesting)
    {
        if (nesting > MaximumNesting)
        {
            throw new BtfException($"BTF type {typeId} nests deeper than {MaximumNesting} levels");
        }
        BtfType type = spec.ResolveTypedefsAndQualifiers(typeId);
        switch (type.Kind)
        {
            case BtfKind.Int:
                Integer(type, data, 0, type.IntBits, sink);
                break;
            case BtfKind.Pointer:
                sink.Hex(spec.PointerSize == 4 ? MemoryMarshal.Read<uint>(data) : MemoryMarshal.Read<ulong>(data));
                break;
            case BtfKind.Enum or BtfKind.Enum64:
                Enumeration(type, ReadInteger(data[..(int)type.Size], type.IsSignedEnum), sink);
                break;
            case BtfKind.Float:
                sink.Float(type.Size switch
                {
                    4 => MemoryMarshal.Read<float>(data),
                    8 => MemoryMarshal.Read<double>(data),
                    _ => double.NaN,
                });
                break;
            case BtfKind.Array:
                BtfArray array = type.Array;
                int stride = (int)spec.SizeOf(array.ElementTypeId);
                if (IsCharacter(spec, array.ElementTypeId))
                {
                    ReadOnlySpan<byte> chars = data[..(int)array.Count];
                    int end = chars.IndexOf((byte)0);
                    sink.String(end < 0 ? chars : chars[..end]);
                    break;
                }
                sink.BeginArray();
                for (int i = 0; i < array.Count; i++)
                {
                    Value(spec, array.ElementTypeId, data.Slice(i * stride, stride), sink, nesting + 1);
                }
                sink.EndArray();
                break;
            case BtfKind.Struct or BtfKind.Union:
                sink.BeginObject();
                Members(spec, type, data, sink, nesting);
                sink.EndObject();
                break;
            case BtfKind.DataSection:
                sink.BeginObject();
                foreach (BtfDataSectionVariable variable in type.Variables)
                {
                    BtfType declaration = variable.Type;
                    sink.Name(declaration.Name);
                    int variableType = declaration.Kind == BtfKind.Variable ? declaration.ReferencedTypeId : declaration.Id;
                    Value(spec, variableType, data.Slice((int)variable.Offset, (int)variable.Size), sink, nesting + 1);
                }
                sink.EndObject();
                break;
            case BtfKind.Variable:
                Value(spec, type.ReferencedTypeId, data, sink, nesting + 1);
                break;
            default:
                sink.Bytes(data[..(int)spec.SizeOf(type.Id)]);
                break;
        }
    }

    private static void Members(BtfSpec spec, BtfType type, ReadOnlySpan<byte> data, IValueSink sink, int nesting)
    {
        foreach (BtfMember member in type.Members)
        {
            BtfType memberType = spec.ResolveTypedefsAndQualifiers(member.TypeId);
            if (!member.NameBytes.IsEmpty || !memberType.IsComposite)
            {
                sink.Name(member.Name);
            }
            else
            {
                // An anonymous struct or union: its fields read as the outer struct's, as in C.
                Members(spec, memberType, data[(int)member.ByteOffset..], sink, nesting + 1);
                continue;
            }
            if (member.BitfieldSize != 0 || member.BitOffset % 8 != 0)
            {
                int bits = member.BitfieldSize != 0 ? member.BitfieldSize : memberType.Kind == BtfKind.Int ? memberType.IntBits : (int)memberType.Size * 8;
                int firstByte = (int)(member.BitOffset / 8);
                int bitShift = (int)(member.BitOffset % 8);
                int span = (bitShift + bits + 7) / 8;
                if (memberType.IsEnum)
                {
                    BigInteger raw = ExtractBits(data.Slice(firstByte, span), bitShift, bits, memberType.IsSignedEnum);
                    Enumeration(memberType, raw, sink);
                }
                else if (memberType.Kind == BtfKind.Int)
                {
                    Integer(memberType, data.Slice(firstByte, span), bitShift, bits, sink);
                }
                else
                {
                    sink.Bytes(data.Slice(firstByte, span));
                }
                continue;
            }
            Value(spec, member.TypeId, data[(int)member.ByteOffset..], sink, nesting + 1);
        }
    }

    private static void Integer(BtfType type, ReadOnlySpan<byte> data, int bitShift, int bits, IValueSink sink)
    {
        bool signed = (type.IntEncoding & BtfIntEncoding.Signed) != 0;
        int shift = bitShift + type.IntBitOffset;
        int span = (shift + bits + 7) / 8;
        BigInteger value = shift == 0 && bits % 8 == 0 ? ReadInteger(data[..(bits / 8)], signed) : ExtractBits(data[..span], shift, bits, signed);
        if ((type.IntEncoding & BtfIntEncoding.Bool) != 0)
        {
            sink.Bool(!value.IsZero);
        }
        else
        {
            sink.Integer(value);
        }
    }

    private static void Enumeration(BtfType type, BigInteger value, IValueSink sink)
    {
        foreach (BtfEnumerator enumerator in type.Enumerators)
        {
            BigInteger candidate = type.IsSignedEnum ? enumerator.Value : enumerator.RawValue;
            if (type.Kind == BtfKind.Enum && !type.IsSignedEnum)
            {
                candidate = (uint)enumerator.RawValue;
            }
            if (candidate == value)
            {
                sink.Symbol(enumerator.Name);
                return;
            }
        }
        sink.Integer(value);
    }

    /// <summary>True for <c>char</c>, <c>signed char</c> and <c>unsigned char</c> (and typedefs of them): arrays of them print as strings.</summary>
    private static bool IsCharacter(BtfSpec spec, int typeId)
    {
        BtfType element = spec.ResolveTypedefsAndQualifiers(typeId);
        return element.Kind == BtfKind.Int && element.Size == 1
            && ((element.IntEncoding & BtfIntEncoding.Char) != 0 || element.Name is "char" or "signed char" or "unsigned char");
    }

    private static BigInteger ReadUnsigned(ReadOnlySpan<byte> bytes) => new(bytes, isUnsigned: true, isBigEndian: !BitConverter.IsLittleEndian);

    private static BigInteger ReadInteger(ReadOnlySpan<byte> bytes, bool signed) => new(bytes, isUnsigned: !signed, isBigEndian: !BitConverter.IsLittleEndian);

    private static BigInteger ExtractBits(ReadOnlySpan<byte> bytes, int shift, int bits, bool signed)
    {
        if (bits is > 0 and <= 64)
        {
            return signed ? BitField.ReadSigned(bytes, (uint)shift, bits) : BitField.Read(bytes, (uint)shift, bits);
        }
        // Wider than 64 bits (an __int128 bitfield). Bit offsets count from the least significant bit on little-endian
        // machines (as clang lays out bitfields).
        BigInteger raw = (ReadUnsigned(bytes) >> shift) & ((BigInteger.One << bits) - 1);
        if (signed && bits > 0 && !(raw >> (bits - 1)).IsZero)
        {
            raw -= BigInteger.One << bits;
        }
        return raw;
    }

    private static BigInteger ParseInteger(string text, int size, bool signed, string what)
    {
        string trimmed = text.Trim();
        bool negative = trimmed.StartsWith('-');
        string digits = negative ? trimmed[1..] : trimmed;
        BigInteger value;
        bool parsed = digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? BigInteger.TryParse("0" + digits[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value)
            : BigInteger.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out value);
        if (!parsed || digits.Length == 0)
        {
            throw new FormatException($"'{text}' is not an integer (decimal or 0x hex) for {what}");
        }
        if (negative)
        {
            value = -value;
        }
        int bits = size * 8;
        BigInteger min = signed ? -(BigInteger.One << (bits - 1)) : BigInteger.Zero;
        BigInteger max = signed ? (BigInteger.One << (bits - 1)) - 1 : (BigInteger.One << bits) - 1;
        if (value < min || value > max)
        {
            throw new FormatException($"{text} is out of range for {what} ({min}..{max})");
        }
        return value;
    }

    private static void WriteInteger(Span<byte> bytes, BigInteger value)
    {
        bytes.Clear();
        byte[] raw = value.ToByteArray(isUnsigned: false, isBigEndian: false);
        byte fill = value.Sign < 0 ? (byte)0xff : (byte)0;
        for (int i = 0; i < bytes.Length; i++)
        {
            byte b = i < raw.Length ? raw[i] : fill;
            bytes[BitConverter.IsLittleEndian ? i : bytes.Length - 1 - i] = b;
        }
    }

    // ---- renderings -------------------------------------------------------------------------------------------

    private interface IValueSink
    {
        void BeginObject();
        void EndObject();
        void Name(string name);
        void BeginArray();
        void EndArray();
        void Integer(BigInteger value);
        void Bool(bool value);
        void Float(double value);
        void Symbol(string name);
        void String(ReadOnlySpan<byte> utf8);
        void Hex(ulong value);
        void Bytes(ReadOnlySpan<byte> bytes);
    }

    /// <summary><c>{a=1, b="x", c=[1, 2], d=NAME, e=0x10}</c>.</summary>
    private sealed class TextSink : IValueSink
    {
        private readonly StringBuilder _text = new();
        private readonly Stack<bool> _first = new();

        public void BeginObject() => Open('{');
        public void EndObject() => Close('}');
        public void BeginArray() => Open('[');
        public void EndArray() => Close(']');

        public void Name(string name)
        {
            Separate();
            _text.Append(name).Append('=');
            _pendingName = true;
        }

        public void Integer(BigInteger value) => Scalar(value.ToString(CultureInfo.InvariantCulture));
        public void Bool(bool value) => Scalar(value ? "true" : "false");
        public void Float(double value) => Scalar(value.ToString("R", CultureInfo.InvariantCulture));
        public void Symbol(string name) => Scalar(name);
        public void Hex(ulong value) => Scalar("0x" + value.ToString("x", CultureInfo.InvariantCulture));
        public void Bytes(ReadOnlySpan<byte> bytes) => Scalar("0x" + Convert.ToHexStringLower(bytes));

        public void String(ReadOnlySpan<byte> utf8)
        {
            BeforeValue();
            _text.Append('"');
            foreach (char c in Encoding.UTF8.GetString(utf8))
            {
                _ = c switch
                {
                    '"' => _text.Append("\\\""),
                    '\\' => _text.Append("\\\\"),
                    '\n' => _text.Append("\\n"),
                    '\t' => _text.Append("\\t"),
                    < ' ' => _text.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture)),
                    _ => _text.Append(c),
                };
            }
            _text.Append('"');
        }

        public override string ToString() => _text.ToString();

        private bool _pendingName;

        private void Scalar(string text)
        {
            BeforeValue();
            _text.Append(text);
        }

        private void Open(char bracket)
        {
            BeforeValue();
            _text.Append(bracket);
            _first.Push(true);
        }

        private void Close(char bracket)
        {
            _first.Pop();
            _text.Append(bracket);
        }

        private void BeforeValue()
        {
            if (_pendingName)
            {
                _pendingName = false;
                return;
            }
            Separate();
        }

        private void Separate()
        {
            if (_first.Count == 0)
            {
                return;
            }
            if (!_first.Pop())
            {
                _text.Append(", ");
            }
            _first.Push(false);
        }
    }

    private sealed class JsonSink(Utf8JsonWriter writer) : IValueSink
    {
        public void BeginObject() => writer.WriteStartObject();
        public void EndObject() => writer.WriteEndObject();
        public void Name(string name) => writer.WritePropertyName(name);
        public void BeginArray() => writer.WriteStartArray();
        public void EndArray() => writer.WriteEndArray();
        public void Bool(bool value) => writer.WriteBooleanValue(value);
        public void Symbol(string name) => writer.WriteStringValue(name);
        public void String(ReadOnlySpan<byte> utf8) => writer.WriteStringValue(Encoding.UTF8.GetString(utf8));
        public void Hex(ulong value) => writer.WriteStringValue("0x" + value.ToString("x", CultureInfo.InvariantCulture));
        public void Bytes(ReadOnlySpan<byte> bytes) => writer.WriteStringValue("0x" + Convert.ToHexStringLower(bytes));

        public void Float(double value)
        {
            if (double.IsFinite(value))
            {
                writer.WriteNumberValue(value);
            }
            else
            {
                writer.WriteStringValue(value.ToString(CultureInfo.InvariantCulture));
            }
        }

        public void Integer(BigInteger value)
        {
            if (value >= long.MinValue && value <= long.MaxValue)
            {
                writer.WriteNumberValue((long)value);
            }
            else if (value.Sign > 0 && value <= ulong.MaxValue)
            {
                writer.WriteNumberValue((ulong)value);
            }
            else
            {
                writer.WriteStringValue(value.ToString(CultureInfo.InvariantCulture));
            }
        }
    }
}
