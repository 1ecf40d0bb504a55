using System.Buffers.Binary;
using System.Text;
using BpfSharp.Asm;
using BpfSharp.Btf;
using BpfSharp.Elf;
using BpfSharp.Maps;
using BpfSharp.Programs;

namespace BpfSharp.Specs;

/// <summary>
/// Reads a clang-compiled BPF object (ELF, relocatable, e_machine BPF) into a <see cref="CollectionSpec"/> the
/// way libbpf 1.x reads it: programs from executable sections, BTF-defined and legacy maps, global data sections
/// as array maps, externs, and every relocation of the code turned into a named reference on its instruction.
/// </summary>
internal sealed class ObjectReader
{
    private const string MapsSection = ".maps";
    private const string LegacyMapsSection = "maps";
    private const string KconfigSection = ".kconfig";
    private const string KsymsSection = ".ksyms";
    private const string StructOpsSection = ".struct_ops";
    private const string StructOpsLinkSection = ".struct_ops.link";
    private const int LegacyMapDefinitionMinimum = 20;

    private readonly string _objectName;
    private readonly ElfFile _elf;
    private readonly ElfSymbolTable _symbols;
    private readonly CollectionSpec _spec;
    private readonly Dictionary<int, List<ObjectFunction>> _functionsBySection = new();
    private readonly Dictionary<int, MapSpec> _dataMaps = new();
    private readonly SortedList<ulong, MapSpec> _btfMaps = new();
    private readonly SortedList<ulong, MapSpec> _legacyMaps = new();
    private readonly Dictionary<string, ExternSpec> _externs = new(StringComparer.Ordinal);
    private int _mapsSectionIndex = -1;
    private int _legacyMapsSectionIndex = -1;

    private ObjectReader(string objectName, ElfFile elf)
    {
        _objectName = objectName;
        _elf = elf;
        _symbols = elf.SymbolTable ?? throw Error("the object has no symbol table (.symtab); was it stripped? BPF objects need their symbols");
        _spec = new CollectionSpec(SanitizedObjectName(objectName));
    }

    internal static CollectionSpec Read(ReadOnlyMemory<byte> image, string objectName)
    {
        ElfFile elf;
        try
        {
            elf = new ElfFile(image);
        }
        catch (ElfException e)
        {
            throw new BpfObjectException(objectName, $"not a valid ELF object: {e.Message}", e);
        }
        try
        {
            return new ObjectReader(objectName, elf).Read();
        }
        catch (Exception e) when (e is ElfException or BtfException or FormatException)
        {
            throw new BpfObjectException(objectName, e.Message, e);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or KeyNotFoundException or IndexOutOfRangeException or OverflowException)
        {
            // A corrupt object whose parts contradict each other (BTF naming what the ELF lacks, offsets past the data).
            throw new BpfObjectException(objectName, $"the object is malformed: {e.Message}", e);
        }
    }

    /// <summary>libbpf's object name: the file name up to its first dot, with characters the kernel refuses replaced.</summary>
    internal static string SanitizedObjectName(string path)
    {
        string name = Path.GetFileName(path);
        int dot = name.IndexOf('.');
        if (dot >= 0)
        {
            name = name[..dot];
        }
        return name;
    }

    /// <summary>libbpf's name for an internal (global data) map: object-name prefix plus the section name, 15 characters at most.</summary>
    internal static string InternalMapName(string objectName, string sectionName)
    {
        const int limit = 15;
        int suffix = Math.Min(Math.Max(7, sectionName.Length), limit);
        // .data.custom and .rodata.custom keep their own name, without the object's.
        int prefix = sectionName.IndexOf('.', 1) >= 0 ? 0 : Math.Min(limit - suffix, objectName.Length);
        string name = objectName[..prefix] + sectionName[..Math.Min(suffix, sectionName.Length)];
        var text = new StringBuilder(name.Length);
        foreach (char c in name)
        {
            text.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' ? c : '_');
        }
        return text.ToString();
    }

    private BpfObjectException Error(string message, Exception? inner = null) => new(_objectName, message, inner);

    private CollectionSpec Read()
    {
        if (_elf.Header.Machine != ElfMachine.Bpf)
        {
            throw Error($"not a BPF object: e_machine is {_elf.Header.Machine}; compile with clang -target bpf");
        }
        if (_elf.Header.Type != ElfType.Relocatable)
        {
            throw Error($"not a relocatable object (e_type is {_elf.Header.Type}); load the .o file clang -c produces");
        }
        if (!_elf.Header.IsLittleEndian != !BitConverter.IsLittleEndian)
        {
            throw Error("the object's byte order differs from this machine's; compile with -target bpf (or bpfel/bpfeb to match)");
        }
        ReadLicenseAndVersion();
        ReadBtf();
        ReadExterns();
        ReadDataSections();
        ReadBtfMaps();
        ReadLegacyMaps();
        ReadFunctions();
        ReadCodeRelocations();
        ReadMapRelocations();
        ReadStructOps();
        AssignLabels();
        FixUpBtf();
        return _spec;
    }

    private void ReadLicenseAndVersion()
    {
        if (_elf.TryGetSection("license", out ElfSection license))
        {
            ReadOnlySpan<byte> text = license.Data.Span;
            int end = text.IndexOf((byte)0);
            _spec.License = Encoding.UTF8.GetString(end < 0 ? text : text[..end]);
        }
        if (_elf.TryGetSection("version", out ElfSection version))
        {
            if (version.Data.Length != 4)
            {
                throw Error($"section 'version' is {version.Data.Length} bytes, not the 4 of a kernel version code");
            }
            _spec.KernelVersion = BinaryPrimitives.ReadUInt32LittleEndian(version.Data.Span);
        }
    }

    private void ReadBtf()
    {
        if (!_elf.TryGetSection(".BTF", out ElfSection btf))
        {
            return;
        }
        try
        {
            _spec.Btf = BtfSpec.Parse(btf.Data);
        }
        catch (BtfException e)
        {
            throw Error($"section .BTF is invalid: {e.Message}", e);
        }
        if (_elf.TryGetSection(".BTF.ext", out ElfSection ext))
        {
            try
            {
                _spec.BtfExt = BtfExt.Parse(ext.Data, _spec.Btf);
            }
            catch (BtfException e)
            {
                throw Error($"section .BTF.ext is invalid: {e.Message}", e);
            }
        }
    }

    private bool TryFindDataSection(string name, out BtfType dataSection)
    {
        dataSection = default;
        return _spec.Btf is not null && _spec.Btf.TryFindType(name, BtfKind.DataSection, out dataSection);
    }

    private void ReadExterns()
    {
        foreach (ElfSymbol symbol in _symbols)
        {
            if (!symbol.IsUndefined || symbol.Name.Length == 0 || symbol.Binding == ElfSymbolBinding.Local || symbol.Type == ElfSymbolType.File)
            {
                continue;
            }
            (ExternKind kind, BtfType? type, bool function) = ClassifyExtern(symbol);
            _externs[symbol.Name] = new ExternSpec(symbol.Name, kind, symbol.Binding == ElfSymbolBinding.Weak, function, type);
        }
        LayOutKconfig();
        foreach (ExternSpec spec in _externs.Values)
        {
            _spec.ExternList.Add(spec);
        }
    }

    private (ExternKind Kind, BtfType? Type, bool Function) ClassifyExtern(ElfSymbol symbol)
    {
        BtfSpec? btf = _spec.Btf;
        if (btf is not null)
        {
            foreach (string section in new[] { KconfigSection, KsymsSection })
            {
                if (!TryFindDataSection(section, out BtfType dataSection))
                {
                    continue;
                }
                foreach (BtfDataSectionVariable variable in dataSection.Variables)
                {
                    BtfType declared = variable.Type;
                    if (declared.Name != symbol.Name)
                    {
                        continue;
                    }
                    ExternKind kind = section == KconfigSection ? ExternKind.Kconfig : ExternKind.Ksym;
                    if (declared.Kind == BtfKind.Function)
                    {
                        if (kind == ExternKind.Kconfig)
                        {
                            throw Error($"extern function '{symbol.Name}' is declared __kconfig; only variables can be kconfig values");
                        }
                        return (kind, declared, true);
                    }
                    if (declared.Kind != BtfKind.Variable)
                    {
                        throw Error($"{section} holds {declared.Describe()} for extern '{symbol.Name}', not a variable or function");
                    }
                    return (kind, btf.ResolveTypedefsAndQualifiers(declared.ReferencedTypeId), false);
                }
            }
            // A function extern without a DATASEC entry (clang-14 lists kfuncs only as FUNC with extern linkage).
            if (btf.TryFindType(symbol.Name, BtfKind.Function, out BtfType function) && function.FunctionLinkage == BtfFunctionLinkage.Extern)
            {
                return (ExternKind.Ksym, function, true);
            }
        }
        // Without BTF, libbpf's convention: CONFIG_ and LINUX_ names are kconfig values, the rest kernel symbols.
        if (symbol.Name.StartsWith("CONFIG_", StringComparison.Ordinal) || symbol.Name.StartsWith("LINUX_", StringComparison.Ordinal))
        {
            return (ExternKind.Kconfig, null, false);
        }
        return (ExternKind.Ksym, null, symbol.Type == ElfSymbolType.Function);
    }

    private void LayOutKconfig()
    {
        var kconfig = _externs.Values.Where(e => e.Kind == ExternKind.Kconfig).ToList();
        if (kconfig.Count == 0)
        {
            return;
        }
        foreach (ExternSpec extern_ in kconfig)
        {
            if (extern_.Type is not BtfType type)
            {
                // No BTF: libbpf cannot size it either; assume a 64-bit number.
                extern_.Size = 8;
                extern_.Alignment = 8;
                continue;
            }
            long size = type.Spec.SizeOf(type.Id);
            if (size <= 0 || size > 4096)
            {
                throw Error($"kconfig extern '{extern_.Name}' has type {type.Describe()} of size {size}; use bool, char, a tristate enum, an integer or a char array");
            }
            extern_.Size = (uint)size;
            extern_.Alignment = (uint)Math.Max(1, type.Spec.AlignOf(type.Id));
        }
        // libbpf's order: larger alignment first, then smaller size, then name; offsets packed by alignment.
        kconfig.Sort((a, b) => a.Alignment != b.Alignment ? b.Alignment.CompareTo(a.Alignment)
            : a.Size != b.Size ? a.Size.CompareTo(b.Size) : string.CompareOrdinal(a.Name, b.Name));
        uint offset = 0;
        foreach (ExternSpec extern_ in kconfig)
        {
            offset = (offset + extern_.Alignment - 1) / extern_.Alignment * extern_.Alignment;
            extern_.Offset = offset;
            offset += extern_.Size;
        }
        var map = new MapSpec
        {
            Name = InternalMapName(_spec.Name, KconfigSection),
            Type = MapType.Array,
            KeySize = 4,
            ValueSize = offset,
            MaxEntries = 1,
            Flags = MapFlags.Mmapable | MapFlags.ReadOnlyProgram,
            SectionName = KconfigSection,
        };
        if (TryFindDataSection(KconfigSection, out BtfType dataSection))
        {
            map.BtfValueTypeId = (uint)dataSection.Id;
        }
        _spec.MapsByName.Add(map.Name, map);
        _spec.KconfigMapName = map.Name;
    }

    private static bool IsDataSection(ElfSection section) =>
        (section.Flags & ElfSectionFlags.Alloc) != 0 && !section.IsExecutable
        && section.Type is ElfSectionType.ProgBits or ElfSectionType.NoBits
        && (IsPrefixed(section.Name, ".data") || IsPrefixed(section.Name, ".rodata") || IsPrefixed(section.Name, ".bss"));

    private static bool IsPrefixed(string name, string prefix) =>
        name == prefix || name.StartsWith(prefix + ".", StringComparison.Ordinal);

    private void ReadDataSections()
    {
        foreach (ElfSection section in _elf.Sections)
        {
            if (!IsDataSection(section) || section.Size == 0)
            {
                continue;
            }
            if (section.Size > int.MaxValue)
            {
                throw Error($"data section {section.Name} is 0x{section.Size:x} bytes, too large for an array map value");
            }
            bool readOnly = IsPrefixed(section.Name, ".rodata");
            byte[] initial = section.Type == ElfSectionType.NoBits ? new byte[section.Size] : section.Data.ToArray();
            var map = new MapSpec
            {
                Name = InternalMapName(_spec.Name, section.Name),
                Type = MapType.Array,
                KeySize = 4,
                ValueSize = (uint)section.Size,
                MaxEntries = 1,
                Flags = MapFlags.Mmapable | (readOnly ? MapFlags.ReadOnlyProgram : MapFlags.None),
                InitialValue = initial,
                SectionName = section.Name,
            };
            if (TryFindDataSection(section.Name, out BtfType dataSection))
            {
                map.BtfValueTypeId = (uint)dataSection.Id;
            }
            if (_spec.MapsByName.ContainsKey(map.Name))
            {
                throw Error($"data sections {section.Name} and another both map to the map name '{map.Name}' (names are cut to 15 characters)");
            }
            _spec.MapsByName.Add(map.Name, map);
            _dataMaps[section.Index] = map;
            ReadVariables(section, map);
        }
    }

    private void ReadVariables(ElfSection section, MapSpec map)
    {
        var byName = new Dictionary<string, (uint Offset, uint Size, BtfType? Type)>(StringComparer.Ordinal);
        foreach (ElfSymbol symbol in _symbols)
        {
            if (symbol.SectionIndex == (uint)section.Index && symbol.Type == ElfSymbolType.Object && symbol.Name.Length > 0
                && !symbol.Name.StartsWith('.'))
            {
                byName[symbol.Name] = ((uint)symbol.Value, (uint)symbol.Size, null);
            }
        }
        if (TryFindDataSection(section.Name, out BtfType dataSection))
        {
            foreach (BtfDataSectionVariable variable in dataSection.Variables)
            {
                BtfType var = variable.Type;
                if (var.Kind != BtfKind.Variable)
                {
                    continue;
                }
                // Clang leaves DATASEC offsets zero; the ELF symbol has the real one (libbpf does the same).
                uint offset = byName.TryGetValue(var.Name, out var fromSymbol) ? fromSymbol.Offset : variable.Offset;
                byName[var.Name] = (offset, variable.Size, var.Spec[var.ReferencedTypeId]);
            }
        }
        foreach ((string name, (uint offset, uint size, BtfType? type)) in byName.OrderBy(v => v.Value.Offset))
        {
            if ((ulong)offset + size > section.Size)
            {
                throw Error($"variable '{name}' ({size} bytes at {offset}) lies outside section {section.Name} ({section.Size} bytes)");
            }
            if (_spec.VariablesByName.ContainsKey(name))
            {
                continue;
            }
            _spec.VariablesByName.Add(name, new VariableSpec(name, section.Name, map, offset, size, type));
        }
    }

    private void ReadBtfMaps()
    {
        if (!_elf.TryGetSection(MapsSection, out ElfSection section))
        {
            return;
        }
        _mapsSectionIndex = section.Index;
        if (_spec.Btf is null || !TryFindDataSection(MapsSection, out BtfType dataSection))
        {
            throw Error("the object has a .maps section but no BTF describing it; compile with -g");
        }
        var offsets = SymbolOffsets(section.Index);
        foreach (BtfDataSectionVariable variable in dataSection.Variables)
        {
            BtfType var = variable.Type;
            if (var.Kind != BtfKind.Variable)
            {
                throw Error($".maps holds {var.Describe()}; every entry must be a map definition variable");
            }
            string name = var.Name;
            if (!offsets.TryGetValue(name, out ulong offset))
            {
                throw Error($"map '{name}' is in the .maps BTF but has no ELF symbol");
            }
            BtfType definition = _spec.Btf.ResolveTypedefsAndQualifiers(var.ReferencedTypeId);
            MapSpec map = ParseMapDefinition(name, definition, isInner: false);
            map.SectionName = MapsSection;
            AddMap(map);
            _btfMaps[offset] = map;
        }
    }

    private Dictionary<string, ulong> SymbolOffsets(int sectionIndex)
    {
        var offsets = new Dictionary<string, ulong>(StringComparer.Ordinal);
        foreach (ElfSymbol symbol in _symbols)
        {
            if (symbol.SectionIndex == (uint)sectionIndex && symbol.Name.Length > 0 && symbol.Type is ElfSymbolType.Object or ElfSymbolType.NoType)
            {
                offsets[symbol.Name] = symbol.Value;
            }
        }
        return offsets;
    }

    private void AddMap(MapSpec map)
    {
        if (!_spec.MapsByName.TryAdd(map.Name, map))
        {
            throw Error($"two maps are named '{map.Name}'");
        }
    }

    private MapSpec ParseMapDefinition(string name, BtfType definition, bool isInner)
    {
        BtfSpec btf = definition.Spec;
        string what = isInner ? $"inner map of '{name}'" : $"map '{name}'";
        if (definition.Kind != BtfKind.Struct)
        {
            throw Error($"{what} is {definition.Describe()}; a BTF-defined map is a struct of __uint/__type/__array members");
        }
        var map = new MapSpec { Name = name };
        uint? keySize = null, valueSize = null;
        foreach (BtfMember member in definition.Members)
        {
            string field = member.Name;
            switch (field)
            {
                case "type":
                    map.Type = (MapType)UintMember(member, what);
                    break;
                case "max_entries":
                    map.MaxEntries = UintMember(member, what);
                    break;
                case "map_flags":
                    map.Flags = (MapFlags)UintMember(member, what);
                    break;
                case "numa_node":
                    map.NumaNode = UintMember(member, what);
                    map.Flags |= MapFlags.NumaNode;
                    break;
                case "key_size":
                    keySize = CheckSize(keySize, UintMember(member, what), what, "key");
                    break;
                case "value_size":
                    valueSize = CheckSize(valueSize, UintMember(member, what), what, "value");
                    break;
                case "map_extra":
                    map.MapExtra = UintMember(member, what);
                    break;
                case "pinning":
                    uint pinning = UintMember(member, what);
                    if (pinning > 1)
                    {
                        throw Error($"{what} has pinning {pinning}; only LIBBPF_PIN_NONE (0) and LIBBPF_PIN_BY_NAME (1) exist");
                    }
                    if (isInner && pinning != 0)
                    {
                        throw Error($"{what} is pinned; inner maps cannot be pinned");
                    }
                    map.Pinning = (MapPinning)pinning;
                    break;
                case "key":
                {
                    int id = PointerTarget(member, what);
                    map.BtfKeyTypeId = (uint)id;
                    keySize = CheckSize(keySize, (uint)btf.SizeOf(id), what, "key");
                    break;
                }
                case "value":
                {
                    int id = PointerTarget(member, what);
                    map.BtfValueTypeId = (uint)id;
                    valueSize = CheckSize(valueSize, (uint)btf.SizeOf(id), what, "value");
                    break;
                }
                case "values":
                    if (isInner)
                    {
                        throw Error($"{what} nests another __array(values, ...); only one level of map-in-map is supported");
                    }
                    ParseValuesArray(map, member, what);
                    break;
                default:
                    throw Error($"{what} has an unknown member '{field}' (known: type, key, value, key_size, value_size, max_entries, map_flags, numa_node, map_extra, pinning, values)");
            }
        }
        if (map.Type == MapType.Unspec)
        {
            throw Error($"{what} has no type; add __uint(type, BPF_MAP_TYPE_...)");
        }
        map.KeySize = keySize ?? 0;
        map.ValueSize = valueSize ?? 0;
        if (Map.IsMapOfMapsType(map.Type) || map.Type is MapType.ProgArray)
        {
            // Their values are fds: four bytes, and no BTF value type the kernel would accept.
            map.KeySize = keySize ?? 4;
            map.ValueSize = valueSize ?? 4;
        }
        else if (map.Type is MapType.PerfEventArray or MapType.CgroupArray or MapType.DevMap or MapType.DevMapHash
            or MapType.SockMap or MapType.SockHash or MapType.XskMap or MapType.CpuMap or MapType.ReuseportSockArray)
        {
            map.KeySize = keySize ?? 4;
            map.ValueSize = valueSize ?? 4;
        }
        return map;
    }

    private uint? CheckSize(uint? earlier, uint size, string what, string which)
    {
        if (earlier is uint previous && previous != size)
        {
            throw Error($"{what} declares {which} sizes {previous} and {size}: __type({which}, ...) and __uint({which}_size, ...) disagree");
        }
        return size;
    }

    /// <summary>An <c>__uint(name, value)</c> member: a pointer to an array whose element count is the value.</summary>
    private uint UintMember(BtfMember member, string what)
    {
        BtfSpec btf = _spec.Btf!;
        BtfType pointer = btf.SkipQualifiers(member.TypeId);
        if (pointer.Kind == BtfKind.Pointer)
        {
            BtfType array = btf.SkipQualifiers(pointer.ReferencedTypeId);
            if (array.Kind == BtfKind.Array)
            {
                return array.Array.Count;
            }
        }
        throw Error($"{what}: member '{member.Name}' is not an __uint(...) (a pointer to an array whose length is the value)");
    }

    private int PointerTarget(BtfMember member, string what)
    {
        BtfType pointer = _spec.Btf!.SkipQualifiers(member.TypeId);
        if (pointer.Kind != BtfKind.Pointer)
        {
            throw Error($"{what}: member '{member.Name}' is not a __type(...) (a pointer to the type)");
        }
        return pointer.ReferencedTypeId;
    }

    private void ParseValuesArray(MapSpec map, BtfMember member, string what)
    {
        BtfSpec btf = _spec.Btf!;
        BtfType array = btf.SkipQualifiers(member.TypeId);
        if (array.Kind != BtfKind.Array)
        {
            throw Error($"{what}: member 'values' is not an __array(values, ...)");
        }
        BtfType pointer = btf.SkipQualifiers(array.Array.ElementTypeId);
        if (pointer.Kind != BtfKind.Pointer)
        {
            throw Error($"{what}: __array(values, ...) elements must be pointers to an inner map definition or a program prototype");
        }
        BtfType element = btf.ResolveTypedefsAndQualifiers(pointer.ReferencedTypeId);
        map.ValueSize = 4;
        if (element.Kind == BtfKind.Struct)
        {
            map.InnerMap = ParseMapDefinition(map.Name + ".inner", element, isInner: true);
        }
        else if (element.Kind != BtfKind.FunctionProto)
        {
            throw Error($"{what}: __array(values, ...) holds {element.Describe()}, neither an inner map definition nor a program prototype");
        }
    }

    private void ReadLegacyMaps()
    {
        if (!_elf.TryGetSection(LegacyMapsSection, out ElfSection section))
        {
            return;
        }
        _legacyMapsSectionIndex = section.Index;
        var symbols = _symbols.Where(s => s.SectionIndex == (uint)section.Index && s.Name.Length > 0
            && s.Type is ElfSymbolType.Object or ElfSymbolType.NoType).OrderBy(s => s.Value).ToList();
        if (symbols.Count == 0)
        {
            return;
        }
        ulong definitionSize = section.Size / (ulong)symbols.Count;
        if (section.Size % (ulong)symbols.Count != 0 || definitionSize < LegacyMapDefinitionMinimum)
        {
            throw Error($"section 'maps' is {section.Size} bytes for {symbols.Count} maps: not whole struct bpf_map_def entries of at least {LegacyMapDefinitionMinimum} bytes");
        }
        ReadOnlySpan<byte> data = section.Data.Span;
        foreach (ElfSymbol symbol in symbols)
        {
            if (symbol.Value % definitionSize != 0 || symbol.Value + definitionSize > section.Size)
            {
                throw Error($"legacy map '{symbol.Name}' at offset {symbol.Value} is not on a {definitionSize}-byte struct bpf_map_def boundary");
            }
            ReadOnlySpan<byte> definition = data.Slice((int)symbol.Value, (int)definitionSize);
            var map = new MapSpec
            {
                Name = symbol.Name,
                Type = (MapType)BinaryPrimitives.ReadUInt32LittleEndian(definition),
                KeySize = BinaryPrimitives.ReadUInt32LittleEndian(definition[4..]),
                ValueSize = BinaryPrimitives.ReadUInt32LittleEndian(definition[8..]),
                MaxEntries = BinaryPrimitives.ReadUInt32LittleEndian(definition[12..]),
                Flags = (MapFlags)BinaryPrimitives.ReadUInt32LittleEndian(definition[16..]),
                SectionName = LegacyMapsSection,
            };
            // Bytes past the five standard fields must be zero: a field this loader does not know would be dropped.
            foreach (byte b in definition[LegacyMapDefinitionMinimum..])
            {
                if (b != 0)
                {
                    throw Error($"legacy map '{symbol.Name}' sets fields beyond struct bpf_map_def's type, key_size, value_size, max_entries and map_flags; use a BTF-defined map in .maps");
                }
            }
            AddMap(map);
            _legacyMaps[symbol.Value] = map;
        }
    }

    private void ReadFunctions()
    {
        var byLabel = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (ElfSection section in _elf.Sections)
        {
            if (!section.IsExecutable || section.Type != ElfSectionType.ProgBits || section.Size == 0)
            {
                continue;
            }
            if (section.Size % InstructionEncoding.SlotSize != 0)
            {
                throw Error($"code section {section.Name} is {section.Size} bytes, not a whole number of 8-byte instructions");
            }
            List<Instruction> code = InstructionEncoding.Decode(section.Data.Span);
            var slotToIndex = SlotIndex(code);
            var starts = _symbols.Where(s => s.SectionIndex == (uint)section.Index && s.Type == ElfSymbolType.Function && s.Name.Length > 0)
                .OrderBy(s => s.Value).ToList();
            if (starts.Count == 0)
            {
                throw Error($"code section {section.Name} has no function symbols; programs are functions marked SEC(\"...\")");
            }
            bool isText = section.Name == ".text";
            // libbpf 1.x: SEC("?tp/...") is the section without the '?', with autoload off until the user turns it on.
            bool optional = section.Name.StartsWith('?');
            string programSection = optional ? section.Name[1..] : section.Name;
            SectionDefinition? definition = isText ? null : ProgramSections.TryResolve(programSection);
            var functions = new List<ObjectFunction>();
            int totalSlots = (int)(section.Size / InstructionEncoding.SlotSize);
            for (int i = 0; i < starts.Count; i++)
            {
                ElfSymbol symbol = starts[i];
                if (symbol.Value % InstructionEncoding.SlotSize != 0 || symbol.Value >= section.Size)
                {
                    throw Error($"function '{symbol.Name}' starts at byte {symbol.Value} of {section.Name}, not at an instruction");
                }
                int startSlot = (int)(symbol.Value / InstructionEncoding.SlotSize);
                int endSlot = i + 1 < starts.Count ? (int)(starts[i + 1].Value / InstructionEncoding.SlotSize) : totalSlots;
                if (i == 0 && startSlot != 0)
                {
                    throw Error($"the first {startSlot} instructions of {section.Name} belong to no function symbol");
                }
                if (!slotToIndex.TryGetValue(startSlot, out int first) || !slotToIndex.TryGetValue(endSlot, out int last))
                {
                    throw Error($"function '{symbol.Name}' in {section.Name} starts or ends inside an ld_imm64 instruction");
                }
                if (symbol.Size != 0 && symbol.Size != (ulong)(endSlot - startSlot) * InstructionEncoding.SlotSize)
                {
                    throw Error($"function '{symbol.Name}' in {section.Name} is {symbol.Size} bytes by its symbol but {(endSlot - startSlot) * 8} bytes to the next function");
                }
                bool global = symbol.Binding is ElfSymbolBinding.Global or ElfSymbolBinding.Weak;
                var function = new ObjectFunction
                {
                    Name = symbol.Name,
                    Label = symbol.Name,
                    SectionName = section.Name,
                    StartSlot = startSlot,
                    IsHiddenGlobal = global && symbol.Visibility is ElfSymbolVisibility.Hidden or ElfSymbolVisibility.Internal,
                    Code = code.GetRange(first, last - first),
                };
                if (!isText && global)
                {
                    if (definition is null)
                    {
                        throw Error($"program '{symbol.Name}': {ProgramSectionsMessage(programSection)}");
                    }
                    function.Program = NewProgram(symbol.Name, programSection, definition, function.Code);
                    function.Program.Autoload = !optional;
                    function.Code = [];
                    _spec.ProgramsByName.Add(symbol.Name, function.Program);
                }
                functions.Add(function);
                byLabel[symbol.Name] = byLabel.GetValueOrDefault(symbol.Name) + 1;
            }
            _functionsBySection[section.Index] = functions;
            _spec.FunctionList.AddRange(functions);
            AttachBtfExt(section.Name, functions);
        }
        // Two static functions of the same name in different sections get section-qualified labels.
        foreach (ObjectFunction function in _spec.FunctionList)
        {
            if (byLabel[function.Name] > 1 && function.Program is null)
            {
                function.Label = $"{function.SectionName}/{function.Name}";
            }
        }
    }

    private static string ProgramSectionsMessage(string section)
    {
        try
        {
            ProgramSections.Resolve(section);
            return $"section '{section}' is not a program section";
        }
        catch (BpfException e)
        {
            return e.Message;
        }
    }

    private ProgramSpec NewProgram(string name, string section, SectionDefinition definition, List<Instruction> code)
    {
        var flags = ProgramFlags.None;
        if (definition.IsSleepable)
        {
            flags |= ProgramFlags.Sleepable;
        }
        if (definition.Traits.HasFlag(SectionTraits.XdpFrags))
        {
            flags |= ProgramFlags.XdpHasFrags;
        }
        return new ProgramSpec
        {
            Name = name,
            Type = definition.ProgramType,
            ExpectedAttachType = definition.ExpectedAttachType,
            Instructions = code,
            License = _spec.License,
            KernelVersion = _spec.KernelVersion,
            Flags = flags,
            SectionName = section,
            AttachTo = definition.Target(section),
        };
    }

    private static Dictionary<int, int> SlotIndex(List<Instruction> code)
    {
        var index = new Dictionary<int, int>(code.Count + 1);
        int slot = 0;
        for (int i = 0; i < code.Count; i++)
        {
            index[slot] = i;
            slot += code[i].Slots;
        }
        index[slot] = code.Count;
        return index;
    }

    private void AttachBtfExt(string section, List<ObjectFunction> functions)
    {
        BtfExt? ext = _spec.BtfExt;
        if (ext is null)
        {
            return;
        }
        if (ext.FunctionInfos.TryGetValue(section, out IReadOnlyList<BtfFunctionInfo>? infos))
        {
            foreach (BtfFunctionInfo info in infos)
            {
                ObjectFunction? function = functions.Find(f => f.StartSlot == (int)info.InstructionIndex);
                if (function is null)
                {
                    throw Error($".BTF.ext func_info of {section} names instruction {info.InstructionIndex}, where no function starts");
                }
                function.FunctionTypeId = info.TypeId;
            }
        }
        if (ext.LineInfos.TryGetValue(section, out IReadOnlyList<BtfLineInfo>? lines))
        {
            foreach (BtfLineInfo line in lines)
            {
                ObjectFunction? function = functions.LastOrDefault(f => f.StartSlot <= (int)line.InstructionIndex);
                if (function is null)
                {
                    throw Error($".BTF.ext line_info of {section} names instruction {line.InstructionIndex}, before the first function");
                }
                function.Lines.Add(line with { InstructionIndex = line.InstructionIndex - (uint)function.StartSlot });
            }
        }
    }

    private void ReadCodeRelocations()
    {
        foreach (ElfRelocationSection relocations in _elf.RelocationSections)
        {
            if (!_functionsBySection.TryGetValue((int)relocations.TargetSectionIndex, out List<ObjectFunction>? functions))
            {
                continue;
            }
            if (relocations.SymbolTableIndex != (uint)_symbols.Section.Index)
            {
                throw Error($"{relocations.Section} refers to a symbol table other than .symtab");
            }
            ElfSection target = _elf.GetSection(relocations.TargetSectionIndex);
            foreach (ElfRelocation relocation in relocations)
            {
                if (relocation.Offset % InstructionEncoding.SlotSize != 0 || relocation.Offset >= target.Size)
                {
                    throw Error($"a relocation of {target.Name} points at byte {relocation.Offset}, not at an instruction");
                }
                int slot = (int)(relocation.Offset / InstructionEncoding.SlotSize);
                ObjectFunction function = functions.Last(f => f.StartSlot <= slot);
                List<Instruction> code = function.Program is null ? function.Code : (List<Instruction>)function.Program.Instructions;
                int index = IndexOfSlot(code, slot - function.StartSlot)
                    ?? throw Error($"a relocation of {target.Name} points into the middle of an ld_imm64 at byte {relocation.Offset}");
                ElfSymbol symbol = _symbols[(int)relocation.SymbolIndex];
                code[index] = Relocate(code[index], symbol, target.Name, relocation.Offset);
            }
        }
        // Calls between functions of one section may carry no relocation: give them labels as well.
        foreach ((int sectionIndex, List<ObjectFunction> functions) in _functionsBySection)
        {
            foreach (ObjectFunction function in functions)
            {
                List<Instruction> code = function.Program is null ? function.Code : (List<Instruction>)function.Program.Instructions;
                int slot = function.StartSlot;
                for (int i = 0; i < code.Count; slot += code[i].Slots, i++)
                {
                    Instruction instruction = code[i];
                    if (instruction.Reference is null && (instruction.IsSubprogramCall || instruction.IsLoadImm64 && instruction.PseudoSource == PseudoSource.Function))
                    {
                        int targetSlot = slot + 1 + (int)instruction.Constant;
                        ObjectFunction callee = FunctionAt(sectionIndex, targetSlot)
                            ?? throw Error($"instruction at byte {slot * 8} of {function.SectionName} calls slot {targetSlot}, where no function starts");
                        code[i] = instruction with { Reference = CalleeKey(callee) };
                    }
                }
            }
        }
    }

    private static int? IndexOfSlot(List<Instruction> code, int slot)
    {
        int at = 0;
        for (int i = 0; i < code.Count; i++)
        {
            if (at == slot)
            {
                return i;
            }
            at += code[i].Slots;
            if (at > slot)
            {
                return null;
            }
        }
        return null;
    }

    private ObjectFunction? FunctionAt(int sectionIndex, int slot) =>
        _functionsBySection.TryGetValue(sectionIndex, out List<ObjectFunction>? functions) ? functions.Find(f => f.StartSlot == slot) : null;

    // Labels are assigned after all sections are read; until then an instruction names its callee by identity.
    private readonly Dictionary<string, ObjectFunction> _calleeKeys = new(StringComparer.Ordinal);

    private string CalleeKey(ObjectFunction callee)
    {
        string key = $"\u0001{callee.SectionName}\u0001{callee.StartSlot}";
        _calleeKeys[key] = callee;
        return key;
    }

    private Instruction Relocate(Instruction instruction, ElfSymbol symbol, string section, ulong offset)
    {
        string where = $"the instruction at byte {offset} of {section} ({instruction})";
        if (symbol.IsUndefined)
        {
            if (!_externs.TryGetValue(symbol.Name, out ExternSpec? extern_))
            {
                throw Error($"{where} refers to the undefined symbol '{symbol.Name}', which is not a __kconfig or __ksym extern");
            }
            if (instruction.IsCall)
            {
                if (!extern_.IsFunction)
                {
                    throw Error($"{where} calls extern '{symbol.Name}', which is not declared as a function");
                }
                return instruction with { Src = (Register)CallSource.Kfunc, Constant = 0, Offset = 0, Reference = symbol.Name };
            }
            if (!instruction.IsLoadImm64)
            {
                throw Error($"{where} refers to extern '{symbol.Name}' but is neither a call nor an ld_imm64");
            }
            if (extern_.Kind == ExternKind.Kconfig)
            {
                long offsetInMap = extern_.Offset + (long)(int)instruction.Constant;
                return instruction with { Src = (Register)PseudoSource.MapValue, Constant = offsetInMap << 32, Reference = _spec.KconfigMapName };
            }
            return instruction with { Reference = symbol.Name, Constant = 0 };
        }
        if (symbol.SectionIndex >= ElfSectionIndex.LowReserved)
        {
            throw Error($"{where} refers to symbol '{symbol.Name}' in special section 0x{symbol.SectionIndex:x}, which a BPF loader cannot place");
        }
        int targetSection = (int)symbol.SectionIndex;
        if (_functionsBySection.ContainsKey(targetSection))
        {
            long byteOffset;
            if (instruction.IsCall && instruction.CallSource == CallSource.Subprogram)
            {
                byteOffset = (long)symbol.Value + ((long)(int)instruction.Constant + 1) * InstructionEncoding.SlotSize;
            }
            else if (instruction.IsLoadImm64)
            {
                byteOffset = (long)symbol.Value + (int)instruction.Constant;
                instruction = instruction with { Src = (Register)PseudoSource.Function };
            }
            else
            {
                throw Error($"{where} refers to code symbol '{symbol.Name}' but is neither a BPF-to-BPF call nor an ld_imm64 of a function");
            }
            if (byteOffset < 0 || byteOffset % InstructionEncoding.SlotSize != 0)
            {
                throw Error($"{where} targets byte {byteOffset} of {_elf.GetSection(symbol.SectionIndex).Name}, not an instruction");
            }
            ObjectFunction callee = FunctionAt(targetSection, (int)(byteOffset / InstructionEncoding.SlotSize))
                ?? throw Error($"{where} targets byte {byteOffset} of {_elf.GetSection(symbol.SectionIndex).Name}, where no function starts");
            return instruction with { Constant = 0, Reference = CalleeKey(callee) };
        }
        if (!instruction.IsLoadImm64)
        {
            throw Error($"{where} refers to data symbol '{symbol.Name}' but is not an ld_imm64 (the only instruction that can load an address)");
        }
        if (targetSection == _mapsSectionIndex || targetSection == _legacyMapsSectionIndex)
        {
            SortedList<ulong, MapSpec> maps = targetSection == _mapsSectionIndex ? _btfMaps : _legacyMaps;
            if (!maps.TryGetValue(symbol.Value, out MapSpec? map))
            {
                throw Error($"{where} refers to '{symbol.Name}' at offset {symbol.Value} of {_elf.GetSection(symbol.SectionIndex).Name}, where no map starts");
            }
            return instruction with { Src = (Register)PseudoSource.MapFd, Constant = 0, Reference = map.Name };
        }
        if (_dataMaps.TryGetValue(targetSection, out MapSpec? data))
        {
            long offsetInMap = (long)symbol.Value + (int)instruction.Constant;
            if (offsetInMap < 0 || offsetInMap > data.ValueSize)
            {
                throw Error($"{where} refers to offset {offsetInMap} of {data.SectionName}, outside its {data.ValueSize} bytes");
            }
            return instruction with { Src = (Register)PseudoSource.MapValue, Constant = offsetInMap << 32, Reference = data.Name };
        }
        ElfSection other = _elf.GetSection(symbol.SectionIndex);
        throw Error($"{where} refers to '{symbol.Name}' in section {other.Name}, which is neither code, a map section nor global data (.data, .rodata, .bss)");
    }

    private void ReadMapRelocations()
    {
        if (_mapsSectionIndex < 0)
        {
            return;
        }
        foreach (ElfRelocationSection relocations in _elf.RelocationSections.Where(r => r.TargetSectionIndex == (uint)_mapsSectionIndex))
        {
            foreach (ElfRelocation relocation in relocations)
            {
                int at = _btfMaps.Keys.Count(k => k <= relocation.Offset) - 1;
                if (at < 0)
                {
                    throw Error($"a relocation of .maps at byte {relocation.Offset} precedes every map");
                }
                MapSpec map = _btfMaps.Values[at];
                ulong mapOffset = _btfMaps.Keys[at];
                BtfType definition = DefinitionOf(map.Name);
                BtfMember values = default;
                bool found = false;
                foreach (BtfMember member in definition.Members)
                {
                    if (member.Name == "values")
                    {
                        values = member;
                        found = true;
                    }
                }
                if (!found)
                {
                    throw Error($"map '{map.Name}' has a relocation at byte {relocation.Offset - mapOffset} but no __array(values, ...) to hold it");
                }
                ulong slotOffset = relocation.Offset - mapOffset - values.ByteOffset;
                if (relocation.Offset < mapOffset + values.ByteOffset || slotOffset % 8 != 0)
                {
                    throw Error($"map '{map.Name}' has a relocation at byte {relocation.Offset - mapOffset}, not on an element of its values array");
                }
                ElfSymbol symbol = _symbols[(int)relocation.SymbolIndex];
                uint index = (uint)(slotOffset / 8);
                if (map.Type == MapType.ProgArray)
                {
                    if (!_spec.ProgramsByName.ContainsKey(symbol.Name))
                    {
                        throw Error($"program array '{map.Name}' slot {index} names '{symbol.Name}', which is not a program of this object");
                    }
                }
                else if (Map.IsMapOfMapsType(map.Type))
                {
                    if (!_spec.MapsByName.ContainsKey(symbol.Name))
                    {
                        throw Error($"map of maps '{map.Name}' slot {index} names '{symbol.Name}', which is not a map of this object");
                    }
                }
                else
                {
                    throw Error($"map '{map.Name}' of type {map.Type} has initial values; only program arrays and maps of maps can");
                }
                if (index >= map.MaxEntries)
                {
                    throw Error($"map '{map.Name}' sets slot {index}, beyond its max_entries {map.MaxEntries}");
                }
                map.Contents.Add(new MapSlot(index, symbol.Name));
            }
        }
    }

    /// <summary>
    /// <c>SEC(".struct_ops")</c> and <c>SEC(".struct_ops.link")</c> variables: one struct_ops map each (with
    /// <c>BPF_F_LINK</c> for the second), holding the initializer and, from the section's relocations, the program
    /// each function pointer member names.
    /// </summary>
    private void ReadStructOps()
    {
        // libbpf 1.x: a '?' in front makes the maps optional (not created unless the user turns autocreate on).
        foreach (string sectionName in new[] { StructOpsSection, StructOpsLinkSection, "?" + StructOpsSection, "?" + StructOpsLinkSection })
        {
            if (!_elf.TryGetSection(sectionName, out ElfSection section))
            {
                continue;
            }
            if (_spec.Btf is null || !TryFindDataSection(sectionName, out BtfType dataSection))
            {
                throw Error($"section {sectionName} has no BTF describing its variables; compile with -g");
            }
            var offsets = SymbolOffsets(section.Index);
            ReadOnlySpan<byte> data = section.Type == ElfSectionType.NoBits ? new byte[section.Size] : section.Data.Span;
            var maps = new SortedList<ulong, MapSpec>();
            foreach (BtfDataSectionVariable variable in dataSection.Variables)
            {
                BtfType var = variable.Type;
                if (var.Kind != BtfKind.Variable)
                {
                    throw Error($"{sectionName} holds {var.Describe()}; every entry must be a variable of a kernel ops struct");
                }
                string name = var.Name;
                if (!offsets.TryGetValue(name, out ulong offset))
                {
                    throw Error($"struct_ops variable '{name}' of {sectionName} has no ELF symbol");
                }
                BtfType type = _spec.Btf.ResolveTypedefsAndQualifiers(var.ReferencedTypeId);
                if (type.Kind != BtfKind.Struct || !type.HasName)
                {
                    throw Error($"struct_ops variable '{name}' is {type.Describe()}; it must be of a named kernel ops struct such as struct tcp_congestion_ops");
                }
                if (offset + type.Size > (ulong)data.Length)
                {
                    throw Error($"struct_ops variable '{name}' ({type.Size} bytes at {offset}) lies outside section {sectionName} ({data.Length} bytes)");
                }
                var map = new MapSpec
                {
                    Name = name,
                    Type = MapType.StructOps,
                    KeySize = 4,
                    ValueSize = type.Size,
                    MaxEntries = 1,
                    Flags = sectionName.EndsWith(StructOpsLinkSection, StringComparison.Ordinal) ? MapFlags.Link : MapFlags.None,
                    SectionName = sectionName.TrimStart('?'),
                    Autocreate = !sectionName.StartsWith('?'),
                    StructOps = new StructOpsSpec(type, data.Slice((int)offset, (int)type.Size).ToArray()),
                };
                AddMap(map);
                maps[offset] = map;
            }
            foreach (ElfRelocationSection relocations in _elf.RelocationSections.Where(r => r.TargetSectionIndex == (uint)section.Index))
            {
                foreach (ElfRelocation relocation in relocations)
                {
                    ReadStructOpsRelocation(sectionName, maps, relocation);
                }
            }
        }
    }

    private void ReadStructOpsRelocation(string sectionName, SortedList<ulong, MapSpec> maps, ElfRelocation relocation)
    {
        int at = maps.Keys.Count(k => k <= relocation.Offset) - 1;
        MapSpec? map = at < 0 ? null : maps.Values[at];
        StructOpsSpec? ops = map?.StructOps;
        if (map is null || ops is null || relocation.Offset >= maps.Keys[at] + ops.Type.Size)
        {
            throw Error($"a relocation of {sectionName} at byte {relocation.Offset} lies in no struct_ops variable");
        }
        ulong memberOffset = relocation.Offset - maps.Keys[at];
        BtfMember? found = null;
        foreach (BtfMember member in ops.Type.Members)
        {
            if (member.BitfieldSize == 0 && member.ByteOffset == memberOffset)
            {
                found = member;
                break;
            }
        }
        if (found is not BtfMember pointer)
        {
            throw Error($"struct_ops variable '{map.Name}' has a relocation at byte {memberOffset}, where no member of struct {ops.Type.Name} starts");
        }
        BtfType pointerType = _spec.Btf!.ResolveTypedefsAndQualifiers(pointer.TypeId);
        if (pointerType.Kind != BtfKind.Pointer || _spec.Btf.ResolveTypedefsAndQualifiers(pointerType.ReferencedTypeId).Kind != BtfKind.FunctionProto)
        {
            throw Error($"struct_ops variable '{map.Name}' sets member '{pointer.Name}' to an address, but the member is not a function pointer");
        }
        ElfSymbol symbol = _symbols[(int)relocation.SymbolIndex];
        ObjectFunction? function = symbol.IsUndefined || symbol.SectionIndex >= ElfSectionIndex.LowReserved || symbol.Value % InstructionEncoding.SlotSize != 0
            ? null
            : FunctionAt((int)symbol.SectionIndex, (int)(symbol.Value / InstructionEncoding.SlotSize));
        if (function?.Program is not ProgramSpec program)
        {
            throw Error($"struct_ops variable '{map.Name}' sets member '{pointer.Name}' to '{symbol.Name}', which is not a program of this object (a global function in a SEC(\"struct_ops/...\") section)");
        }
        if (program.Type != ProgramType.StructOps)
        {
            throw Error($"struct_ops variable '{map.Name}' sets member '{pointer.Name}' to program '{program.Name}' of section '{program.SectionName}', which is not a struct_ops program; put it in SEC(\"struct_ops/{program.Name}\")");
        }
        ops.Programs[pointer.Name] = program.Name;
    }

    private BtfType DefinitionOf(string mapName)
    {
        TryFindDataSection(MapsSection, out BtfType dataSection);
        foreach (BtfDataSectionVariable variable in dataSection.Variables)
        {
            if (variable.Type.Name == mapName)
            {
                return _spec.Btf!.ResolveTypedefsAndQualifiers(variable.Type.ReferencedTypeId);
            }
        }
        throw Error($"map '{mapName}' has no BTF definition");
    }

    private void AssignLabels()
    {
        foreach (ObjectFunction function in _spec.FunctionList)
        {
            List<Instruction> code = function.Program is null ? function.Code : (List<Instruction>)function.Program.Instructions;
            for (int i = 0; i < code.Count; i++)
            {
                if (code[i].Reference is { } reference && _calleeKeys.TryGetValue(reference, out ObjectFunction? callee))
                {
                    code[i] = code[i] with { Reference = callee.Label };
                }
            }
            if (code.Count > 0)
            {
                code[0] = code[0] with { Symbol = function.Label };
            }
        }
    }

    /// <summary>
    /// Names the unnamed parameters of an extern function's prototype (clang leaves a kfunc declaration's unnamed when
    /// it shares the prototype): the kernel refuses a FUNC whose parameters have no names ("Invalid arg#1").
    /// </summary>
    private static void NameParameters(BtfSpec btf, BtfBuilder builder, int prototypeId, HashSet<int> done)
    {
        BtfType prototype = btf[prototypeId];
        if (prototype.Kind != BtfKind.FunctionProto || !done.Add(prototypeId)
            || !prototype.Parameters.Any(p => p.TypeId != 0 && p.NameOffset == 0))
        {
            return;
        }
        var parameters = prototype.Parameters.Select((p, i) =>
            new BtfParameterDefinition(p.TypeId == 0 || p.NameOffset != 0 ? (p.NameOffset == 0 ? null : p.Name) : $"arg{i}", p.TypeId));
        builder.Replace(prototypeId, BtfTypeDefinition.FunctionProto(prototype.ReferencedTypeId, parameters));
    }

    /// <summary>
    /// libbpf's fixups before the kernel sees the object's BTF: DATASEC sizes and VAR offsets from the ELF sections and
    /// symbols (clang leaves them zero), hidden global variables and functions made static, <c>.kconfig</c> laid out as the map is, <c>.ksyms</c>
    /// entries turned into allocated int variables and extern functions into static ones (the kernel refuses extern linkage).
    /// </summary>
    private void FixUpBtf()
    {
        BtfSpec? btf = _spec.Btf;
        if (btf is null)
        {
            return;
        }
        BtfBuilder builder = BtfBuilder.From(btf);
        int intType = 0;
        int dummyVariable = 0;
        var namedPrototypes = new HashSet<int>();
        foreach (BtfType type in btf.OwnTypes)
        {
            if (type.Kind == BtfKind.Function && type.FunctionLinkage == BtfFunctionLinkage.Extern)
            {
                builder.Replace(type.Id, BtfTypeDefinition.Function(type.Name, type.ReferencedTypeId, BtfFunctionLinkage.Static));
                NameParameters(btf, builder, type.ReferencedTypeId, namedPrototypes);
            }
            if (type.Kind == BtfKind.Int && type.Size == 4 && intType == 0)
            {
                intType = type.Id;
            }
        }
        foreach (ObjectFunction function in _functionsBySection.Values.SelectMany(f => f))
        {
            // A global verified alone must be safe for any argument; a hidden one is only called from this object, so
            // (as libbpf does) it is verified as static, in context: usdt.bpf.h's bpf_usdt_arg writes through its argument.
            if (function.Program is null && function.IsHiddenGlobal
                && btf.TryFindType(function.Name, BtfKind.Function, out BtfType declared) && declared.FunctionLinkage == BtfFunctionLinkage.Global)
            {
                builder.Replace(declared.Id, BtfTypeDefinition.Function(declared.Name, declared.ReferencedTypeId, BtfFunctionLinkage.Static));
            }
        }
        foreach (BtfType section in btf.OwnTypes.Where(t => t.Kind == BtfKind.DataSection).ToList())
        {
            string name = section.Name;
            var entries = new List<BtfDataSectionVariableDefinition>();
            uint size = section.Size;
            if (name == KsymsSection)
            {
                uint offset = 0;
                foreach (BtfDataSectionVariable variable in section.Variables)
                {
                    BtfType declared = variable.Type;
                    if (intType == 0)
                    {
                        intType = builder.Add(BtfTypeDefinition.Int("int", 4, BtfIntEncoding.Signed));
                    }
                    int entryType = declared.Id;
                    if (declared.Kind == BtfKind.Variable)
                    {
                        builder.Replace(declared.Id, BtfTypeDefinition.Variable(declared.Name, intType, BtfVariableLinkage.GlobalAllocated));
                    }
                    else
                    {
                        // A DATASEC may only hold VARs: a kfunc's entry points at one shared stand-in variable.
                        if (dummyVariable == 0)
                        {
                            dummyVariable = builder.Add(BtfTypeDefinition.Variable("__ksym_function", intType, BtfVariableLinkage.GlobalAllocated));
                        }
                        entryType = dummyVariable;
                    }
                    entries.Add(new BtfDataSectionVariableDefinition(entryType, offset, 4));
                    offset += 4;
                }
                size = offset;
            }
            else if (name == KconfigSection)
            {
                foreach (BtfDataSectionVariable variable in section.Variables)
                {
                    BtfType declared = variable.Type;
                    if (!_externs.TryGetValue(declared.Name, out ExternSpec? extern_))
                    {
                        throw Error($".kconfig in BTF lists '{declared.Name}', which is not an undefined symbol of the object");
                    }
                    builder.Replace(declared.Id, BtfTypeDefinition.Variable(declared.Name, declared.ReferencedTypeId, BtfVariableLinkage.GlobalAllocated));
                    entries.Add(new BtfDataSectionVariableDefinition(declared.Id, extern_.Offset, extern_.Size));
                }
                size = _spec.KconfigMapName is { } kconfig ? _spec.MapsByName[kconfig].ValueSize : 0;
            }
            else
            {
                if (!_elf.TryGetSection(name, out ElfSection elfSection))
                {
                    throw Error($"BTF describes data section '{name}', which the object does not have");
                }
                if (size == 0)
                {
                    size = (uint)elfSection.Size;
                }
                var symbols = new Dictionary<string, ElfSymbol>(StringComparer.Ordinal);
                foreach (ElfSymbol symbol in _symbols)
                {
                    if (symbol.SectionIndex == (uint)elfSection.Index && symbol.Name.Length > 0)
                    {
                        symbols.TryAdd(symbol.Name, symbol);
                    }
                }
                foreach (BtfDataSectionVariable variable in section.Variables)
                {
                    BtfType declared = variable.Type;
                    uint offset = variable.Offset;
                    if (declared.Kind == BtfKind.Variable && declared.VariableLinkage is not (BtfVariableLinkage.Static or BtfVariableLinkage.GlobalExtern))
                    {
                        if (!symbols.TryGetValue(declared.Name, out ElfSymbol symbol))
                        {
                            throw Error($"BTF variable '{declared.Name}' of {name} has no ELF symbol");
                        }
                        offset = (uint)symbol.Value;
                        if (symbol.Visibility is ElfSymbolVisibility.Hidden or ElfSymbolVisibility.Internal)
                        {
                            builder.Replace(declared.Id, BtfTypeDefinition.Variable(declared.Name, declared.ReferencedTypeId, BtfVariableLinkage.Static));
                        }
                    }
                    entries.Add(new BtfDataSectionVariableDefinition(declared.Id, offset, variable.Size));
                }
            }
            entries.Sort((a, b) => a.Offset.CompareTo(b.Offset));
            builder.Replace(section.Id, BtfTypeDefinition.DataSection(name, size, entries));
        }
        _spec.KernelBtfBlob = builder.Build();
    }
}
