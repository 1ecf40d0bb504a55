using BpfSharp.Asm;

// PLACEHOLDER on feature/loader only, deleted when feature/core (the real CO-RE relocator) merges into main.
// It has the agreed signature so the loader compiles and calls the relocator where it must.
namespace BpfSharp.Btf.Core;

/// <summary>The BTF that CO-RE relocations resolve against.</summary>
public sealed class CoreTarget
{
    private CoreTarget(string? path)
    {
        Path = path;
    }

    /// <summary>The running kernel's BTF (vmlinux and module BTF).</summary>
    public static CoreTarget Running { get; } = new(null);

    /// <summary>The BTF file at <paramref name="path"/> (for kernels without /sys/kernel/btf/vmlinux).</summary>
    /// <param name="path">A raw BTF or ELF file with a .BTF section.</param>
    public static CoreTarget FromFile(string path) => new(path);

    /// <summary>The file, or null for the running kernel.</summary>
    public string? Path { get; }
}

/// <summary>What applying CO-RE relocations did.</summary>
public sealed class CoreRelocationReport
{
    /// <summary>How many relocations were applied.</summary>
    public int Applied { get; init; }
}

/// <summary>Applies CO-RE relocations (placeholder until feature/core lands).</summary>
public static class CoreRelocator
{
    /// <summary>Applies the CO-RE records of <paramref name="sectionName"/> to its instructions.</summary>
    /// <param name="sectionInstructions">The section's instructions, in section order.</param>
    /// <param name="sectionName">The ELF section.</param>
    /// <param name="localBtf">The object's BTF.</param>
    /// <param name="ext">The object's .BTF.ext.</param>
    /// <param name="target">The BTF to resolve against.</param>
    public static CoreRelocationReport Apply(List<Instruction> sectionInstructions, string sectionName, BtfSpec localBtf, BtfExt ext, CoreTarget target) =>
        throw new NotSupportedException($"section '{sectionName}' has CO-RE relocations, and this build has no CO-RE relocator yet (it arrives with feature/core)");
}
