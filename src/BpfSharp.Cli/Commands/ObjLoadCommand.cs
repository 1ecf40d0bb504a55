using System.CommandLine;
using BpfSharp.Collections;
using BpfSharp.Programs;
using BpfSharp.Specs;

namespace BpfSharp.Cli.Commands;

/// <summary>
/// <c>bpfsharp obj load FILE [--pin DIR]</c>: loads every program of an object, like <c>bpftool prog loadall</c>,
/// and says which loaded and why the others did not (the verifier's reason and the C source line). Programs the
/// kernel rejects are left out one by one so that the rest can be checked too; the exit status is non-zero when
/// anything failed. With <c>--pin</c>, the loaded programs are pinned as DIR/NAME.
/// </summary>
internal static class ObjLoadCommand
{
    private const string Name = "bpfsharp obj load";

    internal static Command Create()
    {
        var file = new Argument<string>("object") { Description = "A BPF object file compiled by clang (-target bpf)" };
        var pin = new Option<string?>("--pin") { Description = "Pin each loaded program as DIR/NAME in this bpffs directory (created if missing)" };
        var log = new Option<bool>("--log") { Description = "Print the whole verifier log of a rejected program, not only its reason" };
        var command = new Command("load", "Load every program of a BPF object (like bpftool prog loadall) and report what loaded");
        command.Arguments.Add(file);
        command.Options.Add(pin);
        command.Options.Add(log);
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
            return Load(spec, parseResult.GetValue(pin), parseResult.GetValue(log), output);
        });
        return command;
    }

    private static int Load(CollectionSpec spec, string? pinDirectory, bool fullLog, TextWriter output)
    {
        var failed = new List<string>();
        while (true)
        {
            Collection collection;
            try
            {
                collection = Collection.Load(spec);
            }
            catch (VerifierException e) when (spec.Programs.TryGetValue(e.ProgramName, out ProgramSpec? rejected) && rejected.Autoload)
            {
                Console.Error.WriteLine($"{Name}: program '{e.ProgramName}' ({rejected.SectionName}) was rejected: {e.Message}");
                if (fullLog)
                {
                    Console.Error.WriteLine(e.Log);
                }
                failed.Add(e.ProgramName);
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
                foreach ((string name, BpfSharp.Programs.Program program) in collection.Programs)
                {
                    ProgramSpec programSpec = spec.Programs[name];
                    output.WriteLine($"loaded {name} ({programSpec.SectionName}): {program.Type} program id {program.Id}" +
                        (pinDirectory is null ? "" : $", pinned at {Path.Combine(pinDirectory, name)}"));
                }
                foreach (string name in failed)
                {
                    output.WriteLine($"failed {name} ({spec.Programs[name].SectionName})");
                }
            }
            return failed.Count == 0 ? 0 : 1;
        }
    }
}
