using BpfSharp.Btf;
using BpfSharp.Programs;
using BpfSharp.Specs;

namespace BpfSharp.Collections;

/// <summary>
/// Finds the kernel BTF id a BTF-attached program (tp_btf, fentry, fexit, fmod_ret, lsm, iter) is verified
/// against, from the target its section names, as libbpf does: <c>btf_trace_NAME</c> for raw tracepoints,
/// <c>bpf_lsm_NAME</c> for LSM hooks, <c>bpf_iter_NAME</c> for iterators, the function itself otherwise.
/// </summary>
internal static class AttachTargets
{
    public static void Resolve(ProgramSpec spec)
    {
        if (spec.AttachBtfId != 0 || spec.AttachTarget is not null || spec.SectionName is null)
        {
            return;
        }
        SectionDefinition? definition = ProgramSections.TryResolve(spec.SectionName);
        if (definition is null || !definition.NeedsAttachBtfId || spec.Type == ProgramType.Ext)
        {
            return;
        }
        if (spec.AttachTo.Length == 0)
        {
            throw new BpfException($"program '{spec.Name}' in section '{spec.SectionName}' names no attach target; write it as {definition.Pattern.TrimEnd('+', '/')}/TARGET");
        }
        (string name, BtfKind kind) = Lookup(spec);
        string target = name;
        string? module = null;
        int colon = spec.AttachTo.IndexOf(':');
        if (colon > 0 && spec.Type == ProgramType.Tracing)
        {
            // fentry/MODULE:FUNCTION
            module = spec.AttachTo[..colon];
            target = spec.AttachTo[(colon + 1)..];
        }
        BtfSpec btf = module is null ? KernelBtf.Vmlinux : KernelBtf.Module(module);
        if (!btf.TryFindType(target, kind, out BtfType type))
        {
            throw new BpfException($"program '{spec.Name}' attaches to '{spec.AttachTo}', but {(module ?? "vmlinux")} BTF has no {BtfSpec.KindName(kind)} '{target}'; check the name (bpfsharp btf dump can list them)");
        }
        spec.AttachBtfId = (uint)type.Id;
        if (module is not null)
        {
            throw new BpfException($"program '{spec.Name}' attaches to a function of module '{module}': module attach targets need the module's BTF object as the attach target, which this loader does not open; attach to a vmlinux function instead");
        }
    }

    private static (string Name, BtfKind Kind) Lookup(ProgramSpec spec) => spec.Type switch
    {
        ProgramType.Tracing when spec.ExpectedAttachType == AttachType.TraceRawTp => ("btf_trace_" + spec.AttachTo, BtfKind.Typedef),
        ProgramType.Tracing when spec.ExpectedAttachType == AttachType.TraceIter => ("bpf_iter_" + spec.AttachTo, BtfKind.Function),
        ProgramType.Lsm => ("bpf_lsm_" + spec.AttachTo, BtfKind.Function),
        _ => (spec.AttachTo, BtfKind.Function),
    };
}
