using System.Collections;

namespace BpfSharp.Elf;

/// <summary>One relocation (<c>Elf64_Rel</c> or <c>Elf64_Rela</c>).</summary>
public readonly record struct ElfRelocation
{
    /// <summary><c>r_offset</c>: in objects, the byte offset in the target section; in linked files, an address.</summary>
    public ulong Offset { get; init; }

    /// <summary>The index of the symbol in the section's symbol table (high 32 bits of <c>r_info</c>).</summary>
    public uint SymbolIndex { get; init; }

    /// <summary>The architecture-specific relocation type (low 32 bits of <c>r_info</c>; for BPF e.g. R_BPF_64_64 = 1).</summary>
    public uint Type { get; init; }

    /// <summary><c>r_addend</c> for SHT_RELA; 0 for SHT_REL, whose addend is in the relocated bytes.</summary>
    public long Addend { get; init; }
}

/// <summary>A relocation section (SHT_REL or SHT_RELA), decoded one entry at a time.</summary>
public sealed class ElfRelocationSection : IReadOnlyList<ElfRelocation>
{
    private readonly ReadOnlyMemory<byte> _entries;
    private readonly bool _bigEndian;
    private readonly int _stride;

    internal ElfRelocationSection(ElfSection section, bool bigEndian)
    {
        Section = section;
        _bigEndian = bigEndian;
        HasAddends = section.Type == ElfSectionType.RelocationsWithAddends;
        int size = HasAddends ? 24 : 16;
        ulong stride = section.EntrySize == 0 ? (ulong)size : section.EntrySize;
        if (stride < (ulong)size || stride > int.MaxValue)
        {
            throw new ElfException($"{section} has entry size {section.EntrySize}, smaller than the {size}-byte relocation entry", (long)section.Offset);
        }
        if (section.Size % stride != 0)
        {
            throw new ElfException($"{section} is 0x{section.Size:x} bytes, not a whole number of {stride}-byte relocations", (long)section.Offset);
        }
        _stride = (int)stride;
        _entries = section.Data;
    }

    /// <summary>The relocation section itself.</summary>
    public ElfSection Section { get; }

    /// <summary>The index of the section the relocations apply to (<c>sh_info</c>).</summary>
    public uint TargetSectionIndex => Section.Info;

    /// <summary>The index of the symbol table the relocations refer to (<c>sh_link</c>).</summary>
    public uint SymbolTableIndex => Section.Link;

    /// <summary>True for SHT_RELA (explicit addends).</summary>
    public bool HasAddends { get; }

    /// <summary>The number of relocations.</summary>
    public int Count => _entries.Length / _stride;

    /// <summary>The relocation at <paramref name="index"/>.</summary>
    public ElfRelocation this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count)
            {
                throw new ElfException($"relocation index {index} is out of range: {Section} holds {Count}", (long)Section.Offset);
            }
            ReadOnlySpan<byte> entry = _entries.Span.Slice(index * _stride, _stride);
            ulong info = ElfData.U64(entry[8..], _bigEndian);
            return new ElfRelocation
            {
                Offset = ElfData.U64(entry, _bigEndian),
                SymbolIndex = (uint)(info >> 32),
                Type = (uint)info,
                Addend = HasAddends ? (long)ElfData.U64(entry[16..], _bigEndian) : 0,
            };
        }
    }

    /// <summary>Enumerates the relocations in order.</summary>
    public IEnumerator<ElfRelocation> GetEnumerator()
    {
        for (int i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
