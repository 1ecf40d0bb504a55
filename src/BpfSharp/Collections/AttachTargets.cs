using BpfSharp.Btf;
using BpfSharp.Kernel;
using BpfSharp.Programs;
using BpfSharp.Specs;

namespace BpfSharp.Collections;

/// <summary>
/// Finds the BTF id a BTF-attached program (tp_btf, fentry, fexit, fmod_ret, freplace, lsm, iter) is verified
/// against, from the target its section names, as libbpf does: <c>btf_trace_NAME</c> for raw tracepoints,
/// <c>bpf_lsm_NAME</c> for LSM hooks, <c>bpf_iter_NAME</c> for iterators, the function itself otherwise. The function
/// is looked up in vmlinux, in a module's BTF for <c>fentry/MODULE:FUNCTION</c> (whose BTF object then goes with the
/// load as attach_btf_obj_fd), or, when <see cref="ProgramSpec.AttachTarget"/> is a loaded program (freplace, and
/// fentry/fexit on a BPF program), in that program's BTF.
/// </summary>
internal static class AttachTargets
{
    /// <summary>Sets <see cref="ProgramSpec.AttachBtfId"/> (and, for module functions, <see cref="ProgramSpec.AttachTarget"/>) of a program about to load.</summary>
    /// <param name="spec">The program; changed in place.</param>
    /// <param name="moduleBtf">Opens a module's BTF object, for <c>MODULE:FUNCTION</c> targets.</param>
    /// <exception cref="BpfException">The target is missing or unknown; the message names what was looked for and where.</exception>
    public static void Resolve(ProgramSpec spec, Func<string, FileDescriptor> moduleBtf)
    {
        if (spec.AttachBtfId != 0 || spec.SectionName is null)
        {
            return;
        }
        SectionDefinition? definition = ProgramSections.TryResolve(spec.SectionName);
        if (definition is null || !definition.NeedsAttachBtfId)
        {
            return;
        }
        if (spec.AttachTarget is { } target)
        {
            ResolveInProgram(spec, target);
            return;
        }
        if (spec.Type == ProgramType.Ext)
        {
            throw new BpfException($"freplace program '{spec.Name}' needs the program whose function '{spec.AttachTo}' it replaces: " +
                "give it with CollectionOptions.SetAttachTarget (or ProgramSpec.AttachTarget) before loading");
        }
        if (spec.AttachTo.Length == 0)
        {
            throw new BpfException($"program '{spec.Name}' in section '{spec.SectionName}' names no attach target; write it as {definition.Pattern.TrimEnd('+', '/')}/TARGET");
        }
        (string name, BtfKind kind) = Lookup(spec, spec.AttachTo);
        string? module = null;
        int colon = spec.AttachTo.IndexOf(':');
        if (colon > 0 && spec.Type == ProgramType.Tracing && spec.ExpectedAttachType is not (AttachType.TraceRawTp or AttachType.TraceIter))
        {
            // fentry/MODULE:FUNCTION
            module = spec.AttachTo[..colon];
            name = spec.AttachTo[(colon + 1)..];
        }
        BtfSpec btf;
        try
        {
            btf = module is null ? KernelBtf.Vmlinux : KernelBtf.Module(module);
        }
        catch (BtfException e) when (module is not null)
        {
            throw new BpfException($"program '{spec.Name}' attaches to '{spec.AttachTo}', but module '{module}' is not loaded or has no BTF " +
                $"({KernelBtf.Directory}/{module}: {e.Message}); load the module (modprobe {module}) or attach to a function of vmlinux", e);
        }
        if (!btf.TryFindType(name, kind, out BtfType type) || module is not null && type.Id < btf.FirstTypeId)
        {
            throw new BpfException($"program '{spec.Name}' attaches to '{spec.AttachTo}', but {(module is null ? "vmlinux" : $"module '{module}'")} BTF has no " +
                $"{BtfSpec.KindName(kind)} '{name}'; check the name (bpfsharp btf dump can list them)");
        }
        spec.AttachBtfId = (uint)type.Id;
        if (module is not null)
        {
            // The id is the module's: the load names the module's BTF object (attach_btf_obj_fd).
            spec.AttachTarget = moduleBtf(module);
        }
    }

    /// <summary>What the program was resolved against, for error messages: <c>freplace of function 'f' (BTF id 7) in program 'p' (id 12)</c>; null for programs without a BTF target.</summary>
    public static string? Describe(ProgramSpec spec)
    {
        if (spec.AttachBtfId == 0)
        {
            return null;
        }
        string kind = spec.Type == ProgramType.Ext ? "freplace of" : spec.Type == ProgramType.StructOps ? "struct_ops member" : "attach target";
        string where = spec.AttachTarget is null ? "vmlinux" : spec.AttachTarget.Description;
        string what = spec.Type == ProgramType.StructOps ? $"{(uint?)spec.ExpectedAttachType} of struct BTF id {spec.AttachBtfId}" : $"'{spec.AttachTo}' (BTF id {spec.AttachBtfId})";
        return $"{kind} {what} in {where}";
    }

    private static unsafe void ResolveInProgram(ProgramSpec spec, FileDescriptor target)
    {
        BpfObjectKind kind = BpfObjectKinds.Of(target);
        if (kind != BpfObjectKind.Program)
        {
            throw new BpfException($"program '{spec.Name}' has an attach target descriptor that is a {kind.ToString().ToLowerInvariant()}, not a program; " +
                "for a kernel module's function set AttachBtfId to its id in the module's BTF as well");
        }
        if (spec.AttachTo.Length == 0)
        {
            throw new BpfException($"program '{spec.Name}' attaches to a function of {target.Description}, but names none; give the function in the section name or to SetAttachTarget");
        }
        var info = new ProgInfoLayout();
        Bpf.GetInfo(target, ref info);
        string targetName = $"program '{Bpf.ReadObjectName(info.Name)}' (id {info.Id})";
        if (info.BtfId == 0)
        {
            throw new BpfException($"program '{spec.Name}' attaches to function '{spec.AttachTo}' of {targetName}, which was loaded without BTF; " +
                "load the target with BTF (compile it with -g) so that its functions can be found");
        }
        using BtfObject btf = BtfObject.FromId(info.BtfId);
        BtfSpec functions = btf.ReadSpec();
        if (!functions.TryFindType(spec.AttachTo, BtfKind.Function, out BtfType function))
        {
            throw new BpfException($"program '{spec.Name}' attaches to function '{spec.AttachTo}' of {targetName}, whose BTF (id {info.BtfId}) has no function of that name");
        }
        if (spec.Type == ProgramType.Ext && function.FunctionLinkage != BtfFunctionLinkage.Global)
        {
            throw new BpfException($"freplace program '{spec.Name}' replaces function '{spec.AttachTo}' of {targetName}, which is {function.FunctionLinkage.ToString().ToLowerInvariant()}; " +
                "only global functions (not static, not inlined) can be replaced");
        }
        spec.AttachBtfId = (uint)function.Id;
    }

    private static (string Name, BtfKind Kind) Lookup(ProgramSpec spec, string target) => spec.Type switch
    {
        ProgramType.Tracing when spec.ExpectedAttachType == AttachType.TraceRawTp => ("btf_trace_" + target, BtfKind.Typedef),
        ProgramType.Tracing when spec.ExpectedAttachType == AttachType.TraceIter => ("bpf_iter_" + target, BtfKind.Function),
        ProgramType.Lsm => ("bpf_lsm_" + target, BtfKind.Function),
        _ => (target, BtfKind.Function),
    };
}
