using System.Text.RegularExpressions;
using BpfSharp.Elf;
using BpfSharp.Maps;
using BpfSharp.Programs;
using BpfSharp.Specs;
using BpfSharp.Symbols;
using BpfSharp.Tracing;

namespace BpfSharp.Links;

/// <summary>
/// Attaches a program where its section name says (<c>tracepoint/syscalls/sys_enter_openat</c>,
/// <c>uprobe/libc.so.6:malloc</c>, <c>usdt/./app:myprov:tick</c>, <c>iter/task</c>, ...), the way a
/// libbpf skeleton's attach does. Sections whose hook needs more than the name tells (cgroups,
/// XDP, tc, sockets, netfilter, struct_ops), bare <c>kprobe</c>/<c>uprobe</c>/<c>usdt</c> sections
/// without a target and multi-function trampolines are not attached automatically: for them the result is
/// empty, and <see cref="WhyNotAttachable"/> says why.
/// </summary>
public static class AutoAttach
{
    /// <summary>The names of usdt.bpf.h's maps, which <see cref="Attach"/> fills for USDT programs.</summary>
    public const string UsdtSpecsMapName = "__bpf_usdt_specs", UsdtIpToSpecIdMapName = "__bpf_usdt_ip_to_spec_id";

    /// <summary>True when a program in <paramref name="sectionName"/> is attached by <see cref="Attach"/>; <see cref="WhyNotAttachable"/> says why not.</summary>
    public static bool CanAttach(string sectionName) => WhyNotAttachable(sectionName) is null;

    /// <summary>
    /// Why <see cref="Attach"/> leaves a program in <paramref name="sectionName"/> alone (its hook needs more than the
    /// name, the name has no target, or the kind has no attach support), or null when it attaches it.
    /// </summary>
    public static string? WhyNotAttachable(string sectionName)
    {
        ArgumentNullException.ThrowIfNull(sectionName);
        SectionDefinition? definition = ProgramSections.TryResolve(sectionName);
        if (definition is null)
        {
            return $"'{sectionName}' is not a BPF program section name";
        }
        switch (definition.AutoAttach)
        {
            case AutoAttachKind.None:
                return $"a {definition.ProgramType} program's hook needs more than its section name (a device, cgroup, socket, map or other target); attach it with its Link type";
            case AutoAttachKind.TrampolineMulti:
                // No kernel this version knows offers a link for one trampoline program on many functions.
                return "multi-function trampolines (fentry.multi, fexit.multi, fsession.multi) have no kernel link this version can create; load one fentry/fexit program per function and attach each with TracingLink";
            case AutoAttachKind.Trampoline or AutoAttachKind.Lsm or AutoAttachKind.Iterator:
                return null; // the target was given at load time
        }
        return definition.Target(sectionName).Length > 0
            ? null
            : $"section '{sectionName}' names no target ({definition.Pattern.TrimEnd('+')}/TARGET); attach it with its Link type";
    }

    /// <summary>Attaches <paramref name="program"/> as its section name says.</summary>
    /// <param name="program">The loaded program.</param>
    /// <param name="sectionName">Its ELF section name.</param>
    /// <param name="findMap">Finds a map of the program's object by name (for USDT, usdt.bpf.h's spec maps); null when there are none.</param>
    /// <returns>The links made: none for sections that are not attached automatically, one per CPU or site where the hook has several.</returns>
    /// <exception cref="BpfException">The section name is not a BPF section, its target is malformed, or attaching failed (with the kernel's reason).</exception>
    public static IReadOnlyList<Link> Attach(Program program, string sectionName, Func<string, Map?>? findMap = null)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentException.ThrowIfNullOrEmpty(sectionName);
        SectionDefinition definition = ProgramSections.Resolve(sectionName);
        if (!CanAttach(sectionName))
        {
            return [];
        }
        string target = definition.Target(sectionName);
        return definition.AutoAttach switch
        {
            AutoAttachKind.Tracepoint => [TracepointLink.Attach(program, target)],
            AutoAttachKind.RawTracepoint => [RawTracepointLink.Attach(program, target)],
            AutoAttachKind.Kprobe => [AttachKprobe(program, target, isReturn: false, sectionName)],
            AutoAttachKind.Kretprobe => [AttachKprobe(program, target, isReturn: true, sectionName)],
            AutoAttachKind.Ksyscall => [KprobeLink.Attach(program, KprobeLink.SyscallFunction(target))],
            AutoAttachKind.Kretsyscall => [KprobeLink.Attach(program, KprobeLink.SyscallFunction(target), isReturn: true)],
            AutoAttachKind.KprobeMulti => [KprobeMultiLink.Attach(program, KernelFunctions(target, sectionName))],
            AutoAttachKind.KretprobeMulti => [KprobeMultiLink.Attach(program, KernelFunctions(target, sectionName), isReturn: true)],
            AutoAttachKind.KprobeSession => [KprobeMultiLink.AttachSession(program, KernelFunctions(target, sectionName))],
            AutoAttachKind.Uprobe => [AttachUprobe(program, target, isReturn: false, sectionName)],
            AutoAttachKind.Uretprobe => [AttachUprobe(program, target, isReturn: true, sectionName)],
            AutoAttachKind.UprobeMulti => [AttachUprobeMulti(program, target, isReturn: false, sectionName)],
            AutoAttachKind.UretprobeMulti => [AttachUprobeMulti(program, target, isReturn: true, sectionName)],
            AutoAttachKind.UprobeSession => [AttachUprobeMulti(program, target, isReturn: false, sectionName, session: true)],
            AutoAttachKind.Usdt => [AttachUsdt(program, target, sectionName, findMap)],
            AutoAttachKind.Trampoline when definition.ExpectedAttachType == AttachType.TraceRawTp => [RawTracepointLink.Attach(program, null)],
            AutoAttachKind.Trampoline or AutoAttachKind.Lsm => [TracingLink.Attach(program, definition.ExpectedAttachType ?? AttachType.TraceFentry)],
            AutoAttachKind.Iterator => [IteratorLink.Attach(program)],
            _ => throw new BpfException($"section '{sectionName}' ({definition.AutoAttach}) cannot be attached automatically by this version; attach it with its Link type"),
        };
    }

    private static KprobeLink AttachKprobe(Program program, string target, bool isReturn, string sectionName)
    {
        (string function, ulong offset) = SplitOffset(target, sectionName);
        return KprobeLink.Attach(program, function, offset, isReturn);
    }

    private static UprobeLink AttachUprobe(Program program, string target, bool isReturn, string sectionName)
    {
        (string binary, string function) = SplitBinary(target, sectionName, "uprobe/BINARY:FUNCTION[+OFFSET]");
        (string name, ulong offset) = SplitOffset(function, sectionName);
        bool numeric = name.StartsWith("0x", StringComparison.OrdinalIgnoreCase);
        ulong fileOffset = numeric ? Convert.ToUInt64(name[2..], 16) + offset : offset;
        return UprobeLink.Attach(program, binary, numeric ? null : name, new UprobeOptions { IsReturn = isReturn, Offset = fileOffset });
    }

    private static UprobeMultiLink AttachUprobeMulti(Program program, string target, bool isReturn, string sectionName, bool session = false)
    {
        (string binary, string pattern) = SplitBinary(target, sectionName, session ? "uprobe.session/BINARY:PATTERN" : "uprobe.multi/BINARY:PATTERN");
        string path = SharedLibraries.Resolve(binary);
        Regex glob = Glob(pattern);
        var functions = new SortedSet<string>(StringComparer.Ordinal);
        using (ElfFile elf = ElfFile.Open(path))
        {
            foreach (ElfSymbolTable? table in new[] { elf.SymbolTable, elf.DynamicSymbolTable })
            {
                foreach (ElfSymbol symbol in table ?? Enumerable.Empty<ElfSymbol>())
                {
                    if (!symbol.IsUndefined && symbol.Value != 0 && symbol.Type == ElfSymbolType.Function && glob.IsMatch(symbol.Name))
                    {
                        functions.Add(symbol.Name);
                    }
                }
            }
        }
        if (functions.Count == 0)
        {
            throw new BpfException($"section '{sectionName}': no function in {path} matches '{pattern}'");
        }
        return session ? UprobeMultiLink.AttachSession(program, path, [.. functions]) : UprobeMultiLink.Attach(program, path, [.. functions], isReturn);
    }

    private static UsdtLink AttachUsdt(Program program, string target, string sectionName, Func<string, Map?>? findMap)
    {
        string[] parts = target.Split(':');
        if (parts.Length != 3 || parts.Any(p => p.Length == 0))
        {
            throw new BpfException($"section '{sectionName}' must be usdt/BINARY:PROVIDER:NAME");
        }
        return UsdtLink.Attach(program, parts[0], parts[1], parts[2], new UsdtOptions
        {
            SpecsMap = findMap?.Invoke(UsdtSpecsMapName),
            IpToSpecIdMap = findMap?.Invoke(UsdtIpToSpecIdMapName),
        });
    }

    /// <summary>Kernel functions matching a glob, from tracefs available_filter_functions (what can be probed), else kallsyms.</summary>
    private static List<string> KernelFunctions(string pattern, string sectionName)
    {
        if (!pattern.Contains('*') && !pattern.Contains('?'))
        {
            return [pattern];
        }
        Regex glob = Glob(pattern);
        IEnumerable<string> candidates;
        string? filterList = null;
        try
        {
            filterList = Path.Combine(Tracefs.Default.Root, "available_filter_functions");
        }
        catch (BpfException)
        {
        }
        candidates = filterList is not null && File.Exists(filterList)
            ? File.ReadLines(filterList).Select(line => line.Split(' ', 2)[0])
            : KernelSymbols.Current.Symbols.Where(s => s.IsFunction && s.Module is null).Select(s => s.Name);
        var functions = candidates.Where(name => glob.IsMatch(name)).Distinct().ToList();
        return functions.Count > 0 ? functions : throw new BpfException($"section '{sectionName}': no kernel function matches '{pattern}'");
    }

    private static (string Binary, string Location) SplitBinary(string target, string sectionName, string form)
    {
        int colon = target.LastIndexOf(':');
        if (colon <= 0 || colon == target.Length - 1)
        {
            throw new BpfException($"section '{sectionName}' must be {form}");
        }
        return (target[..colon], target[(colon + 1)..]);
    }

    private static (string Name, ulong Offset) SplitOffset(string target, string sectionName)
    {
        int plus = target.LastIndexOf('+');
        if (plus < 0)
        {
            return (target, 0);
        }
        string number = target[(plus + 1)..];
        bool hex = number.StartsWith("0x", StringComparison.OrdinalIgnoreCase);
        if (!ulong.TryParse(hex ? number[2..] : number, hex ? System.Globalization.NumberStyles.HexNumber : System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out ulong offset))
        {
            throw new BpfException($"section '{sectionName}': '{number}' is not an offset (decimal or 0x hex)");
        }
        return (target[..plus], offset);
    }

    private static Regex Glob(string pattern) =>
        new("^" + Regex.Escape(pattern).Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal) + "$", RegexOptions.CultureInvariant);
}
