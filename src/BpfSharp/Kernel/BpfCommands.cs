namespace BpfSharp.Kernel;

/// <summary>Names of bpf(2) commands as the kernel spells them (<c>BPF_MAP_CREATE</c>); the table is <see cref="UapiNames"/>'s.</summary>
public static class BpfCommands
{
    /// <summary>The UAPI name of a command: <c>BpfCommand.MapCreate</c> is <c>BPF_MAP_CREATE</c>.</summary>
    public static string Name(BpfCommand command) => UapiNames.Name(command);

    /// <summary>The command for a UAPI name, or null.</summary>
    public static BpfCommand? Parse(string name) => UapiNames.ParseCommand(name);
}
