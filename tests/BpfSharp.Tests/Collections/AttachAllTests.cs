using BpfSharp.Collections;
using BpfSharp.Kernel;
using BpfSharp.Links;
using BpfSharp.Programs;
using BpfSharp.Specs;
using BpfSharp.Tests.Links;

namespace BpfSharp.Tests.Collections;

[Trait("Category", "Kernel")]
public sealed class AttachAllTests
{
    private static Collection LoadForThisProcess()
    {
        CollectionSpec spec = CollectionSpec.Load(TestPrograms.Path("attach_all"));
        spec.Variable("target_tgid").Set((uint)LibC.GetPid());
        return Collection.Load(spec);
    }

    [KernelFact]
    public void AttachesEverySectionThatNamesItsHookAndDetachesOnDispose()
    {
        using Collection collection = LoadForThisProcess();
        Assert.Equal("tracepoint/syscalls/sys_enter_getppid", collection.SectionOf("on_getppid"));
        using (LinkSet links = collection.AttachAll())
        {
            Assert.Equal(["on_getppid", "on_sys_enter"], links.Programs.Order(StringComparer.Ordinal));
            Assert.Single(links.Of("on_getppid"));
            Assert.Empty(links.Of("pass_all"));
            for (int i = 0; i < 7; i++)
            {
                LinkTestSupport.GetParentPid();
            }
            // At least: link tests running in parallel make getppid calls from this process too.
            Assert.True(collection.Variable("tracepoint_hits").Get<ulong>() >= 7);
            Assert.True(collection.Variable("raw_hits").Get<ulong>() >= 7);
        }
        // Disposing the set detached both: more syscalls change nothing.
        ulong raw = collection.Variable("raw_hits").Get<ulong>(), tracepoint = collection.Variable("tracepoint_hits").Get<ulong>();
        LinkTestSupport.GetParentPid();
        LibC.GetPid();
        Assert.Equal(tracepoint, collection.Variable("tracepoint_hits").Get<ulong>());
        Assert.Equal(raw, collection.Variable("raw_hits").Get<ulong>());
        Assert.Equal(0UL, collection.Variable("xdp_runs").Get<ulong>());
    }

    [KernelFact]
    public void SkippedProgramsStayDetached()
    {
        using Collection collection = LoadForThisProcess();
        using LinkSet links = collection.AttachAll(skip: ["on_sys_enter"]);
        Assert.Equal(["on_getppid"], links.Programs);
        LinkTestSupport.GetParentPid();
        Assert.True(collection.Variable("tracepoint_hits").Get<ulong>() >= 1);
        Assert.Equal(0UL, collection.Variable("raw_hits").Get<ulong>());
    }

    [KernelFact]
    public void QuestionMarkSectionsLoadOnlyWhenTurnedOn()
    {
        CollectionSpec spec = CollectionSpec.Load(TestPrograms.Path("attach_all"));
        ProgramSpec optional = spec.Program("optional_getppid");
        Assert.False(optional.Autoload);
        Assert.Equal("tracepoint/syscalls/sys_enter_getppid", optional.SectionName);
        Assert.Equal(ProgramType.Tracepoint, optional.Type);
        spec.Variable("target_tgid").Set((uint)LibC.GetPid());
        using (Collection collection = Collection.Load(spec))
        {
            Assert.DoesNotContain("optional_getppid", collection.Programs.Keys);
        }

        optional.Autoload = true;
        using Collection withOptional = Collection.Load(spec);
        using LinkSet links = withOptional.AttachAll();
        Assert.Single(links.Of("optional_getppid"));
        LinkTestSupport.GetParentPid();
        Assert.True(withOptional.Variable("optional_hits").Get<ulong>() >= 1);
    }
}
