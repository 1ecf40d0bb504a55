using System.Globalization;
using System.Text;
using BpfSharp.Btf;
using BpfSharp.Maps;
using BpfSharp.Programs;
using BpfSharp.Specs;

namespace BpfSharp.Skeletons;

/// <summary>
/// Writes a skeleton: C# source that gives one BPF object a typed API, what <c>bpftool gen skeleton</c> writes
/// for C. The generated class opens the object (<c>Open()</c>: a spec whose global sections, maps and programs
/// are typed properties, to edit before loading), loads it (<c>Load()</c>), and then offers each map as its
/// typed view (<c>HashMap&lt;TKey, TValue&gt;</c>, <c>RingBufferMap</c>...), each program, and each global data
/// section as a struct overlaid on the live memory (<c>skeleton.Bss.Counter</c> reads what the programs wrote,
/// with no system call). The object's own C types (map keys and values, globals, the event structs its programs
/// emit) are declared as C# structs with the C layout.
/// </summary>
public static class SkeletonGenerator
{
    // Generated code names every type it uses in full: a type of the user's or of the object's own (a C struct
    // named "map") must never change what a name means.
    private const string Collections = "global::BpfSharp.Collections.";
    private const string Maps = "global::BpfSharp.Maps.";
    private const string Specs = "global::BpfSharp.Specs.";
    private const string Interop = "global::System.Runtime.InteropServices.";
    private const string HexDigits = "0123456789abcdef";

    /// <summary>Writes the skeleton of <paramref name="spec"/> as C# source.</summary>
    /// <param name="spec">The object, as read from its file; it is not changed.</param>
    /// <param name="objectBytes">The object file's bytes, for <see cref="SkeletonObjectSource.Embedded"/>.</param>
    /// <param name="options">Names and where the object comes from.</param>
    /// <exception cref="ArgumentException">A type named in <see cref="SkeletonOptions.Types"/> is not in the object's BTF, or no object bytes were given to embed.</exception>
    public static string Generate(CollectionSpec spec, ReadOnlySpan<byte> objectBytes, SkeletonOptions options)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(options);
        if (options.ObjectSource == SkeletonObjectSource.Embedded && objectBytes.IsEmpty)
        {
            throw new ArgumentException("an embedded skeleton needs the object's bytes", nameof(objectBytes));
        }
        if (options.ResourceName is not null && options.ObjectPath is not null)
        {
            throw new ArgumentException("a skeleton reads its object from a resource or from a file, not both", nameof(options));
        }
        string objectName = ObjectName(spec.Name);
        string className = options.ClassName ?? CSharpNames.Pascal(objectName) + "Bpf";
        string access = options.Internal ? "internal" : "public";

        // Without BTF there are no types to give the variables: the sections stay reachable through Collection.GlobalData.
        // Static variables are the C file's own business, as in bpftool's skeletons (Collection.Variables has them).
        HashSet<string> statics = StaticVariables(spec.Btf);
        var sections = spec.Variables.Values.Where(v => spec.Btf is not null && !statics.Contains(v.Name)).GroupBy(v => v.SectionName).Where(g => g.Key.Length > 0)
            .OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        var members = new CSharpNames(["Collection", "Maps", "Programs", "Open", "Load", "Attach", "Dispose", "ObjectName",
            "ObjectBytes", "ReadObject", "Specification", "MapSet", "ProgramSet", "MapSpecSet", "ProgramSpecSet",
            "Unmapped"]);
        // Properties first, so that no section's struct type takes a name a section property needs.
        Dictionary<string, string> sectionProperties = sections.ToDictionary(g => g.Key, g => members.Take(g.Key, "Section", avoid: className));
        Dictionary<string, string> sectionTypeNames = sectionProperties.ToDictionary(p => p.Key, p => members.Take(p.Value + "Section", "Section", avoid: className));

        CSharpTypeEmitter? types = spec.Btf is null ? null : new CSharpTypeEmitter(spec.Btf, members);
        string inner = "    ";

        // Typed views of the maps, decided first: they declare the key and value types.
        var maps = new List<(string Property, string Name, string View, string Create)>();
        var mapNames = new CSharpNames(["Collection"]);
        foreach (MapSpec map in spec.Maps.Values.OrderBy(m => m.Name, StringComparer.Ordinal))
        {
            string property = mapNames.Take(IsGlobalData(map) ? map.SectionName! : map.Name, "Map", avoid: "MapSet");
            (string view, string create) = MapView(map, types);
            maps.Add((property, map.Name, view, create));
        }
        var programs = new List<(string Property, string Name, string Section)>();
        var programNames = new CSharpNames(["Collection"]);
        foreach (ProgramSpec program in spec.Programs.Values.OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            programs.Add((programNames.Take(program.Name, "Program", avoid: "ProgramSet"), program.Name, program.SectionName ?? ""));
        }
        var sectionTypes = new List<(string Section, string Type, uint Size, List<(string Name, string? Type, VariableSpec Variable)> Fields)>();
        foreach (IGrouping<string, VariableSpec> section in sections)
        {
            var fieldNames = new CSharpNames();
            string typeName = sectionTypeNames[section.Key];
            var fields = section.OrderBy(v => v.Offset).Select(v => (
                fieldNames.Take(v.Name, "Variable", avoid: typeName),
                (v.Type is BtfType type ? types!.TypeOf(type.Id, CSharpNames.Pascal(v.Name)) : null) ?? (v.Size == 0 ? null : types!.Bytes(v.Size)),
                v)).ToList();
            sectionTypes.Add((section.Key, typeName, section.First().Map.ValueSize, fields));
        }
        if (types is not null)
        {
            foreach (BtfType local in LocalTypes(spec))
            {
                types.TypeOf(local.Id);
            }
            foreach (string name in options.Types)
            {
                types.Declare(name);
            }
        }

        // The class.
        var output = new StringBuilder();
        output.AppendLine("// <auto-generated>");
        output.Append("//   The skeleton of the BPF object ").Append(objectName).AppendLine(".bpf.o, written by BpfSharp (bpfsharp gen skeleton).");
        output.AppendLine("//   Generated from the object: rebuild it to regenerate, do not edit.");
        output.AppendLine("// </auto-generated>");
        output.AppendLine("#nullable enable");
        output.AppendLine("#pragma warning disable CS1591, CS0649, CA1034, CA1051, CA1707, CA1815, IDE0005, IDE1006");
        output.AppendLine();
        if (!string.IsNullOrEmpty(options.Namespace))
        {
            output.Append("namespace ").Append(options.Namespace).AppendLine(";");
            output.AppendLine();
        }
        output.Append("/// <summary>The BPF object <c>").Append(objectName).Append(".bpf.o</c>, typed: ").Append(spec.Programs.Count)
            .Append(" programs, ").Append(spec.Maps.Count).Append(" maps, ").Append(spec.Variables.Count).AppendLine(" global variables.</summary>");
        output.AppendLine("/// <remarks>");
        output.Append("/// <c>").Append(className).Append(".Open()</c> reads the object into a <see cref=\"Specification\"/> to edit (set <c>.rodata</c>")
            .AppendLine(" values, resize maps, turn programs off); its <c>Load()</c> creates the maps and loads the programs;");
        output.Append("/// <c>").Append(className).AppendLine(".Load()</c> does both with the object as it is. Disposing the loaded skeleton closes everything it opened.");
        output.AppendLine("/// </remarks>");
        output.Append(access).Append(" sealed partial class ").Append(className).AppendLine(" : global::System.IDisposable");
        output.AppendLine("{");
        WriteOpening(output, inner, spec, options, objectName, className, objectBytes);

        // The loaded object.
        foreach ((string section, string type, _, _) in sectionTypes)
        {
            output.Append(inner).Append("private readonly " + Maps + "MapMemory? _").Append(Camel(sectionProperties[section])).AppendLine(";");
        }
        output.AppendLine();
        output.Append(inner).Append("private ").Append(className).AppendLine("(" + Collections + "Collection collection)");
        output.Append(inner).AppendLine("{");
        output.Append(inner).AppendLine("    Collection = collection;");
        output.Append(inner).AppendLine("    Maps = new MapSet(collection);");
        output.Append(inner).AppendLine("    Programs = new ProgramSet(collection);");
        foreach ((string section, _, _, _) in sectionTypes)
        {
            output.Append(inner).Append("    collection.TryGetGlobalData(").Append(CSharpNames.Literal(section)).Append(", out _")
                .Append(Camel(sectionProperties[section])).AppendLine(");");
        }
        output.Append(inner).AppendLine("}");
        output.AppendLine();
        WriteMembers(output, inner,
            ("The loaded object: every map, program and variable by name.", "public " + Collections + "Collection Collection { get; }"),
            ("The maps, as their typed views.", "public MapSet Maps { get; }"),
            ("The programs.", "public ProgramSet Programs { get; }"));
        foreach ((string section, string type, _, _) in sectionTypes)
        {
            bool readOnly = section.StartsWith(".rodata", StringComparison.Ordinal);
            string field = "_" + Camel(sectionProperties[section]);
            output.Append(inner).Append("/// <summary>The live <c>").Append(section).Append("</c> section, in place: ")
                .Append(readOnly ? "read-only (frozen at load; set it on the specification before loading)." : "what the programs read and write, with no system call.")
                .AppendLine("</summary>");
            output.Append(inner).Append("public ref ").Append(readOnly ? "readonly " : "").Append(type).Append(' ').Append(sectionProperties[section])
                .Append(" => ref (").Append(field).Append(" ?? throw Unmapped(").Append(CSharpNames.Literal(section)).Append(")).ElementAt<").Append(type).AppendLine(">(0);");
            output.AppendLine();
        }
        WriteMembers(output, inner,
            ("Attaches every program whose section names its hook (tracepoints, uprobes, perf events...) and registers the struct_ops maps; disposing the set detaches them.",
                "public global::BpfSharp.Links.LinkSet Attach() => Collection.AttachAll();"),
            ("Attaches only the given programs (<c>Attach(skeleton.Programs.X)</c>) where their sections say.",
                "public global::BpfSharp.Links.LinkSet Attach(params global::System.Collections.Generic.IEnumerable<global::BpfSharp.Programs.Program> programs) => Collection.Attach(programs);"),
            ("Closes every map and program the object opened.", "public void Dispose() => Collection.Dispose();"));
        output.Append(inner).AppendLine("private static global::System.InvalidOperationException Unmapped(string section) =>");
        output.Append(inner).Append("    new($\"").Append(objectName).AppendLine(": section {section} was not created or is not memory-mapped\");");
        output.AppendLine();

        WriteSpecification(output, inner, className, sectionTypes.Select(s => (s.Section, s.Type, sectionProperties[s.Section])).ToList());
        WriteMapSet(output, inner, maps);
        WriteLookupClass(output, inner, "The loaded programs.", "ProgramSet", Collections + "Collection", "collection",
            programs.Select(p => ($"Program <c>{p.Name}</c> (<c>SEC(\"{CSharpTypeEmitter.Escape(p.Section)}\")</c>).", "global::BpfSharp.Programs.Program",
                p.Property, $"Program({CSharpNames.Literal(p.Name)})")));
        WriteLookupClass(output, inner, "The maps' specifications, to change before loading.", "MapSpecSet", Specs + "CollectionSpec", "spec",
            maps.Select(m => ($"Map <c>{m.Name}</c>.", Maps + "MapSpec", m.Property, $"Map({CSharpNames.Literal(m.Name)})")));
        WriteLookupClass(output, inner, "The programs' specifications, to change before loading.", "ProgramSpecSet", Specs + "CollectionSpec", "spec",
            programs.Select(p => ($"Program <c>{p.Name}</c>.", "global::BpfSharp.Programs.ProgramSpec", p.Property, $"Program({CSharpNames.Literal(p.Name)})")));

        foreach ((string section, string type, uint size, List<(string Name, string? Type, VariableSpec Variable)> fields) in sectionTypes)
        {
            output.Append(inner).Append("/// <summary>The global variables of <c>").Append(section).Append("</c>, at their offsets (").Append(size).AppendLine(" bytes).</summary>");
            output.Append(inner).Append("[" + Interop + "StructLayout(" + Interop + "LayoutKind.Explicit, Size = ").Append(Math.Max(size, 1)).AppendLine(")]");
            output.Append(inner).Append("public struct ").AppendLine(type);
            output.Append(inner).AppendLine("{");
            foreach ((string name, string? fieldType, VariableSpec variable) in fields)
            {
                if (fieldType is null)
                {
                    continue; // an empty variable (a zero-length array) has no field
                }
                string c = variable.Type is BtfType t ? CSharpTypeEmitter.Escape(t.Spec.FormatC(t.Id, variable.Name)) : variable.Name;
                output.Append(inner).Append("    /// <summary>C <c>").Append(c).AppendLine("</c>.</summary>");
                output.Append(inner).Append("    [" + Interop + "FieldOffset(").Append(variable.Offset).Append(")] public ")
                    .Append(fieldType).Append(' ').Append(name).AppendLine(";");
                output.AppendLine();
            }
            TrimBlankLine(output);
            output.Append(inner).AppendLine("}");
            output.AppendLine();
        }
        types?.WriteAll(output, inner);
        TrimBlankLine(output);
        output.AppendLine("}");
        return output.ToString();
    }

    /// <summary>Reads the object file at <paramref name="objectPath"/> and writes its skeleton as C# source.</summary>
    /// <param name="objectPath">The clang-compiled object.</param>
    /// <param name="options">Names and where the skeleton reads the object from.</param>
    /// <exception cref="BpfObjectException">The object is corrupt.</exception>
    /// <exception cref="ArgumentException">A type named in <see cref="SkeletonOptions.Types"/> is not in the object's BTF.</exception>
    public static string Generate(string objectPath, SkeletonOptions options)
    {
        byte[] bytes = File.ReadAllBytes(objectPath);
        return Generate(CollectionSpec.FromBytes(bytes, Path.GetFileName(objectPath)), bytes, options);
    }

    /// <summary>The object's name without <c>.bpf.o</c> or <c>.o</c>.</summary>
    private static string ObjectName(string name)
    {
        string file = Path.GetFileName(name);
        foreach (string suffix in (ReadOnlySpan<string>)[".bpf.o", ".o", ".bpf"])
        {
            if (file.EndsWith(suffix, StringComparison.Ordinal))
            {
                return file[..^suffix.Length];
            }
        }
        return file;
    }

    private static void WriteOpening(StringBuilder output, string inner, CollectionSpec spec, SkeletonOptions options, string objectName, string className, ReadOnlySpan<byte> objectBytes)
    {
        output.Append(inner).AppendLine("/// <summary>The object's file name.</summary>");
        output.Append(inner).Append("public const string ObjectName = ").Append(CSharpNames.Literal(objectName + ".bpf.o")).AppendLine(";");
        output.AppendLine();
        output.Append(inner).AppendLine("/// <summary>Reads the object into a specification to edit before loading.</summary>");
        output.Append(inner).AppendLine("public static Specification Open() => new(ReadObject());");
        output.AppendLine();
        output.Append(inner).AppendLine("/// <summary>Wraps a specification of this object read elsewhere (another file, a stream).</summary>");
        output.Append(inner).AppendLine("public static Specification Open(" + Specs + "CollectionSpec spec) => new(spec ?? throw new global::System.ArgumentNullException(nameof(spec)));");
        output.AppendLine();
        output.Append(inner).AppendLine("/// <summary>Opens and loads the object as it is.</summary>");
        output.Append(inner).AppendLine("/// <param name=\"options\">Loading options (CO-RE target BTF, verifier log...).</param>");
        output.Append(inner).Append("public static ").Append(className).AppendLine(" Load(" + Collections + "CollectionOptions? options = null) => Open().Load(options);");
        output.AppendLine();
        switch (options.ObjectSource)
        {
            case SkeletonObjectSource.Resource:
                output.Append(inner).Append("private static " + Specs + "CollectionSpec ReadObject() => " + Specs + "CollectionSpec.FromResource(typeof(").Append(className).Append(").Assembly, ")
                    .Append(CSharpNames.Literal(options.ResourceName!)).AppendLine(");");
                break;
            case SkeletonObjectSource.File:
                output.Append(inner).Append("private static " + Specs + "CollectionSpec ReadObject() => " + Specs + "CollectionSpec.Load(global::System.IO.Path.Combine(global::System.AppContext.BaseDirectory, ")
                    .Append(CSharpNames.Literal(options.ObjectPath!)).AppendLine("));");
                break;
            default:
                output.Append(inner).AppendLine("private static " + Specs + "CollectionSpec ReadObject() => " + Specs + "CollectionSpec.FromBytes(ObjectBytes.ToArray(), ObjectName);");
                output.AppendLine();
                output.Append(inner).Append("/// <summary>The object file, ").Append(objectBytes.Length).AppendLine(" bytes.</summary>");
                output.Append(inner).AppendLine("public static global::System.ReadOnlySpan<byte> ObjectBytes =>");
                output.Append(inner).AppendLine("[");
                for (int line = 0; line < objectBytes.Length; line += 24)
                {
                    output.Append(inner).Append("    ");
                    foreach (byte value in objectBytes.Slice(line, Math.Min(24, objectBytes.Length - line)))
                    {
                        output.Append("0x").Append(HexDigits[value >> 4]).Append(HexDigits[value & 0xf]).Append(", ");
                    }
                    output.Length--;
                    output.AppendLine();
                }
                output.Append(inner).AppendLine("];");
                break;
        }
        output.AppendLine();
    }

    private static void WriteSpecification(StringBuilder output, string inner, string className, List<(string Section, string Type, string Property)> sections)
    {
        string i2 = inner + "    ";
        output.Append(inner).AppendLine("/// <summary>The object before loading: edit its sections, maps and programs, then <see cref=\"Load\"/>.</summary>");
        output.Append(inner).AppendLine("public sealed class Specification");
        output.Append(inner).AppendLine("{");
        output.Append(i2).AppendLine("internal Specification(" + Specs + "CollectionSpec collection)");
        output.Append(i2).AppendLine("{");
        output.Append(i2).AppendLine("    Collection = collection;");
        output.Append(i2).AppendLine("    Maps = new MapSpecSet(collection);");
        output.Append(i2).AppendLine("    Programs = new ProgramSpecSet(collection);");
        output.Append(i2).AppendLine("}");
        output.AppendLine();
        WriteMembers(output, i2,
            ("The object's specification, for what the typed properties do not cover.", "public " + Specs + "CollectionSpec Collection { get; }"),
            ("The maps' specifications (sizes, flags, pinning, whether to create them).", "public MapSpecSet Maps { get; }"),
            ("The programs' specifications (whether to load them, attach targets).", "public ProgramSpecSet Programs { get; }"));
        foreach ((string section, string type, string property) in sections)
        {
            output.Append(i2).Append("/// <summary>The initial contents of <c>").Append(section).AppendLine("</c>, written into the map when the object loads.</summary>");
            output.Append(i2).Append("public ref ").Append(type).Append(' ').Append(property).Append(" => ref " + Interop + "MemoryMarshal.AsRef<").Append(type)
                .Append(">(Collection.GlobalData(").Append(CSharpNames.Literal(section)).AppendLine("));");
            output.AppendLine();
        }
        output.Append(i2).AppendLine("/// <summary>Creates the maps and loads the programs.</summary>");
        output.Append(i2).AppendLine("/// <param name=\"options\">Loading options (CO-RE target BTF, verifier log...).</param>");
        output.Append(i2).AppendLine("/// <exception cref=\"global::BpfSharp.Programs.VerifierException\">The verifier refused a program; the message names it, the instruction and its C source line.</exception>");
        output.Append(i2).Append("public ").Append(className).Append(" Load(" + Collections + "CollectionOptions? options = null) => new(" + Collections + "Collection.Load(Collection, options));")
            .AppendLine();
        output.Append(inner).AppendLine("}");
        output.AppendLine();
    }

    private static void WriteMapSet(StringBuilder output, string inner, List<(string Property, string Name, string View, string Create)> maps)
    {
        string i2 = inner + "    ";
        output.Append(inner).AppendLine("/// <summary>The loaded maps, each as its typed view (made on first use; the collection owns the map).</summary>");
        output.Append(inner).AppendLine("public sealed class MapSet");
        output.Append(inner).AppendLine("{");
        output.Append(i2).AppendLine("private readonly " + Collections + "Collection _collection;");
        foreach ((string property, _, string view, _) in maps)
        {
            output.Append(i2).Append("private ").Append(view).Append("? _").Append(Camel(property)).AppendLine(";");
        }
        output.AppendLine();
        output.Append(i2).AppendLine("internal MapSet(" + Collections + "Collection collection) => _collection = collection;");
        output.AppendLine();
        foreach ((string property, string name, string view, string create) in maps)
        {
            output.Append(i2).Append("/// <summary>Map <c>").Append(name).AppendLine("</c>.</summary>");
            output.Append(i2).Append("public ").Append(view).Append(' ').Append(property).Append(" => _").Append(Camel(property)).Append(" ??= ")
                .Append(string.Format(CultureInfo.InvariantCulture, create, "_collection.Map(" + CSharpNames.Literal(name) + ")")).AppendLine(";");
            output.AppendLine();
        }
        TrimBlankLine(output);
        output.Append(inner).AppendLine("}");
        output.AppendLine();
    }

    /// <summary>Members, each after its one-line summary and followed by a blank line.</summary>
    private static void WriteMembers(StringBuilder output, string indent, params (string Summary, string Declaration)[] members)
    {
        foreach ((string summary, string declaration) in members)
        {
            output.Append(indent).Append("/// <summary>").Append(summary).AppendLine("</summary>");
            output.Append(indent).AppendLine(declaration);
            output.AppendLine();
        }
    }

    /// <summary>
    /// A nested class that hands out one member per map or program, each looked up by name in what it wraps:
    /// the loaded programs, the map specifications, the program specifications.
    /// </summary>
    private static void WriteLookupClass(StringBuilder output, string inner, string summary, string className, string ownerType, string owner,
        IEnumerable<(string Summary, string Type, string Property, string Expression)> members)
    {
        string i2 = inner + "    ";
        output.Append(inner).Append("/// <summary>").Append(summary).AppendLine("</summary>");
        output.Append(inner).Append("public sealed class ").AppendLine(className);
        output.Append(inner).AppendLine("{");
        output.Append(i2).Append("private readonly ").Append(ownerType).Append(" _").Append(owner).AppendLine(";");
        output.AppendLine();
        output.Append(i2).Append("internal ").Append(className).Append('(').Append(ownerType).Append(' ').Append(owner).Append(") => _").Append(owner)
            .Append(" = ").Append(owner).AppendLine(";");
        output.AppendLine();
        foreach ((string memberSummary, string type, string property, string expression) in members)
        {
            output.Append(i2).Append("/// <summary>").Append(memberSummary).AppendLine("</summary>");
            output.Append(i2).Append("public ").Append(type).Append(' ').Append(property).Append(" => _").Append(owner).Append('.').Append(expression).AppendLine(";");
            output.AppendLine();
        }
        TrimBlankLine(output);
        output.Append(inner).AppendLine("}");
        output.AppendLine();
    }

    /// <summary>
    /// The typed view of a map (its type, and how to make it from the collection's <c>Map</c>, as a format with
    /// the map at {0}); a plain <c>Map</c> where the kind has no view or BTF gives no key or value type.
    /// </summary>
    private static (string View, string Create) MapView(MapSpec map, CSharpTypeEmitter? types)
    {
        string? key = types is not null && map.BtfKeyTypeId != 0 ? types.TypeOf((int)map.BtfKeyTypeId) : null;
        string? value = types is not null && map.BtfValueTypeId != 0 ? types.TypeOf((int)map.BtfValueTypeId) : null;
        string? view = map.Type switch
        {
            MapType.RingBuf => Maps + "RingBufferMap",
            MapType.PerfEventArray => Maps + "PerfEventArrayMap",
            MapType.StackTrace => Maps + "StackTraceMap",
            MapType.ProgArray => Maps + "ProgramArrayMap",
            MapType.CgroupArray => Maps + "CgroupArrayMap",
            MapType.ArrayOfMaps => Maps + "ArrayOfMaps",
            MapType.HashOfMaps when key is not null => Maps + $"HashOfMaps<{key}>",
            MapType.Array when value is not null && !IsGlobalData(map) && map.KeySize == 4 => Maps + $"ArrayMap<{value}>",
            MapType.PerCpuArray when value is not null && map.KeySize == 4 => Maps + $"PerCpuArrayMap<{value}>",
            MapType.Hash when key is not null && value is not null => Maps + $"HashMap<{key}, {value}>",
            MapType.LruHash when key is not null && value is not null => Maps + $"LruHashMap<{key}, {value}>",
            MapType.PerCpuHash when key is not null && value is not null => Maps + $"PerCpuHashMap<{key}, {value}>",
            MapType.LruPerCpuHash when key is not null && value is not null => Maps + $"LruPerCpuHashMap<{key}, {value}>",
            MapType.Queue when value is not null => Maps + $"QueueMap<{value}>",
            MapType.Stack when value is not null => Maps + $"StackMap<{value}>",
            MapType.BloomFilter when value is not null => Maps + $"BloomFilterMap<{value}>",
            _ => null,
        };
        return view is null ? (Maps + "Map", "{0}") : (view, "new " + view + "({0})");
    }

    private static bool IsGlobalData(MapSpec map) => map.SectionName is { } section
        && (section.StartsWith(".data", StringComparison.Ordinal) || section.StartsWith(".rodata", StringComparison.Ordinal)
            || section.StartsWith(".bss", StringComparison.Ordinal) || section == ".kconfig");

    /// <summary>
    /// The types <c>BPFSHARP_TYPE</c> names, then the object's own named structs, unions and enums: those of its BTF that no program receives as its context
    /// and no CO-RE relocation reads (with everything those reach), which leaves the kernel's types out and keeps
    /// the records the programs write into ring and perf buffers.
    /// </summary>
    private static IEnumerable<BtfType> LocalTypes(CollectionSpec spec)
    {
        BtfSpec btf = spec.Btf!;
        var kernel = new HashSet<int>();
        var stack = new Stack<int>();
        foreach (IReadOnlyList<BtfCoreRelocation> relocations in spec.CoreRelocations.Values)
        {
            foreach (BtfCoreRelocation relocation in relocations)
            {
                stack.Push(relocation.TypeId);
            }
        }
        foreach (int context in ProgramContexts.TypeIds(btf, spec.Programs.Keys))
        {
            stack.Push(context);
        }
        while (stack.TryPop(out int id))
        {
            if (id == 0 || !btf.TryGetType(id, out BtfType type) || !kernel.Add(id))
            {
                continue;
            }
            switch (type.Kind)
            {
                case BtfKind.Struct or BtfKind.Union:
                    foreach (BtfMember member in type.Members)
                    {
                        stack.Push(member.TypeId);
                    }
                    break;
                case BtfKind.Array:
                    stack.Push(type.Array.ElementTypeId);
                    break;
                case BtfKind.Pointer or BtfKind.Typedef or BtfKind.Const or BtfKind.Volatile or BtfKind.Restrict or BtfKind.TypeTag:
                    stack.Push(type.ReferencedTypeId);
                    break;
                case BtfKind.FunctionProto:
                    stack.Push(type.ReferencedTypeId);
                    foreach (BtfParameter parameter in type.Parameters)
                    {
                        stack.Push(parameter.TypeId);
                    }
                    break;
            }
        }
        IEnumerable<BtfType> local = btf.OwnTypes.Where(t => t.HasName && (t.IsComposite || t.IsEnum) && !kernel.Contains(t.Id));
        return ExportedTypes.In(btf).Concat(local);
    }

    private static HashSet<string> StaticVariables(BtfSpec? btf) =>
        btf is null ? [] : [.. btf.OwnTypes.Where(t => t.Kind == BtfKind.Variable && t.VariableLinkage == BtfVariableLinkage.Static).Select(t => t.Name)];

    private static string Camel(string pascal) => pascal.Length == 0 ? pascal : char.ToLowerInvariant(pascal[0]) + pascal[1..];

    private static void TrimBlankLine(StringBuilder output)
    {
        string newline = Environment.NewLine;
        if (output.Length >= 2 * newline.Length && output.ToString(output.Length - 2 * newline.Length, 2 * newline.Length) == newline + newline)
        {
            output.Length -= newline.Length;
        }
    }
}
