using System.Buffers.Binary;
using BpfSharp.Asm;
using BpfSharp.Btf;
using BpfSharp.Btf.Core;
using BpfSharp.Kernel;
using BpfSharp.Links;
using BpfSharp.Maps;
using BpfSharp.Programs;
using BpfSharp.Specs;

namespace BpfSharp.Collections;

/// <summary>
/// A loaded BPF object: its maps created (or reused from pins), its programs loaded with every map, global,
/// extern and subprogram wired in, its global variables mapped into this process. Disposing it closes every file
/// descriptor it opened; what is pinned stays in bpffs.
/// </summary>
public sealed class Collection : IDisposable
{
    private readonly Dictionary<string, Program> _programs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Map> _maps = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Variable> _variables = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _sections = new(StringComparer.Ordinal);
    private readonly HashSet<Map> _borrowedMaps = [];
    private readonly List<MapMemory> _memories = [];
    private readonly Dictionary<string, MapMemory> _globalData = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StructOpsLayout> _structOpsLayouts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, byte[]> _structOpsValues = new(StringComparer.Ordinal);
    private static readonly byte[] ZeroKey = new byte[4];
    private BtfObject? _btf;
    private BtfLoadException? _btfError;
    private bool _disposed;

    private Collection(string name)
    {
        Name = name;
    }

    /// <summary>The object's name.</summary>
    public string Name { get; }

    /// <summary>The loaded programs, by name (programs whose autoload was off are absent).</summary>
    public IReadOnlyDictionary<string, Program> Programs => _programs;

    /// <summary>The maps, by name, including global data and <c>.kconfig</c> maps.</summary>
    public IReadOnlyDictionary<string, Map> Maps => _maps;

    /// <summary>The global variables, by name, backed by the live memory of their section's map.</summary>
    public IReadOnlyDictionary<string, Variable> Variables => _variables;

    /// <summary>The object's BTF as loaded into the kernel, or <see langword="null"/> when the object has none or the kernel refused it.</summary>
    public BtfObject? Btf => _btf;

    /// <summary>How much of the object's BTF had to be rewritten for the kernel to accept it.</summary>
    public BtfCompatibility BtfCompatibility { get; private set; }

    /// <summary>The program named <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No loaded program has that name.</exception>
    public Program Program(string name) => _programs.TryGetValue(name, out Program? program)
        ? program
        : throw new KeyNotFoundException($"collection '{Name}' has no loaded program '{name}'; loaded: {string.Join(", ", _programs.Keys)}");

    /// <summary>The map named <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No map has that name.</exception>
    public Map Map(string name) => _maps.TryGetValue(name, out Map? map)
        ? map
        : throw new KeyNotFoundException($"collection '{Name}' has no map '{name}'; its maps: {string.Join(", ", _maps.Keys)}");

    /// <summary>The global variable named <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No variable has that name.</exception>
    public Variable Variable(string name) => _variables.TryGetValue(name, out Variable? variable)
        ? variable
        : throw new KeyNotFoundException($"collection '{Name}' has no global variable '{name}'; its variables: {string.Join(", ", _variables.Keys)}");

    /// <summary>
    /// The live memory of a global data section (<c>.data</c>, <c>.rodata</c>, <c>.bss</c>, <c>.data.NAME</c>...): the
    /// collection's own mapping of the section's array map, read and written in place with no system call, the whole
    /// section at once (what a skeleton's section struct overlays). <c>.rodata</c> is mapped read-only.
    /// </summary>
    /// <param name="section">The ELF section name, such as <c>.bss</c>.</param>
    /// <exception cref="KeyNotFoundException">The object has no such section with variables, or its map was not created.</exception>
    public MapMemory GlobalData(string section) => TryGetGlobalData(section, out MapMemory? memory)
        ? memory
        : throw new KeyNotFoundException($"collection '{Name}' has no mapped global data section '{section}'; it has: {string.Join(", ", _globalData.Keys)}");

    /// <summary>The live memory of a global data section, as <see cref="GlobalData"/> gives it; false when it has none.</summary>
    /// <param name="section">The ELF section name, such as <c>.bss</c>.</param>
    /// <param name="memory">The section's memory, or null.</param>
    public bool TryGetGlobalData(string section, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out MapMemory? memory) =>
        _globalData.TryGetValue(section, out memory);

    /// <summary>The names of the struct_ops maps (<c>SEC(".struct_ops")</c> and <c>SEC(".struct_ops.link")</c> variables), each ready to register with <see cref="AttachStructOps"/>.</summary>
    public IEnumerable<string> StructOpsMaps => _structOpsValues.Keys;

    /// <summary>
    /// The kernel value of the struct_ops map named <paramref name="map"/>, as registering writes it: the ops struct in the
    /// kernel's layout inside its <c>bpf_struct_ops_NAME</c> wrapper, data members copied from the object, function
    /// pointer members holding the descriptors of this collection's programs. A copy.
    /// </summary>
    /// <exception cref="KeyNotFoundException">The collection has no struct_ops map of that name.</exception>
    public byte[] StructOpsValue(string map) => _structOpsValues.TryGetValue(map, out byte[]? value)
        ? (byte[])value.Clone()
        : throw new KeyNotFoundException($"collection '{Name}' has no struct_ops map '{map}'; its struct_ops maps: {string.Join(", ", _structOpsValues.Keys)}");

    /// <summary>
    /// Registers the struct_ops map named <paramref name="map"/> with the kernel subsystem it implements (what libbpf's
    /// <c>bpf_map__attach_struct_ops</c> does): a <c>SEC(".struct_ops.link")</c> map becomes a BPF link, a
    /// <c>SEC(".struct_ops")</c> map is registered by writing its value. Disposing the result unregisters it.
    /// </summary>
    /// <exception cref="KeyNotFoundException">The collection has no struct_ops map of that name.</exception>
    /// <exception cref="BpfException">The kernel refused (EEXIST: the ops name is taken; EINVAL: an operation the subsystem requires is missing).</exception>
    public StructOpsLink AttachStructOps(string map)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        byte[] value = StructOpsValue(map);
        return StructOpsLink.Attach(Map(map), value);
    }

    /// <summary>The ELF section the program named <paramref name="program"/> came from (<c>tracepoint/sched/sched_switch</c>), or null when its spec had none.</summary>
    /// <exception cref="KeyNotFoundException">No loaded program has that name.</exception>
    public string? SectionOf(string program) => _sections.TryGetValue(Program(program).Name, out string? section) ? section : null;

    /// <summary>
    /// Attaches every loaded program whose section name says where (tracepoints, raw and BTF tracepoints, kprobes,
    /// uprobes and USDT with a target in the name, trampolines, LSM, iterators): what a libbpf skeleton's attach
    /// does. Programs whose hook needs more than the name (XDP, tc, cgroups, sockets, bare <c>kprobe</c>) are left
    /// for their Link type; <see cref="AutoAttach.CanAttach"/> tells which, and the result's <see cref="LinkSet.NotAttached"/>
    /// lists them with the reason. USDT programs get usdt.bpf.h's spec maps
    /// filled from this collection's maps. Then every struct_ops map is registered (<see cref="AttachStructOps"/>), both
    /// <c>.struct_ops</c> and <c>.struct_ops.link</c> ones, as a libbpf skeleton's attach does; its entry in the set is
    /// named after the map.
    /// </summary>
    /// <param name="skip">Programs and struct_ops maps not to attach, by name; null attaches every one that can be.</param>
    /// <returns>The links, owned by the caller: disposing the set detaches them all.</returns>
    /// <exception cref="BpfException">A program could not be attached; the message names it. Links made before the failure are detached.</exception>
    public LinkSet AttachAll(IEnumerable<string>? skip = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var skipped = skip is null ? [] : new HashSet<string>(skip, StringComparer.Ordinal);
        return Attach(_programs.Where(p => !skipped.Contains(p.Key)), _structOpsValues.Keys.Where(m => !skipped.Contains(m)));
    }

    /// <summary>
    /// Attaches the given programs of this collection where their section names say, as <see cref="AttachAll"/> does
    /// for every program (those whose hook needs more than the name are listed in <see cref="LinkSet.NotAttached"/>);
    /// struct_ops maps are not registered.
    /// </summary>
    /// <param name="programs">Programs of this collection (a skeleton's <c>Programs.X</c>).</param>
    /// <returns>The links, owned by the caller: disposing the set detaches them all.</returns>
    /// <exception cref="ArgumentException">A program is not one of this collection's.</exception>
    /// <exception cref="BpfException">A program could not be attached; the message names it. Links made before the failure are detached.</exception>
    public LinkSet Attach(params IEnumerable<Program> programs)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(programs);
        var chosen = new List<KeyValuePair<string, Program>>();
        foreach (Program program in programs)
        {
            KeyValuePair<string, Program> entry = _programs.FirstOrDefault(p => ReferenceEquals(p.Value, program));
            chosen.Add(entry.Value is null
                ? throw new ArgumentException($"{program} is not a program of collection '{Name}'", nameof(programs))
                : entry);
        }
        return Attach(chosen, []);
    }

    private LinkSet Attach(IEnumerable<KeyValuePair<string, Program>> programs, IEnumerable<string> structOpsMaps)
    {
        var links = new LinkSet();
        try
        {
            foreach ((string name, Program program) in programs)
            {
                if (!_sections.TryGetValue(name, out string? section))
                {
                    links.AddNotAttached(name, "the program has no section name to say where it attaches; attach it with its Link type");
                    continue;
                }
                if (AutoAttach.WhyNotAttachable(section) is string reason)
                {
                    links.AddNotAttached(name, reason);
                    continue;
                }
                IReadOnlyList<Link> made;
                try
                {
                    made = AutoAttach.Attach(program, section, map => _maps.GetValueOrDefault(map));
                }
                catch (BpfException e)
                {
                    // Keep the kernel's errno and hint; say which program it was.
                    string where = $"attaching program '{name}' (section '{section}')";
                    throw e.Errno == Errno.None
                        ? new BpfException($"{where}: {e.Message}", e)
                        : new BpfException(e.Operation, e.Errno, e.Context is null ? where : $"{where}: {e.Context}", e.Hint);
                }
                foreach (Link link in made)
                {
                    links.Add(name, link);
                }
            }
            foreach (string map in structOpsMaps)
            {
                links.Add(map, AttachStructOps(map));
            }
            return links;
        }
        catch
        {
            links.Dispose();
            throw;
        }
    }

    /// <summary>Reads a BPF object file and loads it.</summary>
    /// <param name="path">The object file.</param>
    /// <param name="options">How to load it.</param>
    public static Collection Load(string path, CollectionOptions? options = null) => Load(CollectionSpec.Load(path), options);

    /// <summary>
    /// Creates the maps of <paramref name="spec"/> (reusing replacements and pinned maps), fills global data and
    /// kconfig values (freezing read-only sections), applies CO-RE relocations, links and loads every program whose
    /// <see cref="ProgramSpec.Autoload"/> is on, fills program arrays and maps of maps, and maps global variables.
    /// </summary>
    /// <param name="spec">The object to load; it is not modified.</param>
    /// <param name="options">How to load it.</param>
    /// <exception cref="VerifierException">A program was rejected; the message names it, the instruction and its C source line.</exception>
    /// <exception cref="BpfException">A map or program could not be created, or an extern could not be resolved.</exception>
    public static Collection Load(CollectionSpec spec, CollectionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        options ??= new CollectionOptions();
        var collection = new Collection(spec.Name);
        try
        {
            collection.LoadAll(spec, options);
            return collection;
        }
        catch
        {
            collection.Dispose();
            throw;
        }
    }

    private void LoadAll(CollectionSpec spec, CollectionOptions options)
    {
        LoadBtf(spec);
        using var resolver = new ExternResolver(options.KconfigOverrides is { } overrides
            ? name => overrides.TryGetValue(name, out string? value) ? value : ExternResolver.DefaultConfig(name)
            : null);
        CreateMaps(spec, options, resolver);
        Dictionary<string, StructOpsTarget> structOpsTargets = StructOpsTargets();
        var linker = new CodeSource(spec, options.CoreTarget);
        var strings = spec.Btf is null ? new Dictionary<string, uint>() : StringOffsets(spec.Btf);
        foreach (ProgramSpec program in spec.Programs.Values)
        {
            if (program.Autoload && !OnlyForMapsNotCreated(spec, program))
            {
                _programs.Add(program.Name, LoadProgram(spec, program, linker, resolver, strings, options, structOpsTargets));
                if (program.SectionName is { Length: > 0 } section)
                {
                    _sections.Add(program.Name, section);
                }
            }
        }
        BuildStructOpsValues();
        FillProgramArrays(spec);
        MapVariables(spec);
    }

    /// <summary>
    /// A struct_ops program whose every user is a struct_ops map left uncreated (<c>?.struct_ops</c>): as libbpf 1.3+
    /// does, it is not loaded, since it would have no ops member to load against.
    /// </summary>
    private static bool OnlyForMapsNotCreated(CollectionSpec spec, ProgramSpec program)
    {
        if (program.Type != ProgramType.StructOps)
        {
            return false;
        }
        bool usedByUncreated = false;
        foreach (MapSpec map in spec.Maps.Values)
        {
            if (map.StructOps is { } ops && ops.Programs.ContainsValue(program.Name))
            {
                if (map.Autocreate)
                {
                    return false;
                }
                usedByUncreated = true;
            }
        }
        return usedByUncreated;
    }

    private void LoadBtf(CollectionSpec spec)
    {
        if (spec.KernelBtfBlob is null)
        {
            return;
        }
        foreach (BtfCompatibility level in Enum.GetValues<BtfCompatibility>())
        {
            try
            {
                _btf = BtfObject.Load(ObjectBtf.Sanitize(spec.KernelBtfBlob, level));
                BtfCompatibility = level;
                return;
            }
            catch (BtfLoadException e)
            {
                // Try with more rewritten; without any BTF as the last resort (what libbpf does).
                _btfError ??= e;
            }
        }
    }

    private void CreateMaps(CollectionSpec spec, CollectionOptions options, ExternResolver resolver)
    {
        foreach ((string name, MapSpec mapSpec) in spec.Maps)
        {
            if (!mapSpec.Autocreate)
            {
                continue;
            }
            MapSpec create = WithBtf(mapSpec);
            if (create.Type == MapType.PerfEventArray && create.MaxEntries == 0)
            {
                // As libbpf does: a perf event array declared without max_entries gets a slot per possible CPU.
                create.MaxEntries = (uint)Cpus.PossibleCount;
            }
            if (create.Type == MapType.StructOps && create.StructOps is { } ops)
            {
                // The kernel's value (struct bpf_struct_ops_NAME) decides the map's value size, not the object's struct.
                StructOpsLayout layout = StructOpsLayout.Resolve(name, ops);
                _structOpsLayouts.Add(name, layout);
                create.ValueSize = layout.ValueSize;
                create.BtfVmlinuxValueTypeId = (uint)layout.ValueTypeId;
                create.ValueTypeBtfObject = layout.Module is null ? null : resolver.ModuleBtf(layout.Module);
                // The kernel wants a BTF object with every struct_ops map (it checks btf_fd), though the types are the kernel's.
                create.Btf = _btf?.Fd ?? throw new BpfException($"struct_ops map '{name}' needs the object's BTF loaded in the kernel, which refused it; " +
                    $"the kernel said: {_btfError?.Message}");
                create.BtfKeyTypeId = 0;
                create.BtfValueTypeId = 0;
            }
            if (options.MapReplacements.TryGetValue(name, out Map? replacement))
            {
                CheckCompatible(create, replacement, "the replacement map");
                _maps.Add(name, replacement);
                _borrowedMaps.Add(replacement);
                continue;
            }
            if (name == spec.KconfigMapName)
            {
                create.InitialValue = resolver.KconfigValue(spec, create.ValueSize);
            }
            string? pinPath = mapSpec.Pinning == MapPinning.ByName ? Path.Combine(options.PinPath, name) : null;
            if (pinPath is not null && File.Exists(pinPath))
            {
                Map pinned = BpfSharp.Maps.Map.OpenPinned(pinPath);
                _maps.Add(name, pinned);
                CheckCompatible(create, pinned, $"the map pinned at {pinPath}");
                continue;
            }
            Map map = CreateMap(create);
            _maps.Add(name, map);
            if (create.InitialValue is { } initial)
            {
                map.Update(ZeroKey, initial);
                if (create.Flags.HasFlag(MapFlags.ReadOnlyProgram))
                {
                    // .rodata and .kconfig: the verifier treats frozen values as constants.
                    map.Freeze();
                }
            }
            if (pinPath is not null)
            {
                map.Pin(pinPath);
            }
        }
        foreach ((string name, MapSpec mapSpec) in spec.Maps)
        {
            if (!BpfSharp.Maps.Map.IsMapOfMapsType(mapSpec.Type) || !mapSpec.Autocreate || _borrowedMaps.Contains(_maps[name]))
            {
                continue;
            }
            foreach (MapSlot slot in mapSpec.Contents)
            {
                Map inner = _maps.TryGetValue(slot.Target, out Map? found)
                    ? found
                    : throw new BpfException($"map '{name}' slot {slot.Index} names map '{slot.Target}', which the collection does not have");
                _maps[name].Update(slot.Index, (uint)inner.Fd.Value);
            }
        }
    }

    private MapSpec WithBtf(MapSpec spec)
    {
        MapSpec copy = spec.Clone();
        Apply(copy);
        return copy;

        void Apply(MapSpec map)
        {
            if (_btf is not null && (map.BtfKeyTypeId != 0 || map.BtfValueTypeId != 0))
            {
                map.Btf = _btf.Fd;
            }
            else
            {
                map.BtfKeyTypeId = 0;
                map.BtfValueTypeId = 0;
            }
            if (map.InnerMap is not null)
            {
                Apply(map.InnerMap);
            }
        }
    }

    private static Map CreateMap(MapSpec spec)
    {
        try
        {
            return BpfSharp.Maps.Map.Create(spec);
        }
        catch (BpfException) when (spec.Btf is not null)
        {
            // Some map types refuse BTF key/value types (program arrays, perf event arrays, ...) on some
            // kernels; like libbpf, retry without them.
            MapSpec plain = spec.Clone();
            Strip(plain);
            return BpfSharp.Maps.Map.Create(plain);
        }

        static void Strip(MapSpec map)
        {
            map.Btf = null;
            map.BtfKeyTypeId = 0;
            map.BtfValueTypeId = 0;
            if (map.InnerMap is not null)
            {
                Strip(map.InnerMap);
            }
        }
    }

    private static void CheckCompatible(MapSpec spec, Map map, string what)
    {
        var problems = new List<string>();
        if (map.Type != spec.Type)
        {
            problems.Add($"type {map.Type}, not {spec.Type}");
        }
        if (map.KeySize != spec.KeySize)
        {
            problems.Add($"key size {map.KeySize}, not {spec.KeySize}");
        }
        if (map.ValueSize != spec.ValueSize)
        {
            problems.Add($"value size {map.ValueSize}, not {spec.ValueSize}");
        }
        if (map.MaxEntries != spec.MaxEntries && spec.Type is not (MapType.PerfEventArray or MapType.RingBuf))
        {
            problems.Add($"max_entries {map.MaxEntries}, not {spec.MaxEntries}");
        }
        MapFlags relevant = ~(MapFlags.NumaNode | MapFlags.TokenFd | MapFlags.VtypeBtfObjFd);
        if ((map.Flags & relevant) != (spec.Flags & relevant))
        {
            problems.Add($"flags {map.Flags}, not {spec.Flags}");
        }
        if (problems.Count > 0)
        {
            throw new BpfException($"cannot use {what} for map '{spec.Name}': it has {string.Join(", ", problems)}; remove the pin or replace it with a compatible map");
        }
    }

    /// <summary>What each struct_ops program is loaded against: the ops struct and the member it fills, from the maps that use it.</summary>
    private readonly record struct StructOpsTarget(int TypeId, int MemberIndex, string? Module, string Map, string Member);

    private Dictionary<string, StructOpsTarget> StructOpsTargets()
    {
        var targets = new Dictionary<string, StructOpsTarget>(StringComparer.Ordinal);
        foreach (StructOpsLayout layout in _structOpsLayouts.Values)
        {
            foreach (StructOpsFunction function in layout.Functions)
            {
                var target = new StructOpsTarget(layout.TypeId, function.MemberIndex, layout.Module, layout.MapName, function.Member);
                if (!targets.TryAdd(function.Program, target))
                {
                    // As libbpf allows: one program may serve several maps, for the same struct and the same member only.
                    StructOpsTarget first = targets[function.Program];
                    if (first.TypeId != target.TypeId || first.Module != target.Module || first.MemberIndex != target.MemberIndex)
                    {
                        throw new BpfException($"program '{function.Program}' fills member '{first.Member}' of struct_ops map '{first.Map}' and member " +
                            $"'{target.Member}' of '{target.Map}': a struct_ops program is loaded for one member of one ops struct; give each its own program");
                    }
                }
            }
        }
        return targets;
    }

    private void BuildStructOpsValues()
    {
        foreach ((string name, StructOpsLayout layout) in _structOpsLayouts)
        {
            if (_borrowedMaps.Contains(_maps[name]))
            {
                continue;
            }
            _structOpsValues.Add(name, layout.BuildValue(program => _programs.TryGetValue(program, out Program? loaded)
                ? loaded.Fd.Value
                : throw new BpfException($"struct_ops map '{name}' needs program '{program}' for one of its members, but it was not loaded (its Autoload is off); " +
                    "turn it on, or remove the member from the map spec's StructOps.Programs")));
        }
    }

    private Program LoadProgram(CollectionSpec spec, ProgramSpec program, CodeSource code, ExternResolver resolver,
        IReadOnlyDictionary<string, uint> strings, CollectionOptions options, Dictionary<string, StructOpsTarget> structOps)
    {
        LinkedProgram linked = ProgramLinker.Link(spec, program, code.Of);
        var modules = new List<FileDescriptor>();
        List<Instruction> instructions = linked.Instructions;
        for (int i = 0; i < instructions.Count; i++)
        {
            instructions[i] = Resolve(spec, program, instructions[i], resolver, modules);
        }
        ProgramSpec load = program.Copy();
        load.Instructions = instructions;
        if (string.IsNullOrEmpty(load.License))
        {
            load.License = spec.License;
        }
        if (_btf is not null && linked.Functions.Count > 0)
        {
            load.Btf = _btf.Fd;
            load.FuncInfo = linked.EncodeFunctionInfo();
            load.FuncInfoRecordSize = 8;
            load.LineInfo = linked.EncodeLineInfo(strings);
            load.LineInfoRecordSize = 16;
        }
        if (modules.Count > 0)
        {
            // Index 0 of fd_array means vmlinux, so module BTF objects start at 1.
            load.FdArray = [modules[0], .. modules];
        }
        if (load.Type == ProgramType.StructOps && load.AttachBtfId == 0)
        {
            if (!structOps.TryGetValue(load.Name, out StructOpsTarget target))
            {
                throw new BpfException($"struct_ops program '{load.Name}' is not used by any struct_ops map: no SEC(\".struct_ops\") variable sets a " +
                    "function pointer to it, so the kernel ops struct it implements is unknown; use it in one, or turn its Autoload off");
            }
            load.AttachBtfId = (uint)target.TypeId;
            load.ExpectedAttachType = (AttachType)target.MemberIndex;
            load.AttachTarget = target.Module is null ? null : resolver.ModuleBtf(target.Module);
        }
        if (options.AttachTargets.TryGetValue(load.Name, out ProgramTarget given))
        {
            load.AttachTarget = given.Program.Fd;
            load.AttachTo = given.Function ?? load.AttachTo;
        }
        AttachTargets.Resolve(load, resolver.ModuleBtf);
        try
        {
            return BpfSharp.Programs.Program.Load(load, options.ProgramOptions);
        }
        catch (BpfException e) when (e is not VerifierException && e.Errno != Errno.None && AttachTargets.Describe(load) is { } targetText)
        {
            // Say what the program was being loaded against, with the id resolved for it.
            throw new BpfException(e.Operation, e.Errno, $"{e.Context ?? $"loading program '{load.Name}'"} ({targetText})", e.Hint);
        }
        catch (VerifierException e) when (e.SourceLine is null && e.InstructionIndex is int index
            && (linked.LineAt(index) is not null || code.UnresolvedAt(linked, index) is not null))
        {
            // Say which C line failed and, when the verifier stopped at a poisoned CO-RE relocation (its "unknown
            // func" is the poison call), which relocation could not be resolved and why, as the log cannot.
            VerifierSourceLine? source = linked.LineAt(index) is BtfLineInfo line ? new VerifierSourceLine(line.FileName, line.Line, line.Column, line.SourceLine) : null;
            throw new VerifierException(e.ProgramName, e.Errno, e.Log, e.LogTruncated, source, code.UnresolvedAt(linked, index));
        }
    }

    private Instruction Resolve(CollectionSpec spec, ProgramSpec program, Instruction instruction, ExternResolver resolver, List<FileDescriptor> modules)
    {
        if (instruction.Reference is not { } reference)
        {
            return instruction;
        }
        if (instruction.IsLoadImm64 && instruction.PseudoSource is PseudoSource.MapFd or PseudoSource.MapValue)
        {
            if (!_maps.TryGetValue(reference, out Map? map))
            {
                throw spec.Maps.TryGetValue(reference, out MapSpec? skipped) && !skipped.Autocreate
                    ? new BpfException($"program '{program.Name}' uses map '{reference}', whose Autocreate is off: turn the map's Autocreate on, or the program's Autoload off")
                    : new BpfException($"program '{program.Name}' refers to map '{reference}', which collection '{Name}' does not have");
            }
            return instruction with { Constant = (instruction.Constant & ~0xffff_ffffL) | (uint)map.Fd.Value };
        }
        bool kfunc = instruction.IsKfuncCall;
        bool ksym = instruction.IsLoadImm64 && instruction.PseudoSource is PseudoSource.None or PseudoSource.BtfId;
        if (!kfunc && !ksym)
        {
            return instruction;
        }
        ExternSpec? extern_ = spec.Externs.FirstOrDefault(e => e.Name == reference && e.Kind == ExternKind.Ksym);
        if (extern_ is null)
        {
            return instruction;
        }
        ResolvedKsym? resolved = resolver.ResolveKsym(extern_);
        if (resolved is null)
        {
            if (!extern_.IsWeak)
            {
                string where = extern_.IsFunction ? "kernel or module BTF (it is not a kfunc of this kernel)"
                    : extern_.Type is { Id: not 0 } ? "kernel or module BTF" : "/proc/kallsyms";
                throw new BpfException($"program '{program.Name}' uses {extern_}, which is not in the {where}; declare it __weak and test it with bpf_ksym_exists() to make it optional");
            }
            // A weak extern the kernel lacks: zero, as libbpf leaves it (code guarded by bpf_ksym_exists is dead).
            return kfunc ? instruction with { Constant = 0, Offset = 0 } : instruction with { Src = (Register)PseudoSource.None, Constant = 0 };
        }
        ResolvedKsym found = resolved.Value;
        int moduleIndex = 0;
        FileDescriptor? moduleFd = null;
        if (found.Module is not null)
        {
            moduleFd = resolver.ModuleBtf(found.Module);
            moduleIndex = modules.IndexOf(moduleFd);
            if (moduleIndex < 0)
            {
                modules.Add(moduleFd);
                moduleIndex = modules.Count - 1;
            }
            moduleIndex++;
        }
        if (kfunc)
        {
            return instruction with { Constant = found.BtfId, Offset = (short)moduleIndex };
        }
        if (found.BtfId == 0)
        {
            return instruction with { Src = (Register)PseudoSource.None, Constant = (long)found.Address };
        }
        long moduleHalf = moduleFd is null ? 0 : (long)moduleFd.Value << 32;
        return instruction with { Src = (Register)PseudoSource.BtfId, Constant = moduleHalf | (uint)found.BtfId };
    }

    private void FillProgramArrays(CollectionSpec spec)
    {
        foreach ((string name, MapSpec mapSpec) in spec.Maps)
        {
            if (mapSpec.Type != MapType.ProgArray || !mapSpec.Autocreate || _borrowedMaps.Contains(_maps[name]))
            {
                continue;
            }
            foreach (MapSlot slot in mapSpec.Contents)
            {
                if (_programs.TryGetValue(slot.Target, out Program? program))
                {
                    _maps[name].Update(slot.Index, (uint)program.Fd.Value);
                }
            }
        }
    }

    private void MapVariables(CollectionSpec spec)
    {
        var memories = new Dictionary<string, MapMemory?>(StringComparer.Ordinal);
        foreach (VariableSpec variable in spec.Variables.Values)
        {
            string mapName = variable.Map.Name;
            if (!_maps.TryGetValue(mapName, out Map? map))
            {
                continue; // its section's map was not created (autocreate off)
            }
            if (!memories.TryGetValue(mapName, out MapMemory? memory))
            {
                memory = null;
                if (map.Flags.HasFlag(MapFlags.Mmapable) && map.Type == MapType.Array)
                {
                    bool frozen = map.Flags.HasFlag(MapFlags.ReadOnlyProgram);
                    memory = map.MapMemory(writable: !frozen && !map.Flags.HasFlag(MapFlags.ReadOnly));
                    _memories.Add(memory);
                    if (variable.Map.SectionName is { } section)
                    {
                        _globalData[section] = memory;
                    }
                }
                memories[mapName] = memory;
            }
            if (memory is not null && variable.Offset + variable.Size <= memory.Length)
            {
                _variables.Add(variable.Name, new Variable(variable.Name, _maps[mapName], memory, variable.Offset, variable.Size));
            }
        }
    }

    private static Dictionary<string, uint> StringOffsets(BtfSpec btf)
    {
        var offsets = new Dictionary<string, uint>(StringComparer.Ordinal);
        uint position = 0;
        while (position < (uint)btf.StringTableLength)
        {
            ReadOnlySpan<byte> text = btf.GetStringBytes(position);
            offsets.TryAdd(System.Text.Encoding.UTF8.GetString(text), position);
            position += (uint)text.Length + 1;
        }
        return offsets;
    }

    /// <summary>Closes every program, map, memory mapping and BTF object the collection opened (pins stay).</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        foreach (MapMemory memory in _memories)
        {
            memory.Dispose();
        }
        foreach (Program program in _programs.Values)
        {
            program.Dispose();
        }
        foreach (Map map in _maps.Values)
        {
            if (!_borrowedMaps.Contains(map))
            {
                map.Dispose();
            }
        }
        _btf?.Dispose();
    }

    /// <inheritdoc />
    public override string ToString() => $"collection '{Name}' ({_programs.Count} programs, {_maps.Count} maps)";

    /// <summary>The instructions of each function, CO-RE-relocated per section on first use.</summary>
    private sealed class CodeSource(CollectionSpec spec, CoreTarget target)
    {
        private readonly Dictionary<ObjectFunction, IReadOnlyList<Instruction>> _relocated = [];
        private readonly HashSet<string> _done = new(StringComparer.Ordinal);
        private readonly Dictionary<string, CoreRelocationReport> _reports = new(StringComparer.Ordinal);

        /// <summary>The CO-RE relocation poisoned at slot <paramref name="slot"/> of a linked program, or null when the slot holds none.</summary>
        public CoreRelocationResult? UnresolvedAt(LinkedProgram linked, int slot)
        {
            if (linked.FunctionAt(slot) is not var (function, offset) || !_reports.TryGetValue(function.SectionName, out CoreRelocationReport? report))
            {
                return null;
            }
            // Relocations are numbered by section slot; poisoning keeps every instruction's slot (an ld_imm64 becomes two
            // calls, and the verifier stops at the first).
            int sectionSlot = function.StartSlot + offset;
            return report.Relocations.FirstOrDefault(r => r.IsPoisoned && r.InstructionIndex == sectionSlot);
        }

        public IReadOnlyList<Instruction> Of(ObjectFunction function)
        {
            if (_relocated.TryGetValue(function, out IReadOnlyList<Instruction>? code))
            {
                return code;
            }
            string section = function.SectionName;
            if (_done.Add(section) && spec.Btf is not null && spec.BtfExt is not null
                && spec.BtfExt.CoreRelocations.TryGetValue(section, out IReadOnlyList<BtfCoreRelocation>? records) && records.Count > 0)
            {
                List<ObjectFunction> functions = spec.FunctionList.Where(f => f.SectionName == section).OrderBy(f => f.StartSlot).ToList();
                var all = new List<Instruction>();
                foreach (ObjectFunction f in functions)
                {
                    all.AddRange(f.Instructions);
                }
                _reports[section] = CoreRelocator.Apply(all, section, spec.Btf, spec.BtfExt, target);
                // Split by slots, not by instruction count: a poisoned ld_imm64 becomes two one-slot calls, so the
                // section may have more instructions than before, but every function keeps its slots.
                int at = 0;
                foreach (ObjectFunction f in functions)
                {
                    int slots = InstructionEncoding.CountSlots(f.Instructions);
                    int start = at;
                    for (int covered = 0; covered < slots; at++)
                    {
                        covered += all[at].Slots;
                    }
                    _relocated[f] = all.GetRange(start, at - start);
                }
                return _relocated[function];
            }
            return function.Instructions;
        }
    }
}
