using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using BpfSharp.Elf;

namespace BpfSharp.Tests.Elf;

/// <summary>The ELF reader against llvm-readelf-14 on clang-compiled BPF objects and system binaries.</summary>
public sealed partial class ElfFileTests
{
    private const string Readelf = "llvm-readelf-14";
    private const string LibC = "/lib/x86_64-linux-gnu/libc.so.6";

    public static TheoryData<string> Objects()
    {
        var data = new TheoryData<string>();
        foreach (string path in TestPrograms.All())
        {
            data.Add(Path.GetFileName(path));
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Objects))]
    public void SectionsMatchLlvmReadelf(string file)
    {
        string path = Path.Combine(TestPrograms.Directory, file);
        using ElfFile elf = ElfFile.Open(path);
        Assert.Equal(ElfType.Relocatable, elf.Header.Type);
        Assert.Equal(ElfMachine.Bpf, elf.Header.Machine);
        Assert.True(elf.Header.IsLittleEndian);
        Assert.Empty(elf.Segments);

        JsonElement[] expected = ReadelfJson(path, "-S", "Sections").Select(s => s.GetProperty("Section")).ToArray();
        Assert.Equal(expected.Length, elf.Sections.Count);
        byte[] image = File.ReadAllBytes(path);
        foreach (JsonElement section in expected)
        {
            ElfSection actual = elf.Sections[section.GetProperty("Index").GetInt32()];
            Assert.Equal(section.GetProperty("Name").GetProperty("Value").GetString(), actual.Name);
            Assert.Equal(section.GetProperty("Type").GetProperty("RawValue").GetUInt32(), (uint)actual.Type);
            Assert.Equal(section.GetProperty("Flags").GetProperty("RawFlags").GetUInt64(), (ulong)actual.Flags);
            Assert.Equal(section.GetProperty("Offset").GetUInt64(), actual.Offset);
            Assert.Equal(section.GetProperty("Size").GetUInt64(), actual.Size);
            Assert.Equal(section.GetProperty("Link").GetUInt32(), actual.Link);
            Assert.Equal(section.GetProperty("Info").GetUInt32(), actual.Info);
            Assert.Equal(section.GetProperty("AddressAlignment").GetUInt64(), actual.Alignment);
            Assert.Equal(section.GetProperty("EntrySize").GetUInt64(), actual.EntrySize);
            if (actual.Type is ElfSectionType.NoBits or ElfSectionType.Null)
            {
                Assert.True(actual.Data.IsEmpty);
            }
            else
            {
                Assert.Equal(image.AsSpan((int)actual.Offset, (int)actual.Size).ToArray(), actual.Data.ToArray());
            }
        }
    }

    [Theory]
    [MemberData(nameof(Objects))]
    public void SymbolsMatchLlvmReadelf(string file)
    {
        string path = Path.Combine(TestPrograms.Directory, file);
        using ElfFile elf = ElfFile.Open(path);
        ElfSymbolTable symbols = elf.SymbolTable ?? throw new Xunit.Sdk.XunitException($"{file} has no .symtab");
        JsonElement[] expected = ReadelfJson(path, "--symbols", "Symbols").Select(s => s.GetProperty("Symbol")).ToArray();
        Assert.Equal(expected.Length, symbols.Count);
        for (int i = 0; i < expected.Length; i++)
        {
            ElfSymbol actual = symbols[i];
            Assert.Equal(i, actual.Index);
            Assert.Equal(expected[i].GetProperty("Value").GetUInt64(), actual.Value);
            Assert.Equal(expected[i].GetProperty("Size").GetUInt64(), actual.Size);
            Assert.Equal(expected[i].GetProperty("Type").GetProperty("RawValue").GetByte(), (byte)actual.Type);
            Assert.Equal(expected[i].GetProperty("Binding").GetProperty("RawValue").GetByte(), (byte)actual.Binding);
            // st_other is a number, or for a symbol with visibility flags (__hidden) an object with RawFlags.
            JsonElement other = expected[i].GetProperty("Other");
            int rawOther = other.ValueKind == JsonValueKind.Number ? other.GetByte() : other.GetProperty("RawFlags").GetByte();
            Assert.Equal(rawOther & 3, (int)actual.Visibility);
            Assert.Equal(expected[i].GetProperty("Section").GetProperty("RawValue").GetUInt32(), actual.SectionIndex);
            if (actual.Type != ElfSymbolType.Section)
            {
                // llvm-readelf shows a section symbol by its section's name; the symbol itself is unnamed.
                Assert.Equal(expected[i].GetProperty("Name").GetProperty("Value").GetString(), actual.Name);
            }
        }

        // Every program has its function symbol in an executable section, and maps are objects in .maps.
        Assert.Contains(symbols, s => s.Type == ElfSymbolType.Function && elf.Sections[(int)s.SectionIndex].IsExecutable);
        Assert.True(symbols.TryFind("LICENSE", out ElfSymbol license));
        Assert.Equal("license", elf.Sections[(int)license.SectionIndex].Name);
        Assert.Equal("GPL", System.Text.Encoding.ASCII.GetString(elf.Sections[(int)license.SectionIndex].Data.Span[(int)license.Value..(int)(license.Value + 3)]));
    }

    [Theory]
    [MemberData(nameof(Objects))]
    public void RelocationsMatchLlvmReadelf(string file)
    {
        string path = Path.Combine(TestPrograms.Directory, file);
        using ElfFile elf = ElfFile.Open(path);
        // llvm-readelf-14's JSON relocation output is malformed, so compare with its GNU text form:
        // "Relocation section 'NAME' at offset 0x.. contains N entries:" then "offset info type value name".
        var expected = new Dictionary<string, List<(ulong Offset, ulong Info, string Symbol)>>();
        List<(ulong, ulong, string)>? current = null;
        foreach (string line in ExternalTool.Run(Readelf, "-r", "-W", path).Split('\n'))
        {
            Match header = RelocationHeader().Match(line);
            if (header.Success)
            {
                current = expected[header.Groups[1].Value] = [];
                continue;
            }
            Match entry = RelocationLine().Match(line);
            if (entry.Success && current is not null)
            {
                current.Add((Convert.ToUInt64(entry.Groups[1].Value, 16), Convert.ToUInt64(entry.Groups[2].Value, 16), entry.Groups[3].Value.Trim()));
            }
        }

        List<ElfRelocationSection> sections = elf.RelocationSections.ToList();
        Assert.Equal(expected.Keys.Order(), sections.Select(s => s.Section.Name).Order());
        ElfSymbolTable symbols = elf.SymbolTable!;
        foreach (ElfRelocationSection relocations in sections)
        {
            List<(ulong Offset, ulong Info, string Symbol)> entries = expected[relocations.Section.Name];
            Assert.Equal(entries.Count, relocations.Count);
            Assert.False(relocations.HasAddends);
            Assert.Equal((uint)symbols.Section.Index, relocations.SymbolTableIndex);
            Assert.EndsWith(elf.GetSection(relocations.TargetSectionIndex).Name, relocations.Section.Name);
            for (int i = 0; i < entries.Count; i++)
            {
                ElfRelocation relocation = relocations[i];
                Assert.Equal(entries[i].Offset, relocation.Offset);
                Assert.Equal(entries[i].Info >> 32, relocation.SymbolIndex);
                Assert.Equal(entries[i].Info & 0xffffffff, relocation.Type);
                ElfSymbol symbol = symbols[(int)relocation.SymbolIndex];
                string name = symbol.Type == ElfSymbolType.Section ? elf.Sections[(int)symbol.SectionIndex].Name : symbol.Name;
                Assert.Equal(entries[i].Symbol, name);
            }
        }

        // Code relocations against maps: each points at an ld_imm64 and names an object in .maps.
        foreach (ElfRelocationSection relocations in sections.Where(r => elf.GetSection(r.TargetSectionIndex).IsExecutable))
        {
            ElfSection code = elf.GetSection(relocations.TargetSectionIndex);
            foreach (ElfRelocation relocation in relocations)
            {
                ElfSymbol symbol = symbols[(int)relocation.SymbolIndex];
                if (!symbol.IsUndefined && elf.Sections[(int)symbol.SectionIndex].Name == ".maps")
                {
                    Assert.Equal(1u, relocation.Type); // R_BPF_64_64
                    Assert.Equal(0x18, code.Data.Span[(int)relocation.Offset]);
                    Assert.Equal(ElfSymbolType.Object, symbol.Type);
                }
            }
        }
    }

    [Fact]
    public void MinimalObjectReferencesItsMapFromCode()
    {
        using ElfFile elf = ElfFile.Open(TestPrograms.Path("minimal"));
        ElfRelocationSection relocations = Assert.Single(elf.RelocationSections, r => r.Section.Name == ".relxdp");
        ElfRelocation relocation = Assert.Single(relocations);
        Assert.Equal("runs", elf.SymbolTable![(int)relocation.SymbolIndex].Name);
        uint nameOffset = BitConverter.ToUInt32(elf.SymbolTable.Section.Data.Span[((int)relocation.SymbolIndex * 24)..]);
        Assert.True(elf.SymbolTable.Names.StringEquals(nameOffset, "runs"));
        Assert.False(elf.SymbolTable.Names.StringEquals(nameOffset, "run"));
        Assert.Throws<ElfException>(() => elf.SymbolTable.Names.GetString(uint.MaxValue));
        Assert.True(elf.TryGetSection("xdp", out ElfSection xdp));
        Assert.Equal(xdp.Index, (int)relocations.TargetSectionIndex);
    }

    [Fact]
    public void ReadsProgramHeadersAndDynamicSymbolsOfLs()
    {
        CompareLinkedFile("/bin/ls");
    }

    [Fact]
    public void ReadsProgramHeadersDynamicSymbolsAndNotesOfLibC()
    {
        CompareLinkedFile(LibC);
        using ElfFile elf = ElfFile.Open(LibC);
        Assert.Equal(ElfType.SharedObject, elf.Header.Type);
        Assert.Equal(ElfMachine.X86_64, elf.Header.Machine);

        // The GNU build id note is a 20-byte SHA-1 (type NT_GNU_BUILD_ID = 3).
        Assert.True(elf.TryGetSection(".note.gnu.build-id", out ElfSection buildIdSection));
        ElfNote buildId = Assert.Single(elf.GetNotes(buildIdSection).ToList());
        Assert.Equal("GNU", buildId.Name);
        Assert.Equal(3u, buildId.Type);
        Assert.Equal(20, buildId.Descriptor.Length);
        string readelfNotes = ExternalTool.Run(Readelf, "-n", LibC);
        Assert.Contains(Convert.ToHexString(buildId.Descriptor.Span).ToLowerInvariant(), readelfNotes);

        // Every PT_NOTE segment decodes too (it holds the build id among others).
        Assert.Contains(elf.Segments.Where(s => s.Type == ElfSegmentType.Note).SelectMany(s => elf.GetNotes(s).ToList()),
            n => n.Type == 3 && n.Descriptor.Span.SequenceEqual(buildId.Descriptor.Span));

        // A function's address maps to the file offset where its code lies.
        ElfSymbolTable dynamic = elf.DynamicSymbolTable!;
        Assert.True(dynamic.TryFind("malloc", out ElfSymbol malloc));
        Assert.Equal(ElfSymbolType.Function, malloc.Type);
        Assert.True(elf.TryGetFileOffset(malloc.Value, out ulong offset));
        ElfSection text = elf.GetSection(malloc.SectionIndex);
        Assert.Equal(text.Offset + (malloc.Value - text.Address), offset);
    }

    [Fact]
    public void RelaSectionsOfLsMatchLlvmReadelf()
    {
        using ElfFile elf = ElfFile.Open("/bin/ls");
        var expected = new Dictionary<string, List<(ulong Offset, ulong Info, long Addend)>>();
        List<(ulong, ulong, long)>? current = null;
        foreach (string line in ExternalTool.Run(Readelf, "-r", "-W", "/bin/ls").Split('\n'))
        {
            Match header = RelocationHeader().Match(line);
            if (header.Success)
            {
                current = expected[header.Groups[1].Value] = [];
                continue;
            }
            Match entry = RelaLine().Match(line);
            if (entry.Success && current is not null)
            {
                // The tail is "value name + addend" (or "- addend") with a symbol, else just the addend.
                string tail = entry.Groups[3].Value.Trim();
                Match withSymbol = RelaSymbolTail().Match(tail);
                long addend = withSymbol.Success
                    ? (withSymbol.Groups[1].Value == "-" ? -1 : 1) * Convert.ToInt64(withSymbol.Groups[2].Value, 16)
                    : tail.StartsWith('-') ? -Convert.ToInt64(tail[1..], 16) : Convert.ToInt64(tail, 16);
                current.Add((Convert.ToUInt64(entry.Groups[1].Value, 16), Convert.ToUInt64(entry.Groups[2].Value, 16), addend));
            }
        }
        List<ElfRelocationSection> sections = elf.RelocationSections.ToList();
        Assert.NotEmpty(sections);
        Assert.Equal(expected.Keys.Order(), sections.Select(s => s.Section.Name).Order());
        foreach (ElfRelocationSection relocations in sections)
        {
            Assert.True(relocations.HasAddends);
            Assert.Equal(elf.DynamicSymbolTable!.Section.Index, (int)relocations.SymbolTableIndex);
            List<(ulong Offset, ulong Info, long Addend)> entries = expected[relocations.Section.Name];
            Assert.Equal(entries.Count, relocations.Count);
            for (int i = 0; i < entries.Count; i++)
            {
                Assert.Equal(entries[i].Offset, relocations[i].Offset);
                Assert.Equal(entries[i].Info >> 32, relocations[i].SymbolIndex);
                Assert.Equal(entries[i].Info & 0xffffffff, relocations[i].Type);
                Assert.Equal(entries[i].Addend, relocations[i].Addend);
            }
        }
    }

    [Fact]
    public void ReadAndOpenGiveTheSameView()
    {
        using ElfFile mapped = ElfFile.Open("/bin/ls");
        using ElfFile read = ElfFile.Read("/bin/ls");
        Assert.Equal(mapped.Header, read.Header);
        Assert.Equal(mapped.Sections.Select(s => (s.Name, s.Offset, s.Size)), read.Sections.Select(s => (s.Name, s.Offset, s.Size)));
        Assert.True(mapped.Image.Span.SequenceEqual(read.Image.Span));
    }

    [Fact]
    public void ReadsBigEndianFiles()
    {
        string directory = Directory.CreateTempSubdirectory("bpfsharp-elf").FullName;
        try
        {
            string source = Path.Combine(directory, "be.c");
            string obj = Path.Combine(directory, "be.o");
            File.WriteAllText(source, "int counter = 3;\nint get(void) { return counter; }\n");
            ExternalTool.Run("clang-14", "-O2", "-target", "bpfeb", "-c", source, "-o", obj);
            using ElfFile elf = ElfFile.Open(obj);
            Assert.False(elf.Header.IsLittleEndian);
            Assert.Equal(ElfMachine.Bpf, elf.Header.Machine);
            Assert.True(elf.SymbolTable!.TryFind("counter", out ElfSymbol counter));
            Assert.Equal(4ul, counter.Size);
            Assert.Equal(ElfSymbolBinding.Global, counter.Binding);
            ElfSection data = elf.GetSection(counter.SectionIndex);
            Assert.Equal(new byte[] { 0, 0, 0, 3 }, data.Data.Span.Slice((int)counter.Value, 4).ToArray());
            Assert.True(elf.SymbolTable.TryFind("get", out ElfSymbol get));
            Assert.Equal(ElfSymbolType.Function, get.Type);
            ElfRelocationSection relocations = Assert.Single(elf.RelocationSections, r => r.Section.Name == ".rel.text");
            Assert.Equal(counter.Index, (int)Assert.Single(relocations).SymbolIndex);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void RejectsWhatIsNotElf64()
    {
        Assert.Contains("magic", Assert.Throws<ElfException>(() => new ElfFile(new byte[64])).Message);
        Assert.Contains("only 3 bytes", Assert.Throws<ElfException>(() => new ElfFile(new byte[] { 0x7f, 0x45, 0x4c })).Message);
        byte[] elf32 = new byte[64];
        "\u007fELF"u8.CopyTo(elf32);
        elf32[4] = 1;
        Assert.Contains("32-bit", Assert.Throws<ElfException>(() => new ElfFile(elf32)).Message);
        string empty = Path.GetTempFileName();
        try
        {
            Assert.Contains("empty", Assert.Throws<ElfException>(() => ElfFile.Open(empty)).Message);
        }
        finally
        {
            File.Delete(empty);
        }
    }

    [Fact]
    public void EveryTruncationFailsCleanly()
    {
        byte[] image = File.ReadAllBytes(TestPrograms.Path("subprograms"));
        var clock = Stopwatch.StartNew();
        for (int length = 0; length < image.Length; length++)
        {
            var start = clock.Elapsed;
            // Only the whole file is complete; its section header table is at the end.
            Assert.False(ParseEverything(image.AsMemory(0, length)), $"a {length}-byte prefix parsed");
            Assert.True(clock.Elapsed - start < TimeSpan.FromSeconds(1), $"parsing {length} bytes took {clock.Elapsed - start}");
        }
    }

    [Theory]
    [InlineData("subprograms", 4000)]
    [InlineData("/bin/ls", 600)]
    public void RandomMutationsFailCleanly(string file, int trials)
    {
        byte[] original = File.ReadAllBytes(file.StartsWith('/') ? file : TestPrograms.Path(file));
        var random = new Random(42);
        var clock = Stopwatch.StartNew();
        int parsed = 0;
        for (int trial = 0; trial < trials; trial++)
        {
            byte[] image = (byte[])original.Clone();
            int mutations = 1 + random.Next(8);
            for (int m = 0; m < mutations; m++)
            {
                // Half the mutations hit the headers and tables, where a change matters most.
                int position = random.Next(2) == 0 ? random.Next(64) : random.Next(image.Length);
                if (random.Next(4) == 0 && position + 8 <= image.Length)
                {
                    BitConverter.TryWriteBytes(image.AsSpan(position), random.NextInt64() >> random.Next(64));
                }
                else
                {
                    image[position] = (byte)random.Next(256);
                }
            }
            if (random.Next(8) == 0)
            {
                // Aim at the section header table, which every other structure hangs off.
                ulong shoff = BitConverter.ToUInt64(original, 40);
                int at = (int)shoff + random.Next(Math.Max(1, original.Length - (int)shoff));
                image[at] ^= (byte)(1 << random.Next(8));
            }
            var start = clock.Elapsed;
            if (ParseEverything(image))
            {
                parsed++;
            }
            Assert.True(clock.Elapsed - start < TimeSpan.FromSeconds(1), $"trial {trial} took {clock.Elapsed - start}");
        }
        // Both outcomes must be common, or the mutations only ever reach one code path.
        Assert.InRange(parsed, trials / 10, trials - trials / 10);
    }

    /// <summary>Touches every part of the file; true when it parsed, false on ElfException, and any other exception fails the test.</summary>
    private static bool ParseEverything(ReadOnlyMemory<byte> image)
    {
        try
        {
            var elf = new ElfFile(image);
            foreach (ElfSection section in elf.Sections)
            {
                switch (section.Type)
                {
                    case ElfSectionType.SymbolTable or ElfSectionType.DynamicSymbolTable:
                        foreach (ElfSymbol symbol in elf.GetSymbolTable((uint)section.Index))
                        {
                            _ = symbol.Name.Length;
                        }
                        break;
                    case ElfSectionType.Relocations or ElfSectionType.RelocationsWithAddends:
                        foreach (ElfRelocation relocation in elf.GetRelocations(section))
                        {
                            _ = relocation.SymbolIndex;
                        }
                        break;
                    case ElfSectionType.Note:
                        _ = elf.GetNotes(section).ToList();
                        break;
                    case ElfSectionType.StringTable:
                        _ = elf.GetStringTable((uint)section.Index).GetString(0);
                        break;
                }
            }
            foreach (ElfSegment segment in elf.Segments.Where(s => s.Type == ElfSegmentType.Note))
            {
                _ = elf.GetNotes(segment).ToList();
            }
            return true;
        }
        catch (ElfException)
        {
            return false;
        }
    }

    private static void CompareLinkedFile(string path)
    {
        using ElfFile elf = ElfFile.Open(path);
        JsonElement[] headers = ReadelfJson(path, "-l", "ProgramHeaders").Select(h => h.GetProperty("ProgramHeader")).ToArray();
        Assert.NotEmpty(headers);
        Assert.Equal(headers.Length, elf.Segments.Count);
        for (int i = 0; i < headers.Length; i++)
        {
            ElfSegment segment = elf.Segments[i];
            Assert.Equal(headers[i].GetProperty("Type").GetProperty("RawValue").GetUInt32(), (uint)segment.Type);
            Assert.Equal(headers[i].GetProperty("Offset").GetUInt64(), segment.Offset);
            Assert.Equal(headers[i].GetProperty("VirtualAddress").GetUInt64(), segment.VirtualAddress);
            Assert.Equal(headers[i].GetProperty("PhysicalAddress").GetUInt64(), segment.PhysicalAddress);
            Assert.Equal(headers[i].GetProperty("FileSize").GetUInt64(), segment.FileSize);
            Assert.Equal(headers[i].GetProperty("MemSize").GetUInt64(), segment.MemorySize);
            Assert.Equal(headers[i].GetProperty("Flags").GetProperty("RawFlags").GetUInt32(), (uint)segment.Flags);
            Assert.Equal(headers[i].GetProperty("Alignment").GetUInt64(), segment.Alignment);
        }
        Assert.Contains(elf.Segments, s => s.Type == ElfSegmentType.Load && (s.Flags & ElfSegmentFlags.Execute) != 0);

        ElfSymbolTable dynamic = elf.DynamicSymbolTable ?? throw new Xunit.Sdk.XunitException($"{path} has no .dynsym");
        JsonElement[] symbols = ReadelfJson(path, "--dyn-symbols", "DynamicSymbols").Select(s => s.GetProperty("Symbol")).ToArray();
        Assert.Equal(symbols.Length, dynamic.Count);
        for (int i = 0; i < symbols.Length; i++)
        {
            ElfSymbol actual = dynamic[i];
            // llvm-readelf appends symbol versions (malloc@@GLIBC_2.2.5); the table holds the bare name.
            string name = symbols[i].GetProperty("Name").GetProperty("Value").GetString()!.Split('@')[0];
            Assert.Equal(name, actual.Name);
            Assert.Equal(symbols[i].GetProperty("Value").GetUInt64(), actual.Value);
            Assert.Equal(symbols[i].GetProperty("Size").GetUInt64(), actual.Size);
            Assert.Equal(symbols[i].GetProperty("Type").GetProperty("RawValue").GetByte(), (byte)actual.Type);
            Assert.Equal(symbols[i].GetProperty("Binding").GetProperty("RawValue").GetByte(), (byte)actual.Binding);
            Assert.Equal(symbols[i].GetProperty("Section").GetProperty("RawValue").GetUInt32(), actual.SectionIndex);
        }
    }

    private static IEnumerable<JsonElement> ReadelfJson(string path, string option, string property)
    {
        using JsonDocument document = JsonDocument.Parse(ExternalTool.Run(Readelf, "--elf-output-style=JSON", option, path));
        JsonElement file = document.RootElement[0].GetProperty(path);
        return file.GetProperty(property).EnumerateArray().Select(e => e.Clone()).ToArray();
    }

    [GeneratedRegex(@"^Relocation section '(.+)' at offset")]
    private static partial Regex RelocationHeader();

    [GeneratedRegex(@"^([0-9a-f]{16})\s+([0-9a-f]{16})\s+\S+\s+[0-9a-f]{16}\s+(.*)$")]
    private static partial Regex RelocationLine();

    [GeneratedRegex(@"^([0-9a-f]{16})\s+([0-9a-f]{16})\s+\S+\s+(.*)$")]
    private static partial Regex RelaLine();

    [GeneratedRegex(@"^[0-9a-f]{16} .* ([+-]) ([0-9a-f]+)$")]
    private static partial Regex RelaSymbolTail();
}
