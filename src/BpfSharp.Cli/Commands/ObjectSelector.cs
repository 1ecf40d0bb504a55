using BpfSharp.Cli.Tools;

namespace BpfSharp.Cli.Commands;

/// <summary>How <c>map dump</c> and <c>prog dump</c> pick one live object: by id, by a name only one object has, or by pin.</summary>
internal static class ObjectSelector
{
    /// <summary>Opens the object the options name; exactly one of <paramref name="id"/>, <paramref name="name"/> and <paramref name="pinned"/> is given.</summary>
    /// <param name="kind">"map" or "prog", as the commands and messages say it.</param>
    /// <param name="all">Every live object's id and name.</param>
    /// <param name="fromId">Opens by id.</param>
    /// <param name="fromPin">Opens a pin.</param>
    /// <exception cref="ToolException">Not exactly one selector, or the name matches no object or several.</exception>
    internal static T Open<T>(uint? id, string? name, string? pinned, string kind, Func<IEnumerable<(uint Id, string Name)>> all,
        Func<uint, T> fromId, Func<string, T> fromPin)
    {
        if ((id is null ? 0 : 1) + (name is null ? 0 : 1) + (pinned is null ? 0 : 1) != 1)
        {
            throw new ToolException($"give exactly one of --id, --name or --pinned (bpfsharp {kind} list shows ids and names)");
        }
        if (pinned is not null)
        {
            return fromPin(pinned);
        }
        if (name is not null)
        {
            uint[] matches = [.. all().Where(o => o.Name == name).Select(o => o.Id)];
            string what = kind == "prog" ? "program" : kind;
            id = matches.Length switch
            {
                1 => matches[0],
                0 => throw new ToolException($"no {what} is named '{name}' (bpfsharp {kind} list shows them)"),
                _ => throw new ToolException($"{matches.Length} {what}s are named '{name}' (ids {string.Join(", ", matches)}); give --id"),
            };
        }
        return fromId(id!.Value);
    }
}
