using System.CommandLine;
using System.Text.Json;
using BpfSharp.Btf;
using BpfSharp.Cli.Output;
using BpfSharp.Cli.Tools;
using BpfSharp.Kernel;
using BpfSharp.Maps;

namespace BpfSharp.Cli.Commands;

/// <summary>
/// <c>bpfsharp map dump</c>: every entry of a live map, keys and values decoded through the BTF the map was created
/// with (like <c>bpftool map dump</c>); per-CPU values per CPU.
/// </summary>
internal static class MapDumpCommand
{
    internal static Command Create()
    {
        var id = new Option<uint?>("--id") { Description = "The map's id (from bpfsharp map list)" };
        var name = new Option<string?>("--name") { Description = "The map's name, when exactly one map has it" };
        var pinned = new Option<string?>("--pinned") { Description = "The map's pin path in bpffs" };
        var json = new Option<bool>("--json") { Description = "Print one JSON document instead of text" };
        var command = new Command("dump", "Print every entry of a map, decoded through its BTF (give --id, --name or --pinned)")
        {
            id, name, pinned, json,
        };
        command.SetAction(parse =>
        {
            using Map map = Open(parse.GetValue(id), parse.GetValue(name), parse.GetValue(pinned));
            Dump(map, parse.GetValue(json), parse.InvocationConfiguration.Output);
            return 0;
        });
        return command;
    }

    private static Map Open(uint? id, string? name, string? pinned) =>
        ObjectSelector.Open(id, name, pinned, "map", () => Map.All().Select(m => (m.Id, m.Name)),
            mapId => Map.FromId(mapId, ObjectAccess.ReadOnly), path => Map.OpenPinned(path, ObjectAccess.ReadOnly));

    private static void Dump(Map map, bool json, TextWriter output)
    {
        if (map.Type is MapType.RingBuf or MapType.UserRingBuf or MapType.PerfEventArray or MapType.Queue or MapType.Stack or MapType.BloomFilter or MapType.Arena)
        {
            throw new ToolException($"{map} is a {UapiNames.Name(map.Type)} map, which has no keys to list (read ring and perf buffers with bpfsharp run or the library's RingBuffer/PerfBuffer)");
        }
        MapInfo info = map.ReadInfo();
        BtfSpec? btf = null;
        if (info.BtfId != 0)
        {
            using BtfObject btfObject = BtfObject.FromId(info.BtfId);
            btf = btfObject.ReadSpec();
        }
        int keyType = btf is null ? 0 : (int)info.BtfKeyTypeId, valueType = btf is null ? 0 : (int)info.BtfValueTypeId;
        int cpus = map.IsPerCpu ? Cpus.PossibleCount : 1;
        int stride = map.IsPerCpu ? (int)((map.ValueSize + 7) & ~7u) : (int)map.ValueSize;
        var entries = map.Entries().ToList();
        if (json)
        {
            JsonOutput.WriteDocument(output, writer =>
            {
                writer.WriteNumber("id", info.Id);
                writer.WriteString("name", info.Name);
                writer.WriteString("type", UapiNames.Name(info.Type));
                writer.WriteStartArray("entries");
                foreach ((byte[] key, byte[] value) in entries)
                {
                    writer.WriteStartObject();
                    writer.WritePropertyName("key");
                    WriteJson(writer, btf, keyType, key);
                    if (map.IsPerCpu)
                    {
                        writer.WriteStartArray("values");
                        for (int cpu = 0; cpu < cpus; cpu++)
                        {
                            writer.WriteStartObject();
                            writer.WriteNumber("cpu", cpu);
                            writer.WritePropertyName("value");
                            WriteJson(writer, btf, valueType, value.AsSpan(cpu * stride, (int)map.ValueSize));
                            writer.WriteEndObject();
                        }
                        writer.WriteEndArray();
                    }
                    else
                    {
                        writer.WritePropertyName("value");
                        WriteJson(writer, btf, valueType, value.AsSpan(0, (int)map.ValueSize));
                    }
                    writer.WriteEndObject();
                }
                writer.WriteEndArray();
            });
            return;
        }
        foreach ((byte[] key, byte[] value) in entries)
        {
            if (map.IsPerCpu)
            {
                output.WriteLine($"key: {Text(btf, keyType, key)}");
                for (int cpu = 0; cpu < cpus; cpu++)
                {
                    output.WriteLine($"  cpu{cpu}: {Text(btf, valueType, value.AsSpan(cpu * stride, (int)map.ValueSize))}");
                }
            }
            else
            {
                output.WriteLine($"key: {Text(btf, keyType, key)}  value: {Text(btf, valueType, value.AsSpan(0, (int)map.ValueSize))}");
            }
        }
        output.WriteLine($"Found {entries.Count} element{(entries.Count == 1 ? "" : "s")}");
    }

    /// <summary>The bytes as their BTF type says, or as hex bytes (bpftool's form) without BTF.</summary>
    private static string Text(BtfSpec? btf, int typeId, ReadOnlySpan<byte> data) =>
        btf is not null && typeId != 0 ? BtfValue.Format(btf, typeId, data) : Hex(data);

    private static void WriteJson(Utf8JsonWriter writer, BtfSpec? btf, int typeId, ReadOnlySpan<byte> data)
    {
        if (btf is not null && typeId != 0)
        {
            BtfValue.WriteJson(writer, btf, typeId, data);
        }
        else
        {
            writer.WriteStringValue(Hex(data));
        }
    }

    private static string Hex(ReadOnlySpan<byte> data) => string.Join(' ', data.ToArray().Select(b => b.ToString("x2")));
}
