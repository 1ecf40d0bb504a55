using System.CommandLine;
using BpfSharp.Btf;
using BpfSharp.Btf.Core;
using BpfSharp.Skeletons;
using BpfSharp.Specs;

namespace BpfSharp.Cli.Commands;

/// <summary>
/// <c>bpfsharp gen skeleton FILE.bpf.o</c>: the typed C# API of a BPF object (what <c>bpftool gen skeleton</c> writes
/// for C); BpfSharp.Build runs it for every <c>BpfSource</c> with <c>BpfGenerateSkeletons=true</c>.
/// <c>bpfsharp gen min_core_btf INPUT OUTPUT OBJECT...</c>: a kernel's BTF cut down to what the objects' CO-RE
/// relocations need, to ship for kernels without BTF.
/// </summary>
internal static class GenCommand
{
    internal static Command Create()
    {
        var command = new Command("gen", "Generate code from BPF objects");
        command.Subcommands.Add(CreateSkeleton());
        command.Subcommands.Add(CreateMinCoreBtf());
        return command;
    }

    private static Command CreateMinCoreBtf()
    {
        var input = new Argument<string>("input") { Description = "The kernel's whole BTF: a vmlinux BTF file such as /sys/kernel/btf/vmlinux, or an ELF with a .BTF section" };
        var output = new Argument<string>("output") { Description = "Where to write the minimal BTF (raw BTF, for CollectionOptions.CoreTarget = CoreTarget.FromFile or 'obj load --btf')" };
        var objects = new Argument<string[]>("objects") { Description = "The BPF objects whose CO-RE relocations must resolve", Arity = ArgumentArity.OneOrMore };
        var command = new Command("min_core_btf", "Write the smallest BTF of a kernel that the objects' CO-RE relocations resolve against as against the whole (bpftool gen min_core_btf)");
        command.Arguments.Add(input);
        command.Arguments.Add(output);
        command.Arguments.Add(objects);
        command.SetAction(parseResult =>
        {
            string inputPath = parseResult.GetValue(input)!;
            string outputPath = parseResult.GetValue(output)!;
            try
            {
                BtfSpec target = KernelBtf.Open(inputPath);
                byte[] minimal = MinimalCoreBtf.Build(target, (parseResult.GetValue(objects) ?? []).Select(CollectionSpec.Load).ToList());
                File.WriteAllBytes(outputPath, minimal);
                Console.Error.WriteLine($"{outputPath}: {BtfSpec.Parse(minimal).OwnTypeCount} types, {minimal.Length} bytes (from {target.OwnTypeCount} types, {target.RawData.Length} bytes)");
                return 0;
            }
            catch (Exception e) when (e is BpfObjectException or BtfException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"bpfsharp gen min_core_btf: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    private static Command CreateSkeleton()
    {
        var file = new Argument<string>("file") { Description = "The clang-compiled BPF object (*.bpf.o)" };
        var output = new Option<string?>("--output", "-o") { Description = "Write the C# source to this file instead of standard output" };
        var ns = new Option<string?>("--namespace", "-n") { Description = "The namespace of the generated class (default: none)" };
        var className = new Option<string?>("--class") { Description = "The class name (default: the object's name in Pascal case and 'Bpf': execsnoop.bpf.o gives ExecsnoopBpf)" };
        var makeInternal = new Option<bool>("--internal") { Description = "Make the generated types internal rather than public" };
        var types = new Option<string[]>("--type", "-t")
        {
            Description = "Also declare this C struct, union, enum or typedef in C# (repeatable); map keys and values, globals and the object's own types come by themselves",
            AllowMultipleArgumentsPerToken = false,
        };
        var resource = new Option<string?>("--from-resource") { Description = "Read the object from the manifest resource bpf/NAME.bpf.o of the skeleton's assembly (BpfEmbedObjects) instead of embedding its bytes" };
        var path = new Option<string?>("--from-file") { Description = "Read the object from this path (relative to the application's directory) instead of embedding its bytes" };
        var command = new Command("skeleton", "Write a typed C# skeleton of a BPF object: open, set .rodata, load, typed maps, programs and live globals, and the C structs it uses");
        command.Arguments.Add(file);
        command.Options.Add(output);
        command.Options.Add(ns);
        command.Options.Add(className);
        command.Options.Add(makeInternal);
        command.Options.Add(types);
        command.Options.Add(resource);
        command.Options.Add(path);
        command.SetAction(parseResult =>
        {
            string objectPath = parseResult.GetValue(file)!;
            string? resourceName = parseResult.GetValue(resource);
            string? filePath = parseResult.GetValue(path);
            if (resourceName is not null && filePath is not null)
            {
                Console.Error.WriteLine("bpfsharp gen skeleton: --from-resource and --from-file exclude each other");
                return 2;
            }
            var options = new SkeletonOptions
            {
                Namespace = parseResult.GetValue(ns), ClassName = parseResult.GetValue(className), Internal = parseResult.GetValue(makeInternal),
                Types = parseResult.GetValue(types) ?? [], ResourceName = resourceName, ObjectPath = filePath,
            };
            string source;
            try
            {
                source = SkeletonGenerator.Generate(objectPath, options);
            }
            catch (Exception e) when (e is BpfObjectException or BtfException or ArgumentException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"bpfsharp gen skeleton: {objectPath}: {e.Message}");
                return 1;
            }
            string? target = parseResult.GetValue(output);
            if (target is null)
            {
                Console.Out.Write(source);
                return 0;
            }
            try
            {
                // Written beside the target and renamed, so that a build never sees half a file.
                string temporary = target + ".tmp";
                File.WriteAllText(temporary, source);
                File.Move(temporary, target, overwrite: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"bpfsharp gen skeleton: cannot write {target}: {e.Message}");
                return 1;
            }
            return 0;
        });
        return command;
    }
}
