using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using BpfSharp.Asm;
using BpfSharp.Btf;
using BpfSharp.Cli.Output;
using BpfSharp.Kernel;
using BpfSharp.Maps;
using BpfSharp.Programs;
using BpfSharp.Specs;

namespace BpfSharp.Cli.Commands;

/// <summary>
/// <c>bpfsharp obj info FILE</c>: what a BPF object holds, read without the kernel: programs with their section,
/// type and attach target, maps with their definitions, global variables, externs and CO-RE relocations.
/// With <c>--json</c>, the same as one JSON document (snake_case keys; docs/asm-and-elf.md describes it).
/// </summary>
internal static class ObjInfoCommand
{
    internal static Command Create()
    {
        var file = new Argument<string>("object") { Description = "A BPF object file compiled by clang (-target bpf)" };
        var json = new Option<bool>("--json") { Description = "Print one JSON document instead of tables" };
        var command = new Command("info", "Show the programs, maps, variables, externs and CO-RE relocations of a BPF object");
        command.Arguments.Add(file);
        command.Options.Add(json);
        command.SetAction(parseResult =>
        {
            string path = parseResult.GetValue(file)!;
            CollectionSpec spec;
            try
            {
                spec = CollectionSpec.Load(path);
            }
            catch (Exception e) when (e is BpfObjectException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"bpfsharp obj info: {e.Message}");
                return 1;
            }
            if (parseResult.GetValue(json))
            {
                WriteJson(spec, parseResult.InvocationConfiguration.Output);
            }
            else
            {
                Write(spec, parseResult.InvocationConfiguration.Output);
            }
            return 0;
        });
        return command;
    }

    internal static void Write(CollectionSpec spec, TextWriter output)
    {
        output.WriteLine($"Object {spec.Name}: license \"{spec.License}\"{(spec.KernelVersion != 0 ? $", kernel version 0x{spec.KernelVersion:x}" : "")}, " +
            $"{(spec.Btf is null ? "no BTF" : $"BTF with {spec.Btf.OwnTypeCount} types")}");

        output.WriteLine();
        output.WriteLine("Programs:");
        var programs = new TextTable("NAME", "SECTION", "TYPE", "ATTACH TYPE", "TARGET", ">INSNS");
        foreach (ProgramSpec program in spec.Programs.Values)
        {
            programs.Add(program.Name, program.SectionName, program.Type, program.ExpectedAttachType?.ToString() ?? "-",
                program.AttachTo.Length == 0 ? "-" : program.AttachTo, program.Instructions.Sum(i => i.Slots));
        }
        programs.Write(output);
        string[] subprograms = spec.Subprograms.ToArray();
        if (subprograms.Length > 0)
        {
            output.WriteLine($"Subprograms: {string.Join(", ", subprograms)}");
        }

        output.WriteLine();
        output.WriteLine("Maps:");
        var maps = new TextTable("NAME", "SECTION", "TYPE", ">KEY", ">VALUE", ">MAX", "FLAGS", "DETAILS");
        foreach (MapSpec map in spec.Maps.Values)
        {
            maps.Add(map.Name, map.SectionName ?? "-", map.Type, map.KeySize, map.ValueSize, map.MaxEntries,
                map.Flags == MapFlags.None ? "-" : map.Flags.ToString(), Details(spec, map));
        }
        maps.Write(output);

        output.WriteLine();
        output.WriteLine("Variables:");
        var variables = new TextTable("NAME", "SECTION", ">OFFSET", ">SIZE", "TYPE");
        foreach (VariableSpec variable in spec.Variables.Values)
        {
            variables.Add(variable.Name, variable.SectionName, variable.Offset, variable.Size,
                variable.Type is BtfType type ? type.Spec.FormatC(type.Id) : "-");
        }
        variables.Write(output);

        if (spec.Externs.Count > 0)
        {
            output.WriteLine();
            output.WriteLine("Externs:");
            var externs = new TextTable("NAME", "KIND", "WEAK", "TYPE");
            foreach (ExternSpec extern_ in spec.Externs)
            {
                string kind = extern_.Kind == ExternKind.Kconfig ? "kconfig" : extern_.IsFunction ? "kfunc" : "ksym";
                string type = extern_.Type is BtfType t ? (t.Id == 0 ? "void" : t.Kind == BtfKind.Function ? "function" : t.Spec.FormatC(t.Id)) : "-";
                externs.Add(extern_.Name, kind, extern_.IsWeak ? "yes" : "no", type);
            }
            externs.Write(output);
        }

        var relocations = spec.CoreRelocations;
        if (relocations.Count > 0 && spec.Btf is not null)
        {
            output.WriteLine();
            output.WriteLine("CO-RE relocations:");
            var table = new TextTable("SECTION", ">INSN", "KIND", "TYPE", "ACCESS");
            foreach ((string section, IReadOnlyList<BtfCoreRelocation> records) in relocations)
            {
                foreach (BtfCoreRelocation record in records)
                {
                    string type = spec.Btf.TryGetType(record.TypeId, out BtfType t) ? t.Describe() : record.TypeId.ToString(CultureInfo.InvariantCulture);
                    table.Add(section, record.InstructionIndex, record.Kind, type, record.AccessString);
                }
            }
            table.Write(output);
        }
    }

    /// <summary>The JSON document of <c>obj info --json</c>: every value the tables show, as numbers, names and nulls.</summary>
    internal static void WriteJson(CollectionSpec spec, TextWriter output) => JsonOutput.WriteDocument(output, writer =>
    {
        writer.WriteString("name", spec.Name);
        writer.WriteString("license", spec.License);
        writer.WriteNumber("kernel_version", spec.KernelVersion);
        if (spec.Btf is null)
        {
            writer.WriteNull("btf");
        }
        else
        {
            writer.WriteStartObject("btf");
            writer.WriteNumber("types", spec.Btf.OwnTypeCount);
            writer.WriteEndObject();
        }

        writer.WriteStartArray("programs");
        foreach (ProgramSpec program in spec.Programs.Values)
        {
            writer.WriteStartObject();
            writer.WriteString("name", program.Name);
            writer.WriteStringOrNull("section", program.SectionName);
            writer.WriteString("type", UapiNames.Name(program.Type));
            writer.WriteStringOrNull("expected_attach_type", program.ExpectedAttachType is AttachType attach ? UapiNames.Name(attach) : null);
            writer.WriteStringOrNull("attach_target", program.AttachTo);
            writer.WriteBoolean("autoload", program.Autoload);
            writer.WriteNumber("instructions", program.Instructions.Sum(i => i.Slots));
            LinkedProgram linked = spec.Link(program.Name);
            writer.WriteNumber("linked_instructions", linked.Instructions.Sum(i => i.Slots));
            writer.WriteStartArray("subprograms");
            // Each subprogram's first instruction carries its name; the program's own first one is skipped.
            foreach (Instruction instruction in linked.Instructions.Skip(1))
            {
                if (instruction.Symbol is string subprogram)
                {
                    writer.WriteStringValue(subprogram);
                }
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        writer.WriteEndArray();

        writer.WriteStartArray("subprograms");
        foreach (string subprogram in spec.Subprograms)
        {
            writer.WriteStringValue(subprogram);
        }
        writer.WriteEndArray();

        writer.WriteStartArray("maps");
        foreach (MapSpec map in spec.Maps.Values)
        {
            writer.WriteStartObject();
            WriteMap(writer, spec, map);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();

        writer.WriteStartArray("variables");
        foreach (VariableSpec variable in spec.Variables.Values)
        {
            writer.WriteStartObject();
            writer.WriteString("name", variable.Name);
            writer.WriteString("section", variable.SectionName);
            writer.WriteNumber("offset", variable.Offset);
            writer.WriteNumber("size", variable.Size);
            writer.WriteStringOrNull("type", variable.Type is BtfType type ? type.Spec.FormatC(type.Id) : null);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();

        writer.WriteStartArray("externs");
        foreach (ExternSpec extern_ in spec.Externs)
        {
            writer.WriteStartObject();
            writer.WriteString("name", extern_.Name);
            writer.WriteString("kind", extern_.Kind == ExternKind.Kconfig ? "kconfig" : extern_.IsFunction ? "kfunc" : "ksym");
            writer.WriteBoolean("weak", extern_.IsWeak);
            writer.WriteStringOrNull("type", extern_.Type is BtfType t ? (t.Id == 0 ? "void" : t.Kind == BtfKind.Function ? "function" : t.Spec.FormatC(t.Id)) : null);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();

        writer.WriteStartArray("core_relocations");
        foreach ((string section, IReadOnlyList<BtfCoreRelocation> records) in spec.CoreRelocations)
        {
            foreach (BtfCoreRelocation record in records)
            {
                writer.WriteStartObject();
                writer.WriteString("section", section);
                writer.WriteNumber("instruction", record.InstructionIndex);
                writer.WriteString("kind", JsonOutput.SnakeName(record.Kind));
                writer.WriteNumber("type_id", record.TypeId);
                writer.WriteStringOrNull("type", spec.Btf is not null && spec.Btf.TryGetType(record.TypeId, out BtfType t) ? t.Describe() : null);
                writer.WriteString("access", record.AccessString);
                writer.WriteEndObject();
            }
        }
        writer.WriteEndArray();
    });

    private static void WriteMap(Utf8JsonWriter writer, CollectionSpec spec, MapSpec map)
    {
        writer.WriteString("name", map.Name);
        writer.WriteStringOrNull("section", map.SectionName);
        writer.WriteString("type", UapiNames.Name(map.Type));
        writer.WriteNumber("key_size", map.KeySize);
        writer.WriteNumber("value_size", map.ValueSize);
        writer.WriteStringOrNull("key_type", spec.Btf is not null && map.BtfKeyTypeId != 0 ? spec.Btf.FormatC((int)map.BtfKeyTypeId) : null);
        string? valueType = null;
        if (spec.Btf is not null && map.BtfValueTypeId != 0)
        {
            BtfType value = spec.Btf[(int)map.BtfValueTypeId];
            valueType = value.Kind == BtfKind.DataSection ? value.Name : spec.Btf.FormatC(value.Id);
        }
        writer.WriteStringOrNull("value_type", valueType);
        writer.WriteNumber("max_entries", map.MaxEntries);
        writer.WriteNumber("flags", (uint)map.Flags);
        writer.WriteStartArray("flag_names");
        foreach ((MapFlags flag, string name) in MapFlagNames)
        {
            if ((map.Flags & flag) != 0)
            {
                writer.WriteStringValue(name);
            }
        }
        writer.WriteEndArray();
        writer.WriteString("pinning", map.Pinning == MapPinning.ByName ? "by_name" : "none");
        writer.WriteNumber("numa_node", map.NumaNode);
        writer.WriteNumber("map_extra", map.MapExtra);
        if (map.InnerMap is { } inner)
        {
            writer.WriteStartObject("inner_map");
            WriteMap(writer, spec, inner);
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteNull("inner_map");
        }
        if (map.StructOps is { } ops)
        {
            writer.WriteStartObject("struct_ops");
            writer.WriteString("type", ops.KernelTypeName);
            writer.WriteStartObject("programs");
            foreach ((string member, string program) in ops.Programs.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                writer.WriteString(member, program);
            }
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteNull("struct_ops");
        }
        writer.WriteStartArray("initial_values");
        foreach (MapSlot slot in map.Contents)
        {
            writer.WriteStartObject();
            writer.WriteNumber("index", slot.Index);
            writer.WriteString("target", slot.Target);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        if (map.InitialValue is byte[] data)
        {
            // Global data: element 0's bytes, in hex without the trailing zeros (a large .bss stays one short line);
            // initial_data_size says how long the value is.
            int used = data.AsSpan().LastIndexOfAnyExcept((byte)0) + 1;
            writer.WriteNumber("initial_data_size", data.Length);
            writer.WriteString("initial_data", Convert.ToHexStringLower(data, 0, used));
        }
        else
        {
            writer.WriteNull("initial_data_size");
            writer.WriteNull("initial_data");
        }
    }

    /// <summary>The UAPI names of map flags (BPF_F_RDONLY_PROG is rdonly_prog), as bpftool prints them.</summary>
    private static readonly (MapFlags Flag, string Name)[] MapFlagNames =
    [
        (MapFlags.NoPrealloc, "no_prealloc"), (MapFlags.NoCommonLru, "no_common_lru"), (MapFlags.NumaNode, "numa_node"),
        (MapFlags.ReadOnly, "rdonly"), (MapFlags.WriteOnly, "wronly"), (MapFlags.StackBuildId, "stack_build_id"),
        (MapFlags.ZeroSeed, "zero_seed"), (MapFlags.ReadOnlyProgram, "rdonly_prog"), (MapFlags.WriteOnlyProgram, "wronly_prog"),
        (MapFlags.Clone, "clone"), (MapFlags.Mmapable, "mmapable"), (MapFlags.PreserveElems, "preserve_elems"),
        (MapFlags.InnerMap, "inner_map"), (MapFlags.Link, "link"), (MapFlags.PathFd, "path_fd"),
        (MapFlags.VtypeBtfObjFd, "vtype_btf_obj_fd"), (MapFlags.TokenFd, "token_fd"), (MapFlags.SegvOnFault, "segv_on_fault"),
        (MapFlags.NoUserConv, "no_user_conv"), (MapFlags.RingBufferOverwrite, "rb_overwrite"),
    ];

    private static string Details(CollectionSpec spec, MapSpec map)
    {
        var parts = new List<string>();
        if (spec.Btf is not null && map.BtfKeyTypeId != 0)
        {
            parts.Add($"key {spec.Btf.FormatC((int)map.BtfKeyTypeId)}");
        }
        if (spec.Btf is not null && map.BtfValueTypeId != 0)
        {
            BtfType value = spec.Btf[(int)map.BtfValueTypeId];
            parts.Add(value.Kind == BtfKind.DataSection ? $"value {value.Name}" : $"value {spec.Btf.FormatC(value.Id)}");
        }
        if (map.Pinning == MapPinning.ByName)
        {
            parts.Add("pinned by name");
        }
        if (map.NumaNode != 0 || map.Flags.HasFlag(MapFlags.NumaNode))
        {
            parts.Add($"numa node {map.NumaNode}");
        }
        if (map.MapExtra != 0)
        {
            parts.Add($"map_extra {map.MapExtra}");
        }
        if (map.InnerMap is { } inner)
        {
            parts.Add($"inner {inner.Type} (key {inner.KeySize}, value {inner.ValueSize}, max {inner.MaxEntries})");
        }
        if (map.Contents.Count > 0)
        {
            parts.Add("initial " + string.Join(", ", map.Contents.Select(c => $"[{c.Index}]={c.Target}")));
        }
        if (map.StructOps is { } ops)
        {
            parts.Add($"struct_ops {ops.KernelTypeName}: "
                + string.Join(", ", ops.Programs.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}")));
        }
        return parts.Count == 0 ? "-" : string.Join("; ", parts);
    }
}
