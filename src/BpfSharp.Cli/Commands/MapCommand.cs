using System.CommandLine;
using BpfSharp.Cli.Output;
using BpfSharp.Kernel;
using BpfSharp.Maps;

namespace BpfSharp.Cli.Commands;

/// <summary><c>bpfsharp map list</c>: every map in the kernel (like <c>bpftool map show</c>); <c>map dump</c> is in its own file.</summary>
internal static class MapCommand
{
    internal static Command Create()
    {
        var command = new Command("map", "Inspect the maps in the kernel");
        command.Subcommands.Add(CreateList());
        command.Subcommands.Add(MapDumpCommand.Create());
        return command;
    }

    private static Command CreateList()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON document instead of a table" };
        var command = new Command("list", "List every map: type, name, key and value sizes, capacity, flags, the processes holding it and its pins")
        {
            json,
        };
        command.Aliases.Add("show");
        command.SetAction(parse =>
        {
            List<MapInfo> maps = Map.All().ToList();
            BpfObjectOwners owners = BpfObjectOwners.Scan();
            TextWriter output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                JsonOutput.WriteDocument(output, writer =>
                {
                    writer.WriteStartArray("maps");
                    foreach (MapInfo m in maps)
                    {
                        writer.WriteStartObject();
                        writer.WriteNumber("id", m.Id);
                        writer.WriteString("type", UapiNames.Name(m.Type));
                        writer.WriteString("name", m.Name);
                        writer.WriteNumber("key_size", m.KeySize);
                        writer.WriteNumber("value_size", m.ValueSize);
                        writer.WriteNumber("max_entries", m.MaxEntries);
                        writer.WriteNumber("flags", (uint)m.Flags);
                        writer.WriteNumber("btf_id", m.BtfId);
                        OwnerText.WriteJson(writer, owners, BpfObjectKind.Map, m.Id);
                        writer.WriteEndObject();
                    }
                    writer.WriteEndArray();
                });
                return 0;
            }
            var table = new TextTable(">ID", "TYPE", "NAME", ">KEY", ">VALUE", ">MAX_ENTRIES", "FLAGS", "PIDS", "PINNED");
            foreach (MapInfo m in maps)
            {
                table.Add(m.Id, UapiNames.Name(m.Type), m.Name, m.KeySize, m.ValueSize, m.MaxEntries, m.Flags == MapFlags.None ? "-" : m.Flags.ToString(),
                    OwnerText.Holders(owners, BpfObjectKind.Map, m.Id), OwnerText.Pins(owners, BpfObjectKind.Map, m.Id));
            }
            table.Write(output);
            return 0;
        });
        return command;
    }
}
