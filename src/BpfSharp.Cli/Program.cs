using System.CommandLine;
using BpfSharp.Cli.Commands;

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
        return root.Parse(args).Invoke();
    }
}
