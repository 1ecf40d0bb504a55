using System.CommandLine;
using BpfSharp.Cli.Output;
using BpfSharp.Kernel;
using BpfSharp.Programs;

namespace BpfSharp.Cli.Commands;

/// <summary><c>bpfsharp prog list</c>: every program loaded in the kernel (like <c>bpftool prog show</c>); <c>prog stats</c> and <c>prog dump</c> are in their own files.</summary>
internal static class ProgCommand
{
    internal static Command Create()
    {
        var command = new Command("prog", "Inspect the programs loaded in the kernel");
        command.Subcommands.Add(CreateList());
        command.Subcommands.Add(ProgStatsCommand.Create());
        command.Subcommands.Add(ProgDumpCommand.Create());
        return command;
    }

    private static Command CreateList()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON document instead of a table" };
        var command = new Command("list", "List every loaded program: type, name, tag, when and by whom it was loaded, size, maps, run statistics, the processes holding it and its pins")
        {
            json,
        };
        command.Aliases.Add("show");
        command.SetAction(parse =>
        {
            List<ProgramInfo> programs = BpfSharp.Programs.Program.All().ToList();
            BpfObjectOwners owners = BpfObjectOwners.Scan();
            TextWriter output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                JsonOutput.WriteDocument(output, writer =>
                {
                    writer.WriteStartArray("programs");
                    foreach (ProgramInfo p in programs)
                    {
                        writer.WriteStartObject();
                        writer.WriteNumber("id", p.Id);
                        writer.WriteString("type", UapiNames.Name(p.Type));
                        writer.WriteString("name", p.Name);
                        writer.WriteString("tag", p.Tag);
                        writer.WriteBoolean("gpl_compatible", p.GplCompatible);
                        writer.WriteString("loaded_at", p.LoadedAt.ToString("O"));
                        writer.WriteNumber("uid", p.CreatedByUid);
                        writer.WriteNumber("bytes_xlated", p.XlatedSize);
                        writer.WriteNumber("bytes_jited", p.JitedSize);
                        writer.WriteNumber("verified_insns", p.VerifiedInstructions);
                        writer.WriteNumber("btf_id", p.BtfId);
                        writer.WriteStartArray("map_ids");
                        foreach (uint id in p.MapIds)
                        {
                            writer.WriteNumberValue(id);
                        }
                        writer.WriteEndArray();
                        writer.WriteNumber("run_cnt", p.RunCount);
                        writer.WriteNumber("run_time_ns", p.RunTimeNs);
                        writer.WriteNumber("recursion_misses", p.RecursionMisses);
                        OwnerText.WriteJson(writer, owners, BpfObjectKind.Program, p.Id);
                        writer.WriteEndObject();
                    }
                    writer.WriteEndArray();
                });
                return 0;
            }
            var table = new TextTable(">ID", "TYPE", "NAME", "TAG", "LOADED", ">UID", ">XLATED", ">JITED", "MAPS", ">RUNS", ">AVG_NS", "PIDS", "PINNED");
            foreach (ProgramInfo p in programs)
            {
                table.Add(p.Id, UapiNames.Name(p.Type), p.Name, p.Tag, p.LoadedAt.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss"), p.CreatedByUid,
                    p.XlatedSize, p.JitedSize, p.MapIds.Count == 0 ? "-" : string.Join(",", p.MapIds),
                    p.RunCount, p.RunCount == 0 ? "-" : (p.RunTimeNs / p.RunCount).ToString(),
                    OwnerText.Holders(owners, BpfObjectKind.Program, p.Id), OwnerText.Pins(owners, BpfObjectKind.Program, p.Id));
            }
            table.Write(output);
            return 0;
        });
        return command;
    }
}
