using System.CommandLine;
using BpfSharp.Cli.Commands;
using BpfSharp.Cli.Tools;
using BpfSharp.Elf;
using BpfSharp.Specs;

namespace BpfSharp.Cli;

internal static class Program
{
    private static int Main(string[] args)
    {
        var root = new RootCommand("bpfsharp: eBPF tracing tools and inspection, in pure .NET");
        foreach (Command command in CommandCatalog.All())
        {
            root.Subcommands.Add(command);
        }
        try
        {
            return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (IsExplained(e))
        {
            // These carry the whole story in their message (what failed, the kernel's reason, what to do): no stack trace.
            Console.Out.Flush();
            Console.Error.WriteLine($"bpfsharp: error: {e.Message}");
            return 1;
        }
    }

    private static bool IsExplained(Exception e) =>
        e is ToolException or BpfException or BpfObjectException or ElfException or IOException or UnauthorizedAccessException;
}
