namespace BpfSharp.Elf;

/// <summary>The fields of the ELF header (<c>Elf64_Ehdr</c>) that describe the file.</summary>
public readonly record struct ElfHeader
{
    /// <summary>True for little-endian files (<c>ELFDATA2LSB</c>), false for big-endian.</summary>
    public bool IsLittleEndian { get; init; }

    /// <summary><c>EI_OSABI</c>.</summary>
    public byte OsAbi { get; init; }

    /// <summary><c>e_type</c>.</summary>
    public ElfType Type { get; init; }

    /// <summary><c>e_machine</c>.</summary>
    public ElfMachine Machine { get; init; }

    /// <summary><c>e_entry</c>: the entry point address.</summary>
    public ulong Entry { get; init; }

    /// <summary><c>e_flags</c>: architecture-specific flags.</summary>
    public uint Flags { get; init; }

    /// <summary><c>e_phoff</c>: where the program header table starts (0: none).</summary>
    public ulong ProgramHeaderOffset { get; init; }

    /// <summary><c>e_shoff</c>: where the section header table starts (0: none).</summary>
    public ulong SectionHeaderOffset { get; init; }

    /// <summary>The number of program headers (after extended numbering).</summary>
    public int ProgramHeaderCount { get; init; }

    /// <summary>The number of section headers (after extended numbering).</summary>
    public int SectionHeaderCount { get; init; }

    /// <summary>The index of the section header string table (after extended numbering).</summary>
    public int SectionNameTableIndex { get; init; }
}
