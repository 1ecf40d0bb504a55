using System.CommandLine;
using System.Globalization;
using BpfSharp.Btf;
using BpfSharp.Cli.Output;
using BpfSharp.Maps;
using BpfSharp.Programs;
using BpfSharp.Specs;

namespace BpfSharp.Cli.Commands;

/// <summary>
/// <c>bpfsharp obj info FILE</c>: what a BPF object holds, read without the kernel: programs with their section,
/// type and attach target, maps with their definitions, global variables, externs and CO-RE relocations.
/// </summary>
internal static class ObjInfoCommand
{
    internal static Command Create()
    {
        var file = new Argument<string>("object") { Description = "A BPF object file compiled by clang (-target bpf)" };
        var command = new Command("info", "Show the programs, maps, variables, externs and CO-RE relocations of a BPF object");
        command.Arguments.Add(file);
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
            Write(spec, parseResult.InvocationConfiguration.Output);
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
        return parts.Count == 0 ? "-" : string.Join("; ", parts);
    }
}
