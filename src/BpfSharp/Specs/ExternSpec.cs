using BpfSharp.Btf;

namespace BpfSharp.Specs;

/// <summary>Where the value of an <c>extern</c> declared in a BPF object comes from.</summary>
public enum ExternKind
{
    /// <summary>A <c>__kconfig</c> extern (section <c>.kconfig</c>): a kernel configuration value or one of libbpf's <c>LINUX_*</c> values.</summary>
    Kconfig,

    /// <summary>A <c>__ksym</c> extern (section <c>.ksyms</c>): a kernel variable (by address or BTF id) or a kfunc.</summary>
    Ksym,
}

/// <summary>
/// An <c>extern</c> of a BPF object, resolved when the collection loads: <c>.kconfig</c> values are laid out in the
/// read-only <c>.kconfig</c> map, <c>.ksyms</c> variables and functions are resolved against the running kernel.
/// </summary>
public sealed class ExternSpec
{
    internal ExternSpec(string name, ExternKind kind, bool isWeak, bool isFunction, BtfType? type)
    {
        Name = name;
        Kind = kind;
        IsWeak = isWeak;
        IsFunction = isFunction;
        Type = type;
    }

    /// <summary>The extern's name (<c>CONFIG_HZ</c>, <c>bpf_task_acquire</c>, ...).</summary>
    public string Name { get; }

    /// <summary>Whether it is a kconfig value or a kernel symbol.</summary>
    public ExternKind Kind { get; }

    /// <summary>Whether it is declared <c>__weak</c>: a value the kernel lacks becomes zero instead of failing the load.</summary>
    public bool IsWeak { get; }

    /// <summary>Whether it is a kernel function (a kfunc called from BPF).</summary>
    public bool IsFunction { get; }

    /// <summary>
    /// Its type in the object's BTF with modifiers and typedefs skipped (the value type of a kconfig extern, the variable
    /// type of a typed ksym, the prototype's FUNC of a kfunc); <see langword="null"/> without BTF. A ksym of type
    /// <c>void</c> (an untyped ksym) resolves to an address from /proc/kallsyms.
    /// </summary>
    public BtfType? Type { get; }

    /// <summary>For a kconfig extern: its byte offset in the <c>.kconfig</c> map.</summary>
    public uint Offset { get; internal set; }

    /// <summary>For a kconfig extern: its size in bytes.</summary>
    public uint Size { get; internal set; }

    /// <summary>For a kconfig extern: its alignment in bytes.</summary>
    internal uint Alignment { get; set; }

    /// <inheritdoc />
    public override string ToString() => $"{(IsWeak ? "weak " : "")}{(Kind == ExternKind.Kconfig ? "kconfig" : IsFunction ? "kfunc" : "ksym")} extern '{Name}'";
}
