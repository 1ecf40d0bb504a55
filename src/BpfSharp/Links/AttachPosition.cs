using BpfSharp.Programs;

namespace BpfSharp.Links;

/// <summary>
/// Where a program goes among the programs of a multi-program hook (tcx, and cgroups on Linux 6.16 and later; the
/// kernel's mprog API, BPF_F_BEFORE / BPF_F_AFTER): first, last, or next to a program or link already there. Programs on
/// such a hook run in order, and one that returns a verdict other than "next" ends the run, so the
/// position decides which programs see a packet.
/// </summary>
public sealed class AttachPosition
{
    internal const uint FlagBefore = 1 << 3, FlagAfter = 1 << 4, FlagId = 1 << 5, FlagLink = 1 << 13;

    private AttachPosition(uint flags, uint relativeId, string description)
    {
        Flags = flags;
        RelativeId = relativeId;
        Description = description;
    }

    /// <summary>The BPF_F_* flags for BPF_LINK_CREATE.</summary>
    internal uint Flags { get; }

    /// <summary>The id of the program or link the position is relative to, or 0.</summary>
    internal uint RelativeId { get; }

    /// <summary>Before every program on the hook.</summary>
    public static AttachPosition First { get; } = new(FlagBefore, 0, "first");

    /// <summary>After every program on the hook (where a link goes without a position).</summary>
    public static AttachPosition Last { get; } = new(FlagAfter, 0, "last");

    /// <summary>Just before <paramref name="program"/>, which must be on the hook.</summary>
    public static AttachPosition Before(Program program) => Relative(FlagBefore, program);

    /// <summary>Just after <paramref name="program"/>, which must be on the hook.</summary>
    public static AttachPosition After(Program program) => Relative(FlagAfter, program);

    /// <summary>Just before the program of <paramref name="link"/>, which must be on the hook.</summary>
    public static AttachPosition Before(Link link) => Relative(FlagBefore, link);

    /// <summary>Just after the program of <paramref name="link"/>, which must be on the hook.</summary>
    public static AttachPosition After(Link link) => Relative(FlagAfter, link);

    private static AttachPosition Relative(uint flag, Program program)
    {
        ArgumentNullException.ThrowIfNull(program);
        return new(flag | FlagId, program.Id, $"{(flag == FlagBefore ? "before" : "after")} {program}");
    }

    private static AttachPosition Relative(uint flag, Link link)
    {
        ArgumentNullException.ThrowIfNull(link);
        if (!link.IsBpfLink)
        {
            throw new ArgumentException($"{link.Description} is not a BPF link, so no multi-program hook can place a program next to it", nameof(link));
        }
        return new(flag | FlagId | FlagLink, link.Id, $"{(flag == FlagBefore ? "before" : "after")} {link.Description}");
    }

    /// <summary>True when the position names a program (by id) rather than a link or an end of the list.</summary>
    internal bool IsRelativeToProgram => (Flags & FlagId) != 0 && (Flags & FlagLink) == 0;

    /// <summary>A description, such as <c>before program 'count'</c>.</summary>
    internal string Description { get; }

    /// <inheritdoc />
    public override string ToString() => Description;
}

/// <summary>
/// Where a link goes among the other programs of a multi-program hook (tcx, and cgroups on Linux 6.16 and later: the
/// kernel's mprog API).
/// </summary>
public sealed record MultiAttachOptions
{
    /// <summary>First, last, or next to a program or link on the hook; null for the end of the list.</summary>
    public AttachPosition? Position { get; init; }

    /// <summary>
    /// Attach only if the hook's revision (it starts at 1 and grows by one with every attach and detach) is still
    /// this, so a decision made from a view of the hook is not applied to a changed one; 0 for any revision.
    /// </summary>
    public ulong ExpectedRevision { get; init; }
}
