using BpfSharp.Btf.Core;
using BpfSharp.Maps;
using BpfSharp.Programs;

namespace BpfSharp.Collections;

/// <summary>How <see cref="Collection.Load(Specs.CollectionSpec, CollectionOptions)"/> turns a <see cref="Specs.CollectionSpec"/> into kernel objects.</summary>
public sealed class CollectionOptions
{
    private readonly Dictionary<string, Map> _replacements = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ProgramTarget> _attachTargets = new(StringComparer.Ordinal);

    /// <summary>
    /// The BTF that CO-RE relocations resolve against: <see cref="CoreTarget.Running"/> (the default) for the running
    /// kernel, or <see cref="CoreTarget.FromFile"/> for a kernel without /sys/kernel/btf/vmlinux.
    /// </summary>
    public CoreTarget CoreTarget { get; init; } = CoreTarget.Running;

    /// <summary>
    /// The bpffs directory where maps with <see cref="MapPinning.ByName"/> are pinned and looked for
    /// (libbpf's default: /sys/fs/bpf).
    /// </summary>
    public string PinPath { get; init; } = "/sys/fs/bpf";

    /// <summary>Verifier log options used for every program.</summary>
    public LoadOptions? ProgramOptions { get; init; }

    /// <summary>
    /// Values for <c>.kconfig</c> externs that take precedence over the running kernel's configuration (names such
    /// as <c>CONFIG_HZ</c> or <c>LINUX_KERNEL_VERSION</c>; values as a kernel .config writes them: y, m, n, numbers, "strings").
    /// </summary>
    public IReadOnlyDictionary<string, string>? KconfigOverrides { get; init; }

    /// <summary>The maps to use instead of creating the ones of the same name, set by <see cref="ReplaceMap"/>.</summary>
    public IReadOnlyDictionary<string, Map> MapReplacements => _replacements;

    /// <summary>
    /// Uses <paramref name="map"/> (an existing map, one opened with <see cref="Map.OpenPinned"/>, a map of another
    /// collection) in place of the object's map named <paramref name="name"/>; its type, key and value sizes must match.
    /// The collection does not close it.
    /// </summary>
    /// <param name="name">The map's name in the object.</param>
    /// <param name="map">The map to use.</param>
    /// <returns>These options, for chaining.</returns>
    public CollectionOptions ReplaceMap(string name, Map map)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(map);
        _replacements[name] = map;
        return this;
    }

    /// <summary>The BPF programs that programs of the object attach to, set by <see cref="SetAttachTarget"/>, by program name.</summary>
    public IReadOnlyDictionary<string, ProgramTarget> AttachTargets => _attachTargets;

    /// <summary>
    /// Loads the object's program named <paramref name="program"/> against a function of <paramref name="target"/>, a
    /// loaded BPF program: what <c>freplace/FUNCTION</c> programs need (the program whose global function they replace),
    /// and what lets <c>fentry/FUNCTION</c>, <c>fexit/FUNCTION</c> and <c>fmod_ret/FUNCTION</c> programs trace a BPF
    /// program's function instead of a kernel function. The function's BTF id is looked up in the target's BTF
    /// (libbpf's <c>bpf_program__set_attach_target</c>). The target must stay loaded while the collection loads.
    /// </summary>
    /// <param name="program">The program's name in the object.</param>
    /// <param name="target">The loaded program that has the function (it must have been loaded with BTF: compiled with -g).</param>
    /// <param name="function">The function's name; null keeps the one of the program's section (<c>freplace/FUNCTION</c>).</param>
    /// <returns>These options, for chaining.</returns>
    public CollectionOptions SetAttachTarget(string program, Program target, string? function = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(program);
        ArgumentNullException.ThrowIfNull(target);
        if (function is not null)
        {
            ArgumentException.ThrowIfNullOrEmpty(function);
        }
        _attachTargets[program] = new ProgramTarget(target, function);
        return this;
    }
}

/// <summary>A BPF program's function that another program attaches to (see <see cref="CollectionOptions.SetAttachTarget"/>).</summary>
/// <param name="Program">The loaded program that has the function.</param>
/// <param name="Function">The function's name, or null for the one the attaching program's section names.</param>
public readonly record struct ProgramTarget(Program Program, string? Function);
