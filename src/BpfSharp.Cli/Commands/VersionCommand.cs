using System.CommandLine;
using System.Reflection;

namespace BpfSharp.Cli.Commands;

/// <summary><c>bpfsharp version</c>: the tool's version and the running kernel's.</summary>
internal static class VersionCommand
{
    internal static Command Create()
    {
        var command = new Command("version", "Print the bpfsharp version and the running kernel release");
        command.SetAction(_ =>
        {
            string version = typeof(VersionCommand).Assembly
                .GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
            string kernel = File.Exists("/proc/sys/kernel/osrelease") ? File.ReadAllText("/proc/sys/kernel/osrelease").Trim() : "unknown";
            Console.WriteLine($"bpfsharp {version}");
            Console.WriteLine($"kernel {kernel}, {BpfSharp.Kernel.Cpus.PossibleCount} possible CPUs");
            return 0;
        });
        return command;
    }
}
