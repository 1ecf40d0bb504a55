using System.CommandLine;
using BpfSharp.Btf;

namespace BpfSharp.Cli.Commands;

/// <summary>
/// <c>bpfsharp btf dump [FILE | file FILE | id N] --format c|raw</c> and <c>bpfsharp btf list</c>:
/// bpftool's BTF inspection.
/// </summary>
internal static class BtfCommand
{
    internal static Command Create()
    {
        var command = new Command("btf", "Inspect BTF: dump it as C (vmlinux.h) or raw, list BTF objects loaded in the kernel");
        command.Subcommands.Add(CreateDump());
        command.Subcommands.Add(CreateList());
        return command;
    }

    private static Command CreateDump()
    {
        var source = new Argument<string[]>("source")
        {
            Description = "A BTF file: raw BTF or an ELF object with a .BTF section (default /sys/kernel/btf/vmlinux; /sys/kernel/btf/MODULE is read on top of vmlinux), 'file PATH', or 'id N' for a BTF object loaded in the kernel",
            Arity = new ArgumentArity(0, 2),
        };
        var format = new Option<string>("--format")
        {
            Description = "c: a header clang compiles (vmlinux.h); raw: one line a type, as bpftool's raw format",
            DefaultValueFactory = _ => "raw",
        };
        format.AcceptOnlyFromAmong("c", "raw");
        var output = new Option<string?>("--output", "-o") { Description = "Write to this file instead of standard output" };
        var command = new Command("dump", "Dump BTF as C or in raw form");
        command.Arguments.Add(source);
        command.Options.Add(format);
        command.Options.Add(output);
        command.SetAction(parseResult =>
        {
            BtfSpec spec;
            try
            {
                spec = Open(parseResult.GetValue(source) ?? []);
            }
            catch (Exception e) when (e is BpfException or ArgumentException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"bpfsharp btf dump: {e.Message}");
                return 1;
            }
            string? path = parseResult.GetValue(output);
            using Stream stream = path is null ? Console.OpenStandardOutput() : File.Create(path);
            try
            {
                if (parseResult.GetValue(format) == "c")
                {
                    BtfCWriter.WriteHeader(spec, stream);
                }
                else
                {
                    using var writer = new StreamWriter(stream, bufferSize: 1 << 16) { NewLine = "\n" };
                    BtfRawWriter.Write(spec, writer);
                }
            }
            catch (BtfException e)
            {
                Console.Error.WriteLine($"bpfsharp btf dump: {e.Message}");
                return 1;
            }
            return 0;
        });
        return command;
    }

    private static BtfSpec Open(string[] source)
    {
        switch (source)
        {
            case []:
                return KernelBtf.Vmlinux;
            case ["id", string text]:
                if (!uint.TryParse(text, out uint id) || id == 0)
                {
                    throw new ArgumentException($"'{text}' is not a BTF object id (a positive number; see 'bpfsharp btf list')");
                }
                using (BtfObject btf = BtfObject.FromId(id))
                {
                    return btf.ReadSpec();
                }
            case ["file", string path]:
                return KernelBtf.Open(path);
            case [string path]:
                return KernelBtf.Open(path);
            default:
                throw new ArgumentException($"expected FILE, 'file FILE' or 'id N', not '{string.Join(' ', source)}'");
        }
    }

    private static Command CreateList()
    {
        var command = new Command("list", "List the BTF objects loaded in the kernel");
        command.SetAction(_ =>
        {
            try
            {
                foreach (uint id in BtfObject.AllIds())
                {
                    BtfObjectInfo info;
                    try
                    {
                        using BtfObject btf = BtfObject.FromId(id);
                        info = btf.GetInfo();
                    }
                    catch (BpfException e) when (e.Errno == BpfSharp.Kernel.Errno.ENOENT)
                    {
                        continue; // freed between listing and opening
                    }
                    string name = info.Name.Length > 0 ? $"name {info.Name}  " : "";
                    Console.WriteLine($"{info.Id}: {name}size {info.Size}B{(info.IsKernel ? "  kernel" : "")}");
                }
            }
            catch (BpfException e)
            {
                Console.Error.WriteLine($"bpfsharp btf list: {e.Message}");
                return 1;
            }
            return 0;
        });
        return command;
    }
}
