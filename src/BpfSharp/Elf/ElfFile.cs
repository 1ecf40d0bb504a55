namespace BpfSharp.Elf;

/// <summary>
/// A reader of ELF64 files (little- and big-endian) over memory: BPF objects from clang, and
/// executables and shared libraries (for uprobes). It validates the header and the section and
/// program header tables when constructed and decodes everything else on demand, handing out small
/// structs over slices of the file. Corrupt or truncated input gives an <see cref="ElfException"/>
/// saying what is wrong and where.
/// </summary>
public sealed class ElfFile : IDisposable
{
    private const int HeaderSize = 64;
    private const int SectionHeaderSize = 64;
    private const int ProgramHeaderSize = 56;
    private const ushort ExtendedNumbering = 0xffff;

    private readonly ElfData _data;
    private readonly ElfSection[] _sections;
    private readonly ElfSegment[] _segments;
    private readonly IDisposable? _owner;

    /// <summary>Reads the ELF file held in <paramref name="image"/>; the memory must stay valid while the reader is used.</summary>
    /// <exception cref="ElfException">The bytes are not a well-formed ELF64 file.</exception>
    public ElfFile(ReadOnlyMemory<byte> image)
        : this(image, owner: null)
    {
    }

    private ElfFile(ReadOnlyMemory<byte> image, IDisposable? owner)
    {
        _owner = owner;
        Header = ReadHeader(image, out _data);
        _segments = ReadSegments();
        _sections = ReadSections();
    }

    /// <summary>
    /// Opens the ELF file at <paramref name="path"/>, memory-mapping it read-only (dispose the reader
    /// to unmap it; slices handed out become invalid then).
    /// </summary>
    /// <exception cref="ElfException">The file is empty or not a well-formed ELF64 file.</exception>
    /// <exception cref="IOException">The file cannot be opened.</exception>
    public static ElfFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        if (stream.Length == 0)
        {
            throw new ElfException($"{path} is empty, not an ELF file");
        }
        if (stream.Length > int.MaxValue)
        {
            throw new ElfException($"{path} is {stream.Length} bytes; files over 2 GiB are not supported");
        }
        var mapping = MappedFileMemory.Map(stream);
        try
        {
            return new ElfFile(mapping.Memory, mapping);
        }
        catch
        {
            ((IDisposable)mapping).Dispose();
            throw;
        }
    }

    /// <summary>Reads the ELF file at <paramref name="path"/> into memory (no mapping to release).</summary>
    public static ElfFile Read(string path) => new(File.ReadAllBytes(path));

    /// <summary>The ELF header.</summary>
    public ElfHeader Header { get; }

    /// <summary>The whole file.</summary>
    public ReadOnlyMemory<byte> Image => _data.Memory;

    /// <summary>Every section, in header table order (index 0 is the null section).</summary>
    public IReadOnlyList<ElfSection> Sections => _sections;

    /// <summary>Every program header (segment); empty for relocatable objects.</summary>
    public IReadOnlyList<ElfSegment> Segments => _segments;

    /// <summary>The section at <paramref name="index"/>.</summary>
    /// <exception cref="ElfException">There is no such section.</exception>
    public ElfSection GetSection(uint index) =>
        index < (uint)_sections.Length
            ? _sections[index]
            : throw new ElfException($"section index {index} is out of range: the file has {_sections.Length} sections");

    /// <summary>The first section named <paramref name="name"/>, if any.</summary>
    public bool TryGetSection(string name, out ElfSection section)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (ElfSection candidate in _sections)
        {
            if (candidate.Name == name)
            {
                section = candidate;
                return true;
            }
        }
        section = default;
        return false;
    }

    /// <summary>The string table in section <paramref name="index"/>.</summary>
    /// <exception cref="ElfException">The section does not exist or is not a string table.</exception>
    public ElfStringTable GetStringTable(uint index)
    {
        ElfSection section = GetSection(index);
        if (section.Type != ElfSectionType.StringTable)
        {
            throw new ElfException($"{section} is referenced as a string table but has type {section.Type}", (long)section.Offset);
        }
        return new ElfStringTable(section);
    }

    /// <summary>The static symbol table (<c>.symtab</c>, SHT_SYMTAB), or null when stripped.</summary>
    public ElfSymbolTable? SymbolTable => FindSymbolTable(ElfSectionType.SymbolTable);

    /// <summary>The dynamic symbol table (<c>.dynsym</c>, SHT_DYNSYM), or null for static files and objects.</summary>
    public ElfSymbolTable? DynamicSymbolTable => FindSymbolTable(ElfSectionType.DynamicSymbolTable);

    /// <summary>The symbol table in section <paramref name="index"/> (SHT_SYMTAB or SHT_DYNSYM).</summary>
    /// <exception cref="ElfException">The section is not a valid symbol table.</exception>
    public ElfSymbolTable GetSymbolTable(uint index)
    {
        ElfSection section = GetSection(index);
        if (section.Type is not (ElfSectionType.SymbolTable or ElfSectionType.DynamicSymbolTable))
        {
            throw new ElfException($"{section} is referenced as a symbol table but has type {section.Type}", (long)section.Offset);
        }
        return new ElfSymbolTable(this, section, FindExtendedIndexes(section.Index));
    }

    /// <summary>Every relocation section (SHT_REL and SHT_RELA).</summary>
    public IEnumerable<ElfRelocationSection> RelocationSections
    {
        get
        {
            foreach (ElfSection section in _sections)
            {
                if (section.Type is ElfSectionType.Relocations or ElfSectionType.RelocationsWithAddends)
                {
                    yield return GetRelocations(section);
                }
            }
        }
    }

    /// <summary>The relocations in <paramref name="section"/> (SHT_REL or SHT_RELA).</summary>
    /// <exception cref="ElfException">The section is not a valid relocation section.</exception>
    public ElfRelocationSection GetRelocations(ElfSection section)
    {
        if (section.Type is not (ElfSectionType.Relocations or ElfSectionType.RelocationsWithAddends))
        {
            throw new ElfException($"{section} is not a relocation section but {section.Type}", (long)section.Offset);
        }
        return new ElfRelocationSection(section, bigEndian: !Header.IsLittleEndian);
    }

    /// <summary>The notes in a SHT_NOTE section.</summary>
    /// <exception cref="ElfException">The section is not a note section, or a note is malformed (when enumerated).</exception>
    public ElfNotes GetNotes(ElfSection section)
    {
        if (section.Type != ElfSectionType.Note)
        {
            throw new ElfException($"{section} is not a note section but {section.Type}", (long)section.Offset);
        }
        return new ElfNotes(section.Data, (long)section.Offset, section.Alignment, !Header.IsLittleEndian);
    }

    /// <summary>The notes in a PT_NOTE segment.</summary>
    public ElfNotes GetNotes(ElfSegment segment)
    {
        if (segment.Type != ElfSegmentType.Note)
        {
            throw new ElfException($"program header {segment.Index} is not a note segment but {segment.Type}", (long)segment.Offset);
        }
        return new ElfNotes(segment.Data, (long)segment.Offset, segment.Alignment, !Header.IsLittleEndian);
    }

    /// <summary>
    /// The file offset of the byte mapped at <paramref name="virtualAddress"/> by a PT_LOAD segment,
    /// as uprobes need (they attach at file offsets, symbols give addresses).
    /// </summary>
    public bool TryGetFileOffset(ulong virtualAddress, out ulong fileOffset)
    {
        foreach (ElfSegment segment in _segments)
        {
            if (segment.Type == ElfSegmentType.Load && segment.ContainsFileBacked(virtualAddress))
            {
                fileOffset = segment.Offset + (virtualAddress - segment.VirtualAddress);
                return true;
            }
        }
        fileOffset = 0;
        return false;
    }

    /// <summary>
    /// The virtual address at which a PT_LOAD segment maps the byte at <paramref name="fileOffset"/>: the inverse of
    /// <see cref="TryGetFileOffset"/>, what symbolizers need to turn a process address (through its mapping's file
    /// offset) into the address symbols are given at.
    /// </summary>
    public bool TryGetVirtualAddress(ulong fileOffset, out ulong virtualAddress)
    {
        foreach (ElfSegment segment in _segments)
        {
            if (segment.Type == ElfSegmentType.Load && segment.TryGetVirtualAddress(fileOffset, out virtualAddress))
            {
                return true;
            }
        }
        virtualAddress = 0;
        return false;
    }

    /// <summary>Releases the file mapping, if the reader was opened from a path with <see cref="Open"/>.</summary>
    public void Dispose() => _owner?.Dispose();

    private ElfSymbolTable? FindSymbolTable(ElfSectionType type)
    {
        foreach (ElfSection section in _sections)
        {
            if (section.Type == type)
            {
                return GetSymbolTable((uint)section.Index);
            }
        }
        return null;
    }

    private ReadOnlyMemory<byte> FindExtendedIndexes(int symbolTableIndex)
    {
        foreach (ElfSection section in _sections)
        {
            if (section.Type == ElfSectionType.SymbolTableSectionIndexes && section.Link == (uint)symbolTableIndex)
            {
                return section.Data;
            }
        }
        return ReadOnlyMemory<byte>.Empty;
    }

    private static ElfHeader ReadHeader(ReadOnlyMemory<byte> image, out ElfData data)
    {
        ReadOnlySpan<byte> ident = image.Span;
        if (ident.Length < 16 || ident[0] != 0x7f || ident[1] != (byte)'E' || ident[2] != (byte)'L' || ident[3] != (byte)'F')
        {
            throw new ElfException(ident.Length < 4 ? $"not an ELF file: only {ident.Length} bytes" : "not an ELF file: the magic number \\x7fELF is missing", 0);
        }
        if (ident[4] != 2)
        {
            throw new ElfException(ident[4] == 1 ? "32-bit ELF files (ELFCLASS32) are not supported; BPF objects and 64-bit binaries are ELFCLASS64" : $"invalid ELF class {ident[4]}", 4);
        }
        if (ident[5] is not (1 or 2))
        {
            throw new ElfException($"invalid ELF data encoding {ident[5]} (1: little-endian, 2: big-endian)", 5);
        }
        if (ident[6] != 1)
        {
            throw new ElfException($"unsupported ELF version {ident[6]}", 6);
        }
        if (image.Length < HeaderSize)
        {
            throw new ElfException($"truncated ELF header: {image.Length} of {HeaderSize} bytes", 0);
        }
        data = new ElfData(image, bigEndian: ident[5] == 2);
        ElfData d = data;
        ushort ehsize = d.U16(52, "e_ehsize");
        ushort phentsize = d.U16(54, "e_phentsize");
        ushort phnum = d.U16(56, "e_phnum");
        ushort shentsize = d.U16(58, "e_shentsize");
        ushort shnum = d.U16(60, "e_shnum");
        ushort shstrndx = d.U16(62, "e_shstrndx");
        ulong phoff = d.U64(32, "e_phoff");
        ulong shoff = d.U64(40, "e_shoff");
        if (ehsize < HeaderSize)
        {
            throw new ElfException($"e_ehsize is {ehsize}, smaller than the {HeaderSize}-byte ELF64 header", 52);
        }

        // Extended numbering: counts too large for 16 bits live in section header 0.
        ulong sectionCount = shnum;
        ulong nameTable = shstrndx;
        ulong segmentCount = phnum;
        if (shoff != 0)
        {
            if (shentsize != SectionHeaderSize)
            {
                throw new ElfException($"e_shentsize is {shentsize}, not the {SectionHeaderSize} bytes of an ELF64 section header", 58);
            }
            if (!d.Contains(shoff, SectionHeaderSize))
            {
                throw new ElfException($"the section header table at 0x{shoff:x} starts past the end of the 0x{d.Length:x}-byte file", 40);
            }
            if (shnum == 0)
            {
                sectionCount = d.U64(shoff + 32, "section header 0 (extended section count)");
            }
            if (shstrndx == ExtendedNumbering)
            {
                nameTable = d.U32(shoff + 40, "section header 0 (extended string table index)");
            }
            if (phnum == ExtendedNumbering)
            {
                segmentCount = d.U32(shoff + 44, "section header 0 (extended program header count)");
            }
        }
        else
        {
            sectionCount = 0;
        }
        if (segmentCount != 0 && phentsize != ProgramHeaderSize)
        {
            throw new ElfException($"e_phentsize is {phentsize}, not the {ProgramHeaderSize} bytes of an ELF64 program header", 54);
        }
        // Tables must lie in the file; checking here also bounds every count by the file size,
        // so no later allocation can be larger than the file.
        if (sectionCount != 0 && (sectionCount > d.Length / SectionHeaderSize || !d.Contains(shoff, sectionCount * SectionHeaderSize)))
        {
            throw new ElfException($"the section header table ({sectionCount} headers at 0x{shoff:x}) extends past the end of the 0x{d.Length:x}-byte file", 40);
        }
        if (segmentCount != 0 && (segmentCount > d.Length / ProgramHeaderSize || !d.Contains(phoff, segmentCount * ProgramHeaderSize)))
        {
            throw new ElfException($"the program header table ({segmentCount} headers at 0x{phoff:x}) extends past the end of the 0x{d.Length:x}-byte file", 32);
        }
        if (sectionCount != 0 && nameTable >= sectionCount)
        {
            throw new ElfException($"e_shstrndx {nameTable} is not one of the {sectionCount} sections", 62);
        }
        return new ElfHeader
        {
            IsLittleEndian = !d.BigEndian,
            OsAbi = ident[7],
            Type = (ElfType)d.U16(16, "e_type"),
            Machine = (ElfMachine)d.U16(18, "e_machine"),
            Entry = d.U64(24, "e_entry"),
            Flags = d.U32(48, "e_flags"),
            ProgramHeaderOffset = phoff,
            SectionHeaderOffset = shoff,
            ProgramHeaderCount = (int)segmentCount,
            SectionHeaderCount = (int)sectionCount,
            SectionNameTableIndex = sectionCount == 0 ? 0 : (int)nameTable,
        };
    }

    private ElfSegment[] ReadSegments()
    {
        var segments = new ElfSegment[Header.ProgramHeaderCount];
        bool big = _data.BigEndian;
        for (int i = 0; i < segments.Length; i++)
        {
            ulong at = Header.ProgramHeaderOffset + (ulong)i * ProgramHeaderSize;
            ReadOnlySpan<byte> header = _data.Slice(at, ProgramHeaderSize, $"program header {i}").Span;
            var type = (ElfSegmentType)ElfData.U32(header, big);
            ulong offset = ElfData.U64(header[8..], big);
            ulong fileSize = ElfData.U64(header[32..], big);
            ReadOnlyMemory<byte> contents = ReadOnlyMemory<byte>.Empty;
            if (type != ElfSegmentType.Null)
            {
                if (!_data.Contains(offset, fileSize))
                {
                    throw new ElfException($"program header {i} ({type}) covers 0x{fileSize:x} bytes at 0x{offset:x}, past the end of the 0x{_data.Length:x}-byte file", (long)at);
                }
                contents = _data.Slice(offset, fileSize, $"program header {i}");
            }
            segments[i] = new ElfSegment
            {
                Index = i,
                Type = type,
                Flags = (ElfSegmentFlags)ElfData.U32(header[4..], big),
                Offset = offset,
                VirtualAddress = ElfData.U64(header[16..], big),
                PhysicalAddress = ElfData.U64(header[24..], big),
                FileSize = fileSize,
                MemorySize = ElfData.U64(header[40..], big),
                Alignment = ElfData.U64(header[48..], big),
                Data = contents,
            };
        }
        return segments;
    }

    private ElfSection[] ReadSections()
    {
        int count = Header.SectionHeaderCount;
        var sections = new ElfSection[count];
        var nameOffsets = new uint[count];
        bool big = _data.BigEndian;
        for (int i = 0; i < count; i++)
        {
            ulong at = Header.SectionHeaderOffset + (ulong)i * SectionHeaderSize;
            ReadOnlySpan<byte> header = _data.Slice(at, SectionHeaderSize, $"section header {i}").Span;
            nameOffsets[i] = ElfData.U32(header, big);
            var type = (ElfSectionType)ElfData.U32(header[4..], big);
            ulong offset = ElfData.U64(header[24..], big);
            ulong size = ElfData.U64(header[32..], big);
            ReadOnlyMemory<byte> contents = ReadOnlyMemory<byte>.Empty;
            // Section 0 is reserved (it may hold extended counts in its size field).
            if (i != 0 && type is not (ElfSectionType.NoBits or ElfSectionType.Null))
            {
                if (!_data.Contains(offset, size))
                {
                    throw new ElfException($"section header {i} ({type}) covers 0x{size:x} bytes at 0x{offset:x}, past the end of the 0x{_data.Length:x}-byte file", (long)at);
                }
                contents = _data.Slice(offset, size, $"section {i}");
            }
            sections[i] = new ElfSection
            {
                Index = i,
                Name = "",
                Type = type,
                Flags = (ElfSectionFlags)ElfData.U64(header[8..], big),
                Address = ElfData.U64(header[16..], big),
                Offset = offset,
                Size = size,
                Link = ElfData.U32(header[40..], big),
                Info = ElfData.U32(header[44..], big),
                Alignment = ElfData.U64(header[48..], big),
                EntrySize = ElfData.U64(header[56..], big),
                Data = contents,
            };
        }
        if (count > 0)
        {
            ElfSection nameSection = sections[Header.SectionNameTableIndex];
            if (nameSection.Type != ElfSectionType.StringTable)
            {
                throw new ElfException($"the section name table (section {nameSection.Index}) has type {nameSection.Type}, not a string table", (long)Header.SectionHeaderOffset);
            }
            var names = new ElfStringTable(nameSection);
            for (int i = 0; i < count; i++)
            {
                sections[i] = sections[i] with { Name = names.GetString(nameOffsets[i]) };
            }
        }
        return sections;
    }
}
