using System.Text;

namespace BpfSharp.Elf;

/// <summary>A string table section: NUL-terminated strings addressed by their byte offset.</summary>
public readonly struct ElfStringTable
{
    private readonly ReadOnlyMemory<byte> _data;
    private readonly long _fileOffset;

    internal ElfStringTable(ElfSection section)
    {
        _data = section.Data;
        _fileOffset = (long)section.Offset;
        SectionIndex = section.Index;
    }

    /// <summary>The index of the string table's section.</summary>
    public int SectionIndex { get; }

    /// <summary>The raw bytes of the table.</summary>
    public ReadOnlyMemory<byte> Data => _data;

    /// <summary>The string starting at <paramref name="offset"/>.</summary>
    /// <exception cref="ElfException">The offset is outside the table or the string has no terminating NUL.</exception>
    public string GetString(uint offset) => Encoding.UTF8.GetString(GetBytes(offset));

    /// <summary>The bytes of the string starting at <paramref name="offset"/>, without the NUL; no allocation.</summary>
    /// <exception cref="ElfException">The offset is outside the table or the string has no terminating NUL.</exception>
    public ReadOnlySpan<byte> GetBytes(uint offset)
    {
        ReadOnlySpan<byte> data = _data.Span;
        if (offset >= (uint)data.Length)
        {
            // An empty table (or offset 0 of a missing one) names nothing: treat offset 0 as "".
            if (offset == 0)
            {
                return [];
            }
            throw new ElfException($"string offset 0x{offset:x} is outside string table section {SectionIndex} (0x{data.Length:x} bytes)", _fileOffset);
        }
        ReadOnlySpan<byte> rest = data[(int)offset..];
        int end = rest.IndexOf((byte)0);
        if (end < 0)
        {
            throw new ElfException($"the string at offset 0x{offset:x} of string table section {SectionIndex} has no terminating NUL", _fileOffset + offset);
        }
        return rest[..end];
    }

    /// <summary>Whether the string at <paramref name="offset"/> equals <paramref name="value"/>, without allocating.</summary>
    public bool StringEquals(uint offset, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        ReadOnlySpan<byte> bytes = GetBytes(offset);
        if (Encoding.UTF8.GetMaxByteCount(value.Length) <= 256)
        {
            Span<byte> encoded = stackalloc byte[256];
            int length = Encoding.UTF8.GetBytes(value, encoded);
            return bytes.SequenceEqual(encoded[..length]);
        }
        return bytes.SequenceEqual(Encoding.UTF8.GetBytes(value));
    }
}
