using System.CommandLine;

namespace BpfSharp.Cli.Commands;

/// <summary><c>bpfsharp obj</c>: inspect, disassemble and load clang-compiled BPF object files.</summary>
internal static class ObjCommand
{
    internal static Command Create()
    {
        var command = new Command("obj", "Inspect, disassemble and load BPF object files (*.bpf.o)");
        command.Subcommands.Add(ObjInfoCommand.Create());
        command.Subcommands.Add(ObjDisasmCommand.Create());
        command.Subcommands.Add(ObjLoadCommand.Create());
        return command;
    }
}
