using BpfSharp.Btf;
using BpfSharp.Maps;
using BpfSharp.Programs;

namespace BpfSharp.Specs;

/// <summary>
/// Everything a clang-compiled BPF object (<c>*.bpf.o</c>) describes, read without touching the kernel: its
/// programs, maps, global variables and externs. Change it before loading (set <c>.rodata</c> values through
/// <see cref="Variables"/>, resize a map, turn a program's <see cref="ProgramSpec.Autoload"/> off), then load it
/// with <see cref="Collections.Collection.Load(CollectionSpec, Collections.CollectionOptions)"/>.
/// </summary>
/// <remarks>
/// Programs follow libbpf 1.x: every global function in an executable section is a program whose type comes
/// from the section name; static functions and the functions of <c>.text</c> are subprograms, appended to each
/// program that calls them when the collection loads.
/// </remarks>
public sealed class CollectionSpec
{
    internal CollectionSpec(string name)
    {
        Name = name;
    }

    /// <summary>The object's name: the file name up to its first dot (libbpf's rule), used to name global data maps.</summary>
    public string Name { get; }

    /// <summary>The object's license (section <c>license</c>), given to every program.</summary>
    public string License { get; internal set; } = "";

    /// <summary>The kernel version of section <c>version</c> (0 without one).</summary>
    public uint KernelVersion { get; internal set; }

    /// <summary>The programs, by function name, in the order of the object.</summary>
    public IReadOnlyDictionary<string, ProgramSpec> Programs => ProgramsByName;

    /// <summary>The maps, by name: BTF-defined (<c>.maps</c>), legacy (<c>maps</c>), global data and <c>.kconfig</c> maps.</summary>
    public IReadOnlyDictionary<string, MapSpec> Maps => MapsByName;

    /// <summary>The global variables, by name.</summary>
    public IReadOnlyDictionary<string, VariableSpec> Variables => VariablesByName;

    /// <summary>The <c>extern</c> declarations (<c>__kconfig</c>, <c>__ksym</c>) the collection resolves when it loads.</summary>
    public IReadOnlyList<ExternSpec> Externs => ExternList;

    /// <summary>The object's BTF (section <c>.BTF</c>), or <see langword="null"/> when it was compiled without <c>-g</c>.</summary>
    public BtfSpec? Btf { get; internal set; }

    /// <summary>The object's BTF extension (section <c>.BTF.ext</c>: function and line records, CO-RE relocations), or <see langword="null"/>.</summary>
    public BtfExt? BtfExt { get; internal set; }

    /// <summary>The names of the subprograms (static functions and functions of <c>.text</c>), which load as part of the programs calling them.</summary>
    public IEnumerable<string> Subprograms => FunctionList.Where(f => f.Program is null).Select(f => f.Label);

    internal Dictionary<string, ProgramSpec> ProgramsByName { get; } = new(StringComparer.Ordinal);

    internal Dictionary<string, MapSpec> MapsByName { get; } = new(StringComparer.Ordinal);

    internal Dictionary<string, VariableSpec> VariablesByName { get; } = new(StringComparer.Ordinal);

    internal List<ExternSpec> ExternList { get; } = [];

    internal List<ObjectFunction> FunctionList { get; } = [];

    internal string? KconfigMapName { get; set; }

    /// <summary>The object's BTF after libbpf's fixups (DATASEC sizes, VAR offsets, externs), as the kernel gets it.</summary>
    internal byte[]? KernelBtfBlob { get; set; }

    /// <summary>Reads a BPF object file.</summary>
    /// <param name="path">The object, as <c>clang -O2 -g -target bpf -c</c> produces it.</param>
    /// <exception cref="BpfObjectException">The file is not a BPF object, or is corrupt or uses something this loader does not know.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static CollectionSpec Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] image = File.ReadAllBytes(path);
        if (image.Length == 0)
        {
            throw new BpfObjectException(path, "the file is empty, not a BPF object");
        }
        return ObjectReader.Read(image, path);
    }

    /// <summary>Reads a BPF object from memory.</summary>
    /// <param name="image">The object file's bytes; they must stay unchanged while the spec is in use.</param>
    /// <param name="name">The object's name (a file name): it prefixes global data map names and messages.</param>
    /// <exception cref="BpfObjectException">The bytes are not a BPF object, or are corrupt.</exception>
    public static CollectionSpec FromBytes(ReadOnlyMemory<byte> image, string name = "object.bpf.o")
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return ObjectReader.Read(image, name);
    }

    /// <summary>Reads a BPF object from a stream (read to its end).</summary>
    /// <param name="stream">The object file's contents.</param>
    /// <param name="name">The object's name (a file name): it prefixes global data map names and messages.</param>
    /// <exception cref="BpfObjectException">The contents are not a BPF object, or are corrupt.</exception>
    public static CollectionSpec FromStream(Stream stream, string name = "object.bpf.o")
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return FromBytes(buffer.ToArray(), name);
    }

    /// <summary>
    /// Reads a BPF object embedded in <paramref name="assembly"/> by BpfSharp.Build (<c>BpfEmbedObjects=true</c>
    /// makes <c>NAME.bpf.c</c> the manifest resource <c>bpf/NAME.bpf.o</c>).
    /// </summary>
    /// <param name="assembly">The assembly that embeds the object.</param>
    /// <param name="name">The object's name: <c>execsnoop</c>, <c>execsnoop.bpf</c> or <c>execsnoop.bpf.o</c>.</param>
    /// <exception cref="BpfObjectException">The assembly embeds no such object (the message lists those it does), or it is corrupt.</exception>
    public static CollectionSpec FromResource(System.Reflection.Assembly assembly, string name)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        ArgumentException.ThrowIfNullOrEmpty(name);
        string file = name.EndsWith(".bpf.o", StringComparison.Ordinal) ? name
            : name.EndsWith(".bpf", StringComparison.Ordinal) ? name + ".o"
            : name + ".bpf.o";
        using Stream? stream = assembly.GetManifestResourceStream("bpf/" + file);
        if (stream is null)
        {
            string[] embedded = [.. assembly.GetManifestResourceNames().Where(n => n.StartsWith("bpf/", StringComparison.Ordinal)).Select(n => n[4..])];
            throw new BpfObjectException(file, $"{assembly.GetName().Name} embeds no BPF object of that name; it embeds: "
                + (embedded.Length == 0 ? "none (build it with BpfEmbedObjects=true)" : string.Join(", ", embedded)));
        }
        return FromStream(stream, file);
    }

    /// <summary>
    /// The initial contents of a global data section (<c>.data</c>, <c>.rodata</c>, <c>.bss</c>, <c>.data.NAME</c>...), to
    /// edit before loading: what <see cref="VariableSpec"/> writes one variable at a time, the whole section at once
    /// (what a skeleton's section struct overlays). At least the map's value size long.
    /// </summary>
    /// <param name="section">The ELF section name, such as <c>.rodata</c>.</param>
    /// <exception cref="KeyNotFoundException">The object has no global data map for that section.</exception>
    public Span<byte> GlobalData(string section)
    {
        MapSpec map = MapsByName.Values.FirstOrDefault(m => m.SectionName == section && section is not (".maps" or "maps") && m.Type == MapType.Array)
            ?? throw new KeyNotFoundException($"{Name} has no global data section '{section}'; its sections: "
                + string.Join(", ", MapsByName.Values.Where(m => m.SectionName is not null && m.SectionName.StartsWith('.')).Select(m => m.SectionName)));
        if (map.InitialValue is null || map.InitialValue.Length < map.ValueSize)
        {
            byte[] grown = new byte[map.ValueSize];
            map.InitialValue?.AsSpan(0, Math.Min(map.InitialValue.Length, grown.Length)).CopyTo(grown);
            map.InitialValue = grown;
        }
        return map.InitialValue;
    }

    /// <summary>The program named <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No program has that name; the message lists those that exist.</exception>
    public ProgramSpec Program(string name) => ProgramsByName.TryGetValue(name, out ProgramSpec? spec)
        ? spec
        : throw new KeyNotFoundException($"{Name} has no program '{name}'; its programs: {string.Join(", ", ProgramsByName.Keys)}");

    /// <summary>The map named <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No map has that name; the message lists those that exist.</exception>
    public MapSpec Map(string name) => MapsByName.TryGetValue(name, out MapSpec? spec)
        ? spec
        : throw new KeyNotFoundException($"{Name} has no map '{name}'; its maps: {string.Join(", ", MapsByName.Keys)}");

    /// <summary>The global variable named <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No variable has that name; the message lists those that exist.</exception>
    public VariableSpec Variable(string name) => VariablesByName.TryGetValue(name, out VariableSpec? spec)
        ? spec
        : throw new KeyNotFoundException($"{Name} has no global variable '{name}'; its variables: {string.Join(", ", VariablesByName.Keys)}");

    /// <summary>
    /// Links the program named <paramref name="programName"/> the way loading does (without CO-RE relocation and
    /// without resolving maps and externs): its instructions followed by every subprogram it calls, with line records.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No program has that name.</exception>
    /// <exception cref="InvalidOperationException">A call names a function the object does not have.</exception>
    public LinkedProgram Link(string programName) => ProgramLinker.Link(this, Program(programName), f => f.Instructions);

    /// <summary>The CO-RE relocation records of .BTF.ext, by code section.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<BtfCoreRelocation>> CoreRelocations =>
        BtfExt?.CoreRelocations ?? new Dictionary<string, IReadOnlyList<BtfCoreRelocation>>();

    /// <inheritdoc />
    public override string ToString() => $"BPF object '{Name}' ({ProgramsByName.Count} programs, {MapsByName.Count} maps, {VariablesByName.Count} variables)";
}
