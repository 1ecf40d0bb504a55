using BpfSharp.Btf.Core;
using System.CommandLine;
using BpfSharp.Cli.Output;
using BpfSharp.Collections;
using BpfSharp.Kernel;
using BpfSharp.Programs;
using BpfSharp.Specs;

namespace BpfSharp.Cli.Commands;

/// <summary>
/// <c>bpfsharp obj load FILE [--pin DIR]</c>: loads every program of an object, like <c>bpftool prog loadall</c>,
/// and says which loaded and why the others did not (the verifier's reason and the C source line). Programs the
/// kernel rejects are left out one by one so that the rest can be checked too; the exit status is non-zero when
/// anything failed. With <c>--pin</c>, the loaded programs are pinned as DIR/NAME. With <c>--json</c>, the outcome is one
/// JSON document (loaded programs with their ids, failed ones with the verifier's reason); messages still go to stderr.
/// </summary>
internal static class ObjLoadCommand
{
    private const string Name = "bpfsharp obj load";

    internal static Command Create()
    {
        var file = new Argument<string>("object") { Description = "A BPF object file compiled by clang (-target bpf)" };
        var pin = new Option<string?>("--pin") { Description = "Pin each loaded program as DIR/NAME in this bpffs directory (created if missing)" };
        var log = new Option<bool>("--log") { Description = "Print the whole verifier log of a rejected program, not only its reason" };
        var json = new Option<bool>("--json") { Description = "Print the outcome as one JSON document" };
        var btf = new Option<string?>("--btf")
        {
            Description = "Resolve CO-RE relocations against this BTF (a raw BTF file or an ELF vmlinux with .BTF) instead of the running kernel's (like bpftool's --base-btf for kernels without /sys/kernel/btf/vmlinux)",
        };
        var command = new Command("load", "Load every program of a BPF object (like bpftool prog loadall) and report what loaded");
        command.Arguments.Add(file);
        command.Options.Add(pin);
        command.Options.Add(log);
        command.Options.Add(json);
        command.Options.Add(btf);
        command.SetAction(parseResult =>
        {
            TextWriter output = parseResult.InvocationConfiguration.Output;
            string path = parseResult.GetValue(file)!;
            CollectionSpec spec;
            try
            {
                spec = CollectionSpec.Load(path);
            }
            catch (Exception e) when (e is BpfObjectException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"{Name}: {e.Message}");
                return 1;
            }
            if (parseResult.GetValue(btf) is string btfPath && !File.Exists(btfPath))
            {
                Console.Error.WriteLine($"{Name}: --btf {btfPath}: no such file; give a raw BTF file (a copy of /sys/kernel/btf/vmlinux) or a vmlinux with a .BTF section");
                return 1;
            }
            var options = new CollectionOptions { CoreTarget = parseResult.GetValue(btf) is string target ? CoreTarget.FromFile(target) : CoreTarget.Running };
            return Load(spec, options, parseResult.GetValue(pin), parseResult.GetValue(log), parseResult.GetValue(json), output);
        });
        return command;
    }

    private static int Load(CollectionSpec spec, CollectionOptions options, string? pinDirectory, bool fullLog, bool json, TextWriter output)
    {
        var failed = new List<(string Name, string Reason)>();
        while (true)
        {
            Collection collection;
            try
            {
                collection = Collection.Load(spec, options);
            }
            catch (VerifierException e) when (spec.Programs.TryGetValue(e.ProgramName, out ProgramSpec? rejected) && rejected.Autoload)
            {
                string reason = fullLog ? e.MessageWith("the whole log follows") : e.MessageWith("--log prints the whole verifier log");
                Console.Error.WriteLine($"{Name}: program '{e.ProgramName}' ({rejected.SectionName}) was rejected: {reason}");
                if (fullLog)
                {
                    Console.Error.WriteLine(e.Log);
                }
                failed.Add((e.ProgramName, reason));
                rejected.Autoload = false;
                continue;
            }
            catch (BpfException e)
            {
                Console.Error.WriteLine($"{Name}: {spec.Name}: {e.Message}");
                return 1;
            }
            using (collection)
            {
                if (pinDirectory is not null && collection.Programs.Count > 0)
                {
                    Directory.CreateDirectory(pinDirectory);
                    foreach ((string name, BpfSharp.Programs.Program program) in collection.Programs)
                    {
                        program.Pin(Path.Combine(pinDirectory, name));
                    }
                }
                if (json)
                {
                    WriteJson(spec, collection, pinDirectory, failed, output);
                }
                else
                {
                    foreach ((string name, BpfSharp.Programs.Program program) in collection.Programs)
                    {
                        ProgramSpec programSpec = spec.Programs[name];
                        output.WriteLine($"loaded {name} ({programSpec.SectionName}): {program.Type} program id {program.Id}" +
                            (pinDirectory is null ? "" : $", pinned at {Path.Combine(pinDirectory, name)}"));
                    }
                    foreach ((string name, _) in failed)
                    {
                        output.WriteLine($"failed {name} ({spec.Programs[name].SectionName})");
                    }
                }
            }
            return failed.Count == 0 ? 0 : 1;
        }
    }

    private static void WriteJson(CollectionSpec spec, Collection collection, string? pinDirectory, List<(string Name, string Reason)> failed, TextWriter output) =>
        JsonOutput.WriteDocument(output, writer =>
        {
            writer.WriteString("object", spec.Name);
            writer.WriteStartArray("loaded");
            foreach ((string name, BpfSharp.Programs.Program program) in collection.Programs)
            {
                writer.WriteStartObject();
                writer.WriteString("name", name);
                writer.WriteStringOrNull("section", spec.Programs[name].SectionName);
                writer.WriteString("type", UapiNames.Name(program.Type));
                writer.WriteNumber("id", program.Id);
                writer.WriteStringOrNull("pinned", pinDirectory is null ? null : Path.Combine(pinDirectory, name));
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteStartArray("failed");
            foreach ((string name, string reason) in failed)
            {
                writer.WriteStartObject();
                writer.WriteString("name", name);
                writer.WriteStringOrNull("section", spec.Programs[name].SectionName);
                writer.WriteString("reason", reason);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
        });
}
