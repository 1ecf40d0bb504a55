using System.Buffers.Binary;

namespace BpfSharp.Elf;

/// <summary>
/// Bounds-checked, byte-order-aware reads from the file image. Every offset and length comes from
/// untrusted input, so every read checks its range in 64-bit arithmetic that cannot overflow, and a
/// failure names what was being read.
/// </summary>
internal readonly struct ElfData
{
    private readonly ReadOnlyMemory<byte> _memory;

    public ElfData(ReadOnlyMemory<byte> memory, bool bigEndian)
    {
        _memory = memory;
        BigEndian = bigEndian;
    }

    public bool BigEndian { get; }

    public ReadOnlyMemory<byte> Memory => _memory;

    public ulong Length => (ulong)_memory.Length;

    /// <summary>True when [offset, offset + size) lies in the file.</summary>
    public bool Contains(ulong offset, ulong size) => offset <= Length && size <= Length - offset;

    public ReadOnlyMemory<byte> Slice(ulong offset, ulong size, string what)
    {
        Check(offset, size, what);
        return _memory.Slice((int)offset, (int)size);
    }

    public ushort U16(ulong offset, string what)
    {
        ReadOnlySpan<byte> span = Span(offset, 2, what);
        return BigEndian ? BinaryPrimitives.ReadUInt16BigEndian(span) : BinaryPrimitives.ReadUInt16LittleEndian(span);
    }

    public uint U32(ulong offset, string what)
    {
        ReadOnlySpan<byte> span = Span(offset, 4, what);
        return BigEndian ? BinaryPrimitives.ReadUInt32BigEndian(span) : BinaryPrimitives.ReadUInt32LittleEndian(span);
    }

    public ulong U64(ulong offset, string what)
    {
        ReadOnlySpan<byte> span = Span(offset, 8, what);
        return BigEndian ? BinaryPrimitives.ReadUInt64BigEndian(span) : BinaryPrimitives.ReadUInt64LittleEndian(span);
    }

    public byte U8(ulong offset, string what) => Span(offset, 1, what)[0];

    private ReadOnlySpan<byte> Span(ulong offset, int size, string what)
    {
        Check(offset, (ulong)size, what);
        return _memory.Span.Slice((int)offset, size);
    }

    private void Check(ulong offset, ulong size, string what)
    {
        if (!Contains(offset, size))
        {
            throw new ElfException(
                $"{what} (0x{size:x} bytes at 0x{offset:x}) extends past the end of the 0x{Length:x}-byte file",
                offset <= long.MaxValue ? (long)offset : null);
        }
    }

    /// <summary>Reads the same fields from a span already known to be in range (hot loops over tables).</summary>
    public static ushort U16(ReadOnlySpan<byte> span, bool bigEndian) =>
        bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(span) : BinaryPrimitives.ReadUInt16LittleEndian(span);

    public static uint U32(ReadOnlySpan<byte> span, bool bigEndian) =>
        bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(span) : BinaryPrimitives.ReadUInt32LittleEndian(span);

    public static ulong U64(ReadOnlySpan<byte> span, bool bigEndian) =>
        bigEndian ? BinaryPrimitives.ReadUInt64BigEndian(span) : BinaryPrimitives.ReadUInt64LittleEndian(span);
}
