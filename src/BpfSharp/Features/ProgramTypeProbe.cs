using BpfSharp.Asm;
using BpfSharp.Kernel;
using BpfSharp.Programs;

namespace BpfSharp.Features;

/// <summary>Probes program types by loading <c>r0 = 0; exit</c> with what each type needs to be loadable.</summary>
internal static class ProgramTypeProbe
{
    internal static readonly Instruction[] ReturnZero =
    [
        new Instruction { OpCode = 0xb7, Dst = Register.R0, Constant = 0 }, // r0 = 0
        new Instruction { OpCode = 0x95 },                                  // exit
    ];

    // Kernel functions that exist whenever BPF is built in: net/bpf/test_run.c defines the
    // bpf_fentry_test* functions as fentry test targets; bpf_lsm_* are the LSM hook stubs.
    private static readonly string[] FentryTargets = ["bpf_fentry_test1", "bpf_modify_return_test", "bpf_prog_test_run_tracing"];
    private static readonly string[] LsmTargets = ["bpf_lsm_file_open", "bpf_lsm_bpf", "bpf_lsm_task_alloc"];

    internal static FeatureResult Probe(ProgramType type)
    {
        if (!TryMinimalSpec(type, ReturnZero, out ProgramSpec? spec, out FeatureResult? impossible))
        {
            return impossible;
        }
        return Classify(spec);
    }

    /// <summary>
    /// A loadable program of <paramref name="type"/> running <paramref name="code"/>: the expected
    /// attach type or attach target the kernel insists on for that type.
    /// </summary>
    internal static bool TryMinimalSpec(ProgramType type, Instruction[] code, out ProgramSpec spec, out FeatureResult impossible)
    {
        spec = new ProgramSpec { Name = "probe", Type = type, Instructions = code, License = "GPL" };
        impossible = FeatureResult.Failed("");
        switch (type)
        {
            case ProgramType.CgroupSock:
                spec.ExpectedAttachType = AttachType.CgroupInetSockCreate;
                break;
            case ProgramType.CgroupSockAddr:
                spec.ExpectedAttachType = AttachType.CgroupInet4Connect;
                break;
            case ProgramType.CgroupSockopt:
                spec.ExpectedAttachType = AttachType.CgroupGetSockopt;
                break;
            case ProgramType.SkLookup:
                spec.ExpectedAttachType = AttachType.SkLookup;
                break;
            case ProgramType.SkReuseport:
                spec.ExpectedAttachType = AttachType.SkReuseportSelect;
                break;
            case ProgramType.Netfilter:
                spec.ExpectedAttachType = AttachType.Netfilter;
                break;
            case ProgramType.Syscall:
                spec.Flags = ProgramFlags.Sleepable; // syscall programs must be sleepable
                break;
            case ProgramType.Tracing or ProgramType.Ext:
                if (!TryFindFunction(FentryTargets, out uint fentryTarget, out impossible))
                {
                    return false;
                }
                // freplace has no kernel target; pointing it at a kernel function makes a kernel
                // that knows the type say "Cannot replace kernel functions" in the log.
                spec.ExpectedAttachType = type == ProgramType.Tracing ? AttachType.TraceFentry : null;
                spec.AttachBtfId = fentryTarget;
                break;
            case ProgramType.Lsm:
                if (!TryFindFunction(LsmTargets, out uint lsmTarget, out impossible))
                {
                    return false;
                }
                spec.ExpectedAttachType = AttachType.LsmMac;
                spec.AttachBtfId = lsmTarget;
                break;
            case ProgramType.StructOps:
                // No struct_ops type has id 1; a kernel that knows struct_ops says so in the log.
                spec.AttachBtfId = 1;
                break;
        }
        return true;
    }

    /// <summary>Loads a probe program and reads the kernel's answer.</summary>
    internal static FeatureResult Classify(ProgramSpec spec)
    {
        try
        {
            using Program program = Program.Load(spec);
            return FeatureResult.Supported();
        }
        catch (VerifierException error)
        {
            // The verifier only runs for program types the kernel knows; what it objected to is
            // the probe's placeholder attach target.
            return FeatureResult.Supported($"known to the verifier ({error.Problem})");
        }
        catch (BpfException error) when (error.Errno == Errno.EPERM)
        {
            return Refusal(error);
        }
        catch (BpfException error) when (IsUnknownToKernel(error.Errno))
        {
            return FeatureResult.Unsupported($"{error.ErrnoName} from BPF_PROG_LOAD: the kernel does not know this program type or its attach kind");
        }
    }

    internal static FeatureResult Refusal(BpfException error) => Errors.IsRoot
        ? FeatureResult.Refused("EPERM although the process is root: the kernel refuses this kind here (lockdown, a security module, or its configuration)")
        : FeatureResult.Failed("EPERM: probing needs root (or CAP_BPF with CAP_PERFMON and CAP_NET_ADMIN)");

    internal static bool IsUnknownToKernel(Errno errno) =>
        errno is Errno.EINVAL or Errno.E2BIG or Errno.ENOTSUPP or Errno.EOPNOTSUPP;

    private static bool TryFindFunction(string[] names, out uint id, out FeatureResult impossible)
    {
        impossible = FeatureResult.Failed("");
        if (!File.Exists(VmlinuxFunctions.Path))
        {
            id = 0;
            impossible = FeatureResult.Unsupported($"needs kernel BTF to name an attach target, and {VmlinuxFunctions.Path} does not exist (CONFIG_DEBUG_INFO_BTF is off)");
            return false;
        }
        foreach (string name in names)
        {
            if (VmlinuxFunctions.FindId(name) is uint found)
            {
                id = found;
                return true;
            }
        }
        id = 0;
        impossible = FeatureResult.Failed($"found none of {string.Join(", ", names)} in the kernel BTF to use as an attach target");
        return false;
    }
}
