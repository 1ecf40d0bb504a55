using System.Collections.Frozen;
using System.Runtime.InteropServices;

namespace BpfSharp.Symbols;

/// <summary>
/// The kernel's system call table: numbers and names per architecture, for naming what the
/// <c>raw_syscalls:sys_enter</c>/<c>sys_exit</c> tracepoints report (they carry only the number) and for
/// finding the number of a call by name. Generated from the kernel's UAPI headers and syscall tables by
/// eng/generate-syscalls.py; x86-64 and arm64 are known.
/// </summary>
/// <remarks>
/// A few calls have a kernel entry point named differently from the call (x86-64's <c>fstat</c> is
/// <c>sys_newfstat</c>, <c>umount2</c> is <c>sys_umount</c>): the kernel names the call's
/// <c>syscalls:sys_enter_*</c> tracepoint and its symbol after the entry point, so <see cref="Number(string)"/>
/// accepts both names and <see cref="EntryPoint(string)"/> maps one to the other.
/// </remarks>
public static partial class Syscalls
{
    private sealed class Table((int Number, string Name)[] calls, (string Name, string EntryPoint)[] entryPoints)
    {
        internal readonly FrozenDictionary<int, string> Names = calls.ToFrozenDictionary(c => c.Number, c => c.Name);
        internal readonly FrozenDictionary<string, int> Numbers = calls
            .Select(c => KeyValuePair.Create(c.Name, c.Number))
            .Concat(entryPoints.Select(e => KeyValuePair.Create(e.EntryPoint, calls.First(c => c.Name == e.Name).Number)))
            .ToFrozenDictionary(StringComparer.Ordinal);
        internal readonly FrozenDictionary<string, string> EntryPoints = entryPoints.ToFrozenDictionary(e => e.Name, e => e.EntryPoint, StringComparer.Ordinal);
        internal readonly IReadOnlyList<(int Number, string Name)> Calls = calls;
    }

    private static readonly Lazy<Table> X64 = new(() => new Table(X64Calls, X64EntryPoints));
    private static readonly Lazy<Table> Arm64 = new(() => new Table(Arm64Calls, Arm64EntryPoints));

    /// <summary>True when the table of <paramref name="architecture"/> is known (x86-64 and arm64).</summary>
    public static bool IsKnown(Architecture architecture) => architecture is Architecture.X64 or Architecture.Arm64;

    /// <summary>The name of system call <paramref name="number"/> on the running architecture, or null when the table has no such call.</summary>
    public static string? Name(int number) => Name(number, RuntimeInformation.ProcessArchitecture);

    /// <summary>The name of system call <paramref name="number"/> on <paramref name="architecture"/>, or null when its table has no such call (or it is not known).</summary>
    public static string? Name(int number, Architecture architecture) =>
        For(architecture) is Table table && table.Names.TryGetValue(number, out string? name) ? name : null;

    /// <summary>
    /// The number of the system call <paramref name="name"/> on the running architecture (<c>getppid</c>, or an entry
    /// point name such as <c>newfstat</c>, as tracepoints name calls), or null when the table has no such call.
    /// </summary>
    public static int? Number(string name) => Number(name, RuntimeInformation.ProcessArchitecture);

    /// <summary>The number of the system call <paramref name="name"/> on <paramref name="architecture"/>, or null.</summary>
    public static int? Number(string name, Architecture architecture)
    {
        ArgumentNullException.ThrowIfNull(name);
        return For(architecture) is Table table && table.Numbers.TryGetValue(name, out int number) ? number : null;
    }

    /// <summary>
    /// The kernel entry point name of call <paramref name="name"/> on the running architecture, without its <c>sys_</c>
    /// prefix: the name of its <c>syscalls:sys_enter_*</c> tracepoint (<c>newfstat</c> for <c>fstat</c>; usually the name itself).
    /// </summary>
    public static string EntryPoint(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return For(RuntimeInformation.ProcessArchitecture) is Table table && table.EntryPoints.TryGetValue(name, out string? entry) ? entry : name;
    }

    /// <summary>Every call of <paramref name="architecture"/>'s table (default: the running one), by number; empty when it is not known.</summary>
    public static IReadOnlyList<(int Number, string Name)> All(Architecture? architecture = null) =>
        For(architecture ?? RuntimeInformation.ProcessArchitecture)?.Calls ?? [];

    private static Table? For(Architecture architecture) => architecture switch
    {
        Architecture.X64 => X64.Value,
        Architecture.Arm64 => Arm64.Value,
        _ => null,
    };
}
