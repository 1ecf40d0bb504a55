using System.Text;

namespace BpfSharp.Btf.Core;

/// <summary>
/// What one CO-RE relocation resolved to: the value the compiler assumed (from the object's BTF)
/// and the value for the target, or why the instruction is poisoned. Produced by
/// <see cref="CoreRelocator.Resolve(BtfSpec, BtfCoreRelocation, CoreTarget)"/> and, after patching,
/// by <see cref="CoreRelocator.Apply(List{BpfSharp.Asm.Instruction}, string, BtfSpec, BtfExt, CoreTarget)"/>.
/// </summary>
public sealed record CoreRelocationResult
{
    /// <summary>The relocation's position among its section's CO-RE records.</summary>
    public int RelocationIndex { get; init; }

    /// <summary>The relocated instruction, in 8-byte slots from the section start.</summary>
    public uint InstructionIndex { get; init; }

    /// <summary>What the relocation computes.</summary>
    public BtfCoreRelocationKind Kind { get; init; }

    /// <summary>The root type in the object's BTF.</summary>
    public int LocalTypeId { get; init; }

    /// <summary>The root type as C names it: <c>struct task_struct</c>.</summary>
    public string LocalType { get; init; } = "";

    /// <summary>The raw access string of the record: <c>0:1:2</c>.</summary>
    public string AccessString { get; init; } = "";

    /// <summary>The access spelled out: <c>struct task_struct.real_parent</c>, <c>enum pid_type::PIDTYPE_TGID</c>.</summary>
    public string LocalAccess { get; init; } = "";

    /// <summary>The value computed from the object's BTF: what the compiler put in the instruction.</summary>
    public ulong OriginalValue { get; init; }

    /// <summary>The value for the target (meaningless when <see cref="IsPoisoned"/>).</summary>
    public ulong NewValue { get; init; }

    /// <summary>Whether the instruction is (or will be) replaced by a call to the invalid helper <see cref="CoreRelocator.PoisonHelperId"/>.</summary>
    public bool IsPoisoned { get; init; }

    /// <summary>Why the relocation could not be resolved, when poisoned.</summary>
    public string? PoisonReason { get; init; }

    /// <summary>The matching target type id; 0 when none matched (or for a local type id relocation).</summary>
    public int TargetTypeId { get; init; }

    /// <summary>Where the matching target type is: <c>vmlinux</c> or a module name; null when none matched.</summary>
    public string? TargetSource { get; init; }

    /// <summary>The access path in the target's BTF (<c>0:62:1</c>), for field and enumerator relocations that matched.</summary>
    public string? TargetAccess { get; init; }

    /// <summary>How many target types with the local type's essential name and kind were considered.</summary>
    public int CandidateCount { get; init; }

    /// <summary>Byte size of the field in the object's BTF (field offset relocations of whole fields; else 0).</summary>
    public int OriginalSize { get; init; }

    /// <summary>Byte size of the field in the target (field offset relocations of whole fields; else 0).</summary>
    public int NewSize { get; init; }

    // Whether the instruction must hold OriginalValue before patching (off for bitfields and type ids).
    internal bool Validate { get; init; }

    // The field's size changed in a way a load or store cannot follow (signed integers, differing kinds).
    internal bool MemorySizeMismatch { get; init; }

    /// <summary>One line: index, instruction, kind, access, and the outcome.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append($"#{RelocationIndex} insn {InstructionIndex}: {CoreRelocator.KindName(Kind)} {LocalAccess} ({AccessString}): ");
        if (IsPoisoned)
        {
            text.Append($"poisoned: {PoisonReason}");
        }
        else
        {
            text.Append($"{OriginalValue} -> {NewValue}");
            if (NewSize != OriginalSize)
            {
                text.Append($" (size {OriginalSize} -> {NewSize})");
            }
            if (TargetTypeId != 0)
            {
                text.Append($" [{TargetSource} type {TargetTypeId}{(TargetAccess is null ? "" : " " + TargetAccess)}]");
            }
        }
        return text.ToString();
    }
}

/// <summary>The CO-RE relocations applied to one ELF section's instructions.</summary>
/// <param name="Section">The ELF section (<c>tracepoint/syscalls/sys_enter_getpid</c>, <c>.text</c>).</param>
/// <param name="Target">What the relocations were resolved against.</param>
/// <param name="Relocations">Each relocation's outcome, in record order.</param>
public sealed record CoreRelocationReport(string Section, string Target, IReadOnlyList<CoreRelocationResult> Relocations)
{
    /// <summary>How many instructions were poisoned.</summary>
    public int PoisonedCount => Relocations.Count(r => r.IsPoisoned);

    /// <summary>A header line and one line a relocation.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append($"section '{Section}': {Relocations.Count} CO-RE relocation(s) against {Target}, {PoisonedCount} poisoned");
        foreach (CoreRelocationResult result in Relocations)
        {
            text.Append('\n').Append("  ").Append(result);
        }
        return text.ToString();
    }
}
