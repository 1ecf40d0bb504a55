using BpfSharp.Collections;
using BpfSharp.Maps;
using BpfSharp.Programs;
using BpfSharp.Specs;
using BpfSharp.Tests.Links;

namespace BpfSharp.Tests.Collections;

[Trait("Category", "Kernel")]
public class FailedLoadTests
{
    /// <summary>
    /// A load that fails half way (a map created, one program maybe loaded, then one rejected) closes what it made:
    /// none of the object's maps or programs outlives the exception.
    /// </summary>
    [KernelFact]
    public void ARejectedProgramLeavesNoMapOrProgramOfTheObjectBehind()
    {
        CollectionSpec spec = CollectionSpec.Load(TestPrograms.Path("verifier_reject"));
        var mapsBefore = Map.AllIds().ToHashSet();
        var programsBefore = BpfSharp.Programs.Program.AllIds().ToHashSet();

        var error = Assert.Throws<VerifierException>(() => Collection.Load(spec).Dispose());
        Assert.Equal("reads_too_far", error.ProgramName);

        // The kernel frees closed objects a moment after the last close.
        bool Ours(string name) => name is "small" or "accepted" or "reads_too_far";
        Assert.True(LinkTestSupport.WaitUntil(
            () => !Map.All().Any(m => !mapsBefore.Contains(m.Id) && Ours(m.Name))
               && !BpfSharp.Programs.Program.All().Any(p => !programsBefore.Contains(p.Id) && Ours(p.Name)),
            TimeSpan.FromSeconds(10)), "a map or program of the failed load is still in the kernel");
    }
}
