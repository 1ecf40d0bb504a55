using BpfSharp.Programs;

namespace BpfSharp.Specs;

/// <summary>How a program found in a section is attached automatically (what a libbpf skeleton's attach does).</summary>
public enum AutoAttachKind
{
    /// <summary>Not attached automatically: the caller attaches it (cgroups, sockets, tc, netfilter, ...).</summary>
    None,
    /// <summary>kprobe/FUNCTION[+OFFSET].</summary>
    Kprobe,
    /// <summary>kretprobe/FUNCTION.</summary>
    Kretprobe,
    /// <summary>kprobe.multi/PATTERN.</summary>
    KprobeMulti,
    /// <summary>kretprobe.multi/PATTERN.</summary>
    KretprobeMulti,
    /// <summary>kprobe.session/PATTERN.</summary>
    KprobeSession,
    /// <summary>ksyscall/NAME: a kprobe on the architecture's syscall entry function.</summary>
    Ksyscall,
    /// <summary>kretsyscall/NAME.</summary>
    Kretsyscall,
    /// <summary>uprobe/BINARY:FUNCTION[+OFFSET].</summary>
    Uprobe,
    /// <summary>uretprobe/BINARY:FUNCTION.</summary>
    Uretprobe,
    /// <summary>uprobe.multi/BINARY:PATTERN.</summary>
    UprobeMulti,
    /// <summary>uretprobe.multi/BINARY:PATTERN.</summary>
    UretprobeMulti,
    /// <summary>uprobe.session/BINARY:PATTERN.</summary>
    UprobeSession,
    /// <summary>usdt/BINARY:PROVIDER:NAME.</summary>
    Usdt,
    /// <summary>tracepoint/SYSTEM/NAME or tp/SYSTEM/NAME.</summary>
    Tracepoint,
    /// <summary>raw_tracepoint/NAME or raw_tp/NAME.</summary>
    RawTracepoint,
    /// <summary>tp_btf, fentry, fexit, fmod_ret, fsession, freplace: a BPF trampoline on a BTF-described target.</summary>
    Trampoline,
    /// <summary>fentry.multi, fexit.multi, fsession.multi.</summary>
    TrampolineMulti,
    /// <summary>lsm/HOOK.</summary>
    Lsm,
    /// <summary>iter/TARGET: attached as an iterator link.</summary>
    Iterator,
}

/// <summary>Extra properties a section name gives its program.</summary>
[Flags]
public enum SectionTraits
{
    /// <summary>None.</summary>
    None = 0,
    /// <summary>The expected attach type may be dropped on kernels that do not know it.</summary>
    AttachTypeOptional = 1,
    /// <summary>Attached with BPF_PROG_ATTACH / BPF_LINK_CREATE using the expected attach type (cgroups, sockmaps, ...).</summary>
    Attachable = 2,
    /// <summary>The section names a kernel function or hook whose BTF id the program needs at load time.</summary>
    AttachByBtf = 4,
    /// <summary>The program is sleepable (BPF_F_SLEEPABLE).</summary>
    Sleepable = 8,
    /// <summary>An XDP program that handles multi-buffer packets (BPF_F_XDP_HAS_FRAGS).</summary>
    XdpFrags = 16,
    /// <summary>A USDT program: its arguments come through the USDT spec maps.</summary>
    Usdt = 32,
}

/// <summary>What a program section name means: its program type, expected attach type and how it attaches.</summary>
/// <param name="Pattern">The table entry that matched, such as <c>tracepoint+</c> or <c>cgroup/connect4</c>.</param>
/// <param name="ProgramType">The program type.</param>
/// <param name="ExpectedAttachType">The expected attach type given to the kernel at load time, or null.</param>
/// <param name="Traits">Sleepable, XDP frags, attach by BTF, ...</param>
/// <param name="AutoAttach">How auto-attach attaches it.</param>
public sealed record SectionDefinition(
    string Pattern,
    ProgramType ProgramType,
    AttachType? ExpectedAttachType,
    SectionTraits Traits,
    AutoAttachKind AutoAttach)
{
    /// <summary>True when the program must be loaded with BPF_F_SLEEPABLE.</summary>
    public bool IsSleepable => Traits.HasFlag(SectionTraits.Sleepable);

    /// <summary>True when the kernel needs the attach target's BTF id at load time.</summary>
    public bool NeedsAttachBtfId => Traits.HasFlag(SectionTraits.AttachByBtf);

    /// <summary>
    /// True when <paramref name="sectionName"/> is this definition's: <c>type/</c> patterns need a
    /// suffix after the slash, <c>type+</c> patterns take the bare name or <c>type/anything</c>,
    /// other patterns only the exact name (libbpf 1.x rules).
    /// </summary>
    public bool Matches(string sectionName)
    {
        if (Pattern.EndsWith('/'))
        {
            return sectionName.StartsWith(Pattern, StringComparison.Ordinal);
        }
        if (Pattern.EndsWith('+'))
        {
            ReadOnlySpan<char> prefix = Pattern.AsSpan(0, Pattern.Length - 1);
            return sectionName.AsSpan().StartsWith(prefix, StringComparison.Ordinal)
                && (sectionName.Length == prefix.Length || sectionName[prefix.Length] == '/');
        }
        return sectionName == Pattern;
    }

    /// <summary>
    /// The attach target a section name carries after its type: <c>syscalls/sys_enter_execve</c>
    /// for <c>tracepoint/syscalls/sys_enter_execve</c>; empty when there is none.
    /// </summary>
    public string Target(string sectionName)
    {
        string prefix = Pattern.TrimEnd('+', '/');
        return sectionName.Length > prefix.Length + 1 && sectionName.StartsWith(prefix, StringComparison.Ordinal) && sectionName[prefix.Length] == '/'
            ? sectionName[(prefix.Length + 1)..]
            : "";
    }
}
