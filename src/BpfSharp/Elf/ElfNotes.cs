using System.Text;

namespace BpfSharp.Elf;

/// <summary>One note (<c>Elf64_Nhdr</c> with its name and descriptor), e.g. a USDT probe in <c>.note.stapsdt</c>.</summary>
public readonly record struct ElfNote
{
    /// <summary>The owner's name, without its NUL (e.g. <c>GNU</c>, <c>stapsdt</c>).</summary>
    public string Name { get; init; }

    /// <summary>The owner-specific note type.</summary>
    public uint Type { get; init; }

    /// <summary>The descriptor bytes.</summary>
    public ReadOnlyMemory<byte> Descriptor { get; init; }
}

/// <summary>The notes of a note section or segment, decoded as they are enumerated.</summary>
public readonly struct ElfNotes
{
    private readonly ReadOnlyMemory<byte> _data;
    private readonly long _fileOffset;
    private readonly int _alignment;
    private readonly bool _bigEndian;

    internal ElfNotes(ReadOnlyMemory<byte> data, long fileOffset, ulong alignment, bool bigEndian)
    {
        _data = data;
        _fileOffset = fileOffset;
        // Notes are 4-byte aligned, except in 8-aligned sections (.note.gnu.property) where the
        // descriptor and the next header are 8-aligned.
        _alignment = alignment == 8 ? 8 : 4;
        _bigEndian = bigEndian;
    }

    /// <summary>Enumerates the notes.</summary>
    public Enumerator GetEnumerator() => new(this);

    /// <summary>Every note, in order.</summary>
    public List<ElfNote> ToList()
    {
        var notes = new List<ElfNote>();
        foreach (ElfNote note in this)
        {
            notes.Add(note);
        }
        return notes;
    }

    /// <summary>Walks the notes; every step advances by at least one header, so it ends.</summary>
    public struct Enumerator
    {
        private readonly ElfNotes _notes;
        private int _position;

        internal Enumerator(ElfNotes notes)
        {
            _notes = notes;
            _position = 0;
            Current = default;
        }

        /// <summary>The current note.</summary>
        public ElfNote Current { get; private set; }

        /// <summary>Decodes the next note.</summary>
        /// <exception cref="ElfException">A note header, name or descriptor runs past the end of the data.</exception>
        public bool MoveNext()
        {
            ReadOnlyMemory<byte> data = _notes._data;
            if (_position >= data.Length)
            {
                return false;
            }
            long where = _notes._fileOffset + _position;
            if (data.Length - _position < 12)
            {
                throw new ElfException($"truncated note header: {data.Length - _position} of 12 bytes", where);
            }
            ReadOnlySpan<byte> header = data.Span.Slice(_position, 12);
            ulong nameSize = ElfData.U32(header, _notes._bigEndian);
            ulong descriptorSize = ElfData.U32(header[4..], _notes._bigEndian);
            uint type = ElfData.U32(header[8..], _notes._bigEndian);
            ulong nameStart = (ulong)_position + 12;
            ulong descriptorStart = Align(nameStart + nameSize, (ulong)_notes._alignment);
            ulong end = descriptorStart + descriptorSize;
            if (end > (ulong)data.Length)
            {
                throw new ElfException($"note of type {type} (name 0x{nameSize:x} bytes, descriptor 0x{descriptorSize:x} bytes) runs past the end of its 0x{data.Length:x}-byte section", where);
            }
            ReadOnlySpan<byte> name = data.Span.Slice((int)nameStart, (int)nameSize);
            int nul = name.IndexOf((byte)0);
            Current = new ElfNote
            {
                Name = Encoding.UTF8.GetString(nul >= 0 ? name[..nul] : name),
                Type = type,
                Descriptor = data.Slice((int)descriptorStart, (int)descriptorSize),
            };
            _position = (int)Math.Min(Align(end, (ulong)_notes._alignment), (ulong)data.Length);
            return true;
        }

        private static ulong Align(ulong value, ulong alignment) => (value + alignment - 1) & ~(alignment - 1);
    }
}
