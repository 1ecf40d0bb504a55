namespace BpfSharp.Elf;

/// <summary>One section header, with its name resolved and its contents as a slice of the file.</summary>
public readonly record struct ElfSection
{
    /// <summary>The section's index in the section header table.</summary>
    public int Index { get; init; }

    /// <summary>The section's name (from the section header string table).</summary>
    public string Name { get; init; }

    /// <summary><c>sh_type</c>.</summary>
    public ElfSectionType Type { get; init; }

    /// <summary><c>sh_flags</c>.</summary>
    public ElfSectionFlags Flags { get; init; }

    /// <summary><c>sh_addr</c>: the address at run time, for allocated sections of linked files.</summary>
    public ulong Address { get; init; }

    /// <summary><c>sh_offset</c>: where the contents start in the file.</summary>
    public ulong Offset { get; init; }

    /// <summary><c>sh_size</c>: the size in bytes (in memory, for <see cref="ElfSectionType.NoBits"/>).</summary>
    public ulong Size { get; init; }

    /// <summary><c>sh_link</c>: a related section's index (a symbol table's string table, a relocation section's symbol table).</summary>
    public uint Link { get; init; }

    /// <summary><c>sh_info</c>: extra information (a relocation section's target section; a symbol table's first non-local symbol).</summary>
    public uint Info { get; init; }

    /// <summary><c>sh_addralign</c>.</summary>
    public ulong Alignment { get; init; }

    /// <summary><c>sh_entsize</c>: the size of one entry, for tables.</summary>
    public ulong EntrySize { get; init; }

    /// <summary>The contents; empty for <see cref="ElfSectionType.NoBits"/> and <see cref="ElfSectionType.Null"/> sections.</summary>
    public ReadOnlyMemory<byte> Data { get; init; }

    /// <summary>True for sections holding code (<see cref="ElfSectionFlags.Executable"/>).</summary>
    public bool IsExecutable => (Flags & ElfSectionFlags.Executable) != 0;

    /// <summary>A short description for messages: <c>section 3 (.text)</c>.</summary>
    public override string ToString() => $"section {Index} ({Name})";
}

/// <summary>One program header: a segment of a linked file.</summary>
public readonly record struct ElfSegment
{
    /// <summary>The header's index in the program header table.</summary>
    public int Index { get; init; }

    /// <summary><c>p_type</c>.</summary>
    public ElfSegmentType Type { get; init; }

    /// <summary><c>p_flags</c>.</summary>
    public ElfSegmentFlags Flags { get; init; }

    /// <summary><c>p_offset</c>: where the segment starts in the file.</summary>
    public ulong Offset { get; init; }

    /// <summary><c>p_vaddr</c>: where the segment is mapped.</summary>
    public ulong VirtualAddress { get; init; }

    /// <summary><c>p_paddr</c>.</summary>
    public ulong PhysicalAddress { get; init; }

    /// <summary><c>p_filesz</c>: its size in the file.</summary>
    public ulong FileSize { get; init; }

    /// <summary><c>p_memsz</c>: its size in memory (at least <see cref="FileSize"/> for loadable segments).</summary>
    public ulong MemorySize { get; init; }

    /// <summary><c>p_align</c>.</summary>
    public ulong Alignment { get; init; }

    /// <summary>The bytes the segment has in the file.</summary>
    public ReadOnlyMemory<byte> Data { get; init; }

    /// <summary>True when <paramref name="virtualAddress"/> lies in the part of the segment backed by the file.</summary>
    public bool ContainsFileBacked(ulong virtualAddress) =>
        virtualAddress >= VirtualAddress && virtualAddress - VirtualAddress < FileSize;

    /// <summary>The virtual address the segment maps the byte at <paramref name="fileOffset"/> to, when the byte is in it.</summary>
    public bool TryGetVirtualAddress(ulong fileOffset, out ulong virtualAddress)
    {
        bool inside = fileOffset >= Offset && fileOffset - Offset < FileSize;
        virtualAddress = inside ? VirtualAddress + (fileOffset - Offset) : 0;
        return inside;
    }
}
