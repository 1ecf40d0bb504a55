using BpfSharp.Asm;
using BpfSharp.Btf;
using BpfSharp.Programs;

namespace BpfSharp.Specs;

/// <summary>
/// One function of an object's code section: a program entry point or a subprogram. Its instructions refer to
/// other functions by label (<see cref="Instruction.Reference"/>), to maps by name, and keep the BTF function and
/// line records of the object so that linking can hand them to the kernel.
/// </summary>
internal sealed class ObjectFunction
{
    public required string Name { get; init; }

    /// <summary>The label calls use: the name, or section-qualified when two static functions share a name.</summary>
    public required string Label { get; set; }

    public required string SectionName { get; init; }

    /// <summary>The first slot of the function in its section.</summary>
    public required int StartSlot { get; init; }

    /// <summary>
    /// A global or weak function with hidden or internal visibility (<c>__hidden</c>, as usdt.bpf.h's helpers are):
    /// like libbpf, the loader marks its BTF static, so the verifier checks it in each caller's context rather than
    /// alone against its declared argument types.
    /// </summary>
    public bool IsHiddenGlobal { get; init; }

    /// <summary>The program whose entry this function is, or <see langword="null"/> for a subprogram.</summary>
    public ProgramSpec? Program { get; set; }

    /// <summary>The instructions of a subprogram (a program keeps its own in <see cref="ProgramSpec.Instructions"/>).</summary>
    public List<Instruction> Code { get; set; } = [];

    /// <summary>The BTF FUNC type id from .BTF.ext func_info, 0 without.</summary>
    public int FunctionTypeId { get; set; }

    /// <summary>Line records, their instruction index made relative to the function's first slot.</summary>
    public List<BtfLineInfo> Lines { get; } = [];

    public IReadOnlyList<Instruction> Instructions => Program?.Instructions ?? Code;

    public override string ToString() => $"{(Program is null ? "subprogram" : "program")} '{Name}' in {SectionName}";
}
