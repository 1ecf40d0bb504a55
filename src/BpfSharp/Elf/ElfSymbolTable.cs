using System.Collections;

namespace BpfSharp.Elf;

/// <summary>One symbol table entry (<c>Elf64_Sym</c>).</summary>
public readonly record struct ElfSymbol
{
    /// <summary>The symbol's index in its table (what relocations refer to).</summary>
    public int Index { get; init; }

    /// <summary>The symbol's name; empty for unnamed symbols (section symbols have the section's name in <see cref="ElfFile.Sections"/>).</summary>
    public string Name { get; init; }

    /// <summary><c>st_value</c>: an address in linked files; in objects an offset into the symbol's section.</summary>
    public ulong Value { get; init; }

    /// <summary><c>st_size</c>.</summary>
    public ulong Size { get; init; }

    /// <summary>The symbol type (low 4 bits of <c>st_info</c>).</summary>
    public ElfSymbolType Type { get; init; }

    /// <summary>The binding (high 4 bits of <c>st_info</c>).</summary>
    public ElfSymbolBinding Binding { get; init; }

    /// <summary>The visibility (low 2 bits of <c>st_other</c>).</summary>
    public ElfSymbolVisibility Visibility { get; init; }

    /// <summary>The index of the section the symbol is defined in, or a reserved <see cref="ElfSectionIndex"/> value; extended indexes are already resolved.</summary>
    public uint SectionIndex { get; init; }

    /// <summary>True for a symbol not defined in this file.</summary>
    public bool IsUndefined => SectionIndex == ElfSectionIndex.Undefined;
}

/// <summary>A symbol table section (.symtab or .dynsym), decoded one entry at a time.</summary>
public sealed class ElfSymbolTable : IReadOnlyList<ElfSymbol>
{
    private const int EntrySize = 24;

    private readonly ReadOnlyMemory<byte> _entries;
    private readonly ReadOnlyMemory<byte> _extendedIndexes;
    private readonly ElfStringTable _names;
    private readonly bool _bigEndian;
    private readonly int _stride;

    internal ElfSymbolTable(ElfFile file, ElfSection section, ReadOnlyMemory<byte> extendedIndexes)
    {
        Section = section;
        _bigEndian = !file.Header.IsLittleEndian;
        ulong stride = section.EntrySize == 0 ? EntrySize : section.EntrySize;
        if (stride < EntrySize || stride > int.MaxValue)
        {
            throw new ElfException($"{section} has entry size {section.EntrySize}, smaller than the {EntrySize}-byte Elf64_Sym", (long)section.Offset);
        }
        if (section.Size % stride != 0)
        {
            throw new ElfException($"{section} is 0x{section.Size:x} bytes, not a whole number of {stride}-byte symbols", (long)section.Offset);
        }
        _stride = (int)stride;
        _entries = section.Data;
        _extendedIndexes = extendedIndexes;
        _names = file.GetStringTable(section.Link);
    }

    /// <summary>The symbol table's section.</summary>
    public ElfSection Section { get; }

    /// <summary>The string table holding the symbol names.</summary>
    public ElfStringTable Names => _names;

    /// <summary>The number of symbols, including the null symbol at index 0.</summary>
    public int Count => _entries.Length / _stride;

    /// <summary>The symbol at <paramref name="index"/>.</summary>
    /// <exception cref="ElfException">The index is out of range, or the entry's name or extended section index is malformed.</exception>
    public ElfSymbol this[int index] => Get(index, resolveName: true);

    /// <summary>Finds a symbol by name (the first one, in table order), comparing bytes without allocating per symbol.</summary>
    public bool TryFind(string name, out ElfSymbol symbol)
    {
        ArgumentNullException.ThrowIfNull(name);
        byte[] encoded = System.Text.Encoding.UTF8.GetBytes(name);
        for (int i = 0; i < Count; i++)
        {
            if (_names.GetBytes(NameOffset(i)).SequenceEqual(encoded))
            {
                symbol = Get(i, resolveName: false) with { Name = name };
                return true;
            }
        }
        symbol = default;
        return false;
    }

    /// <summary>Enumerates every symbol, in table order.</summary>
    public IEnumerator<ElfSymbol> GetEnumerator()
    {
        for (int i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private uint NameOffset(int index) => ElfData.U32(_entries.Span.Slice(index * _stride, 4), _bigEndian);

    private ElfSymbol Get(int index, bool resolveName)
    {
        if ((uint)index >= (uint)Count)
        {
            throw new ElfException($"symbol index {index} is out of range: {Section} holds {Count} symbols", (long)Section.Offset);
        }
        ReadOnlySpan<byte> entry = _entries.Span.Slice(index * _stride, EntrySize);
        byte info = entry[4];
        uint sectionIndex = ElfData.U16(entry[6..], _bigEndian);
        if (sectionIndex == ElfSectionIndex.ExtendedIndex)
        {
            // The real index is the symbol's entry in the SHT_SYMTAB_SHNDX section.
            if ((ulong)index * 4 + 4 > (ulong)_extendedIndexes.Length)
            {
                throw new ElfException($"symbol {index} of {Section} has an extended section index but no SHT_SYMTAB_SHNDX entry holds it", (long)Section.Offset);
            }
            sectionIndex = ElfData.U32(_extendedIndexes.Span.Slice(index * 4, 4), _bigEndian);
        }
        return new ElfSymbol
        {
            Index = index,
            Name = resolveName ? _names.GetString(ElfData.U32(entry, _bigEndian)) : "",
            Type = (ElfSymbolType)(info & 0x0f),
            Binding = (ElfSymbolBinding)(info >> 4),
            Visibility = (ElfSymbolVisibility)(entry[5] & 0x03),
            SectionIndex = sectionIndex,
            Value = ElfData.U64(entry[8..], _bigEndian),
            Size = ElfData.U64(entry[16..], _bigEndian),
        };
    }
}
