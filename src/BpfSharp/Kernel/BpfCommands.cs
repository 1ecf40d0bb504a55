namespace BpfSharp.Kernel;

/// <summary>Names of bpf(2) commands as the kernel spells them (<c>BPF_MAP_CREATE</c>).</summary>
public static class BpfCommands
{
    private static readonly Dictionary<BpfCommand, string> Names = BuildNames();
    private static readonly Dictionary<string, BpfCommand> ByName =
        Names.ToDictionary(pair => pair.Value, pair => pair.Key, StringComparer.Ordinal);

    /// <summary>The UAPI name of a command: <c>BpfCommand.MapCreate</c> is <c>BPF_MAP_CREATE</c>.</summary>
    public static string Name(BpfCommand command) =>
        Names.TryGetValue(command, out string? name) ? name : $"BPF_CMD_{(int)command}";

    /// <summary>The command for a UAPI name, or null.</summary>
    public static BpfCommand? Parse(string name) => ByName.TryGetValue(name, out BpfCommand command) ? command : null;

    private static Dictionary<BpfCommand, string> BuildNames()
    {
        var names = new Dictionary<BpfCommand, string>();
        foreach (BpfCommand command in Enum.GetValues<BpfCommand>())
        {
            // PascalCase back to the C name: MapCreate -> BPF_MAP_CREATE, ObjGetInfoByFd -> BPF_OBJ_GET_INFO_BY_FD.
            var text = new System.Text.StringBuilder("BPF");
            foreach (char c in command.ToString())
            {
                if (char.IsUpper(c) || char.IsDigit(c) && text[^1] != '_' && !char.IsDigit(text[^1]))
                {
                    text.Append('_');
                }
                text.Append(char.ToUpperInvariant(c));
            }
            names.TryAdd(command, text.ToString());
        }
        return names;
    }
}
