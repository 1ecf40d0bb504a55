using System.Globalization;
using System.Text.Json;
using BpfSharp.Btf;
using BpfSharp.Cli.Output;
using BpfSharp.Maps;
using BpfSharp.Specs;

namespace BpfSharp.Cli.Tools.Run;

/// <summary>
/// Prints an object's maps at the end of <c>run</c>, decoded through its BTF: an array of integer counters as a
/// bar chart (index against count), other arrays and hash maps as key/value tables (arrays: non-zero entries only),
/// <c>.data</c> and <c>.bss</c> as their variables; per-CPU values summed across CPUs. Ring buffers, perf event
/// arrays, <c>.rodata</c>/<c>.kconfig</c> (what was set, not what happened), and maps of fds are left out.
/// </summary>
internal sealed class MapDump(CollectionSpec spec, RunOutput output)
{
    private readonly BtfSpec? _btf = spec.Btf;

    /// <summary>True for maps whose contents are data worth printing at exit.</summary>
    internal static bool IsPrintable(MapType type, string? section) =>
        type is MapType.Array or MapType.PerCpuArray or MapType.Hash or MapType.PerCpuHash or MapType.LruHash or MapType.LruPerCpuHash
        && section?.StartsWith(".rodata", StringComparison.Ordinal) != true && section != ".kconfig";

    internal void Print(string name, Map map)
    {
        spec.Maps.TryGetValue(name, out MapSpec? mapSpec);
        if (!IsPrintable(map.Type, mapSpec?.SectionName))
        {
            return;
        }
        int keyType = (int)(mapSpec?.BtfKeyTypeId ?? 0), valueType = (int)(mapSpec?.BtfValueTypeId ?? 0);
        if (_btf is null)
        {
            keyType = valueType = 0;
        }
        var entries = new List<(byte[] Key, byte[] Value)>();
        foreach (KeyValuePair<byte[], byte[]> entry in map.Entries())
        {
            entries.Add((entry.Key, map.IsPerCpu ? Sum(entry.Value, (int)map.ValueSize, valueType) : entry.Value[..(int)map.ValueSize]));
        }
        bool isArray = map.Type is MapType.Array or MapType.PerCpuArray;
        string kind = BpfSharp.Kernel.UapiNames.Name(map.Type);

        if (valueType != 0 && _btf!.ResolveTypedefsAndQualifiers(valueType).Kind == BtfKind.DataSection)
        {
            PrintDataSection(name, mapSpec!, entries);
            return;
        }
        if (isArray && valueType != 0 && IsCounter(valueType))
        {
            PrintCounters(name, kind, valueType, entries);
            return;
        }
        if (isArray)
        {
            entries.RemoveAll(e => e.Value.AsSpan().IndexOfAnyExcept((byte)0) < 0);
        }
        if (output.IsJson)
        {
            output.WriteJson(w =>
            {
                w.WriteString("map", name);
                w.WriteString("kind", kind);
                w.WriteStartArray("entries");
                foreach ((byte[] key, byte[] value) in entries)
                {
                    w.WriteStartObject();
                    w.WritePropertyName("key");
                    WriteJsonValue(w, keyType, key);
                    w.WritePropertyName("value");
                    WriteJsonValue(w, valueType, value);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            });
            return;
        }
        TextWriter text = output.Text;
        text.WriteLine();
        text.WriteLine($"{name} ({kind}, {entries.Count} {(isArray ? "non-zero " : "")}entries):");
        var table = new TextTable("KEY", "VALUE");
        foreach ((string key, string value) in entries.Select(e => (Format(keyType, e.Key), Format(valueType, e.Value))).OrderBy(r => r.Item1, KeyOrder.Instance))
        {
            table.Add(key, value);
        }
        if (table.RowCount > 0)
        {
            table.Write(text);
        }
    }

    /// <summary>
    /// .data and .bss: each variable by name. The offsets come from the object's variables (the loader's), not from
    /// the DATASEC in the object file, where clang leaves them zero.
    /// </summary>
    private void PrintDataSection(string name, MapSpec mapSpec, List<(byte[] Key, byte[] Value)> entries)
    {
        if (entries.Count == 0)
        {
            return;
        }
        byte[] value = entries[0].Value;
        List<VariableSpec> variables = spec.Variables.Values.Where(v => ReferenceEquals(v.Map, mapSpec) && v.Type is not null)
            .OrderBy(v => v.Offset).ToList();
        int TypeOf(VariableSpec v) => v.Type!.Value.Kind == BtfKind.Variable ? v.Type.Value.ReferencedTypeId : v.Type.Value.Id;
        if (output.IsJson)
        {
            output.WriteJson(w =>
            {
                w.WriteString("map", name);
                w.WriteString("kind", "data");
                w.WriteStartObject("value");
                foreach (VariableSpec v in variables)
                {
                    w.WritePropertyName(v.Name);
                    BtfValue.WriteJson(w, _btf!, TypeOf(v), value.AsSpan((int)v.Offset, (int)v.Size));
                }
                w.WriteEndObject();
            });
            return;
        }
        output.Text.WriteLine();
        output.Text.WriteLine($"{name}:");
        foreach (VariableSpec v in variables)
        {
            output.Text.WriteLine($"  {v.Name} = {BtfValue.Format(_btf!, TypeOf(v), value.AsSpan((int)v.Offset, (int)v.Size))}");
        }
    }

    private void PrintCounters(string name, string kind, int valueType, List<(byte[] Key, byte[] Value)> entries)
    {
        var counts = entries.Select(e => (Index: ArrayIndex(e.Key), Count: ReadUnsigned(e.Value, (int)_btf!.SizeOf(valueType)))).OrderBy(e => e.Index).ToList();
        int first = counts.FindIndex(c => c.Count != 0), last = counts.FindLastIndex(c => c.Count != 0);
        if (output.IsJson)
        {
            output.WriteJson(w =>
            {
                w.WriteString("map", name);
                w.WriteString("kind", kind);
                w.WriteStartArray("entries");
                foreach ((uint index, ulong count) in counts.Where(c => c.Count != 0))
                {
                    w.WriteStartObject();
                    w.WriteNumber("key", index);
                    w.WriteNumber("value", count);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            });
            return;
        }
        output.Text.WriteLine();
        if (first < 0)
        {
            output.Text.WriteLine($"{name} ({kind} of {counts.Count} counters): all zero");
            return;
        }
        output.Text.WriteLine($"{name} ({kind} of {counts.Count} counters, entries {counts[first].Index}..{counts[last].Index} shown):");
        BarChart.Write(output.Text, counts.GetRange(first, last - first + 1).Select(c => (c.Index.ToString(CultureInfo.InvariantCulture), c.Count)).ToList(), "index");
    }

    /// <summary>An integer that is not a bool or char: a counter.</summary>
    private bool IsCounter(int typeId)
    {
        BtfType type = _btf!.ResolveTypedefsAndQualifiers(typeId);
        return type.Kind == BtfKind.Int && (type.IntEncoding & (BtfIntEncoding.Bool | BtfIntEncoding.Char)) == 0 && type.Size is 1 or 2 or 4 or 8;
    }

    /// <summary>Sums a per-CPU value across CPUs (each CPU's copy padded to 8 bytes), integer field by integer field.</summary>
    internal byte[] Sum(byte[] perCpu, int valueSize, int valueType)
    {
        int stride = (valueSize + 7) & ~7;
        byte[] total = perCpu[..valueSize];
        for (int offset = stride; offset + valueSize <= perCpu.Length; offset += stride)
        {
            ReadOnlySpan<byte> cpu = perCpu.AsSpan(offset, valueSize);
            if (valueType != 0)
            {
                BtfValue.AddIntegers(_btf!, valueType, total, cpu);
            }
            else if (valueSize is 4 or 8)
            {
                // No BTF: a 4- or 8-byte value is most likely a counter.
                if (valueSize == 8)
                {
                    BitConverter.TryWriteBytes(total, BitConverter.ToUInt64(total) + BitConverter.ToUInt64(cpu));
                }
                else
                {
                    BitConverter.TryWriteBytes(total, BitConverter.ToUInt32(total) + BitConverter.ToUInt32(cpu));
                }
            }
        }
        return total;
    }

    private string Format(int typeId, byte[] bytes) =>
        typeId != 0 ? BtfValue.Format(_btf!, typeId, bytes) : "0x" + Convert.ToHexStringLower(bytes);

    private void WriteJsonValue(Utf8JsonWriter w, int typeId, byte[] bytes)
    {
        if (typeId != 0)
        {
            BtfValue.WriteJson(w, _btf!, typeId, bytes);
        }
        else
        {
            w.WriteStringValue("0x" + Convert.ToHexStringLower(bytes));
        }
    }

    private static uint ArrayIndex(byte[] key) => key.Length >= 4 ? BitConverter.ToUInt32(key) : key[0];

    private static ulong ReadUnsigned(byte[] value, int size) => size switch
    {
        1 => value[0],
        2 => BitConverter.ToUInt16(value),
        4 => BitConverter.ToUInt32(value),
        _ => BitConverter.ToUInt64(value),
    };

    /// <summary>Keys that are numbers sort as numbers, others as text.</summary>
    private sealed class KeyOrder : IComparer<string>
    {
        internal static readonly KeyOrder Instance = new();

        public int Compare(string? x, string? y)
        {
            if (long.TryParse(x, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long a)
                && long.TryParse(y, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long b))
            {
                return a.CompareTo(b);
            }
            return string.CompareOrdinal(x, y);
        }
    }
}
