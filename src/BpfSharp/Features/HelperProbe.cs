using BpfSharp.Asm;
using BpfSharp.Programs;

namespace BpfSharp.Features;

/// <summary>
/// Probes whether a program type may call a helper: load <c>call helper; exit</c> and read the
/// verifier's answer. Any verifier complaint other than "unknown helper" means the helper exists
/// for the type (the probe's arguments are garbage, so most loads fail for that reason).
/// </summary>
internal static class HelperProbe
{
    // The verifier's words for a helper it does not offer: an id it does not know at all
    // ("invalid func", "unknown func" before 5.x) or one this program type may not call.
    private static readonly string[] UnavailableMessages = ["invalid func ", "unknown func ", "program of this type cannot use helper "];

    private static readonly LoadOptions WithLog = new() { CaptureLog = true, InitialLogSize = 4096 };

    /// <summary>Why helpers of <paramref name="type"/> cannot be probed, or null when they can.</summary>
    internal static FeatureResult? Limitation(ProgramType type)
    {
        FeatureResult programType = KernelSupport.ForProgramType(type);
        if (!programType.IsSupported)
        {
            return programType with { Detail = $"{type} programs are {programType.Status.ToString().ToLowerInvariant()} here: {programType.Detail}" };
        }
        if (type is ProgramType.StructOps or ProgramType.Ext)
        {
            // The type probe points these at a placeholder target, which the verifier rejects
            // before it looks at any call: no answer about helpers can come out of that.
            return FeatureResult.Failed($"helpers of {type} programs cannot be probed without a real attach target (a struct_ops type or a program to replace)");
        }
        return null;
    }

    internal static FeatureResult Probe(ProgramType type, HelperFunction helper)
    {
        if (Limitation(type) is FeatureResult limitation)
        {
            return limitation;
        }
        Instruction[] code =
        [
            new Instruction { OpCode = 0x85, Constant = (int)helper }, // call helper
            new Instruction { OpCode = 0x95 },                        // exit
        ];
        if (!ProgramTypeProbe.TryMinimalSpec(type, code, out ProgramSpec spec, out FeatureResult impossible))
        {
            return impossible;
        }
        try
        {
            using Program program = Program.Load(spec, WithLog);
            return FeatureResult.Supported();
        }
        catch (VerifierException error)
        {
            foreach (string message in UnavailableMessages)
            {
                if (error.Log.Contains(message, StringComparison.Ordinal))
                {
                    return FeatureResult.Unsupported(error.Problem);
                }
            }
            return FeatureResult.Supported($"available (the verifier accepted the call and rejected only the probe's placeholder code: {error.Problem})");
        }
        catch (BpfException error) when (error.Errno == Kernel.Errno.EPERM)
        {
            return ProgramTypeProbe.Refusal(error);
        }
    }
}
