using BpfSharp.Btf;
using BpfSharp.Btf.Core;
using BpfSharp.Collections;
using BpfSharp.Programs;
using BpfSharp.Specs;

namespace BpfSharp.Tests.Collections;

/// <summary>
/// A CO-RE relocation the kernel's BTF cannot satisfy poisons its instruction; a program that reaches it is
/// rejected, and the error names the relocation and why it failed, not only the verifier's "unknown func".
/// </summary>
[Trait("Category", "Kernel")]
public class UnresolvedCoreRelocationTests
{
    [KernelFact]
    public void ARejectedProgramNamesTheRelocationItReachedAndWhy()
    {
        // core_bitfields reads a struct flags that exists in its own BTF only: against vmlinux every relocation fails.
        CollectionSpec spec = CollectionSpec.Load(TestPrograms.Path("core_bitfields"));

        VerifierException error = Assert.Throws<VerifierException>(() => Collection.Load(spec).Dispose());

        CoreRelocationResult relocation = Assert.IsType<CoreRelocationResult>(error.UnresolvedCoreRelocation);
        Assert.True(relocation.IsPoisoned);
        Assert.Equal(0, relocation.RelocationIndex); // the first read, run->lo, is the first relocation reached
        Assert.Equal(BtfCoreRelocationKind.FieldByteOffset, relocation.Kind);
        Assert.Equal("struct flags.lo", relocation.LocalAccess);
        Assert.Contains("no STRUCT named 'flags'", relocation.PoisonReason);
        Assert.Contains("BPF_CORE_READ_BITFIELD_PROBED(f, lo)", error.SourceLine?.Text);
        Assert.Contains("CO-RE relocation #0 (byte_off of struct flags.lo)", error.Message);
        Assert.Contains("could not be resolved against the target kernel's BTF", error.Message);
        Assert.Contains("bpf_core_field_exists", error.Message);
        Assert.Contains("unknown#195896080", error.Log);
    }

    [KernelFact]
    public void AgainstABtfWithoutTheKernelTypesEveryFunctionKeepsItsCodeAndTheFirstReachedRelocationIsNamed()
    {
        // core_task's 64-bit immediate relocations (enum values) become two one-slot calls each when poisoned; the
        // functions after them must still end where they ended (a shifted split cut the last exit off).
        CollectionSpec spec = CollectionSpec.Load(TestPrograms.Path("core_task"));
        var options = new CollectionOptions { CoreTarget = CoreTarget.FromFile(TestPrograms.Path("minimal")) };

        VerifierException error = Assert.Throws<VerifierException>(() => Collection.Load(spec, options).Dispose());

        CoreRelocationResult relocation = Assert.IsType<CoreRelocationResult>(error.UnresolvedCoreRelocation);
        Assert.Equal("struct task_struct.pid", relocation.LocalAccess);
        Assert.Contains("has no STRUCT named 'task_struct'", relocation.PoisonReason);
        Assert.DoesNotContain("last insn", error.Message);
    }

    [KernelFact]
    public void ObjLoadResolvesAgainstTheBtfFileItIsGiven()
    {
        string tool = BpfSharp.Tests.Tools.ToolProcess.Executable;
        string core = TestPrograms.Path("core_task");

        (int exit, string output, string error) = ExternalTool.Execute(tool, "obj", "load", core, "--btf", "/sys/kernel/btf/vmlinux");
        Assert.True(exit == 0, error);
        Assert.Contains("loaded core_task (syscall)", output);

        (exit, output, error) = ExternalTool.Execute(tool, "obj", "load", core, "--btf", TestPrograms.Path("minimal"));
        Assert.Equal(1, exit);
        Assert.Contains("failed core_task (syscall)", output);
        Assert.Contains("CO-RE relocation #0 (byte_off of struct task_struct.pid)", error);

        (exit, _, error) = ExternalTool.Execute(tool, "obj", "load", core, "--btf", "/nonexistent/vmlinux");
        Assert.Equal(1, exit);
        Assert.Contains("--btf /nonexistent/vmlinux: no such file", error);
    }

    [KernelFact]
    public void AnotherRejectionCarriesNoRelocation()
    {
        // verifier_reject fails for a reason of its own: no CO-RE relocation is blamed.
        CollectionSpec spec = CollectionSpec.Load(TestPrograms.Path("verifier_reject"));

        VerifierException error = Assert.Throws<VerifierException>(() => Collection.Load(spec).Dispose());

        Assert.Null(error.UnresolvedCoreRelocation);
        Assert.DoesNotContain("CO-RE relocation", error.Message);
    }
}
