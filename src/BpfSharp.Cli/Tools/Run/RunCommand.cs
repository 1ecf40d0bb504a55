using System.CommandLine;
using System.Globalization;
using BpfSharp.Btf;
using BpfSharp.Cli.Output;
using BpfSharp.Collections;
using BpfSharp.Events;
using BpfSharp.Links;
using BpfSharp.Maps;
using BpfSharp.Specs;

namespace BpfSharp.Cli.Tools.Run;

/// <summary>
/// <c>bpfsharp run FILE.bpf.o</c>: loads any libbpf-style object, attaches what its section names say, prints what
/// its ring buffers and perf event arrays emit decoded through its BTF, and at exit prints its maps. A user runs
/// their own BPF backend without writing a frontend.
/// </summary>
internal static class RunCommand
{
    private const int PollMilliseconds = 100;

    internal static Command Create()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "The BPF object (an ELF file compiled by clang -target bpf)" };
        var set = new Option<string[]>("--set", "-s") { Description = "Set a global variable before load: NAME=VALUE (integers, true/false, enumerator names, strings for char arrays); repeatable", AllowMultipleArgumentsPerToken = false };
        var eventType = new Option<string[]>("--event-type", "-t") { Description = "The struct of ring/perf buffer records: NAME for all buffers, MAP=NAME for one (default: the one struct of the record's size)" };
        var noMaps = new Option<bool>("--no-maps") { Description = "Do not print the maps at exit" };
        var json = ToolHost.JsonOption("events and, at exit, maps");
        var duration = ToolHost.DurationOption();
        var command = new Command("run", "Load a BPF object, attach its programs, print its events decoded through BTF and its maps at exit")
        {
            file, set, eventType, noMaps, json, duration,
        };
        command.SetAction(parse => Run(parse.GetValue(file)!, parse.GetValue(set) ?? [], parse.GetValue(eventType) ?? [], !parse.GetValue(noMaps), parse.GetValue(json), parse.GetValue(duration)));
        return command;
    }

    private static int Run(FileInfo file, string[] assignments, string[] eventTypeChoices, bool printMaps, bool json, double? duration)
    {
        if (!file.Exists)
        {
            throw new ToolException($"{file.FullName}: no such file");
        }
        ToolHost.RequireTracing();
        CollectionSpec spec = CollectionSpec.Load(file.FullName);
        foreach (string assignment in assignments)
        {
            Assign(spec, assignment);
        }
        var eventTypes = new EventTypes(spec.Btf, spec.Programs.Keys, eventTypeChoices);
        foreach (string map in eventTypes.NamedMaps)
        {
            if (!spec.Maps.TryGetValue(map, out MapSpec? mapSpec) || mapSpec.Type is not (MapType.RingBuf or MapType.PerfEventArray))
            {
                throw new ToolException($"--event-type {map}=...: the object has no ring buffer or perf event array named '{map}'");
            }
        }

        using Collection collection = ToolHost.Load(file.Name, spec);
        using LinkSet links = collection.AttachAll();
        foreach ((string name, _) in collection.Programs.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (!links.Of(name).Any())
            {
                string section = collection.SectionOf(name) ?? "?";
                Console.Error.WriteLine($"run: program '{name}' (section '{section}') is loaded but not attached: its section does not say where "
                    + "to attach it (XDP, tc, cgroup and socket programs need an interface, cgroup or socket; bare kprobe/uprobe sections need a target)");
            }
        }

        using var output = new RunOutput(spec, json);
        var buffers = new List<(EventBuffer Buffer, RecordHandler Handler)>();
        try
        {
            using var poller = new EventPoller();
            foreach ((string name, Map map) in collection.Maps.OrderBy(m => m.Key, StringComparer.Ordinal))
            {
                EventBuffer? buffer = map.Type switch
                {
                    MapType.RingBuf => new RingBuffer(map),
                    MapType.PerfEventArray => new PerfBuffer(map, new PerfBufferOptions { OnLost = (cpu, lost) => Console.Error.WriteLine($"run: {name}: lost {lost} records on CPU {cpu}") }),
                    _ => null,
                };
                if (buffer is null)
                {
                    continue;
                }
                RecordHandler handler = output.HandlerFor(name, eventTypes.Named(name), map.Type == MapType.PerfEventArray, eventTypes);
                buffers.Add((buffer, handler));
                poller.Add(buffer, handler);
            }
            using var until = new RunUntil(duration);
            string what = links.Count == 0 ? $"{file.Name} (no program attached)" : $"{file.Name} ({Plural(links.Programs.Distinct().Count(), "program")} attached, {Plural(buffers.Count, "event buffer")})";
            ToolHost.AnnounceReady(what, duration);
            if (buffers.Count > 0)
            {
                // Poll rather than Run: standard output is flushed once per batch of records, not once per line.
                while (!until.Token.IsCancellationRequested)
                {
                    poller.Poll(PollMilliseconds);
                    output.Flush();
                }
                foreach ((EventBuffer buffer, RecordHandler handler) in buffers)
                {
                    buffer.Consume(handler); // what arrived before the stop
                }
                output.Flush();
            }
            else
            {
                until.Token.WaitHandle.WaitOne();
            }
        }
        finally
        {
            foreach ((EventBuffer buffer, _) in buffers)
            {
                buffer.Dispose();
            }
        }
        if (printMaps)
        {
            var dump = new MapDump(spec, output);
            foreach ((string name, Map map) in collection.Maps.OrderBy(m => m.Key, StringComparer.Ordinal))
            {
                dump.Print(name, map);
            }
            output.Flush();
        }
        return 0;
    }

    private static string Plural(int count, string noun) => count == 1 ? $"1 {noun}" : $"{count} {noun}s";

    /// <summary>Applies one --set NAME=VALUE to the object's global variables, parsing VALUE as the variable's BTF type.</summary>
    /// <exception cref="ToolException">The assignment is malformed, names no variable, or the value does not fit the type.</exception>
    internal static void Assign(CollectionSpec spec, string assignment)
    {
        int equals = assignment.IndexOf('=');
        if (equals <= 0)
        {
            throw new ToolException($"--set {assignment}: expected NAME=VALUE");
        }
        string name = assignment[..equals], text = assignment[(equals + 1)..];
        if (!spec.Variables.TryGetValue(name, out VariableSpec? variable))
        {
            string known = spec.Variables.Count == 0 ? "it has no global variables" : $"its variables are: {string.Join(", ", spec.Variables.Keys.Order(StringComparer.Ordinal))}";
            throw new ToolException($"--set {assignment}: the object has no global variable '{name}'; {known}");
        }
        try
        {
            if (variable.Type is BtfType type && spec.Btf is BtfSpec btf)
            {
                int typeId = type.Kind == BtfKind.Variable ? type.ReferencedTypeId : type.Id;
                BtfValue.Parse(btf, typeId, text, variable.Bytes);
            }
            else
            {
                SetUntyped(variable, text);
            }
        }
        catch (Exception e) when (e is FormatException or BpfException)
        {
            throw new ToolException($"--set {assignment}: {e.Message}");
        }
    }

    private static void SetUntyped(VariableSpec variable, string text)
    {
        // Without BTF only the size is known: an unsigned integer of that size.
        if (!ulong.TryParse(text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? text[2..] : text,
                text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? NumberStyles.AllowHexSpecifier : NumberStyles.None, CultureInfo.InvariantCulture, out ulong value))
        {
            throw new FormatException($"'{text}' is not an integer, and the object has no BTF to say what '{variable.Name}' is");
        }
        switch (variable.Size)
        {
            case 1: variable.Set(checked((byte)value)); break;
            case 2: variable.Set(checked((ushort)value)); break;
            case 4: variable.Set(checked((uint)value)); break;
            case 8: variable.Set(value); break;
            default: throw new FormatException($"'{variable.Name}' is {variable.Size} bytes and has no BTF type; only 1, 2, 4 and 8-byte integers can be set without one");
        }
    }
}
